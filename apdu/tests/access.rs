//! Opening a chip the way a reader meets it: EF.CardAccess, PACE, BAC fallback.

mod common;
use common::chip;

use std::collections::BTreeMap;

use apdu::Error;
use apdu::access::{self, AccessKey, AccessOptions, EF_CARD_ACCESS, Opened};
use apdu::crypto::CipherSuite;
use apdu::emulator::{CardEmulator, CardImage, EmulatedFile, FileAccess};
use apdu::mrz::MrzKey;
use apdu::pace::{Can, ChipPaceConfig};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{PaceInfo, SecurityInfo, SecurityInfos};

fn mrz() -> MrzKey {
    MrzKey::new("123456789", "950101", "350101").unwrap()
}

fn can() -> Can {
    Can::new("456789").unwrap()
}

fn info(parameter_id: u64) -> PaceInfo {
    chip::pace_ecdh_gm_aes128(parameter_id)
}

/// A chip; `listed` goes into EF.CardAccess, `pace` is what it really runs.
fn chip(
    listed: Option<Vec<PaceInfo>>,
    pace: Option<Vec<PaceInfo>>,
    select_mf: bool,
) -> CardEmulator<ScriptedRng> {
    let mut master_files = BTreeMap::new();
    if let Some(listed) = listed {
        let infos = SecurityInfos {
            infos: listed.into_iter().map(SecurityInfo::Pace).collect(),
        };
        master_files.insert(
            EF_CARD_ACCESS,
            EmulatedFile {
                data: infos.to_der(),
                access: FileAccess::Always,
                sfi: Some(0x1C),
            },
        );
    }
    let files = BTreeMap::from([(
        0x0101,
        EmulatedFile {
            data: vec![0x61, 0x03, 0x5F, 0x1F, 0x00],
            access: FileAccess::SecureMessaging,
            sfi: Some(1),
        },
    )]);
    let image = CardImage {
        master_files,
        applications: BTreeMap::from([(ICAO_AID.to_vec(), files)]),
        bac: Some(mrz()),
        pace: pace.map(|infos| ChipPaceConfig {
            infos,
            can: Some(can()),
            mrz: Some(mrz()),
            static_key: None,
            parameter_id_rule: apdu::pace::ParameterIdRule::Optional,
        }),
        select_mf_unsupported: !select_mf,
        ..CardImage::default()
    };
    CardEmulator::with_rng(image, ScriptedRng::from_seed(4))
}

fn read_dg1(chip: &mut CardEmulator<ScriptedRng>, key: &AccessKey) -> Result<String, Error> {
    let mut rng = ScriptedRng::from_seed(8);
    let access::OpenChip {
        mut channel,
        opened,
        ..
    } = access::open(chip, key, &mut rng)?;
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    assert_eq!(
        FileReader::default().read_file(&mut channel, 0x0101)?.len(),
        5
    );
    Ok(opened.describe())
}

#[test]
fn pace_with_can_on_a_chip_that_refuses_select_mf() {
    let mut chip = chip(Some(vec![info(13)]), Some(vec![info(13)]), false);
    assert_eq!(
        read_dg1(&mut chip, &AccessKey::Can(can())).unwrap(),
        "PACE-ECDH-GM-AES-128 brainpoolP256r1"
    );
}

#[test]
fn pace_with_mrz_picks_the_strongest_of_several() {
    let mut strong = info(16);
    strong.protocol.suite = CipherSuite::Aes256;
    let offered = vec![info(13), strong];
    let mut chip = chip(Some(offered.clone()), Some(offered), true);
    assert_eq!(
        read_dg1(&mut chip, &AccessKey::Mrz(mrz())).unwrap(),
        "PACE-ECDH-GM-AES-256 brainpoolP384r1"
    );
}

#[test]
fn bac_when_the_chip_has_no_card_access() {
    let mut chip = chip(None, None, true);
    assert_eq!(read_dg1(&mut chip, &AccessKey::Mrz(mrz())).unwrap(), "BAC");
    let mut chip2 = self::chip(None, None, true);
    assert!(matches!(
        read_dg1(&mut chip2, &AccessKey::Can(can())),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn bac_fallback_only_with_mrz_when_pace_fails_and_the_caller_allows_it() {
    // Lists PACE but cannot run it: no silent downgrade to BAC.
    let mut chip0 = chip(Some(vec![info(13)]), None, true);
    assert!(matches!(
        read_dg1(&mut chip0, &AccessKey::Mrz(mrz())),
        Err(Error::Status(_))
    ));
    let mut chip1 = chip(Some(vec![info(13)]), None, true);
    let allowed = AccessOptions {
        allow_bac_fallback: true,
    };
    let open = access::open_with(
        &mut chip1,
        &AccessKey::Mrz(mrz()),
        allowed,
        &mut ScriptedRng::from_seed(8),
    )
    .unwrap();
    assert!(
        matches!(
            &open.opened,
            Opened::Bac {
                fallback_from: Some(Error::Status(_))
            }
        ),
        "the result says BAC replaced a failed PACE: {:?}",
        open.opened
    );
    let mut chip2 = chip(Some(vec![info(13)]), None, true);
    assert!(matches!(
        read_dg1(&mut chip2, &AccessKey::Can(can())),
        Err(Error::Status(_))
    ));
}

#[test]
fn a_wrong_can_is_final() {
    let mut chip = chip(Some(vec![info(13)]), Some(vec![info(13)]), true);
    let wrong = AccessKey::Can(Can::new("000000").unwrap());
    assert_eq!(read_dg1(&mut chip, &wrong), Err(Error::WrongAccessKey));
    assert_eq!(chip.stats().failed_authentications, 1);
    let _: Option<Opened> = None;
}
