//! Active authentication (ICAO 9303-11 §6.1): the chip signs a terminal challenge with the
//! private key whose public key DG15 holds.
//!
//! - RSA: ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery,
//!   F = `6A` ‖ M1 ‖ H(M1 ‖ challenge) ‖ trailer, the trailer `BC` (SHA-1 implicit) or
//!   `xx CC` naming the hash (ISO/IEC 10118-3 identifiers).
//! - ECDSA: plain r ‖ s over H(challenge), the hash from DG14's ActiveAuthenticationInfo.
//!
//! A signature that does not verify means the chip is not genuine
//! ([`Error::AuthenticationFailed`]); the result counts only when DG15 is covered by a
//! verified SOD.

use crypto_bigint::BoxedUint;
use crypto_bigint::modular::BoxedMontyForm;
use rand_core::CryptoRng;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{RsaPrivateKey, RsaPublicKey};
use zeroize::Zeroizing;

use crate::asn1::{self, Oid, SEQUENCE};
use crate::chip_auth::{ec_curve, split_spki};
use crate::ec::{Curve, Point, Scalar, uint_to_be};
use crate::hash::HashAlgorithm;
use crate::security_infos::ActiveAuthenticationInfo;
use crate::tlv::{self, Tag, Tlv};
use crate::{Card, Command, Error, StatusWord};

/// INS of INTERNAL AUTHENTICATE.
pub const INS_INTERNAL_AUTHENTICATE: u8 = 0x88;
/// Length of the ICAO challenge RND.IFD.
pub const CHALLENGE_LEN: usize = 8;

/// Moduli accepted, in bits: ICAO documents use 1024 to 4096.
const RSA_BITS: core::ops::RangeInclusive<usize> = 1024..=4096;
/// Largest SubjectPublicKeyInfo accepted.
const MAX_SPKI_LEN: usize = 4096;
const HEADER: u8 = 0x6A;
const TRAILER_IMPLICIT: u8 = 0xBC;
const TRAILER_EXPLICIT: u8 = 0xCC;

/// ISO/IEC 10118-3 hash-function identifier, the first byte of a 2-byte trailer.
fn iso_id(hash: HashAlgorithm) -> u8 {
    match hash {
        HashAlgorithm::Sha1 => 0x33,
        HashAlgorithm::Sha256 => 0x34,
        HashAlgorithm::Sha512 => 0x35,
        HashAlgorithm::Sha384 => 0x36,
        HashAlgorithm::Sha224 => 0x38,
    }
}

fn hash_of_iso_id(id: u8) -> Option<HashAlgorithm> {
    HashAlgorithm::ALL.into_iter().find(|h| iso_id(*h) == id)
}

/// The hash of an ecdsa-plain-SHA* signature algorithm OID (BSI TR-03111).
pub fn hash_of_ecdsa_plain_oid(oid: &Oid) -> Option<HashAlgorithm> {
    // The SHA variants are arcs 1 to 5 (BSI TR-03111).
    match oid.arcs_after(&asn1::ECDSA_PLAIN)?.as_slice() {
        [1] => Some(HashAlgorithm::Sha1),
        [2] => Some(HashAlgorithm::Sha224),
        [3] => Some(HashAlgorithm::Sha256),
        [4] => Some(HashAlgorithm::Sha384),
        [5] => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

/// The ecdsa-plain-SHA* OID of a hash (BSI TR-03111).
pub fn ecdsa_plain_oid(hash: HashAlgorithm) -> Oid {
    let arc = match hash {
        HashAlgorithm::Sha1 => 1,
        HashAlgorithm::Sha224 => 2,
        HashAlgorithm::Sha256 => 3,
        HashAlgorithm::Sha384 => 4,
        HashAlgorithm::Sha512 => 5,
    };
    asn1::ECDSA_PLAIN.child(arc)
}

/// DG15's active authentication public key.
#[derive(Clone, Debug)]
pub enum AaPublicKey {
    /// RSA (ISO/IEC 9796-2 scheme 1).
    Rsa(RsaPublicKey),
    /// ECDSA on a named or explicit curve.
    Ec {
        /// The curve (boxed: curves are large next to an RSA key).
        curve: Box<Curve>,
        /// The public point.
        point: Point,
    },
}

impl AaPublicKey {
    /// Parses a SubjectPublicKeyInfo (rsaEncryption, or id-ecPublicKey with a named curve
    /// or explicit parameters).
    pub fn from_spki(der: &[u8]) -> Result<AaPublicKey, Error> {
        if der.len() > MAX_SPKI_LEN {
            return Err(Error::Malformed("SubjectPublicKeyInfo too large"));
        }
        let (algorithm, parameters, key_bits) = split_spki(der)?;
        match algorithm {
            asn1::RSA_ENCRYPTION => {
                let key = Tlv::parse(key_bits)?;
                if key.tag() != SEQUENCE {
                    return Err(Error::Malformed("RSAPublicKey"));
                }
                let mut fields = key.children();
                let n = fields.next().ok_or(Error::Truncated("RSA modulus"))??;
                let e = fields.next().ok_or(Error::Truncated("RSA exponent"))??;
                if fields.next().is_some() {
                    return Err(Error::Malformed("RSAPublicKey"));
                }
                let (n, e) = (asn1::unsigned_integer(&n)?, asn1::unsigned_integer(&e)?);
                if n.len() > RSA_BITS.end() / 8 || e.len() > n.len() {
                    return Err(Error::Unsupported("RSA key size"));
                }
                let n = BoxedUint::from_be_slice_vartime(n);
                let e = BoxedUint::from_be_slice_vartime(e);
                RsaPublicKey::new_with_size_limits(n, e, RSA_BITS)
                    .map(AaPublicKey::Rsa)
                    .map_err(|_| Error::Unsupported("RSA public key"))
            }
            asn1::EC_PUBLIC_KEY => {
                let parameters =
                    parameters.ok_or(Error::MissingDataObject("EC domain parameters"))?;
                let curve = ec_curve(&parameters)?;
                let point = curve
                    .decode_point(key_bits)
                    .map_err(|_| Error::Malformed("active authentication EC public key"))?;
                Ok(AaPublicKey::Ec {
                    curve: Box::new(curve),
                    point,
                })
            }
            _ => Err(Error::Unsupported(
                "active authentication public key algorithm",
            )),
        }
    }

    /// Parses DG15 (tag `6F` around the SubjectPublicKeyInfo).
    pub fn from_dg15(dg15: &[u8]) -> Result<AaPublicKey, Error> {
        let outer = Tlv::parse(dg15)?;
        if outer.tag() != Tag::new(0x6F) {
            return Err(Error::Malformed("DG15 must have tag 6F"));
        }
        AaPublicKey::from_spki(outer.value())
    }

    /// Length of a signature in bytes: the modulus length, or twice the order length.
    pub fn signature_len(&self) -> usize {
        match self {
            AaPublicKey::Rsa(k) => k.size(),
            AaPublicKey::Ec { curve, .. } => 2 * curve.order_len(),
        }
    }

    /// Verifies the chip's answer to `challenge`. ECDSA needs DG14's
    /// ActiveAuthenticationInfo for its hash; RSA names its hash in the trailer.
    pub fn verify(
        &self,
        info: Option<&ActiveAuthenticationInfo>,
        challenge: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        match self {
            AaPublicKey::Rsa(key) => verify_rsa(key, challenge, signature),
            AaPublicKey::Ec { curve, point } => {
                let info = info.ok_or(Error::MissingDataObject(
                    "ActiveAuthenticationInfo (ECDSA needs its hash)",
                ))?;
                let hash = hash_of_ecdsa_plain_oid(&info.signature_algorithm).ok_or(
                    Error::Unsupported("active authentication signature algorithm"),
                )?;
                let half = curve.order_len();
                if signature.len() != 2 * half {
                    return Err(Error::AuthenticationFailed(
                        "ECDSA signature of the wrong length",
                    ));
                }
                let (r, s) = signature.split_at(half);
                curve
                    .ecdsa_verify(point, &hash.digest_parts(&[challenge]), r, s)
                    .map_err(|_| Error::AuthenticationFailed("ECDSA signature does not verify"))
            }
        }
    }
}

/// s^e mod n for s < n; `None` when s is 0 or not below n.
fn rsa_public_op(key: &RsaPublicKey, signature: &[u8]) -> Option<BoxedUint> {
    let precision = key.n_bits_precision();
    let s = BoxedUint::from_be_slice(signature, precision).ok()?;
    if s.is_zero().to_bool() || s >= *key.n().as_ref() {
        return None;
    }
    let params = key.n_params();
    Some(BoxedMontyForm::new(s, params).pow(key.e()).retrieve())
}

fn verify_rsa(key: &RsaPublicKey, challenge: &[u8], signature: &[u8]) -> Result<(), Error> {
    let failed = Error::AuthenticationFailed;
    let k = key.size();
    if signature.is_empty() || signature.len() > k {
        return Err(failed("RSA signature of the wrong length"));
    }
    let j = rsa_public_op(key, signature).ok_or(failed("RSA signature not below the modulus"))?;
    // ISO/IEC 9796-2: the signer sends min(F^d, n - F^d); F ends in nibble C.
    let low_nibble = j.as_words().first().map_or(0, |w| (*w & 0x0F) as u8);
    let f = if low_nibble == 0x0C {
        j
    } else {
        key.n().as_ref().wrapping_sub(&j)
    };
    let f = uint_to_be(&f, k);
    if f.first() != Some(&HEADER) {
        return Err(failed("ISO/IEC 9796-2 header is not 6A"));
    }
    let (hash, trailer_len) = match f.as_slice() {
        [.., TRAILER_IMPLICIT] => (HashAlgorithm::Sha1, 1),
        [.., id, TRAILER_EXPLICIT] => (
            hash_of_iso_id(*id).ok_or(failed("ISO/IEC 9796-2 trailer names an unknown hash"))?,
            2,
        ),
        _ => return Err(failed("ISO/IEC 9796-2 trailer")),
    };
    let digest_end = k - trailer_len;
    let m1_end = digest_end
        .checked_sub(hash.output_len())
        .filter(|end| *end > 1)
        .ok_or(failed("ISO/IEC 9796-2 message too short"))?;
    let m1 = f.get(1..m1_end).ok_or(failed("ISO/IEC 9796-2 layout"))?;
    let d = f
        .get(m1_end..digest_end)
        .ok_or(failed("ISO/IEC 9796-2 layout"))?;
    if crate::crypto::mac_eq(&hash.digest_parts(&[m1, challenge]), d) {
        Ok(())
    } else {
        Err(failed("ISO/IEC 9796-2 digest does not match the challenge"))
    }
}

/// Sends INTERNAL AUTHENTICATE with `challenge` and verifies the signature.
pub fn authenticate<C: Card>(
    card: &mut C,
    key: &AaPublicKey,
    info: Option<&ActiveAuthenticationInfo>,
    challenge: &[u8; CHALLENGE_LEN],
) -> Result<(), Error> {
    // A short-length card gets Le 00 and chains a longer signature (61xx).
    let most = if card.extended_length() {
        crate::command::MAX_EXTENDED_NE
    } else {
        crate::command::MAX_SHORT_NE
    };
    let le = key.signature_len().clamp(1, most);
    let command = Command::new(0x00, INS_INTERNAL_AUTHENTICATE, 0, 0)
        .with_data(challenge.to_vec())
        .with_le(le);
    let response = card.exchange(&command)?;
    if !response.sw.is_success() {
        return Err(Error::Status(response.sw));
    }
    key.verify(info, challenge, &response.data)
}

/// [`authenticate`] with a random challenge.
pub fn authenticate_random<C: Card>(
    card: &mut C,
    key: &AaPublicKey,
    info: Option<&ActiveAuthenticationInfo>,
    rng: &mut impl CryptoRng,
) -> Result<(), Error> {
    let mut challenge = [0u8; CHALLENGE_LEN];
    rng.fill_bytes(&mut challenge);
    authenticate(card, key, info, &challenge)
}

enum AaPrivate {
    Rsa(Box<RsaPrivateKey>),
    Ec { curve: Box<Curve>, key: Scalar },
}

/// The chip side of active authentication: a private key that signs challenges. Keys
/// zeroize on drop (the RSA key through the `rsa` crate) and never print.
pub struct ChipAa {
    key: AaPrivate,
    hash: HashAlgorithm,
}

impl core::fmt::Debug for ChipAa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = match self.key {
            AaPrivate::Rsa(_) => "RSA",
            AaPrivate::Ec { .. } => "ECDSA",
        };
        write!(f, "ChipAa({kind}, {:?}, [redacted])", self.hash)
    }
}

impl ChipAa {
    /// An RSA chip signing with ISO/IEC 9796-2 scheme 1 and `hash` (SHA-1 gives the `BC`
    /// trailer, the others `xx CC`). The modulus length must be a whole number of bytes.
    pub fn rsa(key: RsaPrivateKey, hash: HashAlgorithm) -> Result<ChipAa, Error> {
        if key.n().as_ref().bits_vartime() % 8 != 0 || !RSA_BITS.contains(&(key.size() * 8)) {
            return Err(Error::Unsupported(
                "RSA modulus size for active authentication",
            ));
        }
        Ok(ChipAa {
            key: AaPrivate::Rsa(Box::new(key)),
            hash,
        })
    }

    /// An RSA chip with a fresh key of `bits` (a multiple of 8, 1024 to 4096).
    pub fn rsa_generate(
        bits: usize,
        hash: HashAlgorithm,
        rng: &mut impl CryptoRng,
    ) -> Result<ChipAa, Error> {
        if bits % 8 != 0 || !RSA_BITS.contains(&bits) {
            return Err(Error::Unsupported(
                "RSA modulus size for active authentication",
            ));
        }
        let key = RsaPrivateKey::new(rng, bits)
            .map_err(|_| Error::Crypto("RSA key generation failed"))?;
        ChipAa::rsa(key, hash)
    }

    /// An RSA chip from a PKCS#8 private key (DER).
    pub fn rsa_from_pkcs8(der: &[u8], hash: HashAlgorithm) -> Result<ChipAa, Error> {
        use rsa::pkcs8::DecodePrivateKey;
        let key = RsaPrivateKey::from_pkcs8_der(der)
            .map_err(|_| Error::Malformed("PKCS#8 RSA private key"))?;
        ChipAa::rsa(key, hash)
    }

    /// An ECDSA chip signing plain r ‖ s over `hash` of the challenge.
    pub fn ec(curve: Curve, key: Scalar, hash: HashAlgorithm) -> ChipAa {
        ChipAa {
            key: AaPrivate::Ec {
                curve: Box::new(curve),
                key,
            },
            hash,
        }
    }

    /// The public key for DG15.
    pub fn public_key(&self) -> AaPublicKey {
        match &self.key {
            AaPrivate::Rsa(k) => AaPublicKey::Rsa(k.to_public_key()),
            AaPrivate::Ec { curve, key } => AaPublicKey::Ec {
                curve: curve.clone(),
                point: curve.public_key(key),
            },
        }
    }

    /// The SubjectPublicKeyInfo DER for DG15 (EC: named curves only).
    pub fn spki(&self) -> Result<Vec<u8>, Error> {
        match &self.key {
            AaPrivate::Rsa(k) => {
                let rsa_key = [
                    asn1::integer(&k.n().as_ref().to_be_bytes()),
                    asn1::integer(&k.e().to_be_bytes()),
                ]
                .concat();
                let algorithm = [asn1::RSA_ENCRYPTION.to_der(), vec![0x05, 0x00]].concat();
                Ok(spki(&algorithm, &tlv::encode(SEQUENCE, &rsa_key)))
            }
            AaPrivate::Ec { curve, key } => {
                let id = curve.id().ok_or(Error::Unsupported("explicit curve"))?;
                let algorithm = [asn1::EC_PUBLIC_KEY.to_der(), id.oid().to_der()].concat();
                Ok(spki(
                    &algorithm,
                    &curve.encode_point(&curve.public_key(key)),
                ))
            }
        }
    }

    /// The ActiveAuthenticationInfo DG14 must carry for an ECDSA chip.
    pub fn info(&self) -> Option<ActiveAuthenticationInfo> {
        match self.key {
            AaPrivate::Rsa(_) => None,
            AaPrivate::Ec { .. } => Some(ActiveAuthenticationInfo {
                version: 1,
                signature_algorithm: ecdsa_plain_oid(self.hash),
            }),
        }
    }

    /// INTERNAL AUTHENTICATE: signs the 8-byte challenge.
    pub fn internal_authenticate(
        &self,
        challenge: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>, StatusWord> {
        if challenge.len() != CHALLENGE_LEN {
            return Err(StatusWord::WrongLength);
        }
        match &self.key {
            AaPrivate::Ec { curve, key } => {
                let (r, s) = curve.ecdsa_sign(key, &self.hash.digest_parts(&[challenge]), rng);
                Ok([r, s].concat())
            }
            AaPrivate::Rsa(key) => self.sign_rsa(key, challenge, rng),
        }
    }

    fn sign_rsa(
        &self,
        key: &RsaPrivateKey,
        challenge: &[u8],
        rng: &mut impl CryptoRng,
    ) -> Result<Vec<u8>, StatusWord> {
        let k = key.size();
        let trailer: &[u8] = match self.hash {
            HashAlgorithm::Sha1 => &[TRAILER_IMPLICIT],
            other => &[iso_id(other), TRAILER_EXPLICIT],
        };
        let capacity = k
            .checked_sub(1 + self.hash.output_len() + trailer.len())
            .filter(|c| *c > 0)
            .ok_or(StatusWord::NoPreciseDiagnosis)?;
        let mut m1 = Zeroizing::new(vec![0u8; capacity]);
        rng.fill_bytes(&mut m1);
        let d = self.hash.digest_parts(&[&m1, challenge]);
        let mut f = Zeroizing::new(Vec::with_capacity(k));
        f.push(HEADER);
        f.extend_from_slice(&m1);
        f.extend_from_slice(&d);
        f.extend_from_slice(trailer);
        let precision = key.n_bits_precision();
        let f =
            BoxedUint::from_be_slice(&f, precision).map_err(|_| StatusWord::NoPreciseDiagnosis)?;
        let s = BoxedMontyForm::new(f, key.n_params())
            .pow(key.d())
            .retrieve();
        let n = key.n().as_ref();
        let other = n.wrapping_sub(&s);
        let s = if other < s { other } else { s };
        Ok(uint_to_be(&s, k))
    }
}

fn spki(algorithm: &[u8], key_bits: &[u8]) -> Vec<u8> {
    let content = [tlv::encode(SEQUENCE, algorithm), asn1::bit_string(key_bits)].concat();
    tlv::encode(SEQUENCE, &content)
}
