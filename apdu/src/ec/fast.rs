//! The RustCrypto curve crates behind the same `Point` API (P-256, P-384, P-521,
//! brainpoolP256r1, brainpoolP384r1). Each function returns `None` when an input does not
//! belong to the curve (a point from another curve, a scalar of the wrong length).

use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{
    CurveAffine, CurveArithmetic, CurveGroup, FieldBytes, Group, PrimeField,
};
use zeroize::{Zeroize, Zeroizing};

use super::Point;

fn load<C: CurveArithmetic>(p: &Point) -> Option<C::ProjectivePoint> {
    match &p.xy {
        None => Some(C::ProjectivePoint::identity()),
        Some((x, y)) => {
            let xb = FieldBytes::<C>::try_from(x.as_slice()).ok()?;
            let yb = FieldBytes::<C>::try_from(y.as_slice()).ok()?;
            let affine: Option<C::AffinePoint> = C::AffinePoint::from_coordinates(&xb, &yb).into();
            affine.map(Into::into)
        }
    }
}

fn store<C: CurveArithmetic>(p: &C::ProjectivePoint) -> Point {
    let a = p.to_affine();
    if bool::from(a.is_identity()) {
        return Point::identity();
    }
    Point {
        xy: Some((a.x().to_vec(), a.y().to_vec())),
    }
}

fn scalar<C: CurveArithmetic>(k: &[u8]) -> Option<Zeroizing<C::Scalar>> {
    let mut repr = FieldBytes::<C>::try_from(k).ok()?;
    let s: Option<C::Scalar> = C::Scalar::from_repr(repr).into();
    repr.as_mut_slice().zeroize();
    s.map(Zeroizing::new)
}

/// k·p (constant time in k).
pub(crate) fn mul<C: CurveArithmetic>(k: &[u8], p: &Point) -> Option<Point> {
    let p = load::<C>(p)?;
    let k = scalar::<C>(k)?;
    Some(store::<C>(&(p * *k)))
}

/// k·G (constant time in k).
pub(crate) fn mul_generator<C: CurveArithmetic>(k: &[u8]) -> Option<Point> {
    let k = scalar::<C>(k)?;
    Some(store::<C>(&C::ProjectivePoint::mul_by_generator(&*k)))
}

/// a + b.
pub(crate) fn add<C: CurveArithmetic>(a: &Point, b: &Point) -> Option<Point> {
    let (a, b) = (load::<C>(a)?, load::<C>(b)?);
    Some(store::<C>(&(a + b)))
}

/// k1·G + k2·q for public scalars.
pub(crate) fn double_mul<C: CurveArithmetic>(k1: &[u8], k2: &[u8], q: &Point) -> Option<Point> {
    let q = load::<C>(q)?;
    let (k1, k2) = (scalar::<C>(k1)?, scalar::<C>(k2)?);
    Some(store::<C>(
        &(C::ProjectivePoint::mul_by_generator(&*k1) + q * *k2),
    ))
}
