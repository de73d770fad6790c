//! The libnfc path end to end: `cancuoc sim` in vpcd, read through libnfc's `pcsc`
//! driver (`pcsc:Virtual PCD 00 00`), gives the same result JSON as a read through
//! PC/SC.
//!
//! Needs pcscd with vsmartcard's vpcd driver; `make test` runs it under
//! `scripts/with-pcscd.sh`, which sets `CANCUOC_PCSCD=1`. Without it the tests are
//! recorded as skipped (common/skip.rs).
#![cfg(feature = "nfc")]

use std::collections::BTreeSet;
use std::ffi::CString;
use std::process::{Command, Stdio};

use apdu::rng::SystemRng;
use cancuoc::lds::dg2::OutputFormat;
use cancuoc::session::access_input::AccessInput;
use cancuoc::session::result::Verdict;
use cancuoc::session::{self, ReadRequest};
use cancuoc::sim::profile;
use cancuoc::transport::nfc::NfcCard;
use cancuoc::transport::pcsc::PcscCard;
use cancuoc::trust::TrustStore;

mod common;

use common::{Sim, context, testbed, wait_for_card};

/// Starts `cancuoc sim` with the `vn-cccd` card and waits until pcscd sees it.
fn start(vpcd: &str, reader: &CString) -> Sim {
    let sim = Sim::start(vpcd, &["--profile", "vn-cccd", "--bitrate", "0"]);
    assert!(
        wait_for_card(&context(), reader, true),
        "the simulated card came"
    );
    sim
}

/// One full read through the pipeline, as the result JSON.
fn read_json(card: &mut impl apdu::Card, can: &str, trust: &TrustStore) -> serde_json::Value {
    let request = ReadRequest {
        access: AccessInput::Can { can: can.into() }.to_key().unwrap(),
        face: Some(OutputFormat::Jpeg),
        raw: true,
        skip: BTreeSet::new(),
        policy: Default::default(),
    };
    let (result, _) =
        session::read_card(card, &request, trust, &mut SystemRng, &mut |_| {}).expect("read");
    assert_eq!(result.verification.verdict, Verdict::Genuine);
    serde_json::to_value(&result).unwrap()
}

#[test]
fn libnfc_pcsc_driver_reads_vn_cccd_like_pcsc() {
    let Some((_slot, vpcd, reader)) = testbed("libnfc_pcsc_driver_reads_vn_cccd_like_pcsc") else {
        return;
    };
    let profile = profile::vn_cccd().unwrap();
    let sim = start(&vpcd, &reader);
    let reader = reader.to_str().unwrap().to_owned();
    let mut trust = TrustStore::new();
    trust
        .load_path(profile.csca.as_deref().expect("profile CSCA"))
        .unwrap();
    assert!(
        profile
            .csca
            .as_deref()
            .is_some_and(|p| p.ends_with("fixtures/pki/csca.pem"))
    );
    let can = profile.printed.can.clone();

    let mut card = PcscCard::connect(&reader).unwrap();
    let through_pcsc = read_json(&mut card, &can, &trust);
    drop(card);

    // libnfc's pcsc driver accepts the simulator's contactless ATR and UID as an
    // ISO 14443-A target.
    let mut card = NfcCard::connect(&format!("pcsc:{reader}")).expect("libnfc selects the card");
    let through_nfc = read_json(&mut card, &can, &trust);
    drop(card);
    // Selected afresh (libnfc resets the card), read with extended-length APDUs, which
    // pcscd carries.
    let mut card = NfcCard::connect(&format!("pcsc:{reader}")).expect("libnfc selects again");
    card.set_extended_length(true);
    let extended = read_json(&mut card, &can, &trust);
    drop(card);

    assert_eq!(through_nfc, through_pcsc);
    assert_eq!(extended, through_pcsc);
    assert_eq!(through_nfc["holder"]["surname"], "DANG");
    assert_eq!(through_nfc["verification"]["verdict"], "genuine");
    sim.stop();
}

#[test]
fn cancuoc_read_takes_an_nfc_reader() {
    let Some((_slot, vpcd, reader)) = testbed("cancuoc_read_takes_an_nfc_reader") else {
        return;
    };
    let sim = start(&vpcd, &reader);
    let reader = reader.to_str().unwrap().to_owned();
    let can = sim.start["access"]["can"].as_str().unwrap().to_owned();
    let csca = sim.start["csca"].as_str().unwrap().to_owned();
    let read = |name: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .args([
                "read", "--local", "--reader", name, "--can", &can, "--trust", &csca,
            ])
            .arg("--json")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .expect("cancuoc read runs");
        assert!(out.status.success(), "cancuoc read --reader {name:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("result JSON")
    };
    let listing = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["readers", "--local", "--json"])
        .output()
        .expect("cancuoc readers runs");
    let listing: serde_json::Value = serde_json::from_slice(&listing.stdout).unwrap();
    let nfc_name = format!("nfc:pcsc:{reader}");
    assert!(
        listing["readers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "nfc" && r["name"] == nfc_name.as_str()),
        "libnfc lists the vpcd reader: {listing}"
    );
    let through_pcsc = read(&reader);
    let through_nfc = read(&nfc_name);
    assert_eq!(through_nfc, through_pcsc);
    assert_eq!(through_nfc["verification"]["verdict"], "genuine");
    sim.stop();
}
