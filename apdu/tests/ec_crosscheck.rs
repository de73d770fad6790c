//! The generic engine against the RustCrypto curve crates: scalar multiplication, ECDH and
//! ECDSA interoperability with the crates' own ECDSA.

mod common;
use apdu::rng::DeterministicRng;

use apdu::ec::{Curve, CurveId};

const FAST: [CurveId; 5] = [
    CurveId::P256,
    CurveId::P384,
    CurveId::P521,
    CurveId::BrainpoolP256r1,
    CurveId::BrainpoolP384r1,
];

#[test]
fn generic_engine_agrees_with_crates() {
    let mut rng = DeterministicRng::new(b"cross-check", "");
    for id in FAST {
        let fast = id.curve();
        let generic = Curve::generic(id);
        assert!(fast.uses_fast_path() && !generic.uses_fast_path());
        assert_eq!(fast.generator(), generic.generator());
        for _ in 0..8 {
            let a = fast.random_scalar(&mut rng);
            let b = generic.random_scalar(&mut rng);
            let pa_fast = fast.mul_generator(&a);
            let pa_gen = generic.mul_generator(&a);
            assert_eq!(pa_fast, pa_gen, "{id}: a·G");
            let pb = generic.mul(&b, &generic.generator());
            assert_eq!(fast.mul(&b, &fast.generator()), pb, "{id}: b·G");
            // ECDH across engines.
            assert_eq!(
                fast.ecdh_x(&a, &pb).unwrap(),
                generic.ecdh_x(&b, &pa_gen).unwrap(),
                "{id}: ECDH"
            );
            assert_eq!(fast.mul(&a, &pb), generic.mul(&a, &pb), "{id}: a·(b·G)");
            assert_eq!(
                fast.add(&pa_fast, &pb),
                generic.add(&pa_gen, &pb),
                "{id}: add"
            );
            assert_eq!(fast.add(&pb, &pb), generic.add(&pb, &pb), "{id}: double");
            let k = a.to_bytes();
            assert_eq!(fast.mul_vartime(&k, &pb), generic.mul_vartime(&k, &pb));
            // Signatures from one engine verify on the other.
            let digest = [0xa5u8; 48];
            let (r, s) = fast.ecdsa_sign(&a, &digest, &mut rng);
            generic.ecdsa_verify(&pa_gen, &digest, &r, &s).unwrap();
            let (r, s) = generic.ecdsa_sign(&a, &digest, &mut rng);
            fast.ecdsa_verify(&pa_fast, &digest, &r, &s).unwrap();
        }
    }
}

macro_rules! ecdsa_interop {
    ($name:ident, $krate:ident, $id:expr, $digest_len:expr) => {
        #[test]
        fn $name() {
            use $krate::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
            use $krate::ecdsa::{Signature, SigningKey, VerifyingKey};
            let mut rng = DeterministicRng::new(stringify!($name).as_bytes(), "");
            for engine in [$id.curve().clone(), Curve::generic($id)] {
                for i in 0..4u8 {
                    let d = engine.random_scalar(&mut rng);
                    let q = engine.public_key(&d);
                    let digest = [i.wrapping_mul(37).wrapping_add(1); $digest_len];
                    let theirs = SigningKey::from_slice(&d.to_bytes()).unwrap();
                    let their_pub =
                        VerifyingKey::from_sec1_bytes(&engine.encode_point(&q)).unwrap();
                    // Ours verified by the crate.
                    let (r, s) = engine.ecdsa_sign(&d, &digest, &mut rng);
                    let sig = Signature::from_slice(&[r, s].concat()).unwrap();
                    their_pub.verify_prehash(&digest, &sig).unwrap();
                    // The crate's verified by ours.
                    let sig: Signature = theirs.sign_prehash(&digest).unwrap();
                    let bytes = sig.to_bytes();
                    let (r, s) = bytes.split_at(engine.order_len());
                    engine.ecdsa_verify(&q, &digest, r, s).unwrap();
                }
            }
        }
    };
}

ecdsa_interop!(ecdsa_interop_p256, p256, CurveId::P256, 32);
ecdsa_interop!(ecdsa_interop_p384, p384, CurveId::P384, 48);
ecdsa_interop!(ecdsa_interop_p521, p521, CurveId::P521, 64);
