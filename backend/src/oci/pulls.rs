//! The pull log: audit entries and `PULL_ARTIFACT` webhook events of manifest pulls, stored in
//! groups off the request path.
//!
//! A pull is the registry's hottest request, and recording it is a database write. Written by
//! each request, concurrent pulls queue on the database's writer (SQLite has one) and one
//! commit per pull sets the throughput. Instead, a pull is handed to one task per process,
//! which stores the pulls of up to a tenth of a second as one insert, and asks once per group
//! and project whether any webhook wants the event. The pull's response does not wait for it;
//! what is queued is stored before the server stops ([`PullLog::flush`]), and only a crash can
//! lose the pulls of its last moments, never an artifact.

use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::{mpsc, oneshot};

use crate::api::audit;
use crate::db::entities::project;
use crate::jobs::JobQueue;
use crate::webhooks;

/// Pulls queued at most before [`PullLog::record`] waits for the writer.
const QUEUE: usize = 8192;
/// Pulls stored per insert at most (seven bound values each).
const GROUP: usize = 512;
/// How long a group waits for more pulls after its first: one insert then stands for every
/// pull of that time, instead of one each.
const LINGER: std::time::Duration = std::time::Duration::from_millis(100);

/// One manifest pull, as its handler saw it.
pub struct Pull {
    /// Who pulled (`anonymous` when empty).
    pub operator: String,
    pub project_id: i64,
    /// The repository's full name.
    pub repository: String,
    /// The tag or digest asked for.
    pub reference: String,
    /// The digest served.
    pub digest: String,
    /// The registry host clients address, for webhook resource URLs.
    pub host: String,
}

enum Message {
    Pull(Pull),
    Flush(oneshot::Sender<()>),
}

/// The handle requests record pulls through; cheap to clone.
#[derive(Clone)]
pub struct PullLog {
    queue: mpsc::Sender<Message>,
}

impl PullLog {
    /// Starts the writer task on the current runtime.
    pub fn start(db: DatabaseConnection, jobs: JobQueue) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db, jobs, incoming));
        Self { queue }
    }

    /// Queues a pull; waits only when the writer is [`QUEUE`] pulls behind.
    pub async fn record(&self, pull: Pull) {
        if self.queue.send(Message::Pull(pull)).await.is_err() {
            tracing::error!("the pull log's writer has stopped; a pull is not recorded");
        }
    }

    /// Waits until every pull queued before this call is stored (or has failed to be).
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = stored.await;
        }
    }
}

async fn write_groups(
    db: DatabaseConnection,
    jobs: JobQueue,
    mut incoming: mpsc::Receiver<Message>,
) {
    let mut group = Vec::with_capacity(GROUP);
    let mut flushes = Vec::new();
    while let Some(first) = incoming.recv().await {
        let mut next = Some(first);
        let deadline = tokio::time::Instant::now() + LINGER;
        while let Some(message) = next.take() {
            match message {
                Message::Pull(pull) => group.push(pull),
                Message::Flush(done) => flushes.push(done),
            }
            if group.len() < GROUP && flushes.is_empty() {
                next = tokio::time::timeout_at(deadline, incoming.recv())
                    .await
                    .ok()
                    .flatten();
            }
        }
        store(&db, &jobs, &group).await;
        group.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Stores a group's audit entries, then queues the webhook deliveries its projects want.
/// Failures are logged: the pulls they describe have already been served.
async fn store(db: &DatabaseConnection, jobs: &JobQueue, group: &[Pull]) {
    if group.is_empty() {
        return;
    }
    let entries = group
        .iter()
        .map(|pull| {
            let resource = resource(pull);
            audit::Entry {
                operator: &pull.operator,
                project_id: Some(pull.project_id),
                operation: "pull",
                resource_type: "artifact",
                resource: &resource,
                success: true,
            }
            .into_model()
        })
        .collect();
    if let Err(error) = audit::record_all(db, entries).await {
        tracing::error!(%error, pulls = group.len(), "audit entries of pulls could not be stored");
    }
    let mut projects: Vec<i64> = group.iter().map(|p| p.project_id).collect();
    projects.sort_unstable();
    projects.dedup();
    for project_id in projects {
        if !webhooks::wanted(db, project_id, "PULL_ARTIFACT").await {
            continue;
        }
        let Ok(Some(project)) = project::Entity::find_by_id(project_id).one(db).await else {
            continue;
        };
        for pull in group.iter().filter(|p| p.project_id == project_id) {
            webhooks::emit(db, jobs, event(&project, pull)).await;
        }
    }
}

/// `repository:tag` or `repository@digest`, as the audit log and webhooks name an artifact.
pub(super) fn artifact(repository: &str, reference: &str) -> String {
    let separator = if reference.contains(':') { '@' } else { ':' };
    format!("{repository}{separator}{reference}")
}

fn resource(pull: &Pull) -> String {
    artifact(&pull.repository, &pull.reference)
}

fn event(project: &project::Model, pull: &Pull) -> webhooks::Event {
    let tag = (!pull.reference.contains(':')).then(|| pull.reference.clone());
    webhooks::Event {
        kind: "PULL_ARTIFACT",
        project_id: project.id,
        project_name: project.name.clone(),
        public: project.public,
        operator: pull.operator.clone(),
        repository: Some(pull.repository.clone()),
        resources: vec![webhooks::Resource {
            digest: pull.digest.clone(),
            resource_url: format!("{}/{}", pull.host, resource(pull)),
            tag,
        }],
        custom_attributes: None,
    }
}
