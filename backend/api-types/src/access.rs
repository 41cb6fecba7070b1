//! What the signed-in account may do (`GET /users/current/permissions`), so the console hides
//! what it cannot use.

use serde::{Deserialize, Serialize};

/// One `(resource, action)` the caller holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    pub resource: String,
    pub action: String,
}

/// The permissions the caller holds in one scope (a project or the system).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions(pub Vec<Permission>);

impl Permissions {
    /// Whether `action` on `resource` is held.
    pub fn allows(&self, resource: &str, action: &str) -> bool {
        self.0
            .iter()
            .any(|p| p.resource == resource && p.action == action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_only_what_is_listed() {
        let held: Vec<Permission> = serde_json::from_str(
            r#"[{"resource":"tag","action":"delete"},{"resource":"robot","action":"list"}]"#,
        )
        .expect("a permission list parses");
        let held = Permissions(held);
        assert!(held.allows("tag", "delete"));
        assert!(!held.allows("tag", "create"));
        assert!(!held.allows("robot", "delete"));
    }
}
