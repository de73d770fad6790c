//! Property tests: the generic engine (`generic.rs`) against the RustCrypto crates on the
//! five curves both cover (P-256, P-384, P-521, brainpoolP256r1, brainpoolP384r1).
//!
//! Plain loops over a deterministic generator (SHA-256 in counter mode), so a failure
//! reproduces exactly. Scalars mix uniform values with the edges where window and carry
//! bugs hide: 1, 2, 15, 16, 17, n-1, n-2, (n±1)/2, single bits, long runs of set nibbles,
//! leading zero bytes, and values longer than n (reduced by the caller). Points are
//! compared in affine form, encodings byte for byte; decoding is checked against the
//! crates' own SEC1 parser on valid and invalid inputs alike.

use elliptic_curve::sec1::{FromSec1Point, ModulusSize, Sec1Point, ToSec1Point};
use elliptic_curve::{AffinePoint, CurveArithmetic, FieldBytesSize};
use p256::elliptic_curve;
use sha2::{Digest, Sha256};

use super::{Curve, CurveId, Point};

const BOTH_ENGINES: [CurveId; 5] = [
    CurveId::P256,
    CurveId::P384,
    CurveId::P521,
    CurveId::BrainpoolP256r1,
    CurveId::BrainpoolP384r1,
];

/// Random iterations per curve and property, on top of the fixed edge cases. The crates'
/// scalar multiplication is slow in debug builds (several ms on P-384, P-521 and
/// brainpoolP384r1), so this stays small; the edge cases carry most of the weight.
const ROUNDS: usize = 6;

/// SHA-256 in counter mode over a label: reproducible, and independent per test.
struct Stream {
    seed: [u8; 32],
    counter: u64,
}

impl Stream {
    fn new(label: &str) -> Stream {
        Stream {
            seed: Sha256::digest(label.as_bytes()).into(),
            counter: 0,
        }
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        while out.len() < len {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_be_bytes());
            self.counter += 1;
            out.extend_from_slice(&h.finalize());
        }
        out.truncate(len);
        out
    }

    fn below(&mut self, bound: usize) -> usize {
        let b = self.bytes(8);
        let v = u64::from_be_bytes(b.try_into().unwrap_or([0; 8]));
        (v % bound.max(1) as u64) as usize
    }
}

/// `be - v` for a big-endian `be >= v`.
fn sub_small(be: &[u8], v: u8) -> Vec<u8> {
    let mut out = be.to_vec();
    let mut borrow = u16::from(v);
    for byte in out.iter_mut().rev() {
        let cur = u16::from(*byte);
        let (next, b) = if cur >= borrow {
            (cur - borrow, 0)
        } else {
            (cur + 256 - borrow, 1)
        };
        *byte = next as u8;
        borrow = b;
    }
    out
}

/// `be >> 1`.
fn halve(be: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(be.len());
    let mut carry = 0u8;
    for &b in be {
        out.push((b >> 1) | carry);
        carry = b << 7;
    }
    out
}

fn small(len: usize, v: u8) -> Vec<u8> {
    let mut out = vec![0u8; len];
    if let Some(last) = out.last_mut() {
        *last = v;
    }
    out
}

/// Scalars in [1, n-1], order length: the edges, then uniform ones.
fn scalars(curve: &Curve, s: &mut Stream) -> Vec<Vec<u8>> {
    let len = curve.order_len();
    let n = curve.order();
    let mut out = vec![
        small(len, 1),
        small(len, 2),
        small(len, 3),
        small(len, 15),
        small(len, 16),
        small(len, 17),
        small(len, 0xff),
        sub_small(&n, 1),
        sub_small(&n, 2),
        sub_small(&n, 16),
        halve(&n),
        sub_small(&halve(&n), 1),
    ];
    // (n+1)/2 = floor(n/2) + 1 for odd n.
    let mut half_up = halve(&n);
    if let Some(last) = half_up.last_mut() {
        *last = last.wrapping_add(1);
    }
    out.push(half_up);
    // The top bit of the order's bit length, and a single bit at a random position.
    let top = curve.order_bits() - 1;
    for bit in [top - 1, s.below(top as usize) as u32] {
        let mut v = vec![0u8; len];
        let idx = len - 1 - (bit / 8) as usize;
        if let Some(b) = v.get_mut(idx) {
            *b = 1 << (bit % 8);
        }
        out.push(v);
    }
    // Runs of full nibbles (every table entry 15) and alternating patterns, below n.
    for fill in [0x0f_u8, 0xf0, 0xff, 0x55, 0xaa] {
        let mut v = vec![fill; len];
        if let Some(first) = v.first_mut() {
            *first = 0;
        }
        out.push(v);
    }
    for _ in 0..ROUNDS {
        let mut v = s.bytes(len);
        // Leading zero bytes now and then: the scalar is shorter than n.
        let zeros = s.below(4);
        for b in v.iter_mut().take(zeros) {
            *b = 0;
        }
        out.push(v);
    }
    out.retain(|k| curve.scalar_from_bytes(k).is_ok());
    out
}

/// A point k·G on both engines, checked to agree.
fn point(fast: &Curve, generic: &Curve, k: &[u8]) -> Point {
    let k = fast
        .scalar_from_bytes(k)
        .unwrap_or_else(|e| panic!("scalar: {e}"));
    let p = fast.mul_generator(&k);
    assert_eq!(p, generic.mul_generator(&k));
    p
}

fn scalar_multiplication_agrees(id: CurveId) {
    let fast = id.curve();
    let generic = Curve::generic(id);
    assert!(fast.uses_fast_path() && !generic.uses_fast_path());
    let mut s = Stream::new(&format!("scalar multiplication {id}"));
    let g = fast.generator();
    let base = point(fast, &generic, &s.bytes(fast.order_len() - 1));
    for kb in scalars(fast, &mut s) {
        let k = fast
            .scalar_from_bytes(&kb)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let what = format!("{id}, k = {}", hex(&kb));
        // k·G, constant time, both engines; and through the variable-time path.
        let kg = fast.mul_generator(&k);
        assert_eq!(generic.mul_generator(&k), kg, "{what}: k·G");
        assert_eq!(generic.mul(&k, &g), kg, "{what}: k·G via mul");
        assert_eq!(fast.mul_vartime(&kb, &g), kg, "{what}: vartime k·G");
        assert_eq!(
            generic.mul_vartime(&kb, &g),
            kg,
            "{what}: generic vartime k·G"
        );
        // k·P for a point other than G.
        let kp = fast.mul(&k, &base);
        assert_eq!(generic.mul(&k, &base), kp, "{what}: k·P");
        assert_eq!(generic.mul_vartime(&kb, &base), kp, "{what}: vartime k·P");
        // Addition, doubling and negation on both engines.
        assert_eq!(generic.add(&kg, &base), fast.add(&kg, &base), "{what}: add");
        assert_eq!(generic.add(&kg, &kg), fast.add(&kg, &kg), "{what}: double");
        assert!(
            generic.add(&kg, &generic.negate(&kg)).is_identity(),
            "{what}"
        );
        assert!(fast.add(&kg, &fast.negate(&kg)).is_identity(), "{what}");
        assert_eq!(generic.add(&kg, &Point::identity()), kg, "{what}: P + O");
        // k1·G + k2·Q, the ECDSA verification shape.
        let k2 = s.bytes(fast.order_len());
        let k2 = fast
            .scalar_from_bytes(&k2)
            .map(|k| k.to_bytes().to_vec())
            .unwrap_or_else(|_| kb.clone());
        let want = fast.add(&kg, &fast.mul_vartime(&k2, &base));
        assert_eq!(
            fast.double_mul_generator_vartime(&kb, &k2, &base),
            want,
            "{what}: fast k1·G + k2·Q"
        );
        assert_eq!(
            generic.double_mul_generator_vartime(&kb, &k2, &base),
            want,
            "{what}: generic k1·G + k2·Q"
        );
    }
    // Scalars longer than n are reduced the same way by both.
    for _ in 0..ROUNDS {
        let extra = s.below(8);
        let long = s.bytes(2 * fast.order_len() + extra);
        assert_eq!(
            generic.mul_vartime(&long, &base),
            fast.mul_vartime(&long, &base),
            "{id}: long scalar"
        );
    }
    // n·G, and 0·G, are the identity; (n-1)·G is -G.
    let n = fast.order();
    assert!(fast.mul_vartime(&n, &g).is_identity(), "{id}: n·G fast");
    assert!(
        generic.mul_vartime(&n, &g).is_identity(),
        "{id}: n·G generic"
    );
    assert!(generic.mul_vartime(&[0], &g).is_identity(), "{id}: 0·G");
    let minus_g = generic.mul_vartime(&sub_small(&n, 1), &g);
    assert_eq!(minus_g, generic.negate(&g), "{id}: (n-1)·G");
}

/// The crate's reading of a SEC1 encoding, as our own encoding of the same point.
fn crate_decode<C>(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)>
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let encoded = Sec1Point::<C>::from_bytes(bytes).ok()?;
    // The identity is no public key (the crate's `PublicKey` refuses it the same way).
    if encoded.is_identity() {
        return None;
    }
    let point: Option<AffinePoint<C>> = AffinePoint::<C>::from_sec1_point(&encoded).into();
    let point = point?;
    let uncompressed = point.to_sec1_point(false).as_bytes().to_vec();
    let compressed = point.to_sec1_point(true).as_bytes().to_vec();
    Some((uncompressed, compressed))
}

fn decode_encode_agrees<C>(id: CurveId)
where
    C: CurveArithmetic,
    FieldBytesSize<C>: ModulusSize,
    AffinePoint<C>: FromSec1Point<C> + ToSec1Point<C>,
{
    let fast = id.curve();
    let generic = Curve::generic(id);
    let fl = fast.field_len();
    let mut s = Stream::new(&format!("decode and encode {id}"));
    let mut points = vec![fast.generator()];
    for kb in scalars(fast, &mut s).iter().take(8 + ROUNDS) {
        points.push(point(fast, &generic, kb));
    }
    for p in &points {
        let ours = fast.encode_point(p);
        assert_eq!(ours, generic.encode_point(p), "{id}: encodings differ");
        assert_eq!(ours.len(), 1 + 2 * fl, "{id}");
        let (theirs, compressed) =
            crate_decode::<C>(&ours).unwrap_or_else(|| panic!("{id}: crate refuses {p:?}"));
        assert_eq!(ours, theirs, "{id}: uncompressed encoding");
        // The crate's compressed form decodes to the same point on both engines.
        assert_eq!(fast.decode_point(&compressed).as_ref(), Ok(p), "{id}");
        assert_eq!(generic.decode_point(&compressed).as_ref(), Ok(p), "{id}");
        assert_eq!(generic.decode_point(&ours).as_ref(), Ok(p), "{id}");
        // The other parity is the negated point.
        let mut flipped = compressed.clone();
        if let Some(tag) = flipped.first_mut() {
            *tag ^= 1;
        }
        assert_eq!(generic.decode_point(&flipped), Ok(fast.negate(p)), "{id}");
    }
    // Arbitrary inputs: both accept exactly the same ones, with the same point.
    let p_bytes = fast.p();
    let mut candidates: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x04],
        [vec![0x04], vec![0; 2 * fl]].concat(),
        [vec![0x02], vec![0; fl]].concat(),
        [vec![0x02], p_bytes.clone()].concat(),
        [vec![0x03], vec![0xff; fl]].concat(),
        [vec![0x04], p_bytes.clone(), p_bytes.clone()].concat(),
    ];
    for _ in 0..4 * ROUNDS {
        // A random x of the field's bit length: a point for about half of them.
        let mut x = s.bytes(fl);
        let excess = (8 * fl) as u32 - fast.field_bits();
        if let Some(top) = x.first_mut() {
            *top &= 0xff >> excess;
        }
        for tag in [0x02u8, 0x03] {
            candidates.push([vec![tag], x.clone()].concat());
        }
        // A random (x, y): almost never on the curve.
        candidates.push([vec![0x04], s.bytes(2 * fl)].concat());
    }
    for p in points.iter().take(4) {
        let enc = fast.encode_point(p);
        // A y with its last bit flipped, and truncated or extended encodings.
        let mut off = enc.clone();
        if let Some(last) = off.last_mut() {
            *last ^= 1;
        }
        candidates.push(off);
        candidates.push(enc.get(..enc.len() - 1).unwrap_or_default().to_vec());
        candidates.push([enc.clone(), vec![0]].concat());
        // Hybrid encodings (06/07) are refused by both.
        let mut hybrid = enc;
        if let Some(tag) = hybrid.first_mut() {
            *tag = 0x06;
        }
        candidates.push(hybrid);
    }
    let mut accepted = 0;
    for bytes in &candidates {
        let ours = generic
            .decode_point(bytes)
            .ok()
            .map(|p| fast.encode_point(&p));
        accepted += usize::from(ours.is_some());
        let theirs = crate_decode::<C>(bytes).map(|(u, _)| u);
        assert_eq!(
            ours,
            theirs,
            "{id}: decoding {} differs",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        assert_eq!(
            fast.decode_point(bytes).ok(),
            generic.decode_point(bytes).ok(),
            "{id}"
        );
    }
    // Random x is a point about half the time: both outcomes were exercised.
    assert!(
        accepted > ROUNDS && accepted < candidates.len() - ROUNDS,
        "{id}: {accepted} of {} accepted",
        candidates.len()
    );
}

#[test]
fn generic_scalar_multiplication_agrees_with_the_crates() {
    for id in BOTH_ENGINES {
        scalar_multiplication_agrees(id);
    }
}

#[test]
fn generic_point_decoding_and_encoding_agree_with_the_crates() {
    decode_encode_agrees::<p256::NistP256>(CurveId::P256);
    decode_encode_agrees::<p384::NistP384>(CurveId::P384);
    decode_encode_agrees::<p521::NistP521>(CurveId::P521);
    decode_encode_agrees::<bp256::BrainpoolP256r1>(CurveId::BrainpoolP256r1);
    decode_encode_agrees::<bp384::BrainpoolP384r1>(CurveId::BrainpoolP384r1);
}
