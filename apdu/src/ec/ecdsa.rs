//! ECDSA (FIPS 186-4 section 6, X9.62) on top of the curve's point arithmetic, and the
//! primality sanity check used for explicit domain parameters.

use crypto_bigint::modular::BoxedMontyForm as Fe;
use crypto_bigint::{BoxedUint, CtEq};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::generic::{Modulus, uint_to_be};
use super::{Curve, EcError, Point, Scalar};

/// Miller-Rabin rounds for explicit-parameter primes (error below 2^-64 for random input).
const MR_ROUNDS: u32 = 32;

/// Miller-Rabin with bases derived from a hash of the candidate; a sanity check on public
/// domain parameters, not a proof.
pub(crate) fn probably_prime(m: &Modulus) -> bool {
    let one = BoxedUint::one_with_precision(m.precision);
    let m_minus_1 = m.m.wrapping_sub(&one);
    let s = m_minus_1.trailing_zeros_vartime();
    let Some(d) = m_minus_1.shr_vartime(s) else {
        return false;
    };
    let fe_one = m.one();
    let fe_minus_one = fe_one.neg();
    let m_bytes = uint_to_be(&m.m, m.len);
    for round in 0..MR_ROUNDS {
        let mut h = Sha256::new();
        h.update(&m_bytes);
        h.update(round.to_be_bytes());
        let base = m.reduce_vartime(&h.finalize());
        let a = m.fe(base);
        if a.is_zero().to_bool() || a.ct_eq(&fe_one).to_bool() || a.ct_eq(&fe_minus_one).to_bool() {
            continue;
        }
        let mut x = a.pow(&d);
        if x.ct_eq(&fe_one).to_bool() || x.ct_eq(&fe_minus_one).to_bool() {
            continue;
        }
        let mut witness = true;
        for _ in 1..s {
            x = x.square();
            if x.ct_eq(&fe_minus_one).to_bool() {
                witness = false;
                break;
            }
        }
        if witness {
            return false;
        }
    }
    true
}

/// The digest as an integer mod n: its leftmost bit-length-of-n bits (FIPS 186-4 6.4).
fn digest_to_fe(n: &Modulus, digest: &[u8]) -> Fe {
    let take = digest.get(..digest.len().min(n.len)).unwrap_or(digest);
    let mut e = BoxedUint::from_be_slice(take, n.precision)
        .unwrap_or_else(|_| BoxedUint::zero_with_precision(n.precision));
    let have_bits = u32::try_from(take.len() * 8).unwrap_or(0);
    if have_bits > n.bits {
        e = e.shr_vartime(have_bits - n.bits).unwrap_or(e);
    }
    // e < 2^bits(n) < 2n, so one subtraction reduces it.
    if e >= n.m {
        e = e.wrapping_sub(&n.m);
    }
    n.fe(e)
}

/// A signature component as an integer in [1, n-1].
fn component(n: &Modulus, v: &[u8]) -> Result<BoxedUint, EcError> {
    n.uint_below(v)
        .filter(|u| !u.is_zero().to_bool())
        .ok_or(EcError::SignatureOutOfRange)
}

pub(crate) fn verify(
    curve: &Curve,
    public: &Point,
    digest: &[u8],
    r: &[u8],
    s: &[u8],
) -> Result<(), EcError> {
    if public.is_identity() {
        return Err(EcError::Identity);
    }
    if !curve.contains(public) {
        return Err(EcError::NotOnCurve);
    }
    let n = &curve.g.fnm;
    let r = component(n, r)?;
    let s = component(n, s)?;
    let e = digest_to_fe(n, digest);
    let w = n
        .fe(s)
        .invert_vartime()
        .into_option()
        .ok_or(EcError::SignatureOutOfRange)?;
    let u1 = uint_to_be(&e.mul(&w).retrieve(), n.len);
    let u2 = uint_to_be(&n.fe(r.clone()).mul(&w).retrieve(), n.len);
    let point = curve.double_mul_generator_vartime(&u1, &u2, public);
    let x = curve.point_x(&point).ok_or(EcError::BadSignature)?;
    if n.reduce_vartime(&x) == r {
        Ok(())
    } else {
        Err(EcError::BadSignature)
    }
}

pub(crate) fn sign(
    curve: &Curve,
    private: &Scalar,
    digest: &[u8],
    rng: &mut impl rand_core::CryptoRng,
) -> (Vec<u8>, Vec<u8>) {
    let n = &curve.g.fnm;
    let e = digest_to_fe(n, digest);
    let to_fe = |k: &Scalar| {
        let u = BoxedUint::from_be_slice(k.as_bytes(), n.precision)
            .unwrap_or_else(|_| BoxedUint::zero_with_precision(n.precision));
        Zeroizing::new(n.fe(u))
    };
    let d = to_fe(private);
    loop {
        let k = curve.random_scalar(rng);
        let point = curve.mul_generator(&k);
        let Some(x) = curve.point_x(&point) else {
            continue;
        };
        let r = n.reduce_vartime(&x);
        if r.is_zero().to_bool() {
            continue;
        }
        let Some(k_inv) = to_fe(&k).invert().into_option().map(Zeroizing::new) else {
            continue;
        };
        let rd = Zeroizing::new(n.fe(r.clone()).mul(&d));
        let s = k_inv.mul(&e.add(&rd));
        if s.is_zero().to_bool() {
            continue;
        }
        return (uint_to_be(&r, n.len), n.to_be(&s));
    }
}
