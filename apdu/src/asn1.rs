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

/// Longest OID accepted, in content octets; real ones have fewer than 20.
const MAX_OID_LEN: usize = 64;

/// An OBJECT IDENTIFIER, held as its DER content octets, which are checked to be
/// well formed; its `Display` is the dotted form.
///
/// The one OID type of the tree: constants are built at compile time from their dotted
/// form and can be used as `match` patterns.
///
/// ```
/// use apdu::asn1::Oid;
/// const ID_PACE: Oid = Oid::new("0.4.0.127.0.7.2.2.4");
/// let read = Oid::from_der_content(&[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02])?;
/// assert!(read.is_under(&ID_PACE));
/// assert_eq!(read.arcs_after(&ID_PACE), Some(vec![2, 2]));
/// assert_eq!(read.to_string(), "0.4.0.127.0.7.2.2.4.2.2");
/// # Ok::<(), apdu::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Oid {
    len: u8,
    // Bytes past `len` are always zero, so the derived equality is that of the content.
    octets: [u8; MAX_OID_LEN],
}

impl core::fmt::Debug for Oid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Oid({self})")
    }
}

impl core::fmt::Display for Oid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut arcs = Arcs(self.content());
        if let Some(first) = arcs.next() {
            let top = (first / 40).min(2);
            write!(f, "{top}.{}", first - top * 40)?;
        }
        for arc in arcs {
            write!(f, ".{arc}")?;
        }
        Ok(())
    }
}

/// The base-128 subidentifiers of well-formed content octets.
struct Arcs<'a>(&'a [u8]);

impl Iterator for Arcs<'_> {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        let end = self.0.iter().position(|b| b & 0x80 == 0)?;
        let (arc, rest) = self.0.split_at(end + 1);
        self.0 = rest;
        Some(arc.iter().fold(0, |v, b| (v << 7) | u64::from(b & 0x7F)))
    }
}

/// Why content octets are not an OID, or `None` when they are one.
const fn content_fault(content: &[u8]) -> Option<Error> {
    if content.is_empty() || content.len() > MAX_OID_LEN {
        return Some(Error::Malformed("OBJECT IDENTIFIER length"));
    }
    let mut value: u64 = 0;
    let mut fresh = true;
    let mut rest = content;
    while let [byte, tail @ ..] = rest {
        let byte = *byte;
        rest = tail;
        if fresh && byte == 0x80 {
            return Some(Error::Malformed("OBJECT IDENTIFIER arc with leading zero"));
        }
        fresh = false;
        value = match value.checked_mul(128) {
            Some(v) => v | (byte & 0x7F) as u64,
            None => return Some(Error::Malformed("OBJECT IDENTIFIER arc too large")),
        };
        if byte & 0x80 == 0 {
            value = 0;
            fresh = true;
        }
    }
    if fresh {
        None
    } else {
        Some(Error::Truncated("OBJECT IDENTIFIER"))
    }
}

impl Oid {
    /// An OID from its dotted form, for constants: it panics, at compile time in a
    /// `const`, when `dotted` is not an OID. Use [`Oid::parse`] for text from outside.
    pub const fn new(dotted: &str) -> Oid {
        match Oid::from_dotted(dotted) {
            Some(oid) => oid,
            None => panic!("not a dotted OBJECT IDENTIFIER"),
        }
    }

    /// An OID from its dotted form; `None` if it is not one.
    pub fn parse(dotted: &str) -> Option<Oid> {
        Oid::from_dotted(dotted)
    }

    const fn from_dotted(dotted: &str) -> Option<Oid> {
        let mut rest = dotted.as_bytes();
        let mut oid = Oid {
            len: 0,
            octets: [0; MAX_OID_LEN],
        };
        let (mut index, mut top) = (0, 0);
        loop {
            let (mut arc, mut digits): (u64, usize) = (0, 0);
            while let [c, tail @ ..] = rest {
                if *c == b'.' {
                    break;
                }
                let digit = c.wrapping_sub(b'0');
                if digit > 9 {
                    return None;
                }
                arc = match arc.checked_mul(10) {
                    Some(v) => match v.checked_add(digit as u64) {
                        Some(v) => v,
                        None => return None,
                    },
                    None => return None,
                };
                digits += 1;
                rest = tail;
            }
            if digits == 0 {
                return None;
            }
            if index == 0 {
                if arc > 2 {
                    return None;
                }
                top = arc;
            } else {
                let value = if index == 1 {
                    if top < 2 && arc >= 40 {
                        return None;
                    }
                    match arc.checked_add(top * 40) {
                        Some(v) => v,
                        None => return None,
                    }
                } else {
                    arc
                };
                oid = match oid.push(value) {
                    Some(oid) => oid,
                    None => return None,
                };
            }
            index += 1;
            // Past the arc: the end, or the dot before the next one.
            match rest {
                [] => break,
                [_, tail @ ..] => rest = tail,
            }
        }
        if index < 2 { None } else { Some(oid) }
    }

    /// This OID with `value` appended as one more subidentifier; `None` past the length
    /// bound.
    const fn push(mut self, value: u64) -> Option<Oid> {
        let mut groups = 1;
        while groups < 10 && value >> (7 * groups) != 0 {
            groups += 1;
        }
        let len = self.len as usize;
        if len + groups > MAX_OID_LEN {
            return None;
        }
        let mut g = 0;
        while g < groups {
            let shift = 7 * (groups - 1 - g);
            let more = if g + 1 < groups { 0x80 } else { 0 };
            self.octets[len + g] = ((value >> shift) & 0x7F) as u8 | more;
            g += 1;
        }
        self.len = (len + groups) as u8;
        Some(self)
    }

    /// This OID with one more arc, for OIDs built from a known prefix.
    ///
    /// It panics past the length bound of 64 octets, which the prefixes of the standards
    /// are far from.
    pub const fn child(self, arc: u64) -> Oid {
        match self.push(arc) {
            Some(oid) => oid,
            None => panic!("OBJECT IDENTIFIER too long"),
        }
    }

    /// Decodes the content octets of an OBJECT IDENTIFIER.
    pub fn from_der_content(content: &[u8]) -> Result<Oid, Error> {
        if let Some(fault) = content_fault(content) {
            return Err(fault);
        }
        let mut octets = [0; MAX_OID_LEN];
        octets
            .get_mut(..content.len())
            .ok_or(Error::Malformed("OBJECT IDENTIFIER length"))?
            .copy_from_slice(content);
        Ok(Oid {
            len: content.len() as u8,
            octets,
        })
    }

    /// Reads an OBJECT IDENTIFIER TLV.
    pub fn from_tlv(object: &Tlv<'_>) -> Result<Oid, Error> {
        if object.tag() != OBJECT_IDENTIFIER {
            return Err(Error::Malformed("expected an OBJECT IDENTIFIER"));
        }
        Oid::from_der_content(object.value())
    }

    /// The DER content octets.
    pub fn content(&self) -> &[u8] {
        self.octets.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// Whether this OID is `prefix` followed by more arcs.
    pub fn is_under(&self, prefix: &Oid) -> bool {
        self.len > prefix.len && self.content().starts_with(prefix.content())
    }

    /// The arcs after `prefix`, if this OID is under it.
    pub fn arcs_after(&self, prefix: &Oid) -> Option<Vec<u64>> {
        if !self.is_under(prefix) {
            return None;
        }
        let rest = self.content().get(prefix.content().len()..)?;
        Some(Arcs(rest).collect())
    }

    /// The full DER encoding (tag 06).
    pub fn to_der(&self) -> Vec<u8> {
        tlv::encode(OBJECT_IDENTIFIER, self.content())
    }
}

/// id-ecPublicKey (RFC 5480), the key algorithm of EC keys in certificates and chips.
pub const EC_PUBLIC_KEY: Oid = Oid::new("1.2.840.10045.2.1");
/// rsaEncryption (RFC 8017).
pub const RSA_ENCRYPTION: Oid = Oid::new("1.2.840.113549.1.1.1");
/// prime-field (X9.62), the field type of explicit EC domain parameters.
pub const PRIME_FIELD: Oid = Oid::new("1.2.840.10045.1.1");
/// dhpublicnumber (X9.42), the key algorithm of finite-field DH keys.
pub const DH_PUBLIC_NUMBER: Oid = Oid::new("1.2.840.10046.2.1");
/// ecdsa-plain-signatures (BSI TR-03111): its last arc names the hash.
pub const ECDSA_PLAIN: Oid = Oid::new("0.4.0.127.0.7.1.1.4.1");

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
        const ID_PACE: Oid = Oid::new("0.4.0.127.0.7.2.2.4");
        assert!(pace.is_under(&ID_PACE));
        assert!(!pace.is_under(&pace));
        assert_eq!(pace.arcs_after(&ID_PACE), Some(vec![2, 2]));
        assert_eq!(ID_PACE.child(2).child(2), pace);
        assert_eq!(pace.to_string(), "0.4.0.127.0.7.2.2.4.2.2");
    }

    #[test]
    fn oid_forms_agree_and_stay_bounded() {
        // Every dotted form and content encoding read back as the same OID.
        for i in 0u32..500 {
            let bytes = crate::hash::HashAlgorithm::Sha256.digest(&i.to_be_bytes());
            let top = u64::from(bytes[0] % 3);
            let second = if top == 2 {
                u64::from(bytes[1]) * 1000
            } else {
                u64::from(bytes[1] % 40)
            };
            let mut dotted = format!("{top}.{second}");
            for b in &bytes[2..2 + usize::from(bytes[31] % 6)] {
                dotted.push_str(&format!(".{}", u64::from(*b) << (b % 40)));
            }
            let oid = Oid::parse(&dotted).unwrap();
            assert_eq!(oid.to_string(), dotted);
            assert_eq!(Oid::from_der_content(oid.content()).unwrap(), oid);
        }
        assert_eq!(
            Oid::parse("2.18446744073709551535").unwrap().to_string(),
            "2.18446744073709551535"
        );
        assert!(
            Oid::parse("2.18446744073709551536").is_none(),
            "first subidentifier past u64"
        );
        assert!(
            Oid::parse("1.2.18446744073709551616").is_none(),
            "arc past u64"
        );
        assert!(Oid::parse("1.2.").is_none() && Oid::parse("1..2").is_none());
        assert!(Oid::parse(&format!("1.2{}", ".200".repeat(31))).is_some());
        assert!(
            Oid::parse(&format!("1.2{}", ".200".repeat(32))).is_none(),
            "65 octets"
        );
        assert!(Oid::from_der_content(&[0x01; 64]).is_ok());
        assert!(Oid::from_der_content(&[0x01; 65]).is_err());
        let long = Oid::from_der_content(&[0x01; 64]).unwrap();
        assert!(std::panic::catch_unwind(|| long.child(1)).is_err());
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
                .to_string(),
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
        assert_eq!(Oid::new("1.3").to_der(), [0x06, 0x01, 0x2B]);
        let (b, a) = (small_integer_der(2), small_integer_der(1));
        assert_eq!(sequence(&[&b, &a]), [0x30, 0x06, 2, 1, 2, 2, 1, 1]);
        assert_eq!(set_of(&[&b, &a]), [0x31, 0x06, 2, 1, 1, 2, 1, 2]);
        assert_eq!(constructed(context(1), &[]), [0xA1, 0x00]);
    }
}
