//! Inserting and removing the simulated card on command, and stopping the simulator.
//!
//! Signals: `SIGUSR1` removes the card (the vpcd connection is closed, PC/SC sees the
//! slot empty), `SIGUSR2` inserts it again (a fresh power-on: no session survives),
//! `SIGINT`/`SIGTERM` stop the simulator, which prints its counters. A second `SIGINT`
//! kills it at once.
//!
//! Control socket (`cancuoc sim --control PATH`): a Unix stream socket taking one
//! command line per connection — `insert`, `remove` or `status` — and answering one
//! line: `inserted`, `removed`, or the counters. The command is read with a size limit
//! and a timeout, so a stuck client cannot hold the simulator.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest control command accepted.
const MAX_COMMAND: u64 = 64;

/// What the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Stop the simulator.
    Terminate,
    /// Take the card out of the field.
    Remove,
    /// Put the card (back) in the field.
    Insert,
}

/// A request on the control socket, with the connection to answer on.
#[derive(Debug)]
pub struct Request {
    /// What was asked.
    pub command: Command,
    stream: UnixStream,
}

/// A control-socket command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `insert`.
    Insert,
    /// `remove`.
    Remove,
    /// `status`.
    Status,
}

impl Request {
    /// Answers with one line.
    pub fn answer(mut self, line: &str) {
        let _ = writeln!(self.stream, "{line}");
    }
}

/// Signal flags and the optional control socket.
#[derive(Debug)]
pub struct Control {
    terminate: Arc<AtomicBool>,
    remove: Arc<AtomicBool>,
    insert: Arc<AtomicBool>,
    listener: Option<(UnixListener, PathBuf)>,
}

impl Control {
    /// Installs the signal handlers and, when `socket` is given, listens on it.
    pub fn install(socket: Option<&Path>) -> io::Result<Control> {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
        let terminate = Arc::new(AtomicBool::new(false));
        let remove = Arc::new(AtomicBool::new(false));
        let insert = Arc::new(AtomicBool::new(false));
        // A second SIGINT while the first is pending ends the process the default way.
        signal_hook::flag::register_conditional_shutdown(SIGINT, 130, terminate.clone())?;
        signal_hook::flag::register(SIGINT, terminate.clone())?;
        signal_hook::flag::register(SIGTERM, terminate.clone())?;
        signal_hook::flag::register(SIGUSR1, remove.clone())?;
        signal_hook::flag::register(SIGUSR2, insert.clone())?;
        let listener = match socket {
            Some(path) => {
                if path.exists() {
                    // Only a stale socket may be replaced, never another kind of file.
                    use std::os::unix::fs::FileTypeExt;
                    if std::fs::symlink_metadata(path)?.file_type().is_socket() {
                        std::fs::remove_file(path)?;
                    }
                }
                let listener = UnixListener::bind(path)?;
                listener.set_nonblocking(true)?;
                Some((listener, path.to_path_buf()))
            }
            None => None,
        };
        Ok(Control {
            terminate,
            remove,
            insert,
            listener,
        })
    }

    /// The signal events since the last call, in the order terminate, remove, insert.
    pub fn events(&self) -> Vec<Event> {
        let mut out = Vec::new();
        if self.terminate.load(Ordering::Relaxed) {
            out.push(Event::Terminate);
        }
        if self.remove.swap(false, Ordering::Relaxed) {
            out.push(Event::Remove);
        }
        if self.insert.swap(false, Ordering::Relaxed) {
            out.push(Event::Insert);
        }
        out
    }

    /// Whether a removal was asked for and not yet taken by [`Control::events`].
    pub fn removal_pending(&self) -> bool {
        self.remove.load(Ordering::Relaxed)
    }

    /// Whether a stop was asked for.
    pub fn terminating(&self) -> bool {
        self.terminate.load(Ordering::Relaxed)
    }

    /// The next request waiting on the control socket, if any.
    pub fn request(&self) -> Option<Request> {
        let (listener, _) = self.listener.as_ref()?;
        let (stream, _) = listener.accept().ok()?;
        stream.set_nonblocking(false).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_millis(500)))
            .ok()?;
        stream
            .set_write_timeout(Some(Duration::from_millis(500)))
            .ok()?;
        let mut line = String::new();
        BufReader::new(stream.try_clone().ok()?.take(MAX_COMMAND))
            .read_line(&mut line)
            .ok()?;
        let command = match line.trim() {
            "insert" => Command::Insert,
            "remove" => Command::Remove,
            "status" => Command::Status,
            _ => {
                let mut s = stream;
                let _ = writeln!(s, "error: commands are insert, remove, status");
                return None;
            }
        };
        Some(Request { command, stream })
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        if let Some((_, path)) = &self.listener {
            let _ = std::fs::remove_file(path);
        }
    }
}
