//! Elliptic-curve arithmetic: named-curve sanity, generic vs RustCrypto engines, ICAO 9303-11
//! worked examples, published known-answer tests, the Vietnamese CSCA self-signature and
//! hostile inputs.

mod common;

use apdu::ec::{Curve, CurveId, EcError, ExplicitParams, Point};
use common::{TestRng, h, vectors};

fn curves_both_engines() -> Vec<(CurveId, Curve)> {
    let mut v = Vec::new();
    for id in CurveId::ALL {
        v.push((id, id.curve().clone()));
        if id.has_fast_path() {
            v.push((id, Curve::generic(id)));
        }
    }
    v
}

#[test]
fn identifiers_round_trip() {
    for id in CurveId::ALL {
        assert_eq!(CurveId::from_oid(id.oid()), Some(id));
        assert_eq!(
            CurveId::from_pace_parameter_id(id.pace_parameter_id()),
            Some(id)
        );
        assert_eq!(id.curve().id(), Some(id));
        assert_eq!(id.curve().uses_fast_path(), id.has_fast_path());
    }
    let ids: Vec<u8> = CurveId::ALL.iter().map(|c| c.pace_parameter_id()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (8..=18).collect::<Vec<u8>>());
    assert_eq!(CurveId::from_pace_parameter_id(7), None);
    assert_eq!(CurveId::from_pace_parameter_id(19), None);
    assert_eq!(CurveId::BrainpoolP256r1.name(), "brainpoolP256r1");
    assert_eq!(CurveId::P256.name(), "P-256");
    assert_eq!(CurveId::BrainpoolP256r1.oid(), "1.3.36.3.3.2.8.1.1.7");
    assert_eq!(CurveId::from_oid("1.2.3"), None);
}

#[test]
fn group_laws_on_every_curve() {
    let mut rng = TestRng::new(b"group laws");
    for (id, c) in curves_both_engines() {
        let g = c.generator();
        let enc = c.encode_point(&g);
        assert_eq!(enc.len(), 1 + 2 * c.field_len(), "{id}");
        assert_eq!(c.decode_point(&enc).unwrap(), g, "{id}");
        assert!(c.contains(&g));
        // n·G = O and (n-1)·G = -G.
        let n = c.order();
        assert!(c.mul_vartime(&n, &g).is_identity(), "{id}: n·G");
        let mut n1 = n.clone();
        *n1.last_mut().unwrap() -= 1;
        let neg_g = c.mul(&c.scalar_from_bytes(&n1).unwrap(), &g);
        assert_eq!(neg_g, c.negate(&g), "{id}: (n-1)·G");
        assert!(c.add(&neg_g, &g).is_identity(), "{id}: G + -G");
        // 2·G = G + G, 3·G = 2·G + G.
        let two = c.scalar_from_bytes(&[2]).unwrap();
        let three = c.scalar_from_bytes(&[3]).unwrap();
        let g2 = c.add(&g, &g);
        assert_eq!(c.mul(&two, &g), g2, "{id}: 2G");
        assert_eq!(c.mul(&three, &g), c.add(&g2, &g), "{id}: 3G");
        assert_eq!(
            c.mul_generator(&three),
            c.add(&g2, &g),
            "{id}: 3G by generator"
        );
        // Distributivity with random scalars: (a+b)·G = a·G + b·G (public scalars).
        let a = c.random_scalar(&mut rng);
        let b = c.random_scalar(&mut rng);
        let ab = c.mul_vartime(&[a.to_bytes().as_slice(), &b.to_bytes()].concat(), &g);
        let _ = ab;
        let lhs = c.mul(&a, &c.mul(&b, &g));
        let rhs = c.mul(&b, &c.mul(&a, &g));
        assert_eq!(lhs, rhs, "{id}: a(bG) = b(aG)");
        assert_eq!(
            c.mul_vartime(&a.to_bytes(), &g),
            c.mul(&a, &g),
            "{id}: vartime"
        );
        // Signatures.
        let d = c.random_scalar(&mut rng);
        let q = c.public_key(&d);
        let digest = [0x5au8; 64];
        let (r, s) = c.ecdsa_sign(&d, &digest, &mut rng);
        assert_eq!(r.len(), c.order_len());
        assert_eq!(s.len(), c.order_len());
        c.ecdsa_verify(&q, &digest, &r, &s).unwrap();
        let mut bad = digest;
        bad[0] ^= 1;
        assert_eq!(
            c.ecdsa_verify(&q, &bad, &r, &s),
            Err(EcError::BadSignature),
            "{id}"
        );
        assert_eq!(
            c.ecdsa_verify(&g, &digest, &r, &s),
            Err(EcError::BadSignature),
            "{id}"
        );
    }
}

/// brainpoolP256r1 on both engines.
fn bp256_engines() -> [Curve; 2] {
    [
        CurveId::BrainpoolP256r1.curve().clone(),
        Curve::generic(CurveId::BrainpoolP256r1),
    ]
}

fn check_keypair(c: &Curve, generator: &Point, v: &serde_json::Value, private: &str, public: &str) {
    let k = c.scalar_from_bytes(&h(v, private)).unwrap();
    let expected = c.decode_point(&h(v, public)).unwrap();
    assert_eq!(c.mul(&k, generator), expected, "{private} -> {public}");
    assert_eq!(c.encode_point(&c.mul(&k, generator)), h(v, public));
}

/// PACE generic mapping, ECDH (ICAO 9303-11 G.1 and the BSI EAC worked example): mapping key
/// pairs, H, G' = s·G + H, ephemeral key pairs on G' and K.
#[test]
fn pace_ecdh_generic_mapping_vectors() {
    let all = vectors();
    for group in ["pace_ecdh_gm_brainpoolp256r1", "bsi_eac_pace_ecdh_gm"] {
        let v = &all[group];
        assert_eq!(v["curve"], "brainpoolP256r1");
        assert_eq!(
            CurveId::from_pace_parameter_id(v["parameter_id"].as_u64().unwrap() as u8),
            Some(CurveId::BrainpoolP256r1)
        );
        for c in bp256_engines() {
            let g = c.generator();
            check_keypair(
                &c,
                &g,
                v,
                "terminal_mapping_private_key",
                "terminal_mapping_public_key",
            );
            check_keypair(
                &c,
                &g,
                v,
                "chip_mapping_private_key",
                "chip_mapping_public_key",
            );
            let chip_map_pub = c.decode_point(&h(v, "chip_mapping_public_key")).unwrap();
            let term_map_pub = c
                .decode_point(&h(v, "terminal_mapping_public_key"))
                .unwrap();
            let term_map = c
                .scalar_from_bytes(&h(v, "terminal_mapping_private_key"))
                .unwrap();
            let chip_map = c
                .scalar_from_bytes(&h(v, "chip_mapping_private_key"))
                .unwrap();
            let shared_h = c.ecdh_point(&term_map, &chip_map_pub).unwrap();
            assert_eq!(
                c.encode_point(&shared_h),
                h(v, "shared_point_h"),
                "{group}: H"
            );
            assert_eq!(c.ecdh_point(&chip_map, &term_map_pub).unwrap(), shared_h);
            let s = c.scalar_from_bytes(&h(v, "nonce_s")).unwrap();
            let mapped = c.add(&c.mul_generator(&s), &shared_h);
            assert_eq!(
                c.encode_point(&mapped),
                h(v, "mapped_generator"),
                "{group}: G'"
            );
            check_keypair(
                &c,
                &mapped,
                v,
                "terminal_ephemeral_private_key",
                "terminal_ephemeral_public_key",
            );
            check_keypair(
                &c,
                &mapped,
                v,
                "chip_ephemeral_private_key",
                "chip_ephemeral_public_key",
            );
            let term_eph = c
                .scalar_from_bytes(&h(v, "terminal_ephemeral_private_key"))
                .unwrap();
            let chip_eph = c
                .scalar_from_bytes(&h(v, "chip_ephemeral_private_key"))
                .unwrap();
            let chip_eph_pub = c.decode_point(&h(v, "chip_ephemeral_public_key")).unwrap();
            let term_eph_pub = c
                .decode_point(&h(v, "terminal_ephemeral_public_key"))
                .unwrap();
            let k1 = c.ecdh_x(&term_eph, &chip_eph_pub).unwrap();
            let k2 = c.ecdh_x(&chip_eph, &term_eph_pub).unwrap();
            assert_eq!(*k1, h(v, "shared_secret_k"), "{group}: K");
            assert_eq!(k1, k2);
        }
    }
}

/// PACE integrated mapping, ECDH (ICAO 9303-11 H.1): ephemeral key pairs on the given mapped
/// generator and K.
#[test]
fn pace_ecdh_integrated_mapping_vectors() {
    let v = &vectors()["pace_im_ecdh"];
    for c in bp256_engines() {
        let mapped = c.decode_point(&h(v, "mapped_generator")).unwrap();
        check_keypair(
            &c,
            &mapped,
            v,
            "terminal_ephemeral_private_key",
            "terminal_ephemeral_public_key",
        );
        check_keypair(
            &c,
            &mapped,
            v,
            "chip_ephemeral_private_key",
            "chip_ephemeral_public_key",
        );
        let term_eph = c
            .scalar_from_bytes(&h(v, "terminal_ephemeral_private_key"))
            .unwrap();
        let chip_eph = c
            .scalar_from_bytes(&h(v, "chip_ephemeral_private_key"))
            .unwrap();
        let chip_pub = c.decode_point(&h(v, "chip_ephemeral_public_key")).unwrap();
        let term_pub = c
            .decode_point(&h(v, "terminal_ephemeral_public_key"))
            .unwrap();
        assert_eq!(
            *c.ecdh_x(&term_eph, &chip_pub).unwrap(),
            h(v, "shared_secret_k")
        );
        assert_eq!(
            *c.ecdh_x(&chip_eph, &term_pub).unwrap(),
            h(v, "shared_secret_k")
        );
    }
}

/// PACE-CAM (ICAO 9303-11 I): mapping, G', the terminal's ephemeral key, K, and the chip
/// authentication check CA_IC · PK_IC = PK_map,IC.
#[test]
fn pace_cam_vectors() {
    let v = &vectors()["pace_cam_ecdh"];
    for c in bp256_engines() {
        let g = c.generator();
        check_keypair(
            &c,
            &g,
            v,
            "terminal_mapping_private_key",
            "terminal_mapping_public_key",
        );
        check_keypair(
            &c,
            &g,
            v,
            "chip_mapping_private_key",
            "chip_mapping_public_key",
        );
        let term_map = c
            .scalar_from_bytes(&h(v, "terminal_mapping_private_key"))
            .unwrap();
        let chip_map_pub = c.decode_point(&h(v, "chip_mapping_public_key")).unwrap();
        let shared_h = c.ecdh_point(&term_map, &chip_map_pub).unwrap();
        let s = c.scalar_from_bytes(&h(v, "nonce_s")).unwrap();
        let mapped = c.add(&c.mul_generator(&s), &shared_h);
        assert_eq!(c.encode_point(&mapped), h(v, "mapped_generator"));
        check_keypair(
            &c,
            &mapped,
            v,
            "terminal_ephemeral_private_key",
            "terminal_ephemeral_public_key",
        );
        let term_eph = c
            .scalar_from_bytes(&h(v, "terminal_ephemeral_private_key"))
            .unwrap();
        let chip_pub = c.decode_point(&h(v, "chip_ephemeral_public_key")).unwrap();
        assert_eq!(
            *c.ecdh_x(&term_eph, &chip_pub).unwrap(),
            h(v, "shared_secret_k")
        );
        let ca = h(v, "chip_authentication_data");
        let static_pub = c.decode_point(&h(v, "chip_static_public_key")).unwrap();
        assert_eq!(
            c.mul_vartime(&ca, &static_pub),
            chip_map_pub,
            "CA_IC · PK_IC"
        );
    }
}

/// Chip authentication, ECDH (BSI EAC worked example): key pairs and K on both sides.
#[test]
fn chip_authentication_ecdh_vectors() {
    let v = &vectors()["chip_authentication"]["ecdh"];
    for c in bp256_engines() {
        let g = c.generator();
        check_keypair(
            &c,
            &g,
            v,
            "chip_static_private_key",
            "chip_static_public_key",
        );
        check_keypair(
            &c,
            &g,
            v,
            "terminal_ephemeral_private_key",
            "terminal_ephemeral_public_key",
        );
        let chip = c
            .scalar_from_bytes(&h(v, "chip_static_private_key"))
            .unwrap();
        let term = c
            .scalar_from_bytes(&h(v, "terminal_ephemeral_private_key"))
            .unwrap();
        let chip_pub = c.decode_point(&h(v, "chip_static_public_key")).unwrap();
        let term_pub = c
            .decode_point(&h(v, "terminal_ephemeral_public_key"))
            .unwrap();
        assert_eq!(
            *c.ecdh_x(&term, &chip_pub).unwrap(),
            h(v, "shared_secret_k")
        );
        assert_eq!(
            *c.ecdh_x(&chip, &term_pub).unwrap(),
            h(v, "shared_secret_k")
        );
    }
}
