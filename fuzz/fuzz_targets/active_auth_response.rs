//! Active authentication signature verification on arbitrary chip answers, for fixed RSA
//! (ISO/IEC 9796-2) and ECDSA keys: raw fuzzed signatures, and genuine signatures with
//! fuzzed damage so the deep checks (header, trailer, digest) are reached.
#![no_main]

use std::sync::OnceLock;

use apdu::active_auth::{AaPublicKey, ChipAa};
use apdu::hash::HashAlgorithm;
use apdu::ec::CurveId;
use apdu::rng::ScriptedRng;
use apdu::security_infos::ActiveAuthenticationInfo;
use libfuzzer_sys::fuzz_target;

struct Keys {
    chips: Vec<(ChipAa, AaPublicKey, Option<ActiveAuthenticationInfo>)>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = ScriptedRng::from_seed(7);
        let mut chips = Vec::new();
        for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
            let chip = ChipAa::rsa_generate(1024, hash, &mut rng).expect("RSA key");
            let public = chip.public_key();
            chips.push((chip, public, None));
        }
        for (id, hash) in [
            (CurveId::P256, HashAlgorithm::Sha256),
            (CurveId::BrainpoolP224r1, HashAlgorithm::Sha1),
        ] {
            let curve = id.curve();
            let chip = ChipAa::ec(curve.clone(), curve.random_scalar(&mut rng), hash);
            let public = chip.public_key();
            let info = chip.info();
            chips.push((chip, public, info));
        }
        Keys { chips }
    })
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the key, so each run pays for one signature only.
    let Some((selector, data)) = data.split_first() else {
        return;
    };
    let chips = &keys().chips;
    let Some((chip, public, info)) = chips.get(usize::from(*selector) % chips.len()) else {
        return;
    };
    let (challenge, rest) = data.split_at(data.len().min(8));
    let _ = public.verify(info.as_ref(), challenge, rest);
    if challenge.len() == 8 {
        let mut rng = ScriptedRng::from_seed(data.len() as u64);
        if let Ok(mut signature) = chip.internal_authenticate(challenge, &mut rng) {
            // Damage the genuine signature as the input says: XOR bytes in, maybe cut.
            let undamaged = rest.len() <= signature.len() && rest.iter().all(|b| *b == 0);
            for (s, b) in signature.iter_mut().zip(rest) {
                *s ^= b;
            }
            if rest.len() > signature.len() {
                signature.truncate(rest.len() % (signature.len() + 1));
            }
            let result = public.verify(info.as_ref(), challenge, &signature);
            if undamaged {
                assert!(result.is_ok(), "a genuine signature must verify");
            }
        }
    }
});
