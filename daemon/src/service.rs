//! The daemon: the local socket API, and the browser endpoint when configured, served
//! over the reader manager until SIGTERM or SIGINT; the configuration and the trust
//! anchors reloaded on SIGHUP; systemd told of readiness and shutdown.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::api::{self, systemd};
use crate::config::Config;
use crate::trust::TrustStore;

/// Loads the configuration and the trust anchors again, for a reload.
pub type Reload = Box<dyn FnMut() -> Result<(TrustStore, Config), String> + Send>;

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The async runtime did not start.
    #[error("{0}")]
    Runtime(std::io::Error),
    /// The socket, the browser endpoint or the readers did not start.
    #[error("{0}")]
    Start(String),
}

/// Serves `config` with `trust` until SIGTERM or SIGINT; on SIGHUP, `reload` gives the
/// configuration and anchors to go on with.
pub fn run(config: Config, trust: TrustStore, reload: Reload) -> Result<(), ServeError> {
    if trust.is_empty() {
        tracing::warn!("no trust anchors: every card will read as not-verified");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return Err(ServeError::Runtime(e)),
    };
    let outcome = runtime.block_on(async {
        let (listener, created) = listen(&config)?;
        let web = match &config.web {
            Some(w) => crate::web::bind(w).await?,
            None => Vec::new(),
        };
        let shared = api::Shared::start(config, trust)?;
        let signal = shutdown_signal();
        tokio::spawn(reload_on_sighup(reload, shared.clone()));
        if let Err(e) = systemd::notify_ready() {
            tracing::warn!(error = %e, "api: readiness not reported to systemd");
        }
        let (web_stop, mut web_stopping) = tokio::sync::watch::channel(false);
        let web = tokio::spawn(crate::web::run(web, shared.clone(), async move {
            let _ = web_stopping.wait_for(|s| *s).await;
        }));
        let shutdown = async {
            signal.await;
            let _ = web_stop.send(true);
            let _ = systemd::notify_stopping();
        };
        api::run(listener, shared.clone(), shutdown).await;
        let _ = web.await;
        shared.readers.stop();
        if let Some(socket) = created {
            let _ = std::fs::remove_file(socket);
        }
        Ok::<(), String>(())
    });
    // A read stuck in a blocking PC/SC call must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_secs(5));
    outcome.map_err(ServeError::Start)
}

/// SIGTERM and SIGINT, caught from the moment this is built: a signal that
/// arrives before the server first polls for it must still shut it down
/// gracefully (a supervisor may stop the daemon right after readiness).
fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        match (term, int) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            (Ok(mut term), Err(e)) => {
                tracing::warn!(error = %e, "api: no SIGINT handler");
                term.recv().await;
            }
            (Err(e), Ok(mut int)) => {
                tracing::warn!(error = %e, "api: no SIGTERM handler");
                int.recv().await;
            }
            (Err(e), Err(_)) => {
                tracing::warn!(error = %e, "api: no signal handlers");
                std::future::pending::<()>().await;
            }
        }
    }
}

/// On SIGHUP: `reload` reads the configuration and the trust anchors again, and the
/// client rules, the throttle and the anchors apply to what starts from then on. A
/// configuration that does not load is reported and the running one kept.
/// The handler is installed before the task is spawned, so a SIGHUP sent right
/// after readiness reloads rather than ending the daemon.
fn reload_on_sighup(reload: Reload, shared: Arc<api::Shared>) -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let hup = signal(SignalKind::hangup());
    async move {
        let Ok(hup) = hup else {
            tracing::warn!("serve: no SIGHUP handler; the configuration cannot be reloaded");
            return;
        };
        reload_each_hangup(hup, reload, shared).await;
    }
}

async fn reload_each_hangup(
    mut hup: tokio::signal::unix::Signal,
    mut reload: Reload,
    shared: Arc<api::Shared>,
) {
    while hup.recv().await.is_some() {
        match reload() {
            Ok((trust, config)) => {
                for w in &config.warnings {
                    tracing::warn!("config: {w}");
                }
                let rules = config.clients.len();
                let kept = shared.reload(config, trust);
                tracing::info!(rules, "serve: configuration reloaded");
                for section in kept {
                    tracing::warn!(section, "serve: changes here take a restart");
                }
                let _ = systemd::notify_status("configuration reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "serve: reload failed; keeping the running configuration")
            }
        }
    }
}

/// The socket systemd passed, or one bound at the configured path (returned too, so it
/// can be removed at exit; systemd's own socket is left to systemd).
fn listen(config: &Config) -> Result<(tokio::net::UnixListener, Option<PathBuf>), String> {
    let activated = systemd::listener_from_env().map_err(|e| format!("socket activation: {e}"))?;
    if let Some(listener) = activated {
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("socket activation: {e}"))?;
        let listener = tokio::net::UnixListener::from_std(listener)
            .map_err(|e| format!("socket activation: {e}"))?;
        tracing::info!("api: listening on the socket systemd passed");
        return Ok((listener, None));
    }
    let socket = config.server.socket.clone();
    let server = &config.server;
    let listener = api::bind_with(&socket, server.socket_mode)
        .map_err(|e| format!("{}: {e}", socket.display()))?;
    if let Some(gid) = server.socket_group {
        if let Err(e) = nix::unistd::chown(&socket, None, Some(gid)) {
            if server.socket_group_required {
                let _ = std::fs::remove_file(&socket);
                return Err(format!("{}: setting its group: {e}", socket.display()));
            }
            tracing::warn!(error = %e, "api: the socket keeps the daemon's group");
        }
    }
    tracing::info!(socket = %socket.display(), "api: listening");
    Ok((listener, Some(socket)))
}
