//! CMS `SignedData` (RFC 5652) as used by EF.SOD and CSCA master lists: one or more
//! SignerInfos with signed attributes, certificates embedded, the content encapsulated.

use super::DerError;
use super::algorithm::AlgorithmIdentifier;
use super::ber;
use super::certificate::{Certificate, Name};
use super::oid::{self, Oid};
use super::signature::{self, SigError, SignatureAlgorithm};
use super::time::Time;
use apdu::asn1;
use apdu::hash::HashAlgorithm;
use apdu::tlv::{self, Tag, Tlv};

/// `SignerIdentifier`'s `subjectKeyIdentifier [0] IMPLICIT`.
const SUBJECT_KEY_ID: Tag = asn1::context_primitive(0);

/// Largest CMS structure accepted (a master list is under 1 MiB today).
pub const MAX_SIGNED_DATA_LEN: usize = 16 * 1024 * 1024;
/// Most certificates read from one SignedData.
pub const MAX_CERTIFICATES: usize = 10_000;
/// Most SignerInfos read from one SignedData.
pub const MAX_SIGNERS: usize = 16;

/// How a SignerInfo names its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerId {
    /// Issuer name and serial number (content octets).
    IssuerSerial { issuer: Name, serial: Vec<u8> },
    /// Subject key identifier.
    KeyId(Vec<u8>),
}

impl SignerId {
    /// Whether `cert` is the certificate this identifier names.
    pub fn matches(&self, cert: &Certificate) -> bool {
        match self {
            SignerId::IssuerSerial { issuer, serial } => {
                cert.serial_matches(serial) && cert.issuer.matches(issuer)
            }
            SignerId::KeyId(k) => cert.subject_key_id.as_deref() == Some(k.as_slice()),
        }
    }
}

/// One SignerInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerInfo {
    pub version: u64,
    pub sid: SignerId,
    pub digest_algorithm: AlgorithmIdentifier,
    /// The content octets of the `[0] IMPLICIT SignedAttributes`, if present.
    pub signed_attrs: Option<Vec<u8>>,
    pub signature_algorithm: AlgorithmIdentifier,
    pub signature: Vec<u8>,
}

impl SignerInfo {
    fn from_tlv(tlv: &Tlv<'_>) -> Result<SignerInfo, DerError> {
        const CTX: &str = "SignerInfo";
        let mut r = tlv.reader();
        let version =
            asn1::small_integer(&r.expect(asn1::INTEGER, CTX)?).map_err(|e| e.within(CTX))?;
        let sid_tlv = r.read()?;
        let sid = match sid_tlv.tag() {
            asn1::SEQUENCE => {
                let mut sr = sid_tlv.reader();
                let issuer = Name::from_der(&sr.read()?)?;
                let serial = sr.expect(asn1::INTEGER, CTX)?.value().to_vec();
                SignerId::IssuerSerial { issuer, serial }
            }
            SUBJECT_KEY_ID => SignerId::KeyId(sid_tlv.value().to_vec()),
            _ => return Err(DerError::new(CTX, "unknown signer identifier")),
        };
        let digest_algorithm = AlgorithmIdentifier::from_der(&r.read()?)?;
        let signed_attrs = r.optional(asn1::context(0))?.map(|a| a.value().to_vec());
        let signature_algorithm = AlgorithmIdentifier::from_der(&r.read()?)?;
        let signature = r.expect(asn1::OCTET_STRING, CTX)?.value().to_vec();
        Ok(SignerInfo {
            version,
            sid,
            digest_algorithm,
            signed_attrs,
            signature_algorithm,
            signature,
        })
    }

    /// The values of one signed attribute (the elements of its SET).
    pub fn attribute(&self, attr: &Oid) -> Option<Vec<Vec<u8>>> {
        let attrs = self.signed_attrs.as_deref()?;
        let mut r = tlv::Reader::new(attrs);
        while !r.is_empty() {
            let a = r.expect(asn1::SEQUENCE, "Attribute").ok()?;
            let mut ar = a.reader();
            let id = ar.expect(asn1::OBJECT_IDENTIFIER, "Attribute").ok()?;
            if id.value() == attr.content() {
                let set = ar.expect(asn1::SET, "Attribute").ok()?;
                let mut sr = set.reader();
                let mut values = Vec::new();
                while !sr.is_empty() {
                    values.push(sr.read().ok()?.raw().to_vec());
                }
                return Some(values);
            }
        }
        None
    }

    /// The single OCTET STRING value of the messageDigest attribute.
    pub fn message_digest(&self) -> Option<Vec<u8>> {
        let values = self.attribute(&oid::MESSAGE_DIGEST)?;
        let [only] = values.as_slice() else {
            return None;
        };
        Tlv::parse_as(only, asn1::OCTET_STRING, "messageDigest")
            .ok()
            .map(|t| t.value().to_vec())
    }

    /// The single OID value of the contentType attribute.
    pub fn content_type(&self) -> Option<Oid> {
        let values = self.attribute(&oid::CONTENT_TYPE)?;
        let [only] = values.as_slice() else {
            return None;
        };
        Tlv::parse_as(only, asn1::OBJECT_IDENTIFIER, "contentType")
            .and_then(|t| Oid::from_tlv(&t))
            .ok()
    }

    /// The signingTime attribute, if present and well-formed.
    pub fn signing_time(&self) -> Option<Time> {
        let values = self.attribute(&oid::SIGNING_TIME)?;
        let first = values.first()?;
        let tlv = Tlv::parse(first).ok()?;
        Time::from_der(&tlv).ok()
    }

    /// The digest algorithm.
    pub fn digest_hash(&self) -> Option<HashAlgorithm> {
        HashAlgorithm::from_oid(&self.digest_algorithm.oid)
    }

    /// The bytes the signature covers: the signed attributes re-tagged as a DER SET
    /// (RFC 5652 §5.4), or the content itself when there are none.
    pub fn signed_bytes<'a>(&self, content: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        match &self.signed_attrs {
            Some(attrs) => std::borrow::Cow::Owned(tlv::encode(asn1::SET, attrs)),
            None => std::borrow::Cow::Borrowed(content),
        }
    }
}

/// A parsed SignedData.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedData {
    pub version: u64,
    pub digest_algorithms: Vec<AlgorithmIdentifier>,
    /// eContentType.
    pub content_type: Oid,
    /// The encapsulated content (the octets inside the OCTET STRING).
    pub content: Vec<u8>,
    /// Embedded certificates that parsed.
    pub certificates: Vec<Certificate>,
    /// Embedded certificates that did not parse, with the reason.
    pub certificate_errors: Vec<DerError>,
    /// Embedded CRLs, DER.
    pub crls: Vec<Vec<u8>>,
    pub signer_infos: Vec<SignerInfo>,
}

/// Why a signer does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerError {
    /// The digest algorithm is not supported.
    UnsupportedDigest(String),
    /// messageDigest is missing or malformed.
    MissingMessageDigest,
    /// messageDigest differs from the content's hash.
    MessageDigestMismatch,
    /// contentType is missing or differs from eContentType.
    ContentTypeMismatch,
    /// The signature itself.
    Signature(SigError),
}

impl std::fmt::Display for SignerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignerError::UnsupportedDigest(d) => write!(f, "unsupported digest algorithm {d}"),
            SignerError::MissingMessageDigest => f.write_str("messageDigest attribute missing"),
            SignerError::MessageDigestMismatch => {
                f.write_str("messageDigest does not match the signed content")
            }
            SignerError::ContentTypeMismatch => {
                f.write_str("contentType attribute missing or different from the content's type")
            }
            SignerError::Signature(e) => e.fmt(f),
        }
    }
}

impl SignedData {
    /// Parses a `ContentInfo` holding SignedData, BER (indefinite lengths) tolerated.
    pub fn from_content_info(data: &[u8]) -> Result<SignedData, DerError> {
        const CTX: &str = "ContentInfo";
        if data.len() > MAX_SIGNED_DATA_LEN {
            return Err(DerError::new(CTX, "too large"));
        }
        let owned;
        let data = if needs_ber(data) {
            owned = ber::ber_to_der(data)?;
            owned.as_slice()
        } else {
            data
        };
        let mut outer = tlv::Reader::new(data);
        let ci = outer.expect(asn1::SEQUENCE, CTX)?;
        let mut r = ci.reader();
        if Oid::from_tlv(&r.expect(asn1::OBJECT_IDENTIFIER, CTX)?)? != oid::SIGNED_DATA {
            return Err(DerError::new(CTX, "not SignedData"));
        }
        let explicit = r.expect(asn1::context(0), CTX)?;
        let sd = Tlv::parse_as(explicit.value(), asn1::SEQUENCE, "SignedData")?;
        Self::from_tlv(&sd)
    }

    fn from_tlv(sd: &Tlv<'_>) -> Result<SignedData, DerError> {
        const CTX: &str = "SignedData";
        let mut r = sd.reader();
        let version =
            asn1::small_integer(&r.expect(asn1::INTEGER, CTX)?).map_err(|e| e.within(CTX))?;
        let algs = r.expect(asn1::SET, "digestAlgorithms")?;
        let mut digest_algorithms = Vec::new();
        let mut ar = algs.reader();
        while !ar.is_empty() {
            if digest_algorithms.len() >= 16 {
                return Err(DerError::new(CTX, "too many digest algorithms"));
            }
            digest_algorithms.push(AlgorithmIdentifier::from_der(&ar.read()?)?);
        }
        let eci = r.expect(asn1::SEQUENCE, "encapContentInfo")?;
        let mut er = eci.reader();
        let content_type = Oid::from_tlv(&er.expect(asn1::OBJECT_IDENTIFIER, "eContentType")?)?;
        let content = match er.optional(asn1::context(0))? {
            Some(explicit) => {
                let inner = Tlv::parse(explicit.value()).map_err(|e| e.within("eContent"))?;
                ber::octet_string_value(&inner)?
            }
            None => return Err(DerError::new(CTX, "detached content is not supported")),
        };
        let mut certificates = Vec::new();
        let mut certificate_errors = Vec::new();
        if let Some(certs) = r.optional(asn1::context(0))? {
            let mut cr = certs.reader();
            while !cr.is_empty() {
                if certificates.len() + certificate_errors.len() >= MAX_CERTIFICATES {
                    return Err(DerError::new(CTX, "too many certificates"));
                }
                let c = cr.read()?;
                // Other certificate formats ([0]..[3]) are skipped, not fatal.
                if c.tag() != asn1::SEQUENCE {
                    continue;
                }
                match Certificate::from_tlv(&c) {
                    Ok(cert) => certificates.push(cert),
                    Err(e) => certificate_errors.push(e),
                }
            }
        }
        let mut crls = Vec::new();
        if let Some(list) = r.optional(asn1::context(1))? {
            let mut lr = list.reader();
            while !lr.is_empty() {
                if crls.len() >= MAX_CERTIFICATES {
                    return Err(DerError::new(CTX, "too many CRLs"));
                }
                crls.push(lr.read()?.raw().to_vec());
            }
        }
        let signers = r.expect(asn1::SET, "signerInfos")?;
        let mut signer_infos = Vec::new();
        let mut sr = signers.reader();
        while !sr.is_empty() {
            if signer_infos.len() >= MAX_SIGNERS {
                return Err(DerError::new(CTX, "too many signers"));
            }
            signer_infos.push(SignerInfo::from_tlv(
                &sr.expect(asn1::SEQUENCE, "SignerInfo")?,
            )?);
        }
        Ok(SignedData {
            version,
            digest_algorithms,
            content_type,
            content,
            certificates,
            certificate_errors,
            crls,
            signer_infos,
        })
    }

    /// The embedded certificate a signer names.
    pub fn find_certificate(&self, signer: &SignerInfo) -> Option<&Certificate> {
        self.certificates.iter().find(|c| signer.sid.matches(c))
    }

    /// Checks a signer's signed attributes against the content and its signature with
    /// `cert`'s key.
    pub fn verify_signer(
        &self,
        signer: &SignerInfo,
        cert: &Certificate,
    ) -> Result<(), SignerError> {
        let hash = signer
            .digest_hash()
            .ok_or_else(|| SignerError::UnsupportedDigest(signer.digest_algorithm.name()))?;
        if signer.signed_attrs.is_some() {
            let md = signer
                .message_digest()
                .ok_or(SignerError::MissingMessageDigest)?;
            if md != hash.digest(&self.content) {
                return Err(SignerError::MessageDigestMismatch);
            }
            if signer.content_type().as_ref() != Some(&self.content_type) {
                return Err(SignerError::ContentTypeMismatch);
            }
        }
        let alg = SignatureAlgorithm::from_identifier(&signer.signature_algorithm, Some(hash))
            .map_err(SignerError::Signature)?;
        let message = signer.signed_bytes(&self.content);
        signature::verify(alg, &cert.public_key, &message, &signer.signature)
            .map_err(SignerError::Signature)
    }
}

/// Whether the encoding uses an indefinite length anywhere on the path to the content
/// (cheap check: the outer headers).
fn needs_ber(data: &[u8]) -> bool {
    // Outer SEQUENCE, or the [0] after the OID, or the SignedData SEQUENCE.
    let mut r = tlv::Reader::new(data);
    match r.read() {
        Ok(ci) => {
            let mut inner = ci.reader();
            let _ = inner.read();
            match inner.read() {
                Ok(explicit) => Tlv::parse(explicit.value())
                    .ok()
                    .and_then(|sd| {
                        let mut sr = sd.reader();
                        while !sr.is_empty() {
                            sr.read().ok()?;
                        }
                        Some(())
                    })
                    .is_none(),
                Err(_) => true,
            }
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_fails_cleanly() {
        assert!(SignedData::from_content_info(&[]).is_err());
        assert!(SignedData::from_content_info(&[0x30, 0x80, 0, 0]).is_err());
        assert!(SignedData::from_content_info(&[0x30, 0x03, 0x06, 0x01, 0x00]).is_err());
    }
}
