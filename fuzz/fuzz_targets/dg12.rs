#![no_main]

use cancuoc::lds::dg12::Dg12;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cancuoc::lds::LdsFile::identify(data);
    if let Ok(parsed) = Dg12::parse(data) {
        let _ = format!("{parsed:?}");
    }
});
