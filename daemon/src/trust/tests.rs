//! Tests against the third-party reference data in `../shared/data` (BSI TR-03105-5
//! data set, German master list). A test fails, naming the file, when it is missing.

use super::*;
use crate::lds::EF_SOD_TAG;
use crate::pki::tests::{bsi_files, shared_data};
use crate::pki::{Certificate, Time, certificate, cms};
use apdu::asn1;
use apdu::tlv::Tlv;

/// The BSI data set's issuing state, as its MRZ writes it.
const D: Option<&str> = Some("D");

fn bsi_time() -> Time {
    Time::from_ymd_hms(2014, 1, 1, 0, 0, 0).unwrap()
}

#[test]
fn trust_bsi_sod_hashes_ok_without_anchor() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    let r = verify_passive(&sod, &dgs, &TrustStore::new(), bsi_time(), D);
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
    for n in [1u8, 2, 3, 4, 14] {
        assert_eq!(
            r.data_groups.0.get(&n),
            Some(&passive::DataGroupStatus::Ok),
            "DG{n}"
        );
    }
    // The data set's EF.SOD (and EF.COM) do not cover DG15.
    assert_eq!(
        r.data_groups.0.get(&15),
        Some(&passive::DataGroupStatus::NotInSod)
    );
    let signer = r.signer.as_ref().unwrap();
    assert!(
        signer.subject.contains("CN=HJP PB DS"),
        "{}",
        signer.subject
    );
    assert!(r.signature_algorithm.as_deref().unwrap().contains("PSS"));
    assert_eq!(r.sod_signature, passive::SignatureStatus::Valid);
    let codes: Vec<&str> = r.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["dg-not-in-sod", "csca-not-found"], "{r:#?}");
}

#[test]
fn trust_bsi_sod_against_german_master_list() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    let Some(ml) = shared_data("masterlists/DE_ML_2024-12-19.ml") else {
        return;
    };
    let mut store = TrustStore::new();
    store.load_path(&ml).unwrap();
    let r = verify_passive(&sod, &dgs, &store, bsi_time(), D);
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
    assert!(
        r.problems
            .iter()
            .all(|p| matches!(p.code, ProblemCode::CscaNotFound | ProblemCode::DgNotInSod)),
        "{r:#?}"
    );
}

#[test]
fn trust_bsi_single_byte_tampering_is_invalid() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    for (&n, bytes) in &dgs {
        if n == 15 {
            // Not covered by this SOD: tampering cannot be seen, it stays `not-in-sod`.
            continue;
        }
        // A few positions per group: start, middle, end.
        for pos in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut tampered = dgs.clone();
            if let Some(b) = tampered.get_mut(&n).and_then(|v| v.get_mut(pos)) {
                *b ^= 0x01;
            }
            let r = verify_passive(&sod, &tampered, &TrustStore::new(), bsi_time(), D);
            assert_eq!(r.status, PassiveStatus::Invalid, "DG{n} byte {pos}");
            assert_eq!(r.data_groups.0[&n], passive::DataGroupStatus::Mismatch);
            for (&other, status) in &r.data_groups.0 {
                if other != n && other != 15 {
                    assert_eq!(*status, passive::DataGroupStatus::Ok);
                }
            }
        }
    }
}

#[test]
fn trust_bsi_tampered_sod_is_invalid_or_malformed() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    // Every byte of the SOD flipped in turn: never valid, never a panic.
    for pos in 0..sod.len() {
        let mut t = sod.clone();
        t[pos] ^= 0x80;
        let r = verify_passive(&t, &dgs, &TrustStore::new(), bsi_time(), D);
        assert_ne!(r.status, PassiveStatus::Valid, "byte {pos}");
    }
}

#[test]
fn trust_german_master_list_inspection() {
    let Some(ml) = shared_data("masterlists/DE_ML_2024-12-19.ml") else {
        return;
    };
    let i = inspect::inspect_path(&ml).unwrap();
    let sig = i.sources[0].master_list_signature.as_ref().unwrap();
    assert_eq!(sig.status, "valid", "{sig:?}");
    assert!(
        sig.signer
            .as_deref()
            .unwrap()
            .contains("CSCA Master List Signer")
    );
    // Nothing dropped: NULL parameters, negative serials and explicit curves all parse.
    assert_eq!(i.summary.certificates, 551);
    assert_eq!(i.summary.unparsed, 0);
    assert!(
        i.certificates
            .iter()
            .any(|c| c.summary.serial.starts_with('-'))
    );
    let explicit = i
        .certificates
        .iter()
        .filter(|c| c.summary.explicit_parameters)
        .count();
    assert_eq!(explicit, 137);
    assert_eq!(i.summary.signatures_valid, 543);
    // The rest are link certificates whose old CSCA is no longer listed.
    assert_eq!(
        i.summary.signatures_not_valid.get("issuer-not-found"),
        Some(&8)
    );
    let vn = i
        .certificates
        .iter()
        .find(|c| c.summary.subject.contains("CN=CSCA ePassport Vietnam"))
        .expect("Vietnamese CSCA listed");
    assert_eq!(vn.summary.curve.as_deref(), Some("brainpoolP512r1"));
    assert!(vn.summary.explicit_parameters);
    assert_eq!(vn.kind, "self-signed");
    assert_eq!(vn.signature, "valid");
    assert_eq!(vn.summary.not_after.to_string(), "2037-10-01T01:37:06Z");
}

#[test]
fn trust_store_indexes_master_list() {
    let Some(ml) = shared_data("masterlists/DE_ML_2024-12-19.ml") else {
        return;
    };
    let mut store = TrustStore::new();
    let reports = store.load_path(&ml).unwrap();
    assert_eq!(reports[0].certificates, 551);
    assert!(store.by_country("VN").count() >= 1);
    let vn = store.by_country("VN").next().unwrap();
    let ski = vn.subject_key_id.clone().unwrap();
    assert!(store.by_key_id(&ski).any(|c| c.der == vn.der));
    // A tampered list is refused.
    let mut data = std::fs::read(&ml).unwrap();
    let n = data.len();
    data[n / 2] ^= 1;
    assert!(TrustStore::new().load_bytes(&data, "tampered.ml").is_err());
}

#[test]
fn trust_bsi_sod_in_indefinite_length_ber() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    let indefinite = |tag: u8, content: &[u8]| [&[tag, 0x80][..], content, &[0, 0]].concat();
    let outer = Tlv::parse_as(&sod, EF_SOD_TAG, "sod").unwrap();
    let ci = Tlv::parse_as(outer.value(), asn1::SEQUENCE, "ci").unwrap();
    let mut r = ci.reader();
    let oid = r.read().unwrap();
    let explicit = r.read().unwrap();
    let ber = indefinite(
        0x77,
        &indefinite(
            0x30,
            &[oid.raw(), &indefinite(0xa0, explicit.value())].concat(),
        ),
    );
    let der_result = verify_passive(&sod, &dgs, &TrustStore::new(), bsi_time(), D);
    let ber_result = verify_passive(&ber, &dgs, &TrustStore::new(), bsi_time(), D);
    assert_eq!(ber_result, der_result);
    assert_eq!(ber_result.sod_signature, passive::SignatureStatus::Valid);
}

/// The German master list against the chain rules (see passive.rs): which CSCA
/// certificates assert cA=TRUE and keyCertSign, and that every one that does not is a
/// link certificate whose key a compliant self-signed CSCA also certifies.
#[test]
fn trust_german_master_list_ca_flags() {
    let Some(ml) = shared_data("masterlists/DE_ML_2024-12-19.ml") else {
        return;
    };
    let mut store = TrustStore::new();
    store.load_path(&ml).unwrap();
    let certs = store.certificates();
    let count = |f: &dyn Fn(&Certificate) -> bool| certs.iter().filter(|c| f(c)).count();
    assert_eq!(certs.len(), 551);
    assert_eq!(count(&|c| c.is_ca == Some(true)), 542);
    assert_eq!(count(&|c| c.is_ca == Some(false)), 7);
    assert_eq!(count(&|c| c.is_ca.is_none()), 2);
    let cert_sign = certificate::KeyUsage::KEY_CERT_SIGN;
    assert_eq!(
        count(&|c| c.key_usage.is_some_and(|k| k.allows(cert_sign))),
        550
    );
    assert_eq!(count(&|c| c.key_usage.is_none()), 1);
    assert_eq!(count(&|c| !c.signature_algorithms_agree()), 0);
    for c in certs.iter().filter(|c| c.is_ca != Some(true)) {
        let self_signed = c.is_self_issued() && c.authority_key_id == c.subject_key_id;
        assert!(!self_signed, "{}", c.subject);
        assert!(
            certs.iter().any(|o| o.der != c.der
                && o.public_key == c.public_key
                && o.is_ca == Some(true)
                && o.is_self_issued()),
            "{} has no compliant twin",
            c.subject
        );
    }
}

/// The extension rules of passive authentication against the German master list and
/// the BSI data set's DS: no critical extension the reader does not understand, and
/// the pathLenConstraint figures the module documentation gives.
#[test]
fn trust_reference_certificates_extensions() {
    let Some(ml) = shared_data("masterlists/DE_ML_2024-12-19.ml") else {
        return;
    };
    let Some((sod, _)) = bsi_files() else {
        return;
    };
    let mut store = TrustStore::new();
    store.load_path(&ml).unwrap();
    let certs = store.certificates();
    let count = |n: Option<u32>| {
        certs
            .iter()
            .filter(|c| c.path_len_constraint() == n)
            .count()
    };
    assert_eq!((count(Some(0)), count(Some(1)), count(None)), (512, 9, 30));
    let outer = Tlv::parse_as(&sod, EF_SOD_TAG, "sod").unwrap();
    let signed = cms::SignedData::from_content_info(outer.value()).unwrap();
    for c in certs.iter().chain(&signed.certificates) {
        assert!(
            c.unknown_critical_extensions().is_empty(),
            "{}: {:?}",
            c.subject,
            c.unknown_critical_extensions()
        );
        if let Some(period) = c.private_key_usage_period() {
            assert!(period.is_ok(), "{}", c.subject);
        }
    }
}
