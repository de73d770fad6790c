//! Secure-messaging unwrapping of arbitrary responses (terminal side) and commands (card
//! side), under both cipher suites.
#![no_main]

use apdu::crypto::CipherSuite;
use apdu::secure_messaging::{SessionKeys, SmSession, Ssc};
use apdu::{Command, Response};
use libfuzzer_sys::fuzz_target;

fn session(suite: CipherSuite) -> SmSession {
    SmSession::new(SessionKeys::derive(suite, b"fuzz"), Ssc::zero(suite)).expect("valid session")
}

fuzz_target!(|data: &[u8]| {
    for suite in [CipherSuite::Des3, CipherSuite::Aes128] {
        if let Ok(response) = Response::decode(data) {
            let _ = session(suite).unprotect_response(&response);
        }
        if let Ok(command) = Command::decode(data) {
            let _ = session(suite).unprotect_command(&command);
        }
        // A well-formed wrapper around fuzzed contents reaches the MAC and decryption code.
        let mut terminal = session(suite);
        let mut chip = session(suite);
        if let Ok(protected) = terminal.protect_command(&Command::new(0, 0xB0, 0, 0).with_le(16)) {
            let _ = chip.unprotect_command(&protected);
            let answer = Response::new(data.to_vec(), apdu::StatusWord::Success);
            if let Ok(mut wire) = chip.protect_response(0xB0, &answer) {
                if let Some(first) = data.first() {
                    let at = usize::from(*first) % wire.data.len().max(1);
                    if let Some(b) = wire.data.get_mut(at) {
                        *b ^= data.get(1).copied().unwrap_or(1) | 1;
                    }
                }
                let _ = terminal.unprotect_response(&wire);
            }
        }
    }
});
