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
    for &name in profile::BUILTIN {
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

#[test]
fn signed_profiles_pass_passive_authentication_against_the_fixture_csca() {
    use crate::pki::time::Time;
    use crate::trust::passive::{self, PassiveStatus};
    use crate::trust::store::TrustStore;
    for name in ["vn-cccd", "vn-cccd-bac", "vn-cccd-cam", "passport"] {
        let p = profile::load(name, &LoadOptions::default()).unwrap();
        let csca = p.csca.clone().expect("a CSCA path");
        assert!(
            csca.ends_with("fixtures/pki/csca.pem"),
            "{}",
            csca.display()
        );
        let mut store = TrustStore::new();
        store.load_path(&csca).unwrap();
        let files = &p.image.applications[ICAO_AID.as_slice()];
        // Every data group served, including DG3 that only terminal authentication opens.
        let groups: std::collections::BTreeMap<u8, Vec<u8>> = crate::lds::DataGroup::all()
            .filter_map(|dg| files.get(&dg.fid()).map(|f| (dg.number(), f.data.clone())))
            .collect();
        let at = Time::from_ymd_hms(2025, 6, 1, 0, 0, 0).unwrap();
        let state = crate::lds::dg1::Dg1::parse(&groups[&1])
            .unwrap()
            .fields
            .issuing_state
            .clone();
        let result = passive::verify(
            p.file(LdsFile::Sod).unwrap(),
            &groups,
            &store,
            at,
            Some(&state),
        );
        assert_eq!(
            result.status,
            PassiveStatus::Valid,
            "{name}: {:?}",
            result.problems
        );
    }
}

#[test]
fn the_vn_cccd_chip_is_as_observed() {
    use crate::lds::DataGroup;
    use crate::lds::ef_com::EfCom;
    let p = profile::vn_cccd().unwrap();
    let com = EfCom::parse(p.file(LdsFile::Com).unwrap()).unwrap();
    let listed: Vec<u8> = com.data_groups.iter().map(|g| g.number()).collect();
    assert_eq!(listed, [1, 2, 3, 13, 14, 15]);
    assert!(p.image.select_mf_unsupported);
    assert!(
        p.chip_authentication
            .as_ref()
            .is_some_and(|c| c.static_key.is_some())
    );
    assert!(p.active_authentication.is_some());
    let dg14 = crate::lds::dg14::Dg14::parse(p.file(LdsFile::DataGroup(DataGroup::DG14)).unwrap())
        .unwrap();
    let infos = apdu::security_infos::SecurityInfos::parse(&dg14.security_infos).unwrap();
    assert_eq!(infos.chip_authentication().count(), 1);
    assert!(infos.active_authentication().is_some());
    // DG3 exists but needs terminal authentication.
    let mut card = SimCard::new(&p, LinkModel::instant(), FaultPlan::default());
    let can = Can::new(&p.printed.can).unwrap();
    let mut channel = access::open(&mut card, &AccessKey::Can(can), &mut SystemRng)
        .unwrap()
        .channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let err = FileReader::default()
        .read_file(&mut channel, DataGroup::DG3.fid())
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("6982") || format!("{err}").contains("security"),
        "{err:?}"
    );
}

#[test]
fn the_bac_only_card_refuses_large_le_with_6ce0() {
    let p = profile::load("vn-cccd-bac", &LoadOptions::default()).unwrap();
    assert!(p.image.pace.is_none() && p.image.bac.is_some());
    let mut card = SimCard::new(&p, LinkModel::instant(), FaultPlan::default());
    let key = AccessKey::Mrz(p.mrz_key().unwrap());
    let mut channel = access::open(&mut card, &key, &mut SystemRng)
        .unwrap()
        .channel;
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let mut reader = FileReader::default();
    let dg2 = reader
        .read_file(
            &mut channel,
            LdsFile::DataGroup(crate::lds::DataGroup::DG2).fid(),
        )
        .unwrap();
    assert_eq!(
        dg2,
        p.file(LdsFile::DataGroup(crate::lds::DataGroup::DG2))
            .unwrap()
    );
    drop(channel);
    // Short APDUs only: the reader learned 0xE0 from the card's 6CE0.
    assert!(!card.extended_length());
}

#[test]
fn faults_in_process() {
    let p = profile::vn_cccd().unwrap();
    let faults = FaultPlan {
        remove_at: Some(2),
        ..FaultPlan::default()
    };
    let mut card = SimCard::new(&p, LinkModel::instant(), faults);
    let select = apdu::Command::new(0, 0xA4, 0x04, 0x0C).with_data(ICAO_AID.to_vec());
    assert!(card.transmit(&select).is_ok());
    assert!(matches!(
        card.transmit(&select),
        Err(apdu::Error::CardRemoved)
    ));
    assert!(matches!(
        card.transmit(&select),
        Err(apdu::Error::CardRemoved)
    ));

    // A corrupted MAC on the first protected answer ends the secure channel.
    let faults = FaultPlan {
        corrupt_mac_at: Some(20),
        ..FaultPlan::default()
    };
    let mut card = SimCard::new(&p, LinkModel::instant(), faults);
    let can = Can::new(&p.printed.can).unwrap();
    let mut channel = access::open(&mut card, &AccessKey::Can(can), &mut SystemRng)
        .unwrap()
        .channel;
    let mut failed = None;
    for _ in 0..30 {
        if let Err(e) = read_binary::select_application(&mut channel, &ICAO_AID) {
            failed = Some(e);
            break;
        }
    }
    assert!(matches!(failed, Some(apdu::Error::BadMac)), "{failed:?}");
}

/// The vn-cccd card's DG13 as real cards write it, byte by byte: version 1, the UTF-8
/// charset OID, then each field `30 L 02 01 n <string>` with PrintableString (13) for
/// fields 1, 3, 11, 15, 16 and UTF8String (0C) for the others, the parents each in a
/// SEQUENCE of its own, field 14 present but empty.
#[test]
fn vn_cccd_dg13_has_the_string_types_of_real_cards() {
    use apdu::tlv::Tlv;
    let p = profile::vn_cccd().unwrap();
    let dg13 = p
        .file(LdsFile::DataGroup(crate::lds::DataGroup::DG13))
        .unwrap();
    let utf8 = |s: &str| {
        let mut v = vec![0x0C, u8::try_from(s.len()).unwrap()];
        v.extend_from_slice(s.as_bytes());
        v
    };
    let printable = |s: &str| {
        let mut v = vec![0x13, u8::try_from(s.len()).unwrap()];
        v.extend_from_slice(s.as_bytes());
        v
    };
    let field = |n: u8, content: Vec<u8>| {
        let mut v = vec![
            0x30,
            u8::try_from(content.len() + 3).unwrap(),
            0x02,
            0x01,
            n,
        ];
        v.extend(content);
        v
    };
    let sequence = |content: Vec<u8>| {
        let mut v = vec![0x30, u8::try_from(content.len()).unwrap()];
        v.extend(content);
        v
    };
    let expected: Vec<Vec<u8>> = vec![
        field(1, printable("001189123456")),
        field(2, utf8("Đặng Thị Thu Hà")),
        field(3, printable("17/05/1989")),
        field(4, utf8("Nữ")),
        field(5, utf8("Việt Nam")),
        field(6, utf8("Kinh")),
        field(7, utf8("Không")),
        field(8, utf8("Xã Vũ Lễ, Huyện Kiến Xương, Thái Bình")),
        field(
            9,
            utf8("Số 12 Ngõ 34 Phố Hàng Bông, Phường Hàng Gai, Quận Hoàn Kiếm, Hà Nội"),
        ),
        field(10, utf8("Nốt ruồi C:1cm dưới sau mép phải")),
        field(11, printable("10/07/2021")),
        field(12, utf8("17/05/2029")),
        field(
            13,
            [
                sequence(utf8("Đặng Văn Minh")),
                sequence(utf8("Phạm Thị Lan")),
            ]
            .concat(),
        ),
        vec![0x30, 0x03, 0x02, 0x01, 0x0E],
        field(15, printable("012345678")),
        field(16, printable("A1B2C3D4E5F60718")),
    ];
    let outer = Tlv::parse(dg13).unwrap();
    assert_eq!(outer.tag().value(), 0x6D);
    let body = Tlv::parse(outer.value()).unwrap();
    let mut children = body.children();
    let version = children.next().unwrap().unwrap();
    assert_eq!(version.raw(), [0x02, 0x01, 0x01]);
    let oid = children.next().unwrap().unwrap();
    assert_eq!(oid.raw(), [0x06, 0x06, 0x28, 0xD3, 0x16, 0x01, 0x00, 0x08]);
    let set = children.next().unwrap().unwrap();
    assert_eq!(set.tag().value(), 0x31);
    let fields: Vec<&[u8]> = set.children().map(|f| f.unwrap().raw()).collect();
    assert_eq!(fields.len(), expected.len());
    for (got, want) in fields.iter().zip(&expected) {
        assert_eq!(*got, want.as_slice());
    }
    assert!(children.next().is_none());
}

/// The vn-cccd card's EF.CardAccess, as real cards': the PACEInfo and also the chip- and
/// terminal-authentication entries, in DER order.
#[test]
fn vn_cccd_card_access_has_pace_ca_and_ta_entries() {
    use apdu::security_infos::{SecurityInfo, SecurityInfos};
    use apdu::tlv::Tlv;
    let p = profile::vn_cccd().unwrap();
    let bytes = &p.image.master_files[&0x011C].data;
    let infos = SecurityInfos::parse(bytes).unwrap();
    assert_eq!(infos.infos.len(), 3);
    let pace = infos.pace();
    assert_eq!(pace.len(), 1);
    assert_eq!(pace[0].parameter_id, Some(13));
    let ca: Vec<_> = infos.chip_authentication().collect();
    assert_eq!(ca.len(), 1);
    assert_eq!(ca[0].version, 1);
    assert!(
        infos
            .infos
            .iter()
            .any(|i| matches!(i, SecurityInfo::TerminalAuthentication { version: 1 }))
    );
    let entries: Vec<&[u8]> = Tlv::parse(bytes)
        .unwrap()
        .children()
        .map(|e| e.unwrap().raw())
        .collect();
    assert!(entries.windows(2).all(|w| w[0] <= w[1]), "DER order");
    // The signed DG14 still carries the chip authentication key.
    let dg14 = p
        .file(LdsFile::DataGroup(crate::lds::DataGroup::DG14))
        .unwrap();
    let dg14 = SecurityInfos::parse(Tlv::parse(dg14).unwrap().value()).unwrap();
    assert_eq!(dg14.chip_authentication_keys().count(), 1);
}

/// The test chips of `fixtures/cards/quirks/`: PACE that requires, and PACE that refuses,
/// the parameter ID in MSE:Set AT; the terminal opens both.
#[test]
fn quirk_profiles_require_or_refuse_the_pace_parameter_id() {
    use apdu::pace::ParameterIdRule;
    for (file, rule, sent) in [
        (
            "pace-requires-parameter-id.toml",
            ParameterIdRule::Required,
            true,
        ),
        (
            "pace-refuses-parameter-id.toml",
            ParameterIdRule::Refused,
            false,
        ),
    ] {
        let path = profile::fixtures_dir().join("cards/quirks").join(file);
        let p = profile::load(path.to_str().unwrap(), &LoadOptions::default()).unwrap();
        assert_eq!(p.image.pace.as_ref().unwrap().parameter_id_rule, rule);
        let mut card = SimCard::new(&p, LinkModel::instant(), FaultPlan::default());
        let can = Can::new(&p.printed.can).unwrap();
        let open = access::open(&mut card, &AccessKey::Can(can), &mut SystemRng).unwrap();
        let apdu::access::Opened::Pace(outcome) = &open.opened else {
            panic!("{file}: not PACE")
        };
        assert_eq!(outcome.parameter_id_sent, sent, "{file}");
    }
}

#[test]
fn vn_cccd_mrz_line_one_ends_with_the_id_number_and_its_check_digit() {
    let p = profile::vn_cccd().unwrap();
    let dg1 = p
        .file(LdsFile::DataGroup(crate::lds::DataGroup::DG1))
        .unwrap();
    let dg1 = Dg1::parse(dg1).unwrap();
    let id = dg1
        .vn_id_number()
        .expect("the ID number in the optional data");
    assert_eq!(id, p.printed.id_number);
    let line1 = dg1.mrz.get(..30).unwrap();
    // Document number (9) and its check digit, then the ID, `<<` and the ID's check digit.
    assert_eq!(line1.get(15..27), Some(id));
    assert_eq!(line1.get(27..29), Some("<<"));
    assert_eq!(dg1.checks.vn_id_number, Some(true));
    assert!(dg1.checks.all_valid());
}
