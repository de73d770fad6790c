//! Passive authentication (ICAO 9303 part 11 §5.1): the data groups' hashes against
//! EF.SOD, the SOD's CMS signature with the document signer (DS) certificate, the DS
//! certificate's chain to a trusted CSCA (through link certificates when needed),
//! validity periods and CRL status. The result is `verification.passive` of the
//! result JSON.
//!
//! # Statuses
//! - `invalid`: something was checked and found wrong — proof of tampering or of a
//!   withdrawn signer (any problem marked *invalid* below).
//! - `no-trust-anchor`: nothing was found wrong, but the signature could not be traced
//!   to a trusted CSCA or could not be checked at all (problems marked *unverified*).
//! - `valid`: hashes, signature and chain all verify; *warnings* may remain.
//!
//! # Problems
//! | code | effect | meaning |
//! |---|---|---|
//! | `sod-malformed` | invalid | EF.SOD is not a well-formed SignedData over an LDSSecurityObject |
//! | `sod-signer-count` | invalid | the SignedData does not have exactly one SignerInfo |
//! | `dg-hash-mismatch` | invalid | a data group read differs from its hash in the SOD |
//! | `sod-message-digest-mismatch` | invalid | the signed messageDigest is not the hash of the LDSSecurityObject |
//! | `sod-content-type-mismatch` | invalid | the signed contentType is missing or not the content's type |
//! | `sod-signature-invalid` | invalid | the DS key does not verify the SOD's signature |
//! | `ds-certificate-signature-invalid` | invalid | the CSCA named by the DS certificate's key identifier does not verify it |
//! | `ds-not-yet-valid` | invalid | the DS certificate's validity starts after the verification time |
//! | `ds-revoked` | invalid | a CRL signed by the DS certificate's issuer lists it |
//! | `sod-unsupported-algorithm` | unverified | a hash, signature algorithm or curve the reader cannot check |
//! | `ds-certificate-missing` | unverified | the DS certificate is neither embedded nor in the trust store |
//! | `csca-not-found` | unverified | no trusted CSCA (or link certificate) issued the DS certificate |
//! | `dg-not-in-sod` | warning | a data group was read that the SOD does not cover: its status is `not-in-sod` and its content is not authenticated (the BSI TR-03105-5 set has such a DG15); callers must use only groups marked `ok` |
//! | `ds-expired` | warning | the DS certificate has expired; a DS signs only for a few months but its documents stay valid for 10 years or more, so an expired DS is expected on genuine older documents |
//! | `csca-expired` | warning | the CSCA certificate has expired at verification time |
//! | `csca-not-yet-valid` | warning | the CSCA certificate is not yet valid at verification time |
//! | `crl-signature-invalid` | warning | a CRL claiming the DS's issuer does not verify; it was ignored |
//! | `crl-outdated` | warning | the CRL used is past its nextUpdate |
//! | `sod-signer-info` | warning | the SignerInfo has no signed attributes (ICAO requires them) |

use super::certificate::{Certificate, EcDomain, PublicKey};
use super::cms::{SignerError, SignerId};
use super::signature::{self, SignatureAlgorithm};
use super::store::TrustStore;
use super::time::Time;
use crate::lds::sod::Sod;
use serde::Serialize;
use std::collections::BTreeMap;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PassiveStatus {
    Valid,
    Invalid,
    NoTrustAnchor,
}

/// One data group's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// Revocation status of the DS certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrlStatus {
    Good,
    Revoked,
    NotChecked,
}

/// How a problem affects the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    Invalid,
    Unverified,
    Warning,
}

/// A finding, machine-readable `code` plus a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
}

/// The effect of a problem code (see the module table).
pub fn effect(code: &str) -> Effect {
    match code {
        "sod-malformed"
        | "sod-signer-count"
        | "dg-hash-mismatch"
        | "sod-message-digest-mismatch"
        | "sod-content-type-mismatch"
        | "sod-signature-invalid"
        | "ds-certificate-signature-invalid"
        | "ds-not-yet-valid"
        | "ds-revoked" => Effect::Invalid,
        "sod-unsupported-algorithm" | "ds-certificate-missing" | "csca-not-found" => {
            Effect::Unverified
        }
        _ => Effect::Warning,
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

/// What a certificate is, for results and listings (no personal data: these are
/// authorities' certificates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    #[serde(skip_serializing_if = "std::ops::Not::not")]
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
                let info = signature::curve_info(domain);
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassiveResult {
    pub status: PassiveStatus,
    pub data_groups: DataGroups,
    /// The DS certificate, when found.
    pub signer: Option<CertificateSummary>,
    /// The trusted CSCA (or link certificate) the DS chains to.
    pub csca: Option<CertificateSummary>,
    /// Intermediate certificates between DS and trust anchor (link certificates taken
    /// from the SOD), subjects only.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
    pub crl: CrlStatus,
    /// Data group hash algorithm, e.g. `SHA-256`.
    pub hash_algorithm: Option<String>,
    /// The SOD signature scheme.
    pub signature_algorithm: Option<String>,
    /// The SOD's own signature with the DS key: `valid`, `invalid`, `unsupported` or
    /// `not-checked` (no DS certificate, or the SOD could not be parsed).
    pub sod_signature: &'static str,
    /// LDSSecurityObject version (0 or 1) and v1's version info.
    pub lds_version: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lds_version_info: Option<crate::lds::sod::LdsVersionInfo>,
    pub problems: Vec<Problem>,
}

impl PassiveResult {
    fn problem(&mut self, code: &'static str, message: impl Into<String>) {
        self.problems.push(Problem {
            code,
            message: message.into(),
        });
    }

    fn resolve(mut self) -> PassiveResult {
        let effects: Vec<Effect> = self.problems.iter().map(|p| effect(p.code)).collect();
        self.status = if effects.contains(&Effect::Invalid) {
            PassiveStatus::Invalid
        } else if effects.contains(&Effect::Unverified) {
            PassiveStatus::NoTrustAnchor
        } else {
            PassiveStatus::Valid
        };
        self
    }
}

/// Runs passive authentication of `sod` (EF.SOD bytes) over the data groups read
/// (number → file bytes), against `store`, at time `at`.
pub fn verify(
    sod: &[u8],
    data_groups: &BTreeMap<u8, Vec<u8>>,
    store: &TrustStore,
    at: Time,
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
        sod_signature: "not-checked",
        lds_version: None,
        lds_version_info: None,
        problems: Vec::new(),
    };
    let sod = match Sod::from_bytes(sod) {
        Ok(s) => s,
        Err(e) => {
            result.problem("sod-malformed", format!("EF.SOD: {e}"));
            return result.resolve();
        }
    };
    result.lds_version = Some(sod.lds.version);
    result.lds_version_info = sod.lds.version_info.clone();

    check_hashes(&sod, data_groups, &mut result);
    check_signature(&sod, store, at, &mut result);
    result.resolve()
}

fn check_hashes(sod: &Sod, data_groups: &BTreeMap<u8, Vec<u8>>, result: &mut PassiveResult) {
    let Some(hash) = sod.lds.hash() else {
        result.problem(
            "sod-unsupported-algorithm",
            format!(
                "data group hash algorithm {} is not supported",
                sod.lds.hash_algorithm.name()
            ),
        );
        return;
    };
    result.hash_algorithm = Some(hash.name().to_string());
    for (&n, expected) in &sod.lds.hashes {
        let status = match data_groups.get(&n) {
            None => DataGroupStatus::NotRead,
            Some(bytes) if hash.digest(bytes) == *expected => DataGroupStatus::Ok,
            Some(_) => {
                result.problem(
                    "dg-hash-mismatch",
                    format!("DG{n} does not match its {} hash in EF.SOD", hash.name()),
                );
                DataGroupStatus::Mismatch
            }
        };
        result.data_groups.0.insert(n, status);
    }
    for &n in data_groups.keys() {
        if !sod.lds.hashes.contains_key(&n) {
            result.problem(
                "dg-not-in-sod",
                format!("DG{n} was read but EF.SOD has no hash for it"),
            );
            result.data_groups.0.insert(n, DataGroupStatus::NotInSod);
        }
    }
}

fn check_signature(sod: &Sod, store: &TrustStore, at: Time, result: &mut PassiveResult) {
    let sd = &sod.signed_data;
    let [signer] = sd.signer_infos.as_slice() else {
        result.problem(
            "sod-signer-count",
            format!(
                "EF.SOD has {} SignerInfos, expected one",
                sd.signer_infos.len()
            ),
        );
        return;
    };
    if signer.signed_attrs.is_none() {
        result.problem("sod-signer-info", "the SignerInfo has no signed attributes");
    }
    let hash = signer.digest_hash();
    match SignatureAlgorithm::from_identifier(&signer.signature_algorithm, hash) {
        Ok(a) => result.signature_algorithm = Some(a.to_string()),
        Err(_) => result.signature_algorithm = Some(signer.signature_algorithm.name()),
    }

    let ds = sd
        .find_certificate(signer)
        .or_else(|| store.certificates().iter().find(|c| signer.sid.matches(c)));
    let Some(ds) = ds else {
        let who = match &signer.sid {
            SignerId::IssuerSerial { issuer, serial } => format!(
                "issuer {issuer}, serial {}",
                super::certificate::serial_to_hex(serial)
            ),
            SignerId::KeyId(k) => format!("key identifier {}", hex::encode_upper(k)),
        };
        result.problem(
            "ds-certificate-missing",
            format!(
                "the document signer certificate ({who}) is not in EF.SOD nor in the trust store"
            ),
        );
        return;
    };
    result.signer = Some(CertificateSummary::of(ds));

    let outcome = sd.verify_signer(signer, ds);
    result.sod_signature = match &outcome {
        Ok(()) => "valid",
        Err(SignerError::UnsupportedDigest(_)) => "unsupported",
        Err(SignerError::Signature(e)) if !e.is_forgery() => "unsupported",
        Err(_) => "invalid",
    };
    match outcome {
        Ok(()) => {}
        Err(SignerError::MessageDigestMismatch) => result.problem(
            "sod-message-digest-mismatch",
            "the signed messageDigest is not the hash of the LDSSecurityObject",
        ),
        Err(SignerError::ContentTypeMismatch) => result.problem(
            "sod-content-type-mismatch",
            "the signed contentType attribute does not name the LDSSecurityObject",
        ),
        Err(SignerError::MissingMessageDigest) => result.problem(
            "sod-malformed",
            "the signed attributes have no single messageDigest",
        ),
        Err(SignerError::UnsupportedDigest(d)) => result.problem(
            "sod-unsupported-algorithm",
            format!("SOD digest algorithm {d} is not supported"),
        ),
        Err(SignerError::Signature(e)) if e.is_forgery() => {
            result.problem("sod-signature-invalid", format!("EF.SOD signature: {e}"))
        }
        Err(SignerError::Signature(e)) => result.problem(
            "sod-unsupported-algorithm",
            format!("EF.SOD signature: {e}"),
        ),
    }

    if at < ds.not_before {
        result.problem(
            "ds-not-yet-valid",
            format!("the DS certificate is valid only from {}", ds.not_before),
        );
    } else if at > ds.not_after {
        result.problem(
            "ds-expired",
            format!("the DS certificate expired on {}", ds.not_after),
        );
    }

    let chain = build_chain(ds, store, &sd.certificates);
    let (anchor, path) = match chain {
        Ok(found) => found,
        Err(ChainError::Forged(msg)) => {
            result.problem("ds-certificate-signature-invalid", msg);
            return;
        }
        Err(ChainError::Unsupported(msg)) => {
            result.problem("sod-unsupported-algorithm", msg);
            return;
        }
        Err(ChainError::NotFound) => {
            result.problem(
                "csca-not-found",
                format!(
                    "no trusted CSCA issued the DS certificate (issuer {})",
                    ds.issuer
                ),
            );
            return;
        }
    };
    result.csca = Some(CertificateSummary::of(anchor));
    result.chain = path.iter().map(|c| c.subject.to_string()).collect();
    if at > anchor.not_after {
        result.problem(
            "csca-expired",
            format!("the CSCA certificate expired on {}", anchor.not_after),
        );
    } else if at < anchor.not_before {
        result.problem(
            "csca-not-yet-valid",
            format!(
                "the CSCA certificate is valid only from {}",
                anchor.not_before
            ),
        );
    }

    let issuer = path.first().copied().unwrap_or(anchor);
    check_crl(ds, issuer, store, &sd.crls, at, result);
}

fn check_crl(
    ds: &Certificate,
    issuer: &Certificate,
    store: &TrustStore,
    embedded: &[Vec<u8>],
    at: Time,
    result: &mut PassiveResult,
) {
    let embedded: Vec<super::crl::Crl> = embedded
        .iter()
        .filter_map(|d| super::crl::Crl::from_der(d).ok())
        .collect();
    let mut checked = false;
    for crl in store.crls().iter().chain(embedded.iter()) {
        if !crl.may_be_issued_by(issuer) {
            continue;
        }
        if let Err(e) = crl.verify_signature(issuer) {
            result.problem(
                "crl-signature-invalid",
                format!("a CRL from {} was ignored: {e}", crl.issuer),
            );
            continue;
        }
        checked = true;
        if let Some(entry) = crl.revocation_of(ds) {
            result.crl = CrlStatus::Revoked;
            result.problem(
                "ds-revoked",
                format!(
                    "the DS certificate was revoked on {} (CRL of {})",
                    entry.revocation_date, crl.issuer
                ),
            );
            return;
        }
        if crl.next_update.is_some_and(|n| n < at) {
            result.problem(
                "crl-outdated",
                format!("the CRL from {} is past its next update", crl.issuer),
            );
        }
    }
    if checked {
        result.crl = CrlStatus::Good;
    }
}

enum ChainError {
    /// A certificate named by key identifier does not verify the child: forgery.
    Forged(String),
    Unsupported(String),
    NotFound,
}

/// Deepest chain of untrusted intermediates (link certificates) followed.
const MAX_INTERMEDIATES: usize = 3;

/// Finds a trusted certificate whose key verifies `cert`, possibly through
/// intermediates from `extra` (link certificates carried in the SOD). Returns the
/// anchor and the intermediates, closest to `cert` first.
fn build_chain<'a>(
    cert: &'a Certificate,
    store: &'a TrustStore,
    extra: &'a [Certificate],
) -> Result<(&'a Certificate, Vec<&'a Certificate>), ChainError> {
    let mut worst = ChainError::NotFound;
    let mut visited = vec![cert.der.as_slice()];
    match chain_step(cert, store, extra, 0, &mut visited, &mut worst) {
        Some(found) => Ok(found),
        None => Err(worst),
    }
}

fn chain_step<'a>(
    cert: &'a Certificate,
    store: &'a TrustStore,
    extra: &'a [Certificate],
    depth: usize,
    visited: &mut Vec<&'a [u8]>,
    worst: &mut ChainError,
) -> Option<(&'a Certificate, Vec<&'a Certificate>)> {
    let alg = match SignatureAlgorithm::from_identifier(&cert.signature_algorithm, None) {
        Ok(a) => a,
        Err(e) => {
            if !matches!(worst, ChainError::Forged(_)) {
                *worst = ChainError::Unsupported(format!("certificate {}: {e}", cert.subject));
            }
            return None;
        }
    };
    let check = |issuer: &Certificate| {
        signature::verify(alg, &issuer.public_key, cert.tbs(), &cert.signature)
    };
    let note = |issuer: &Certificate, e: signature::SigError, worst: &mut ChainError| {
        let by_key_id =
            cert.authority_key_id.is_some() && cert.authority_key_id == issuer.subject_key_id;
        if e.is_forgery() && by_key_id {
            *worst = ChainError::Forged(format!(
                "{} does not verify the certificate of {}: {e}",
                issuer.subject, cert.subject
            ));
        } else if !e.is_forgery() && !matches!(worst, ChainError::Forged(_)) {
            *worst = ChainError::Unsupported(format!(
                "cannot check {} with the key of {}: {e}",
                cert.subject, issuer.subject
            ));
        }
    };
    for issuer in store.issuer_candidates(cert) {
        if issuer.der == cert.der {
            continue;
        }
        match check(issuer) {
            Ok(()) => return Some((issuer, Vec::new())),
            Err(e) => note(issuer, e, worst),
        }
    }
    if depth >= MAX_INTERMEDIATES {
        return None;
    }
    for inter in extra {
        if visited.contains(&inter.der.as_slice()) || !inter.may_have_issued(cert) {
            continue;
        }
        match check(inter) {
            Ok(()) => {
                visited.push(&inter.der);
                if let Some((anchor, mut path)) =
                    chain_step(inter, store, extra, depth + 1, visited, worst)
                {
                    path.insert(0, inter);
                    return Some((anchor, path));
                }
            }
            Err(e) => note(inter, e, worst),
        }
    }
    None
}
