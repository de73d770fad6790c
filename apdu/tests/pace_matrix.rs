//! Terminal against emulator: PACE over every standardized domain parameter, mapping and
//! cipher suite the standard defines, with CAN and with MRZ, then a file read through the
//! new channel. A wrong CAN gives `WrongAccessKey` after one attempt and locks nothing.

mod common;
use common::chip::{self, can, mrz};

use std::collections::BTreeMap;

use apdu::Error;
use apdu::crypto::CipherSuite;
use apdu::emulator::{CardEmulator, CardImage, EmulatedFile, FileAccess};
use apdu::key_agreement::Group;
use apdu::pace::{self, Can, ChipPaceConfig, ChipStaticKey, Password};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{KeyAgreement, Mapping, PaceInfo, PaceProtocol};

const FID: u16 = 0x011E;
const DH_IDS: [u64; 3] = [0, 1, 2];
const EC_IDS: [u64; 11] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
const SUITES: [CipherSuite; 4] = [
    CipherSuite::Des3,
    CipherSuite::Aes128,
    CipherSuite::Aes192,
    CipherSuite::Aes256,
];

fn file() -> Vec<u8> {
    let mut f = vec![0x60, 0x82, 0x01, 0x2C];
    f.extend((0..300u32).map(|i| (i * 13) as u8));
    f
}

fn chip(info: &PaceInfo, seed: u64) -> CardEmulator<ScriptedRng> {
    let mut rng = ScriptedRng::from_seed(seed ^ 0xC0FFEE);
    let static_key = match info.protocol.agreement {
        KeyAgreement::Ecdh => {
            let group = pace::group_of(info).unwrap();
            let (private, public) = group.generate(&mut rng).unwrap();
            Some(ChipStaticKey {
                group,
                private,
                public,
            })
        }
        KeyAgreement::Dh => None,
    };
    let files = BTreeMap::from([(
        FID,
        EmulatedFile {
            data: file(),
            access: FileAccess::SecureMessaging,
            sfi: Some(0x1E),
        },
    )]);
    // A 2048-bit DH public value does not fit a short command: such chips take extended
    // length.
    let limits = apdu::emulator::ChipLimits {
        extended_length: info.protocol.agreement == KeyAgreement::Dh
            && info.parameter_id != Some(0),
        ..Default::default()
    };
    let image = CardImage {
        applications: BTreeMap::from([(ICAO_AID.to_vec(), files)]),
        limits,
        pace: Some(ChipPaceConfig {
            infos: vec![info.clone()],
            can: Some(can()),
            mrz: Some(mrz()),
            static_key,
            parameter_id_rule: apdu::pace::ParameterIdRule::Optional,
        }),
        ..CardImage::default()
    };
    CardEmulator::with_rng(image, ScriptedRng::from_seed(seed))
}

/// Runs one cell; `Ok(true)` when PACE opened and the file read back equal.
fn run_cell(info: &PaceInfo, password: &Password, seed: u64) -> Result<(), Error> {
    let mut chip = chip(info, seed);
    let mut rng = ScriptedRng::from_seed(seed + 1);
    let (mut channel, outcome) = pace::open(&mut chip, info, password, &mut rng)?;
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    let data = FileReader::default().read_file(&mut channel, FID)?;
    assert_eq!(data, file());
    if info.protocol.mapping == Mapping::ChipAuthentication {
        let proof = outcome.chip_authentication.expect("CAM gives a proof");
        let key = chip
            .image()
            .pace
            .as_ref()
            .unwrap()
            .static_key
            .as_ref()
            .unwrap();
        proof.verify(&key.group, &key.public)?;
    }
    assert_eq!(chip.stats().pace_established, 1);
    Ok(())
}

/// The cells the standard defines: CAM only with ECDH and AES; everything else with
/// every suite.
fn cells() -> Vec<PaceInfo> {
    let mut out = Vec::new();
    for (agreement, ids) in [
        (KeyAgreement::Dh, &DH_IDS[..]),
        (KeyAgreement::Ecdh, &EC_IDS[..]),
    ] {
        for id in ids {
            for mapping in [
                Mapping::Generic,
                Mapping::Integrated,
                Mapping::ChipAuthentication,
            ] {
                for suite in SUITES {
                    let protocol = PaceProtocol {
                        agreement,
                        mapping,
                        suite,
                    };
                    // Only protocols with an OID exist.
                    if PaceProtocol::from_oid(&protocol.oid()) != Some(protocol) {
                        continue;
                    }
                    if mapping == Mapping::ChipAuthentication && agreement == KeyAgreement::Dh {
                        continue;
                    }
                    // The integrated mapping's point encoding needs p = 3 mod 4; P-224 has
                    // p = 1 mod 4, so ICAO 9303-11 defines no ECDH-IM on it (checked below).
                    if mapping == Mapping::Integrated && *id == 10 {
                        continue;
                    }
                    out.push(PaceInfo {
                        protocol,
                        version: 2,
                        parameter_id: Some(*id),
                    });
                }
            }
        }
    }
    out
}

fn matrix(mapping: Mapping) {
    let mut failures = Vec::new();
    let mut passed = 0;
    for (n, info) in cells()
        .iter()
        .filter(|i| i.protocol.mapping == mapping)
        .enumerate()
    {
        for password in [Password::Can(can()), Password::Mrz(mrz())] {
            match run_cell(info, &password, n as u64 * 2 + password.reference() as u64) {
                Ok(()) => passed += 1,
                Err(e) => failures.push(format!(
                    "{} id {:?} {}: {e}",
                    info.protocol.name(),
                    info.parameter_id,
                    password.kind()
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} passed, failed:\n{}",
        passed,
        failures.join("\n")
    );
    assert!(passed > 0);
}

#[test]
fn generic_mapping_every_group_and_suite() {
    matrix(Mapping::Generic);
}

#[test]
fn integrated_mapping_every_group_and_suite() {
    matrix(Mapping::Integrated);
}

#[test]
fn chip_authentication_mapping_every_curve() {
    matrix(Mapping::ChipAuthentication);
}

#[test]
fn a_wrong_can_is_refused_once_and_locks_nothing() {
    let info = chip::pace_ecdh_gm_aes128(13);
    let mut chip = chip(&info, 9);
    for attempt in 1..=3 {
        let mut rng = ScriptedRng::from_seed(attempt);
        let wrong = Password::Can(Can::new("654321").unwrap());
        let before = chip.stats().commands;
        let err = pace::open(&mut chip, &info, &wrong, &mut rng).unwrap_err();
        assert_eq!(err, Error::WrongAccessKey);
        // One MSE and four GENERAL AUTHENTICATE: one attempt, no retry loop.
        assert_eq!(chip.stats().commands - before, 5);
        assert_eq!(chip.stats().failed_authentications, attempt as usize);
    }
    let mut rng = ScriptedRng::from_seed(99);
    let (mut channel, _) = pace::open(&mut chip, &info, &Password::Can(can()), &mut rng).unwrap();
    read_binary::select_application(&mut channel, &ICAO_AID).unwrap();
    assert_eq!(
        FileReader::default().read_file(&mut channel, FID).unwrap(),
        file()
    );
}

#[test]
fn the_parameter_id_is_sent_only_when_asked() {
    let info = chip::pace_ecdh_gm_aes128(13);
    let without = pace::mse_set_at(&info, &Password::Can(can()), false);
    let with = pace::mse_set_at(&info, &Password::Can(can()), true);
    assert!(without.le.is_none() && with.le.is_none());
    assert_eq!(with.data.len(), without.data.len() + 3);
    assert!(with.data.ends_with(&[0x84, 0x01, 0x0D]));
    let _ = Group::curve(apdu::ec::CurveId::BrainpoolP256r1);
}

#[test]
fn integrated_mapping_on_p224_is_refused_as_undefined() {
    let group = Group::standardized(KeyAgreement::Ecdh, 10).unwrap();
    let err = group
        .map_integrated(&[1; 16], &[2; 16], CipherSuite::Aes128)
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
}
