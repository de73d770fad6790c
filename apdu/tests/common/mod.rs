//! Helpers shared by the integration tests: the ICAO vectors file and a deterministic RNG.
#![allow(dead_code)]

use std::convert::Infallible;

use sha2::{Digest, Sha256};

/// The shared ICAO 9303-11 worked-example vectors (read at test time, never copied).
pub fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/icao9303-11.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("test vectors missing at {path}: {e}"));
    serde_json::from_str(&text).expect("vectors JSON")
}

/// Hex field of a JSON object (panics with the field name when absent).
pub fn h(v: &serde_json::Value, key: &str) -> Vec<u8> {
    let s = v
        .get(key)
        .and_then(|x| x.as_str())
        .unwrap_or_else(|| panic!("vector field {key} missing"));
    hex::decode(s).unwrap_or_else(|e| panic!("vector field {key}: {e}"))
}

/// A deterministic SHA-256 counter-mode generator, so failures reproduce.
pub struct TestRng {
    seed: [u8; 32],
    counter: u64,
}

impl TestRng {
    pub fn new(label: &[u8]) -> TestRng {
        TestRng {
            seed: Sha256::digest(label).into(),
            counter: 0,
        }
    }
}

impl rand_core::TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_be_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_be_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(32) {
            let mut hasher = Sha256::new();
            hasher.update(self.seed);
            hasher.update(self.counter.to_be_bytes());
            self.counter += 1;
            let block = hasher.finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}
