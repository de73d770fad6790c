//! Simulated cards: complete chips with synthetic holders, served in process as an
//! [`apdu::Card`] (for `cancuoc demo` and the tests) or to pcscd through vpcd
//! (`cancuoc sim`), with a link model and fault injection.
//!
//! The layers, outermost first: [`server`] (serving the card to pcscd, inserted and
//! removed on command) → [`vpcd`] (the wire to pcscd) → [`SimCard`] (APDU
//! counting, PC/SC pseudo-APDUs, [`fault`]s, the [`link`] model's delays) →
//! [`apdu::emulator::CardEmulator`] (the chip, from a [`profile::Profile`]).

pub mod apdu_log;
pub mod control;
pub mod face;
pub mod fault;
pub mod issue;
pub mod link;
pub mod profile;
pub mod replay;
pub mod server;
#[cfg(any(test, feature = "test-pki"))]
pub mod test_pki;
pub mod vpcd;

use std::time::Duration;

use apdu::emulator::{CardEmulator, EmulatorStats};
use apdu::rng::SystemRng;
use apdu::{Card, Command, Error, Response};
use rand_core::CryptoRng;

use apdu_log::ApduLog;
use fault::{FaultPlan, Reply};
use link::LinkModel;
use profile::Profile;

/// Counters of one simulator run, printed on exit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Command APDUs received (pseudo-APDUs included).
    pub apdus: u64,
    /// Bytes of command APDUs.
    pub bytes_in: u64,
    /// Bytes of response APDUs.
    pub bytes_out: u64,
    /// Time the card spent waiting before answering (link model and stalls).
    pub delay: Duration,
}

impl Counters {
    /// One line for the log: APDUs, bytes, air time at `bit_rate`, time spent.
    pub fn summary(&self, bit_rate: u32) -> String {
        let air = link::air_time(self.bytes_in + self.bytes_out, bit_rate);
        format!(
            "{} APDUs, {} bytes in, {} bytes out, air time {:.3} s at {} kbit/s, card time {:.3} s",
            self.apdus,
            self.bytes_in,
            self.bytes_out,
            air.as_secs_f64(),
            bit_rate / 1000,
            self.delay.as_secs_f64()
        )
    }
}

/// A simulated card: the chip of a profile behind the link model and the faults.
pub struct SimCard<R: CryptoRng = SystemRng> {
    chip: CardEmulator<R>,
    uid: Vec<u8>,
    historical: Vec<u8>,
    /// What the ATR says about extended length (the chip may accept more).
    extended_announced: Option<bool>,
    link: LinkModel,
    faults: FaultPlan,
    counters: Counters,
    /// In process: whether `transmit` sleeps for the modelled delays.
    realtime: bool,
    /// In process: the card was pulled by a fault.
    removed: bool,
    /// One line per command, when asked for.
    apdu_log: Option<ApduLog>,
}

impl<R: CryptoRng> core::fmt::Debug for SimCard<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimCard")
            .field("link", &self.link)
            .field("faults", &self.faults)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl SimCard<SystemRng> {
    /// The card of `profile`, nonces from the system generator.
    pub fn new(profile: &Profile, link: LinkModel, faults: FaultPlan) -> SimCard<SystemRng> {
        SimCard::with_rng(profile, link, faults, SystemRng)
    }
}

impl<R: CryptoRng> SimCard<R> {
    /// The card of `profile` with this randomness source.
    pub fn with_rng(profile: &Profile, link: LinkModel, faults: FaultPlan, rng: R) -> SimCard<R> {
        let atr = &profile.image.atr;
        // Historical bytes of a contactless ATR: between `3B 8n 80 01` and TCK.
        let historical = atr
            .get(4..atr.len().saturating_sub(1))
            .unwrap_or_default()
            .to_vec();
        let extended_announced = crate::transport::atr::Atr::parse(atr)
            .ok()
            .and_then(|a| a.extended_length_announced());
        SimCard {
            chip: CardEmulator::with_rng(profile.image.clone(), rng),
            uid: profile.uid.clone(),
            historical,
            extended_announced,
            link,
            faults,
            counters: Counters::default(),
            realtime: false,
            removed: false,
            apdu_log: None,
        }
    }

    /// Makes in-process `transmit` sleep for the modelled delays.
    pub fn realtime(mut self, on: bool) -> Self {
        self.realtime = on;
        self
    }

    /// Writes one line per command to `log` (see [`apdu_log`]).
    pub fn with_apdu_log(mut self, log: ApduLog) -> Self {
        self.apdu_log = Some(log);
        self
    }

    /// The ATR.
    pub fn atr(&self) -> &[u8] {
        &self.chip.image().atr
    }

    /// The link model.
    pub fn link(&self) -> &LinkModel {
        &self.link
    }

    /// Counters since the simulator started.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The chip's own counters.
    pub fn chip_stats(&self) -> &EmulatorStats {
        self.chip.stats()
    }

    /// Power-on or reset: the chip forgets selection and session.
    pub fn reset(&mut self) {
        self.chip.reset();
        self.removed = false;
    }

    /// Answers one raw command APDU, faults applied; the caller waits the reply's delay.
    pub fn respond(&mut self, apdu: &[u8]) -> Reply {
        self.counters.apdus += 1;
        self.counters.bytes_in += apdu.len() as u64;
        let n = self.counters.apdus;
        let ins = apdu.get(1).copied().unwrap_or_default();
        if self.faults.removes_at(n) {
            tracing::info!(apdu = n, "fault: card removed");
            if let Some(log) = self.apdu_log.as_mut() {
                log.line(&apdu_log::removed_line(n));
            }
            return Reply::Remove;
        }
        let to_reader = apdu.first() == Some(&0xFF);
        let response = if to_reader {
            self.pseudo_apdu(apdu)
        } else if self.faults.short_apdu_reader && fault::is_extended(apdu) {
            tracing::info!(apdu = n, "reader: extended APDU refused");
            vec![0x67, 0x00]
        } else {
            self.chip.process(apdu)
        };
        let delay = self.link.delay(apdu, response.len());
        let reply = self.faults.apply(n, response, delay);
        if self.apdu_log.is_some() {
            self.log_exchange(n, apdu, &reply, to_reader);
        }
        if let Reply::Answer { response, delay } = &reply {
            self.counters.bytes_out += response.len() as u64;
            self.counters.delay += *delay;
            let sw = response
                .len()
                .checked_sub(2)
                .and_then(|i| response.get(i..))
                .map(hex::encode_upper)
                .unwrap_or_default();
            tracing::debug!(
                apdu = n,
                ins = format_args!("{ins:02X}"),
                sw,
                bytes_in = apdu.len(),
                bytes_out = response.len(),
                delay_ms = delay.as_millis() as u64,
                "exchange"
            );
        }
        reply
    }

    /// Writes the APDU log's line for exchange `n`.
    fn log_exchange(&mut self, n: u64, apdu: &[u8], reply: &Reply, to_reader: bool) {
        let Reply::Answer { response, .. } = reply else {
            return;
        };
        let wire_sw = response
            .len()
            .checked_sub(2)
            .and_then(|i| response.get(i..))
            .and_then(|sw| <[u8; 2]>::try_from(sw).ok())
            .map(u16::from_be_bytes);
        let mut faults = Vec::new();
        if self.faults.corrupt_mac_at == Some(n) {
            faults.push("corrupt-mac");
        }
        if self.faults.wrong_sw_at.is_some_and(|(at, _)| at == n) {
            faults.push("wrong-sw");
        }
        if self.faults.stall_at.is_some_and(|(at, _)| at == n) {
            faults.push("stall");
        }
        let line = match self.chip.last_command() {
            Some(summary) if !to_reader => apdu_log::chip_line(n, summary, wire_sw, &faults),
            _ => apdu_log::reader_line(n, apdu, wire_sw, &faults),
        };
        if let Some(log) = self.apdu_log.as_mut() {
            log.line(&line);
        }
    }

    /// PC/SC part 3 pseudo-APDUs that the reader, not the card, answers: GET DATA UID
    /// (`FF CA 00 00`) and the ATS historical bytes (`FF CA 01 00`).
    fn pseudo_apdu(&self, apdu: &[u8]) -> Vec<u8> {
        let mut out = match apdu {
            [0xFF, 0xCA, 0x00, 0x00, ..] => self.uid.clone(),
            [0xFF, 0xCA, 0x01, 0x00, ..] => self.historical.clone(),
            [0xFF, 0xCA, ..] => return vec![0x6A, 0x81],
            _ => return vec![0x6E, 0x00],
        };
        // Le, when given and nonzero, caps the answer (6CXX would be the pedantic reply).
        if let [_, _, _, _, le] = apdu
            && *le != 0
            && usize::from(*le) < out.len()
        {
            return vec![0x6C, out.len() as u8];
        }
        out.extend_from_slice(&[0x90, 0x00]);
        out
    }
}

impl<R: CryptoRng> Card for SimCard<R> {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        if self.removed {
            return Err(Error::CardRemoved);
        }
        let bytes = command.encode()?;
        match self.respond(&bytes) {
            Reply::Remove => {
                self.removed = true;
                Err(Error::CardRemoved)
            }
            Reply::Answer { response, delay } => {
                if self.realtime {
                    std::thread::sleep(delay);
                }
                Response::decode(&response)
            }
        }
    }

    /// What a reader knows from the ATR, as over PC/SC; the chip may take more.
    fn extended_length(&self) -> bool {
        self.extended_announced == Some(true)
    }

    fn extended_length_announced(&self) -> Option<bool> {
        self.extended_announced
    }
}

#[cfg(test)]
mod attack_tests;
#[cfg(test)]
mod tests;
