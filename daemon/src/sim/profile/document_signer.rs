//! Signing the card's security objects (EF.SOD, EF.CardSecurity) with the profile's
//! document signer, deterministically so that a profile always serves the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use apdu::rng::DeterministicRng;
use zeroize::Zeroizing;

use super::builder::Builder;
use super::format::SodSection;
use super::keys::hash_by_name;
use super::{ProfileError, read_limited};
use crate::lds::DataGroup;
use crate::pki::certificate::Certificate;
use crate::pki::signature::SignatureAlgorithm;
use crate::sim::issue::{self, PrivateKey, SodOptions};
impl Builder {
    /// The first certificate of a PEM file.
    pub(super) fn certificate(&self, path: &Path) -> Result<Certificate, ProfileError> {
        let pem = read_limited(path)?;
        let der = crate::pki::pem::decode_all(&pem)
            .into_iter()
            .find_map(|(label, b)| (label == "CERTIFICATE").then_some(b).and_then(Result::ok))
            .ok_or_else(|| self.invalid(format!("{}: no certificate", path.display())))?;
        Certificate::from_der(&der).map_err(|e| self.invalid(format!("{}: {e}", path.display())))
    }

    /// The document signer of `[sod]` (certificate and key) and the signing options.
    pub(super) fn signer(
        &self,
        s: &SodSection,
    ) -> Result<(Certificate, PrivateKey, SodOptions), ProfileError> {
        let signer = self.path(&s.signer);
        let cert_path = signer.with_extension("pem");
        let key_path = PathBuf::from(format!("{}.key.pem", signer.display()));
        let certificate = self.certificate(&cert_path)?;
        let key = PrivateKey::from_pem(&Zeroizing::new(read_limited(&key_path)?))
            .map_err(|e| self.invalid(format!("signer key: {e}")))?;
        let hash = hash_by_name(&s.hash).ok_or_else(|| self.invalid("sod.hash"))?;
        let signature = match s.signature.as_str() {
            "ecdsa" => SignatureAlgorithm::Ecdsa(hash),
            "rsa-pss" => SignatureAlgorithm::RsaPss {
                hash,
                salt_len: hash.output_len(),
            },
            "rsa-pkcs1" => SignatureAlgorithm::RsaPkcs1v15(hash),
            other => {
                return Err(self.invalid(format!(
                    "sod.signature {other}: ecdsa, rsa-pss or rsa-pkcs1"
                )));
            }
        };
        let extra_certificates = s
            .extra_certificates
            .iter()
            .map(|p| self.certificate(&self.path(p)))
            .collect::<Result<_, _>>()?;
        let options = SodOptions {
            hash,
            signature,
            version_info: None,
            extra_certificates,
        };
        Ok((certificate, key, options))
    }

    /// Signs EF.SOD over `groups` (the data groups served, less any left unsigned), with
    /// the profile's document signer.
    pub(super) fn sign_sod(
        &self,
        s: &SodSection,
        groups: &BTreeMap<DataGroup, Vec<u8>>,
    ) -> Result<(Vec<u8>, Option<PathBuf>), ProfileError> {
        let (certificate, key, options) = self.signer(s)?;
        let by_number: BTreeMap<u8, Vec<u8>> = groups
            .iter()
            .map(|(dg, b)| (dg.number(), b.clone()))
            .collect();
        // Deterministic per profile: the same profile always serves the same EF.SOD.
        let seed = s.seed.as_deref().unwrap_or(&self.file.name);
        let mut rng = DeterministicRng::new(seed.as_bytes(), "EF.SOD");
        let sod = issue::issue_sod(&by_number, &certificate, &key, &options, &mut rng)
            .map_err(|e| self.invalid(format!("signing EF.SOD: {e}")))?;
        Ok((sod, s.csca.as_deref().map(|c| self.path(c))))
    }

    /// Signs EF.CardSecurity over `security_infos` with the profile's document signer.
    pub(super) fn sign_card_security(
        &self,
        s: &SodSection,
        security_infos: &[u8],
    ) -> Result<Vec<u8>, ProfileError> {
        let (certificate, key, options) = self.signer(s)?;
        let mut rng = DeterministicRng::new(self.file.name.as_bytes(), "EF.CardSecurity");
        issue::issue_card_security(security_infos, &certificate, &key, &options, &mut rng)
            .map_err(|e| self.invalid(format!("signing EF.CardSecurity: {e}")))
    }
}
