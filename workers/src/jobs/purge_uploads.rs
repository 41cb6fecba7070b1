//! Removes upload sessions idle longer than `registry.upload_max_age_seconds`.

use async_trait::async_trait;
use berth::jobs::kinds;

use crate::{Job, JobContext, JobError};

pub struct PurgeUploads;

#[async_trait]
impl Job for PurgeUploads {
    fn kind(&self) -> &'static str {
        kinds::PURGE_UPLOADS
    }

    fn exclusive(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &JobContext) -> Result<String, JobError> {
        let max_age = ctx.state.config.registry.upload_max_age_seconds;
        let removed = ctx.state.registry.purge_stale_uploads(max_age).await?;
        Ok(format!(
            "removed {} stale upload sessions and {} abandoned storage uploads",
            removed.sessions, removed.abandoned
        ))
    }
}
