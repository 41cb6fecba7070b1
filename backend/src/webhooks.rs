//! Webhooks: events about artifacts and quotas, sent to the endpoints of webhook policies.
//!
//! An event is matched against the enabled policies of its project; each (policy, target) pair becomes a delivery row and a `WEBHOOK` job, so deliveries survive
//! restarts, retry with back-off and keep a log like any job. Payloads follow Harbor's formats
//! (`Default` and CloudEvents 1.0 for `http` targets, a text message for `slack`); a target may
//! also hold a secret, and its deliveries are then signed with HMAC-SHA256.

use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::db::entities::{webhook_delivery, webhook_policy};
use crate::jobs::{JobQueue, NewJob, kinds};

/// The event types Berth sends, as Harbor names them.
pub const EVENT_TYPES: &[&str] = &[
    "PUSH_ARTIFACT",
    "PULL_ARTIFACT",
    "DELETE_ARTIFACT",
    "QUOTA_EXCEED",
];

/// The header that carries a signed delivery's HMAC-SHA256 (hex) of the body.
pub const SIGNATURE_HEADER: &str = "X-Berth-Signature-256";

/// Where a policy sends its events.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Target {
    /// `http` or `slack`.
    #[serde(rename = "type", default = "http")]
    pub kind: String,
    /// The URL events are POSTed to.
    pub address: String,
    /// Sent as the `Authorization` header; write-only (`*****` in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    #[serde(default)]
    pub skip_cert_verify: bool,
    /// `Default` or `CloudEvents` (http targets).
    #[serde(default = "default_format")]
    pub payload_format: String,
    /// When set, each delivery is signed: `X-Berth-Signature-256: sha256=<hex HMAC of the
    /// body>`. Write-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn http() -> String {
    "http".into()
}

fn default_format() -> String {
    "Default".into()
}

impl Target {
    /// Checks the target's fields; the message names what is wrong.
    ///
    /// # Errors
    /// An unknown type or format, or an address that is not an http(s) URL.
    pub fn check(&self) -> Result<(), String> {
        if !matches!(self.kind.as_str(), "http" | "slack") {
            return Err(format!("target type {:?} is not http or slack", self.kind));
        }
        if !matches!(self.payload_format.as_str(), "Default" | "CloudEvents") {
            return Err(format!(
                "payload_format {:?} is not Default or CloudEvents",
                self.payload_format
            ));
        }
        let url = url::Url::parse(&self.address)
            .map_err(|e| format!("target address {:?} is not a URL: {e}", self.address))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "target address {:?} must be an http(s) URL",
                self.address
            ));
        }
        Ok(())
    }
}

/// One artifact an event is about.
#[derive(Clone, Debug, Serialize)]
pub struct Resource {
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub resource_url: String,
}

/// Something that happened in a project.
#[derive(Clone, Debug)]
pub struct Event {
    pub kind: &'static str,
    pub project_id: i64,
    pub project_name: String,
    pub public: bool,
    pub operator: String,
    /// The repository's full name (`project/path`).
    pub repository: Option<String>,
    pub resources: Vec<Resource>,
    pub custom_attributes: Option<Value>,
}

impl Event {
    fn event_data(&self) -> Value {
        let mut data = json!({ "resources": self.resources });
        if let Some(full) = &self.repository {
            let name = full.split_once('/').map_or(full.as_str(), |(_, n)| n);
            data["repository"] = json!({
                "name": name,
                "namespace": self.project_name,
                "repo_full_name": full,
                "repo_type": if self.public { "public" } else { "private" },
            });
        }
        if let Some(attributes) = &self.custom_attributes {
            data["custom_attributes"] = attributes.clone();
        }
        data
    }

    /// The CloudEvents type of the event.
    fn cloud_type(&self) -> &'static str {
        match self.kind {
            "PUSH_ARTIFACT" => "harbor.artifact.pushed",
            "PULL_ARTIFACT" => "harbor.artifact.pulled",
            "DELETE_ARTIFACT" => "harbor.artifact.deleted",
            "QUOTA_EXCEED" => "harbor.quota.exceeded",
            _ => "harbor.event",
        }
    }

    /// The body sent to `target` of policy `policy_id`, and its content type.
    pub fn payload(&self, target: &Target, policy_id: i64) -> (String, &'static str) {
        let now = Utc::now();
        if target.kind == "slack" {
            let what = self
                .resources
                .iter()
                .map(|r| r.resource_url.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let text = format!(
                "*{}* in project `{}` by `{}` at {}{}",
                self.kind,
                self.project_name,
                self.operator,
                now.to_rfc3339(),
                if what.is_empty() {
                    String::new()
                } else {
                    format!(": {what}")
                }
            );
            return (json!({ "text": text }).to_string(), "application/json");
        }
        if target.payload_format == "CloudEvents" {
            let body = json!({
                "specversion": "1.0",
                "id": uuid::Uuid::new_v4().to_string(),
                "source": format!("/projects/{}/webhook/policies/{policy_id}", self.project_id),
                "type": self.cloud_type(),
                "time": now.to_rfc3339(),
                "datacontenttype": "application/json",
                "operator": self.operator,
                "data": self.event_data(),
            });
            return (body.to_string(), "application/cloudevents+json");
        }
        let body = json!({
            "type": self.kind,
            "occur_at": now.timestamp(),
            "operator": self.operator,
            "event_data": self.event_data(),
        });
        (body.to_string(), "application/json")
    }
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Reads a policy's stored targets.
pub fn targets(policy: &webhook_policy::Model) -> Vec<Target> {
    serde_json::from_str(&policy.targets).unwrap_or_default()
}

/// Reads a policy's stored event types.
pub fn event_types(policy: &webhook_policy::Model) -> Vec<String> {
    serde_json::from_str(&policy.event_types).unwrap_or_default()
}

/// Whether an enabled policy of project `project_id` may want events of `kind`: a cheap test
/// before an event is built.
pub async fn wanted(db: &impl ConnectionTrait, project_id: i64, kind: &str) -> bool {
    use sea_orm::PaginatorTrait;
    webhook_policy::Entity::find()
        .filter(webhook_policy::Column::Enabled.eq(true))
        .filter(webhook_policy::Column::ProjectId.eq(project_id))
        .filter(webhook_policy::Column::EventTypes.contains(kind))
        .count(db)
        .await
        .is_ok_and(|n| n > 0)
}

/// Queues a delivery of `event` to every target of every enabled policy that subscribes to it.
/// Failures are logged, never returned: an event must not fail the request that caused it.
pub async fn emit(db: &impl ConnectionTrait, jobs: &JobQueue, event: Event) {
    if let Err(e) = try_emit(db, jobs, &event).await {
        tracing::warn!(error = %e, event = event.kind, project = %event.project_name, "queueing webhook deliveries failed");
    }
}

async fn try_emit(
    db: &impl ConnectionTrait,
    jobs: &JobQueue,
    event: &Event,
) -> Result<(), sea_orm::DbErr> {
    let policies = webhook_policy::Entity::find()
        .filter(webhook_policy::Column::Enabled.eq(true))
        .filter(webhook_policy::Column::ProjectId.eq(event.project_id))
        .all(db)
        .await?;
    for policy in policies {
        if !event_types(&policy).iter().any(|t| t == event.kind) {
            continue;
        }
        for (index, target) in targets(&policy).iter().enumerate() {
            let (body, content_type) = event.payload(target, policy.id);
            let delivery = webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
                policy_id: Set(policy.id),
                job_id: Set(None),
                event_type: Set(event.kind.to_owned()),
                address: Set(target.address.clone()),
                created_at: Set(Utc::now()),
                ..Default::default()
            })
            .exec(db)
            .await?
            .last_insert_id;
            let mut job = NewJob::manual(
                kinds::WEBHOOK,
                json!({
                    "delivery_id": delivery,
                    "policy_id": policy.id,
                    "target": index,
                    "event_type": event.kind,
                    "content_type": content_type,
                    "body": body,
                }),
            );
            job.timeout = std::time::Duration::from_secs(60);
            if let Some(queued) = jobs.enqueue(job).await? {
                webhook_delivery::Entity::update_many()
                    .col_expr(
                        webhook_delivery::Column::JobId,
                        sea_orm::sea_query::Expr::value(queued.id),
                    )
                    .filter(webhook_delivery::Column::Id.eq(delivery))
                    .exec(db)
                    .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            kind: "PUSH_ARTIFACT",
            project_id: 7,
            project_name: "team".into(),
            public: false,
            operator: "alice".into(),
            repository: Some("team/app".into()),
            resources: vec![Resource {
                digest: "sha256:abc".into(),
                tag: Some("v1".into()),
                resource_url: "reg.example/team/app:v1".into(),
            }],
            custom_attributes: None,
        }
    }

    fn target(format: &str) -> Target {
        Target {
            kind: "http".into(),
            address: "https://hooks.example/in".into(),
            auth_header: None,
            skip_cert_verify: false,
            payload_format: format.into(),
            secret: None,
        }
    }

    #[test]
    fn default_payload_has_harbors_shape() {
        let (body, content_type) = event().payload(&target("Default"), 3);
        assert_eq!(content_type, "application/json");
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["type"], "PUSH_ARTIFACT");
        assert_eq!(body["operator"], "alice");
        assert!(body["occur_at"].as_i64().expect("occur_at") > 0);
        let data = &body["event_data"];
        assert_eq!(data["resources"][0]["tag"], "v1");
        assert_eq!(data["repository"]["name"], "app");
        assert_eq!(data["repository"]["namespace"], "team");
        assert_eq!(data["repository"]["repo_full_name"], "team/app");
        assert_eq!(data["repository"]["repo_type"], "private");
    }

    #[test]
    fn cloud_events_payload_is_structured_mode() {
        let (body, content_type) = event().payload(&target("CloudEvents"), 3);
        assert_eq!(content_type, "application/cloudevents+json");
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["specversion"], "1.0");
        assert_eq!(body["type"], "harbor.artifact.pushed");
        assert_eq!(body["source"], "/projects/7/webhook/policies/3");
        assert_eq!(body["data"]["resources"][0]["digest"], "sha256:abc");
        assert!(uuid::Uuid::parse_str(body["id"].as_str().expect("id")).is_ok());
    }

    #[test]
    fn signatures_are_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn targets_are_checked() {
        assert!(target("Default").check().is_ok());
        assert!(target("Xml").check().is_err());
        let mut bad = target("Default");
        bad.address = "ftp://x".into();
        assert!(bad.check().is_err());
        bad.kind = "email".into();
        assert!(bad.check().is_err());
    }
}
