//! sea-orm entities, one file per table. The schema itself lives in the `migrations` crate.

pub mod artifact_label;
pub mod audit_log;
pub mod blob;
pub mod label;
pub mod login_failure;
pub mod manifest;
pub mod manifest_reference;
pub mod project;
pub mod project_member;
pub mod project_metadata;
pub mod repository;
pub mod repository_blob;
pub mod robot;
pub mod session;
pub mod system_property;
pub mod tag;
pub mod upload_session;
pub mod user;
pub mod user_group;
pub mod user_group_member;
