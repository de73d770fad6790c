//! Diffie-Hellman over either kind of group, as PACE and chip authentication use it: an
//! elliptic curve with a (possibly mapped) generator, or a prime field with one.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::Error;
use crate::asn1::Oid;
use crate::crypto::{self, CipherSuite, SecretKey};
use crate::dh::{DhGroup, DhGroupId, DhPrivateKey};
use crate::ec::{Curve, CurveId, Point, Scalar};
use crate::security_infos::KeyAgreement;
use crate::tlv::{self, Tag};

/// A group to agree keys in.
#[derive(Clone, Debug)]
pub enum Group {
    /// An elliptic curve and the generator in use (the curve's own, or a PACE-mapped one).
    Ec {
        /// The curve.
        curve: &'static Curve,
        /// The generator.
        generator: Point,
    },
    /// A prime-field group with its generator.
    Dh(DhGroup),
}

/// A private key of either kind; zeroized on drop, never printed.
#[derive(Clone)]
pub enum PrivateKey {
    /// An EC scalar.
    Ec(Scalar),
    /// A DH exponent.
    Dh(DhPrivateKey),
}

impl core::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

fn ec_error(_: crate::ec::EcError) -> Error {
    Error::Crypto("elliptic-curve operation refused its input")
}

fn dh_error(_: crate::dh::DhError) -> Error {
    Error::Crypto("Diffie-Hellman operation refused its input")
}

impl Group {
    /// The group of an ICAO 9303-11 standardized domain parameter ID (0–2 DH, 8–18 ECDH).
    pub fn standardized(agreement: KeyAgreement, parameter_id: u64) -> Result<Group, Error> {
        let id =
            u8::try_from(parameter_id).map_err(|_| Error::Unsupported("domain parameter ID"))?;
        match agreement {
            KeyAgreement::Ecdh => {
                let curve = CurveId::from_pace_parameter_id(id)
                    .ok_or(Error::Unsupported("domain parameter ID for ECDH"))?
                    .curve();
                Ok(Group::Ec {
                    curve,
                    generator: curve.generator(),
                })
            }
            KeyAgreement::Dh => Ok(Group::Dh(
                DhGroupId::from_pace_parameter_id(id)
                    .ok_or(Error::Unsupported("domain parameter ID for DH"))?
                    .group()
                    .clone(),
            )),
        }
    }

    /// The group of a named curve with its standard generator.
    pub fn curve(id: CurveId) -> Group {
        let curve = id.curve();
        Group::Ec {
            curve,
            generator: curve.generator(),
        }
    }

    /// ECDH or DH.
    pub fn agreement(&self) -> KeyAgreement {
        match self {
            Group::Ec { .. } => KeyAgreement::Ecdh,
            Group::Dh(_) => KeyAgreement::Dh,
        }
    }

    /// A human name: the curve's, or the DH group's.
    pub fn name(&self) -> &'static str {
        match self {
            Group::Ec { curve, .. } => curve.id().map_or("explicit curve", CurveId::name),
            Group::Dh(g) => g.id().map_or("explicit DH group", |id| id.name()),
        }
    }

    /// The private key with these bytes (worked examples; a chip's static key).
    pub fn private_key(&self, bytes: &[u8]) -> Result<PrivateKey, Error> {
        match self {
            Group::Ec { curve, .. } => curve
                .scalar_from_bytes(bytes)
                .map(PrivateKey::Ec)
                .map_err(ec_error),
            Group::Dh(g) => g
                .private_key_from_bytes(bytes)
                .map(PrivateKey::Dh)
                .map_err(dh_error),
        }
    }

    /// The public key of `private` on this group's generator, encoded (04‖X‖Y, or y
    /// left-padded to the length of p).
    pub fn public_key(&self, private: &PrivateKey) -> Result<Vec<u8>, Error> {
        match (self, private) {
            (Group::Ec { curve, generator }, PrivateKey::Ec(k)) => {
                Ok(curve.encode_point(&curve.mul(k, generator)))
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => Ok(g.public_from_private(x)),
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// A fresh key pair on this group's generator.
    pub fn generate(&self, rng: &mut impl CryptoRng) -> Result<(PrivateKey, Vec<u8>), Error> {
        let private = match self {
            Group::Ec { curve, .. } => PrivateKey::Ec(curve.random_scalar(rng)),
            Group::Dh(g) => PrivateKey::Dh(g.generate_private_key(rng)),
        };
        let public = self.public_key(&private)?;
        Ok((private, public))
    }

    /// Checks a peer's public key: on the curve and not the identity, or in the subgroup.
    pub fn check_public(&self, public: &[u8]) -> Result<(), Error> {
        match self {
            Group::Ec { curve, .. } => curve.decode_point(public).map(|_| ()).map_err(ec_error),
            Group::Dh(g) => g.validate_public(public).map_err(dh_error),
        }
    }

    /// The shared secret: the x coordinate of k·peer, or peer^x mod p.
    pub fn shared_secret(
        &self,
        private: &PrivateKey,
        peer: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        match (self, private) {
            (Group::Ec { curve, .. }, PrivateKey::Ec(k)) => {
                let point = curve.decode_point(peer).map_err(ec_error)?;
                curve.ecdh_x(k, &point).map_err(ec_error)
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => g.shared_secret(x, peer).map_err(dh_error),
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// PACE generic mapping: the group with generator s·G + H (EC) or g^s·h (DH), where
    /// H = private·peer is the shared point of the mapping keys.
    pub fn map_generic(&self, s: &[u8], private: &PrivateKey, peer: &[u8]) -> Result<Group, Error> {
        match (self, private) {
            (Group::Ec { curve, generator }, PrivateKey::Ec(k)) => {
                let peer = curve.decode_point(peer).map_err(ec_error)?;
                let h = curve.ecdh_point(k, &peer).map_err(ec_error)?;
                let s = curve.scalar_reduced(s).map_err(ec_error)?;
                let mapped = curve.add(&curve.mul(&s, generator), &h);
                if mapped.is_identity() {
                    return Err(Error::Crypto("mapped generator is the identity"));
                }
                Ok(Group::Ec {
                    curve,
                    generator: mapped,
                })
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => {
                let h = g.shared_secret(x, peer).map_err(dh_error)?;
                g.map_generator(s, &h).map(Group::Dh).map_err(dh_error)
            }
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// The shared point or value H of generic mapping (worked examples print it).
    pub fn mapping_shared(&self, private: &PrivateKey, peer: &[u8]) -> Result<Vec<u8>, Error> {
        match (self, private) {
            (Group::Ec { curve, .. }, PrivateKey::Ec(k)) => {
                let peer = curve.decode_point(peer).map_err(ec_error)?;
                Ok(curve.encode_point(&curve.ecdh_point(k, &peer).map_err(ec_error)?))
            }
            (Group::Dh(g), PrivateKey::Dh(x)) => {
                Ok(g.shared_secret(x, peer).map_err(dh_error)?.to_vec())
            }
            _ => Err(Error::Crypto("key of the other group kind")),
        }
    }

    /// The generator, encoded.
    pub fn generator(&self) -> Vec<u8> {
        match self {
            Group::Ec { curve, generator } => curve.encode_point(generator),
            Group::Dh(g) => g.g(),
        }
    }

    /// The public-key data object `7F49 { 06 oid, 86 point | 84 y }` that PACE and
    /// chip authentication MAC into their authentication tokens.
    pub fn public_key_data_object(&self, protocol: &Oid, public: &[u8]) -> Vec<u8> {
        let mut content = protocol.to_der();
        match self {
            Group::Ec { .. } => tlv::encode_into(Tag::new(0x86), public, &mut content),
            Group::Dh(_) => {
                // An unsigned integer: no leading zero bytes.
                let skip = public.iter().take_while(|b| **b == 0).count();
                tlv::encode_into(
                    Tag::new(0x84),
                    public.get(skip..).unwrap_or_default(),
                    &mut content,
                )
            }
        }
        tlv::encode(Tag::new(0x7F49), &content)
    }

    /// R_p(s, t) of PACE integrated mapping: the pseudo-random field element, big-endian,
    /// the length of p.
    pub fn integrated_mapping_element(
        &self,
        s: &[u8],
        t: &[u8],
        suite: CipherSuite,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let p = match self {
            Group::Ec { curve, .. } => curve.p(),
            Group::Dh(g) => g.p(),
        };
        let r = im_pseudo_random(s, t, suite, bit_length(&p))?;
        Ok(reduce_mod(&r, &p))
    }

    /// PACE integrated mapping (ICAO 9303-11 §4.4.3.3.2): the group whose generator is
    /// f_G(R_p(s, t)) (ECDH, [`Curve::encode_to_point`]) or R_p(s, t)^((p-1)/q) (DH), from
    /// the chip's nonce s and the terminal's nonce t.
    ///
    /// Unsupported: ECDH on curves with p = 1 mod 4 (P-224), where the standard's point
    /// encoding is undefined. 3DES is defined (l = 128, k = 128, s of 16 bytes).
    pub fn map_integrated(&self, s: &[u8], t: &[u8], suite: CipherSuite) -> Result<Group, Error> {
        let r_p = self.integrated_mapping_element(s, t, suite)?;
        match self {
            Group::Ec { curve, .. } => {
                let generator = curve.encode_to_point(&r_p).map_err(|e| match e {
                    crate::ec::EcError::UnsupportedParameters(why) => Error::Unsupported(why),
                    _ => Error::Crypto("integrated mapping gave no point"),
                })?;
                Ok(Group::Ec { curve, generator })
            }
            Group::Dh(g) => g.map_integrated(&r_p).map(Group::Dh).map_err(dh_error),
        }
    }
}

/// The constants c0, c1 of the integrated mapping pseudo-random function, l = 128 bits
/// (3DES, AES-128) and l = 256 bits (AES-192, AES-256).
const IM_C0_128: [u8; 16] = [
    0xa6, 0x68, 0x89, 0x2a, 0x7c, 0x41, 0xe3, 0xca, 0x73, 0x9f, 0x40, 0xb0, 0x57, 0xd8, 0x59, 0x04,
];
const IM_C1_128: [u8; 16] = [
    0xa4, 0xe1, 0x36, 0xac, 0x72, 0x5f, 0x73, 0x8b, 0x01, 0xc1, 0xf6, 0x02, 0x17, 0xc1, 0x88, 0xad,
];
const IM_C0_256: [u8; 32] = [
    0xd4, 0x63, 0xd6, 0x52, 0x34, 0x12, 0x4e, 0xf7, 0x89, 0x70, 0x54, 0x98, 0x6d, 0xca, 0x0a, 0x17,
    0x4e, 0x28, 0xdf, 0x75, 0x8c, 0xba, 0xa0, 0x3f, 0x24, 0x06, 0x16, 0x41, 0x4d, 0x5a, 0x16, 0x76,
];
const IM_C1_256: [u8; 32] = [
    0x54, 0xbd, 0x72, 0x55, 0xf0, 0xaa, 0xf8, 0x31, 0xbe, 0xc3, 0x42, 0x3f, 0xcf, 0x39, 0xd6, 0x9b,
    0x6c, 0xbf, 0x06, 0x66, 0x77, 0xd0, 0xfa, 0xae, 0x5a, 0xad, 0xd9, 0x9d, 0xf8, 0xe5, 0x35, 0x17,
];

/// R(s, t) of ICAO 9303-11 §4.4.3.3.2 (figure 2): k_0 = E(t, s), then for each round i
/// x_i = E(k_i, c1) and k_(i+1) = E(k_i, c0), all in CBC mode with IV 0, keys truncated
/// to the key size; n rounds with n·l >= log2(p) + 64. s must be l bits long (16 bytes
/// for 3DES and AES-128, 32 for AES-192/256) and t one key long.
pub fn im_pseudo_random(
    s: &[u8],
    t: &[u8],
    suite: CipherSuite,
    p_bits: u32,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let (c0, c1): (&[u8], &[u8]) = match suite {
        CipherSuite::Des3 | CipherSuite::Aes128 => (&IM_C0_128, &IM_C1_128),
        CipherSuite::Aes192 | CipherSuite::Aes256 => (&IM_C0_256, &IM_C1_256),
    };
    let l = c0.len();
    let k = suite.key_len();
    if s.len() != l {
        return Err(Error::Crypto(
            "integrated mapping nonce s must be l bits long",
        ));
    }
    if t.len() != k {
        return Err(Error::Crypto(
            "integrated mapping nonce t must be one key long",
        ));
    }
    if p_bits > 8192 {
        return Err(Error::Unsupported(
            "modulus too large for integrated mapping",
        ));
    }
    let rounds = (p_bits as usize + 64).div_ceil(8 * l);
    let iv = vec![0u8; suite.block_size()];
    let mut key = Zeroizing::new(s.to_vec());
    crypto::encrypt_cbc(suite, &SecretKey::new(t.to_vec()), &iv, &mut key)?;
    let mut out = Zeroizing::new(Vec::with_capacity(rounds * l));
    for _ in 0..rounds {
        let round_key = SecretKey::new(key.get(..k).unwrap_or_default().to_vec());
        let mut next = Zeroizing::new(c0.to_vec());
        crypto::encrypt_cbc(suite, &round_key, &iv, &mut next)?;
        let mut x = c1.to_vec();
        crypto::encrypt_cbc(suite, &round_key, &iv, &mut x)?;
        out.extend_from_slice(&x);
        key = next;
    }
    Ok(out)
}

/// Bit length of a big-endian integer.
fn bit_length(be: &[u8]) -> u32 {
    let skip = be.iter().take_while(|b| **b == 0).count();
    match be.get(skip..) {
        Some([top, rest @ ..]) => {
            u32::try_from(rest.len() * 8).unwrap_or(u32::MAX) + (8 - top.leading_zeros())
        }
        _ => 0,
    }
}

/// `value` mod `modulus` (both big-endian), padded to the modulus length.
fn reduce_mod(value: &[u8], modulus: &[u8]) -> Zeroizing<Vec<u8>> {
    use crypto_bigint::{BoxedUint, NonZero};
    let m = BoxedUint::from_be_slice_vartime(modulus);
    let v = BoxedUint::from_be_slice_vartime(value);
    let reduced = NonZero::new(m)
        .into_option()
        .map(|m| v.rem_vartime(&m))
        .unwrap_or(v);
    let bytes = reduced.to_be_bytes();
    let mut out = Zeroizing::new(vec![0u8; modulus.len()]);
    let take = bytes.len().min(modulus.len());
    if let (Some(dst), Some(src)) = (
        out.get_mut(modulus.len() - take..),
        bytes.get(bytes.len() - take..),
    ) {
        dst.copy_from_slice(src);
    }
    out
}
