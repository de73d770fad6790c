//! Certificate revocation lists (RFC 5280 §5), as CSCAs publish them for their
//! document signers.

use super::certificate::{AlgorithmIdentifier, Certificate, Name, serial_to_hex};
use super::der::{self, DerError, tag};
use super::oid;
use super::signature::{self, SigError, SignatureAlgorithm};
use super::time::Time;
use std::ops::Range;

/// Largest CRL accepted.
pub const MAX_CRL_LEN: usize = 16 * 1024 * 1024;

/// One revoked certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial number content octets.
    pub serial: Vec<u8>,
    pub revocation_date: Time,
}

/// A parsed CRL, owning its DER encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    pub der: Vec<u8>,
    tbs: Range<usize>,
    pub issuer: Name,
    pub this_update: Time,
    pub next_update: Option<Time>,
    pub revoked: Vec<RevokedEntry>,
    pub authority_key_id: Option<Vec<u8>>,
    pub signature_algorithm: AlgorithmIdentifier,
    pub signature: Vec<u8>,
}

impl Crl {
    /// Parses a DER CRL.
    pub fn from_der(data: &[u8]) -> Result<Crl, DerError> {
        const CTX: &str = "CRL";
        if data.len() > MAX_CRL_LEN {
            return Err(DerError::new(CTX, "too large"));
        }
        let outer = der::parse_single(data, tag::SEQUENCE, CTX)?;
        let mut r = outer.reader();
        let tbs = r.expect(tag::SEQUENCE, "tbsCertList")?;
        let signature_algorithm = AlgorithmIdentifier::from_der(&r.read()?)?;
        let signature =
            der::bit_string_bytes(&r.expect(tag::BIT_STRING, CTX)?, "CRL signature")?.to_vec();
        let tbs_start = outer.raw.len() - outer.value.len();
        let tbs_range = tbs_start..tbs_start + tbs.raw.len();

        let mut t = tbs.reader();
        let _version = t.optional(tag::INTEGER)?;
        let _alg = AlgorithmIdentifier::from_der(&t.read()?)?;
        let issuer = Name::from_der(&t.read()?)?;
        let this_update = Time::from_der(&t.read()?)?;
        let next_update = match t.peek_tag() {
            Some(tag::UTC_TIME | tag::GENERALIZED_TIME) => Some(Time::from_der(&t.read()?)?),
            _ => None,
        };
        let mut revoked = Vec::new();
        if let Some(list) = t.optional(tag::SEQUENCE)? {
            let mut lr = list.reader();
            while !lr.is_empty() {
                let entry = lr.expect(tag::SEQUENCE, "revokedCertificate")?;
                let mut er = entry.reader();
                let serial = er.expect(tag::INTEGER, "userCertificate")?.value.to_vec();
                let revocation_date = Time::from_der(&er.read()?)?;
                revoked.push(RevokedEntry {
                    serial,
                    revocation_date,
                });
            }
        }
        let mut authority_key_id = None;
        if let Some(exts) = t.optional(tag::ctx(0))?
            && let Ok(list) = der::parse_single(exts.value, tag::SEQUENCE, "crlExtensions")
        {
            let mut er = list.reader();
            while let Ok(ext) = er.expect(tag::SEQUENCE, "extension") {
                let mut xr = ext.reader();
                let Ok(id) = xr.expect(tag::OID, "extension") else {
                    continue;
                };
                let _ = xr.optional(tag::BOOLEAN);
                if id.value == oid::EXT_AUTHORITY_KEY_ID
                    && let Ok(v) = xr.expect(tag::OCTET_STRING, "extension")
                    && let Ok(seq) = der::parse_single(v.value, tag::SEQUENCE, "AKI")
                    && let Ok(Some(k)) = seq.reader().optional(tag::ctx_prim(0))
                {
                    authority_key_id = Some(k.value.to_vec());
                }
            }
        }
        Ok(Crl {
            der: data.to_vec(),
            tbs: tbs_range,
            issuer,
            this_update,
            next_update,
            revoked,
            authority_key_id,
            signature_algorithm,
            signature,
        })
    }

    /// The signed part.
    pub fn tbs(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or(&[])
    }

    /// Whether `issuer` (by name and key identifier) may have issued this CRL.
    pub fn may_be_issued_by(&self, issuer: &Certificate) -> bool {
        match (&self.authority_key_id, &issuer.subject_key_id) {
            (Some(a), Some(s)) => a == s,
            _ => self.issuer.matches(&issuer.subject),
        }
    }

    /// Checks the CRL's signature with `issuer`'s key.
    pub fn verify_signature(&self, issuer: &Certificate) -> Result<(), SigError> {
        let alg = SignatureAlgorithm::from_identifier(&self.signature_algorithm, None)?;
        signature::verify(alg, &issuer.public_key, self.tbs(), &self.signature)
    }

    /// The entry revoking `cert`, if any (the CRL's issuer must already be known to be
    /// `cert`'s issuer).
    pub fn revocation_of(&self, cert: &Certificate) -> Option<&RevokedEntry> {
        self.revoked.iter().find(|e| cert.serial_matches(&e.serial))
    }

    /// The PEM encoding.
    pub fn to_pem(&self) -> String {
        super::pem::encode("X509 CRL", &self.der)
    }

    /// Serial numbers listed, in hexadecimal.
    pub fn revoked_serials(&self) -> Vec<String> {
        self.revoked
            .iter()
            .map(|e| serial_to_hex(&e.serial))
            .collect()
    }
}
