//! The files of the Logical Data Structure (ICAO 9303-10): EF.COM, the data groups, and
//! EF.CardAccess, decoded from card bytes and encoded for the card simulator.
//!
//! Every parser takes the whole file as read from the card and treats it as hostile:
//! lengths are checked before use, recursion is bounded, and errors say which structure
//! was wrong without quoting the personal data in it.

pub mod dg1;
pub mod dg11;
pub mod dg12;
pub mod dg13;
pub mod dg14;
pub mod dg15;
pub mod dg2;
pub mod ef_com;
pub mod sod;

mod text;

use apdu::tlv::{Header, Tag, Tlv};

/// What is wrong with an LDS file, in terms a caller can act on.
///
/// Messages name structures and sizes, never the personal data they hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The BER-TLV encoding itself is broken (bad tag, length past the end, ...).
    #[error("TLV: {0}")]
    Tlv(#[from] apdu::Error),
    /// The file does not start with the tag of the file kind that was asked for.
    #[error("expected a file with tag {expected}, found tag {found}")]
    WrongTag {
        /// The tag the file kind has.
        expected: Tag,
        /// The tag the file starts with.
        found: Tag,
    },
    /// The data ends before a structure it announced.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A structure does not follow its specification.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A data element the file kind requires is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A text field is not valid in its declared encoding (e.g. invalid UTF-8).
    #[error("invalid text in {0}")]
    InvalidText(&'static str),
    /// A field is longer than this implementation accepts.
    #[error("{what} of {size} bytes exceeds the limit of {limit} bytes")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The largest size accepted.
        limit: usize,
    },
    /// A value cannot be encoded (encoder side: the simulator's card profile is wrong).
    #[error("cannot encode {0}")]
    Encode(&'static str),
    /// The face image is larger than the limits: refused before decoding.
    #[error("image of {width}x{height} pixels exceeds the size limit")]
    ImageTooLarge {
        /// Width claimed by a header or the image itself.
        width: u32,
        /// Height claimed by a header or the image itself.
        height: u32,
    },
    /// The image data is in a format that cannot be decoded here.
    #[error("unsupported image format: {0}")]
    UnsupportedImageFormat(&'static str),
    /// The image decoder or encoder failed on the data.
    #[error("image decoding: {0}")]
    Image(String),
}

/// A data group of the LDS, DG1 to DG16.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataGroup(u8);

/// Tags of DG1..DG16 (ICAO 9303-10 Table 34), indexed by number - 1.
const DG_TAGS: [u8; 16] = [
    0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70,
];

const DG_NAMES: [&str; 16] = [
    "DG1", "DG2", "DG3", "DG4", "DG5", "DG6", "DG7", "DG8", "DG9", "DG10", "DG11", "DG12", "DG13",
    "DG14", "DG15", "DG16",
];

impl DataGroup {
    /// DG1: machine readable zone.
    pub const DG1: DataGroup = DataGroup(1);
    /// DG2: encoded face.
    pub const DG2: DataGroup = DataGroup(2);
    /// DG3: encoded fingers.
    pub const DG3: DataGroup = DataGroup(3);
    /// DG4: encoded irises.
    pub const DG4: DataGroup = DataGroup(4);
    /// DG5: displayed portrait.
    pub const DG5: DataGroup = DataGroup(5);
    /// DG7: displayed signature.
    pub const DG7: DataGroup = DataGroup(7);
    /// DG11: additional personal details.
    pub const DG11: DataGroup = DataGroup(11);
    /// DG12: additional document details.
    pub const DG12: DataGroup = DataGroup(12);
    /// DG13: optional details (the Vietnamese card's identity fields).
    pub const DG13: DataGroup = DataGroup(13);
    /// DG14: security options (chip authentication, PACE infos).
    pub const DG14: DataGroup = DataGroup(14);
    /// DG15: active authentication public key.
    pub const DG15: DataGroup = DataGroup(15);
    /// DG16: persons to notify.
    pub const DG16: DataGroup = DataGroup(16);

    /// The data group with `number`, 1 to 16.
    pub const fn new(number: u8) -> Option<DataGroup> {
        if number >= 1 && number <= 16 {
            Some(DataGroup(number))
        } else {
            None
        }
    }

    /// All sixteen data groups in order.
    pub fn all() -> impl Iterator<Item = DataGroup> {
        (1..=16).map(DataGroup)
    }

    /// The data group number, 1 to 16.
    pub const fn number(self) -> u8 {
        self.0
    }

    fn index(self) -> usize {
        usize::from(self.0.saturating_sub(1)).min(15)
    }

    /// The tag the file starts with (DG1 `61`, DG2 `75`, ...).
    pub fn tag(self) -> Tag {
        Tag::new(u32::from(
            DG_TAGS.get(self.index()).copied().unwrap_or(0x61),
        ))
    }

    /// The data group whose file starts with `tag`.
    pub fn from_tag(tag: Tag) -> Option<DataGroup> {
        let position = DG_TAGS.iter().position(|t| u32::from(*t) == tag.value())?;
        DataGroup::new(u8::try_from(position + 1).ok()?)
    }

    /// The file identifier in the eMRTD application (`0101`..`0110`).
    pub const fn fid(self) -> u16 {
        0x0100 + self.0 as u16
    }

    /// The short file identifier (`01`..`10`).
    pub const fn sfi(self) -> u8 {
        self.0
    }

    /// The usual name, `"DG1"`..`"DG16"`.
    pub fn name(self) -> &'static str {
        DG_NAMES.get(self.index()).copied().unwrap_or("DG?")
    }
}

impl core::fmt::Debug for DataGroup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::fmt::Display for DataGroup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for DataGroup {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// File identifier of EF.COM in the eMRTD application.
pub const EF_COM_FID: u16 = 0x011E;
/// File identifier of EF.SOD in the eMRTD application.
pub const EF_SOD_FID: u16 = 0x011D;
/// File identifier of EF.CardAccess in the master file.
pub const EF_CARD_ACCESS_FID: u16 = 0x011C;
/// Short file identifier of EF.COM.
pub const EF_COM_SFI: u8 = 0x1E;
/// Short file identifier of EF.SOD.
pub const EF_SOD_SFI: u8 = 0x1D;
/// Short file identifier of EF.CardAccess.
pub const EF_CARD_ACCESS_SFI: u8 = 0x1C;
/// Tag EF.COM starts with.
pub const EF_COM_TAG: Tag = Tag::new(0x60);
/// Tag EF.SOD starts with.
pub const EF_SOD_TAG: Tag = Tag::new(0x77);
/// Tag EF.CardAccess starts with (a SET OF SecurityInfo).
pub const EF_CARD_ACCESS_TAG: Tag = Tag::new(0x31);
/// The count of the entries that follow, in DG2's biometric group template and in
/// DG11's and DG12's lists (ICAO 9303-10 §4.7).
pub(crate) const COUNT_TAG: Tag = Tag::new(0x02);

/// Any file of the LDS, known by its leading tag (how `cancuoc verify` tells dumped
/// files apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LdsFile {
    /// EF.COM (tag `60`).
    Com,
    /// EF.SOD (tag `77`).
    Sod,
    /// EF.CardAccess (a DER SET, tag `31`).
    CardAccess,
    /// A data group (tags `61`..`70`).
    DataGroup(DataGroup),
}

impl LdsFile {
    /// Which file `bytes` is, from its first tag; the length must be readable too, so
    /// a file that is not BER-TLV at all is refused.
    pub fn identify(bytes: &[u8]) -> Result<LdsFile, Error> {
        let header = Header::parse(bytes)?;
        LdsFile::from_tag(header.tag).ok_or(Error::Malformed("file: unknown leading tag"))
    }

    /// The file kind that starts with `tag`.
    pub fn from_tag(tag: Tag) -> Option<LdsFile> {
        match tag {
            EF_COM_TAG => Some(LdsFile::Com),
            EF_SOD_TAG => Some(LdsFile::Sod),
            EF_CARD_ACCESS_TAG => Some(LdsFile::CardAccess),
            other => DataGroup::from_tag(other).map(LdsFile::DataGroup),
        }
    }

    /// The file with identifier `fid` (EF.CardAccess in the master file, the others in
    /// the eMRTD application), when it is one of the LDS's.
    pub fn from_fid(fid: u16) -> Option<LdsFile> {
        match fid {
            EF_COM_FID => Some(LdsFile::Com),
            EF_SOD_FID => Some(LdsFile::Sod),
            EF_CARD_ACCESS_FID => Some(LdsFile::CardAccess),
            _ => {
                let number = u8::try_from(fid.checked_sub(0x0100)?).ok()?;
                DataGroup::new(number).map(LdsFile::DataGroup)
            }
        }
    }

    /// The tag the file starts with.
    pub fn tag(self) -> Tag {
        match self {
            LdsFile::Com => EF_COM_TAG,
            LdsFile::Sod => EF_SOD_TAG,
            LdsFile::CardAccess => EF_CARD_ACCESS_TAG,
            LdsFile::DataGroup(dg) => dg.tag(),
        }
    }

    /// The file identifier.
    pub fn fid(self) -> u16 {
        match self {
            LdsFile::Com => EF_COM_FID,
            LdsFile::Sod => EF_SOD_FID,
            LdsFile::CardAccess => EF_CARD_ACCESS_FID,
            LdsFile::DataGroup(dg) => dg.fid(),
        }
    }

    /// The short file identifier.
    pub fn sfi(self) -> u8 {
        match self {
            LdsFile::Com => EF_COM_SFI,
            LdsFile::Sod => EF_SOD_SFI,
            LdsFile::CardAccess => EF_CARD_ACCESS_SFI,
            LdsFile::DataGroup(dg) => dg.sfi(),
        }
    }

    /// The name used in the result JSON: `"EF.COM"`, `"EF.SOD"`, `"EF.CardAccess"`, `"DG1"`...
    pub fn name(self) -> &'static str {
        match self {
            LdsFile::Com => "EF.COM",
            LdsFile::Sod => "EF.SOD",
            LdsFile::CardAccess => "EF.CardAccess",
            LdsFile::DataGroup(dg) => dg.name(),
        }
    }
}

/// The outer TLV of a file of kind `tag`.
///
/// Bytes after the TLV are accepted only when they are `00` or `FF` padding, which some
/// cards leave at the end of a file that was allocated larger than its content.
pub(crate) fn outer(bytes: &[u8], tag: Tag) -> Result<Tlv<'_>, Error> {
    let header = Header::parse(bytes)?;
    if header.tag != tag {
        return Err(Error::WrongTag {
            expected: tag,
            found: header.tag,
        });
    }
    let (tlv, rest) = Tlv::parse_prefix(bytes)?;
    if !rest.iter().all(|b| *b == 0x00 || *b == 0xFF) {
        return Err(Error::Malformed("bytes after the file's TLV object"));
    }
    Ok(tlv)
}

/// Prints `[redacted]` in place of a value holding personal data.
pub(crate) struct Redacted;

impl core::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_group_numbering_follows_icao_9303_10_table_34() {
        let expected = [
            (1, 0x61, 0x0101),
            (2, 0x75, 0x0102),
            (3, 0x63, 0x0103),
            (4, 0x76, 0x0104),
            (5, 0x65, 0x0105),
            (6, 0x66, 0x0106),
            (7, 0x67, 0x0107),
            (8, 0x68, 0x0108),
            (9, 0x69, 0x0109),
            (10, 0x6A, 0x010A),
            (11, 0x6B, 0x010B),
            (12, 0x6C, 0x010C),
            (13, 0x6D, 0x010D),
            (14, 0x6E, 0x010E),
            (15, 0x6F, 0x010F),
            (16, 0x70, 0x0110),
        ];
        for (number, tag, fid) in expected {
            let dg = DataGroup::new(number).unwrap();
            assert_eq!(dg.tag(), Tag::new(tag));
            assert_eq!(dg.fid(), fid);
            assert_eq!(dg.sfi(), number);
            assert_eq!(dg.name(), format!("DG{number}"));
            assert_eq!(DataGroup::from_tag(Tag::new(tag)), Some(dg));
        }
        assert_eq!(DataGroup::all().count(), 16);
        assert!(DataGroup::new(0).is_none());
        assert!(DataGroup::new(17).is_none());
        assert!(DataGroup::from_tag(Tag::new(0x77)).is_none());
        assert_eq!(serde_json::to_string(&DataGroup::DG13).unwrap(), "\"DG13\"");
    }

    #[test]
    fn files_are_known_by_their_leading_tag() {
        assert_eq!(LdsFile::identify(&[0x60, 0x00]).unwrap(), LdsFile::Com);
        assert_eq!(LdsFile::identify(&[0x77, 0x00]).unwrap(), LdsFile::Sod);
        assert_eq!(
            LdsFile::identify(&[0x31, 0x00]).unwrap(),
            LdsFile::CardAccess
        );
        assert_eq!(
            LdsFile::identify(&[0x6D, 0x82, 0x10, 0x00]).unwrap(),
            LdsFile::DataGroup(DataGroup::DG13)
        );
        assert!(LdsFile::identify(&[0x30, 0x00]).is_err());
        assert!(LdsFile::identify(&[]).is_err());
        assert!(LdsFile::identify(&[0x61]).is_err());
        assert_eq!(LdsFile::Com.fid(), 0x011E);
        assert_eq!(LdsFile::from_fid(0x011E), Some(LdsFile::Com));
        assert_eq!(LdsFile::from_fid(0x011C), Some(LdsFile::CardAccess));
        assert_eq!(
            LdsFile::from_fid(0x0110),
            Some(LdsFile::DataGroup(DataGroup::DG16))
        );
        assert_eq!(LdsFile::from_fid(0x0100), None);
        assert_eq!(LdsFile::from_fid(0x0111), None);
        assert_eq!(LdsFile::from_fid(0x2F01), None);
        assert_eq!(LdsFile::Sod.fid(), 0x011D);
        assert_eq!(LdsFile::CardAccess.fid(), 0x011C);
        assert_eq!(LdsFile::Sod.name(), "EF.SOD");
        assert_eq!(LdsFile::DataGroup(DataGroup::DG2).tag(), Tag::new(0x75));
    }

    #[test]
    fn outer_checks_the_tag_and_trailing_bytes() {
        assert!(outer(&[0x61, 0x01, 0x00], Tag::new(0x61)).is_ok());
        assert!(outer(&[0x61, 0x01, 0x00, 0xFF, 0x00], Tag::new(0x61)).is_ok());
        assert!(matches!(
            outer(&[0x61, 0x01, 0x00], Tag::new(0x75)),
            Err(Error::WrongTag { .. })
        ));
        assert!(outer(&[0x61, 0x01, 0x00, 0x01], Tag::new(0x61)).is_err());
        assert!(outer(&[0x61, 0x05, 0x00], Tag::new(0x61)).is_err());
    }
}
