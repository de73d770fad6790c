//! The listener: one task per connection, a bounded number of them, and a graceful
//! shutdown that stops accepting, tells every connection to finish, and waits for them.

use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc, watch};

use super::Shared;
use super::connection::Connection;
use crate::config::Peer;

/// Binds a Unix listener at `path` with mode 0660. A stale socket left at `path` is
/// removed first; a socket something still listens on, or any other kind of file, is an
/// error.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    bind_with(path, 0o660)
}

/// [`bind`] with the socket's mode (the folder is created when missing).
pub fn bind_with(path: &Path, mode: u32) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
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
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(listener)
}

/// Serves `listener` until `shutdown` completes, then cancels the reads under way, lets
/// every connection write its last answers, and returns.
pub async fn run(listener: UnixListener, shared: Arc<Shared>, shutdown: impl Future) {
    let max_connections = shared.config().server.max_connections.max(1);
    let limit = Arc::new(Semaphore::new(max_connections));
    let (notify_tx, notify_rx) = watch::channel(false);
    // Every connection task holds a sender; `recv` returns `None` once all are gone.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    tracing::info!(max_connections, "api: serving");
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
        tokio::spawn(async move {
            serve_connection(stream, shared, notify).await;
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
) {
    let peer = match stream.peer_cred() {
        Ok(cred) => Some(Peer {
            uid: cred.uid(),
            gid: cred.gid(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "api: no peer credentials; the client is refused");
            None
        }
    };
    let client = peer.and_then(|p| shared.config().client_for(p).cloned());
    tracing::info!(
        uid = peer.map(|p| p.uid),
        gid = peer.map(|p| p.gid),
        client = client.as_ref().map(|c| c.name.as_str()),
        "api: connection opened"
    );
    let started = std::time::Instant::now();
    let connection = Connection::new(stream, shared, peer, client);
    if let Err(e) = connection.serve(shutdown).await {
        tracing::debug!(error = %e, "api: connection error");
    }
    tracing::info!(
        uid = peer.map(|p| p.uid),
        seconds = started.elapsed().as_secs_f64(),
        "api: connection closed"
    );
}
