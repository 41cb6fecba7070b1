//! A Berth server with its workers on an ephemeral port, and request helpers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use berth::app::{self, AppState};
use berth::config::{Config, Overrides};
use berth::db::entities::job;
use berth::digest::{Algorithm, Digest};
use berth::jobs::JobStatus;
use berth_workers::{Job, Workers};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "Admin12345";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub fn digest(bytes: &[u8]) -> String {
    Digest::of(Algorithm::Sha256, bytes).to_string()
}

/// An OCI image manifest with config `config` and `layers`.
pub fn manifest(config: &[u8], layers: &[&[u8]]) -> Vec<u8> {
    let layers: Vec<Value> = layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest(l), "size": l.len()
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config), "size": config.len()},
        "layers": layers,
    }))
    .expect("manifest json")
}

/// The environment variable naming a PostgreSQL server for the tests (as for the backend's
/// tests). When set, every test server gets a schema of its own in that database; when unset,
/// an SQLite file in the test's data directory.
pub const TEST_DATABASE_URL: &str = "BERTH_TEST_DATABASE_URL";

/// The prefix of the schemas the tests create (scripts/test.sh drops them before a run).
pub const TEST_DATABASE_PREFIX: &str = "berth_t_";

/// A fresh PostgreSQL schema for a server on `data_dir`, when [`TEST_DATABASE_URL`] is set,
/// named after the directory so a restart on it finds its data.
pub async fn test_database_url(data_dir: &std::path::Path) -> Option<String> {
    use sea_orm::ConnectionTrait;
    let base = std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|u| !u.is_empty())?;
    let digest = Digest::of(Algorithm::Sha256, data_dir.to_string_lossy().as_bytes());
    let name = format!("{TEST_DATABASE_PREFIX}w{}", &digest.hex()[..20]);
    let admin = sea_orm::Database::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {TEST_DATABASE_URL}: {e}"));
    admin
        .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{name}\""))
        .await
        .expect("create test schema");
    admin.close().await.expect("close admin connection");
    let mut url = url::Url::parse(&base).expect("BERTH_TEST_DATABASE_URL is a URL");
    url.query_pairs_mut()
        .append_pair("options", &format!("-c search_path={name}"));
    Some(url.to_string())
}

/// The Redis URL the test script provides, if any.
pub fn redis_url() -> Option<String> {
    std::env::var("BERTH_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Settings that make jobs react fast in tests.
pub fn fast(config: &mut Config) {
    config.workers.poll_seconds = 1;
    config.workers.lease_seconds = 3;
    config.workers.retry_backoff_seconds = 1;
    config.workers.schedule_sync_seconds = 1;
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub state: Arc<AppState>,
    pub data_dir: tempfile::TempDir,
    workers: Option<Workers>,
    handle: ServerHandle,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(fast).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(data_dir, tweak, None).await
    }

    /// Starts on `data_dir` with `jobs` (Berth's own when `None`); workers are started unless
    /// `tweak` turns `workers.embedded` off.
    pub async fn start_in(
        data_dir: tempfile::TempDir,
        tweak: impl FnOnce(&mut Config),
        jobs: Option<Vec<Arc<dyn Job>>>,
    ) -> Self {
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".parse().expect("addr")),
            data_dir: Some(data_dir.path().to_owned()),
        };
        let mut config = Config::load(None, &overrides).expect("config");
        config.database.url = test_database_url(data_dir.path()).await;
        tweak(&mut config);
        let workers_config = config.workers.clone();
        let state = AppState::build(config, Some(ADMIN_PASSWORD.into()))
            .await
            .expect("app state");
        let workers = if workers_config.embedded {
            let jobs = jobs.unwrap_or_else(berth_workers::jobs::all);
            Some(
                Workers::start_with(state.clone(), &workers_config, jobs)
                    .await
                    .expect("workers start"),
            )
        } else {
            None
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server_state = state.clone();
        let server = actix_web::HttpServer::new(move || app::app(server_state.clone()))
            .workers(2)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        let client = Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client,
            state,
            data_dir,
            workers,
            handle,
        }
    }

    /// Stops the server and its workers; hands back the data directory.
    pub async fn stop(self) -> tempfile::TempDir {
        self.handle.stop(true).await;
        if let Some(workers) = self.workers {
            workers.shutdown().await;
        }
        self.data_dir
    }

    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.client
            .request(method, url)
            .basic_auth("admin", Some(ADMIN_PASSWORD))
    }

    pub async fn create_project(&self, name: &str) -> i64 {
        let res = self
            .admin(Method::POST, "/api/v2.0/projects")
            .json(&serde_json::json!({"project_name": name, "metadata": {"public": "false"}}))
            .send()
            .await
            .expect("create project");
        assert_eq!(res.status(), StatusCode::CREATED, "create project {name}");
        let res = self
            .admin(Method::GET, &format!("/api/v2.0/projects/{name}"))
            .header("X-Is-Resource-Name", "true")
            .send()
            .await
            .expect("get project");
        let body: Value = res.json().await.expect("project json");
        body["project_id"].as_i64().expect("project_id")
    }

    /// Uploads a blob in one POST + PUT; returns the final response.
    pub async fn try_upload(&self, repo: &str, bytes: &[u8]) -> Response {
        let res = self
            .admin(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
            .send()
            .await
            .expect("start upload");
        if res.status() != StatusCode::ACCEPTED {
            return res;
        }
        let location = header(&res, "location");
        let sep = if location.contains('?') { '&' } else { '?' };
        self.admin(
            Method::PUT,
            &format!("{location}{sep}digest={}", digest(bytes)),
        )
        .body(bytes.to_vec())
        .send()
        .await
        .expect("finish upload")
    }

    pub async fn upload(&self, repo: &str, bytes: &[u8]) {
        let res = self.try_upload(repo, bytes).await;
        assert_eq!(res.status(), StatusCode::CREATED, "upload to {repo}");
    }

    pub async fn try_put_manifest(&self, repo: &str, reference: &str, body: &[u8]) -> Response {
        self.admin(Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
            .header("Content-Type", OCI_MANIFEST)
            .body(body.to_vec())
            .send()
            .await
            .expect("put manifest")
    }

    /// Pushes config, layers and manifest to `repo:reference`; returns the manifest digest.
    pub async fn push(
        &self,
        repo: &str,
        reference: &str,
        config: &[u8],
        layers: &[&[u8]],
    ) -> String {
        self.upload(repo, config).await;
        for layer in layers {
            self.upload(repo, layer).await;
        }
        let body = manifest(config, layers);
        let res = self.try_put_manifest(repo, reference, &body).await;
        let status = res.status();
        assert_eq!(
            status,
            StatusCode::CREATED,
            "push {repo}:{reference}: {:?}",
            res.text().await
        );
        digest(&body)
    }

    pub async fn status(&self, method: Method, path: &str) -> StatusCode {
        self.admin(method, path)
            .send()
            .await
            .expect("request")
            .status()
    }

    /// Waits until job `id` is final and returns it.
    pub async fn wait_job(&self, id: i64) -> job::Model {
        wait_job(&self.state, id, Duration::from_secs(60)).await
    }

    /// Starts garbage collection through the API and waits for it.
    pub async fn run_gc(&self, parameters: Value) -> job::Model {
        let res = self
            .admin(Method::POST, "/api/v2.0/system/gc/schedule")
            .json(&serde_json::json!({"schedule": {"type": "Manual"}, "parameters": parameters}))
            .send()
            .await
            .expect("start gc");
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = header(&res, "location");
        let id: i64 = location
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("gc id");
        self.wait_job(id).await
    }
}

/// Waits until job `id` is final.
pub async fn wait_job(state: &AppState, id: i64, limit: Duration) -> job::Model {
    let started = std::time::Instant::now();
    loop {
        let row = state
            .jobs
            .get(id)
            .await
            .expect("read job")
            .expect("job exists");
        if JobStatus::is_final(&row.status) {
            return row;
        }
        assert!(
            started.elapsed() < limit,
            "job {id} not final after {limit:?}: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name} on {}", res.status()))
        .to_str()
        .expect("ascii header")
        .to_owned()
}

/// The `errors[0]` of an OCI or REST error body.
pub async fn first_error(res: Response) -> (String, String) {
    let body: Value = res.json().await.expect("error body is JSON");
    let code = body["errors"][0]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (code, message)
}
