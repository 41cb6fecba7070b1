//! Berth: a multi-tenant OCI registry platform.

pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod console;
pub mod db;
pub mod digest;
pub mod error;
pub mod jobs;
pub mod metadata;
pub mod names;
pub mod oci;
pub mod oidc;
pub mod policy;
pub mod registry;
pub mod settings;
pub mod storage;
pub mod telemetry;
pub mod webhooks;

/// Makes ring the process-wide rustls crypto provider. Two providers are linked (ring through
/// sqlx and reqwest, aws-lc-rs through the AWS SDK); without a default, the first rustls client
/// config built without naming one panics. Call it first in `main`; calling again is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
