//! ICAO CSCA master lists (ICAO 9303 part 12 §9): a CMS SignedData whose content is
//! `CscaMasterList ::= SEQUENCE { version INTEGER, certList SET OF Certificate }`,
//! signed by a master list signer whose certificate is issued by one of the listed
//! CSCAs (its own country's).

use super::DerError;
use super::certificate::Certificate;
use super::cms::{SignedData, SignerError};
use super::oid;
use super::signature::{self, SignatureAlgorithm};
use apdu::asn1;
use apdu::tlv::Tlv;

/// A parsed master list.
#[derive(Debug, Clone)]
pub struct MasterList {
    /// The CMS envelope (its content is the list).
    pub signed_data: SignedData,
    /// `CscaMasterList.version`.
    pub version: u64,
    /// The listed certificates that parsed, in list order.
    pub certificates: Vec<Certificate>,
    /// Listed certificates that did not parse: position in the list and reason.
    pub certificate_errors: Vec<(usize, DerError)>,
}

/// The outcome of checking a master list's own signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MasterListSignature {
    /// `valid`: the CMS signature verifies and the signer certificate chains to a listed
    /// CSCA; `invalid`: a signature was checked and is wrong; `unverified`: it could not
    /// be checked (unsupported algorithm, signer certificate or its issuer missing).
    pub status: &'static str,
    /// The signer certificate's subject.
    pub signer: Option<String>,
    /// The CSCA that issued the signer certificate.
    pub signer_issuer: Option<String>,
    /// signingTime, when present.
    pub signing_time: Option<super::time::Time>,
    /// Why it is not `valid`.
    pub problems: Vec<String>,
}

impl MasterList {
    /// Parses a `.ml` file (a DER or BER ContentInfo).
    pub fn from_bytes(data: &[u8]) -> Result<MasterList, DerError> {
        const CTX: &str = "CscaMasterList";
        let signed_data = SignedData::from_content_info(data)?;
        if signed_data.content_type != oid::CSCA_MASTER_LIST {
            return Err(DerError::new(CTX, "content is not a CSCA master list"));
        }
        let list = Tlv::parse_as(&signed_data.content, asn1::SEQUENCE, CTX)?;
        let mut r = list.reader();
        let version =
            asn1::small_integer(&r.expect(asn1::INTEGER, CTX)?).map_err(|e| e.within(CTX))?;
        let set = r.expect(asn1::SET, "certList")?;
        let mut certificates = Vec::new();
        let mut certificate_errors = Vec::new();
        let mut sr = set.reader();
        let mut index = 0usize;
        while !sr.is_empty() {
            if index >= super::cms::MAX_CERTIFICATES {
                return Err(DerError::new(CTX, "too many certificates"));
            }
            let tlv = sr.read()?;
            match Certificate::from_tlv(&tlv) {
                Ok(c) => certificates.push(c),
                Err(e) => certificate_errors.push((index, e)),
            }
            index += 1;
        }
        Ok(MasterList {
            signed_data,
            version,
            certificates,
            certificate_errors,
        })
    }

    /// Checks the list's signature and the signer certificate's issuer among the listed
    /// certificates.
    pub fn verify_signature(&self) -> MasterListSignature {
        let mut result = MasterListSignature {
            status: "unverified",
            signer: None,
            signer_issuer: None,
            signing_time: None,
            problems: Vec::new(),
        };
        let [signer] = self.signed_data.signer_infos.as_slice() else {
            result.problems.push(format!(
                "{} signers, expected exactly one",
                self.signed_data.signer_infos.len()
            ));
            return result;
        };
        result.signing_time = signer.signing_time();
        let Some(cert) = self.signed_data.find_certificate(signer) else {
            result
                .problems
                .push("signer certificate not embedded".into());
            return result;
        };
        result.signer = Some(cert.subject.to_string());
        match self.signed_data.verify_signer(signer, cert) {
            Ok(()) => {}
            Err(SignerError::Signature(e)) if !e.is_forgery() => {
                result
                    .problems
                    .push(format!("list signature not checkable: {e}"));
                return result;
            }
            Err(SignerError::UnsupportedDigest(d)) => {
                result.problems.push(format!("unsupported digest {d}"));
                return result;
            }
            Err(e) => {
                result.status = "invalid";
                result.problems.push(format!("list signature: {e}"));
                return result;
            }
        }
        // The signer's certificate must come from a CSCA in the list (or embedded).
        let candidates = self
            .certificates
            .iter()
            .chain(self.signed_data.certificates.iter())
            .filter(|c| c.may_have_issued(cert) && c.der != cert.der);
        let mut any_candidate = false;
        let mut last_problem = None;
        for issuer in candidates {
            any_candidate = true;
            let checked = SignatureAlgorithm::from_identifier(&cert.signature_algorithm, None)
                .and_then(|alg| {
                    signature::verify(alg, &issuer.public_key, cert.tbs(), &cert.signature)
                });
            match checked {
                Ok(()) => {
                    result.status = "valid";
                    result.signer_issuer = Some(issuer.subject.to_string());
                    return result;
                }
                Err(e) => last_problem = Some(e),
            }
        }
        match (any_candidate, last_problem) {
            (false, _) => result
                .problems
                .push("the signer certificate's issuer is not in the list".into()),
            (true, Some(e)) if e.is_forgery() => {
                result.status = "invalid";
                result
                    .problems
                    .push(format!("signer certificate signature: {e}"));
            }
            (true, Some(e)) => result
                .problems
                .push(format!("signer certificate not checkable: {e}")),
            (true, None) => {}
        }
        result
    }
}
