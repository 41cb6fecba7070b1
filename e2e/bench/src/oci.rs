//! The distribution-API calls the benchmark makes: blob uploads, blob pulls, manifest pushes
//! and paginated listings.

use anyhow::{Context, Result, bail};
use sha2::{Digest as _, Sha256};

use crate::http::{Conn, Sink, location_target, with_query};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCTETS: (&str, &str) = ("Content-Type", "application/octet-stream");

pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn start_upload(conn: &mut Conn, auth: &str, repo: &str) -> Result<String> {
    let r = conn
        .send(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/"),
            &[("Authorization", auth)],
            &[],
            Sink::Keep,
        )?
        .expect(202, "start upload")?;
    Ok(location_target(
        r.header("location").context("upload without Location")?,
    ))
}

/// POST then one PUT carrying the whole blob.
///
/// # Errors
/// Any step is refused.
pub fn push_monolithic(
    conn: &mut Conn,
    auth: &str,
    repo: &str,
    digest: &str,
    data: &[u8],
) -> Result<()> {
    let location = start_upload(conn, auth, repo)?;
    conn.send(
        "PUT",
        &with_query(&location, "digest", digest),
        &[("Authorization", auth), OCTETS],
        data,
        Sink::Keep,
    )?
    .expect(201, "monolithic PUT")?;
    Ok(())
}

/// POST, PATCHes of `chunk` bytes with `Content-Range`, then an empty PUT with the digest.
///
/// # Errors
/// Any step is refused.
pub fn push_chunked(
    conn: &mut Conn,
    auth: &str,
    repo: &str,
    digest: &str,
    data: &[u8],
    chunk: usize,
) -> Result<()> {
    let mut location = start_upload(conn, auth, repo)?;
    for (i, part) in data.chunks(chunk).enumerate() {
        let start = i * chunk;
        let range = format!("{start}-{}", start + part.len() - 1);
        let r = conn
            .send(
                "PATCH",
                &location,
                &[("Authorization", auth), OCTETS, ("Content-Range", &range)],
                part,
                Sink::Keep,
            )?
            .expect(202, "PATCH chunk")?;
        location = location_target(r.header("location").context("PATCH without Location")?);
    }
    conn.send(
        "PUT",
        &with_query(&location, "digest", digest),
        &[("Authorization", auth)],
        &[],
        Sink::Keep,
    )?
    .expect(201, "closing PUT")?;
    Ok(())
}

/// GETs a blob, discarding its bytes; returns how many arrived.
///
/// # Errors
/// The blob is not served.
pub fn pull(conn: &mut Conn, auth: &str, repo: &str, digest: &str) -> Result<u64> {
    let r = conn
        .send(
            "GET",
            &format!("/v2/{repo}/blobs/{digest}"),
            &[("Authorization", auth)],
            &[],
            Sink::Discard,
        )?
        .expect(200, "blob GET")?;
    Ok(r.body_len)
}

/// Mounts `digest` from repository `from` into `repo`.
///
/// # Errors
/// The registry does not answer 201.
pub fn mount(conn: &mut Conn, auth: &str, repo: &str, from: &str, digest: &str) -> Result<()> {
    conn.send(
        "POST",
        &format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={from}"),
        &[("Authorization", auth)],
        &[],
        Sink::Keep,
    )?
    .expect(201, "mount")?;
    Ok(())
}

/// PUTs an OCI image manifest under `reference`.
///
/// # Errors
/// The registry does not answer 201.
pub fn put_manifest(
    conn: &mut Conn,
    auth: &str,
    repo: &str,
    reference: &str,
    body: &[u8],
) -> Result<()> {
    conn.send(
        "PUT",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Authorization", auth), ("Content-Type", OCI_MANIFEST)],
        body,
        Sink::Keep,
    )?
    .expect(201, "manifest PUT")?;
    Ok(())
}

/// An OCI image manifest naming one config blob and one layer.
pub fn image_manifest(config: (&str, usize), layer: (&str, usize)) -> Vec<u8> {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config.0, "size": config.1},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer.0, "size": layer.1}],
    });
    serde_json::to_vec(&manifest).unwrap_or_default()
}

/// Pages through a listing (`tags/list` or `_catalog`) following `Link` headers; returns the
/// number of entries under `field` and the number of pages.
///
/// # Errors
/// A page is refused or malformed.
pub fn list_all(conn: &mut Conn, auth: &str, first: &str, field: &str) -> Result<(usize, usize)> {
    let mut target = first.to_owned();
    let (mut entries, mut pages) = (0, 0);
    loop {
        let r = conn
            .send("GET", &target, &[("Authorization", auth)], &[], Sink::Keep)?
            .expect(200, "listing")?;
        let body: serde_json::Value = serde_json::from_slice(&r.body)?;
        entries += body[field].as_array().map_or(0, Vec::len);
        pages += 1;
        let next = r.header("link").and_then(|link| {
            let start = link.find('<')? + 1;
            let end = link.find('>')?;
            Some(location_target(&link[start..end]))
        });
        match next {
            Some(next) => target = next,
            None => break,
        }
        if pages > 1_000_000 {
            bail!("listing does not end");
        }
    }
    Ok((entries, pages))
}
