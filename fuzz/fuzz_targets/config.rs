#![no_main]

use cancuoc::config::{Config, Peer};
use libfuzzer_sys::fuzz_target;

// The daemon's TOML configuration.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = Config::parse(text) {
        let _ = config.client_for(Peer { uid: 1000, gid: 1000 });
    }
});
