//! Reading credentials from requests and checking them against the user database.
//!
//! Verifying an argon2id hash costs tens of milliseconds, so a successful Basic check is
//! remembered for a short time under a SHA-256 of the credentials (never the password itself).
//! A remembered check is only reused while the account's `credential_version` in the database
//! is still the one seen at verification: every change that must end logins (new password or
//! secret, administrator flag, disabling, permissions, deletion) moves or removes it, so each
//! replica refuses a stale credential on its very next request, at the price of one
//! primary-key read instead of an argon2 verification.
//!
//! Names starting with `robot$` are robot accounts, checked against their secret, expiry and
//! disabled flag. Repeated failures lock an account for a while; the count lives in the
//! database so every replica enforces the same lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use base64::Engine;
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use sha2::{Digest as _, Sha256};

use super::robot::{ROBOT_PREFIX, RobotAccount};
use super::{Principal, password, personal};
use crate::config::AuthConfig;
use crate::db::entities::{login_failure, robot, user};

/// How long a verified password is remembered.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// Entries kept at most; the cache is cleared when full.
const CACHE_MAX: usize = 10_000;

/// Credentials presented in an `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials {
    None,
    Basic { username: String, password: String },
    Bearer(String),
}

/// Why credentials were refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("malformed Authorization header")]
    Malformed,
    #[error("invalid username or password")]
    BadCredentials,
    #[error("too many failed logins; account locked for {retry_after_seconds} more seconds")]
    Locked { retry_after_seconds: u64 },
    #[error("robot account permissions are corrupt: {0}")]
    RobotCorrupt(#[from] casbin::Error),
    #[error(transparent)]
    Database(#[from] DbErr),
}

impl Credentials {
    /// Parses the request's `Authorization` header.
    ///
    /// # Errors
    /// The header is present but is neither valid Basic nor Bearer.
    pub fn from_request(req: &HttpRequest) -> Result<Self, AuthError> {
        let Some(value) = req.headers().get(AUTHORIZATION) else {
            return Ok(Self::None);
        };
        let value = value.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, rest) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .map_err(|_| AuthError::Malformed)?;
            let decoded = String::from_utf8(decoded).map_err(|_| AuthError::Malformed)?;
            let (username, password) = decoded.split_once(':').ok_or(AuthError::Malformed)?;
            Ok(Self::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            })
        } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            Ok(Self::Bearer(rest.to_owned()))
        } else {
            Err(AuthError::Malformed)
        }
    }
}

/// The account behind a remembered credential.
#[derive(Clone, Copy, Debug)]
enum Account {
    User(i64),
    Robot(i64),
}

/// A credential verified earlier, valid while its account keeps the same version.
struct Remembered {
    principal: Principal,
    account: Account,
    credential_version: i64,
    /// A robot's expiry, which passes without any change to its row.
    expires_at: Option<chrono::DateTime<Utc>>,
    verified_at: Instant,
}

/// Checks usernames and passwords of users and robot accounts.
pub struct Authenticator {
    cache: Mutex<HashMap<[u8; 32], Remembered>>,
    max_failures: u32,
    lockout: chrono::Duration,
}

impl Authenticator {
    pub fn new(config: &AuthConfig) -> Self {
        Self {
            cache: Mutex::new(HashMap::new()),
            max_failures: config.login_max_failures,
            lockout: chrono::Duration::seconds(
                i64::try_from(config.login_lockout_seconds).unwrap_or(i64::MAX / 1000),
            ),
        }
    }

    /// Returns the user or robot whose credentials these are.
    ///
    /// # Errors
    /// [`AuthError::BadCredentials`] for an unknown account or a wrong password
    /// (indistinguishably), [`AuthError::Locked`] while the account is locked, or a database
    /// failure.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        username: &str,
        password: &str,
    ) -> Result<Principal, AuthError> {
        let key: [u8; 32] = Sha256::new()
            .chain_update(username.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .finalize()
            .into();
        if let Some(principal) = self.cached(db, &key).await? {
            return Ok(principal);
        }
        self.check_lock(db, username).await?;
        let verified = if username.starts_with(ROBOT_PREFIX) {
            self.robot(db, username, password)
                .await?
                .map(|r| (r, Remember::Yes))
        } else {
            self.user(db, username, password).await?
        };
        match verified {
            Some((remembered, remember)) => {
                login_failure::Entity::delete_by_id(username.to_owned())
                    .exec(db)
                    .await?;
                let principal = remembered.principal.clone();
                if remember == Remember::Yes {
                    self.remember(key, remembered);
                }
                Ok(principal)
            }
            None => {
                self.record_failure(db, username).await?;
                Err(AuthError::BadCredentials)
            }
        }
    }

    /// The user, or `None` when the password is wrong. Unknown users are refused at once.
    ///
    /// Besides the account's password, a user's CLI secret and personal access tokens are
    /// accepted. Those are looked up on every call rather than remembered, so a revoked one
    /// stops working at once on every replica; the lookup is one indexed query.
    async fn user(
        &self,
        db: &DatabaseConnection,
        username: &str,
        password: &str,
    ) -> Result<Option<(Remembered, Remember)>, AuthError> {
        let found = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(db)
            .await?;
        let Some(found) = found else {
            // Spend the same time as a real check so usernames cannot be probed by timing.
            let _ = verify_blocking(password, DUMMY_HASH).await;
            return Err(AuthError::BadCredentials);
        };
        let remembered = |scope| Remembered {
            account: Account::User(found.id),
            credential_version: found.credential_version,
            expires_at: None,
            verified_at: Instant::now(),
            principal: Principal::User {
                id: found.id,
                username: found.username.clone(),
                sysadmin: found.sysadmin,
                scope,
            },
        };
        if password.starts_with(personal::TOKEN_PREFIX) {
            let scope = personal::find_token(db, found.id, password).await?;
            return Ok(scope.map(|s| (remembered(Some(s)), Remember::No)));
        }
        if personal::is_cli_secret(db, found.id, password).await? {
            return Ok(Some((remembered(None), Remember::No)));
        }
        if !verify_blocking(password, &found.password_hash).await {
            return Ok(None);
        }
        Ok(Some((remembered(None), Remember::Yes)))
    }

    /// The robot, or `None` when the secret is wrong. Unknown, disabled and expired robots are
    /// refused at once.
    async fn robot(
        &self,
        db: &DatabaseConnection,
        name: &str,
        secret: &str,
    ) -> Result<Option<Remembered>, AuthError> {
        let found = robot::Entity::find()
            .filter(robot::Column::Name.eq(name))
            .one(db)
            .await?;
        let usable = found.filter(|r| !r.disabled && r.expires_at.is_none_or(|at| at > Utc::now()));
        let Some(found) = usable else {
            let _ = verify_blocking(secret, DUMMY_HASH).await;
            return Err(AuthError::BadCredentials);
        };
        if !verify_blocking(secret, &found.secret_hash).await {
            return Ok(None);
        }
        let account = RobotAccount::load(&found).await?;
        Ok(Some(Remembered {
            account: Account::Robot(found.id),
            credential_version: found.credential_version,
            expires_at: found.expires_at,
            verified_at: Instant::now(),
            principal: Principal::Robot(std::sync::Arc::new(account)),
        }))
    }

    async fn check_lock(&self, db: &DatabaseConnection, username: &str) -> Result<(), AuthError> {
        if self.max_failures == 0 {
            return Ok(());
        }
        let row = login_failure::Entity::find_by_id(username.to_owned())
            .one(db)
            .await?;
        if let Some(until) = row.and_then(|r| r.locked_until)
            && until > Utc::now()
        {
            let left = std::cmp::max((until - Utc::now()).num_seconds(), 1);
            return Err(AuthError::Locked {
                retry_after_seconds: u64::try_from(left).unwrap_or(1),
            });
        }
        Ok(())
    }

    /// Counts a failed attempt; the attempt that reaches the limit locks the account.
    async fn record_failure(&self, db: &DatabaseConnection, username: &str) -> Result<(), DbErr> {
        if self.max_failures == 0 {
            return Ok(());
        }
        let now = Utc::now();
        login_failure::Entity::insert(login_failure::ActiveModel {
            username: Set(username.to_owned()),
            failures: Set(1),
            locked_until: Set(None),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(login_failure::Column::Username)
                .value(
                    login_failure::Column::Failures,
                    Expr::col((login_failure::Entity, login_failure::Column::Failures)).add(1),
                )
                .value(login_failure::Column::UpdatedAt, now)
                .to_owned(),
        )
        .exec(db)
        .await?;
        let failures = login_failure::Entity::find_by_id(username.to_owned())
            .one(db)
            .await?
            .map_or(0, |r| r.failures);
        if failures >= i32::try_from(self.max_failures).unwrap_or(i32::MAX) {
            tracing::warn!(
                user.name = username,
                failures,
                "account locked after failed logins"
            );
            login_failure::Entity::update_many()
                .col_expr(login_failure::Column::Failures, Expr::value(0))
                .col_expr(
                    login_failure::Column::LockedUntil,
                    Expr::value(now + self.lockout),
                )
                .filter(login_failure::Column::Username.eq(username))
                .exec(db)
                .await?;
        }
        Ok(())
    }

    /// Forgets every remembered credential (after a password or role change).
    pub fn forget_all(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    /// The remembered principal for `key`, if its account is unchanged since it was verified.
    /// A stale entry is dropped, so the caller verifies the credentials afresh.
    async fn cached(
        &self,
        db: &DatabaseConnection,
        key: &[u8; 32],
    ) -> Result<Option<Principal>, DbErr> {
        let candidate = {
            let Ok(cache) = self.cache.lock() else {
                return Ok(None);
            };
            cache.get(key).and_then(|entry| {
                let fresh = entry.verified_at.elapsed() < CACHE_TTL
                    && entry.expires_at.is_none_or(|at| at > Utc::now());
                fresh.then(|| {
                    (
                        entry.principal.clone(),
                        entry.account,
                        entry.credential_version,
                    )
                })
            })
        };
        let Some((principal, account, seen)) = candidate else {
            return Ok(None);
        };
        if current_version(db, account).await? == Some(seen) {
            return Ok(Some(principal));
        }
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(key);
        }
        Ok(None)
    }

    fn remember(&self, key: [u8; 32], remembered: Remembered) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(key, remembered);
        }
    }
}

/// The account's `credential_version` now, or `None` once it is deleted.
async fn current_version(db: &DatabaseConnection, account: Account) -> Result<Option<i64>, DbErr> {
    match account {
        Account::User(id) => {
            user::Entity::find_by_id(id)
                .select_only()
                .column(user::Column::CredentialVersion)
                .into_tuple::<i64>()
                .one(db)
                .await
        }
        Account::Robot(id) => {
            robot::Entity::find_by_id(id)
                .select_only()
                .column(robot::Column::CredentialVersion)
                .filter(robot::Column::Disabled.eq(false))
                .into_tuple::<i64>()
                .one(db)
                .await
        }
    }
}

/// The update expression that moves an account's `credential_version` on, ending every
/// remembered login of it on every replica.
pub fn next_credential_version<C: sea_orm::ColumnTrait>(
    column: C,
) -> sea_orm::sea_query::SimpleExpr {
    Expr::col(column).add(1)
}

async fn verify_blocking(candidate: &str, stored: &str) -> bool {
    let candidate = candidate.to_owned();
    let stored = stored.to_owned();
    tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
        .await
        .unwrap_or(false)
}

/// A valid argon2id hash of a random string, verified when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$dGhpcyBpcyBub3QgYSByZWFsIGhhc2ggISE";

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn parses_basic_and_bearer() {
        let basic = base64::engine::general_purpose::STANDARD.encode("robot$proj+ci:s3:cret");
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, format!("Basic {basic}")))
            .to_http_request();
        assert_eq!(
            Credentials::from_request(&req).expect("parse"),
            Credentials::Basic {
                username: "robot$proj+ci".into(),
                password: "s3:cret".into()
            }
        );
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "Bearer abc.def.ghi"))
            .to_http_request();
        assert_eq!(
            Credentials::from_request(&req).expect("parse"),
            Credentials::Bearer("abc.def.ghi".into())
        );
        let req = TestRequest::default()
            .insert_header((AUTHORIZATION, "Basic !!!"))
            .to_http_request();
        assert!(Credentials::from_request(&req).is_err());
        assert_eq!(
            Credentials::from_request(&TestRequest::default().to_http_request()).expect("none"),
            Credentials::None
        );
    }
}

/// Whether a verified credential may be remembered for [`CACHE_TTL`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Remember {
    Yes,
    No,
}
