//! EF.SOD / CMS SignedData parsing and passive authentication on hostile bytes.
#![no_main]
use cancuoc::pki::Time;
use cancuoc::trust::{TrustStore, verify_passive};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let _ = cancuoc::lds::sod::Sod::from_bytes(data);
    let _ = cancuoc::pki::cms::SignedData::from_content_info(data);
    let _ = cancuoc::pki::ber::ber_to_der(data);
    // The first data group's bytes double as the SOD's tail, so hashes get compared too.
    let mut groups = BTreeMap::new();
    groups.insert(1u8, data.get(data.len() / 2..).unwrap_or_default().to_vec());
    // With and without a known issuing state (the country check runs only with one).
    let state = (data.len() % 2 == 0).then_some("UTO");
    let r = verify_passive(data, &groups, &TrustStore::new(), Time(1_700_000_000), state);
    let _ = serde_json::to_string(&r);
});
