//! The local filesystem backend.
//!
//! Layout under the root: `blobs/<algorithm>/<first two hex>/<hex>` for committed content and
//! `uploads/<id>` for upload sessions. Content becomes visible by `rename` after `fsync`, so a
//! blob path only ever names complete content.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::io::ReaderStream;

use super::{BlobStore, ByteRange, ByteStream, StorageError, UploadWriter};
use crate::digest::Digest;

mod read;

/// Read buffer for reading upload sessions back (to rebuild a hasher).
const READ_CHUNK: usize = 256 * 1024;
/// Chunks queued between the request task and the writing thread.
const WRITE_QUEUE: usize = 32;
/// After this many bytes are appended, the upload's data starts going to the disk in the
/// background, so that the sync at commit finds little left to write.
const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;

/// Blob storage in a local directory.
#[derive(Clone, Debug)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating if needed) a store rooted at `root`.
    ///
    /// # Errors
    /// The directories cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("blobs"))?;
        std::fs::create_dir_all(root.join("uploads"))?;
        Ok(Self { root })
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root
            .join("blobs")
            .join(digest.algorithm().name())
            .join(&hex[..2])
            .join(hex)
    }

    fn upload_path(&self, id: &str) -> PathBuf {
        self.root.join("uploads").join(id)
    }
}

fn not_found_as<T>(
    result: io::Result<T>,
    err: impl FnOnce() -> StorageError,
) -> Result<T, StorageError> {
    result.map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            err()
        } else {
            StorageError::Io(e)
        }
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Io(io::Error::other(e)))?
}

/// Moves `from` onto `to` durably: the parent directory of `to` is created and synced.
fn rename_durably(from: &Path, to: &Path) -> io::Result<()> {
    let parent = to
        .parent()
        .ok_or_else(|| io::Error::other("blob path has no parent"))?;
    std::fs::create_dir_all(parent)?;
    std::fs::rename(from, to)?;
    std::fs::File::open(parent)?.sync_all()
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, StorageError> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn read(
        &self,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<ByteStream, StorageError> {
        let path = self.blob_path(digest);
        let digest = digest.clone();
        let (file, length) = blocking(move || {
            let mut file = not_found_as(std::fs::File::open(&path), || {
                StorageError::BlobNotFound(digest)
            })?;
            let length = match range {
                Some(range) => {
                    file.seek(SeekFrom::Start(range.start))?;
                    range.len()
                }
                None => file.metadata()?.len(),
            };
            Ok((file, length))
        })
        .await?;
        Ok(read::FileStream::new(file, length).boxed())
    }

    async fn get(&self, digest: &Digest) -> Result<Bytes, StorageError> {
        let path = self.blob_path(digest);
        let digest = digest.clone();
        blocking(move || {
            let mut content = Vec::new();
            not_found_as(std::fs::File::open(&path), || {
                StorageError::BlobNotFound(digest)
            })?
            .read_to_end(&mut content)?;
            Ok(Bytes::from(content))
        })
        .await
    }

    async fn put(&self, digest: &Digest, content: Bytes) -> Result<(), StorageError> {
        let target = self.blob_path(digest);
        let temp = self.upload_path(&format!("put-{}", uuid::Uuid::new_v4()));
        blocking(move || {
            if target.exists() {
                return Ok(());
            }
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(&content)?;
            file.sync_all()?;
            rename_durably(&temp, &target).inspect_err(|_| {
                let _ = std::fs::remove_file(&temp);
            })?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, digest: &Digest) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.blob_path(digest)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn create_upload(&self, id: &str) -> Result<(), StorageError> {
        let path = self.upload_path(id);
        blocking(move || {
            std::fs::File::create(&path)?;
            Ok(())
        })
        .await
    }

    async fn append_upload(
        &self,
        id: &str,
        offset: u64,
    ) -> Result<Box<dyn UploadWriter>, StorageError> {
        let path = self.upload_path(id);
        let owned_id = id.to_owned();
        let file = blocking(move || {
            let file = not_found_as(std::fs::OpenOptions::new().append(true).open(&path), || {
                StorageError::UploadNotFound(owned_id.clone())
            })?;
            let actual = file.metadata()?.len();
            if actual != offset {
                return Err(StorageError::UploadOffsetMismatch {
                    id: owned_id,
                    expected: offset,
                    actual,
                });
            }
            Ok(file)
        })
        .await?;
        Ok(Box::new(FsUploadWriter::start(file, offset)))
    }

    async fn upload_size(&self, id: &str) -> Result<u64, StorageError> {
        let meta = tokio::fs::metadata(self.upload_path(id)).await;
        not_found_as(meta, || StorageError::UploadNotFound(id.to_owned())).map(|m| m.len())
    }

    async fn read_upload(&self, id: &str) -> Result<ByteStream, StorageError> {
        let file = tokio::fs::File::open(self.upload_path(id)).await;
        let file = not_found_as(file, || StorageError::UploadNotFound(id.to_owned()))?;
        Ok(ReaderStream::with_capacity(file, READ_CHUNK).boxed())
    }

    async fn commit_upload(&self, id: &str, digest: &Digest) -> Result<(), StorageError> {
        let source = self.upload_path(id);
        let target = self.blob_path(digest);
        let id = id.to_owned();
        blocking(move || {
            if !source.exists() {
                return Err(StorageError::UploadNotFound(id));
            }
            if target.exists() {
                std::fs::remove_file(&source)?;
                return Ok(());
            }
            // Appends are not synced one by one (a chunked push would wait for the disk at every
            // chunk): the whole session becomes durable here, before it gets its name.
            std::fs::File::open(&source)?.sync_data()?;
            rename_durably(&source, &target)?;
            Ok(())
        })
        .await
    }

    async fn abort_upload(&self, id: &str) -> Result<(), StorageError> {
        match tokio::fs::remove_file(self.upload_path(id)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn list_uploads(&self) -> Result<Vec<String>, StorageError> {
        let mut entries = tokio::fs::read_dir(self.root.join("uploads")).await?;
        let mut ids = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            if let Some(name) = entry.file_name().to_str() {
                ids.push(name.to_owned());
            }
        }
        Ok(ids)
    }

    async fn list_blobs(&self) -> Result<Vec<(Digest, u64)>, StorageError> {
        let root = self.root.join("blobs");
        blocking(move || {
            let mut found = Vec::new();
            for algorithm in std::fs::read_dir(&root)? {
                let algorithm = algorithm?;
                let Some(name) = algorithm.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                for fan in std::fs::read_dir(algorithm.path())? {
                    for blob in std::fs::read_dir(fan?.path())? {
                        let blob = blob?;
                        let hex = blob.file_name().to_string_lossy().into_owned();
                        if let Ok(digest) = format!("{name}:{hex}").parse::<Digest>() {
                            found.push((digest, blob.metadata()?.len()));
                        }
                    }
                }
            }
            Ok(found)
        })
        .await
    }

    async fn purge_abandoned(&self, older_than: Duration) -> Result<usize, StorageError> {
        let uploads = self.root.join("uploads");
        blocking(move || {
            let cutoff = std::time::SystemTime::now() - older_than;
            let mut removed = 0;
            for entry in std::fs::read_dir(&uploads)? {
                let entry = entry?;
                let temporary = entry.file_name().to_string_lossy().starts_with("put-");
                if temporary && entry.metadata()?.modified()? < cutoff {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }
}

/// Writes on a blocking thread fed through a bounded queue, so receiving from the network and
/// writing to disk overlap.
struct FsUploadWriter {
    sender: Option<mpsc::Sender<Bytes>>,
    task: JoinHandle<io::Result<u64>>,
}

impl FsUploadWriter {
    fn start(mut file: std::fs::File, offset: u64) -> Self {
        let (sender, mut receiver) = mpsc::channel::<Bytes>(WRITE_QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            let mut size = offset;
            let mut unsynced = 0;
            let mut writeback: Option<Writeback> = None;
            while let Some(chunk) = receiver.blocking_recv() {
                file.write_all(&chunk)?;
                size += chunk.len() as u64;
                unsynced += chunk.len() as u64;
                if unsynced >= WRITEBACK_EVERY {
                    unsynced = 0;
                    match &writeback {
                        Some(running) => running.kick(),
                        None => writeback = Some(Writeback::start(&file)?),
                    }
                }
            }
            if let Some(running) = writeback {
                running.finish()?;
            }
            Ok(size)
        });
        Self {
            sender: Some(sender),
            task,
        }
    }
}

/// A thread syncing an upload file whenever asked, while more is appended to it: the page
/// cache starts writing back during the upload instead of holding the whole blob until the
/// commit's sync (the kernel's own writeback starts only at a share of all memory).
///
/// Its errors are reported by [`Writeback::finish`]: a failed sync may not be reported again
/// to a later one, so ignoring it could let a damaged blob be committed.
struct Writeback {
    requests: std::sync::mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<io::Result<()>>,
}

impl Writeback {
    fn start(file: &std::fs::File) -> io::Result<Self> {
        let file = file.try_clone()?;
        let (requests, pending) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("berth-writeback".into())
            .spawn(move || {
                file.sync_data()?;
                while pending.recv().is_ok() {
                    file.sync_data()?;
                }
                Ok(())
            })?;
        Ok(Self { requests, thread })
    }

    /// Asks for another sync; skipped when one is already waiting to start.
    fn kick(&self) {
        let _ = self.requests.try_send(());
    }

    /// Waits for the running sync and reports the first failure.
    fn finish(self) -> io::Result<()> {
        drop(self.requests);
        self.thread
            .join()
            .map_err(|_| io::Error::other("writeback thread panicked"))?
    }
}

#[async_trait]
impl UploadWriter for FsUploadWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        let Some(sender) = &self.sender else {
            return Err(StorageError::Io(io::Error::other(
                "writer already finished",
            )));
        };
        if sender.send(chunk).await.is_err() {
            // The writing thread stopped early: its error is the one to report.
            self.sender = None;
            let result = (&mut self.task)
                .await
                .map_err(|e| StorageError::Io(io::Error::other(e)))?;
            return Err(StorageError::Io(
                result
                    .err()
                    .unwrap_or_else(|| io::Error::other("upload writer stopped")),
            ));
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<u64, StorageError> {
        self.sender = None;
        let size = (&mut self.task)
            .await
            .map_err(|e| StorageError::Io(io::Error::other(e)))??;
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn filesystem_store_meets_the_contract() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FsBlobStore::open(dir.path()).expect("open store");
        crate::storage::contract::run_all(&store).await;
    }

    #[tokio::test]
    async fn uploads_past_the_writeback_threshold_keep_every_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FsBlobStore::open(dir.path()).expect("open store");
        let chunk = 3 * 1024 * 1024;
        let content: Vec<u8> = (0..6 * chunk).map(|i| (i % 253) as u8).collect();
        assert!(content.len() as u64 > 2 * WRITEBACK_EVERY - chunk as u64);
        store.create_upload("big").await.expect("create");
        let mut writer = store.append_upload("big", 0).await.expect("append");
        for part in content.chunks(chunk) {
            writer
                .write(Bytes::copy_from_slice(part))
                .await
                .expect("write");
        }
        assert_eq!(writer.finish().await.expect("finish"), content.len() as u64);
        let digest = Digest::of(crate::digest::Algorithm::Sha256, &content);
        store.commit_upload("big", &digest).await.expect("commit");
        let mut read = Vec::new();
        let mut stream = store.read(&digest, None).await.expect("read");
        while let Some(part) = stream.next().await {
            read.extend_from_slice(&part.expect("chunk"));
        }
        assert!(read == content, "the committed blob holds what was written");
    }
}
