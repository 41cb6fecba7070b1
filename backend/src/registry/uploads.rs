//! Upload sessions: created, appended to while hashing, then verified and committed.
//!
//! The hash of what a session holds is kept in memory between requests, so every byte is hashed
//! once as it streams in. After a restart, or when a request reaches another replica, the hasher
//! is rebuilt by reading back what the session holds. The store's size of the session is the
//! source of truth for its offset.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{Registry, RegistryError};
use crate::db::entities::upload_session;
use crate::digest::{Algorithm, Digest, Hasher};

/// A request body longer than this is hashed on a thread of its own from there on, while the
/// request's task goes on receiving: hashing one core's worth is the slowest step of a push.
const HASH_APART_AFTER: u64 = 256 * 1024;
/// Chunks queued for a [`HashThread`].
const HASH_QUEUE: usize = 32;

/// Hash state of one session: the hasher has seen exactly `offset` bytes.
struct HashState {
    hasher: Hasher,
    offset: u64,
}

type Slot = Arc<tokio::sync::Mutex<Option<HashState>>>;

/// In-memory hash state of the sessions this process has served, one lock per session so
/// concurrent requests on the same session are applied one after the other.
#[derive(Default)]
pub struct UploadStates {
    slots: Mutex<HashMap<String, Slot>>,
}

/// What [`Registry::purge_stale_uploads`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadPurge {
    /// Upload sessions (their rows and their storage).
    pub sessions: usize,
    /// Storage uploads nothing refers to any more: dangling S3 multipart uploads (from a crash
    /// while a blob was assembled) and temporary files of the filesystem store.
    pub abandoned: usize,
}

impl UploadStates {
    fn slot(&self, id: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(id.to_owned()).or_default().clone()
    }

    pub(super) fn forget(&self, id: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.remove(id);
    }
}

/// Where an upload session stands.
#[derive(Clone, Debug)]
pub struct UploadStatus {
    pub id: String,
    pub size: u64,
}

impl Registry {
    /// Starts an upload session for repository `name`.
    ///
    /// # Errors
    /// [`RegistryError::ProjectUnknown`] when the project does not exist; storage or database
    /// failures.
    pub async fn start_upload(&self, name: &str) -> Result<UploadStatus, RegistryError> {
        self.ensure_project_of(name).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = Utc::now();
        upload_session::Entity::insert(upload_session::ActiveModel {
            id: Set(id.clone()),
            repository: Set(name.to_owned()),
            offset: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(&self.db)
        .await?;
        // The row is written first, so storage never holds a session the database lacks.
        self.store.create_upload(&id).await?;
        Ok(UploadStatus { id, size: 0 })
    }

    /// The session `id` of repository `name`.
    ///
    /// # Errors
    /// [`RegistryError::UploadUnknown`] when no such session belongs to that repository.
    pub async fn upload_status(&self, name: &str, id: &str) -> Result<UploadStatus, RegistryError> {
        self.session(name, id).await?;
        let size = self.store.upload_size(id).await?;
        Ok(UploadStatus {
            id: id.to_owned(),
            size,
        })
    }

    async fn session(&self, name: &str, id: &str) -> Result<upload_session::Model, RegistryError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(RegistryError::UploadUnknown(id.to_owned()));
        }
        upload_session::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .filter(|s| s.repository == name)
            .ok_or_else(|| RegistryError::UploadUnknown(id.to_owned()))
    }

    /// Appends `body` to session `id`. With `start`, the chunk must begin at the session's
    /// current size. `algorithm` is used when the session's hasher must be created.
    ///
    /// # Errors
    /// Unknown session, a chunk at the wrong offset ([`RegistryError::RangeNotSatisfiable`]),
    /// a broken request body, storage or database failures.
    pub async fn append_upload<S, E>(
        &self,
        name: &str,
        id: &str,
        start: Option<u64>,
        algorithm: Option<Algorithm>,
        body: S,
    ) -> Result<UploadStatus, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.session(name, id).await?;
        let slot = self.uploads.slot(id);
        let mut state = slot.lock().await;
        let status = self
            .append_locked(name, id, start, algorithm, body, &mut state)
            .await?;
        upload_session::Entity::update_many()
            .col_expr(upload_session::Column::Offset, (status.size as i64).into())
            .col_expr(upload_session::Column::UpdatedAt, Utc::now().into())
            .filter(upload_session::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(status)
    }

    /// [`Registry::append_upload`] once the session is known and its lock held (`state`),
    /// without recording the new offset in the session's row.
    async fn append_locked<S, E>(
        &self,
        name: &str,
        id: &str,
        start: Option<u64>,
        algorithm: Option<Algorithm>,
        body: S,
        state: &mut Option<HashState>,
    ) -> Result<UploadStatus, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let size = self.store.upload_size(id).await?;
        if let Some(start) = start
            && start != size
        {
            return Err(RegistryError::RangeNotSatisfiable {
                offset: size,
                location: format!("/v2/{name}/blobs/uploads/{id}"),
            });
        }
        let mut current = self.hash_state(id, size, state, algorithm).await?;
        match self.stream_into(id, size, &mut current, body).await {
            Ok(new_size) => {
                *state = Some(current);
                Ok(UploadStatus {
                    id: id.to_owned(),
                    size: new_size,
                })
            }
            Err(err) => {
                // Part of the body may have been written: rebuild the hash from storage next time.
                *state = None;
                Err(err)
            }
        }
    }

    /// The hasher for a session holding `size` bytes, reused or rebuilt from storage.
    async fn hash_state(
        &self,
        id: &str,
        size: u64,
        state: &mut Option<HashState>,
        algorithm: Option<Algorithm>,
    ) -> Result<HashState, RegistryError> {
        let wanted = algorithm.unwrap_or(Algorithm::Sha256);
        if let Some(existing) = state.take()
            && existing.offset == size
            && (algorithm.is_none() || existing.hasher.algorithm() == wanted)
        {
            return Ok(existing);
        }
        let mut hasher = wanted.hasher();
        let mut offset = 0;
        if size > 0 {
            let mut stored = self.store.read_upload(id).await?;
            while let Some(chunk) = stored.next().await {
                let chunk = chunk.map_err(crate::storage::StorageError::Io)?;
                hasher.update(&chunk);
                offset += chunk.len() as u64;
            }
        }
        Ok(HashState { hasher, offset })
    }

    async fn stream_into<S, E>(
        &self,
        id: &str,
        size: u64,
        state: &mut HashState,
        mut body: S,
    ) -> Result<u64, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut writer = self.store.append_upload(id, size).await?;
        let mut apart: Option<HashThread> = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    let _ = writer.finish().await;
                    return Err(RegistryError::UploadInvalid(format!(
                        "request body could not be read: {e}"
                    )));
                }
            };
            if chunk.is_empty() {
                continue;
            }
            state.offset += chunk.len() as u64;
            match &apart {
                Some(thread) => thread.update(chunk.clone()).await?,
                None => {
                    state.hasher.update(&chunk);
                    if state.offset - size >= HASH_APART_AFTER {
                        let fresh = state.hasher.algorithm().hasher();
                        let hasher = std::mem::replace(&mut state.hasher, fresh);
                        apart = Some(HashThread::start(hasher));
                    }
                }
            }
            writer.write(chunk).await?;
        }
        if let Some(thread) = apart {
            state.hasher = thread.finish().await?;
        }
        Ok(writer.finish().await?)
    }

    /// Appends an optional last chunk, verifies the whole content against `digest`, and
    /// commits it as a blob of repository `name`. On a digest mismatch the session is discarded.
    ///
    /// # Errors
    /// Unknown session, digest mismatch, storage or database failures.
    pub async fn finish_upload<S, E>(
        &self,
        name: &str,
        id: &str,
        start: Option<u64>,
        digest: &Digest,
        body: S,
    ) -> Result<u64, RegistryError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.session(name, id).await?;
        let slot = self.uploads.slot(id);
        let mut state = slot.lock().await;
        // The session's row goes at the end, so its offset is not recorded on the way.
        let status = self
            .append_locked(name, id, start, Some(digest.algorithm()), body, &mut state)
            .await?;
        let current = self
            .hash_state(id, status.size, &mut state, Some(digest.algorithm()))
            .await?;
        let computed = current.hasher.finish();
        if &computed != digest {
            drop(state);
            self.cancel_upload(name, id).await?;
            return Err(RegistryError::DigestMismatch {
                expected: digest.clone(),
            });
        }
        let repository = self.ensure_repository(name).await?;
        // The row is touched before the content lands: garbage collection never removes a
        // recently touched blob, so it cannot delete the file this commit is about to write.
        // The repository sees the blob only once its content is stored.
        let blob_id = self.touch_blob(digest, status.size).await?;
        self.store.commit_upload(id, digest).await?;
        self.link_stored_blob(repository.id, blob_id).await?;
        upload_session::Entity::delete_by_id(id.to_owned())
            .exec(&self.db)
            .await?;
        drop(state);
        self.uploads.forget(id);
        Ok(status.size)
    }

    /// Discards session `id` of repository `name`.
    ///
    /// # Errors
    /// Unknown session, storage or database failures.
    pub async fn cancel_upload(&self, name: &str, id: &str) -> Result<(), RegistryError> {
        self.session(name, id).await?;
        self.store.abort_upload(id).await?;
        upload_session::Entity::delete_by_id(id.to_owned())
            .exec(&self.db)
            .await?;
        self.uploads.forget(id);
        Ok(())
    }

    /// Removes sessions idle for longer than `max_age_seconds`, storage uploads that have no
    /// session row, session rows whose storage session is gone (both left by a crash between
    /// two writes), and abandoned temporary files or dangling S3 multipart uploads older than
    /// `max_age_seconds`. Returns how many of each were removed.
    ///
    /// # Errors
    /// Storage or database failures.
    pub async fn purge_stale_uploads(
        &self,
        max_age_seconds: u64,
    ) -> Result<UploadPurge, RegistryError> {
        let cutoff = Utc::now() - chrono::Duration::seconds(max_age_seconds as i64);
        let stale = upload_session::Entity::find()
            .filter(upload_session::Column::UpdatedAt.lt(cutoff))
            .all(&self.db)
            .await?;
        let mut removed = 0;
        for session in stale {
            self.store.abort_upload(&session.id).await?;
            upload_session::Entity::delete_by_id(session.id.clone())
                .exec(&self.db)
                .await?;
            self.uploads.forget(&session.id);
            removed += 1;
        }
        // Storage sessions without a row, and rows without storage.
        removed += self.recover_upload_sessions().await?;
        let max_age = std::time::Duration::from_secs(max_age_seconds);
        let abandoned = self.store.purge_abandoned(max_age).await?;
        Ok(UploadPurge {
            sessions: removed,
            abandoned,
        })
    }

    /// Fails with [`RegistryError::ProjectUnknown`] unless the project of `name` exists.
    async fn ensure_project_of(&self, name: &str) -> Result<(), RegistryError> {
        use crate::db::entities::project;
        let project_name = crate::names::project_of(name);
        let exists = project::Entity::find()
            .filter(project::Column::Name.eq(project_name))
            .one(&self.db)
            .await?
            .is_some();
        if exists {
            Ok(())
        } else {
            Err(RegistryError::ProjectUnknown(project_name.to_owned()))
        }
    }
}

/// A hasher fed on a blocking thread through a bounded queue.
struct HashThread {
    sender: tokio::sync::mpsc::Sender<Bytes>,
    task: tokio::task::JoinHandle<Hasher>,
}

impl HashThread {
    fn start(mut hasher: Hasher) -> Self {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(HASH_QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = receiver.blocking_recv() {
                hasher.update(&chunk);
            }
            hasher
        });
        Self { sender, task }
    }

    async fn update(&self, chunk: Bytes) -> Result<(), RegistryError> {
        self.sender
            .send(chunk)
            .await
            .map_err(|_| hashing_failed("the hashing thread stopped"))
    }

    /// The hasher, once it has seen every chunk sent.
    async fn finish(self) -> Result<Hasher, RegistryError> {
        drop(self.sender);
        self.task
            .await
            .map_err(|e| hashing_failed(&format!("the hashing thread failed: {e}")))
    }
}

/// Only a panic stops a hashing thread; it is reported as the server error it is.
fn hashing_failed(message: &str) -> RegistryError {
    RegistryError::Storage(crate::storage::StorageError::Io(std::io::Error::other(
        message.to_owned(),
    )))
}
