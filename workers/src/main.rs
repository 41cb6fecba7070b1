//! The `berth` command: `serve`, `worker`, `migrate` and `config` for operators.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use berth::app::{self, AppState};
use berth::config::{Config, Overrides};
use berth_workers::Workers;

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "A multi-tenant OCI container registry"
)]
struct Cli {
    /// Configuration file (TOML). Environment variables `BERTH__SECTION__KEY` override it.
    #[arg(long, short, global = true, env = "BERTH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry, the REST API and the token service (the default).
    Serve {
        /// Address to listen on, for example 0.0.0.0:5000.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Directory for the embedded database and blobs.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Run only the background workers (garbage collection, retention, quotas), no HTTP.
    Worker {
        /// Directory for the embedded database and blobs.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check that the database and the blob store agree; exits 1 when they disagree.
    Fsck {
        /// Delete rows whose content is lost, one-sided upload sessions and unreferenced
        /// content. Run it while no pushes are in flight.
        #[arg(long)]
        repair: bool,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Load and validate the configuration, then print it (secrets redacted).
    Check {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    allocator::tune();
    berth::install_crypto_provider();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve {
        listen: None,
        data_dir: None,
    });
    let overrides = match &command {
        Command::Serve { listen, data_dir } => Overrides {
            listen: *listen,
            data_dir: data_dir.clone(),
        },
        Command::Worker { data_dir }
        | Command::Migrate { data_dir }
        | Command::Config(ConfigCommand::Check { data_dir })
        | Command::Fsck { data_dir, .. } => Overrides {
            listen: None,
            data_dir: data_dir.clone(),
        },
    };
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("berth: {e}");
            return ExitCode::from(2);
        }
    };
    berth::telemetry::init(&config.telemetry);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Serve { .. } => serve(config).await,
            Command::Worker { .. } => worker(config).await,
            Command::Migrate { .. } => berth::db::connect_and_migrate(&config)
                .await
                .map(|_| eprintln!("berth: database is up to date"))
                .map_err(|e| e.to_string()),
            Command::Config(ConfigCommand::Check { .. }) => {
                println!("{}", config.redacted_json());
                Ok(())
            }
            Command::Fsck { repair, .. } => fsck(config, repair).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn fsck(config: Config, repair: bool) -> Result<(), String> {
    let db = berth::db::connect_and_migrate(&config)
        .await
        .map_err(|e| e.to_string())?;
    let store = app::open_store(&config).await.map_err(|e| e.to_string())?;
    let registry = berth::registry::Registry::new(db, store, config.registry.max_manifest_bytes);
    let report = registry.fsck(repair).await.map_err(|e| e.to_string())?;
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    for digest in &report.unreferenced {
        println!("unreferenced: {digest}");
    }
    println!(
        "checked {} blobs and {} manifests: {} disagreements, {} unreferenced blobs, {} pending \
         blob rows{}",
        report.blobs_checked,
        report.manifests_checked,
        report.problems.len(),
        report.unreferenced.len(),
        report.pending,
        if repair {
            format!(", {} repaired", report.repaired)
        } else {
            String::new()
        }
    );
    if report.problems.is_empty() || repair {
        Ok(())
    } else {
        Err(format!(
            "{} disagreements between the database and the blob store",
            report.problems.len()
        ))
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let listen = config.server.listen;
    let http_workers = config.server.workers;
    let embedded = config.workers.embedded;
    let workers_config = config.workers.clone();
    let state = AppState::build(config, std::env::var("BERTH_ADMIN_PASSWORD").ok())
        .await
        .map_err(|e| e.to_string())?;
    // A crash may have left session rows whose storage session is gone: drop them before
    // serving, so clients asking about them get a clean BLOB_UPLOAD_UNKNOWN.
    match state.registry.recover_upload_sessions().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed upload sessions a crash left behind"),
        Err(e) => tracing::warn!(error = %e, "recovering upload sessions failed"),
    }
    let workers = if embedded {
        Some(
            Workers::start(state.clone(), &workers_config)
                .await
                .map_err(|e| format!("cannot start the workers: {e}"))?,
        )
    } else {
        None
    };
    let pulls = state.pulls.clone();
    let mut server = actix_web::HttpServer::new(move || app::app(state.clone()))
        .bind(listen)
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    if http_workers > 0 {
        server = server.workers(http_workers);
    }
    tracing::info!(%listen, workers.embedded = embedded, "berth is serving");
    tokio::spawn(async {
        // By now every HTTP worker has built its app.
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        allocator::release_free_memory();
    });
    let served = server.run().await.map_err(|e| e.to_string());
    pulls.flush().await;
    if let Some(workers) = workers {
        workers.shutdown().await;
    }
    served
}

async fn worker(config: Config) -> Result<(), String> {
    let workers_config = config.workers.clone();
    let state = AppState::build(config, std::env::var("BERTH_ADMIN_PASSWORD").ok())
        .await
        .map_err(|e| e.to_string())?;
    let workers = Workers::start(state, &workers_config)
        .await
        .map_err(|e| format!("cannot start the workers: {e}"))?;
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for a signal: {e}"))?;
    tracing::info!("stopping the workers");
    workers.shutdown().await;
    Ok(())
}

/// Settings of glibc's allocator, which keeps memory it has freed unless told otherwise.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "glibc's allocator settings are C calls")]
mod allocator {
    /// Blocks at least this large get their own mapping, returned to the system when freed.
    /// Without a fixed threshold glibc raises it to the largest block freed so far, so after
    /// the first password check (argon2id takes 19 MiB) every later one is served from the
    /// heap and stays resident.
    const MMAP_THRESHOLD: libc::c_int = 4 * 1024 * 1024;
    /// Free memory at the top of a heap is given back only past this much. Fixing the mmap
    /// threshold also fixes this one, at 128 KiB by default, and then every download's 1 MiB
    /// buffers were given back and faulted in again, halving pull throughput.
    const TRIM_THRESHOLD: libc::c_int = 32 * 1024 * 1024;

    pub fn tune() {
        // SAFETY: `mallopt` only changes allocator parameters; it is called before any other
        // thread exists.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }

    /// Returns the pages of freed memory in every arena to the system. Each HTTP worker thread
    /// builds its own copy of the app at start (routes, their patterns, the API document) and
    /// frees several megabytes of scratch memory doing so, which glibc would otherwise keep.
    pub fn release_free_memory() {
        // SAFETY: `malloc_trim` is thread-safe and has no preconditions.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod allocator {
    pub fn tune() {}
    pub fn release_free_memory() {}
}
