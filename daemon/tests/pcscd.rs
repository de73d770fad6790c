//! `cancuoc sim` behind a real pcscd: what any PC/SC program sees.
//!
//! These tests need pcscd with vsmartcard's vpcd driver; `make test` runs them under
//! `scripts/with-pcscd.sh`, which provides it and sets `CANCUOC_PCSCD=1`. Run alone,
//! without that variable, each test is recorded as skipped (common/skip.rs). They take the one
//! vpcd slot in turn (a lock), each with its own `cancuoc sim` process, stopped at the
//! end of the test whatever happens.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::time::{Duration, Instant};

use apdu::access::{self, AccessKey};
use apdu::pace::Can;
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::rng::SystemRng;
use cancuoc::lds::dg1::Dg1;
use cancuoc::lds::{DataGroup, LdsFile};
use cancuoc::pki::time::Time;
use cancuoc::sim::link::air_time;
use cancuoc::sim::profile::{self, LoadOptions};
use cancuoc::trust::passive::{self, PassiveStatus};
use cancuoc::trust::store::TrustStore;

mod common;

use common::{
    Sim, context, testbed, wait_for_card, wait_for_reinsertion, wait_for_removal, wait_for_slot,
};

/// The card behind pcscd as an `apdu::Card`, counting what crosses the link.
struct PcscCard {
    card: pcsc::Card,
    extended: bool,
    apdus: u64,
    bytes: u64,
}

impl PcscCard {
    fn connect(ctx: &pcsc::Context, reader: &CString, extended: bool) -> PcscCard {
        assert!(wait_for_card(ctx, reader, true), "no card in {reader:?}");
        let card = ctx
            .connect(reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .expect("connect");
        PcscCard {
            card,
            extended,
            apdus: 0,
            bytes: 0,
        }
    }

    fn raw(&mut self, apdu: &[u8]) -> Result<Vec<u8>, pcsc::Error> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        let r = self.card.transmit(apdu, &mut buf)?.to_vec();
        self.apdus += 1;
        self.bytes += (apdu.len() + r.len()) as u64;
        Ok(r)
    }
}

impl apdu::Card for PcscCard {
    fn transmit(&mut self, command: &apdu::Command) -> Result<apdu::Response, apdu::Error> {
        let bytes = command.encode()?;
        let r = self.raw(&bytes).map_err(|e| match e {
            pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::NoSmartcard => {
                apdu::Error::CardRemoved
            }
            other => apdu::Error::Transport(other.to_string()),
        })?;
        apdu::Response::decode(&r)
    }

    fn extended_length(&self) -> bool {
        self.extended
    }
}

/// What a full read of a CCCD gives: the files read and how long it took.
struct FullRead {
    files: BTreeMap<u8, Vec<u8>>,
    sod: Vec<u8>,
    elapsed: Duration,
}

/// Opens the card with PACE and the CAN, reads EF.COM, EF.SOD and every data group it
/// may read (DG3 needs terminal authentication and is skipped).
fn read_vn_cccd(card: &mut PcscCard, can: &str) -> Result<FullRead, apdu::Error> {
    let started = Instant::now();
    let can = Can::new(can)?;
    let mut channel = access::open(card, &AccessKey::Can(can), &mut SystemRng)?.channel;
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    let mut reader = FileReader::default();
    reader.read_file(&mut channel, LdsFile::Com.fid())?;
    let sod = reader.read_file(&mut channel, LdsFile::Sod.fid())?;
    let mut files = BTreeMap::new();
    for n in [1u8, 2, 13, 14, 15] {
        let dg = DataGroup::new(n).unwrap();
        files.insert(n, reader.read_file(&mut channel, dg.fid())?);
    }
    Ok(FullRead {
        files,
        sod,
        elapsed: started.elapsed(),
    })
}

#[test]
fn pcsc_sees_the_card_with_its_atr_and_uid() {
    let Some((_slot, vpcd, reader)) = testbed("pcsc_sees_the_card") else {
        return;
    };
    let profile = profile::vn_cccd().unwrap();
    let sim = Sim::start(&vpcd, &["--profile", "vn-cccd", "--bitrate", "0"]);
    assert_eq!(sim.start["profile"], "vn-cccd");
    assert_eq!(sim.start["access"]["can"], "123456");
    assert_eq!(sim.start["access"]["id_number"], "001189123456");
    assert_eq!(sim.start["access"]["document_number"], "189123456");
    assert!(
        sim.start["csca"]
            .as_str()
            .unwrap()
            .ends_with("fixtures/pki/csca.pem")
    );
    let ctx = context();
    let mut card = PcscCard::connect(&ctx, &reader, false);
    let status = card.card.status2_owned().unwrap();
    assert_eq!(status.atr(), profile.image.atr.as_slice());
    assert_eq!(&status.atr()[..4], &[0x3B, 0x85, 0x80, 0x01]);
    let select = [
        0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01,
    ];
    assert_eq!(card.raw(&select).unwrap(), [0x90, 0x00]);
    let uid = card.raw(&[0xFF, 0xCA, 0x00, 0x00, 0x00]).unwrap();
    assert_eq!(uid, [profile.uid.as_slice(), &[0x90, 0x00]].concat());
    assert_eq!(
        card.raw(&[0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00])
            .unwrap(),
        [0x6D, 0x00]
    );
    drop(card);
    let log = sim.stop();
    assert!(log.contains("APDUs"), "counters on exit: {log}");
}

#[test]
fn a_full_read_through_pcscd_passes_passive_authentication() {
    let Some((_slot, vpcd, reader)) = testbed("a_full_read_through_pcscd") else {
        return;
    };
    let sim = Sim::start(&vpcd, &["--profile", "vn-cccd", "--bitrate", "0"]);
    let ctx = context();
    let mut card = PcscCard::connect(&ctx, &reader, true);
    let read = read_vn_cccd(&mut card, "123456").unwrap();
    let dg1 = Dg1::parse(&read.files[&1]).unwrap();
    assert_eq!(
        dg1.lines().concat(),
        sim.start["access"]["mrz"].as_str().unwrap()
    );
    assert_eq!(dg1.fields.surname, "DANG");
    let mut store = TrustStore::new();
    store
        .load_path(std::path::Path::new(sim.start["csca"].as_str().unwrap()))
        .unwrap();
    let at = Time::from_ymd_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let result = passive::verify(
        &read.sod,
        &read.files,
        &store,
        at,
        Some(&dg1.fields.issuing_state),
    );
    assert_eq!(result.status, PassiveStatus::Valid, "{:?}", result.problems);
    drop(card);
    sim.stop();
}

#[test]
fn the_link_model_shows_on_the_clock() {
    let Some((_slot, vpcd, reader)) = testbed("the_link_model_shows_on_the_clock") else {
        return;
    };
    let ctx = context();
    let run = |bit_rate: u32| {
        let rate = (bit_rate / 1000).to_string();
        let args = [
            "--profile",
            "vn-cccd",
            "--bitrate",
            &rate,
            "--latency-ms",
            "0",
            "--crypto-ms",
            "0",
        ];
        assert!(wait_for_card(&ctx, &reader, false), "slot not empty");
        let sim = Sim::start(&vpcd, &args);
        // Short APDUs: more of them, so the per-APDU framing counts too.
        let mut card = PcscCard::connect(&ctx, &reader, false);
        let read = read_vn_cccd(&mut card, "123456").unwrap();
        let (apdus, bytes) = (card.apdus, card.bytes);
        drop(card);
        let log = sim.stop();
        assert!(
            log.contains(&format!("{apdus} APDUs")),
            "sim counted other APDUs: {log}"
        );
        (read.elapsed, air_time(bytes, bit_rate), bytes)
    };
    let (slow, slow_air, bytes) = run(106_000);
    let (fast, fast_air, _) = run(848_000);
    eprintln!(
        "full read, {bytes} bytes: {:.3} s at 106 kbit/s (air time {:.3} s), {:.3} s at 848 kbit/s (air time {:.3} s)",
        slow.as_secs_f64(),
        slow_air.as_secs_f64(),
        fast.as_secs_f64(),
        fast_air.as_secs_f64()
    );
    assert!(
        bytes > 17_000,
        "a full read moves the face image: {bytes} bytes"
    );
    assert!(slow >= slow_air, "{slow:?} < air time {slow_air:?}");
    assert!(fast >= fast_air, "{fast:?} < air time {fast_air:?}");
    // The model charges at least the air time; what 848 kbit/s saves is at least the
    // difference in air time.
    assert!(
        slow.saturating_sub(fast) >= slow_air - fast_air,
        "848 kbit/s saved {:?}, less than the {:?} of air time",
        slow.saturating_sub(fast),
        slow_air - fast_air
    );
}

#[test]
fn removal_at_apdu_n_is_reported_by_pcsc_and_the_card_comes_back() {
    let Some((_slot, vpcd, reader)) = testbed("removal_at_apdu_n") else {
        return;
    };
    let sim = Sim::start(
        &vpcd,
        &[
            "--profile",
            "passport",
            "--bitrate",
            "0",
            "--remove-at",
            "3",
        ],
    );
    let ctx = context();
    let inserted = wait_for_slot(&ctx, &reader, true, None).expect("the card appears");
    let mut card = PcscCard::connect(&ctx, &reader, false);
    let select = [
        0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01,
    ];
    assert!(card.raw(&select).is_ok());
    assert!(card.raw(&select).is_ok());
    // vpcd answers the APDU during which the card left with an empty response (its
    // way of reporting a vanished card), then the slot is empty and every call on the
    // old handle fails with "card removed".
    let third = card.raw(&select);
    assert!(
        matches!(
            &third,
            Ok(r) if r.is_empty()
        ) || matches!(
            third,
            Err(pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::NoSmartcard)
        ),
        "{third:?}"
    );
    assert!(wait_for_card(&ctx, &reader, false), "slot still occupied");
    let fourth = card.raw(&select);
    assert!(
        matches!(
            fourth,
            Err(pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::NoSmartcard)
        ),
        "{fourth:?}"
    );
    // Dropping the handle disconnects with a reset from the gone card, which empties the
    // slot before pcscd's polling thread has registered the removal: the card goes back
    // only once it has (see common::wait_for_removal).
    drop(card);
    let removed = wait_for_removal(&ctx, &reader, inserted).expect("pcscd registers the removal");
    // SIGUSR2 inserts the card again: a card-insert event.
    sim.signal("USR2");
    assert!(
        wait_for_reinsertion(&ctx, &reader, removed).is_some(),
        "card not back"
    );
    let mut card = PcscCard::connect(&ctx, &reader, false);
    assert_eq!(card.raw(&select).unwrap(), [0x90, 0x00]);
    drop(card);
    // SIGUSR1 removes it.
    sim.signal("USR1");
    assert!(wait_for_card(&ctx, &reader, false), "card not removed");
    sim.stop();
}

/// How many APDUs the in-process card takes until PACE has opened the channel.
fn apdus_to_open_vn_cccd() -> u64 {
    use cancuoc::sim::SimCard;
    use cancuoc::sim::fault::FaultPlan;
    use cancuoc::sim::link::LinkModel;
    let p = profile::vn_cccd().unwrap();
    let mut card = SimCard::new(&p, LinkModel::instant(), FaultPlan::default());
    let can = Can::new(&p.printed.can).unwrap();
    drop(access::open(&mut card, &AccessKey::Can(can), &mut SystemRng).unwrap());
    card.counters().apdus
}

#[test]
fn a_corrupted_mac_is_a_secure_messaging_error_for_the_reader() {
    let Some((_slot, vpcd, reader)) = testbed("a_corrupted_mac") else {
        return;
    };
    // The first protected answer: the SELECT after PACE.
    let n = (apdus_to_open_vn_cccd() + 1).to_string();
    let sim = Sim::start(
        &vpcd,
        &[
            "--profile",
            "vn-cccd",
            "--bitrate",
            "0",
            "--corrupt-mac-at",
            &n,
        ],
    );
    let ctx = context();
    let mut card = PcscCard::connect(&ctx, &reader, true);
    let err = read_vn_cccd(&mut card, "123456").err();
    assert!(matches!(err, Some(apdu::Error::BadMac)), "{err:?}");
    drop(card);
    sim.stop();
}

#[test]
fn wrong_sw_and_stall_reach_the_reader() {
    let Some((_slot, vpcd, reader)) = testbed("wrong_sw_and_stall") else {
        return;
    };
    let args = [
        "--profile",
        "passport",
        "--bitrate",
        "0",
        "--wrong-sw-at",
        "1:6A82",
        "--stall-at",
        "2:1.5",
    ];
    let sim = Sim::start(&vpcd, &args);
    let ctx = context();
    let mut card = PcscCard::connect(&ctx, &reader, false);
    let select = [
        0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01,
    ];
    assert_eq!(card.raw(&select).unwrap(), [0x6A, 0x82]);
    let started = Instant::now();
    assert_eq!(card.raw(&select).unwrap(), [0x90, 0x00]);
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    drop(card);
    sim.stop();
}

// ---- An independent reader: dmrtd ------------------------------------------------

/// dmrtd's transport over the PC/SC card.
struct DmrtdPcsc(pcsc::Card);

impl dmrtd::com::Transceiver for DmrtdPcsc {
    fn transceive(&mut self, apdu: &[u8]) -> Result<Vec<u8>, dmrtd::com::TransceiveError> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        self.0
            .transmit(apdu, &mut buf)
            .map(<[u8]>::to_vec)
            .map_err(|e| dmrtd::com::TransceiveError::new(e.to_string()))
    }
}

fn date(yymmdd: &str, century: i32) -> chrono::NaiveDate {
    let n = |r: std::ops::Range<usize>| yymmdd[r].parse::<u32>().unwrap();
    chrono::NaiveDate::from_ymd_opt(century + n(0..2) as i32, n(2..4), n(4..6)).unwrap()
}

fn dmrtd_passport(ctx: &pcsc::Context, reader: &CString) -> dmrtd::passport::Passport<DmrtdPcsc> {
    assert!(wait_for_card(ctx, reader, true));
    let card = ctx
        .connect(reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .unwrap();
    dmrtd::passport::Passport::new(DmrtdPcsc(card))
}

fn served(profile_name: &str, file: LdsFile) -> Vec<u8> {
    profile::load(profile_name, &LoadOptions::default())
        .unwrap()
        .file(file)
        .unwrap()
        .to_vec()
}

#[test]
fn dmrtd_reads_the_passport_and_the_cccd_with_bac() {
    use dmrtd::lds::ef::ElementaryFile;
    let Some((_slot, vpcd, reader)) = testbed("dmrtd_bac") else {
        return;
    };
    let ctx = context();
    for (name, birth_century, expiry_century) in [("passport", 1900, 2000), ("vn-cccd", 1900, 2000)]
    {
        assert!(wait_for_card(&ctx, &reader, false), "slot not empty");
        let sim = Sim::start(&vpcd, &["--profile", name, "--bitrate", "0"]);
        let a = &sim.start["access"];
        let key = dmrtd::proto::dba_key::DBAKey::new(
            a["document_number"].as_str().unwrap(),
            date(a["birth"].as_str().unwrap(), birth_century),
            date(a["expiry"].as_str().unwrap(), expiry_century),
            false,
        )
        .unwrap();
        let mut passport = dmrtd_passport(&ctx, &reader);
        passport
            .start_session(key)
            .unwrap_or_else(|e| panic!("{name}: BAC: {e:?}"));
        let dg1 = passport
            .read_ef_dg1()
            .unwrap_or_else(|e| panic!("{name}: DG1: {e:?}"));
        let mrz = std::str::from_utf8(dg1.mrz().to_bytes()).unwrap();
        assert_eq!(mrz, a["mrz"].as_str().unwrap(), "{name}");
        assert_eq!(
            dg1.to_bytes(),
            served(name, LdsFile::DataGroup(DataGroup::DG1))
        );
        let sod = passport
            .read_ef_sod()
            .unwrap_or_else(|e| panic!("{name}: SOD: {e:?}"));
        assert_eq!(sod.to_bytes(), served(name, LdsFile::Sod), "{name}");
        drop(passport);
        sim.stop();
    }
}

#[test]
fn dmrtd_opens_the_cccd_with_pace_on_brainpool_p256() {
    use dmrtd::lds::ef::ElementaryFile;
    let Some((_slot, vpcd, reader)) = testbed("dmrtd_pace") else {
        return;
    };
    let ctx = context();
    let sim = Sim::start(&vpcd, &["--profile", "vn-cccd", "--bitrate", "0"]);
    let mut passport = dmrtd_passport(&ctx, &reader);
    // dmrtd selects the MF before reading EF.CardAccess; the CCCD answers SELECT MF with
    // 6D00, as real ones do. The MF is current after reset anyway: read it by SFI.
    assert!(passport.read_ef_card_access().is_err());
    let card_access = passport
        .api_mut()
        .read_file_by_sfi(0x1C)
        .expect("EF.CardAccess by SFI");
    let card_access = dmrtd::lds::efcard_access::EfCardAccess::from_bytes(card_access).unwrap();
    let can =
        dmrtd::proto::can_key::CanKey::new(sim.start["access"]["can"].as_str().unwrap()).unwrap();
    passport
        .start_session_pace(can, &card_access)
        .unwrap_or_else(|e| panic!("PACE: {e:?}"));
    let dg1 = passport.read_ef_dg1().unwrap();
    let mrz = std::str::from_utf8(dg1.mrz().to_bytes()).unwrap();
    assert_eq!(mrz, sim.start["access"]["mrz"].as_str().unwrap());
    let sod = passport.read_ef_sod().unwrap();
    assert_eq!(sod.to_bytes(), served("vn-cccd", LdsFile::Sod));
    drop(passport);
    sim.stop();
}
