//! Decodes the input as a point on every curve and, when it decodes, runs ECDH, point
//! addition and ECDSA verification with it; one curve (chosen by the first byte) also gets a
//! signature check on its generator, explicit domain parameters cut from the input, and one
//! DH group the input as a public value. Nothing may panic.
#![no_main]

use apdu::dh::DhGroupId;
use apdu::ec::{Curve, CurveId, ExplicitParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    for id in CurveId::ALL {
        let curve = id.curve();
        if let Ok(point) = curve.decode_point(rest) {
            let k = curve
                .scalar_from_bytes(&[selector | 1])
                .expect("small scalar");
            let shared = curve
                .ecdh_x(&k, &point)
                .expect("valid point gives a shared secret");
            assert_eq!(shared.len(), curve.field_len());
            let sum = curve.add(&point, &curve.generator());
            let _ = curve.encode_point(&sum);
            assert_eq!(
                curve.decode_point(&curve.encode_point(&point)),
                Ok(point.clone())
            );
            let half = rest.len() / 2;
            let _ = curve.ecdsa_verify(&point, rest, &rest[..half], &rest[half..]);
            if id.has_fast_path() {
                let generic = Curve::generic(id);
                assert_eq!(generic.ecdh_x(&k, &point).expect("generic"), shared);
            }
        }
    }
    let index = usize::from(selector & 0x0f) % CurveId::ALL.len();
    let curve = CurveId::ALL[index].curve();
    let _ = curve.scalar_from_bytes(rest);
    let third = rest.len() / 3;
    let (digest, sig) = rest.split_at(third);
    let (r, s) = sig.split_at(third.min(sig.len()));
    let _ = curve.ecdsa_verify(&curve.generator(), digest, r, s);
    // Explicit parameters cut from the input.
    if selector & 0x40 != 0 && rest.len() > 5 {
        let (lens, mut body) = rest.split_at(5);
        let mut take = |n: usize| {
            let (head, tail) = body.split_at(n.min(body.len()));
            body = tail;
            head
        };
        let lens: Vec<usize> = lens.iter().map(|&b| usize::from(b % 70)).collect();
        if let [lp, la, lb, lg, ln] = lens[..] {
            let (p, a, b, generator, order) =
                (take(lp), take(la), take(lb), take(lg * 2 + 1), take(ln));
            let params = ExplicitParams {
                p,
                a,
                b,
                generator,
                order,
                cofactor: None,
            };
            let _ = CurveId::from_explicit(&params);
            let _ = Curve::from_explicit(&params);
        }
    }
    // DH public values.
    let group = DhGroupId::ALL[usize::from(selector >> 6) % DhGroupId::ALL.len()].group();
    let _ = group.validate_public(rest);
    let _ = group.mul_mod(rest, &group.g());
});
