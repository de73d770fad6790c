//! PACE integrated mapping math against the ICAO 9303-11 Appendix H worked examples, and
//! the mapping on every standardized group and cipher suite.

mod common;
use apdu::rng::DeterministicRng;

use apdu::crypto::CipherSuite;
use apdu::ec::CurveId;
use apdu::key_agreement::{Group, im_pseudo_random};
use apdu::secure_messaging::SessionKeys;
use apdu::security_infos::KeyAgreement;
use apdu::{Error, dh::DhGroupId};
use common::{h, vectors};
use rand_core::Rng;

fn check_worked_example(name: &str, group: Group, p_bits: u32) {
    let v = &vectors()[name];
    let (s, t) = (h(v, "nonce_s"), h(v, "nonce_t"));
    let r = im_pseudo_random(&s, &t, CipherSuite::Aes128, p_bits).unwrap();
    assert_eq!(*r, h(v, "prf_r"), "{name}: R(s, t)");
    let r_p = group
        .integrated_mapping_element(&s, &t, CipherSuite::Aes128)
        .unwrap();
    let expected_rp = h(v, "prf_rp");
    let pad = r_p.len() - expected_rp.len();
    assert_eq!(r_p[pad..], expected_rp[..], "{name}: R_p");
    let mapped = group.map_integrated(&s, &t, CipherSuite::Aes128).unwrap();
    assert_eq!(
        mapped.generator(),
        h(v, "mapped_generator"),
        "{name}: mapped generator"
    );
    let term_sk = mapped
        .private_key(&h(v, "terminal_ephemeral_private_key"))
        .unwrap();
    assert_eq!(
        mapped.public_key(&term_sk).unwrap(),
        h(v, "terminal_ephemeral_public_key")
    );
    if v.get("chip_ephemeral_private_key").is_some() {
        let chip_sk = mapped
            .private_key(&h(v, "chip_ephemeral_private_key"))
            .unwrap();
        assert_eq!(
            mapped.public_key(&chip_sk).unwrap(),
            h(v, "chip_ephemeral_public_key")
        );
        let k = mapped
            .shared_secret(&chip_sk, &h(v, "terminal_ephemeral_public_key"))
            .unwrap();
        assert_eq!(*k, h(v, "shared_secret_k"));
    }
    let k = mapped
        .shared_secret(&term_sk, &h(v, "chip_ephemeral_public_key"))
        .unwrap();
    assert_eq!(*k, h(v, "shared_secret_k"), "{name}: K");
    let keys = SessionKeys::derive(CipherSuite::Aes128, &k);
    assert_eq!(keys.enc().as_bytes(), h(v, "ks_enc"));
    assert_eq!(keys.mac().as_bytes(), h(v, "ks_mac"));
}

#[test]
fn icao_appendix_h1_ecdh() {
    check_worked_example(
        "pace_im_ecdh",
        Group::standardized(KeyAgreement::Ecdh, 13).unwrap(),
        256,
    );
}

#[test]
fn icao_appendix_h2_dh() {
    check_worked_example(
        "pace_im_dh",
        Group::standardized(KeyAgreement::Dh, 0).unwrap(),
        1024,
    );
}

fn nonces(suite: CipherSuite, rng: &mut DeterministicRng) -> (Vec<u8>, Vec<u8>) {
    let l = match suite {
        CipherSuite::Des3 | CipherSuite::Aes128 => 16,
        _ => 32,
    };
    let mut s = vec![0u8; l];
    let mut t = vec![0u8; suite.key_len()];
    rng.fill_bytes(&mut s);
    rng.fill_bytes(&mut t);
    (s, t)
}

const SUITES: [CipherSuite; 4] = [
    CipherSuite::Des3,
    CipherSuite::Aes128,
    CipherSuite::Aes192,
    CipherSuite::Aes256,
];

#[test]
fn every_curve_with_p_3_mod_4_and_every_suite() {
    let mut rng = DeterministicRng::new(b"im", "");
    for id in CurveId::ALL {
        let group = Group::curve(id);
        for suite in SUITES {
            let (s, t) = nonces(suite, &mut rng);
            let result = group.map_integrated(&s, &t, suite);
            if id == CurveId::P224 {
                assert!(
                    matches!(result, Err(Error::Unsupported(_))),
                    "P-224 has p = 1 mod 4"
                );
                continue;
            }
            let mapped = result.unwrap_or_else(|e| panic!("{} {suite:?}: {e}", id.name()));
            // On the curve, not the standard generator, and the same on both sides.
            id.curve().decode_point(&mapped.generator()).unwrap();
            assert_ne!(mapped.generator(), group.generator());
            let again = group.map_integrated(&s, &t, suite).unwrap();
            assert_eq!(again.generator(), mapped.generator());
            // Key agreement on the mapped generator works.
            let (a, pa) = mapped.generate(&mut rng).unwrap();
            let (b, pb) = mapped.generate(&mut rng).unwrap();
            assert_eq!(
                *mapped.shared_secret(&a, &pb).unwrap(),
                *mapped.shared_secret(&b, &pa).unwrap()
            );
        }
    }
}

#[test]
fn every_rfc_5114_group_and_suite() {
    let mut rng = DeterministicRng::new(b"im-dh", "");
    for id in DhGroupId::ALL {
        let group = Group::Dh(id.group().clone());
        for suite in SUITES {
            let (s, t) = nonces(suite, &mut rng);
            let mapped = group.map_integrated(&s, &t, suite).unwrap();
            assert_ne!(mapped.generator(), group.generator());
            let (a, pa) = mapped.generate(&mut rng).unwrap();
            let (b, pb) = mapped.generate(&mut rng).unwrap();
            assert_eq!(
                *mapped.shared_secret(&a, &pb).unwrap(),
                *mapped.shared_secret(&b, &pa).unwrap()
            );
        }
    }
}

#[test]
fn nonces_of_the_wrong_length_are_refused() {
    let group = Group::curve(CurveId::BrainpoolP256r1);
    assert!(
        group
            .map_integrated(&[1; 8], &[2; 16], CipherSuite::Des3)
            .is_err()
    );
    assert!(
        group
            .map_integrated(&[1; 16], &[2; 32], CipherSuite::Aes256)
            .is_err()
    );
    assert!(
        group
            .map_integrated(&[1; 32], &[2; 16], CipherSuite::Aes256)
            .is_err()
    );
    assert!(group.map_integrated(&[], &[], CipherSuite::Aes128).is_err());
}

#[test]
fn encode_to_point_refuses_out_of_range_input() {
    let curve = CurveId::BrainpoolP256r1.curve();
    assert!(curve.encode_to_point(&curve.p()).is_err());
    assert!(curve.encode_to_point(&[0xFF; 33]).is_err());
    // u = 0 divides by zero in the encoding: an error, not a panic.
    assert!(curve.encode_to_point(&[0; 32]).is_err());
}
