//! Settings administrators change at run time through `/api/v2.0/configurations`.
//!
//! Each setting starts from the configuration file's value; a change is stored as a system
//! property (`config.<key>`) so every replica reads the same value on the next request.
//! Settings marked `secret` are write-only: `PUT` stores them, reads only say whether one is set,
//! and only [`secret`] hands the value to the code that uses it (as a [`SecretString`]). The
//! machinery takes the catalogue as a parameter, so it is the same for every secret setting.

use std::collections::BTreeMap;

use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use secrecy::SecretString;
use serde_json::Value;

use crate::config::{Config, ProjectCreation};
use crate::db::entities::system_property;

const PREFIX: &str = "config.";

/// How a setting's value is typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKind {
    Bool,
    Int,
    Text,
    /// One of a fixed list.
    Choice(&'static [&'static str]),
}

/// One setting of the catalogue.
pub struct Setting {
    pub key: &'static str,
    pub kind: SettingKind,
    pub editable: bool,
    /// Write-only: never included in what `/configurations` shows.
    pub secret: bool,
    pub description: &'static str,
}

/// Every setting, with whether administrators may change it at run time.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "auth_mode",
        kind: SettingKind::Choice(&["db_auth"]),
        editable: false,
        secret: false,
        description: "How users authenticate: the local database",
    },
    Setting {
        key: "project_creation_restriction",
        kind: SettingKind::Choice(&["everyone", "adminonly"]),
        editable: true,
        secret: false,
        description: "Who may create projects",
    },
    Setting {
        key: "self_registration",
        kind: SettingKind::Bool,
        editable: true,
        secret: false,
        description: "Whether anyone may sign up",
    },
    Setting {
        key: "robot_token_duration",
        kind: SettingKind::Int,
        editable: true,
        secret: false,
        description: "Default lifetime of new robot accounts in days (-1: never expire)",
    },
    Setting {
        key: "robot_name_prefix",
        kind: SettingKind::Text,
        editable: false,
        secret: false,
        description: "The prefix of robot account names",
    },
    Setting {
        key: "token_expiration",
        kind: SettingKind::Int,
        editable: false,
        secret: false,
        description: "Lifetime of registry tokens in minutes (from the configuration file)",
    },
    Setting {
        key: "session_timeout",
        kind: SettingKind::Int,
        editable: false,
        secret: false,
        description: "Idle lifetime of console sessions in minutes (from the configuration file)",
    },
    Setting {
        key: "banner_message",
        kind: SettingKind::Text,
        editable: true,
        secret: false,
        description: "A message the console shows every user",
    },
];

/// Why a settings change is refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown setting {0}")]
    Unknown(String),
    #[error("setting {0} cannot be changed at run time")]
    ReadOnly(&'static str),
    #[error("setting {key} must be {expected}")]
    Invalid { key: &'static str, expected: String },
    #[error(transparent)]
    Database(#[from] DbErr),
}

fn defaults(config: &Config) -> BTreeMap<&'static str, Value> {
    let auth = &config.auth;
    BTreeMap::from([
        ("auth_mode", Value::from("db_auth")),
        (
            "project_creation_restriction",
            Value::from(match auth.project_creation {
                ProjectCreation::Everyone => "everyone",
                ProjectCreation::Adminonly => "adminonly",
            }),
        ),
        ("self_registration", Value::from(auth.self_registration)),
        (
            "robot_token_duration",
            Value::from(auth.robot_duration_days),
        ),
        (
            "robot_name_prefix",
            Value::from(crate::auth::robot::ROBOT_PREFIX),
        ),
        ("token_expiration", Value::from(auth.token_ttl_seconds / 60)),
        (
            "session_timeout",
            Value::from(auth.session_ttl_seconds / 60),
        ),
        ("banner_message", Value::from("")),
    ])
}

/// Every non-secret setting's current value (secret settings are never part of it).
///
/// # Errors
/// Database failures.
pub async fn current(
    db: &DatabaseConnection,
    config: &Config,
) -> Result<BTreeMap<&'static str, Value>, DbErr> {
    let mut values = defaults(config);
    let stored = system_property::Entity::find()
        .filter(system_property::Column::Name.starts_with(PREFIX))
        .all(db)
        .await?;
    for row in stored {
        let key = row.name.trim_start_matches(PREFIX);
        if let Some(value) = values.get_mut(key) {
            *value = serde_json::from_str(&row.value).unwrap_or(Value::String(row.value));
        }
    }
    Ok(values)
}

/// How `GET /configurations` shows one setting.
#[derive(Debug, PartialEq)]
pub struct Shown {
    /// The value; `None` for a secret setting, which is never shown.
    pub value: Option<Value>,
    pub editable: bool,
    /// For a secret setting, whether a value is stored; `None` for the others.
    pub is_set: Option<bool>,
}

/// Every setting of `catalogue` as administrators see it: values of ordinary settings, only
/// set/unset for secret ones.
///
/// # Errors
/// Database failures.
pub async fn shown(
    db: &DatabaseConnection,
    config: &Config,
    catalogue: &'static [Setting],
) -> Result<BTreeMap<&'static str, Shown>, DbErr> {
    let values = current(db, config).await?;
    let stored = system_property::Entity::find()
        .filter(system_property::Column::Name.starts_with(PREFIX))
        .all(db)
        .await?;
    let is_stored = |key: &str| {
        stored
            .iter()
            .any(|row| row.name.strip_prefix(PREFIX) == Some(key) && !row.value.is_empty())
    };
    Ok(catalogue
        .iter()
        .map(|s| {
            let item = if s.secret {
                Shown {
                    value: None,
                    editable: s.editable,
                    is_set: Some(is_stored(s.key)),
                }
            } else {
                Shown {
                    value: Some(values.get(s.key).cloned().unwrap_or(Value::Null)),
                    editable: s.editable,
                    is_set: None,
                }
            };
            (s.key, item)
        })
        .collect())
}

/// The stored value of the secret setting `key`, for the code that uses it.
///
/// # Errors
/// Database failures.
pub async fn secret(db: &DatabaseConnection, key: &str) -> Result<Option<SecretString>, DbErr> {
    let row = system_property::Entity::find_by_id(format!("{PREFIX}{key}"))
        .one(db)
        .await?;
    Ok(row
        .map(|r| r.value)
        .filter(|v| !v.is_empty())
        .map(SecretString::from))
}

fn check(setting: &'static Setting, value: &Value) -> Result<(), SettingsError> {
    let invalid = |expected: String| SettingsError::Invalid {
        key: setting.key,
        expected,
    };
    if setting.secret {
        return if value.is_string() || value.is_null() {
            Ok(())
        } else {
            Err(invalid("a string (empty or null clears it)".into()))
        };
    }
    match setting.kind {
        SettingKind::Bool if !value.is_boolean() => Err(invalid("true or false".into())),
        SettingKind::Int if !value.is_i64() => Err(invalid("an integer".into())),
        SettingKind::Text if !value.is_string() => Err(invalid("a string".into())),
        SettingKind::Choice(choices) if !value.as_str().is_some_and(|v| choices.contains(&v)) => {
            Err(invalid(format!("one of {}", choices.join(", "))))
        }
        _ if setting.key == "robot_token_duration"
            && !value.as_i64().is_some_and(|d| d == -1 || d >= 1) =>
        {
            Err(invalid("-1 or a number of days from 1".into()))
        }
        _ => Ok(()),
    }
}

/// Validates and stores a change of several settings at once: all or nothing.
///
/// # Errors
/// An unknown or read-only key, a value of the wrong type, or a database failure.
pub async fn update(
    db: &DatabaseConnection,
    catalogue: &'static [Setting],
    changes: &serde_json::Map<String, Value>,
) -> Result<(), SettingsError> {
    let mut checked = Vec::new();
    for (key, value) in changes {
        let setting = catalogue
            .iter()
            .find(|s| s.key == key)
            .ok_or_else(|| SettingsError::Unknown(key.clone()))?;
        if !setting.editable {
            return Err(SettingsError::ReadOnly(setting.key));
        }
        check(setting, value)?;
        let stored = if setting.secret {
            // Kept as the bare text, so [`secret`] hands it over unchanged; empty means unset.
            value.as_str().unwrap_or_default().to_owned()
        } else {
            value.to_string()
        };
        checked.push((setting.key, stored));
    }
    let txn = crate::db::begin_write(db).await?;
    for (key, value) in checked {
        store(&txn, key, value).await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn store(db: &impl ConnectionTrait, key: &str, value: String) -> Result<(), DbErr> {
    system_property::Entity::insert(system_property::ActiveModel {
        name: Set(format!("{PREFIX}{key}")),
        value: Set(value),
    })
    .on_conflict(
        OnConflict::column(system_property::Column::Name)
            .update_column(system_property::Column::Value)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Who may create projects now.
///
/// # Errors
/// Database failures.
pub async fn project_creation(
    db: &DatabaseConnection,
    config: &Config,
) -> Result<ProjectCreation, DbErr> {
    let values = current(db, config).await?;
    Ok(
        match values
            .get("project_creation_restriction")
            .and_then(Value::as_str)
        {
            Some("adminonly") => ProjectCreation::Adminonly,
            _ => ProjectCreation::Everyone,
        },
    )
}

/// Whether self-registration is open now.
///
/// # Errors
/// Database failures.
pub async fn self_registration(db: &DatabaseConnection, config: &Config) -> Result<bool, DbErr> {
    let values = current(db, config).await?;
    Ok(values
        .get("self_registration")
        .and_then(Value::as_bool)
        .unwrap_or(config.auth.self_registration))
}

/// The default lifetime of new robots, in days.
///
/// # Errors
/// Database failures.
pub async fn robot_duration_days(db: &DatabaseConnection, config: &Config) -> Result<i64, DbErr> {
    let values = current(db, config).await?;
    Ok(values
        .get("robot_token_duration")
        .and_then(Value::as_i64)
        .unwrap_or(config.auth.robot_duration_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(key: &str) -> &'static Setting {
        SETTINGS.iter().find(|s| s.key == key).expect("setting")
    }

    #[test]
    fn values_are_checked_by_kind() {
        assert!(check(setting("self_registration"), &Value::from(true)).is_ok());
        assert!(check(setting("self_registration"), &Value::from("yes")).is_err());
        assert!(
            check(
                setting("project_creation_restriction"),
                &Value::from("adminonly")
            )
            .is_ok()
        );
        assert!(
            check(
                setting("project_creation_restriction"),
                &Value::from("nobody")
            )
            .is_err()
        );
        assert!(check(setting("robot_token_duration"), &Value::from(-1)).is_ok());
        assert!(check(setting("robot_token_duration"), &Value::from(0)).is_err());
    }

    /// A catalogue with a write-only setting, exercising the same code every secret setting
    /// goes through.
    const WITH_SECRET: &[Setting] = &[
        Setting {
            key: "banner_message",
            kind: SettingKind::Text,
            editable: true,
            secret: false,
            description: "A message the console shows every user",
        },
        Setting {
            key: "upstream_password",
            kind: SettingKind::Text,
            editable: true,
            secret: true,
            description: "A password Berth presents elsewhere",
        },
    ];

    #[tokio::test]
    async fn secret_settings_are_write_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.server.data_dir = dir.path().to_owned();
        let db = crate::db::connect_and_migrate(&config)
            .await
            .expect("database");
        let view = shown(&db, &config, WITH_SECRET).await.expect("shown");
        assert_eq!(
            view["upstream_password"],
            Shown {
                value: None,
                editable: true,
                is_set: Some(false)
            }
        );
        assert_eq!(
            view["banner_message"].value,
            Some(Value::from("")),
            "ordinary settings show their value"
        );

        let changes = serde_json::json!({"upstream_password": "s3cr3t!", "banner_message": "hi"});
        update(&db, WITH_SECRET, changes.as_object().expect("object"))
            .await
            .expect("update");
        let view = shown(&db, &config, WITH_SECRET).await.expect("shown");
        assert_eq!(view["upstream_password"].is_set, Some(true));
        assert_eq!(view["upstream_password"].value, None, "never shown");
        assert!(
            !current(&db, &config)
                .await
                .expect("current")
                .values()
                .any(|v| v == "s3cr3t!"),
            "nor part of the values other code reads"
        );
        let stored = secret(&db, "upstream_password").await.expect("secret");
        assert_eq!(
            stored.as_ref().map(secrecy::ExposeSecret::expose_secret),
            Some("s3cr3t!")
        );

        let wrong = serde_json::json!({"upstream_password": 42});
        assert!(matches!(
            update(&db, WITH_SECRET, wrong.as_object().expect("object")).await,
            Err(SettingsError::Invalid { .. })
        ));
        let clear = serde_json::json!({"upstream_password": null});
        update(&db, WITH_SECRET, clear.as_object().expect("object"))
            .await
            .expect("clear");
        assert!(
            secret(&db, "upstream_password")
                .await
                .expect("secret")
                .is_none()
        );
        let view = shown(&db, &config, WITH_SECRET).await.expect("shown");
        assert_eq!(view["upstream_password"].is_set, Some(false));
    }

    #[test]
    fn every_default_is_in_the_catalogue() {
        let values = defaults(&Config::default());
        let shown: Vec<_> = SETTINGS.iter().filter(|s| !s.secret).collect();
        assert_eq!(values.len(), shown.len(), "secret settings have no default");
        assert!(shown.iter().all(|s| values.contains_key(s.key)));
    }
}
