//! Team sign-in through OpenID Connect providers, as a service the HTTP layer calls: which
//! providers exist (the configuration file's, then those an administrator added through the
//! API), sign-ins in progress, and turning a verified identity into a Berth user with its groups.
//!
//! Nothing here lives only in memory: sign-ins in progress are rows, so any replica can finish
//! one another replica started. The discovered providers (metadata and signing keys) are a
//! cache rebuilt on demand.

pub mod onboard;
pub mod pending;
pub mod providers;

use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

pub use providers::{ProviderSource, ProviderSummary, Providers};

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::oidc::{OidcError, OidcIdentity};
use crate::db::entities::{oidc_identity, user};
use crate::error::ApiError;

/// The user behind an ID token presented as `Authorization: Bearer` on the REST API. The token
/// must verify against the provider whose issuer it names, and its (issuer, subject) must be
/// linked to a user, which happens at the user's first console sign-in.
///
/// # Errors
/// 401 for a token that does not verify or belongs to no user, 502 when its provider cannot be
/// reached.
pub async fn bearer_user(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let issuer = unverified_issuer(token)
        .ok_or_else(|| ApiError::unauthorized("the bearer token is not an OIDC ID token"))?;
    let provider = state
        .oidc
        .by_issuer(&state.db, &issuer, &state.oidc.redirect_url(None))
        .await
        .map_err(bearer_error)?
        .ok_or_else(|| {
            ApiError::unauthorized("the bearer token's issuer is not a configured OIDC provider")
        })?;
    let identity = provider.verify_bearer(token).map_err(bearer_error)?;
    let user = linked_user(state, &identity).await?.ok_or_else(|| {
        ApiError::unauthorized(
            "no Berth user is linked to this identity yet: sign in to the console once",
        )
    })?;
    Ok(Principal::User {
        id: user.id,
        username: user.username,
        sysadmin: user.sysadmin,
        scope: None,
    })
}

async fn linked_user(
    state: &AppState,
    identity: &OidcIdentity,
) -> Result<Option<user::Model>, ApiError> {
    let Some(link) = oidc_identity::Entity::find()
        .filter(oidc_identity::Column::Issuer.eq(&identity.issuer))
        .filter(oidc_identity::Column::Subject.eq(&identity.subject))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(link.user_id)
        .one(&state.db)
        .await?)
}

fn bearer_error(err: OidcError) -> ApiError {
    match err {
        OidcError::Unavailable { .. } | OidcError::Misconfigured { .. } => {
            tracing::warn!(error = %err, "OIDC provider unusable for a bearer token");
            ApiError::new(
                crate::error::ApiErrorCode::ServiceUnavailable,
                err.to_string(),
            )
        }
        OidcError::StateMismatch
        | OidcError::Refused { .. }
        | OidcError::InvalidIdToken { .. }
        | OidcError::MissingClaim { .. } => ApiError::unauthorized(err.to_string()),
    }
}

/// The `iss` claim of a compact JWT, read without verifying it (only to pick the provider
/// that will verify it).
fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

/// A discovered provider shared by the requests using it.
pub type SharedProvider = Arc<crate::auth::oidc::OidcProvider>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_read_from_the_payload() {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"http://idp.test","sub":"a"}"#);
        assert_eq!(
            unverified_issuer(&format!("e30.{body}.sig")).as_deref(),
            Some("http://idp.test")
        );
        assert_eq!(unverified_issuer("not-a-jwt"), None);
    }
}
