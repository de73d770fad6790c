//! The whole access sequence against the emulator, as a reader runs it: PACE (or BAC),
//! then chip authentication re-keying the channel, a file read under the new keys, and
//! active authentication — for chip keys on every standardized curve and DH group.

mod common;
use common::chip::{self, mrz};

use std::sync::Arc;

use apdu::active_auth::{self, ChipAa};
use apdu::chip_auth::{self, ChipAuthPlan};
use apdu::crypto::CipherSuite;
use apdu::ec::CurveId;
use apdu::emulator::{CardEmulator, CardImage};
use apdu::hash::HashAlgorithm;
use apdu::key_agreement::Group;
use apdu::pace::{self, Can, ChipPaceConfig, ChipStaticKey, Password};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::ScriptedRng;
use apdu::security_infos::{
    CaProtocol, ChipAuthenticationInfo, KeyAgreement, PaceInfo, SecurityInfo, SecurityInfos,
};
use apdu::{Error, bac};

const FID: u16 = 0x0101;

fn pace_info() -> PaceInfo {
    chip::pace_ecdh_gm_aes128(13)
}

fn file() -> Vec<u8> {
    chip::file(0x61, 512)
}

struct Chip {
    emulator: CardEmulator<ScriptedRng>,
    dg14: SecurityInfos,
}

fn chip(group: Group, ca: ChipAuthenticationInfo, aa: Option<ChipAa>, seed: u64) -> Chip {
    let mut rng = ScriptedRng::from_seed(seed);
    let (private, public) = group.generate(&mut rng).unwrap();
    let key = ChipStaticKey {
        group,
        private,
        public,
    };
    let ca_chip =
        apdu::chip_auth::ChipCa::new(key.group.clone(), key.private.clone(), ca.clone()).unwrap();
    let mut infos = vec![
        SecurityInfo::ChipAuthenticationPublicKey(ca_chip.public_key_info().unwrap()),
        SecurityInfo::ChipAuthentication(ca.clone()),
    ];
    if let Some(info) = aa.as_ref().and_then(ChipAa::info) {
        infos.push(SecurityInfo::ActiveAuthentication(info));
    }
    let image = CardImage {
        applications: chip::one_file(FID, file()),
        bac: Some(mrz()),
        pace: Some(ChipPaceConfig {
            infos: vec![pace_info()],
            can: Can::new("123456").ok(),
            mrz: Some(mrz()),
            static_key: None,
            parameter_id_rule: apdu::pace::ParameterIdRule::Optional,
        }),
        chip_authentication: Some((key, ca)),
        active_authentication: aa.map(Arc::new),
        ..CardImage::default()
    };
    Chip {
        emulator: CardEmulator::with_rng(image, ScriptedRng::from_seed(seed + 1)),
        dg14: SecurityInfos { infos },
    }
}

/// PACE or BAC, CA, a file read, AA when offered.
fn read(
    chip: &mut Chip,
    use_bac: bool,
    aa_key: Option<&active_auth::AaPublicKey>,
) -> Result<(), Error> {
    let mut rng = ScriptedRng::from_seed(77);
    let plan = ChipAuthPlan::choose(&SecurityInfos::parse(&chip.dg14.to_der())?)?;
    let aa_info = chip.dg14.active_authentication().cloned();
    let mut channel = if use_bac {
        read_binary::select_application(&mut chip.emulator, &ICAO_AID)?;
        bac::open(&mut chip.emulator, &mrz(), &mut rng)?
    } else {
        let password = Password::Can(Can::new("123456")?);
        pace::open(&mut chip.emulator, &pace_info(), &password, &mut rng)?.0
    };
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    let outcome = chip_auth::authenticate(&mut channel, &plan, &mut rng)?;
    assert_eq!(outcome.protocol, plan.protocol);
    assert_eq!(channel.session().suite(), plan.protocol.suite);
    let data = FileReader::default().read_file(&mut channel, FID)?;
    assert_eq!(data, file());
    if let Some(key) = aa_key {
        active_auth::authenticate_random(&mut channel, key, aa_info.as_ref(), &mut rng)?;
    }
    let stats = chip.emulator.stats();
    assert_eq!(stats.chip_authentications, 1);
    assert_eq!(stats.active_authentications, usize::from(aa_key.is_some()));
    Ok(())
}

#[test]
fn pace_then_ca_on_every_curve_and_suite_then_aa() {
    let mut failures = Vec::new();
    for (n, id) in CurveId::ALL.into_iter().enumerate() {
        for (suite, version) in [
            (CipherSuite::Des3, 1),
            (CipherSuite::Aes128, 2),
            (CipherSuite::Aes192, 2),
            (CipherSuite::Aes256, 2),
        ] {
            let ca = ChipAuthenticationInfo {
                protocol: CaProtocol {
                    agreement: KeyAgreement::Ecdh,
                    suite,
                },
                version,
                key_id: None,
            };
            let curve = id.curve().clone();
            let aa_key = curve.random_scalar(&mut ScriptedRng::from_seed(n as u64));
            let aa = ChipAa::ec(curve, aa_key, HashAlgorithm::Sha256);
            let public = aa.public_key();
            let mut chip = chip(Group::curve(id), ca, Some(aa), n as u64 * 10);
            if let Err(e) = read(&mut chip, false, Some(&public)) {
                failures.push(format!("{} CA {} v{version}: {e}", id.name(), suite.name()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bac_then_ca_with_dh_groups() {
    for id in 0..=2 {
        let ca = ChipAuthenticationInfo {
            protocol: CaProtocol {
                agreement: KeyAgreement::Dh,
                suite: CipherSuite::Aes128,
            },
            version: 2,
            key_id: None,
        };
        let group = Group::standardized(KeyAgreement::Dh, id).unwrap();
        let mut chip = chip(group, ca, None, 500 + id);
        // 2048-bit values need extended length.
        let mut image = chip.emulator.image().clone();
        image.limits.extended_length = true;
        image.limits.max_le = 65536;
        chip.emulator = CardEmulator::with_rng(image, ScriptedRng::from_seed(id));
        read(&mut chip, true, None).unwrap_or_else(|e| panic!("DH group {id}: {e}"));
    }
}

#[test]
fn a_clone_without_the_chip_key_fails_chip_authentication() {
    let ca = ChipAuthenticationInfo {
        protocol: CaProtocol {
            agreement: KeyAgreement::Ecdh,
            suite: CipherSuite::Aes128,
        },
        version: 2,
        key_id: None,
    };
    let mut genuine = chip(Group::curve(CurveId::BrainpoolP256r1), ca.clone(), None, 1);
    // The clone copies DG14 (the public key) but has another private key.
    let mut clone = chip(Group::curve(CurveId::BrainpoolP256r1), ca, None, 2);
    clone.dg14 = genuine.dg14.clone();
    assert!(read(&mut genuine, false, None).is_ok());
    let err = read(&mut clone, false, None).unwrap_err();
    assert!(
        matches!(err, Error::AuthenticationFailed(_) | Error::BadMac),
        "{err:?}"
    );
}
