//! Issuing: private keys, certificates, CRLs and CMS SignedData, for the test PKI in
//! `fixtures/pki` and for the card simulator, which signs EF.SODs for the card
//! profiles it is given at run time.
//!
//! Nothing here is meant for a real PKI: keys live in memory and in plain PEM files.
//! Given the same [`DeterministicRng`] seed, every output is byte-for-byte reproducible.

use crate::lds::sod::{LdsSecurityObject, LdsVersionInfo, Sod};
use crate::pki::DerError;
use crate::pki::algorithm::AlgorithmIdentifier;
use crate::pki::certificate::{Certificate, Name};
use crate::pki::crl::Crl;
use crate::pki::key::{EcDomain, ExplicitCurve, PublicKey};
use crate::pki::oid::{self, Oid};
use crate::pki::pem;
use crate::pki::signature::{self, SignatureAlgorithm};
use crate::pki::time::Time;
use apdu::asn1;
use apdu::ec::CurveId;
use apdu::hash::HashAlgorithm;
use apdu::rng::DeterministicRng;
use apdu::tlv::{self, Tlv};
use std::collections::BTreeMap;
use std::fmt;
use zeroize::Zeroizing;

/// Why something could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("key generation or signing failed: {0}")]
    Crypto(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("malformed key: {0}")]
    BadKey(String),
    #[error(transparent)]
    Der(#[from] DerError),
}

impl From<apdu::Error> for IssueError {
    fn from(e: apdu::Error) -> Self {
        IssueError::Der(e.into())
    }
}

/// A signing key.
#[derive(Clone)]
pub enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    /// An elliptic-curve key: its domain (named or explicit) and the private scalar.
    Ec {
        domain: EcDomain,
        scalar: Zeroizing<Vec<u8>>,
    },
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivateKey::Rsa(_) => f.write_str("PrivateKey::Rsa([redacted])"),
            PrivateKey::Ec { .. } => f.write_str("PrivateKey::Ec([redacted])"),
        }
    }
}

/// The explicit parameters of a named curve (as ICAO CSCAs encode their keys).
pub fn explicit_curve(id: CurveId) -> ExplicitCurve {
    let c = id.curve();
    let field = c.field_len();
    let pad = |v: Vec<u8>| {
        let v = asn1::strip_leading_zeros(&v).to_vec();
        let mut out = vec![0u8; field.saturating_sub(v.len())];
        out.extend_from_slice(&v);
        out
    };
    ExplicitCurve {
        p: c.p(),
        a: pad(c.a()),
        b: pad(c.b()),
        generator: c.encode_point(&c.generator()),
        order: c.order(),
        cofactor: Some(vec![1]),
    }
}

impl PrivateKey {
    /// A new RSA key.
    pub fn generate_rsa(rng: &mut DeterministicRng, bits: usize) -> Result<PrivateKey, IssueError> {
        let key =
            rsa::RsaPrivateKey::new(rng, bits).map_err(|e| IssueError::Crypto(e.to_string()))?;
        Ok(PrivateKey::Rsa(Box::new(key)))
    }

    /// A new EC key on `curve`, with explicit parameters when `explicit`.
    pub fn generate_ec(rng: &mut DeterministicRng, curve: CurveId, explicit: bool) -> PrivateKey {
        let k = curve.curve().random_scalar(rng);
        let domain = if explicit {
            EcDomain::Explicit(explicit_curve(curve))
        } else {
            EcDomain::Named(curve.oid())
        };
        PrivateKey::Ec {
            domain,
            scalar: Zeroizing::new(k.to_bytes().to_vec()),
        }
    }

    /// The public half.
    pub fn public_key(&self) -> Result<PublicKey, IssueError> {
        match self {
            PrivateKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                Ok(PublicKey::Rsa {
                    n: k.n().to_be_bytes().to_vec(),
                    e: k.e().to_be_bytes().to_vec(),
                })
            }
            PrivateKey::Ec { domain, scalar } => {
                let curve = signature::resolve_curve(domain)
                    .map_err(|e| IssueError::Unsupported(e.to_string()))?;
                let k = curve
                    .scalar_from_bytes(scalar)
                    .map_err(|e| IssueError::BadKey(e.to_string()))?;
                Ok(PublicKey::Ec {
                    domain: domain.clone(),
                    point: curve.encode_point(&curve.public_key(&k)),
                })
            }
        }
    }

    /// Signs `message` (hashing it with the scheme's hash).
    pub fn sign(
        &self,
        alg: SignatureAlgorithm,
        message: &[u8],
        rng: &mut DeterministicRng,
    ) -> Result<Vec<u8>, IssueError> {
        let digest = alg.hash().digest(message);
        let crypto = |e: rsa::Error| IssueError::Crypto(e.to_string());
        match (self, alg) {
            (PrivateKey::Rsa(key), alg) => {
                struct Sign<'a> {
                    key: &'a rsa::RsaPrivateKey,
                    rng: &'a mut DeterministicRng,
                    digest: &'a [u8],
                }
                impl signature::RsaSchemeUser for Sign<'_> {
                    type Output = rsa::Result<Vec<u8>>;
                    fn run<S: rsa::traits::SignatureScheme>(self, scheme: S) -> Self::Output {
                        self.key.sign_with_rng(self.rng, scheme, self.digest)
                    }
                }
                let sign = Sign {
                    key,
                    rng,
                    digest: &digest,
                };
                signature::with_rsa_scheme(alg, sign)
                    .ok_or_else(|| {
                        IssueError::Unsupported(format!("this key cannot sign with {alg}"))
                    })?
                    .map_err(crypto)
            }
            (
                PrivateKey::Ec { domain, scalar },
                SignatureAlgorithm::Ecdsa(_) | SignatureAlgorithm::EcdsaPlain(_),
            ) => {
                let curve = signature::resolve_curve(domain)
                    .map_err(|e| IssueError::Unsupported(e.to_string()))?;
                let k = curve
                    .scalar_from_bytes(scalar)
                    .map_err(|e| IssueError::BadKey(e.to_string()))?;
                let (r, s) = curve.ecdsa_sign(&k, &digest, rng);
                Ok(if matches!(alg, SignatureAlgorithm::Ecdsa(_)) {
                    signature::encode_ecdsa_der(&r, &s)
                } else {
                    [r, s].concat()
                })
            }
            _ => Err(IssueError::Unsupported(format!(
                "this key cannot sign with {alg}"
            ))),
        }
    }

    /// PEM: PKCS#1 `RSA PRIVATE KEY` or RFC 5915 `EC PRIVATE KEY` (with the curve's
    /// parameters, named or explicit).
    pub fn to_pem(&self) -> Result<String, IssueError> {
        match self {
            PrivateKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                let doc = k
                    .to_pkcs1_der()
                    .map_err(|e| IssueError::Crypto(e.to_string()))?;
                Ok(pem::encode("RSA PRIVATE KEY", doc.as_bytes()))
            }
            PrivateKey::Ec { domain, scalar } => {
                let public = self.public_key()?;
                let PublicKey::Ec { point, .. } = public else {
                    return Err(IssueError::BadKey("not an EC key".into()));
                };
                let params = match domain {
                    EcDomain::Named(o) => o.to_der(),
                    EcDomain::Explicit(c) => c.to_der(),
                    EcDomain::Inherited => return Err(IssueError::BadKey("no curve".into())),
                };
                let body = Zeroizing::new(asn1::sequence(&[
                    &asn1::small_integer_der(1),
                    &asn1::octet_string(scalar),
                    &tlv::encode(asn1::context(0), &params),
                    &tlv::encode(asn1::context(1), &asn1::bit_string(&point)),
                ]));
                Ok(pem::encode("EC PRIVATE KEY", &body))
            }
        }
    }

    /// Reads a key written by [`PrivateKey::to_pem`].
    pub fn from_pem(text: &[u8]) -> Result<PrivateKey, IssueError> {
        for (label, block) in pem::decode_all(text) {
            let Ok(bytes) = block else { continue };
            let bytes = Zeroizing::new(bytes);
            match label.as_str() {
                "RSA PRIVATE KEY" => {
                    use rsa::pkcs1::DecodeRsaPrivateKey;
                    let k = rsa::RsaPrivateKey::from_pkcs1_der(&bytes)
                        .map_err(|e| IssueError::BadKey(e.to_string()))?;
                    return Ok(PrivateKey::Rsa(Box::new(k)));
                }
                "PRIVATE KEY" => return PrivateKey::from_pkcs8(&bytes),
                "EC PRIVATE KEY" => {
                    let seq = Tlv::parse_as(&bytes, asn1::SEQUENCE, "ECPrivateKey")?;
                    let mut r = seq.reader();
                    let _version = r.expect(asn1::INTEGER, "ECPrivateKey")?;
                    let scalar = Zeroizing::new(
                        r.expect(asn1::OCTET_STRING, "ECPrivateKey")?
                            .value()
                            .to_vec(),
                    );
                    let params = r.expect(asn1::context(0), "ECPrivateKey parameters")?;
                    let p = Tlv::parse(params.value()).map_err(|e| e.within("ECParameters"))?;
                    let domain = match p.tag() {
                        asn1::OBJECT_IDENTIFIER => EcDomain::Named(Oid::from_tlv(&p)?),
                        asn1::SEQUENCE => EcDomain::Explicit(ExplicitCurve::from_der(&p)?),
                        _ => return Err(IssueError::BadKey("unknown EC parameters".into())),
                    };
                    return Ok(PrivateKey::Ec { domain, scalar });
                }
                _ => {}
            }
        }
        Err(IssueError::BadKey(
            "no RSA or EC private key in the PEM".into(),
        ))
    }
}

impl PrivateKey {
    /// A PKCS#8 PrivateKeyInfo: RSA, or EC on named or explicit parameters (the BSI
    /// reference data set's chip keys are PKCS#8 on explicit brainpoolP224r1).
    pub fn from_pkcs8(der_bytes: &[u8]) -> Result<PrivateKey, IssueError> {
        let seq = Tlv::parse_as(der_bytes, asn1::SEQUENCE, "PrivateKeyInfo")?;
        let mut r = seq.reader();
        let _version = r.expect(asn1::INTEGER, "PrivateKeyInfo version")?;
        let algorithm = r.expect(asn1::SEQUENCE, "PrivateKeyInfo algorithm")?;
        let mut a = algorithm.reader();
        let algorithm =
            Oid::from_tlv(&a.expect(asn1::OBJECT_IDENTIFIER, "PrivateKeyInfo algorithm")?)?;
        let key = r.expect(asn1::OCTET_STRING, "PrivateKeyInfo privateKey")?;
        match algorithm {
            oid::RSA_ENCRYPTION => {
                use rsa::pkcs8::DecodePrivateKey;
                let k = rsa::RsaPrivateKey::from_pkcs8_der(der_bytes)
                    .map_err(|e| IssueError::BadKey(e.to_string()))?;
                Ok(PrivateKey::Rsa(Box::new(k)))
            }
            oid::EC_PUBLIC_KEY => {
                let p = a.read()?;
                let domain = match p.tag() {
                    asn1::OBJECT_IDENTIFIER => EcDomain::Named(Oid::from_tlv(&p)?),
                    asn1::SEQUENCE => EcDomain::Explicit(ExplicitCurve::from_der(&p)?),
                    _ => return Err(IssueError::BadKey("unknown EC parameters".into())),
                };
                let inner = Tlv::parse_as(key.value(), asn1::SEQUENCE, "ECPrivateKey")?;
                let mut k = inner.reader();
                let _version = k.expect(asn1::INTEGER, "ECPrivateKey")?;
                let scalar = Zeroizing::new(
                    k.expect(asn1::OCTET_STRING, "ECPrivateKey")?
                        .value()
                        .to_vec(),
                );
                Ok(PrivateKey::Ec { domain, scalar })
            }
            _ => Err(IssueError::BadKey(format!(
                "unsupported PKCS#8 key algorithm {algorithm}"
            ))),
        }
    }
}

/// What goes into a certificate.
#[derive(Debug, Clone)]
pub struct CertificateTemplate {
    /// Serial number magnitude (positive).
    pub serial: Vec<u8>,
    pub subject: Name,
    pub not_before: Time,
    pub not_after: Time,
    pub public_key: PublicKey,
    /// CA (CSCA, link) or end-entity (DS) certificate.
    pub ca: bool,
}

/// The subject key identifier used for issued certificates: SHA-1 of the public key
/// bits (RFC 5280 §4.2.1.2 method 1).
pub fn key_identifier(public_key: &PublicKey) -> Vec<u8> {
    let spki = public_key.to_spki();
    let bits = Tlv::parse_as(&spki, asn1::SEQUENCE, "spki")
        .ok()
        .and_then(|s| {
            let mut r = s.reader();
            r.read().ok()?;
            r.read()
                .ok()
                .map(|b| b.value().get(1..).unwrap_or(&[]).to_vec())
        })
        .unwrap_or_default();
    HashAlgorithm::Sha1.digest(&bits)
}

/// Issues a certificate signed by `issuer_key`; `issuer` is the issuing certificate,
/// or `None` for a self-signed one.
pub fn issue_certificate(
    template: &CertificateTemplate,
    issuer: Option<&Certificate>,
    issuer_key: &PrivateKey,
    alg: SignatureAlgorithm,
    rng: &mut DeterministicRng,
) -> Result<Certificate, IssueError> {
    let ski = key_identifier(&template.public_key);
    let (issuer_name, aki) = match issuer {
        Some(c) => (
            c.subject.der.clone(),
            c.subject_key_id
                .clone()
                .unwrap_or_else(|| key_identifier(&c.public_key)),
        ),
        None => (template.subject.der.clone(), ski.clone()),
    };
    let ext = |id: Oid, critical: bool, value: &[u8]| {
        let mut parts = vec![id.to_der()];
        if critical {
            parts.push(tlv::encode(asn1::BOOLEAN, &[0xff]));
        }
        parts.push(asn1::octet_string(value));
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        asn1::sequence(&refs)
    };
    let key_usage = if template.ca {
        // keyCertSign, cRLSign
        tlv::encode(asn1::BIT_STRING, &[0x01, 0x06])
    } else {
        // digitalSignature
        tlv::encode(asn1::BIT_STRING, &[0x07, 0x80])
    };
    let mut exts = vec![
        ext(
            oid::EXT_AUTHORITY_KEY_ID,
            false,
            &asn1::sequence(&[&tlv::encode(asn1::context_primitive(0), &aki)]),
        ),
        ext(oid::EXT_SUBJECT_KEY_ID, false, &asn1::octet_string(&ski)),
        ext(oid::EXT_KEY_USAGE, true, &key_usage),
    ];
    if template.ca {
        let bc = asn1::sequence(&[
            &tlv::encode(asn1::BOOLEAN, &[0xff]),
            &asn1::small_integer_der(0),
        ]);
        exts.push(ext(oid::EXT_BASIC_CONSTRAINTS, true, &bc));
    }
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    let sig_alg = alg.identifier().to_der();
    let tbs = asn1::sequence(&[
        &tlv::encode(asn1::context(0), &asn1::small_integer_der(2)),
        &asn1::integer(&template.serial),
        &sig_alg,
        &issuer_name,
        &asn1::sequence(&[&template.not_before.to_der(), &template.not_after.to_der()]),
        &template.subject.der,
        &template.public_key.to_spki(),
        &tlv::encode(asn1::context(3), &asn1::sequence(&ext_refs)),
    ]);
    let signature = issuer_key.sign(alg, &tbs, rng)?;
    let cert = asn1::sequence(&[&tbs, &sig_alg, &asn1::bit_string(&signature)]);
    Ok(Certificate::from_der(&cert)?)
}

/// Issues a CRL listing `revoked` (serial magnitude, revocation time).
pub fn issue_crl(
    issuer: &Certificate,
    issuer_key: &PrivateKey,
    alg: SignatureAlgorithm,
    this_update: Time,
    next_update: Time,
    revoked: &[(Vec<u8>, Time)],
    rng: &mut DeterministicRng,
) -> Result<Crl, IssueError> {
    let entries: Vec<Vec<u8>> = revoked
        .iter()
        .map(|(serial, at)| asn1::sequence(&[&asn1::integer(serial), &at.to_der()]))
        .collect();
    let entry_refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let aki = issuer
        .subject_key_id
        .clone()
        .unwrap_or_else(|| key_identifier(&issuer.public_key));
    let aki_ext = asn1::sequence(&[
        &oid::EXT_AUTHORITY_KEY_ID.to_der(),
        &asn1::octet_string(&asn1::sequence(&[&tlv::encode(
            asn1::context_primitive(0),
            &aki,
        )])),
    ]);
    const CRL_NUMBER: Oid = Oid::new("2.5.29.20");
    let number_ext = asn1::sequence(&[
        &CRL_NUMBER.to_der(),
        &asn1::octet_string(&asn1::small_integer_der(1)),
    ]);
    let sig_alg = alg.identifier().to_der();
    let mut parts = vec![
        asn1::small_integer_der(1),
        sig_alg.clone(),
        issuer.subject.der.clone(),
        this_update.to_der(),
        next_update.to_der(),
    ];
    if !entries.is_empty() {
        parts.push(asn1::sequence(&entry_refs));
    }
    parts.push(tlv::encode(
        asn1::context(0),
        &asn1::sequence(&[&aki_ext, &number_ext]),
    ));
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    let tbs = asn1::sequence(&refs);
    let signature = issuer_key.sign(alg, &tbs, rng)?;
    let crl = asn1::sequence(&[&tbs, &sig_alg, &asn1::bit_string(&signature)]);
    Ok(Crl::from_der(&crl)?)
}

/// Signs `content` as a CMS SignedData `ContentInfo` with signed attributes
/// (contentType, messageDigest and, when given, signingTime), identifying the signer by
/// issuer and serial number, and embedding `certificates`.
#[allow(clippy::too_many_arguments)]
pub fn sign_signed_data(
    content_type: Oid,
    content: &[u8],
    signer: &Certificate,
    key: &PrivateKey,
    digest: HashAlgorithm,
    alg: SignatureAlgorithm,
    certificates: &[&Certificate],
    signing_time: Option<Time>,
    rng: &mut DeterministicRng,
) -> Result<Vec<u8>, IssueError> {
    let digest_alg = AlgorithmIdentifier::new(digest.oid(), None).to_der();
    let attr = |id: Oid, value: &[u8]| asn1::sequence(&[&id.to_der(), &asn1::set_of(&[value])]);
    let mut attrs = vec![
        attr(oid::CONTENT_TYPE, &content_type.to_der()),
        attr(
            oid::MESSAGE_DIGEST,
            &asn1::octet_string(&digest.digest(content)),
        ),
    ];
    if let Some(t) = signing_time {
        attrs.push(attr(oid::SIGNING_TIME, &t.to_der()));
    }
    let attr_refs: Vec<&[u8]> = attrs.iter().map(Vec::as_slice).collect();
    let signed_set = asn1::set_of(&attr_refs);
    let signature = key.sign(alg, &signed_set, rng)?;
    let signed_attrs_value = signed_set
        .get(signed_set.len() - der_value_len(&signed_set)..)
        .unwrap_or(&[])
        .to_vec();
    let signer_info = asn1::sequence(&[
        &asn1::small_integer_der(1),
        &asn1::sequence(&[
            &signer.issuer.der,
            &tlv::encode(asn1::INTEGER, &signer.serial),
        ]),
        &digest_alg,
        &tlv::encode(asn1::context(0), &signed_attrs_value),
        &alg.identifier().to_der(),
        &asn1::octet_string(&signature),
    ]);
    let cert_ders: Vec<&[u8]> = certificates.iter().map(|c| c.der.as_slice()).collect();
    let mut sd_parts = vec![
        asn1::small_integer_der(3),
        asn1::set_of(&[&digest_alg]),
        asn1::sequence(&[
            &content_type.to_der(),
            &tlv::encode(asn1::context(0), &asn1::octet_string(content)),
        ]),
    ];
    if !cert_ders.is_empty() {
        sd_parts.push(asn1::constructed(asn1::context(0), &cert_ders));
    }
    sd_parts.push(asn1::set_of(&[&signer_info]));
    let refs: Vec<&[u8]> = sd_parts.iter().map(Vec::as_slice).collect();
    let signed_data = asn1::sequence(&refs);
    Ok(asn1::sequence(&[
        &oid::SIGNED_DATA.to_der(),
        &tlv::encode(asn1::context(0), &signed_data),
    ]))
}

fn der_value_len(encoded: &[u8]) -> usize {
    tlv::Reader::new(encoded)
        .read()
        .map(|t| t.value().len())
        .unwrap_or(0)
}

/// How to sign an EF.SOD.
#[derive(Debug, Clone)]
pub struct SodOptions {
    /// Hash of the data groups and of the CMS digest.
    pub hash: HashAlgorithm,
    /// The SOD signature scheme.
    pub signature: SignatureAlgorithm,
    /// LDS v1.8 and later: `Some` gives an LDSSecurityObject v1.
    pub version_info: Option<LdsVersionInfo>,
    /// Further certificates to embed after the DS (e.g. a link certificate).
    pub extra_certificates: Vec<Certificate>,
}

/// Signs an EF.SOD (with its `77` tag) over `data_groups` (number → file bytes).
pub fn issue_sod(
    data_groups: &BTreeMap<u8, Vec<u8>>,
    ds: &Certificate,
    ds_key: &PrivateKey,
    options: &SodOptions,
    rng: &mut DeterministicRng,
) -> Result<Vec<u8>, IssueError> {
    let lso = LdsSecurityObject::new(options.hash, data_groups, options.version_info.clone());
    let mut certs = vec![ds];
    certs.extend(options.extra_certificates.iter());
    let ci = sign_signed_data(
        oid::LDS_SECURITY_OBJECT,
        &lso.to_der(),
        ds,
        ds_key,
        options.hash,
        options.signature,
        &certs,
        None,
        rng,
    )?;
    Ok(Sod::wrap(&ci))
}

/// Signs an EF.CardSecurity: a CMS SignedData `ContentInfo` (no `77` wrapper) whose
/// content, of type id-SecurityObject, is the DER `SecurityInfos` given (for PACE-CAM:
/// the PACEInfo, ChipAuthenticationInfo and ChipAuthenticationPublicKeyInfo). Signed by
/// the document signer like the EF.SOD; `options.version_info` is not used.
pub fn issue_card_security(
    security_infos: &[u8],
    ds: &Certificate,
    ds_key: &PrivateKey,
    options: &SodOptions,
    rng: &mut DeterministicRng,
) -> Result<Vec<u8>, IssueError> {
    let mut certs = vec![ds];
    certs.extend(options.extra_certificates.iter());
    sign_signed_data(
        oid::ID_SECURITY_OBJECT,
        security_infos,
        ds,
        ds_key,
        options.hash,
        options.signature,
        &certs,
        None,
        rng,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::signature::{SigError, parse_ecdsa_der, verify};

    #[test]
    fn deterministic_rng_is_reproducible() {
        use rand_core::Rng;
        let mut a = DeterministicRng::new(b"seed", "x");
        let mut b = DeterministicRng::new(b"seed", "x");
        let mut c = DeterministicRng::new(b"seed", "y");
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(a.next_u64(), c.next_u64());
    }

    #[test]
    fn ec_keys_round_trip_and_sign() {
        let mut rng = DeterministicRng::new(b"t", "k");
        for (curve, explicit) in [(CurveId::P256, false), (CurveId::BrainpoolP256r1, true)] {
            let key = PrivateKey::generate_ec(&mut rng, curve, explicit);
            let pem = key.to_pem().unwrap();
            let back = PrivateKey::from_pem(pem.as_bytes()).unwrap();
            let public = back.public_key().unwrap();
            assert_eq!(public, key.public_key().unwrap());
            let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
            let sig = back.sign(alg, b"msg", &mut rng).unwrap();
            signature::verify(alg, &public, b"msg", &sig).unwrap();
            assert_eq!(
                signature::verify(alg, &public, b"msh", &sig),
                Err(signature::SigError::BadSignature)
            );
        }
    }

    /// Each lenient encoding of one signature: the strict parser refuses all of them and
    /// verification calls them malformed, while the canonical one verifies.
    #[test]
    fn trust_ecdsa_der_signature_must_be_canonical() {
        let mut rng = DeterministicRng::new(b"der", "k");
        let key = crate::sim::issue::PrivateKey::generate_ec(
            &mut rng,
            apdu::ec::CurveId::BrainpoolP256r1,
            false,
        );
        let public = key.public_key().unwrap();
        let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        let sig = key.sign(alg, b"m", &mut rng).unwrap();
        assert_eq!(verify(alg, &public, b"m", &sig), Ok(()));
        let (r, s) = parse_ecdsa_der(&sig).unwrap();
        let int = |v: &[u8]| asn1::integer(v);
        let seq = |body: &[u8]| tlv::encode(asn1::SEQUENCE, body);
        let (ri, si) = (int(r), int(s));
        let body = [ri.clone(), si.clone()].concat();
        // An INTEGER with one more leading zero than it needs.
        let padded = |v: &[u8]| {
            let mut content = vec![0u8];
            content.extend_from_slice(&int(v)[2..]);
            tlv::encode(asn1::INTEGER, &content)
        };
        // Long-form length where the short form fits, and a length with a leading zero.
        let long_form = |t: u8, v: &[u8]| [&[t, 0x81, v.len() as u8][..], v].concat();
        let zero_len = |t: u8, v: &[u8]| [&[t, 0x82, 0x00, v.len() as u8][..], v].concat();
        let lenient: Vec<(&str, Vec<u8>)> = vec![
            ("sequence length in long form", long_form(0x30, &body)),
            ("sequence length with a leading zero", zero_len(0x30, &body)),
            (
                "r length in long form",
                seq(&[long_form(0x02, &ri[2..]), si.clone()].concat()),
            ),
            (
                "s length with a leading zero",
                seq(&[ri.clone(), zero_len(0x02, &si[2..])].concat()),
            ),
            (
                "r with an extra leading zero",
                seq(&[padded(r), si.clone()].concat()),
            ),
            (
                "s with an extra leading zero",
                seq(&[ri.clone(), padded(s)].concat()),
            ),
            (
                "indefinite length",
                [&[0x30, 0x80][..], &body, &[0, 0]].concat(),
            ),
            ("data after the sequence", [sig.clone(), vec![0]].concat()),
            ("data after s", seq(&[body.clone(), vec![5, 0]].concat())),
            ("r missing", seq(&si)),
            ("r negative", seq(&[vec![2, 1, 0x80], si.clone()].concat())),
            ("r empty", seq(&[vec![2, 0], si.clone()].concat())),
            ("set instead of sequence", tlv::encode(asn1::SET, &body)),
        ];
        for (what, bad) in lenient {
            assert_eq!(
                parse_ecdsa_der(&bad),
                Err(SigError::MalformedSignature),
                "{what}"
            );
            assert_eq!(
                verify(alg, &public, b"m", &bad),
                Err(SigError::MalformedSignature),
                "{what}"
            );
        }
        // r = 0 is well-formed DER, and out of range.
        let zero = seq(&[vec![2, 1, 0], si].concat());
        assert_eq!(parse_ecdsa_der(&zero).map(|(r, _)| r.to_vec()), Ok(vec![0]));
        assert_eq!(
            verify(alg, &public, b"m", &zero),
            Err(SigError::BadSignature)
        );
    }

    /// A plain signature is exactly twice the order length; an RSA signature exactly the
    /// modulus length. Padding or trimming either is refused, not repaired.
    #[test]
    fn trust_signature_lengths_are_exact() {
        let mut rng = DeterministicRng::new(b"lengths", "k");
        // brainpoolP320r1: 40-byte r and s on a generic-engine curve.
        let ec = crate::sim::issue::PrivateKey::generate_ec(
            &mut rng,
            apdu::ec::CurveId::BrainpoolP320r1,
            true,
        );
        let ec_public = ec.public_key().unwrap();
        let plain = SignatureAlgorithm::EcdsaPlain(HashAlgorithm::Sha384);
        let sig = ec.sign(plain, b"m", &mut rng).unwrap();
        assert_eq!(sig.len(), 80);
        assert_eq!(verify(plain, &ec_public, b"m", &sig), Ok(()));
        let (r, s) = sig.split_at(40);
        let one_zero_each = [&[0][..], r, &[0], s].concat();
        let zero_in_front = [&[0, 0][..], &sig].concat();
        for bad in [
            one_zero_each.as_slice(),
            zero_in_front.as_slice(),
            &sig[..78],
            &sig[1..],
            &[],
        ] {
            assert_eq!(
                verify(plain, &ec_public, b"m", bad),
                Err(SigError::MalformedSignature),
                "plain signature of {} bytes",
                bad.len()
            );
        }

        let rsa = crate::sim::issue::PrivateKey::generate_rsa(&mut rng, 1024).unwrap();
        let rsa_public = rsa.public_key().unwrap();
        for alg in [
            SignatureAlgorithm::RsaPkcs1v15(HashAlgorithm::Sha256),
            SignatureAlgorithm::RsaPss {
                hash: HashAlgorithm::Sha256,
                salt_len: 32,
            },
        ] {
            let sig = rsa.sign(alg, b"m", &mut rng).unwrap();
            assert_eq!(sig.len(), 128);
            assert_eq!(verify(alg, &rsa_public, b"m", &sig), Ok(()));
            let longer = [&[0][..], &sig].concat();
            assert_eq!(
                verify(alg, &rsa_public, b"m", &longer),
                Err(SigError::MalformedSignature),
                "{alg}: a leading zero added"
            );
            assert_eq!(
                verify(alg, &rsa_public, b"m", &sig[1..]),
                Err(SigError::MalformedSignature),
                "{alg}: one octet short"
            );
        }
    }
}
