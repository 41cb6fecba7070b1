//! Projects: the tenants that own repositories and members.

use serde::{Deserialize, Serialize};

/// A project as `GET /projects` and `GET /projects/{project}` return it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub project_id: i64,
    pub name: String,
    #[serde(default)]
    pub owner_id: i64,
    #[serde(default)]
    pub owner_name: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub repo_count: u64,
    #[serde(default)]
    pub metadata: ProjectMetadata,
    /// The caller's highest role in the project (lowest id), absent when not a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_user_role_id: Option<i32>,
    #[serde(default)]
    pub current_user_role_ids: Vec<i32>,
    /// The registry endpoint of a proxy-cache project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<i64>,
}

impl Project {
    /// Whether anyone, even anonymous, may pull from the project.
    pub fn is_public(&self) -> bool {
        self.metadata.public.as_deref() == Some("true")
    }
}

/// Project settings; Harbor sends every value as a string (`"true"`, `"false"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
    /// The id of the project's tag retention policy, when it has one (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_id: Option<String>,
}

/// The body of `POST /projects`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectReq {
    pub project_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ProjectMetadata>,
    /// Bytes; -1 for no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_limit: Option<i64>,
    /// Makes the project a pull-through cache of this registry endpoint (administrators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<i64>,
}

/// `GET /projects/{project}/summary`: member counts by role and the storage quota.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub repo_count: u64,
    #[serde(default)]
    pub project_admin_count: u64,
    #[serde(default)]
    pub maintainer_count: u64,
    #[serde(default)]
    pub developer_count: u64,
    #[serde(default)]
    pub guest_count: u64,
    #[serde(default)]
    pub limited_guest_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,
}

/// A quota's limit (`hard`) and usage (`used`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub hard: StorageAmount,
    pub used: StorageAmount,
}

/// An amount of storage in bytes; -1 in `hard` means unlimited.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageAmount {
    pub storage: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_harbor_project_with_unknown_fields() {
        let json = r#"{"project_id":3,"name":"demo","repo_count":2,"chart_count":0,
            "metadata":{"public":"true","auto_scan":"false"},"current_user_role_ids":[1]}"#;
        let project: Project = serde_json::from_str(json).expect("a Harbor project parses");
        assert_eq!(project.name, "demo");
        assert_eq!(project.repo_count, 2);
        assert!(project.is_public());
        assert_eq!(project.current_user_role_ids, vec![1]);
        assert_eq!(project.current_user_role_id, None);
    }

    #[test]
    fn create_request_omits_unset_fields() {
        let req = ProjectReq {
            project_name: "demo".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&req).expect("serializes"),
            r#"{"project_name":"demo"}"#
        );
    }
}
