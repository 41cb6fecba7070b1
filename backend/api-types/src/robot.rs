//! Robot accounts and the catalogue of permissions they may be granted.

use serde::{Deserialize, Serialize};

/// One granted `(resource, action)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotAccess {
    pub resource: String,
    pub action: String,
}

/// Grants in one namespace: `project` with a project name, or `system` with `/`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotPermission {
    pub kind: String,
    pub namespace: String,
    pub access: Vec<RobotAccess>,
}

/// A robot account as `GET /robots` returns it (never with its secret).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Robot {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `system` or `project`.
    pub level: String,
    #[serde(default)]
    pub duration: i64,
    #[serde(default)]
    pub disable: bool,
    /// Seconds since the epoch; -1 for never.
    #[serde(default)]
    pub expires_at: i64,
    #[serde(default)]
    pub permissions: Vec<RobotPermission>,
    #[serde(default)]
    pub creation_time: String,
}

/// The body of `POST /robots`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotCreate {
    pub name: String,
    pub description: String,
    pub level: String,
    /// Days; -1 for never.
    pub duration: i64,
    pub permissions: Vec<RobotPermission>,
}

/// What `POST /robots` and `PATCH /robots/{id}` answer: the secret, shown this once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotCreated {
    #[serde(default)]
    pub name: String,
    pub secret: String,
}

/// The body of `PATCH /robots/{id}`; `None` asks the server to generate a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotSecret {
    pub secret: Option<String>,
}

/// The body of `PUT /robots/{id}` that only switches the disabled flag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RobotDisable {
    pub disable: bool,
}

/// `GET /permissions`: what robots may be granted, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionCatalogue {
    #[serde(default)]
    pub system: Vec<RobotAccess>,
    #[serde(default)]
    pub project: Vec<RobotAccess>,
}

impl PermissionCatalogue {
    /// The project catalogue grouped by resource, in the server's order, for a picker.
    pub fn project_resources(&self) -> Vec<(String, Vec<String>)> {
        group(&self.project)
    }

    /// The system catalogue grouped by resource.
    pub fn system_resources(&self) -> Vec<(String, Vec<String>)> {
        group(&self.system)
    }
}

fn group(grants: &[RobotAccess]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for grant in grants {
        match groups.iter_mut().find(|(r, _)| *r == grant.resource) {
            Some((_, actions)) => actions.push(grant.action.clone()),
            None => groups.push((grant.resource.clone(), vec![grant.action.clone()])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_the_catalogue_by_resource() {
        let catalogue: PermissionCatalogue = serde_json::from_str(
            r#"{"system":[],"project":[{"resource":"repository","action":"pull"},
            {"resource":"tag","action":"list"},{"resource":"repository","action":"push"}]}"#,
        )
        .expect("a catalogue parses");
        assert_eq!(
            catalogue.project_resources(),
            [
                ("repository".into(), vec!["pull".into(), "push".into()]),
                ("tag".into(), vec!["list".into()]),
            ]
        );
    }
}
