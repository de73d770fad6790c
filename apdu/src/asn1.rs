//! The few DER types the chip protocols carry (OBJECT IDENTIFIER, INTEGER, BIT STRING),
//! read and written on top of [`crate::tlv`].

use crate::Error;
use crate::tlv::{self, Tag, Tlv};

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
/// Universal tag of SEQUENCE.
pub const SEQUENCE: Tag = Tag::new(0x30);
/// Universal tag of SET.
pub const SET: Tag = Tag::new(0x31);

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

/// Encodes a non-negative INTEGER from big-endian magnitude bytes.
pub fn integer(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = {
        let skip = magnitude.iter().take_while(|b| **b == 0).count();
        magnitude.get(skip..).unwrap_or_default()
    };
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv::encode(INTEGER, &content)
}

/// Encodes a small non-negative INTEGER.
pub(crate) fn small_integer_der(value: u64) -> Vec<u8> {
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
}
