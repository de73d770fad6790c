//! Elliptic-curve arithmetic for PACE, chip authentication, active authentication and
//! certificate signatures: ECDH, ECDSA and point operations on the eleven curves of
//! ICAO 9303-11 and on curves given by explicit domain parameters.
//!
//! One API over two engines: P-256, P-384, P-521, brainpoolP256r1 and brainpoolP384r1 run on
//! the RustCrypto curve crates; every other curve (and any curve through [`Curve::generic`])
//! runs on a generic projective-coordinate implementation over crypto-bigint.
//!
//! Points are always held in canonical affine form, so they compare and print the same
//! whichever engine produced them.

mod curve_id;
mod ecdsa;
mod fast;
mod generic;
pub(crate) use generic::uint_to_be;
#[cfg(test)]
mod properties;

use std::fmt;

use crypto_bigint::CtEq;
use crypto_bigint::modular::BoxedMontyForm as Fe;
use zeroize::{Zeroize, Zeroizing};

pub use curve_id::CurveId;
use curve_id::unhex;
use generic::{Generic, Modulus, Proj, bit_len};

/// Largest field and order size accepted from explicit parameters, in bits (P-521).
pub const MAX_FIELD_BITS: u32 = 521;
/// Smallest field accepted from explicit parameters, in bits (below any curve in use).
pub const MIN_FIELD_BITS: u32 = 128;

/// Errors of the elliptic-curve module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EcError {
    /// The point does not satisfy the curve equation.
    #[error("point is not on the curve")]
    NotOnCurve,
    /// The point (given or computed) is the point at infinity.
    #[error("point is the identity (point at infinity)")]
    Identity,
    /// The point encoding is malformed (unknown prefix byte or wrong length).
    #[error("invalid point encoding")]
    InvalidEncoding,
    /// A point coordinate is not below the field prime.
    #[error("point coordinate is not below the field prime")]
    CoordinateOutOfRange,
    /// A scalar is zero or not below the group order.
    #[error("scalar is not in the range [1, n-1]")]
    ScalarOutOfRange,
    /// Explicit domain parameters are malformed, too large or not supported.
    #[error("unsupported domain parameters: {0}")]
    UnsupportedParameters(&'static str),
    /// A signature component r or s is not in [1, n-1].
    #[error("signature component out of range")]
    SignatureOutOfRange,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
}

/// Explicit EC domain parameters (X9.62 `ECParameters` over a prime field), as raw bytes.
#[derive(Debug, Clone, Copy)]
pub struct ExplicitParams<'a> {
    /// Field prime p, big-endian.
    pub p: &'a [u8],
    /// Coefficient a, big-endian.
    pub a: &'a [u8],
    /// Coefficient b, big-endian.
    pub b: &'a [u8],
    /// Base point G, SEC1 encoded (compressed or uncompressed).
    pub generator: &'a [u8],
    /// Order n of G, big-endian.
    pub order: &'a [u8],
    /// Cofactor h, big-endian, when present.
    pub cofactor: Option<&'a [u8]>,
}

/// A curve point in affine form (or the identity). Public data.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Point {
    /// Affine x and y, each exactly the curve's field length; `None` is the identity.
    xy: Option<(Vec<u8>, Vec<u8>)>,
}

impl Point {
    /// The point at infinity.
    pub fn identity() -> Point {
        Point { xy: None }
    }

    /// Whether this is the point at infinity.
    pub fn is_identity(&self) -> bool {
        self.xy.is_none()
    }
}

impl fmt::Debug for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.xy {
            None => f.write_str("Point(identity)"),
            Some((x, y)) => {
                f.write_str("Point(04")?;
                for b in x.iter().chain(y.iter()) {
                    write!(f, "{b:02X}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A secret scalar in [1, n-1], big-endian, exactly the curve's order length. Wiped on drop.
#[derive(Clone)]
pub struct Scalar {
    be: Zeroizing<Vec<u8>>,
}

impl Scalar {
    /// Big-endian bytes, order length.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        self.be.clone()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.be
    }
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which engine does the point arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Generic,
    P256,
    P384,
    P521,
    Bp256,
    Bp384,
}

/// A short-Weierstrass curve y^2 = x^3 + ax + b over GF(p) whose group has prime order n.
#[derive(Clone)]
pub struct Curve {
    id: Option<CurveId>,
    engine: Engine,
    g: Generic,
    generator: Point,
}

impl fmt::Debug for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Curve")
            .field("id", &self.id)
            .field("field_bits", &self.g.fp.bits)
            .field("engine", &self.engine)
            .finish()
    }
}

/// Decodes a hex constant of this crate (curve and group parameters).
pub(crate) fn unhex_const(s: &str) -> Vec<u8> {
    unhex(s)
}

/// The bytes without their leading zero bytes.
pub(crate) fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(start..).unwrap_or_default()
}

impl Curve {
    /// A named curve; `fast` selects the RustCrypto engine where one exists.
    fn named(id: CurveId, fast: bool) -> Curve {
        let c = id.consts();
        // The constants are this module's own; the tests check every one of them.
        let g = Generic::new(
            &unhex(c.p),
            &unhex(c.a),
            &unhex(c.b),
            &unhex(c.gx),
            &unhex(c.gy),
            &unhex(c.n),
        )
        .unwrap_or_else(|| panic!("built-in domain parameters of {} are invalid", id.name()));
        let engine = match (fast, id) {
            (true, CurveId::P256) => Engine::P256,
            (true, CurveId::P384) => Engine::P384,
            (true, CurveId::P521) => Engine::P521,
            (true, CurveId::BrainpoolP256r1) => Engine::Bp256,
            (true, CurveId::BrainpoolP384r1) => Engine::Bp384,
            _ => Engine::Generic,
        };
        Curve::assemble(Some(id), engine, g)
    }

    fn assemble(id: Option<CurveId>, engine: Engine, g: Generic) -> Curve {
        let generator = Point {
            xy: Some((g.fp.to_be(&g.gx), g.fp.to_be(&g.gy))),
        };
        Curve {
            id,
            engine,
            g,
            generator,
        }
    }

    /// The named curve on the generic engine, whatever engine [`CurveId::curve`] uses; for
    /// cross-checking the two engines.
    pub fn generic(id: CurveId) -> Curve {
        Curve::named(id, false)
    }

    /// Whether this curve runs on a RustCrypto curve crate.
    pub fn uses_fast_path(&self) -> bool {
        self.engine != Engine::Generic
    }

    /// A curve from explicit domain parameters.
    ///
    /// Parameters equal to a named curve give that curve (and its engine). Otherwise they are
    /// validated: p and n odd probable primes, p of 128 to 521 bits, n within one bit of p
    /// (cofactor 1), a, b < p, 4a^3 + 27b^2 != 0, G on the curve, n·G = O; a cofactor other
    /// than 1 is refused.
    pub fn from_explicit(params: &ExplicitParams<'_>) -> Result<Curve, EcError> {
        use EcError::UnsupportedParameters as Bad;
        let max_len = usize::try_from(MAX_FIELD_BITS.div_ceil(8)).unwrap_or(66);
        for (field, name) in [
            (params.p, "p too large"),
            (params.a, "a too large"),
            (params.b, "b too large"),
            (params.order, "order too large"),
        ] {
            if strip_leading_zeros(field).len() > max_len {
                return Err(Bad(name));
            }
        }
        if params.generator.len() > 1 + 2 * max_len {
            return Err(Bad("generator too large"));
        }
        if let Some(h) = params.cofactor {
            if strip_leading_zeros(h) != [1u8] {
                return Err(Bad("cofactor is not 1"));
            }
        }
        if let Some(id) = CurveId::from_explicit(params) {
            return Ok(id.curve().clone());
        }
        let p = strip_leading_zeros(params.p);
        let n = strip_leading_zeros(params.order);
        let (p_bits, n_bits) = (bit_len(p), bit_len(n));
        if !(MIN_FIELD_BITS..=MAX_FIELD_BITS).contains(&p_bits) {
            return Err(Bad("field size out of range"));
        }
        if n_bits + 1 < p_bits || n_bits > p_bits + 1 {
            return Err(Bad(
                "order does not match a prime-order curve over this field",
            ));
        }
        let fp = Modulus::new(p).ok_or(Bad("p is not odd"))?;
        if !ecdsa::probably_prime(&fp) {
            return Err(Bad("p is not prime"));
        }
        let fnm = Modulus::new(n).ok_or(Bad("order is not odd"))?;
        if !ecdsa::probably_prime(&fnm) {
            return Err(Bad("order is not prime"));
        }
        let a = fp.uint_below(params.a).ok_or(Bad("a is not below p"))?;
        let b = fp.uint_below(params.b).ok_or(Bad("b is not below p"))?;
        let (af, bf) = (fp.fe(a), fp.fe(b));
        let disc = fp
            .small(4)
            .mul(&af.square().mul(&af))
            .add(&fp.small(27).mul(&bf.square()));
        if disc.is_zero().to_bool() {
            return Err(Bad("singular curve"));
        }
        // G is decoded against (p, a, b) alone: no curve object exists before G is known.
        let (gx, gy) =
            Curve::decode_with(&fp, &af, &bf, params.generator).map_err(|e| match e {
                EcError::Identity => Bad("generator is the identity"),
                EcError::NotOnCurve => Bad("generator is not on the curve"),
                _ => Bad("generator encoding"),
            })?;
        let g = Generic::new(
            p,
            &fp.to_be(&af),
            &fp.to_be(&bf),
            &fp.to_be(&gx),
            &fp.to_be(&gy),
            n,
        )
        .ok_or(Bad("inconsistent parameters"))?;
        let curve = Curve::assemble(None, Engine::Generic, g);
        let ng = curve.g.mul_vartime(n, &curve.g.generator());
        if curve.g.to_affine(&ng).is_some() {
            return Err(Bad("n·G is not the identity"));
        }
        Ok(curve)
    }

    /// The named curve, when this curve is one.
    pub fn id(&self) -> Option<CurveId> {
        self.id
    }

    /// Byte length of p (of each point coordinate).
    pub fn field_len(&self) -> usize {
        self.g.fp.len
    }

    /// Byte length of n (of scalars and of ECDSA r and s).
    pub fn order_len(&self) -> usize {
        self.g.fnm.len
    }

    /// Bit length of n.
    pub(crate) fn order_bits(&self) -> u32 {
        self.g.fnm.bits
    }

    /// Bit length of p.
    pub fn field_bits(&self) -> u32 {
        self.g.fp.bits
    }

    /// The field prime p, big-endian, field length.
    pub fn p(&self) -> Vec<u8> {
        generic::uint_to_be(&self.g.fp.m, self.field_len())
    }

    /// Coefficient a, big-endian, field length.
    pub fn a(&self) -> Vec<u8> {
        self.g.fp.to_be(self.g.a())
    }

    /// Coefficient b, big-endian, field length.
    pub fn b(&self) -> Vec<u8> {
        self.g.fp.to_be(self.g.b())
    }

    /// The group order n, big-endian, order length.
    pub fn order(&self) -> Vec<u8> {
        generic::uint_to_be(&self.g.fnm.m, self.order_len())
    }

    /// The base point G.
    pub fn generator(&self) -> Point {
        self.generator.clone()
    }

    /// Decodes a SEC1 point: uncompressed `04||X||Y` or compressed `02/03||X`, each
    /// coordinate exactly the field length. The identity (`00`, or all-zero coordinates),
    /// points off the curve and coordinates not below p are refused.
    pub fn decode_point(&self, sec1: &[u8]) -> Result<Point, EcError> {
        let (x, y) = Curve::decode_with(&self.g.fp, self.g.a(), self.g.b(), sec1)?;
        Ok(Point {
            xy: Some((self.g.fp.to_be(&x), self.g.fp.to_be(&y))),
        })
    }

    fn decode_with(fp: &Modulus, a: &Fe, b: &Fe, sec1: &[u8]) -> Result<(Fe, Fe), EcError> {
        let fl = fp.len;
        let rhs = |x: &Fe| x.square().add(a).mul(x).add(b);
        let coord = |bytes: &[u8]| fp.fe_from_be(bytes).ok_or(EcError::CoordinateOutOfRange);
        match sec1.split_first() {
            None => Err(EcError::InvalidEncoding),
            Some((0x00, [])) => Err(EcError::Identity),
            Some((0x04, rest)) if rest.len() == 2 * fl => {
                if rest.iter().all(|&b| b == 0) {
                    return Err(EcError::Identity);
                }
                let (xb, yb) = rest.split_at(fl);
                let (x, y) = (coord(xb)?, coord(yb)?);
                if y.square().ct_eq(&rhs(&x)).to_bool() {
                    Ok((x, y))
                } else {
                    Err(EcError::NotOnCurve)
                }
            }
            Some((&tag @ (0x02 | 0x03), xb)) if xb.len() == fl => {
                let x = coord(xb)?;
                let v = rhs(&x);
                let y = generic::sqrt_vartime(fp, &v).ok_or(EcError::NotOnCurve)?;
                let y_odd = fp.to_be(&y).last().is_some_and(|l| l & 1 == 1);
                let want_odd = tag == 0x03;
                if y_odd == want_odd {
                    Ok((x, y))
                } else if y.is_zero().to_bool() {
                    Err(EcError::NotOnCurve)
                } else {
                    Ok((x, y.neg()))
                }
            }
            Some(_) => Err(EcError::InvalidEncoding),
        }
    }

    /// `04||X||Y`, coordinates left-padded to the field length; the identity encodes as `00`.
    pub fn encode_point(&self, p: &Point) -> Vec<u8> {
        match &p.xy {
            None => vec![0x00],
            Some((x, y)) => {
                let mut out = Vec::with_capacity(1 + x.len() + y.len());
                out.push(0x04);
                out.extend_from_slice(x);
                out.extend_from_slice(y);
                out
            }
        }
    }

    /// Affine x, field length; `None` for the identity.
    pub fn point_x(&self, p: &Point) -> Option<Vec<u8>> {
        p.xy.as_ref().map(|(x, _)| x.clone())
    }

    /// Whether the point lies on this curve (the identity counts as on it).
    pub fn contains(&self, p: &Point) -> bool {
        p.is_identity() || self.to_proj(p).is_some()
    }

    /// Generic-engine form of a point, `None` when it is not on this curve.
    fn to_proj(&self, p: &Point) -> Option<Proj> {
        match &p.xy {
            None => Some(self.g.identity()),
            Some((xb, yb)) => {
                if xb.len() != self.field_len() || yb.len() != self.field_len() {
                    return None;
                }
                let x = self.g.fp.fe_from_be(xb)?;
                let y = self.g.fp.fe_from_be(yb)?;
                self.g.on_curve(&x, &y).then(|| self.g.lift(&x, &y))
            }
        }
    }

    fn point_of(&self, p: &Proj) -> Point {
        Point {
            xy: self
                .g
                .to_affine(p)
                .map(|(x, y)| (self.g.fp.to_be(&x), self.g.fp.to_be(&y))),
        }
    }

    /// a + b. Points not on this curve give the identity.
    pub fn add(&self, a: &Point, b: &Point) -> Point {
        let fast = match self.engine {
            Engine::Generic => None,
            Engine::P256 => Some(fast::add::<p256::NistP256>(a, b)),
            Engine::P384 => Some(fast::add::<p384::NistP384>(a, b)),
            Engine::P521 => Some(fast::add::<p521::NistP521>(a, b)),
            Engine::Bp256 => Some(fast::add::<bp256::BrainpoolP256r1>(a, b)),
            Engine::Bp384 => Some(fast::add::<bp384::BrainpoolP384r1>(a, b)),
        };
        if let Some(r) = fast {
            return r.unwrap_or_else(Point::identity);
        }
        match (self.to_proj(a), self.to_proj(b)) {
            (Some(a), Some(b)) => self.point_of(&self.g.add(&a, &b)),
            _ => Point::identity(),
        }
    }

    /// -p.
    pub fn negate(&self, p: &Point) -> Point {
        match self.to_proj(p) {
            Some(q) => self.point_of(&self.g.neg(&q)),
            None => Point::identity(),
        }
    }

    /// k·p in constant time with respect to k. Points not on this curve give the identity.
    pub fn mul(&self, k: &Scalar, p: &Point) -> Point {
        let kb = k.as_bytes();
        let fast = match self.engine {
            Engine::Generic => None,
            Engine::P256 => Some(fast::mul::<p256::NistP256>(kb, p)),
            Engine::P384 => Some(fast::mul::<p384::NistP384>(kb, p)),
            Engine::P521 => Some(fast::mul::<p521::NistP521>(kb, p)),
            Engine::Bp256 => Some(fast::mul::<bp256::BrainpoolP256r1>(kb, p)),
            Engine::Bp384 => Some(fast::mul::<bp384::BrainpoolP384r1>(kb, p)),
        };
        if let Some(r) = fast {
            return r.unwrap_or_else(Point::identity);
        }
        match self.to_proj(p) {
            Some(q) => self.point_of(&self.g.mul_ct(kb, &q)),
            None => Point::identity(),
        }
    }

    /// k·G in constant time with respect to k.
    pub fn mul_generator(&self, k: &Scalar) -> Point {
        let kb = k.as_bytes();
        let fast = match self.engine {
            Engine::Generic => None,
            Engine::P256 => fast::mul_generator::<p256::NistP256>(kb),
            Engine::P384 => fast::mul_generator::<p384::NistP384>(kb),
            Engine::P521 => fast::mul_generator::<p521::NistP521>(kb),
            Engine::Bp256 => fast::mul_generator::<bp256::BrainpoolP256r1>(kb),
            Engine::Bp384 => fast::mul_generator::<bp384::BrainpoolP384r1>(kb),
        };
        match fast {
            Some(r) => r,
            None => self.point_of(&self.g.mul_ct(kb, &self.g.generator())),
        }
    }

    /// k·p for a public scalar k of any length (reduced mod n). Variable time.
    pub fn mul_vartime(&self, k: &[u8], p: &Point) -> Point {
        let k = generic::uint_to_be(&self.g.fnm.reduce_vartime(k), self.order_len());
        let fast = match self.engine {
            Engine::Generic => None,
            Engine::P256 => Some(fast::mul::<p256::NistP256>(&k, p)),
            Engine::P384 => Some(fast::mul::<p384::NistP384>(&k, p)),
            Engine::P521 => Some(fast::mul::<p521::NistP521>(&k, p)),
            Engine::Bp256 => Some(fast::mul::<bp256::BrainpoolP256r1>(&k, p)),
            Engine::Bp384 => Some(fast::mul::<bp384::BrainpoolP384r1>(&k, p)),
        };
        if let Some(r) = fast {
            return r.unwrap_or_else(Point::identity);
        }
        match self.to_proj(p) {
            Some(q) => self.point_of(&self.g.mul_vartime(&k, &q)),
            None => Point::identity(),
        }
    }

    /// k1·G + k2·q for public scalars already reduced to [0, n) (order length each).
    fn double_mul_generator_vartime(&self, k1: &[u8], k2: &[u8], q: &Point) -> Point {
        let fast = match self.engine {
            Engine::Generic => None,
            Engine::P256 => Some(fast::double_mul::<p256::NistP256>(k1, k2, q)),
            Engine::P384 => Some(fast::double_mul::<p384::NistP384>(k1, k2, q)),
            Engine::P521 => Some(fast::double_mul::<p521::NistP521>(k1, k2, q)),
            Engine::Bp256 => Some(fast::double_mul::<bp256::BrainpoolP256r1>(k1, k2, q)),
            Engine::Bp384 => Some(fast::double_mul::<bp384::BrainpoolP384r1>(k1, k2, q)),
        };
        if let Some(r) = fast {
            return r.unwrap_or_else(Point::identity);
        }
        match self.to_proj(q) {
            Some(qp) => self.point_of(&self.g.double_mul_vartime(k1, &self.g.generator(), k2, &qp)),
            None => Point::identity(),
        }
    }

    /// A scalar from big-endian bytes (leading zeros allowed); must be in [1, n-1].
    pub fn scalar_from_bytes(&self, be: &[u8]) -> Result<Scalar, EcError> {
        let s = strip_leading_zeros(be);
        if s.is_empty() || s.len() > self.order_len() {
            return Err(EcError::ScalarOutOfRange);
        }
        let mut padded = Zeroizing::new(vec![0u8; self.order_len()]);
        let start = self.order_len() - s.len();
        if let Some(dst) = padded.get_mut(start..) {
            dst.copy_from_slice(s);
        }
        // Compare with n without branching on the secret digits.
        let mut k = crypto_bigint::BoxedUint::from_be_slice(&padded, self.g.fnm.precision)
            .map_err(|_| EcError::ScalarOutOfRange)?;
        let below = crypto_bigint::CtLt::ct_lt(&k, &self.g.fnm.m);
        k.zeroize();
        if below.to_bool() {
            Ok(Scalar { be: padded })
        } else {
            Err(EcError::ScalarOutOfRange)
        }
    }

    /// A scalar from a big-endian integer of any length up to twice the order's, reduced
    /// modulo n without branching on its digits (PACE nonces may be longer than n).
    /// Zero after reduction is an error.
    pub(crate) fn scalar_reduced(&self, be: &[u8]) -> Result<Scalar, EcError> {
        let n = &self.g.fnm;
        if be.is_empty() || be.len() > 2 * n.len {
            return Err(EcError::ScalarOutOfRange);
        }
        let precision = (8 * 2 * n.len as u32).next_multiple_of(64).max(n.precision);
        let mut wide = crypto_bigint::BoxedUint::from_be_slice(be, precision)
            .map_err(|_| EcError::ScalarOutOfRange)?;
        let modulus =
            crypto_bigint::NonZero::new(crypto_bigint::Resize::resize(n.m.clone(), precision))
                .into_option()
                .ok_or(EcError::ScalarOutOfRange)?;
        let mut r = wide.rem(&modulus);
        wide.zeroize();
        let full = Zeroizing::new(r.to_be_bytes());
        r.zeroize();
        let start = full.len().saturating_sub(n.len);
        self.scalar_from_bytes(full.get(start..).unwrap_or_default())
    }

    /// A uniformly random scalar in [1, n-1] (rejection sampling).
    pub fn random_scalar(&self, rng: &mut impl rand_core::CryptoRng) -> Scalar {
        let len = self.order_len();
        let excess = u32::try_from(len * 8).unwrap_or(u32::MAX) - self.order_bits();
        let mask = 0xffu8 >> excess.min(7);
        loop {
            let mut buf = Zeroizing::new(vec![0u8; len]);
            rng.fill_bytes(&mut buf);
            if let Some(top) = buf.first_mut() {
                *top &= mask;
            }
            if let Ok(s) = self.scalar_from_bytes(&buf) {
                return s;
            }
        }
    }

    /// The public point k·G of a private scalar.
    pub fn public_key(&self, k: &Scalar) -> Point {
        self.mul_generator(k)
    }

    /// ECDH: the affine x coordinate of k·peer, field length. Fails when peer is the identity,
    /// not on this curve, or the result is the identity.
    pub fn ecdh_x(&self, k: &Scalar, peer: &Point) -> Result<Zeroizing<Vec<u8>>, EcError> {
        if peer.is_identity() {
            return Err(EcError::Identity);
        }
        if !self.contains(peer) {
            return Err(EcError::NotOnCurve);
        }
        let mut shared = self.mul(k, peer);
        let x = shared.xy.take().map(|(mut x, mut y)| {
            y.zeroize();
            let out = Zeroizing::new(x.clone());
            x.zeroize();
            out
        });
        x.ok_or(EcError::Identity)
    }

    /// ECDH keeping the whole shared point (PACE generic mapping needs H = k·peer).
    pub fn ecdh_point(&self, k: &Scalar, peer: &Point) -> Result<Point, EcError> {
        if peer.is_identity() {
            return Err(EcError::Identity);
        }
        if !self.contains(peer) {
            return Err(EcError::NotOnCurve);
        }
        let shared = self.mul(k, peer);
        if shared.is_identity() {
            return Err(EcError::Identity);
        }
        Ok(shared)
    }

    /// ECDSA verification (FIPS 186-4 / X9.62): the digest is truncated to the bit length of
    /// n; r and s are big-endian integers that must lie in [1, n-1].
    pub fn ecdsa_verify(
        &self,
        public: &Point,
        digest: &[u8],
        r: &[u8],
        s: &[u8],
    ) -> Result<(), EcError> {
        ecdsa::verify(self, public, digest, r, s)
    }

    /// ECDSA signature with a random nonce: (r, s), each order length.
    pub fn ecdsa_sign(
        &self,
        private: &Scalar,
        digest: &[u8],
        rng: &mut impl rand_core::CryptoRng,
    ) -> (Vec<u8>, Vec<u8>) {
        ecdsa::sign(self, private, digest, rng)
    }

    /// The point f_G(u) of PACE integrated mapping (ICAO 9303-11 §4.4.3.3.2, Appendix B)
    /// for a field element u < p, big-endian.
    ///
    /// The encoding the standard refers to (BCIMRT2010, simplified SWU) is defined for
    /// p = 3 mod 4 only; on the other curves (P-224 among the standardized ones) this
    /// returns [`EcError::UnsupportedParameters`]. The curves here have cofactor 1, so no
    /// cofactor multiplication follows.
    pub fn encode_to_point(&self, u: &[u8]) -> Result<Point, EcError> {
        let u = self
            .g
            .fp
            .fe_from_be(u)
            .ok_or(EcError::CoordinateOutOfRange)?;
        if self.p().last().is_none_or(|b| b & 3 != 3) {
            return Err(EcError::UnsupportedParameters(
                "the integrated mapping point encoding needs p = 3 mod 4",
            ));
        }
        let (x, y) = self.g.encode_swu(&u).ok_or(EcError::NotOnCurve)?;
        Ok(Point {
            xy: Some((self.g.fp.to_be(&x), self.g.fp.to_be(&y))),
        })
    }
}
