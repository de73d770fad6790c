//! Randomness sources. Protocols take any [`rand_core::CryptoRng`]; these cover the
//! product (the operating system's generator) and reproducible runs (a fixed script, or
//! a stream named by a seed and a label).

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

/// The operating system's random number generator.
///
/// A failing system generator leaves no safe way on, so it aborts the read with a panic
/// rather than returning predictable bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemRng;

/// `TryRng` for a generator that only fills bytes: words are read from filled bytes.
macro_rules! byte_filling_rng {
    ($t:ty, |$self_:ident, $dst:ident| $fill:expr) => {
        impl TryRng for $t {
            type Error = Infallible;

            fn try_next_u32(&mut self) -> Result<u32, Infallible> {
                let mut b = [0u8; 4];
                self.try_fill_bytes(&mut b)?;
                Ok(u32::from_le_bytes(b))
            }

            fn try_next_u64(&mut self) -> Result<u64, Infallible> {
                let mut b = [0u8; 8];
                self.try_fill_bytes(&mut b)?;
                Ok(u64::from_le_bytes(b))
            }

            fn try_fill_bytes(&mut $self_, $dst: &mut [u8]) -> Result<(), Infallible> {
                $fill;
                Ok(())
            }
        }

        impl TryCryptoRng for $t {}
    };
}

byte_filling_rng!(SystemRng, |self, dst| {
    #[allow(clippy::expect_used)]
    getrandom::fill(dst).expect("the system random number generator failed")
});

/// Replays a fixed byte script, then continues with a simple deterministic stream.
///
/// For worked examples (whose nonces are given) and for reproducible simulations; never
/// for a real session.
#[derive(Clone, Debug)]
pub struct ScriptedRng {
    script: Vec<u8>,
    position: usize,
    state: u64,
}

impl ScriptedRng {
    /// A generator that first yields `script`, byte by byte.
    pub fn new(script: impl Into<Vec<u8>>) -> ScriptedRng {
        ScriptedRng {
            script: script.into(),
            position: 0,
            state: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// A generator whose stream is fixed by `seed`.
    pub fn from_seed(seed: u64) -> ScriptedRng {
        ScriptedRng {
            script: Vec::new(),
            position: 0,
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    fn next_byte(&mut self) -> u8 {
        if let Some(b) = self.script.get(self.position) {
            self.position += 1;
            return *b;
        }
        // splitmix64: enough for reproducible tests, which is all this type is for.
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u8
    }
}

byte_filling_rng!(ScriptedRng, |self, dst| for b in dst {
    *b = self.next_byte();
});

/// A reproducible stream named by a seed and a label: SHA-256 over (seed, label,
/// counter). For test keys, test signatures and simulated cards only, never for real
/// secrets; unlike [`ScriptedRng`] its bytes look random to the code that checks keys.
///
/// ```
/// use apdu::rng::DeterministicRng;
/// use rand_core::Rng;
/// let mut a = DeterministicRng::new(b"card", "EF.SOD");
/// let mut b = DeterministicRng::new(b"card", "EF.SOD");
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Clone)]
pub struct DeterministicRng {
    key: [u8; 32],
    counter: u64,
    buffer: [u8; 32],
    used: usize,
}

impl core::fmt::Debug for DeterministicRng {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DeterministicRng([redacted])")
    }
}

impl DeterministicRng {
    /// A stream determined by `seed` and `label`.
    pub fn new(seed: &[u8], label: &str) -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update((seed.len() as u64).to_be_bytes());
        h.update(seed);
        h.update(label.as_bytes());
        DeterministicRng {
            key: h.finalize().into(),
            counter: 0,
            buffer: [0; 32],
            used: 32,
        }
    }

    fn fill(&mut self, dst: &mut [u8]) {
        use sha2::Digest;
        for b in dst {
            if self.used >= self.buffer.len() {
                let mut h = sha2::Sha256::new();
                h.update(self.key);
                h.update(self.counter.to_be_bytes());
                self.buffer = h.finalize().into();
                self.counter += 1;
                self.used = 0;
            }
            if let Some(next) = self.buffer.get(self.used) {
                *b = *next;
            }
            self.used += 1;
        }
    }
}

byte_filling_rng!(DeterministicRng, |self, dst| self.fill(dst));
