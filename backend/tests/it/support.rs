//! A Berth server on an ephemeral port with a fresh data directory, and request helpers.

use std::net::TcpListener;
use std::path::Path;

use actix_web::dev::ServerHandle;
use berth::app::{self, AppState};
use berth::config::{Config, Overrides};
use berth::digest::{Algorithm, Digest};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "Admin12345";
pub const USER_PASSWORD: &str = "User12345x";

pub const CFG: &[u8] = b"{}";
pub const L1: &[u8] = b"hello layer\n";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The 393-byte manifest `M1` of the protocol cases: config `CFG`, one layer `L1`.
pub fn m1() -> String {
    manifest_with(&l1_layers(), "application/vnd.oci.image.config.v1+json", "")
}

/// The `,"layers":[...]` part naming the one layer `L1`.
fn l1_layers() -> String {
    format!(
        ",\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{}\",\"size\":12}}]",
        digest(L1)
    )
}

/// An OCI image manifest with config `CFG` of media type `config_type`; `layers` is the
/// `,"layers":[...]` part and `extra` anything appended before the final brace.
pub fn manifest_with(layers: &str, config_type: &str, extra: &str) -> String {
    format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{{\"mediaType\":\"{config_type}\",\"digest\":\"{}\",\"size\":2}}{layers}{extra}}}",
        digest(CFG)
    )
}

/// A second manifest for the repository of `M1`: the same blobs with an annotation, so
/// another digest.
pub fn m2() -> String {
    manifest_with(
        &l1_layers(),
        "application/vnd.oci.image.config.v1+json",
        ",\"annotations\":{\"build\":\"2\"}",
    )
}

pub fn digest(bytes: &[u8]) -> String {
    Digest::of(Algorithm::Sha256, bytes).to_string()
}

pub struct TestApp {
    pub base: String,
    /// The server's state, for tests that call services directly.
    pub state: std::sync::Arc<AppState>,
    pub client: Client,
    pub data_dir: tempfile::TempDir,
    handle: ServerHandle,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(data_dir, tweak).await
    }

    /// Starts a server on an existing data directory (to test restarts).
    pub async fn start_in(data_dir: tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> Self {
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".parse().expect("addr")),
            data_dir: Some(data_dir.path().to_owned()),
        };
        let mut config = Config::load(None, &overrides).expect("config");
        config.database.url = test_database_url(data_dir.path()).await;
        tweak(&mut config);
        let state = AppState::build(config, Some(ADMIN_PASSWORD.into()))
            .await
            .expect("app state");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let shared = state.clone();
        let server = actix_web::HttpServer::new(move || app::app(shared.clone()))
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
            state,
            client,
            data_dir,
            handle,
        }
    }

    /// A second server (another replica) on the same database and blob store.
    pub async fn replica(&self) -> Self {
        self.replica_with(|_| {}).await
    }

    /// [`Self::replica`], with its configuration adjusted by `tweak`.
    pub async fn replica_with(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        let url = self.state.config.database_url();
        let blobs = self.state.config.storage.clone();
        let root = self.state.config.storage_path();
        Self::start_with(move |c| {
            c.database.url = Some(url);
            c.storage = blobs;
            c.storage.path = Some(root);
            tweak(c);
        })
        .await
    }

    /// Stops the server and hands back its data directory.
    pub async fn stop(self) -> tempfile::TempDir {
        self.handle.stop(true).await;
        self.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request as the system administrator (Basic credentials).
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path)
            .basic_auth("admin", Some(ADMIN_PASSWORD))
    }

    pub fn as_user(&self, user: &str, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path)
            .basic_auth(user, Some(USER_PASSWORD))
    }

    pub async fn create_project(&self, name: &str, public: bool) {
        let res = self
            .admin(Method::POST, "/api/v2.0/projects")
            .json(&serde_json::json!({
                "project_name": name,
                "metadata": {"public": public.to_string()}
            }))
            .send()
            .await
            .expect("create project");
        assert_eq!(res.status(), StatusCode::CREATED, "create project {name}");
    }

    pub async fn create_user(&self, name: &str) {
        let res = self
            .admin(Method::POST, "/api/v2.0/users")
            .json(&serde_json::json!({
                "username": name, "password": USER_PASSWORD, "email": format!("{name}@example.test")
            }))
            .send()
            .await
            .expect("create user");
        assert_eq!(res.status(), StatusCode::CREATED, "create user {name}");
    }

    pub async fn add_member(&self, project: &str, user: &str, role_id: i32) {
        let res = self
            .admin(
                Method::POST,
                &format!("/api/v2.0/projects/{project}/members"),
            )
            .json(&serde_json::json!({"role_id": role_id, "member_user": {"username": user}}))
            .send()
            .await
            .expect("add member");
        assert_eq!(res.status(), StatusCode::CREATED, "add {user} to {project}");
    }

    /// Uploads a blob in one POST + PUT as the administrator; returns its digest.
    pub async fn upload(&self, repo: &str, bytes: &[u8]) -> String {
        let res = self
            .admin(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
            .send()
            .await
            .expect("start upload");
        assert_eq!(res.status(), StatusCode::ACCEPTED, "start upload in {repo}");
        let location = header(&res, "location");
        let d = digest(bytes);
        let res = self
            .admin(Method::PUT, &with_query(&location, &format!("digest={d}")))
            .body(bytes.to_vec())
            .send()
            .await
            .expect("finish upload");
        assert_eq!(res.status(), StatusCode::CREATED, "finish upload in {repo}");
        d
    }

    /// Pushes `CFG`, `L1` and `M1` to `repo:tag`; returns the manifest digest.
    pub async fn push_m1(&self, repo: &str, tag: &str) -> String {
        self.upload(repo, CFG).await;
        self.upload(repo, L1).await;
        self.put_manifest(repo, tag, OCI_MANIFEST, m1().into_bytes())
            .await
    }

    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: Vec<u8>,
    ) -> String {
        let res = self
            .admin(Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
            .header("Content-Type", media_type)
            .body(body)
            .send()
            .await
            .expect("put manifest");
        let status = res.status();
        let text_digest = res
            .headers()
            .get("docker-content-digest")
            .map(|v| v.to_str().expect("ascii").to_owned());
        assert_eq!(
            status,
            StatusCode::CREATED,
            "put manifest {repo}:{reference}: {:?}",
            res.text().await
        );
        text_digest.expect("digest header")
    }

    /// A registry token for `scopes` (Basic `user`/`password`, or anonymous).
    pub async fn token(&self, credentials: Option<(&str, &str)>, scopes: &[&str]) -> Response {
        let mut query: Vec<(&str, &str)> = vec![("service", "berth")];
        query.extend(scopes.iter().map(|s| ("scope", *s)));
        let mut req = self.request(Method::GET, "/service/token").query(&query);
        if let Some((user, password)) = credentials {
            req = req.basic_auth(user, Some(password));
        }
        req.send().await.expect("token request")
    }

    pub async fn token_string(&self, credentials: Option<(&str, &str)>, scopes: &[&str]) -> String {
        let res = self.token(credentials, scopes).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("token json");
        body["token"].as_str().expect("token").to_owned()
    }
}

/// The environment variable naming a PostgreSQL server for the tests, e.g.
/// `postgres://berth:berth@127.0.0.1:5432/berth`. When set, every test server gets a schema of
/// its own in that database; when unset, an SQLite file in the test's data directory.
pub const TEST_DATABASE_URL: &str = "BERTH_TEST_DATABASE_URL";

/// The prefix of the schemas the tests create (scripts/test.sh drops them before a run).
pub const TEST_DATABASE_PREFIX: &str = "berth_t_";

/// A fresh PostgreSQL schema for a server on `data_dir`, when [`TEST_DATABASE_URL`] is set: the
/// URL names it as the connections' `search_path`. Schemas are cheap to create and drop, unlike
/// databases. The name derives from the data directory, so a restart on the same directory
/// finds its data.
pub async fn test_database_url(data_dir: &Path) -> Option<String> {
    use sea_orm::ConnectionTrait;
    let base = std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|u| !u.is_empty())?;
    let digest = Digest::of(Algorithm::Sha256, data_dir.to_string_lossy().as_bytes());
    let name = format!("{TEST_DATABASE_PREFIX}{}", &digest.hex()[..20]);
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

pub fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name} on {}", res.status()))
        .to_str()
        .expect("ascii header")
        .to_owned()
}

pub fn with_query(location: &str, param: &str) -> String {
    if location.contains('?') {
        format!("{location}&{param}")
    } else {
        format!("{location}?{param}")
    }
}

/// The `errors[0].code` of an OCI or REST error body.
pub async fn error_code(res: Response) -> String {
    let body: Value = res.json().await.expect("error body is JSON");
    body["errors"][0]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no errors[0].code in {body}"))
        .to_owned()
}

/// The `access` claim of a token (the payload is read without verifying; the server verifies).
pub fn access_claim(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    let claims: Value = serde_json::from_slice(&bytes).expect("claims");
    claims["access"].clone()
}
