//! The `berth` command: `serve`, `migrate` and `config` for operators.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use berth::app::{self, AppState};
use berth::config::{Config, Overrides};

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
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
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
        Command::Migrate { data_dir } | Command::Config(ConfigCommand::Check { data_dir }) => {
            Overrides {
                listen: None,
                data_dir: data_dir.clone(),
            }
        }
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
            Command::Migrate { .. } => berth::db::connect_and_migrate(&config)
                .await
                .map(|_| eprintln!("berth: database is up to date"))
                .map_err(|e| e.to_string()),
            Command::Config(ConfigCommand::Check { .. }) => {
                println!("{}", config.redacted_json());
                Ok(())
            }
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

async fn serve(config: Config) -> Result<(), String> {
    let listen = config.server.listen;
    let workers = config.server.workers;
    let purge_after = config.registry.upload_max_age_seconds;
    let state = AppState::build(config, std::env::var("BERTH_ADMIN_PASSWORD").ok())
        .await
        .map_err(|e| e.to_string())?;
    let purger = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            match purger.registry.purge_stale_uploads(purge_after).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "purged stale upload sessions"),
                Err(e) => tracing::warn!(error = %e, "purging stale upload sessions failed"),
            }
        }
    });
    let mut server = actix_web::HttpServer::new(move || app::app(state.clone()))
        .bind(listen)
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    if workers > 0 {
        server = server.workers(workers);
    }
    tracing::info!(%listen, "berth is serving");
    server.run().await.map_err(|e| e.to_string())
}
