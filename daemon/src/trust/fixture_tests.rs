//! Round trips through the test PKI of `fixtures/pki`: SODs for a synthetic Vietnamese
//! card signed at test time, verified against the fixture CSCA, and every variant.

use super::passive::{CrlStatus, DataGroupStatus, PassiveResult, PassiveStatus};
use super::*;
use crate::lds::sod::{LdsVersionInfo, Sod};
use crate::pki::signature::SignatureAlgorithm;
use crate::pki::{Certificate, Time};
use crate::sim::issue::{SodOptions, issue_sod};
use crate::sim::test_pki::{self, Issued, TestPki};
use apdu::hash::HashAlgorithm;
use apdu::rng::DeterministicRng;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub(super) fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/pki"))
}

pub(super) fn pki() -> TestPki {
    TestPki::load(&fixture_dir()).expect("fixtures/pki is committed")
}

/// Synthetic card files (the leading tags are right; the contents are made up).
pub(crate) fn synthetic_card() -> BTreeMap<u8, Vec<u8>> {
    let mrz = b"IDVNM0123456789001234567890<<<9601013M3601011VNM<<<<<<<<<<<8NGUYEN<<VAN<A<<<<<<<<<<<<<<<<";
    let mut dg1 = vec![0x61, 0x5d, 0x5f, 0x1f, 0x5a];
    dg1.extend_from_slice(mrz);
    let mut dg2 = vec![0x75, 0x82, 0x04, 0x00];
    dg2.extend((0..1024u32).map(|i| (i * 7 % 251) as u8));
    let dg13 = [&[0x6d, 0x20][..], &[0x30; 32]].concat();
    let dg14 = [&[0x6e, 0x10][..], &[0x31; 16]].concat();
    BTreeMap::from([(1, dg1), (2, dg2), (13, dg13), (14, dg14)])
}

pub(super) fn at() -> Time {
    Time::from_ymd_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

fn store_with(certs: &[&Certificate], with_crl: &TestPki) -> TrustStore {
    let mut s = TrustStore::new();
    for c in certs {
        s.add_certificate((*c).clone());
    }
    s.add_crl(with_crl.crl.clone());
    s
}

pub(super) fn sod_for(
    ds: &Issued,
    alg: SignatureAlgorithm,
    hash: HashAlgorithm,
    extra: Vec<Certificate>,
) -> Vec<u8> {
    let options = SodOptions {
        hash,
        signature: alg,
        version_info: Some(LdsVersionInfo {
            lds_version: "0108".into(),
            unicode_version: "040000".into(),
        }),
        extra_certificates: extra,
    };
    issue_sod(
        &synthetic_card(),
        &ds.certificate,
        &ds.key,
        &options,
        &mut DeterministicRng::new(b"sod", "t"),
    )
    .unwrap()
}

fn ecdsa384() -> SignatureAlgorithm {
    SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384)
}

pub(super) fn codes(r: &PassiveResult) -> Vec<&'static str> {
    r.problems.iter().map(|p| p.code.as_str()).collect()
}

/// The fixtures' issuing state.
pub(super) const VN: Option<&str> = Some("VNM");

#[test]
fn trust_fixture_generator_is_reproducible() {
    let files = test_pki::generate().unwrap().files().unwrap();
    for (name, data) in files {
        let committed = std::fs::read(fixture_dir().join(&name)).unwrap();
        assert!(
            committed == data,
            "fixtures/pki/{name} differs from the generator's output"
        );
    }
}

#[test]
fn trust_fixture_valid_card() {
    let p = pki();
    let sod = sod_for(&p.ds, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    let parsed = Sod::from_bytes(&sod).unwrap();
    assert_eq!(parsed.lds.version, 1);
    let store = store_with(&[&p.csca.certificate], &p);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert!(r.problems.is_empty(), "{r:#?}");
    assert_eq!(r.crl, CrlStatus::Good);
    let csca = r.csca.as_ref().unwrap();
    assert_eq!(csca.curve.as_deref(), Some("brainpoolP512r1"));
    assert!(csca.explicit_parameters);
    assert!(r.data_groups.0.values().all(|s| *s == DataGroupStatus::Ok));
    // Through the same loader the CLI uses.
    let mut loaded = TrustStore::new();
    loaded.load_path(&fixture_dir().join("csca.pem")).unwrap();
    loaded
        .load_path(&fixture_dir().join("csca.crl.pem"))
        .unwrap();
    assert_eq!(
        verify_passive(&sod, &synthetic_card(), &loaded, at(), VN).status,
        PassiveStatus::Valid
    );
    // Not every data group read.
    let mut partial = synthetic_card();
    partial.remove(&2);
    let r = verify_passive(&sod, &partial, &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid);
    assert_eq!(r.data_groups.0[&2], DataGroupStatus::NotRead);
}

#[test]
fn trust_fixture_rsa_pss_and_sha1_hashes() {
    let p = pki();
    let store = store_with(&[&p.csca.certificate], &p);
    let sod = sod_for(
        &p.ds_rsa_pss,
        test_pki::PSS_SIGNATURE,
        HashAlgorithm::Sha256,
        vec![],
    );
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert!(r.signature_algorithm.as_deref().unwrap().contains("PSS"));
    let sod = sod_for(
        &p.ds,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha1),
        HashAlgorithm::Sha1,
        vec![],
    );
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert_eq!(r.hash_algorithm.as_deref(), Some("SHA-1"));
    // A PSS signature checked with another salt length fails: the salt is never guessed.
    let wrong = SignatureAlgorithm::RsaPss {
        hash: HashAlgorithm::Sha256,
        salt_len: 20,
    };
    let sod = sod_for(&p.ds_rsa_pss, wrong, HashAlgorithm::Sha256, vec![]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(
        r.status,
        PassiveStatus::Valid,
        "salt 20 declared and used: {r:#?}"
    );
}

#[test]
fn trust_fixture_expired_ds_stays_valid_with_a_problem() {
    let p = pki();
    let store = store_with(&[&p.csca.certificate], &p);
    // A DS that served its months under the CSCA and expired before the check.
    let key = crate::sim::issue::PrivateKey::generate_ec(
        &mut DeterministicRng::new(b"fixture", "ds-expired-in-csca"),
        apdu::ec::CurveId::P384,
        false,
    );
    let template = crate::sim::issue::CertificateTemplate {
        serial: vec![0x15],
        subject: p.ds_expired.certificate.subject.clone(),
        not_before: Time::from_ymd_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        not_after: Time::from_ymd_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        public_key: key.public_key().unwrap(),
        ca: false,
    };
    let certificate = crate::sim::issue::issue_certificate(
        &template,
        Some(&p.csca.certificate),
        &p.csca.key,
        crate::sim::test_pki::CSCA_SIGNATURE,
        &mut DeterministicRng::new(b"fixture", "ds-expired-in-csca cert"),
    )
    .unwrap();
    let ds = Issued { certificate, key };
    let sod = sod_for(&ds, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert_eq!(codes(&r), ["ds-expired"]);
    // The fixture's expired DS (2012 to 2022) claims a validity that begins before its
    // CSCA (2024 to 2039) existed: under the chain model no CSCA key could have
    // certified it then.
    let sod = sod_for(&p.ds_expired, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(
        codes(&r),
        ["ds-expired", "certificate-outside-issuer-validity"]
    );
}

#[test]
fn trust_fixture_not_yet_valid_ds_is_invalid() {
    let p = pki();
    let store = store_with(&[&p.csca.certificate], &p);
    let sod = sod_for(&p.ds, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    let early = Time::from_ymd_hms(2023, 6, 1, 0, 0, 0).unwrap();
    let r = verify_passive(&sod, &synthetic_card(), &store, early, VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert!(codes(&r).contains(&"ds-not-yet-valid"));
}

#[test]
fn trust_fixture_revoked_ds_is_invalid() {
    let p = pki();
    let store = store_with(&[&p.csca.certificate], &p);
    let sod = sod_for(&p.ds_revoked, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(r.crl, CrlStatus::Revoked);
    assert_eq!(codes(&r), ["ds-revoked"]);
    // Without the CRL the same card cannot be known revoked.
    let mut no_crl = TrustStore::new();
    no_crl.add_certificate(p.csca.certificate.clone());
    let r = verify_passive(&sod, &synthetic_card(), &no_crl, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid);
    assert_eq!(r.crl, CrlStatus::NotChecked);
}

#[test]
fn trust_fixture_wrong_csca_has_no_trust_anchor() {
    let p = pki();
    let store = store_with(&[&p.csca.certificate], &p);
    let sod = sod_for(&p.ds_rogue, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
    assert_eq!(codes(&r), ["csca-not-found"]);
    assert!(r.signer.is_some() && r.csca.is_none());
    // A DS signed by the rogue key but naming the real CSCA (its name and key
    // identifier) is a forgery.
    let template = crate::sim::issue::CertificateTemplate {
        serial: vec![0x66],
        subject: p.ds.certificate.subject.clone(),
        not_before: p.ds.certificate.not_before,
        not_after: p.ds.certificate.not_after,
        public_key: p.ds.key.public_key().unwrap(),
        ca: false,
    };
    let forged = crate::sim::issue::issue_certificate(
        &template,
        Some(&p.csca.certificate),
        &p.rogue_csca.key,
        test_pki::CSCA_SIGNATURE,
        &mut DeterministicRng::new(b"forged", "ds"),
    )
    .unwrap();
    let forged = Issued {
        certificate: forged,
        key: p.ds.key.clone(),
    };
    let sod = sod_for(&forged, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["ds-certificate-signature-invalid"]);
}

#[test]
fn trust_fixture_tampering_is_invalid() {
    let p = pki();
    let store = store_with(&[&p.csca.certificate], &p);
    let sod = sod_for(&p.ds, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    for (&n, bytes) in &synthetic_card() {
        for pos in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut dgs = synthetic_card();
            dgs.get_mut(&n).unwrap()[pos] ^= 0x20;
            let r = verify_passive(&sod, &dgs, &store, at(), VN);
            assert_eq!(r.status, PassiveStatus::Invalid, "DG{n} byte {pos}");
            assert_eq!(r.data_groups.0[&n], DataGroupStatus::Mismatch);
        }
    }
    // The signature value's last byte.
    let mut bad = sod.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let r = verify_passive(&bad, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Invalid, "{r:#?}");
    assert_eq!(codes(&r), ["sod-signature-invalid"]);
    assert_eq!(r.sod_signature, passive::SignatureStatus::Invalid);
}

#[test]
fn trust_fixture_link_certificate() {
    let p = pki();
    let sod = sod_for(&p.ds_link, ecdsa384(), HashAlgorithm::Sha256, vec![]);
    // Only the old CSCA: the new key is unknown.
    let old_only = store_with(&[&p.csca.certificate], &p);
    let r = verify_passive(&sod, &synthetic_card(), &old_only, at(), VN);
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
    // The link certificate in the trust store (as master lists carry them).
    let with_link = store_with(&[&p.csca.certificate, &p.link], &p);
    let r = verify_passive(&sod, &synthetic_card(), &with_link, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    // The link certificate carried in the SOD, chained to the old CSCA.
    let sod = sod_for(
        &p.ds_link,
        ecdsa384(),
        HashAlgorithm::Sha256,
        vec![p.link.clone()],
    );
    let r = verify_passive(&sod, &synthetic_card(), &old_only, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert_eq!(r.chain.len(), 1);
    assert_eq!(r.csca.as_ref().unwrap().serial, "01");
    // And the new self-signed CSCA alone.
    let new_only = store_with(&[&p.csca_2.certificate], &p);
    let r = verify_passive(&sod, &synthetic_card(), &new_only, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
}

#[test]
fn trust_fixture_sod_v0_and_missing_ds() {
    let p = pki();
    let store = store_with(&[&p.csca.certificate], &p);
    let options = SodOptions {
        hash: HashAlgorithm::Sha512,
        signature: SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512),
        version_info: None,
        extra_certificates: vec![],
    };
    let sod = issue_sod(
        &synthetic_card(),
        &p.ds.certificate,
        &p.ds.key,
        &options,
        &mut DeterministicRng::new(b"x", "y"),
    )
    .unwrap();
    let r = verify_passive(&sod, &synthetic_card(), &store, at(), VN);
    assert_eq!(r.status, PassiveStatus::Valid, "{r:#?}");
    assert_eq!(r.lds_version, Some(0));
    // A SOD without the DS certificate: found in the store, or missing.
    let ci = crate::pki::cms::SignedData::from_content_info(&sod[4..]).unwrap();
    assert_eq!(ci.certificates.len(), 1);
}
