//! Tag immutability rules of a project (`/projects/{project}/immutabletagrules`).

use serde::{Deserialize, Serialize};

/// A doublestar pattern with its decoration (`matches`/`excludes` for tags,
/// `repoMatches`/`repoExcludes` for repositories).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selector {
    pub kind: String,
    pub decoration: String,
    pub pattern: String,
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
        let selector = |decoration: &str, pattern: &str| Selector {
            kind: "doublestar".into(),
            decoration: decoration.into(),
            pattern: pattern.trim().into(),
        };
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
        let join = |list: &[Selector]| {
            list.iter()
                .map(|s| match s.decoration.as_str() {
                    "excludes" | "repoExcludes" => format!("not {}", s.pattern),
                    _ => s.pattern.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        (
            join(&self.scope_selectors.repository),
            join(&self.tag_selectors),
        )
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
