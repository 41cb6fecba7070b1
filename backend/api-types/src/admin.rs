//! Administration: garbage collection, the job service, audit logs and global search.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A schedule as Harbor sends it: `None`, `Manual`, `Hourly`, `Daily`, `Weekly` or `Custom`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub cron: String,
}

/// `GET /system/gc/schedule` and the body of `POST`/`PUT` on it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GcSchedule {
    pub schedule: Schedule,
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

impl GcSchedule {
    /// A run now, as a dry run or for real, optionally deleting untagged artifacts.
    pub fn run_now(dry_run: bool, delete_untagged: bool) -> Self {
        let mut parameters = Map::new();
        parameters.insert("dry_run".into(), Value::Bool(dry_run));
        parameters.insert("delete_untagged".into(), Value::Bool(delete_untagged));
        Self {
            schedule: Schedule {
                kind: "Manual".into(),
                cron: String::new(),
            },
            parameters,
        }
    }

    /// Whether a boolean parameter is set.
    pub fn flag(&self, name: &str) -> bool {
        self.parameters
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// One garbage collection run (`GET /system/gc`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GcRun {
    pub id: i64,
    /// `MANUAL` or `SCHEDULE`.
    #[serde(default)]
    pub job_kind: String,
    /// The parameters as a JSON string (Harbor's shape).
    #[serde(default)]
    pub job_parameters: String,
    #[serde(default)]
    pub job_status: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub update_time: String,
    #[serde(default)]
    pub progress: Value,
    #[serde(default)]
    pub message: Option<String>,
}

impl GcRun {
    /// Whether the run only reported what it would free.
    pub fn dry_run(&self) -> bool {
        serde_json::from_str::<Value>(&self.job_parameters)
            .ok()
            .and_then(|p| p.get("dry_run").and_then(Value::as_bool))
            .unwrap_or(false)
    }
}

/// A job of the durable queue (`GET /jobservice/jobs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub job_type: String,
    pub status: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub parameters: Value,
    #[serde(default)]
    pub attempt: i32,
    #[serde(default)]
    pub max_attempts: i32,
    #[serde(default)]
    pub progress: Value,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub start_time: Option<String>,
    #[serde(default)]
    pub end_time: Option<String>,
}

/// A job queue: one per job type (`GET /jobservice/queues`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub job_type: String,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub paused: bool,
}

/// The body of `PUT /jobservice/queues/{type}` and `PUT /jobservice/jobs/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobAction {
    /// `pause`, `resume` or `stop`.
    pub action: String,
}

/// Progress counters as `name: value` pairs, for display.
pub fn progress_pairs(progress: &Value) -> Vec<(String, String)> {
    match progress {
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null() && !v.is_object() && !v.is_array())
            .map(|(k, v)| {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), shown)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One setting of `GET /configurations`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigItem {
    /// A string, number or boolean, by setting.
    pub value: Value,
    #[serde(default)]
    pub editable: bool,
}

/// Reads what a person typed for a setting whose current value is `current`: a number for a
/// numeric setting (`None` when it does not parse), the text otherwise.
pub fn typed_setting(current: &Value, input: &str) -> Option<Value> {
    match current {
        Value::Number(_) => input
            .trim()
            .parse::<i64>()
            .ok()
            .map(Value::from)
            .or_else(|| input.trim().parse::<f64>().ok().map(Value::from)),
        Value::Bool(_) => input.trim().parse::<bool>().ok().map(Value::Bool),
        _ => Some(Value::String(input.to_owned())),
    }
}

/// An audit log entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLog {
    pub id: i64,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub operation: String,
    #[serde(default)]
    pub resource_type: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    pub op_time: String,
}

/// Builds the `q` of an audit log query from the filled-in filters (`k=~v` matches parts).
pub fn audit_query(username: &str, operation: &str, resource: &str) -> String {
    [
        ("username", username),
        ("operation", operation),
        ("resource", resource),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| {
        if k == "operation" {
            format!("{k}={}", v.trim())
        } else {
            format!("{k}=~{}", v.trim())
        }
    })
    .collect::<Vec<_>>()
    .join(",")
}

/// A project found by `GET /search`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectHit {
    pub project_id: i64,
    pub name: String,
    #[serde(default)]
    pub public: bool,
}

/// A repository found by `GET /search`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryHit {
    pub project_name: String,
    /// Full name, `<project>/<path>`.
    pub repository_name: String,
    #[serde(default)]
    pub artifact_count: u64,
    #[serde(default)]
    pub pull_count: i64,
}

/// What `GET /search?q=` found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    #[serde(default)]
    pub project: Vec<ProjectHit>,
    #[serde(default)]
    pub repository: Vec<RepositoryHit>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_now_carries_its_flags() {
        let run = GcSchedule::run_now(true, false);
        assert_eq!(run.schedule.kind, "Manual");
        assert!(run.flag("dry_run"));
        assert!(!run.flag("delete_untagged"));
        let body = serde_json::to_value(&run).expect("serializes");
        assert_eq!(body["schedule"]["type"], "Manual");
    }

    #[test]
    fn reads_dry_run_from_harbor_parameters() {
        let run = GcRun {
            job_parameters: r#"{"dry_run":true}"#.into(),
            ..GcRun::default()
        };
        assert!(run.dry_run());
        assert!(!GcRun::default().dry_run());
    }

    #[test]
    fn typed_setting_follows_the_current_type() {
        assert_eq!(
            typed_setting(&Value::from(30), " 45 "),
            Some(Value::from(45))
        );
        assert_eq!(typed_setting(&Value::from(30), "soon"), None);
        assert_eq!(
            typed_setting(&Value::Bool(false), "true"),
            Some(Value::Bool(true))
        );
        assert_eq!(
            typed_setting(&Value::from("everyone"), "adminonly"),
            Some(Value::from("adminonly"))
        );
    }

    #[test]
    fn audit_query_joins_filled_filters() {
        assert_eq!(audit_query("", "", ""), "");
        assert_eq!(
            audit_query("adm", "create", " app "),
            "username=~adm,operation=create,resource=~app"
        );
    }

    #[test]
    fn progress_pairs_skip_nested_values() {
        let progress: Value =
            serde_json::from_str(r#"{"blobs_deleted":3,"phase":"sweep","checkpoint":{"a":1}}"#)
                .expect("parses");
        assert_eq!(
            progress_pairs(&progress),
            [
                ("blobs_deleted".to_owned(), "3".to_owned()),
                ("phase".to_owned(), "sweep".to_owned())
            ]
        );
    }
}
