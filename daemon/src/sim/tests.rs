//! The simulator's cards in process: every built-in profile loads, opens and reads.

use apdu::Card;
use apdu::access::{self, AccessKey};
use apdu::pace::Can;
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::SystemRng;

use super::SimCard;
use super::fault::FaultPlan;
use super::link::LinkModel;
use super::profile::{self, LoadOptions};
use crate::lds::LdsFile;
use crate::lds::dg1::Dg1;

#[test]
fn vn_cccd_opens_with_pace_and_serves_its_mrz() {
    let profile = profile::vn_cccd().unwrap();
    let mut card = SimCard::new(&profile, LinkModel::instant(), FaultPlan::default());
    let can = Can::new(&profile.printed.can).unwrap();
    let open = access::open(&mut card, &AccessKey::Can(can), &mut SystemRng).unwrap();
    assert!(open.opened.describe().starts_with("PACE-ECDH-GM-AES-128"));
    let mut channel = open.channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let mut reader = FileReader::default();
    let dg1 = reader
        .read_file(
            &mut channel,
            LdsFile::DataGroup(crate::lds::DataGroup::DG1).fid(),
        )
        .unwrap();
    let dg1 = Dg1::parse(&dg1).unwrap();
    assert_eq!(dg1.lines().concat(), profile.printed.mrz);
    assert_eq!(dg1.vn_id_number(), Some("001189123456"));
    assert_eq!(profile.printed.document_number, "189123456");
    assert_eq!(profile.printed.can, "123456");
}

#[test]
fn every_builtin_profile_loads() {
    for name in profile::BUILTIN {
        if name == "bsi-reference" && !profile::shared_dir().join("data/bsi-tr03105-5").is_dir() {
            eprintln!(
                "skipping bsi-reference: {} is missing",
                profile::shared_dir().display()
            );
            continue;
        }
        let p =
            profile::load(name, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.name, name);
        assert!(p.file(LdsFile::Sod).is_some(), "{name}: EF.SOD");
        assert!(!p.printed.mrz.is_empty());
    }
}

#[test]
fn the_face_has_a_realistic_size() {
    let p = profile::vn_cccd().unwrap();
    let dg2 = p
        .file(LdsFile::DataGroup(crate::lds::DataGroup::DG2))
        .unwrap();
    assert!(
        (15_000..=20_000).contains(&dg2.len()),
        "DG2 of {} bytes",
        dg2.len()
    );
}

#[test]
fn the_uid_pseudo_apdu_answers() {
    let p = profile::vn_cccd().unwrap();
    let mut card = SimCard::new(&p, LinkModel::instant(), FaultPlan::default());
    let r = card
        .transmit(&apdu::Command::new(0xFF, 0xCA, 0, 0).with_le(256))
        .unwrap();
    assert_eq!(r.data, p.uid);
    assert!(card.extended_length());
}
