//! The domain parameter ID (tag 0x84) in MSE:Set AT, terminal against emulator: the
//! terminal sends it whenever the PACEInfo gives one, and when the chip answers 6A80 or
//! 6A87 to that form, it tries once without. Chips in the field differ: one that
//! requires the ID, one that refuses it, and one that refuses both forms.

mod common;
use common::chip::{self, can};

use std::collections::BTreeMap;

use apdu::access::{self, AccessKey, Opened};
use apdu::emulator::{CardEmulator, CardImage, EmulatedFile, FileAccess};
use apdu::pace::{self, ChipPaceConfig, ParameterIdRule, Password};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{PaceInfo, SecurityInfo, SecurityInfos};
use apdu::{Card, Command, Error, Response, StatusWord};

const FID: u16 = 0x011E;

fn file() -> Vec<u8> {
    let mut f = vec![0x60, 0x82, 0x00, 0x40];
    f.extend(0..0x40u8);
    f
}

fn info() -> PaceInfo {
    chip::pace_ecdh_gm_aes128(13)
}

fn chip(rule: ParameterIdRule) -> CardEmulator<ScriptedRng> {
    let card_access = SecurityInfos {
        infos: vec![SecurityInfo::Pace(info())],
    }
    .to_der_sorted();
    let image = CardImage {
        master_files: BTreeMap::from([(
            access::EF_CARD_ACCESS,
            EmulatedFile {
                data: card_access,
                access: FileAccess::Always,
                sfi: Some(0x1C),
            },
        )]),
        applications: BTreeMap::from([(
            ICAO_AID.to_vec(),
            BTreeMap::from([(
                FID,
                EmulatedFile {
                    data: file(),
                    access: FileAccess::SecureMessaging,
                    sfi: Some(0x1E),
                },
            )]),
        )]),
        pace: Some(ChipPaceConfig {
            infos: vec![info()],
            can: Some(can()),
            mrz: None,
            static_key: None,
            parameter_id_rule: rule,
        }),
        ..CardImage::default()
    };
    CardEmulator::with_rng(image, ScriptedRng::from_seed(7))
}

/// The card, with the MSE:Set AT commands for PACE it saw (whether each carried tag
/// 0x84) and the status each got; `refuse_all` answers every one 6A80 itself.
struct Watch {
    chip: CardEmulator<ScriptedRng>,
    mse: Vec<(bool, StatusWord)>,
    refuse_all: bool,
}

impl Watch {
    fn new(rule: ParameterIdRule) -> Watch {
        Watch {
            chip: chip(rule),
            mse: Vec::new(),
            refuse_all: false,
        }
    }
}

impl Card for Watch {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let is_mse = command.ins == 0x22 && (command.p1, command.p2) == (0xC1, 0xA4);
        let with_id = command.data.windows(3).any(|w| w == [0x84, 0x01, 0x0D]);
        let response = if is_mse && self.refuse_all {
            Response::status(StatusWord::IncorrectData)
        } else {
            self.chip.transmit(command)?
        };
        if is_mse {
            self.mse.push((with_id, response.sw));
        }
        Ok(response)
    }
}

fn open_and_read(card: &mut Watch) -> Result<pace::PaceOutcome, Error> {
    let mut rng = ScriptedRng::from_seed(3);
    let (mut channel, outcome) = pace::open(&mut *card, &info(), &Password::Can(can()), &mut rng)?;
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    assert_eq!(FileReader::default().read_file(&mut channel, FID)?, file());
    Ok(outcome)
}

#[test]
fn the_parameter_id_is_sent_whenever_the_pace_info_gives_one() {
    let mut card = Watch::new(ParameterIdRule::Optional);
    let outcome = open_and_read(&mut card).unwrap();
    assert!(outcome.parameter_id_sent);
    assert_eq!(card.mse, [(true, StatusWord::Success)]);
}

#[test]
fn a_chip_that_requires_the_parameter_id() {
    let mut card = Watch::new(ParameterIdRule::Required);
    let outcome = open_and_read(&mut card).unwrap();
    assert!(outcome.parameter_id_sent);
    assert_eq!(card.mse, [(true, StatusWord::Success)]);
    // Without it, this chip answers 6A80.
    let mut chip = chip(ParameterIdRule::Required);
    let without = pace::mse_set_at(&info(), &Password::Can(can()), false);
    assert_eq!(
        chip.transmit(&without).unwrap().sw,
        StatusWord::IncorrectData
    );
}

#[test]
fn a_chip_that_refuses_the_parameter_id_gets_the_other_form_once() {
    let mut card = Watch::new(ParameterIdRule::Refused);
    let outcome = open_and_read(&mut card).unwrap();
    assert!(!outcome.parameter_id_sent);
    assert_eq!(
        card.mse,
        [
            (true, StatusWord::Other(0x6A87)),
            (false, StatusWord::Success)
        ]
    );
    // The access layer (EF.CardAccess, then PACE) gets there the same way.
    let mut card = Watch::new(ParameterIdRule::Refused);
    let key = AccessKey::Can(can());
    let open = access::open(&mut card, &key, &mut ScriptedRng::from_seed(4)).unwrap();
    assert!(matches!(open.opened, Opened::Pace(ref p) if !p.parameter_id_sent));
    drop(open);
    assert_eq!(card.mse.len(), 2);
}

#[test]
fn a_chip_that_refuses_both_forms_fails_pace_after_two_tries_without_falling_back() {
    let mut card = Watch::new(ParameterIdRule::Optional);
    card.refuse_all = true;
    let err = open_and_read(&mut card).unwrap_err();
    assert_eq!(err, Error::Status(StatusWord::IncorrectData));
    assert_eq!(
        card.mse,
        [
            (true, StatusWord::IncorrectData),
            (false, StatusWord::IncorrectData)
        ]
    );
    // No silent downgrade: without the BAC fallback allowed, the PACE error stands.
    let mut card = Watch::new(ParameterIdRule::Optional);
    card.refuse_all = true;
    let mrz = apdu::mrz::MrzKey::new("C01234567", "900101", "300101").unwrap();
    let err = access::open(
        &mut card,
        &AccessKey::Mrz(mrz),
        &mut ScriptedRng::from_seed(5),
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(err, Error::Status(StatusWord::IncorrectData));
    assert_eq!(card.mse.len(), 2);
}

#[test]
fn other_refusals_are_not_retried() {
    // 6A88 (referenced data not found) is not about the form: no second try.
    let mut card = Watch::new(ParameterIdRule::Optional);
    let mut other = info();
    other.parameter_id = Some(12);
    let err = pace::open(
        &mut card,
        &other,
        &Password::Can(can()),
        &mut ScriptedRng::from_seed(6),
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(err, Error::Status(StatusWord::ReferencedDataNotFound));
    assert_eq!(card.mse.len(), 1);
}
