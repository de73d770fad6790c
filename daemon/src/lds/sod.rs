//! EF.SOD, the document security object: application tag `0x77` around a CMS
//! `ContentInfo` whose SignedData encapsulates an `LDSSecurityObject` (v0, or v1 with
//! `LDSVersionInfo`) holding the hash of every data group.

use crate::pki::DerError;
use crate::pki::algorithm::AlgorithmIdentifier;
use crate::pki::ber;
use crate::pki::cms::SignedData;
use crate::pki::oid;
use apdu::asn1;
use apdu::hash::HashAlgorithm;
use apdu::tlv::{self, Tlv};
use std::collections::BTreeMap;

/// Largest EF.SOD accepted (real ones are 2–8 KiB; a few chains push 30 KiB).
pub const MAX_SOD_LEN: usize = 256 * 1024;

/// `LDSVersionInfo` of a v1 security object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LdsVersionInfo {
    /// e.g. "0108".
    pub lds_version: String,
    /// e.g. "040000".
    pub unicode_version: String,
}

/// The `LDSSecurityObject`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdsSecurityObject {
    /// 0 (v0) or 1 (v1).
    pub version: u8,
    /// The hash algorithm identifier of the data group hashes.
    pub hash_algorithm: AlgorithmIdentifier,
    /// Data group number (1..=16) to hash value.
    pub hashes: BTreeMap<u8, Vec<u8>>,
    /// Present in v1.
    pub version_info: Option<LdsVersionInfo>,
}

impl LdsSecurityObject {
    /// Parses the DER `LDSSecurityObject`.
    pub fn from_der(data: &[u8]) -> Result<Self, DerError> {
        const CTX: &str = "LDSSecurityObject";
        let seq = Tlv::parse_as(data, asn1::SEQUENCE, CTX)?;
        let mut r = seq.reader();
        let version =
            asn1::small_integer(&r.expect(asn1::INTEGER, CTX)?).map_err(|e| e.within(CTX))?;
        let version = match version {
            0 | 1 => version as u8,
            _ => return Err(DerError::new(CTX, "unknown version")),
        };
        let hash_algorithm = AlgorithmIdentifier::from_der(&r.read()?)?;
        let list = r.expect(asn1::SEQUENCE, "dataGroupHashValues")?;
        let mut hashes = BTreeMap::new();
        let mut lr = list.reader();
        while !lr.is_empty() {
            let item = lr.expect(asn1::SEQUENCE, "DataGroupHash")?;
            let mut ir = item.reader();
            let n = asn1::small_integer(&ir.expect(asn1::INTEGER, "dataGroupNumber")?)
                .map_err(|e| e.within("dataGroupNumber"))?;
            let value = ir.expect(asn1::OCTET_STRING, "dataGroupHashValue")?;
            if !(1..=16).contains(&n) {
                return Err(DerError::new(CTX, "data group number out of range"));
            }
            if value.value().len() > 128 {
                return Err(DerError::new(CTX, "hash value too long"));
            }
            if hashes.insert(n as u8, value.value().to_vec()).is_some() {
                return Err(DerError::new(CTX, "data group listed twice"));
            }
        }
        let version_info = match r.optional(asn1::SEQUENCE)? {
            Some(info) => {
                let mut ir = info.reader();
                let lds = ir.expect(asn1::PRINTABLE_STRING, "ldsVersion")?;
                let uni = ir.expect(asn1::PRINTABLE_STRING, "unicodeVersion")?;
                Some(LdsVersionInfo {
                    lds_version: String::from_utf8_lossy(lds.value()).into_owned(),
                    unicode_version: String::from_utf8_lossy(uni.value()).into_owned(),
                })
            }
            None => None,
        };
        r.finish(CTX)?;
        Ok(LdsSecurityObject {
            version,
            hash_algorithm,
            hashes,
            version_info,
        })
    }

    /// The hash algorithm, if supported.
    pub fn hash(&self) -> Option<HashAlgorithm> {
        HashAlgorithm::from_oid(&self.hash_algorithm.oid)
    }

    /// Builds a security object over the given data groups (number → file bytes);
    /// v1 when `version_info` is given.
    pub fn new(
        hash: HashAlgorithm,
        data_groups: &BTreeMap<u8, Vec<u8>>,
        version_info: Option<LdsVersionInfo>,
    ) -> Self {
        LdsSecurityObject {
            version: u8::from(version_info.is_some()),
            hash_algorithm: AlgorithmIdentifier::new(hash.oid(), None),
            hashes: data_groups
                .iter()
                .map(|(n, bytes)| (*n, hash.digest(bytes)))
                .collect(),
            version_info,
        }
    }

    /// DER encoding.
    pub fn to_der(&self) -> Vec<u8> {
        let items: Vec<Vec<u8>> = self
            .hashes
            .iter()
            .map(|(n, h)| {
                asn1::sequence(&[
                    &asn1::small_integer_der(u64::from(*n)),
                    &asn1::octet_string(h),
                ])
            })
            .collect();
        let refs: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
        let mut parts = vec![
            asn1::small_integer_der(u64::from(self.version)),
            self.hash_algorithm.to_der(),
            asn1::sequence(&refs),
        ];
        if let Some(info) = &self.version_info {
            parts.push(asn1::sequence(&[
                &tlv::encode(asn1::PRINTABLE_STRING, info.lds_version.as_bytes()),
                &tlv::encode(asn1::PRINTABLE_STRING, info.unicode_version.as_bytes()),
            ]));
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        asn1::sequence(&refs)
    }
}

/// A parsed EF.SOD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sod {
    /// The CMS structure.
    pub signed_data: SignedData,
    /// Its content.
    pub lds: LdsSecurityObject,
}

impl Sod {
    /// Whether `bytes` match data group `n`'s hash here (compared in constant time); a
    /// data group decoded before this holds, or whose hash is absent, is untrusted input.
    pub fn hash_matches(&self, n: u8, bytes: &[u8]) -> bool {
        match (self.lds.hash(), self.lds.hashes.get(&n)) {
            (Some(hash), Some(expected)) => apdu::crypto::mac_eq(&hash.digest(bytes), expected),
            _ => false,
        }
    }

    /// Parses EF.SOD (with its `0x77` tag; a bare ContentInfo is accepted too).
    pub fn from_bytes(data: &[u8]) -> Result<Sod, DerError> {
        const CTX: &str = "EF.SOD";
        if data.len() > MAX_SOD_LEN {
            return Err(DerError::new(CTX, "too large"));
        }
        let content_info = match data.first() {
            Some(0x77) => {
                let owned;
                // The wrapper itself may use an indefinite length.
                let d = if data.get(1) == Some(&0x80) {
                    owned = ber::ber_to_der(data)?;
                    owned.as_slice()
                } else {
                    data
                };
                let mut r = tlv::Reader::new(d);
                r.expect(super::EF_SOD_TAG, CTX)?.value().to_vec()
            }
            Some(0x30) => data.to_vec(),
            _ => return Err(DerError::new(CTX, "not an EF.SOD (tag 77)")),
        };
        let signed_data = SignedData::from_content_info(&content_info)?;
        if signed_data.content_type != oid::LDS_SECURITY_OBJECT {
            return Err(DerError::new(CTX, "content is not an LDSSecurityObject"));
        }
        let lds = LdsSecurityObject::from_der(&signed_data.content)?;
        Ok(Sod { signed_data, lds })
    }

    /// Wraps a DER ContentInfo in the EF.SOD tag.
    pub fn wrap(content_info: &[u8]) -> Vec<u8> {
        tlv::encode(super::EF_SOD_TAG, content_info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lds_security_object_round_trips_v0_and_v1() {
        let mut dgs = BTreeMap::new();
        dgs.insert(1u8, b"dg1".to_vec());
        dgs.insert(13u8, b"dg13".to_vec());
        for info in [
            None,
            Some(LdsVersionInfo {
                lds_version: "0108".into(),
                unicode_version: "040000".into(),
            }),
        ] {
            let lso = LdsSecurityObject::new(HashAlgorithm::Sha256, &dgs, info.clone());
            let parsed = LdsSecurityObject::from_der(&lso.to_der()).unwrap();
            assert_eq!(parsed, lso);
            assert_eq!(parsed.version, u8::from(info.is_some()));
            assert_eq!(parsed.hash(), Some(HashAlgorithm::Sha256));
        }
    }

    #[test]
    fn rejects_garbage() {
        assert!(Sod::from_bytes(&[]).is_err());
        assert!(Sod::from_bytes(&[0x77, 0x00]).is_err());
        assert!(Sod::from_bytes(&[0x77, 0x80, 0x00, 0x00]).is_err());
        assert!(Sod::from_bytes(&[0x61, 0x00]).is_err());
    }
}
