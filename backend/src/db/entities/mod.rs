//! sea-orm entities, one file per table. The schema itself lives in the `migrations` crate.

pub mod blob;
pub mod manifest;
pub mod manifest_reference;
pub mod project;
pub mod project_member;
pub mod repository;
pub mod repository_blob;
pub mod system_property;
pub mod tag;
pub mod upload_session;
pub mod user;
