//! `cancuoc sim --apdu-log FILE`: one line per command APDU the simulated card receives,
//! in plain terms, so a tester sees what a reader asked for and in which order:
//!
//! ```text
//! 7 SELECT EF 0101 (DG1) [SM] sw=9000
//! 8 READ BINARY DG1 offset=0 le=8 [SM] sw=9000
//! ```
//!
//! Lines are built from the chip's [`CommandSummary`] (after secure-messaging
//! unwrapping) and carry headers only: the instruction, the file, offsets, lengths and
//! the status word sent. Never a data field — those hold access keys, PACE and chip
//! authentication values, and the holder's data. Each line is written with one `write`
//! call as it happens, so another program can follow the file while the card runs.
//! Numbers are the simulator's APDU numbers, the same that `--remove-at N` and the
//! other faults count.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use apdu::emulator::{CommandSummary, Operation};

use crate::lds::LdsFile;

/// Where the lines go; writing stops (with one warning) after the first failure.
pub struct ApduLog {
    out: Box<dyn Write + Send>,
    failed: bool,
}

impl core::fmt::Debug for ApduLog {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ApduLog")
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl ApduLog {
    /// Appends to `path`, creating it when missing.
    pub fn open(path: &Path) -> io::Result<ApduLog> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(ApduLog::to_writer(Box::new(file)))
    }

    /// Writes to `out`, which should not buffer (the lines must be readable at once).
    pub fn to_writer(out: Box<dyn Write + Send>) -> ApduLog {
        ApduLog { out, failed: false }
    }

    /// Writes one line.
    pub fn line(&mut self, line: &str) {
        if self.failed {
            return;
        }
        let mut text = String::with_capacity(line.len() + 1);
        text.push_str(line);
        text.push('\n');
        if let Err(e) = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
        {
            tracing::warn!(error = %e, "APDU log: write failed; no more lines");
            self.failed = true;
        }
    }
}

/// A file identifier in words: `DG2 `-style names for the LDS files, else `EF 2F01`.
fn file_name(fid: u16) -> String {
    match LdsFile::from_fid(fid) {
        Some(file) => file.name().to_owned(),
        None => format!("EF {fid:04X}"),
    }
}

/// What an operation asked for, without any data field.
pub fn describe(operation: &Operation) -> String {
    match *operation {
        Operation::Malformed => "malformed APDU".to_owned(),
        Operation::Protected { ins } => {
            format!("INS {ins:02X} under secure messaging, not unwrapped")
        }
        Operation::SelectMasterFile => "SELECT MF".to_owned(),
        Operation::SelectApplication { emrtd: true } => "SELECT eMRTD application".to_owned(),
        Operation::SelectApplication { emrtd: false } => "SELECT other application".to_owned(),
        Operation::SelectFile { fid } => match LdsFile::from_fid(fid) {
            Some(file) => format!("SELECT EF {fid:04X} ({})", file.name()),
            None => format!("SELECT EF {fid:04X}"),
        },
        Operation::Select { p1, p2 } => format!("SELECT P1={p1:02X} P2={p2:02X}"),
        Operation::ReadBinary {
            fid,
            sfi,
            offset,
            le,
            odd,
        } => {
            let mut out = String::from(if odd {
                "READ BINARY (B1)"
            } else {
                "READ BINARY"
            });
            match (fid, sfi) {
                (Some(fid), Some(sfi)) => {
                    let _ = write!(out, " {} sfi={sfi:02X}", file_name(fid));
                }
                (Some(fid), None) => {
                    let _ = write!(out, " {}", file_name(fid));
                }
                (None, Some(sfi)) => {
                    let _ = write!(out, " sfi={sfi:02X} (no such file)");
                }
                (None, None) => out.push_str(" (no current file)"),
            }
            match offset {
                Some(offset) => {
                    let _ = write!(out, " offset={offset}");
                }
                None => out.push_str(" offset=?"),
            }
            match le {
                Some(le) => {
                    let _ = write!(out, " le={le}");
                }
                None => out.push_str(" le=none"),
            }
            out
        }
        Operation::GetChallenge { le: Some(le) } => format!("GET CHALLENGE le={le}"),
        Operation::GetChallenge { le: None } => "GET CHALLENGE le=none".to_owned(),
        Operation::MutualAuthenticate => "MUTUAL AUTHENTICATE".to_owned(),
        Operation::MseSetAtPace => "MSE:SET AT (PACE)".to_owned(),
        Operation::MseSetAtChipAuthentication => "MSE:SET AT (chip authentication)".to_owned(),
        Operation::MseSetKat => "MSE:SET KAT (chip authentication)".to_owned(),
        Operation::Mse { p1, p2 } => format!("MSE P1={p1:02X} P2={p2:02X}"),
        Operation::GeneralAuthenticate { chained: true } => {
            "GENERAL AUTHENTICATE (chained)".to_owned()
        }
        Operation::GeneralAuthenticate { chained: false } => "GENERAL AUTHENTICATE".to_owned(),
        Operation::InternalAuthenticate => "INTERNAL AUTHENTICATE".to_owned(),
        Operation::GetResponse { le: Some(le) } => format!("GET RESPONSE le={le}"),
        Operation::GetResponse { le: None } => "GET RESPONSE le=none".to_owned(),
        Operation::Other { cla, ins, p1, p2 } => {
            format!("INS {ins:02X} CLA={cla:02X} P1={p1:02X} P2={p2:02X} (not supported)")
        }
    }
}

/// The line of a command the chip answered: `n`, what it asked, `[SM]` when it came
/// under secure messaging, the status word sent (`wire_sw`, faults applied), and the
/// faults that changed the answer.
pub fn chip_line(
    n: u64,
    summary: &CommandSummary,
    wire_sw: Option<u16>,
    faults: &[&str],
) -> String {
    let mut line = format!("{n} {}", describe(&summary.operation));
    if summary.secure_messaging {
        line.push_str(" [SM]");
    }
    push_answer(&mut line, wire_sw, faults);
    let chip_sw = summary.sw.to_u16();
    if wire_sw.is_some_and(|sw| sw != chip_sw) {
        let _ = write!(line, " (the chip said {chip_sw:04X})");
    }
    line
}

/// The line of a PC/SC pseudo-APDU (`FF …`) that the reader, not the chip, answers.
pub fn reader_line(n: u64, apdu: &[u8], wire_sw: Option<u16>, faults: &[&str]) -> String {
    let what = match apdu {
        [0xFF, 0xCA, 0x00, 0x00, ..] => "GET DATA UID".to_owned(),
        [0xFF, 0xCA, 0x01, 0x00, ..] => "GET DATA historical bytes".to_owned(),
        [_, ins, p1, p2, ..] => format!("reader command INS {ins:02X} P1={p1:02X} P2={p2:02X}"),
        _ => "malformed reader command".to_owned(),
    };
    let mut line = format!("{n} {what} (reader)");
    push_answer(&mut line, wire_sw, faults);
    line
}

/// The line of a command the card never answered: it left the field.
pub fn removed_line(n: u64) -> String {
    format!("{n} card removed (fault remove): no answer")
}

fn push_answer(line: &mut String, wire_sw: Option<u16>, faults: &[&str]) {
    match wire_sw {
        Some(sw) => {
            let _ = write!(line, " sw={sw:04X}");
        }
        None => line.push_str(" sw=none"),
    }
    for fault in faults {
        let _ = write!(line, " (fault {fault})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apdu::StatusWord;

    #[test]
    fn lines_name_files_and_keep_to_headers() {
        let read = CommandSummary {
            secure_messaging: true,
            operation: Operation::ReadBinary {
                fid: Some(0x0102),
                sfi: None,
                offset: Some(0),
                le: Some(8),
                odd: false,
            },
            sw: StatusWord::Success,
        };
        assert_eq!(
            chip_line(8, &read, Some(0x9000), &[]),
            "8 READ BINARY DG2 offset=0 le=8 [SM] sw=9000"
        );
        let by_sfi = CommandSummary {
            secure_messaging: true,
            operation: Operation::ReadBinary {
                fid: Some(0x011E),
                sfi: Some(0x1E),
                offset: Some(0),
                le: Some(8),
                odd: false,
            },
            sw: StatusWord::Success,
        };
        assert_eq!(
            chip_line(9, &by_sfi, Some(0x6A82), &["wrong-sw"]),
            "9 READ BINARY EF.COM sfi=1E offset=0 le=8 [SM] sw=6A82 (fault wrong-sw) (the chip said 9000)"
        );
        let select = CommandSummary {
            secure_messaging: false,
            operation: Operation::SelectFile { fid: 0x011C },
            sw: StatusWord::Success,
        };
        assert_eq!(
            chip_line(2, &select, Some(0x9000), &[]),
            "2 SELECT EF 011C (EF.CardAccess) sw=9000"
        );
        assert_eq!(
            describe(&Operation::SelectFile { fid: 0x2F01 }),
            "SELECT EF 2F01"
        );
        assert_eq!(
            describe(&Operation::GeneralAuthenticate { chained: true }),
            "GENERAL AUTHENTICATE (chained)"
        );
        assert_eq!(
            reader_line(1, &[0xFF, 0xCA, 0x00, 0x00, 0x00], Some(0x9000), &[]),
            "1 GET DATA UID (reader) sw=9000"
        );
        assert_eq!(
            removed_line(20),
            "20 card removed (fault remove): no answer"
        );
    }

    /// A writer another thread can read back.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_simulated_read_logs_every_command_and_no_data() {
        use super::super::SimCard;
        use super::super::fault::FaultPlan;
        use super::super::link::LinkModel;
        use super::super::profile;
        use apdu::access::{self, AccessKey};
        use apdu::pace::Can;
        use apdu::read_binary::{FileReader, ICAO_AID};
        use apdu::rng::SystemRng;

        let profile = profile::vn_cccd().unwrap();
        let out = Shared::default();
        let mut card = SimCard::new(&profile, LinkModel::instant(), FaultPlan::default())
            .with_apdu_log(ApduLog::to_writer(Box::new(out.clone())));
        let can = Can::new(&profile.printed.can).unwrap();
        let open = access::open(&mut card, &AccessKey::Can(can), &mut SystemRng).unwrap();
        let mut channel = open.channel;
        apdu::read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
        FileReader::default()
            .read_file(
                &mut channel,
                LdsFile::DataGroup(crate::lds::DataGroup::DG1).fid(),
            )
            .unwrap();
        drop(channel);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, card.counters().apdus, "{text}");
        for (i, line) in lines.iter().enumerate() {
            assert!(line.starts_with(&format!("{} ", i + 1)), "{line}");
            assert!(line.contains(" sw="), "{line}");
        }
        assert!(text.contains("MSE:SET AT (PACE)"), "{text}");
        assert!(text.contains("GENERAL AUTHENTICATE"), "{text}");
        assert!(
            text.contains("SELECT eMRTD application [SM] sw=9000"),
            "{text}"
        );
        assert!(text.contains("READ BINARY DG1 offset=0 le="), "{text}");
        assert!(!text.contains("DG2"), "{text}");
        // Only headers: no CAN, no MRZ, no name.
        for secret in [
            profile.printed.can.as_str(),
            profile.printed.id_number.as_str(),
            profile.printed.document_number.as_str(),
            "DANG",
        ] {
            assert!(!text.contains(secret), "{secret} in the APDU log");
        }
    }
}
