//! DER on top of [`crate::tlv`]: the universal tags, OBJECT IDENTIFIER, INTEGER and BIT
//! STRING read and written, and the encoders of SEQUENCE, SET OF and OCTET STRING.

use crate::Error;
use crate::tlv::{self, Tag, Tlv};

/// Universal tag of BOOLEAN.
pub const BOOLEAN: Tag = Tag::new(0x01);
/// Universal tag of INTEGER.
pub const INTEGER: Tag = Tag::new(0x02);
/// Universal tag of BIT STRING.
pub const BIT_STRING: Tag = Tag::new(0x03);
/// Universal tag of OCTET STRING.
pub const OCTET_STRING: Tag = Tag::new(0x04);
/// Universal tag of NULL.
pub const NULL: Tag = Tag::new(0x05);
/// Universal tag of OBJECT IDENTIFIER.
pub const OBJECT_IDENTIFIER: Tag = Tag::new(0x06);
/// Universal tag of UTF8String.
pub const UTF8_STRING: Tag = Tag::new(0x0C);
/// Universal tag of NumericString.
pub const NUMERIC_STRING: Tag = Tag::new(0x12);
/// Universal tag of PrintableString.
pub const PRINTABLE_STRING: Tag = Tag::new(0x13);
/// Universal tag of TeletexString (T61String).
pub const TELETEX_STRING: Tag = Tag::new(0x14);
/// Universal tag of IA5String.
pub const IA5_STRING: Tag = Tag::new(0x16);
/// Universal tag of UTCTime.
pub const UTC_TIME: Tag = Tag::new(0x17);
/// Universal tag of GeneralizedTime.
pub const GENERALIZED_TIME: Tag = Tag::new(0x18);
/// Universal tag of GraphicString.
pub const GRAPHIC_STRING: Tag = Tag::new(0x19);
/// Universal tag of VisibleString.
pub const VISIBLE_STRING: Tag = Tag::new(0x1A);
/// Universal tag of GeneralString.
pub const GENERAL_STRING: Tag = Tag::new(0x1B);
/// Universal tag of UniversalString.
pub const UNIVERSAL_STRING: Tag = Tag::new(0x1C);
/// Universal tag of BMPString.
pub const BMP_STRING: Tag = Tag::new(0x1E);
/// Universal tag of SEQUENCE (constructed).
pub const SEQUENCE: Tag = Tag::new(0x30);
/// Universal tag of SET (constructed).
pub const SET: Tag = Tag::new(0x31);

/// The context-specific constructed tag `[n]` (`A0 + n`), for `n` below 31.
pub const fn context(n: u8) -> Tag {
    Tag::new(0xA0 | (n as u32 & 0x1F))
}

/// The context-specific primitive tag `[n]` (`80 + n`), for `n` below 31.
pub const fn context_primitive(n: u8) -> Tag {
    Tag::new(0x80 | (n as u32 & 0x1F))
}

/// Longest OID accepted, in content bytes; real ones have fewer than 20.
const MAX_OID_LEN: usize = 64;

/// An OBJECT IDENTIFIER in dotted form (`"0.4.0.127.0.7.2.2.4.2.2"`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(String);

impl core::fmt::Debug for Oid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Oid({})", self.0)
    }
}

impl core::fmt::Display for Oid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Oid {
    /// Decodes the content octets of an OBJECT IDENTIFIER.
    pub fn from_der_content(content: &[u8]) -> Result<Oid, Error> {
        if content.is_empty() || content.len() > MAX_OID_LEN {
            return Err(Error::Malformed("OBJECT IDENTIFIER length"));
        }
        let mut arcs: Vec<u64> = Vec::new();
        let mut value: u64 = 0;
        let mut fresh = true;
        for byte in content {
            if fresh && *byte == 0x80 {
                return Err(Error::Malformed("OBJECT IDENTIFIER arc with leading zero"));
            }
            fresh = false;
            value = value
                .checked_mul(128)
                .and_then(|v| v.checked_add(u64::from(byte & 0x7F)))
                .ok_or(Error::Malformed("OBJECT IDENTIFIER arc too large"))?;
            if byte & 0x80 == 0 {
                if arcs.is_empty() {
                    let first = (value / 40).min(2);
                    arcs.push(first);
                    arcs.push(value - first * 40);
                } else {
                    arcs.push(value);
                }
                value = 0;
                fresh = true;
            }
        }
        if !fresh {
            return Err(Error::Truncated("OBJECT IDENTIFIER"));
        }
        let text: Vec<String> = arcs.iter().map(u64::to_string).collect();
        Ok(Oid(text.join(".")))
    }

    /// Reads an OBJECT IDENTIFIER TLV.
    pub fn from_tlv(object: &Tlv<'_>) -> Result<Oid, Error> {
        if object.tag() != OBJECT_IDENTIFIER {
            return Err(Error::Malformed("expected an OBJECT IDENTIFIER"));
        }
        Oid::from_der_content(object.value())
    }

    /// An OID from its dotted form; `None` if it is not one.
    pub fn parse(dotted: &str) -> Option<Oid> {
        let arcs: Vec<u64> = dotted
            .split('.')
            .map(|a| a.parse().ok())
            .collect::<Option<_>>()?;
        match arcs.as_slice() {
            [first, second, ..] if *first <= 2 && (*first == 2 || *second < 40) => {
                Some(Oid(dotted.to_owned()))
            }
            _ => None,
        }
    }

    /// An OID built by this crate from constant arcs, known to be well formed.
    pub(crate) fn trusted(dotted: String) -> Oid {
        debug_assert!(Oid::parse(&dotted).is_some());
        Oid(dotted)
    }

    /// The dotted form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this OID is `prefix` followed by more arcs.
    pub(crate) fn is_under(&self, prefix: &str) -> bool {
        self.0
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.'))
    }

    /// The arcs after `prefix`, if this OID is under it.
    pub(crate) fn arcs_after(&self, prefix: &str) -> Option<Vec<u64>> {
        let rest = self.0.strip_prefix(prefix)?.strip_prefix('.')?;
        rest.split('.').map(|a| a.parse().ok()).collect()
    }

    /// The DER content octets.
    pub fn to_der_content(&self) -> Vec<u8> {
        let arcs: Vec<u64> = self.0.split('.').filter_map(|a| a.parse().ok()).collect();
        let mut out = Vec::new();
        let mut push = |mut v: u64| {
            let mut groups = vec![(v & 0x7F) as u8];
            v >>= 7;
            while v > 0 {
                groups.push(0x80 | (v & 0x7F) as u8);
                v >>= 7;
            }
            out.extend(groups.iter().rev());
        };
        if let [first, second, rest @ ..] = arcs.as_slice() {
            push(first * 40 + second);
            for arc in rest {
                push(*arc);
            }
        }
        out
    }

    /// The full DER encoding (tag 06).
    pub fn to_der(&self) -> Vec<u8> {
        tlv::encode(OBJECT_IDENTIFIER, &self.to_der_content())
    }
}

/// Reads a non-negative INTEGER that fits in a `u64`.
pub fn small_integer(object: &Tlv<'_>) -> Result<u64, Error> {
    let bytes = unsigned_integer(object)?;
    if bytes.len() > 8 {
        return Err(Error::Malformed("INTEGER too large"));
    }
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// Reads a non-negative INTEGER as big-endian magnitude bytes (leading zero removed).
pub(crate) fn unsigned_integer<'a>(object: &Tlv<'a>) -> Result<&'a [u8], Error> {
    if object.tag() != INTEGER {
        return Err(Error::Malformed("expected an INTEGER"));
    }
    match object.value() {
        [] => Err(Error::Malformed("empty INTEGER")),
        [first, ..] if first & 0x80 != 0 => Err(Error::Malformed("negative INTEGER")),
        [0, rest @ ..] if !rest.is_empty() => Ok(rest),
        value => Ok(value),
    }
}

/// The magnitude bytes of an unsigned big-endian number, without leading zeros.
pub fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    bytes.get(skip..).unwrap_or_default()
}

/// Encodes a non-negative INTEGER from big-endian magnitude bytes.
pub fn integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed = strip_leading_zeros(magnitude);
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv::encode(INTEGER, &content)
}

/// Encodes a small non-negative INTEGER.
pub fn small_integer_der(value: u64) -> Vec<u8> {
    integer(&value.to_be_bytes())
}

/// The bytes of a BIT STRING with no unused bits.
pub fn bit_string_bytes<'a>(object: &Tlv<'a>) -> Result<&'a [u8], Error> {
    if object.tag() != BIT_STRING {
        return Err(Error::Malformed("expected a BIT STRING"));
    }
    match object.value().split_first() {
        Some((0, bytes)) => Ok(bytes),
        _ => Err(Error::Malformed("BIT STRING with unused bits")),
    }
}

/// Encodes a BIT STRING of whole bytes.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv::encode(BIT_STRING, &content)
}

/// Encodes an OCTET STRING.
pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv::encode(OCTET_STRING, bytes)
}

/// Encodes an OBJECT IDENTIFIER from its content octets.
pub fn object_identifier(content: &[u8]) -> Vec<u8> {
    tlv::encode(OBJECT_IDENTIFIER, content)
}

/// Encodes a constructed object from already-encoded parts, in the order given.
pub fn constructed(tag: Tag, parts: &[&[u8]]) -> Vec<u8> {
    tlv::encode(tag, &parts.concat())
}

/// Encodes a SEQUENCE of already-encoded parts.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    constructed(SEQUENCE, parts)
}

/// Encodes a SET OF already-encoded parts, sorted by their encodings as DER requires
/// (X.690 §11.6).
pub fn set_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    constructed(SET, &sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_round_trip() {
        for dotted in [
            "0.4.0.127.0.7.2.2.4.2.2",
            "1.2.840.10045.2.1",
            "2.23.136.1.1.5",
            "2.999.3",
        ] {
            let oid = Oid::parse(dotted).unwrap();
            let der = oid.to_der();
            let back = Oid::from_tlv(&Tlv::parse(&der).unwrap()).unwrap();
            assert_eq!(back, oid);
        }
        let pace = Oid::parse("0.4.0.127.0.7.2.2.4.2.2").unwrap();
        assert_eq!(
            pace.to_der(),
            [
                0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02
            ]
        );
        assert!(pace.is_under("0.4.0.127.0.7.2.2.4"));
        assert!(!pace.is_under("0.4.0.127.0.7.2.2.4.2.2"));
        assert_eq!(pace.arcs_after("0.4.0.127.0.7.2.2.4"), Some(vec![2, 2]));
    }

    #[test]
    fn hostile_oids_and_integers() {
        assert!(Oid::from_der_content(&[]).is_err());
        assert!(Oid::from_der_content(&[0x2B, 0x81]).is_err());
        assert!(Oid::from_der_content(&[0x2B, 0x80, 0x01]).is_err());
        assert!(Oid::from_der_content(&[0xFF; 12]).is_err());
        assert!(Oid::from_der_content(&[0x80, 0x01]).is_err());
        assert_eq!(
            Oid::from_der_content(&[0x28, 0xD3, 0x16, 0x01, 0x00, 0x08])
                .unwrap()
                .as_str(),
            "1.0.10646.1.0.8"
        );
        for not_an_oid in ["1", "1.x", "3.1", "1.40", ""] {
            assert!(Oid::parse(not_an_oid).is_none(), "{not_an_oid}");
        }
        let negative = tlv::encode(INTEGER, &[0x80]);
        assert!(small_integer(&Tlv::parse(&negative).unwrap()).is_err());
        let big = tlv::encode(INTEGER, &[1; 9]);
        assert!(small_integer(&Tlv::parse(&big).unwrap()).is_err());
        let fine = small_integer_der(300);
        assert_eq!(small_integer(&Tlv::parse(&fine).unwrap()).unwrap(), 300);
        assert_eq!(small_integer_der(0x80), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(small_integer_der(0), vec![0x02, 0x01, 0x00]);
    }

    #[test]
    fn encoders() {
        assert_eq!(context(0), Tag::new(0xA0));
        assert_eq!(context_primitive(3), Tag::new(0x83));
        assert_eq!(strip_leading_zeros(&[0, 0, 1, 0]), [1, 0]);
        assert!(strip_leading_zeros(&[0, 0]).is_empty());
        assert_eq!(integer(&[0, 0, 0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(octet_string(b"ab"), [0x04, 0x02, b'a', b'b']);
        assert_eq!(object_identifier(&[0x2B]), [0x06, 0x01, 0x2B]);
        let (b, a) = (small_integer_der(2), small_integer_der(1));
        assert_eq!(sequence(&[&b, &a]), [0x30, 0x06, 2, 1, 2, 2, 1, 1]);
        assert_eq!(set_of(&[&b, &a]), [0x31, 0x06, 2, 1, 1, 2, 1, 2]);
        assert_eq!(constructed(context(1), &[]), [0xA1, 0x00]);
    }
}
