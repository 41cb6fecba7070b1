//! Crash safety: the server process is killed (SIGKILL) while uploads and manifest pushes are in
//! flight, then restarted on the same database and blob store. Everything acknowledged must be
//! intact, nothing half-written visible, interrupted sessions resumable or gone, and
//! `berth fsck` must find the database and the store in agreement.
//!
//! Runs on SQLite and the filesystem by default; on PostgreSQL with `BERTH_TEST_DATABASE_URL`
//! and on S3 with `BERTH_TEST_S3_ENDPOINT`.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};

use crate::support::*;

const ADMIN: (&str, &str) = ("admin", ADMIN_PASSWORD);
const PUSHERS: usize = 16;

/// Environment variables configuring the server's database and blob store.
async fn backend_env(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut env = Vec::new();
    if let Some(url) = test_database_url(dir).await {
        env.push(("BERTH__DATABASE__URL".into(), url));
    }
    if let Ok(endpoint) = std::env::var("BERTH_TEST_S3_ENDPOINT") {
        let key = |name: &str| std::env::var(name).unwrap_or_else(|_| "berth".into());
        let bucket = format!("cr-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        for (name, value) in [
            ("BACKEND", "s3".to_owned()),
            ("S3__BUCKET", bucket),
            ("S3__ENDPOINT", endpoint),
            ("S3__PATH_STYLE", "true".into()),
            ("S3__CREATE_BUCKET", "true".into()),
            ("S3__PART_SIZE_BYTES", (5 * 1024 * 1024).to_string()),
            ("S3__ACCESS_KEY_ID", key("BERTH_TEST_S3_ACCESS_KEY")),
            ("S3__SECRET_ACCESS_KEY", key("BERTH_TEST_S3_SECRET_KEY")),
        ] {
            env.push((format!("BERTH__STORAGE__{name}"), value));
        }
    }
    env
}

/// The `berth` binary: `BERTH_BIN`, or the one cargo built beside this test (it lives in the
/// `berth-workers` package, so cargo does not name it to this one).
fn berth_binary() -> std::path::PathBuf {
    if let Some(bin) = std::env::var_os("BERTH_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("test executable");
    let bin = exe
        .parent()
        .and_then(std::path::Path::parent)
        .map(|dir| dir.join("berth"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build --workspace)",
        bin.display()
    );
    bin
}

fn berth(dir: &std::path::Path, env: &[(String, String)], args: &[&str]) -> Command {
    let mut command = Command::new(berth_binary());
    command
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("BERTH__TELEMETRY__LOG_FILTER", "warn")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

async fn start(dir: &std::path::Path, env: &[(String, String)], port: u16) -> Child {
    let listen = format!("127.0.0.1:{port}");
    let mut child = berth(dir, env, &["serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start berth");
    let client = plain_client();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("http://{listen}/v2/")).send().await;
        if ready.is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED) {
            return child;
        }
        assert!(
            child.try_wait().expect("poll").is_none(),
            "berth exited early"
        );
        assert!(Instant::now() < deadline, "berth did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn plain_client() -> Client {
    Client::builder().no_proxy().build().expect("client")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Deterministic content of `len` bytes for seed `seed`.
fn content(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[derive(Default)]
struct Acked {
    /// (repository, content) of blobs whose upload was answered 201.
    blobs: Vec<(String, Vec<u8>)>,
    /// (repository, tag, manifest body) answered 201.
    manifests: Vec<(String, String, Vec<u8>)>,
    /// (repository, session location, full content, bytes acknowledged).
    open_sessions: Vec<(String, String, Vec<u8>, usize)>,
    /// (repository, content) of uploads sent but not acknowledged.
    attempted: Vec<(String, Vec<u8>)>,
}

struct Pusher {
    client: Client,
    base: String,
    acked: Arc<Mutex<Acked>>,
}

impl Pusher {
    fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.client
            .request(method, url)
            .basic_auth(ADMIN.0, Some(ADMIN.1))
    }

    /// Uploads `data` in two PATCH chunks and a PUT; `Some(())` once acknowledged.
    async fn upload(&self, repo: &str, data: &[u8], leave_open: bool) -> Option<()> {
        self.acked
            .lock()
            .expect("lock")
            .attempted
            .push((repo.to_owned(), data.to_vec()));
        let res = self
            .req(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
            .send()
            .await
            .ok()?;
        let mut location = res.headers().get("location")?.to_str().ok()?.to_owned();
        let half = data.len() / 2;
        let res = self
            .req(Method::PATCH, &location)
            .header("Content-Range", format!("0-{}", half.max(1) - 1))
            .header("Content-Type", "application/octet-stream")
            .body(data[..half.max(1)].to_vec())
            .send()
            .await
            .ok()?;
        if res.status() != StatusCode::ACCEPTED {
            return None;
        }
        location = res.headers().get("location")?.to_str().ok()?.to_owned();
        if leave_open {
            let mut acked = self.acked.lock().expect("lock");
            acked
                .open_sessions
                .push((repo.to_owned(), location, data.to_vec(), half.max(1)));
            return None;
        }
        let res = self
            .req(
                Method::PUT,
                &with_query(&location, &format!("digest={}", digest(data))),
            )
            .body(data[half.max(1)..].to_vec())
            .send()
            .await
            .ok()?;
        if res.status() != StatusCode::CREATED {
            return None;
        }
        let mut acked = self.acked.lock().expect("lock");
        acked.blobs.push((repo.to_owned(), data.to_vec()));
        Some(())
    }

    async fn run(self, index: usize) {
        let repo = format!("crash/r{}", index % 4);
        for round in 0u64.. {
            let seed = (index as u64) << 32 | round;
            let layer = content(seed, 200_000 + (seed as usize % 7) * 700_000);
            let config = format!("{{\"pusher\":{index},\"round\":{round}}}").into_bytes();
            if self.upload(&repo, &config, false).await.is_none() {
                continue;
            }
            let leave_open = (index as u64 + round) % 5 == 4;
            if self.upload(&repo, &layer, leave_open).await.is_none() {
                continue;
            }
            let body = format!(
                "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\
                 \"application/vnd.oci.image.config.v1+json\",\"digest\":\"{}\",\"size\":{}}},\
                 \"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\
                 \"digest\":\"{}\",\"size\":{}}}]}}",
                digest(&config),
                config.len(),
                digest(&layer),
                layer.len()
            )
            .into_bytes();
            let tag = format!("p{index}-{round}");
            let res = self
                .req(Method::PUT, &format!("/v2/{repo}/manifests/{tag}"))
                .header("Content-Type", OCI_MANIFEST)
                .body(body.clone())
                .send()
                .await;
            if res.is_ok_and(|r| r.status() == StatusCode::CREATED) {
                let mut acked = self.acked.lock().expect("lock");
                acked.manifests.push((repo.clone(), tag, body));
            }
        }
    }
}

async fn get_bytes(client: &Client, url: String, accept: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut req = client.get(url).basic_auth(ADMIN.0, Some(ADMIN.1));
    if let Some(accept) = accept {
        req = req.header("Accept", accept);
    }
    let res = req.send().await.expect("request after restart");
    let status = res.status();
    (status, res.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_pushes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = backend_env(dir.path()).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), &env, port).await;
    let client = plain_client();
    let res = client
        .post(format!("{base}/api/v2.0/projects"))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(&serde_json::json!({"project_name": "crash"}))
        .send()
        .await
        .expect("create project");
    assert_eq!(res.status(), StatusCode::CREATED);

    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut pushers = tokio::task::JoinSet::new();
    for index in 0..PUSHERS {
        let pusher = Pusher {
            client: plain_client(),
            base: base.clone(),
            acked: acked.clone(),
        };
        pushers.spawn(pusher.run(index));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        {
            let acked = acked.lock().expect("lock");
            if acked.manifests.len() >= 12 && !acked.open_sessions.is_empty() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "too few pushes acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().expect("SIGKILL berth");
    server.wait().expect("reap berth");
    pushers.abort_all();
    while pushers.join_next().await.is_some() {}
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    eprintln!(
        "killed with {} blobs, {} manifests and {} open sessions acknowledged",
        acked.blobs.len(),
        acked.manifests.len(),
        acked.open_sessions.len()
    );

    let mut server = start(dir.path(), &env, port).await;
    for (repo, data) in &acked.blobs {
        let (status, body) = get_bytes(
            &client,
            format!("{base}/v2/{repo}/blobs/{}", digest(data)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "acknowledged blob {}", digest(data));
        assert!(
            body == *data,
            "acknowledged blob {} is intact",
            digest(data)
        );
    }
    for (repo, tag, manifest) in &acked.manifests {
        let (status, body) = get_bytes(
            &client,
            format!("{base}/v2/{repo}/manifests/{tag}"),
            Some(OCI_MANIFEST),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "acknowledged manifest {repo}:{tag}");
        assert_eq!(body, *manifest, "manifest {repo}:{tag} is intact");
        let by_digest = format!("{base}/v2/{repo}/manifests/{}", digest(manifest));
        assert_eq!(
            get_bytes(&client, by_digest, Some(OCI_MANIFEST)).await.1,
            *manifest
        );
    }
    // An upload that was not acknowledged is absent or whole, never partial.
    for (repo, data) in &acked.attempted {
        let url = format!("{base}/v2/{repo}/blobs/{}", digest(data));
        let (status, body) = get_bytes(&client, url, None).await;
        assert!(
            status == StatusCode::NOT_FOUND || (status == StatusCode::OK && body == *data),
            "blob {} is {status} with {} of {} bytes",
            digest(data),
            body.len(),
            data.len()
        );
    }
    // Interrupted sessions resume from the offset the server reports.
    let mut resumed = 0;
    for (repo, location, data, sent) in &acked.open_sessions {
        let res = client
            .get(format!("{base}{location}"))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .send()
            .await
            .expect("session status");
        if res.status() == StatusCode::NOT_FOUND {
            continue;
        }
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "session {location}");
        let range = header(&res, "range");
        let offset: usize = range
            .split_once('-')
            .and_then(|(_, end)| end.parse::<usize>().ok())
            .map_or(0, |end| end + 1);
        assert!(
            offset >= *sent,
            "session lost acknowledged bytes: {range} < {sent}"
        );
        let location = header(&res, "location");
        let res = client
            .put(with_query(
                &format!("{base}{location}"),
                &format!("digest={}", digest(data)),
            ))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .body(data[offset..].to_vec())
            .send()
            .await
            .expect("finish resumed session");
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "resumed session of {repo}"
        );
        let (status, body) = get_bytes(
            &client,
            format!("{base}/v2/{repo}/blobs/{}", digest(data)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body == *data, "resumed blob is intact");
        resumed += 1;
    }
    eprintln!("{resumed} interrupted sessions resumed");

    server.kill().expect("stop berth");
    server.wait().expect("reap berth");
    let output = berth(dir.path(), &env, &["fsck"])
        .output()
        .expect("run berth fsck");
    let report = String::from_utf8_lossy(&output.stdout);
    eprintln!("{report}");
    assert!(
        output.status.success(),
        "fsck found disagreements:\n{report}"
    );
    assert!(report.contains(" 0 disagreements"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsck_reports_lost_content_and_repairs_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The filesystem store, so the test can lose a blob behind the server's back.
    let env: Vec<(String, String)> = backend_env(dir.path())
        .await
        .into_iter()
        .filter(|(name, _)| !name.starts_with("BERTH__STORAGE__"))
        .collect();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(dir.path(), &env, port).await;
    let client = plain_client();
    let res = client
        .post(format!("{base}/api/v2.0/projects"))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(&serde_json::json!({"project_name": "fsck"}))
        .send()
        .await
        .expect("create project");
    assert_eq!(res.status(), StatusCode::CREATED);
    let pusher = Pusher {
        client: plain_client(),
        base: base.clone(),
        acked: Arc::new(Mutex::new(Acked::default())),
    };
    pusher.upload("fsck/app", L1, false).await.expect("upload");
    server.kill().expect("stop berth");
    server.wait().expect("reap berth");

    let hex = digest(L1).trim_start_matches("sha256:").to_owned();
    let lost = dir
        .path()
        .join("blobs/blobs/sha256")
        .join(&hex[..2])
        .join(&hex);
    std::fs::remove_file(&lost).expect("remove the blob's content");
    let output = berth(dir.path(), &env, &["fsck"]).output().expect("fsck");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{report}");
    assert!(report.contains(&format!("blob {}", digest(L1))), "{report}");
    assert!(report.contains(" 1 disagreements"), "{report}");

    let output = berth(dir.path(), &env, &["fsck", "--repair"])
        .output()
        .expect("fsck --repair");
    let report = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{report}{errors}");
    assert!(report.contains("1 repaired"), "{report}");
    let output = berth(dir.path(), &env, &["fsck"]).output().expect("fsck");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert!(report.contains(" 0 disagreements"), "{report}");

    let mut server = start(dir.path(), &env, port).await;
    let res = client
        .head(format!("{base}/v2/fsck/app/blobs/{}", digest(L1)))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .send()
        .await
        .expect("head");
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the lost blob is no longer offered"
    );
    server.kill().expect("stop berth");
    server.wait().expect("reap berth");
}
