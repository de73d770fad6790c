#![no_main]

use cancuoc::lds::dg11::Dg11;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cancuoc::lds::LdsFile::identify(data);
    if let Ok(parsed) = Dg11::parse(data) {
        let _ = format!("{parsed:?}");
    }
});
