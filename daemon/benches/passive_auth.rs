//! Passive authentication time per SOD signature algorithm, with the test PKI of
//! `fixtures/pki` (CSCA on brainpoolP512r1 with explicit parameters, so every run
//! includes one brainpoolP512r1 verification of the DS certificate):
//! `cargo bench -p cancuoc --bench passive_auth`.

use apdu::hash::HashAlgorithm;
use apdu::rng::DeterministicRng;
use cancuoc::pki::Time;
use cancuoc::pki::signature::{SignatureAlgorithm, verify};
use cancuoc::sim::issue::{
    CertificateTemplate, PrivateKey, SodOptions, issue_certificate, issue_sod,
};
use cancuoc::sim::test_pki::{CSCA_SIGNATURE, Issued, PSS_SIGNATURE, TestPki};
use cancuoc::trust::{PassiveStatus, TrustStore, verify_passive};
use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn card() -> BTreeMap<u8, Vec<u8>> {
    let mut dg1 = vec![0x61, 0x5d, 0x5f, 0x1f, 0x5a];
    dg1.extend_from_slice(&[b'<'; 90]);
    let mut dg2 = vec![0x75, 0x83, 0x00, 0x50, 0x00];
    dg2.extend((0..0x5000u32).map(|i| (i % 253) as u8));
    BTreeMap::from([(1, dg1), (2, dg2), (13, vec![0x6d, 0x02, 0x30, 0x00])])
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/pki"));
    let pki = TestPki::load(dir).expect("fixtures/pki");
    let mut rng = DeterministicRng::new(b"bench", "keys");
    // A DS on the CSCA's own curve, explicit parameters.
    let bp_key = PrivateKey::generate_ec(&mut rng, apdu::ec::CurveId::BrainpoolP512r1, true);
    let template = CertificateTemplate {
        serial: vec![0x77],
        subject: pki.ds.certificate.subject.clone(),
        not_before: pki.ds.certificate.not_before,
        not_after: pki.ds.certificate.not_after,
        public_key: bp_key.public_key().expect("public key"),
        ca: false,
    };
    let bp_cert = issue_certificate(
        &template,
        Some(&pki.csca.certificate),
        &pki.csca.key,
        CSCA_SIGNATURE,
        &mut rng,
    )
    .expect("certificate");
    let ds_bp = Issued {
        certificate: bp_cert,
        key: bp_key,
    };

    let mut store = TrustStore::new();
    store.add_certificate(pki.csca.certificate.clone());
    store.add_crl(pki.crl.clone());
    let at = Time::from_ymd_hms(2025, 6, 1, 0, 0, 0).expect("time");
    let dgs = card();
    let cases: [(&str, &Issued, SignatureAlgorithm); 3] = [
        ("rsa_pss_3072", &pki.ds_rsa_pss, PSS_SIGNATURE),
        (
            "ecdsa_p384",
            &pki.ds,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        ),
        (
            "ecdsa_brainpoolP512r1_explicit",
            &ds_bp,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512),
        ),
    ];

    let mut group = c.benchmark_group("passive_auth");
    group
        .measurement_time(Duration::from_secs(4))
        .sample_size(20);
    for (name, ds, alg) in &cases {
        let options = SodOptions {
            hash: HashAlgorithm::Sha256,
            signature: *alg,
            version_info: None,
            extra_certificates: Vec::new(),
        };
        let sod = issue_sod(&dgs, &ds.certificate, &ds.key, &options, &mut rng).expect("sod");
        let r = verify_passive(&sod, &dgs, &store, at, Some("VNM"));
        assert_eq!(r.status, PassiveStatus::Valid, "{name}: {r:?}");
        group.bench_function(*name, |b| {
            b.iter(|| verify_passive(black_box(&sod), black_box(&dgs), &store, at, Some("VNM")))
        });
    }
    group.finish();

    // The SOD signature alone, to separate it from the chain check.
    let mut group = c.benchmark_group("sod_signature_only");
    group
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    for (name, ds, alg) in &cases {
        let sig = ds
            .key
            .sign(*alg, b"signed attributes", &mut rng)
            .expect("sign");
        let public = ds.certificate.public_key.clone();
        group.bench_function(*name, |b| {
            b.iter(|| verify(*alg, &public, black_box(b"signed attributes"), &sig).expect("valid"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
