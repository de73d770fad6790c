//! The local socket API: newline-delimited JSON over a Unix stream socket.
//!
//! `server` accepts connections, `connection` frames lines and runs one client's
//! commands and events, `cmd` answers requests (within the [`crate::fields`] a client
//! may have), `throttle` slows clients guessing access keys. docs/api.md describes the
//! protocol.

pub mod cmd;
pub mod connection;
pub mod context;
pub mod server;
pub mod systemd;
pub mod throttle;

use std::sync::{Arc, Mutex, RwLock};

use crate::config::Config;
use crate::readers::Manager;
use crate::trust::TrustStore;

pub use server::{bind, bind_with, run};

pub use crate::config::MAX_LINE;

/// The API level `info` reports.
pub const API_LEVEL: u32 = 1;

/// What every connection shares: the configuration, the readers, the throttle.
#[derive(Debug)]
pub struct Shared {
    /// The configuration the daemon runs with; replaced by [`Shared::reload`].
    config: RwLock<Arc<Config>>,
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
            config: RwLock::new(Arc::new(config)),
            readers,
        }))
    }

    /// The configuration now.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Takes a new configuration's client rules and throttle, and new trust anchors,
    /// for the connections and reads that start from now on. The socket, the bounds and
    /// the readers stay as they are until a restart; what differs there is returned, to
    /// be reported.
    pub fn reload(&self, mut config: Config, trust: TrustStore) -> Vec<&'static str> {
        let old = self.config();
        let mut kept = Vec::new();
        if config.server.socket != old.server.socket
            || config.server.socket_mode != old.server.socket_mode
            || config.server.socket_group != old.server.socket_group
            || config.server.max_connections != old.server.max_connections
            || config.server.max_line != old.server.max_line
        {
            kept.push("server");
        }
        if config.readers.pcsc != old.readers.pcsc
            || config.readers.nfc != old.readers.nfc
            || config.readers.simulators.len() != old.readers.simulators.len()
            || config
                .readers
                .simulators
                .iter()
                .zip(&old.readers.simulators)
                .any(|(a, b)| a.name != b.name || a.profile != b.profile)
        {
            kept.push("readers");
        }
        config.server = old.server.clone();
        config.readers = old.readers.clone();
        self.throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_rule(config.throttle);
        self.readers.set_trust(trust);
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
        kept
    }
}
