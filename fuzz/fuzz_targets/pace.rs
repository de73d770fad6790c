//! PACE on hostile input: the terminal against a chip whose GENERAL AUTHENTICATE answers
//! are fuzzed, and the chip side against fuzzed commands.
#![no_main]

use apdu::crypto::CipherSuite;
use apdu::mrz::MrzKey;
use apdu::pace::{self, Can, ChipPace, ChipPaceConfig, Password};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{KeyAgreement, Mapping, PaceInfo, PaceProtocol};
use apdu::{Card, Command, Error, Response, StatusWord};
use libfuzzer_sys::fuzz_target;

fn info(selector: u8) -> PaceInfo {
    let (agreement, mapping, id) = match selector % 4 {
        0 => (KeyAgreement::Ecdh, Mapping::Generic, 13),
        1 => (KeyAgreement::Ecdh, Mapping::ChipAuthentication, 12),
        2 => (KeyAgreement::Ecdh, Mapping::Generic, 9),
        _ => (KeyAgreement::Dh, Mapping::Generic, 0),
    };
    PaceInfo {
        protocol: PaceProtocol { agreement, mapping, suite: CipherSuite::Aes128 },
        version: 2,
        parameter_id: Some(id),
    }
}

/// Answers MSE with 9000, then each command with the next length-prefixed fuzz chunk.
struct FuzzChip<'a> {
    rest: &'a [u8],
    first: bool,
}

impl Card for FuzzChip<'_> {
    fn transmit(&mut self, _: &Command) -> Result<Response, Error> {
        if self.first {
            self.first = false;
            return Ok(Response::status(StatusWord::Success));
        }
        let (len, tail) = self.rest.split_first().ok_or(Error::CardRemoved)?;
        let len = usize::from(*len).min(tail.len());
        let (chunk, tail) = tail.split_at(len);
        self.rest = tail;
        Response::decode(&[chunk, &[0x90, 0x00]].concat())
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((selector, rest)) = data.split_first() else { return };
    let info = info(*selector);
    let password = Password::Can(Can::new("123456").expect("valid CAN"));
    let mut rng = ScriptedRng::from_seed(1);
    let _ = pace::open(FuzzChip { rest, first: true }, &info, &password, &mut rng);

    let mut chip = ChipPace::new(ChipPaceConfig {
        infos: vec![info.clone()],
        can: Can::new("123456").ok(),
        mrz: MrzKey::new("C01234567", "900101", "300101").ok(),
        static_key: None,
        parameter_id_rule: pace::ParameterIdRule::Optional,
    });
    let _ = chip.set_at(&pace::mse_set_at(&info, &password, true).data);
    let mut tail = rest;
    while let Some((len, t)) = tail.split_first() {
        let len = usize::from(*len).min(t.len());
        let (chunk, t) = t.split_at(len);
        let command = Command::new(0x10, 0x86, 0, 0).with_data(chunk.to_vec()).with_le(256);
        let _ = chip.general_authenticate(&command, &mut rng);
        tail = t;
    }
});
