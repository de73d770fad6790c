//! Finite-field DH: the RFC 5114 groups against the ICAO 9303-11 / BSI worked examples, and
//! hostile inputs.

mod common;
use apdu::rng::DeterministicRng;

use apdu::dh::{DhError, DhGroup, DhGroupId};
use common::{h, vectors};

fn modp_1024_160() -> &'static DhGroup {
    DhGroupId::Modp1024_160.group()
}

#[test]
fn standardized_group_matches_the_vectors_file() {
    let d = &vectors()["domain_parameters"]["modp_1024_160"];
    let g = modp_1024_160();
    assert_eq!(g.p(), h(d, "p"));
    assert_eq!(g.g(), h(d, "g"));
    assert_eq!(g.q().unwrap(), h(d, "q"));
    assert_eq!(d["standardized_parameter_id"], 0);
    assert_eq!(
        DhGroupId::from_pace_parameter_id(0),
        Some(DhGroupId::Modp1024_160)
    );
    for id in DhGroupId::ALL {
        assert_eq!(
            DhGroupId::from_pace_parameter_id(id.pace_parameter_id()),
            Some(id)
        );
        let grp = id.group();
        // Rebuilt from its own values it is recognised as the standard group.
        let again = DhGroup::from_explicit(&grp.p(), &grp.g(), &grp.q().unwrap()).unwrap();
        assert_eq!(again.id(), Some(id));
    }
    assert_eq!(DhGroupId::from_pace_parameter_id(3), None);
    assert_eq!(modp_1024_160().p_len(), 128);
    assert_eq!(DhGroupId::Modp2048_224.group().p_len(), 256);
    assert_eq!(DhGroupId::Modp2048_256.group().q().unwrap().len(), 32);
}

fn check_public(g: &DhGroup, v: &serde_json::Value, private: &str, public: &str) {
    let x = g.private_key_from_bytes(&h(v, private)).unwrap();
    assert_eq!(
        g.public_from_private(&x),
        h(v, public),
        "{private} -> {public}"
    );
    g.validate_public(&h(v, public)).unwrap();
}

/// PACE generic mapping, DH (ICAO 9303-11 G.2 and BSI EAC worked example): mapping public
/// keys, H, g' = g^s·H, ephemeral public keys on g', and K.
#[test]
fn pace_dh_generic_mapping_vectors() {
    let all = vectors();
    for name in ["pace_dh_gm", "bsi_eac_pace_dh_gm"] {
        let v = &all[name];
        let g = modp_1024_160();
        check_public(
            g,
            v,
            "terminal_mapping_private_key",
            "terminal_mapping_public_key",
        );
        let term_map = g
            .private_key_from_bytes(&h(v, "terminal_mapping_private_key"))
            .unwrap();
        let shared_h = g
            .shared_secret(&term_map, &h(v, "chip_mapping_public_key"))
            .unwrap();
        assert_eq!(*shared_h, h(v, "shared_secret_h"), "{name}: H");
        if v.get("chip_mapping_private_key").is_some() {
            check_public(g, v, "chip_mapping_private_key", "chip_mapping_public_key");
            let chip_map = g
                .private_key_from_bytes(&h(v, "chip_mapping_private_key"))
                .unwrap();
            let h2 = g
                .shared_secret(&chip_map, &h(v, "terminal_mapping_public_key"))
                .unwrap();
            assert_eq!(h2, shared_h);
        }
        let mapped = g.map_generator(&h(v, "nonce_s"), &shared_h).unwrap();
        assert_eq!(mapped.g(), h(v, "mapped_generator"), "{name}: g'");
        // The same through the primitive operations.
        let gs = g.pow_mod(&g.g(), &h(v, "nonce_s")).unwrap();
        assert_eq!(
            *g.mul_mod(&gs, &shared_h).unwrap(),
            h(v, "mapped_generator")
        );
        check_public(
            &mapped,
            v,
            "terminal_ephemeral_private_key",
            "terminal_ephemeral_public_key",
        );
        let term = mapped
            .private_key_from_bytes(&h(v, "terminal_ephemeral_private_key"))
            .unwrap();
        let k = mapped
            .shared_secret(&term, &h(v, "chip_ephemeral_public_key"))
            .unwrap();
        assert_eq!(*k, h(v, "shared_secret_k"), "{name}: K");
        if v.get("chip_ephemeral_private_key").is_some() {
            check_public(
                &mapped,
                v,
                "chip_ephemeral_private_key",
                "chip_ephemeral_public_key",
            );
            let chip = mapped
                .private_key_from_bytes(&h(v, "chip_ephemeral_private_key"))
                .unwrap();
            let k2 = mapped
                .shared_secret(&chip, &h(v, "terminal_ephemeral_public_key"))
                .unwrap();
            assert_eq!(k2, k);
        }
    }
}

/// PACE integrated mapping, DH (ICAO 9303-11 H.2): ephemeral key on the given g' and K.
#[test]
fn pace_dh_integrated_mapping_vectors() {
    let v = &vectors()["pace_im_dh"];
    let mapped = modp_1024_160()
        .with_generator(&h(v, "mapped_generator"))
        .unwrap();
    check_public(
        &mapped,
        v,
        "terminal_ephemeral_private_key",
        "terminal_ephemeral_public_key",
    );
    let term = mapped
        .private_key_from_bytes(&h(v, "terminal_ephemeral_private_key"))
        .unwrap();
    let k = mapped
        .shared_secret(&term, &h(v, "chip_ephemeral_public_key"))
        .unwrap();
    assert_eq!(*k, h(v, "shared_secret_k"));
}

/// Chip authentication, DH (BSI EAC worked example).
#[test]
fn chip_authentication_dh_vectors() {
    let v = &vectors()["chip_authentication"]["dh"];
    let g = modp_1024_160();
    check_public(g, v, "chip_static_private_key", "chip_static_public_key");
    check_public(
        g,
        v,
        "terminal_ephemeral_private_key",
        "terminal_ephemeral_public_key",
    );
    let chip = g
        .private_key_from_bytes(&h(v, "chip_static_private_key"))
        .unwrap();
    let term = g
        .private_key_from_bytes(&h(v, "terminal_ephemeral_private_key"))
        .unwrap();
    let k1 = g
        .shared_secret(&term, &h(v, "chip_static_public_key"))
        .unwrap();
    let k2 = g
        .shared_secret(&chip, &h(v, "terminal_ephemeral_public_key"))
        .unwrap();
    assert_eq!(*k1, h(v, "shared_secret_k"));
    assert_eq!(k1, k2);
}

#[test]
fn random_key_agreement_on_every_group() {
    let mut rng = DeterministicRng::new(b"dh agreement", "");
    for id in DhGroupId::ALL {
        let g = id.group();
        let (a, ya) = g.generate_keypair(&mut rng);
        let (b, yb) = g.generate_keypair(&mut rng);
        assert_eq!(ya.len(), g.p_len());
        let k1 = g.shared_secret(&a, &yb).unwrap();
        let k2 = g.shared_secret(&b, &ya).unwrap();
        assert_eq!(k1, k2, "{}", id.name());
        assert_eq!(k1.len(), g.p_len());
        assert_eq!(format!("{a:?}"), "[redacted]");
    }
}

#[test]
fn hostile_dh_inputs_are_refused() {
    let g = modp_1024_160();
    let p = g.p();
    let mut p_minus_1 = p.clone();
    *p_minus_1.last_mut().unwrap() -= 1;
    for bad in [
        vec![],
        vec![0],
        vec![1],
        p_minus_1.clone(),
        p.clone(),
        vec![0xff; 129],
        vec![0xff; 10_000],
    ] {
        assert_eq!(g.validate_public(&bad), Err(DhError::InvalidPublicValue));
    }
    // 2 is in range but (for this group) outside the order-q subgroup.
    assert_eq!(g.validate_public(&[2]), Err(DhError::InvalidPublicValue));
    let x = g.private_key_from_bytes(&[7]).unwrap();
    assert!(g.shared_secret(&x, &p_minus_1).is_err());
    assert!(g.private_key_from_bytes(&[0, 0]).is_err());
    assert!(g.private_key_from_bytes(&[1; 129]).is_err());
    assert_eq!(g.mul_mod(&p, &[1]), Err(DhError::OutOfRange));
    assert!(g.pow_mod(&[2], &vec![1; 1000]).is_err());
    // Explicit parameters: absurd sizes and inconsistent values.
    let q = g.q().unwrap();
    assert!(DhGroup::from_explicit(&vec![0xff; 600], &[2], &q).is_err());
    assert!(
        DhGroup::from_explicit(&p[..64], &[2], &q).is_err(),
        "512-bit p"
    );
    let mut even = p.clone();
    *even.last_mut().unwrap() &= 0xfe;
    assert!(DhGroup::from_explicit(&even, &g.g(), &q).is_err());
    assert!(DhGroup::from_explicit(&p, &[1], &q).is_err());
    assert!(DhGroup::from_explicit(&p, &p, &q).is_err());
    assert!(
        DhGroup::from_explicit(&p, &[2], &q).is_err(),
        "2 is not of order q"
    );
    let mut q2 = q.clone();
    *q2.last_mut().unwrap() ^= 2;
    assert!(DhGroup::from_explicit(&p, &g.g(), &q2).is_err());
    assert!(DhGroup::from_explicit(&p, &g.g(), &[]).is_err());
    assert!(DhGroup::from_explicit(&[], &[], &[]).is_err());
    // Without q only the range is checked.
    let loose = DhGroup::from_explicit_without_order(&p, &g.g()).unwrap();
    loose.validate_public(&[2]).unwrap();
}
