//! Streaming a blob file out in large chunks, one read ahead.
//!
//! Each chunk is read on the blocking pool straight into the buffer that is sent (no
//! intermediate copy), and the next read starts as soon as a chunk is handed over, so the
//! disk or page cache and the socket work at the same time.

use std::fs::File;
use std::io::{self, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tokio::task::JoinHandle;

/// Bytes per chunk: few enough hops to the blocking pool per blob, little memory per download.
const CHUNK: u64 = 1024 * 1024;

type ReadTask = JoinHandle<(File, io::Result<Bytes>)>;

enum State {
    /// A read of `len` bytes is running.
    Reading {
        task: ReadTask,
        len: u64,
    },
    Done,
}

/// The next `length` bytes of a file, as a stream of chunks.
pub(super) struct FileStream {
    /// Bytes not yet asked for.
    remaining: u64,
    state: State,
}

impl FileStream {
    /// Streams `length` bytes from the file's current position.
    pub(super) fn new(file: File, length: u64) -> Self {
        let mut stream = Self {
            remaining: length,
            state: State::Done,
        };
        stream.read_next(file);
        stream
    }

    fn read_next(&mut self, mut file: File) {
        if self.remaining == 0 {
            self.state = State::Done;
            return;
        }
        let len = self.remaining.min(CHUNK);
        self.remaining -= len;
        let task = tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(len as usize);
            let read = (&mut file).take(len).read_to_end(&mut buf);
            (file, read.map(|_| Bytes::from(buf)))
        });
        self.state = State::Reading { task, len };
    }
}

impl Stream for FileStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let State::Reading { task, len } = &mut this.state else {
            return Poll::Ready(None);
        };
        let expected = *len;
        let (file, read) = match Pin::new(task).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(done)) => done,
            Poll::Ready(Err(join)) => {
                this.state = State::Done;
                return Poll::Ready(Some(Err(io::Error::other(join))));
            }
        };
        match read {
            Ok(chunk) if chunk.len() as u64 == expected => {
                this.read_next(file);
                Poll::Ready(Some(Ok(chunk)))
            }
            Ok(_) => {
                this.state = State::Done;
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "blob file is shorter than its recorded size",
                ))))
            }
            Err(err) => {
                this.state = State::Done;
                Poll::Ready(Some(Err(err)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use std::io::{Seek, SeekFrom, Write};

    use super::*;

    fn file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let content: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&content).expect("write");
        (file, content)
    }

    async fn collect(stream: FileStream) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn streams_whole_files_and_ranges_across_chunks() {
        let len = 2 * CHUNK as usize + 1234;
        let (file, content) = file_of(len);
        let whole = collect(FileStream::new(file.reopen().expect("open"), len as u64)).await;
        assert_eq!(whole.expect("read"), content);

        let mut part = file.reopen().expect("open");
        part.seek(SeekFrom::Start(1000)).expect("seek");
        let range = collect(FileStream::new(part, CHUNK + 10)).await;
        assert_eq!(
            range.expect("read"),
            content[1000..1000 + CHUNK as usize + 10]
        );

        let empty = collect(FileStream::new(file.reopen().expect("open"), 0)).await;
        assert!(empty.expect("read").is_empty());
    }

    #[tokio::test]
    async fn a_file_shorter_than_announced_is_an_error() {
        let (file, _) = file_of(100);
        let read = collect(FileStream::new(file.reopen().expect("open"), 200)).await;
        assert_eq!(
            read.expect_err("short file").kind(),
            io::ErrorKind::UnexpectedEof
        );
    }
}
