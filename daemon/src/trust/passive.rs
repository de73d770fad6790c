//! Passive authentication (ICAO 9303 part 11 §5.1, BSI TR-03135 inspection procedure):
//! the data groups' hashes against EF.SOD, the SOD's CMS signature with the document
//! signer (DS) certificate, the DS certificate's chain to a trusted CSCA (through link
//! certificates when needed), every certificate of that chain checked (validity,
//! basic constraints, key usage, revocation, inner and outer signature algorithm), and
//! the CSCA bound to the document's issuing state. The result is
//! `verification.passive` of the result JSON. [`verify_card_security`] applies the
//! same signature, chain and country checks to EF.CardSecurity.
//!
//! # Statuses
//! - `invalid`: something was checked and found wrong — proof of tampering or of a
//!   withdrawn signer (any problem marked *invalid* below).
//! - `no-trust-anchor`: nothing was found wrong, but the signature could not be traced
//!   to a trusted CSCA of the document's issuing state, or could not be checked at all
//!   (problems marked *unverified*).
//! - `valid`: hashes, signature and chain all verify, and the chain ends at a CSCA of
//!   the issuing state; *warnings* may remain.
//!
//! # Problems
//! The table lists every [`ProblemCode`], in the enum's order (a unit test holds the two
//! together). The `sod-*` signature codes and the certificate codes also describe
//! EF.CardSecurity's SignedData when [`verify_card_security`] reports them.
//!
//! | code | effect | meaning |
//! |---|---|---|
//! | `sod-malformed` | invalid | EF.SOD is not a well-formed SignedData over an LDSSecurityObject |
//! | `sod-signer-count` | invalid | the SignedData does not have exactly one SignerInfo |
//! | `dg-hash-mismatch` | invalid | a data group read differs from its hash in the SOD |
//! | `sod-message-digest-mismatch` | invalid | the signed messageDigest is not the hash of the encapsulated content |
//! | `sod-content-type-mismatch` | invalid | the signed contentType is missing or not the content's type |
//! | `sod-signature-invalid` | invalid | the DS key does not verify the SignedData's signature |
//! | `ds-certificate-signature-invalid` | invalid | the CSCA named by the DS certificate's key identifier does not verify it |
//! | `ds-not-yet-valid` | invalid | the DS certificate's validity starts after the verification time |
//! | `ds-revoked` | invalid | a CRL signed by the DS certificate's issuer lists it |
//! | `certificate-not-yet-valid` | invalid | an intermediate (link) certificate of the chain is not yet valid |
//! | `certificate-revoked` | invalid | a CRL signed by an intermediate certificate's issuer lists it |
//! | `issuer-not-ca` | invalid | a certificate that issued another one in the chain (intermediate or CSCA) does not assert basicConstraints cA=TRUE (a v1/v2 CSCA, which cannot carry extensions, is exempt) |
//! | `key-usage-invalid` | invalid | an issuer's keyUsage lacks keyCertSign, or the DS's lacks digitalSignature; an absent keyUsage restricts nothing (RFC 5280 §4.2.1.3) |
//! | `signature-algorithm-mismatch` | invalid | a certificate's tbsCertificate.signature differs from its outer signatureAlgorithm (absent and NULL parameters are equal) |
//! | `path-length-exceeded` | invalid | an issuer's basicConstraints pathLenConstraint allows fewer non-self-issued intermediate CA certificates below it than the chain has (RFC 5280 §4.2.1.9; self-issued link certificates do not count) |
//! | `unknown-critical-extension` | invalid | a certificate of the chain marks critical an extension this reader does not understand (RFC 5280 §4.2; [`UNDERSTOOD_EXTENSIONS`] lists the ones it does) |
//! | `certificate-outside-issuer-validity` | invalid | a certificate's validity begins outside its issuer's validity: the issuer's key signed it before it was certified or after it retired (see *Validity model*) |
//! | `signing-time-outside-validity` | invalid | the signingTime signed attribute lies outside the DS certificate's validity or its privateKeyUsagePeriod, or does not decode (see *Validity model*) |
//! | `card-security-malformed` | invalid | EF.CardSecurity is not a SignedData over id-SecurityObject whose content is a SET of SecurityInfos |
//! | `sod-unsupported-algorithm` | unverified | a hash, signature algorithm or curve the reader cannot check |
//! | `ds-certificate-missing` | unverified | the DS certificate is neither embedded nor in the trust store |
//! | `csca-not-found` | unverified | no trusted CSCA (or link certificate) issued the DS certificate |
//! | `csca-country-mismatch` | unverified | the CSCA the chain ends at is not of the document's issuing state (by its subject's C, or by an operator's vouch) |
//! | `issuing-state-unknown` | unverified | verification was not given the document's issuing state, so the CSCA cannot be bound to it |
//! | `unsigned-data-group` | unverified | EF.COM lists a data group EF.SOD does not hash: the chip carries data nobody signed (a grafted data group), so the chip as a whole cannot be vouched for |
//! | `dg-unreadable` | unverified | a data group EF.SOD hashes that the read needs was not given by the chip (an error status word, or an answer that is no file): what it holds cannot be vouched for |
//! | `dg-not-in-sod` | warning | a data group was read that the SOD does not cover: its status is `not-in-sod` and its content is not authenticated (the BSI TR-03105-5 set has such a DG15); callers must use only groups marked `ok` |
//! | `ds-expired` | warning | the DS certificate has expired; a DS signs only for a few months but its documents stay valid for 10 years or more, so an expired DS is expected on genuine older documents |
//! | `intermediate-expired` | warning | an intermediate (link) certificate has expired, for the same reason as `ds-expired` |
//! | `csca-expired` | warning | the CSCA certificate has expired at verification time |
//! | `csca-not-yet-valid` | warning | the CSCA certificate is not yet valid at verification time |
//! | `crl-signature-invalid` | warning | a CRL claiming a chain certificate's issuer does not verify; it was ignored |
//! | `crl-outdated` | warning | the CRL used is past its nextUpdate |
//! | `sod-signer-info` | warning | the SignerInfo has no signed attributes (ICAO requires them) |
//! | `ef-com-mismatch` | warning | EF.COM's list of data groups disagrees with the data groups EF.SOD hashes (the SOD decides) |
//! | `dg-undecodable` | warning | a data group whose hash matched does not decode |
//!
//! # Validity model
//! Expiry is no forgery: a document stays valid for ten years or more while its DS
//! key signs for a few months (ICAO Doc 9303-12, key management: a key's certificate
//! stays valid for its private key usage period plus the validity of everything the
//! key signed), so an expired DS, intermediate or CSCA is a warning. What a retired
//! key signs afterwards is not: the chain model (validity judged at the time each
//! signature was made) is checked as far as the signed data dates it.
//! - Every certificate's validity must begin within its issuer's validity (subject
//!   notBefore in issuer notBefore..=notAfter), for the DS and every intermediate:
//!   the issuer's key cannot have certified it earlier, and may not later.
//! - When the SignerInfo carries the signingTime signed attribute (RFC 5652 §11.3),
//!   it must lie within the DS certificate's validity and, when the DS certificate
//!   has the privateKeyUsagePeriod extension (2.5.29.16, which ICAO 9303-12 profiles
//!   for DS certificates), within that period. A signingTime or a period that does not
//!   decode fails the check. Without signingTime, the signing moment is unknown and
//!   only the expiry warning remains.
//!
//! # Path length and critical extensions
//! - basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9, §6.1.4 (l), (m)) is
//!   enforced on every issuer, the CSCA included: it bounds the non-self-issued
//!   intermediate CA certificates between it and the DS. ICAO CSCAs carry 0 (512 of
//!   551 in the German master list, 9 carry 1, 30 none), so an intermediate carried
//!   on the card is accepted only when it is a self-issued link certificate.
//! - A certificate of the chain with a critical extension this reader does not
//!   understand is rejected (RFC 5280 §4.2). In the German master list and the BSI
//!   data set only keyUsage and basicConstraints are ever critical.
//!
//! # Chain rules
//! - Trust anchors are the certificates of the [`TrustStore`] (CSCAs and the link
//!   certificates master lists carry); intermediates are the other certificates
//!   embedded in the SignedData (link certificates).
//! - Every certificate that issues another (intermediates and the anchor) must assert
//!   cA=TRUE. In the German master list of 2024-12-19, 542 of 551 CSCA certificates do;
//!   the 9 that do not (2 without the extension, 7 with cA false or an empty
//!   basicConstraints) are all link certificates whose key is also listed in a
//!   self-signed CSCA certificate with cA=TRUE, so a chain through that twin exists.
//! - keyUsage, when present, must allow keyCertSign on issuers (550 of 551 in that
//!   master list; 1, China's, has no keyUsage) and digitalSignature on the DS.
//! - Inner and outer signature algorithms agree in all 551.
//! - When several candidate chains exist (several certificates with the issuer's name
//!   or key identifier, or one key certified twice), every chain whose signatures
//!   verify is a real path: the least severe one is reported (no problem, then
//!   warnings, then unverified, then invalid). A signature that verifies under a
//!   certificate that may not issue is not skipped as "not found": if no better path
//!   exists, the structural failure makes the chain invalid.

use super::country;
use super::store::TrustStore;
use crate::lds::sod::Sod;
use crate::pki::DerError;
use crate::pki::certificate::{Certificate, KeyUsage};
use crate::pki::cms::{SignedData, SignerError, SignerId};
use crate::pki::crl::Crl;
use crate::pki::key::{self, EcDomain, PublicKey};
use crate::pki::oid;
use crate::pki::signature::{self, SignatureAlgorithm};
use crate::pki::time::Time;
use apdu::asn1;
use apdu::tlv::Tlv;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PassiveStatus {
    Valid,
    Invalid,
    NoTrustAnchor,
}

/// One data group's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataGroupStatus {
    /// Read, and its hash matches the SOD.
    Ok,
    /// Read, and its hash differs.
    Mismatch,
    /// In the SOD but not read.
    NotRead,
    /// Read, but the SOD has no hash for it.
    NotInSod,
    /// Read, but the SOD could not be used to check it.
    Unchecked,
}

/// Revocation status of the chain: `revoked` when a CRL lists the DS or an
/// intermediate certificate, `good` when a verified CRL of the DS's issuer was checked
/// and nothing is revoked, `not-checked` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrlStatus {
    Good,
    Revoked,
    NotChecked,
}

/// The outcome of the SignedData's own signature with the DS key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    Valid,
    /// The signature, or a signed attribute it covers, is wrong.
    Invalid,
    /// A digest or signature algorithm the reader cannot check.
    Unsupported,
    /// Not checked: no DS certificate, or the SignedData could not be parsed.
    NotChecked,
}

impl SignatureStatus {
    /// The wire name, e.g. `not-checked` (the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Valid => "valid",
            SignatureStatus::Invalid => "invalid",
            SignatureStatus::Unsupported => "unsupported",
            SignatureStatus::NotChecked => "not-checked",
        }
    }
}

impl fmt::Display for SignatureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a problem affects the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    Invalid,
    Unverified,
    Warning,
}

impl Effect {
    /// Higher is worse: warning 1, unverified 2, invalid 3.
    fn severity(self) -> u8 {
        match self {
            Effect::Warning => 1,
            Effect::Unverified => 2,
            Effect::Invalid => 3,
        }
    }
}

/// What was found: the machine-readable code of a [`Problem`]. The module table lists
/// them all, in this order, with their meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemCode {
    SodMalformed,
    SodSignerCount,
    DgHashMismatch,
    SodMessageDigestMismatch,
    SodContentTypeMismatch,
    SodSignatureInvalid,
    DsCertificateSignatureInvalid,
    DsNotYetValid,
    DsRevoked,
    CertificateNotYetValid,
    CertificateRevoked,
    IssuerNotCa,
    KeyUsageInvalid,
    SignatureAlgorithmMismatch,
    PathLengthExceeded,
    UnknownCriticalExtension,
    CertificateOutsideIssuerValidity,
    SigningTimeOutsideValidity,
    CardSecurityMalformed,
    SodUnsupportedAlgorithm,
    DsCertificateMissing,
    CscaNotFound,
    CscaCountryMismatch,
    IssuingStateUnknown,
    UnsignedDataGroup,
    DgUnreadable,
    DgNotInSod,
    DsExpired,
    IntermediateExpired,
    CscaExpired,
    CscaNotYetValid,
    CrlSignatureInvalid,
    CrlOutdated,
    SodSignerInfo,
    EfComMismatch,
    DgUndecodable,
}

impl ProblemCode {
    /// Every code, in declaration (and module table) order.
    pub const ALL: &[ProblemCode] = &[
        ProblemCode::SodMalformed,
        ProblemCode::SodSignerCount,
        ProblemCode::DgHashMismatch,
        ProblemCode::SodMessageDigestMismatch,
        ProblemCode::SodContentTypeMismatch,
        ProblemCode::SodSignatureInvalid,
        ProblemCode::DsCertificateSignatureInvalid,
        ProblemCode::DsNotYetValid,
        ProblemCode::DsRevoked,
        ProblemCode::CertificateNotYetValid,
        ProblemCode::CertificateRevoked,
        ProblemCode::IssuerNotCa,
        ProblemCode::KeyUsageInvalid,
        ProblemCode::SignatureAlgorithmMismatch,
        ProblemCode::PathLengthExceeded,
        ProblemCode::UnknownCriticalExtension,
        ProblemCode::CertificateOutsideIssuerValidity,
        ProblemCode::SigningTimeOutsideValidity,
        ProblemCode::CardSecurityMalformed,
        ProblemCode::SodUnsupportedAlgorithm,
        ProblemCode::DsCertificateMissing,
        ProblemCode::CscaNotFound,
        ProblemCode::CscaCountryMismatch,
        ProblemCode::IssuingStateUnknown,
        ProblemCode::UnsignedDataGroup,
        ProblemCode::DgUnreadable,
        ProblemCode::DgNotInSod,
        ProblemCode::DsExpired,
        ProblemCode::IntermediateExpired,
        ProblemCode::CscaExpired,
        ProblemCode::CscaNotYetValid,
        ProblemCode::CrlSignatureInvalid,
        ProblemCode::CrlOutdated,
        ProblemCode::SodSignerInfo,
        ProblemCode::EfComMismatch,
        ProblemCode::DgUndecodable,
    ];

    /// How the code affects the status. Exhaustive on purpose: a new code must be
    /// given an effect here, never one by default.
    pub fn effect(self) -> Effect {
        use ProblemCode as P;
        match self {
            P::SodMalformed
            | P::SodSignerCount
            | P::DgHashMismatch
            | P::SodMessageDigestMismatch
            | P::SodContentTypeMismatch
            | P::SodSignatureInvalid
            | P::DsCertificateSignatureInvalid
            | P::DsNotYetValid
            | P::DsRevoked
            | P::CertificateNotYetValid
            | P::CertificateRevoked
            | P::IssuerNotCa
            | P::KeyUsageInvalid
            | P::SignatureAlgorithmMismatch
            | P::PathLengthExceeded
            | P::UnknownCriticalExtension
            | P::CertificateOutsideIssuerValidity
            | P::SigningTimeOutsideValidity
            | P::CardSecurityMalformed => Effect::Invalid,
            P::SodUnsupportedAlgorithm
            | P::DsCertificateMissing
            | P::CscaNotFound
            | P::CscaCountryMismatch
            | P::IssuingStateUnknown
            | P::UnsignedDataGroup
            | P::DgUnreadable => Effect::Unverified,
            P::DgNotInSod
            | P::DsExpired
            | P::IntermediateExpired
            | P::CscaExpired
            | P::CscaNotYetValid
            | P::CrlSignatureInvalid
            | P::CrlOutdated
            | P::SodSignerInfo
            | P::EfComMismatch
            | P::DgUndecodable => Effect::Warning,
        }
    }

    /// The wire name, e.g. `csca-not-found` (the serde form).
    pub fn as_str(self) -> &'static str {
        use ProblemCode as P;
        match self {
            P::SodMalformed => "sod-malformed",
            P::SodSignerCount => "sod-signer-count",
            P::DgHashMismatch => "dg-hash-mismatch",
            P::SodMessageDigestMismatch => "sod-message-digest-mismatch",
            P::SodContentTypeMismatch => "sod-content-type-mismatch",
            P::SodSignatureInvalid => "sod-signature-invalid",
            P::DsCertificateSignatureInvalid => "ds-certificate-signature-invalid",
            P::DsNotYetValid => "ds-not-yet-valid",
            P::DsRevoked => "ds-revoked",
            P::CertificateNotYetValid => "certificate-not-yet-valid",
            P::CertificateRevoked => "certificate-revoked",
            P::IssuerNotCa => "issuer-not-ca",
            P::KeyUsageInvalid => "key-usage-invalid",
            P::SignatureAlgorithmMismatch => "signature-algorithm-mismatch",
            P::PathLengthExceeded => "path-length-exceeded",
            P::UnknownCriticalExtension => "unknown-critical-extension",
            P::CertificateOutsideIssuerValidity => "certificate-outside-issuer-validity",
            P::SigningTimeOutsideValidity => "signing-time-outside-validity",
            P::CardSecurityMalformed => "card-security-malformed",
            P::SodUnsupportedAlgorithm => "sod-unsupported-algorithm",
            P::DsCertificateMissing => "ds-certificate-missing",
            P::CscaNotFound => "csca-not-found",
            P::CscaCountryMismatch => "csca-country-mismatch",
            P::IssuingStateUnknown => "issuing-state-unknown",
            P::UnsignedDataGroup => "unsigned-data-group",
            P::DgUnreadable => "dg-unreadable",
            P::DgNotInSod => "dg-not-in-sod",
            P::DsExpired => "ds-expired",
            P::IntermediateExpired => "intermediate-expired",
            P::CscaExpired => "csca-expired",
            P::CscaNotYetValid => "csca-not-yet-valid",
            P::CrlSignatureInvalid => "crl-signature-invalid",
            P::CrlOutdated => "crl-outdated",
            P::SodSignerInfo => "sod-signer-info",
            P::EfComMismatch => "ef-com-mismatch",
            P::DgUndecodable => "dg-undecodable",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A finding, machine-readable `code` plus a message for people (authority
/// certificates may be named; personal data never is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: ProblemCode,
    pub message: String,
}

impl Problem {
    /// A problem with its message.
    pub fn new(code: ProblemCode, message: impl Into<String>) -> Problem {
        Problem {
            code,
            message: message.into(),
        }
    }
}

/// The status a list of problems leads to.
pub fn status_of(problems: &[Problem]) -> PassiveStatus {
    let worst = problems
        .iter()
        .map(|p| p.code.effect().severity())
        .max()
        .unwrap_or(0);
    if worst >= Effect::Invalid.severity() {
        PassiveStatus::Invalid
    } else if worst >= Effect::Unverified.severity() {
        PassiveStatus::NoTrustAnchor
    } else {
        PassiveStatus::Valid
    }
}

/// Data group statuses, serialised as `{"DG1": …, "DG2": …}` in numeric order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataGroups(pub BTreeMap<u8, DataGroupStatus>);

impl Serialize for DataGroups {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (n, status) in &self.0 {
            map.serialize_entry(&format!("DG{n}"), status)?;
        }
        map.end()
    }
}

/// The inverse of the serialization (a result read back from a daemon's answer).
impl<'de> Deserialize<'de> for DataGroups {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let named = BTreeMap::<String, DataGroupStatus>::deserialize(d)?;
        let mut groups = DataGroups::default();
        for (name, status) in named {
            let number = name
                .strip_prefix("DG")
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| (1..=16).contains(n))
                .ok_or_else(|| D::Error::custom(format!("not a data group: {name:?}")))?;
            groups.0.insert(number, status);
        }
        Ok(groups)
    }
}

/// What a certificate is, for results and listings (no personal data: these are
/// authorities' certificates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub country: Option<String>,
    pub serial: String,
    pub not_before: Time,
    pub not_after: Time,
    /// `RSA`, `EC` or an OID.
    pub key_algorithm: String,
    pub key_bits: usize,
    /// EC keys: the curve's name, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    /// EC keys: whether the key carries explicit curve parameters.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub explicit_parameters: bool,
    pub signature_algorithm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_key_id: Option<String>,
}

impl CertificateSummary {
    /// Summarises a certificate.
    pub fn of(cert: &Certificate) -> CertificateSummary {
        let (curve, explicit) = match &cert.public_key {
            PublicKey::Ec { domain, .. } => {
                let info = key::curve_info(domain);
                let name = match (info.name, domain) {
                    (Some(n), _) => Some(n),
                    (None, EcDomain::Explicit(_)) => Some("unnamed explicit curve".to_string()),
                    (None, _) => Some("implicitlyCA".to_string()),
                };
                (name, info.explicit)
            }
            _ => (None, false),
        };
        CertificateSummary {
            subject: cert.subject.to_string(),
            issuer: cert.issuer.to_string(),
            country: cert.subject.country(),
            serial: cert.serial_hex(),
            not_before: cert.not_before,
            not_after: cert.not_after,
            key_algorithm: cert.public_key.algorithm(),
            key_bits: cert.public_key.bits(),
            curve,
            explicit_parameters: explicit,
            signature_algorithm: SignatureAlgorithm::from_identifier(
                &cert.signature_algorithm,
                None,
            )
            .map(|a| a.to_string())
            .unwrap_or_else(|_| cert.signature_algorithm.name()),
            subject_key_id: cert.subject_key_id.as_ref().map(hex::encode_upper),
        }
    }
}

/// The `verification.passive` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassiveResult {
    pub status: PassiveStatus,
    pub data_groups: DataGroups,
    /// The DS certificate, when found.
    pub signer: Option<CertificateSummary>,
    /// The trusted CSCA (or link certificate) the DS chains to.
    pub csca: Option<CertificateSummary>,
    /// Intermediate certificates between DS and trust anchor (link certificates taken
    /// from the SOD), subjects only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
    pub crl: CrlStatus,
    /// Data group hash algorithm, e.g. `SHA-256`.
    pub hash_algorithm: Option<String>,
    /// The SOD signature scheme.
    pub signature_algorithm: Option<String>,
    /// The SOD's own signature with the DS key.
    pub sod_signature: SignatureStatus,
    /// LDSSecurityObject version (0 or 1) and v1's version info.
    pub lds_version: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lds_version_info: Option<crate::lds::sod::LdsVersionInfo>,
    pub problems: Vec<Problem>,
}

impl PassiveResult {
    fn problem(&mut self, code: ProblemCode, message: impl Into<String>) {
        self.problems.push(Problem::new(code, message));
    }

    /// Adds a finding the reading pipeline made about the LDS (EF.COM against EF.SOD, a
    /// data group that does not decode), with the status it leads to.
    pub fn add_problem(&mut self, code: ProblemCode, message: impl Into<String>) {
        self.problem(code, message);
        self.status = status_of(&self.problems);
    }

    /// Compares EF.COM's list of data groups with the ones EF.SOD hashes. EF.COM is not
    /// signed: it only gives the chip away when it disagrees. A data group it lists that
    /// EF.SOD does not hash was grafted (`unsigned-data-group`); one EF.SOD hashes that
    /// it leaves out was hidden (`ef-com-mismatch`).
    pub fn compare_ef_com(&mut self, signed: &BTreeSet<u8>, listed: &BTreeSet<u8>) {
        let names = |groups: BTreeSet<&u8>| {
            let names: Vec<String> = groups.iter().map(|n| format!("DG{n}")).collect();
            names.join(" ")
        };
        let unsigned: BTreeSet<&u8> = listed.difference(signed).collect();
        let unlisted: BTreeSet<&u8> = signed.difference(listed).collect();
        if !unsigned.is_empty() {
            self.add_problem(
                ProblemCode::UnsignedDataGroup,
                format!("EF.COM lists {} that EF.SOD does not hash", names(unsigned)),
            );
        }
        if !unlisted.is_empty() {
            self.add_problem(
                ProblemCode::EfComMismatch,
                format!(
                    "EF.SOD hashes {} that EF.COM does not list",
                    names(unlisted)
                ),
            );
        }
    }

    /// Checks a data group read after the others were verified (the face, read last so
    /// that the verified name comes first) against the same EF.SOD, as [`verify`] checks
    /// the others; the signature and chain were checked once, with them.
    pub fn add_data_group(&mut self, sod: Result<&Sod, &DerError>, n: u8, bytes: &[u8]) {
        match sod {
            Ok(sod) => check_hash(sod, n, Some(bytes), self),
            // `verify` reported the malformed EF.SOD already.
            Err(_) => {
                self.data_groups.0.insert(n, DataGroupStatus::Unchecked);
            }
        }
        self.status = status_of(&self.problems);
    }

    fn resolve(mut self) -> PassiveResult {
        self.status = status_of(&self.problems);
        self
    }
}

/// Runs passive authentication of `sod` (EF.SOD bytes) over the data groups read
/// (number → file bytes), against `store`, at time `at`.
///
/// `issuing_state` is the issuing-state code of the document's MRZ (DG1) with fillers
/// stripped (`VNM`, `D`, `UTO`): the CSCA the chain ends at must belong to it (see
/// [`country`]). The caller takes it from DG1, whose own hash is checked here: a DG1
/// that does not match its hash makes the result `invalid` anyway. `None` (the state
/// is not known) can never give `valid`: it adds `issuing-state-unknown`.
pub fn verify(
    sod: &[u8],
    data_groups: &BTreeMap<u8, Vec<u8>>,
    store: &TrustStore,
    at: Time,
    issuing_state: Option<&str>,
) -> PassiveResult {
    verify_sod(
        Sod::from_bytes(sod).as_ref(),
        data_groups,
        store,
        at,
        issuing_state,
    )
}

/// [`verify`] of an EF.SOD the caller has decoded already (a read decodes it once, to
/// learn which data groups are signed), or the error decoding it gave.
pub fn verify_sod(
    sod: Result<&Sod, &DerError>,
    data_groups: &BTreeMap<u8, Vec<u8>>,
    store: &TrustStore,
    at: Time,
    issuing_state: Option<&str>,
) -> PassiveResult {
    let mut result = PassiveResult {
        status: PassiveStatus::Invalid,
        data_groups: DataGroups(
            data_groups
                .keys()
                .map(|&n| (n, DataGroupStatus::Unchecked))
                .collect(),
        ),
        signer: None,
        csca: None,
        chain: Vec::new(),
        crl: CrlStatus::NotChecked,
        hash_algorithm: None,
        signature_algorithm: None,
        sod_signature: SignatureStatus::NotChecked,
        lds_version: None,
        lds_version_info: None,
        problems: Vec::new(),
    };
    let sod = match sod {
        Ok(s) => s,
        Err(e) => {
            result.problem(ProblemCode::SodMalformed, format!("EF.SOD: {e}"));
            return result.resolve();
        }
    };
    result.lds_version = Some(sod.lds.version);
    result.lds_version_info = sod.lds.version_info.clone();

    check_hashes(sod, data_groups, &mut result);
    let signed = check_signed_data(
        &sod.signed_data,
        SignedObject::Sod,
        store,
        at,
        issuing_state,
    );
    result.signer = signed.signer;
    result.csca = signed.csca;
    result.chain = signed.chain;
    result.crl = signed.crl;
    result.signature_algorithm = signed.signature_algorithm;
    result.sod_signature = signed.signature;
    result.problems.extend(signed.problems);
    result.resolve()
}

fn check_hashes(sod: &Sod, data_groups: &BTreeMap<u8, Vec<u8>>, result: &mut PassiveResult) {
    let Some(hash) = sod.lds.hash() else {
        result.problem(
            ProblemCode::SodUnsupportedAlgorithm,
            format!(
                "data group hash algorithm {} is not supported",
                sod.lds.hash_algorithm.name()
            ),
        );
        return;
    };
    result.hash_algorithm = Some(hash.name().to_string());
    for &n in sod.lds.hashes.keys() {
        check_hash(sod, n, data_groups.get(&n).map(Vec::as_slice), result);
    }
    for (&n, bytes) in data_groups {
        if !sod.lds.hashes.contains_key(&n) {
            check_hash(sod, n, Some(bytes), result);
        }
    }
}

/// One data group against its hash in EF.SOD (`None`: not read).
fn check_hash(sod: &Sod, n: u8, bytes: Option<&[u8]>, result: &mut PassiveResult) {
    let status = match (sod.lds.hashes.get(&n), sod.lds.hash(), bytes) {
        (None, _, None) => return,
        (None, _, Some(_)) => {
            result.problem(
                ProblemCode::DgNotInSod,
                format!("DG{n} was read but EF.SOD has no hash for it"),
            );
            DataGroupStatus::NotInSod
        }
        (Some(_), _, None) => DataGroupStatus::NotRead,
        // The unsupported algorithm is reported once, by `check_hashes`.
        (Some(_), None, Some(_)) => DataGroupStatus::Unchecked,
        (Some(expected), Some(hash), Some(bytes)) if hash.digest(bytes) == *expected => {
            DataGroupStatus::Ok
        }
        (Some(_), Some(hash), Some(_)) => {
            result.problem(
                ProblemCode::DgHashMismatch,
                format!("DG{n} does not match its {} hash in EF.SOD", hash.name()),
            );
            DataGroupStatus::Mismatch
        }
    };
    result.data_groups.0.insert(n, status);
}

/// Largest EF.CardSecurity accepted (real ones are 1–4 KiB).
pub const MAX_CARD_SECURITY_LEN: usize = 64 * 1024;

/// The outcome of [`verify_card_security`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSecurityResult {
    pub status: PassiveStatus,
    pub problems: Vec<Problem>,
    /// The signed `SecurityInfos` (DER SET), present whenever the SignedData's own
    /// signature verified with the DS key, whatever the chain: the caller decides on
    /// `status` whether to rely on it.
    #[serde(skip)]
    pub security_infos: Option<Vec<u8>>,
}

/// Verifies EF.CardSecurity (ICAO 9303-11 §9.2, BSI TR-03110): a bare CMS ContentInfo
/// holding SignedData over id-SecurityObject, whose content is the chip's
/// `SecurityInfos`; signature, chain and issuing state as for EF.SOD.
pub fn verify_card_security(
    bytes: &[u8],
    store: &TrustStore,
    at: Time,
    issuing_state: Option<&str>,
) -> CardSecurityResult {
    let malformed = |message: String| CardSecurityResult {
        status: PassiveStatus::Invalid,
        problems: vec![Problem::new(ProblemCode::CardSecurityMalformed, message)],
        security_infos: None,
    };
    if bytes.len() > MAX_CARD_SECURITY_LEN {
        return malformed(format!(
            "EF.CardSecurity is {} bytes, more than the {MAX_CARD_SECURITY_LEN} accepted",
            bytes.len()
        ));
    }
    let sd = match SignedData::from_content_info(bytes) {
        Ok(sd) => sd,
        Err(e) => return malformed(format!("EF.CardSecurity: {e}")),
    };
    if sd.content_type != oid::ID_SECURITY_OBJECT {
        return malformed(format!(
            "EF.CardSecurity's content type is {}, not id-SecurityObject",
            oid::name(&sd.content_type)
        ));
    }
    if Tlv::parse_as(&sd.content, asn1::SET, "SecurityInfos").is_err() {
        return malformed("EF.CardSecurity's content is not a DER SET of SecurityInfos".into());
    }
    let signed = check_signed_data(&sd, SignedObject::CardSecurity, store, at, issuing_state);
    let security_infos = (signed.signature == SignatureStatus::Valid).then(|| sd.content.clone());
    CardSecurityResult {
        status: status_of(&signed.problems),
        problems: signed.problems,
        security_infos,
    }
}

/// Which signed object is checked: names it in messages and picks its codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignedObject {
    Sod,
    CardSecurity,
}

impl SignedObject {
    fn file(self) -> &'static str {
        match self {
            SignedObject::Sod => "EF.SOD",
            SignedObject::CardSecurity => "EF.CardSecurity",
        }
    }

    fn content(self) -> &'static str {
        match self {
            SignedObject::Sod => "LDSSecurityObject",
            SignedObject::CardSecurity => "SecurityInfos",
        }
    }

    /// The code for a structurally wrong SignedData.
    fn malformed(self) -> ProblemCode {
        match self {
            SignedObject::Sod => ProblemCode::SodMalformed,
            SignedObject::CardSecurity => ProblemCode::CardSecurityMalformed,
        }
    }

    fn signer_count(self) -> ProblemCode {
        match self {
            SignedObject::Sod => ProblemCode::SodSignerCount,
            SignedObject::CardSecurity => ProblemCode::CardSecurityMalformed,
        }
    }
}

/// What the signature, chain and country checks of one SignedData found.
struct SignedCheck {
    signer: Option<CertificateSummary>,
    csca: Option<CertificateSummary>,
    chain: Vec<String>,
    crl: CrlStatus,
    signature_algorithm: Option<String>,
    signature: SignatureStatus,
    problems: Vec<Problem>,
}

/// The SignedData's signature with its DS certificate, the DS certificate itself, its
/// chain to a trust anchor, and the anchor against the issuing state.
fn check_signed_data(
    sd: &SignedData,
    object: SignedObject,
    store: &TrustStore,
    at: Time,
    issuing_state: Option<&str>,
) -> SignedCheck {
    let mut out = SignedCheck {
        signer: None,
        csca: None,
        chain: Vec::new(),
        crl: CrlStatus::NotChecked,
        signature_algorithm: None,
        signature: SignatureStatus::NotChecked,
        problems: Vec::new(),
    };
    let file = object.file();
    let problem = |out: &mut SignedCheck, code, message: String| {
        out.problems.push(Problem::new(code, message));
    };
    let [signer] = sd.signer_infos.as_slice() else {
        problem(
            &mut out,
            object.signer_count(),
            format!(
                "{file} has {} SignerInfos, expected one",
                sd.signer_infos.len()
            ),
        );
        return out;
    };
    if signer.signed_attrs.is_none() {
        problem(
            &mut out,
            ProblemCode::SodSignerInfo,
            format!("the SignerInfo of {file} has no signed attributes"),
        );
    }
    let hash = signer.digest_hash();
    out.signature_algorithm = Some(
        match SignatureAlgorithm::from_identifier(&signer.signature_algorithm, hash) {
            Ok(a) => a.to_string(),
            Err(_) => signer.signature_algorithm.name(),
        },
    );

    let ds = sd
        .find_certificate(signer)
        .or_else(|| store.certificates().iter().find(|c| signer.sid.matches(c)));
    let Some(ds) = ds else {
        let who = match &signer.sid {
            SignerId::IssuerSerial { issuer, serial } => format!(
                "issuer {issuer}, serial {}",
                crate::pki::certificate::serial_to_hex(serial)
            ),
            SignerId::KeyId(k) => format!("key identifier {}", hex::encode_upper(k)),
        };
        problem(
            &mut out,
            ProblemCode::DsCertificateMissing,
            format!(
                "the document signer certificate ({who}) is not in {file} nor in the trust store"
            ),
        );
        return out;
    };
    out.signer = Some(CertificateSummary::of(ds));

    let outcome = sd.verify_signer(signer, ds);
    out.signature = match &outcome {
        Ok(()) => SignatureStatus::Valid,
        Err(SignerError::UnsupportedDigest(_)) => SignatureStatus::Unsupported,
        Err(SignerError::Signature(e)) if !e.is_forgery() => SignatureStatus::Unsupported,
        Err(_) => SignatureStatus::Invalid,
    };
    let content = object.content();
    match outcome {
        Ok(()) => {}
        Err(SignerError::MessageDigestMismatch) => problem(
            &mut out,
            ProblemCode::SodMessageDigestMismatch,
            format!("the signed messageDigest of {file} is not the hash of its {content}"),
        ),
        Err(SignerError::ContentTypeMismatch) => problem(
            &mut out,
            ProblemCode::SodContentTypeMismatch,
            format!("the signed contentType attribute of {file} does not name its {content}"),
        ),
        Err(SignerError::MissingMessageDigest) => problem(
            &mut out,
            object.malformed(),
            format!("the signed attributes of {file} have no single messageDigest"),
        ),
        Err(SignerError::UnsupportedDigest(d)) => problem(
            &mut out,
            ProblemCode::SodUnsupportedAlgorithm,
            format!("{file} digest algorithm {d} is not supported"),
        ),
        Err(SignerError::Signature(e)) if e.is_forgery() => problem(
            &mut out,
            ProblemCode::SodSignatureInvalid,
            format!("{file} signature: {e}"),
        ),
        Err(SignerError::Signature(e)) => problem(
            &mut out,
            ProblemCode::SodUnsupportedAlgorithm,
            format!("{file} signature: {e}"),
        ),
    }

    // The DS certificate on its own.
    if at < ds.not_before {
        problem(
            &mut out,
            ProblemCode::DsNotYetValid,
            format!(
                "the DS certificate {} is valid only from {}",
                ds.subject, ds.not_before
            ),
        );
    } else if at > ds.not_after {
        problem(
            &mut out,
            ProblemCode::DsExpired,
            format!(
                "the DS certificate {} expired on {}",
                ds.subject, ds.not_after
            ),
        );
    }
    if ds
        .key_usage
        .is_some_and(|k| !k.allows(KeyUsage::DIGITAL_SIGNATURE))
    {
        problem(
            &mut out,
            ProblemCode::KeyUsageInvalid,
            format!(
                "the DS certificate {} does not allow digitalSignature",
                ds.subject
            ),
        );
    }
    if !ds.signature_algorithms_agree() {
        problem(
            &mut out,
            ProblemCode::SignatureAlgorithmMismatch,
            format!(
                "the DS certificate {} names {} inside and {} outside",
                ds.subject,
                ds.tbs_signature_algorithm.name(),
                ds.signature_algorithm.name()
            ),
        );
    }

    unknown_critical(ds, "DS", &mut out.problems);
    signing_time_checks(signer, ds, file, &mut out.problems);

    // The chain, and the anchor against the issuing state.
    let issuing_state = match issuing_state.map(country::normalize) {
        Some(Some(code)) => Some(code),
        Some(None) => {
            problem(
                &mut out,
                ProblemCode::CscaCountryMismatch,
                "the issuing state given is not a 1 to 3 letter code: no CSCA belongs to it".into(),
            );
            None
        }
        None => {
            problem(
                &mut out,
                ProblemCode::IssuingStateUnknown,
                "the document's issuing state was not given: the CSCA cannot be bound to it".into(),
            );
            None
        }
    };
    let crls: Vec<Crl> = sd
        .crls
        .iter()
        .take(MAX_EMBEDDED_CRLS)
        .filter_map(|d| Crl::from_der(d).ok())
        .collect();
    let mut search = ChainSearch {
        ds,
        store,
        intermediates: &sd.certificates,
        crls: &crls,
        at,
        issuing_state: issuing_state.as_deref(),
        budget: MAX_SIGNATURE_CHECKS,
        chains: 0,
        worst: ChainError::NotFound,
        best: None,
    };
    let mut path = Vec::new();
    search.search(ds, &mut path);
    match search.best {
        Some((chain, assessment)) => {
            out.csca = Some(CertificateSummary::of(chain.anchor));
            out.chain = chain
                .intermediates
                .iter()
                .map(|c| c.subject.to_string())
                .collect();
            out.crl = assessment.crl;
            out.problems.extend(assessment.problems);
        }
        None => match search.worst {
            ChainError::Forged(msg) => {
                problem(&mut out, ProblemCode::DsCertificateSignatureInvalid, msg)
            }
            ChainError::Unsupported(msg) => {
                problem(&mut out, ProblemCode::SodUnsupportedAlgorithm, msg)
            }
            ChainError::NotFound => {
                let gave_up = if search.budget == 0 {
                    " (gave up after too many candidate certificates)"
                } else {
                    ""
                };
                problem(
                    &mut out,
                    ProblemCode::CscaNotFound,
                    format!(
                        "no trusted CSCA issued the DS certificate (issuer {}){gave_up}",
                        ds.issuer
                    ),
                )
            }
        },
    }
    out
}

/// Most CRLs read from one SignedData.
const MAX_EMBEDDED_CRLS: usize = 16;
/// Deepest chain of untrusted intermediates (link certificates) followed.
const MAX_INTERMEDIATES: usize = 3;
/// Most certificate signatures checked while looking for chains: a SignedData from a
/// card may carry many certificates with the same name, and each check costs up to
/// milliseconds.
const MAX_SIGNATURE_CHECKS: usize = 32;
/// Most complete chains compared before the best so far is taken.
const MAX_CHAINS: usize = 8;

/// Why no chain was found.
enum ChainError {
    /// A certificate named by key identifier does not verify the child: forgery.
    Forged(String),
    Unsupported(String),
    NotFound,
}

/// A path from the DS certificate to a trust anchor.
struct Chain<'a> {
    anchor: &'a Certificate,
    /// Closest to the DS first.
    intermediates: Vec<&'a Certificate>,
}

/// What the checks of a complete chain found.
struct Assessment {
    problems: Vec<Problem>,
    crl: CrlStatus,
}

impl Assessment {
    /// Lower is better: (worst effect, number of problems).
    fn rank(&self) -> (u8, usize) {
        let worst = self
            .problems
            .iter()
            .map(|p| p.code.effect().severity())
            .max()
            .unwrap_or(0);
        (worst, self.problems.len())
    }
}

/// Path building: every chain whose signatures verify is a candidate; the best one
/// (see the module doc) is kept.
struct ChainSearch<'a> {
    ds: &'a Certificate,
    store: &'a TrustStore,
    /// Certificates carried in the SignedData (the DS among them).
    intermediates: &'a [Certificate],
    /// CRLs carried in the SignedData.
    crls: &'a [Crl],
    at: Time,
    /// Normalised, when known.
    issuing_state: Option<&'a str>,
    /// Signature checks left.
    budget: usize,
    /// Complete chains seen.
    chains: usize,
    worst: ChainError,
    best: Option<(Chain<'a>, Assessment)>,
}

impl<'a> ChainSearch<'a> {
    /// Looks for issuers of `cert` (the DS, or the last of `path`); true when the
    /// search should stop (a flawless chain found, or a bound reached).
    fn search(&mut self, cert: &'a Certificate, path: &mut Vec<&'a Certificate>) -> bool {
        let alg = match SignatureAlgorithm::from_identifier(&cert.signature_algorithm, None) {
            Ok(a) => a,
            Err(e) => {
                if !matches!(self.worst, ChainError::Forged(_)) {
                    self.worst =
                        ChainError::Unsupported(format!("certificate {}: {e}", cert.subject));
                }
                return false;
            }
        };
        for issuer in self.store.issuer_candidates(cert) {
            if issuer.der == cert.der {
                continue;
            }
            let Some(outcome) = self.check(alg, cert, issuer) else {
                return true;
            };
            match outcome {
                Ok(()) => {
                    let chain = Chain {
                        anchor: issuer,
                        intermediates: path.clone(),
                    };
                    if self.consider(chain) {
                        return true;
                    }
                }
                Err(e) => self.note(cert, issuer, e),
            }
        }
        if path.len() >= MAX_INTERMEDIATES {
            return false;
        }
        let extra = self.intermediates;
        for inter in extra {
            let seen = inter.der == cert.der
                || inter.der == self.ds.der
                || path.iter().any(|p| p.der == inter.der);
            if seen || !inter.may_have_issued(cert) {
                continue;
            }
            let Some(outcome) = self.check(alg, cert, inter) else {
                return true;
            };
            match outcome {
                Ok(()) => {
                    path.push(inter);
                    if self.search(inter, path) {
                        return true;
                    }
                    path.pop();
                }
                Err(e) => self.note(cert, inter, e),
            }
        }
        false
    }

    /// The signature of `cert` under `issuer`'s key; `None` when the budget is spent.
    fn check(
        &mut self,
        alg: SignatureAlgorithm,
        cert: &Certificate,
        issuer: &Certificate,
    ) -> Option<Result<(), signature::SigError>> {
        self.budget = self.budget.checked_sub(1)?;
        Some(signature::verify(
            alg,
            &issuer.public_key,
            cert.tbs(),
            &cert.signature,
        ))
    }

    /// Remembers why `issuer` did not verify `cert`: a forgery when `cert` names that
    /// very key by its key identifier.
    fn note(&mut self, cert: &Certificate, issuer: &Certificate, e: signature::SigError) {
        let by_key_id =
            cert.authority_key_id.is_some() && cert.authority_key_id == issuer.subject_key_id;
        if e.is_forgery() && by_key_id {
            self.worst = ChainError::Forged(format!(
                "{} does not verify the certificate of {}: {e}",
                issuer.subject, cert.subject
            ));
        } else if !e.is_forgery() && !matches!(self.worst, ChainError::Forged(_)) {
            self.worst = ChainError::Unsupported(format!(
                "cannot check {} with the key of {}: {e}",
                cert.subject, issuer.subject
            ));
        }
    }

    /// Assesses a complete chain and keeps it if it is the best so far; true when the
    /// search should stop.
    fn consider(&mut self, chain: Chain<'a>) -> bool {
        let assessment = self.assess(&chain);
        let rank = assessment.rank();
        let better = self.best.as_ref().is_none_or(|(_, b)| rank < b.rank());
        if better {
            self.best = Some((chain, assessment));
        }
        self.chains += 1;
        rank == (0, 0) || self.chains >= MAX_CHAINS
    }

    /// Every check of a chain that depends on the path: the issuers' validity,
    /// basicConstraints, keyUsage and signature algorithms, the revocation of every
    /// certificate below the anchor, and the anchor against the issuing state.
    fn assess(&self, chain: &Chain<'a>) -> Assessment {
        let mut problems = Vec::new();
        let at = self.at;
        for inter in &chain.intermediates {
            if at < inter.not_before {
                problems.push(Problem::new(
                    ProblemCode::CertificateNotYetValid,
                    format!(
                        "the intermediate certificate {} is valid only from {}",
                        inter.subject, inter.not_before
                    ),
                ));
            } else if at > inter.not_after {
                problems.push(Problem::new(
                    ProblemCode::IntermediateExpired,
                    format!(
                        "the intermediate certificate {} expired on {}",
                        inter.subject, inter.not_after
                    ),
                ));
            }
            // An intermediate comes from the card: it must prove it is a CA.
            if inter.is_ca != Some(true) {
                problems.push(Problem::new(
                    ProblemCode::IssuerNotCa,
                    format!(
                        "the intermediate certificate {} is not a CA (basicConstraints cA is not TRUE)",
                        inter.subject
                    ),
                ));
            }
            issuer_checks(inter, "intermediate", &mut problems);
        }
        let anchor = chain.anchor;
        // RFC 5280 §6.1.4 (k): a v3 issuer must assert cA=TRUE; a v1/v2 anchor cannot
        // carry the extension and is trusted by the operator's choice alone.
        if anchor.version >= 3 && anchor.is_ca != Some(true) {
            problems.push(Problem::new(
                ProblemCode::IssuerNotCa,
                format!(
                    "the CSCA certificate {} is not a CA (basicConstraints cA is not TRUE)",
                    anchor.subject
                ),
            ));
        }
        issuer_checks(anchor, "CSCA", &mut problems);
        if at > anchor.not_after {
            problems.push(Problem::new(
                ProblemCode::CscaExpired,
                format!(
                    "the CSCA certificate {} expired on {}",
                    anchor.subject, anchor.not_after
                ),
            ));
        } else if at < anchor.not_before {
            problems.push(Problem::new(
                ProblemCode::CscaNotYetValid,
                format!(
                    "the CSCA certificate {} is valid only from {}",
                    anchor.subject, anchor.not_before
                ),
            ));
        }

        // The chain model, the path length and the critical extensions of every issuer.
        let issuers = chain
            .intermediates
            .iter()
            .copied()
            .chain(std::iter::once(anchor));
        let children = std::iter::once(self.ds).chain(chain.intermediates.iter().copied());
        for (index, (child, issuer)) in children.zip(issuers).enumerate() {
            let role = if index == 0 { "DS" } else { "intermediate" };
            issued_within(child, role, issuer, &mut problems);
        }
        for (index, inter) in chain.intermediates.iter().enumerate() {
            let below = chain.intermediates.get(..index).unwrap_or(&[]);
            path_length(inter, below, "intermediate", &mut problems);
            unknown_critical(inter, "intermediate", &mut problems);
        }
        path_length(anchor, &chain.intermediates, "CSCA", &mut problems);
        unknown_critical(anchor, "CSCA", &mut problems);

        // Revocation: each certificate below the anchor against its issuer's CRLs.
        let mut crl = CrlStatus::NotChecked;
        let subjects = std::iter::once(self.ds).chain(chain.intermediates.iter().copied());
        let issuers = chain
            .intermediates
            .iter()
            .copied()
            .chain(std::iter::once(anchor));
        for (index, (cert, issuer)) in subjects.zip(issuers).enumerate() {
            let is_ds = index == 0;
            match self.revocation(cert, issuer, &mut problems) {
                Revocation::Revoked(entry_date, crl_issuer) => {
                    crl = CrlStatus::Revoked;
                    let (code, what) = if is_ds {
                        (
                            ProblemCode::DsRevoked,
                            format!("the DS certificate {}", cert.subject),
                        )
                    } else {
                        (
                            ProblemCode::CertificateRevoked,
                            format!("the intermediate certificate {}", cert.subject),
                        )
                    };
                    problems.push(Problem::new(
                        code,
                        format!("{what} was revoked on {entry_date} (CRL of {crl_issuer})"),
                    ));
                }
                Revocation::Good if is_ds && crl == CrlStatus::NotChecked => {
                    crl = CrlStatus::Good;
                }
                Revocation::Good | Revocation::NotChecked => {}
            }
        }

        // The anchor against the document's issuing state.
        if let Some(state) = self.issuing_state {
            let by_country = anchor
                .subject
                .country()
                .is_some_and(|c| country::country_matches(state, &c));
            if !by_country && !self.store.vouches_for(anchor, state) {
                let c = anchor.subject.country().unwrap_or_else(|| "none".into());
                problems.push(Problem::new(
                    ProblemCode::CscaCountryMismatch,
                    format!(
                        "the CSCA {} (C={c}) is not a CSCA of the issuing state {state}",
                        anchor.subject
                    ),
                ));
            }
        }
        Assessment { problems, crl }
    }

    /// `cert` against every CRL (trust store and SignedData) that `issuer` signed.
    fn revocation(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        problems: &mut Vec<Problem>,
    ) -> Revocation {
        let stored = self
            .store
            .crls()
            .iter()
            .enumerate()
            .map(|(i, c)| (Some(i), c));
        let carried = self.crls.iter().map(|c| (None, c));
        let mut checked = false;
        for (index, crl) in stored.chain(carried) {
            if !crl.may_be_issued_by(issuer) {
                continue;
            }
            let signature = match index {
                Some(i) => self.store.crl_signature(i, issuer),
                None => crl.verify_signature(issuer),
            };
            if let Err(e) = signature {
                problems.push(Problem::new(
                    ProblemCode::CrlSignatureInvalid,
                    format!("a CRL from {} was ignored: {e}", crl.issuer),
                ));
                continue;
            }
            checked = true;
            if let Some(entry) = crl.revocation_of(cert) {
                return Revocation::Revoked(entry.revocation_date, crl.issuer.to_string());
            }
            if crl.next_update.is_some_and(|n| n < self.at) {
                problems.push(Problem::new(
                    ProblemCode::CrlOutdated,
                    format!("the CRL from {} is past its next update", crl.issuer),
                ));
            }
        }
        if checked {
            Revocation::Good
        } else {
            Revocation::NotChecked
        }
    }
}

/// One certificate's revocation status.
enum Revocation {
    /// Listed: revocation date and the CRL's issuer.
    Revoked(Time, String),
    /// A verified CRL of its issuer does not list it.
    Good,
    /// No usable CRL of its issuer.
    NotChecked,
}

/// The signed attribute signingTime (RFC 5652 §11.3), when present, against the DS
/// certificate's validity and its privateKeyUsagePeriod (see *Validity model*).
fn signing_time_checks(
    signer: &crate::pki::cms::SignerInfo,
    ds: &Certificate,
    file: &str,
    problems: &mut Vec<Problem>,
) {
    if signer.attribute(&oid::SIGNING_TIME).is_none() {
        return;
    }
    let Some(signed_at) = signer.signing_time() else {
        problems.push(Problem::new(
            ProblemCode::SigningTimeOutsideValidity,
            format!("the signingTime attribute of {file} does not decode"),
        ));
        return;
    };
    if !ds.valid_at(signed_at) {
        problems.push(Problem::new(
            ProblemCode::SigningTimeOutsideValidity,
            format!(
                "{file} was signed on {signed_at}, outside the validity of the DS certificate {} ({} to {})",
                ds.subject, ds.not_before, ds.not_after
            ),
        ));
    }
    match ds.private_key_usage_period() {
        None => {}
        Some(Ok(period)) if period.contains(signed_at) => {}
        Some(Ok(period)) => {
            let show = |t: Option<Time>| t.map_or_else(|| "open".to_string(), |t| t.to_string());
            problems.push(Problem::new(
                ProblemCode::SigningTimeOutsideValidity,
                format!(
                    "{file} was signed on {signed_at}, outside the private key usage period of the DS certificate {} ({} to {})",
                    ds.subject,
                    show(period.not_before),
                    show(period.not_after)
                ),
            ));
        }
        Some(Err(e)) => problems.push(Problem::new(
            ProblemCode::SigningTimeOutsideValidity,
            format!(
                "the privateKeyUsagePeriod of the DS certificate {} does not decode ({e}): the signing time cannot be placed in it",
                ds.subject
            ),
        )),
    }
}

/// Critical extensions of `cert` this reader does not understand.
fn unknown_critical(cert: &Certificate, role: &str, problems: &mut Vec<Problem>) {
    let unknown = cert.unknown_critical_extensions();
    if !unknown.is_empty() {
        problems.push(Problem::new(
            ProblemCode::UnknownCriticalExtension,
            format!(
                "the {role} certificate {} has critical extensions this reader does not understand: {}",
                cert.subject,
                unknown.join(", ")
            ),
        ));
    }
}

/// `issuer`'s pathLenConstraint against the certificates that follow it towards the
/// DS (`below`, the DS excluded): self-issued ones do not count (RFC 5280 §6.1.4 (l)).
fn path_length(
    issuer: &Certificate,
    below: &[&Certificate],
    role: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(max) = issuer.path_len_constraint() else {
        return;
    };
    let count = below.iter().filter(|c| !c.is_self_issued()).count();
    if u32::try_from(count).map_or(true, |n| n > max) {
        problems.push(Problem::new(
            ProblemCode::PathLengthExceeded,
            format!(
                "the {role} certificate {} allows {max} intermediate CA certificates below it (pathLenConstraint), the chain has {count}",
                issuer.subject
            ),
        ));
    }
}

/// The validity of `child` must begin within its issuer's (see *Validity model*).
fn issued_within(
    child: &Certificate,
    child_role: &str,
    issuer: &Certificate,
    problems: &mut Vec<Problem>,
) {
    if !issuer.valid_at(child.not_before) {
        problems.push(Problem::new(
            ProblemCode::CertificateOutsideIssuerValidity,
            format!(
                "the {child_role} certificate {} is valid from {}, outside the validity of its issuer {} ({} to {})",
                child.subject, child.not_before, issuer.subject, issuer.not_before, issuer.not_after
            ),
        ));
    }
}

/// The checks every issuer of the chain (intermediate or anchor) shares: keyUsage
/// allows certificate signing when present, and the signature algorithms agree.
fn issuer_checks(cert: &Certificate, role: &str, problems: &mut Vec<Problem>) {
    if cert
        .key_usage
        .is_some_and(|k| !k.allows(KeyUsage::KEY_CERT_SIGN))
    {
        problems.push(Problem::new(
            ProblemCode::KeyUsageInvalid,
            format!(
                "the {role} certificate {} does not allow keyCertSign",
                cert.subject
            ),
        ));
    }
    if !cert.signature_algorithms_agree() {
        problems.push(Problem::new(
            ProblemCode::SignatureAlgorithmMismatch,
            format!(
                "the {role} certificate {} names {} inside and {} outside",
                cert.subject,
                cert.tbs_signature_algorithm.name(),
                cert.signature_algorithm.name()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_groups_read_back_as_they_serialize() {
        let groups = DataGroups(BTreeMap::from([
            (1, DataGroupStatus::Ok),
            (13, DataGroupStatus::Mismatch),
        ]));
        let json = serde_json::to_value(&groups).unwrap();
        assert_eq!(serde_json::from_value::<DataGroups>(json).unwrap(), groups);
        for bad in [
            serde_json::json!({"DG0": "ok"}),
            serde_json::json!({"DG17": "ok"}),
            serde_json::json!({"EF.SOD": "ok"}),
            serde_json::json!({"DG1": "fine"}),
        ] {
            assert!(serde_json::from_value::<DataGroups>(bad).is_err());
        }
    }

    /// The module table's rows: (code, effect), in order.
    fn doc_table() -> Vec<(String, String)> {
        include_str!("passive.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .filter_map(|l| {
                let cells: Vec<&str> = l.trim_start_matches("//!").split('|').collect();
                let code = cells.get(1)?.trim();
                let effect = cells.get(2)?.trim();
                let code = code.strip_prefix('`')?.strip_suffix('`')?;
                Some((code.to_string(), effect.to_string()))
            })
            .collect()
    }

    #[test]
    fn problem_codes_match_the_doc_table() {
        let table = doc_table();
        let expected: Vec<(String, String)> = ProblemCode::ALL
            .iter()
            .map(|c| {
                let effect = serde_json::to_value(c.effect()).unwrap();
                (c.as_str().to_string(), effect.as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(table, expected);
    }

    #[test]
    fn problem_codes_round_trip_through_serde() {
        let mut sorted = ProblemCode::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, ProblemCode::ALL, "ALL is in declaration order");
        sorted.dedup();
        assert_eq!(sorted.len(), ProblemCode::ALL.len());
        for &code in ProblemCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ProblemCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
            assert_eq!(code.to_string(), code.as_str());
        }
        assert!(serde_json::from_str::<ProblemCode>("\"no-such-code\"").is_err());
    }

    #[test]
    fn signature_status_serializes_to_its_wire_name() {
        use SignatureStatus as S;
        for (status, wire) in [
            (S::Valid, "valid"),
            (S::Invalid, "invalid"),
            (S::Unsupported, "unsupported"),
            (S::NotChecked, "not-checked"),
        ] {
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{wire}\"")
            );
            assert_eq!(status.as_str(), wire);
            assert_eq!(status.to_string(), wire);
        }
    }

    #[test]
    fn status_follows_the_worst_effect() {
        let p = |c| Problem::new(c, "");
        assert_eq!(status_of(&[]), PassiveStatus::Valid);
        assert_eq!(
            status_of(&[p(ProblemCode::DsExpired)]),
            PassiveStatus::Valid
        );
        assert_eq!(
            status_of(&[
                p(ProblemCode::DsExpired),
                p(ProblemCode::CscaCountryMismatch)
            ]),
            PassiveStatus::NoTrustAnchor
        );
        assert_eq!(
            status_of(&[
                p(ProblemCode::IssuingStateUnknown),
                p(ProblemCode::IssuerNotCa)
            ]),
            PassiveStatus::Invalid
        );
    }
}
