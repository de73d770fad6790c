//! The listener: one task per connection, a bounded number of them, and a graceful
//! shutdown that stops accepting, tells every connection to finish, and waits for them.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};

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

/// Connections held per uid (waiting for a slot included).
#[derive(Debug, Default)]
struct PerUid {
    counts: Mutex<HashMap<u32, usize>>,
}

/// One connection counted against its uid until dropped.
struct UidSlot {
    per_uid: Arc<PerUid>,
    uid: u32,
}

impl PerUid {
    /// Counts one more connection of `uid`, or `None` when it already holds `max`.
    fn take(self: &Arc<Self>, uid: u32, max: usize) -> Option<UidSlot> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(uid).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(UidSlot {
            per_uid: self.clone(),
            uid,
        })
    }
}

impl Drop for UidSlot {
    fn drop(&mut self) {
        let mut counts = self
            .per_uid
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.uid) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.uid);
            }
        }
    }
}

/// Refuses a connection over its uid's share: one error line if the socket takes it at
/// once, then close. Never waits on the client.
fn refuse_busy(stream: UnixStream, uid: u32, max: usize) {
    tracing::info!(uid, max, "api: connection refused: too many from this uid");
    let answer = super::cmd::error_answer(
        &serde_json::Value::Null,
        super::cmd::Code::Busy,
        &format!("more than {max} connections from this user"),
    );
    if let Ok(mut line) = serde_json::to_vec(&answer) {
        line.push(b'\n');
        let _ = stream.try_write(&line);
    }
}

/// Serves `listener` until `shutdown` completes, then cancels the reads under way, lets
/// every connection write its last answers, and returns.
///
/// Connections are accepted at once and counted per uid (`max_connections_per_uid`:
/// beyond it, refused); each then waits for one of `max_connections` slots.
pub async fn run(listener: UnixListener, shared: Arc<Shared>, shutdown: impl Future) {
    let max_connections = shared.config().server.max_connections.max(1);
    let max_per_uid = shared.config().server.max_connections_per_uid.max(1);
    let per_uid = Arc::new(PerUid::default());
    let limit = Arc::new(Semaphore::new(max_connections));
    let (notify_tx, notify_rx) = watch::channel(false);
    // Every connection task holds a sender; `recv` returns `None` once all are gone.
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    tracing::info!(max_connections, "api: serving");
    tokio::pin!(shutdown);
    loop {
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
        // A peer without credentials is refused by the connection itself.
        let uid = stream.peer_cred().map(|c| c.uid()).unwrap_or(u32::MAX);
        let Some(slot) = per_uid.take(uid, max_per_uid) else {
            refuse_busy(stream, uid, max_per_uid);
            continue;
        };
        let shared = shared.clone();
        let mut notify = notify_rx.clone();
        let done = done_tx.clone();
        let limit = limit.clone();
        tokio::spawn(async move {
            let permit = tokio::select! {
                permit = limit.acquire_owned() => permit.ok(),
                _ = notify.changed() => None,
            };
            if let Some(permit) = permit {
                serve_connection(stream, shared, notify).await;
                drop(permit);
            }
            drop(slot);
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
