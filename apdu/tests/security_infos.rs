//! SecurityInfos from real encodings: the PACEInfos of the ICAO worked examples and the
//! DG14 of the BSI TR-03105-5 reference data set.

mod common;

use apdu::crypto::CipherSuite;
use apdu::security_infos::{KeyAgreement, Mapping, SecurityInfo, SecurityInfos};
use apdu::tlv::{Tag, Tlv};
use common::{hex_at, shared_dir, vectors};

#[test]
fn pace_infos_of_the_worked_examples() {
    let v = vectors();
    for (group, agreement, mapping, id) in [
        (
            "pace_ecdh_gm_brainpoolp256r1",
            KeyAgreement::Ecdh,
            Mapping::Generic,
            13,
        ),
        ("pace_dh_gm", KeyAgreement::Dh, Mapping::Generic, 0),
        (
            "pace_cam_ecdh",
            KeyAgreement::Ecdh,
            Mapping::ChipAuthentication,
            13,
        ),
    ] {
        let info = hex_at(&v[group], "pace_info");
        let set = apdu::tlv::encode(Tag::new(0x31), &info);
        let infos = SecurityInfos::parse(&set).unwrap();
        let pace = infos.pace();
        assert_eq!(pace.len(), 1, "{group}");
        assert_eq!(pace[0].protocol.agreement, agreement);
        assert_eq!(pace[0].protocol.mapping, mapping);
        assert_eq!(pace[0].protocol.suite, CipherSuite::Aes128);
        assert_eq!(pace[0].version, 2);
        assert_eq!(pace[0].parameter_id, Some(id));
        assert_eq!(
            pace[0].protocol.oid().to_string(),
            v[group]["oid"].as_str().unwrap()
        );
        assert_eq!(infos.to_der(), set, "{group} re-encodes byte for byte");
    }
}

#[test]
fn dg14_of_the_bsi_reference_data_set() {
    let path = shared_dir().join("data/bsi-tr03105-5/Datagroup14.bin");
    let dg14 = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("BSI reference data missing at {}: {e}", path.display()));
    let outer = Tlv::parse(&dg14).unwrap();
    assert_eq!(outer.tag(), Tag::new(0x6E));
    let infos = SecurityInfos::parse(outer.value()).unwrap();
    assert_eq!(infos.infos.len(), 3);
    let key = infos.chip_authentication_keys().next().unwrap();
    assert_eq!(key.agreement, KeyAgreement::Ecdh);
    assert_eq!(key.key_id, None);
    let ca = infos.chip_authentication().next().unwrap();
    assert_eq!(ca.protocol.agreement, KeyAgreement::Ecdh);
    assert_eq!(ca.protocol.suite, CipherSuite::Des3);
    assert_eq!(ca.version, 1);
    assert!(matches!(
        infos.infos[2],
        SecurityInfo::TerminalAuthentication { version: 1 }
    ));
    assert_eq!(infos.to_der(), outer.value());
}

#[test]
fn the_sorted_encoding_is_der() {
    let path = shared_dir().join("data/bsi-tr03105-5/Datagroup14.bin");
    let Ok(dg14) = std::fs::read(&path) else {
        eprintln!("skipping: BSI reference data missing at {}", path.display());
        return;
    };
    let outer = Tlv::parse(&dg14).unwrap();
    let infos = SecurityInfos::parse(outer.value()).unwrap();
    let sorted = infos.to_der_sorted();
    let entries: Vec<&[u8]> = Tlv::parse(&sorted)
        .unwrap()
        .children()
        .map(|e| e.unwrap().raw())
        .collect();
    assert_eq!(entries.len(), 3);
    assert!(entries.windows(2).all(|w| w[0] <= w[1]), "sorted");
    // The same entries, in DER order.
    let reparsed = SecurityInfos::parse(&sorted).unwrap();
    for info in &infos.infos {
        assert!(reparsed.infos.contains(info));
    }
}
