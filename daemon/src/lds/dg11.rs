//! DG11: additional personal details (ICAO 9303-10 §4.7.11).
//!
//! `6B { 5C tag list, 5F0E full name, A0 { 02 count, 5F0F other name… }, 5F10 personal
//! number, 5F2B full date of birth, 5F11 place of birth, 5F42 address, 5F12 telephone,
//! 5F13 profession, 5F14 title, 5F15 personal summary, 5F16 proof of citizenship,
//! 5F17 other travel document numbers, 5F18 custody information }`, every element
//! optional. Text is UTF-8 as stored (names keep their `<` separators); text that is not
//! valid UTF-8 makes the parse fail rather than be guessed at.

use apdu::tlv::{self, Tag, Tlv};

use super::text::{full_date, utf8};
use super::{COUNT_TAG, DataGroup, Error, Redacted, outer};

const TAG_LIST: Tag = Tag::new(0x5C);
const FULL_NAME: Tag = Tag::new(0x5F0E);
const OTHER_NAMES: Tag = Tag::new(0xA0);
const OTHER_NAME: Tag = Tag::new(0x5F0F);
const PERSONAL_NUMBER: Tag = Tag::new(0x5F10);
const FULL_BIRTH_DATE: Tag = Tag::new(0x5F2B);
const PLACE_OF_BIRTH: Tag = Tag::new(0x5F11);
const ADDRESS: Tag = Tag::new(0x5F42);
const TELEPHONE: Tag = Tag::new(0x5F12);
const PROFESSION: Tag = Tag::new(0x5F13);
const TITLE: Tag = Tag::new(0x5F14);
const PERSONAL_SUMMARY: Tag = Tag::new(0x5F15);
const PROOF_OF_CITIZENSHIP: Tag = Tag::new(0x5F16);
const OTHER_TD_NUMBERS: Tag = Tag::new(0x5F17);
const CUSTODY: Tag = Tag::new(0x5F18);

/// More repeated values than any document has.
const MAX_REPEATS: usize = 32;

/// The decoded DG11.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Dg11 {
    /// Full name in national characters (`SURNAME<<GIVEN<NAMES`).
    pub full_name: Option<String>,
    /// Other names.
    pub other_names: Vec<String>,
    /// Personal number.
    pub personal_number: Option<String>,
    /// Full date of birth, `YYYYMMDD`.
    pub full_birth_date: Option<String>,
    /// Place of birth (parts separated by `<`).
    pub place_of_birth: Option<String>,
    /// Permanent address (parts separated by `<`).
    pub address: Option<String>,
    /// Telephone.
    pub telephone: Option<String>,
    /// Profession.
    pub profession: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Personal summary.
    pub personal_summary: Option<String>,
    /// Proof of citizenship: an image (ISO/IEC 10918 JPEG), kept as bytes.
    pub proof_of_citizenship: Option<Vec<u8>>,
    /// Other valid travel document numbers.
    pub other_td_numbers: Vec<String>,
    /// Custody information.
    pub custody_information: Option<String>,
}

impl core::fmt::Debug for Dg11 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dg11").field("values", &Redacted).finish()
    }
}

impl Dg11 {
    /// Decodes DG11. A repeated element keeps its first value.
    pub fn parse(bytes: &[u8]) -> Result<Dg11, Error> {
        let file = outer(bytes, DataGroup::DG11.tag())?;
        let mut dg = Dg11::default();
        for element in file.children() {
            let element = element?;
            let value = element.value();
            let text = |what| utf8(value, what).map(Some);
            match element.tag() {
                TAG_LIST => {}
                FULL_NAME if dg.full_name.is_none() => dg.full_name = text("DG11 full name")?,
                OTHER_NAMES => {
                    for name in element.children() {
                        let name = name?;
                        match name.tag() {
                            COUNT_TAG => {}
                            OTHER_NAME => push(&mut dg.other_names, &name, "DG11 other name")?,
                            _ => {}
                        }
                    }
                }
                // Some documents list other names without the A0 template.
                OTHER_NAME => push(&mut dg.other_names, &element, "DG11 other name")?,
                PERSONAL_NUMBER if dg.personal_number.is_none() => {
                    dg.personal_number = text("DG11 personal number")?;
                }
                FULL_BIRTH_DATE if dg.full_birth_date.is_none() => {
                    dg.full_birth_date = Some(full_date(value, "DG11 full date of birth")?);
                }
                PLACE_OF_BIRTH if dg.place_of_birth.is_none() => {
                    dg.place_of_birth = text("DG11 place of birth")?;
                }
                ADDRESS if dg.address.is_none() => dg.address = text("DG11 address")?,
                TELEPHONE if dg.telephone.is_none() => dg.telephone = text("DG11 telephone")?,
                PROFESSION if dg.profession.is_none() => dg.profession = text("DG11 profession")?,
                TITLE if dg.title.is_none() => dg.title = text("DG11 title")?,
                PERSONAL_SUMMARY if dg.personal_summary.is_none() => {
                    dg.personal_summary = text("DG11 personal summary")?;
                }
                PROOF_OF_CITIZENSHIP if dg.proof_of_citizenship.is_none() => {
                    dg.proof_of_citizenship = Some(value.to_vec());
                }
                OTHER_TD_NUMBERS => {
                    push(&mut dg.other_td_numbers, &element, "DG11 other TD numbers")?;
                }
                CUSTODY if dg.custody_information.is_none() => {
                    dg.custody_information = text("DG11 custody information")?;
                }
                _ => {}
            }
        }
        Ok(dg)
    }

    /// The encoded DG11, with its tag list.
    pub fn encode(&self) -> Vec<u8> {
        let mut tags: Vec<Tag> = Vec::new();
        let mut body = Vec::new();
        let mut put = |tag: Tag, value: &[u8]| {
            // The tag list names each kind of element once.
            if !tags.contains(&tag) {
                tags.push(tag);
            }
            tlv::encode_into(tag, value, &mut body);
        };
        let text = |v: &Option<String>| v.as_ref().map(|s| s.as_bytes().to_vec());
        if let Some(v) = text(&self.full_name) {
            put(FULL_NAME, &v);
        }
        if !self.other_names.is_empty() {
            let mut names = Vec::new();
            let count = u8::try_from(self.other_names.len()).unwrap_or(u8::MAX);
            tlv::encode_into(COUNT_TAG, &[count], &mut names);
            for name in &self.other_names {
                tlv::encode_into(OTHER_NAME, name.as_bytes(), &mut names);
            }
            put(OTHER_NAMES, &names);
        }
        let singles = [
            (PERSONAL_NUMBER, text(&self.personal_number)),
            (FULL_BIRTH_DATE, text(&self.full_birth_date)),
            (PLACE_OF_BIRTH, text(&self.place_of_birth)),
            (ADDRESS, text(&self.address)),
            (TELEPHONE, text(&self.telephone)),
            (PROFESSION, text(&self.profession)),
            (TITLE, text(&self.title)),
            (PERSONAL_SUMMARY, text(&self.personal_summary)),
            (PROOF_OF_CITIZENSHIP, self.proof_of_citizenship.clone()),
        ];
        for (tag, value) in singles {
            if let Some(value) = value {
                put(tag, &value);
            }
        }
        for number in &self.other_td_numbers {
            put(OTHER_TD_NUMBERS, number.as_bytes());
        }
        if let Some(v) = text(&self.custody_information) {
            put(CUSTODY, &v);
        }
        let list: Vec<u8> = tags.iter().flat_map(|t| t.to_bytes()).collect();
        let mut value = tlv::encode(TAG_LIST, &list);
        value.extend_from_slice(&body);
        tlv::encode(DataGroup::DG11.tag(), &value)
    }
}

fn push(list: &mut Vec<String>, element: &Tlv<'_>, what: &'static str) -> Result<(), Error> {
    if list.len() >= MAX_REPEATS {
        return Err(Error::Malformed("DG11: too many repeated elements"));
    }
    list.push(utf8(element.value(), what)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An invented person.
    fn sample() -> Dg11 {
        Dg11 {
            full_name: Some("PHAN<<THỊ<THANH<HƯƠNG".into()),
            other_names: vec!["PHAN<<HƯƠNG".into(), "PHAN<<THANH".into()],
            personal_number: Some("052191004321".into()),
            full_birth_date: Some("19910917".into()),
            place_of_birth: Some("QUY<NHƠN<BÌNH<ĐỊNH".into()),
            address: Some("12<ĐƯỜNG<SỐ<3<THỦ<ĐỨC".into()),
            telephone: Some("0900000000".into()),
            profession: Some("KỸ<SƯ".into()),
            title: Some("TS".into()),
            personal_summary: Some("none".into()),
            proof_of_citizenship: Some(vec![0xFF, 0xD8, 0xFF, 0xD9]),
            other_td_numbers: vec!["B1234567".into()],
            custody_information: Some("none".into()),
        }
    }

    #[test]
    fn round_trip() {
        let dg = sample();
        let bytes = dg.encode();
        assert_eq!(Dg11::parse(&bytes).unwrap(), dg);
        let empty = Dg11::default();
        assert_eq!(Dg11::parse(&empty.encode()).unwrap(), empty);
    }

    #[test]
    fn other_names_without_template_bcd_dates_and_unknown_tags() {
        let mut value = Vec::new();
        tlv::encode_into(TAG_LIST, &[0x5F, 0x0F], &mut value);
        tlv::encode_into(OTHER_NAME, b"A<<B", &mut value);
        tlv::encode_into(FULL_BIRTH_DATE, &[0x19, 0x91, 0x09, 0x17], &mut value);
        tlv::encode_into(Tag::new(0x5F50), b"?", &mut value);
        tlv::encode_into(FULL_NAME, b"FIRST", &mut value);
        tlv::encode_into(FULL_NAME, b"SECOND", &mut value);
        let dg = Dg11::parse(&tlv::encode(Tag::new(0x6B), &value)).unwrap();
        assert_eq!(dg.other_names, ["A<<B"]);
        assert_eq!(dg.full_birth_date.as_deref(), Some("19910917"));
        assert_eq!(dg.full_name.as_deref(), Some("FIRST"));
    }

    #[test]
    fn hostile_inputs_error_cleanly() {
        assert!(matches!(
            Dg11::parse(&[0x6C, 0x00]),
            Err(Error::WrongTag { .. })
        ));
        let bad = tlv::encode(Tag::new(0x6B), &tlv::encode(ADDRESS, &[0xFF, 0xFE]));
        assert_eq!(Dg11::parse(&bad), Err(Error::InvalidText("DG11 address")));
        let bad = tlv::encode(Tag::new(0x6B), &tlv::encode(FULL_BIRTH_DATE, b"17-09-91"));
        assert!(Dg11::parse(&bad).is_err());
        let mut many = Vec::new();
        for _ in 0..=MAX_REPEATS {
            tlv::encode_into(OTHER_NAME, b"X", &mut many);
        }
        assert!(Dg11::parse(&tlv::encode(Tag::new(0x6B), &many)).is_err());
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(Dg11::parse(&bytes[..len]).is_err());
        }
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let text = format!("{:?}", sample());
        assert!(!text.contains("PHAN"));
        assert!(text.contains("[redacted]"));
    }
}
