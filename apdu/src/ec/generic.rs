//! Generic short-Weierstrass arithmetic over GF(p), for any curve of prime order.
//!
//! Field elements are crypto-bigint Montgomery forms; points are homogeneous projective
//! (X:Y:Z) with the complete addition and doubling formulas of Renes, Costello and Batina
//! ("Complete addition formulas for prime order elliptic curves", 2015, algorithms 1 and 3).
//! Complete formulas have no exceptional cases, so the constant-time scalar multiplication
//! below needs no branch on the identity or on equal inputs.

use crypto_bigint::modular::{BoxedMontyForm as Fe, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Choice, CtAssign, CtEq, Odd, Resize};
use zeroize::Zeroizing;

use super::strip_leading_zeros;

/// An odd modulus (the field prime p or the group order n) and its Montgomery parameters.
#[derive(Clone)]
pub(crate) struct Modulus {
    pub params: BoxedMontyParams,
    pub m: BoxedUint,
    pub precision: u32,
    pub bits: u32,
    pub len: usize,
}

/// Bit length of a big-endian byte string.
pub(crate) fn bit_len(be: &[u8]) -> u32 {
    let s = strip_leading_zeros(be);
    match s.first() {
        None => 0,
        Some(&top) => {
            let len = u32::try_from(s.len()).unwrap_or(u32::MAX / 16);
            (len - 1) * 8 + (8 - top.leading_zeros())
        }
    }
}

/// Big-endian bytes of `u`, left-padded (or cut) to `len`; the copy made on the way is wiped.
pub(crate) fn uint_to_be(u: &BoxedUint, len: usize) -> Vec<u8> {
    let full = Zeroizing::new(u.to_be_bytes());
    let mut out = vec![0u8; len];
    let take = full.len().min(len);
    if let (Some(dst), Some(src)) = (out.get_mut(len - take..), full.get(full.len() - take..)) {
        dst.copy_from_slice(src);
    }
    out
}

impl Modulus {
    /// An odd modulus greater than 1 from big-endian bytes (public input, bounded by the caller).
    pub fn new(be: &[u8]) -> Option<Modulus> {
        let s = strip_leading_zeros(be);
        let bits = bit_len(s);
        if bits < 2 {
            return None;
        }
        let m = BoxedUint::from_be_slice(s, bits).ok()?;
        let odd: Odd<BoxedUint> = Odd::new(m).into_option()?;
        let params = BoxedMontyParams::new_vartime(odd);
        let precision = params.bits_precision();
        let m = params.modulus().as_ref().clone();
        Some(Modulus {
            params,
            m,
            precision,
            bits,
            len: s.len(),
        })
    }

    /// A big-endian integer (leading zeros allowed) when it is below the modulus.
    pub fn uint_below(&self, be: &[u8]) -> Option<BoxedUint> {
        let s = strip_leading_zeros(be);
        if s.len() > self.len {
            return None;
        }
        let u = BoxedUint::from_be_slice(s, self.precision).ok()?;
        (u < self.m).then_some(u)
    }

    /// Any big-endian integer reduced modulo m (public values only: variable time).
    pub fn reduce_vartime(&self, be: &[u8]) -> BoxedUint {
        let s = strip_leading_zeros(be);
        let wide = BoxedUint::from_be_slice_vartime(s);
        let r: BoxedUint = wide.rem_vartime(self.params.modulus().as_nz_ref());
        r.resize_unchecked(self.precision)
    }

    pub fn fe(&self, u: BoxedUint) -> Fe {
        Fe::new(u, &self.params)
    }

    pub fn fe_from_be(&self, be: &[u8]) -> Option<Fe> {
        self.uint_below(be).map(|u| self.fe(u))
    }

    pub fn zero(&self) -> Fe {
        Fe::zero(&self.params)
    }

    pub fn one(&self) -> Fe {
        Fe::one(&self.params)
    }

    pub fn small(&self, v: u8) -> Fe {
        let mut u = BoxedUint::zero_with_precision(self.precision);
        if let Some(w) = u.as_mut_words().first_mut() {
            *w = v.into();
        }
        self.fe(u)
    }

    /// Canonical big-endian bytes, exactly `len` long.
    pub fn to_be(&self, fe: &Fe) -> Vec<u8> {
        uint_to_be(&fe.retrieve(), self.len)
    }
}

/// A point in homogeneous projective coordinates; the identity is (0:1:0).
#[derive(Clone)]
pub(crate) struct Proj {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Proj {
    fn ct_assign(&mut self, other: &Proj, choice: Choice) {
        self.x.ct_assign(&other.x, choice);
        self.y.ct_assign(&other.y, choice);
        self.z.ct_assign(&other.z, choice);
    }
}

/// A prime-order curve y^2 = x^3 + ax + b over GF(p).
#[derive(Clone)]
pub(crate) struct Generic {
    pub fp: Modulus,
    pub fnm: Modulus,
    a: Fe,
    b: Fe,
    b3: Fe,
    pub gx: Fe,
    pub gy: Fe,
}

/// Window width of the fixed-window scalar multiplications.
const WINDOW: usize = 16;

impl Generic {
    /// Builds the arithmetic; checks only what the arithmetic itself needs (p, n odd; a, b,
    /// G below p; G on the curve). Full domain validation is `Curve::from_explicit`'s job.
    pub fn new(p: &[u8], a: &[u8], b: &[u8], gx: &[u8], gy: &[u8], n: &[u8]) -> Option<Generic> {
        let fp = Modulus::new(p)?;
        let fnm = Modulus::new(n)?;
        let a = fp.fe_from_be(a)?;
        let b = fp.fe_from_be(b)?;
        let b3 = b.add(&b).add(&b);
        let gx = fp.fe_from_be(gx)?;
        let gy = fp.fe_from_be(gy)?;
        let curve = Generic {
            fp,
            fnm,
            a,
            b,
            b3,
            gx,
            gy,
        };
        curve.on_curve(&curve.gx, &curve.gy).then_some(curve)
    }

    pub fn a(&self) -> &Fe {
        &self.a
    }

    pub fn b(&self) -> &Fe {
        &self.b
    }

    /// x^3 + ax + b.
    pub fn rhs(&self, x: &Fe) -> Fe {
        x.square().add(&self.a).mul(x).add(&self.b)
    }

    pub fn on_curve(&self, x: &Fe, y: &Fe) -> bool {
        y.square().ct_eq(&self.rhs(x)).to_bool()
    }

    pub fn identity(&self) -> Proj {
        Proj {
            x: self.fp.zero(),
            y: self.fp.one(),
            z: self.fp.zero(),
        }
    }

    pub fn lift(&self, x: &Fe, y: &Fe) -> Proj {
        Proj {
            x: x.clone(),
            y: y.clone(),
            z: self.fp.one(),
        }
    }

    pub fn generator(&self) -> Proj {
        self.lift(&self.gx, &self.gy)
    }

    /// Affine coordinates, or `None` for the identity.
    pub fn to_affine(&self, p: &Proj) -> Option<(Fe, Fe)> {
        let zinv = p.z.invert().into_option()?;
        Some((p.x.mul(&zinv), p.y.mul(&zinv)))
    }

    /// Complete addition (RCB15 algorithm 1, any a).
    pub fn add(&self, p: &Proj, q: &Proj) -> Proj {
        let (a, b3) = (&self.a, &self.b3);
        let t0 = p.x.mul(&q.x);
        let t1 = p.y.mul(&q.y);
        let t2 = p.z.mul(&q.z);
        let t3 = p.x.add(&p.y).mul(&q.x.add(&q.y)).sub(&t0.add(&t1));
        let t4 = p.x.add(&p.z).mul(&q.x.add(&q.z)).sub(&t0.add(&t2));
        let t5 = p.y.add(&p.z).mul(&q.y.add(&q.z)).sub(&t1.add(&t2));
        let z3 = a.mul(&t4).add(&b3.mul(&t2));
        let x3 = t1.sub(&z3);
        let z3 = t1.add(&z3);
        let y3 = x3.mul(&z3);
        let t1 = t0.add(&t0).add(&t0);
        let t2 = a.mul(&t2);
        let t4 = b3.mul(&t4);
        let t1 = t1.add(&t2);
        let t2 = a.mul(&t0.sub(&t2));
        let t4 = t4.add(&t2);
        let y3 = y3.add(&t1.mul(&t4));
        let x3 = t3.mul(&x3).sub(&t5.mul(&t4));
        let z3 = t5.mul(&z3).add(&t3.mul(&t1));
        Proj {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// Complete doubling (RCB15 algorithm 3, any a).
    pub fn double(&self, p: &Proj) -> Proj {
        let (a, b3) = (&self.a, &self.b3);
        let t0 = p.x.square();
        let t1 = p.y.square();
        let t2 = p.z.square();
        let t3 = p.x.mul(&p.y).double();
        let z3 = p.x.mul(&p.z).double();
        let x3 = a.mul(&z3);
        let y3 = x3.add(&b3.mul(&t2));
        let x3 = t1.sub(&y3);
        let y3 = t1.add(&y3);
        let y3 = x3.mul(&y3);
        let x3 = t3.mul(&x3);
        let z3 = b3.mul(&z3);
        let t2 = a.mul(&t2);
        let t3 = a.mul(&t0.sub(&t2)).add(&z3);
        let t0 = t0.double().add(&t0).add(&t2);
        let y3 = y3.add(&t0.mul(&t3));
        let t2 = p.y.mul(&p.z).double();
        let x3 = x3.sub(&t2.mul(&t3));
        let z3 = t2.mul(&t1).double().double();
        Proj {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    pub fn neg(&self, p: &Proj) -> Proj {
        Proj {
            x: p.x.clone(),
            y: p.y.neg(),
            z: p.z.clone(),
        }
    }

    /// 0·P, 1·P, …, 15·P.
    fn table(&self, p: &Proj) -> Vec<Proj> {
        let mut t = Vec::with_capacity(WINDOW);
        t.push(self.identity());
        t.push(p.clone());
        let mut acc = p.clone();
        for _ in 2..WINDOW {
            acc = self.add(&acc, p);
            t.push(acc.clone());
        }
        t
    }

    fn double4(&self, p: &Proj) -> Proj {
        let p = self.double(p);
        let p = self.double(&p);
        let p = self.double(&p);
        self.double(&p)
    }

    /// k·P for a secret big-endian k: a fixed 4-bit window over every nibble of k, each table
    /// entry read with a constant-time scan, complete formulas throughout.
    pub fn mul_ct(&self, k: &[u8], p: &Proj) -> Proj {
        let table = self.table(p);
        let mut acc = self.identity();
        let mut sel = self.identity();
        for byte in k {
            for w in [byte >> 4, byte & 0x0f] {
                acc = self.double4(&acc);
                for (i, entry) in (0u8..).zip(table.iter()) {
                    sel.ct_assign(entry, Choice::from_u8_eq(i, w));
                }
                acc = self.add(&acc, &sel);
            }
        }
        acc
    }

    /// k·P for a public big-endian k.
    pub fn mul_vartime(&self, k: &[u8], p: &Proj) -> Proj {
        let k = strip_leading_zeros(k);
        let table = self.table(p);
        let mut acc = self.identity();
        let mut started = false;
        for byte in k {
            for w in [byte >> 4, byte & 0x0f] {
                if started {
                    acc = self.double4(&acc);
                }
                if let Some(entry) = table.get(usize::from(w)).filter(|_| w != 0) {
                    acc = self.add(&acc, entry);
                    started = true;
                }
            }
        }
        acc
    }

    /// k1·P1 + k2·P2 for public scalars (Straus-Shamir interleaving, shared doublings).
    pub fn double_mul_vartime(&self, k1: &[u8], p1: &Proj, k2: &[u8], p2: &Proj) -> Proj {
        let len = k1.len().max(k2.len());
        let pad = |k: &[u8]| {
            let mut v = vec![0u8; len - k.len()];
            v.extend_from_slice(k);
            v
        };
        let (k1, k2) = (pad(k1), pad(k2));
        let (t1, t2) = (self.table(p1), self.table(p2));
        let mut acc = self.identity();
        let mut started = false;
        for (b1, b2) in k1.iter().zip(k2.iter()) {
            for (w1, w2) in [(b1 >> 4, b2 >> 4), (b1 & 0x0f, b2 & 0x0f)] {
                if started {
                    acc = self.double4(&acc);
                }
                for (w, t) in [(w1, &t1), (w2, &t2)] {
                    if let Some(entry) = t.get(usize::from(w)).filter(|_| w != 0) {
                        acc = self.add(&acc, entry);
                        started = true;
                    }
                }
            }
        }
        acc
    }
}

/// A square root of v in GF(p), for public values (decompressing points).
pub(crate) fn sqrt_vartime(fp: &Modulus, v: &Fe) -> Option<Fe> {
    {
        if v.is_zero().to_bool() {
            return Some(fp.zero());
        }
        let one = BoxedUint::one_with_precision(fp.precision);
        let pm1 = fp.m.wrapping_sub(&one);
        let s = pm1.trailing_zeros_vartime();
        let q = pm1.shr_vartime(s)?;
        let root = if s == 1 {
            // p = 3 mod 4: v^((p+1)/4).
            v.pow(&fp.m.shr_vartime(2)?.wrapping_add(&one))
        } else {
            // Tonelli-Shanks with the smallest quadratic non-residue.
            let half = pm1.shr_vartime(1)?;
            let minus_one = fp.one().neg();
            let mut z = None;
            for c in 2u8..=255 {
                let cand = fp.small(c);
                if cand.pow(&half).ct_eq(&minus_one).to_bool() {
                    z = Some(cand);
                    break;
                }
            }
            let z = z?;
            let mut m = s;
            let mut c = z.pow(&q);
            let mut t = v.pow(&q);
            let mut r = v.pow(&q.shr_vartime(1)?.wrapping_add(&one));
            let one_fe = fp.one();
            while !t.ct_eq(&one_fe).to_bool() {
                let mut i = 0u32;
                let mut t2 = t.clone();
                while !t2.ct_eq(&one_fe).to_bool() {
                    t2 = t2.square();
                    i += 1;
                    if i >= m {
                        return None;
                    }
                }
                let mut b = c.clone();
                for _ in 0..(m - i - 1) {
                    b = b.square();
                }
                m = i;
                c = b.square();
                t = t.mul(&c);
                r = r.mul(&b);
            }
            r
        };
        root.square().ct_eq(v).to_bool().then_some(root)
    }
}
