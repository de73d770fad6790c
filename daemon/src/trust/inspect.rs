//! `cancuoc trust inspect`: every certificate of a master list, PEM/DER file or folder,
//! with its key, validity and whether its signature verifies (self-signed CSCAs with
//! their own key, link certificates with their issuer's).

use super::passive::CertificateSummary;
use super::store::{SourceReport, TrustError, TrustStore, read_trust_path};
use crate::pki::certificate::Certificate;
use crate::pki::key::PublicKey;
use crate::pki::signature::{self, SigError, SignatureAlgorithm};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One listed certificate.
#[derive(Debug, Clone, Serialize)]
pub struct InspectedCertificate {
    /// Which file it came from (index into `sources`).
    pub source: usize,
    #[serde(flatten)]
    pub summary: CertificateSummary,
    /// `self-signed` (issuer = subject, own key), `link` (issuer = subject, another
    /// CSCA's key), or `issued` (another issuer).
    pub kind: &'static str,
    /// `valid`, `invalid`, `unsupported` or `issuer-not-found`.
    pub signature: &'static str,
    /// Why the signature is not `valid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_problem: Option<String>,
    /// For link and issued certificates: the subject of the verifying certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
}

/// Counts over the listed certificates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InspectionSummary {
    pub certificates: usize,
    pub countries: usize,
    /// e.g. `RSA 4096`, `EC brainpoolP512r1 (explicit)`.
    pub by_key_type: BTreeMap<String, usize>,
    pub by_kind: BTreeMap<String, usize>,
    pub signatures_valid: usize,
    /// Reason → count, for every signature that is not `valid`.
    pub signatures_not_valid: BTreeMap<String, usize>,
    /// Certificates that could not be parsed at all.
    pub unparsed: usize,
}

/// The result of an inspection.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub sources: Vec<SourceReport>,
    pub summary: InspectionSummary,
    pub certificates: Vec<InspectedCertificate>,
}

/// Inspects a master list, PEM or DER file, or folder.
pub fn inspect_path(path: &Path) -> Result<Inspection, TrustError> {
    let files = read_trust_path(path)?;
    let mut store = TrustStore::new();
    for f in &files {
        for c in &f.certificates {
            store.add_certificate(c.clone());
        }
    }
    let mut certificates = Vec::new();
    let mut summary = InspectionSummary::default();
    let mut countries = std::collections::BTreeSet::new();
    for (index, f) in files.iter().enumerate() {
        summary.unparsed += f.report.errors.len();
        for cert in &f.certificates {
            let item = inspect_certificate(index, cert, &store);
            *summary.by_key_type.entry(key_type(cert)).or_default() += 1;
            *summary.by_kind.entry(item.kind.to_string()).or_default() += 1;
            if item.signature == "valid" {
                summary.signatures_valid += 1;
            } else {
                let reason = match &item.signature_problem {
                    Some(p) => format!("{}: {p}", item.signature),
                    None => item.signature.to_string(),
                };
                *summary.signatures_not_valid.entry(reason).or_default() += 1;
            }
            if let Some(c) = &item.summary.country {
                countries.insert(c.clone());
            }
            certificates.push(item);
        }
    }
    summary.certificates = certificates.len();
    summary.countries = countries.len();
    Ok(Inspection {
        sources: files.into_iter().map(|f| f.report).collect(),
        summary,
        certificates,
    })
}

/// A short key description for the counts.
pub fn key_type(cert: &Certificate) -> String {
    let s = CertificateSummary::of(cert);
    match &cert.public_key {
        PublicKey::Rsa { .. } => format!("RSA {}", s.key_bits),
        PublicKey::Ec { .. } => format!(
            "EC {}{}",
            s.curve.unwrap_or_default(),
            if s.explicit_parameters {
                " (explicit)"
            } else {
                ""
            }
        ),
        PublicKey::Other { .. } => s.key_algorithm,
    }
}

fn inspect_certificate(
    source: usize,
    cert: &Certificate,
    store: &TrustStore,
) -> InspectedCertificate {
    let mut item = InspectedCertificate {
        source,
        summary: CertificateSummary::of(cert),
        kind: "issued",
        signature: "issuer-not-found",
        signature_problem: None,
        verified_by: None,
    };
    let alg = match SignatureAlgorithm::from_identifier(&cert.signature_algorithm, None) {
        Ok(a) => a,
        Err(e) => {
            item.signature = "unsupported";
            item.signature_problem = Some(e.to_string());
            if cert.is_self_issued() {
                item.kind = "self-signed";
            }
            return item;
        }
    };
    let check = |key: &PublicKey| signature::verify(alg, key, cert.tbs(), &cert.signature);
    let outcome = |r: &Result<(), SigError>| match r {
        Ok(()) => ("valid", None),
        Err(e) if e.is_forgery() => ("invalid", Some(e.to_string())),
        Err(e) => ("unsupported", Some(e.to_string())),
    };
    let self_issued = cert.is_self_issued();
    let own_key_expected = self_issued
        && (cert.authority_key_id.is_none() || cert.authority_key_id == cert.subject_key_id);
    if own_key_expected {
        item.kind = "self-signed";
        let (status, problem) = outcome(&check(&cert.public_key));
        item.signature = status;
        item.signature_problem = problem;
        if status != "invalid" {
            return item;
        }
    }
    // A link certificate (or one issued by another listed CSCA): find the issuer.
    let mut last: Option<Result<(), SigError>> = None;
    for issuer in store.issuer_candidates(cert) {
        if issuer.der == cert.der {
            continue;
        }
        let r = check(&issuer.public_key);
        if r.is_ok() {
            item.kind = if self_issued { "link" } else { "issued" };
            item.signature = "valid";
            item.signature_problem = None;
            item.verified_by = Some(issuer.subject.to_string());
            return item;
        }
        last = Some(r);
    }
    if !own_key_expected {
        item.kind = if self_issued { "link" } else { "issued" };
        if let Some(r) = last {
            let (status, problem) = outcome(&r);
            item.signature = status;
            item.signature_problem = problem;
        }
    }
    item
}
