//! OpenID Connect sign-in against the providers of `[[oidc.providers]]`.
//!
//! The authorization code flow with PKCE: [`OidcProvider::start_login`] makes the provider URL
//! and a [`PendingLogin`] (state, nonce and PKCE verifier) that the caller keeps until the
//! provider redirects back; [`OidcProvider::finish_login`] checks the state, exchanges the code,
//! verifies the ID token (signature, issuer, audience, expiry, nonce) and reads the identity from
//! its claims. The same verification accepts an ID token presented as a bearer token.
//!
//! Nothing here touches the database: turning an identity into a Berth user and its groups is
//! the caller's business.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse as _,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::OidcProviderConfig;

type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What went wrong talking to an identity provider, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider {provider} cannot be reached or did not answer discovery: {detail}")]
    Unavailable { provider: String, detail: String },
    #[error("identity provider {provider} is misconfigured: {detail}")]
    Misconfigured { provider: String, detail: String },
    #[error("the sign-in answer does not belong to the sign-in that was started (state mismatch)")]
    StateMismatch,
    #[error("identity provider {provider} refused the sign-in: {detail}")]
    Refused { provider: String, detail: String },
    #[error("the ID token from {provider} is not valid: {detail}")]
    InvalidIdToken { provider: String, detail: String },
    #[error("the ID token from {provider} has no usable {claim:?} claim")]
    MissingClaim { provider: String, claim: String },
}

/// A sign-in in progress: what must come back with the provider's redirect. Kept server-side
/// or in a signed cookie; never shown to the user.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who signed in, as the provider asserts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcIdentity {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    /// From the configured username claim.
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// From the configured groups claim, after the group filter.
    pub groups: Vec<String>,
    /// Whether one of `groups` is the configured admin group.
    pub is_admin: bool,
    /// When the ID token expires (seconds since the epoch).
    pub expires_at: i64,
    /// The verified ID token itself (sent back as `id_token_hint` at logout). Never logged.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub id_token: String,
}

/// One configured provider, discovered and ready to sign users in.
pub struct OidcProvider {
    config: OidcProviderConfig,
    client: DiscoveredClient,
    http: reqwest::Client,
    group_filter: Option<regex::Regex>,
    end_session_url: Option<url::Url>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("name", &self.config.name)
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

/// The provider metadata fields this module needs beyond the core set.
#[derive(Deserialize)]
struct ExtraMetadata {
    end_session_endpoint: Option<url::Url>,
}

impl OidcProvider {
    /// Reads the provider's discovery document and keys. `redirect_url` is Berth's callback
    /// (`<external url>/c/oidc/callback`).
    ///
    /// # Errors
    /// [`OidcError::Unavailable`] when the issuer does not answer, [`OidcError::Misconfigured`]
    /// for a bad issuer URL, redirect URL or group filter.
    pub async fn discover(
        config: OidcProviderConfig,
        redirect_url: &str,
    ) -> Result<Self, OidcError> {
        let name = config.name.clone();
        let misconfigured = |detail: String| OidcError::Misconfigured {
            provider: name.clone(),
            detail,
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(!config.verify_certificate)
            .timeout(Duration::from_secs(10))
            // Providers close idle connections on their own schedule; a fresh connection per
            // call costs little at sign-in rates and never meets a half-closed one.
            .pool_max_idle_per_host(0)
            .no_proxy()
            .build()
            .map_err(|e| misconfigured(format!("HTTP client: {e}")))?;
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| misconfigured(format!("issuer: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| match e {
                openidconnect::DiscoveryError::Validation(detail) => misconfigured(format!(
                    "the discovery document does not match the configured issuer: {detail}"
                )),
                e => OidcError::Unavailable {
                    provider: name.clone(),
                    detail: error_chain(&e),
                },
            })?;
        let end_session_url = discover_end_session(&http, &config.issuer).await;
        let redirect = RedirectUrl::new(redirect_url.to_owned())
            .map_err(|e| misconfigured(format!("redirect URL: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            Some(ClientSecret::new(
                config.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(redirect);
        let group_filter = config
            .group_filter
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| misconfigured(format!("group_filter: {e}")))?;
        Ok(Self {
            config,
            client,
            http,
            group_filter,
            end_session_url,
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The label of the provider's sign-in button.
    pub fn display_name(&self) -> &str {
        self.config
            .display_name
            .as_deref()
            .unwrap_or(&self.config.name)
    }

    pub fn auto_onboard(&self) -> bool {
        self.config.auto_onboard
    }

    /// The settings it was discovered with.
    pub fn config(&self) -> &OidcProviderConfig {
        &self.config
    }

    /// The URL to send the browser to, and what to keep until it comes back.
    pub fn start_login(&self) -> (url::Url, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            provider: self.config.name.clone(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        };
        (url, pending)
    }

    /// Completes a sign-in from the provider's redirect (`state` and `code` query values).
    ///
    /// # Errors
    /// State mismatch, a refused code exchange, an invalid ID token or missing claims.
    pub async fn finish_login(
        &self,
        pending: &PendingLogin,
        state: &str,
        code: &str,
    ) -> Result<OidcIdentity, OidcError> {
        if pending.provider != self.config.name || !constant_time_eq(&pending.state, state) {
            return Err(OidcError::StateMismatch);
        }
        let request = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Misconfigured {
                provider: self.config.name.clone(),
                detail: format!("no token endpoint: {e}"),
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        let response: CoreTokenResponse =
            request
                .request_async(&self.http)
                .await
                .map_err(|e| OidcError::Refused {
                    provider: self.config.name.clone(),
                    detail: error_chain(&e),
                })?;
        // An access token without an ID token is OAuth, not OpenID Connect.
        let _ = response.access_token();
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::InvalidIdToken {
                provider: self.config.name.clone(),
                detail: "the token response has no id_token".into(),
            })?;
        let nonce = Nonce::new(pending.nonce.clone());
        self.identity_from(id_token, |found: Option<&Nonce>| match found {
            Some(found) if constant_time_eq(found.secret(), nonce.secret()) => Ok(()),
            Some(_) => Err("nonce does not match".to_owned()),
            None => Err("nonce missing".to_owned()),
        })
    }

    /// Verifies an ID token presented as a bearer token (no nonce: it was not issued to a
    /// sign-in of ours) and returns its identity.
    ///
    /// # Errors
    /// [`OidcError::InvalidIdToken`] for anything that fails verification.
    pub fn verify_bearer(&self, token: &str) -> Result<OidcIdentity, OidcError> {
        let id_token: CoreIdToken = token.parse().map_err(|e| OidcError::InvalidIdToken {
            provider: self.config.name.clone(),
            detail: format!("not a JWT: {e}"),
        })?;
        self.identity_from(&id_token, |_: Option<&Nonce>| Ok(()))
    }

    /// The provider's RP-initiated logout URL, when it has one.
    pub fn logout_url(
        &self,
        post_logout_redirect: &str,
        id_token_hint: Option<&str>,
    ) -> Option<url::Url> {
        let mut url = self.end_session_url.clone()?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.config.client_id)
                .append_pair("post_logout_redirect_uri", post_logout_redirect);
            if let Some(hint) = id_token_hint.filter(|h| !h.is_empty()) {
                query.append_pair("id_token_hint", hint);
            }
        }
        Some(url)
    }

    /// Whether the provider accepts the client id and secret: a code exchange with a code that
    /// cannot be valid is refused with `invalid_grant` when the client authenticated, and with
    /// `invalid_client` when it did not.
    ///
    /// # Errors
    /// [`OidcError::Refused`] when the client credentials are refused,
    /// [`OidcError::Unavailable`] when the token endpoint does not answer as OAuth 2.0 says.
    pub async fn check_client(&self) -> Result<(), OidcError> {
        use openidconnect::RequestTokenError;
        let request = self
            .client
            .exchange_code(AuthorizationCode::new("berth-credentials-check".to_owned()))
            .map_err(|e| OidcError::Misconfigured {
                provider: self.config.name.clone(),
                detail: format!("no token endpoint: {e}"),
            })?;
        let result: Result<CoreTokenResponse, _> = request.request_async(&self.http).await;
        match result {
            Err(RequestTokenError::ServerResponse(response)) => {
                let code = response.error().to_string();
                if code == "invalid_client" || code == "unauthorized_client" {
                    Err(OidcError::Refused {
                        provider: self.config.name.clone(),
                        detail: format!("the client id or secret is refused ({code})"),
                    })
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(OidcError::Unavailable {
                provider: self.config.name.clone(),
                detail: error_chain(&e),
            }),
            Ok(_) => Err(OidcError::Misconfigured {
                provider: self.config.name.clone(),
                detail: "the token endpoint accepted a made-up authorization code".into(),
            }),
        }
    }

    fn identity_from<N>(&self, id_token: &CoreIdToken, nonce: N) -> Result<OidcIdentity, OidcError>
    where
        N: openidconnect::NonceVerifier,
    {
        let provider = self.config.name.clone();
        let invalid = |detail: String| OidcError::InvalidIdToken {
            provider: provider.clone(),
            detail,
        };
        let claims = id_token
            .claims(&self.client.id_token_verifier(), nonce)
            .map_err(|e| invalid(error_chain(&e)))?;
        // The signature is verified: the payload's other claims can be read as they are.
        let payload = raw_payload(&id_token.to_string()).map_err(invalid)?;
        let username = string_claim(&payload, &self.config.username_claim).ok_or_else(|| {
            OidcError::MissingClaim {
                provider: provider.clone(),
                claim: self.config.username_claim.clone(),
            }
        })?;
        let groups: Vec<String> = list_claim(&payload, &self.config.groups_claim)
            .into_iter()
            .filter(|g| self.group_filter.as_ref().is_none_or(|f| f.is_match(g)))
            .collect();
        let is_admin = self
            .config
            .admin_group
            .as_ref()
            .is_some_and(|admin| groups.iter().any(|g| g == admin));
        Ok(OidcIdentity {
            provider: provider.clone(),
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            username,
            email: claims.email().map(|e| e.to_string()),
            name: string_claim(&payload, "name"),
            groups,
            is_admin,
            expires_at: claims.expiration().timestamp(),
            id_token: id_token.to_string(),
        })
    }
}

/// Reads `end_session_endpoint` from the discovery document; `None` when absent or unreadable
/// (logout then only ends Berth's session).
async fn discover_end_session(http: &reqwest::Client, issuer: &str) -> Option<url::Url> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let response = http.get(url).send().await.ok()?;
    response
        .json::<ExtraMetadata>()
        .await
        .ok()?
        .end_session_endpoint
}

fn raw_payload(jwt: &str) -> Result<Map<String, Value>, String> {
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| "not a compact JWT".to_owned())?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("payload is not base64url: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("payload is not a JSON object: {e}"))
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A claim holding a list of strings, or one string.
fn list_claim(claims: &Map<String, Value>, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_as_a_list_or_a_single_string() {
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"g":["a","b",3],"one":"x","none":null}"#).unwrap_or_default();
        assert_eq!(list_claim(&claims, "g"), ["a", "b"]);
        assert_eq!(list_claim(&claims, "one"), ["x"]);
        assert!(list_claim(&claims, "none").is_empty());
        assert!(list_claim(&claims, "absent").is_empty());
    }

    #[test]
    fn payload_of_a_compact_jwt() {
        let body = URL_SAFE_NO_PAD.encode(br#"{"sub":"alice"}"#);
        let claims = raw_payload(&format!("e30.{body}.sig")).unwrap_or_default();
        assert_eq!(string_claim(&claims, "sub").as_deref(), Some("alice"));
        assert!(raw_payload("garbage").is_err());
    }

    #[test]
    fn state_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
