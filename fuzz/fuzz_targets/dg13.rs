#![no_main]

use cancuoc::lds::dg13::{Dg13, VnIdentity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cancuoc::lds::LdsFile::identify(data);
    if let Ok(parsed) = Dg13::parse(data) {
        let _ = format!("{parsed:?}");
        let _ = serde_json::to_string(&parsed.identity);
        // What was read writes back (the simulator's path) and, unless a joined value
        // outgrew the text bound, reads again with the parents in their places.
        if let Ok(bytes) = parsed.identity.to_dg13() {
            if let Ok(again) = VnIdentity::from_dg13(&bytes) {
                assert_eq!(again.father_name, parsed.identity.father_name);
                assert_eq!(again.mother_name, parsed.identity.mother_name);
            }
        }
    }
});
