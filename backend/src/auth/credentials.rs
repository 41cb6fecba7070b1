//! Reading credentials from requests and checking them against the user database.
//!
//! Verifying an argon2id hash costs tens of milliseconds, so a successful Basic check is
//! remembered for a short time under a SHA-256 of the credentials (never the password itself).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use base64::Engine;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest as _, Sha256};

use super::{Principal, password};
use crate::db::entities::user;

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

/// Checks usernames and passwords.
#[derive(Default)]
pub struct Authenticator {
    cache: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
}

impl Authenticator {
    /// Returns the user whose credentials these are.
    ///
    /// # Errors
    /// [`AuthError::BadCredentials`] for an unknown user or a wrong password (indistinguishably),
    /// or a database failure.
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
        if let Some(principal) = self.cached(&key) {
            return Ok(principal);
        }
        let found = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(db)
            .await?;
        let Some(found) = found else {
            // Spend the same time as a real check so usernames cannot be probed by timing.
            let _ = password::verify(password, DUMMY_HASH);
            return Err(AuthError::BadCredentials);
        };
        let stored = found.password_hash.clone();
        let candidate = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
            .await
            .unwrap_or(false);
        if !matches {
            return Err(AuthError::BadCredentials);
        }
        let principal = Principal::User {
            id: found.id,
            username: found.username,
            sysadmin: found.sysadmin,
        };
        self.remember(key, principal.clone());
        Ok(principal)
    }

    /// Forgets every remembered credential (after a password or role change).
    pub fn forget_all(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    fn cached(&self, key: &[u8; 32]) -> Option<Principal> {
        let cache = self.cache.lock().ok()?;
        let (principal, at) = cache.get(key)?;
        (at.elapsed() < CACHE_TTL).then(|| principal.clone())
    }

    fn remember(&self, key: [u8; 32], principal: Principal) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(key, (principal, Instant::now()));
        }
    }
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
