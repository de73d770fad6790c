//! Through pcscd: chips that require, and chips that refuse, the domain parameter ID
//! (tag 0x84) in MSE:Set AT (`fixtures/cards/quirks/`). cancuoc sends it whenever the
//! PACEInfo gives one and, on 6A80/6A87, once more without; both cards open with PACE
//! and read. Needs pcscd with vpcd (`scripts/with-pcscd.sh`); skips and passes without.

use std::ffi::CString;

use apdu::access::{self, AccessKey, Opened};
use apdu::pace::Can;
use apdu::read_binary::{FileReader, ICAO_AID};
use apdu::rng::SystemRng;
use cancuoc::lds::DataGroup;
use cancuoc::sim::profile;

mod common;

use common::{Sim, context, testbed, wait_for_card};

struct Pcsc(pcsc::Card);

impl apdu::Card for Pcsc {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, apdu::Error> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let r = self
            .0
            .transmit(&command.encode()?, &mut buf)
            .map_err(|e| apdu::Error::Transport(e.to_string()))?;
        apdu::Response::decode(r)
    }
}

fn open_and_read(reader: &CString, can: &str) -> (bool, Vec<u8>) {
    let ctx = context();
    assert!(wait_for_card(&ctx, reader, true), "no card");
    let card = ctx
        .connect(reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    let mut card = Pcsc(card);
    let key = AccessKey::Can(Can::new(can).unwrap());
    let open = access::open(&mut card, &key, &mut SystemRng).expect("PACE opens");
    let Opened::Pace(outcome) = &open.opened else {
        panic!("not PACE: {:?}", open.opened)
    };
    let sent = outcome.parameter_id_sent;
    let mut channel = open.channel;
    apdu::read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    let dg1 = FileReader::default()
        .read_file(&mut channel, DataGroup::DG1.fid())
        .unwrap();
    (sent, dg1)
}

#[test]
fn chips_that_require_or_refuse_the_parameter_id_open_with_pace() {
    let Some((_slot, vpcd, reader)) = testbed("pace_parameter_id") else {
        return;
    };
    let quirks = profile::fixtures_dir().join("cards/quirks");
    for (file, expect_sent) in [
        ("pace-requires-parameter-id.toml", true),
        ("pace-refuses-parameter-id.toml", false),
    ] {
        let path = quirks.join(file);
        let path = path.to_str().unwrap();
        let sim = Sim::fast(&vpcd, &reader, path, &[]);
        let can = sim.start["access"]["can"].as_str().unwrap().to_owned();
        let (sent, dg1) = open_and_read(&reader, &can);
        assert_eq!(sent, expect_sent, "{file}");
        let mrz = sim.start["access"]["mrz"].as_str().unwrap();
        assert!(
            dg1.windows(mrz.len()).any(|w| w == mrz.as_bytes()),
            "{file}: DG1"
        );
        sim.stop();
    }
}
