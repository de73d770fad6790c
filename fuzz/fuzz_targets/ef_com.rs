#![no_main]

use cancuoc::lds::ef_com::EfCom;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cancuoc::lds::LdsFile::identify(data);
    if let Ok(parsed) = EfCom::parse(data) {
        let _ = format!("{parsed:?}");
    }
});
