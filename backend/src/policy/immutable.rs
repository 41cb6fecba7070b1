//! Tag immutability rules: a tag matched by an enabled rule cannot be moved to other content or
//! deleted, on `/v2`, in the REST API, or by retention.

use serde::{Deserialize, Serialize};

use super::selector::{ScopeSelectors, Selector, SelectorError, accepts_all};

/// A rule in Harbor's `ImmutableRule` shape.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct ImmutableRule {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub project_id: i64,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub priority: i32,
    #[serde(default = "immutable_action")]
    pub action: String,
    #[serde(default = "immutable_template")]
    pub template: String,
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    pub tag_selectors: Vec<Selector>,
    #[serde(default)]
    pub scope_selectors: ScopeSelectors,
}

fn immutable_action() -> String {
    "immutable".into()
}

fn immutable_template() -> String {
    "immutable_template".into()
}

/// The part of a rule stored in the `selectors` column.
#[derive(Debug, Deserialize, Serialize)]
pub struct StoredSelectors {
    pub tag_selectors: Vec<Selector>,
    pub scope_selectors: ScopeSelectors,
}

impl ImmutableRule {
    /// Checks the rule's selectors.
    ///
    /// # Errors
    /// No tag selector, or an invalid selector.
    pub fn validate(&self) -> Result<(), SelectorError> {
        if self.tag_selectors.is_empty() {
            return Err(SelectorError::EmptyPattern);
        }
        for s in &self.tag_selectors {
            s.validate(&["matches", "excludes"])?;
        }
        for s in &self.scope_selectors.repository {
            s.validate(&["repoMatches", "repoExcludes"])?;
        }
        Ok(())
    }

    /// Whether this rule protects `tag` of `repository` (the name inside its project, as Harbor
    /// matches it: `nginx` for `library/nginx`).
    pub fn protects(&self, repository: &str, tag: &str) -> bool {
        !self.disabled
            && accepts_all(&self.scope_selectors.repository, repository)
            && accepts_all(&self.tag_selectors, tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_protects_matching_tags_only() {
        let rule: ImmutableRule = serde_json::from_value(serde_json::json!({
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "v*"}],
            "scope_selectors": {"repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": "app/**"}
            ]}
        }))
        .expect("rule parses");
        assert_eq!(rule.validate(), Ok(()));
        assert!(rule.protects("app/web", "v1"));
        assert!(!rule.protects("app/web", "latest"));
        assert!(!rule.protects("other", "v1"));
        let disabled = ImmutableRule {
            disabled: true,
            ..rule
        };
        assert!(!disabled.protects("app/web", "v1"));
    }
}
