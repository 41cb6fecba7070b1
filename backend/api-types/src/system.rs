//! System information and health.

use serde::{Deserialize, Serialize};

/// `GET /systeminfo`. Anonymous callers get only the fields a sign-in page needs; the others
/// are present for signed-in callers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneralInfo {
    pub harbor_version: String,
    /// `db_auth` for local accounts.
    pub auth_mode: String,
    #[serde(default)]
    pub primary_auth_mode: bool,
    #[serde(default)]
    pub self_registration: bool,
    #[serde(default)]
    pub banner_message: String,
    #[serde(default)]
    pub current_time: String,
    /// `everyone` or `adminonly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_creation_restriction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_storage_provider_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_ca_root: Option<bool>,
}

/// `GET /health`: overall status and one entry per component.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub components: Vec<HealthComponent>,
}

/// The status of one component (`database`, `storage`, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthComponent {
    pub name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
