//! Berth: a multi-tenant OCI registry platform.

pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod digest;
pub mod error;
pub mod metadata;
pub mod names;
pub mod oci;
pub mod registry;
pub mod settings;
pub mod storage;
pub mod telemetry;
