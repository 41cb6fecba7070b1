//! Garbage collection at scale: seeds a store with (by default) 1,000,000 blobs and 100,000
//! manifests straight through the metadata layer (sea-orm, batched multi-row inserts in
//! transactions) and the filesystem, then runs the real GC job through the real job runner,
//! first as a dry run, then for real, and prints time, rows per second, deleted counts and peak
//! resident memory of each. It measures; it does not pass or fail.
//!
//! The layout, per manifest: one content blob and `layers` layer blobs, linked to its
//! repository and charged to the project. A tenth of the manifests are untagged (GC's
//! `delete_untagged` removes them, which makes their blobs garbage), and a tenth of all blobs
//! are referenced by nothing at all. Blob files are written only for the blobs GC will delete:
//! GC never reads the content of a blob it keeps, and a million 4 KiB files would not fit the
//! disks this runs on.
//!
//! `berth-gc-bench --work DIR [--blobs N] [--manifests N] [--database-url URL]`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use berth::app::AppState;
use berth::config::{Config, Overrides};
use berth::db::entities::{
    blob, job_log, manifest, manifest_reference, project, project_blob, repository,
    repository_blob, tag,
};
use berth::digest::{Algorithm, Digest};
use berth::jobs::{JobStatus, NewJob, kinds};
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, TransactionTrait};

const REPOSITORIES: usize = 1_000;
/// Bound variables per multi-row INSERT, below SQLite's limit of 32,766.
const MAX_VARIABLES: usize = 30_000;

struct Args {
    work: PathBuf,
    blobs: usize,
    manifests: usize,
    database_url: Option<String>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        work: PathBuf::from("/var/tmp/berth-gc-bench"),
        blobs: 1_000_000,
        manifests: 100_000,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--work" => args.work = PathBuf::from(value()?),
            "--blobs" => args.blobs = value()?.parse()?,
            "--manifests" => args.manifests = value()?.parse()?,
            "--database-url" => args.database_url = Some(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    if args.blobs < args.manifests * 3 {
        bail!("--blobs must be at least three times --manifests");
    }
    Ok(args)
}

/// Where each blob index falls: layers first, then manifest contents, then garbage.
struct Layout {
    manifests: usize,
    layers: usize,
    garbage: usize,
}

impl Layout {
    fn new(blobs: usize, manifests: usize) -> Self {
        let garbage = blobs / 10;
        let layers = (blobs - garbage - manifests) / manifests;
        Self {
            manifests,
            layers,
            garbage: blobs - manifests * (layers + 1),
        }
    }

    fn blobs(&self) -> usize {
        self.manifests * (self.layers + 1) + self.garbage
    }

    fn content(&self, m: usize) -> usize {
        self.manifests * self.layers + m
    }

    fn untagged(m: usize) -> bool {
        m % 10 == 9
    }

    /// The manifest that uses blob `b`, if any.
    fn owner(&self, b: usize) -> Option<usize> {
        let layers = self.manifests * self.layers;
        if b < layers {
            Some(b / self.layers)
        } else if b < layers + self.manifests {
            Some(b - layers)
        } else {
            None
        }
    }

    /// Blobs a full GC with `delete_untagged` deletes.
    fn doomed(&self, b: usize) -> bool {
        self.owner(b).is_none_or(Self::untagged)
    }
}

fn digest_of(b: usize) -> Digest {
    Digest::of(Algorithm::Sha256, format!("gc-bench blob {b}").as_bytes())
}

fn content_of(b: usize) -> Vec<u8> {
    format!("gc-bench blob {b}").into_bytes()
}

async fn insert_all<A, E>(db: &DatabaseConnection, rows: Vec<A>) -> anyhow::Result<()>
where
    A: sea_orm::ActiveModelTrait<Entity = E> + Send + Clone,
    E: EntityTrait,
{
    use sea_orm::Iterable;
    let batch = MAX_VARIABLES / E::Column::iter().count();
    let txn = db.begin().await?;
    for chunk in rows.chunks(batch) {
        E::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The first id of a table freshly filled in one go (ids are assigned in insert order).
async fn first_id(db: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT MIN(id) AS id FROM {table}"),
        ))
        .await?
        .context("empty table")?;
    Ok(row.try_get::<i64>("", "id")?)
}

async fn seed(state: &AppState, layout: &Layout, blob_root: &Path) -> anyhow::Result<()> {
    let db = &state.db;
    let old: DateTime<Utc> = Utc::now() - chrono::Duration::days(3);
    let started = Instant::now();
    let mut rows_written = 0usize;

    insert_all(
        db,
        vec![project::ActiveModel {
            name: Set("bench".into()),
            public: Set(false),
            owner_id: Set(1),
            storage_limit: Set(-1),
            created_at: Set(old),
            updated_at: Set(old),
            ..Default::default()
        }],
    )
    .await?;
    let project_id = first_id(db, "projects").await?;
    insert_all(
        db,
        (0..REPOSITORIES)
            .map(|r| repository::ActiveModel {
                project_id: Set(project_id),
                name: Set(format!("bench/r{r}")),
                description: Set(String::new()),
                pull_count: Set(0),
                created_at: Set(old),
                updated_at: Set(old),
                ..Default::default()
            })
            .collect(),
    )
    .await?;
    let first_repository = first_id(db, "repositories").await?;
    let repository_of = |m: usize| first_repository + (m % REPOSITORIES) as i64;

    let total = layout.blobs();
    let digests: Vec<String> = (0..total).map(|b| digest_of(b).to_string()).collect();
    for start in (0..total).step_by(100_000) {
        let end = (start + 100_000).min(total);
        insert_all(
            db,
            (start..end)
                .map(|b| blob::ActiveModel {
                    digest: Set(digests[b].clone()),
                    size: Set(content_of(b).len() as i64),
                    created_at: Set(old),
                    touched_at: Set(None),
                    ..Default::default()
                })
                .collect(),
        )
        .await?;
    }
    rows_written += total;
    let first_blob = first_id(db, "blobs").await?;

    insert_all(
        db,
        (0..layout.manifests)
            .map(|m| manifest::ActiveModel {
                repository_id: Set(repository_of(m)),
                digest: Set(digests[layout.content(m)].clone()),
                media_type: Set("application/vnd.oci.image.manifest.v1+json".into()),
                artifact_type: Set(None),
                size: Set(content_of(layout.content(m)).len() as i64),
                subject_digest: Set(None),
                annotations: Set(None),
                created_at: Set(old),
                pulled_at: Set(None),
                touched_at: Set(None),
                ..Default::default()
            })
            .collect(),
    )
    .await?;
    rows_written += layout.manifests;
    let first_manifest = first_id(db, "manifests").await?;

    let mut references = Vec::with_capacity(layout.manifests * layout.layers);
    for m in 0..layout.manifests {
        for l in 0..layout.layers {
            references.push(manifest_reference::ActiveModel {
                manifest_id: Set(first_manifest + m as i64),
                digest: Set(digests[m * layout.layers + l].clone()),
                kind: Set("blob".into()),
            });
        }
    }
    rows_written += references.len();
    insert_all(db, references).await?;

    let tags: Vec<tag::ActiveModel> = (0..layout.manifests)
        .filter(|m| !Layout::untagged(*m))
        .map(|m| tag::ActiveModel {
            repository_id: Set(repository_of(m)),
            name: Set(format!("t{m}")),
            manifest_id: Set(first_manifest + m as i64),
            created_at: Set(old),
            updated_at: Set(old),
            ..Default::default()
        })
        .collect();
    rows_written += tags.len();
    insert_all(db, tags).await?;

    for start in (0..total).step_by(100_000) {
        let end = (start + 100_000).min(total);
        let links: Vec<repository_blob::ActiveModel> = (start..end)
            .map(|b| repository_blob::ActiveModel {
                repository_id: Set(repository_of(layout.owner(b).unwrap_or(b))),
                blob_id: Set(first_blob + b as i64),
                created_at: Set(old),
            })
            .collect();
        let charges: Vec<project_blob::ActiveModel> = (start..end)
            .filter(|b| layout.owner(*b).is_some())
            .map(|b| project_blob::ActiveModel {
                project_id: Set(project_id),
                blob_id: Set(first_blob + b as i64),
                created_at: Set(old),
            })
            .collect();
        rows_written += links.len() + charges.len();
        insert_all(db, links).await?;
        insert_all(db, charges).await?;
    }
    let db_seconds = started.elapsed().as_secs_f64();
    println!(
        "seeded {rows_written} rows in {db_seconds:.1} s ({:.0} rows/s): {} blobs, {} manifests \
         ({} layers each, one in ten untagged), {} unreferenced blobs, {} repositories",
        rows_written as f64 / db_seconds,
        total,
        layout.manifests,
        layout.layers,
        layout.garbage,
        REPOSITORIES
    );

    let started = Instant::now();
    let doomed: Vec<usize> = (0..total).filter(|b| layout.doomed(*b)).collect();
    let root = blob_root.to_owned();
    let files = doomed.len();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for b in doomed {
            let digest = digest_of(b);
            let hex = digest.hex();
            let dir = root.join("blobs").join("sha256").join(&hex[..2]);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(hex), content_of(b))?;
        }
        Ok(())
    })
    .await??;
    println!(
        "wrote {files} blob files (the ones GC deletes) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Peak resident memory since the last reset, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Starts a new peak-RSS window (Linux: writing 5 to `clear_refs` resets `VmHWM`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn run_gc(
    state: &Arc<AppState>,
    label: &str,
    params: serde_json::Value,
) -> anyhow::Result<()> {
    reset_peak_rss();
    let started = Instant::now();
    let job = state
        .jobs
        .enqueue(NewJob::manual(kinds::GC, params))
        .await?
        .context("GC not enqueued")?;
    let row = loop {
        let row = state.jobs.get(job.id).await?.context("job vanished")?;
        if JobStatus::is_final(&row.status) {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    let blobs = blob::Entity::find().count(&state.db).await?;
    println!(
        "{label}: {} in {seconds:.1} s, peak RSS {:.0} MiB; {}; blob rows left {blobs}",
        row.status,
        peak_rss_mib(),
        row.message.unwrap_or_default()
    );
    if row.status != "Success" {
        bail!("{label} ended {}", row.status);
    }
    phase_times(state, job.id).await
}

/// When each phase ended, from the run's log (one line per batch).
async fn phase_times(state: &AppState, job_id: i64) -> anyhow::Result<()> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let lines = job_log::Entity::find()
        .filter(job_log::Column::JobId.eq(job_id))
        .order_by_asc(job_log::Column::Id)
        .all(&state.db)
        .await?;
    let Some(first) = lines.first().map(|l| l.created_at) else {
        return Ok(());
    };
    let last_of = |needle: &str| {
        lines
            .iter()
            .rev()
            .find(|l| l.message.contains(needle))
            .map(|l| (l.created_at - first).num_milliseconds() as f64 / 1000.0)
    };
    println!(
        "  phases end at: untagged manifests {:?} s, blobs {:?} s, uploads {:?} s",
        last_of("untagged manifests:"),
        last_of(" blobs: "),
        last_of("stale upload sessions")
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    berth::install_crypto_provider();
    let args = parse_args()?;
    if args.work.exists() {
        std::fs::remove_dir_all(&args.work)?;
    }
    std::fs::create_dir_all(&args.work)?;
    let overrides = Overrides {
        listen: None,
        data_dir: Some(args.work.clone()),
    };
    let mut config = Config::load(None, &overrides)?;
    config.database.url = args.database_url.clone();
    config.workers.embedded = false;
    let workers_config = config.workers.clone();
    let blob_root = config.storage_path();
    let state = AppState::build(config, Some("Bench-Admin-12345".into())).await?;
    let layout = Layout::new(args.blobs, args.manifests);
    println!(
        "database: {}",
        if args.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    seed(&state, &layout, &blob_root).await?;

    let workers = berth_workers::Workers::start_with(
        state.clone(),
        &workers_config,
        vec![Arc::new(berth_workers::jobs::gc::GarbageCollection)],
    )
    .await?;
    let params = |dry_run: bool| {
        serde_json::json!({"dry_run": dry_run, "delete_untagged": true, "grace_seconds": 0,
                           "batch_size": 1000})
    };
    run_gc(&state, "dry run", params(true)).await?;
    run_gc(&state, "gc", params(false)).await?;
    workers.shutdown().await;

    let expected = (0..layout.blobs()).filter(|b| layout.doomed(*b)).count();
    println!("expected deletions: {expected} blobs");
    state.db.clone().close().await?;
    std::fs::remove_dir_all(&args.work)?;
    Ok(())
}
