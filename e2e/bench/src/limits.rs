//! The machine's ceilings, measured in the same run as the registries: SHA-256 on one core,
//! loopback TCP with one stream, sequential disk write (through the page cache and with
//! O_DIRECT, each ended by fdatasync) and read (O_DIRECT).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use sha2::{Digest as _, Sha256};

/// Bytes per second of each ceiling.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub sha256: f64,
    pub loopback: f64,
    /// Written through the page cache, then synced.
    pub disk_write_cached: f64,
    /// Written with O_DIRECT, then synced.
    pub disk_write_direct: f64,
    pub disk_read: f64,
}

/// Measures every ceiling; `data` is random content of at least `bytes`, `dir` is on the disk
/// the registries store blobs on.
///
/// # Errors
/// The loopback socket or `dd` fails.
pub fn measure(data: &[u8], bytes: usize, dir: &Path) -> Result<Limits> {
    // The best of three: on a shared machine a single pass mostly measures the neighbours.
    let sha256 = (0..3)
        .map(|_| sha256_speed(&data[..bytes / 4]))
        .fold(0.0, f64::max);
    let mut disk_write_cached: f64 = 0.0;
    let mut disk_write_direct: f64 = 0.0;
    for _ in 0..2 {
        disk_write_cached = disk_write_cached.max(dd_speed(dir, bytes, Dd::WriteCached)?);
        disk_write_direct = disk_write_direct.max(dd_speed(dir, bytes, Dd::WriteDirect)?);
    }
    Ok(Limits {
        sha256,
        loopback: loopback_speed(data, bytes * 2)?,
        disk_write_cached,
        disk_write_direct,
        disk_read: dd_speed(dir, bytes, Dd::Read)?,
    })
}

impl Limits {
    /// Each ceiling as the higher of two measurements.
    #[must_use]
    pub fn best_of(self, other: Self) -> Self {
        Self {
            sha256: self.sha256.max(other.sha256),
            loopback: self.loopback.max(other.loopback),
            disk_write_cached: self.disk_write_cached.max(other.disk_write_cached),
            disk_write_direct: self.disk_write_direct.max(other.disk_write_direct),
            disk_read: self.disk_read.max(other.disk_read),
        }
    }

    /// The disk's write ceiling: the faster way of writing to it.
    #[must_use]
    pub fn disk_write(&self) -> f64 {
        self.disk_write_cached.max(self.disk_write_direct)
    }

    /// The ceiling of a push and its name: every byte is written to the disk and hashed, and a
    /// digest is computed on one core, so the lower of the two bounds it.
    #[must_use]
    pub fn push(&self) -> (f64, &'static str) {
        if self.sha256 < self.disk_write() {
            (self.sha256, "SHA-256 one core")
        } else {
            (self.disk_write(), "disk write")
        }
    }
}

fn sha256_speed(data: &[u8]) -> f64 {
    let started = Instant::now();
    let mut hasher = Sha256::new();
    for chunk in data.chunks(1 << 20) {
        hasher.update(chunk);
    }
    std::hint::black_box(hasher.finalize());
    data.len() as f64 / started.elapsed().as_secs_f64()
}

/// One stream of 1 MiB writes to a reader thread that discards what it gets.
fn loopback_speed(data: &[u8], total: usize) -> Result<f64> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let reader = std::thread::spawn(move || -> std::io::Result<u64> {
        let (mut socket, _) = listener.accept()?;
        let mut buf = vec![0u8; 1 << 20];
        let mut got = 0u64;
        loop {
            let n = socket.read(&mut buf)?;
            if n == 0 {
                return Ok(got);
            }
            got += n as u64;
        }
    });
    let mut socket = TcpStream::connect(addr)?;
    // One buffer written again and again, hot in the CPU's caches, as a server sends each chunk
    // from the buffer it has just read it into. Walking the whole of `data` instead measured
    // memory bandwidth on some machines: the registries' pulls ran faster than that "limit".
    let chunk = &data[..data.len().min(1 << 20)];
    let started = Instant::now();
    let mut sent = 0;
    while sent < total {
        let n = (total - sent).min(chunk.len());
        socket.write_all(&chunk[..n])?;
        sent += n;
    }
    drop(socket);
    let got = reader
        .join()
        .map_err(|_| anyhow::anyhow!("loopback reader panicked"))??;
    let elapsed = started.elapsed().as_secs_f64();
    if got != total as u64 {
        bail!("loopback reader got {got} of {total} bytes");
    }
    Ok(total as f64 / elapsed)
}

/// What [`dd_speed`] measures.
#[derive(Clone, Copy)]
enum Dd {
    WriteCached,
    WriteDirect,
    Read,
}

/// `dd` with 1 MiB blocks: a write ended by fdatasync (through the page cache or not), or a read
/// that bypasses the page cache of the file the last write left.
fn dd_speed(dir: &Path, bytes: usize, what: Dd) -> Result<f64> {
    let file = dir.join("dd-limit.bin");
    let count = format!("count={}", bytes >> 20);
    let mut command = Command::new("dd");
    if let Dd::WriteCached | Dd::WriteDirect = what {
        // Reading /dev/urandom would be the bottleneck: copy a prepared, cached file instead.
        let source = dir.join("dd-source.bin");
        make_source(&source, bytes)?;
        command
            .arg(format!("if={}", source.display()))
            .arg(format!("of={}", file.display()))
            .args(["bs=1M", &count, "conv=fdatasync"]);
        if let Dd::WriteDirect = what {
            command.arg("oflag=direct");
        }
        let result = timed(&mut command);
        let _ = std::fs::remove_file(&source);
        return result.map(|secs| bytes as f64 / secs);
    }
    command
        .arg(format!("if={}", file.display()))
        .arg("of=/dev/null")
        .args(["bs=1M", &count, "iflag=direct"]);
    let result = timed(&mut command).map(|secs| bytes as f64 / secs);
    let _ = std::fs::remove_file(&file);
    result
}

/// A source file for the write test, kept in the page cache so reading it costs no disk time.
fn make_source(path: &Path, bytes: usize) -> Result<()> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut block = vec![0u8; 1 << 20];
    let mut file = std::fs::File::create(path)?;
    for _ in 0..(bytes >> 20) {
        crate::fill_random(&mut block, &mut state);
        file.write_all(&block)?;
    }
    file.sync_all()?;
    // Read it once so it is cached.
    let mut sink = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut sink)?;
    Ok(())
}

fn timed(command: &mut Command) -> Result<f64> {
    let started = Instant::now();
    let output = command.output().context("running dd")?;
    let secs = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!("dd failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(secs)
}
