//! Robot accounts' permissions: Harbor's permission catalogue, the JSON shapes robots are created
//! with, and the casbin policy a robot's permissions turn into.
//!
//! A project-level robot holds project permissions in one project; a system-level robot holds
//! system permissions (`kind: system`, namespace `/`) and project permissions in a list of projects
//! or in every project (`namespace: "*"`, including projects created later).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::db::entities::robot;

/// The prefix of every robot account name; user names may not contain `$`.
pub const ROBOT_PREFIX: &str = "robot$";

/// System-scope resources a robot may be granted, with their actions (Harbor's catalogue).
pub const SYSTEM_CATALOGUE: &[(&str, &[&str])] = &[
    ("audit-log", &["list"]),
    (
        "preheat-instance",
        &["create", "read", "update", "delete", "list"],
    ),
    ("project", &["create", "list"]),
    (
        "replication-policy",
        &["create", "read", "update", "delete", "list"],
    ),
    ("replication", &["create", "read", "list"]),
    ("replication-adapter", &["list"]),
    ("registry", &["create", "read", "update", "delete", "list"]),
    ("scan-all", &["create", "read", "update", "stop"]),
    ("system-volumes", &["read"]),
    (
        "garbage-collection",
        &["create", "read", "update", "list", "stop"],
    ),
    ("purge-audit", &["create", "read", "update", "list", "stop"]),
    ("jobservice-monitor", &["list", "stop"]),
    ("scanner", &["create", "read", "update", "delete", "list"]),
    ("label", &["create", "read", "update", "delete"]),
    ("security-hub", &["read", "list"]),
    ("catalog", &["read"]),
    ("quota", &["read", "list", "update"]),
    ("robot", &["create", "read", "delete", "list"]),
    ("user", &["create", "read", "update", "delete", "list"]),
    ("ldap-user", &["create", "list"]),
    (
        "user-group",
        &["create", "read", "update", "delete", "list"],
    ),
];

/// Project-scope resources a robot may be granted, with their actions (Harbor's catalogue).
pub const PROJECT_CATALOGUE: &[(&str, &[&str])] = &[
    ("log", &["list"]),
    ("project", &["read", "update", "delete"]),
    ("metadata", &["create", "read", "update", "delete", "list"]),
    (
        "repository",
        &["read", "update", "delete", "list", "pull", "push"],
    ),
    ("artifact", &["create", "read", "delete", "list"]),
    ("scan", &["create", "read", "stop"]),
    ("sbom", &["create", "read", "stop"]),
    ("tag", &["create", "delete", "list"]),
    ("accessory", &["list"]),
    ("artifact-addition", &["read"]),
    ("artifact-label", &["create", "delete"]),
    ("scanner", &["create", "read"]),
    (
        "preheat-policy",
        &["create", "read", "update", "delete", "list"],
    ),
    ("immutable-tag", &["create", "update", "delete", "list"]),
    (
        "notification-policy",
        &["create", "read", "update", "delete", "list"],
    ),
    (
        "tag-retention",
        &["create", "read", "update", "delete", "list"],
    ),
    ("label", &["create", "read", "update", "delete", "list"]),
    ("quota", &["read"]),
    ("robot", &["create", "read", "delete", "list"]),
    ("export-cve", &["create", "read"]),
    ("member", &["create", "read", "update", "delete", "list"]),
];

/// `system` or `project`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RobotLevel {
    System,
    Project,
}

impl RobotLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Project => "project",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "system" => Some(Self::System),
            "project" => Some(Self::Project),
            _ => None,
        }
    }
}

/// One granted `(resource, action)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RobotAccess {
    pub resource: String,
    pub action: String,
    /// Always `allow`; Harbor accepts the field, deny rules are not supported.
    #[serde(default = "allow")]
    pub effect: String,
}

fn allow() -> String {
    "allow".into()
}

/// Permissions in one namespace: `kind: system` with namespace `/`, or `kind: project` with a
/// project name or `*`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RobotPermission {
    pub kind: String,
    pub namespace: String,
    pub access: Vec<RobotAccess>,
}

/// Why a permission list is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PermissionError {
    #[error("permission kind {0:?} is unknown: use \"system\" or \"project\"")]
    Kind(String),
    #[error("{kind} permissions cannot grant {action} on {resource}")]
    NotInCatalogue {
        kind: String,
        resource: String,
        action: String,
    },
    #[error("only \"allow\" effects are supported")]
    Effect,
    #[error("system permissions use namespace \"/\"")]
    SystemNamespace,
    #[error("a project-level robot holds project permissions in exactly one project")]
    ProjectLevel,
    #[error("a robot needs at least one permission")]
    Empty,
}

/// Checks `permissions` against the catalogue and the robot's level.
///
/// # Errors
/// Unknown kinds or grants outside the catalogue, deny effects, or a project-level robot with
/// system permissions or several projects.
pub fn validate(level: RobotLevel, permissions: &[RobotPermission]) -> Result<(), PermissionError> {
    if permissions.iter().all(|p| p.access.is_empty()) {
        return Err(PermissionError::Empty);
    }
    for permission in permissions {
        let catalogue = match permission.kind.as_str() {
            "system" if permission.namespace != "/" => {
                return Err(PermissionError::SystemNamespace);
            }
            "system" => SYSTEM_CATALOGUE,
            "project" => PROJECT_CATALOGUE,
            other => return Err(PermissionError::Kind(other.to_owned())),
        };
        for access in &permission.access {
            if access.effect != "allow" {
                return Err(PermissionError::Effect);
            }
            let known = catalogue.iter().any(|(resource, actions)| {
                *resource == access.resource && actions.contains(&access.action.as_str())
            });
            if !known {
                return Err(PermissionError::NotInCatalogue {
                    kind: permission.kind.clone(),
                    resource: access.resource.clone(),
                    action: access.action.clone(),
                });
            }
        }
    }
    if level == RobotLevel::Project {
        let projects = permissions.iter().filter(|p| p.kind == "project").count();
        let foreign = permissions
            .iter()
            .any(|p| p.kind != "project" || p.namespace == "*");
        if projects != 1 || foreign {
            return Err(PermissionError::ProjectLevel);
        }
    }
    Ok(())
}

/// The casbin object a project-scope grant is checked against.
pub fn project_object(project: &str, resource: &str) -> String {
    format!("/project/{project}/{resource}")
}

/// The casbin object a system-scope grant is checked against.
pub fn system_object(resource: &str) -> String {
    format!("/system/{resource}")
}

/// The policy lines `(object, action)` of a permission list; namespace `*` becomes a pattern
/// matching every project.
pub fn policy_lines(permissions: &[RobotPermission]) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for permission in permissions {
        for access in &permission.access {
            let object = if permission.kind == "system" {
                system_object(&access.resource)
            } else if permission.namespace == "*" {
                project_object(":project", &access.resource)
            } else {
                project_object(&permission.namespace, &access.resource)
            };
            lines.push((object, access.action.clone()));
        }
    }
    lines
}

/// A signed-in robot account with its permissions compiled into a casbin enforcer.
pub struct RobotAccount {
    pub id: i64,
    pub name: String,
    pub level: RobotLevel,
    pub project_id: Option<i64>,
    pub permissions: Vec<RobotPermission>,
    pub(crate) enforcer: casbin::Enforcer,
}

impl RobotAccount {
    /// Whether the robot's own permissions grant `action` on the casbin `object`.
    pub fn grants(&self, object: &str, action: &str) -> bool {
        use casbin::CoreApi;
        self.enforcer
            .enforce((super::rbac::ROBOT_SUBJECT, object, action))
            .unwrap_or(false)
    }

    /// Whether every grant of `permissions` is also granted to this robot (robots may only
    /// create robots within their own rights).
    pub fn covers(&self, permissions: &[RobotPermission]) -> bool {
        policy_lines(permissions).iter().all(|(object, action)| {
            // A `*` namespace is covered only by a `*` grant: check a name no project can have.
            let probe = object.replace(":project", "*");
            self.grants(&probe, action)
        })
    }
}

impl RobotAccount {
    /// Compiles a robot account row into a principal whose permissions casbin decides.
    ///
    /// # Errors
    /// The stored permissions are corrupt, or casbin rejects them.
    pub async fn load(row: &robot::Model) -> Result<Self, casbin::Error> {
        let permissions =
            stored_permissions(row).map_err(|e| casbin::Error::from(std::io::Error::other(e)))?;
        let lines = policy_lines(&permissions)
            .into_iter()
            .map(|(object, action)| vec![super::rbac::ROBOT_SUBJECT.to_owned(), object, action])
            .collect();
        Ok(Self {
            id: row.id,
            name: row.name.clone(),
            level: RobotLevel::parse(&row.level).unwrap_or(RobotLevel::Project),
            project_id: row.project_id,
            permissions,
            enforcer: super::rbac::enforcer_with(lines).await?,
        })
    }
}

impl std::fmt::Debug for RobotAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RobotAccount")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

impl PartialEq for RobotAccount {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for RobotAccount {}

/// Reads the stored permission list of a robot row.
///
/// # Errors
/// The stored JSON is corrupt.
pub fn stored_permissions(row: &robot::Model) -> Result<Vec<RobotPermission>, serde_json::Error> {
    serde_json::from_str(&row.permissions)
}

/// A fresh random secret: 32 characters with upper- and lower-case letters and digits, so it
/// also satisfies the password policy.
pub fn generate_secret() -> String {
    use rand::Rng;
    const SETS: [&[u8]; 3] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
    ];
    let mut rng = rand::rng();
    (0..32)
        .map(|i| {
            let set = SETS[i % 3];
            set[rng.random_range(0..set.len())] as char
        })
        .collect()
}

/// Shared handle on a robot account.
pub type Robot = Arc<RobotAccount>;

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(kind: &str, namespace: &str, grants: &[(&str, &str)]) -> RobotPermission {
        RobotPermission {
            kind: kind.into(),
            namespace: namespace.into(),
            access: grants
                .iter()
                .map(|(r, a)| RobotAccess {
                    resource: (*r).into(),
                    action: (*a).into(),
                    effect: allow(),
                })
                .collect(),
        }
    }

    #[test]
    fn validation_follows_the_catalogue_and_level() {
        let pull = perm("project", "p1", &[("repository", "pull")]);
        assert_eq!(
            validate(RobotLevel::Project, std::slice::from_ref(&pull)),
            Ok(())
        );
        let two = [
            pull.clone(),
            perm("project", "p2", &[("repository", "pull")]),
        ];
        assert_eq!(
            validate(RobotLevel::Project, &two),
            Err(PermissionError::ProjectLevel)
        );
        assert_eq!(validate(RobotLevel::System, &two), Ok(()));
        let bad = perm("project", "p1", &[("repository", "create")]);
        assert!(matches!(
            validate(RobotLevel::Project, &[bad]),
            Err(PermissionError::NotInCatalogue { .. })
        ));
        let system = perm("system", "/", &[("project", "create")]);
        assert_eq!(
            validate(RobotLevel::System, std::slice::from_ref(&system)),
            Ok(())
        );
        assert_eq!(
            validate(RobotLevel::Project, &[system]),
            Err(PermissionError::ProjectLevel)
        );
        let misplaced = perm("system", "p1", &[("project", "create")]);
        assert_eq!(
            validate(RobotLevel::System, &[misplaced]),
            Err(PermissionError::SystemNamespace)
        );
        assert_eq!(
            validate(RobotLevel::System, &[]),
            Err(PermissionError::Empty)
        );
    }

    #[test]
    fn wildcard_namespaces_become_patterns() {
        let lines = policy_lines(&[
            perm("project", "*", &[("repository", "pull")]),
            perm("system", "/", &[("robot", "create")]),
        ]);
        assert_eq!(
            lines,
            vec![
                ("/project/:project/repository".to_owned(), "pull".to_owned()),
                ("/system/robot".to_owned(), "create".to_owned()),
            ]
        );
    }

    #[test]
    fn secrets_meet_the_password_policy() {
        let secret = generate_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(super::super::password::check_policy(&secret), Ok(()));
    }
}
