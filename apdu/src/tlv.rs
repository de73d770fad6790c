//! BER-TLV as ISO/IEC 7816-4 and ICAO 9303 use it: tags of up to three bytes, definite
//! lengths of up to four bytes.
//!
//! Every length is checked against the buffer before anything is sliced, so a card that
//! claims more bytes than it sent gets an error, never a panic or an allocation.
//!
//! ```
//! use apdu::tlv::{Tlv, Tag};
//! let bytes = [0x61, 0x05, 0x5F, 0x1F, 0x02, 0x41, 0x42];
//! let dg1 = Tlv::parse(&bytes)?;
//! assert_eq!(dg1.tag(), Tag::new(0x61));
//! let mrz = dg1.find(Tag::new(0x5F1F))?.expect("present");
//! assert_eq!(mrz.value(), b"AB");
//! # Ok::<(), apdu::Error>(())
//! ```

use crate::Error;

/// Tag numbers above this cannot be represented (three tag bytes).
const MAX_TAG_BYTES: usize = 3;
/// Longest length field accepted: `84 xx xx xx xx`.
const MAX_LENGTH_BYTES: usize = 4;
/// Nesting depth accepted by the recursive helpers; LDS files nest far less.
pub const MAX_DEPTH: usize = 16;

/// A BER-TLV tag, stored as its encoded bytes read big-endian (`0x5F1F`, `0x7F49`, `0x61`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(u32);

impl Tag {
    /// The tag whose encoding, read big-endian, is `value` (e.g. `Tag::new(0x5F1F)`).
    pub const fn new(value: u32) -> Tag {
        Tag(value)
    }

    /// The tag as its encoding read big-endian.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// The encoded tag bytes.
    pub fn to_bytes(self) -> Vec<u8> {
        let bytes = self.0.to_be_bytes();
        let skip = bytes.iter().take(3).take_while(|b| **b == 0).count();
        bytes[skip..].to_vec()
    }

    fn first_byte(self) -> u8 {
        let bytes = self.0.to_be_bytes();
        bytes.iter().copied().find(|b| *b != 0).unwrap_or_default()
    }

    /// Constructed tags (bit 6 of the first byte) hold further TLVs.
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    /// Reads one tag from the start of `input`; returns it and the bytes it took.
    pub fn parse(input: &[u8]) -> Result<(Tag, usize), Error> {
        let first = *input.first().ok_or(Error::Truncated("TLV tag"))?;
        if first == 0x00 || first == 0xFF {
            return Err(Error::Malformed("TLV tag 00 or FF"));
        }
        let mut value = u32::from(first);
        let mut used = 1;
        if first & 0x1F == 0x1F {
            loop {
                let next = *input.get(used).ok_or(Error::Truncated("TLV tag"))?;
                used += 1;
                if used > MAX_TAG_BYTES {
                    return Err(Error::Malformed("TLV tag longer than three bytes"));
                }
                value = (value << 8) | u32::from(next);
                if next & 0x80 == 0 {
                    break;
                }
            }
        }
        Ok((Tag(value), used))
    }
}

impl core::fmt::Debug for Tag {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Tag({:02X})", self.0)
    }
}

impl core::fmt::Display for Tag {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:02X}", self.0)
    }
}

/// Reads a definite length field; returns the length and the bytes the field took.
pub(crate) fn parse_length(input: &[u8]) -> Result<(usize, usize), Error> {
    let first = *input.first().ok_or(Error::Truncated("TLV length"))?;
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    let count = usize::from(first & 0x7F);
    if count == 0 {
        return Err(Error::Malformed("indefinite TLV length"));
    }
    if count > MAX_LENGTH_BYTES {
        return Err(Error::Malformed("TLV length field longer than four bytes"));
    }
    let field = input
        .get(1..1 + count)
        .ok_or(Error::Truncated("TLV length"))?;
    let length = field.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let length = usize::try_from(length).map_err(|_| Error::Malformed("TLV length"))?;
    Ok((length, 1 + count))
}

/// The header of a TLV: enough to know how large the whole object is before its value
/// has been read (READ BINARY reads a file's header first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The object's tag.
    pub tag: Tag,
    /// Bytes taken by tag and length.
    pub header_len: usize,
    /// Bytes of the value.
    pub value_len: usize,
}

impl Header {
    /// Parses the tag and length at the start of `input`; the value need not be present.
    pub fn parse(input: &[u8]) -> Result<Header, Error> {
        let (tag, tag_len) = Tag::parse(input)?;
        let rest = input.get(tag_len..).ok_or(Error::Truncated("TLV length"))?;
        let (value_len, len_len) = parse_length(rest)?;
        Ok(Header {
            tag,
            header_len: tag_len + len_len,
            value_len,
        })
    }

    /// Size of the whole object, or `None` if it does not fit in `usize`.
    pub(crate) fn total_len(&self) -> Option<usize> {
        self.header_len.checked_add(self.value_len)
    }
}

/// One BER-TLV object borrowed from a buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    tag: Tag,
    value: &'a [u8],
    raw: &'a [u8],
}

impl core::fmt::Debug for Tlv<'_> {
    // Values may hold personal data: show only the shape.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Tlv({}, {} bytes)", self.tag, self.value.len())
    }
}

impl<'a> Tlv<'a> {
    /// Parses exactly one TLV that must fill `input` (trailing bytes are an error).
    pub fn parse(input: &'a [u8]) -> Result<Tlv<'a>, Error> {
        let (tlv, rest) = Tlv::parse_prefix(input)?;
        if !rest.is_empty() {
            return Err(Error::Malformed("bytes after the TLV object"));
        }
        Ok(tlv)
    }

    /// Parses the TLV at the start of `input`; returns it and what follows.
    pub fn parse_prefix(input: &'a [u8]) -> Result<(Tlv<'a>, &'a [u8]), Error> {
        let header = Header::parse(input)?;
        let end = header.total_len().ok_or(Error::Malformed("TLV length"))?;
        if end > input.len() {
            return Err(Error::LengthBeyondBuffer {
                claimed: header.value_len,
                available: input.len().saturating_sub(header.header_len),
            });
        }
        let raw = input.get(..end).ok_or(Error::Truncated("TLV value"))?;
        let value = input
            .get(header.header_len..end)
            .ok_or(Error::Truncated("TLV value"))?;
        let rest = input.get(end..).unwrap_or_default();
        Ok((
            Tlv {
                tag: header.tag,
                value,
                raw,
            },
            rest,
        ))
    }

    /// The tag.
    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// The value bytes.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// The whole encoding: tag, length and value.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Parses exactly one TLV with `tag` that must fill `input`; errors name `what`.
    pub fn parse_as(input: &'a [u8], tag: Tag, what: &'static str) -> Result<Tlv<'a>, Error> {
        let mut reader = Reader::new(input);
        let tlv = reader.expect(tag, what)?;
        reader.finish(what)?;
        Ok(tlv)
    }

    /// The objects inside a constructed TLV.
    pub fn children(&self) -> TlvIter<'a> {
        TlvIter::new(self.value)
    }

    /// A cursor over the objects inside a constructed TLV.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.value)
    }

    /// The first direct child with `tag`.
    pub fn find(&self, tag: Tag) -> Result<Option<Tlv<'a>>, Error> {
        for child in self.children() {
            let child = child?;
            if child.tag == tag {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    /// The first direct child with `tag`, or an error naming `what` is missing.
    pub fn require(&self, tag: Tag, what: &'static str) -> Result<Tlv<'a>, Error> {
        self.find(tag)?.ok_or(Error::MissingDataObject(what))
    }
}

/// Iterates over consecutive TLVs; stops after the first error.
#[derive(Clone)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> TlvIter<'a> {
    /// Iterates over the TLVs that fill `input`.
    pub fn new(input: &'a [u8]) -> TlvIter<'a> {
        TlvIter {
            rest: input,
            failed: false,
        }
    }
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        match Tlv::parse_prefix(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// A cursor over consecutive TLVs, for reading a structure (a DER SEQUENCE, say) field
/// by field: each field is read with the tag it must have, optional ones only when
/// their tag is next, and [`Reader::finish`] refuses anything left over.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `input`.
    pub fn new(input: &'a [u8]) -> Reader<'a> {
        Reader { rest: input }
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// The tag of the next object, without reading it; `None` at the end or where no
    /// tag can be read.
    pub fn peek_tag(&self) -> Option<Tag> {
        Tag::parse(self.rest).ok().map(|(tag, _)| tag)
    }

    /// Reads the next object, whatever its tag.
    pub fn read(&mut self) -> Result<Tlv<'a>, Error> {
        let (tlv, rest) = Tlv::parse_prefix(self.rest)?;
        self.rest = rest;
        Ok(tlv)
    }

    /// Reads the next object, which must have `tag`; errors name `what`.
    pub fn expect(&mut self, tag: Tag, what: &'static str) -> Result<Tlv<'a>, Error> {
        let tlv = self.read().map_err(|e| e.within(what))?;
        if tlv.tag() != tag {
            return Err(Error::Element {
                what,
                reason: "unexpected tag",
            });
        }
        Ok(tlv)
    }

    /// Reads the next object if it has `tag`. An object with that tag whose length is
    /// broken is an error, not an absent object.
    pub fn optional(&mut self, tag: Tag) -> Result<Option<Tlv<'a>>, Error> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails, naming `what`, unless everything has been read.
    pub fn finish(&self, what: &'static str) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Element {
                what,
                reason: "trailing data",
            })
        }
    }
}

/// Appends the definite-length encoding of `len` (shortest form).
pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    let bytes = (len as u64).to_be_bytes();
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = &bytes[skip..];
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Appends `tag`, the length of `value`, and `value`.
pub fn encode_into(tag: Tag, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&tag.to_bytes());
    encode_length(value.len(), out);
    out.extend_from_slice(value);
}

/// `tag`, the length of `value`, and `value`, as a new buffer.
pub fn encode(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    encode_into(tag, value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_of_one_two_and_three_bytes() {
        assert_eq!(Tag::parse(&[0x61]).unwrap(), (Tag::new(0x61), 1));
        assert_eq!(Tag::parse(&[0x5F, 0x1F]).unwrap(), (Tag::new(0x5F1F), 2));
        assert_eq!(
            Tag::parse(&[0x5F, 0x81, 0x01]).unwrap(),
            (Tag::new(0x5F8101), 3)
        );
        assert!(Tag::parse(&[0x5F, 0x81, 0x81, 0x01]).is_err());
        assert!(Tag::parse(&[0x5F]).is_err());
        assert!(Tag::parse(&[]).is_err());
        assert!(Tag::new(0x7F49).is_constructed());
        assert!(!Tag::new(0x5F1F).is_constructed());
        assert_eq!(Tag::new(0x5F1F).to_bytes(), vec![0x5F, 0x1F]);
        assert_eq!(Tag::new(0x87).to_bytes(), vec![0x87]);
    }

    #[test]
    fn lengths_of_one_to_four_bytes() {
        assert_eq!(parse_length(&[0x7F]).unwrap(), (0x7F, 1));
        assert_eq!(parse_length(&[0x81, 0x80]).unwrap(), (0x80, 2));
        assert_eq!(parse_length(&[0x82, 0x01, 0x00]).unwrap(), (0x100, 3));
        assert_eq!(
            parse_length(&[0x83, 0x01, 0x00, 0x00]).unwrap(),
            (0x10000, 4)
        );
        assert_eq!(
            parse_length(&[0x84, 0x7F, 0xFF, 0xFF, 0xFF]).unwrap(),
            (0x7FFF_FFFF, 5)
        );
        assert!(parse_length(&[0x80]).is_err());
        assert!(parse_length(&[0x85, 1, 2, 3, 4, 5]).is_err());
        assert!(parse_length(&[0x82, 0x01]).is_err());
    }

    #[test]
    fn round_trip_and_children() {
        let inner = encode(Tag::new(0x5F1F), &[0x41; 300]);
        let outer = encode(Tag::new(0x61), &inner);
        assert_eq!(&outer[..4], &[0x61, 0x82, 0x01, 0x31]);
        let tlv = Tlv::parse(&outer).unwrap();
        let child = tlv.require(Tag::new(0x5F1F), "MRZ").unwrap();
        assert_eq!(child.value().len(), 300);
        assert_eq!(child.raw(), &inner[..]);
        assert!(tlv.find(Tag::new(0x5F20)).unwrap().is_none());
    }

    #[test]
    fn a_length_beyond_the_buffer_is_an_error() {
        let err = Tlv::parse(&[0x61, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x00]).unwrap_err();
        assert!(matches!(err, Error::LengthBeyondBuffer { .. }), "{err:?}");
        assert!(Tlv::parse(&[0x61, 0x03, 0x01]).is_err());
        assert!(Tlv::parse(&[0x61, 0x01, 0x01, 0x00]).is_err());
        let mut iter = TlvIter::new(&[0x80, 0x01, 0xAA, 0x81, 0x05]);
        assert!(iter.next().unwrap().is_ok());
        assert!(iter.next().unwrap().is_err());
        assert!(iter.next().is_none());
    }

    #[test]
    fn reader_walks_a_structure() {
        let body = [encode(Tag::new(0x02), &[5]), encode(Tag::new(0x80), b"x")].concat();
        let outer = encode(Tag::new(0x30), &body);
        let seq = Tlv::parse_as(&outer, Tag::new(0x30), "outer").unwrap();
        let mut r = seq.reader();
        assert_eq!(r.peek_tag(), Some(Tag::new(0x02)));
        assert_eq!(r.expect(Tag::new(0x02), "n").unwrap().value(), [5]);
        assert!(r.optional(Tag::new(0x81)).unwrap().is_none());
        assert_eq!(
            r.finish("outer").unwrap_err().to_string(),
            "outer: trailing data"
        );
        assert_eq!(
            r.clone()
                .expect(Tag::new(0x81), "x")
                .unwrap_err()
                .to_string(),
            "x: unexpected tag"
        );
        assert_eq!(r.optional(Tag::new(0x80)).unwrap().unwrap().value(), b"x");
        assert!(r.is_empty() && r.remaining().is_empty());
        assert!(r.finish("outer").is_ok());
        assert!(r.read().is_err());
        assert!(Tlv::parse_as(&outer, Tag::new(0x31), "set").is_err());
        assert!(Tlv::parse_as(&[0x30, 0x00, 0x00], Tag::new(0x30), "s").is_err());
        let broken = Reader::new(&[0x80, 0x05, 0x01]);
        assert!(broken.clone().optional(Tag::new(0x80)).is_err());
        assert_eq!(
            broken
                .clone()
                .expect(Tag::new(0x80), "y")
                .unwrap_err()
                .to_string(),
            "y: length beyond the end of the data"
        );
        assert_eq!(Reader::new(&[0x00]).peek_tag(), None);
    }

    #[test]
    fn header_of_a_two_gigabyte_file_is_readable_without_the_file() {
        let header = Header::parse(&[0x77, 0x84, 0x80, 0x00, 0x00, 0x00]).unwrap();
        assert_eq!(header.value_len, 0x8000_0000);
        assert_eq!(header.header_len, 6);
    }
}
