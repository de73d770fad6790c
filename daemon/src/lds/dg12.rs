//! DG12: additional document details (ICAO 9303-10 §4.7.12).
//!
//! `6C { 5C tag list, 5F19 issuing authority, 5F26 date of issue, A0 { 02 count, 5F1A
//! name of other person… }, 5F1B endorsements and observations, 5F1C tax / exit
//! requirements, 5F1D image of front, 5F1E image of rear, 5F55 date and time of
//! personalization, 5F56 serial number of the personalization system }`, every element
//! optional. Text must be valid UTF-8.

use apdu::tlv::{self, Tag, Tlv};

use super::text::{full_date, utf8};
use super::{COUNT_TAG, DataGroup, Error, Redacted, outer};

const TAG_LIST: Tag = Tag::new(0x5C);
const ISSUING_AUTHORITY: Tag = Tag::new(0x5F19);
const DATE_OF_ISSUE: Tag = Tag::new(0x5F26);
const OTHER_PERSONS: Tag = Tag::new(0xA0);
const OTHER_PERSON: Tag = Tag::new(0x5F1A);
const ENDORSEMENTS: Tag = Tag::new(0x5F1B);
const TAX_EXIT: Tag = Tag::new(0x5F1C);
const IMAGE_FRONT: Tag = Tag::new(0x5F1D);
const IMAGE_REAR: Tag = Tag::new(0x5F1E);
const PERSONALIZATION_TIME: Tag = Tag::new(0x5F55);
const PERSONALIZATION_DEVICE: Tag = Tag::new(0x5F56);

/// More other persons than any document lists.
const MAX_REPEATS: usize = 32;

/// The decoded DG12.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Dg12 {
    /// Issuing authority.
    pub issuing_authority: Option<String>,
    /// Date of issue, `YYYYMMDD`.
    pub date_of_issue: Option<String>,
    /// Names of other persons included in the document.
    pub other_persons: Vec<String>,
    /// Endorsements and observations.
    pub endorsements: Option<String>,
    /// Tax or exit requirements.
    pub tax_exit_requirements: Option<String>,
    /// Image of the front of the document (JPEG), as bytes.
    pub image_front: Option<Vec<u8>>,
    /// Image of the rear of the document (JPEG), as bytes.
    pub image_rear: Option<Vec<u8>>,
    /// Date and time of personalization, `YYYYMMDDhhmmss` (as stored).
    pub personalization_time: Option<String>,
    /// Serial number of the personalization system.
    pub personalization_device: Option<String>,
}

impl core::fmt::Debug for Dg12 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dg12").field("values", &Redacted).finish()
    }
}

impl Dg12 {
    /// Decodes DG12. A repeated element keeps its first value.
    pub fn parse(bytes: &[u8]) -> Result<Dg12, Error> {
        let file = outer(bytes, DataGroup::DG12.tag())?;
        let mut dg = Dg12::default();
        for element in file.children() {
            let element = element?;
            let value = element.value();
            let text = |what| utf8(value, what).map(Some);
            match element.tag() {
                TAG_LIST => {}
                ISSUING_AUTHORITY if dg.issuing_authority.is_none() => {
                    dg.issuing_authority = text("DG12 issuing authority")?;
                }
                DATE_OF_ISSUE if dg.date_of_issue.is_none() => {
                    dg.date_of_issue = Some(full_date(value, "DG12 date of issue")?);
                }
                OTHER_PERSONS => {
                    for person in element.children() {
                        let person = person?;
                        match person.tag() {
                            COUNT_TAG => {}
                            OTHER_PERSON => push(&mut dg.other_persons, &person)?,
                            _ => {}
                        }
                    }
                }
                OTHER_PERSON => push(&mut dg.other_persons, &element)?,
                ENDORSEMENTS if dg.endorsements.is_none() => {
                    dg.endorsements = text("DG12 endorsements")?;
                }
                TAX_EXIT if dg.tax_exit_requirements.is_none() => {
                    dg.tax_exit_requirements = text("DG12 tax / exit requirements")?;
                }
                IMAGE_FRONT if dg.image_front.is_none() => dg.image_front = Some(value.to_vec()),
                IMAGE_REAR if dg.image_rear.is_none() => dg.image_rear = Some(value.to_vec()),
                PERSONALIZATION_TIME if dg.personalization_time.is_none() => {
                    dg.personalization_time = Some(personalization_time(value)?);
                }
                PERSONALIZATION_DEVICE if dg.personalization_device.is_none() => {
                    dg.personalization_device = text("DG12 personalization system")?;
                }
                _ => {}
            }
        }
        Ok(dg)
    }

    /// The encoded DG12, with its tag list.
    pub fn encode(&self) -> Vec<u8> {
        let mut tags: Vec<Tag> = Vec::new();
        let mut body = Vec::new();
        let mut put = |tag: Tag, value: &[u8]| {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
            tlv::encode_into(tag, value, &mut body);
        };
        let text = |v: &Option<String>| v.as_ref().map(|s| s.as_bytes().to_vec());
        let before = [
            (ISSUING_AUTHORITY, text(&self.issuing_authority)),
            (DATE_OF_ISSUE, text(&self.date_of_issue)),
        ];
        for (tag, value) in before {
            if let Some(value) = value {
                put(tag, &value);
            }
        }
        if !self.other_persons.is_empty() {
            let mut persons = Vec::new();
            let count = u8::try_from(self.other_persons.len()).unwrap_or(u8::MAX);
            tlv::encode_into(COUNT_TAG, &[count], &mut persons);
            for person in &self.other_persons {
                tlv::encode_into(OTHER_PERSON, person.as_bytes(), &mut persons);
            }
            put(OTHER_PERSONS, &persons);
        }
        let after = [
            (ENDORSEMENTS, text(&self.endorsements)),
            (TAX_EXIT, text(&self.tax_exit_requirements)),
            (IMAGE_FRONT, self.image_front.clone()),
            (IMAGE_REAR, self.image_rear.clone()),
            (PERSONALIZATION_TIME, text(&self.personalization_time)),
            (PERSONALIZATION_DEVICE, text(&self.personalization_device)),
        ];
        for (tag, value) in after {
            if let Some(value) = value {
                put(tag, &value);
            }
        }
        let list: Vec<u8> = tags.iter().flat_map(|t| t.to_bytes()).collect();
        let mut value = tlv::encode(TAG_LIST, &list);
        value.extend_from_slice(&body);
        tlv::encode(DataGroup::DG12.tag(), &value)
    }
}

/// `YYYYMMDDhhmmss` as ASCII digits, or the same in seven BCD bytes.
fn personalization_time(value: &[u8]) -> Result<String, Error> {
    const WHAT: &str = "DG12 personalization time";
    if value.len() == 14 && value.iter().all(u8::is_ascii_digit) {
        return Ok(value.iter().map(|b| char::from(*b)).collect());
    }
    if value.len() == 7 {
        let (date, time) = value.split_at(4);
        let mut text = full_date(date, WHAT)?;
        for b in time {
            if b >> 4 > 9 || b & 0x0F > 9 {
                return Err(Error::Malformed(WHAT));
            }
            text.push(char::from(b'0' + (b >> 4)));
            text.push(char::from(b'0' + (b & 0x0F)));
        }
        return Ok(text);
    }
    Err(Error::Malformed(WHAT))
}

fn push(list: &mut Vec<String>, element: &Tlv<'_>) -> Result<(), Error> {
    if list.len() >= MAX_REPEATS {
        return Err(Error::Malformed("DG12: too many other persons"));
    }
    list.push(utf8(element.value(), "DG12 other person")?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dg12 {
        Dg12 {
            issuing_authority: Some("CỤC CẢNH SÁT QLHC VỀ TTXH".into()),
            date_of_issue: Some("20210814".into()),
            other_persons: vec!["VÕ<<MINH<AN".into()],
            endorsements: Some("none".into()),
            tax_exit_requirements: Some("none".into()),
            image_front: Some(vec![0xFF, 0xD8, 0xFF, 0xD9]),
            image_rear: Some(vec![0xFF, 0xD8, 0xFF, 0xD9, 0x00]),
            personalization_time: Some("20210814093000".into()),
            personalization_device: Some("SIM-0001".into()),
        }
    }

    #[test]
    fn round_trip() {
        let dg = sample();
        assert_eq!(Dg12::parse(&dg.encode()).unwrap(), dg);
        assert_eq!(
            Dg12::parse(&Dg12::default().encode()).unwrap(),
            Dg12::default()
        );
    }

    #[test]
    fn bcd_dates_and_times() {
        let mut value = Vec::new();
        tlv::encode_into(DATE_OF_ISSUE, &[0x20, 0x21, 0x08, 0x14], &mut value);
        tlv::encode_into(
            PERSONALIZATION_TIME,
            &[0x20, 0x21, 0x08, 0x14, 0x09, 0x30, 0x00],
            &mut value,
        );
        tlv::encode_into(OTHER_PERSON, b"A<<B", &mut value);
        let dg = Dg12::parse(&tlv::encode(Tag::new(0x6C), &value)).unwrap();
        assert_eq!(dg.date_of_issue.as_deref(), Some("20210814"));
        assert_eq!(dg.personalization_time.as_deref(), Some("20210814093000"));
        assert_eq!(dg.other_persons, ["A<<B"]);
    }

    #[test]
    fn hostile_inputs_error_cleanly() {
        assert!(matches!(
            Dg12::parse(&[0x6B, 0x00]),
            Err(Error::WrongTag { .. })
        ));
        let bad = tlv::encode(Tag::new(0x6C), &tlv::encode(ISSUING_AUTHORITY, &[0xC0]));
        assert_eq!(
            Dg12::parse(&bad),
            Err(Error::InvalidText("DG12 issuing authority"))
        );
        let bad = tlv::encode(
            Tag::new(0x6C),
            &tlv::encode(
                PERSONALIZATION_TIME,
                &[0x20, 0x21, 0x08, 0x14, 0x09, 0x3A, 0x00],
            ),
        );
        assert!(Dg12::parse(&bad).is_err());
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(Dg12::parse(&bytes[..len]).is_err());
        }
        assert!(!format!("{:?}", sample()).contains("CỤC"));
    }
}
