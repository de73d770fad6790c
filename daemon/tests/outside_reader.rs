//! Every simulator profile read by a reader nobody here wrote: dmrtd (an independent
//! Rust eMRTD reader), in process, through its `Transceiver` trait straight into the
//! simulated card. It opens the card (BAC where the card offers it, else PACE with the
//! CAN), then reads EF.COM, EF.SOD and every data group the card lets it read, and gets
//! the simulator's files byte for byte. dmrtd reads by short file identifier only: on a
//! card that refuses that (`vn-cccd-bac`, `sfi = false`) it must get the card's 6A86 as
//! a protected answer, again and again, with its secure-messaging session in step.
//! dmrtd implements PACE with generic mapping only: the PACE-CAM cards (`vn-cccd-cam`,
//! `attack-cam-wrong-proof`, no BAC) it cannot open; the test checks that it reads their
//! EF.CardAccess (DER, in plain) and refuses the CAM protocol by name, nothing else.

use std::collections::BTreeMap;

use apdu::emulator::FileAccess;
use apdu::read_binary::ICAO_AID;
use apdu::{Card, Command};
use cancuoc::lds::{DataGroup, LdsFile};
use cancuoc::sim::SimCard;
use cancuoc::sim::fault::FaultPlan;
use cancuoc::sim::link::LinkModel;
use cancuoc::sim::profile::{self, LoadOptions, Profile};

/// dmrtd's transport: raw APDUs into the simulated card.
struct InProcess(SimCard);

impl dmrtd::com::Transceiver for InProcess {
    fn transceive(&mut self, apdu: &[u8]) -> Result<Vec<u8>, dmrtd::com::TransceiveError> {
        let command =
            Command::decode(apdu).map_err(|e| dmrtd::com::TransceiveError::new(e.to_string()))?;
        self.0
            .transmit(&command)
            .map(|r| r.encode())
            .map_err(|e| dmrtd::com::TransceiveError::new(e.to_string()))
    }
}

fn date(yymmdd: &str, century: i32) -> chrono::NaiveDate {
    let n = |r: std::ops::Range<usize>| yymmdd[r].parse::<u32>().unwrap();
    chrono::NaiveDate::from_ymd_opt(century + n(0..2) as i32, n(2..4), n(4..6)).unwrap()
}

/// Birth before 2000 for every profile's holder here, expiry after.
fn bac_key(p: &Profile) -> dmrtd::proto::dba_key::DBAKey {
    dmrtd::proto::dba_key::DBAKey::new(
        &p.printed.document_number,
        date(&p.printed.birth, 1900),
        date(&p.printed.expiry, 2000),
        false,
    )
    .unwrap()
}

/// The data groups the card serves to a reader without terminal authentication, by SFI.
fn readable(p: &Profile) -> BTreeMap<u8, Vec<u8>> {
    let files = &p.image.applications[ICAO_AID.as_slice()];
    DataGroup::all()
        .filter_map(|dg| {
            let file = files.get(&dg.fid())?;
            let hidden = p.image.attack.hidden_files.contains(&dg.fid());
            (file.access == FileAccess::SecureMessaging && !hidden)
                .then(|| (dg.sfi(), file.data.clone()))
        })
        .collect()
}

/// Opens `p` with dmrtd: how, or why not. BAC where the card offers it, unless
/// `prefer_pace`.
fn open(
    p: &Profile,
    passport: &mut dmrtd::passport::Passport<InProcess>,
    prefer_pace: bool,
) -> Result<String, String> {
    if p.image.bac.is_some() && !prefer_pace {
        passport
            .start_session(bac_key(p))
            .map_err(|e| format!("BAC: {e:?}"))?;
        return Ok("BAC".into());
    }
    // EF.CardAccess by SFI: ID cards may answer SELECT MF with 6D00.
    let card_access = passport
        .api_mut()
        .read_file_by_sfi(0x1C)
        .map_err(|e| format!("EF.CardAccess: {e:?}"))?;
    let card_access = dmrtd::lds::efcard_access::EfCardAccess::from_bytes(card_access)
        .map_err(|e| format!("EF.CardAccess: {e:?}"))?;
    let can = dmrtd::proto::can_key::CanKey::new(&p.printed.can).map_err(|e| format!("{e:?}"))?;
    passport
        .start_session_pace(can, &card_access)
        .map_err(|e| format!("PACE: {e:?}"))?;
    Ok("PACE".into())
}

#[test]
fn dmrtd_reads_every_profile() {
    use dmrtd::lds::ef::ElementaryFile;
    let mut read = Vec::new();
    for &name in profile::BUILTIN {
        if name == "bsi-reference" && !profile::shared_dir().join("data/bsi-tr03105-5").is_dir() {
            eprintln!("skipping bsi-reference: the shared reference data is missing");
            continue;
        }
        let p = profile::load(name, &LoadOptions::default()).unwrap();
        let card = SimCard::new(&p, LinkModel::instant(), FaultPlan::default());
        let mut passport = dmrtd::passport::Passport::new(InProcess(card));
        let cam = p.image.pace.as_ref().is_some_and(|pace| {
            pace.infos
                .iter()
                .any(|i| i.protocol.mapping == apdu::security_infos::Mapping::ChipAuthentication)
        });
        if cam && p.image.bac.is_none() {
            let refused = open(&p, &mut passport, false).expect_err("dmrtd has no PACE-CAM");
            assert!(
                refused.contains("Protocol is not valid: 0.4.0.127.0.7.2.2.4.6"),
                "{name}: {refused}"
            );
            read.push(format!("{name} (PACE-CAM: not in dmrtd)"));
            continue;
        }
        let how = open(&p, &mut passport, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        if p.image.sfi_unsupported {
            for attempt in 0..3 {
                let refused = passport.read_ef_com().err();
                let sw = refused.and_then(|e| e.code).map(|sw| (sw.sw1, sw.sw2));
                assert_eq!(sw, Some((0x6A, 0x86)), "{name}: SFI refusal {attempt}");
            }
            read.push(format!(
                "{name} ({how}; reads by SFI refused as configured)"
            ));
            continue;
        }
        let com = passport
            .read_ef_com()
            .unwrap_or_else(|e| panic!("{name}: EF.COM: {e:?}"));
        assert_eq!(
            com.to_bytes(),
            p.file(LdsFile::Com).unwrap(),
            "{name}: EF.COM"
        );
        let sod = passport
            .read_ef_sod()
            .unwrap_or_else(|e| panic!("{name}: EF.SOD: {e:?}"));
        assert_eq!(
            sod.to_bytes(),
            p.file(LdsFile::Sod).unwrap(),
            "{name}: EF.SOD"
        );
        let groups = readable(&p);
        assert!(groups.contains_key(&1), "{name}: DG1 readable");
        for (sfi, served) in &groups {
            let got = passport
                .api_mut()
                .read_file_by_sfi(*sfi)
                .unwrap_or_else(|e| panic!("{name}: DG{sfi}: {e:?}"));
            assert_eq!(&got, served, "{name}: DG{sfi}");
        }
        read.push(format!("{name} ({how}, {} data groups)", groups.len()));

        // A card with PACE (generic mapping) and BAC: PACE too.
        if p.image.pace.is_some() && p.image.bac.is_some() && !p.printed.can.is_empty() {
            let card = SimCard::new(&p, LinkModel::instant(), FaultPlan::default());
            let mut passport = dmrtd::passport::Passport::new(InProcess(card));
            let how = open(&p, &mut passport, true).unwrap_or_else(|e| panic!("{name}: {e}"));
            let dg1 = passport
                .read_ef_dg1()
                .unwrap_or_else(|e| panic!("{name}: DG1 after PACE: {e:?}"));
            assert_eq!(dg1.to_bytes(), groups[&1], "{name}: DG1 after PACE");
            for (sfi, served) in &groups {
                let got = passport
                    .api_mut()
                    .read_file_by_sfi(*sfi)
                    .unwrap_or_else(|e| panic!("{name}: DG{sfi} after PACE: {e:?}"));
                assert_eq!(&got, served, "{name}: DG{sfi} after PACE");
            }
            read.push(format!("{name} ({how})"));
        }
    }
    eprintln!("dmrtd read: {}", read.join(", "));
}
