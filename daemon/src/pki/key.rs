//! Public keys as certificates carry them (`SubjectPublicKeyInfo`): RSA, and elliptic
//! curves given by name or by explicit parameters, with what is known of each curve.

use super::DerError;
use super::algorithm::AlgorithmIdentifier;
use super::oid::{self, Oid};
use apdu::asn1;
use apdu::ec::{CurveId, ExplicitParams};
use apdu::tlv::Tlv;

/// Explicit prime-field curve parameters (SEC 1 `SpecifiedECDomain`), as big-endian
/// magnitudes (`a`, `b` and the generator as encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplicitCurve {
    pub p: Vec<u8>,
    pub a: Vec<u8>,
    pub b: Vec<u8>,
    pub generator: Vec<u8>,
    pub order: Vec<u8>,
    pub cofactor: Option<Vec<u8>>,
}

impl ExplicitCurve {
    /// Parses `SpecifiedECDomain`.
    pub fn from_der(tlv: &Tlv<'_>) -> Result<Self, DerError> {
        const CTX: &str = "ECParameters";
        if tlv.tag() != asn1::SEQUENCE {
            return Err(DerError::new(CTX, "not a SEQUENCE"));
        }
        let mut r = tlv.reader();
        let _version = r.expect(asn1::INTEGER, CTX)?;
        let field = r.expect(asn1::SEQUENCE, CTX)?;
        let mut fr = field.reader();
        if Oid::from_tlv(&fr.expect(asn1::OBJECT_IDENTIFIER, CTX)?)? != oid::PRIME_FIELD {
            return Err(DerError::new(CTX, "not a prime field"));
        }
        let p = asn1::strip_leading_zeros(fr.expect(asn1::INTEGER, CTX)?.value()).to_vec();
        let curve = r.expect(asn1::SEQUENCE, CTX)?;
        let mut cr = curve.reader();
        let a = cr.expect(asn1::OCTET_STRING, CTX)?.value().to_vec();
        let b = cr.expect(asn1::OCTET_STRING, CTX)?.value().to_vec();
        let generator = r.expect(asn1::OCTET_STRING, CTX)?.value().to_vec();
        let order = asn1::strip_leading_zeros(r.expect(asn1::INTEGER, CTX)?.value()).to_vec();
        let cofactor = r
            .optional(asn1::INTEGER)?
            .map(|c| asn1::strip_leading_zeros(c.value()).to_vec());
        if p.is_empty() || order.is_empty() {
            return Err(DerError::new(CTX, "zero modulus or order"));
        }
        Ok(ExplicitCurve {
            p,
            a,
            b,
            generator,
            order,
            cofactor,
        })
    }

    /// DER encoding (version 1, no seed).
    pub fn to_der(&self) -> Vec<u8> {
        let field = asn1::sequence(&[&oid::PRIME_FIELD.to_der(), &asn1::integer(&self.p)]);
        let curve = asn1::sequence(&[&asn1::octet_string(&self.a), &asn1::octet_string(&self.b)]);
        let mut parts = vec![
            asn1::small_integer_der(1),
            field,
            curve,
            asn1::octet_string(&self.generator),
            asn1::integer(&self.order),
        ];
        if let Some(h) = &self.cofactor {
            parts.push(asn1::integer(h));
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        asn1::sequence(&refs)
    }
}

/// The domain of an elliptic-curve key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcDomain {
    /// A named curve.
    Named(Oid),
    /// Explicit parameters.
    Explicit(ExplicitCurve),
    /// `implicitlyCA` (NULL): the issuer's parameters; not usable on its own.
    Inherited,
}

/// A subject public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA: modulus and public exponent, big-endian magnitudes.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// Elliptic curve: domain and encoded point.
    Ec { domain: EcDomain, point: Vec<u8> },
    /// Anything else: the algorithm OID.
    Other { algorithm: Oid },
}

impl PublicKey {
    /// Parses a `SubjectPublicKeyInfo`.
    pub fn from_spki(tlv: &Tlv<'_>) -> Result<Self, DerError> {
        const CTX: &str = "SubjectPublicKeyInfo";
        if tlv.tag() != asn1::SEQUENCE {
            return Err(DerError::new(CTX, "not a SEQUENCE"));
        }
        let mut r = tlv.reader();
        let alg = AlgorithmIdentifier::from_der(&r.read()?)?;
        let bits =
            asn1::bit_string_bytes(&r.expect(asn1::BIT_STRING, CTX)?).map_err(|e| e.within(CTX))?;
        match alg.oid {
            oid::RSA_ENCRYPTION | oid::RSASSA_PSS => {
                let seq = Tlv::parse_as(bits, asn1::SEQUENCE, "RSAPublicKey")?;
                let mut kr = seq.reader();
                let n = kr.expect(asn1::INTEGER, "RSA modulus")?.value();
                let e = kr.expect(asn1::INTEGER, "RSA exponent")?.value();
                Ok(PublicKey::Rsa {
                    n: asn1::strip_leading_zeros(n).to_vec(),
                    e: asn1::strip_leading_zeros(e).to_vec(),
                })
            }
            oid::EC_PUBLIC_KEY => {
                let params = alg.params.as_deref().unwrap_or(&[0x05, 0x00]);
                let ptlv = Tlv::parse(params).map_err(|e| e.within(CTX))?;
                let domain = match ptlv.tag() {
                    asn1::OBJECT_IDENTIFIER => EcDomain::Named(Oid::from_tlv(&ptlv)?),
                    asn1::SEQUENCE => EcDomain::Explicit(ExplicitCurve::from_der(&ptlv)?),
                    asn1::NULL => EcDomain::Inherited,
                    _ => return Err(DerError::new(CTX, "unknown EC parameters")),
                };
                Ok(PublicKey::Ec {
                    domain,
                    point: bits.to_vec(),
                })
            }
            other => Ok(PublicKey::Other { algorithm: other }),
        }
    }

    /// DER `SubjectPublicKeyInfo`.
    pub fn to_spki(&self) -> Vec<u8> {
        match self {
            PublicKey::Rsa { n, e } => {
                let key = asn1::sequence(&[&asn1::integer(n), &asn1::integer(e)]);
                let alg = AlgorithmIdentifier::new(oid::RSA_ENCRYPTION, Some(vec![0x05, 0x00]));
                asn1::sequence(&[&alg.to_der(), &asn1::bit_string(&key)])
            }
            PublicKey::Ec { domain, point } => {
                let params = match domain {
                    EcDomain::Named(o) => o.to_der(),
                    EcDomain::Explicit(c) => c.to_der(),
                    EcDomain::Inherited => vec![0x05, 0x00],
                };
                let alg = AlgorithmIdentifier::new(oid::EC_PUBLIC_KEY, Some(params));
                asn1::sequence(&[&alg.to_der(), &asn1::bit_string(point)])
            }
            PublicKey::Other { algorithm } => {
                let alg = AlgorithmIdentifier::new(*algorithm, None);
                asn1::sequence(&[&alg.to_der(), &asn1::bit_string(&[])])
            }
        }
    }

    /// Size in bits: the RSA modulus or the curve's field.
    pub fn bits(&self) -> usize {
        let bit_len = |v: &[u8]| {
            let v = asn1::strip_leading_zeros(v);
            match v.first() {
                Some(&top) => v.len() * 8 - top.leading_zeros() as usize,
                None => 0,
            }
        };
        match self {
            PublicKey::Rsa { n, .. } => bit_len(n),
            PublicKey::Ec { domain, .. } => match domain {
                EcDomain::Explicit(c) => bit_len(&c.p),
                EcDomain::Named(o) => named_curve(o).map_or(0, |c| c.bits),
                EcDomain::Inherited => 0,
            },
            PublicKey::Other { .. } => 0,
        }
    }

    /// "RSA", "EC" or the algorithm OID.
    pub fn algorithm(&self) -> String {
        match self {
            PublicKey::Rsa { .. } => "RSA".into(),
            PublicKey::Ec { .. } => "EC".into(),
            PublicKey::Other { algorithm } => oid::name(algorithm),
        }
    }
}

/// A named curve known by OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedCurve {
    /// Conventional name, e.g. `brainpoolP512r1`.
    pub name: &'static str,
    /// Field size in bits.
    pub bits: usize,
}

/// The curve named by an OID.
pub fn named_curve(oid: &Oid) -> Option<NamedCurve> {
    let id = CurveId::from_oid(oid)?;
    Some(NamedCurve {
        name: id.name(),
        bits: id.curve().field_bits() as usize,
    })
}

/// A description of a key's curve: its name, whether given by explicit parameters, and
/// whether those match a named curve.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CurveInfo {
    /// The curve name, or `None` for unknown explicit parameters.
    pub name: Option<String>,
    /// Whether the key carries explicit parameters.
    pub explicit: bool,
}

/// Describes the curve of an EC domain.
pub fn curve_info(domain: &EcDomain) -> CurveInfo {
    match domain {
        EcDomain::Named(o) => CurveInfo {
            name: Some(named_curve(o).map_or_else(|| o.to_string(), |c| c.name.to_string())),
            explicit: false,
        },
        EcDomain::Explicit(c) => CurveInfo {
            name: match_explicit(c).map(str::to_string),
            explicit: true,
        },
        EcDomain::Inherited => CurveInfo {
            name: None,
            explicit: false,
        },
    }
}

/// The named curve with these explicit parameters, if any.
pub fn match_explicit(curve: &ExplicitCurve) -> Option<&'static str> {
    CurveId::from_explicit(&explicit_params(curve)).map(CurveId::name)
}

/// The explicit parameters as the curve arithmetic takes them.
pub fn explicit_params(c: &ExplicitCurve) -> ExplicitParams<'_> {
    ExplicitParams {
        p: &c.p,
        a: &c.a,
        b: &c.b,
        generator: &c.generator,
        order: &c.order,
        cofactor: c.cofactor.as_deref(),
    }
}
