//! Project metadata: the policy switches Harbor keeps as string key/values per project.
//!
//! `public` lives in the project row itself; the others in `project_metadata`.

use std::collections::BTreeMap;

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::db::entities::project_metadata;

/// The keys a project may carry, besides `public`.
pub const KEYS: &[&str] = &[
    "enable_content_trust",
    "enable_content_trust_cosign",
    "prevent_vul",
    "severity",
    "auto_scan",
    "auto_sbom_generation",
    "reuse_sys_cve_allowlist",
];

/// The severities `severity` accepts.
/// The project's retention policy, derived from the policies (see [`check`]).
pub const RETENTION_ID: &str = "retention_id";

pub const SEVERITIES: &[&str] = &["none", "low", "medium", "high", "critical"];

/// Checks one key and value; `public` included.
///
/// # Errors
/// The reason, for a 400 answer.
pub fn check(key: &str, value: &str) -> Result<(), String> {
    match key {
        "severity" if SEVERITIES.contains(&value) => Ok(()),
        "severity" => Err(format!("severity must be one of {}", SEVERITIES.join(", "))),
        // Shown in a project's metadata, as in Harbor, and sent back by clients that update a
        // project with what they read; it is derived, so it is accepted and never stored.
        RETENTION_ID if value.parse::<i64>().is_ok() => Ok(()),
        _ if KEYS.contains(&key) || key == "public" => {
            if matches!(value, "true" | "false") {
                Ok(())
            } else {
                Err(format!(
                    "metadata {key} must be \"true\" or \"false\", got {value:?}"
                ))
            }
        }
        _ => Err(format!(
            "unknown metadata {key:?}; use public or one of {}",
            KEYS.join(", ")
        )),
    }
}

/// Checks every entry of a metadata map.
///
/// # Errors
/// The first entry's reason.
pub fn check_all(metadata: &BTreeMap<String, String>) -> Result<(), String> {
    metadata.iter().try_for_each(|(k, v)| check(k, v))
}

/// Stores the entries of `metadata` other than `public`, replacing earlier values.
///
/// # Errors
/// Database failures.
pub async fn store(
    db: &impl ConnectionTrait,
    project_id: i64,
    metadata: &BTreeMap<String, String>,
) -> Result<(), DbErr> {
    for (name, value) in metadata
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "public" | RETENTION_ID))
    {
        project_metadata::Entity::insert(project_metadata::ActiveModel {
            project_id: Set(project_id),
            name: Set(name.clone()),
            value: Set(value.clone()),
        })
        .on_conflict(
            OnConflict::columns([
                project_metadata::Column::ProjectId,
                project_metadata::Column::Name,
            ])
            .update_column(project_metadata::Column::Value)
            .to_owned(),
        )
        .exec(db)
        .await?;
    }
    Ok(())
}

/// The stored entries of a project (without `public`).
///
/// # Errors
/// Database failures.
pub async fn load(
    db: &impl ConnectionTrait,
    project_id: i64,
) -> Result<BTreeMap<String, String>, DbErr> {
    Ok(project_metadata::Entity::find()
        .filter(project_metadata::Column::ProjectId.eq(project_id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.name, m.value))
        .collect())
}

/// Removes one entry; returns whether it existed.
///
/// # Errors
/// Database failures.
pub async fn remove(db: &impl ConnectionTrait, project_id: i64, name: &str) -> Result<bool, DbErr> {
    let deleted = project_metadata::Entity::delete_many()
        .filter(project_metadata::Column::ProjectId.eq(project_id))
        .filter(project_metadata::Column::Name.eq(name))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_checked() {
        assert!(check("public", "true").is_ok());
        assert!(check("auto_scan", "false").is_ok());
        assert!(check("auto_scan", "yes").is_err());
        assert!(check("severity", "high").is_ok());
        assert!(check("severity", "extreme").is_err());
        assert!(check("colour", "blue").is_err());
    }
}
