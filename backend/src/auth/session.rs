//! Console sessions: a random cookie value whose SHA-256 keys a database row, so any replica can
//! serve the next request, plus a CSRF token that mutating calls must echo in a header.

use chrono::{Duration, Utc};
use rand::RngCore;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest as _, Sha256};

use super::Principal;
use crate::db::entities::{session, user};

/// The session cookie (HttpOnly).
pub const SESSION_COOKIE: &str = "sid";
/// The cookie carrying the CSRF token, readable by the console's scripts.
pub const CSRF_COOKIE: &str = "__csrf";
/// The header mutating calls echo the CSRF token in (Harbor's name).
pub const CSRF_HEADER: &str = "X-Harbor-CSRF-Token";

/// A session just opened: the cookie value (shown to the browser only) and its CSRF token.
pub struct NewSession {
    pub cookie: String,
    pub csrf_token: String,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// How a secret handed to a client (a session cookie, a token, a one-time ticket) is stored:
/// its SHA-256 in hex, so the database never holds the secret itself.
pub(crate) fn key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Opens a session for `user_id` lasting `ttl_seconds` from now (renewed on use).
///
/// # Errors
/// Database failures.
pub async fn open(
    db: &DatabaseConnection,
    user_id: i64,
    ttl_seconds: u64,
) -> Result<NewSession, DbErr> {
    open_with(db, user_id, ttl_seconds, None).await
}

/// The OpenID Connect sign-in a session came from, kept for RP-initiated logout.
#[derive(Clone, Debug)]
pub struct OidcOrigin {
    pub provider: String,
    pub id_token: String,
}

/// Opens a session like [`open`], remembering the OpenID Connect sign-in behind it.
///
/// # Errors
/// Database failures.
pub async fn open_with(
    db: &DatabaseConnection,
    user_id: i64,
    ttl_seconds: u64,
    origin: Option<OidcOrigin>,
) -> Result<NewSession, DbErr> {
    let cookie = random_token();
    let csrf_token = random_token();
    let now = Utc::now();
    session::Entity::insert(session::ActiveModel {
        id: Set(key(&cookie)),
        user_id: Set(user_id),
        csrf_token: Set(csrf_token.clone()),
        expires_at: Set(now + ttl(ttl_seconds)),
        created_at: Set(now),
        oidc_provider: Set(origin.as_ref().map(|o| o.provider.clone())),
        id_token: Set(origin.map(|o| o.id_token)),
    })
    .exec(db)
    .await?;
    // Expired sessions of everyone are dropped here rather than by a timer.
    session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?;
    Ok(NewSession { cookie, csrf_token })
}

fn ttl(seconds: u64) -> Duration {
    Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 1000))
}

/// A live session and the user it belongs to.
pub struct LiveSession {
    pub principal: Principal,
    pub csrf_token: String,
    /// Set when the session was opened through an OpenID Connect provider.
    pub oidc: Option<OidcOrigin>,
}

/// Looks up the session of a cookie value and extends it; `None` when unknown or expired.
///
/// # Errors
/// Database failures.
pub async fn resume(
    db: &DatabaseConnection,
    cookie: &str,
    ttl_seconds: u64,
) -> Result<Option<LiveSession>, DbErr> {
    let now = Utc::now();
    let Some(found) = session::Entity::find_by_id(key(cookie))
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(owner) = user::Entity::find_by_id(found.user_id).one(db).await? else {
        return Ok(None);
    };
    session::Entity::update_many()
        .col_expr(
            session::Column::ExpiresAt,
            Expr::value(now + ttl(ttl_seconds)),
        )
        .filter(session::Column::Id.eq(&found.id))
        .exec(db)
        .await?;
    Ok(Some(LiveSession {
        principal: Principal::User {
            id: owner.id,
            username: owner.username,
            sysadmin: owner.sysadmin,
            scope: None,
        },
        csrf_token: found.csrf_token,
        oidc: found.oidc_provider.map(|provider| OidcOrigin {
            provider,
            id_token: found.id_token.unwrap_or_default(),
        }),
    }))
}

/// Ends the session of a cookie value (nothing happens when there is none).
///
/// # Errors
/// Database failures.
pub async fn close(db: &DatabaseConnection, cookie: &str) -> Result<(), DbErr> {
    session::Entity::delete_by_id(key(cookie)).exec(db).await?;
    Ok(())
}

/// Ends every session of a user (after a password change or deletion).
///
/// # Errors
/// Database failures.
pub async fn close_all(db: &DatabaseConnection, user_id: i64) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Compares two tokens in time independent of where they differ.
pub fn tokens_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
