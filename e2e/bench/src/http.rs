//! A small blocking HTTP/1.1 client over one keep-alive connection.
//!
//! The benchmark measures registries at the speed of loopback, so the client must cost as
//! little as possible: bodies are written straight from the caller's slice and read into one
//! reused buffer, with no copies and no async machinery in between.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};

use anyhow::{Context, Result, bail};

/// Large enough that a blob body is read with few system calls.
const READ_BUFFER: usize = 1 << 20;

/// What to do with a response body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Keep it in [`Response::body`].
    Keep,
    /// Count its bytes only.
    Discard,
}

/// A response: status, headers (names lower-cased) and the body or its length.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub body_len: u64,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Fails with the status and body when the status is not `want`.
    pub fn expect(self, want: u16, what: &str) -> Result<Self> {
        if self.status != want {
            bail!(
                "{what}: expected {want}, got {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(400)])
            );
        }
        Ok(self)
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
}

/// One keep-alive connection to a server.
pub struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    scratch: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`.
    ///
    /// # Errors
    /// The connection is refused.
    pub fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true)?;
        let writer = stream.try_clone()?;
        Ok(Self {
            addr,
            reader: BufReader::with_capacity(READ_BUFFER, stream),
            writer,
            scratch: vec![0; READ_BUFFER],
        })
    }

    /// Sends one request and reads its response. `headers` are extra header lines; the body
    /// gets a `Content-Length`.
    ///
    /// # Errors
    /// I/O failures or a response that is not HTTP/1.1.
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        sink: Sink,
    ) -> Result<Response> {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        self.writer.write_all(head.as_bytes())?;
        if !body.is_empty() {
            self.writer.write_all(body)?;
        }
        self.read_response(method == "HEAD", sink)
            .with_context(|| format!("{method} {target}"))
    }

    fn read_line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            bail!("connection closed by the server");
        }
        Ok(line.trim_end().to_owned())
    }

    fn read_response(&mut self, head_only: bool, sink: Sink) -> Result<Response> {
        let status_line = self.read_line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .with_context(|| format!("bad status line {status_line:?}"))?;
        let mut headers = Vec::new();
        loop {
            let line = self.read_line()?;
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
            body_len: 0,
        };
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
            return Ok(response);
        }
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            loop {
                let size_line = self.read_line()?;
                let size =
                    u64::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                        .with_context(|| format!("bad chunk size {size_line:?}"))?;
                if size == 0 {
                    // Trailers, then the empty line.
                    while !self.read_line()?.is_empty() {}
                    break;
                }
                self.read_body(size, sink, &mut response)?;
                self.read_line()?;
            }
        } else if let Some(length) = response.header("content-length") {
            let length = length.parse::<u64>().context("bad Content-Length")?;
            self.read_body(length, sink, &mut response)?;
        }
        Ok(response)
    }

    fn read_body(&mut self, mut remaining: u64, sink: Sink, response: &mut Response) -> Result<()> {
        response.body_len += remaining;
        while remaining > 0 {
            let want = remaining.min(self.scratch.len() as u64) as usize;
            let n = self.reader.read(&mut self.scratch[..want])?;
            if n == 0 {
                bail!("connection closed in the middle of a body");
            }
            if sink == Sink::Keep {
                response.body.extend_from_slice(&self.scratch[..n]);
            }
            remaining -= n as u64;
        }
        Ok(())
    }
}

/// The path and query of a `Location` header, which may be absolute or relative.
pub fn location_target(location: &str) -> String {
    match location.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/".into(), |i| rest[i..].to_owned()),
        None => location.to_owned(),
    }
}

/// `target` with one more query parameter.
pub fn with_query(target: &str, key: &str, value: &str) -> String {
    let sep = if target.contains('?') { '&' } else { '?' };
    format!("{target}{sep}{key}={value}")
}
