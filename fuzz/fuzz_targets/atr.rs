//! ATR parsing of arbitrary bytes.
#![no_main]

use cancuoc::transport::atr::Atr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(atr) = Atr::parse(data) {
        let _ = atr.extended_length();
        assert!(atr.historical.len() <= 15);
    }
});
