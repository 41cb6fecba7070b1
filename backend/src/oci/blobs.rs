//! `/v2/<name>/blobs/<digest>`: download (whole or by range) and unlink.

use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RANGE};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;

use super::auth;
use crate::app::AppState;
use crate::digest::Digest;
use crate::error::OciError;
use crate::registry::RegistryError;
use crate::storage::ByteRange;

pub async fn get(
    data: &web::Data<AppState>,
    req: &HttpRequest,
    name: &str,
    digest: &str,
    head: bool,
) -> Result<HttpResponse, OciError> {
    let state = data.get_ref();
    auth::authorize(state, req, name, &["pull"]).await?;
    let digest: Digest = digest.parse().map_err(RegistryError::from)?;
    let Some(info) = state.registry.blob_in_repository(name, &digest).await? else {
        return match state.registry.proxy_of(name).await? {
            Some(proxy) => super::proxy::blob(data, proxy, name, digest, head).await,
            None => Err(RegistryError::BlobUnknown(digest).into()),
        };
    };
    let size = info.size;
    let range = match req.headers().get(RANGE).and_then(|v| v.to_str().ok()) {
        Some(value) => parse_range(value, size)?,
        None => None,
    };
    let mut response = HttpResponse::Ok();
    response
        .insert_header((CONTENT_TYPE, "application/octet-stream"))
        .insert_header(("Docker-Content-Digest", digest.to_string()))
        .insert_header(("ETag", format!("\"{digest}\"")))
        .insert_header(("Accept-Ranges", "bytes"));
    let length = match range {
        Some(r) => {
            response.status(StatusCode::PARTIAL_CONTENT);
            response.insert_header((
                "Content-Range",
                format!("bytes {}-{}/{size}", r.start, r.end),
            ));
            r.len()
        }
        None => size,
    };
    if head {
        let nothing = futures_util::stream::empty::<Result<Bytes, std::io::Error>>();
        return Ok(response.body(SizedStream::new(length, nothing)));
    }
    // With presigned redirects on, the client fetches (its range of) the blob from the store.
    if let Some(url) = state
        .registry
        .store()
        .redirect_url(&digest)
        .await
        .map_err(RegistryError::from)?
    {
        return Ok(HttpResponse::TemporaryRedirect()
            .insert_header(("Location", url))
            .insert_header(("Docker-Content-Digest", digest.to_string()))
            .finish());
    }
    let stream = state
        .registry
        .store()
        .read(&digest, range)
        .await
        .map_err(RegistryError::from)?;
    Ok(response.body(SizedStream::new(length, stream)))
}

/// Parses a single `bytes=` range against a blob of `size` bytes. Forms the server does not
/// serve (several ranges, other units, malformed values) are ignored, so the whole blob is sent,
/// as RFC 9110 allows; a range outside the blob, or one that ends before it starts, is refused
/// with 416 (what the OCI conformance suite asks of a registry).
fn parse_range(value: &str, size: u64) -> Result<Option<ByteRange>, OciError> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let unsatisfiable = || OciError::from(RegistryError::BlobRangeNotSatisfiable { size });
    let range = match (first.parse::<u64>().ok(), last.parse::<u64>().ok()) {
        (Some(start), end)
            if first.bytes().all(|b| b.is_ascii_digit()) && (last.is_empty() || end.is_some()) =>
        {
            if start >= size || end.is_some_and(|e| e < start) {
                return Err(unsatisfiable());
            }
            let end = end.map_or(size - 1, |e| e.min(size - 1));
            ByteRange { start, end }
        }
        (None, Some(suffix)) if first.is_empty() => {
            if suffix == 0 || size == 0 {
                return Err(unsatisfiable());
            }
            ByteRange {
                start: size.saturating_sub(suffix),
                end: size - 1,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(range))
}

pub async fn delete(
    state: &AppState,
    req: &HttpRequest,
    name: &str,
    digest: &str,
) -> Result<HttpResponse, OciError> {
    auth::authorize(state, req, name, &["delete"]).await?;
    let digest: Digest = digest.parse().map_err(RegistryError::from)?;
    state.registry.unlink_blob(name, &digest).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Option<(u64, u64)> {
        parse_range(value, size)
            .expect("satisfiable")
            .map(|r| (r.start, r.end))
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(range("bytes=0-9", 19), Some((0, 9)));
        assert_eq!(range("bytes=10-", 19), Some((10, 18)));
        assert_eq!(range("bytes=5-100", 19), Some((5, 18)));
        assert_eq!(range("bytes=-4", 19), Some((15, 18)));
        assert_eq!(range("bytes=-40", 19), Some((0, 18)));
        assert_eq!(range("bytes=0-1,4-5", 19), None);
        assert_eq!(range("items=0-1", 19), None);
        assert!(parse_range("bytes=9-3", 19).is_err());
        assert!(parse_range("bytes=19-", 19).is_err());
        assert!(parse_range("bytes=0-", 0).is_err());
    }
}
