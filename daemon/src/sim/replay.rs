//! A card served from a dump (`cancuoc sim --from-dump DIR`): the files a real chip
//! gave, opened with the access key the user gives (a dump never holds it).
//!
//! A dump holds what the chip showed, never its private keys, so a replay cannot prove
//! them: the replayed chip offers no chip authentication and no active authentication
//! (the commands are refused), and answers PACE-CAM with a key of its own, made up at
//! start, so the CAM proof does not match the key EF.CardSecurity signs. Passive
//! authentication comes out exactly as on the card; the verdict is never `genuine`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use apdu::access::AccessKey;
use apdu::emulator::{CardImage, ChipAttack, ChipLimits, EmulatedFile, FileAccess, LeRefusal};
use apdu::key_agreement::Group;
use apdu::pace::{ChipPaceConfig, ChipStaticKey, ParameterIdRule};
use apdu::read_binary::ICAO_AID;
use apdu::security_infos::Mapping;
use apdu::security_infos::{SecurityInfo, SecurityInfos};

use crate::dump::Dump;
use crate::lds::{DataGroup, LdsFile};
use crate::sim::profile::{EF_CARD_SECURITY, EF_CARD_SECURITY_SFI, PrintedData, Profile};

/// The UID the replayed card reports (not the card's own: pcscd never needs it).
const UID: [u8; 4] = [0x08, 0x52, 0x45, 0x50];

/// The ATR served when the dump has none (a reader driven through libnfc).
const DEFAULT_ATR: [u8; 5] = [0x3B, 0x80, 0x80, 0x01, 0x01];

/// The card of `dump` (read from `source`), opened with `keys`.
pub fn profile(
    dump: &Dump,
    source: PathBuf,
    keys: &[AccessKey],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<Profile, String> {
    let can = keys.iter().find_map(|k| match k {
        AccessKey::Can(c) => Some(c.clone()),
        AccessKey::Mrz(_) => None,
    });
    let mrz = keys.iter().find_map(|k| match k {
        AccessKey::Mrz(m) => Some(m.clone()),
        AccessKey::Can(_) => None,
    });
    if can.is_none() && mrz.is_none() {
        return Err("give the card's CAN or MRZ: a dump does not hold the access key".into());
    }

    let mut files = BTreeMap::new();
    for (name, data) in &dump.files {
        let file = match name.as_str() {
            "EF.COM" => LdsFile::Com,
            "EF.SOD" => LdsFile::Sod,
            _ => match DataGroup::all().find(|dg| dg.name() == name) {
                Some(dg) => LdsFile::DataGroup(dg),
                None => continue,
            },
        };
        files.insert(
            file.fid(),
            EmulatedFile {
                data: data.clone(),
                access: FileAccess::SecureMessaging,
                sfi: Some(file.sfi()),
            },
        );
    }
    let mut master_files = BTreeMap::new();
    if let Some(data) = dump.file("EF.CardSecurity") {
        master_files.insert(
            EF_CARD_SECURITY,
            EmulatedFile {
                data: data.to_vec(),
                access: FileAccess::SecureMessaging,
                sfi: Some(EF_CARD_SECURITY_SFI),
            },
        );
    }

    // PACE as EF.CardAccess offers it.
    let mut pace = None;
    if let Some(card_access) = dump.file("EF.CardAccess") {
        master_files.insert(
            LdsFile::CardAccess.fid(),
            EmulatedFile {
                data: card_access.to_vec(),
                access: FileAccess::Always,
                sfi: Some(LdsFile::CardAccess.sfi()),
            },
        );
        let infos: Vec<_> = SecurityInfos::parse(card_access)
            .map(|s| {
                s.infos
                    .into_iter()
                    .filter_map(|i| match i {
                        SecurityInfo::Pace(p) => Some(p),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        // PACE-CAM with a key of the replay's own: the channel opens, the proof fails.
        let static_key = match infos
            .iter()
            .find(|i| i.protocol.mapping == Mapping::ChipAuthentication)
        {
            Some(info) => {
                let group = Group::standardized(
                    info.protocol.agreement,
                    info.parameter_id.unwrap_or_default(),
                )
                .map_err(|e| format!("EF.CardAccess: PACE-CAM: {e}"))?;
                let (private, public) = group
                    .generate(rng)
                    .map_err(|e| format!("EF.CardAccess: PACE-CAM: {e}"))?;
                Some(ChipStaticKey {
                    group,
                    private,
                    public,
                })
            }
            None => None,
        };
        if !infos.is_empty() {
            pace = Some(ChipPaceConfig {
                infos,
                can: can.clone(),
                mrz: mrz.clone(),
                static_key,
                parameter_id_rule: ParameterIdRule::Optional,
            });
        }
    }

    let atr = dump
        .manifest
        .atr_bytes()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| DEFAULT_ATR.to_vec());
    let extended = crate::transport::atr::Atr::parse(&atr)
        .ok()
        .and_then(|a| a.extended_length_announced())
        .unwrap_or(false);
    let limits = ChipLimits {
        extended_length: extended,
        max_le: if extended {
            apdu::command::MAX_EXTENDED_NE
        } else {
            apdu::command::MAX_SHORT_NE
        },
        le_refusal: LeRefusal::WrongLength,
    };
    let image = CardImage {
        atr,
        master_files,
        applications: BTreeMap::from([(ICAO_AID.to_vec(), files)]),
        bac: mrz,
        pace,
        chip_authentication: None,
        active_authentication: None,
        limits,
        select_mf_unsupported: false,
        sfi_unsupported: false,
        attack: ChipAttack::default(),
    };
    Ok(Profile {
        name: "dump".into(),
        description: format!(
            "replay of a read of {} ({} files): never genuine, the chip's keys are not in a dump",
            dump.manifest.time,
            dump.files.len()
        ),
        image,
        printed: PrintedData::default(),
        uid: UID.to_vec(),
        csca: None,
        chip_authentication: None,
        active_authentication: None,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::result::Verdict;
    use crate::session::{self, ReadPolicy, ReadRequest};
    use crate::sim::profile::{self, LoadOptions};
    use crate::trust::TrustStore;
    use apdu::emulator::CardEmulator;
    use apdu::pace::Can;
    use apdu::rng::SystemRng;

    fn read(image: &CardImage, key: &AccessKey, trust: &TrustStore) -> session::result::ReadResult {
        let request = ReadRequest {
            access: key.clone(),
            face: None,
            raw: true,
            skip: Default::default(),
            policy: ReadPolicy::default(),
        };
        let mut chip = CardEmulator::new(image.clone());
        session::read_card(&mut chip, &request, trust, &mut SystemRng, &mut |_| {})
            .expect("the read ends with a result")
            .0
    }

    /// PACE-CAM: the replay opens with the CAN, the CAM proof fails, the identity and
    /// passive authentication are the card's.
    #[test]
    fn a_pace_cam_card_replays_with_a_failing_proof() {
        let card = profile::load("vn-cccd-cam", &LoadOptions::default()).unwrap();
        let mut trust = TrustStore::new();
        trust.load_path(card.csca.as_ref().unwrap()).unwrap();
        let key = AccessKey::Can(Can::new(&card.printed.can).unwrap());
        let original = read(&card.image, &key, &trust);
        assert_eq!(original.verification.verdict, Verdict::Genuine);
        let files = original
            .raw
            .as_ref()
            .unwrap()
            .iter()
            .map(|(name, data)| {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap();
                (name.clone(), bytes)
            })
            .collect();
        let dump = Dump::of_read(files, "test", &card.image.atr, "PACE", 1);
        assert!(dump.file("EF.CardSecurity").is_some());

        let replay = profile(
            &dump,
            PathBuf::from("dump"),
            std::slice::from_ref(&key),
            &mut SystemRng,
        )
        .unwrap();
        assert!(replay.image.chip_authentication.is_none());
        assert!(replay.image.active_authentication.is_none());
        let replayed = read(&replay.image, &key, &trust);
        assert_ne!(replayed.verification.verdict, Verdict::Genuine);
        assert_eq!(
            serde_json::to_value(&replayed.verification.passive).unwrap(),
            serde_json::to_value(&original.verification.passive).unwrap()
        );
        assert_eq!(
            serde_json::to_value(&replayed.vn).unwrap(),
            serde_json::to_value(&original.vn).unwrap()
        );
        assert_eq!(replayed.raw, original.raw);
    }

    #[test]
    fn a_replay_needs_the_access_key() {
        let card = profile::vn_cccd().unwrap();
        let mut files = BTreeMap::new();
        files.insert(
            "EF.SOD".to_owned(),
            card.file(LdsFile::Sod).unwrap().to_vec(),
        );
        let dump = Dump::of_read(files, "test", &[], "PACE", 1);
        assert!(profile(&dump, PathBuf::new(), &[], &mut SystemRng).is_err());
    }
}
