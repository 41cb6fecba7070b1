//! The measured scenarios. Each runs the same work against both registries, alternating
//! between them, and returns rows for the report.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::http::{Conn, Sink};
use crate::limits::Limits;
use crate::oci;
use crate::report::{Row, Unit};
use crate::servers::Server;

const MIB: usize = 1 << 20;

/// How much work each scenario does.
pub struct Plan {
    /// Blob size and how many pushes (each followed by a pull) per upload mode.
    pub blobs: Vec<(usize, usize)>,
    pub wrk_seconds: u32,
    pub tags: usize,
    pub repositories: usize,
    pub cold_starts: usize,
}

impl Plan {
    pub fn full() -> Self {
        Self {
            blobs: vec![(MIB, 32), (64 * MIB, 4), (1024 * MIB, 2)],
            wrk_seconds: 8,
            tags: 100_000,
            repositories: 10_000,
            cold_starts: 5,
        }
    }

    /// Tiny data sets for checking the harness itself; its figures mean nothing.
    pub fn smoke() -> Self {
        Self {
            blobs: vec![(MIB, 2), (64 * MIB, 1)],
            wrk_seconds: 1,
            tags: 300,
            repositories: 100,
            cold_starts: 1,
        }
    }

    pub fn quick() -> Self {
        Self {
            blobs: vec![(MIB, 16), (64 * MIB, 2), (1024 * MIB, 1)],
            wrk_seconds: 3,
            tags: 10_000,
            repositories: 2_000,
            cold_starts: 3,
        }
    }
}

fn size_label(size: usize) -> String {
    if size >= 1024 * MIB {
        format!("{} GiB", size / (1024 * MIB))
    } else {
        format!("{} MiB", size / MIB)
    }
}

/// Bearer tokens per (server, scope), fetched or signed once.
#[derive(Default)]
pub struct Tokens(HashMap<(usize, String), String>);

impl Tokens {
    pub fn get(&mut self, index: usize, server: &Server, scope: &str) -> Result<String> {
        let key = (index, scope.to_owned());
        if let Some(token) = self.0.get(&key) {
            return Ok(token.clone());
        }
        let token = server.bearer(&[scope.to_owned()])?;
        self.0.insert(key, token.clone());
        Ok(token)
    }
}

fn push_scope(repo: &str) -> String {
    format!("repository:{repo}:pull,push,delete")
}

/// Pushes (monolithic and chunked) and pulls blobs of every planned size. Also records the
/// peak RSS of each server during its first 1 GiB push.
///
/// # Errors
/// A request is refused.
pub fn blobs(
    servers: &[Server; 2],
    tokens: &mut Tokens,
    data: &mut [u8],
    plan: &Plan,
    limits: &Limits,
    peak_rss: &mut [u64; 2],
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut stamp = 0u64;
    for &(size, reps) in &plan.blobs {
        let mut pull_time = [0f64; 2];
        let mut pulled = [0u64; 2];
        for chunked in [false, true] {
            let mut push_time = [0f64; 2];
            for rep in 0..reps {
                stamp += 1;
                data[..8].copy_from_slice(&stamp.to_le_bytes());
                let blob = &data[..size];
                let digest = oci::sha256(blob);
                for (i, server) in servers.iter().enumerate() {
                    let repo = server.repo(&format!("blobs-{}", size / MIB));
                    let auth = tokens.get(i, server, &push_scope(&repo))?;
                    let mut conn = Conn::open(server.addr)?;
                    let watch_peak = size >= 1024 * MIB && !chunked && rep == 0;
                    if watch_peak {
                        server.reset_peak();
                    }
                    let started = Instant::now();
                    if chunked {
                        let chunk = if size <= MIB { size / 4 } else { 16 * MIB };
                        oci::push_chunked(&mut conn, &auth, &repo, &digest, blob, chunk)?;
                    } else {
                        oci::push_monolithic(&mut conn, &auth, &repo, &digest, blob)?;
                    }
                    push_time[i] += started.elapsed().as_secs_f64();
                    if watch_peak {
                        peak_rss[i] = server.peak_rss();
                    }
                    // Untimed: a registry writing around the page cache (Berth does) would
                    // otherwise serve the first pull from the disk, not from memory.
                    oci::pull(&mut conn, &auth, &repo, &digest)?;
                    let started = Instant::now();
                    let got = oci::pull(&mut conn, &auth, &repo, &digest)?;
                    pull_time[i] += started.elapsed().as_secs_f64();
                    if got != size as u64 {
                        bail!("{}: pulled {got} of {size} bytes", server.kind.label());
                    }
                    pulled[i] += got;
                }
            }
            let bytes = (size * reps) as f64;
            let mode = if chunked { "chunked" } else { "monolithic" };
            rows.push(Row::new(
                "Blobs",
                format!("push {} {mode} (x{reps})", size_label(size)),
                Unit::BytesPerSec,
                [bytes / push_time[0], bytes / push_time[1]],
                Some(limits.push()),
            ));
        }
        rows.push(Row::new(
            "Blobs",
            format!("pull {} (x{}, warm cache)", size_label(size), reps * 2),
            Unit::BytesPerSec,
            [
                pulled[0] as f64 / pull_time[0],
                pulled[1] as f64 / pull_time[1],
            ],
            Some((limits.loopback, "loopback")),
        ));
    }
    Ok(rows)
}

/// Re-attaches the final limits to blob rows measured before them (rows name their limit by
/// the label given in [`blobs`]).
pub fn with_limits(rows: Vec<Row>, limits: &Limits) -> Vec<Row> {
    rows.into_iter()
        .map(|mut row| {
            row.limit = row.limit.map(|(_, name)| match name {
                "loopback" => (limits.loopback, name),
                _ => limits.push(),
            });
            row
        })
        .collect()
}

/// Pushes a small image tagged `tag` into repository `repo`; returns the manifest.
fn push_image(server: &Server, auth: &str, repo: &str, data: &[u8], tag: &str) -> Result<Vec<u8>> {
    let mut conn = Conn::open(server.addr)?;
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = &data[..4096];
    let (config_digest, layer_digest) = (oci::sha256(config), oci::sha256(layer));
    oci::push_monolithic(&mut conn, auth, repo, &config_digest, config)?;
    oci::push_monolithic(&mut conn, auth, repo, &layer_digest, layer)?;
    let manifest =
        oci::image_manifest((&config_digest, config.len()), (&layer_digest, layer.len()));
    oci::put_manifest(&mut conn, auth, repo, tag, &manifest)?;
    Ok(manifest)
}

struct WrkResult {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

fn parse_duration_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, factor) = if let Some(v) = text.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = text.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = text.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (text, 1.0)
    };
    number.trim().parse::<f64>().ok().map(|n| n * factor)
}

fn run_wrk(url: &str, auth: &str, conns: usize, seconds: u32) -> Result<WrkResult> {
    let threads = conns.min(2);
    let mut command = Command::new("wrk");
    command
        .arg(format!("-t{threads}"))
        .arg(format!("-c{conns}"))
        .arg(format!("-d{seconds}s"))
        .arg("--latency")
        .arg("-H")
        .arg(format!("Authorization: {auth}"))
        .arg("-H")
        .arg(format!("Accept: {}", oci::OCI_MANIFEST));
    let output = command.arg(url).output().context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut result = WrkResult {
        rps: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            result.rps = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("50%") {
            result.p50_ms = parse_duration_ms(v).unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("99%") {
            result.p99_ms = parse_duration_ms(v).unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            result.errors += v.trim().parse::<u64>().unwrap_or(0);
        } else if line.starts_with("Socket errors:") {
            result.errors += line
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    if result.rps == 0.0 {
        bail!(
            "wrk produced no result: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(result)
}

/// HEAD load from this program: wrk cannot measure HEAD, because its parser waits for the
/// body a HEAD response announces in `Content-Length` but never sends. One thread per
/// keep-alive connection, every latency recorded.
fn run_head_load(
    server: &Server,
    path: &str,
    auth: &str,
    conns: usize,
    seconds: u32,
) -> Result<WrkResult> {
    let deadline = Instant::now() + Duration::from_secs(u64::from(seconds));
    let started = Instant::now();
    let per_thread: Vec<Result<(Vec<u32>, u64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..conns)
            .map(|_| {
                scope.spawn(move || -> Result<(Vec<u32>, u64)> {
                    let mut conn = Conn::open(server.addr)?;
                    let headers = [("Authorization", auth), ("Accept", oci::OCI_MANIFEST)];
                    let (mut latencies, mut errors) = (Vec::with_capacity(1 << 16), 0);
                    while Instant::now() < deadline {
                        let sent = Instant::now();
                        let r = conn.send("HEAD", path, &headers, &[], Sink::Discard)?;
                        latencies.push(sent.elapsed().as_micros() as u32);
                        if r.status != 200 {
                            errors += 1;
                        }
                    }
                    Ok((latencies, errors))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("load thread panicked")))
            })
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut all = Vec::new();
    let mut errors = 0;
    for result in per_thread {
        let (latencies, failed) = result?;
        all.extend(latencies);
        errors += failed;
    }
    if all.is_empty() {
        bail!("no HEAD request completed");
    }
    all.sort_unstable();
    let at = |q: f64| f64::from(all[((all.len() - 1) as f64 * q) as usize]) / 1000.0;
    Ok(WrkResult {
        rps: all.len() as f64 / elapsed,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        errors,
    })
}

/// Manifest GET (with wrk) and HEAD (with [`run_head_load`]) by tag with a bearer token, at
/// 1, 8 and 64 connections.
///
/// # Errors
/// The image cannot be pushed or wrk fails.
pub fn manifests(
    servers: &[Server; 2],
    tokens: &mut Tokens,
    data: &[u8],
    plan: &Plan,
) -> Result<Vec<Row>> {
    let mut urls = Vec::new();
    for (i, server) in servers.iter().enumerate() {
        let repo = server.repo("app");
        let auth = tokens.get(i, server, &push_scope(&repo))?;
        push_image(server, &auth, &repo, data, "latest")?;
        let pull = tokens.get(i, server, &format!("repository:{repo}:pull"))?;
        urls.push((
            format!("http://{}/v2/{repo}/manifests/latest", server.addr),
            pull,
        ));
    }
    let mut rows = Vec::new();
    for conns in [1, 8, 64] {
        for method in ["GET", "HEAD"] {
            let mut results = Vec::new();
            for (server, (url, auth)) in servers.iter().zip(&urls) {
                let r = if method == "GET" {
                    run_wrk(url, auth, conns, plan.wrk_seconds)?
                } else {
                    let path = &url[url.find("/v2/").unwrap_or(0)..];
                    run_head_load(server, path, auth, conns, plan.wrk_seconds)?
                };
                if r.errors > 0 {
                    bail!("wrk {method} {url}: {} failed requests", r.errors);
                }
                results.push(r);
            }
            let tool = if method == "GET" {
                "wrk"
            } else {
                "bench client"
            };
            let name = format!("manifest {method} by tag, {conns} conn ({tool})");
            let pick = |f: fn(&WrkResult) -> f64| [f(&results[0]), f(&results[1])];
            rows.push(Row::new(
                "Manifests",
                format!("{name}: req/s"),
                Unit::PerSec,
                pick(|r| r.rps),
                None,
            ));
            rows.push(Row::new(
                "Manifests",
                format!("{name}: p50"),
                Unit::Millis,
                pick(|r| r.p50_ms),
                None,
            ));
            rows.push(Row::new(
                "Manifests",
                format!("{name}: p99"),
                Unit::Millis,
                pick(|r| r.p99_ms),
                None,
            ));
        }
    }
    Ok(rows)
}

/// Runs `job(worker, conn)` on 8 threads, each with its own connection.
fn parallel(
    server: &Server,
    job: impl Fn(usize, &mut Conn) -> Result<()> + Sync,
) -> Result<Duration> {
    const WORKERS: usize = 8;
    let started = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..WORKERS)
            .map(|w| {
                let job = &job;
                scope.spawn(move || -> Result<()> {
                    let mut conn = Conn::open(server.addr)?;
                    job(w, &mut conn)
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("worker panicked"))??;
        }
        Ok::<(), anyhow::Error>(())
    })?;
    Ok(started.elapsed())
}

/// A repository with `plan.tags` tags, then one with its tags listed page by page.
///
/// # Errors
/// A request is refused or the listing is incomplete.
pub fn tags(
    servers: &[Server; 2],
    tokens: &mut Tokens,
    data: &[u8],
    plan: &Plan,
) -> Result<Vec<Row>> {
    let mut fill = [0f64; 2];
    let mut list = [0f64; 2];
    let mut first = [0f64; 2];
    for (i, server) in servers.iter().enumerate() {
        let repo = server.repo("tags");
        let auth = tokens.get(i, server, &push_scope(&repo))?;
        let manifest = push_image(server, &auth, &repo, data, "t000000")?;
        let total = plan.tags;
        let took = parallel(server, |w, conn| {
            for n in (1 + w..total).step_by(8) {
                oci::put_manifest(conn, &auth, &repo, &format!("t{n:06}"), &manifest)?;
            }
            Ok(())
        })?;
        fill[i] = (total - 1) as f64 / took.as_secs_f64();
        let pull = tokens.get(i, server, &format!("repository:{repo}:pull"))?;
        let mut conn = Conn::open(server.addr)?;
        let target = format!("/v2/{repo}/tags/list?n=1000");
        let started = Instant::now();
        conn.send(
            "GET",
            &target,
            &[("Authorization", &pull)],
            &[],
            Sink::Discard,
        )?
        .expect(200, "first tags page")?;
        first[i] = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let (count, _) = oci::list_all(&mut conn, &pull, &target, "tags")?;
        list[i] = started.elapsed().as_secs_f64();
        if count != total {
            bail!("{}: listed {count} of {total} tags", server.kind.label());
        }
    }
    let n = plan.tags;
    Ok(vec![
        Row::new(
            "Listings",
            format!("tag PUT, 8 conn ({n} tags)"),
            Unit::PerSec,
            fill,
            None,
        ),
        Row::new(
            "Listings",
            format!("tags list, {n} tags: first page of 1000"),
            Unit::Millis,
            first,
            None,
        ),
        Row::new(
            "Listings",
            format!("tags list, {n} tags: all pages of 1000"),
            Unit::Seconds,
            list,
            None,
        ),
    ])
}

/// `plan.repositories` repositories, then the catalog listed page by page.
///
/// # Errors
/// A request is refused or the catalog is incomplete.
pub fn catalog(servers: &[Server; 2], tokens: &mut Tokens, plan: &Plan) -> Result<Vec<Row>> {
    let mut fill = [0f64; 2];
    let mut list = [0f64; 2];
    let mut first = [0f64; 2];
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = oci::sha256(config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": oci::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [],
    }))?;
    for (i, server) in servers.iter().enumerate() {
        let source = server.repo("c00000");
        let auth = server.setup_auth(&source)?;
        let mut conn = Conn::open(server.addr)?;
        oci::push_monolithic(&mut conn, &auth, &source, &config_digest, config)?;
        oci::put_manifest(&mut conn, &auth, &source, "v1", &manifest)?;
        let total = plan.repositories;
        let took = parallel(server, |w, conn| {
            for n in (1 + w..total).step_by(8) {
                let repo = server.repo(&format!("c{n:05}"));
                let auth = match server.kind {
                    crate::servers::Kind::Berth => auth.clone(),
                    crate::servers::Kind::Distribution => {
                        server.bearer(&[push_scope(&repo), format!("repository:{source}:pull")])?
                    }
                };
                oci::mount(conn, &auth, &repo, &source, &config_digest)?;
                oci::put_manifest(conn, &auth, &repo, "v1", &manifest)?;
            }
            Ok(())
        })?;
        fill[i] = (total - 1) as f64 / took.as_secs_f64();
        let auth = tokens.get(i, server, "registry:catalog:*")?;
        // The setup connection sat idle during the fill; servers close idle connections.
        let mut conn = Conn::open(server.addr)?;
        let target = "/v2/_catalog?n=1000";
        let started = Instant::now();
        conn.send(
            "GET",
            target,
            &[("Authorization", &auth)],
            &[],
            Sink::Discard,
        )?
        .expect(200, "first catalog page")?;
        first[i] = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let (count, _) = oci::list_all(&mut conn, &auth, target, "repositories")?;
        list[i] = started.elapsed().as_secs_f64();
        if count < total {
            bail!(
                "{}: catalog lists {count} repositories, expected at least {total}",
                server.kind.label()
            );
        }
    }
    let n = plan.repositories;
    Ok(vec![
        Row::new(
            "Listings",
            format!("new repository (mount + manifest PUT), 8 conn ({n})"),
            Unit::PerSec,
            fill,
            None,
        ),
        Row::new(
            "Listings",
            format!("catalog, {n}+ repositories: first page of 1000"),
            Unit::Millis,
            first,
            None,
        ),
        Row::new(
            "Listings",
            format!("catalog, {n}+ repositories: all pages of 1000"),
            Unit::Seconds,
            list,
            None,
        ),
    ])
}
