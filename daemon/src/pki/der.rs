//! A small, strict-by-default DER reader and writer for the certificate, CMS and
//! LDS structures of this crate.
//!
//! Input is hostile: every length is checked against the bytes actually present
//! before anything is sliced or allocated, nesting is bounded, and nothing here
//! panics. Definite-length encodings are read as they are; indefinite lengths (BER)
//! are accepted only through [`ber_to_der`], which the SOD and master-list readers
//! apply to the outer `ContentInfo`.

use std::fmt;

/// Universal tags used by this crate.
pub mod tag {
    pub const BOOLEAN: u32 = 0x01;
    pub const INTEGER: u32 = 0x02;
    pub const BIT_STRING: u32 = 0x03;
    pub const OCTET_STRING: u32 = 0x04;
    pub const NULL: u32 = 0x05;
    pub const OID: u32 = 0x06;
    pub const UTF8_STRING: u32 = 0x0c;
    pub const SEQUENCE: u32 = 0x30;
    pub const SET: u32 = 0x31;
    pub const PRINTABLE_STRING: u32 = 0x13;
    pub const TELETEX_STRING: u32 = 0x14;
    pub const IA5_STRING: u32 = 0x16;
    pub const UTC_TIME: u32 = 0x17;
    pub const GENERALIZED_TIME: u32 = 0x18;
    pub const UNIVERSAL_STRING: u32 = 0x1c;
    pub const BMP_STRING: u32 = 0x1e;
    /// Context-specific, constructed `[n]`.
    pub const fn ctx(n: u8) -> u32 {
        0xa0 | (n as u32 & 0x1f)
    }
    /// Context-specific, primitive `[n]`.
    pub const fn ctx_prim(n: u8) -> u32 {
        0x80 | (n as u32 & 0x1f)
    }
}

/// Deepest nesting accepted anywhere (certificates need about 10).
pub const MAX_DEPTH: usize = 48;

/// Why some bytes are not the DER that was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError {
    /// What was being read.
    pub context: &'static str,
    /// What went wrong.
    pub reason: &'static str,
}

impl DerError {
    pub(crate) const fn new(context: &'static str, reason: &'static str) -> Self {
        DerError { context, reason }
    }
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.reason)
    }
}

impl std::error::Error for DerError {}

/// One tag-length-value element borrowed from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octets as a big-endian number (`0x30`, `0xa0`, `0x5f1f`, …).
    pub tag: u32,
    /// The value octets.
    pub value: &'a [u8],
    /// The whole element: identifier, length and value octets.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Whether the constructed bit is set.
    pub fn constructed(&self) -> bool {
        let first = if self.tag > 0xff_ffff {
            self.tag >> 24
        } else if self.tag > 0xffff {
            self.tag >> 16
        } else if self.tag > 0xff {
            self.tag >> 8
        } else {
            self.tag
        };
        first & 0x20 != 0
    }

    /// A reader over the value octets (for constructed elements).
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.value)
    }
}

/// Reads consecutive DER elements from a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// Splits the identifier and length octets; returns (tag, header length, value length).
/// `None` as value length means an indefinite length.
fn parse_header(data: &[u8]) -> Result<(u32, usize, Option<usize>), DerError> {
    const CTX: &str = "DER header";
    let first = *data.first().ok_or(DerError::new(CTX, "truncated"))?;
    let mut pos = 1usize;
    let mut tag = u32::from(first);
    if first & 0x1f == 0x1f {
        // High tag number form; at most 3 subsequent octets is plenty for ICAO tags.
        loop {
            let b = *data.get(pos).ok_or(DerError::new(CTX, "truncated tag"))?;
            pos += 1;
            if pos > 4 {
                return Err(DerError::new(CTX, "tag too long"));
            }
            tag = (tag << 8) | u32::from(b);
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let len_byte = *data
        .get(pos)
        .ok_or(DerError::new(CTX, "truncated length"))?;
    pos += 1;
    let len = if len_byte < 0x80 {
        Some(usize::from(len_byte))
    } else if len_byte == 0x80 {
        None
    } else {
        let n = usize::from(len_byte & 0x7f);
        if n > 4 {
            return Err(DerError::new(CTX, "length too long"));
        }
        let bytes = data
            .get(pos..pos + n)
            .ok_or(DerError::new(CTX, "truncated length"))?;
        pos += n;
        let mut len = 0usize;
        for &b in bytes {
            len = (len << 8) | usize::from(b);
        }
        Some(len)
    };
    Ok((tag, pos, len))
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Whether all input was consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// The tag of the next element, without consuming it.
    pub fn peek_tag(&self) -> Option<u32> {
        parse_header(self.remaining()).ok().map(|(t, _, _)| t)
    }

    /// Reads the next element (definite length only).
    pub fn read(&mut self) -> Result<Tlv<'a>, DerError> {
        let rest = self.remaining();
        let (tag, hlen, len) = parse_header(rest)?;
        let len = len.ok_or(DerError::new("DER", "indefinite length"))?;
        let end = hlen
            .checked_add(len)
            .ok_or(DerError::new("DER", "length overflow"))?;
        let raw = rest
            .get(..end)
            .ok_or(DerError::new("DER", "length beyond the end of the data"))?;
        let value = raw.get(hlen..).unwrap_or(&[]);
        self.pos += end;
        Ok(Tlv { tag, value, raw })
    }

    /// Reads the next element and checks its tag.
    pub fn expect(&mut self, tag: u32, context: &'static str) -> Result<Tlv<'a>, DerError> {
        let tlv = self.read().map_err(|e| DerError::new(context, e.reason))?;
        if tlv.tag != tag {
            return Err(DerError::new(context, "unexpected tag"));
        }
        Ok(tlv)
    }

    /// Reads the next element if it has this tag.
    pub fn optional(&mut self, tag: u32) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless all input was consumed.
    pub fn finish(&self, context: &'static str) -> Result<(), DerError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DerError::new(context, "trailing data"))
        }
    }
}

/// Parses exactly one element spanning all of `data`.
pub fn parse_single<'a>(
    data: &'a [u8],
    tag: u32,
    context: &'static str,
) -> Result<Tlv<'a>, DerError> {
    let mut r = Reader::new(data);
    let tlv = r.expect(tag, context)?;
    r.finish(context)?;
    Ok(tlv)
}

/// Parses exactly one element of any tag spanning all of `data`.
pub fn parse_single_any<'a>(data: &'a [u8], context: &'static str) -> Result<Tlv<'a>, DerError> {
    let mut r = Reader::new(data);
    let tlv = r.read().map_err(|e| DerError::new(context, e.reason))?;
    r.finish(context)?;
    Ok(tlv)
}

/// Re-encodes indefinite lengths as definite ones, leaving every definite-length element
/// byte for byte as it was (so signed structures inside keep their exact encoding).
/// Trailing bytes after the first element are dropped.
pub fn ber_to_der(data: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut out = Vec::with_capacity(data.len());
    let used = ber_element(data, &mut out, 0)?;
    let _ = used;
    Ok(out)
}

/// Copies one element into `out`; returns how many input bytes it took.
fn ber_element(data: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<usize, DerError> {
    const CTX: &str = "BER";
    if depth > MAX_DEPTH {
        return Err(DerError::new(CTX, "nested too deeply"));
    }
    let (tag, hlen, len) = parse_header(data)?;
    match len {
        Some(len) => {
            let end = hlen
                .checked_add(len)
                .ok_or(DerError::new(CTX, "length overflow"))?;
            let raw = data
                .get(..end)
                .ok_or(DerError::new(CTX, "length beyond the end of the data"))?;
            out.extend_from_slice(raw);
            Ok(end)
        }
        None => {
            let identifier = data.get(..hlen - 1).unwrap_or(&[]);
            if identifier.first().is_none_or(|b| b & 0x20 == 0) {
                return Err(DerError::new(CTX, "indefinite length on a primitive"));
            }
            let mut content = Vec::new();
            let mut pos = hlen;
            loop {
                let rest = data
                    .get(pos..)
                    .ok_or(DerError::new(CTX, "missing end-of-contents"))?;
                if rest.len() < 2 {
                    return Err(DerError::new(CTX, "missing end-of-contents"));
                }
                if rest.first() == Some(&0) && rest.get(1) == Some(&0) {
                    pos += 2;
                    break;
                }
                pos += ber_element(rest, &mut content, depth + 1)?;
            }
            let _ = tag;
            out.extend_from_slice(identifier);
            write_length(out, content.len());
            out.extend_from_slice(&content);
            Ok(pos)
        }
    }
}

/// The value of a primitive OCTET STRING, or the concatenated segments of a constructed
/// (BER) one.
pub fn octet_string_value(tlv: &Tlv<'_>) -> Result<Vec<u8>, DerError> {
    match tlv.tag {
        tag::OCTET_STRING => Ok(tlv.value.to_vec()),
        0x24 => {
            let mut out = Vec::with_capacity(tlv.value.len());
            let mut r = tlv.reader();
            while !r.is_empty() {
                let part = r.expect(tag::OCTET_STRING, "OCTET STRING segment")?;
                out.extend_from_slice(part.value);
            }
            Ok(out)
        }
        _ => Err(DerError::new("OCTET STRING", "unexpected tag")),
    }
}

/// Interprets an INTEGER as a small non-negative number.
pub fn small_uint(tlv: &Tlv<'_>, context: &'static str) -> Result<u64, DerError> {
    if tlv.tag != tag::INTEGER || tlv.value.is_empty() {
        return Err(DerError::new(context, "not an INTEGER"));
    }
    if tlv.value.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(DerError::new(context, "negative"));
    }
    let digits = strip_leading_zeros(tlv.value);
    if digits.len() > 8 {
        return Err(DerError::new(context, "too large"));
    }
    Ok(digits
        .iter()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// The magnitude bytes of an unsigned big-endian number, without leading zeros.
pub fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or(&[])
}

/// The content of a BIT STRING with no unused bits.
pub fn bit_string_bytes<'a>(tlv: &Tlv<'a>, context: &'static str) -> Result<&'a [u8], DerError> {
    if tlv.tag != tag::BIT_STRING {
        return Err(DerError::new(context, "not a BIT STRING"));
    }
    match tlv.value.split_first() {
        Some((0, rest)) => Ok(rest),
        Some(_) => Err(DerError::new(context, "unused bits in a key or signature")),
        None => Err(DerError::new(context, "empty BIT STRING")),
    }
}

/// Encodes a DER length.
pub fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let digits = strip_leading_zeros(&bytes);
        out.push(0x80 | digits.len() as u8);
        out.extend_from_slice(digits);
    }
}

/// Encodes one element.
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    let tag_bytes = tag.to_be_bytes();
    let digits = strip_leading_zeros(&tag_bytes);
    if digits.is_empty() {
        out.push(0);
    } else {
        out.extend_from_slice(digits);
    }
    write_length(&mut out, value.len());
    out.extend_from_slice(value);
    out
}

/// Encodes a constructed element from already-encoded parts.
pub fn encode_parts(tag: u32, parts: &[&[u8]]) -> Vec<u8> {
    encode(tag, &parts.concat())
}

/// Encodes a SEQUENCE of already-encoded parts.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    encode_parts(tag::SEQUENCE, parts)
}

/// Encodes a SET OF, sorting the members as DER requires.
pub fn set_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut sorted: Vec<&[u8]> = parts.to_vec();
    sorted.sort();
    encode_parts(tag::SET, &sorted)
}

/// Encodes a non-negative INTEGER from big-endian magnitude bytes.
pub fn uint(magnitude: &[u8]) -> Vec<u8> {
    let digits = strip_leading_zeros(magnitude);
    let mut v = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(digits);
    encode(tag::INTEGER, &v)
}

/// Encodes a small INTEGER.
pub fn small_int(value: u64) -> Vec<u8> {
    uint(&value.to_be_bytes())
}

/// Encodes an OID from its content octets.
pub fn oid(content: &[u8]) -> Vec<u8> {
    encode(tag::OID, content)
}

/// Encodes an OCTET STRING.
pub fn octet_string(value: &[u8]) -> Vec<u8> {
    encode(tag::OCTET_STRING, value)
}

/// Encodes a BIT STRING with no unused bits.
pub fn bit_string(value: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(value.len() + 1);
    v.push(0);
    v.extend_from_slice(value);
    encode(tag::BIT_STRING, &v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_and_rejects_overlong() {
        let data = sequence(&[&small_int(5), &octet_string(b"abc")]);
        let tlv = parse_single(&data, tag::SEQUENCE, "t").unwrap();
        let mut r = tlv.reader();
        assert_eq!(small_uint(&r.read().unwrap(), "n").unwrap(), 5);
        assert_eq!(r.read().unwrap().value, b"abc");
        assert!(r.is_empty());
        assert!(
            Reader::new(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff])
                .read()
                .is_err()
        );
        assert!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).read().is_err());
        assert!(Reader::new(&[0x1f]).read().is_err());
    }

    #[test]
    fn ber_indefinite_becomes_definite() {
        // SEQUENCE (indefinite) { [0] (indefinite) { OCTET STRING 01 02 } }
        let ber = [0x30, 0x80, 0xa0, 0x80, 0x04, 0x02, 1, 2, 0, 0, 0, 0];
        let der = ber_to_der(&ber).unwrap();
        assert_eq!(der, [0x30, 0x06, 0xa0, 0x04, 0x04, 0x02, 1, 2]);
        assert!(ber_to_der(&[0x30, 0x80, 0x04, 0x01, 1]).is_err());
        assert!(ber_to_der(&[0x04, 0x80, 0, 0]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(ber_to_der(&deep).is_err());
    }

    #[test]
    fn high_tag_numbers() {
        let e = encode(0x5f1f, b"x");
        assert_eq!(e, [0x5f, 0x1f, 1, b'x']);
        let tlv = Reader::new(&e).read().unwrap();
        assert_eq!(tlv.tag, 0x5f1f);
        assert!(!tlv.constructed());
        assert!(Reader::new(&[0x7f, 0x61, 0]).read().unwrap().constructed());
    }
}
