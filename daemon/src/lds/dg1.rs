//! DG1: the machine readable zone (ICAO 9303-10 §4.7.1, layouts of 9303-4/5/6).
//!
//! The MRZ is detected by its length: TD1 (3 × 30, ID cards such as the Vietnamese
//! CCCD), TD2 (2 × 36), TD3 (2 × 44, passports). Every check digit is verified and
//! reported per field rather than failing the parse, so the caller can show which field
//! is wrong; the characters themselves must be in the MRZ set.

use apdu::mrz::check_digit;
use apdu::tlv::{self, Tag};
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{DataGroup, Error, Redacted, outer};

const MRZ_TAG: Tag = Tag::new(0x5F1F);

/// The layout of an MRZ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MrzFormat {
    /// Three lines of 30 characters (ID cards).
    Td1,
    /// Two lines of 36 characters.
    Td2,
    /// Two lines of 44 characters (passports).
    Td3,
}

impl MrzFormat {
    /// Total number of characters.
    pub const fn mrz_len(self) -> usize {
        match self {
            MrzFormat::Td1 => 90,
            MrzFormat::Td2 => 72,
            MrzFormat::Td3 => 88,
        }
    }

    /// Characters per line.
    pub const fn line_len(self) -> usize {
        match self {
            MrzFormat::Td1 => 30,
            MrzFormat::Td2 => 36,
            MrzFormat::Td3 => 44,
        }
    }

    /// The format of an MRZ of `len` characters.
    pub fn from_len(len: usize) -> Option<MrzFormat> {
        match len {
            90 => Some(MrzFormat::Td1),
            72 => Some(MrzFormat::Td2),
            88 => Some(MrzFormat::Td3),
            _ => None,
        }
    }

    /// `"TD1"`, `"TD2"` or `"TD3"`.
    pub fn name(self) -> &'static str {
        match self {
            MrzFormat::Td1 => "TD1",
            MrzFormat::Td2 => "TD2",
            MrzFormat::Td3 => "TD3",
        }
    }

    /// Room for names (TD1: the whole third line).
    const fn name_len(self) -> usize {
        match self {
            MrzFormat::Td1 => 30,
            MrzFormat::Td2 => 31,
            MrzFormat::Td3 => 39,
        }
    }

    /// Room for the (first) optional data field.
    const fn optional_len(self) -> usize {
        match self {
            MrzFormat::Td1 => 15,
            MrzFormat::Td2 => 7,
            MrzFormat::Td3 => 14,
        }
    }
}

/// Sex as the MRZ records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Sex {
    /// `M`.
    Male,
    /// `F`.
    Female,
    /// `<` or `X`.
    #[default]
    Unspecified,
}

impl Sex {
    fn from_mrz(c: u8) -> Result<Sex, Error> {
        match c {
            b'M' => Ok(Sex::Male),
            b'F' => Ok(Sex::Female),
            b'<' | b'X' => Ok(Sex::Unspecified),
            _ => Err(Error::Malformed("MRZ sex")),
        }
    }

    /// The MRZ character: `M`, `F`, or `<`.
    pub fn mrz_char(self) -> char {
        match self {
            Sex::Male => 'M',
            Sex::Female => 'F',
            Sex::Unspecified => '<',
        }
    }

    /// `"M"`, `"F"` or `"X"`, as the result JSON shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Unspecified => "X",
        }
    }
}

/// The fields of an MRZ, fillers removed. Also the input of the encoder.
///
/// Names are upper-case with spaces where the MRZ has a single `<`. Dates are `YYMMDD`
/// (a `<` stands for an unknown digit).
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MrzFields {
    /// The layout.
    #[zeroize(skip)]
    pub format: Option<MrzFormat>,
    /// Document code, one or two characters (`"P"`, `"I"`, `"ID"`).
    pub document_code: String,
    /// Issuing state or organization (three letters, e.g. `"VNM"`, `"D"`).
    pub issuing_state: String,
    /// Document number in full (TD1/TD2 long numbers joined with their continuation).
    pub document_number: String,
    /// Optional data (TD3: personal number; TD1: upper line, after any number
    /// continuation), trailing fillers removed.
    pub optional_data: String,
    /// TD1 only: the optional data of the middle line.
    pub optional_data_2: String,
    /// Date of birth `YYMMDD`.
    pub birth_date: String,
    /// Sex.
    #[zeroize(skip)]
    pub sex: Sex,
    /// Date of expiry `YYMMDD`.
    pub expiry_date: String,
    /// Nationality (three letters).
    pub nationality: String,
    /// Primary identifier.
    pub surname: String,
    /// Secondary identifier.
    pub given_names: String,
}

impl core::fmt::Debug for MrzFields {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MrzFields")
            .field("format", &self.format)
            .field("fields", &Redacted)
            .finish()
    }
}

/// The result of each check digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CheckDigits {
    /// Document number.
    pub document_number: bool,
    /// Date of birth.
    pub birth_date: bool,
    /// Date of expiry.
    pub expiry_date: bool,
    /// TD3 personal number (optional data); `None` for TD1/TD2, which have none.
    pub optional_data: Option<bool>,
    /// Composite check digit.
    pub composite: bool,
    /// Vietnamese card (`VNM` TD1): the check digit that follows the 12-digit ID number
    /// and `<<` at the end of line 1's optional data; `None` when the optional data does
    /// not have that shape.
    pub vn_id_number: Option<bool>,
}

impl CheckDigits {
    /// Whether every check digit is right.
    pub fn all_valid(&self) -> bool {
        self.document_number
            && self.birth_date
            && self.expiry_date
            && self.optional_data.unwrap_or(true)
            && self.composite
            && self.vn_id_number.unwrap_or(true)
    }
}

/// The decoded DG1.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Dg1 {
    /// The whole MRZ, lines concatenated.
    pub mrz: String,
    /// Its fields.
    pub fields: MrzFields,
    /// The check digits.
    #[zeroize(skip)]
    pub checks: CheckDigits,
}

impl core::fmt::Debug for Dg1 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Dg1")
            .field("format", &self.format())
            .field("mrz", &Redacted)
            .field("checks", &self.checks)
            .finish()
    }
}

impl Dg1 {
    /// Decodes DG1 (`61 { 5F1F mrz }`).
    pub fn parse(bytes: &[u8]) -> Result<Dg1, Error> {
        let file = outer(bytes, DataGroup::DG1.tag())?;
        let mrz = file.require(MRZ_TAG, "DG1 MRZ (5F1F)")?;
        let text = core::str::from_utf8(mrz.value()).map_err(|_| Error::InvalidText("DG1 MRZ"))?;
        Dg1::from_mrz(text)
    }

    /// Decodes an MRZ given as text, lines concatenated (line breaks are not allowed).
    pub fn from_mrz(mrz: &str) -> Result<Dg1, Error> {
        let format = MrzFormat::from_len(mrz.len()).ok_or(Error::Malformed(
            "DG1 MRZ: length is not 90 (TD1), 72 (TD2) or 88 (TD3)",
        ))?;
        if !mrz
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<')
        {
            return Err(Error::Malformed("DG1 MRZ: character outside 0-9 A-Z <"));
        }
        // All ASCII from here on: byte ranges are character ranges.
        let at = |start: usize, len: usize| -> Result<&str, Error> {
            mrz.get(start..start + len)
                .ok_or(Error::Truncated("DG1 MRZ"))
        };
        let byte = |i: usize| -> Result<u8, Error> {
            mrz.as_bytes()
                .get(i)
                .copied()
                .ok_or(Error::Truncated("DG1 MRZ"))
        };
        let verify = |field: &str, digit: u8| check_digit(field) == Some(digit);

        // Not a struct update: MrzFields zeroizes on drop, so fields cannot move out.
        let mut fields = MrzFields::default();
        fields.format = Some(format);
        fields.document_code = unfill(at(0, 2)?);
        fields.issuing_state = unfill(at(2, 3)?);
        let mut checks = CheckDigits::default();
        let composite_input: String;
        let composite_digit: u8;

        match format {
            MrzFormat::Td1 => {
                let number = at(5, 9)?;
                let number_digit = byte(14)?;
                let optional = at(15, 15)?;
                let (number, number_digit, optional) = long_number(number, number_digit, optional);
                checks.document_number = verify(&number, number_digit);
                fields.document_number = unfill(&number);
                fields.optional_data = optional.trim_end_matches('<').to_owned();
                fields.birth_date = at(30, 6)?.to_owned();
                checks.birth_date = verify(at(30, 6)?, byte(36)?);
                fields.sex = Sex::from_mrz(byte(37)?)?;
                fields.expiry_date = at(38, 6)?.to_owned();
                checks.expiry_date = verify(at(38, 6)?, byte(44)?);
                fields.nationality = unfill(at(45, 3)?);
                fields.optional_data_2 = at(48, 11)?.trim_end_matches('<').to_owned();
                composite_input = [at(5, 25)?, at(30, 7)?, at(38, 7)?, at(48, 11)?].concat();
                composite_digit = byte(59)?;
                (fields.surname, fields.given_names) = names(at(60, 30)?);
            }
            MrzFormat::Td2 | MrzFormat::Td3 => {
                let line = format.line_len();
                (fields.surname, fields.given_names) = names(at(5, format.name_len())?);
                let number = at(line, 9)?;
                let number_digit = byte(line + 9)?;
                let optional_len = format.optional_len();
                let optional = at(line + 28, optional_len)?;
                if format == MrzFormat::Td2 {
                    let (number, number_digit, optional) =
                        long_number(number, number_digit, optional);
                    checks.document_number = verify(&number, number_digit);
                    fields.document_number = unfill(&number);
                    fields.optional_data = optional.trim_end_matches('<').to_owned();
                } else {
                    checks.document_number = verify(number, number_digit);
                    fields.document_number = unfill(number);
                    fields.optional_data = optional.trim_end_matches('<').to_owned();
                    let optional_digit = byte(line + 42)?;
                    // An empty personal number may carry `<` instead of a digit.
                    checks.optional_data = Some(
                        verify(optional, optional_digit)
                            || (optional_digit == b'<' && fields.optional_data.is_empty()),
                    );
                }
                fields.nationality = unfill(at(line + 10, 3)?);
                fields.birth_date = at(line + 13, 6)?.to_owned();
                checks.birth_date = verify(at(line + 13, 6)?, byte(line + 19)?);
                fields.sex = Sex::from_mrz(byte(line + 20)?)?;
                fields.expiry_date = at(line + 21, 6)?.to_owned();
                checks.expiry_date = verify(at(line + 21, 6)?, byte(line + 27)?);
                let composite_end =
                    line + 28 + optional_len + usize::from(format == MrzFormat::Td3);
                composite_input = [
                    at(line, 10)?,
                    at(line + 13, 7)?,
                    at(line + 21, composite_end - (line + 21))?,
                ]
                .concat();
                composite_digit = byte(composite_end)?;
            }
        }
        checks.composite = verify(&composite_input, composite_digit);
        if format == MrzFormat::Td1 && fields.issuing_state == "VNM" {
            checks.vn_id_number = vn_id_check(&fields.optional_data);
        }
        Ok(Dg1 {
            mrz: mrz.to_owned(),
            fields,
            checks,
        })
    }

    /// The layout.
    pub fn format(&self) -> MrzFormat {
        self.fields.format.unwrap_or(MrzFormat::Td1)
    }

    /// The MRZ split into its lines.
    pub fn lines(&self) -> Vec<&str> {
        let len = self.format().line_len();
        (0..self.mrz.len() / len)
            .filter_map(|i| self.mrz.get(i * len..(i + 1) * len))
            .collect()
    }

    /// Surname then given names, separated by a space (the order of the MRZ).
    pub fn full_name(&self) -> String {
        let mut name = self.fields.surname.clone();
        if !self.fields.given_names.is_empty() {
            if !name.is_empty() {
                name.push(' ');
            }
            name.push_str(&self.fields.given_names);
        }
        name
    }

    /// The 12-digit ID number of a Vietnamese card: the optional data of a `VNM` TD1
    /// begins with it (on real cards followed by `<<` and its check digit, which must
    /// then be right), and its last nine digits are the document number. `None` when
    /// the MRZ does not look like that.
    pub fn vn_id_number(&self) -> Option<&str> {
        let f = &self.fields;
        if f.issuing_state != "VNM" || self.checks.vn_id_number == Some(false) {
            return None;
        }
        let candidate = f.optional_data.get(..12)?;
        let after = f.optional_data.as_bytes().get(12).copied();
        let digits = candidate.bytes().all(|b| b.is_ascii_digit());
        let ends = matches!(after, None | Some(b'<'));
        let matches_number = candidate.get(3..) == Some(f.document_number.as_str());
        (digits && ends && matches_number).then_some(candidate)
    }

    /// The encoded DG1 for this MRZ.
    pub fn encode(&self) -> Vec<u8> {
        let inner = tlv::encode(MRZ_TAG, self.mrz.as_bytes());
        tlv::encode(DataGroup::DG1.tag(), &inner)
    }
}

/// The optional data of line 1 of a Vietnamese card's MRZ for a 12-digit ID number, as
/// real cards write it: the ID, `<<`, the ID's check digit (15 characters, the whole
/// field). `None` when `id` is not 12 digits.
pub fn vn_optional_data(id: &str) -> Option<String> {
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digit = char::from(check_digit(id)?);
    Some(format!("{id}<<{digit}"))
}

/// The check of [`vn_optional_data`]'s shape (`ID<<D`, fillers trimmed): `Some(right)`
/// when the optional data has it, `None` otherwise.
fn vn_id_check(optional: &str) -> Option<bool> {
    let id = optional.get(..12)?;
    if optional.len() != 15
        || optional.get(12..14) != Some("<<")
        || !id.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some(check_digit(id) == optional.as_bytes().get(14).copied())
}

/// Splits a TD1/TD2 document number field from its continuation in the optional data
/// (ICAO 9303-5 §4.2.2): when the check digit position holds `<`, the number goes on
/// in the optional data up to the first `<`, whose last character is the check digit.
/// Returns the number as written (fillers included), its check digit and what remains
/// of the optional data.
fn long_number<'a>(number: &str, digit: u8, optional: &'a str) -> (String, u8, &'a str) {
    if digit != b'<' {
        return (number.to_owned(), digit, optional);
    }
    let end = optional.find('<').unwrap_or(optional.len());
    let Some(continuation) = optional.get(..end) else {
        return (number.to_owned(), digit, optional);
    };
    let Some((&last, more)) = continuation.as_bytes().split_last() else {
        return (number.to_owned(), digit, optional);
    };
    let mut full = number.to_owned();
    full.push_str(core::str::from_utf8(more).unwrap_or_default());
    let rest = optional.get(end..).unwrap_or_default();
    (full, last, rest.trim_start_matches('<'))
}

/// Fillers removed: trailing `<` dropped, inner `<` as spaces.
fn unfill(field: &str) -> String {
    field.trim_end_matches('<').replace('<', " ")
}

/// The name field split at the first `<<` into primary and secondary identifiers.
fn names(field: &str) -> (String, String) {
    let field = field.trim_end_matches('<');
    match field.split_once("<<") {
        Some((surname, given)) => (unfill(surname), unfill(given).trim().to_owned()),
        None => (unfill(field), String::new()),
    }
}

/// Transliterates text to the MRZ character set: upper case, Latin diacritics removed
/// (ICAO 9303-3 §6: `Đ` → `D`), spaces, hyphens and apostrophes as `<`.
pub fn transliterate(text: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        match c {
            'A'..='Z' | '0'..='9' | '<' => out.push(c),
            'a'..='z' => out.push(c.to_ascii_uppercase()),
            'Đ' | 'đ' | 'Ð' | 'ð' => out.push('D'),
            ' ' | '-' | '\'' | ',' | '.' => out.push('<'),
            // Combining marks left by the decomposition.
            '\u{0300}'..='\u{036F}' => {}
            _ => return Err(Error::Encode("MRZ: character with no transliteration")),
        }
    }
    Ok(out)
}

impl MrzFields {
    /// Builds the MRZ text, computing every check digit. Names are transliterated and
    /// must fit; document numbers longer than nine characters use the TD1/TD2
    /// continuation in the optional data.
    pub fn to_mrz(&self) -> Result<String, Error> {
        let format = self.format.ok_or(Error::Encode("MRZ: format not set"))?;
        let field = |text: &str, len: usize, what: &'static str| -> Result<String, Error> {
            let mut t = transliterate(text)?;
            if t.len() > len {
                return Err(Error::Encode(what));
            }
            while t.len() < len {
                t.push('<');
            }
            Ok(t)
        };
        let digit = |text: &str| -> Result<char, Error> {
            check_digit(text)
                .map(char::from)
                .ok_or(Error::Encode("MRZ: field outside the MRZ character set"))
        };
        for date in [&self.birth_date, &self.expiry_date] {
            if date.len() != 6 || !date.bytes().all(|b| b.is_ascii_digit() || b == b'<') {
                return Err(Error::Encode("MRZ: dates must be YYMMDD"));
            }
        }
        let code = field(&self.document_code, 2, "MRZ: document code")?;
        let state = field(&self.issuing_state, 3, "MRZ: issuing state")?;
        let nationality = field(&self.nationality, 3, "MRZ: nationality")?;
        let number = transliterate(&self.document_number)?;
        if number.is_empty() {
            return Err(Error::Encode("MRZ: empty document number"));
        }
        let mut name = transliterate(&self.surname)?;
        if !self.given_names.is_empty() {
            name.push_str("<<");
            name.push_str(&transliterate(&self.given_names)?);
        }
        let name = field(&name, format.name_len(), "MRZ: names too long")?;

        // Number field (9), its check digit, and the optional data that follows.
        let (number_field, number_digit, optional) = if number.len() > 9 {
            if format == MrzFormat::Td3 {
                return Err(Error::Encode("MRZ: TD3 document numbers have 9 characters"));
            }
            let head = number.get(..9).unwrap_or_default().to_owned();
            let tail = number.get(9..).unwrap_or_default();
            let optional = format!(
                "{tail}{}<{}",
                digit(&number)?,
                transliterate(&self.optional_data)?
            );
            (head, '<', optional)
        } else {
            let padded = field(&number, 9, "MRZ: document number")?;
            let d = digit(&padded)?;
            (padded, d, transliterate(&self.optional_data)?)
        };
        let optional = field(
            &optional,
            format.optional_len(),
            "MRZ: optional data too long",
        )?;
        let sex = self.sex.mrz_char();
        let birth = &self.birth_date;
        let expiry = &self.expiry_date;
        let birth_digit = digit(birth)?;
        let expiry_digit = digit(expiry)?;

        let mrz = match format {
            MrzFormat::Td1 => {
                let optional_2 = field(&self.optional_data_2, 11, "MRZ: optional data 2")?;
                let upper = format!("{code}{state}{number_field}{number_digit}{optional}");
                let middle_head = format!("{birth}{birth_digit}{sex}{expiry}{expiry_digit}");
                let composite = format!(
                    "{}{}{}{}",
                    upper.get(5..).unwrap_or_default(),
                    middle_head.get(..7).unwrap_or_default(),
                    middle_head.get(8..).unwrap_or_default(),
                    optional_2
                );
                let composite = digit(&composite)?;
                format!("{upper}{middle_head}{nationality}{optional_2}{composite}{name}")
            }
            MrzFormat::Td2 | MrzFormat::Td3 => {
                let optional_digit = if format == MrzFormat::Td3 {
                    if optional.bytes().all(|b| b == b'<') {
                        "<".to_owned()
                    } else {
                        digit(&optional)?.to_string()
                    }
                } else {
                    String::new()
                };
                let composite = format!(
                    "{number_field}{number_digit}{birth}{birth_digit}{expiry}{expiry_digit}{optional}{optional_digit}"
                );
                let composite = digit(&composite)?;
                format!(
                    "{code}{state}{name}{number_field}{number_digit}{nationality}{birth}{birth_digit}{sex}{expiry}{expiry_digit}{optional}{optional_digit}{composite}"
                )
            }
        };
        if mrz.len() != format.mrz_len() {
            return Err(Error::Encode("MRZ: fields do not fit the layout"));
        }
        Ok(mrz)
    }

    /// The encoded DG1 holding these fields.
    pub fn to_dg1(&self) -> Result<Vec<u8>, Error> {
        let mrz = self.to_mrz()?;
        let inner = tlv::encode(MRZ_TAG, mrz.as_bytes());
        Ok(tlv::encode(DataGroup::DG1.tag(), &inner))
    }
}

/// A `YYMMDD` date as `YYYY-MM-DD`, or `None` when it is not a plain date. Two-digit
/// years are placed in the century that puts them at most `years_ahead` years after
/// `this_year` (birth dates: 0; expiry dates: e.g. 50).
pub fn yymmdd_to_iso(date: &str, this_year: u32, years_ahead: u32) -> Option<String> {
    if date.len() != 6 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: u32 = date.get(0..2)?.parse().ok()?;
    let mm: u32 = date.get(2..4)?.parse().ok()?;
    let dd: u32 = date.get(4..6)?.parse().ok()?;
    if !(1..=12).contains(&mm) || !(1..=31).contains(&dd) {
        return None;
    }
    let limit = this_year + years_ahead;
    let mut year = (limit / 100) * 100 + yy;
    if year > limit {
        year = year.checked_sub(100)?;
    }
    Some(format!("{year:04}-{mm:02}-{dd:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(path: &str) -> Option<Vec<u8>> {
        Some(crate::reference::read(path))
    }

    fn vectors() -> Option<serde_json::Value> {
        let bytes = shared("vectors/icao9303-11.json")?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        Some(json["mrz_check_digits"].clone())
    }

    #[test]
    fn icao_specimen_mrzs_decode_with_valid_check_digits() {
        let Some(v) = vectors() else { return };
        let specimens = v["specimen_mrz"].as_array().unwrap();
        assert!(specimens.len() >= 5);
        for specimen in specimens {
            let text = specimen["mrz"].as_str().unwrap();
            let format = specimen["format"].as_str().unwrap();
            let dg1 = Dg1::from_mrz(text).unwrap();
            assert!(format.starts_with(dg1.format().name()), "{format}");
            assert!(dg1.checks.all_valid(), "{format}: {:?}", dg1.checks);
            // Where the vector gives the MRZ information, the decoded number, birth and
            // expiry must rebuild it (this covers long document numbers).
            if let Some(info) = specimen["mrz_information"].as_str() {
                let f = &dg1.fields;
                let key = apdu::mrz::MrzKey::new(&f.document_number, &f.birth_date, &f.expiry_date)
                    .unwrap();
                assert_eq!(key.as_str(), info, "{format}");
            }
            // The encoder rebuilds the same MRZ from the decoded fields.
            assert_eq!(dg1.fields.to_mrz().unwrap(), text, "{format}");
            let bytes = dg1.encode();
            assert_eq!(Dg1::parse(&bytes).unwrap(), dg1);
        }
    }

    #[test]
    fn icao_td1_specimen_fields() {
        let Some(v) = vectors() else { return };
        let td1 = v["specimen_mrz"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["format"] == "TD1")
            .unwrap()["mrz"]
            .as_str()
            .unwrap()
            .to_owned();
        let dg1 = Dg1::from_mrz(&td1).unwrap();
        let f = &dg1.fields;
        assert_eq!(f.document_code, "I");
        assert_eq!(f.issuing_state, "UTO");
        assert_eq!(f.document_number, "D23145890");
        assert_eq!(f.birth_date, "740812");
        assert_eq!(f.sex, Sex::Female);
        assert_eq!(f.expiry_date, "120415");
        assert_eq!(f.nationality, "UTO");
        assert_eq!(f.surname, "ERIKSSON");
        assert_eq!(f.given_names, "ANNA MARIA");
        assert_eq!(dg1.full_name(), "ERIKSSON ANNA MARIA");
        assert_eq!(dg1.lines().len(), 3);
        assert_eq!(dg1.vn_id_number(), None);
    }

    #[test]
    fn icao_long_document_numbers() {
        let Some(v) = vectors() else { return };
        for specimen in v["specimen_mrz"].as_array().unwrap() {
            if specimen["format"].as_str().unwrap().contains("longer") {
                let dg1 = Dg1::from_mrz(specimen["mrz"].as_str().unwrap()).unwrap();
                assert_eq!(dg1.fields.document_number, "D23145890734");
                assert_eq!(dg1.fields.optional_data, "");
                assert_eq!(dg1.fields.surname, "STEVENSON");
                assert_eq!(dg1.fields.given_names, "PETER JOHN");
            }
        }
    }

    #[test]
    fn part3_composite_examples() {
        let Some(v) = vectors() else { return };
        for example in v["part3_examples"].as_array().unwrap() {
            let data = example["data"].as_str().unwrap();
            let digit = example["check_digit"].as_str().unwrap().as_bytes()[0];
            assert_eq!(check_digit(data), Some(digit));
        }
    }

    #[test]
    fn bsi_reference_dg1_is_erika_mustermann() {
        let Some(bytes) = shared("data/bsi-tr03105-5/Datagroup1.bin") else {
            return;
        };
        let dg1 = Dg1::parse(&bytes).unwrap();
        assert_eq!(dg1.format(), MrzFormat::Td3);
        assert!(dg1.checks.all_valid(), "{:?}", dg1.checks);
        assert_eq!(dg1.checks.optional_data, Some(true));
        let f = &dg1.fields;
        assert_eq!(f.document_code, "P");
        assert_eq!(f.issuing_state, "D");
        assert_eq!(f.nationality, "D");
        assert_eq!(f.surname, "MUSTERMANN");
        assert_eq!(f.given_names, "ERIKA");
        assert_eq!(f.document_number, "C11T002JM");
        assert_eq!(f.birth_date, "960812");
        assert_eq!(f.sex, Sex::Female);
        assert_eq!(f.expiry_date, "231031");
        assert_eq!(f.optional_data, "");
        assert_eq!(
            yymmdd_to_iso(&f.birth_date, 2025, 0).as_deref(),
            Some("1996-08-12")
        );
        assert_eq!(
            yymmdd_to_iso(&f.expiry_date, 2025, 50).as_deref(),
            Some("2023-10-31")
        );
        assert_eq!(dg1.encode(), bytes);
        assert_eq!(dg1.fields.to_dg1().unwrap(), bytes);
    }

    fn vn_fields() -> MrzFields {
        MrzFields {
            format: Some(MrzFormat::Td1),
            document_code: "ID".into(),
            issuing_state: "VNM".into(),
            document_number: "201234567".into(),
            optional_data: "079201234567".into(),
            optional_data_2: String::new(),
            birth_date: "010203".into(),
            sex: Sex::Female,
            expiry_date: "410203".into(),
            nationality: "VNM".into(),
            surname: "Trần".into(),
            given_names: "Thị Thu Đào".into(),
        }
    }

    #[test]
    fn vietnamese_td1_round_trip_and_id_number() {
        let fields = vn_fields();
        let mrz = fields.to_mrz().unwrap();
        assert_eq!(mrz.len(), 90);
        assert!(mrz.starts_with("IDVNM201234567"), "{mrz}");
        assert!(mrz.ends_with("TRAN<<THI<THU<DAO<<<<<<<<<<<<<"), "{mrz}");
        let dg1 = Dg1::parse(&fields.to_dg1().unwrap()).unwrap();
        assert!(dg1.checks.all_valid());
        assert_eq!(dg1.vn_id_number(), Some("079201234567"));
        assert_eq!(dg1.fields.surname, "TRAN");
        assert_eq!(dg1.fields.given_names, "THI THU DAO");
        assert_eq!(dg1.fields.sex, Sex::Female);

        // An ID number whose tail is not the document number is not taken for one.
        let mut other = vn_fields();
        other.optional_data = "079209999999".into();
        let dg1 = Dg1::from_mrz(&other.to_mrz().unwrap()).unwrap();
        assert_eq!(dg1.vn_id_number(), None);
        let mut other = vn_fields();
        other.issuing_state = "UTO".into();
        let dg1 = Dg1::from_mrz(&other.to_mrz().unwrap()).unwrap();
        assert_eq!(dg1.vn_id_number(), None);
    }

    #[test]
    fn vietnamese_line_one_ends_with_the_id_check_digit() {
        // 079201234567: weights 7 3 1 give 132, check digit 2.
        assert_eq!(
            vn_optional_data("079201234567").as_deref(),
            Some("079201234567<<2")
        );
        assert_eq!(vn_optional_data("07920123456"), None);
        assert_eq!(vn_optional_data("07920123456x"), None);
        let mut fields = vn_fields();
        fields.optional_data = vn_optional_data("079201234567").unwrap();
        let mrz = fields.to_mrz().unwrap();
        assert_eq!(mrz.get(..30), Some("IDVNM2012345672079201234567<<2"));
        let dg1 = Dg1::from_mrz(&mrz).unwrap();
        assert_eq!(dg1.checks.vn_id_number, Some(true));
        assert!(dg1.checks.all_valid());
        assert_eq!(dg1.vn_id_number(), Some("079201234567"));

        // A wrong ID check digit (composite fixed up, so only that digit is wrong).
        let mut bytes = mrz.clone().into_bytes();
        bytes[29] = b'3';
        let line1 = core::str::from_utf8(&bytes[..30]).unwrap().to_owned();
        let mut lines = [line1, mrz[30..60].to_owned(), mrz[60..].to_owned()];
        let composite = [
            &lines[0][5..30],
            &lines[1][0..7],
            &lines[1][8..15],
            &lines[1][18..29],
        ]
        .concat();
        let digit = char::from(check_digit(&composite).unwrap());
        lines[1].replace_range(29..30, &digit.to_string());
        let dg1 = Dg1::from_mrz(&lines.concat()).unwrap();
        assert!(dg1.checks.composite);
        assert_eq!(dg1.checks.vn_id_number, Some(false));
        assert!(!dg1.checks.all_valid());
        assert_eq!(dg1.vn_id_number(), None);

        // Without the `<<D` tail (older layout), there is nothing to check.
        let dg1 = Dg1::from_mrz(&vn_fields().to_mrz().unwrap()).unwrap();
        assert_eq!(dg1.checks.vn_id_number, None);
        assert_eq!(dg1.vn_id_number(), Some("079201234567"));
        // Not a Vietnamese card: not checked.
        let mut other = fields.clone();
        other.issuing_state = "UTO".into();
        let dg1 = Dg1::from_mrz(&other.to_mrz().unwrap()).unwrap();
        assert_eq!(dg1.checks.vn_id_number, None);
    }

    #[test]
    fn wrong_check_digits_are_reported_per_field() {
        let mrz = vn_fields().to_mrz().unwrap();
        // Birth date check digit is at index 36.
        let mut bytes = mrz.into_bytes();
        bytes[36] = if bytes[36] == b'0' { b'1' } else { b'0' };
        let dg1 = Dg1::from_mrz(core::str::from_utf8(&bytes).unwrap()).unwrap();
        assert!(!dg1.checks.birth_date);
        assert!(dg1.checks.document_number);
        assert!(dg1.checks.expiry_date);
        assert!(!dg1.checks.composite);
        assert!(!dg1.checks.all_valid());
    }

    #[test]
    fn bad_inputs_error_cleanly() {
        assert!(Dg1::from_mrz("").is_err());
        assert!(Dg1::from_mrz(&"<".repeat(89)).is_err());
        assert!(Dg1::from_mrz(&"a".repeat(90)).is_err());
        // Multi-byte characters making up 90 bytes.
        assert!(Dg1::from_mrz(&"é".repeat(45)).is_err());
        // Sex outside M, F, <, X.
        let mut bytes = vn_fields().to_mrz().unwrap().into_bytes();
        bytes[37] = b'Q';
        assert!(Dg1::from_mrz(core::str::from_utf8(&bytes).unwrap()).is_err());
        // All fillers: decodes, check digits fail.
        let dg1 = Dg1::from_mrz(&"<".repeat(88)).unwrap();
        assert!(!dg1.checks.all_valid());
        assert!(Dg1::parse(&[0x61, 0x03, 0x5F, 0x1F, 0x00]).is_err());
        assert!(Dg1::parse(&[0x61, 0x04, 0x5F, 0x1F, 0x02, 0xFF]).is_err());
        assert!(Dg1::parse(&[0x61, 0x00]).is_err());
        // A TD1 whose number continuation fills the whole optional data.
        let mut td1 = String::from("I<UTOD23145890<");
        td1.push_str(&"1".repeat(15));
        td1.push_str(&"<".repeat(60));
        assert!(Dg1::from_mrz(&td1).is_ok());
    }

    #[test]
    fn encoder_refuses_what_does_not_fit() {
        let mut f = vn_fields();
        f.surname = "X".repeat(40);
        assert!(f.to_mrz().is_err());
        let mut f = vn_fields();
        f.birth_date = "1990-01-01".into();
        assert!(f.to_mrz().is_err());
        let mut f = vn_fields();
        f.surname = "李".into();
        assert!(f.to_mrz().is_err());
        let mut f = vn_fields();
        f.format = Some(MrzFormat::Td3);
        f.document_number = "1234567890".into();
        assert!(f.to_mrz().is_err());
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let dg1 = Dg1::from_mrz(&vn_fields().to_mrz().unwrap()).unwrap();
        let text = format!("{dg1:?} {:?}", dg1.fields);
        assert!(!text.contains("TRAN"), "{text}");
        assert!(!text.contains("2012"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn two_digit_years() {
        assert_eq!(
            yymmdd_to_iso("991231", 2025, 0).as_deref(),
            Some("1999-12-31")
        );
        assert_eq!(
            yymmdd_to_iso("250101", 2025, 0).as_deref(),
            Some("2025-01-01")
        );
        assert_eq!(
            yymmdd_to_iso("400101", 2025, 50).as_deref(),
            Some("2040-01-01")
        );
        assert_eq!(yymmdd_to_iso("99<<<<", 2025, 0), None);
        assert_eq!(yymmdd_to_iso("991331", 2025, 0), None);
    }
}
