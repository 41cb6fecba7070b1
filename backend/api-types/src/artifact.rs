//! Repositories, their artifacts and the artifacts' tags, accessories and additions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A repository as `GET /projects/{project}/repositories` returns it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    pub id: i64,
    pub project_id: i64,
    /// Full name, `<project>/<path>`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub artifact_count: u64,
    #[serde(default)]
    pub pull_count: i64,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
}

impl Repository {
    /// The name without the project, as the artifact paths take it.
    pub fn short_name(&self) -> &str {
        self.name.split_once('/').map_or(&self.name, |(_, r)| r)
    }
}

/// The body of `PUT /projects/{project}/repositories/{repository}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryChange {
    pub description: String,
}

/// A tag of an artifact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub push_time: String,
    #[serde(default)]
    pub pull_time: Option<String>,
    #[serde(default)]
    pub immutable: bool,
}

/// The body of `POST .../artifacts/{reference}/tags`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTag {
    pub name: String,
}

/// A child of an index, with the platform it is for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    pub child_digest: String,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// An index child's platform (`os`, `architecture`, `variant`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// `os/architecture[/variant]`, as `docker` prints it.
    pub fn label(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{v}", self.os, self.architecture),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// A signature, SBOM or other accessory of an artifact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accessory {
    pub id: i64,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    /// `signature.cosign`, `signature.notation`, `sbom.harbor`, `subject.accessory`, ...
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub creation_time: String,
}

/// A label as the API shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub color: String,
    /// `g` (global) or `p` (project).
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub project_id: i64,
}

/// An artifact as the artifact endpoints return it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub id: i64,
    /// `IMAGE`, `CHART`, `CNAB`, `WASM` or `UNKNOWN`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub manifest_media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub push_time: String,
    #[serde(default)]
    pub pull_time: Option<String>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub references: Vec<Reference>,
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
    #[serde(default)]
    pub labels: Option<Vec<Label>>,
    #[serde(default)]
    pub accessories: Option<Vec<Accessory>>,
    #[serde(default)]
    pub addition_links: BTreeMap<String, AdditionLink>,
}

/// Where an addition of an artifact is read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdditionLink {
    pub href: String,
}

impl Artifact {
    /// Its tag names, in the server's order.
    pub fn tag_names(&self) -> Vec<String> {
        self.tags.iter().flatten().map(|t| t.name.clone()).collect()
    }

    /// Whether the server offers the named addition (`build_history`, `layers`).
    pub fn has_addition(&self, name: &str) -> bool {
        self.addition_links.contains_key(name)
    }
}

/// One layer of an image (the `layers` addition).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
}

/// One step of an image's build history (the `build_history` addition).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: bool,
}

/// The body of `POST /labels`: a global label (`scope: g`) or one of a project (`p`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLabel {
    pub name: String,
    pub description: String,
    /// `#RRGGBB`.
    pub color: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<i64>,
}

/// The body of `POST .../artifacts/{reference}/labels`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelRef {
    pub id: i64,
}

/// The command that pulls an artifact: by its first tag, or by digest when untagged.
pub fn pull_command(host: &str, repository: &str, artifact: &Artifact) -> String {
    match artifact.tags.iter().flatten().next() {
        Some(tag) => format!("docker pull {host}/{repository}:{}", tag.name),
        None => format!("docker pull {host}/{repository}@{}", artifact.digest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_artifact_of_the_api() {
        let body = r#"{"id":3,"type":"IMAGE","media_type":"m","manifest_media_type":"mm",
            "digest":"sha256:ab","size":393,"push_time":"2026-01-01T00:00:00Z","pull_time":null,
            "annotations":null,"references":[{"parent_id":3,"child_digest":"sha256:cd",
            "platform":{"os":"linux","architecture":"arm64","variant":"v8"},"urls":[]}],
            "tags":[{"id":1,"repository_id":1,"artifact_id":3,"name":"v1",
            "push_time":"2026-01-01T00:00:00Z","pull_time":null,"immutable":false}],
            "addition_links":{"layers":{"href":"/x","absolute":false}},"project_id":1}"#;
        let artifact: Artifact = serde_json::from_str(body).expect("an artifact parses");
        assert_eq!(artifact.tag_names(), ["v1"]);
        assert!(artifact.has_addition("layers"));
        assert!(!artifact.has_addition("build_history"));
        let platform = artifact.references[0]
            .platform
            .as_ref()
            .expect("a platform");
        assert_eq!(platform.label(), "linux/arm64/v8");
        assert_eq!(
            pull_command("reg:5000", "p1/app", &artifact),
            "docker pull reg:5000/p1/app:v1"
        );
        let untagged = Artifact {
            tags: Some(Vec::new()),
            ..artifact
        };
        assert_eq!(
            pull_command("reg:5000", "p1/app", &untagged),
            "docker pull reg:5000/p1/app@sha256:ab"
        );
    }

    #[test]
    fn short_name_drops_the_project() {
        let repo = Repository {
            name: "p1/team/app".into(),
            ..Repository::default()
        };
        assert_eq!(repo.short_name(), "team/app");
    }
}
