//! BER-TLV decoding of arbitrary bytes: every object, recursively, the header alone, and
//! the structure cursor; and OBJECT IDENTIFIERs read as content octets and as dotted text,
//! each form read back from the other.
#![no_main]

use apdu::asn1::Oid;
use apdu::tlv::{Header, Reader, Tlv, TlvIter, MAX_DEPTH};
use libfuzzer_sys::fuzz_target;

fn walk(data: &[u8], depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for object in TlvIter::new(data) {
        let Ok(object) = object else { return };
        assert!(object.raw().len() >= object.value().len());
        if object.tag().is_constructed() {
            walk(object.value(), depth + 1);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = Header::parse(data);
    if let Ok(object) = Tlv::parse(data) {
        assert_eq!(object.raw().len(), data.len());
    }
    walk(data, 0);
    let _ = Tlv::parse_as(data, apdu::asn1::SEQUENCE, "SEQUENCE");
    let mut reader = Reader::new(data);
    if let Some(tag) = reader.peek_tag() {
        let _ = reader.clone().expect(tag, "first");
    }
    let _ = reader.optional(apdu::asn1::SEQUENCE);
    while !reader.is_empty() && reader.read().is_ok() {}
    let _ = reader.finish("fuzz input");
    if let Ok(oid) = Oid::from_der_content(data) {
        assert_eq!(Oid::parse(&oid.to_string()), Some(oid));
    }
    if let Some(oid) = std::str::from_utf8(data).ok().and_then(Oid::parse) {
        assert_eq!(Oid::from_der_content(oid.content()), Ok(oid));
    }
});
