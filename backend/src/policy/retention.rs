//! Tag retention policies in Harbor's shape, evaluated per tag.
//!
//! A repository is in scope when some enabled rule's repository selectors accept it. Every tag
//! there (and every untagged artifact) is a unit; a unit is retained when any rule (algorithm
//! `or`) selects and keeps it, and deleted otherwise. Untagged artifacts are only ever kept by a
//! rule whose tag selector has `extras {"untagged": true}`. Harbor decides per artifact, so tags
//! sharing a digest surprise its users; deciding per tag removes that surprise.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::selector::{ScopeSelectors, Selector, SelectorError, accepts_all};

/// The templates a rule may use, with the parameter each one reads.
pub const TEMPLATES: [(&str, Option<&str>, &str); 6] = [
    (
        "latestPushedK",
        Some("latestPushedK"),
        "retain the most recently pushed # tags",
    ),
    (
        "latestPulledN",
        Some("latestPulledN"),
        "retain the most recently pulled # tags",
    ),
    (
        "latestActiveK",
        Some("latestActiveK"),
        "retain the most recently pushed or pulled # tags",
    ),
    (
        "nDaysSinceLastPush",
        Some("nDaysSinceLastPush"),
        "retain tags pushed within the last # days",
    ),
    (
        "nDaysSinceLastPull",
        Some("nDaysSinceLastPull"),
        "retain tags pulled within the last # days",
    ),
    ("always", None, "retain always"),
];

/// Most rules a policy may hold (Harbor's limit).
pub const MAX_RULES: usize = 15;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct RetentionRule {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default = "retain")]
    pub action: String,
    pub template: String,
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub tag_selectors: Vec<Selector>,
    #[serde(default)]
    pub scope_selectors: ScopeSelectors,
}

fn retain() -> String {
    "retain".into()
}

/// `trigger` of a policy: `{"kind": "Schedule", "settings": {"cron": ".."}}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct RetentionTrigger {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub references: serde_json::Map<String, serde_json::Value>,
}

/// `scope` of a policy: `{"level": "project", "ref": <project id>}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct RetentionScope {
    pub level: String,
    #[serde(rename = "ref")]
    pub reference: i64,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct RetentionPolicy {
    #[serde(default)]
    pub id: i64,
    #[serde(default = "or")]
    pub algorithm: String,
    #[serde(default)]
    pub rules: Vec<RetentionRule>,
    #[serde(default)]
    pub trigger: RetentionTrigger,
    pub scope: RetentionScope,
}

fn or() -> String {
    "or".into()
}

/// Why a policy is unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RetentionError {
    #[error("algorithm {0:?} is not supported; use \"or\"")]
    Algorithm(String),
    #[error("a policy holds at most {MAX_RULES} rules")]
    TooManyRules,
    #[error("scope must be {{\"level\":\"project\",\"ref\":<project id>}}")]
    Scope,
    #[error("rule action {0:?} is not supported; use \"retain\"")]
    Action(String),
    #[error("rule template {0:?} is not known")]
    Template(String),
    #[error("rule template {template} needs a non-negative integer parameter {param}")]
    Param { template: String, param: String },
    #[error(transparent)]
    Selector(#[from] SelectorError),
}

/// One thing retention decides on: a tag, or an untagged artifact (`tag` is `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct RetentionUnit {
    pub tag: Option<String>,
    pub digest: String,
    /// When the tag last moved to this artifact (the artifact's push time when untagged).
    pub pushed_at: DateTime<Utc>,
    pub pulled_at: Option<DateTime<Utc>>,
}

impl RetentionPolicy {
    /// The cron of a scheduled trigger, if any.
    pub fn cron(&self) -> Option<String> {
        (self.trigger.kind == "Schedule")
            .then(|| {
                self.trigger
                    .settings
                    .get("cron")?
                    .as_str()
                    .map(str::to_owned)
            })
            .flatten()
            .filter(|c| !c.trim().is_empty())
    }

    /// Checks the policy.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), RetentionError> {
        if self.algorithm != "or" {
            return Err(RetentionError::Algorithm(self.algorithm.clone()));
        }
        if self.rules.len() > MAX_RULES {
            return Err(RetentionError::TooManyRules);
        }
        if self.scope.level != "project" || self.scope.reference <= 0 {
            return Err(RetentionError::Scope);
        }
        for rule in &self.rules {
            rule.validate()?;
        }
        Ok(())
    }

    /// Whether repository `repository` (the name inside its project) is in scope.
    pub fn covers(&self, repository: &str) -> bool {
        self.rules
            .iter()
            .any(|r| !r.disabled && accepts_all(&r.scope_selectors.repository, repository))
    }

    /// Decides for every unit of one repository whether it is retained.
    pub fn retained(
        &self,
        repository: &str,
        units: &[RetentionUnit],
        now: DateTime<Utc>,
    ) -> Vec<bool> {
        let mut keep = vec![false; units.len()];
        for rule in self.rules.iter().filter(|r| !r.disabled) {
            if !accepts_all(&rule.scope_selectors.repository, repository) {
                continue;
            }
            for index in rule.keeps(units, now) {
                keep[index] = true;
            }
        }
        keep
    }
}

impl RetentionRule {
    fn validate(&self) -> Result<(), RetentionError> {
        if self.action != "retain" {
            return Err(RetentionError::Action(self.action.clone()));
        }
        let Some((_, param, _)) = TEMPLATES.iter().find(|(t, _, _)| *t == self.template) else {
            return Err(RetentionError::Template(self.template.clone()));
        };
        if let Some(param) = param
            && self.number(param).is_none()
        {
            return Err(RetentionError::Param {
                template: self.template.clone(),
                param: (*param).to_owned(),
            });
        }
        for s in &self.tag_selectors {
            s.validate(&["matches", "excludes"])?;
        }
        for s in &self.scope_selectors.repository {
            s.validate(&["repoMatches", "repoExcludes"])?;
        }
        Ok(())
    }

    fn number(&self, param: &str) -> Option<u64> {
        let value = self.params.get(param)?;
        value
            .as_u64()
            .or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .or_else(|| value.as_str()?.parse().ok())
    }

    fn selects(&self, unit: &RetentionUnit) -> bool {
        match &unit.tag {
            Some(tag) => accepts_all(&self.tag_selectors, tag),
            None => self
                .tag_selectors
                .iter()
                .any(|s| s.untagged().unwrap_or(false)),
        }
    }

    /// Indexes of the units this rule keeps.
    fn keeps(&self, units: &[RetentionUnit], now: DateTime<Utc>) -> Vec<usize> {
        let mut selected: Vec<usize> = (0..units.len())
            .filter(|&i| self.selects(&units[i]))
            .collect();
        let count = |param: &str| self.number(param).unwrap_or(0) as usize;
        let days = |param: &str| now - Duration::days(self.number(param).unwrap_or(0) as i64);
        match self.template.as_str() {
            "always" => selected,
            "latestPushedK" => {
                selected.sort_by(|&a, &b| units[b].pushed_at.cmp(&units[a].pushed_at));
                selected.truncate(count("latestPushedK"));
                selected
            }
            "latestPulledN" => {
                selected.retain(|&i| units[i].pulled_at.is_some());
                selected.sort_by(|&a, &b| units[b].pulled_at.cmp(&units[a].pulled_at));
                selected.truncate(count("latestPulledN"));
                selected
            }
            "latestActiveK" => {
                let active = |i: usize| {
                    units[i]
                        .pulled_at
                        .map_or(units[i].pushed_at, |p| p.max(units[i].pushed_at))
                };
                selected.sort_by_key(|&i| std::cmp::Reverse(active(i)));
                selected.truncate(count("latestActiveK"));
                selected
            }
            "nDaysSinceLastPush" => {
                let since = days("nDaysSinceLastPush");
                selected.retain(|&i| units[i].pushed_at >= since);
                selected
            }
            "nDaysSinceLastPull" => {
                let since = days("nDaysSinceLastPull");
                selected.retain(|&i| units[i].pulled_at.is_some_and(|p| p >= since));
                selected
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(
        tag: Option<&str>,
        pushed_days_ago: i64,
        pulled_days_ago: Option<i64>,
    ) -> RetentionUnit {
        let now = Utc::now();
        RetentionUnit {
            tag: tag.map(str::to_owned),
            digest: format!("sha256:{}", tag.unwrap_or("none")),
            pushed_at: now - Duration::days(pushed_days_ago),
            pulled_at: pulled_days_ago.map(|d| now - Duration::days(d)),
        }
    }

    fn policy(rules: serde_json::Value) -> RetentionPolicy {
        serde_json::from_value(serde_json::json!({
            "algorithm": "or", "rules": rules, "scope": {"level": "project", "ref": 1}
        }))
        .expect("policy parses")
    }

    fn rule(
        template: &str,
        params: serde_json::Value,
        tags: &str,
        untagged: bool,
    ) -> serde_json::Value {
        serde_json::json!({
            "action": "retain", "template": template, "params": params,
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": tags,
                               "extras": format!("{{\"untagged\":{untagged}}}")}],
            "scope_selectors": {"repository": [
                {"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}
        })
    }

    #[test]
    fn latest_pushed_k_keeps_newest_per_tag() {
        let p = policy(serde_json::json!([rule(
            "latestPushedK",
            serde_json::json!({"latestPushedK": 2}),
            "**",
            false
        )]));
        assert_eq!(p.validate(), Ok(()));
        let units = [
            unit(Some("a"), 5, None),
            unit(Some("b"), 1, None),
            unit(Some("c"), 3, None),
            unit(None, 0, None),
        ];
        assert_eq!(
            p.retained("app", &units, Utc::now()),
            vec![false, true, true, false]
        );
    }

    #[test]
    fn templates_and_union_of_rules() {
        let p = policy(serde_json::json!([
            rule(
                "nDaysSinceLastPull",
                serde_json::json!({"nDaysSinceLastPull": 7}),
                "**",
                false
            ),
            rule("always", serde_json::json!({}), "release-*", false),
            rule(
                "latestPulledN",
                serde_json::json!({"latestPulledN": 1}),
                "**",
                true
            ),
        ]));
        assert_eq!(p.validate(), Ok(()));
        let units = [
            unit(Some("dev-1"), 30, Some(3)),
            unit(Some("dev-2"), 30, Some(20)),
            unit(Some("release-1"), 90, None),
            unit(None, 30, Some(1)),
        ];
        assert_eq!(
            p.retained("app", &units, Utc::now()),
            vec![true, false, true, true]
        );
    }

    #[test]
    fn invalid_policies_are_refused() {
        let p = policy(serde_json::json!([rule(
            "latestPushedK",
            serde_json::json!({}),
            "**",
            false
        )]));
        assert!(matches!(p.validate(), Err(RetentionError::Param { .. })));
        let p = policy(serde_json::json!([rule(
            "sometimes",
            serde_json::json!({}),
            "**",
            false
        )]));
        assert_eq!(
            p.validate(),
            Err(RetentionError::Template("sometimes".into()))
        );
    }
}
