//! A client for one upstream registry: the distribution API's reads, with the token flow.
//!
//! Requests go out without credentials (or with a cached bearer token for their scope); a 401
//! challenge is answered once, with a token from the challenge's realm (Basic credentials sent
//! there when configured) or with Basic credentials directly, and the request is repeated.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::digest::Digest;

/// Every manifest type a client may pull; the cache stores whichever the upstream prefers, so
/// all clients get the same content for a tag.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// How long a manifest request (or the token request before it) may take in total.
const MANIFEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest silence tolerated while a blob streams.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Tokens are renewed this long before the upstream says they expire.
const TOKEN_MARGIN: Duration = Duration::from_secs(10);

/// Why an upstream request gave no content.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// Refused connections, timeouts, 5xx and 429: the cached copy may stand in.
    #[error("upstream registry {url} is unavailable: {reason}")]
    Unavailable { url: String, reason: String },
    /// The upstream rejected the configured credentials, or has no such content for them.
    #[error("upstream registry {url} refused access: {reason}")]
    Denied { url: String, reason: String },
    /// The upstream answered something that is not a registry's answer.
    #[error("upstream registry {url} answered unexpectedly: {reason}")]
    Invalid { url: String, reason: String },
}

/// What a manifest HEAD or GET told about a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteManifest {
    /// From `Docker-Content-Digest`; absent when the upstream did not send it.
    pub digest: Option<Digest>,
    pub media_type: Option<String>,
}

/// A registry endpoint's address and credentials.
#[derive(Clone)]
pub struct Endpoint {
    /// Base URL without a trailing slash (and without `/v2`).
    pub url: String,
    pub insecure: bool,
    pub credentials: Option<(String, SecretString)>,
}

/// A client for one upstream, with the bearer tokens it holds by scope.
pub struct Upstream {
    endpoint: Endpoint,
    http: reqwest::Client,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// How an upstream asked to be authenticated.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

impl Upstream {
    /// A client for `endpoint`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS backend).
    pub fn new(endpoint: Endpoint) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .danger_accept_invalid_certs(endpoint.insecure)
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UpstreamError::Invalid {
                url: endpoint.url.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            endpoint,
            http,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub fn url(&self) -> &str {
        &self.endpoint.url
    }

    /// Checks that the upstream speaks the distribution API and accepts the credentials.
    ///
    /// # Errors
    /// Unreachable upstream, refused credentials, or an answer that is not a registry's.
    pub async fn ping(&self) -> Result<(), UpstreamError> {
        let response = self.send(Method::GET, "/v2/", None, None, true).await?;
        match response.status() {
            s if s.is_success() => Ok(()),
            s => Err(self.status_error(s, "GET /v2/")),
        }
    }

    /// Asks for the digest a tag or digest currently names, without its content.
    /// `Ok(None)` when the upstream does not have it.
    ///
    /// # Errors
    /// As [`Upstream::ping`].
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
    ) -> Result<Option<RemoteManifest>, UpstreamError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self
            .send(
                Method::HEAD,
                &path,
                Some(repository),
                Some(MANIFEST_ACCEPT),
                true,
            )
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(remote_manifest(response.headers()))),
            s => Err(self.status_error(s, &path)),
        }
    }

    /// Downloads a manifest. `Ok(None)` when the upstream does not have it.
    ///
    /// # Errors
    /// As [`Upstream::ping`]; also a body larger than `limit` bytes.
    pub async fn get_manifest(
        &self,
        repository: &str,
        reference: &str,
        limit: usize,
    ) -> Result<Option<(RemoteManifest, bytes::Bytes)>, UpstreamError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let response = self
            .send(
                Method::GET,
                &path,
                Some(repository),
                Some(MANIFEST_ACCEPT),
                true,
            )
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => return Ok(None),
            s if s.is_success() => {}
            s => return Err(self.status_error(s, &path)),
        }
        let remote = remote_manifest(response.headers());
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(self.invalid(format!("manifest {reference} exceeds {limit} bytes")));
        }
        let body = response.bytes().await.map_err(|e| self.transport(&e))?;
        if body.len() > limit {
            return Err(self.invalid(format!("manifest {reference} exceeds {limit} bytes")));
        }
        Ok(Some((remote, body)))
    }

    /// Starts downloading a blob. `Ok(None)` when the upstream does not have it. With `head`,
    /// only its headers are asked for.
    ///
    /// # Errors
    /// As [`Upstream::ping`].
    pub async fn blob(
        &self,
        repository: &str,
        digest: &Digest,
        head: bool,
    ) -> Result<Option<Response>, UpstreamError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let method = if head { Method::HEAD } else { Method::GET };
        let response = self
            .send(method, &path, Some(repository), None, false)
            .await?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => Ok(Some(response)),
            s => Err(self.status_error(s, &path)),
        }
    }

    /// Sends a request, answering one authentication challenge. `repository` names the pull
    /// scope a token must cover; `bounded` applies the manifest timeout.
    async fn send(
        &self,
        method: Method,
        path: &str,
        repository: Option<&str>,
        accept: Option<&str>,
        bounded: bool,
    ) -> Result<Response, UpstreamError> {
        let scope = repository.map(|r| format!("repository:{r}:pull"));
        let cached = scope.as_deref().and_then(|s| self.cached_token(s));
        let first = self
            .request(method.clone(), path, accept, bounded, cached.as_deref())
            .await?;
        if first.status() != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let challenge = first
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_challenge)
            .ok_or_else(|| self.denied("401 without a usable WWW-Authenticate challenge".into()))?;
        let authorization = match challenge {
            Challenge::Basic => {
                let (user, secret) = self.endpoint.credentials.as_ref().ok_or_else(|| {
                    self.denied("the upstream asks for credentials and none are configured".into())
                })?;
                basic(user, secret)
            }
            Challenge::Bearer {
                realm,
                service,
                scope: asked,
            } => {
                let scope = scope.or(asked);
                let token = self
                    .fetch_token(&realm, service.as_deref(), scope.as_deref())
                    .await?;
                format!("Bearer {token}")
            }
        };
        let second = self
            .request(method, path, accept, bounded, Some(&authorization))
            .await?;
        if second.status() == StatusCode::UNAUTHORIZED {
            return Err(self.denied(format!("{path} refused the credentials")));
        }
        Ok(second)
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        bounded: bool,
        authorization: Option<&str>,
    ) -> Result<Response, UpstreamError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.endpoint.url));
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        if bounded {
            request = request.timeout(MANIFEST_TIMEOUT);
        }
        request.send().await.map_err(|e| self.transport(&e))
    }

    fn cached_token(&self, scope: &str) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(scope)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(token, _)| format!("Bearer {token}"))
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
    ) -> Result<String, UpstreamError> {
        let mut url = url::Url::parse(realm)
            .map_err(|e| self.invalid(format!("token realm {realm:?} is not a URL: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            if let Some(scope) = scope {
                query.append_pair("scope", scope);
            }
        }
        let mut request = self.http.get(url).timeout(MANIFEST_TIMEOUT);
        if let Some((user, secret)) = &self.endpoint.credentials {
            request = request.header(AUTHORIZATION, basic(user, secret));
        }
        let response = request.send().await.map_err(|e| self.transport(&e))?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(self.denied("the token service refused the credentials".into()));
            }
            s => return Err(self.status_error(s, realm)),
        }
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|e| self.invalid(format!("token response: {e}")))?;
        let token = body
            .token
            .or(body.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| self.invalid("token response holds no token".into()))?;
        if let Some(scope) = scope {
            let lifetime = Duration::from_secs(body.expires_in.unwrap_or(60).max(1));
            let until = Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN);
            let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            tokens.insert(scope.to_owned(), (token.clone(), until));
        }
        Ok(token)
    }

    fn transport(&self, err: &reqwest::Error) -> UpstreamError {
        let mut reason = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            reason = format!("{reason}: {cause}");
            source = cause.source();
        }
        UpstreamError::Unavailable {
            url: self.endpoint.url.clone(),
            reason,
        }
    }

    fn status_error(&self, status: StatusCode, what: &str) -> UpstreamError {
        let reason = format!("{what} answered {status}");
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            UpstreamError::Unavailable {
                url: self.endpoint.url.clone(),
                reason,
            }
        } else if status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED {
            self.denied(reason)
        } else {
            self.invalid(reason)
        }
    }

    fn denied(&self, reason: String) -> UpstreamError {
        UpstreamError::Denied {
            url: self.endpoint.url.clone(),
            reason,
        }
    }

    fn invalid(&self, reason: String) -> UpstreamError {
        UpstreamError::Invalid {
            url: self.endpoint.url.clone(),
            reason,
        }
    }
}

fn basic(user: &str, secret: &SecretString) -> String {
    use base64::Engine as _;
    let pair = format!("{user}:{}", secret.expose_secret());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn remote_manifest(headers: &HeaderMap) -> RemoteManifest {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    RemoteManifest {
        digest: text("Docker-Content-Digest").and_then(|d| d.parse().ok()),
        media_type: text("Content-Type")
            .map(|t| t.split(';').next().unwrap_or_default().trim().to_owned())
            .filter(|t| !t.is_empty()),
    }
}

/// Reads a `WWW-Authenticate` value: `Basic ...` or `Bearer k="v",...` (values may be quoted,
/// and quoted values may hold commas).
fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params: HashMap<String, String> = HashMap::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let (val, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        params.insert(key, val.to_owned());
        rest = tail.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge::Bearer {
        realm: params.remove("realm")?,
        service: params.remove("service"),
        scope: params.remove("scope"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_read_with_quoted_commas() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("reg".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge("Bearer realm=https://auth.example/token"),
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: None,
                scope: None,
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
    }
}
