//! The trust store: CSCA (and link) certificates and CRLs from master lists, PEM and
//! DER files and folders of them, indexed by country and key identifier.
//!
//! A master list whose own signature is checked and found `invalid` is refused; one
//! that cannot be checked (`unverified`) is loaded and reported, since the operator
//! chose the file; its status is in the [`SourceReport`].

use crate::pki::certificate::Certificate;
use crate::pki::crl::Crl;
use crate::pki::master_list::{MasterList, MasterListSignature};
use crate::pki::pem;
use crate::pki::signature::SigError;
use apdu::asn1;
use apdu::tlv;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Largest file read into the store.
pub const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;
/// Most files read from one folder tree.
pub const MAX_FILES: usize = 10_000;
/// Deepest folder nesting followed.
pub const MAX_FOLDER_DEPTH: usize = 4;
/// Most certificates held.
pub const MAX_CERTIFICATES: usize = 100_000;

/// Why a trust source could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: too large ({size} bytes)")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{path}: not a certificate, CRL or master list: {reason}")]
    Unrecognised { path: PathBuf, reason: String },
    #[error("{path}: master list signature invalid: {reason}")]
    BadMasterList { path: PathBuf, reason: String },
    #[error("{path}: too many files or certificates")]
    TooMany { path: PathBuf },
    #[error("{code:?} is not an issuing-state code (one to three letters)")]
    BadIssuingState { code: String },
}

/// What one file contributed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceReport {
    pub path: String,
    /// `master-list`, `pem`, `der-certificate` or `der-crl`.
    pub kind: &'static str,
    /// Certificates found (before de-duplication).
    pub certificates: usize,
    /// Certificates that were new to the store.
    pub added: usize,
    pub crls: usize,
    /// Entries that could not be read, with the reason.
    pub errors: Vec<String>,
    /// For master lists: the list's own signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_list_signature: Option<MasterListSignature>,
}

/// Remembered CRL signature outcomes.
type CrlChecks = HashMap<(usize, Vec<u8>), Result<(), SigError>>;

/// Trusted CSCA and link certificates, and CRLs.
#[derive(Debug, Default)]
pub struct TrustStore {
    certificates: Vec<Certificate>,
    crls: Vec<Crl>,
    seen: HashSet<Vec<u8>>,
    by_key_id: HashMap<Vec<u8>, Vec<usize>>,
    by_country: BTreeMap<String, Vec<usize>>,
    /// Issuing states (normalised MRZ codes) a certificate, by DER, may verify
    /// documents of beyond its own subject country: the operator's explicit vouch.
    vouched: HashMap<Vec<u8>, BTreeSet<String>>,
    /// CRL signature outcomes by (CRL index, issuer DER): a brainpoolP512r1 check
    /// costs milliseconds and every read would repeat it.
    crl_checks: Mutex<CrlChecks>,
}

impl Clone for TrustStore {
    fn clone(&self) -> Self {
        TrustStore {
            certificates: self.certificates.clone(),
            crls: self.crls.clone(),
            seen: self.seen.clone(),
            by_key_id: self.by_key_id.clone(),
            by_country: self.by_country.clone(),
            vouched: self.vouched.clone(),
            crl_checks: Mutex::new(HashMap::new()),
        }
    }
}

/// `[[trust.vouch]]`: the certificates of `path` may verify documents of these issuing
/// states too (a CSCA's own country is always accepted; ICAO special codes such as `UNO`
/// or `XOM` name no country and need this).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vouch {
    /// A certificate, master list or folder, as in `anchors`.
    pub path: PathBuf,
    /// Issuing-state codes as the MRZ writes them (`UNO`, `D`, `VNM`).
    pub issuing_states: Vec<String>,
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// A store of the trust anchors at `paths` (certificates, master lists, CRLs, or
    /// folders of them) and of those that vouch for issuing states beyond their own
    /// country: what the command line and the configuration name.
    pub fn load(paths: &[PathBuf], vouch: &[Vouch]) -> Result<TrustStore, TrustError> {
        let mut store = TrustStore::new();
        for path in paths {
            store.load_path(path)?;
        }
        for v in vouch {
            store.load_path_vouching(&v.path, &v.issuing_states)?;
        }
        Ok(store)
    }

    /// Adds a trusted certificate; false if it was already there.
    pub fn add_certificate(&mut self, cert: Certificate) -> bool {
        if self.certificates.len() >= MAX_CERTIFICATES || self.seen.contains(&cert.der) {
            return false;
        }
        let index = self.certificates.len();
        self.seen.insert(cert.der.clone());
        if let Some(ski) = &cert.subject_key_id {
            self.by_key_id.entry(ski.clone()).or_default().push(index);
        }
        let country = cert.subject.country().unwrap_or_default();
        self.by_country.entry(country).or_default().push(index);
        self.certificates.push(cert);
        true
    }

    /// Adds a CRL (its signature is checked when it is used).
    pub fn add_crl(&mut self, crl: Crl) {
        if !self.crls.iter().any(|c| c.der == crl.der) {
            self.crls.push(crl);
        }
    }

    /// All trusted certificates.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// All CRLs.
    pub fn crls(&self) -> &[Crl] {
        &self.crls
    }

    /// The signature check of the store's CRL number `index` with `issuer`'s key,
    /// remembered across calls.
    pub fn crl_signature(&self, index: usize, issuer: &Certificate) -> Result<(), SigError> {
        let Some(crl) = self.crls.get(index) else {
            return Err(SigError::BadKey("no such CRL".into()));
        };
        let key = (index, issuer.der.clone());
        if let Ok(cache) = self.crl_checks.lock()
            && let Some(done) = cache.get(&key)
        {
            return done.clone();
        }
        let outcome = crl.verify_signature(issuer);
        if let Ok(mut cache) = self.crl_checks.lock() {
            cache.insert(key, outcome.clone());
        }
        outcome
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }

    /// Certificates whose subject has this country code (upper case).
    pub fn by_country<'a>(&'a self, country: &str) -> impl Iterator<Item = &'a Certificate> + 'a {
        self.by_country
            .get(country)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.certificates.get(i))
    }

    /// Countries present, with their certificate counts.
    pub fn countries(&self) -> BTreeMap<String, usize> {
        self.by_country
            .iter()
            .map(|(c, v)| (c.clone(), v.len()))
            .collect()
    }

    /// Certificates with this subject key identifier.
    pub fn by_key_id<'a>(&'a self, key_id: &[u8]) -> impl Iterator<Item = &'a Certificate> + 'a {
        self.by_key_id
            .get(key_id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.certificates.get(i))
    }

    /// Certificates that may have issued `cert`: those whose subject key identifier is
    /// `cert`'s authority key identifier first, then those of the issuer's name that
    /// [`Certificate::may_have_issued`] allows (no key identifier to contradict it).
    pub fn issuer_candidates<'a>(&'a self, cert: &Certificate) -> Vec<&'a Certificate> {
        let mut out: Vec<&Certificate> = match &cert.authority_key_id {
            Some(aki) => self.by_key_id(aki).collect(),
            None => Vec::new(),
        };
        let country = cert.issuer.country().unwrap_or_default();
        for c in self.by_country(&country) {
            if c.may_have_issued(cert) && !out.iter().any(|o| o.der == c.der) {
                out.push(c);
            }
        }
        out
    }

    /// Whether the operator vouched for `cert` verifying documents of `issuing_state`
    /// (an MRZ code; normalised here).
    pub fn vouches_for(&self, cert: &Certificate, issuing_state: &str) -> bool {
        let Some(code) = super::country::normalize(issuing_state) else {
            return false;
        };
        self.vouched
            .get(&cert.der)
            .is_some_and(|states| states.contains(&code))
    }

    /// The issuing states vouched for `cert`, normalised.
    pub fn vouched_states(&self, cert: &Certificate) -> Vec<String> {
        self.vouched
            .get(&cert.der)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Normalises the codes of a vouch, refusing any that is not one.
    fn vouch_codes(issuing_states: &[String]) -> Result<BTreeSet<String>, TrustError> {
        issuing_states
            .iter()
            .map(|s| {
                super::country::normalize(s)
                    .ok_or_else(|| TrustError::BadIssuingState { code: s.clone() })
            })
            .collect()
    }

    /// Records a vouch for a certificate the store holds.
    fn vouch(&mut self, der: Vec<u8>, codes: &BTreeSet<String>) {
        if codes.is_empty() || !self.seen.contains(&der) {
            return;
        }
        self.vouched
            .entry(der)
            .or_default()
            .extend(codes.iter().cloned());
    }

    /// Like [`TrustStore::load_path`], and every certificate loaded from `path` may
    /// also verify documents of the given issuing states (MRZ codes such as `UNO` or
    /// `EUE`, which no certificate's country matches, or another state the operator
    /// knows this CSCA signs for). The vouch is per certificate: the same certificate
    /// loaded elsewhere without it keeps it.
    pub fn load_path_vouching(
        &mut self,
        path: &Path,
        issuing_states: &[String],
    ) -> Result<Vec<SourceReport>, TrustError> {
        let codes = Self::vouch_codes(issuing_states)?;
        let files = read_trust_path(path)?;
        let mut reports = Vec::with_capacity(files.len());
        for file in files {
            reports.push(self.add_file(file, &codes));
        }
        Ok(reports)
    }

    /// Like [`TrustStore::load_bytes`], with a vouch as in
    /// [`TrustStore::load_path_vouching`].
    pub fn load_bytes_vouching(
        &mut self,
        data: &[u8],
        source: &str,
        issuing_states: &[String],
    ) -> Result<SourceReport, TrustError> {
        let codes = Self::vouch_codes(issuing_states)?;
        let file = parse_trust_file(data, source)?;
        Ok(self.add_file(file, &codes))
    }

    fn add_file(&mut self, file: TrustFile, vouch: &BTreeSet<String>) -> SourceReport {
        let mut report = file.report;
        for c in file.certificates {
            let der = (!vouch.is_empty()).then(|| c.der.clone());
            report.added += usize::from(self.add_certificate(c));
            if let Some(der) = der {
                self.vouch(der, vouch);
            }
        }
        for crl in file.crls {
            self.add_crl(crl);
        }
        report
    }

    /// Whether the store holds exactly this certificate.
    pub fn contains(&self, cert: &Certificate) -> bool {
        self.seen.contains(&cert.der)
    }

    /// Loads a file or a folder (recursively, up to [`MAX_FOLDER_DEPTH`]).
    pub fn load_path(&mut self, path: &Path) -> Result<Vec<SourceReport>, TrustError> {
        self.load_path_vouching(path, &[])
    }

    /// Loads one file's contents: a master list, PEM (certificates and CRLs), a DER
    /// certificate or a DER CRL.
    pub fn load_bytes(&mut self, data: &[u8], source: &str) -> Result<SourceReport, TrustError> {
        self.load_bytes_vouching(data, source, &[])
    }
}

/// Reads a file, or every trust file in a folder tree (up to [`MAX_FOLDER_DEPTH`]
/// deep; hidden entries and files that are not PKI objects are skipped).
pub fn read_trust_path(path: &Path) -> Result<Vec<TrustFile>, TrustError> {
    let mut out = Vec::new();
    let mut count = 0usize;
    read_path_inner(path, 0, &mut count, &mut out)?;
    Ok(out)
}

fn read_path_inner(
    path: &Path,
    depth: usize,
    count: &mut usize,
    out: &mut Vec<TrustFile>,
) -> Result<(), TrustError> {
    let io = |source| TrustError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        if depth >= MAX_FOLDER_DEPTH {
            return Ok(());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            match read_path_inner(&entry, depth + 1, count, out) {
                Ok(()) | Err(TrustError::Unrecognised { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        return Ok(());
    }
    *count += 1;
    if *count > MAX_FILES {
        return Err(TrustError::TooMany {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > MAX_FILE_LEN {
        return Err(TrustError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
        });
    }
    let data = std::fs::read(path).map_err(io)?;
    out.push(parse_trust_file(&data, &path.display().to_string())?);
    Ok(())
}

/// The trust material in one file.
#[derive(Debug, Clone)]
pub struct TrustFile {
    /// What was found (`added` is left at zero).
    pub report: SourceReport,
    /// The certificates, in file order, duplicates kept.
    pub certificates: Vec<Certificate>,
    pub crls: Vec<Crl>,
}

/// Reads one file's contents: a master list, PEM (certificates and CRLs), a DER
/// certificate or a DER CRL. A master list whose signature is `invalid` is refused.
pub fn parse_trust_file(data: &[u8], source: &str) -> Result<TrustFile, TrustError> {
    let path = PathBuf::from(source);
    let mut file = TrustFile {
        report: SourceReport {
            path: source.to_string(),
            kind: "pem",
            certificates: 0,
            added: 0,
            crls: 0,
            errors: Vec::new(),
            master_list_signature: None,
        },
        certificates: Vec::new(),
        crls: Vec::new(),
    };
    if pem::is_pem(data) {
        for (label, block) in pem::decode_all(data) {
            match (label.as_str(), block) {
                (_, Err(e)) => file.report.errors.push(format!("{label}: {e}")),
                ("CERTIFICATE" | "TRUSTED CERTIFICATE", Ok(bytes)) => {
                    match Certificate::from_der(&bytes) {
                        Ok(c) => file.certificates.push(c),
                        Err(e) => file.report.errors.push(format!("certificate: {e}")),
                    }
                }
                ("X509 CRL", Ok(bytes)) => match Crl::from_der(&bytes) {
                    Ok(c) => file.crls.push(c),
                    Err(e) => file.report.errors.push(format!("CRL: {e}")),
                },
                ("CMS" | "PKCS7", Ok(bytes)) => {
                    let sub = parse_master_list(&bytes, &path)?;
                    file.report.errors.extend(sub.report.errors);
                    file.report.master_list_signature = sub.report.master_list_signature;
                    file.certificates.extend(sub.certificates);
                    file.crls.extend(sub.crls);
                }
                // Private keys and other blocks are not trust material.
                _ => {}
            }
        }
        file.report.certificates = file.certificates.len();
        file.report.crls = file.crls.len();
        if file.certificates.is_empty() && file.crls.is_empty() {
            return Err(TrustError::Unrecognised {
                path,
                reason: if file.report.errors.is_empty() {
                    "no certificate or CRL in the PEM".into()
                } else {
                    file.report.errors.join("; ")
                },
            });
        }
        return Ok(file);
    }
    // DER: a ContentInfo has an OID right after the outer header; a certificate or CRL
    // a SEQUENCE.
    let inner_tag = tlv::Reader::new(data)
        .read()
        .ok()
        .and_then(|t| t.reader().peek_tag());
    let looks_like_content_info = inner_tag == Some(asn1::OBJECT_IDENTIFIER)
        || (data.get(..2) == Some(&[0x30, 0x80]) && data.get(2) == Some(&0x06));
    if looks_like_content_info {
        return parse_master_list(data, &path);
    }
    match Certificate::from_der(data) {
        Ok(c) => {
            file.report.kind = "der-certificate";
            file.report.certificates = 1;
            file.certificates.push(c);
            Ok(file)
        }
        Err(cert_err) => match Crl::from_der(data) {
            Ok(crl) => {
                file.report.kind = "der-crl";
                file.report.crls = 1;
                file.crls.push(crl);
                Ok(file)
            }
            Err(_) => Err(TrustError::Unrecognised {
                path,
                reason: cert_err.to_string(),
            }),
        },
    }
}

fn parse_master_list(data: &[u8], path: &Path) -> Result<TrustFile, TrustError> {
    let ml = MasterList::from_bytes(data).map_err(|e| TrustError::Unrecognised {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let signature = ml.verify_signature();
    if signature.status == "invalid" {
        return Err(TrustError::BadMasterList {
            path: path.to_path_buf(),
            reason: signature.problems.join("; "),
        });
    }
    let crls: Vec<Crl> = ml
        .signed_data
        .crls
        .iter()
        .filter_map(|c| Crl::from_der(c).ok())
        .collect();
    Ok(TrustFile {
        report: SourceReport {
            path: path.display().to_string(),
            kind: "master-list",
            certificates: ml.certificates.len(),
            added: 0,
            crls: crls.len(),
            errors: ml
                .certificate_errors
                .iter()
                .map(|(i, e)| format!("certificate #{i}: {e}"))
                .collect(),
            master_list_signature: Some(signature),
        },
        certificates: ml.certificates,
        crls,
    })
}
