//! Blobs of proxy-cache projects that the cache does not hold yet: streamed from the upstream
//! to the client while the same bytes are written to the local store.
//!
//! The copy into the store runs in its own task and goes on when the client disconnects, so
//! an interrupted first pull still fills the cache. The store commits the blob only when its
//! digest verified; a client that received corrupt bytes is told so by its own digest check,
//! and by the connection breaking off.

use std::io;

use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::app::AppState;
use crate::digest::Digest;
use crate::error::OciError;
use crate::registry::RegistryError;
use crate::registry::proxy::Proxy;

/// How many chunks may wait for a slow client before the upstream read waits too.
const QUEUED_CHUNKS: usize = 16;

pub async fn blob(
    data: &web::Data<AppState>,
    proxy: Proxy,
    name: &str,
    digest: Digest,
    head: bool,
) -> Result<HttpResponse, OciError> {
    let remote_name = proxy.upstream_repository(name);
    let upstream = proxy
        .upstream()
        .blob(&remote_name, &digest, head)
        .await
        .map_err(|source| RegistryError::ProxyUnavailable {
            reference: digest.to_string(),
            blob: true,
            source,
        })?
        .ok_or_else(|| RegistryError::BlobUnknown(digest.clone()))?;
    let size = upstream
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut response = HttpResponse::Ok();
    response
        .insert_header((CONTENT_TYPE, "application/octet-stream"))
        .insert_header(("Docker-Content-Digest", digest.to_string()))
        .insert_header(("ETag", format!("\"{digest}\"")));
    if head {
        let nothing = futures_util::stream::empty::<Result<Bytes, io::Error>>();
        return Ok(match size {
            Some(size) => response.body(SizedStream::new(size, nothing)),
            None => response.finish(),
        });
    }
    let upload = data.registry.start_upload(name).await?;
    let (sender, mut receiver) = mpsc::channel::<Result<Bytes, io::Error>>(QUEUED_CHUNKS);
    let state = data.clone();
    let name = name.to_owned();
    tokio::spawn(async move {
        let forward = sender.clone();
        let body = upstream.bytes_stream().then(move |chunk| {
            let forward = forward.clone();
            async move {
                if let Ok(bytes) = &chunk {
                    // A client that went away does not stop the copy into the cache.
                    let _ = forward.send(Ok(bytes.clone())).await;
                }
                chunk
            }
        });
        let registry = &state.registry;
        let stored = registry
            .finish_upload(&name, &upload.id, None, &digest, Box::pin(body))
            .await;
        let kept = match stored {
            Ok(_) => registry.charge_proxied_blob(&proxy, &name, &digest).await,
            Err(err) => {
                // Gone already when the digest did not verify.
                let _ = registry.cancel_upload(&name, &upload.id).await;
                Err(err)
            }
        };
        if let Err(err) = kept {
            tracing::warn!(repository = %name, %digest, error = %err, "caching a proxied blob failed");
            let _ = sender.send(Err(io::Error::other(err.to_string()))).await;
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    Ok(match size {
        Some(size) => response.body(SizedStream::new(size, stream)),
        None => response.body(BodyStream::new(stream)),
    })
}
