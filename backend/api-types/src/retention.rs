//! Tag retention of a project (`/retentions`): the policy, its rules and its runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::immutable::{ScopeSelectors, Selector, patterns};

/// One rule: which tags of which repositories it keeps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionRule {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub disabled: bool,
    pub action: String,
    pub template: String,
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    #[serde(default)]
    pub tag_selectors: Vec<Selector>,
    #[serde(default)]
    pub scope_selectors: ScopeSelectors,
}

/// When the policy runs by itself: `{"kind": "Schedule", "settings": {"cron": ".."}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionTrigger {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub settings: BTreeMap<String, Value>,
}

/// The project a policy belongs to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionScope {
    pub level: String,
    #[serde(rename = "ref")]
    pub reference: i64,
}

/// A project's retention policy: a tag is kept when any enabled rule keeps it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    #[serde(default)]
    pub id: i64,
    pub algorithm: String,
    #[serde(default)]
    pub rules: Vec<RetentionRule>,
    #[serde(default)]
    pub trigger: RetentionTrigger,
    pub scope: RetentionScope,
}

/// A rule template of `GET /retentions/metadatas`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionTemplate {
    pub rule_template: String,
    /// With `#` where the parameter goes.
    pub display_text: String,
    #[serde(default)]
    pub params: Vec<RetentionParam>,
}

/// The parameter a template reads (a count or a number of days).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionParam {
    pub name: String,
}

/// `GET /retentions/metadatas` (the selector kinds are fixed and not read).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionMetadata {
    pub templates: Vec<RetentionTemplate>,
}

/// One run of a policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionExecution {
    pub id: i64,
    pub status: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
    /// The summary or the last error.
    #[serde(default)]
    pub message: Option<String>,
}

/// The part of a run that handled one repository.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionTask {
    pub id: i64,
    pub repository: String,
    pub status: String,
    /// Tags and untagged artifacts the repository held.
    pub total: i32,
    pub retained: i32,
}

/// The body of `POST /retentions/{id}/executions`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetentionRun {
    pub dry_run: bool,
}

impl RetentionRule {
    /// A rule of `template` (with its parameter `param` set to `value`, when it has one) over
    /// the tags matching `tags` in the repositories matching `repositories`; `untagged` keeps
    /// untagged artifacts too.
    pub fn new(
        template: &RetentionTemplate,
        value: Option<i64>,
        repositories: &str,
        tags: &str,
        untagged: bool,
    ) -> Self {
        let params = match (template.params.first(), value) {
            (Some(param), Some(value)) => {
                BTreeMap::from([(param.name.clone(), Value::from(value))])
            }
            _ => BTreeMap::new(),
        };
        let mut tag_selector = Selector::doublestar("matches", tags);
        tag_selector.extras = Some(Value::String(format!("{{\"untagged\":{untagged}}}")));
        Self {
            id: 0,
            priority: 0,
            disabled: false,
            action: "retain".into(),
            template: template.rule_template.clone(),
            params,
            tag_selectors: vec![tag_selector],
            scope_selectors: ScopeSelectors {
                repository: vec![Selector::doublestar("repoMatches", repositories)],
            },
        }
    }

    /// What the rule keeps, in words: the template's text with its parameter filled in.
    pub fn describe(&self, templates: &[RetentionTemplate]) -> String {
        let Some(template) = templates.iter().find(|t| t.rule_template == self.template) else {
            return self.template.clone();
        };
        let value = self
            .params
            .values()
            .next()
            .map(|v| v.to_string())
            .unwrap_or_default();
        template.display_text.replace('#', &value)
    }

    /// The patterns as people read them: `(repositories, tags)`, joined when several.
    pub fn patterns(&self) -> (String, String) {
        patterns(&self.scope_selectors, &self.tag_selectors)
    }

    /// Whether the rule also keeps untagged artifacts.
    pub fn keeps_untagged(&self) -> bool {
        self.tag_selectors.iter().any(|s| {
            let extras = match &s.extras {
                Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
                Some(other) => other.clone(),
                None => Value::Null,
            };
            extras["untagged"] == Value::Bool(true)
        })
    }
}

impl RetentionPolicy {
    /// A policy of project `project_id` with no rules and no schedule.
    pub fn for_project(project_id: i64) -> Self {
        Self {
            id: 0,
            algorithm: "or".into(),
            rules: Vec::new(),
            trigger: RetentionTrigger {
                kind: "Schedule".into(),
                settings: BTreeMap::from([("cron".to_owned(), Value::from(""))]),
            },
            scope: RetentionScope {
                level: "project".into(),
                reference: project_id,
            },
        }
    }

    /// The schedule's cron expression; empty when the policy only runs when asked.
    pub fn cron(&self) -> String {
        self.trigger
            .settings
            .get("cron")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// Sets the schedule (empty for none).
    pub fn set_cron(&mut self, cron: &str) {
        self.trigger.kind = "Schedule".into();
        self.trigger
            .settings
            .insert("cron".into(), Value::from(cron.trim()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> RetentionTemplate {
        RetentionTemplate {
            rule_template: "latestPushedK".into(),
            display_text: "retain the most recently pushed # tags".into(),
            params: vec![RetentionParam {
                name: "latestPushedK".into(),
            }],
        }
    }

    #[test]
    fn a_new_rule_has_harbors_shape_and_reads_back() {
        let rule = RetentionRule::new(&template(), Some(3), "app/**", " v* ", true);
        let body = serde_json::to_value(&rule).expect("serializes");
        assert_eq!(body["template"], "latestPushedK");
        assert_eq!(body["params"]["latestPushedK"], 3);
        assert_eq!(body["tag_selectors"][0]["decoration"], "matches");
        assert_eq!(body["tag_selectors"][0]["pattern"], "v*");
        assert_eq!(body["tag_selectors"][0]["extras"], "{\"untagged\":true}");
        assert_eq!(
            body["scope_selectors"]["repository"][0]["decoration"],
            "repoMatches"
        );
        assert!(rule.keeps_untagged());
        assert_eq!(
            rule.describe(&[template()]),
            "retain the most recently pushed 3 tags"
        );
        assert_eq!(rule.patterns(), ("app/**".to_owned(), "v*".to_owned()));
        let without = RetentionRule::new(&template(), Some(3), "**", "**", false);
        assert!(!without.keeps_untagged());
    }

    #[test]
    fn extras_given_as_an_object_are_understood() {
        let rule: RetentionRule = serde_json::from_value(serde_json::json!({
            "action": "retain", "template": "always",
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**",
                               "extras": {"untagged": true}}]
        }))
        .expect("parses");
        assert!(rule.keeps_untagged());
        assert_eq!(rule.describe(&[]), "always");
    }

    #[test]
    fn a_new_policy_has_an_empty_schedule_that_can_be_set() {
        let mut policy = RetentionPolicy::for_project(7);
        assert_eq!(policy.cron(), "");
        policy.set_cron(" 0 0 * * * * ");
        let body = serde_json::to_value(&policy).expect("serializes");
        assert_eq!(
            body["scope"],
            serde_json::json!({"level": "project", "ref": 7})
        );
        assert_eq!(body["trigger"]["settings"]["cron"], "0 0 * * * *");
        assert_eq!(body["algorithm"], "or");
    }
}
