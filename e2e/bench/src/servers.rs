//! Starting, probing and stopping the two registries under test.
//!
//! Both listen on 127.0.0.1 with filesystem storage and bearer-token auth. Berth issues its own
//! tokens (`/service/token`); distribution trusts a JWKS written here, and the benchmark signs
//! its tokens (ES256) the way an external token server would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::http::{Conn, Sink};

pub const BERTH_PASSWORD: &str = "Bench12345";
/// The project every Berth repository of the benchmark lives in.
pub const PROJECT: &str = "bench";
const DIST_SERVICE: &str = "bench-distribution";
const DIST_ISSUER: &str = "bench-issuer";
const DIST_KID: &str = "bench-key";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Berth,
    Distribution,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Berth => "Berth",
            Self::Distribution => "distribution",
        }
    }
}

/// Paths of the binaries and the signing key shared by every start.
pub struct Setup {
    pub berth_bin: PathBuf,
    pub registry_bin: PathBuf,
    pub work: PathBuf,
    dist_key: EncodingKey,
    jwks: PathBuf,
}

impl Setup {
    /// Generates distribution's token signing key (with `openssl`) and its JWKS file.
    ///
    /// # Errors
    /// `openssl` is missing or fails.
    pub fn new(berth_bin: PathBuf, registry_bin: PathBuf, work: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&work)?;
        let key_file = work.join("dist-token-key.der");
        let gen_key = format!(
            "openssl ecparam -name prime256v1 -genkey -noout \
             | openssl pkcs8 -topk8 -nocrypt -outform DER -out {}",
            key_file.display()
        );
        run_shell(&gen_key)?;
        let der = Command::new("openssl")
            .args([
                "pkey", "-inform", "DER", "-pubout", "-outform", "DER", "-in",
            ])
            .arg(&key_file)
            .stderr(Stdio::null())
            .output()?;
        // A P-256 SubjectPublicKeyInfo ends with the uncompressed point 04 || X || Y.
        let spki = der.stdout;
        if spki.len() < 65 || spki[spki.len() - 65] != 4 {
            bail!("unexpected public key encoding from openssl");
        }
        let point = &spki[spki.len() - 64..];
        let jwks = work.join("dist-jwks.json");
        let set = json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": DIST_KID, "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[..32]),
            "y": URL_SAFE_NO_PAD.encode(&point[32..]),
        }]});
        std::fs::write(&jwks, serde_json::to_vec(&set)?)?;
        let dist_key = EncodingKey::from_ec_der(&std::fs::read(&key_file)?);
        Ok(Self {
            berth_bin,
            registry_bin,
            work,
            dist_key,
            jwks,
        })
    }

    /// Starts `kind` on a free port with data in `data`; returns it once it answers 200, with
    /// the time from spawning to that first 200 (Berth: `/api/v2.0/ping`; distribution: `/v2/`
    /// with a token).
    ///
    /// # Errors
    /// It does not start within 30 seconds.
    pub fn start(&self, kind: Kind, data: &Path) -> Result<(Server, Duration)> {
        self.start_probed(kind, data, true)
    }

    /// Like [`Setup::start`], but distribution runs without auth (for zb, which only speaks
    /// Basic auth).
    ///
    /// # Errors
    /// It does not start within 30 seconds.
    pub fn start_for_zb(&self, kind: Kind, data: &Path) -> Result<(Server, Duration)> {
        self.start_probed(kind, data, false)
    }

    fn start_probed(&self, kind: Kind, data: &Path, auth: bool) -> Result<(Server, Duration)> {
        let (mut server, started) = self.spawn(kind, data, auth)?;
        let probe = match (kind, auth) {
            (Kind::Berth, _) => ("/api/v2.0/ping".to_owned(), String::new()),
            (Kind::Distribution, true) => ("/v2/".to_owned(), server.bearer(&[])?),
            (Kind::Distribution, false) => ("/v2/".to_owned(), String::new()),
        };
        let ready = server.wait_for_200(&probe.0, &probe.1, started)?;
        Ok((server, ready))
    }

    /// Spawns `kind` on a free port with data in `data` without waiting for it; returns the
    /// process and the instant it was spawned.
    ///
    /// # Errors
    /// The process cannot be spawned.
    pub fn spawn(&self, kind: Kind, data: &Path, auth: bool) -> Result<(Server, Instant)> {
        std::fs::create_dir_all(data)?;
        let port = free_port()?;
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let log = std::fs::File::create(data.with_extension("log"))?;
        let mut command = match kind {
            Kind::Berth => {
                let mut c = Command::new(&self.berth_bin);
                c.arg("serve")
                    .arg("--listen")
                    .arg(addr.to_string())
                    .arg("--data-dir")
                    .arg(data)
                    .env("BERTH_ADMIN_PASSWORD", BERTH_PASSWORD)
                    .env("BERTH__TELEMETRY__LOG_FILTER", "warn")
                    .env_remove("RUST_LOG");
                c
            }
            Kind::Distribution => {
                let config = data.with_extension("yml");
                std::fs::write(&config, self.distribution_config(addr, data, auth))?;
                let mut c = Command::new(&self.registry_bin);
                c.arg("serve")
                    .arg(&config)
                    .env("OTEL_TRACES_EXPORTER", "none")
                    .env("OTEL_METRICS_EXPORTER", "none")
                    .env("OTEL_LOGS_EXPORTER", "none");
                c
            }
        };
        let started = Instant::now();
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", kind.label()))?;
        let server = Server {
            kind,
            addr,
            child,
            basic: format!(
                "Basic {}",
                STANDARD.encode(format!("admin:{BERTH_PASSWORD}"))
            ),
            dist_key: self.dist_key.clone(),
        };
        Ok((server, started))
    }

    fn distribution_config(&self, addr: std::net::SocketAddr, data: &Path, auth: bool) -> String {
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
             \x20 cache:\n    blobdescriptor: inmemory\n\
             http:\n  addr: {addr}\n  secret: bench-secret\n",
            data = data.display(),
        );
        if auth {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: http://{addr}/token\n    service: {DIST_SERVICE}\n\
                 \x20   issuer: {DIST_ISSUER}\n    jwks: {jwks}\n",
                jwks = self.jwks.display(),
            ));
        }
        config
    }
}

fn run_shell(script: &str) -> Result<()> {
    let status = Command::new("sh").arg("-c").arg(script).status()?;
    if !status.success() {
        bail!("`{script}` failed with {status}");
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A running registry.
pub struct Server {
    pub kind: Kind,
    pub addr: std::net::SocketAddr,
    child: Child,
    basic: String,
    dist_key: EncodingKey,
}

impl Drop for Server {
    /// A registry never outlives the benchmark, even when a scenario fails.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Server {
    /// Polls `path` until it answers 200; returns the time since `since`.
    ///
    /// # Errors
    /// No 200 within 30 seconds, or the process exited.
    pub fn wait_for_200(&mut self, path: &str, auth: &str, since: Instant) -> Result<Duration> {
        let headers: Vec<(&str, &str)> = if auth.is_empty() {
            Vec::new()
        } else {
            vec![("Authorization", auth)]
        };
        while since.elapsed() < Duration::from_secs(30) {
            if let Ok(mut conn) = Conn::open(self.addr)
                && let Ok(r) = conn.send("GET", path, &headers, &[], Sink::Discard)
                && r.status == 200
            {
                return Ok(since.elapsed());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited with {status} before answering",
                    self.kind.label()
                );
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        bail!(
            "{} did not answer 200 on {path} within 30 s",
            self.kind.label()
        )
    }

    /// A bearer `Authorization` value granting `scopes` (`type:name:actions`).
    ///
    /// # Errors
    /// Berth's token service refuses, or signing fails.
    pub fn bearer(&self, scopes: &[String]) -> Result<String> {
        match self.kind {
            Kind::Berth => {
                let mut target = "/service/token?service=berth".to_owned();
                for scope in scopes {
                    target.push_str("&scope=");
                    target.push_str(&scope.replace(':', "%3A").replace(',', "%2C"));
                }
                let mut conn = Conn::open(self.addr)?;
                let response = conn
                    .send(
                        "GET",
                        &target,
                        &[("Authorization", &self.basic)],
                        &[],
                        Sink::Keep,
                    )?
                    .expect(200, "token")?;
                let body: serde_json::Value = serde_json::from_slice(&response.body)?;
                let token = body["token"]
                    .as_str()
                    .context("token response without token")?;
                Ok(format!("Bearer {token}"))
            }
            Kind::Distribution => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
                let access: Vec<serde_json::Value> = scopes
                    .iter()
                    .filter_map(|s| {
                        let (kind, rest) = s.split_once(':')?;
                        let (name, actions) = rest.rsplit_once(':')?;
                        Some(json!({"type": kind, "name": name,
                                    "actions": actions.split(',').collect::<Vec<_>>()}))
                    })
                    .collect();
                let claims = json!({
                    "iss": DIST_ISSUER, "sub": "bench", "aud": DIST_SERVICE,
                    "exp": now + 7200, "nbf": now - 10, "iat": now,
                    "jti": format!("{now}-{}", access.len()), "access": access,
                });
                let mut header = Header::new(Algorithm::ES256);
                header.kid = Some(DIST_KID.into());
                let token = jsonwebtoken::encode(&header, &claims, &self.dist_key)?;
                Ok(format!("Bearer {token}"))
            }
        }
    }

    /// Credentials for bulk setup requests on `repo`: Basic for Berth (no token round trip
    /// per repository), a freshly signed token for distribution.
    ///
    /// # Errors
    /// Signing fails.
    pub fn setup_auth(&self, repo: &str) -> Result<String> {
        match self.kind {
            Kind::Berth => Ok(self.basic.clone()),
            Kind::Distribution => self.bearer(&[format!("repository:{repo}:pull,push,delete")]),
        }
    }

    /// Makes the project the benchmark's repositories live in (Berth only).
    ///
    /// # Errors
    /// The REST call fails.
    pub fn prepare(&self) -> Result<()> {
        if self.kind == Kind::Berth {
            let body = json!({"project_name": PROJECT, "metadata": {"public": "false"}});
            let body = serde_json::to_vec(&body)?;
            let mut conn = Conn::open(self.addr)?;
            let r = conn.send(
                "POST",
                "/api/v2.0/projects",
                &[
                    ("Authorization", &self.basic),
                    ("Content-Type", "application/json"),
                ],
                &body,
                Sink::Keep,
            )?;
            if r.status != 201 && r.status != 409 {
                bail!("creating project {PROJECT}: {} {}", r.status, r.text());
            }
        }
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Resident memory now, in bytes.
    pub fn rss(&self) -> u64 {
        self.status_kib("VmRSS:") * 1024
    }

    /// Peak resident memory since the last [`Server::reset_peak`], in bytes.
    pub fn peak_rss(&self) -> u64 {
        self.status_kib("VmHWM:") * 1024
    }

    /// Resets the kernel's peak-RSS counter of the process.
    pub fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    /// Stops the process (SIGTERM, then SIGKILL after 5 seconds).
    pub fn stop(mut self) {
        let _ = Command::new("kill").arg(self.pid().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The repository name used for benchmark repository `short` on this registry.
    pub fn repo(&self, short: &str) -> String {
        format!("{PROJECT}/{short}")
    }
}
