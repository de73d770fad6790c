//! Logging to stderr through `tracing`.
//!
//! What may be logged: command names, status words, sizes, timings, step names. What may
//! not: any byte of a data group, an MRZ, a CAN, a key, a name, a number of a person.
//! Types that hold such data print `[redacted]` in `Debug`, so a careless `?value` in a
//! log line cannot leak them either.

use tracing_subscriber::EnvFilter;

/// The environment variable that sets the log filter (`warn` by default), in the
/// `tracing` directive syntax: `CANCUOC_LOG=debug`, `CANCUOC_LOG=apdu=trace,info`.
pub const LOG_ENV: &str = "CANCUOC_LOG";

/// Installs the stderr logger. Calling it twice is harmless.
pub fn init() {
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}
