//! Certificate revocation lists (RFC 5280 §5), as CSCAs publish them for their
//! document signers.

use super::DerError;
use super::algorithm::AlgorithmIdentifier;
use super::certificate::{Certificate, Name, offset_in, serial_to_hex, x509_reason};
use super::oid;
use super::signature::{self, SigError, SignatureAlgorithm};
use super::time::Time;
use apdu::asn1;
use apdu::tlv::Tlv;
use std::ops::Range;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

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
        let outer = Tlv::parse_as(data, asn1::SEQUENCE, CTX)?;
        // The unsigned outer elements are read strictly here (see Certificate::from_tlv).
        let mut r = outer.reader();
        r.expect(asn1::SEQUENCE, "tbsCertList")?;
        let signature_algorithm = AlgorithmIdentifier::from_der(&r.read()?)?;
        let signature = asn1::bit_string_bytes(&r.expect(asn1::BIT_STRING, CTX)?)
            .map_err(|e| e.within("CRL signature"))?
            .to_vec();
        let (rest, crl) = CertificateRevocationList::from_der(outer.raw())
            .map_err(|e| DerError::new(CTX, x509_reason(&e)))?;
        if !rest.is_empty() {
            return Err(DerError::new(CTX, "trailing bytes"));
        }
        let list = &crl.tbs_cert_list;
        let tbs_raw: &[u8] = list.as_ref();
        let tbs_start = offset_in(outer.raw(), tbs_raw).ok_or(DerError::new(CTX, "tbsCertList"))?;
        let tbs_range = tbs_start..tbs_start + tbs_raw.len();
        let issuer = Name::from_x509(&list.issuer)?;
        let this_update = Time(list.this_update.timestamp());
        let next_update = list.next_update.map(|t| Time(t.timestamp()));
        let revoked = list
            .revoked_certificates
            .iter()
            .map(|entry| RevokedEntry {
                serial: entry.raw_serial().to_vec(),
                revocation_date: Time(entry.revocation_date.timestamp()),
            })
            .collect();
        let mut authority_key_id = None;
        for extension in list.extensions() {
            if extension.oid.as_bytes() == oid::EXT_AUTHORITY_KEY_ID.content()
                && let ParsedExtension::AuthorityKeyIdentifier(aki) = extension.parsed_extension()
                && let Some(id) = &aki.key_identifier
            {
                authority_key_id = Some(id.0.to_vec());
            }
        }
        Ok(Crl {
            der: outer.raw().to_vec(),
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
