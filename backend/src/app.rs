//! Building the application: shared state, bootstrap of stored secrets, and the HTTP app.

use std::sync::Arc;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, web};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait};
use tracing::Instrument;

use crate::auth::{Authenticator, Rbac, TokenService, password};
use crate::config::Config;
use crate::db::entities::user;
use crate::db::{self, properties};
use crate::jobs::JobQueue;
use crate::registry::Registry;
use crate::storage::{self, BlobStore};

/// Everything a request handler needs, shared by all workers of one process. Nothing here is the
/// only copy of any state: replicas share the database and the blob store.
pub struct AppState {
    pub config: Config,
    pub db: DatabaseConnection,
    pub registry: Registry,
    /// The durable job queue (the workers run what it holds).
    pub jobs: JobQueue,
    pub rbac: Rbac,
    pub tokens: TokenService,
    pub authenticator: Authenticator,
    /// OpenID Connect providers and their discovered clients.
    pub oidc: crate::oidc::Providers,
    /// Audit entries and webhook events of manifest pulls, stored in groups.
    pub pulls: crate::oci::pulls::PullLog,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("blob storage: {0}")]
    Storage(#[from] std::io::Error),
    #[error("blob storage: {0}")]
    Backend(#[from] storage::StorageError),
    #[error("permission model: {0}")]
    Rbac(#[from] casbin::Error),
    #[error("stored token signing key is corrupt: {0}")]
    SigningKey(#[from] base64::DecodeError),
    #[error("admin account: {0}")]
    Admin(String),
}

/// The name of the system property holding the registry token signing key.
const SIGNING_KEY: &str = "registry_token_signing_key";

impl AppState {
    /// Connects to the database (migrating it), opens the blob store, loads or creates the
    /// token signing key and makes sure an administrator exists. On first start the `admin`
    /// account gets `admin_password`, or a generated one printed once to standard error.
    ///
    /// # Errors
    /// Any of those steps fails.
    pub async fn build(
        config: Config,
        admin_password: Option<String>,
    ) -> Result<Arc<Self>, StartError> {
        let db = db::connect_and_migrate(&config).await?;
        let store = open_store(&config).await?;
        let key =
            properties::get_or_insert_with(&db, SIGNING_KEY, TokenService::generate_key).await?;
        let tokens = TokenService::new(&key, &config.auth.service, config.auth.token_ttl_seconds)?;
        ensure_admin(&db, admin_password).await?;
        let registry = Registry::new(db.clone(), store, config.registry.max_manifest_bytes)
            .with_sparse_manifests(config.registry.allow_sparse_manifests)
            .with_resolution_window(std::time::Duration::from_millis(
                config.registry.resolution_window_ms,
            ));
        Ok(Arc::new(Self {
            rbac: Rbac::new().await?,
            tokens,
            authenticator: Authenticator::new(&config.auth),
            oidc: crate::oidc::Providers::new(
                config.oidc.providers.clone(),
                config.server.external_url.clone(),
            ),
            registry,
            pulls: crate::oci::pulls::PullLog::start(db.clone(), JobQueue::new(db.clone())),
            jobs: JobQueue::new(db.clone()),
            db,
            config,
        }))
    }
}

/// Opens the configured blob store.
///
/// # Errors
/// The filesystem root cannot be created, or the S3 bucket cannot be reached.
pub async fn open_store(config: &Config) -> Result<Arc<dyn BlobStore>, StartError> {
    use crate::config::StorageBackend;
    Ok(match (config.storage.backend, &config.storage.s3) {
        (StorageBackend::S3, Some(s3)) => Arc::new(storage::S3BlobStore::open(s3).await?),
        (StorageBackend::S3, None) => {
            return Err(StartError::Backend(storage::StorageError::Unavailable(
                "storage.backend is s3 but [storage.s3] is missing".into(),
            )));
        }
        (StorageBackend::Filesystem, _) => {
            Arc::new(storage::FsBlobStore::open(config.storage_path())?)
        }
    })
}

/// Creates the `admin` account when no user exists yet.
async fn ensure_admin(db: &DatabaseConnection, password: Option<String>) -> Result<(), StartError> {
    if user::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let (secret, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (p, false),
        None => (generate_password(), true),
    };
    password::check_policy(&secret)
        .map_err(|e| StartError::Admin(format!("BERTH_ADMIN_PASSWORD is too weak: {e}")))?;
    let hash = password::hash(&secret).map_err(|e| StartError::Admin(e.to_string()))?;
    let now = chrono::Utc::now();
    let inserted = user::Entity::insert(user::ActiveModel {
        username: Set("admin".into()),
        email: Set(String::new()),
        realname: Set("System Administrator".into()),
        comment: Set(String::new()),
        password_hash: Set(hash),
        sysadmin: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([user::Column::Username])
    .exec(db)
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Conflicted) {
        // Another replica created it first.
        return Ok(());
    }
    if generated {
        eprintln!(
            "\n  Berth created the administrator account.\n  user: admin\n  password: {secret}\n  \
             (shown once; set BERTH_ADMIN_PASSWORD to choose it)\n"
        );
    }
    Ok(())
}

fn generate_password() -> String {
    use rand::Rng;
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let mut out = String::new();
    for i in 0..18 {
        let set = [LOWER, UPPER, DIGIT][i % 3];
        out.push(set[rng.random_range(0..set.len())] as char);
    }
    out
}

/// The request id of the request being served, also sent back in `X-Request-Id`.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Accepts a caller's `X-Request-Id` when it is short printable ASCII, otherwise makes one; the
/// id goes into the request's tracing span and back to the caller on every response.
async fn request_id(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = std::time::Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "served"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// After any request that may have written (every method but `GET`, `HEAD` and `OPTIONS`),
/// makes the next pull look for changes again, so that a client pulling what it just pushed
/// or deleted sees it. The response leaves only after that.
async fn expire_resolutions(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::Method;
    let writes = ![Method::GET, Method::HEAD, Method::OPTIONS].contains(req.method());
    let state = writes
        .then(|| req.app_data::<web::Data<AppState>>().cloned())
        .flatten();
    let res = next.call(req).await;
    if let Some(state) = state {
        state.registry.changed();
    }
    res
}

/// The whole HTTP application: `/v2` registry, token service, REST API and the console.
pub fn app(
    state: Arc<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::from(state))
        .configure(crate::oci::configure)
        .configure(crate::api::configure)
        .configure(crate::console::configure)
        .wrap(from_fn(expire_resolutions))
        .wrap(from_fn(request_id))
}
