//! The card emulator answers any sequence of APDUs without panicking: the input is split
//! into commands by a leading length byte each.
#![no_main]

use std::collections::BTreeMap;

use apdu::emulator::{CardEmulator, CardImage, EmulatedFile, FileAccess};
use apdu::mrz::MrzKey;
use apdu::read_binary::ICAO_AID;
use apdu::rng::ScriptedRng;
use libfuzzer_sys::fuzz_target;

fn image() -> CardImage {
    let file = |data: Vec<u8>, access| EmulatedFile { data, access, sfi: Some(1) };
    let mut files = BTreeMap::new();
    files.insert(0x011E, file(vec![0x60, 0x03, 0x5F, 0x01, 0x00], FileAccess::SecureMessaging));
    files.insert(0x0101, file(vec![0x61; 600], FileAccess::Always));
    CardImage {
        applications: BTreeMap::from([(ICAO_AID.to_vec(), files)]),
        bac: MrzKey::new("C01234567", "900101", "300101").ok(),
        ..CardImage::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut chip = CardEmulator::with_rng(image(), ScriptedRng::from_seed(0));
    let mut rest = data;
    while let Some((len, tail)) = rest.split_first() {
        let len = usize::from(*len).min(tail.len());
        let (apdu, tail) = tail.split_at(len);
        let answer = chip.process(apdu);
        assert!(answer.len() >= 2);
        rest = tail;
    }
});
