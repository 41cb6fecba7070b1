//! Berth's one typed configuration.
//!
//! Layers, later ones winning: built-in defaults, an optional TOML file (`--config` or
//! `BERTH_CONFIG`), environment variables named `BERTH__<SECTION>__<KEY>`, then the command-line
//! flags `--listen` and `--data-dir`. The result is validated once at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub registry: RegistryConfig,
    pub workers: WorkersConfig,
    pub telemetry: TelemetryConfig,
    pub oidc: OidcConfig,
}

/// `[server]`: where Berth listens and how clients reach it.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on (`BERTH__SERVER__LISTEN`, flag `--listen`). Default `127.0.0.1:5000`.
    pub listen: SocketAddr,
    /// Base URL clients use to reach Berth, e.g. `https://registry.example.com`
    /// (`BERTH__SERVER__EXTERNAL_URL`). Token realms are built from it. When empty, the realm is
    /// derived from each request's `X-Forwarded-Proto`/`X-Forwarded-Host` or `Host` headers.
    pub external_url: Option<String>,
    /// Directory for the SQLite database, blobs and keys (`BERTH__SERVER__DATA_DIR`, flag
    /// `--data-dir`). Default `./berth-data`.
    pub data_dir: PathBuf,
    /// HTTP worker threads (`BERTH__SERVER__WORKERS`); 0 means one per core.
    pub workers: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5000)),
            external_url: None,
            data_dir: PathBuf::from("berth-data"),
            workers: 0,
        }
    }
}

/// `[database]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Database URL (`BERTH__DATABASE__URL`): `sqlite://path?mode=rwc` or
    /// `postgres://user:pass@host/db`. Default: `berth.db` in the data directory.
    pub url: Option<String>,
    /// Largest number of pooled connections per process (`BERTH__DATABASE__MAX_CONNECTIONS`).
    /// Default 16. With several replicas, keep their sum below PostgreSQL's `max_connections`.
    pub max_connections: u32,
    /// Connections kept open while idle (`BERTH__DATABASE__MIN_CONNECTIONS`). Default 1.
    pub min_connections: u32,
    /// How long a request waits for a pooled connection, or for a new connection to open,
    /// before it is answered 503 (`BERTH__DATABASE__ACQUIRE_TIMEOUT_SECONDS`). Default 5.
    pub acquire_timeout_seconds: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 16,
            min_connections: 1,
            acquire_timeout_seconds: 5,
        }
    }
}

/// `[storage]`: where blob content lives.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Backend kind (`BERTH__STORAGE__BACKEND`): `filesystem` or `s3`. Default `filesystem`.
    pub backend: StorageBackend,
    /// Root directory of the filesystem backend (`BERTH__STORAGE__PATH`). Default `<data_dir>/blobs`.
    pub path: Option<PathBuf>,
    /// `[storage.s3]`: the S3 backend; required when `backend = "s3"`.
    pub s3: Option<S3Config>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            backend: StorageBackend::Filesystem,
            path: None,
            s3: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Filesystem,
    S3,
}

/// The smallest part S3 accepts in a multipart upload, except for the last part.
pub const S3_MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// `[storage.s3]`: an S3 bucket, on AWS or any S3-compatible server.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Bucket name (`BERTH__STORAGE__S3__BUCKET`). Required.
    pub bucket: String,
    /// Region (`BERTH__STORAGE__S3__REGION`). Default `us-east-1`.
    pub region: String,
    /// Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:9000`
    /// (`BERTH__STORAGE__S3__ENDPOINT`). Default: AWS's endpoint for the region.
    pub endpoint: Option<String>,
    /// Address buckets as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>`
    /// (`BERTH__STORAGE__S3__PATH_STYLE`). Default `false`; most S3-compatible servers need `true`.
    pub path_style: bool,
    /// Access key id (`BERTH__STORAGE__S3__ACCESS_KEY_ID`). When unset, with the secret, the
    /// AWS default chain is used (`AWS_ACCESS_KEY_ID`, profiles, instance or pod identity).
    pub access_key_id: Option<String>,
    /// Secret access key (`BERTH__STORAGE__S3__SECRET_ACCESS_KEY`).
    #[serde(serialize_with = "mask_secret")]
    pub secret_access_key: Option<SecretString>,
    /// Prefix of every key Berth writes, e.g. `berth/` (`BERTH__STORAGE__S3__PREFIX`). Default empty.
    pub prefix: String,
    /// Size of the parts uploads are stored in, in bytes (`BERTH__STORAGE__S3__PART_SIZE_BYTES`).
    /// At least 5 MiB (S3's minimum); a blob may have at most 10000 parts. Default 16 MiB
    /// (blobs up to about 160 GB). Each upload in flight buffers up to two parts in memory.
    pub part_size_bytes: u64,
    /// Attempts per S3 request, retried with exponential back-off on throttling (`SlowDown`, 503)
    /// and transient errors (`BERTH__STORAGE__S3__MAX_ATTEMPTS`). Default 5.
    pub max_attempts: u32,
    /// First back-off delay in milliseconds, doubled on each retry
    /// (`BERTH__STORAGE__S3__INITIAL_BACKOFF_MS`). Default 200.
    pub initial_backoff_ms: u64,
    /// Answer blob downloads with a redirect to a presigned URL of the object instead of
    /// streaming it through Berth (`BERTH__STORAGE__S3__REDIRECT`). Default `false`.
    pub redirect: bool,
    /// Lifetime of presigned URLs in seconds (`BERTH__STORAGE__S3__REDIRECT_EXPIRY_SECONDS`).
    /// Default 600.
    pub redirect_expiry_seconds: u64,
    /// Create the bucket at start when it does not exist (`BERTH__STORAGE__S3__CREATE_BUCKET`).
    /// Default `false`.
    pub create_bucket: bool,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            bucket: String::new(),
            region: "us-east-1".into(),
            endpoint: None,
            path_style: false,
            access_key_id: None,
            secret_access_key: None,
            prefix: String::new(),
            part_size_bytes: 16 * 1024 * 1024,
            max_attempts: 5,
            initial_backoff_ms: 200,
            redirect: false,
            redirect_expiry_seconds: 600,
            create_bucket: false,
        }
    }
}

fn mask_secret<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_some("****"),
        None => serializer.serialize_none(),
    }
}

impl S3Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(format!("storage.s3.{m}")));
        if self.bucket.len() < 3 {
            return invalid("bucket must name a bucket (3 or more characters)".into());
        }
        if let Some(endpoint) = &self.endpoint
            && !url::Url::parse(endpoint).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            return invalid(format!("endpoint {endpoint:?} must be an http(s) URL"));
        }
        if self.access_key_id.is_some() != self.secret_access_key.is_some() {
            return invalid("access_key_id and secret_access_key must be set together".into());
        }
        if self.part_size_bytes < S3_MIN_PART_BYTES || self.part_size_bytes > 5 << 30 {
            return invalid("part_size_bytes must be between 5 MiB and 5 GiB".into());
        }
        if self.max_attempts == 0 {
            return invalid("max_attempts must be at least 1".into());
        }
        if !(1..=7 * 86_400).contains(&self.redirect_expiry_seconds) {
            return invalid("redirect_expiry_seconds must be between 1 and 604800".into());
        }
        if !self.prefix.is_empty() && !self.prefix.ends_with('/') {
            return invalid(format!("prefix {:?} must end with /", self.prefix));
        }
        Ok(())
    }
}

/// `[auth]`: tokens and the bootstrap administrator.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The `service` named in token challenges (`BERTH__AUTH__SERVICE`). Default `berth`.
    pub service: String,
    /// Lifetime of registry tokens in seconds (`BERTH__AUTH__TOKEN_TTL_SECONDS`). Default 1800.
    pub token_ttl_seconds: u64,
    /// Who may create projects (`BERTH__AUTH__PROJECT_CREATION`): `everyone` or `adminonly`.
    pub project_creation: ProjectCreation,
    /// Whether anyone may sign up through `POST /api/v2.0/users` (`BERTH__AUTH__SELF_REGISTRATION`).
    pub self_registration: bool,
    /// Idle lifetime of a console session in seconds (`BERTH__AUTH__SESSION_TTL_SECONDS`).
    /// Default 3600.
    pub session_ttl_seconds: u64,
    /// Consecutive failed logins of one account before it is locked
    /// (`BERTH__AUTH__LOGIN_MAX_FAILURES`); 0 disables locking. Default 5.
    pub login_max_failures: u32,
    /// How long a locked account refuses logins, in seconds (`BERTH__AUTH__LOGIN_LOCKOUT_SECONDS`).
    /// Default 300.
    pub login_lockout_seconds: u64,
    /// Lifetime in days of robot accounts created without a `duration`
    /// (`BERTH__AUTH__ROBOT_DURATION_DAYS`); -1 for never expiring. Default 30.
    pub robot_duration_days: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            service: "berth".into(),
            token_ttl_seconds: 1800,
            project_creation: ProjectCreation::Everyone,
            self_registration: false,
            session_ttl_seconds: 3600,
            login_max_failures: 5,
            login_lockout_seconds: 300,
            robot_duration_days: 30,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProjectCreation {
    Everyone,
    Adminonly,
}

/// `[registry]`: limits of the `/v2` API.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Largest manifest accepted on push and served on pull, in bytes
    /// (`BERTH__REGISTRY__MAX_MANIFEST_BYTES`). Default 8 MiB; at least 4 MiB.
    pub max_manifest_bytes: usize,
    /// Upload sessions idle for longer than this are purged (`BERTH__REGISTRY__UPLOAD_MAX_AGE_SECONDS`).
    /// Default 86400 (one day).
    pub upload_max_age_seconds: u64,
    /// Accept manifests whose layers, config or index children were never pushed to the
    /// repository (`BERTH__REGISTRY__ALLOW_SPARSE_MANIFESTS`). Default `false`: such a push is
    /// refused with `MANIFEST_BLOB_UNKNOWN`. Turn it on for mirrors that copy a subset of
    /// platforms while keeping the original index digest.
    pub allow_sparse_manifests: bool,
    /// How long, in milliseconds, a pull may still see a tag as it was before another process
    /// (a replica or a worker) moved or deleted it (`BERTH__REGISTRY__RESOLUTION_WINDOW_MS`).
    /// Pulls trust what they resolved before for this long after each look at the database's
    /// change counters; changes made by the serving process itself are seen at once. Default
    /// 20; 0 resolves every pull in the database.
    pub resolution_window_ms: u64,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            allow_sparse_manifests: false,
            resolution_window_ms: crate::registry::DEFAULT_RESOLUTION_WINDOW.as_millis() as u64,
            max_manifest_bytes: 8 * 1024 * 1024,
            upload_max_age_seconds: 86_400,
        }
    }
}

/// `[oidc]`: OpenID Connect providers for team sign-in. Local accounts always work beside them.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// The providers (`[[oidc.providers]]`), each offered on the sign-in page.
    pub providers: Vec<OidcProviderConfig>,
}

impl OidcConfig {
    /// Checks names, issuers, client ids and group filters (also for providers added through the
    /// API).
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        for provider in &self.providers {
            let name = &provider.name;
            let well_formed = !name.is_empty()
                && name.len() <= 32
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !well_formed {
                return Err(ConfigError::Invalid(format!(
                    "oidc provider name {name:?} must be 1-32 lower-case letters, digits or '-'"
                )));
            }
            if !names.insert(name) {
                return Err(ConfigError::Invalid(format!(
                    "oidc provider name {name:?} is used twice"
                )));
            }
            let issuer = url::Url::parse(&provider.issuer).map_err(|e| {
                ConfigError::Invalid(format!(
                    "oidc provider {name}: issuer {:?} is not a URL: {e}",
                    provider.issuer
                ))
            })?;
            if !matches!(issuer.scheme(), "http" | "https") {
                return Err(ConfigError::Invalid(format!(
                    "oidc provider {name}: issuer must be an http(s) URL"
                )));
            }
            if provider.client_id.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "oidc provider {name}: client_id must not be empty"
                )));
            }
            if let Some(filter) = &provider.group_filter {
                regex::Regex::new(filter).map_err(|e| {
                    ConfigError::Invalid(format!(
                        "oidc provider {name}: group_filter is not a regular expression: {e}"
                    ))
                })?;
            }
        }
        Ok(())
    }
}

/// One `[[oidc.providers]]` entry.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// Short identifier used in URLs (`/c/oidc/login?provider=<name>`): lower case, digits, `-`.
    pub name: String,
    /// What the sign-in button says. Default: the name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Issuer URL; `<issuer>/.well-known/openid-configuration` must answer.
    pub issuer: String,
    pub client_id: String,
    /// Client secret; never printed by `berth config check`.
    #[serde(skip_serializing)]
    pub client_secret: secrecy::SecretString,
    /// Scopes asked for beside `openid`. Default `profile email`.
    #[serde(default = "default_oidc_scopes")]
    pub scopes: Vec<String>,
    /// The ID-token claim that names the Berth user. Default `preferred_username`.
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    /// The ID-token claim listing the user's groups. Default `groups`.
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Members of this group become system administrators.
    #[serde(default)]
    pub admin_group: Option<String>,
    /// Only groups matching this regular expression are kept.
    #[serde(default)]
    pub group_filter: Option<String>,
    /// Verify the provider's TLS certificate. Default `true`.
    #[serde(default = "default_true")]
    pub verify_certificate: bool,
    /// Create the Berth user at first sign-in, named by the username claim. When `false`, or
    /// when that name is taken, the user chooses a name at first sign-in.
    #[serde(default = "default_true")]
    pub auto_onboard: bool,
}

fn default_oidc_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into()]
}

fn default_username_claim() -> String {
    "preferred_username".into()
}

fn default_groups_claim() -> String {
    "groups".into()
}

fn default_true() -> bool {
    true
}

/// `[workers]`: background jobs (garbage collection, retention, quota recalculation).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// Run the workers inside `berth serve` (`BERTH__WORKERS__EMBEDDED`). Default `true`; turn
    /// it off when dedicated `berth worker` processes run the jobs.
    pub embedded: bool,
    /// Jobs one process runs at the same time (`BERTH__WORKERS__CONCURRENCY`). Default 2.
    pub concurrency: usize,
    /// Redis URL for wake-ups and locks across processes (`BERTH__WORKERS__REDIS_URL`), e.g.
    /// `redis://127.0.0.1:6379/0`. Without it, wake-ups stay in-process, locks live in the
    /// database, and other processes notice new jobs within `poll_seconds`.
    pub redis_url: Option<String>,
    /// How long a claimed job stays claimed without a renewal (`BERTH__WORKERS__LEASE_SECONDS`).
    /// A job whose worker died is claimed again after this. Default 30.
    pub lease_seconds: u64,
    /// Longest wait between two looks at the queue (`BERTH__WORKERS__POLL_SECONDS`). Default 5.
    pub poll_seconds: u64,
    /// First retry delay of a failed job, doubled per attempt
    /// (`BERTH__WORKERS__RETRY_BACKOFF_SECONDS`). Default 10.
    pub retry_backoff_seconds: u64,
    /// Garbage collection spares content touched within this many seconds
    /// (`BERTH__WORKERS__GC_GRACE_SECONDS`), protecting pushes in flight. Default 7200.
    pub gc_grace_seconds: u64,
    /// How often schedules are re-read from the database
    /// (`BERTH__WORKERS__SCHEDULE_SYNC_SECONDS`). Default 15.
    pub schedule_sync_seconds: u64,
}

impl Default for WorkersConfig {
    fn default() -> Self {
        Self {
            embedded: true,
            concurrency: 2,
            redis_url: None,
            lease_seconds: 30,
            poll_seconds: 5,
            retry_backoff_seconds: 10,
            gc_grace_seconds: 7200,
            schedule_sync_seconds: 15,
        }
    }
}

/// `[telemetry]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Log format (`BERTH__TELEMETRY__LOG_FORMAT`): `pretty` or `json`. Default `pretty`.
    pub log_format: LogFormat,
    /// Filter in `tracing` syntax (`BERTH__TELEMETRY__LOG_FILTER`, or `RUST_LOG`). Default `info`.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Pretty,
            log_filter: "info".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Values given on the command line, which override every other layer.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `file` (if any), then `BERTH__*` variables, then `overrides`, and
    /// validates the result.
    ///
    /// # Errors
    /// A file that cannot be parsed, an unknown key, or a value that fails validation.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid(format!(
                    "configuration file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("BERTH__").split("__"));
        let mut config: Config = figment.extract().map_err(Box::new)?;
        if let Some(listen) = overrides.listen {
            config.server.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            config.server.data_dir.clone_from(dir);
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.server.external_url {
            let parsed = url::Url::parse(url).map_err(|e| {
                ConfigError::Invalid(format!("server.external_url {url:?} is not a URL: {e}"))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(ConfigError::Invalid(format!(
                    "server.external_url {url:?} must be an http(s) URL with a host"
                )));
            }
        }
        if self.registry.max_manifest_bytes < 4 * 1024 * 1024 {
            return Err(ConfigError::Invalid(
                "registry.max_manifest_bytes must be at least 4194304 (4 MiB)".into(),
            ));
        }
        if self.auth.token_ttl_seconds < 60 {
            return Err(ConfigError::Invalid(
                "auth.token_ttl_seconds must be at least 60".into(),
            ));
        }
        if self.auth.service.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "auth.service must not be empty".into(),
            ));
        }
        let w = &self.workers;
        if w.concurrency == 0 || w.lease_seconds == 0 || w.poll_seconds == 0 {
            return Err(ConfigError::Invalid(
                "workers.concurrency, workers.lease_seconds and workers.poll_seconds must be at \
                 least 1"
                    .into(),
            ));
        }
        if let Some(url) = &w.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(ConfigError::Invalid(format!(
                "workers.redis_url must start with redis:// or rediss://, got {:?}",
                redact_url(url)
            )));
        }
        if self.database.max_connections == 0
            || self.database.min_connections > self.database.max_connections
        {
            return Err(ConfigError::Invalid(
                "database.max_connections must be at least 1 and at least min_connections".into(),
            ));
        }
        if self.database.acquire_timeout_seconds == 0 {
            return Err(ConfigError::Invalid(
                "database.acquire_timeout_seconds must be at least 1".into(),
            ));
        }
        match (self.storage.backend, &self.storage.s3) {
            (StorageBackend::S3, None) => {
                return Err(ConfigError::Invalid(
                    "storage.backend = \"s3\" needs a [storage.s3] section".into(),
                ));
            }
            (StorageBackend::S3, Some(s3)) => s3.validate()?,
            (StorageBackend::Filesystem, _) => {}
        }
        if let Some(url) = &self.database.url
            && !(url.starts_with("sqlite:") || url.starts_with("postgres"))
        {
            return Err(ConfigError::Invalid(format!(
                "database.url must start with sqlite: or postgres://, got {:?}",
                redact_url(url)
            )));
        }
        self.oidc.validate()
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.server.data_dir.join("berth.db").display()
            )
        })
    }

    /// The effective configuration as pretty JSON, with any database password masked.
    pub fn redacted_json(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = Some(redact_url(&self.database_url()));
        shown.workers.redis_url = self.workers.redis_url.as_deref().map(redact_url);
        serde_json::to_string_pretty(&shown).unwrap_or_default()
    }

    /// Root of the filesystem blob store.
    pub fn storage_path(&self) -> PathBuf {
        self.storage
            .path
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("blobs"))
    }
}

/// A URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = Config::load(None, &Overrides::default()).expect("defaults load");
        assert_eq!(config.server.listen.port(), 5000);
        assert!(config.database_url().starts_with("sqlite://"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("berth.toml");
        std::fs::write(&file, "[server]\nlisen = \"1.2.3.4:5\"\n").expect("write");
        let err = Config::load(Some(&file), &Overrides::default()).expect_err("typo refused");
        assert!(err.to_string().contains("lisen"), "{err}");

        std::fs::write(&file, "[registry]\nmax_manifest_bytes = 1024\n").expect("write");
        let err = Config::load(Some(&file), &Overrides::default()).expect_err("too small");
        assert!(err.to_string().contains("max_manifest_bytes"), "{err}");
    }

    #[test]
    fn s3_section_is_checked_and_its_secret_masked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("berth.toml");
        std::fs::write(&file, "[storage]\nbackend = \"s3\"\n").expect("write");
        let err = Config::load(Some(&file), &Overrides::default()).expect_err("no section");
        assert!(err.to_string().contains("[storage.s3]"), "{err}");

        let s3 = "[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \"blobs\"\n\
                  access_key_id = \"AK\"\nsecret_access_key = \"very-secret\"\n";
        std::fs::write(&file, format!("{s3}part_size_bytes = 1024\n")).expect("write");
        let err = Config::load(Some(&file), &Overrides::default()).expect_err("small parts");
        assert!(err.to_string().contains("part_size_bytes"), "{err}");

        std::fs::write(&file, s3).expect("write");
        let config = Config::load(Some(&file), &Overrides::default()).expect("valid s3 config");
        let shown = config.redacted_json();
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("\"bucket\": \"blobs\""), "{shown}");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://berth:secret@db/berth"),
            "postgres://berth:****@db/berth"
        );
    }
}
