//! Fault injection: the ways a real card misbehaves, on the APDU the tester names.
//!
//! APDUs are counted from 1, every command APDU the card receives since the simulator
//! started (PC/SC pseudo-APDUs included, the vpcd driver's control codes and presence
//! polls not). Each fault fires once.
//!
//! | fault | what the card does with APDU n | what the reader sees |
//! |---|---|---|
//! | `remove_at` | leaves the field without answering | PC/SC: the card is gone (`SCARD_W_REMOVED_CARD`); the vpcd slot stays empty until the card is inserted again |
//! | `corrupt_mac_at` | answers with one bit of its DO'8E' MAC flipped (the last data byte when the answer has no MAC, SW 6988 when it has no data) | a secure-messaging MAC error |
//! | `wrong_sw_at` | answers with only the given status word, no data | that status word |
//! | `stall_at` | answers only after the given time (or leaves, when removed meanwhile) | a read that hangs, then goes on; cancuoc's deadline ends it first |

use std::time::Duration;

use apdu::tlv::{Tag, TlvIter};

/// The faults to inject, each on one APDU number.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultPlan {
    /// The card leaves the field when this APDU arrives.
    pub remove_at: Option<u64>,
    /// The response to this APDU carries a wrong MAC.
    pub corrupt_mac_at: Option<u64>,
    /// The response to this APDU is this status word alone.
    pub wrong_sw_at: Option<(u64, u16)>,
    /// The response to this APDU comes this much later.
    pub stall_at: Option<(u64, Duration)>,
    /// The reader carries short APDUs only: it answers an extended one `6700` itself,
    /// and the chip never sees it (as many contactless readers do).
    pub short_apdu_reader: bool,
}

/// What the card does with one APDU, faults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Answer with these bytes after `delay`.
    Answer {
        /// The response APDU.
        response: Vec<u8>,
        /// How long the card waits before answering (link model and stall).
        delay: Duration,
    },
    /// Leave the field without answering.
    Remove,
}

impl FaultPlan {
    /// Whether no fault is planned.
    pub fn is_empty(&self) -> bool {
        *self == FaultPlan::default()
    }

    /// Whether the card is pulled at APDU `n` (before it is processed).
    pub fn removes_at(&self, n: u64) -> bool {
        self.remove_at == Some(n)
    }

    /// Applies the response faults planned for APDU `n`.
    pub fn apply(&self, n: u64, mut response: Vec<u8>, mut delay: Duration) -> Reply {
        if self.corrupt_mac_at == Some(n) {
            corrupt_mac(&mut response);
            tracing::info!(apdu = n, "fault: corrupted MAC");
        }
        if let Some((at, sw)) = self.wrong_sw_at
            && at == n
        {
            response = sw.to_be_bytes().to_vec();
            tracing::info!(apdu = n, sw = format_args!("{sw:04X}"), "fault: wrong SW");
        }
        if let Some((at, stall)) = self.stall_at
            && at == n
        {
            delay += stall;
            tracing::info!(
                apdu = n,
                seconds = stall.as_secs_f64(),
                "fault: card stalls"
            );
        }
        Reply::Answer { response, delay }
    }
}

/// Whether a raw command APDU is in extended form (ISO/IEC 7816-4: a zero byte where
/// a short Lc or Le would be, followed by more bytes).
pub fn is_extended(apdu: &[u8]) -> bool {
    apdu.len() >= 7 && apdu.get(4) == Some(&0)
}

/// Flips one bit of the response's MAC (DO'8E'), or of its last data byte when it has
/// none; a response without data gets SW 6988 (incorrect secure-messaging objects).
pub fn corrupt_mac(response: &mut Vec<u8>) {
    let data_len = response.len().saturating_sub(2);
    if data_len == 0 {
        *response = vec![0x69, 0x88];
        return;
    }
    let Some(data) = response.get(..data_len) else {
        return;
    };
    let mut offset = 0;
    let mut mac_at = None;
    for object in TlvIter::new(data) {
        let Ok(object) = object else { break };
        let header = object.raw().len() - object.value().len();
        if object.tag() == Tag::new(0x8E) && !object.value().is_empty() {
            mac_at = Some(offset + header);
            break;
        }
        offset += object.raw().len();
    }
    let target = mac_at.unwrap_or(data_len - 1);
    if let Some(byte) = response.get_mut(target) {
        *byte ^= 0x01;
    }
}

/// Parses `N` (an APDU number, from 1).
pub fn parse_apdu_number(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("not an APDU number (1, 2, …): {text}")),
    }
}

/// Parses `N:SW`, SW in hex (`5:6A82`).
pub fn parse_wrong_sw(text: &str) -> Result<(u64, u16), String> {
    let (n, sw) = text
        .split_once(':')
        .ok_or_else(|| format!("expected N:SW, e.g. 5:6A82: {text}"))?;
    let sw = sw.trim();
    if sw.len() != 4 {
        return Err(format!("SW must be 4 hex digits: {sw}"));
    }
    let sw = u16::from_str_radix(sw, 16).map_err(|_| format!("SW must be hex: {sw}"))?;
    Ok((parse_apdu_number(n)?, sw))
}

/// Parses `N:SECONDS` (`7:2.5`).
pub fn parse_stall(text: &str) -> Result<(u64, Duration), String> {
    let (n, secs) = text
        .split_once(':')
        .ok_or_else(|| format!("expected N:SECONDS, e.g. 7:2.5: {text}"))?;
    let secs: f64 = secs
        .trim()
        .parse()
        .map_err(|_| format!("not a number of seconds: {secs}"))?;
    if !(0.0..=3600.0).contains(&secs) {
        return Err(format!("stall must be 0 to 3600 seconds: {secs}"));
    }
    Ok((parse_apdu_number(n)?, Duration::from_secs_f64(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mac_is_what_gets_corrupted() {
        // DO'99' (SW) then DO'8E' (MAC), as a protected READ BINARY answer ends.
        let mut r = vec![
            0x99, 0x02, 0x90, 0x00, 0x8E, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00,
        ];
        corrupt_mac(&mut r);
        assert_eq!(r[6], 0);
        assert_eq!(&r[..6], &[0x99, 0x02, 0x90, 0x00, 0x8E, 0x08]);
        let mut plain = vec![0xAA, 0xBB, 0x90, 0x00];
        corrupt_mac(&mut plain);
        assert_eq!(plain, [0xAA, 0xBA, 0x90, 0x00]);
        let mut bare = vec![0x90, 0x00];
        corrupt_mac(&mut bare);
        assert_eq!(bare, [0x69, 0x88]);
        let mut junk = vec![0x8E];
        corrupt_mac(&mut junk);
    }

    #[test]
    fn faults_fire_on_their_apdu_only() {
        let plan = FaultPlan {
            remove_at: Some(3),
            wrong_sw_at: Some((2, 0x6A82)),
            stall_at: Some((4, Duration::from_secs(1))),
            ..FaultPlan::default()
        };
        assert!(plan.removes_at(3) && !plan.removes_at(2));
        let ok = vec![0x90, 0x00];
        assert_eq!(
            plan.apply(1, ok.clone(), Duration::ZERO),
            Reply::Answer {
                response: ok.clone(),
                delay: Duration::ZERO
            }
        );
        assert_eq!(
            plan.apply(2, vec![1, 0x90, 0x00], Duration::ZERO),
            Reply::Answer {
                response: vec![0x6A, 0x82],
                delay: Duration::ZERO
            }
        );
        assert_eq!(
            plan.apply(4, ok.clone(), Duration::from_millis(5)),
            Reply::Answer {
                response: ok,
                delay: Duration::from_millis(1005)
            }
        );
    }

    #[test]
    fn fault_arguments_parse() {
        assert_eq!(parse_wrong_sw("5:6a82"), Ok((5, 0x6A82)));
        assert!(parse_wrong_sw("0:6A82").is_err());
        assert!(parse_wrong_sw("5:6A8").is_err());
        assert_eq!(parse_stall("7:2.5"), Ok((7, Duration::from_millis(2500))));
        assert!(parse_stall("7:-1").is_err());
        assert!(parse_stall("7").is_err());
    }
}
