//! The local socket API: newline-delimited JSON over a Unix stream socket.
//!
//! `server` accepts connections, `connection` frames lines and runs one client's
//! commands and events, `cmd` answers requests, `policy` decides which fields a client
//! may have, `throttle` slows clients guessing access keys. docs/api.md describes the
//! protocol.

pub mod cmd;
pub mod connection;
pub mod policy;
pub mod server;
pub mod systemd;
pub mod throttle;

use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::readers::Manager;
use crate::trust::TrustStore;

pub use server::{bind, bind_with, run};

/// The longest request line accepted by default, in bytes (without the newline).
pub const MAX_LINE: usize = 64 * 1024;

/// The API level `info` reports.
pub const API_LEVEL: u32 = 1;

/// What every connection shares: the configuration, the readers, the throttle.
#[derive(Debug)]
pub struct Shared {
    /// The configuration the daemon runs with.
    pub config: Config,
    /// The readers.
    pub readers: Arc<Manager>,
    /// Wrong-key counters.
    pub throttle: Mutex<throttle::Throttle>,
}

impl Shared {
    /// Starts the reader manager for `config`, verifying against `trust`.
    pub fn start(config: Config, trust: TrustStore) -> Result<Arc<Shared>, String> {
        let readers = Manager::start(&config.readers, Arc::new(trust))?;
        Ok(Arc::new(Shared {
            throttle: Mutex::new(throttle::Throttle::new(config.throttle)),
            config,
            readers,
        }))
    }
}
