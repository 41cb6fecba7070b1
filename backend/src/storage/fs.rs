//! The local filesystem backend.
//!
//! Layout under the root: `blobs/<algorithm>/<first two hex>/<hex>` for committed content and
//! `uploads/<id>` for upload sessions. Content becomes visible by `rename` after `fsync`, so a
//! blob path only ever names complete content.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
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
/// After this many bytes are appended through the page cache, the upload's data starts going to
/// the disk in the background, so that the sync at commit finds little left to write.
const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;
/// Alignment of direct writes: a multiple of every logical block size Linux disks report.
const DIRECT_ALIGN: usize = 4096;
/// Bytes gathered before one direct write: as fast as larger writes on the disks measured, and
/// under the allocator's mmap threshold, so a request's buffer is reused heap memory instead of
/// a fresh mapping faulted in page by page.
const DIRECT_BUFFER: usize = 1024 * 1024;

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
        let sink = blocking(move || {
            let actual = not_found_as(std::fs::metadata(&path), || {
                StorageError::UploadNotFound(owned_id.clone())
            })?
            .len();
            if actual != offset {
                return Err(StorageError::UploadOffsetMismatch {
                    id: owned_id,
                    expected: offset,
                    actual,
                });
            }
            not_found_as(Sink::open(&path, offset), || {
                StorageError::UploadNotFound(owned_id.clone())
            })
        })
        .await?;
        Ok(Box::new(FsUploadWriter::start(sink)))
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
    fn start(mut sink: Sink) -> Self {
        let (sender, mut receiver) = mpsc::channel::<Bytes>(WRITE_QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = receiver.blocking_recv() {
                sink.append(&chunk)?;
            }
            sink.finish()
        });
        Self {
            sender: Some(sender),
            task,
        }
    }
}

/// Where the writing thread of an upload puts its bytes.
enum Sink {
    Direct(DirectAppender),
    Cached(CachedAppender),
}

impl Sink {
    /// A sink appending to the upload file at `path`, which holds `offset` bytes: direct when
    /// the filesystem takes `O_DIRECT`, through the page cache otherwise.
    fn open(path: &Path, offset: u64) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let direct = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path);
        match direct {
            Ok(direct) => Ok(Self::Direct(DirectAppender::new(direct, file, offset)?)),
            // The filesystem does not do direct I/O (tmpfs before Linux 6.6, some FUSE ones).
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                Ok(Self::Cached(CachedAppender::new(file, offset)))
            }
            Err(e) => Err(e),
        }
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Self::Direct(sink) => sink.append(data),
            Self::Cached(sink) => sink.append(data),
        }
    }

    /// Writes what is still held and waits for it; returns the upload's size.
    fn finish(self) -> io::Result<u64> {
        match self {
            Self::Direct(sink) => sink.finish(),
            Self::Cached(sink) => sink.finish(),
        }
    }
}

/// Appends with `O_DIRECT`: bytes gather in one aligned buffer and go from there to the disk,
/// skipping the copy into the page cache and its writeback, which cost as much CPU as hashing.
///
/// Direct writes must start and end on block boundaries. An upload holding a partial last block
/// has that block read back into the buffer first, so the next direct write rewrites it whole;
/// the partial block a request leaves at its end goes through the page cache. The file's size is
/// always exactly what was appended, so a write cut short leaves a consistent prefix.
struct DirectAppender {
    direct: std::fs::File,
    /// The same file without `O_DIRECT`, for the partial blocks at the ends.
    cached: std::fs::File,
    /// Allocated once at its full size and never grown, so its address stays aligned; filled
    /// by appending, so only what a request sends is ever written to it.
    buffer: Vec<u8>,
    /// Where in `buffer` the aligned region starts; the region ends at `buffer.len()`.
    start: usize,
    /// File offset of the aligned region's first byte.
    base: u64,
    /// Set when the filesystem refused a direct write after accepting the open.
    refused: bool,
}

impl DirectAppender {
    fn new(direct: std::fs::File, cached: std::fs::File, offset: u64) -> io::Result<Self> {
        let mut buffer: Vec<u8> = Vec::with_capacity(DIRECT_BUFFER + DIRECT_ALIGN);
        let start = buffer.as_ptr().align_offset(DIRECT_ALIGN);
        let base = offset - offset % DIRECT_ALIGN as u64;
        let head = (offset - base) as usize;
        buffer.resize(start + head, 0);
        cached.read_exact_at(&mut buffer[start..], base)?;
        Ok(Self {
            direct,
            cached,
            buffer,
            start,
            base,
            refused: false,
        })
    }

    fn held(&self) -> usize {
        self.buffer.len() - self.start
    }

    fn append(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = (DIRECT_BUFFER - self.held()).min(data.len());
            self.buffer.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.held() == DIRECT_BUFFER {
                self.write_blocks()?;
            }
        }
        Ok(())
    }

    /// Writes the whole blocks held and keeps the partial one at the region's start.
    fn write_blocks(&mut self) -> io::Result<()> {
        let whole = self.held() - self.held() % DIRECT_ALIGN;
        if whole == 0 {
            return Ok(());
        }
        debug_assert_eq!(
            self.buffer.as_ptr().align_offset(DIRECT_ALIGN),
            self.start,
            "the buffer never moves"
        );
        let blocks = &self.buffer[self.start..self.start + whole];
        let written = if self.refused {
            Err(io::Error::from_raw_os_error(libc::EINVAL))
        } else {
            self.direct.write_all_at(blocks, self.base)
        };
        match written {
            Ok(()) => {}
            // Refused before anything was written: the page cache takes these and the rest.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                self.refused = true;
                self.cached.write_all_at(blocks, self.base)?;
            }
            Err(e) => return Err(e),
        }
        let end = self.buffer.len();
        self.buffer.copy_within(self.start + whole..end, self.start);
        self.buffer.truncate(end - whole);
        self.base += whole as u64;
        Ok(())
    }

    fn finish(mut self) -> io::Result<u64> {
        self.write_blocks()?;
        self.cached
            .write_all_at(&self.buffer[self.start..], self.base)?;
        Ok(self.base + self.held() as u64)
    }
}

/// Appends through the page cache, starting its writeback every [`WRITEBACK_EVERY`] bytes.
struct CachedAppender {
    file: std::fs::File,
    size: u64,
    unsynced: u64,
    writeback: Option<Writeback>,
}

impl CachedAppender {
    fn new(file: std::fs::File, offset: u64) -> Self {
        Self {
            file,
            size: offset,
            unsynced: 0,
            writeback: None,
        }
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.file.write_all_at(data, self.size)?;
        self.size += data.len() as u64;
        self.unsynced += data.len() as u64;
        if self.unsynced >= WRITEBACK_EVERY {
            self.unsynced = 0;
            match &self.writeback {
                Some(running) => running.kick(),
                None => self.writeback = Some(Writeback::start(&self.file)?),
            }
        }
        Ok(())
    }

    fn finish(self) -> io::Result<u64> {
        if let Some(running) = self.writeback {
            running.finish()?;
        }
        Ok(self.size)
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

    /// Sizes of consecutive requests: partial blocks at both ends, a single byte, a request
    /// filling the buffer and more, one ending exactly on a block boundary.
    const REQUESTS: [usize; 7] = [
        1,
        4095,
        4097,
        DIRECT_BUFFER + 123,
        10,
        3 * DIRECT_ALIGN,
        777,
    ];

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    /// Appends [`REQUESTS`] one sink at a time, each in uneven pieces, and checks the file after
    /// every request.
    fn append_requests(path: &Path, open: impl Fn(u64) -> Sink) {
        let content = pattern(REQUESTS.iter().sum());
        let mut offset = 0;
        for size in REQUESTS {
            let mut sink = open(offset as u64);
            let request = &content[offset..offset + size];
            for piece in request.chunks(1000 + size / 3) {
                sink.append(piece).expect("append");
            }
            offset += size;
            assert_eq!(sink.finish().expect("finish"), offset as u64);
            let stored = std::fs::read(path).expect("read upload");
            assert!(
                stored == content[..offset],
                "the file holds exactly the first {offset} bytes"
            );
        }
    }

    #[test]
    fn direct_appends_at_unaligned_offsets_keep_every_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("upload");
        std::fs::File::create(&path).expect("create");
        append_requests(&path, |offset| {
            Sink::open(&path, offset).expect("open sink")
        });
    }

    #[test]
    fn a_refused_direct_write_falls_back_to_the_page_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("upload");
        std::fs::File::create(&path).expect("create");
        append_requests(&path, |offset| {
            match Sink::open(&path, offset).expect("open sink") {
                Sink::Direct(mut direct) => {
                    direct.refused = true;
                    Sink::Direct(direct)
                }
                cached => cached,
            }
        });
    }

    #[test]
    fn cached_appends_keep_every_byte() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("upload");
        std::fs::File::create(&path).expect("create");
        append_requests(&path, |offset| {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .expect("open");
            Sink::Cached(CachedAppender::new(file, offset))
        });
    }
}
