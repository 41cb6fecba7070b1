//! Request and response bodies of Berth's REST API (`/api/v2.0`), in Harbor's JSON shapes.
//!
//! The crate depends on serde only, so it builds for wasm32 and the console shares these types
//! with the backend. Timestamps travel as RFC 3339 strings. Response types tolerate fields they
//! do not know, so an older console keeps working against a newer server.

pub mod error;
pub mod member;
pub mod permission;
pub mod project;
pub mod system;
pub mod user;

pub use error::{ErrorBody, ErrorItem};
pub use member::{MemberUser, ProjectMember, ProjectMemberReq, RoleReq};
pub use permission::ProjectRole;
pub use project::{Project, ProjectMetadata, ProjectReq, ProjectSummary, Quota, StorageAmount};
pub use system::{GeneralInfo, Health, HealthComponent};
pub use user::{User, UserCreationReq};
