//! SecurityInfos (EF.CardAccess, DG14) and the public keys inside them: chip
//! authentication SubjectPublicKeyInfos (ECDH named or explicit, DH) and DG15's active
//! authentication key, from arbitrary bytes.
#![no_main]

use apdu::active_auth::AaPublicKey;
use apdu::chip_auth::{ChipAuthPlan, ChipPublicKey};
use apdu::security_infos::SecurityInfos;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(infos) = SecurityInfos::parse(data) {
        for key in infos.chip_authentication_keys() {
            if let Ok(parsed) = ChipPublicKey::from_info(key) {
                let _ = parsed.to_spki();
            }
        }
        let _ = ChipAuthPlan::choose(&infos);
        let _ = infos.to_der();
    }
    let _ = ChipPublicKey::from_spki(data);
    let _ = AaPublicKey::from_spki(data);
    let _ = AaPublicKey::from_dg15(data);
});
