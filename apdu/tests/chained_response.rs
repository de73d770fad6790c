//! Answers longer than a short Ne: the emulator chains them with 61xx and GET RESPONSE
//! (ISO/IEC 7816-4 §5.3.4) and the terminal reassembles them; under secure messaging the
//! whole protected answer is chained and unwrapped once complete. The case that needs it:
//! RSA-2048 active authentication under 3DES secure messaging on a short-length chip.

mod common;
use common::chip::{self, mrz};

use std::sync::Arc;

use apdu::active_auth::{self, ChipAa};
use apdu::bac;
use apdu::emulator::{CardEmulator, CardImage, ChipAttack, Operation};
use apdu::hash::HashAlgorithm;
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::{Card, Command, StatusWord};

const FID: u16 = 0x0101;

fn file() -> Vec<u8> {
    chip::file(0x61, 300)
}

/// A short-length BAC chip with an RSA active authentication key of `bits`.
fn chip(bits: usize, attack: ChipAttack) -> CardEmulator<ScriptedRng> {
    let aa = ChipAa::rsa_generate(
        bits,
        HashAlgorithm::Sha256,
        &mut ScriptedRng::from_seed(bits as u64),
    )
    .unwrap();
    let image = CardImage {
        applications: chip::one_file(FID, file()),
        bac: Some(mrz()),
        active_authentication: Some(Arc::new(aa)),
        attack,
        ..CardImage::default()
    };
    CardEmulator::with_rng(image, ScriptedRng::from_seed(3))
}

#[test]
fn rsa_2048_active_authentication_under_3des_on_a_short_length_chip() {
    let mut emulator = chip(2048, ChipAttack::default());
    assert!(!emulator.extended_length());
    let public = emulator
        .image()
        .active_authentication
        .as_ref()
        .unwrap()
        .public_key();
    let mut rng = ScriptedRng::from_seed(9);
    read_binary::select_application(&mut emulator, &ICAO_AID).unwrap();
    let mut channel = bac::open(&mut emulator, &mrz(), &mut rng).unwrap();
    let before = channel.card_mut().stats().commands;
    active_auth::authenticate_random(&mut channel, &public, None, &mut rng).unwrap();
    // The 256-byte signature under 3DES: DO'87' (87 82 01 09 01 + 264 bytes), DO'99' and
    // DO'8E', 283 bytes in all. INTERNAL AUTHENTICATE (short, Le 00) brings 256 of them
    // and 611B, one GET RESPONSE (00 C0 00 00 1B) the last 27 and 9000.
    let chip = channel.card_mut();
    assert_eq!(chip.stats().commands - before, 2);
    assert_eq!(chip.stats().active_authentications, 1);
    assert_eq!(
        chip.last_command()
            .map(|c| (c.operation, c.secure_messaging, c.sw)),
        Some((
            Operation::GetResponse { le: Some(0x1B) },
            false,
            StatusWord::Success
        ))
    );
    // The channel is still in step: a protected read works after the chained answer.
    assert_eq!(
        FileReader::default().read_file(&mut channel, FID).unwrap(),
        file()
    );
}

#[test]
fn a_plain_answer_longer_than_ne_is_chained() {
    // RSA-3072 without secure messaging: 384 bytes for a short Le of 00.
    let mut emulator = chip(3072, ChipAttack::default());
    let challenge = [7u8; 8];
    let command = Command::new(0x00, 0x88, 0, 0)
        .with_data(challenge.to_vec())
        .with_le(256);
    let first = emulator.transmit(&command).unwrap();
    assert_eq!(first.data.len(), 256);
    assert_eq!(first.sw, StatusWord::BytesRemaining(0x80));
    let rest = emulator
        .transmit(&Command::new(0x00, 0xC0, 0, 0).with_le(0x80))
        .unwrap();
    assert_eq!(rest.data.len(), 128);
    assert_eq!(rest.sw, StatusWord::Success);
    // `exchange` does the same in one call and the signature verifies.
    let public = emulator
        .image()
        .active_authentication
        .as_ref()
        .unwrap()
        .public_key();
    let before = emulator.stats().commands;
    active_auth::authenticate(&mut emulator, &public, None, &challenge).unwrap();
    assert_eq!(emulator.stats().commands - before, 2);
}

#[test]
fn get_response_in_pieces_and_a_new_command_drops_the_rest() {
    let mut emulator = chip(3072, ChipAttack::default());
    let command = Command::new(0x00, 0x88, 0, 0)
        .with_data(vec![1; 8])
        .with_le(256);
    assert_eq!(
        emulator.transmit(&command).unwrap().sw,
        StatusWord::BytesRemaining(0x80)
    );
    let part = emulator
        .transmit(&Command::new(0x00, 0xC0, 0, 0).with_le(0x30))
        .unwrap();
    assert_eq!(
        (part.data.len(), part.sw),
        (0x30, StatusWord::BytesRemaining(0x50))
    );
    // Another command: the rest of the answer is gone.
    read_binary::select_application(&mut emulator, &ICAO_AID).unwrap();
    let after = emulator
        .transmit(&Command::new(0x00, 0xC0, 0, 0).with_le(0x50))
        .unwrap();
    assert!(after.data.is_empty());
    assert!(!after.sw.is_success());
}

#[test]
fn protected_read_binary_is_not_chained() {
    // READ BINARY keeps its own rules: a protected answer that outgrows a short link is
    // refused with 6700, and the reader's adaptive length never asks for one.
    let mut emulator = chip(1024, ChipAttack::default());
    let mut rng = ScriptedRng::from_seed(9);
    read_binary::select_application(&mut emulator, &ICAO_AID).unwrap();
    let mut channel = bac::open(&mut emulator, &mrz(), &mut rng).unwrap();
    read_binary::select_file(&mut channel, FID).unwrap();
    let answer = channel
        .transmit(&Command::new(0x00, 0xB0, 0, 0).with_le(256))
        .unwrap();
    assert_eq!(answer.sw, StatusWord::WrongLength);
    assert_eq!(
        FileReader::default().read_file(&mut channel, FID).unwrap(),
        file()
    );
}

#[test]
fn attack_chips_refuse_and_hide_what_they_are_told_to() {
    let attack = ChipAttack {
        refuse_chip_authentication: Some(StatusWord::IncorrectData),
        refuse_active_authentication: Some(StatusWord::InsNotSupported),
        hidden_files: vec![FID],
        wrong_cam_proof: false,
    };
    let mut emulator = chip(1024, attack);
    let mut rng = ScriptedRng::from_seed(9);
    read_binary::select_application(&mut emulator, &ICAO_AID).unwrap();
    let mut channel = bac::open(&mut emulator, &mrz(), &mut rng).unwrap();
    let select = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(FID.to_be_bytes().to_vec());
    assert_eq!(
        channel.transmit(&select).unwrap().sw,
        StatusWord::FileNotFound
    );
    let by_sfi = Command::new(0x00, 0xB0, 0x81, 0).with_le(4);
    assert_eq!(
        channel.transmit(&by_sfi).unwrap().sw,
        StatusWord::FileNotFound
    );
    let mse_ca = Command::new(0x00, 0x22, 0x41, 0xA4).with_data(vec![0x80, 0x01, 0x00]);
    assert_eq!(
        channel.transmit(&mse_ca).unwrap().sw,
        StatusWord::IncorrectData
    );
    let aa = Command::new(0x00, 0x88, 0, 0)
        .with_data(vec![0; 8])
        .with_le(128);
    assert_eq!(
        channel.transmit(&aa).unwrap().sw,
        StatusWord::InsNotSupported
    );
    assert_eq!(channel.card_mut().stats().active_authentications, 0);
}
