use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// The error codes of the OCI distribution spec, each with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OciErrorCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    Toomanyrequests,
}

impl OciErrorCode {
    /// The status the spec pairs with the code.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BlobUnknown
            | Self::BlobUploadUnknown
            | Self::ManifestUnknown
            | Self::NameUnknown => StatusCode::NOT_FOUND,
            Self::BlobUploadInvalid
            | Self::DigestInvalid
            | Self::ManifestBlobUnknown
            | Self::ManifestInvalid
            | Self::NameInvalid
            | Self::SizeInvalid => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Denied => StatusCode::FORBIDDEN,
            Self::Unsupported => StatusCode::METHOD_NOT_ALLOWED,
            Self::Toomanyrequests => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// The `WWW-Authenticate` challenge sent with a 401.
#[derive(Clone, Debug)]
pub struct Challenge {
    pub realm: String,
    pub service: String,
    /// `repository:<name>:<actions>` entries the request needs; empty for `/v2/` itself.
    pub scopes: Vec<String>,
    pub insufficient_scope: bool,
}

impl Challenge {
    /// Renders the RFC 7235 header value; every parameter value is a quoted string.
    pub fn header_value(&self) -> String {
        let mut value = format!(
            "Bearer realm=\"{}\",service=\"{}\"",
            quote_escape(&self.realm),
            quote_escape(&self.service)
        );
        if !self.scopes.is_empty() {
            value.push_str(",scope=\"");
            value.push_str(&quote_escape(&self.scopes.join(" ")));
            value.push('"');
        }
        if self.insufficient_scope {
            value.push_str(",error=\"insufficient_scope\"");
        }
        value
    }
}

fn quote_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// An error answered on `/v2` in the spec's format.
#[derive(Debug)]
pub struct OciError {
    pub code: OciErrorCode,
    pub message: String,
    pub status: StatusCode,
    /// Boxed: errors travel in every handler's `Result`, and most carry no challenge.
    pub challenge: Option<Box<Challenge>>,
    /// Extra headers some errors must carry (for example `Range` with a 416).
    pub headers: Vec<(&'static str, String)>,
}

impl OciError {
    pub fn new(code: OciErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: code.status(),
            challenge: None,
            headers: Vec::new(),
        }
    }

    /// The same code answered with another status the spec allows for it.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn unauthorized(challenge: Challenge) -> Self {
        let message = if challenge.insufficient_scope {
            "authorization does not grant the access this request needs"
        } else {
            "authentication required"
        };
        Self {
            challenge: Some(Box::new(challenge)),
            ..Self::new(OciErrorCode::Unauthorized, message)
        }
    }

    /// A server-side failure: the chain is logged once here, the client gets a generic text.
    pub fn internal(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %ErrorChain(error), "request failed");
        Self {
            code: OciErrorCode::Unsupported,
            message: "internal server error".into(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
            challenge: None,
            headers: Vec::new(),
        }
    }

    /// The storage backend or database is unreachable for now.
    pub fn unavailable(error: &dyn std::error::Error) -> Self {
        tracing::warn!(error = %ErrorChain(error), "backend unavailable");
        Self {
            code: OciErrorCode::Toomanyrequests,
            message: "service temporarily unavailable, retry later".into(),
            status: StatusCode::SERVICE_UNAVAILABLE,
            challenge: None,
            headers: vec![(
                "Retry-After",
                super::UNAVAILABLE_RETRY_AFTER_SECONDS.to_string(),
            )],
        }
    }

    /// 429: the caller must wait `seconds` before trying again (sent as `Retry-After`).
    pub fn too_many_requests(message: impl Into<String>, seconds: u64) -> Self {
        Self::new(OciErrorCode::Toomanyrequests, message)
            .with_header("Retry-After", seconds.to_string())
    }
}

impl std::fmt::Display for OciError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    errors: [Entry<'a>; 1],
}

#[derive(Serialize)]
struct Entry<'a> {
    code: OciErrorCode,
    message: &'a str,
}

impl ResponseError for OciError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        if let Some(challenge) = &self.challenge {
            response.insert_header((WWW_AUTHENTICATE, challenge.header_value()));
        }
        for (name, value) in &self.headers {
            response.insert_header((*name, value.as_str()));
        }
        response.json(Body {
            errors: [Entry {
                code: self.code,
                message: &self.message,
            }],
        })
    }
}

/// Formats an error with its whole `source()` chain on one line.
pub(crate) struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_quotes_every_value_and_keeps_commas_inside() {
        let challenge = Challenge {
            realm: "https://registry.example.test/service/token".into(),
            service: "berth".into(),
            scopes: vec!["repository:proj/app:pull,push".into()],
            insufficient_scope: true,
        };
        assert_eq!(
            challenge.header_value(),
            "Bearer realm=\"https://registry.example.test/service/token\",service=\"berth\",\
             scope=\"repository:proj/app:pull,push\",error=\"insufficient_scope\""
        );
    }

    #[test]
    fn codes_serialize_as_the_spec_spells_them() {
        let json = serde_json::to_string(&OciErrorCode::ManifestBlobUnknown).expect("serialize");
        assert_eq!(json, "\"MANIFEST_BLOB_UNKNOWN\"");
        assert_eq!(
            serde_json::to_string(&OciErrorCode::Toomanyrequests).expect("serialize"),
            "\"TOOMANYREQUESTS\""
        );
    }
}
