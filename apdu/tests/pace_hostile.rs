//! PACE against a chip that lies: each bad answer is a clear error, never a panic.

mod common;
use common::chip;

use apdu::key_agreement::Group;
use apdu::pace::{self, Can, Password};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{KeyAgreement, PaceInfo};
use apdu::tlv::{self, Tag};
use apdu::{Card, Command, Error, Response, StatusWord};

fn info() -> PaceInfo {
    chip::pace_ecdh_gm_aes128(13)
}

/// Answers MSE with 9000, then each GENERAL AUTHENTICATE from a list; `echo` answers
/// the mapping step with the terminal's own key.
struct Liar {
    answers: Vec<Vec<u8>>,
    sent: usize,
    echo_mapping: bool,
}

impl Card for Liar {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        self.sent += 1;
        if self.sent == 1 {
            return Ok(Response::status(StatusWord::Success));
        }
        if self.echo_mapping && self.sent == 3 {
            let inner = tlv::Tlv::parse(&command.data).unwrap();
            let key = inner
                .find(Tag::new(0x81))
                .unwrap()
                .unwrap()
                .value()
                .to_vec();
            let reply = tlv::encode(Tag::new(0x7C), &tlv::encode(Tag::new(0x82), &key));
            return Ok(Response::new(reply, StatusWord::Success));
        }
        let data = self.answers.get(self.sent - 2).cloned().unwrap_or_default();
        Ok(Response::new(data, StatusWord::Success))
    }
}

fn run(answers: Vec<Vec<u8>>, echo_mapping: bool) -> Error {
    let card = Liar {
        answers,
        sent: 0,
        echo_mapping,
    };
    let password = Password::Can(Can::new("123456").unwrap());
    pace::open(card, &info(), &password, &mut ScriptedRng::from_seed(1))
        .map(|_| ())
        .expect_err("a lying chip must not open")
}

fn ga(tag: u32, value: &[u8]) -> Vec<u8> {
    tlv::encode(Tag::new(0x7C), &tlv::encode(Tag::new(tag), value))
}

fn nonce() -> Vec<u8> {
    ga(0x80, &[0x11; 16])
}

#[test]
fn oversize_and_misaligned_nonces() {
    assert!(matches!(
        run(vec![ga(0x80, &[0; 80])], false),
        Error::Malformed(_)
    ));
    assert!(matches!(
        run(vec![ga(0x80, &[0; 15])], false),
        Error::Malformed(_)
    ));
    assert!(matches!(
        run(vec![ga(0x80, &[])], false),
        Error::Malformed(_)
    ));
}

#[test]
fn truncated_and_wrong_dynamic_authentication_data() {
    for bad in [
        vec![0x7C, 0x05, 0x80, 0x10, 0x00],
        vec![0x7C],
        vec![0x7D, 0x02, 0x80, 0x00],
        vec![0x7C, 0x02, 0x81, 0x00],
        vec![0x7C, 0x84, 0xFF, 0xFF, 0xFF, 0xFF],
    ] {
        let err = run(vec![bad.clone()], false);
        assert!(
            matches!(
                err,
                Error::Malformed(_)
                    | Error::Truncated(_)
                    | Error::LengthBeyondBuffer { .. }
                    | Error::MissingDataObject(_)
            ),
            "{bad:02X?}: {err:?}"
        );
    }
}

#[test]
fn points_off_the_curve_identity_and_the_terminals_own_key() {
    let group = Group::standardized(KeyAgreement::Ecdh, 13).unwrap();
    let mut off_curve = group.generator();
    off_curve[40] ^= 1;
    let mut identity = vec![0x04];
    identity.extend([0u8; 64]);
    for point in [
        off_curve,
        identity,
        vec![0x00],
        vec![0x04; 3],
        vec![0x05; 65],
    ] {
        let err = run(vec![nonce(), ga(0x82, &point)], false);
        assert!(matches!(err, Error::Crypto(_)), "{err:?}");
    }
    let err = run(vec![nonce()], true);
    assert!(matches!(err, Error::AuthenticationFailed(_)), "{err:?}");
}

#[test]
fn a_chip_that_does_not_know_the_protocol() {
    let mut chip = pace::ChipPace::new(pace::ChipPaceConfig {
        infos: vec![info()],
        can: Can::new("123456").ok(),
        mrz: None,
        static_key: None,
        parameter_id_rule: pace::ParameterIdRule::Optional,
    });
    // An unknown OID, a password the chip does not have, garbage.
    let unknown = tlv::encode(Tag::new(0x80), &[0x2B, 0x06, 0x01]);
    assert_eq!(chip.set_at(&unknown), StatusWord::ReferencedDataNotFound);
    let mut mrz_ref =
        pace::mse_set_at(&info(), &Password::Can(Can::new("123456").unwrap()), false).data;
    let n = mrz_ref.len();
    mrz_ref[n - 1] = 1;
    assert_eq!(chip.set_at(&mrz_ref), StatusWord::ReferencedDataNotFound);
    assert_eq!(chip.set_at(&[0x80, 0x05]), StatusWord::IncorrectData);
    // GENERAL AUTHENTICATE out of order.
    let (r, session) = chip.general_authenticate(
        &Command::new(0x00, 0x86, 0, 0).with_data(ga(0x85, &[0; 8])),
        &mut ScriptedRng::from_seed(2),
    );
    assert_eq!(r.sw, StatusWord::ConditionsNotSatisfied);
    assert!(session.is_none());
}
