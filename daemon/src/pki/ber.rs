//! The BER that CMS allows and DER does not: indefinite lengths (EF.SOD and master
//! list `ContentInfo`s) and constructed OCTET STRINGs (`eContent`).
//!
//! Input is hostile: nesting is bounded, every length is checked against the bytes
//! present, and nothing here panics.

use super::DerError;
use apdu::asn1::OCTET_STRING;
use apdu::tlv::{self, Tag, Tlv};

/// Deepest nesting of indefinite lengths accepted (certificates need about 10).
pub const MAX_DEPTH: usize = 48;

/// The constructed form of OCTET STRING, which only BER has.
const CONSTRUCTED_OCTET_STRING: Tag = Tag::new(0x24);

/// The length octet that announces an indefinite length.
const INDEFINITE: u8 = 0x80;

/// Re-encodes indefinite lengths as definite ones, leaving every definite-length element
/// byte for byte as it was (so signed structures inside keep their exact encoding).
/// Trailing bytes after the first element are dropped. Tags are read as
/// [`apdu::tlv::Tag::parse`] reads them: at most three bytes, never `00` or `FF`.
pub fn ber_to_der(data: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut out = Vec::with_capacity(data.len());
    ber_element(data, &mut out, 0)?;
    Ok(out)
}

/// Copies one element into `out`; returns how many input bytes it took.
fn ber_element(data: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<usize, DerError> {
    const CTX: &str = "BER";
    if depth > MAX_DEPTH {
        return Err(DerError::new(CTX, "nested too deeply"));
    }
    let (tag, tag_len) = Tag::parse(data)?;
    if data.get(tag_len) != Some(&INDEFINITE) {
        let (element, _) = Tlv::parse_prefix(data)?;
        out.extend_from_slice(element.raw());
        return Ok(element.raw().len());
    }
    if !tag.is_constructed() {
        return Err(DerError::new(CTX, "indefinite length on a primitive"));
    }
    let mut content = Vec::new();
    let mut pos = tag_len + 1;
    loop {
        match data.get(pos..).unwrap_or_default() {
            [0, 0, ..] => {
                pos += 2;
                break;
            }
            rest @ [_, _, ..] => pos += ber_element(rest, &mut content, depth + 1)?,
            _ => return Err(DerError::new(CTX, "missing end-of-contents")),
        }
    }
    out.extend_from_slice(data.get(..tag_len).unwrap_or_default());
    tlv::encode_length(content.len(), out);
    out.extend_from_slice(&content);
    Ok(pos)
}

/// The value of a primitive OCTET STRING, or the concatenated segments of a constructed
/// (BER) one.
pub fn octet_string_value(element: &Tlv<'_>) -> Result<Vec<u8>, DerError> {
    match element.tag() {
        OCTET_STRING => Ok(element.value().to_vec()),
        CONSTRUCTED_OCTET_STRING => {
            let mut out = Vec::with_capacity(element.value().len());
            let mut r = element.reader();
            while !r.is_empty() {
                let part = r.expect(OCTET_STRING, "OCTET STRING segment")?;
                out.extend_from_slice(part.value());
            }
            Ok(out)
        }
        _ => Err(DerError::new("OCTET STRING", "unexpected tag")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ber_indefinite_becomes_definite() {
        // SEQUENCE (indefinite) { [0] (indefinite) { OCTET STRING 01 02 } }
        let ber = [0x30, 0x80, 0xa0, 0x80, 0x04, 0x02, 1, 2, 0, 0, 0, 0];
        let der = ber_to_der(&ber).unwrap();
        assert_eq!(der, [0x30, 0x06, 0xa0, 0x04, 0x04, 0x02, 1, 2]);
        assert!(ber_to_der(&[0x30, 0x80, 0x04, 0x01, 1]).is_err());
        assert!(ber_to_der(&[0x04, 0x80, 0, 0]).is_err());
        assert!(ber_to_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(ber_to_der(&deep).is_err());
        let definite = [0x30, 0x03, 0x02, 0x01, 0x05, 0xff];
        assert_eq!(ber_to_der(&definite).unwrap(), &definite[..5]);
    }

    #[test]
    fn constructed_octet_strings_are_joined() {
        let segments = [0x24, 0x07, 0x04, 0x01, 1, 0x04, 0x02, 2, 3];
        let tlv = Tlv::parse(&segments).unwrap();
        assert_eq!(octet_string_value(&tlv).unwrap(), [1, 2, 3]);
        let wrong = Tlv::parse(&[0x24, 0x03, 0x02, 0x01, 1]).unwrap();
        assert!(octet_string_value(&wrong).is_err());
        let primitive = Tlv::parse(&[0x04, 0x01, 9]).unwrap();
        assert_eq!(octet_string_value(&primitive).unwrap(), [9]);
    }
}
