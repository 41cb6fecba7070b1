//! Berth: a multi-tenant OCI registry platform.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod digest;
pub mod error;
pub mod jobs;
pub mod names;
pub mod oci;
pub mod policy;
pub mod registry;
pub mod storage;
pub mod telemetry;
