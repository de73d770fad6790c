//! `cancuoc serve`: the local socket API.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::api;
use crate::cli::exit::Exit;
use crate::cli::read::load_trust;

/// Options of `cancuoc serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Unix socket to listen on (created with mode 0660).
    #[arg(long, value_name = "PATH")]
    pub socket: PathBuf,
    /// CSCA master list (.ml), PEM/DER certificates or CRLs, or a folder of them.
    #[arg(long = "trust", value_name = "PATH")]
    pub trust: Vec<PathBuf>,
    /// Connections served at once.
    #[arg(long, default_value_t = 64)]
    pub max_connections: usize,
}

fn fail(exit: Exit, message: &str) -> ExitCode {
    eprintln!("cancuoc serve: {message}");
    exit.into()
}

/// Completes on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "api: no SIGTERM handler");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs `cancuoc serve`.
pub fn run(args: &Args) -> ExitCode {
    let trust = match load_trust(&args.trust) {
        Ok(t) => t,
        Err(e) => return fail(Exit::Usage, &e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(Exit::Internal, &e.to_string()),
    };
    let mut config = api::Config::new(trust);
    config.max_connections = args.max_connections;
    let outcome = runtime.block_on(async {
        let listener =
            api::bind(&args.socket).map_err(|e| format!("{}: {e}", args.socket.display()))?;
        tracing::info!(socket = %args.socket.display(), "api: listening");
        api::run(listener, config, shutdown_signal()).await;
        let _ = std::fs::remove_file(&args.socket);
        Ok::<(), String>(())
    });
    match outcome {
        Ok(()) => Exit::Ok.into(),
        Err(e) => fail(Exit::Usage, &e),
    }
}
