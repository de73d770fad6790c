//! The link model: how long an exchange with a contactless chip takes, so a simulated
//! read costs what a real one does and every extra APDU or byte shows on the clock.
//!
//! Per command APDU the simulated card waits, before it answers:
//! - the air time of both frames at the bit rate: ISO/IEC 14443 sends 9 bits per byte
//!   (8 data + parity) and each I-block adds a PCB byte and a 2-byte CRC;
//! - a fixed per-APDU latency (reader firmware, USB, the host's PC/SC stack);
//! - the chip's processing time for the commands that do public-key or
//!   key-derivation work (MUTUAL AUTHENTICATE, GENERAL AUTHENTICATE, INTERNAL
//!   AUTHENTICATE, MSE), which dominate real reads after the data itself.
//!
//! [`air_time`] is the lower bound the same bytes need at 8 bits per byte, with no
//! framing: what a test can compute from byte counters alone.

use std::time::Duration;

/// The standard ISO/IEC 14443 bit rates, in bit/s.
pub const BIT_RATES: [u32; 4] = [106_000, 212_000, 424_000, 848_000];

/// Bytes an ISO/IEC 14443-4 I-block adds to its payload: PCB and CRC.
const FRAME_OVERHEAD: usize = 3;
/// Bits on air per byte: 8 data bits and a parity bit.
const BITS_PER_BYTE: u64 = 9;

/// Timing of the link between reader and chip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkModel {
    /// Bit rate in bit/s; 0 turns the model off (answers come at once).
    pub bit_rate: u32,
    /// Fixed time per APDU, on top of the air time.
    pub latency: Duration,
    /// The chip's time for one cryptographic step.
    pub crypto: Duration,
}

impl Default for LinkModel {
    /// A typical ID card on a desktop reader: 424 kbit/s, 2 ms per APDU, 40 ms per
    /// cryptographic step.
    fn default() -> LinkModel {
        LinkModel {
            bit_rate: 424_000,
            latency: Duration::from_millis(2),
            crypto: Duration::from_millis(40),
        }
    }
}

impl LinkModel {
    /// No delays at all (in-process tests).
    pub fn instant() -> LinkModel {
        LinkModel {
            bit_rate: 0,
            latency: Duration::ZERO,
            crypto: Duration::ZERO,
        }
    }

    /// Whether the model adds any delay.
    pub fn is_instant(&self) -> bool {
        self.bit_rate == 0 && self.latency.is_zero() && self.crypto.is_zero()
    }

    /// Time on air for one command and its response, framing included.
    pub fn frame_time(&self, command_len: usize, response_len: usize) -> Duration {
        if self.bit_rate == 0 {
            return Duration::ZERO;
        }
        let bytes = (command_len + FRAME_OVERHEAD + response_len + FRAME_OVERHEAD) as u64;
        let micros = bytes * BITS_PER_BYTE * 1_000_000 / u64::from(self.bit_rate);
        Duration::from_micros(micros)
    }

    /// The chip's processing time for a command with this INS.
    pub fn processing(&self, ins: u8) -> Duration {
        match ins {
            // MUTUAL AUTHENTICATE, GENERAL AUTHENTICATE, INTERNAL AUTHENTICATE, MSE
            // (chip authentication v1 does its key agreement in MSE:Set KAT).
            0x82 | 0x86 | 0x87 | 0x88 | 0x22 => self.crypto,
            _ => Duration::ZERO,
        }
    }

    /// Everything the card waits before answering this exchange.
    pub fn delay(&self, command: &[u8], response_len: usize) -> Duration {
        let ins = command.get(1).copied().unwrap_or_default();
        self.latency + self.frame_time(command.len(), response_len) + self.processing(ins)
    }
}

/// The least time `bytes` take on a link of `bit_rate` bit/s: 8 bits a byte, no framing.
pub fn air_time(bytes: u64, bit_rate: u32) -> Duration {
    if bit_rate == 0 {
        return Duration::ZERO;
    }
    Duration::from_micros(bytes * 8 * 1_000_000 / u64::from(bit_rate))
}

/// Parses a bit rate: bit/s (`106000`), or kbit/s when written `106k` or given as one
/// of 106, 212, 424, 848; `0` turns the model off.
pub fn parse_bit_rate(text: &str) -> Result<u32, String> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, scale) = match t.strip_suffix('k') {
        Some(d) => (d, 1000),
        None => (t.as_str(), 1),
    };
    let value: u32 = digits
        .parse()
        .map_err(|_| format!("not a bit rate: {text}"))?;
    let bps = if scale == 1 && [106, 212, 424, 848].contains(&value) {
        value * 1000
    } else {
        value
            .checked_mul(scale)
            .ok_or_else(|| format!("bit rate too large: {text}"))?
    };
    if bps != 0 && bps < 9600 {
        return Err(format!("bit rate below 9600 bit/s: {text}"));
    }
    Ok(bps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn air_time_scales_with_the_bit_rate() {
        assert_eq!(air_time(106_000 / 8, 106_000), Duration::from_secs(1));
        let (fast, slow) = (air_time(1000, 848_000), air_time(1000, 106_000));
        assert!((fast * 8).abs_diff(slow) < Duration::from_micros(10));
        assert_eq!(air_time(1000, 0), Duration::ZERO);
    }

    #[test]
    fn the_delay_covers_at_least_the_air_time() {
        let link = LinkModel {
            bit_rate: 106_000,
            latency: Duration::from_millis(1),
            crypto: Duration::from_millis(30),
        };
        let command = [0x0C, 0xB0, 0x00, 0x00, 0x0D];
        let d = link.delay(&command, 240);
        assert!(d >= air_time(245, 106_000) + Duration::from_millis(1));
        assert!(link.delay(&[0x00, 0x86, 0, 0], 2) >= Duration::from_millis(31));
        assert_eq!(LinkModel::instant().delay(&command, 240), Duration::ZERO);
    }

    #[test]
    fn bit_rates_parse() {
        assert_eq!(parse_bit_rate("106"), Ok(106_000));
        assert_eq!(parse_bit_rate("848k"), Ok(848_000));
        assert_eq!(parse_bit_rate("212000"), Ok(212_000));
        assert_eq!(parse_bit_rate("0"), Ok(0));
        assert!(parse_bit_rate("12").is_err());
        assert!(parse_bit_rate("fast").is_err());
    }
}
