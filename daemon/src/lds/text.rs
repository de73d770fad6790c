//! Text fields of the LDS: strict decoding (a card that sends invalid text gets an
//! error, never a lossy guess) with a bound on the size of each field.

use apdu::asn1::{
    BMP_STRING, GENERAL_STRING, GRAPHIC_STRING, IA5_STRING, NUMERIC_STRING, PRINTABLE_STRING,
    TELETEX_STRING, UNIVERSAL_STRING, UTF8_STRING, VISIBLE_STRING,
};
use apdu::tlv::Tlv;
use unicode_normalization::UnicodeNormalization;

use super::Error;

/// Longest text field accepted; the longest LDS text (an address) is far shorter.
pub(crate) const MAX_TEXT: usize = 4096;

/// `bytes` as UTF-8, normalized to NFC.
pub(crate) fn utf8(bytes: &[u8], what: &'static str) -> Result<String, Error> {
    if bytes.len() > MAX_TEXT {
        return Err(Error::TooLong {
            what,
            size: bytes.len(),
            limit: MAX_TEXT,
        });
    }
    let text = core::str::from_utf8(bytes).map_err(|_| Error::InvalidText(what))?;
    Ok(text.nfc().collect())
}

/// Whether `tlv` is one of the ASN.1 string types read as text.
pub(crate) fn is_asn1_string(tlv: &Tlv<'_>) -> bool {
    matches!(
        tlv.tag(),
        UTF8_STRING
            | NUMERIC_STRING
            | PRINTABLE_STRING
            | TELETEX_STRING
            | IA5_STRING
            | GRAPHIC_STRING
            | VISIBLE_STRING
            | GENERAL_STRING
            | UNIVERSAL_STRING
            | BMP_STRING
    )
}

/// The text of an ASN.1 string, normalized to NFC.
///
/// The 8-bit types (PrintableString, IA5String, NumericString, VisibleString,
/// GraphicString, GeneralString, T61String) are read as UTF-8: cards are known to put
/// UTF-8 in them, and ASCII is a subset; anything that is not UTF-8 (e.g. T.61's own
/// diacritics) is an error. BMPString is UTF-16 BE, UniversalString UCS-4 BE.
pub(crate) fn asn1_string(tlv: &Tlv<'_>, what: &'static str) -> Result<String, Error> {
    let value = tlv.value();
    match tlv.tag() {
        UTF8_STRING | NUMERIC_STRING | PRINTABLE_STRING | TELETEX_STRING | IA5_STRING
        | GRAPHIC_STRING | VISIBLE_STRING | GENERAL_STRING => utf8(value, what),
        BMP_STRING => {
            if value.len() > MAX_TEXT * 2 {
                return Err(Error::TooLong {
                    what,
                    size: value.len(),
                    limit: MAX_TEXT * 2,
                });
            }
            let pairs = value.chunks_exact(2);
            if !pairs.remainder().is_empty() {
                return Err(Error::InvalidText(what));
            }
            let units = pairs.map(|p| p.iter().fold(0u16, |acc, b| (acc << 8) | u16::from(*b)));
            let text: Result<String, _> = char::decode_utf16(units).collect();
            let text = text.map_err(|_| Error::InvalidText(what))?;
            Ok(text.nfc().collect())
        }
        UNIVERSAL_STRING => {
            if value.len() > MAX_TEXT * 4 {
                return Err(Error::TooLong {
                    what,
                    size: value.len(),
                    limit: MAX_TEXT * 4,
                });
            }
            let quads = value.chunks_exact(4);
            if !quads.remainder().is_empty() {
                return Err(Error::InvalidText(what));
            }
            let text: Option<String> = quads
                .map(|q| char::from_u32(q.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))))
                .collect();
            let text = text.ok_or(Error::InvalidText(what))?;
            Ok(text.nfc().collect())
        }
        _ => Err(Error::Malformed("text field: not a string type")),
    }
}

/// `text` normalized to NFC.
pub(crate) fn nfc(text: &str) -> String {
    text.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_every_accepted_type() {
        let utf8_tlv = apdu::tlv::encode(UTF8_STRING, "Lê".as_bytes());
        let tlv = Tlv::parse(&utf8_tlv).unwrap();
        assert_eq!(asn1_string(&tlv, "t").unwrap(), "Lê");
        let bmp = apdu::tlv::encode(BMP_STRING, &[0x00, 0x4C, 0x00, 0xEA]);
        assert_eq!(asn1_string(&Tlv::parse(&bmp).unwrap(), "t").unwrap(), "Lê");
        let odd = apdu::tlv::encode(BMP_STRING, &[0x00, 0x4C, 0x00]);
        assert!(asn1_string(&Tlv::parse(&odd).unwrap(), "t").is_err());
        let lone = apdu::tlv::encode(BMP_STRING, &[0xD8, 0x00]);
        assert!(asn1_string(&Tlv::parse(&lone).unwrap(), "t").is_err());
        let bad = apdu::tlv::encode(PRINTABLE_STRING, &[0xC3, 0x28]);
        assert_eq!(
            asn1_string(&Tlv::parse(&bad).unwrap(), "t"),
            Err(Error::InvalidText("t"))
        );
        let universal = apdu::tlv::encode(UNIVERSAL_STRING, &[0, 0, 0, 0x4C, 0, 0, 0, 0xEA]);
        assert_eq!(
            asn1_string(&Tlv::parse(&universal).unwrap(), "t").unwrap(),
            "Lê"
        );
        let surrogate = apdu::tlv::encode(UNIVERSAL_STRING, &[0, 0, 0xD8, 0]);
        assert!(asn1_string(&Tlv::parse(&surrogate).unwrap(), "t").is_err());
        let visible = apdu::tlv::encode(VISIBLE_STRING, b"O+");
        assert_eq!(
            asn1_string(&Tlv::parse(&visible).unwrap(), "t").unwrap(),
            "O+"
        );
        let int = apdu::tlv::encode(apdu::asn1::INTEGER, &[1]);
        assert!(asn1_string(&Tlv::parse(&int).unwrap(), "t").is_err());
    }

    #[test]
    fn decomposed_text_comes_out_composed() {
        assert_eq!(
            utf8("Nguye\u{302}\u{303}n".as_bytes(), "t").unwrap(),
            "Nguyễn"
        );
        assert!(utf8(&vec![b'a'; MAX_TEXT + 1], "t").is_err());
    }
}

/// A full date as ICAO data groups store it: eight ASCII digits `YYYYMMDD`, or the
/// same digits in four BCD bytes (older documents). Returned as the eight digits.
pub(crate) fn full_date(bytes: &[u8], what: &'static str) -> Result<String, Error> {
    if bytes.len() == 8 && bytes.iter().all(u8::is_ascii_digit) {
        return Ok(bytes.iter().map(|b| char::from(*b)).collect());
    }
    if bytes.len() == 4 && bytes.iter().all(|b| b >> 4 <= 9 && b & 0x0F <= 9) {
        return Ok(bytes
            .iter()
            .flat_map(|b| [char::from(b'0' + (b >> 4)), char::from(b'0' + (b & 0x0F))])
            .collect());
    }
    Err(Error::Malformed(what))
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn full_dates_in_ascii_and_bcd() {
        assert_eq!(full_date(b"19960812", "d").unwrap(), "19960812");
        assert_eq!(
            full_date(&[0x19, 0x96, 0x08, 0x12], "d").unwrap(),
            "19960812"
        );
        assert!(full_date(&[0x19, 0x96, 0x08, 0x1A], "d").is_err());
        assert!(full_date(b"1996081", "d").is_err());
        assert!(full_date(b"1996-8-1", "d").is_err());
    }
}
