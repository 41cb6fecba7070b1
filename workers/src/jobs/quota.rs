//! Rebuilds projects' quota charges from their manifests (all projects, or `project_id`).

use async_trait::async_trait;
use berth::db::entities::project;
use berth::jobs::kinds;
use sea_orm::{EntityTrait, QueryOrder};

use crate::{Job, JobContext, JobError};

pub struct QuotaRecalculation;

#[async_trait]
impl Job for QuotaRecalculation {
    fn kind(&self) -> &'static str {
        kinds::QUOTA_RECALCULATION
    }

    async fn run(&self, ctx: &JobContext) -> Result<String, JobError> {
        let projects = match ctx.params.get("project_id").and_then(|v| v.as_i64()) {
            Some(id) => project::Entity::find_by_id(id).all(&ctx.state.db).await?,
            None => {
                project::Entity::find()
                    .order_by_asc(project::Column::Id)
                    .all(&ctx.state.db)
                    .await?
            }
        };
        let mut changed = 0;
        for (done, project) in projects.iter().enumerate() {
            if ctx.should_stop() {
                return Err(JobError::Interrupted(format!("{done} projects")));
            }
            let (before, after) = ctx.state.registry.recalculate_quota(project.id).await?;
            if before != after {
                changed += 1;
                ctx.info(format!(
                    "project {}: usage corrected from {before} to {after} bytes",
                    project.name
                ))
                .await;
            }
        }
        Ok(format!(
            "recalculated {} projects, {changed} corrected",
            projects.len()
        ))
    }
}
