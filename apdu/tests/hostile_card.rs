//! A chip that lies: every damaged secure-messaging response gives a clear error, never
//! a panic, and the channel refuses further use after an integrity failure.

mod common;
use common::chip::mrz;

use std::collections::BTreeMap;

use apdu::emulator::{CardEmulator, CardImage, EmulatedFile, FileAccess};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::{Card, Command, Error, Response, StatusWord, bac};

/// The emulator, with a function that may rewrite each raw response once armed.
struct Tamper {
    chip: CardEmulator<ScriptedRng>,
    armed: bool,
    rewrite: fn(Vec<u8>) -> Vec<u8>,
}

impl Card for Tamper {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let raw = self.chip.process(&command.encode()?);
        let raw = if self.armed { (self.rewrite)(raw) } else { raw };
        Response::decode(&raw)
    }
}

fn opened(rewrite: fn(Vec<u8>) -> Vec<u8>) -> apdu::SecureChannel<Tamper> {
    let mut files = BTreeMap::new();
    let mut ef = vec![0x60, 0x82, 0x03, 0xFC];
    ef.extend(std::iter::repeat_n(0x5A, 0x3FC));
    files.insert(
        0x011E,
        EmulatedFile {
            data: ef,
            access: FileAccess::SecureMessaging,
            sfi: None,
        },
    );
    let image = CardImage {
        applications: BTreeMap::from([(ICAO_AID.to_vec(), files)]),
        bac: Some(mrz()),
        ..CardImage::default()
    };
    let tamper = Tamper {
        chip: CardEmulator::with_rng(image, ScriptedRng::from_seed(1)),
        armed: false,
        rewrite,
    };
    let mut channel = bac::open(tamper, &mrz(), &mut ScriptedRng::from_seed(2)).unwrap();
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    read_binary::select_file(&mut channel, 0x011E).unwrap();
    channel.card_mut().armed = true;
    channel
}

fn read_error(rewrite: fn(Vec<u8>) -> Vec<u8>) -> Error {
    let mut channel = opened(rewrite);
    let err = FileReader::default()
        .read_selected(&mut channel)
        .expect_err("a damaged response must not read");
    // Nothing more goes through a channel that failed its integrity check.
    if matches!(
        err,
        Error::BadMac | Error::Malformed(_) | Error::MissingDataObject(_)
    ) {
        assert_eq!(
            channel.transmit(&Command::new(0, 0xB0, 0, 0).with_le(4)),
            Err(Error::ChannelClosed)
        );
    }
    err
}

fn body(raw: &[u8]) -> Vec<u8> {
    raw[..raw.len() - 2].to_vec()
}

fn with_sw(mut data: Vec<u8>) -> Vec<u8> {
    data.extend([0x90, 0x00]);
    data
}

#[test]
fn wrong_mac() {
    assert_eq!(
        read_error(|mut raw| {
            let n = raw.len();
            raw[n - 3] ^= 0x01;
            raw
        }),
        Error::BadMac
    );
}

#[test]
fn flipped_cryptogram() {
    assert_eq!(
        read_error(|mut raw| {
            raw[4] ^= 0x80;
            raw
        }),
        Error::BadMac
    );
}

#[test]
fn missing_do99() {
    // Drop DO'99' (4 bytes before the 10-byte DO'8E').
    let err = read_error(|raw| {
        let b = body(&raw);
        let n = b.len();
        with_sw([&b[..n - 14], &b[n - 10..]].concat())
    });
    assert!(
        matches!(err, Error::BadMac | Error::MissingDataObject(_)),
        "{err:?}"
    );
}

#[test]
fn missing_mac() {
    let err = read_error(|raw| {
        let b = body(&raw);
        with_sw(b[..b.len() - 10].to_vec())
    });
    assert_eq!(err, Error::MissingDataObject("DO'8E' (MAC)"));
}

#[test]
fn truncated_data_objects() {
    for cut in [1usize, 5, 11] {
        let err = read_error(match cut {
            1 => |raw: Vec<u8>| with_sw(body(&raw)[..1].to_vec()),
            5 => |raw: Vec<u8>| with_sw(body(&raw)[..5].to_vec()),
            _ => |raw: Vec<u8>| {
                let b = body(&raw);
                with_sw(b[..b.len() - 3].to_vec())
            },
        });
        assert!(
            matches!(err, Error::Truncated(_) | Error::LengthBeyondBuffer { .. }),
            "{cut}: {err:?}"
        );
    }
}

#[test]
fn a_length_beyond_the_buffer() {
    let err = read_error(|raw| {
        let mut b = body(&raw);
        b[1] = 0x84;
        with_sw(b)
    });
    assert!(
        matches!(err, Error::LengthBeyondBuffer { .. } | Error::Truncated(_)),
        "{err:?}"
    );
}

#[test]
fn success_without_secure_messaging_objects() {
    assert_eq!(
        read_error(|_| vec![0x90, 0x00]),
        Error::MissingDataObject("DO'99' and DO'8E' in a success response")
    );
}

#[test]
fn a_plain_error_status_passes_through() {
    let err = read_error(|_| vec![0x6A, 0x82]);
    assert_eq!(err, Error::Status(StatusWord::FileNotFound));
}

#[test]
fn random_garbage_never_panics() {
    use apdu::crypto::CipherSuite;
    use apdu::secure_messaging::{SessionKeys, SmSession, Ssc};
    let mut rng = ScriptedRng::from_seed(99);
    for _ in 0..5000 {
        let mut junk = vec![0u8; (rand_core::Rng::next_u32(&mut rng) % 300) as usize];
        rand_core::Rng::fill_bytes(&mut rng, &mut junk);
        junk.extend([0x90, 0x00]);
        let response = Response::decode(&junk).unwrap();
        for suite in [CipherSuite::Des3, CipherSuite::Aes128] {
            let mut session =
                SmSession::new(SessionKeys::derive(suite, b"k"), Ssc::zero(suite)).unwrap();
            assert!(session.unprotect_response(&response).is_err());
        }
    }
}
