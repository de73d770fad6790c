//! DG13 of the Vietnamese citizen ID card (CCCD / Căn cước): the holder's identity in
//! Vietnamese, beyond what the MRZ can hold.
//!
//! The layout cards use is
//! `6D { 30 { 02 01 01, 06 <1.0.10646.1.0.8>, 31 { 30 { 02 01 n, value… } … } } }`,
//! where the OID names the character set (ISO/IEC 10646, UTF-8) and each inner SEQUENCE
//! is one field numbered `n` (1 ID number … 15 old ID number, 16 a 16-character
//! PrintableString whose meaning no public source establishes). Real cards vary in the
//! wrapping, so the parser does not rely on it: it walks the whole tree (depth-bounded)
//! and takes every SEQUENCE whose first element is an INTEGER 1..=16 followed only by
//! strings (or SEQUENCEs of strings) as a field; when a number occurs twice the first
//! occurrence counts.
//!
//! As real cards write it: PrintableString for fields 1, 3, 11, 15 and 16, UTF8String for
//! the others; dates `dd/mm/yyyy` (or text such as "Không thời hạn"); field 14 present
//! but empty (`30 03 02 01 0E`) for an unmarried holder; field 13 holds the father's then
//! the mother's name, either each in a SEQUENCE of its own or both in one SEQUENCE, an
//! empty string keeping the place of a parent the card does not name.
//!
//! Fields numbered above 16 (content the layout does not name) are kept in
//! [`VnIdentity::extra`], never dropped: their text decoded where it is a string type
//! (see `text::asn1_string`), otherwise reported as `[undecoded tag TT: HEX]`.
//!
//! All text is normalized to Unicode NFC.

use std::collections::BTreeMap;

use apdu::asn1::{
    INTEGER, OBJECT_IDENTIFIER as OID, Oid, PRINTABLE_STRING, SEQUENCE, SET, UTF8_STRING,
};
use apdu::tlv::{self, Tlv};
use serde::Serialize;
use zeroize::Zeroize;

use super::text;
use super::{DataGroup, Error, Redacted, outer};

/// OID of the character set DG13 declares: ISO/IEC 10646 in UTF-8.
pub const UTF8_CHARSET: Oid = Oid::new("1.0.10646.1.0.8");

/// More elements than any field has: a SEQUENCE with more is not a field.
const MAX_FIELD_ELEMENTS: usize = 16;
/// Most fields above 16 kept in [`VnIdentity::extra`]; further ones are dropped.
pub const MAX_EXTRA_FIELDS: usize = 32;
/// The fields real cards write as PrintableString (the others are UTF8String).
pub const PRINTABLE_FIELDS: [u8; 5] = [1, 3, 11, 15, 16];

/// A date as the card writes it (`dd/mm/yyyy`), which may also be text such as
/// "Không thời hạn" (no expiry).
///
/// Serializes as ISO `YYYY-MM-DD` when the text is a valid `dd/mm/yyyy` date, otherwise
/// as the card's text unchanged.
#[derive(Clone, Default, PartialEq, Eq, Zeroize)]
pub struct VnDate {
    /// The card's text, NFC.
    pub text: String,
}

impl VnDate {
    /// A date from the card's text.
    pub fn new(text: impl Into<String>) -> VnDate {
        VnDate { text: text.into() }
    }

    /// A date from ISO `YYYY-MM-DD`, written the card's way (`dd/mm/yyyy`).
    pub fn from_iso(iso: &str) -> Option<VnDate> {
        let mut parts = iso.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let date = VnDate::new(format!("{d}/{m}/{y}"));
        date.iso().is_some().then_some(date)
    }

    /// The date as ISO `YYYY-MM-DD`, when the text is a valid `dd/mm/yyyy` date.
    pub fn iso(&self) -> Option<String> {
        let text = self.text.trim();
        let mut parts = text.split('/');
        let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || d.len() != 2 || m.len() != 2 || y.len() != 4 {
            return None;
        }
        if ![d, m, y]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let (d, m, y): (u32, u32, u32) = (d.parse().ok()?, m.parse().ok()?, y.parse().ok()?);
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if d == 0 || d > days {
            return None;
        }
        Some(format!("{y:04}-{m:02}-{d:02}"))
    }
}

impl Serialize for VnDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.iso() {
            Some(iso) => serializer.serialize_str(&iso),
            None => serializer.serialize_str(&self.text),
        }
    }
}

impl core::fmt::Debug for VnDate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("VnDate([redacted])")
    }
}

/// The identity on a Vietnamese card, as the `vn` object of the result JSON.
///
/// Every key but `extra` is always present in the JSON; a field the card lacks (or leaves
/// empty) is `null`; `extra` appears when the card has fields above 16. Dates are ISO `YYYY-MM-DD` when the card's `dd/mm/yyyy` text is a valid date,
/// otherwise the card's text (e.g. an expiry of "Không thời hạn"). Text is NFC.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Zeroize)]
pub struct VnIdentity {
    /// 1: the 12-digit personal identification number.
    pub id_number: Option<String>,
    /// 2: full name.
    pub full_name: Option<String>,
    /// 3: date of birth.
    pub birth_date: Option<VnDate>,
    /// 4: sex as written ("Nam", "Nữ").
    pub sex: Option<String>,
    /// 5: nationality ("Việt Nam").
    pub nationality: Option<String>,
    /// 6: ethnicity.
    pub ethnicity: Option<String>,
    /// 7: religion.
    pub religion: Option<String>,
    /// 8: place of origin (quê quán).
    pub place_of_origin: Option<String>,
    /// 9: place of residence.
    pub place_of_residence: Option<String>,
    /// 10: personal identifying marks.
    pub identifying_marks: Option<String>,
    /// 11: date of issue.
    pub issue_date: Option<VnDate>,
    /// 12: date of expiry.
    pub expiry_date: Option<VnDate>,
    /// 13, first name: father's name.
    pub father_name: Option<String>,
    /// 13, second name: mother's name.
    pub mother_name: Option<String>,
    /// 14: spouse's name.
    pub spouse_name: Option<String>,
    /// 15: the old 9-digit ID number.
    pub old_id_number: Option<String>,
    /// 16: a 16-character PrintableString whose meaning no public source establishes
    /// (it is not known to identify the card).
    pub field_16: Option<String>,
    /// Fields numbered above 16, by number: text, or `[undecoded tag TT: HEX]` for
    /// content that is not text. The one key left out of the JSON when empty.
    #[serde(skip_serializing_if = "VnExtra::is_empty")]
    pub extra: VnExtra,
}

/// DG13 fields the layout does not name (numbers above 16), by number. Serializes as a
/// JSON object `{"17": "…"}`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct VnExtra(pub BTreeMap<u32, String>);

impl VnExtra {
    /// Whether the card has no field above 16.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl core::fmt::Debug for VnExtra {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let numbers: Vec<&u32> = self.0.keys().collect();
        f.debug_struct("VnExtra")
            .field("numbers", &numbers)
            .field("values", &Redacted)
            .finish()
    }
}

impl Zeroize for VnExtra {
    fn zeroize(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
        self.0.clear();
    }
}

impl core::fmt::Debug for VnIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let present = self.fields().iter().filter(|(_, v)| v.is_some()).count();
        f.debug_struct("VnIdentity")
            .field("fields_present", &present)
            .field("extra_fields", &self.extra.0.len())
            .field("values", &Redacted)
            .finish()
    }
}

/// The decoded DG13.
#[derive(Clone, PartialEq, Eq)]
pub struct Dg13 {
    /// The character-set OID the file declares (dotted), if any.
    pub charset: Option<String>,
    /// The identity fields.
    pub identity: VnIdentity,
}

impl core::fmt::Debug for Dg13 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dg13")
            .field("charset", &self.charset)
            .field("identity", &self.identity)
            .finish()
    }
}

impl Dg13 {
    /// Decodes DG13.
    pub fn parse(bytes: &[u8]) -> Result<Dg13, Error> {
        let file = outer(bytes, DataGroup::DG13.tag())?;
        let mut walk = Walk::default();
        for child in file.children() {
            walk.node(&child?, 1)?;
        }
        let mut identity = VnIdentity::default();
        for (n, slots) in walk.fields.iter_mut().enumerate() {
            let Some(slots) = slots.take() else {
                continue;
            };
            identity.set(n + 1, slots);
        }
        identity.extra = VnExtra(walk.extra);
        Ok(Dg13 {
            charset: walk.charset,
            identity,
        })
    }
}

/// The strings of one field, one entry per element after the field number (a string, or
/// the strings of a SEQUENCE / SET).
type Slots = Vec<Vec<String>>;

#[derive(Default)]
struct Walk {
    charset: Option<String>,
    /// Fields 1..=16, by number - 1; the first occurrence wins.
    fields: [Option<Slots>; 16],
    /// Fields above 16; the first occurrence wins.
    extra: BTreeMap<u32, String>,
}

impl Walk {
    fn node(&mut self, node: &Tlv<'_>, depth: usize) -> Result<(), Error> {
        if depth > tlv::MAX_DEPTH {
            return Err(Error::Malformed("DG13: nesting too deep"));
        }
        match node.tag() {
            SEQUENCE => {
                match field(node, depth)? {
                    Some(Field::Known(n, slots)) => {
                        if let Some(slot) = n.checked_sub(1).and_then(|i| self.fields.get_mut(i)) {
                            if slot.is_none() {
                                *slot = Some(slots);
                            }
                        }
                        return Ok(());
                    }
                    Some(Field::Extra(n, text)) => {
                        if self.extra.len() < MAX_EXTRA_FIELDS || self.extra.contains_key(&n) {
                            self.extra.entry(n).or_insert(text);
                        }
                        return Ok(());
                    }
                    None => {}
                }
                for child in node.children() {
                    self.node(&child?, depth + 1)?;
                }
            }
            OID if self.charset.is_none() => {
                self.charset = Some(Oid::from_der_content(node.value())?.to_string());
            }
            _ if node.tag().is_constructed() => {
                for child in node.children() {
                    self.node(&child?, depth + 1)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// A field found in the tree.
enum Field {
    /// 1..=16 and its strings.
    Known(usize, Slots),
    /// Above 16 and its text (joined with ", ").
    Extra(u32, String),
}

/// `Some(field)` when `node` is a field: INTEGER 1..=16 then only strings or SEQUENCEs /
/// SETs of strings; or an INTEGER above 16 then anything but further fields.
fn field(node: &Tlv<'_>, depth: usize) -> Result<Option<Field>, Error> {
    let mut children = node.children();
    let Some(first) = children.next() else {
        return Ok(None);
    };
    let first = first?;
    if first.tag() != INTEGER {
        return Ok(None);
    }
    let Some(n) = small_integer(first.value()).filter(|n| *n >= 1) else {
        return Ok(None);
    };
    if n > 16 {
        let mut items = Vec::new();
        for (count, child) in children.enumerate() {
            if count >= MAX_FIELD_ELEMENTS || !collect_any(&child?, depth + 1, &mut items)? {
                return Ok(None);
            }
        }
        let Ok(n) = u32::try_from(n) else {
            return Ok(None);
        };
        let text: Vec<String> = items
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        return Ok(Some(Field::Extra(n, text.join(", "))));
    }
    let mut slots = Vec::new();
    for (count, child) in children.enumerate() {
        let mut strings = Vec::new();
        if count >= MAX_FIELD_ELEMENTS || !collect_strings(&child?, depth + 1, &mut strings)? {
            return Ok(None);
        }
        slots.push(strings);
    }
    Ok(Some(Field::Known(n, slots)))
}

/// Appends the strings in `node` (a string, or a SEQUENCE / SET of them) to `out`;
/// `false` when something else is in there.
fn collect_strings(node: &Tlv<'_>, depth: usize, out: &mut Vec<String>) -> Result<bool, Error> {
    if depth > tlv::MAX_DEPTH {
        return Err(Error::Malformed("DG13: nesting too deep"));
    }
    if text::is_asn1_string(node) {
        if out.len() >= MAX_FIELD_ELEMENTS {
            return Ok(false);
        }
        out.push(text::asn1_string(node, "DG13 field")?);
        return Ok(true);
    }
    if matches!(node.tag(), SEQUENCE | SET) {
        for child in node.children() {
            if !collect_strings(&child?, depth + 1, out)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    Ok(false)
}

/// Appends the content of an element of a field above 16 to `out`: the text of strings
/// (lenient: a string that does not decode is reported, not an error), a report for any
/// other primitive, the content of SEQUENCEs / SETs; `false` for anything that looks
/// like further fields (a constructed element starting with an INTEGER) or is too big.
fn collect_any(node: &Tlv<'_>, depth: usize, out: &mut Vec<String>) -> Result<bool, Error> {
    if depth > tlv::MAX_DEPTH {
        return Err(Error::Malformed("DG13: nesting too deep"));
    }
    if out.len() >= MAX_FIELD_ELEMENTS {
        return Ok(false);
    }
    if !node.tag().is_constructed() {
        let text = if text::is_asn1_string(node) {
            text::asn1_string(node, "DG13 field").ok()
        } else {
            None
        };
        out.push(text.unwrap_or_else(|| undecoded(node)));
        return Ok(true);
    }
    let mut children = node.children().peekable();
    if let Some(Ok(first)) = children.peek() {
        if first.tag() == INTEGER {
            return Ok(false);
        }
    }
    for child in children {
        if !collect_any(&child?, depth + 1, out)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// How content that is not text is reported: `[undecoded tag TT: HEX]`, the hex cut at
/// [`text::MAX_TEXT`] bytes.
fn undecoded(node: &Tlv<'_>) -> String {
    let value = node.value();
    let shown = value.get(..text::MAX_TEXT).unwrap_or(value);
    let hex: String = shown.iter().map(|b| format!("{b:02X}")).collect();
    let cut = if shown.len() < value.len() { "…" } else { "" };
    format!("[undecoded tag {:02X}: {hex}{cut}]", node.tag().value())
}

/// A non-negative INTEGER of at most four bytes.
fn small_integer(value: &[u8]) -> Option<usize> {
    let (&first, _) = value.split_first()?;
    if first & 0x80 != 0 || value.len() > 4 {
        return None;
    }
    let n = value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
    usize::try_from(n).ok()
}

impl VnIdentity {
    /// Decodes the identity from DG13 bytes (see [`Dg13::parse`]).
    pub fn from_dg13(bytes: &[u8]) -> Result<VnIdentity, Error> {
        Ok(Dg13::parse(bytes)?.identity)
    }

    /// Stores field `n` from its slots (strings trimmed; empty ones are absent values).
    fn set(&mut self, n: usize, slots: Slots) {
        fn value(s: &str) -> Option<String> {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        }
        if n == 13 {
            // Father, then mother, by position: each parent in an element of its own, or
            // both names in the one element there is. An empty string keeps a place.
            let names: Vec<Option<String>> = match slots.as_slice() {
                [only] => only.iter().map(|s| value(s)).collect(),
                _ => slots
                    .iter()
                    .map(|slot| {
                        let parts: Vec<String> = slot.iter().filter_map(|s| value(s)).collect();
                        (!parts.is_empty()).then(|| parts.join(" "))
                    })
                    .collect(),
            };
            let mut names = names.into_iter();
            self.father_name = names.next().flatten();
            self.mother_name = names.next().flatten();
            return;
        }
        // A single-valued field split over several strings keeps all of them.
        let strings: Vec<String> = slots.iter().flatten().filter_map(|s| value(s)).collect();
        let joined = (!strings.is_empty()).then(|| strings.join(", "));
        let date = joined.clone().map(VnDate::new);
        match n {
            1 => self.id_number = joined,
            2 => self.full_name = joined,
            3 => self.birth_date = date,
            4 => self.sex = joined,
            5 => self.nationality = joined,
            6 => self.ethnicity = joined,
            7 => self.religion = joined,
            8 => self.place_of_origin = joined,
            9 => self.place_of_residence = joined,
            10 => self.identifying_marks = joined,
            11 => self.issue_date = date,
            12 => self.expiry_date = date,
            14 => self.spouse_name = joined,
            15 => self.old_id_number = joined,
            16 => self.field_16 = joined,
            _ => {}
        }
    }

    /// The single-valued fields by number (13, the parents, is handled apart).
    fn fields(&self) -> [(u8, Option<&str>); 16] {
        fn s(v: &Option<String>) -> Option<&str> {
            v.as_deref()
        }
        fn d(v: &Option<VnDate>) -> Option<&str> {
            v.as_ref().map(|d| d.text.as_str())
        }
        [
            (1, s(&self.id_number)),
            (2, s(&self.full_name)),
            (3, d(&self.birth_date)),
            (4, s(&self.sex)),
            (5, s(&self.nationality)),
            (6, s(&self.ethnicity)),
            (7, s(&self.religion)),
            (8, s(&self.place_of_origin)),
            (9, s(&self.place_of_residence)),
            (10, s(&self.identifying_marks)),
            (11, d(&self.issue_date)),
            (12, d(&self.expiry_date)),
            (13, s(&self.father_name).or(s(&self.mother_name))),
            (14, s(&self.spouse_name)),
            (15, s(&self.old_id_number)),
            (16, s(&self.field_16)),
        ]
    }

    /// The DG13 a card holds for this identity, in the layout and encodings of real
    /// cards: version 1, the UTF-8 charset OID, then a SET of `SEQUENCE { INTEGER n,
    /// string }`; PrintableString for fields 1, 3, 11, 15 and 16 (UTF8String when the
    /// text is not printable), UTF8String for the others; the parents' names each in a
    /// SEQUENCE of its own (an absent one as an empty string); field 14 present but empty
    /// when there is no spouse; then the [`extra`](Self::extra) fields as UTF8String.
    /// Other absent fields are left out; text is written NFC.
    pub fn to_dg13(&self) -> Result<Vec<u8>, Error> {
        let string = |n: u8, value: &str, out: &mut Vec<u8>| {
            let value = text::nfc(value);
            let tag = if PRINTABLE_FIELDS.contains(&n) && is_printable(&value) {
                PRINTABLE_STRING
            } else {
                UTF8_STRING
            };
            tlv::encode_into(tag, value.as_bytes(), out);
        };
        let mut set = Vec::new();
        for (n, value) in self.fields() {
            let mut field = Vec::new();
            tlv::encode_into(INTEGER, &[n], &mut field);
            match (n, value) {
                (13, Some(_)) => {
                    for parent in [&self.father_name, &self.mother_name] {
                        let mut inner = Vec::new();
                        string(n, parent.as_deref().unwrap_or_default(), &mut inner);
                        tlv::encode_into(SEQUENCE, &inner, &mut field);
                    }
                }
                (14, None) => {}
                (_, Some(value)) => string(n, value, &mut field),
                (_, None) => continue,
            }
            tlv::encode_into(SEQUENCE, &field, &mut set);
        }
        for (&n, value) in &self.extra.0 {
            if n <= 16 {
                return Err(Error::Encode("DG13: an extra field numbered 16 or less"));
            }
            let mut field = Vec::new();
            let number = n.to_be_bytes();
            let start = number.iter().position(|b| *b != 0).unwrap_or(3);
            let mut number = number.get(start..).unwrap_or(&[]).to_vec();
            if number.first().is_some_and(|b| b & 0x80 != 0) {
                number.insert(0, 0);
            }
            tlv::encode_into(INTEGER, &number, &mut field);
            tlv::encode_into(UTF8_STRING, text::nfc(value).as_bytes(), &mut field);
            tlv::encode_into(SEQUENCE, &field, &mut set);
        }
        let mut body = Vec::new();
        tlv::encode_into(INTEGER, &[1], &mut body);
        body.extend(UTF8_CHARSET.to_der());
        tlv::encode_into(SET, &set, &mut body);
        let sequence = tlv::encode(SEQUENCE, &body);
        Ok(tlv::encode(DataGroup::DG13.tag(), &sequence))
    }
}

/// Whether `text` fits the PrintableString character set (X.680).
fn is_printable(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use apdu::tlv::Tag;

    /// An invented person; any likeness to a real one is accidental.
    fn sample() -> VnIdentity {
        VnIdentity {
            id_number: Some("048196001234".into()),
            full_name: Some("Đặng Thị Hồng Nhung".into()),
            birth_date: Some(VnDate::new("29/02/1996")),
            sex: Some("Nữ".into()),
            nationality: Some("Việt Nam".into()),
            ethnicity: Some("Kinh".into()),
            religion: Some("Không".into()),
            place_of_origin: Some("Xã Hòa Tiến, Huyện Hòa Vang, Đà Nẵng".into()),
            place_of_residence: Some("Tổ 7, Phường Khuê Trung, Quận Cẩm Lệ, Đà Nẵng".into()),
            identifying_marks: Some("Nốt ruồi C:1cm dưới sau mép trái".into()),
            issue_date: Some(VnDate::new("14/08/2021")),
            expiry_date: Some(VnDate::new("29/02/2036")),
            father_name: Some("Đặng Văn Lộc".into()),
            mother_name: Some("Phạm Thị Ửng".into()),
            spouse_name: None,
            old_id_number: Some("201712345".into()),
            field_16: Some("A1B2C3D4E5F60718".into()),
            extra: VnExtra(BTreeMap::from([(17, "Đà Nẵng".into()), (21, "O+".into())])),
        }
    }

    fn field(n: u8, values: &[(u32, &[u8])]) -> Vec<u8> {
        let mut body = tlv::encode(INTEGER, &[n]);
        for (tag, value) in values {
            tlv::encode_into(Tag::new(*tag), value, &mut body);
        }
        tlv::encode(SEQUENCE, &body)
    }

    fn dg13(fields: &[Vec<u8>]) -> Vec<u8> {
        let set = tlv::encode(SET, &fields.concat());
        tlv::encode(Tag::new(0x6D), &tlv::encode(SEQUENCE, &set))
    }

    #[test]
    fn round_trip() {
        let identity = sample();
        let bytes = identity.to_dg13().unwrap();
        let dg13 = Dg13::parse(&bytes).unwrap();
        assert_eq!(dg13.charset, Some(UTF8_CHARSET.to_string()));
        assert_eq!(dg13.identity, identity);
        // The layout of real cards: 6D { 30 { 02 01 01, 06 06 28 D3 16 01 00 08, 31 ...
        let outer = Tlv::parse(&bytes).unwrap();
        assert_eq!(outer.tag(), Tag::new(0x6D));
        let sequence = Tlv::parse(outer.value()).unwrap();
        assert_eq!(
            sequence.value().get(..11).unwrap(),
            &[
                0x02, 0x01, 0x01, 0x06, 0x06, 0x28, 0xD3, 0x16, 0x01, 0x00, 0x08
            ]
        );
    }

    #[test]
    fn json_has_every_key_and_iso_dates() {
        let json = serde_json::to_value(sample()).unwrap();
        let object = json.as_object().unwrap();
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut expected = vec![
            "id_number",
            "full_name",
            "birth_date",
            "sex",
            "nationality",
            "ethnicity",
            "religion",
            "place_of_origin",
            "place_of_residence",
            "identifying_marks",
            "issue_date",
            "expiry_date",
            "father_name",
            "mother_name",
            "spouse_name",
            "old_id_number",
            "field_16",
            "extra",
        ];
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys_sorted, expected);
        assert_eq!(json["birth_date"], "1996-02-29");
        assert_eq!(json["issue_date"], "2021-08-14");
        assert_eq!(json["spouse_name"], serde_json::Value::Null);
        assert_eq!(json["full_name"], "Đặng Thị Hồng Nhung");
        assert_eq!(json["field_16"], "A1B2C3D4E5F60718");
        assert_eq!(
            json["extra"],
            serde_json::json!({"17": "Đà Nẵng", "21": "O+"})
        );
        let empty = serde_json::to_value(VnIdentity::default()).unwrap();
        assert!(empty.get("extra").is_none());
        assert_eq!(empty.as_object().unwrap().len(), expected.len() - 1);

        let mut no_expiry = sample();
        no_expiry.expiry_date = Some(VnDate::new("Không thời hạn"));
        let json = serde_json::to_value(no_expiry).unwrap();
        assert_eq!(json["expiry_date"], "Không thời hạn");
    }

    #[test]
    fn dates() {
        assert_eq!(
            VnDate::new("01/12/2030").iso().as_deref(),
            Some("2030-12-01")
        );
        assert_eq!(VnDate::new("29/02/2023").iso(), None);
        assert_eq!(VnDate::new("31/04/2023").iso(), None);
        assert_eq!(VnDate::new("1/2/2023").iso(), None);
        assert_eq!(VnDate::new("01/02/2023/1").iso(), None);
        assert_eq!(VnDate::new("+1/02/2023").iso(), None);
        assert_eq!(VnDate::from_iso("2000-02-29").unwrap().text, "29/02/2000");
        assert!(VnDate::from_iso("1900-02-29").is_none());
        assert!(VnDate::from_iso("2000-02").is_none());
    }

    #[test]
    fn decomposed_input_comes_out_composed() {
        let nfd_name = "Nguye\u{302}\u{303}n Thi\u{323} Mai";
        let bytes = dg13(&[field(2, &[(UTF8_STRING.value(), nfd_name.as_bytes())])]);
        let identity = VnIdentity::from_dg13(&bytes).unwrap();
        assert_eq!(identity.full_name.as_deref(), Some("Nguyễn Thị Mai"));
        // The encoder writes NFC too.
        let nfd = VnIdentity {
            full_name: Some(nfd_name.into()),
            ..VnIdentity::default()
        };
        let bytes = nfd.to_dg13().unwrap();
        let written = "Nguyễn Thị Mai".as_bytes();
        assert!(bytes.windows(written.len()).any(|w| w == written));
    }

    #[test]
    fn parents_directly_or_in_sequences_and_spouse_absent_or_empty() {
        let parents_direct = dg13(&[
            field(1, &[(0x13, b"001099012345")]),
            field(
                13,
                &[
                    (UTF8_STRING.value(), "Lý Văn Tám".as_bytes()),
                    (UTF8_STRING.value(), "Hà Thị Chín".as_bytes()),
                ],
            ),
            field(14, &[]),
        ]);
        let identity = VnIdentity::from_dg13(&parents_direct).unwrap();
        assert_eq!(identity.id_number.as_deref(), Some("001099012345"));
        assert_eq!(identity.father_name.as_deref(), Some("Lý Văn Tám"));
        assert_eq!(identity.mother_name.as_deref(), Some("Hà Thị Chín"));
        assert_eq!(identity.spouse_name, None);

        let in_sequences = dg13(&[
            field(
                13,
                &[
                    (
                        SEQUENCE.value(),
                        &tlv::encode(UTF8_STRING, "Lý Văn Tám".as_bytes()),
                    ),
                    (
                        SEQUENCE.value(),
                        &tlv::encode(UTF8_STRING, "Hà Thị Chín".as_bytes()),
                    ),
                ],
            ),
            field(14, &[(UTF8_STRING.value(), b"")]),
        ]);
        let identity = VnIdentity::from_dg13(&in_sequences).unwrap();
        assert_eq!(identity.father_name.as_deref(), Some("Lý Văn Tám"));
        assert_eq!(identity.mother_name.as_deref(), Some("Hà Thị Chín"));
        assert_eq!(identity.spouse_name, None);
    }

    #[test]
    fn string_types_extra_fields_and_other_wrappings() {
        let bmp: Vec<u8> = "Tày".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let fields = [
            field(4, &[(0x13, b"Nam")]),
            field(6, &[(0x1E, &bmp)]),
            field(7, &[(0x16, b"Phat giao")]),
            // Numbers above 16 are kept; 0 and odd structures are skipped.
            field(17, &[(UTF8_STRING.value(), "Hà Nội".as_bytes())]),
            field(0, &[(UTF8_STRING.value(), b"x")]),
            tlv::encode(Tag::new(0x04), b"opaque"),
            field(16, &[(UTF8_STRING.value(), b"C1"), (0x04, b"not a string")]),
            // A repeated number: the first counts.
            field(4, &[(0x13, b"Nu")]),
            field(17, &[(UTF8_STRING.value(), b"second")]),
        ];
        // No version, no OID, no SET: the fields directly in the data group.
        let bytes = tlv::encode(Tag::new(0x6D), &fields.concat());
        let dg13 = Dg13::parse(&bytes).unwrap();
        assert_eq!(dg13.charset, None);
        let identity = dg13.identity;
        assert_eq!(identity.sex.as_deref(), Some("Nam"));
        assert_eq!(identity.ethnicity.as_deref(), Some("Tày"));
        assert_eq!(identity.religion.as_deref(), Some("Phat giao"));
        assert_eq!(identity.field_16, None);
        assert_eq!(identity.full_name, None);
        assert_eq!(identity.extra.0, BTreeMap::from([(17, "Hà Nội".into())]));
    }

    #[test]
    fn unknown_fields_are_kept_decoded_or_reported() {
        let ucs4: Vec<u8> = "Ê"
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        let bytes = dg13(&[
            field(17, &[(0x1A, b"O+")]),
            field(18, &[(0x1C, &ucs4)]),
            // Not text: reported, not dropped, and the rest of the file still counts.
            field(19, &[(0x04, &[0xDE, 0xAD])]),
            field(20, &[(0x13, &[0xC3, 0x28])]),
            field(21, &[(SEQUENCE.value(), &tlv::encode(UTF8_STRING, b"a"))]),
            field(22, &[]),
            tlv::encode(
                SEQUENCE,
                &seq(&[
                    (INTEGER.value(), &[0x01, 0x2C]),
                    (UTF8_STRING.value(), b"big"),
                ]),
            ),
            field(2, &[(UTF8_STRING.value(), "Lê Văn A".as_bytes())]),
        ]);
        let identity = VnIdentity::from_dg13(&bytes).unwrap();
        assert_eq!(identity.full_name.as_deref(), Some("Lê Văn A"));
        let extra = &identity.extra.0;
        assert_eq!(extra.get(&17).map(String::as_str), Some("O+"));
        assert_eq!(extra.get(&18).map(String::as_str), Some("Ê"));
        assert_eq!(
            extra.get(&19).map(String::as_str),
            Some("[undecoded tag 04: DEAD]")
        );
        assert_eq!(
            extra.get(&20).map(String::as_str),
            Some("[undecoded tag 13: C328]")
        );
        assert_eq!(extra.get(&21).map(String::as_str), Some("a"));
        assert_eq!(extra.get(&22).map(String::as_str), Some(""));
        assert_eq!(extra.get(&300).map(String::as_str), Some("big"));

        // A wrapper numbered above 16 around further fields is a wrapper, not a field.
        let wrapped = field(
            40,
            &[(SET.value(), &field(2, &[(UTF8_STRING.value(), b"Le B")]))],
        );
        let identity = VnIdentity::from_dg13(&tlv::encode(Tag::new(0x6D), &wrapped)).unwrap();
        assert_eq!(identity.full_name.as_deref(), Some("Le B"));
        assert!(identity.extra.0.is_empty());

        // The number of extra fields is bounded.
        let many: Vec<Vec<u8>> = (17..17 + 2 * MAX_EXTRA_FIELDS as u8)
            .map(|n| field(n, &[(UTF8_STRING.value(), b"x")]))
            .collect();
        let identity = VnIdentity::from_dg13(&dg13(&many)).unwrap();
        assert_eq!(identity.extra.0.len(), MAX_EXTRA_FIELDS);
    }

    fn seq(values: &[(u32, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (tag, value) in values {
            tlv::encode_into(Tag::new(*tag), value, &mut body);
        }
        body
    }

    fn parents(bytes: &[u8]) -> (Option<String>, Option<String>) {
        let identity = VnIdentity::from_dg13(bytes).unwrap();
        (identity.father_name, identity.mother_name)
    }

    #[test]
    fn parents_in_every_shape_real_cards_use() {
        let father = "Lý Văn Tám".as_bytes();
        let mother = "Hà Thị Chín".as_bytes();
        let f = || Some("Lý Văn Tám".to_owned());
        let m = || Some("Hà Thị Chín".to_owned());
        let each = |a: &[u8], b: &[u8]| {
            dg13(&[field(
                13,
                &[
                    (SEQUENCE.value(), &seq(&[(UTF8_STRING.value(), a)])),
                    (SEQUENCE.value(), &seq(&[(UTF8_STRING.value(), b)])),
                ],
            )])
        };
        // Each parent in a SEQUENCE of its own.
        assert_eq!(parents(&each(father, mother)), (f(), m()));
        assert_eq!(parents(&each(father, b"")), (f(), None));
        assert_eq!(parents(&each(b"", mother)), (None, m()));
        assert_eq!(parents(&each(b"", b"")), (None, None));
        assert_eq!(parents(&each(b"  ", mother)), (None, m()));
        // An empty SEQUENCE keeps the father's place too.
        let empty_father = dg13(&[field(
            13,
            &[
                (SEQUENCE.value(), &[]),
                (SEQUENCE.value(), &seq(&[(UTF8_STRING.value(), mother)])),
            ],
        )]);
        assert_eq!(parents(&empty_father), (None, m()));
        // Father only, the mother's SEQUENCE left out.
        let father_only = dg13(&[field(
            13,
            &[(SEQUENCE.value(), &seq(&[(UTF8_STRING.value(), father)]))],
        )]);
        assert_eq!(parents(&father_only), (f(), None));

        // Both names nested in one SEQUENCE.
        let one = |a: &[u8], b: &[u8]| {
            dg13(&[field(
                13,
                &[(
                    SEQUENCE.value(),
                    &seq(&[(UTF8_STRING.value(), a), (UTF8_STRING.value(), b)]),
                )],
            )])
        };
        assert_eq!(parents(&one(father, mother)), (f(), m()));
        assert_eq!(parents(&one(father, b"")), (f(), None));
        assert_eq!(parents(&one(b"", mother)), (None, m()));
        assert_eq!(parents(&one(b"", b"")), (None, None));

        // The names directly in the field.
        let direct = |a: &[u8], b: &[u8]| {
            dg13(&[field(
                13,
                &[(UTF8_STRING.value(), a), (UTF8_STRING.value(), b)],
            )])
        };
        assert_eq!(parents(&direct(father, mother)), (f(), m()));
        assert_eq!(parents(&direct(b"", mother)), (None, m()));
        // No names at all.
        assert_eq!(parents(&dg13(&[field(13, &[])])), (None, None));

        // The writer's shape (each in its own SEQUENCE) round-trips every case.
        for (father, mother) in [(f(), m()), (f(), None), (None, m()), (None, None)] {
            let identity = VnIdentity {
                father_name: father.clone(),
                mother_name: mother.clone(),
                ..VnIdentity::default()
            };
            let bytes = identity.to_dg13().unwrap();
            assert_eq!(parents(&bytes), (father, mother));
        }
    }

    #[test]
    fn writes_the_string_types_of_real_cards() {
        let bytes = sample().to_dg13().unwrap();
        let outer = Tlv::parse(&bytes).unwrap();
        let sequence = Tlv::parse(outer.value()).unwrap();
        let set = sequence.children().nth(2).unwrap().unwrap();
        let mut seen = Vec::new();
        for field in set.children() {
            let field = field.unwrap();
            let mut children = field.children();
            let n = children.next().unwrap().unwrap().value()[0];
            seen.push(n);
            let rest: Vec<Tlv<'_>> = children.map(Result::unwrap).collect();
            match n {
                13 => {
                    assert_eq!(rest.len(), 2);
                    for parent in rest {
                        assert_eq!(parent.tag(), SEQUENCE);
                        let name = Tlv::parse(parent.value()).unwrap();
                        assert_eq!(name.tag(), UTF8_STRING);
                    }
                }
                14 => {
                    assert!(rest.is_empty());
                    assert_eq!(field.value(), [0x02, 0x01, 0x0E]);
                }
                _ => {
                    let [value] = rest.as_slice() else {
                        panic!("field {n}: {} values", rest.len())
                    };
                    let expected = if PRINTABLE_FIELDS.contains(&n) {
                        PRINTABLE_STRING
                    } else {
                        UTF8_STRING
                    };
                    assert_eq!(value.tag(), expected, "field {n}");
                }
            }
        }
        assert_eq!(seen, (1..=17).chain([21]).collect::<Vec<u8>>());
        // Field 14 of an unmarried holder: present but empty.
        let fourteen = [0x30, 0x03, 0x02, 0x01, 0x0E];
        assert!(bytes.windows(5).any(|w| w == fourteen));
        // A field that should be printable but is not falls back to UTF8String.
        let odd = VnIdentity {
            issue_date: Some(VnDate::new("Không rõ")),
            ..VnIdentity::default()
        };
        let bytes = odd.to_dg13().unwrap();
        let mut expected = vec![0x30, 0x0F, 0x02, 0x01, 0x0B, 0x0C, 0x0A];
        expected.extend_from_slice("Không rõ".as_bytes());
        assert!(
            bytes
                .windows(expected.len())
                .any(|w| w == expected.as_slice())
        );
    }

    #[test]
    fn hostile_inputs_error_cleanly() {
        assert!(Dg13::parse(&[]).is_err());
        assert!(matches!(
            Dg13::parse(&[0x61, 0x00]),
            Err(Error::WrongTag { .. })
        ));
        // Length beyond the buffer, inside and outside.
        assert!(Dg13::parse(&[0x6D, 0x7F, 0x30]).is_err());
        assert!(Dg13::parse(&[0x6D, 0x04, 0x30, 0x10, 0x02, 0x01]).is_err());
        // Invalid UTF-8 in a known field is an error, not a lossy guess.
        let bad = dg13(&[field(2, &[(UTF8_STRING.value(), &[0xC3, 0x28])])]);
        assert_eq!(Dg13::parse(&bad), Err(Error::InvalidText("DG13 field")));
        // Deep nesting is refused, not followed.
        let mut deep = tlv::encode(UTF8_STRING, b"x");
        for _ in 0..40 {
            deep = tlv::encode(SEQUENCE, &deep);
        }
        let deep = tlv::encode(Tag::new(0x6D), &deep);
        assert_eq!(
            Dg13::parse(&deep),
            Err(Error::Malformed("DG13: nesting too deep"))
        );
        // Negative and huge INTEGERs are not field numbers.
        let negative = dg13(&[field(0xFF, &[(UTF8_STRING.value(), b"x")])]);
        assert_eq!(
            Dg13::parse(&negative).unwrap().identity,
            VnIdentity::default()
        );
        // A broken OID.
        let oid = tlv::encode(Tag::new(0x6D), &tlv::encode(OID, &[0x81]));
        assert!(Dg13::parse(&oid).is_err());
        // An empty data group has no fields.
        assert_eq!(
            Dg13::parse(&[0x6D, 0x00]).unwrap().identity,
            VnIdentity::default()
        );
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let text = format!("{:?}", Dg13::parse(&sample().to_dg13().unwrap()).unwrap());
        assert!(!text.contains("Nhung"), "{text}");
        assert!(!text.contains("048196"), "{text}");
        assert!(text.contains("[redacted]"));
    }
}
