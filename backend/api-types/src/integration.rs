//! Registry endpoints (for proxy-cache projects) and webhook policies.

use serde::{Deserialize, Serialize};

/// How Berth signs in to a registry endpoint. The secret is `*****` in responses when set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCredential {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_secret: Option<String>,
}

/// `GET /registries`: an upstream registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub credential: RegistryCredential,
    #[serde(default)]
    pub creation_time: String,
}

/// `POST /registries`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegistry {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub insecure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<RegistryCredential>,
}

/// `POST /registries/ping`: a stored endpoint by id, or the fields of a new one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryPing {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_secret: Option<String>,
}

/// Where a webhook policy sends events; `auth_header` and `secret` are `*****` when set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    #[serde(default)]
    pub skip_cert_verify: bool,
    pub payload_format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// `GET /projects/{p}/webhook/policies`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPolicy {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub enabled: bool,
    pub event_types: Vec<String>,
    pub targets: Vec<WebhookTarget>,
    #[serde(default)]
    pub creator: String,
    #[serde(default)]
    pub creation_time: String,
}

/// `POST`/`PUT /projects/{p}/webhook/policies[/{id}]`; absent fields stay as they are on PUT.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPolicyReq {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<WebhookTarget>>,
}

/// `GET .../webhook/policies/{id}/executions`: one event sent to one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookExecution {
    pub id: i64,
    pub event_type: String,
    pub address: String,
    pub status: String,
    #[serde(default)]
    pub status_text: String,
    #[serde(default)]
    pub attempts: i32,
    #[serde(default)]
    pub creation_time: String,
}

/// `GET /projects/{p}/webhook/events`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvents {
    pub event_type: Vec<String>,
    pub notify_type: Vec<String>,
}
