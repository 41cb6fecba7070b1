//! sea-orm entities, one file per table. The schema itself lives in the `migrations` crate.

pub mod blob;
pub mod immutable_rule;
pub mod job;
pub mod job_kind;
pub mod job_lock;
pub mod job_log;
pub mod job_schedule;
pub mod manifest;
pub mod manifest_reference;
pub mod project;
pub mod project_blob;
pub mod project_member;
pub mod quota_event;
pub mod repository;
pub mod repository_blob;
pub mod retention_policy;
pub mod retention_record;
pub mod retention_task;
pub mod system_property;
pub mod tag;
pub mod upload_session;
pub mod user;
