//! The audit log: who changed what, when, and whether it worked.
//!
//! Every mutating REST call is recorded by [`record_mutations`], a middleware around
//! `/api/v2.0`, with the operator and project that the handler resolved on the way (see
//! [`note_operator`] and [`note_project`]). Logins, logouts and `/v2` pushes, pulls and deletes
//! are recorded by their handlers through [`record`].

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{DatabaseConnection, DbBackend, DbErr, EntityTrait};

use crate::app::AppState;
use crate::auth::Principal;
use crate::db::entities::audit_log;

/// One audit entry before it is stored.
pub struct Entry<'a> {
    pub operator: &'a str,
    pub project_id: Option<i64>,
    pub operation: &'a str,
    pub resource_type: &'a str,
    pub resource: &'a str,
    pub success: bool,
}

/// Audit inserts of this process, one at a time on SQLite. SQLite has a single writer: inserts
/// racing from several pooled connections (every pull writes one) collide, and the loser sleeps
/// in SQLite's busy handler (1 ms, then 2, 5, 10 ms...), which set the pull's tail latency.
/// Waiting here instead wakes the next insert as soon as the previous one commits.
static SQLITE_AUDIT_WRITES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Stores an audit entry.
///
/// # Errors
/// Database failures.
pub async fn record(db: &DatabaseConnection, entry: Entry<'_>) -> Result<(), DbErr> {
    record_all(db, vec![entry.into_model()]).await
}

/// Stores several audit entries in one statement (the pull log's groups).
///
/// # Errors
/// Database failures; then none of them is stored.
pub async fn record_all(
    db: &DatabaseConnection,
    entries: Vec<audit_log::ActiveModel>,
) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let _turn = match db.get_database_backend() {
        DbBackend::Sqlite => Some(SQLITE_AUDIT_WRITES.lock().await),
        _ => None,
    };
    audit_log::Entity::insert_many(entries).exec(db).await?;
    Ok(())
}

impl Entry<'_> {
    /// The row this entry becomes, stamped with the current time.
    pub fn into_model(self) -> audit_log::ActiveModel {
        audit_log::ActiveModel {
            project_id: Set(self.project_id),
            operator: Set(if self.operator.is_empty() {
                "anonymous".into()
            } else {
                self.operator.to_owned()
            }),
            operation: Set(self.operation.to_owned()),
            resource_type: Set(self.resource_type.to_owned()),
            resource: Set(self.resource.to_owned()),
            success: Set(self.success),
            op_time: Set(Utc::now()),
            ..Default::default()
        }
    }
}

/// Stores an entry, logging (not returning) a failure: the call it describes already happened.
pub async fn record_quietly(db: &DatabaseConnection, entry: Entry<'_>) {
    if let Err(error) = record(db, entry).await {
        tracing::error!(%error, "audit entry could not be stored");
    }
}

#[derive(Clone)]
struct Operator(String);

#[derive(Clone, Copy)]
struct Project(i64);

/// Remembers who the request acts for, for its audit entry.
pub fn note_operator(req: &HttpRequest, principal: &Principal) {
    req.extensions_mut()
        .insert(Operator(principal.name().to_owned()));
}

/// Remembers which project the request touched, for its audit entry.
pub fn note_project(req: &HttpRequest, project_id: i64) {
    req.extensions_mut().insert(Project(project_id));
}

/// The audit operation of a method; `None` for reads.
fn operation(method: &Method) -> Option<&'static str> {
    match *method {
        Method::POST => Some("create"),
        Method::PUT | Method::PATCH => Some("update"),
        Method::DELETE => Some("delete"),
        _ => None,
    }
}

/// The kind of resource a REST path addresses: the last collection named in it, singular
/// (`/projects/p/repositories/r/artifacts/d` is an `artifact`).
pub fn resource_type(path: &str) -> String {
    let rest = path.strip_prefix("/api/v2.0/").unwrap_or(path);
    let collection = rest
        .split('/')
        .step_by(2)
        .filter(|s| !s.is_empty())
        .last()
        .unwrap_or("");
    if let Some(stem) = collection.strip_suffix("ies") {
        format!("{stem}y")
    } else if collection == "metadatas" {
        "metadata".into()
    } else {
        collection
            .strip_suffix('s')
            .unwrap_or(collection)
            .to_owned()
    }
}

/// Records every mutating call under `/api/v2.0` once its response is ready.
pub async fn record_mutations(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody>,
) -> Result<ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let Some(operation) = operation(req.method()) else {
        return next.call(req).await;
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let operator = res.request().extensions().get::<Operator>().cloned();
        let project = res.request().extensions().get::<Project>().copied();
        let entry = Entry {
            operator: operator.as_ref().map_or("", |o| o.0.as_str()),
            project_id: project.map(|p| p.0),
            operation,
            resource_type: &resource_type(&path),
            resource: &path,
            success: res.status().as_u16() < 400,
        };
        record_quietly(&state.db, entry).await;
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_come_from_the_last_collection() {
        assert_eq!(resource_type("/api/v2.0/projects"), "project");
        assert_eq!(resource_type("/api/v2.0/projects/p1/members/3"), "member");
        assert_eq!(
            resource_type("/api/v2.0/projects/p/repositories/r/artifacts/sha256:ab/tags"),
            "tag"
        );
        assert_eq!(
            resource_type("/api/v2.0/projects/p/repositories/r"),
            "repository"
        );
        assert_eq!(
            resource_type("/api/v2.0/projects/p/metadatas/auto_scan"),
            "metadata"
        );
        assert_eq!(resource_type("/api/v2.0/robots/7"), "robot");
    }
}
