//! Finite-field (modular) Diffie-Hellman for PACE and chip authentication: the RFC 5114
//! groups of ICAO 9303-11 (standardized domain parameters 0-2) and explicit groups from
//! EF.CardAccess / DG14.
//!
//! Secret exponents go through crypto-bigint's constant-time Montgomery exponentiation;
//! only their byte length shows in the timing.

use std::fmt;
use std::sync::OnceLock;

use crate::ec::uint_to_be;
use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, Odd};
use zeroize::{Zeroize, Zeroizing};

/// Largest modulus accepted from explicit parameters, in bits.
pub const MAX_DH_BITS: u32 = 4096;
/// Smallest modulus accepted from explicit parameters, in bits.
pub const MIN_DH_BITS: u32 = 1024;

/// Errors of the DH module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DhError {
    /// A public value is not in (1, p-1) or not in the order-q subgroup.
    #[error("invalid DH public value")]
    InvalidPublicValue,
    /// A private exponent is zero, too long, or not below q.
    #[error("invalid DH private exponent")]
    InvalidPrivateKey,
    /// An operand is not below p.
    #[error("DH operand is not below p")]
    OutOfRange,
    /// Explicit group parameters are malformed, too large or inconsistent.
    #[error("unsupported DH parameters: {0}")]
    UnsupportedParameters(&'static str),
    /// The computed shared secret is degenerate (1 or p-1).
    #[error("degenerate DH shared secret")]
    DegenerateSecret,
}

/// The RFC 5114 groups of ICAO 9303-11.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DhGroupId {
    /// RFC 5114 section 2.1: 1024-bit MODP group with 160-bit prime-order subgroup (ID 0).
    Modp1024_160,
    /// RFC 5114 section 2.2: 2048-bit MODP group with 224-bit prime-order subgroup (ID 1).
    Modp2048_224,
    /// RFC 5114 section 2.3: 2048-bit MODP group with 256-bit prime-order subgroup (ID 2).
    Modp2048_256,
}

// RFC 5114 section 2.1.
const MODP_1024_160_P: &str = concat!(
    "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B61",
    "6073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BF",
    "ACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0",
    "A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371"
);
const MODP_1024_160_G: &str = concat!(
    "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31",
    "266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4",
    "D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28A",
    "D662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5"
);
const MODP_1024_160_Q: &str = "F518AA8781A8DF278ABA4E7D64B7CB9D49462353";

// RFC 5114 section 2.2.
const MODP_2048_224_P: &str = concat!(
    "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75",
    "E6FA141DF95A56DBAF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A6",
    "6D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207",
    "C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A3170918836",
    "81286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A074",
    "15987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8",
    "BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29",
    "E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F"
);
const MODP_2048_224_G: &str = concat!(
    "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3",
    "A6824A4E10B9A6F0DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652",
    "BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98A",
    "E247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D1",
    "19529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8AC",
    "B70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381",
    "B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD",
    "7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA"
);
const MODP_2048_224_Q: &str = "801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB";

// RFC 5114 section 2.3.
const MODP_2048_256_P: &str = concat!(
    "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00",
    "E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C",
    "209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B",
    "6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76",
    "B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E",
    "F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026",
    "C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103",
    "A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597"
);
const MODP_2048_256_G: &str = concat!(
    "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA125",
    "10DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62",
    "901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B",
    "777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193",
    "B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A",
    "DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915",
    "B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C3",
    "2F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659"
);
const MODP_2048_256_Q: &str = "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3";

impl DhGroupId {
    /// Every standardized group.
    pub const ALL: [DhGroupId; 3] = [
        DhGroupId::Modp1024_160,
        DhGroupId::Modp2048_224,
        DhGroupId::Modp2048_256,
    ];

    /// ICAO 9303-11 standardized domain parameter ID (0, 1, 2).
    pub fn pace_parameter_id(self) -> u8 {
        match self {
            DhGroupId::Modp1024_160 => 0,
            DhGroupId::Modp2048_224 => 1,
            DhGroupId::Modp2048_256 => 2,
        }
    }

    /// The group of an ICAO 9303-11 standardized domain parameter ID.
    pub fn from_pace_parameter_id(id: u8) -> Option<DhGroupId> {
        DhGroupId::ALL
            .into_iter()
            .find(|g| g.pace_parameter_id() == id)
    }

    /// Human-readable name, e.g. "MODP-1024-160".
    pub fn name(self) -> &'static str {
        match self {
            DhGroupId::Modp1024_160 => "MODP-1024-160",
            DhGroupId::Modp2048_224 => "MODP-2048-224",
            DhGroupId::Modp2048_256 => "MODP-2048-256",
        }
    }

    fn consts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            DhGroupId::Modp1024_160 => (MODP_1024_160_P, MODP_1024_160_G, MODP_1024_160_Q),
            DhGroupId::Modp2048_224 => (MODP_2048_224_P, MODP_2048_224_G, MODP_2048_224_Q),
            DhGroupId::Modp2048_256 => (MODP_2048_256_P, MODP_2048_256_G, MODP_2048_256_Q),
        }
    }

    /// The group (built once, then shared).
    pub fn group(self) -> &'static DhGroup {
        static GROUPS: [OnceLock<DhGroup>; 3] = [const { OnceLock::new() }; 3];
        let index = usize::from(self.pace_parameter_id());
        let slot = GROUPS.get(index).unwrap_or_else(|| unreachable!());
        slot.get_or_init(|| {
            let (p, g, q) = self.consts();
            let unhex = |s: &str| crate::ec::unhex_const(s);
            // The RFC 5114 constants are this module's own; the tests check them.
            DhGroup::build(&unhex(p), &unhex(g), Some(&unhex(q)), Some(self))
                .unwrap_or_else(|e| panic!("built-in group {} is invalid: {e}", self.name()))
        })
    }
}

/// A secret DH exponent, big-endian. Wiped on drop; Debug prints `[redacted]`.
#[derive(Clone)]
pub struct DhPrivateKey {
    be: Zeroizing<Vec<u8>>,
}

impl DhPrivateKey {
    /// Big-endian bytes.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        self.be.clone()
    }
}

impl fmt::Debug for DhPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A multiplicative group mod p generated by g, of prime order q when q is known.
#[derive(Clone)]
pub struct DhGroup {
    id: Option<DhGroupId>,
    params: BoxedMontyParams,
    p: BoxedUint,
    g: BoxedUint,
    q: Option<BoxedUint>,
    precision: u32,
    p_len: usize,
    q_len: usize,
}

impl fmt::Debug for DhGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhGroup")
            .field("id", &self.id)
            .field("p_bits", &self.p.bits())
            .field("has_q", &self.q.is_some())
            .finish()
    }
}

fn strip(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(start..).unwrap_or_default()
}

impl DhGroup {
    /// Explicit X9.42 domain parameters (p, g, q), e.g. from DG14 or EF.CardAccess.
    ///
    /// Checks: 1024 <= bits(p) <= 4096, p odd, 1 < g < p-1, q odd with bits(q) < bits(p),
    /// q divides p-1 and g^q = 1 mod p.
    pub fn from_explicit(p: &[u8], g: &[u8], q: &[u8]) -> Result<DhGroup, DhError> {
        DhGroup::build(p, g, Some(q), None).map(DhGroup::with_id)
    }

    /// Explicit PKCS #3 parameters (p, g) without the subgroup order: public values can then
    /// only be range-checked.
    pub fn from_explicit_without_order(p: &[u8], g: &[u8]) -> Result<DhGroup, DhError> {
        DhGroup::build(p, g, None, None)
    }

    /// Recognises a standardized group given explicitly.
    fn with_id(self) -> DhGroup {
        for id in DhGroupId::ALL {
            let std = id.group();
            if std.p == self.p && std.g == self.g && std.q == self.q {
                return std.clone();
            }
        }
        self
    }

    fn build(
        p: &[u8],
        g: &[u8],
        q: Option<&[u8]>,
        id: Option<DhGroupId>,
    ) -> Result<DhGroup, DhError> {
        use DhError::UnsupportedParameters as Bad;
        let p = strip(p);
        let max_len = usize::try_from(MAX_DH_BITS / 8).unwrap_or(512);
        if p.len() > max_len {
            return Err(Bad("p larger than 4096 bits"));
        }
        let p_bits = u32::try_from(p.len() * 8)
            .unwrap_or(0)
            .saturating_sub(p.first().map_or(8, |b| b.leading_zeros()));
        if p_bits < MIN_DH_BITS {
            return Err(Bad("p smaller than 1024 bits"));
        }
        let p_uint = BoxedUint::from_be_slice(p, p_bits).map_err(|_| Bad("p encoding"))?;
        let odd: Odd<BoxedUint> = Odd::new(p_uint).into_option().ok_or(Bad("p is even"))?;
        let params = BoxedMontyParams::new_vartime(odd);
        let precision = params.bits_precision();
        let p_uint = params.modulus().as_ref().clone();
        let mut group = DhGroup {
            id,
            params,
            p: p_uint,
            g: BoxedUint::zero_with_precision(precision),
            q: None,
            precision,
            p_len: p.len(),
            q_len: p.len(),
        };
        let g = group.uint_below_p(g).ok_or(Bad("g is not below p"))?;
        if !group.in_open_range(&g) {
            return Err(Bad("g is 0, 1 or p-1"));
        }
        group.g = g;
        if let Some(q) = q {
            let q = strip(q);
            if q.len() > p.len() {
                return Err(Bad("q larger than p"));
            }
            let q_uint = BoxedUint::from_be_slice(q, precision).map_err(|_| Bad("q encoding"))?;
            if q_uint.is_zero().to_bool() || !q_uint.bit(0).to_bool() {
                return Err(Bad("q is not odd"));
            }
            if q_uint >= group.p {
                return Err(Bad("q is not below p"));
            }
            let one = BoxedUint::one_with_precision(precision);
            let pm1 = group.p.wrapping_sub(&one);
            let nz = q_uint.to_nz().into_option().ok_or(Bad("q is zero"))?;
            if !pm1.rem_vartime(&nz).is_zero().to_bool() {
                return Err(Bad("q does not divide p-1"));
            }
            let gq = group.monty(group.g.clone()).pow(&q_uint).retrieve();
            if gq != one {
                return Err(Bad("g does not have order q"));
            }
            group.q_len = q.len();
            group.q = Some(q_uint);
        }
        Ok(group)
    }

    fn monty(&self, u: BoxedUint) -> BoxedMontyForm {
        BoxedMontyForm::new(u, &self.params)
    }

    fn uint_below_p(&self, be: &[u8]) -> Option<BoxedUint> {
        let s = strip(be);
        if s.len() > self.p_len {
            return None;
        }
        let u = BoxedUint::from_be_slice(s, self.precision).ok()?;
        (u < self.p).then_some(u)
    }

    /// 1 < v < p-1.
    fn in_open_range(&self, v: &BoxedUint) -> bool {
        let one = BoxedUint::one_with_precision(self.precision);
        let pm1 = self.p.wrapping_sub(&one);
        *v > one && *v < pm1
    }

    /// The standardized group this is, if any.
    pub fn id(&self) -> Option<DhGroupId> {
        self.id
    }

    /// Byte length of p (of public values and shared secrets).
    pub fn p_len(&self) -> usize {
        self.p_len
    }

    /// p, big-endian, `p_len` bytes.
    pub fn p(&self) -> Vec<u8> {
        uint_to_be(&self.p, self.p_len)
    }

    /// g, big-endian, `p_len` bytes.
    pub fn g(&self) -> Vec<u8> {
        uint_to_be(&self.g, self.p_len)
    }

    /// q, big-endian, when known.
    pub fn q(&self) -> Option<Vec<u8>> {
        self.q.as_ref().map(|q| uint_to_be(q, self.q_len))
    }

    /// A private exponent from big-endian bytes: non-zero and at most `p_len` bytes. Exponents
    /// wider than q are accepted (the BSI worked example uses them); in the order-q subgroup
    /// x and x mod q give the same results.
    pub fn private_key_from_bytes(&self, be: &[u8]) -> Result<DhPrivateKey, DhError> {
        let s = strip(be);
        if s.is_empty() || s.len() > self.p_len {
            return Err(DhError::InvalidPrivateKey);
        }
        Ok(DhPrivateKey {
            be: Zeroizing::new(s.to_vec()),
        })
    }

    /// A random private exponent in [1, q-1] (or of p's length less one byte without q).
    pub(crate) fn generate_private_key(&self, rng: &mut impl rand_core::CryptoRng) -> DhPrivateKey {
        match &self.q {
            Some(q) => {
                let bits = q.bits();
                let len = self.q_len;
                let excess = u32::try_from(len * 8).unwrap_or(0).saturating_sub(bits);
                let mask = 0xffu8 >> excess.min(7);
                loop {
                    let mut buf = Zeroizing::new(vec![0u8; len]);
                    rng.fill_bytes(&mut buf);
                    if let Some(top) = buf.first_mut() {
                        *top &= mask;
                    }
                    let Ok(mut x) = BoxedUint::from_be_slice(&buf, self.precision) else {
                        continue;
                    };
                    let ok = !x.is_zero().to_bool() && x < *q;
                    x.zeroize();
                    if ok {
                        return DhPrivateKey { be: buf };
                    }
                }
            }
            None => loop {
                let mut buf = Zeroizing::new(vec![0u8; self.p_len.saturating_sub(1).max(1)]);
                rng.fill_bytes(&mut buf);
                if buf.iter().any(|&b| b != 0) {
                    return DhPrivateKey { be: buf };
                }
            },
        }
    }

    /// A fresh key pair: the private exponent and the public value g^x (`p_len` bytes).
    pub fn generate_keypair(&self, rng: &mut impl rand_core::CryptoRng) -> (DhPrivateKey, Vec<u8>) {
        let x = self.generate_private_key(rng);
        let y = self.public_from_private(&x);
        (x, y)
    }

    /// g^x mod p, `p_len` bytes.
    pub fn public_from_private(&self, x: &DhPrivateKey) -> Vec<u8> {
        let y = self.pow_secret(&self.g, &x.be);
        uint_to_be(&y, self.p_len)
    }

    /// base^exp mod p, constant time in `exp` (its length aside).
    fn pow_secret(&self, base: &BoxedUint, exp: &[u8]) -> BoxedUint {
        let bits = u32::try_from(exp.len() * 8).unwrap_or(0).max(1);
        let mut e = BoxedUint::from_be_slice(exp, bits)
            .unwrap_or_else(|_| BoxedUint::zero_with_precision(bits));
        let r = self.monty(base.clone()).pow(&e).retrieve();
        e.zeroize();
        r
    }

    /// Checks a peer's public value: 1 < y < p-1 and, when q is known, y^q = 1 mod p.
    pub fn validate_public(&self, y: &[u8]) -> Result<(), DhError> {
        self.parse_public(y).map(|_| ())
    }

    fn parse_public(&self, y: &[u8]) -> Result<BoxedUint, DhError> {
        let y = self.uint_below_p(y).ok_or(DhError::InvalidPublicValue)?;
        if !self.in_open_range(&y) {
            return Err(DhError::InvalidPublicValue);
        }
        if let Some(q) = &self.q {
            let one = BoxedUint::one_with_precision(self.precision);
            if self.monty(y.clone()).pow(q).retrieve() != one {
                return Err(DhError::InvalidPublicValue);
            }
        }
        Ok(y)
    }

    /// The shared secret peer^x mod p, `p_len` bytes, after validating the peer's value.
    pub fn shared_secret(
        &self,
        x: &DhPrivateKey,
        peer: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, DhError> {
        let y = self.parse_public(peer)?;
        let mut k = self.pow_secret(&y, &x.be);
        let degenerate = !self.in_open_range(&k);
        let out = Zeroizing::new(uint_to_be(&k, self.p_len));
        k.zeroize();
        if degenerate {
            return Err(DhError::DegenerateSecret);
        }
        Ok(out)
    }

    /// a·b mod p, `p_len` bytes; both operands must be below p.
    pub fn mul_mod(&self, a: &[u8], b: &[u8]) -> Result<Zeroizing<Vec<u8>>, DhError> {
        let a = self.uint_below_p(a).ok_or(DhError::OutOfRange)?;
        let b = self.uint_below_p(b).ok_or(DhError::OutOfRange)?;
        let mut r = self.monty(a).mul(&self.monty(b)).retrieve();
        let out = Zeroizing::new(uint_to_be(&r, self.p_len));
        r.zeroize();
        Ok(out)
    }

    /// base^exp mod p, `p_len` bytes; constant time in `exp` (a secret nonce or key).
    pub fn pow_mod(&self, base: &[u8], exp: &[u8]) -> Result<Zeroizing<Vec<u8>>, DhError> {
        let base = self.uint_below_p(base).ok_or(DhError::OutOfRange)?;
        if exp.len() > 2 * self.p_len {
            return Err(DhError::OutOfRange);
        }
        let mut r = self.pow_secret(&base, exp);
        let out = Zeroizing::new(uint_to_be(&r, self.p_len));
        r.zeroize();
        Ok(out)
    }

    /// PACE generic mapping: g' = g^s · h mod p, after validating h as a group element.
    pub fn map_generator(&self, s: &[u8], h: &[u8]) -> Result<DhGroup, DhError> {
        let h = self.parse_public(h)?;
        if s.len() > 2 * self.p_len {
            return Err(DhError::OutOfRange);
        }
        let gs = Zeroizing::new(self.pow_secret(&self.g, s));
        let g2 = self.monty((*gs).clone()).mul(&self.monty(h)).retrieve();
        self.with_generator(&uint_to_be(&g2, self.p_len))
    }

    /// The same group with another generator of the order-q subgroup (PACE mapped generator).
    pub fn with_generator(&self, g: &[u8]) -> Result<DhGroup, DhError> {
        let g = self.parse_public(g)?;
        let mut group = self.clone();
        group.g = g;
        group.id = None;
        Ok(group)
    }

    /// PACE integrated mapping (ICAO 9303-11 §4.4.3.3.2): the same group with generator
    /// g~ = R_p^((p-1)/q) mod p, for R_p < p. Refuses a group without q, and a g~ that is
    /// not a generator of the order-q subgroup (g~ = 1 in particular).
    pub fn map_integrated(&self, r_p: &[u8]) -> Result<DhGroup, DhError> {
        let q = self.q.as_ref().ok_or(DhError::UnsupportedParameters(
            "integrated mapping needs the subgroup order q",
        ))?;
        let r = self.uint_below_p(r_p).ok_or(DhError::OutOfRange)?;
        let one = BoxedUint::one_with_precision(self.precision);
        let q = crypto_bigint::NonZero::new(q.clone())
            .into_option()
            .ok_or(DhError::UnsupportedParameters("q is zero"))?;
        let (cofactor, _) = self.p.wrapping_sub(&one).div_rem_vartime(&q);
        let g = self.monty(r).pow(&cofactor).retrieve();
        self.with_generator(&uint_to_be(&g, self.p_len))
    }
}
