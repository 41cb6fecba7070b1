//! Sign-ins in progress, as rows keyed by a SHA-256 of their secret: the `state` sent to the
//! provider, or the ticket of a user who still has to choose a user name. A row is consumed by
//! deleting it, so a replayed redirect finds nothing, on whichever replica it lands.

use chrono::{Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::auth::oidc::{OidcIdentity, PendingLogin};
use crate::auth::session::key;
use crate::db::entities::oidc_login;

/// How long the user has to sign in at the provider, or to choose a user name.
const LIFETIME_MINUTES: i64 = 15;

/// Remembers a started sign-in until the provider redirects back.
///
/// # Errors
/// Database failures.
pub async fn save(
    db: &DatabaseConnection,
    pending: &PendingLogin,
    redirect: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    // Abandoned sign-ins of everyone are dropped here rather than by a timer.
    oidc_login::Entity::delete_many()
        .filter(oidc_login::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    oidc_login::Entity::insert(oidc_login::ActiveModel {
        id: Set(key(&pending.state)),
        provider: Set(pending.provider.clone()),
        nonce: Set(pending.nonce.clone()),
        pkce_verifier: Set(pending.pkce_verifier.clone()),
        redirect: Set(redirect.to_owned()),
        identity: Set(None),
        expires_at: Set(now + Duration::minutes(LIFETIME_MINUTES)),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

async fn take_row(
    db: &DatabaseConnection,
    secret: &str,
) -> Result<Option<oidc_login::Model>, DbErr> {
    let id = key(secret);
    let Some(row) = oidc_login::Entity::find_by_id(id.clone()).one(db).await? else {
        return Ok(None);
    };
    // Only the request whose delete removed the row may use it.
    let deleted = oidc_login::Entity::delete_by_id(id).exec(db).await?;
    Ok((deleted.rows_affected == 1 && row.expires_at > Utc::now()).then_some(row))
}

/// Takes the sign-in started with `state`, with the console path to return to; `None` when
/// there is none (never started, already finished, or expired).
///
/// # Errors
/// Database failures.
pub async fn take(
    db: &DatabaseConnection,
    state: &str,
) -> Result<Option<(PendingLogin, String)>, DbErr> {
    let Some(row) = take_row(db, state).await? else {
        return Ok(None);
    };
    if row.identity.is_some() {
        return Ok(None);
    }
    let pending = PendingLogin {
        provider: row.provider,
        state: state.to_owned(),
        nonce: row.nonce,
        pkce_verifier: row.pkce_verifier,
    };
    Ok(Some((pending, row.redirect)))
}

/// Keeps a verified identity until its user chooses a user name; returns the ticket that
/// names it.
///
/// # Errors
/// Database failures.
pub async fn park_identity(
    db: &DatabaseConnection,
    identity: &OidcIdentity,
    redirect: &str,
) -> Result<String, DbErr> {
    let ticket = crate::auth::personal::random_ticket();
    let now = Utc::now();
    let json = serde_json::to_string(identity).map_err(|e| DbErr::Custom(e.to_string()))?;
    oidc_login::Entity::insert(oidc_login::ActiveModel {
        id: Set(key(&ticket)),
        provider: Set(identity.provider.clone()),
        nonce: Set(String::new()),
        pkce_verifier: Set(String::new()),
        redirect: Set(redirect.to_owned()),
        identity: Set(Some(json)),
        expires_at: Set(now + Duration::minutes(LIFETIME_MINUTES)),
        created_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(ticket)
}

/// The identity parked under `ticket`, without consuming it (to show the choice form).
///
/// # Errors
/// Database failures.
pub async fn peek_identity(
    db: &DatabaseConnection,
    ticket: &str,
) -> Result<Option<OidcIdentity>, DbErr> {
    let row = oidc_login::Entity::find_by_id(key(ticket))
        .filter(oidc_login::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?;
    Ok(row
        .and_then(|r| r.identity)
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// Takes the identity parked under `ticket`, with the console path to return to.
///
/// # Errors
/// Database failures.
pub async fn take_identity(
    db: &DatabaseConnection,
    ticket: &str,
) -> Result<Option<(OidcIdentity, String)>, DbErr> {
    let Some(row) = take_row(db, ticket).await? else {
        return Ok(None);
    };
    let identity = row
        .identity
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    Ok(identity.map(|i| (i, row.redirect)))
}
