//! Registry bearer tokens (the Docker token flow): signed JWTs listing the access granted.
//!
//! Tokens are only ever verified by Berth itself, so they are signed with HMAC-SHA256 under a
//! key generated on first start and kept in the database, where every replica reads it.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

const ISSUER: &str = "berth-token-issuer";

/// One entry of the `access` claim: actions granted on a named resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub actions: Vec<String>,
}

impl Access {
    pub fn allows(&self, kind: &str, name: &str, action: &str) -> bool {
        self.kind == kind
            && self.name == name
            && self.actions.iter().any(|a| a == action || a == "*")
    }
}

/// The claims of a registry token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The principal's name; empty for anonymous tokens.
    pub sub: String,
    pub aud: String,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    pub jti: String,
    pub access: Vec<Access>,
}

impl Claims {
    pub fn allows(&self, kind: &str, name: &str, action: &str) -> bool {
        self.access.iter().any(|a| a.allows(kind, name, action))
    }
}

/// A token issued to a client.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub access_token: String,
    pub expires_in: u64,
    pub issued_at: String,
}

/// Why a presented token is not accepted.
#[derive(Debug, thiserror::Error)]
#[error("invalid registry token: {0}")]
pub struct InvalidToken(#[from] jsonwebtoken::errors::Error);

/// Issues and verifies registry tokens.
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    service: String,
    ttl_seconds: u64,
}

impl TokenService {
    /// Generates a fresh signing key, encoded for storage.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// A service signing with the stored `key` (from [`TokenService::generate_key`]).
    ///
    /// # Errors
    /// The stored key is not valid base64.
    pub fn new(key: &str, service: &str, ttl_seconds: u64) -> Result<Self, base64::DecodeError> {
        let secret = base64::engine::general_purpose::STANDARD.decode(key)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[service]);
        validation.set_issuer(&[ISSUER]);
        validation.leeway = 5;
        validation.validate_nbf = true;
        Ok(Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            service: service.to_owned(),
            ttl_seconds,
        })
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Signs a token for `subject` granting `access`.
    ///
    /// # Errors
    /// Signing fails (never with an HMAC key).
    pub fn issue(
        &self,
        subject: &str,
        access: Vec<Access>,
    ) -> Result<IssuedToken, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            iss: ISSUER.into(),
            sub: subject.into(),
            aud: self.service.clone(),
            exp: now + self.ttl_seconds,
            nbf: now.saturating_sub(1),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            access,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        let issued_at = chrono::DateTime::from_timestamp(now as i64, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Ok(IssuedToken {
            access_token: token.clone(),
            token,
            expires_in: self.ttl_seconds,
            issued_at,
        })
    }

    /// Verifies signature, issuer, audience and expiry, and returns the claims.
    ///
    /// # Errors
    /// Any of those checks fails.
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        Ok(jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_carry_access() {
        let key = TokenService::generate_key();
        let tokens = TokenService::new(&key, "berth", 300).expect("service");
        let access = vec![Access {
            kind: "repository".into(),
            name: "proj/app".into(),
            actions: vec!["pull".into(), "push".into()],
        }];
        let issued = tokens.issue("u1", access).expect("issue");
        assert_eq!(issued.token, issued.access_token);
        let claims = tokens.verify(&issued.token).expect("verify");
        assert_eq!(claims.sub, "u1");
        assert!(claims.allows("repository", "proj/app", "push"));
        assert!(!claims.allows("repository", "proj/app", "delete"));
        assert!(!claims.allows("repository", "proj/other", "pull"));
    }

    #[test]
    fn tokens_from_another_key_or_service_are_refused() {
        let key = TokenService::generate_key();
        let a = TokenService::new(&key, "berth", 300).expect("a");
        let b = TokenService::new(&TokenService::generate_key(), "berth", 300).expect("b");
        let other = TokenService::new(&key, "other", 300).expect("c");
        let token = a.issue("u1", Vec::new()).expect("issue").token;
        assert!(b.verify(&token).is_err());
        assert!(other.verify(&token).is_err());
        assert!(a.verify("not.a.token").is_err());
    }
}
