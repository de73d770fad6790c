#![no_main]

use cancuoc::api::cmd::{self, read::ReadParams};
use cancuoc::fields::FieldSet;
use libfuzzer_sys::fuzz_target;

// A request line from a client: parsed, then, as a `read`, checked against a name-only
// client and against one allowed everything.
fuzz_target!(|data: &[u8]| {
    let Ok(request) = cmd::parse(data) else {
        return;
    };
    if request.cmd == "read" {
        let name_only = FieldSet::parse(["full_name"]).unwrap_or_default();
        let _ = ReadParams::parse(request.params.clone(), &name_only, Default::default());
        let _ = ReadParams::parse(request.params, &FieldSet::all(), Default::default());
    }
});
