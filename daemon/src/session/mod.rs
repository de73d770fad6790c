//! The reading pipeline: one read of one card, as named steps that follow each other.
//!
//! EF.CardAccess → PACE (BAC fallback) → select the application → EF.COM → EF.SOD → the
//! wanted data groups in the order the SOD lists them → chip authentication (or active
//! authentication when there is none) → passive authentication → result.
//!
//! Each step reports [`Progress`]. No file is read twice; a data group the caller did not
//! ask for is never read. Chip authenticity counts only when the key it used sits in a
//! data group that passive authentication found `ok` under a `valid` SOD.

pub mod access;
pub mod result;

use std::collections::{BTreeMap, BTreeSet};

use apdu::access::{self as chip_access, AccessKey};
use apdu::active_auth::{self, AaPublicKey};
use apdu::chip_auth::{self, ChipAuthPlan};
use apdu::read_binary::{self, FileReader, ICAO_AID};
use apdu::security_infos::SecurityInfos;
use apdu::{Card, StatusWord};
use rand_core::CryptoRng;

use crate::lds::dg1::Dg1;
use crate::lds::dg2::{Dg2, ImageLimits, OutputFormat};
use crate::lds::dg11::Dg11;
use crate::lds::dg13::VnIdentity;
use crate::lds::ef_com::EfCom;
use crate::lds::sod::Sod;
use crate::lds::{DataGroup, LdsFile};
use crate::trust::passive::DataGroupStatus;
use crate::trust::{PassiveStatus, Time, TrustStore};
use result::{ChipResult, ReadResult, Verdict, Verification};

/// A step of the read, for progress reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Reading EF.CardAccess and running PACE or BAC.
    Access,
    /// Reading EF.COM.
    EfCom,
    /// Reading EF.SOD.
    EfSod,
    /// Reading a data group.
    DataGroup(u8),
    /// Chip authentication.
    ChipAuthentication,
    /// Active authentication.
    ActiveAuthentication,
    /// Passive authentication.
    PassiveAuthentication,
    /// Done.
    Done,
}

impl Step {
    /// A short name: `access`, `DG2`, `passive-authentication`.
    pub fn name(self) -> String {
        match self {
            Step::Access => "access".into(),
            Step::EfCom => "EF.COM".into(),
            Step::EfSod => "EF.SOD".into(),
            Step::DataGroup(n) => format!("DG{n}"),
            Step::ChipAuthentication => "chip-authentication".into(),
            Step::ActiveAuthentication => "active-authentication".into(),
            Step::PassiveAuthentication => "passive-authentication".into(),
            Step::Done => "done".into(),
        }
    }
}

/// Where the read is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// The step that starts.
    pub step: Step,
    /// File bytes read so far.
    pub bytes: usize,
}

/// What the caller wants from the card.
#[derive(Clone, Debug)]
pub struct ReadRequest {
    /// The access key.
    pub access: AccessKey,
    /// The face image, and in which format; `None` reads no DG2.
    pub face: Option<OutputFormat>,
    /// Return the files as read.
    pub raw: bool,
    /// Data groups never to read (a client not allowed them); DG1 is always read.
    pub skip: BTreeSet<u8>,
}

/// Why a read failed before a result could be given.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The access key was refused.
    #[error("the card refused the access key (wrong CAN or MRZ data)")]
    WrongAccessKey,
    /// The card went away.
    #[error("the card was removed during the read")]
    CardRemoved,
    /// The card answered outside the protocols.
    #[error("card: {0}")]
    Card(apdu::Error),
    /// A mandatory file did not decode.
    #[error("{file}: {error}")]
    File {
        /// Which file.
        file: &'static str,
        /// What was wrong.
        error: String,
    },
}

impl From<apdu::Error> for ReadError {
    fn from(e: apdu::Error) -> ReadError {
        match e {
            apdu::Error::WrongAccessKey => ReadError::WrongAccessKey,
            apdu::Error::CardRemoved => ReadError::CardRemoved,
            e => ReadError::Card(e),
        }
    }
}

/// The counters of a read, for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// READ BINARY commands.
    pub read_binary: usize,
    /// File bytes read.
    pub bytes: usize,
}

/// Reads and verifies the card behind `card`.
pub fn read_card<C: Card>(
    card: &mut C,
    request: &ReadRequest,
    trust: &TrustStore,
    rng: &mut impl CryptoRng,
    progress: &mut dyn FnMut(Progress),
) -> Result<(ReadResult, ReadStats), ReadError> {
    let mut bytes = 0;
    let mut report = |step: Step, bytes: usize| {
        tracing::debug!(step = %step.name(), bytes, "read step");
        progress(Progress { step, bytes });
    };

    // Access.
    report(Step::Access, bytes);
    let chip_access::OpenChip {
        mut channel,
        opened,
        ..
    } = chip_access::open(card, &request.access, rng)?;
    read_binary::select_application(&mut channel, &ICAO_AID)?;
    let mut reader = FileReader::default();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();

    // EF.COM and EF.SOD.
    report(Step::EfCom, bytes);
    let com_bytes =
        reader.read_file_by_sfi(&mut channel, LdsFile::Com.sfi(), LdsFile::Com.fid())?;
    bytes += com_bytes.len();
    let com = EfCom::parse(&com_bytes).map_err(|e| file_error("EF.COM", e))?;
    files.insert("EF.COM".into(), com_bytes);
    report(Step::EfSod, bytes);
    let sod_bytes =
        reader.read_file_by_sfi(&mut channel, LdsFile::Sod.sfi(), LdsFile::Sod.fid())?;
    bytes += sod_bytes.len();
    let sod_order: Vec<u8> = match Sod::from_bytes(&sod_bytes) {
        Ok(sod) => sod.lds.hashes.keys().copied().collect(),
        // Passive authentication will say why; read what EF.COM lists.
        Err(_) => com.data_groups.iter().map(|g| g.number()).collect(),
    };

    // The data groups, in SOD order: those the card lists and the caller may have.
    let wanted = |n: u8| -> bool {
        if request.skip.contains(&n) && n != 1 {
            return false;
        }
        match n {
            1 | 11 | 12 | 13 | 14 | 15 => true,
            2 => request.face.is_some(),
            _ => false,
        }
    };
    let mut groups: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    let listed: BTreeSet<u8> = com.data_groups.iter().map(|g| g.number()).collect();
    for n in sod_order.iter().copied().chain(listed.iter().copied()) {
        if groups.contains_key(&n) || !wanted(n) || !listed.contains(&n) {
            continue;
        }
        let Some(dg) = DataGroup::new(n) else {
            continue;
        };
        report(Step::DataGroup(n), bytes);
        match reader.read_file_by_sfi(&mut channel, dg.sfi(), dg.fid()) {
            Ok(data) => {
                bytes += data.len();
                files.insert(dg.name().into(), data.clone());
                groups.insert(n, data);
            }
            // Needs terminal authentication or is absent: left out, shown as not read.
            Err(apdu::Error::Status(
                StatusWord::SecurityStatusNotSatisfied | StatusWord::FileNotFound,
            )) => {
                tracing::debug!(dg = n, "data group not readable");
            }
            Err(e) => return Err(e.into()),
        }
    }

    // Chip authentication, else active authentication.
    let dg14 = groups
        .get(&14)
        .and_then(|b| crate::lds::dg14::Dg14::parse(b).ok())
        .and_then(|d| SecurityInfos::parse(&d.security_infos).ok());
    let plan = dg14.as_ref().and_then(|i| ChipAuthPlan::choose(i).ok());
    let mut chip = ChipResult {
        method: "none",
        status: "not-supported",
        detail: None,
    };
    let mut chip_key_dg = None;
    if let Some(plan) = plan {
        report(Step::ChipAuthentication, bytes);
        chip.method = "chip-authentication";
        chip_key_dg = Some(14);
        match chip_auth::authenticate(&mut channel, &plan, rng) {
            Ok(_) => chip.status = "valid",
            Err(apdu::Error::CardRemoved) => return Err(ReadError::CardRemoved),
            Err(e @ apdu::Error::AuthenticationFailed(_)) => {
                chip.status = "invalid";
                chip.detail = Some(e.to_string());
            }
            Err(e) => {
                chip.status = "not-supported";
                chip.detail = Some(e.to_string());
            }
        }
    } else if let Some(key) = groups.get(&15).and_then(|b| AaPublicKey::from_dg15(b).ok()) {
        report(Step::ActiveAuthentication, bytes);
        chip.method = "active-authentication";
        chip_key_dg = Some(15);
        let info = dg14
            .as_ref()
            .and_then(|i| i.active_authentication().cloned());
        match active_auth::authenticate_random(&mut channel, &key, info.as_ref(), rng) {
            Ok(()) => chip.status = "valid",
            Err(apdu::Error::CardRemoved) => return Err(ReadError::CardRemoved),
            Err(e @ apdu::Error::AuthenticationFailed(_)) => {
                chip.status = "invalid";
                chip.detail = Some(e.to_string());
            }
            Err(e) => {
                chip.status = "not-supported";
                chip.detail = Some(e.to_string());
            }
        }
    }
    let stats = ReadStats {
        read_binary: reader.stats().read_binary,
        bytes,
    };
    drop(channel);

    // Passive authentication.
    report(Step::PassiveAuthentication, bytes);
    let passive = crate::trust::verify_passive(
        &sod_bytes,
        &groups,
        trust,
        Time::now(),
        groups
            .get(&1)
            .and_then(|b| Dg1::parse(b).ok())
            .map(|d| d.fields.issuing_state.clone())
            .as_deref(),
    );
    files.insert("EF.SOD".into(), sod_bytes);
    // A chip proof is worth only what the SOD says about the key it used: under a valid
    // SOD the key's data group must be among the hashed ones. (Under an SOD that is not
    // valid the verdict cannot be genuine anyway, and the proof is reported as run.)
    if chip.status == "valid" && passive.status == PassiveStatus::Valid {
        let covered = chip_key_dg
            .is_some_and(|n| passive.data_groups.0.get(&n) == Some(&DataGroupStatus::Ok));
        if !covered {
            chip.status = "not-supported";
            chip.detail = Some("the chip's key is not covered by the EF.SOD".into());
        }
    }
    let verdict = Verdict::of(passive.status, chip.status);

    // The identity.
    let dg1_bytes = groups.get(&1).ok_or(ReadError::File {
        file: "DG1",
        error: "not readable".into(),
    })?;
    let dg1 = Dg1::parse(dg1_bytes).map_err(|e| file_error("DG1", e))?;
    let full_name = groups
        .get(&11)
        .and_then(|b| Dg11::parse(b).ok())
        .and_then(|d| d.full_name.clone());
    let (document, holder) = result::identity_of(
        &dg1,
        full_name.map(|n| n.replace("<<", " ").replace('<', " ")),
    );
    let vn = groups.get(&13).and_then(|b| VnIdentity::from_dg13(b).ok());
    let face = match (request.face, groups.get(&2)) {
        (Some(format), Some(bytes)) => Dg2::parse(bytes)
            .and_then(|d| d.decode_first(&ImageLimits::default(), format))
            .map(|img| result::face_of(&img))
            .map_err(|e| tracing::debug!(error = %e, "face not decoded"))
            .ok(),
        _ => None,
    };
    report(Step::Done, bytes);
    Ok((
        ReadResult {
            document,
            holder,
            vn,
            face,
            verification: Verification {
                access: opened.describe(),
                passive,
                chip,
                verdict,
            },
            raw: request.raw.then(|| result::raw_of(&files)),
        },
        stats,
    ))
}

fn file_error(file: &'static str, e: impl std::fmt::Display) -> ReadError {
    ReadError::File {
        file,
        error: e.to_string(),
    }
}
