//! An ISO 14443 type B card through libnfc: the simulated `vn-cccd` chip presented in
//! vpcd the way libnfc's `pcsc` driver recognises a type B target (a contactless ATR
//! whose eight historical bytes are the ATQB's application data, protocol info and
//! MBLI, and an eight-byte identifier, which no type A card has), selected as type B
//! and read to a genuine verdict, the same result as through PC/SC.
//!
//! Needs pcscd with vsmartcard's vpcd driver (`scripts/with-pcscd.sh`).
#![cfg(feature = "nfc")]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use apdu::rng::SystemRng;
use cancuoc::session::access_input::AccessInput;
use cancuoc::session::result::Verdict;
use cancuoc::session::{self, ReadRequest};
use cancuoc::sim::fault::{FaultPlan, Reply};
use cancuoc::sim::link::LinkModel;
use cancuoc::sim::vpcd::{Connection, Message, Received};
use cancuoc::sim::{SimCard, profile};
use cancuoc::transport::atr::contactless_atr;
use cancuoc::transport::nfc::{Iso14443, NfcCard};
use cancuoc::transport::pcsc::PcscCard;
use cancuoc::trust::TrustStore;

mod common;

use common::{context, testbed, wait_for_card};

/// ATQB application data (4), protocol info (3: 106 kbit/s only; frames up to 256
/// bytes, ISO 14443-4; FWI 7), MBLI and CID (1).
const TYPE_B_HISTORICAL: [u8; 8] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x71, 0x00];

/// Serves `card` to vpcd at `address` on a thread until `stop` is set.
fn serve(mut card: SimCard, address: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut conn =
            Connection::connect(&address, Duration::from_secs(5), Duration::from_millis(50))
                .expect("vpcd reachable");
        while !stop.load(Ordering::SeqCst) {
            match conn.receive().expect("vpcd connection") {
                Received::Idle => {}
                Received::Closed => return,
                Received::Message(Message::GetAtr) => conn.send(card.atr()).unwrap(),
                Received::Message(Message::PowerOn | Message::PowerOff | Message::Reset) => {
                    card.reset();
                }
                Received::Message(Message::Apdu(apdu)) => match card.respond(&apdu) {
                    Reply::Answer { response, .. } => conn.send(&response).unwrap(),
                    Reply::Remove => return,
                },
                Received::Message(_) => {}
            }
        }
        conn.close();
    })
}

fn read_json(card: &mut impl apdu::Card, can: &str, trust: &TrustStore) -> serde_json::Value {
    let request = ReadRequest {
        access: AccessInput::Can { can: can.into() }.to_key().unwrap(),
        face: None,
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
fn libnfc_selects_and_reads_a_type_b_card() {
    let Some((_slot, vpcd, reader)) = testbed("libnfc_selects_and_reads_a_type_b_card") else {
        return;
    };
    let mut profile = profile::vn_cccd().unwrap();
    profile.image.atr = contactless_atr(&TYPE_B_HISTORICAL).unwrap();
    profile.uid = vec![0x4D, 0x52, 0x54, 0x44, 0x00, 0x00, 0x00, 0x01];
    let mut trust = TrustStore::new();
    trust
        .load_path(profile.csca.as_deref().expect("profile CSCA"))
        .unwrap();
    let can = profile.printed.can.clone();
    let card = SimCard::new(&profile, LinkModel::instant(), FaultPlan::default());
    let stop = Arc::new(AtomicBool::new(false));
    let server = serve(card, vpcd, stop.clone());
    assert!(wait_for_card(&context(), &reader, true), "the card appears");
    let name = reader.to_str().unwrap().to_owned();

    let mut card = NfcCard::connect(&format!("pcsc:{name}")).expect("libnfc selects the card");
    assert_eq!(card.iso14443(), Iso14443::B);
    let through_nfc = read_json(&mut card, &can, &trust);
    drop(card);
    let mut card = PcscCard::connect(&name).unwrap();
    let through_pcsc = read_json(&mut card, &can, &trust);
    drop(card);
    assert_eq!(through_nfc, through_pcsc);
    assert_eq!(through_nfc["holder"]["surname"], "DANG");

    stop.store(true, Ordering::SeqCst);
    server.join().unwrap();
    assert!(wait_for_card(&context(), &reader, false), "the card leaves");
}
