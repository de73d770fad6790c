//! The simulated card never panics on any APDU or vpcd byte stream: the input is cut
//! into vpcd frames and every APDU goes through the whole simulator stack (faults,
//! pseudo-APDUs, link model, the `vn-cccd` chip with PACE, BAC and secure messaging).
#![no_main]

use std::sync::OnceLock;

use apdu::rng::ScriptedRng;
use cancuoc::sim::SimCard;
use cancuoc::sim::fault::{FaultPlan, Reply};
use cancuoc::sim::link::LinkModel;
use cancuoc::sim::profile::{self, Profile};
use cancuoc::sim::vpcd::{FrameDecoder, Message};
use libfuzzer_sys::fuzz_target;

fn profile() -> &'static Profile {
    static PROFILE: OnceLock<Profile> = OnceLock::new();
    PROFILE.get_or_init(|| profile::vn_cccd().expect("the vn-cccd profile loads"))
}

fuzz_target!(|data: &[u8]| {
    let faults = FaultPlan {
        corrupt_mac_at: Some(3),
        wrong_sw_at: Some((5, 0x6A82)),
        ..FaultPlan::default()
    };
    let link = LinkModel::default();
    let mut card = SimCard::with_rng(profile(), link, faults, ScriptedRng::from_seed(0));
    let mut decoder = FrameDecoder::default();
    decoder.push(data);
    while let Some(payload) = decoder.next_payload() {
        match Message::decode(payload) {
            Message::Apdu(apdu) => {
                if let Reply::Answer { response, .. } = card.respond(&apdu) {
                    assert!(response.len() >= 2);
                }
            }
            Message::Reset | Message::PowerOn | Message::PowerOff => card.reset(),
            _ => {}
        }
    }
});
