#![no_main]

use cancuoc::session::access_input::CardQr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(qr) = CardQr::parse(text) {
        let id = qr.id_number();
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|b| b.is_ascii_digit()));
        let _ = format!("{qr:?}");
    }
});
