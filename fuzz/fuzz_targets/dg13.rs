#![no_main]

use cancuoc::lds::dg13::Dg13;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cancuoc::lds::LdsFile::identify(data);
    if let Ok(parsed) = Dg13::parse(data) {
        let _ = format!("{parsed:?}");
    }
});
