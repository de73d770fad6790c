//! The attack cards and the PACE-CAM card in process: each chip really misbehaves the
//! way its profile says (status words, hidden files, a wrong CAM proof), and the signed
//! data is what the attack needs (a grafted DG13 left unhashed, a foreign DS, a revoked
//! intermediate carried in EF.SOD). Verdicts are asserted by the reading pipeline's own
//! tests, not here.

use std::collections::BTreeSet;

use apdu::access::{self, AccessKey, Opened};
use apdu::active_auth::{self, AaPublicKey};
use apdu::chip_auth::{self, ChipAuthPlan};
use apdu::emulator::CardEmulator;
use apdu::pace::{CamProof, Can};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{Mapping, SecurityInfo, SecurityInfos};
use apdu::{Card, Command, StatusWord};

use super::profile::{self, EF_CARD_SECURITY, LoadOptions, Profile};
use crate::lds::dg13::VnIdentity;
use crate::lds::dg14::Dg14;
use crate::lds::ef_com::EfCom;
use crate::lds::sod::Sod;
use crate::lds::{DataGroup, LdsFile};
use crate::pki::certificate::Certificate;
use crate::pki::cms::SignedData;
use crate::pki::crl::Crl;
use crate::pki::oid;
use crate::pki::signature::{self, SignatureAlgorithm};

fn load(name: &str) -> Profile {
    profile::load(name, &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn chip(p: &Profile) -> CardEmulator<ScriptedRng> {
    CardEmulator::with_rng(p.image.clone(), ScriptedRng::from_seed(11))
}

fn can(p: &Profile) -> AccessKey {
    AccessKey::Can(Can::new(&p.printed.can).unwrap())
}

fn group(p: &Profile, dg: DataGroup) -> &[u8] {
    p.file(LdsFile::DataGroup(dg))
        .unwrap_or_else(|| panic!("{}: {} served", p.name, dg.name()))
}

fn sod(p: &Profile) -> Sod {
    Sod::from_bytes(p.file(LdsFile::Sod).unwrap()).unwrap()
}

fn hashed(p: &Profile) -> BTreeSet<u8> {
    sod(p).lds.hashes.keys().copied().collect()
}

fn listed(p: &Profile) -> BTreeSet<u8> {
    EfCom::parse(p.file(LdsFile::Com).unwrap())
        .unwrap()
        .data_groups
        .iter()
        .map(|g| g.number())
        .collect()
}

fn dg14_infos(p: &Profile) -> SecurityInfos {
    let dg14 = Dg14::parse(group(p, DataGroup::DG14)).unwrap();
    SecurityInfos::parse(&dg14.security_infos).unwrap()
}

fn certificate(name: &str) -> Certificate {
    let path = profile::fixtures_dir().join("pki").join(name);
    let pem = std::fs::read(&path).unwrap();
    let (_, der) = crate::pki::pem::decode_all(&pem)
        .into_iter()
        .next()
        .unwrap();
    Certificate::from_der(&der.unwrap()).unwrap()
}

/// Whether `issuer`'s key signed `cert`.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(alg) = SignatureAlgorithm::from_identifier(&cert.signature_algorithm, None) else {
        return false;
    };
    cert.issuer.matches(&issuer.subject)
        && signature::verify(alg, &issuer.public_key, cert.tbs(), &cert.signature).is_ok()
}

#[test]
fn every_attack_profile_says_so_and_loads() {
    for &name in profile::BUILTIN.iter().filter(|n| n.starts_with("attack-")) {
        let p = load(name);
        assert!(
            p.description.starts_with("ATTACK/TEST card"),
            "{name}: {}",
            p.description
        );
        assert!(p.file(LdsFile::Sod).is_some(), "{name}: EF.SOD");
        assert!(p.csca.is_some(), "{name}: a CSCA to print");
    }
}

#[test]
fn the_clone_refuses_chip_and_active_authentication() {
    let p = load("attack-clone-refuses-proofs");
    let genuine = load("vn-cccd");
    // A clone copies every file: EF.SOD byte for byte, DG14 and DG15 hashed in it.
    assert_eq!(p.file(LdsFile::Sod), genuine.file(LdsFile::Sod));
    for dg in [
        DataGroup::DG1,
        DataGroup::DG2,
        DataGroup::DG14,
        DataGroup::DG15,
    ] {
        assert_eq!(group(&p, dg), group(&genuine, dg), "{}", dg.name());
    }
    assert!(hashed(&p).is_superset(&BTreeSet::from([14, 15])));

    let mut card = chip(&p);
    let mut rng = ScriptedRng::from_seed(1);
    let mut channel = access::open(&mut card, &can(&p), &mut rng).unwrap().channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let plan = ChipAuthPlan::choose(&dg14_infos(&p)).unwrap();
    let err = chip_auth::authenticate(&mut channel, &plan, &mut rng).unwrap_err();
    assert_eq!(
        channel.card_mut().last_command().map(|c| c.sw),
        Some(StatusWord::IncorrectData),
        "{err}"
    );
    let aa_key = AaPublicKey::from_dg15(group(&p, DataGroup::DG15)).unwrap();
    let aa_info = dg14_infos(&p).active_authentication().cloned();
    let err = active_auth::authenticate_random(&mut channel, &aa_key, aa_info.as_ref(), &mut rng)
        .unwrap_err();
    assert_eq!(err, apdu::Error::Status(StatusWord::InsNotSupported));
    let stats = channel.card_mut().stats();
    assert_eq!(
        (stats.chip_authentications, stats.active_authentications),
        (0, 0)
    );

    // The genuine card proves both keys.
    let mut card = chip(&genuine);
    let mut channel = access::open(&mut card, &can(&genuine), &mut rng)
        .unwrap()
        .channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    chip_auth::authenticate(&mut channel, &plan, &mut rng).unwrap();
    active_auth::authenticate_random(&mut channel, &aa_key, aa_info.as_ref(), &mut rng).unwrap();
}

#[test]
fn the_clone_hides_dg14_and_dg15_that_its_sod_hashes() {
    let p = load("attack-clone-hides-keys");
    assert_eq!(listed(&p), BTreeSet::from([1, 2, 3, 13]));
    assert_eq!(hashed(&p), BTreeSet::from([1, 2, 3, 13, 14, 15]));
    assert_eq!(
        p.file(LdsFile::Sod),
        load("vn-cccd").file(LdsFile::Sod),
        "the genuine EF.SOD"
    );

    let mut card = chip(&p);
    let mut rng = ScriptedRng::from_seed(2);
    let mut channel = access::open(&mut card, &can(&p), &mut rng).unwrap().channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    for dg in [DataGroup::DG14, DataGroup::DG15] {
        let select =
            Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(dg.fid().to_be_bytes().to_vec());
        assert_eq!(
            channel.transmit(&select).unwrap().sw,
            StatusWord::FileNotFound,
            "SELECT {}",
            dg.name()
        );
        let by_sfi = Command::new(0x00, 0xB0, 0x80 | dg.sfi(), 0).with_le(4);
        assert_eq!(
            channel.transmit(&by_sfi).unwrap().sw,
            StatusWord::FileNotFound,
            "READ BINARY {} by SFI",
            dg.name()
        );
        assert!(
            FileReader::default()
                .read_file(&mut channel, dg.fid())
                .is_err()
        );
    }
    // What is not hidden still reads.
    let dg1 = FileReader::default()
        .read_file(&mut channel, DataGroup::DG1.fid())
        .unwrap();
    assert_eq!(dg1, group(&p, DataGroup::DG1));
}

#[test]
fn the_grafted_dg13_is_served_and_listed_but_not_hashed() {
    let p = load("attack-grafted-dg13");
    assert_eq!(hashed(&p), BTreeSet::from([1, 2, 15]));
    assert_eq!(listed(&p), BTreeSet::from([1, 2, 13, 15]));
    let graft = VnIdentity::from_dg13(group(&p, DataGroup::DG13)).unwrap();
    let id = graft.id_number.as_deref().unwrap();
    assert_eq!(id.len(), 12);
    assert!(id.bytes().all(|b| b.is_ascii_digit()));
    assert!(!p.printed.mrz.contains(id));
    assert!(graft.full_name.is_some());
    let dg1 = crate::lds::dg1::Dg1::parse(group(&p, DataGroup::DG1)).unwrap();
    assert_ne!(
        graft.full_name.as_deref(),
        Some(dg1.fields.surname.as_str())
    );

    // A genuine passport otherwise: its chip proves the DG15 key.
    let mut card = chip(&p);
    let mut rng = ScriptedRng::from_seed(3);
    let key = AccessKey::Mrz(p.mrz_key().unwrap());
    let open = access::open(&mut card, &key, &mut rng).unwrap();
    assert!(matches!(open.opened, Opened::Bac { .. }));
    let mut channel = open.channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let dg13 = FileReader::default()
        .read_file(&mut channel, DataGroup::DG13.fid())
        .unwrap();
    assert_eq!(dg13, group(&p, DataGroup::DG13));
    let aa_key = AaPublicKey::from_dg15(group(&p, DataGroup::DG15)).unwrap();
    active_auth::authenticate_random(&mut channel, &aa_key, None, &mut rng).unwrap();
}

#[test]
fn the_foreign_ds_chains_to_a_french_csca() {
    let p = load("attack-foreign-csca");
    assert!(p.printed.mrz.starts_with("IDVNM"));
    let csca_path = p.csca.clone().unwrap();
    assert!(csca_path.ends_with("fixtures/pki/csca-foreign.pem"));
    let foreign = certificate("csca-foreign.pem");
    assert_eq!(foreign.subject.country().as_deref(), Some("FR"));
    assert_eq!(
        foreign.subject.get(&oid::AT_COMMON_NAME),
        Some("CSCA TEST France")
    );
    let sod = sod(&p);
    let ds = sod.signed_data.certificates.first().unwrap();
    assert_eq!(ds.der, certificate("ds-foreign.pem").der);
    assert!(signed_by(ds, &foreign));
    assert!(!signed_by(ds, &certificate("csca.pem")));
    assert!(signed_by(&foreign, &foreign));
}

#[test]
fn the_intermediate_is_carried_in_the_sod_and_revoked_by_the_crl() {
    let p = load("attack-revoked-intermediate");
    assert!(p.csca.clone().unwrap().ends_with("fixtures/pki/csca.pem"));
    let intermediate = certificate("intermediate-ca.pem");
    let csca = certificate("csca.pem");
    assert_eq!(intermediate.is_ca, Some(true));
    assert!(signed_by(&intermediate, &csca));
    let certs = sod(&p).signed_data.certificates;
    assert_eq!(certs.len(), 2);
    let ds = &certs[0];
    assert_eq!(ds.der, certificate("ds-intermediate.pem").der);
    assert_eq!(certs[1].der, intermediate.der);
    assert!(signed_by(ds, &intermediate));
    assert!(!signed_by(ds, &csca));

    let pem = std::fs::read(profile::fixtures_dir().join("pki/csca.crl.pem")).unwrap();
    let (_, der) = crate::pki::pem::decode_all(&pem)
        .into_iter()
        .next()
        .unwrap();
    let crl = Crl::from_der(&der.unwrap()).unwrap();
    crl.verify_signature(&csca).unwrap();
    assert!(crl.revocation_of(&intermediate).is_some());
    assert!(crl.revocation_of(&certificate("ds-revoked.pem")).is_some());
    assert!(crl.revocation_of(ds).is_none());
}

/// PACE-CAM with the CAN, then the CAM proof checked against the static key of DG14.
fn cam_proof(p: &Profile) -> (CamProof, apdu::key_agreement::Group, Vec<u8>) {
    let mut card = chip(p);
    let open = access::open(&mut card, &can(p), &mut ScriptedRng::from_seed(4)).unwrap();
    let Opened::Pace(outcome) = open.opened else {
        panic!("{}: PACE", p.name);
    };
    assert_eq!(outcome.protocol.mapping, Mapping::ChipAuthentication);
    let plan = ChipAuthPlan::choose(&dg14_infos(p)).unwrap();
    (
        outcome.chip_authentication.expect("a CAM proof"),
        plan.key.group,
        plan.key.public,
    )
}

#[test]
fn the_genuine_cam_proof_verifies_and_the_attack_one_does_not() {
    let genuine = load("vn-cccd-cam");
    let (proof, group, public) = cam_proof(&genuine);
    proof.verify(&group, &public).unwrap();

    let attack = load("attack-cam-wrong-proof");
    assert_eq!(
        group_of_dg14(&attack),
        group_of_dg14(&genuine),
        "same static key"
    );
    let (proof, group, public) = cam_proof(&attack);
    assert!(matches!(
        proof.verify(&group, &public),
        Err(apdu::Error::AuthenticationFailed(_))
    ));
}

fn group_of_dg14(p: &Profile) -> Vec<u8> {
    group(p, DataGroup::DG14).to_vec()
}

#[test]
fn pace_cam_cards_have_card_access_and_a_signed_card_security() {
    let p = load("vn-cccd-cam");
    let card_access = SecurityInfos::parse(&p.image.master_files[&0x011C].data).unwrap();
    // In DER order: the ChipAuthenticationInfo's encoding sorts first.
    assert!(matches!(
        card_access.infos.as_slice(),
        [SecurityInfo::ChipAuthentication(_), SecurityInfo::Pace(pace)]
            if pace.protocol.mapping == Mapping::ChipAuthentication
    ));

    // EF.CardSecurity: readable only under secure messaging.
    let mut card = chip(&p);
    let select = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x1D]);
    assert_eq!(card.transmit(&select).unwrap().sw, StatusWord::Success);
    let plain = card
        .transmit(&Command::new(0x00, 0xB0, 0, 0).with_le(4))
        .unwrap();
    assert_eq!(plain.sw, StatusWord::SecurityStatusNotSatisfied);
    let mut channel = access::open(&mut card, &can(&p), &mut ScriptedRng::from_seed(5))
        .unwrap()
        .channel;
    let bytes = FileReader::default()
        .read_file(&mut channel, EF_CARD_SECURITY)
        .unwrap();
    assert_eq!(bytes, p.image.master_files[&EF_CARD_SECURITY].data);

    // A SignedData over the SecurityInfos (no 77 wrapper), signed by the profile's DS.
    assert_eq!(bytes.first(), Some(&0x30));
    let signed = SignedData::from_content_info(&bytes).unwrap();
    assert_eq!(signed.content_type, crate::pki::oid::ID_SECURITY_OBJECT);
    let infos = SecurityInfos::parse(&signed.content).unwrap();
    assert_eq!(infos.pace().len(), 1);
    assert_eq!(infos.chip_authentication().count(), 1);
    let key = infos.chip_authentication_keys().next().unwrap();
    let dg14 = dg14_infos(&p);
    assert_eq!(Some(key), dg14.chip_authentication_keys().next());
    let ds = certificate("ds-p384.pem");
    assert_eq!(signed.certificates.first().map(|c| &c.der), Some(&ds.der));
    let signer = signed.signer_infos.first().unwrap();
    let alg =
        SignatureAlgorithm::from_identifier(&signer.signature_algorithm, signer.digest_hash())
            .unwrap();
    signature::verify(
        alg,
        &ds.public_key,
        &signer.signed_bytes(&signed.content),
        &signer.signature,
    )
    .unwrap();

    // Cards without PACE-CAM have none.
    for name in ["vn-cccd", "passport"] {
        assert!(
            !load(name)
                .image
                .master_files
                .contains_key(&EF_CARD_SECURITY)
        );
    }
}

#[test]
fn the_passport_completes_active_authentication_on_its_short_length_chip() {
    let p = load("passport");
    assert!(!p.image.limits.extended_length);
    let mut card = chip(&p);
    let mut rng = ScriptedRng::from_seed(6);
    let key = AccessKey::Mrz(p.mrz_key().unwrap());
    let mut channel = access::open(&mut card, &key, &mut rng).unwrap().channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let aa_key = AaPublicKey::from_dg15(group(&p, DataGroup::DG15)).unwrap();
    let before = channel.card_mut().stats().commands;
    active_auth::authenticate_random(&mut channel, &aa_key, None, &mut rng).unwrap();
    // INTERNAL AUTHENTICATE, then one GET RESPONSE for the rest of the protected answer.
    assert_eq!(channel.card_mut().stats().commands - before, 2);
    assert_eq!(channel.card_mut().stats().active_authentications, 1);
}
