//! Terminal against emulator: BAC, then whole files read through secure messaging, on
//! chips with different buffer limits; APDU counts must be the minimum for each chip.

mod common;
use common::chip::mrz;

use std::collections::BTreeMap;

use apdu::emulator::{
    CardEmulator, CardImage, ChipLimits, CommandSummary, EmulatedFile, FileAccess, LeRefusal,
    Operation,
};
use apdu::mrz::MrzKey;
use apdu::read_binary::{self, FileReader, ICAO_AID, ReadLimits};
use apdu::rng::ScriptedRng;
use apdu::{Card, Error, StatusWord, bac};

const FID: u16 = 0x0102;

/// A DG2-like file of exactly `total` bytes: tag 75, four-byte header, varied contents.
fn file_of(total: usize) -> Vec<u8> {
    let value_len = total - 4;
    let mut file = vec![0x75, 0x82, (value_len >> 8) as u8, value_len as u8];
    file.extend((0..value_len).map(|i| (i * 7 + i / 251) as u8));
    file
}

fn card(limits: ChipLimits, file: Vec<u8>) -> CardEmulator<ScriptedRng> {
    let mut files = BTreeMap::new();
    files.insert(
        FID,
        EmulatedFile {
            data: file,
            access: FileAccess::SecureMessaging,
            sfi: Some(2),
        },
    );
    let mut applications = BTreeMap::new();
    applications.insert(ICAO_AID.to_vec(), files);
    let image = CardImage {
        applications,
        bac: Some(mrz()),
        limits,
        ..CardImage::default()
    };
    CardEmulator::with_rng(image, ScriptedRng::from_seed(7))
}

/// BAC, select the application, read the file; returns its bytes and the READ BINARY count.
fn read(chip: &mut CardEmulator<ScriptedRng>) -> Result<(Vec<u8>, usize), Error> {
    let mut rng = ScriptedRng::from_seed(11);
    let mut channel = bac::open(&mut *chip, &mrz(), &mut rng)?;
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    let mut reader = FileReader::default();
    let before = reader.stats().read_binary;
    let data = reader.read_file(&mut channel, FID)?;
    let count = reader.stats().read_binary - before;
    drop(channel);
    assert_eq!(
        count,
        chip.stats().read_binary,
        "terminal and chip count alike"
    );
    Ok((data, count))
}

/// One READ BINARY per chunk: the first answer carries the header, no header-only read.
fn minimum(size: usize, chunk: usize) -> usize {
    size.div_ceil(chunk)
}

const SIZE: usize = 20 * 1024;

#[test]
fn short_length_chip_reads_in_231_byte_chunks() {
    let file = file_of(SIZE);
    let mut chip = card(ChipLimits::default(), file.clone());
    let (data, count) = read(&mut chip).unwrap();
    assert_eq!(data, file);
    // 231 plain bytes are the most whose 3DES-protected answer fits 256 bytes.
    assert_eq!(count, minimum(SIZE, 231));
    assert_eq!(count, 89);
}

#[test]
fn extended_length_chip_reads_the_rest_in_one_command() {
    let file = file_of(SIZE);
    let limits = ChipLimits {
        extended_length: true,
        max_le: 65536,
        le_refusal: LeRefusal::WrongLength,
    };
    let mut chip = card(limits, file.clone());
    let (data, count) = read(&mut chip).unwrap();
    assert_eq!(data, file);
    assert_eq!(count, 1);
}

#[test]
fn extended_length_chip_with_a_small_buffer() {
    let file = file_of(SIZE);
    let limits = ChipLimits {
        extended_length: true,
        max_le: 0x400,
        le_refusal: LeRefusal::ExactLe,
    };
    let mut chip = card(limits, file.clone());
    let (data, count) = read(&mut chip).unwrap();
    assert_eq!(data, file);
    // 6C00 names 256, not 1024: a chip that can only say 8 bits is stepped down by it.
    assert_eq!(count, minimum(SIZE, 256) + 1);
}

#[test]
fn chip_refusing_le_above_e0_with_6700() {
    let file = file_of(SIZE);
    let limits = ChipLimits {
        extended_length: false,
        max_le: 0xE0,
        le_refusal: LeRefusal::WrongLength,
    };
    let mut chip = card(limits, file.clone());
    let (data, count) = read(&mut chip).unwrap();
    assert_eq!(data, file);
    // One refused command teaches the limit; no card can announce it before.
    assert_eq!(count, minimum(SIZE, 0xE0) + 1);
    assert_eq!(count, 93);
}

#[test]
fn chip_refusing_le_above_e0_with_6ce0() {
    let file = file_of(SIZE);
    let limits = ChipLimits {
        extended_length: false,
        max_le: 0xE0,
        le_refusal: LeRefusal::ExactLe,
    };
    let mut chip = card(limits, file.clone());
    let (data, count) = read(&mut chip).unwrap();
    assert_eq!(data, file);
    assert_eq!(count, minimum(SIZE, 0xE0) + 1);
}

#[test]
fn files_past_32767_bytes_use_odd_read_binary() {
    for limits in [
        ChipLimits::default(),
        ChipLimits {
            extended_length: true,
            max_le: 65536,
            le_refusal: LeRefusal::WrongLength,
        },
        ChipLimits {
            extended_length: true,
            max_le: 1000,
            le_refusal: LeRefusal::WrongLength,
        },
    ] {
        let file = file_of(50_000);
        let mut chip = card(limits, file.clone());
        let (data, _) = read(&mut chip).unwrap();
        assert_eq!(data, file, "{limits:?}");
    }
}

#[test]
fn the_learned_limit_holds_for_the_next_file() {
    let limits = ChipLimits {
        extended_length: false,
        max_le: 0xE0,
        le_refusal: LeRefusal::WrongLength,
    };
    let mut chip = card(limits, file_of(SIZE));
    let mut rng = ScriptedRng::from_seed(3);
    let mut channel = bac::open(&mut chip, &mrz(), &mut rng).unwrap();
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let mut reader = FileReader::default();
    reader.read_file(&mut channel, FID).unwrap();
    let first = reader.stats().read_binary;
    reader.read_file(&mut channel, FID).unwrap();
    assert_eq!(reader.stats().read_binary - first, minimum(SIZE, 0xE0));
}

#[test]
fn a_header_claiming_two_gigabytes_is_refused_before_reading() {
    let mut file = vec![0x77, 0x84, 0x80, 0x00, 0x00, 0x00];
    file.extend([0u8; 100]);
    let mut chip = card(ChipLimits::default(), file);
    let err = read(&mut chip).unwrap_err();
    assert!(
        matches!(
            err,
            Error::FileTooLarge {
                size: 0x8000_0006,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(chip.stats().read_binary, 1);
}

#[test]
fn a_file_shorter_than_its_header_is_an_error() {
    let mut file = file_of(1000);
    file.truncate(600);
    let mut chip = card(ChipLimits::default(), file);
    assert!(matches!(read(&mut chip).unwrap_err(), Error::Truncated(_)));
}

#[test]
fn chunk_count_is_bounded() {
    let mut chip = card(ChipLimits::default(), file_of(SIZE));
    let mut rng = ScriptedRng::from_seed(5);
    let mut channel = bac::open(&mut chip, &mrz(), &mut rng).unwrap();
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let mut reader = FileReader::new(ReadLimits {
        max_commands: 10,
        ..ReadLimits::default()
    });
    assert_eq!(
        reader.read_file(&mut channel, FID),
        Err(Error::TooManyChunks(10))
    );
}

#[test]
fn a_wrong_mrz_is_a_wrong_access_key_and_does_not_lock() {
    let mut chip = card(ChipLimits::default(), file_of(100));
    let wrong = MrzKey::new("C01234568", "900101", "300101").unwrap();
    for _ in 0..5 {
        let mut rng = ScriptedRng::from_seed(1);
        assert_eq!(
            bac::open(&mut chip, &wrong, &mut rng).unwrap_err(),
            Error::WrongAccessKey
        );
    }
    assert_eq!(chip.stats().failed_authentications, 5);
    assert_eq!(read(&mut chip).unwrap().0, file_of(100));
}

#[test]
fn data_groups_need_secure_messaging() {
    let mut chip = card(ChipLimits::default(), file_of(100));
    read_binary::select_application(&mut chip, &ICAO_AID).unwrap();
    let err = FileReader::default().read_file(&mut chip, FID).unwrap_err();
    assert_eq!(
        err,
        Error::Status(apdu::StatusWord::SecurityStatusNotSatisfied)
    );
    assert!(!chip.has_secure_channel());
    let _ = chip.extended_length();
}

#[test]
fn reading_by_short_file_identifier_saves_the_select() {
    let file = file_of(1000);
    for sfi_unsupported in [false, true] {
        let mut chip = card(ChipLimits::default(), file.clone());
        let mut image = chip.image().clone();
        image.sfi_unsupported = sfi_unsupported;
        chip = CardEmulator::with_rng(image, ScriptedRng::from_seed(7));
        let mut rng = ScriptedRng::from_seed(11);
        let mut channel = bac::open(&mut chip, &mrz(), &mut rng).unwrap();
        read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
        let mut reader = FileReader::default();
        for _ in 0..2 {
            assert_eq!(reader.read_file_by_sfi(&mut channel, 2, FID).unwrap(), file);
        }
        // Not there under that SFI: the FID decides.
        assert_eq!(
            reader.read_file_by_sfi(&mut channel, 9, 0x0109),
            Err(Error::Status(apdu::StatusWord::FileNotFound))
        );
        let stats = reader.stats();
        drop(channel);
        let minimum = 2 * minimum(1000, 231);
        if sfi_unsupported {
            // One refused READ BINARY teaches the reader to select; never asked again.
            assert_eq!(stats.selects, 3);
            assert_eq!(chip.stats().read_binary, minimum + 1);
        } else {
            // Only the absent file costs a SELECT.
            assert_eq!(stats.selects, 1);
            assert_eq!(chip.stats().read_binary, minimum + 1);
        }
    }
}

/// A card that keeps the chip's summary of every command it passes on.
struct Summarized<'a> {
    chip: &'a mut CardEmulator<ScriptedRng>,
    seen: Vec<CommandSummary>,
}

impl Card for Summarized<'_> {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, Error> {
        let response = self.chip.transmit(command)?;
        self.seen.extend(self.chip.last_command().copied());
        Ok(response)
    }

    fn extended_length(&self) -> bool {
        self.chip.extended_length()
    }
}

#[test]
fn the_chip_summarizes_each_command_after_unwrapping() {
    let mut chip = card(ChipLimits::default(), file_of(600));
    assert_eq!(chip.last_command(), None);
    let mut card = Summarized {
        chip: &mut chip,
        seen: Vec::new(),
    };
    let mut rng = ScriptedRng::from_seed(11);
    let mut channel = bac::open(&mut card, &mrz(), &mut rng).unwrap();
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    FileReader::default().read_file(&mut channel, FID).unwrap();
    drop(channel);
    let seen = card.seen;
    assert_eq!(
        seen.first(),
        Some(&CommandSummary {
            secure_messaging: false,
            operation: Operation::GetChallenge { le: Some(8) },
            sw: StatusWord::Success,
        })
    );
    assert_eq!(
        seen.get(1).map(|s| s.operation),
        Some(Operation::MutualAuthenticate)
    );
    let select = seen.get(2).unwrap();
    assert!(select.secure_messaging);
    assert_eq!(
        select.operation,
        Operation::SelectApplication { emrtd: true }
    );
    // SELECT by file identifier, the largest chunk (it carries the header), then the
    // rest of the file by offset.
    assert_eq!(
        seen.get(3).map(|s| s.operation),
        Some(Operation::SelectFile { fid: FID })
    );
    assert_eq!(
        seen.get(4).map(|s| s.operation),
        Some(Operation::ReadBinary {
            fid: Some(FID),
            sfi: None,
            offset: Some(0),
            le: Some(231),
            odd: false,
        })
    );
    assert_eq!(
        seen.get(5).map(|s| s.operation),
        Some(Operation::ReadBinary {
            fid: Some(FID),
            sfi: None,
            offset: Some(231),
            le: Some(231),
            odd: false,
        })
    );
    assert!(seen.iter().skip(2).all(|s| s.secure_messaging));

    // Outside secure messaging the file is refused, and still named.
    chip.process(&[0x00, 0xB0, 0x82, 0x00, 0x08]);
    assert_eq!(
        chip.last_command(),
        Some(&CommandSummary {
            secure_messaging: false,
            operation: Operation::ReadBinary {
                fid: Some(FID),
                sfi: Some(2),
                offset: Some(0),
                le: Some(8),
                odd: false,
            },
            sw: StatusWord::SecurityStatusNotSatisfied,
        })
    );
    // Bytes that are no APDU, and a protected command without a session.
    chip.process(&[0x00, 0xB0]);
    assert_eq!(
        chip.last_command().map(|s| s.operation),
        Some(Operation::Malformed)
    );
    chip.process(&[0x0C, 0xB0, 0x00, 0x00, 0x00]);
    assert_eq!(
        chip.last_command()
            .map(|s| (s.operation, s.secure_messaging)),
        Some((Operation::Protected { ins: 0xB0 }, true))
    );
}

/// The chip behind a link that does not say whether it carries extended-length APDUs
/// (a generic contactless ATR); `carries_extended: false` is a reader that fails to send
/// them (a transport error, the chip never sees the command).
struct Unannounced<'a> {
    chip: &'a mut CardEmulator<ScriptedRng>,
    carries_extended: bool,
}

impl Card for Unannounced<'_> {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, Error> {
        if command.is_extended() && !self.carries_extended {
            return Err(Error::Transport("reader: extended APDU not sent".into()));
        }
        self.chip.transmit(command)
    }

    fn extended_length_announced(&self) -> Option<bool> {
        None
    }
}

/// BAC over a [`Link`] on `link`, then the file twice; returns the READ BINARY count of
/// each read and what the link learned.
fn read_twice_unannounced(
    chip: &mut CardEmulator<ScriptedRng>,
    carries_extended: bool,
    file: &[u8],
) -> (usize, usize, Option<bool>) {
    let mut link = apdu::Link::new(Unannounced {
        chip,
        carries_extended,
    });
    let mut rng = ScriptedRng::from_seed(11);
    let mut channel = bac::open(&mut link, &mrz(), &mut rng).unwrap();
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let mut reader = FileReader::default();
    assert_eq!(reader.read_file(&mut channel, FID).unwrap(), file);
    let first = reader.stats().read_binary;
    // The same session goes on: the counters of terminal and chip are in step.
    assert_eq!(reader.read_file(&mut channel, FID).unwrap(), file);
    let second = reader.stats().read_binary - first;
    assert_eq!(reader.stats().extended_probes, 1, "tried once per session");
    drop(channel);
    (first, second, link.extended())
}

#[test]
fn extended_length_found_by_trying() {
    let file = file_of(SIZE);
    let limits = ChipLimits {
        extended_length: true,
        max_le: 65536,
        le_refusal: LeRefusal::WrongLength,
    };
    let mut chip = card(limits, file.clone());
    let (first, second, learned) = read_twice_unannounced(&mut chip, true, &file);
    // One short answer carries the header, one extended READ BINARY the rest; the next
    // file costs one command.
    assert_eq!((first, second, learned), (2, 1, Some(true)));
}

#[test]
fn a_refused_try_keeps_the_secure_channel() {
    // The chip refuses the extended command bare (6700) before opening it: its counter
    // did not move, the terminal puts its own back, and the session goes on.
    let file = file_of(SIZE);
    let mut chip = card(ChipLimits::default(), file.clone());
    let (first, second, learned) = read_twice_unannounced(&mut chip, true, &file);
    assert_eq!(learned, Some(false));
    assert_eq!(first, minimum(SIZE, 231) + 1);
    assert_eq!(second, minimum(SIZE, 231));
}

#[test]
fn a_link_that_cannot_carry_extended_apdus_keeps_the_secure_channel() {
    // The reader fails to send it: the chip never saw the command.
    let file = file_of(SIZE);
    let limits = ChipLimits {
        extended_length: true,
        max_le: 65536,
        le_refusal: LeRefusal::WrongLength,
    };
    let mut chip = card(limits, file.clone());
    let (first, second, learned) = read_twice_unannounced(&mut chip, false, &file);
    assert_eq!(learned, Some(false));
    assert_eq!(first, minimum(SIZE, 231) + 1);
    assert_eq!(second, minimum(SIZE, 231));
    // The chip answered every READ BINARY it saw; the try never reached it.
    assert_eq!(chip.stats().read_binary, first + second - 1);
}

/// A chip that announces extended length (ATR) behind a reader that carries short
/// APDUs only: the reader refuses an extended one itself, with a transport error or a
/// bare 6700, and the chip never sees it.
struct ShortReader<'a> {
    chip: &'a mut CardEmulator<ScriptedRng>,
    refuses_with_6700: bool,
}

impl Card for ShortReader<'_> {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, Error> {
        if command.is_extended() {
            if self.refuses_with_6700 {
                return Ok(apdu::Response::status(apdu::StatusWord::WrongLength));
            }
            return Err(Error::Transport("reader: extended APDU not sent".into()));
        }
        self.chip.transmit(command)
    }

    fn extended_length(&self) -> bool {
        true
    }
}

#[test]
fn an_announced_extended_length_the_reader_cannot_carry_falls_back_in_the_session() {
    for refuses_with_6700 in [false, true] {
        let file = file_of(SIZE);
        let limits = ChipLimits {
            extended_length: true,
            max_le: 65536,
            le_refusal: LeRefusal::WrongLength,
        };
        let mut chip = card(limits, file.clone());
        let mut link = apdu::Link::new(ShortReader {
            chip: &mut chip,
            refuses_with_6700,
        });
        assert!(link.extended_length_unconfirmed());
        let mut rng = ScriptedRng::from_seed(11);
        let mut channel = bac::open(&mut link, &mrz(), &mut rng).unwrap();
        read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
        let mut reader = FileReader::default();
        assert_eq!(reader.read_file(&mut channel, FID).unwrap(), file);
        let first = reader.stats().read_binary;
        // The same secure-messaging session goes on in short APDUs.
        assert_eq!(reader.read_file(&mut channel, FID).unwrap(), file);
        let second = reader.stats().read_binary - first;
        drop(channel);
        assert_eq!(link.extended(), Some(false), "6700: {refuses_with_6700}");
        assert_eq!(first, minimum(SIZE, 231) + 1, "one refused try");
        assert_eq!(second, minimum(SIZE, 231));
        assert_eq!(chip.stats().read_binary, first + second - 1);
    }
}

#[test]
fn an_announced_extended_length_that_works_costs_nothing_more() {
    let file = file_of(SIZE);
    let limits = ChipLimits {
        extended_length: true,
        max_le: 65536,
        le_refusal: LeRefusal::WrongLength,
    };
    let mut chip = card(limits, file.clone());
    let (bytes, commands) = read(&mut chip).unwrap();
    assert_eq!(bytes, file);
    let mut link = apdu::Link::new(&mut chip);
    assert!(link.extended_length_unconfirmed());
    let mut rng = ScriptedRng::from_seed(11);
    let mut channel = bac::open(&mut link, &mrz(), &mut rng).unwrap();
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let mut reader = FileReader::default();
    assert_eq!(reader.read_file(&mut channel, FID).unwrap(), file);
    assert_eq!(reader.stats().read_binary, commands);
    drop(channel);
    assert_eq!(link.extended(), Some(true));
    assert!(!link.extended_length_unconfirmed());
}
