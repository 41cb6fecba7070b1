//! Robot account rules without HTTP: naming, expiry, secrets, and creation within the
//! creator's rights.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::auth::robot::{self, PermissionError, ROBOT_PREFIX, RobotLevel, RobotPermission};
use crate::auth::{Principal, next_credential_version, password};
use crate::db::entities::{project, project_member, robot as robot_row};
use crate::names;

/// Why a robot operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RobotError {
    #[error("robot name {0:?} is invalid: use lower case letters, digits and . _ -")]
    NameInvalid(String),
    #[error("robot {0} already exists")]
    Exists(String),
    #[error("duration must be -1 (never expires) or a number of days from 1")]
    DurationInvalid,
    #[error("secret: {0}")]
    SecretWeak(&'static str),
    #[error(transparent)]
    Permission(#[from] PermissionError),
    #[error("project {0} not found")]
    ProjectUnknown(String),
    #[error("robots may only grant permissions they hold themselves")]
    BeyondCreator,
    #[error("the name and level of a robot cannot change")]
    Immutable,
    #[error("robot {0} not found")]
    NotFound(i64),
    #[error("stored robot permissions are corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("hashing the secret failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// What a robot is created with.
pub struct NewRobot {
    pub name: String,
    pub description: String,
    pub level: RobotLevel,
    pub duration: Option<i64>,
    pub disabled: bool,
    pub secret: Option<String>,
    pub permissions: Vec<RobotPermission>,
}

/// A robot just created, with the secret shown this once.
pub struct CreatedRobot {
    pub row: robot_row::Model,
    pub secret: String,
}

/// When a robot of `duration` days created at `created` expires (`None`: never).
pub fn expiry(created: DateTime<Utc>, duration: i64) -> Option<DateTime<Utc>> {
    (duration > 0).then(|| created + Duration::days(duration))
}

fn check_duration(duration: i64) -> Result<(), RobotError> {
    if duration == -1 || (1..=365_000).contains(&duration) {
        Ok(())
    } else {
        Err(RobotError::DurationInvalid)
    }
}

fn hash_secret(secret: &str) -> Result<String, RobotError> {
    password::check_policy(secret).map_err(RobotError::SecretWeak)?;
    password::hash(secret).map_err(|e| RobotError::Hash(e.to_string()))
}

/// The single project of a project-level permission list.
fn project_namespace(permissions: &[RobotPermission]) -> Option<&str> {
    permissions
        .iter()
        .find(|p| p.kind == "project")
        .map(|p| p.namespace.as_str())
}

/// A robot caller may only hand out what it holds; users are checked by RBAC beforehand.
fn check_creator(creator: &Principal, permissions: &[RobotPermission]) -> Result<(), RobotError> {
    match creator.robot() {
        Some(robot) if !robot.covers(permissions) => Err(RobotError::BeyondCreator),
        _ => Ok(()),
    }
}

/// Creates a robot account in one transaction; `default_duration` applies when none is given.
///
/// # Errors
/// Invalid name, duration, secret or permissions, unknown projects, a name already taken, a
/// robot creator granting beyond its rights, or database failures.
pub async fn create(
    db: &DatabaseConnection,
    creator: &Principal,
    new: NewRobot,
    default_duration: i64,
) -> Result<CreatedRobot, RobotError> {
    if !names::is_valid_project(&new.name) {
        return Err(RobotError::NameInvalid(new.name));
    }
    let duration = new.duration.filter(|d| *d != 0).unwrap_or(default_duration);
    check_duration(duration)?;
    robot::validate(new.level, &new.permissions)?;
    check_creator(creator, &new.permissions)?;
    let secret = new.secret.unwrap_or_else(robot::generate_secret);
    let secret_hash = hash_secret(&secret)?;
    let txn = crate::db::begin_write(db).await?;
    for permission in new
        .permissions
        .iter()
        .filter(|p| p.kind == "project" && p.namespace != "*")
    {
        let found = project::Entity::find()
            .filter(project::Column::Name.eq(&permission.namespace))
            .one(&txn)
            .await?;
        if found.is_none() {
            return Err(RobotError::ProjectUnknown(permission.namespace.clone()));
        }
    }
    let (full_name, project_id) = match new.level {
        RobotLevel::System => (format!("{ROBOT_PREFIX}{}", new.name), None),
        RobotLevel::Project => {
            let namespace = project_namespace(&new.permissions).unwrap_or_default();
            let project = project::Entity::find()
                .filter(project::Column::Name.eq(namespace))
                .one(&txn)
                .await?
                .ok_or_else(|| RobotError::ProjectUnknown(namespace.to_owned()))?;
            (
                format!("{ROBOT_PREFIX}{}+{}", project.name, new.name),
                Some(project.id),
            )
        }
    };
    let now = Utc::now();
    let (creator_type, creator_ref) = match creator {
        Principal::Robot(robot) => ("robot", robot.name.clone()),
        other => ("local", other.name().to_owned()),
    };
    let inserted = robot_row::Entity::insert(robot_row::ActiveModel {
        name: Set(full_name.clone()),
        description: Set(new.description),
        secret_hash: Set(secret_hash),
        level: Set(new.level.as_str().to_owned()),
        project_id: Set(project_id),
        disabled: Set(new.disabled),
        duration: Set(duration),
        expires_at: Set(expiry(now, duration)),
        permissions: Set(serde_json::to_string(&new.permissions)?),
        creator_type: Set(creator_type.to_owned()),
        creator_ref: Set(creator_ref),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await;
    let id = match inserted {
        Ok(row) => row.last_insert_id,
        Err(e) if crate::db::is_unique_violation(&e) => return Err(RobotError::Exists(full_name)),
        Err(e) => return Err(e.into()),
    };
    let row = robot_row::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(RobotError::NotFound(id))?;
    txn.commit().await?;
    Ok(CreatedRobot { row, secret })
}

/// Loads a robot row.
///
/// # Errors
/// Unknown id or database failures.
pub async fn find(db: &DatabaseConnection, id: i64) -> Result<robot_row::Model, RobotError> {
    robot_row::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(RobotError::NotFound(id))
}

/// What an update may change.
pub struct RobotUpdate {
    pub name: Option<String>,
    pub level: Option<RobotLevel>,
    pub description: Option<String>,
    pub duration: Option<i64>,
    pub disabled: Option<bool>,
    pub permissions: Option<Vec<RobotPermission>>,
}

/// Updates description, duration (expiry counts from creation), disabled flag and permissions.
///
/// # Errors
/// A changed name or level, an invalid duration or permissions, a robot caller granting beyond
/// its rights, or database failures.
pub async fn update(
    db: &DatabaseConnection,
    caller: &Principal,
    row: &robot_row::Model,
    change: RobotUpdate,
) -> Result<(), RobotError> {
    let short_name = row
        .name
        .rsplit_once('+')
        .map_or(row.name.trim_start_matches(ROBOT_PREFIX), |(_, n)| n);
    let renamed = change
        .name
        .as_deref()
        .is_some_and(|n| n != row.name && n != short_name);
    let relevelled = change.level.is_some_and(|l| l.as_str() != row.level);
    if renamed || relevelled {
        return Err(RobotError::Immutable);
    }
    let level = RobotLevel::parse(&row.level).unwrap_or(RobotLevel::Project);
    let mut update = robot_row::Entity::update_many()
        .col_expr(robot_row::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            robot_row::Column::CredentialVersion,
            next_credential_version(robot_row::Column::CredentialVersion),
        )
        .filter(robot_row::Column::Id.eq(row.id));
    if let Some(permissions) = &change.permissions {
        robot::validate(level, permissions)?;
        check_creator(caller, permissions)?;
        if level == RobotLevel::Project
            && !row.name.starts_with(&format!(
                "{ROBOT_PREFIX}{}+",
                project_namespace(permissions).unwrap_or_default()
            ))
        {
            return Err(RobotError::Immutable);
        }
        let json = serde_json::to_string(permissions)?;
        update = update.col_expr(robot_row::Column::Permissions, Expr::value(json));
    }
    if let Some(duration) = change.duration {
        check_duration(duration)?;
        update = update
            .col_expr(robot_row::Column::Duration, Expr::value(duration))
            .col_expr(
                robot_row::Column::ExpiresAt,
                Expr::value(expiry(row.created_at, duration)),
            );
    }
    if let Some(description) = change.description {
        update = update.col_expr(robot_row::Column::Description, Expr::value(description));
    }
    if let Some(disabled) = change.disabled {
        update = update.col_expr(robot_row::Column::Disabled, Expr::value(disabled));
    }
    update.exec(db).await?;
    Ok(())
}

/// Replaces a robot's secret with `secret`, or a generated one; returns the new secret.
///
/// # Errors
/// A secret that fails the policy, or database failures.
pub async fn refresh_secret(
    db: &DatabaseConnection,
    row: &robot_row::Model,
    secret: Option<String>,
) -> Result<String, RobotError> {
    let secret = secret
        .filter(|s| !s.is_empty())
        .unwrap_or_else(robot::generate_secret);
    let hash = hash_secret(&secret)?;
    robot_row::Entity::update_many()
        .col_expr(robot_row::Column::SecretHash, Expr::value(hash))
        .col_expr(robot_row::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(
            robot_row::Column::CredentialVersion,
            next_credential_version(robot_row::Column::CredentialVersion),
        )
        .filter(robot_row::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(secret)
}

/// Deletes a robot account.
///
/// # Errors
/// Database failures.
pub async fn delete(db: &DatabaseConnection, row: &robot_row::Model) -> Result<(), RobotError> {
    let txn = crate::db::begin_write(db).await?;
    project_member::Entity::delete_many()
        .filter(project_member::Column::EntityType.eq("r"))
        .filter(project_member::Column::EntityId.eq(row.id))
        .exec(&txn)
        .await?;
    robot_row::Entity::delete_by_id(row.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}
