//! EF.COM (ICAO 9303-10 §4.6.1): the LDS and Unicode versions and the list of data
//! groups present.
//!
//! EF.COM is not covered by the SOD, so its list is a hint for what to read, never proof
//! of what the card holds.

use apdu::tlv::{self, Tag};

use super::{DataGroup, EF_COM_TAG, Error, outer};

const LDS_VERSION: Tag = Tag::new(0x5F01);
const UNICODE_VERSION: Tag = Tag::new(0x5F36);
const TAG_LIST: Tag = Tag::new(0x5C);

/// The decoded EF.COM. Holds no personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EfCom {
    /// LDS version as stored, four digits `aabb` (e.g. `"0107"` for LDS 1.7).
    pub lds_version: String,
    /// Unicode version as stored, six digits `aabbcc` (e.g. `"040000"` for 4.0.0).
    pub unicode_version: String,
    /// The data groups the tag list names, in the order listed, without repeats.
    pub data_groups: Vec<DataGroup>,
    /// Tags in the list that name no data group (kept so nothing is silently lost).
    pub unknown_tags: Vec<Tag>,
}

impl EfCom {
    /// An EF.COM for LDS 1.7 / Unicode 4.0.0 listing `data_groups`.
    pub fn new(data_groups: &[DataGroup]) -> EfCom {
        EfCom {
            lds_version: "0107".to_owned(),
            unicode_version: "040000".to_owned(),
            data_groups: data_groups.to_vec(),
            unknown_tags: Vec::new(),
        }
    }

    /// Decodes EF.COM.
    pub fn parse(bytes: &[u8]) -> Result<EfCom, Error> {
        let file = outer(bytes, EF_COM_TAG)?;
        let lds = file.require(LDS_VERSION, "EF.COM LDS version (5F01)")?;
        let unicode = file.require(UNICODE_VERSION, "EF.COM Unicode version (5F36)")?;
        let list = file.require(TAG_LIST, "EF.COM tag list (5C)")?;
        let lds_version = digits(lds.value(), 4, "EF.COM LDS version")?;
        let unicode_version = digits(unicode.value(), 6, "EF.COM Unicode version")?;

        let mut data_groups = Vec::new();
        let mut unknown_tags = Vec::new();
        let mut rest = list.value();
        while !rest.is_empty() {
            let (tag, used) = Tag::parse(rest)?;
            rest = rest.get(used..).unwrap_or_default();
            match DataGroup::from_tag(tag) {
                Some(dg) if !data_groups.contains(&dg) => data_groups.push(dg),
                Some(_) => {}
                None if !unknown_tags.contains(&tag) => unknown_tags.push(tag),
                None => {}
            }
        }
        Ok(EfCom {
            lds_version,
            unicode_version,
            data_groups,
            unknown_tags,
        })
    }

    /// The LDS version as `major.minor` (`"1.7"`).
    pub fn lds_version_display(&self) -> String {
        let pairs = pairs(&self.lds_version);
        pairs.join(".")
    }

    /// The Unicode version as `major.minor.release` (`"4.0.0"`).
    pub fn unicode_version_display(&self) -> String {
        let pairs = pairs(&self.unicode_version);
        pairs.join(".")
    }

    /// Whether the tag list names `dg`.
    pub fn lists(&self, dg: DataGroup) -> bool {
        self.data_groups.contains(&dg)
    }

    /// The encoded file.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        if self.lds_version.len() != 4 || self.unicode_version.len() != 6 {
            return Err(Error::Encode("EF.COM versions must have 4 and 6 digits"));
        }
        let mut list = Vec::new();
        for dg in &self.data_groups {
            list.extend_from_slice(&dg.tag().to_bytes());
        }
        for tag in &self.unknown_tags {
            list.extend_from_slice(&tag.to_bytes());
        }
        let mut value = Vec::new();
        tlv::encode_into(LDS_VERSION, self.lds_version.as_bytes(), &mut value);
        tlv::encode_into(UNICODE_VERSION, self.unicode_version.as_bytes(), &mut value);
        tlv::encode_into(TAG_LIST, &list, &mut value);
        Ok(tlv::encode(EF_COM_TAG, &value))
    }
}

fn digits(bytes: &[u8], len: usize, what: &'static str) -> Result<String, Error> {
    if bytes.len() != len || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(Error::Malformed(what));
    }
    Ok(bytes.iter().map(|b| char::from(*b)).collect())
}

/// `"0107"` → `["1", "7"]`: two-digit groups without leading zeros.
fn pairs(digits: &str) -> Vec<String> {
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let n = pair.iter().fold(0u32, |acc, b| {
                acc * 10 + u32::from(b.wrapping_sub(b'0') % 10)
            });
            n.to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bsi(name: &str) -> Option<Vec<u8>> {
        Some(crate::reference::read(&format!(
            "data/bsi-tr03105-5/{name}"
        )))
    }

    #[test]
    fn bsi_reference_ef_com() {
        let Some(bytes) = bsi("EF_COM.bin") else {
            return;
        };
        let com = EfCom::parse(&bytes).unwrap();
        assert_eq!(com.lds_version_display(), "1.7");
        assert_eq!(com.unicode_version_display(), "4.0.0");
        assert_eq!(
            com.data_groups,
            [
                DataGroup::DG1,
                DataGroup::DG2,
                DataGroup::DG3,
                DataGroup::DG4,
                DataGroup::DG14
            ]
        );
        assert!(com.unknown_tags.is_empty());
        assert_eq!(com.encode().unwrap(), bytes);
    }

    #[test]
    fn round_trip_with_odd_lists() {
        let mut com = EfCom::new(&[DataGroup::DG1, DataGroup::DG13, DataGroup::DG15]);
        com.unknown_tags.push(Tag::new(0x77));
        let bytes = com.encode().unwrap();
        assert_eq!(EfCom::parse(&bytes).unwrap(), com);
        assert!(com.lists(DataGroup::DG13));
        assert!(!com.lists(DataGroup::DG2));

        // Repeats are dropped.
        let mut value = Vec::new();
        tlv::encode_into(LDS_VERSION, b"0108", &mut value);
        tlv::encode_into(UNICODE_VERSION, b"040000", &mut value);
        tlv::encode_into(TAG_LIST, &[0x61, 0x61, 0x75], &mut value);
        let com = EfCom::parse(&tlv::encode(EF_COM_TAG, &value)).unwrap();
        assert_eq!(com.data_groups, [DataGroup::DG1, DataGroup::DG2]);
    }

    #[test]
    fn broken_files_are_refused() {
        assert!(EfCom::parse(&[]).is_err());
        assert!(matches!(
            EfCom::parse(&[0x61, 0x00]),
            Err(Error::WrongTag { .. })
        ));
        assert!(matches!(EfCom::parse(&[0x60, 0x00]), Err(Error::Tlv(_))));
        let mut value = Vec::new();
        tlv::encode_into(LDS_VERSION, b"01x7", &mut value);
        tlv::encode_into(UNICODE_VERSION, b"040000", &mut value);
        tlv::encode_into(TAG_LIST, &[0x61], &mut value);
        assert!(EfCom::parse(&tlv::encode(EF_COM_TAG, &value)).is_err());
        // A tag list ending in the middle of a two-byte tag.
        let mut value = Vec::new();
        tlv::encode_into(LDS_VERSION, b"0107", &mut value);
        tlv::encode_into(UNICODE_VERSION, b"040000", &mut value);
        tlv::encode_into(TAG_LIST, &[0x61, 0x5F], &mut value);
        assert!(EfCom::parse(&tlv::encode(EF_COM_TAG, &value)).is_err());
    }
}
