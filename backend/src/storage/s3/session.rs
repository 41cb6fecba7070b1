//! Upload sessions on S3: the state document and the writer that streams parts.

use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::S3BlobStore;
use crate::storage::{StorageError, UploadWriter};

/// One object holding a piece of a session's content.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub(super) struct PartObject {
    /// Object name inside the session's prefix.
    pub name: String,
    pub size: u64,
}

/// A commit that created a multipart upload on a blob key and had not finished it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub(super) struct PendingCommit {
    pub key: String,
    pub upload_id: String,
}

/// What an upload session holds: whole parts in order, then the tail.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub(super) struct SessionState {
    pub parts: Vec<PartObject>,
    pub tail: Option<PartObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<PendingCommit>,
}

impl SessionState {
    pub fn size(&self) -> u64 {
        self.objects().map(|o| o.size).sum()
    }

    /// The session's objects in content order.
    pub fn objects(&self) -> impl Iterator<Item = &PartObject> {
        self.parts.iter().chain(self.tail.iter())
    }

    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(content: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(content)
    }
}

fn object_name(kind: char) -> String {
    format!("{kind}-{}", uuid::Uuid::new_v4().simple())
}

/// Appends to an S3 session: full parts are uploaded as they fill, one in flight while the
/// next fills; `finish` stores the rest as the new tail and then the new state.
pub(super) struct S3UploadWriter {
    store: S3BlobStore,
    id: String,
    state: SessionState,
    /// The tail this append started from, replaced (and deleted) on `finish`.
    old_tail: Option<PartObject>,
    buffer: BytesMut,
    /// Bytes appended by this writer.
    written: u64,
    in_flight: Option<JoinHandle<Result<PartObject, StorageError>>>,
}

impl S3UploadWriter {
    pub fn new(store: S3BlobStore, id: String, mut state: SessionState, tail: Bytes) -> Self {
        let old_tail = state.tail.take();
        let mut buffer = BytesMut::with_capacity(store.part_size as usize);
        buffer.extend_from_slice(&tail);
        Self {
            store,
            id,
            state,
            old_tail,
            buffer,
            written: 0,
            in_flight: None,
        }
    }

    async fn settle_in_flight(&mut self) -> Result<(), StorageError> {
        if let Some(task) = self.in_flight.take() {
            let part = task
                .await
                .map_err(|e| StorageError::Io(std::io::Error::other(e)))??;
            self.state.parts.push(part);
        }
        Ok(())
    }

    fn upload(&self, kind: char, content: Bytes) -> JoinHandle<Result<PartObject, StorageError>> {
        let store = self.store.clone();
        let name = object_name(kind);
        let key = store.object_key(&self.id, &name);
        tokio::spawn(async move {
            let size = content.len() as u64;
            store.put_object(&key, content).await?;
            Ok(PartObject { name, size })
        })
    }
}

#[async_trait::async_trait]
impl UploadWriter for S3UploadWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        self.buffer.extend_from_slice(&chunk);
        self.written += chunk.len() as u64;
        let part_size = self.store.part_size as usize;
        while self.buffer.len() >= part_size {
            let part = self.buffer.split_to(part_size).freeze();
            self.settle_in_flight().await?;
            self.in_flight = Some(self.upload('p', part));
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<u64, StorageError> {
        self.settle_in_flight().await?;
        if self.written == 0 {
            self.state.tail = self.old_tail.take();
            return Ok(self.state.size());
        }
        if !self.buffer.is_empty() {
            let content = std::mem::take(&mut self.buffer).freeze();
            let tail = self
                .upload('t', content)
                .await
                .map_err(|e| StorageError::Io(std::io::Error::other(e)))??;
            self.state.tail = Some(tail);
        }
        self.store.save_state(&self.id, &self.state).await?;
        if let Some(old) = self.old_tail.take() {
            // The new state no longer names it; a failure here only leaves garbage that the
            // session's abort or commit removes.
            let key = self.store.object_key(&self.id, &old.name);
            if let Err(e) = self.store.delete_object(&key).await {
                tracing::debug!(error = %e, "could not delete a replaced upload tail");
            }
        }
        Ok(self.state.size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_sums_its_objects() {
        let state = SessionState {
            parts: vec![PartObject {
                name: "p-1".into(),
                size: 5 << 20,
            }],
            tail: Some(PartObject {
                name: "t-2".into(),
                size: 7,
            }),
            commit: None,
        };
        assert_eq!(state.size(), (5 << 20) + 7);
        assert_eq!(
            SessionState::decode(&state.encode()).expect("decode"),
            state
        );
        assert_eq!(SessionState::default().size(), 0);
    }
}
