#![no_main]

use cancuoc::lds::dg1::Dg1;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dg1) = Dg1::parse(data) {
        let _ = dg1.vn_id_number();
        let _ = dg1.full_name();
        // Whatever decodes must encode back to an MRZ that decodes the same way.
        if dg1.checks.all_valid() {
            if let Ok(mrz) = dg1.fields.to_mrz() {
                let again = Dg1::from_mrz(&mrz).expect("encoder output decodes");
                assert!(again.checks.all_valid());
            }
        }
    }
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = Dg1::from_mrz(text);
    }
});
