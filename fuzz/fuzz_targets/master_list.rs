//! Master list parsing and signature checking, and trust-file detection, on hostile bytes.
#![no_main]
use cancuoc::pki::MasterList;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ml) = MasterList::from_bytes(data) {
        let _ = ml.verify_signature();
    }
    let _ = cancuoc::trust::store::parse_trust_file(data, "fuzz");
});
