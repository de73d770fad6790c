//! The local socket API (first slice): newline-delimited JSON over a Unix stream socket.
//! `server` accepts connections, `connection` frames lines, `cmd` answers requests.
//! docs/api.md describes the protocol.

pub mod cmd;
pub mod connection;
pub mod server;
pub mod systemd;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use crate::trust::TrustStore;

pub use server::{bind, run};

/// The longest request line accepted, in bytes (without the newline).
pub const MAX_LINE: usize = 64 * 1024;

/// The API level `info` reports.
pub const API_LEVEL: u32 = 1;

/// What the server is run with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Trust anchors for passive authentication, loaded at startup.
    pub trust: Arc<TrustStore>,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// The longest request line, in bytes.
    pub max_line: usize,
}

impl Config {
    /// A configuration with the default bounds.
    pub fn new(trust: TrustStore) -> Config {
        Config {
            trust: Arc::new(trust),
            max_connections: 64,
            max_line: MAX_LINE,
        }
    }
}

/// State shared by all connections.
#[derive(Debug)]
pub struct Shared {
    /// The trust anchors.
    pub trust: Arc<TrustStore>,
    /// Readers with a read under way.
    pub busy: Arc<Mutex<HashSet<String>>>,
}
