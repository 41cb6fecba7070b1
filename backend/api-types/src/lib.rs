//! Request and response bodies of Berth's REST API (`/api/v2.0`), in Harbor's JSON shapes.
//!
//! The crate depends on serde, serde_json and pulldown-cmark (for [`markdown`]) only, so it builds for
//! wasm32 and the console shares these types with the backend. Timestamps travel as RFC 3339
//! strings. Response types tolerate fields they do not know, so an older console keeps working
//! against a newer server.

pub mod access;
pub mod admin;
pub mod artifact;
pub mod error;
pub mod immutable;
pub mod integration;
pub mod markdown;
pub mod member;
pub mod permission;
pub mod project;
pub mod retention;
pub mod robot;
pub mod system;
pub mod user;

pub use access::{Permission, Permissions};
pub use admin::{
    AuditLog, ConfigItem, GcRun, GcSchedule, Job, JobAction, Queue, Schedule, SearchResult,
};
pub use artifact::{
    Accessory, Artifact, HistoryEntry, Label, LabelRef, Layer, NewLabel, NewTag, Platform,
    Repository, RepositoryChange, Tag,
};
pub use error::{ErrorBody, ErrorItem};
pub use immutable::ImmutableRule;
pub use integration::{
    NewRegistry, Registry, RegistryCredential, RegistryPing, WebhookEvents, WebhookExecution,
    WebhookPolicy, WebhookPolicyReq, WebhookTarget,
};
pub use member::{
    GroupMemberReq, MemberGroup, MemberUser, NewUserGroup, ProjectMember, ProjectMemberReq,
    RoleReq, UserGroup,
};
pub use permission::ProjectRole;
pub use project::{Project, ProjectMetadata, ProjectReq, ProjectSummary, Quota, StorageAmount};
pub use retention::{
    RetentionExecution, RetentionMetadata, RetentionParam, RetentionPolicy, RetentionRule,
    RetentionRun, RetentionScope, RetentionTask, RetentionTemplate, RetentionTrigger,
};
pub use robot::{
    PermissionCatalogue, Robot, RobotAccess, RobotCreate, RobotCreated, RobotDisable,
    RobotPermission, RobotSecret,
};
pub use system::{GeneralInfo, Health, HealthComponent};
pub use user::{User, UserCreationReq};
