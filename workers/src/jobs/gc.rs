//! Online garbage collection, in three resumable phases: untagged artifacts (when asked),
//! unreferenced blobs, stale upload sessions with their dangling storage uploads (S3 multipart
//! uploads older than `registry.upload_max_age_seconds`, temporary files). Pushes and pulls
//! continue meanwhile; the rules that make that safe are in `berth::registry::gc`.
//!
//! Parameters (Harbor's): `dry_run` (report only), `delete_untagged`, and Berth's
//! `grace_seconds` (default `workers.gc_grace_seconds`) and `batch_size` (default 500). The
//! checkpoint records the phase and the last id done, so a retried run continues there.

use std::collections::HashSet;

use async_trait::async_trait;
use berth::jobs::kinds;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::{Job, JobContext, JobError};

pub struct GarbageCollection;

#[derive(Debug, Deserialize)]
struct Params {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    delete_untagged: bool,
    grace_seconds: Option<u64>,
    batch_size: Option<u64>,
}

/// The checkpoint and counters, also shown as the job's progress.
#[derive(Debug, Default, Deserialize, Serialize)]
struct Progress {
    /// `untagged`, `blobs`, `uploads` or `done`.
    phase: String,
    /// Last row id handled in the current phase.
    cursor: i64,
    manifests_deleted: u64,
    blobs_deleted: u64,
    bytes_freed: i64,
    uploads_removed: u64,
    /// Dangling S3 multipart uploads (or temporary files) aborted.
    #[serde(default)]
    storage_uploads_aborted: u64,
}

#[async_trait]
impl Job for GarbageCollection {
    fn kind(&self) -> &'static str {
        kinds::GC
    }

    fn exclusive(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &JobContext) -> Result<String, JobError> {
        let params: Params = serde_json::from_value(ctx.params.clone())
            .map_err(|e| JobError::Params(e.to_string()))?;
        let grace = params
            .grace_seconds
            .unwrap_or(ctx.state.config.workers.gc_grace_seconds);
        let batch = params.batch_size.unwrap_or(500).clamp(1, 10_000);
        let cutoff = Utc::now() - chrono::Duration::seconds(grace as i64);
        let mut p: Progress = serde_json::from_value(ctx.progress().await).unwrap_or_default();
        if p.phase.is_empty() {
            p.phase = if params.delete_untagged {
                "untagged"
            } else {
                "blobs"
            }
            .into();
        } else {
            ctx.info(format!(
                "resuming in phase {} after id {}",
                p.phase, p.cursor
            ))
            .await;
        }
        let verb = if params.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        ctx.info(format!(
            "garbage collection started: dry_run={}, delete_untagged={}, grace {grace} s",
            params.dry_run, params.delete_untagged
        ))
        .await;
        let registry = &ctx.state.registry;

        while p.phase == "untagged" {
            stop_point(ctx, &p)?;
            let found = registry
                .gc_untagged_candidates(p.cursor, cutoff, batch)
                .await?;
            let Some(last) = found.last().map(|c| c.id) else {
                next_phase(&mut p, "blobs");
                ctx.checkpoint(serde_json::to_value(&p).unwrap_or_default())
                    .await?;
                break;
            };
            let mut done = Vec::new();
            for candidate in &found {
                if params.dry_run || registry.gc_delete_manifest(candidate, cutoff).await? {
                    p.manifests_deleted += 1;
                    done.push(candidate.digest.clone());
                }
            }
            if !done.is_empty() {
                ctx.info(format!(
                    "{verb} {} untagged manifests: {}",
                    done.len(),
                    done.join(", ")
                ))
                .await;
            }
            p.cursor = last;
            ctx.checkpoint(serde_json::to_value(&p).unwrap_or_default())
                .await?;
        }

        while p.phase == "blobs" {
            stop_point(ctx, &p)?;
            let found = registry.gc_blob_candidates(p.cursor, cutoff, batch).await?;
            let Some(last) = found.last().map(|c| c.id) else {
                next_phase(&mut p, "uploads");
                ctx.checkpoint(serde_json::to_value(&p).unwrap_or_default())
                    .await?;
                break;
            };
            let deleted: HashSet<i64> = if params.dry_run {
                found.iter().map(|c| c.id).collect()
            } else {
                registry
                    .gc_delete_blobs(&found, cutoff)
                    .await?
                    .into_iter()
                    .collect()
            };
            let mut done = Vec::new();
            for candidate in found.iter().filter(|c| deleted.contains(&c.id)) {
                p.blobs_deleted += 1;
                p.bytes_freed += candidate.size;
                done.push(format!("{} ({} bytes)", candidate.digest, candidate.size));
            }
            if !done.is_empty() {
                ctx.info(format!("{verb} {} blobs: {}", done.len(), done.join(", ")))
                    .await;
            }
            p.cursor = last;
            ctx.checkpoint(serde_json::to_value(&p).unwrap_or_default())
                .await?;
        }

        if p.phase == "uploads" {
            if !params.dry_run {
                let max_age = ctx.state.config.registry.upload_max_age_seconds;
                let purged = registry.purge_stale_uploads(max_age).await?;
                p.uploads_removed = purged.sessions as u64;
                p.storage_uploads_aborted = purged.abandoned as u64;
                ctx.info(format!(
                    "removed {} stale upload sessions; aborted {} dangling storage uploads \
                     (S3 multipart uploads or temporary files) older than {max_age} s",
                    purged.sessions, purged.abandoned
                ))
                .await;
            }
            next_phase(&mut p, "done");
            ctx.checkpoint(serde_json::to_value(&p).unwrap_or_default())
                .await?;
        }
        Ok(format!(
            "{verb} {} untagged manifests and {} blobs, {} bytes; removed {} stale upload sessions \
             and {} dangling storage uploads",
            p.manifests_deleted,
            p.blobs_deleted,
            p.bytes_freed,
            p.uploads_removed,
            p.storage_uploads_aborted
        ))
    }
}

fn next_phase(p: &mut Progress, phase: &str) {
    p.phase = phase.into();
    p.cursor = 0;
}

fn stop_point(ctx: &JobContext, p: &Progress) -> Result<(), JobError> {
    if ctx.should_stop() {
        return Err(JobError::Interrupted(format!(
            "phase {} at id {}: {} manifests, {} blobs",
            p.phase, p.cursor, p.manifests_deleted, p.blobs_deleted
        )));
    }
    Ok(())
}
