//! Signature algorithm dispatch: which hash and scheme an algorithm identifier means,
//! and verification with a certificate's public key.
//!
//! RSA PKCS#1 v1.5 and RSA-PSS go through the `rsa` crate, PSS with the hash and salt
//! length taken from the parameters (RFC 4055 defaults when absent). Every ECDSA
//! verification, named or explicit curve, goes through [`ecdsa_verify`].

use super::algorithm::AlgorithmIdentifier;
use super::key::{EcDomain, PublicKey, explicit_params};
use super::oid;
use apdu::asn1;
use apdu::ec::{Curve, CurveId, EcError};
use apdu::hash::HashAlgorithm;
use apdu::tlv::{self, Tag, Tlv};
use std::fmt;

/// A signature scheme with its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1v15(HashAlgorithm),
    /// RSASSA-PSS with MGF1 over the same hash and this salt length.
    RsaPss {
        hash: HashAlgorithm,
        salt_len: usize,
    },
    /// ECDSA with a DER `SEQUENCE { r, s }` signature.
    Ecdsa(HashAlgorithm),
    /// ECDSA with a plain `r || s` signature (BSI TR-03111).
    EcdsaPlain(HashAlgorithm),
}

impl SignatureAlgorithm {
    /// Interprets an algorithm identifier. `digest` is the CMS digest algorithm, used
    /// when the identifier names only the key type (`rsaEncryption`, `id-ecPublicKey`),
    /// as some passports' SignerInfos do.
    pub fn from_identifier(
        alg: &AlgorithmIdentifier,
        digest: Option<HashAlgorithm>,
    ) -> Result<SignatureAlgorithm, SigError> {
        use HashAlgorithm::*;
        let unsupported = || SigError::UnsupportedAlgorithm(alg.name());
        Ok(match alg.oid {
            oid::SHA1_WITH_RSA => SignatureAlgorithm::RsaPkcs1v15(Sha1),
            oid::SHA224_WITH_RSA => SignatureAlgorithm::RsaPkcs1v15(Sha224),
            oid::SHA256_WITH_RSA => SignatureAlgorithm::RsaPkcs1v15(Sha256),
            oid::SHA384_WITH_RSA => SignatureAlgorithm::RsaPkcs1v15(Sha384),
            oid::SHA512_WITH_RSA => SignatureAlgorithm::RsaPkcs1v15(Sha512),
            oid::RSA_ENCRYPTION => SignatureAlgorithm::RsaPkcs1v15(digest.ok_or_else(unsupported)?),
            oid::RSASSA_PSS => parse_pss_params(alg.real_params())?,
            oid::ECDSA_WITH_SHA1 => SignatureAlgorithm::Ecdsa(Sha1),
            oid::ECDSA_WITH_SHA224 => SignatureAlgorithm::Ecdsa(Sha224),
            oid::ECDSA_WITH_SHA256 => SignatureAlgorithm::Ecdsa(Sha256),
            oid::ECDSA_WITH_SHA384 => SignatureAlgorithm::Ecdsa(Sha384),
            oid::ECDSA_WITH_SHA512 => SignatureAlgorithm::Ecdsa(Sha512),
            oid::EC_PUBLIC_KEY => SignatureAlgorithm::Ecdsa(digest.ok_or_else(unsupported)?),
            ref other if other.is_under(&oid::ECDSA_PLAIN) => SignatureAlgorithm::EcdsaPlain(
                apdu::active_auth::hash_of_ecdsa_plain_oid(other).ok_or_else(unsupported)?,
            ),
            _ => return Err(unsupported()),
        })
    }

    /// The hash the scheme applies to the message.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            SignatureAlgorithm::RsaPkcs1v15(h)
            | SignatureAlgorithm::RsaPss { hash: h, .. }
            | SignatureAlgorithm::Ecdsa(h)
            | SignatureAlgorithm::EcdsaPlain(h) => h,
        }
    }

    /// The identifier to put in certificates and SignerInfos.
    pub fn identifier(self) -> AlgorithmIdentifier {
        use HashAlgorithm::*;
        match self {
            SignatureAlgorithm::RsaPkcs1v15(h) => {
                let o = match h {
                    Sha1 => oid::SHA1_WITH_RSA,
                    Sha224 => oid::SHA224_WITH_RSA,
                    Sha256 => oid::SHA256_WITH_RSA,
                    Sha384 => oid::SHA384_WITH_RSA,
                    Sha512 => oid::SHA512_WITH_RSA,
                };
                AlgorithmIdentifier::new(o, Some(vec![0x05, 0x00]))
            }
            SignatureAlgorithm::RsaPss { hash, salt_len } => {
                let h = AlgorithmIdentifier::new(hash.oid(), Some(vec![0x05, 0x00])).to_der();
                let mgf = asn1::sequence(&[&oid::MGF1.to_der(), &h]);
                let params = asn1::sequence(&[
                    &tlv::encode(asn1::context(0), &h),
                    &tlv::encode(asn1::context(1), &mgf),
                    &tlv::encode(asn1::context(2), &asn1::small_integer_der(salt_len as u64)),
                ]);
                AlgorithmIdentifier::new(oid::RSASSA_PSS, Some(params))
            }
            SignatureAlgorithm::Ecdsa(h) => {
                let o = match h {
                    Sha1 => oid::ECDSA_WITH_SHA1,
                    Sha224 => oid::ECDSA_WITH_SHA224,
                    Sha256 => oid::ECDSA_WITH_SHA256,
                    Sha384 => oid::ECDSA_WITH_SHA384,
                    Sha512 => oid::ECDSA_WITH_SHA512,
                };
                AlgorithmIdentifier::new(o, None)
            }
            SignatureAlgorithm::EcdsaPlain(h) => {
                AlgorithmIdentifier::new(apdu::active_auth::ecdsa_plain_oid(h), None)
            }
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureAlgorithm::RsaPkcs1v15(h) => write!(f, "RSA PKCS#1 v1.5 with {}", h.name()),
            SignatureAlgorithm::RsaPss { hash, salt_len } => {
                write!(f, "RSA-PSS with {}, MGF1, salt {salt_len}", hash.name())
            }
            SignatureAlgorithm::Ecdsa(h) => write!(f, "ECDSA with {}", h.name()),
            SignatureAlgorithm::EcdsaPlain(h) => write!(f, "ECDSA (plain) with {}", h.name()),
        }
    }
}

/// Reads RSASSA-PSS-params; absent fields take the RFC 4055 defaults (SHA-1, MGF1 with
/// SHA-1, salt 20, trailer 1).
fn parse_pss_params(params: Option<&[u8]>) -> Result<SignatureAlgorithm, SigError> {
    let bad = |why: &str| SigError::UnsupportedAlgorithm(format!("RSA-PSS parameters: {why}"));
    let mut hash = HashAlgorithm::Sha1;
    let mut mgf_hash = HashAlgorithm::Sha1;
    let mut salt_len = 20usize;
    // RSASSA-PSS-params: hashAlgorithm [0], maskGenAlgorithm [1], saltLength [2],
    // trailerField [3].
    const HASH: Tag = asn1::context(0);
    const MASK: Tag = asn1::context(1);
    const SALT: Tag = asn1::context(2);
    const TRAILER: Tag = asn1::context(3);
    if let Some(p) = params {
        let seq =
            Tlv::parse_as(p, asn1::SEQUENCE, "RSASSA-PSS-params").map_err(|_| bad("malformed"))?;
        let mut r = seq.reader();
        while !r.is_empty() {
            let field = r.read().map_err(|_| bad("malformed"))?;
            let inner = Tlv::parse(field.value()).map_err(|_| bad("malformed"))?;
            match field.tag() {
                HASH => {
                    let a = AlgorithmIdentifier::from_der(&inner).map_err(|_| bad("hash"))?;
                    hash = HashAlgorithm::from_oid(&a.oid).ok_or_else(|| bad("unknown hash"))?;
                }
                MASK => {
                    let a = AlgorithmIdentifier::from_der(&inner).map_err(|_| bad("MGF"))?;
                    if a.oid != oid::MGF1 {
                        return Err(bad("mask generation function is not MGF1"));
                    }
                    let h = a
                        .params
                        .as_deref()
                        .ok_or_else(|| bad("MGF1 without hash"))?;
                    let ht = Tlv::parse_as(h, asn1::SEQUENCE, "MGF1 hash")
                        .map_err(|_| bad("MGF1 hash"))?;
                    let ha = AlgorithmIdentifier::from_der(&ht).map_err(|_| bad("MGF1 hash"))?;
                    mgf_hash =
                        HashAlgorithm::from_oid(&ha.oid).ok_or_else(|| bad("unknown MGF1 hash"))?;
                }
                SALT => {
                    let n = asn1::small_integer(&inner).map_err(|_| bad("salt length"))?;
                    salt_len = usize::try_from(n)
                        .ok()
                        .filter(|&n| n <= 1024)
                        .ok_or_else(|| bad("salt length"))?;
                }
                TRAILER => {
                    if asn1::small_integer(&inner).ok() != Some(1) {
                        return Err(bad("trailer field is not 1"));
                    }
                }
                _ => return Err(bad("unknown field")),
            }
        }
    }
    if mgf_hash != hash {
        return Err(bad("MGF1 hash differs from the message hash"));
    }
    Ok(SignatureAlgorithm::RsaPss { hash, salt_len })
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigError {
    /// The signature does not match (the only outcome that proves tampering).
    BadSignature,
    /// The signature value is not a well-formed encoding.
    MalformedSignature,
    /// The algorithm is not supported, or its parameters are not.
    UnsupportedAlgorithm(String),
    /// The key's curve is not supported.
    UnsupportedCurve(String),
    /// The key does not fit the algorithm, or is malformed.
    BadKey(String),
}

impl SigError {
    /// Whether the signature was checked and found wrong (as opposed to not checkable).
    pub fn is_forgery(&self) -> bool {
        matches!(self, SigError::BadSignature | SigError::MalformedSignature)
    }
}

impl fmt::Display for SigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigError::BadSignature => f.write_str("signature does not verify"),
            SigError::MalformedSignature => f.write_str("malformed signature value"),
            SigError::UnsupportedAlgorithm(a) => write!(f, "unsupported signature algorithm {a}"),
            SigError::UnsupportedCurve(c) => write!(f, "unsupported curve {c}"),
            SigError::BadKey(why) => write!(f, "unusable public key: {why}"),
        }
    }
}

impl std::error::Error for SigError {}

/// Verifies `signature` over `message` with `key`.
pub fn verify(
    alg: SignatureAlgorithm,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    let digest = alg.hash().digest(message);
    verify_digest(alg, key, &digest, signature)
}

/// Verifies `signature` over an already computed message digest.
pub fn verify_digest(
    alg: SignatureAlgorithm,
    key: &PublicKey,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    match (alg, key) {
        (
            SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss { .. },
            PublicKey::Rsa { n, e },
        ) => rsa_verify(alg, n, e, digest, signature),
        (SignatureAlgorithm::Ecdsa(_), PublicKey::Ec { domain, point }) => {
            let (r, s) = parse_ecdsa_der(signature)?;
            ecdsa_verify(domain, point, digest, r, s)
        }
        (SignatureAlgorithm::EcdsaPlain(_), PublicKey::Ec { domain, point }) => {
            let curve = resolve_curve(domain)?;
            let (r, s) = split_plain_signature(&curve, signature)?;
            ecdsa_verify_on(&curve, point, digest, r, s)
        }
        (_, PublicKey::Other { algorithm }) => Err(SigError::BadKey(format!(
            "unsupported key algorithm {}",
            oid::name(algorithm)
        ))),
        _ => Err(SigError::BadKey(format!(
            "{} key cannot verify {alg}",
            key.algorithm()
        ))),
    }
}

/// Work done with the `rsa` crate's scheme for one signature algorithm: verifying here,
/// signing in the simulator. `rsa` names the hash as a type parameter, so the choice of
/// scheme is a visit rather than a value.
pub trait RsaSchemeUser {
    /// What the work gives.
    type Output;
    /// Does the work with `scheme`.
    fn run<S: rsa::traits::SignatureScheme>(self, scheme: S) -> Self::Output;
}

/// Runs `user` with the RSA scheme (padding and hash) of `alg`; `None` if `alg` is not
/// an RSA algorithm.
pub fn with_rsa_scheme<U: RsaSchemeUser>(alg: SignatureAlgorithm, user: U) -> Option<U::Output> {
    use rsa::{Pkcs1v15Sign, pss::Pss};
    use sha1::Sha1;
    use sha2::{Sha224, Sha256, Sha384, Sha512};
    Some(match alg {
        SignatureAlgorithm::RsaPkcs1v15(hash) => user.run(match hash {
            HashAlgorithm::Sha1 => Pkcs1v15Sign::new::<Sha1>(),
            HashAlgorithm::Sha224 => Pkcs1v15Sign::new::<Sha224>(),
            HashAlgorithm::Sha256 => Pkcs1v15Sign::new::<Sha256>(),
            HashAlgorithm::Sha384 => Pkcs1v15Sign::new::<Sha384>(),
            HashAlgorithm::Sha512 => Pkcs1v15Sign::new::<Sha512>(),
        }),
        SignatureAlgorithm::RsaPss { hash, salt_len } => match hash {
            HashAlgorithm::Sha1 => user.run(Pss::<Sha1>::new_with_salt(salt_len)),
            HashAlgorithm::Sha224 => user.run(Pss::<Sha224>::new_with_salt(salt_len)),
            HashAlgorithm::Sha256 => user.run(Pss::<Sha256>::new_with_salt(salt_len)),
            HashAlgorithm::Sha384 => user.run(Pss::<Sha384>::new_with_salt(salt_len)),
            HashAlgorithm::Sha512 => user.run(Pss::<Sha512>::new_with_salt(salt_len)),
        },
        _ => return None,
    })
}

/// Largest RSA modulus accepted, in bits.
const MAX_RSA_BITS: usize = 8192;

fn rsa_verify(
    alg: SignatureAlgorithm,
    n: &[u8],
    e: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), SigError> {
    use rsa::{BoxedUint, RsaPublicKey};
    let n = asn1::strip_leading_zeros(n);
    let e = asn1::strip_leading_zeros(e);
    if n.len() * 8 > MAX_RSA_BITS {
        return Err(SigError::BadKey("RSA modulus too large".into()));
    }
    if e.is_empty() || e.len() > 8 {
        return Err(SigError::BadKey("RSA exponent out of range".into()));
    }
    let bits = (n.len() * 8) as u32;
    let nn = BoxedUint::from_be_slice(n, bits).map_err(|_| SigError::BadKey("modulus".into()))?;
    let ee = BoxedUint::from_be_slice(e, 64).map_err(|_| SigError::BadKey("exponent".into()))?;
    let key = RsaPublicKey::new(nn, ee).map_err(|err| SigError::BadKey(err.to_string()))?;
    // RFC 8017 8.1.2 and 8.2.2, step 1: the signature is exactly k octets, k the length of
    // the modulus. Extra leading zeros or a value cut short are refused, not repaired:
    // the signed data must have one encoding only.
    if signature.len() != n.len() {
        return Err(SigError::MalformedSignature);
    }
    struct Verify<'a> {
        key: &'a RsaPublicKey,
        digest: &'a [u8],
        signature: &'a [u8],
    }
    impl RsaSchemeUser for Verify<'_> {
        type Output = rsa::Result<()>;
        fn run<S: rsa::traits::SignatureScheme>(self, scheme: S) -> rsa::Result<()> {
            self.key.verify(scheme, self.digest, self.signature)
        }
    }
    let verify = Verify {
        key: &key,
        digest,
        signature,
    };
    let result =
        with_rsa_scheme(alg, verify).ok_or_else(|| SigError::BadKey("not an RSA scheme".into()))?;
    result.map_err(|_| SigError::BadSignature)
}

/// Splits a DER ECDSA signature `SEQUENCE { r INTEGER, s INTEGER }` into the magnitudes
/// of r and s.
///
/// Strict DER (X.690 section 10) through the `der` crate's reader: definite lengths in
/// their shortest form, INTEGERs in their minimal encoding and not negative, nothing after
/// either INTEGER or after the SEQUENCE. A signature has one encoding only; any other is
/// [`SigError::MalformedSignature`] (the range of r and s is checked on verification).
pub fn parse_ecdsa_der(signature: &[u8]) -> Result<(&[u8], &[u8]), SigError> {
    use ::der::asn1::UintRef;
    use ::der::{Decode, Reader as _, SliceReader};
    let strict = || -> Result<(&[u8], &[u8]), ::der::Error> {
        let mut reader = SliceReader::new(signature)?;
        let (r, s) = reader.sequence(|seq| {
            let r = UintRef::decode(seq)?;
            let s = UintRef::decode(seq)?;
            Ok::<_, ::der::Error>((r.as_bytes(), s.as_bytes()))
        })?;
        reader.finish()?;
        Ok((r, s))
    };
    strict().map_err(|_| SigError::MalformedSignature)
}

/// Splits a plain ECDSA signature (BSI TR-03111 section 5.2.1) into r and s: each exactly
/// the byte length of the curve order, so the signature is exactly twice that long.
pub fn split_plain_signature<'a>(
    curve: &Curve,
    signature: &'a [u8],
) -> Result<(&'a [u8], &'a [u8]), SigError> {
    let half = curve.order_len();
    if half == 0 || signature.len() != 2 * half {
        return Err(SigError::MalformedSignature);
    }
    Ok(signature.split_at(half))
}

/// Encodes r and s as a DER ECDSA signature.
pub fn encode_ecdsa_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    asn1::sequence(&[&asn1::integer(r), &asn1::integer(s)])
}

/// A curve borrowed from the named-curve table or built from explicit parameters.
pub enum CurveRef {
    Named(&'static Curve),
    Built(Box<Curve>),
}

impl std::ops::Deref for CurveRef {
    type Target = Curve;
    fn deref(&self) -> &Curve {
        match self {
            CurveRef::Named(c) => c,
            CurveRef::Built(c) => c,
        }
    }
}

/// The arithmetic for an EC key's domain: named curves by OID, explicit parameters
/// matched to the named curve they describe, else validated and used as they are.
pub fn resolve_curve(domain: &EcDomain) -> Result<CurveRef, SigError> {
    match domain {
        EcDomain::Named(o) => CurveId::from_oid(o)
            .map(|id| CurveRef::Named(id.curve()))
            .ok_or_else(|| SigError::UnsupportedCurve(o.to_string())),
        EcDomain::Explicit(c) => {
            let params = explicit_params(c);
            match CurveId::from_explicit(&params) {
                Some(id) => Ok(CurveRef::Named(id.curve())),
                None => Curve::from_explicit(&params)
                    .map(|c| CurveRef::Built(Box::new(c)))
                    .map_err(|e| SigError::UnsupportedCurve(format!("explicit parameters: {e}"))),
            }
        }
        EcDomain::Inherited => Err(SigError::UnsupportedCurve(
            "implicitlyCA (parameters inherited from the issuer)".into(),
        )),
    }
}

/// ECDSA verification for every curve: the one path all ECDSA signatures take. `r` and
/// `s` are big-endian magnitudes, already split from their encoding.
pub fn ecdsa_verify(
    domain: &EcDomain,
    point: &[u8],
    digest: &[u8],
    r: &[u8],
    s: &[u8],
) -> Result<(), SigError> {
    let curve = resolve_curve(domain)?;
    ecdsa_verify_on(&curve, point, digest, r, s)
}

/// [`ecdsa_verify`] on a curve already resolved.
fn ecdsa_verify_on(
    curve: &Curve,
    point: &[u8],
    digest: &[u8],
    r: &[u8],
    s: &[u8],
) -> Result<(), SigError> {
    let public = curve
        .decode_point(point)
        .map_err(|e| SigError::BadKey(format!("EC point: {e}")))?;
    curve
        .ecdsa_verify(&public, digest, r, s)
        .map_err(|e| match e {
            EcError::BadSignature | EcError::SignatureOutOfRange => SigError::BadSignature,
            other => SigError::BadKey(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::key::{ExplicitCurve, curve_info};
    use apdu::rng::DeterministicRng;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// brainpoolP256t1 (RFC 5639): valid, but not one of the ICAO curves, so explicit
    /// parameters for it take the generic path.
    fn brainpool_p256t1() -> ExplicitCurve {
        ExplicitCurve {
            p: h("A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377"),
            a: h("A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5374"),
            b: h("662C61C430D84EA4FE66A7733D0B76B7BF93EBC4AF2F49256AE58101FEE92B04"),
            generator: h(concat!(
                "04A3E8EB3CC1CFE7B7732213B23A656149AFA142C47AAFBC2B79A191562E1305F4",
                "2D996C823439C56D7F7B22E14644417E69BCB6DE39D027001DABE8F35B25C9BE"
            )),
            order: h("A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7"),
            cofactor: Some(vec![1]),
        }
    }

    #[test]
    fn trust_ecdsa_on_unnamed_explicit_curve() {
        let params = brainpool_p256t1();
        let domain = EcDomain::Explicit(params.clone());
        assert_eq!(curve_info(&domain).name, None);
        let curve = resolve_curve(&domain).unwrap();
        assert!(curve.id().is_none());
        let mut rng = DeterministicRng::new(b"t1", "k");
        let k = curve.random_scalar(&mut rng);
        let point = curve.encode_point(&curve.public_key(&k));
        let key = PublicKey::Ec { domain, point };
        let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        let (r, s) = curve.ecdsa_sign(&k, &HashAlgorithm::Sha256.digest(b"m"), &mut rng);
        let sig = encode_ecdsa_der(&r, &s);
        assert_eq!(verify(alg, &key, b"m", &sig), Ok(()));
        assert_eq!(verify(alg, &key, b"n", &sig), Err(SigError::BadSignature));
        // Broken parameters are unsupported, not a forgery.
        let mut bad = params;
        bad.b[0] ^= 1;
        let key = PublicKey::Ec {
            domain: EcDomain::Explicit(bad),
            point: vec![4; 65],
        };
        assert!(matches!(
            verify(alg, &key, b"m", &sig),
            Err(SigError::UnsupportedCurve(_))
        ));
    }

    #[test]
    fn trust_pss_parameters_are_read_not_guessed() {
        let alg = SignatureAlgorithm::RsaPss {
            hash: HashAlgorithm::Sha384,
            salt_len: 48,
        };
        assert_eq!(
            SignatureAlgorithm::from_identifier(&alg.identifier(), None),
            Ok(alg)
        );
        // Absent parameters mean the RFC 4055 defaults.
        let bare = AlgorithmIdentifier::new(oid::RSASSA_PSS, None);
        assert_eq!(
            SignatureAlgorithm::from_identifier(&bare, None),
            Ok(SignatureAlgorithm::RsaPss {
                hash: HashAlgorithm::Sha1,
                salt_len: 20
            })
        );
        // NULL parameters on ECDSA are tolerated.
        let ecdsa = AlgorithmIdentifier::new(oid::ECDSA_WITH_SHA256, Some(vec![5, 0]));
        assert_eq!(
            SignatureAlgorithm::from_identifier(&ecdsa, None),
            Ok(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256))
        );
    }
}
