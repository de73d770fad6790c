//! Secure-messaging errors as the emulator answers them (see the emulator's module
//! documentation): every answer to a command it unwrapped is protected, errors included,
//! and a plain answer always means the session is over. Checked on the wire and with the
//! crate's own terminal, which must stay in step with the chip either way.

mod common;
use common::chip::{self, mrz};

use apdu::bac;
use apdu::emulator::{CardEmulator, CardImage, ChipLimits};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::{Card, Command, Error, Response, StatusWord};

const FID: u16 = 0x0101;

fn file() -> Vec<u8> {
    chip::file(0x61, 300)
}

/// A short-length BAC chip (no extended length), like the `passport` profile.
fn chip() -> CardEmulator<ScriptedRng> {
    let image = CardImage {
        applications: chip::one_file(FID, file()),
        bac: Some(mrz()),
        limits: ChipLimits {
            extended_length: false,
            ..ChipLimits::default()
        },
        ..CardImage::default()
    };
    CardEmulator::with_rng(image, ScriptedRng::from_seed(3))
}

/// The emulator, remembering the last answer as it went on the wire.
struct Wire {
    chip: CardEmulator<ScriptedRng>,
    last: Vec<u8>,
}

impl Card for Wire {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        self.last = self.chip.process(&command.encode()?);
        Response::decode(&self.last)
    }

    fn extended_length(&self) -> bool {
        self.chip.extended_length()
    }
}

fn opened() -> apdu::SecureChannel<Wire> {
    let mut wire = Wire {
        chip: chip(),
        last: Vec::new(),
    };
    let mut rng = ScriptedRng::from_seed(9);
    read_binary::select_application(&mut wire, &ICAO_AID).unwrap();
    let mut channel = bac::open(wire, &mrz(), &mut rng).unwrap();
    read_binary::select_file(&mut channel, FID).unwrap();
    channel
}

/// Whether a raw answer carries DO'99' and DO'8E' (a protected status).
fn is_protected(raw: &[u8]) -> bool {
    raw.len() > 2 && raw.contains(&0x99) && raw.windows(2).any(|w| w == [0x8E, 0x08])
}

#[test]
fn an_answer_too_long_for_the_link_is_a_protected_6700_and_the_session_goes_on() {
    let mut channel = opened();
    // 256 bytes under 3DES: 256 + 1 + padding, DO'87' with its header, DO'99', DO'8E'
    // is more than a short response holds.
    let answer = channel
        .transmit(&Command::new(0x00, 0xB0, 0, 0).with_le(256))
        .unwrap();
    assert_eq!(answer.sw, StatusWord::WrongLength);
    assert!(is_protected(&channel.card_mut().last), "a protected status");
    assert!(channel.card_mut().chip.has_secure_channel());
    assert!(!channel.session().is_closed());
    // Both counters advanced together: the next commands work.
    assert_eq!(
        FileReader::default().read_file(&mut channel, FID).unwrap(),
        file()
    );
}

#[test]
fn other_errors_under_secure_messaging_are_protected() {
    let mut channel = opened();
    let missing = read_binary::select_file(&mut channel, 0x0199);
    assert!(missing.is_err());
    assert!(is_protected(&channel.card_mut().last));
    let beyond = channel
        .transmit(&Command::new(0x00, 0xB0, 0x7F, 0x00).with_le(4))
        .unwrap();
    assert!(!beyond.sw.is_success());
    assert!(is_protected(&channel.card_mut().last));
    assert_eq!(
        FileReader::default().read_file(&mut channel, FID).unwrap(),
        file()
    );
}

#[test]
fn an_unsupported_extended_apdu_is_refused_in_plain_and_the_session_goes_on() {
    // An extended-length APDU to a chip without extended length is refused for its
    // length before secure messaging sees it: plain 6700, counters untouched.
    let channel = opened();
    let (mut wire, mut session) = channel.into_parts();
    let before = apdu::secure_messaging::SmSession::new(
        session.keys().clone(),
        apdu::secure_messaging::Ssc::new(session.ssc().as_bytes()).unwrap(),
    )
    .unwrap();
    let extended = session
        .protect_command(&Command::new(0x00, 0xB0, 0, 0).with_le(1000))
        .unwrap();
    assert!(extended.is_extended());
    let answer = wire.transmit(&extended).unwrap();
    assert_eq!(answer.sw, StatusWord::WrongLength);
    assert_eq!(wire.last, [0x67, 0x00]);
    assert!(wire.chip.has_secure_channel());
    // The terminal that steps its counter back goes on in short APDUs.
    let mut channel = apdu::SecureChannel::new(wire, before);
    assert_eq!(
        FileReader::default().read_file(&mut channel, FID).unwrap(),
        file()
    );
}

#[test]
fn a_plain_command_ends_the_session() {
    // A plain command under secure messaging ends it (ICAO 9303-11): the next protected
    // command gets a plain 6987, and the terminal then knows the session is over.
    let channel = opened();
    let (mut wire, session) = channel.into_parts();
    let plain = wire
        .transmit(&Command::new(0x00, 0xB0, 0, 0).with_le(4))
        .unwrap();
    assert!(!wire.chip.has_secure_channel(), "{:?}", plain.sw);
    let mut channel = apdu::SecureChannel::new(wire, session);
    let next = channel
        .transmit(&Command::new(0x00, 0xB0, 0, 0).with_le(4))
        .unwrap();
    assert_eq!(next.sw, StatusWord::SmDataObjectsMissing);
    assert!(channel.session().is_closed());
}

#[test]
fn a_wrong_mac_gets_a_plain_6988_and_ends_the_session() {
    let channel = opened();
    let (mut wire, mut session) = channel.into_parts();
    let mut command = session
        .protect_command(&Command::new(0x00, 0xB0, 0, 0).with_le(4))
        .unwrap();
    if let Some(last) = command.data.last_mut() {
        *last ^= 1;
    }
    let answer = wire.transmit(&command).unwrap();
    assert_eq!(wire.last, [0x69, 0x88]);
    assert!(!wire.chip.has_secure_channel());
    assert_eq!(
        session.unprotect_response(&answer).unwrap().sw,
        StatusWord::SmDataObjectsIncorrect
    );
    assert!(session.is_closed());
}
