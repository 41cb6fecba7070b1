//! Runs a project's tag retention policy (`policy_id`, optionally `dry_run`), per tag.
//!
//! Every repository in scope gets a task row and every decision a record (the result log the
//! API serves). Tags protected by an immutability rule are always retained. A tag that is not
//! retained is deleted; an artifact whose tags were all deleted, or an untagged artifact not
//! retained, is deleted with its manifest. Children of an index and referrers of a present
//! subject follow their parent and are not decided on. A retried run skips finished tasks.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use berth::db::entities::{
    manifest, manifest_reference, repository, retention_policy, retention_record, retention_task,
    tag,
};
use berth::jobs::kinds;
use berth::policy::{ImmutableRule, RetentionPolicy, RetentionUnit};
use berth::registry::immutable::{name_in_project, project_rules};
use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{Job, JobContext, JobError};

pub struct Retention;

#[async_trait]
impl Job for Retention {
    fn kind(&self) -> &'static str {
        kinds::RETENTION
    }

    async fn run(&self, ctx: &JobContext) -> Result<String, JobError> {
        let policy_id = ctx
            .params
            .get("policy_id")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| JobError::Params("policy_id is required".into()))?;
        let dry_run = ctx
            .params
            .get("dry_run")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let row = retention_policy::Entity::find_by_id(policy_id)
            .one(&ctx.state.db)
            .await?
            .ok_or_else(|| {
                JobError::Params(format!("retention policy {policy_id} does not exist"))
            })?;
        let policy: RetentionPolicy = serde_json::from_str(&row.policy)
            .map_err(|e| JobError::Params(format!("stored policy is unreadable: {e}")))?;
        let rules = project_rules(&ctx.state.db, row.project_id).await?;
        let repositories = repository::Entity::find()
            .filter(repository::Column::ProjectId.eq(row.project_id))
            .order_by_asc(repository::Column::Name)
            .all(&ctx.state.db)
            .await?;
        let (mut retained, mut deleted) = (0, 0);
        for repo in repositories {
            if !policy.covers(name_in_project(&repo.name)) {
                continue;
            }
            if ctx.should_stop() {
                return Err(JobError::Interrupted(format!("{deleted} deleted so far")));
            }
            let Some(task_id) = open_task(ctx, &repo.name).await? else {
                continue;
            };
            let (kept, removed) =
                run_repository(ctx, &policy, &rules, &repo, task_id, dry_run).await?;
            retained += kept;
            deleted += removed;
        }
        let verb = if dry_run { "would delete" } else { "deleted" };
        Ok(format!("retained {retained}, {verb} {deleted}"))
    }
}

/// Creates the task of `repository` for this run; `None` when a previous attempt finished it.
async fn open_task(ctx: &JobContext, repository: &str) -> Result<Option<i64>, JobError> {
    let db = &ctx.state.db;
    let existing = retention_task::Entity::find()
        .filter(retention_task::Column::JobId.eq(ctx.job.id))
        .filter(retention_task::Column::Repository.eq(repository))
        .one(db)
        .await?;
    if let Some(task) = existing {
        if task.status == "Success" {
            return Ok(None);
        }
        // An interrupted attempt: start the repository again from a clean log.
        retention_record::Entity::delete_many()
            .filter(retention_record::Column::TaskId.eq(task.id))
            .exec(db)
            .await?;
        return Ok(Some(task.id));
    }
    let now = Utc::now();
    let inserted = retention_task::Entity::insert(retention_task::ActiveModel {
        job_id: Set(ctx.job.id),
        repository: Set(repository.to_owned()),
        status: Set("Running".into()),
        total: Set(0),
        retained: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(Some(inserted.last_insert_id))
}

struct Artifact {
    row: manifest::Model,
    tags: Vec<tag::Model>,
}

async fn run_repository(
    ctx: &JobContext,
    policy: &RetentionPolicy,
    rules: &[ImmutableRule],
    repo: &repository::Model,
    task_id: i64,
    dry_run: bool,
) -> Result<(i32, i32), JobError> {
    let db = &ctx.state.db;
    let inner = name_in_project(&repo.name);
    let manifests = manifest::Entity::find()
        .filter(manifest::Column::RepositoryId.eq(repo.id))
        .all(db)
        .await?;
    let tags = tag::Entity::find()
        .filter(tag::Column::RepositoryId.eq(repo.id))
        .all(db)
        .await?;
    let ids: Vec<i64> = manifests.iter().map(|m| m.id).collect();
    let children: HashSet<String> = manifest_reference::Entity::find()
        .filter(manifest_reference::Column::ManifestId.is_in(ids))
        .filter(manifest_reference::Column::Kind.eq("manifest"))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.digest)
        .collect();
    let digests: HashSet<String> = manifests.iter().map(|m| m.digest.clone()).collect();
    let mut by_id: HashMap<i64, Artifact> = manifests
        .into_iter()
        .map(|m| {
            (
                m.id,
                Artifact {
                    row: m,
                    tags: Vec::new(),
                },
            )
        })
        .collect();
    for t in tags {
        if let Some(a) = by_id.get_mut(&t.manifest_id) {
            a.tags.push(t);
        }
    }
    let mut units = Vec::new();
    let mut owners = Vec::new();
    for (id, a) in &by_id {
        let follows_parent = children.contains(&a.row.digest)
            || a.row
                .subject_digest
                .as_ref()
                .is_some_and(|s| digests.contains(s));
        if a.tags.is_empty() && follows_parent {
            continue;
        }
        if a.tags.is_empty() {
            units.push(RetentionUnit {
                tag: None,
                digest: a.row.digest.clone(),
                pushed_at: a.row.created_at,
                pulled_at: a.row.pulled_at,
            });
            owners.push(*id);
        }
        for t in &a.tags {
            units.push(RetentionUnit {
                tag: Some(t.name.clone()),
                digest: a.row.digest.clone(),
                pushed_at: t.updated_at,
                pulled_at: a.row.pulled_at,
            });
            owners.push(*id);
        }
    }
    let mut keep = policy.retained(inner, &units, Utc::now());
    for (i, unit) in units.iter().enumerate() {
        if let Some(tag) = &unit.tag
            && rules.iter().any(|r| r.protects(inner, tag))
        {
            keep[i] = true;
        }
    }

    let mut records = Vec::new();
    let mut removed_tags: HashMap<i64, usize> = HashMap::new();
    for (i, unit) in units.iter().enumerate() {
        let action = if keep[i] { "RETAIN" } else { "DEL" };
        records.push(retention_record::ActiveModel {
            task_id: Set(task_id),
            digest: Set(unit.digest.clone()),
            tags: Set(unit.tag.clone().unwrap_or_default()),
            pushed_at: Set(Some(unit.pushed_at)),
            pulled_at: Set(unit.pulled_at),
            action: Set(action.into()),
            ..Default::default()
        });
        if keep[i] || dry_run {
            continue;
        }
        match &unit.tag {
            Some(tag) => {
                delete(ctx, &repo.name, tag).await?;
                *removed_tags.entry(owners[i]).or_default() += 1;
            }
            None => delete(ctx, &repo.name, &unit.digest).await?,
        }
    }
    for (id, removed) in removed_tags {
        let a = &by_id[&id];
        if removed == a.tags.len() {
            delete(ctx, &repo.name, &a.row.digest).await?;
        }
    }
    let kept = keep.iter().filter(|k| **k).count() as i32;
    let total = units.len() as i32;
    for batch in records.chunks(200) {
        retention_record::Entity::insert_many(batch.to_vec())
            .exec(db)
            .await?;
    }
    retention_task::Entity::update_many()
        .col_expr(retention_task::Column::Status, Expr::value("Success"))
        .col_expr(retention_task::Column::Total, Expr::value(total))
        .col_expr(retention_task::Column::Retained, Expr::value(kept))
        .col_expr(retention_task::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(retention_task::Column::Id.eq(task_id))
        .exec(db)
        .await?;
    ctx.info(format!(
        "{}: {total} tags and untagged artifacts, {kept} retained",
        repo.name
    ))
    .await;
    Ok((kept, total - kept))
}

/// Deletes a tag or manifest; one already gone (an earlier attempt deleted it) is fine.
async fn delete(ctx: &JobContext, repository: &str, reference: &str) -> Result<(), JobError> {
    match ctx
        .state
        .registry
        .delete_manifest(repository, reference)
        .await
    {
        Ok(()) | Err(berth::registry::RegistryError::ManifestUnknown(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
