//! BER-TLV decoding of arbitrary bytes: every object, recursively, and the header alone.
#![no_main]

use apdu::tlv::{Header, Tlv, TlvIter, MAX_DEPTH};
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
});
