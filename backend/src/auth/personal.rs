//! A user's credentials other than their password: one CLI secret (for docker, helm and
//! scripts, and the only password an OpenID Connect user has) and personal access tokens with a
//! name, an expiry and a scope. Neither depends on an identity provider session, so neither
//! stops working when that session ends; each can be revoked.
//!
//! Both are 256-bit random strings shown once; the database keeps their SHA-256 only. A fast
//! hash is enough for secrets of that strength (argon2 is for passwords people choose), and
//! lets a token be found by its hash alone. A secret a user chooses through Harbor's
//! `PUT /users/{id}/cli_secret` must pass the password policy.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::auth::session::key;
use crate::db::entities::{access_token, cli_secret};

/// Generated CLI secrets start with this.
pub const CLI_SECRET_PREFIX: &str = "bcli_";
/// Personal access tokens start with this, so a login can tell them from passwords at once.
pub const TOKEN_PREFIX: &str = "bpat_";

/// What a personal access token may be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum TokenPermission {
    /// Pull from the registry.
    #[serde(rename = "registry:pull")]
    RegistryPull,
    /// Push to (and delete from) the registry.
    #[serde(rename = "registry:push")]
    RegistryPush,
    /// Read-only calls (GET, HEAD) of the REST API.
    #[serde(rename = "api:read")]
    ApiRead,
    /// Every call of the REST API.
    #[serde(rename = "api:write")]
    ApiWrite,
}

/// The narrowing a personal access token applies to its user's rights. It never widens them:
/// RBAC decides first, then the scope removes what the token was not given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenScope {
    pub token_id: i64,
    pub permissions: Vec<TokenPermission>,
    /// The projects the token works in; `None` for all of them.
    pub projects: Option<Vec<String>>,
}

impl TokenScope {
    pub fn has(&self, permission: TokenPermission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Whether the token may act in the project named `project`.
    pub fn covers_project(&self, project: &str) -> bool {
        self.projects
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == project))
    }

    /// Whether the token may make a REST call with this method.
    pub fn allows_api(&self, safe_method: bool) -> bool {
        self.has(TokenPermission::ApiWrite) || (safe_method && self.has(TokenPermission::ApiRead))
    }
}

/// Why a credential could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{0}")]
    Invalid(String),
    #[error("a personal access token named {0:?} already exists")]
    NameTaken(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A random single-use value (for OIDC onboarding tickets).
pub fn random_ticket() -> String {
    random_secret("")
}

/// Sets the user's CLI secret: `chosen` (which must pass the password policy) or a generated
/// one. Returns the secret, to be shown once. Replaces any earlier secret.
///
/// # Errors
/// A chosen secret that is too weak, or a database failure.
pub async fn set_cli_secret(
    db: &DatabaseConnection,
    user_id: i64,
    chosen: Option<&str>,
) -> Result<String, CredentialError> {
    let secret = match chosen {
        Some(chosen) => {
            super::password::check_policy(chosen)
                .map_err(|e| CredentialError::Invalid(format!("CLI secret: {e}")))?;
            if chosen.starts_with(TOKEN_PREFIX) {
                return Err(CredentialError::Invalid(format!(
                    "a CLI secret must not start with {TOKEN_PREFIX}"
                )));
            }
            chosen.to_owned()
        }
        None => random_secret(CLI_SECRET_PREFIX),
    };
    cli_secret::Entity::insert(cli_secret::ActiveModel {
        user_id: Set(user_id),
        secret_hash: Set(key(&secret)),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(cli_secret::Column::UserId)
            .update_columns([
                cli_secret::Column::SecretHash,
                cli_secret::Column::CreatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(secret)
}

/// When the user's CLI secret was set; `None` when there is none.
///
/// # Errors
/// Database failures.
pub async fn cli_secret_created(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(cli_secret::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|row| row.created_at))
}

/// Removes the user's CLI secret; `false` when there was none.
///
/// # Errors
/// Database failures.
pub async fn revoke_cli_secret(db: &DatabaseConnection, user_id: i64) -> Result<bool, DbErr> {
    let deleted = cli_secret::Entity::delete_by_id(user_id).exec(db).await?;
    Ok(deleted.rows_affected > 0)
}

/// Whether `candidate` is the user's CLI secret.
///
/// # Errors
/// Database failures.
pub async fn is_cli_secret(
    db: &DatabaseConnection,
    user_id: i64,
    candidate: &str,
) -> Result<bool, DbErr> {
    let Some(row) = cli_secret::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(false);
    };
    Ok(super::session::tokens_match(
        &row.secret_hash,
        &key(candidate),
    ))
}

/// What a new personal access token is for.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub name: String,
    pub permissions: Vec<TokenPermission>,
    pub projects: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a personal access token; returns its row and the token, to be shown once.
///
/// # Errors
/// An empty or taken name, no permissions, an expiry in the past, or a database failure.
pub async fn create_token(
    db: &DatabaseConnection,
    user_id: i64,
    new: NewToken,
) -> Result<(access_token::Model, String), CredentialError> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.len() > 255 {
        return Err(CredentialError::Invalid(
            "a token name must have 1 to 255 characters".into(),
        ));
    }
    if new.permissions.is_empty() {
        return Err(CredentialError::Invalid(
            "a token needs at least one scope (registry:pull, registry:push, api:read, \
             api:write)"
                .into(),
        ));
    }
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(CredentialError::Invalid(
            "a token's expiry must lie in the future".into(),
        ));
    }
    let taken = access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(user_id))
        .filter(access_token::Column::Name.eq(&name))
        .one(db)
        .await?;
    if taken.is_some() {
        return Err(CredentialError::NameTaken(name));
    }
    let secret = random_secret(TOKEN_PREFIX);
    let mut permissions = new.permissions;
    permissions.sort_by_key(|p| *p as u8);
    permissions.dedup();
    let inserted = access_token::Entity::insert(access_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.clone()),
        token_hash: Set(key(&secret)),
        scopes: Set(json_list(&permissions)),
        projects: Set(new.projects.as_deref().map(json_list)),
        expires_at: Set(new.expires_at),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        ..Default::default()
    })
    .exec_with_returning(db)
    .await;
    match inserted {
        Ok(row) => Ok((row, secret)),
        // Two requests raced for the same name: the unique index decided.
        Err(e) if crate::db::is_unique_violation(&e) => Err(CredentialError::NameTaken(name)),
        Err(e) => Err(e.into()),
    }
}

/// A list of strings or enums as stored JSON text (these cannot fail to serialize).
fn json_list<T: Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// The user's personal access tokens, newest first.
///
/// # Errors
/// Database failures.
pub async fn list_tokens(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Vec<access_token::Model>, DbErr> {
    access_token::Entity::find()
        .filter(access_token::Column::UserId.eq(user_id))
        .order_by_desc(access_token::Column::Id)
        .all(db)
        .await
}

/// Deletes one of the user's tokens; `false` when the user has no token with that id.
///
/// # Errors
/// Database failures.
pub async fn revoke_token(
    db: &DatabaseConnection,
    user_id: i64,
    token_id: i64,
) -> Result<bool, DbErr> {
    let deleted = access_token::Entity::delete_many()
        .filter(access_token::Column::Id.eq(token_id))
        .filter(access_token::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// The scope of a stored token row.
pub fn scope_of(row: &access_token::Model) -> TokenScope {
    TokenScope {
        token_id: row.id,
        permissions: serde_json::from_str(&row.scopes).unwrap_or_default(),
        projects: row
            .projects
            .as_deref()
            .map(|p| serde_json::from_str(p).unwrap_or_default()),
    }
}

/// The unexpired token whose value is `candidate`, owned by `user_id`; records its use.
///
/// # Errors
/// Database failures.
pub async fn find_token(
    db: &DatabaseConnection,
    user_id: i64,
    candidate: &str,
) -> Result<Option<Arc<TokenScope>>, DbErr> {
    let now = Utc::now();
    let found = access_token::Entity::find()
        .filter(access_token::Column::TokenHash.eq(key(candidate)))
        .filter(access_token::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    let Some(row) = found.filter(|r| r.expires_at.is_none_or(|at| at > now)) else {
        return Ok(None);
    };
    access_token::Entity::update_many()
        .col_expr(access_token::Column::LastUsedAt, Expr::value(now))
        .filter(access_token::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(Some(Arc::new(scope_of(&row))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_use_their_wire_names() {
        let parsed: Vec<TokenPermission> =
            serde_json::from_str(r#"["registry:pull","api:read"]"#).unwrap_or_default();
        assert_eq!(
            parsed,
            [TokenPermission::RegistryPull, TokenPermission::ApiRead]
        );
        assert!(serde_json::from_str::<TokenPermission>(r#""admin""#).is_err());
    }

    #[test]
    fn scope_narrows_projects_and_methods() {
        let scope = TokenScope {
            token_id: 1,
            permissions: vec![TokenPermission::ApiRead],
            projects: Some(vec!["team".into()]),
        };
        assert!(scope.covers_project("team"));
        assert!(!scope.covers_project("other"));
        assert!(scope.allows_api(true));
        assert!(!scope.allows_api(false));
        let all = TokenScope {
            projects: None,
            permissions: vec![TokenPermission::ApiWrite],
            ..scope
        };
        assert!(all.covers_project("other"));
        assert!(all.allows_api(false));
    }

    #[test]
    fn generated_secrets_are_distinct_and_prefixed() {
        let a = random_secret(TOKEN_PREFIX);
        let b = random_secret(TOKEN_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43);
        assert_eq!(key("x").len(), 64);
    }
}
