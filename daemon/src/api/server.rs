//! The listener: one task per connection, a bounded number of them, and a graceful
//! shutdown that stops accepting, tells every connection to finish, and waits for them.

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc, watch};

use super::connection::Connection;
use super::{Config, Shared};

/// Binds a Unix listener at `path` with mode 0660. A stale socket left at `path` is
/// removed first; a socket something still listens on, or any other kind of file, is an
/// error.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is in use by another server", path.display()),
                ));
            }
            std::fs::remove_file(path)?
        }
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Serves `listener` until `shutdown` completes, then waits for the open connections to
/// finish their current command and returns.
pub async fn run(listener: UnixListener, config: Config, shutdown: impl Future) {
    let shared = Arc::new(Shared {
        trust: config.trust.clone(),
        busy: Arc::new(Mutex::new(HashSet::new())),
    });
    let limit = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let (notify_tx, notify_rx) = watch::channel(false);
    // Every connection task holds a sender; `recv` returns `None` once all are gone.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    tracing::info!(max_connections = config.max_connections, "api: serving");
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = limit.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "api: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let shared = shared.clone();
        let notify = notify_rx.clone();
        let done = done_tx.clone();
        let max_line = config.max_line;
        tokio::spawn(async move {
            serve_connection(stream, shared, notify, max_line).await;
            drop(permit);
            drop(done);
        });
    }
    tracing::info!("api: shutting down");
    drop(listener);
    let _ = notify_tx.send(true);
    drop(done_tx);
    let _ = done_rx.recv().await;
    tracing::info!("api: stopped");
}

async fn serve_connection(
    stream: UnixStream,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    max_line: usize,
) {
    let (uid, gid) = match stream.peer_cred() {
        Ok(cred) => (Some(cred.uid()), Some(cred.gid())),
        Err(_) => (None, None),
    };
    tracing::info!(?uid, ?gid, "api: connection opened");
    let mut connection = Connection::new(stream, max_line);
    let started = std::time::Instant::now();
    if let Err(e) = connection.serve(&shared, shutdown).await {
        tracing::debug!(error = %e, "api: connection error");
    }
    tracing::info!(
        ?uid,
        seconds = started.elapsed().as_secs_f64(),
        "api: connection closed"
    );
}
