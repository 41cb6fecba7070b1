//! Database outages: requests get a 503 in the API's error shape while PostgreSQL cannot be
//! reached, and service resumes by itself when it is back. The database sits behind a TCP proxy
//! the test cuts, as a network partition or a database restart would.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::support::*;

/// Forwards 127.0.0.1:<port> to `upstream` while up; while down it closes every connection,
/// open or new.
struct DbProxy {
    port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<tokio::sync::Mutex<JoinSet<()>>>,
}

impl DbProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
        let (flag, tasks) = (up.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let upstream = upstream.clone();
                tasks.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self {
            port,
            up,
            connections,
        }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_answers_503_then_recovers() {
    if std::env::var(TEST_DATABASE_URL).is_err() {
        eprintln!("{TEST_DATABASE_URL} is not set: the outage test needs PostgreSQL; skipped");
        return;
    }
    let base = url::Url::parse(&std::env::var(TEST_DATABASE_URL).expect("set")).expect("url");
    let upstream = format!(
        "{}:{}",
        base.host_str().expect("host"),
        base.port().unwrap_or(5432)
    );
    let proxy = DbProxy::start(upstream).await;
    let port = proxy.port;
    let app = TestApp::start_with(move |config| {
        let mut url =
            url::Url::parse(config.database.url.as_deref().expect("postgres url")).expect("url");
        url.set_host(Some("127.0.0.1")).expect("host");
        url.set_port(Some(port)).expect("port");
        config.database.url = Some(url.to_string());
        config.database.acquire_timeout_seconds = 2;
    })
    .await;
    app.create_project("proj", false).await;
    let manifest = app.push_m1("proj/app", "v1").await;

    proxy.cut().await;
    let res = app
        .admin(Method::GET, "/v2/proj/app/manifests/v1")
        .send()
        .await
        .expect("request during outage");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let code = error_code(res).await;
    assert!(!code.is_empty(), "OCI errors array present");
    let res = app
        .admin(Method::GET, "/api/v2.0/projects")
        .send()
        .await
        .expect("request during outage");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(res).await, "SERVICE_UNAVAILABLE");
    let res = app
        .admin(Method::POST, "/v2/proj/app/blobs/uploads/")
        .send()
        .await
        .expect("request during outage");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = app
            .admin(Method::GET, "/v2/proj/app/manifests/v1")
            .header("Accept", OCI_MANIFEST)
            .send()
            .await
            .expect("request after outage");
        if res.status() == StatusCode::OK {
            assert_eq!(header(&res, "docker-content-digest"), manifest);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume: {}",
            res.status()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    app.push_m1("proj/app", "v2").await;
}
