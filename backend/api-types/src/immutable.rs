//! Tag immutability rules of a project (`/projects/{project}/immutabletagrules`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A doublestar pattern with its decoration (`matches`/`excludes` for tags,
/// `repoMatches`/`repoExcludes` for repositories).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    pub kind: String,
    pub decoration: String,
    pub pattern: String,
    /// Retention tag selectors only: Harbor's `"{\"untagged\":true}"` (a string), or an
    /// object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}

impl Selector {
    /// A doublestar selector of `pattern` (trimmed).
    pub fn doublestar(decoration: &str, pattern: &str) -> Self {
        Self {
            kind: "doublestar".into(),
            decoration: decoration.into(),
            pattern: pattern.trim().into(),
            extras: None,
        }
    }
}

/// Selectors as people read them: `(repositories, tags)`, joined when several.
pub(crate) fn patterns(scope: &ScopeSelectors, tags: &[Selector]) -> (String, String) {
    let join = |list: &[Selector]| {
        list.iter()
            .map(|s| match s.decoration.as_str() {
                "excludes" | "repoExcludes" => format!("not {}", s.pattern),
                _ => s.pattern.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    (join(&scope.repository), join(tags))
}

/// The repositories a rule applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeSelectors {
    #[serde(default)]
    pub repository: Vec<Selector>,
}

/// One immutability rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImmutableRule {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub disabled: bool,
    pub action: String,
    pub template: String,
    pub tag_selectors: Vec<Selector>,
    #[serde(default)]
    pub scope_selectors: ScopeSelectors,
}

impl ImmutableRule {
    /// A rule protecting the tags matching `tags` in the repositories matching `repositories`.
    pub fn protecting(repositories: &str, tags: &str) -> Self {
        let selector = Selector::doublestar;
        Self {
            id: 0,
            disabled: false,
            action: "immutable".into(),
            template: "immutable_template".into(),
            tag_selectors: vec![selector("matches", tags)],
            scope_selectors: ScopeSelectors {
                repository: vec![selector("repoMatches", repositories)],
            },
        }
    }

    /// The patterns as people read them: `(repositories, tags)`, joined when several.
    pub fn patterns(&self) -> (String, String) {
        patterns(&self.scope_selectors, &self.tag_selectors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_rule_has_harbors_shape() {
        let rule = ImmutableRule::protecting("app/**", " v* ");
        let body = serde_json::to_value(&rule).expect("serializes");
        assert_eq!(body["tag_selectors"][0]["decoration"], "matches");
        assert_eq!(body["tag_selectors"][0]["pattern"], "v*");
        assert_eq!(
            body["scope_selectors"]["repository"][0]["decoration"],
            "repoMatches"
        );
        assert_eq!(rule.patterns(), ("app/**".to_owned(), "v*".to_owned()));
    }
}
