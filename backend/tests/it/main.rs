//! End-to-end tests of the HTTP surface against a real server on a loopback port.
//!
//! The registry cases are the replay recipes of `registry-protocol.md` (B01...); each test is
//! named after its case.
#![expect(
    clippy::unwrap_used,
    reason = "a failed request in a test should stop it where it happened"
)]

mod api;
mod auth;
mod console;
mod crash;
mod management;
mod migrations;
mod oidc;
mod oidc_console;
mod openapi;
mod outage;
mod proxy;
mod rbac;
mod registry;
mod replicas;
mod resolutions;
mod robots;
mod scale;
mod support;
