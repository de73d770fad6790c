//! The reading pipeline: one read of one card, as named steps that follow each other.
//!
//! EF.CardAccess → PACE (BAC only when the chip offers no PACE, or the caller allows the
//! fallback) → EF.CardSecurity (PACE-CAM) → select the application → EF.COM → EF.SOD →
//! the data groups EF.SOD hashes that the read needs → passive authentication → the chip
//! proof the signed data requires (PACE-CAM, else chip authentication when DG14 holds a
//! key, else active authentication when DG15 is hashed) → result.
//!
//! Each step reports [`Progress`], with a monotonic percentage. The data groups that name
//! the holder (DG1, DG11, DG13) are read before the others, and as soon as their hashes
//! match a signature-verified EF.SOD that chains to a trust anchor, one report carries
//! what they say ([`Partial`]), before the face is read; the verdict comes only with
//! the result. No file is read twice; a data group the caller did not
//! ask for is never read. A data group is decoded only after its hash matched, and only
//! such data groups feed the result's identity; the verdict is [`Verdict::of`] typed,
//! signed facts (docs/verdict.md).

pub mod access;
pub mod result;

use std::collections::{BTreeMap, BTreeSet};

use apdu::access::{self as chip_access, AccessKey, AccessOptions, Opened};
use apdu::active_auth::{self, AaPublicKey};
use apdu::chip_auth::{self, ChipAuthPlan, ChipPublicKey};
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
use crate::trust::passive::{DataGroupStatus, ProblemCode, verify_card_security};
use crate::trust::{PassiveStatus, Time, TrustStore, verify_passive};
use result::{
    AccessCheck, ChipMethod, ChipProblem, ChipProblemCode, ChipResult, ChipStatus, ReadResult,
    Verdict, VerdictPolicy, Verification,
};

/// A step of the read, for progress reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Reading EF.CardAccess and running PACE or BAC.
    Access,
    /// Reading EF.CardSecurity (PACE-CAM).
    CardSecurity,
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
            Step::CardSecurity => "EF.CardSecurity".into(),
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
#[derive(Clone, Debug)]
pub struct Progress {
    /// The step that starts.
    pub step: Step,
    /// File bytes read so far.
    pub bytes: usize,
    /// How much of the read's expected work is done, 0 to 100; never goes down, and is
    /// 100 only at [`Step::Done`].
    pub percent: u8,
    /// Once per read, when the name-bearing data groups are verified: what they say.
    pub partial: Option<std::sync::Arc<Partial>>,
}

/// The identity from data groups whose hashes match a signature-verified EF.SOD that
/// chains to a trust anchor, known before the whole read ends. Serialized like the
/// same keys of the result (`document`, `holder`, `vn`).
#[derive(Clone, serde::Serialize)]
pub struct Partial {
    /// From DG1.
    pub document: result::Document,
    /// From DG1 (and DG11's full name).
    pub holder: result::Holder,
    /// From DG13, on a CCCD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vn: Option<VnIdentity>,
}

impl core::fmt::Debug for Partial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Personal data stays out of logs.
        f.write_str("Partial(<redacted>)")
    }
}

/// The expected share of a read's work of each step, in arbitrary units: the face is
/// the bulk of the bytes, the rest are a few hundred bytes or one exchange each.
fn weight(step: Step) -> u32 {
    match step {
        Step::Access => 12,
        Step::CardSecurity => 3,
        Step::EfCom => 2,
        Step::EfSod => 6,
        Step::DataGroup(2) => 45,
        Step::DataGroup(_) => 4,
        Step::ChipAuthentication | Step::ActiveAuthentication => 6,
        Step::PassiveAuthentication => 3,
        Step::Done => 0,
    }
}

/// Turns steps into a monotonic percentage of an estimate that is refined once
/// EF.SOD tells which data groups will be read.
#[derive(Debug)]
struct Meter {
    total: u32,
    done: u32,
    last: u8,
}

impl Meter {
    fn new(face: bool) -> Meter {
        let groups =
            4 * weight(Step::DataGroup(1)) + if face { weight(Step::DataGroup(2)) } else { 0 };
        Meter {
            total: weight(Step::Access)
                + weight(Step::EfCom)
                + weight(Step::EfSod)
                + groups
                + weight(Step::PassiveAuthentication)
                + weight(Step::ChipAuthentication),
            done: 0,
            last: 0,
        }
    }

    /// The data groups to read are known: what is left is them and the checks.
    fn plan(&mut self, groups: &[u8]) {
        let rest: u32 = groups
            .iter()
            .map(|&n| weight(Step::DataGroup(n)))
            .sum::<u32>()
            + weight(Step::PassiveAuthentication)
            + weight(Step::ChipAuthentication);
        self.total = self.done + rest;
    }

    /// The percentage as `step` starts.
    fn start(&mut self, step: Step) -> u8 {
        let percent = if step == Step::Done {
            100
        } else {
            let p = u64::from(self.done) * 100 / u64::from(self.total.max(1));
            u8::try_from(p.min(99)).unwrap_or(99)
        };
        self.done = self.done.saturating_add(weight(step));
        self.total = self.total.max(self.done);
        self.last = self.last.max(percent);
        self.last
    }
}

/// The data groups that name the holder, read first.
const NAME_GROUPS: [u8; 3] = [1, 13, 11];

/// The order data groups are read in: the name-bearing ones, then the chip's keys, then
/// the rest (the face last among the signed ones, as it is the slowest).
fn read_rank(n: u8) -> (u8, u8) {
    match n {
        1 => (0, 0),
        13 => (0, 1),
        11 => (0, 2),
        14 | 15 => (1, n),
        2 => (3, 0),
        _ => (2, n),
    }
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
    /// Data groups never to read (a client not allowed them); DG1, and the data groups
    /// holding the chip's keys (DG14, DG15), are always read.
    pub skip: BTreeSet<u8>,
    /// What the deployment allows and demands.
    pub policy: ReadPolicy,
}

/// What a deployment allows and demands of a read, beyond the signed data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadPolicy {
    /// Read over BAC when the chip offers PACE and PACE fails (the result says so).
    pub allow_bac_fallback: bool,
    /// A card whose signed data offers no chip proof is `not-verified`.
    pub require_chip_proof: bool,
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
///
/// The verdict is a function of signed facts only: EF.SOD decides which data groups
/// exist and which chip proof is required; EF.COM and the chip's answers decide nothing.
/// Only a transport failure (card removed, reader error) or a wrong key ends the read
/// without a verdict.
pub fn read_card<C: Card>(
    card: &mut C,
    request: &ReadRequest,
    trust: &TrustStore,
    rng: &mut impl CryptoRng,
    progress: &mut dyn FnMut(Progress),
) -> Result<(ReadResult, ReadStats), ReadError> {
    let mut bytes = 0;
    let meter = std::cell::RefCell::new(Meter::new(
        request.face.is_some() && !request.skip.contains(&2),
    ));
    let progress = std::cell::RefCell::new(progress);
    let mut report = |step: Step, bytes: usize| {
        let percent = meter.borrow_mut().start(step);
        tracing::debug!(step = %step.name(), bytes, percent, "read step");
        (progress.borrow_mut())(Progress {
            step,
            bytes,
            percent,
            partial: None,
        });
    };
    let now = Time::now();

    // Access.
    report(Step::Access, bytes);
    let options = AccessOptions {
        allow_bac_fallback: request.policy.allow_bac_fallback,
    };
    // What the session learns about the link (extended length tried once) holds for
    // every command of this read.
    let mut link = apdu::Link::new(&mut *card);
    let chip_access::OpenChip {
        mut channel,
        opened,
        card_access,
    } = chip_access::open_with(&mut link, &request.access, options, rng)?;
    let mut reader = FileReader::default();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    if let Some(bytes) = card_access {
        files.insert("EF.CardAccess".into(), bytes);
    }

    // PACE-CAM: the chip's static key is in EF.CardSecurity, in the master file.
    let card_security = match &opened {
        Opened::Pace(p) if p.chip_authentication.is_some() => {
            report(Step::CardSecurity, bytes);
            let outcome = read_optional(
                &mut reader,
                &mut channel,
                CARD_SECURITY_SFI,
                CARD_SECURITY_FID,
            )?;
            if let Ok(data) = &outcome {
                bytes += data.len();
                files.insert("EF.CardSecurity".into(), data.clone());
            }
            Some(outcome)
        }
        _ => None,
    };
    // One SELECT of the application per session: BAC runs inside it (access selected it
    // before GET CHALLENGE); PACE runs in the master file.
    if matches!(opened, Opened::Pace(_)) {
        read_binary::select_application(&mut channel, &ICAO_AID)?;
    }

    // EF.COM (unsigned: a hint, and a cross-check) and EF.SOD.
    report(Step::EfCom, bytes);
    let com = match read_optional(
        &mut reader,
        &mut channel,
        LdsFile::Com.sfi(),
        LdsFile::Com.fid(),
    )? {
        Ok(data) => {
            bytes += data.len();
            let parsed = EfCom::parse(&data).ok();
            files.insert("EF.COM".into(), data);
            parsed
        }
        Err(_) => None,
    };
    report(Step::EfSod, bytes);
    let sod_bytes =
        reader.read_file_by_sfi(&mut channel, LdsFile::Sod.sfi(), LdsFile::Sod.fid())?;
    bytes += sod_bytes.len();
    files.insert("EF.SOD".into(), sod_bytes.clone());
    let sod = Sod::from_bytes(&sod_bytes).ok();
    let listed: BTreeSet<u8> = com
        .as_ref()
        .map(|c| c.data_groups.iter().map(|g| g.number()).collect())
        .unwrap_or_default();
    // The signed list decides; without a usable EF.SOD (passive authentication will say
    // why) EF.COM's list is all there is.
    let signed: Option<BTreeSet<u8>> = sod.as_ref().map(|s| s.lds.hashes.keys().copied().collect());

    // The data groups: every one the signed list holds that the read needs; unsigned
    // ones only for a caller who asked for the files as read.
    let needed = |n: u8| -> bool {
        match n {
            1 | 14 | 15 => true,
            2 => request.face.is_some() && !request.skip.contains(&2),
            11..=13 => !request.skip.contains(&n),
            _ => false,
        }
    };
    let mut order: Vec<u8> = match &signed {
        Some(signed) => signed
            .iter()
            .copied()
            .filter(|&n| needed(n))
            .chain(
                listed
                    .iter()
                    .copied()
                    .filter(|n| request.raw && needed(*n) && !signed.contains(n)),
            )
            .collect(),
        None => listed.iter().copied().filter(|&n| needed(n)).collect(),
    };
    order.sort_by_key(|&n| read_rank(n));
    order.dedup();
    meter.borrow_mut().plan(&order);
    let mut partial_sent = false;
    let mut groups: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    // Data groups the chip refused to give, with its status word.
    let mut refused: BTreeMap<u8, StatusWord> = BTreeMap::new();
    for n in order {
        let Some(dg) = DataGroup::new(n) else {
            continue;
        };
        if !partial_sent && !NAME_GROUPS.contains(&n) {
            partial_sent = true;
            send_partial(
                &sod_bytes,
                sod.as_ref(),
                &groups,
                trust,
                now,
                &meter,
                &progress,
                bytes,
            );
        }
        report(Step::DataGroup(n), bytes);
        match read_optional(&mut reader, &mut channel, dg.sfi(), dg.fid())? {
            Ok(data) => {
                bytes += data.len();
                files.insert(dg.name().into(), data.clone());
                groups.insert(n, data);
            }
            Err(sw) => {
                tracing::debug!(dg = n, sw = %sw, "data group not readable");
                refused.insert(n, sw);
            }
        }
    }

    if !partial_sent {
        send_partial(
            &sod_bytes,
            sod.as_ref(),
            &groups,
            trust,
            now,
            &meter,
            &progress,
            bytes,
        );
    }

    // Passive authentication, before anything read is decoded: the issuing state that
    // binds the CSCA comes from DG1 only when DG1's hash matched.
    report(Step::PassiveAuthentication, bytes);
    let dg1 = groups
        .get(&1)
        .filter(|b| sod.as_ref().is_some_and(|s| s.hash_matches(1, b)))
        .map(|b| Dg1::parse(b));
    let issuing_state = match &dg1 {
        Some(Ok(d)) => Some(d.fields.issuing_state.trim_end_matches('<').to_owned()),
        _ => None,
    };
    let mut passive = verify_passive(&sod_bytes, &groups, trust, now, issuing_state.as_deref());
    // EF.COM is not signed: it only gives the chip away when it disagrees.
    if let (Some(signed), Some(_)) = (&signed, &com) {
        let unsigned: BTreeSet<u8> = listed.difference(signed).copied().collect();
        let unlisted: BTreeSet<u8> = signed.difference(&listed).copied().collect();
        if !unsigned.is_empty() {
            passive.add_problem(
                ProblemCode::UnsignedDataGroup,
                format!(
                    "EF.COM lists {} that EF.SOD does not hash",
                    dg_list(&unsigned)
                ),
            );
        }
        if !unlisted.is_empty() {
            passive.add_problem(
                ProblemCode::EfComMismatch,
                format!(
                    "EF.SOD hashes {} that EF.COM does not list",
                    dg_list(&unlisted)
                ),
            );
        }
    }
    let verified: BTreeSet<u8> = passive
        .data_groups
        .0
        .iter()
        .filter(|(_, status)| **status == DataGroupStatus::Ok)
        .map(|(n, _)| *n)
        .collect();
    let verified_bytes = |n: u8| groups.get(&n).filter(|_| verified.contains(&n));

    // The chip proof the signed data requires.
    let dg14 = verified_bytes(14).map(|b| {
        crate::lds::dg14::Dg14::parse(b)
            .map_err(|e| e.to_string())
            .and_then(|d| SecurityInfos::parse(&d.security_infos).map_err(|e| e.to_string()))
    });
    let chip = if let Some(proof) = match &opened {
        Opened::Pace(p) => p.chip_authentication.as_ref().map(|proof| (p, proof)),
        Opened::Bac { .. } => None,
    } {
        report(Step::ChipAuthentication, bytes);
        let (pace, proof) = proof;
        pace_cam(
            pace,
            proof,
            card_security,
            trust,
            now,
            issuing_state.as_deref(),
        )
    } else {
        let plan = match (&signed, &dg14) {
            (Some(s), _) if !s.contains(&14) => Requirement::None,
            (None, _) => Requirement::Unknown,
            (Some(_), None) => match refused.get(&14) {
                Some(sw) => Requirement::Unreadable(*sw),
                None => Requirement::NotVerified,
            },
            (Some(_), Some(Err(e))) => Requirement::Undecodable(e.clone()),
            (Some(_), Some(Ok(infos))) => match ChipAuthPlan::choose(infos) {
                Ok(plan) => Requirement::Run(plan),
                // DG14 without a chip authentication key: no CA required.
                Err(apdu::Error::MissingDataObject(_)) => Requirement::None,
                Err(e) => Requirement::Unsupported(e.to_string()),
            },
        };
        // Active authentication is the required proof when DG14 requires no chip
        // authentication, or requires one this reader cannot run and DG15 is signed.
        let dg15_signed = signed.as_ref().is_some_and(|s| s.contains(&15));
        let instead_of_ca = match &plan {
            Requirement::None => Some(None),
            Requirement::Unsupported(why) if dg15_signed => Some(Some(why.clone())),
            _ => None,
        };
        match plan {
            _ if instead_of_ca.is_some() => {
                let mut result = active_authentication(
                    &mut channel,
                    &signed,
                    verified_bytes(15),
                    &refused,
                    dg14.as_ref().and_then(|d| d.as_ref().ok()),
                    rng,
                    &mut report,
                    bytes,
                )?;
                if let Some(Some(why)) = instead_of_ca {
                    result.problems.insert(
                        0,
                        ChipProblem {
                            code: ChipProblemCode::ChipProofUnsupported,
                            message: format!(
                                "chip authentication cannot be run ({why}); active authentication instead"
                            ),
                        },
                    );
                }
                result
            }
            Requirement::Run(plan) => {
                report(Step::ChipAuthentication, bytes);
                match chip_auth::authenticate(&mut channel, &plan, rng) {
                    Ok(_) => ChipResult {
                        method: ChipMethod::ChipAuthentication,
                        status: ChipStatus::Valid,
                        card_security: None,
                        problems: Vec::new(),
                    },
                    Err(e) => {
                        proof_failure(ChipMethod::ChipAuthentication, "chip authentication", e)?
                    }
                }
            }
            other => other.into_result(ChipMethod::ChipAuthentication, "DG14"),
        }
    };

    // No silent downgrade: BAC on a chip whose signed DG14 offers PACE.
    let (access_check, access_fallback) = match &opened {
        Opened::Pace(_) => (AccessCheck::Ok, None),
        Opened::Bac {
            fallback_from: Some(e),
        } => (
            AccessCheck::BacFallback,
            Some(format!("PACE failed ({e}); BAC was used")),
        ),
        Opened::Bac {
            fallback_from: None,
        } => {
            let offers_pace = dg14
                .as_ref()
                .and_then(|d| d.as_ref().ok())
                .is_some_and(|infos| !infos.pace().is_empty());
            match (offers_pace, request.policy.allow_bac_fallback) {
                (false, _) => (AccessCheck::Ok, None),
                (true, true) => (
                    AccessCheck::BacFallback,
                    Some("DG14 offers PACE but EF.CardAccess does not; BAC was used".into()),
                ),
                (true, false) => (AccessCheck::PaceBypassed, None),
            }
        }
    };
    let stats = ReadStats {
        read_binary: reader.stats().read_binary,
        bytes,
    };
    drop(channel);
    let verdict = Verdict::of(
        passive.status,
        chip.status,
        access_check,
        VerdictPolicy {
            require_chip_proof: request.policy.require_chip_proof,
        },
    );

    // The identity, from data groups whose hash matched only.
    let mut undecodable = |name: &str, e: &dyn std::fmt::Display| {
        passive.add_problem(
            ProblemCode::DgUndecodable,
            format!("{name} matches its hash but does not decode: {e}"),
        );
    };
    let dg1 = match dg1 {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            undecodable("DG1", &e);
            None
        }
        None if groups.contains_key(&1) => None,
        None => {
            return Err(ReadError::File {
                file: "DG1",
                error: match refused.get(&1) {
                    Some(sw) => format!("not readable ({sw})"),
                    None => "not readable".into(),
                },
            });
        }
    };
    let full_name = match verified_bytes(11).map(|b| Dg11::parse(b)) {
        Some(Ok(d)) => d.full_name.clone(),
        Some(Err(e)) => {
            undecodable("DG11", &e);
            None
        }
        None => None,
    };
    let identity = dg1.as_ref().map(|dg1| {
        result::identity_of(
            dg1,
            full_name.map(|n| n.replace("<<", " ").replace('<', " ")),
        )
    });
    let vn = match verified_bytes(13).map(|b| VnIdentity::from_dg13(b)) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            undecodable("DG13", &e);
            None
        }
        None => None,
    };
    // The image decoder (C, for JPEG 2000) sees only an image whose hash matched.
    let face = match (request.face, verified_bytes(2)) {
        (Some(format), Some(bytes)) => {
            match Dg2::parse(bytes).and_then(|d| d.decode_first(&ImageLimits::default(), format)) {
                Ok(img) => Some(result::face_of(&img)),
                Err(e) => {
                    undecodable("DG2", &e);
                    None
                }
            }
        }
        _ => None,
    };
    report(Step::Done, bytes);
    let (document, holder) = identity.unzip();
    Ok((
        ReadResult {
            document,
            holder,
            vn,
            face,
            verification: Verification {
                access: opened.describe(),
                access_check,
                access_fallback,
                passive,
                chip,
                verdict,
            },
            raw: request.raw.then(|| result::raw_of(&files)),
        },
        stats,
    ))
}

/// Reports the holder's identity from the name-bearing data groups read so far, when
/// EF.SOD's signature is valid, it chains to a trust anchor, and each group's hash
/// matches; otherwise nothing (the result will say why).
#[allow(clippy::too_many_arguments)]
fn send_partial(
    sod_bytes: &[u8],
    sod: Option<&Sod>,
    groups: &BTreeMap<u8, Vec<u8>>,
    trust: &TrustStore,
    now: Time,
    meter: &std::cell::RefCell<Meter>,
    progress: &std::cell::RefCell<&mut dyn FnMut(Progress)>,
    bytes: usize,
) {
    let Some(sod) = sod else { return };
    let named: BTreeMap<u8, Vec<u8>> = groups
        .iter()
        .filter(|(n, b)| NAME_GROUPS.contains(n) && sod.hash_matches(**n, b))
        .map(|(n, b)| (*n, b.clone()))
        .collect();
    let Some(Ok(dg1)) = named.get(&1).map(|b| Dg1::parse(b)) else {
        return;
    };
    let issuing_state = dg1.fields.issuing_state.trim_end_matches('<').to_owned();
    let passive = verify_passive(sod_bytes, &named, trust, now, Some(&issuing_state));
    let all_ok = named
        .keys()
        .all(|n| passive.data_groups.0.get(n) == Some(&DataGroupStatus::Ok));
    if passive.status != PassiveStatus::Valid
        || passive.sod_signature != "valid"
        || passive.csca.is_none()
        || !all_ok
    {
        return;
    }
    let full_name = named
        .get(&11)
        .and_then(|b| Dg11::parse(b).ok())
        .and_then(|d| d.full_name.clone())
        .map(|n| n.replace("<<", " ").replace('<', " "));
    let (document, holder) = result::identity_of(&dg1, full_name);
    let vn = named.get(&13).and_then(|b| VnIdentity::from_dg13(b).ok());
    let step = Step::PassiveAuthentication;
    let percent = meter.borrow().last;
    (progress.borrow_mut())(Progress {
        step,
        bytes,
        percent,
        partial: Some(std::sync::Arc::new(Partial {
            document,
            holder,
            vn,
        })),
    });
}

/// Short file identifier and file identifier of EF.CardSecurity in the master file.
const CARD_SECURITY_SFI: u8 = 0x1D;
const CARD_SECURITY_FID: u16 = 0x011D;

/// Reads a file; a status word the chip refuses it with is an answer, not a failure of
/// the read (what it means is for the verdict to say). Other errors end the read.
fn read_optional<C: Card>(
    reader: &mut FileReader,
    channel: &mut C,
    sfi: u8,
    fid: u16,
) -> Result<Result<Vec<u8>, StatusWord>, ReadError> {
    match reader.read_file_by_sfi(channel, sfi, fid) {
        Ok(data) => Ok(Ok(data)),
        Err(apdu::Error::Status(sw)) => Ok(Err(sw)),
        Err(e) => Err(e.into()),
    }
}

fn dg_list(groups: &BTreeSet<u8>) -> String {
    let names: Vec<String> = groups.iter().map(|n| format!("DG{n}")).collect();
    if names.is_empty() {
        "no data group".into()
    } else {
        names.join(" ")
    }
}

/// What the signed data says about a chip proof, before running it.
enum Requirement<P> {
    /// No proof of this kind is required.
    None,
    /// EF.SOD did not parse: nobody can say.
    Unknown,
    /// Its file is signed but the chip refused to give it.
    Unreadable(StatusWord),
    /// Its file's hash did not match (passive authentication says so).
    NotVerified,
    /// Its file is signed but does not decode.
    Undecodable(String),
    /// Its key or protocol is one this reader cannot run.
    Unsupported(String),
    /// Run it.
    Run(P),
}

impl<P> Requirement<P> {
    /// The result of a requirement that is not run.
    fn into_result(self, method: ChipMethod, file: &str) -> ChipResult {
        use ChipProblemCode as C;
        match self {
            Requirement::None => ChipResult::of(
                ChipMethod::None,
                ChipStatus::NoneOffered,
                C::ChipProofNoneOffered,
                "the signed data offers no chip proof (no chip-authentication key in DG14, no DG15): a copy of this card's files onto another chip could not be told apart".into(),
            ),
            Requirement::Unknown => ChipResult::of(
                ChipMethod::None,
                ChipStatus::NotChecked,
                C::ChipKeyNotVerified,
                "EF.SOD could not be used, so the required chip proof is unknown".into(),
            ),
            Requirement::Unreadable(sw) => ChipResult::of(
                method,
                ChipStatus::Invalid,
                C::ChipKeyUnreadable,
                format!("{file} is hashed in EF.SOD but the chip refused to give it ({sw})"),
            ),
            Requirement::NotVerified => ChipResult::of(
                method,
                ChipStatus::NotChecked,
                C::ChipKeyNotVerified,
                format!("{file} does not match its hash in EF.SOD"),
            ),
            Requirement::Undecodable(e) => ChipResult::of(
                method,
                ChipStatus::Invalid,
                C::ChipKeyUndecodable,
                format!("{file} matches its hash but does not decode: {e}"),
            ),
            Requirement::Unsupported(e) => ChipResult::of(
                method,
                ChipStatus::NotChecked,
                C::ChipProofUnsupported,
                format!("{file}: {e}"),
            ),
            Requirement::Run(_) => ChipResult::of(
                method,
                ChipStatus::NotChecked,
                C::ChipProofUnsupported,
                "not run".into(),
            ),
        }
    }
}

/// The result of a proof that ran and did not succeed: a transport failure or a chip
/// past its deadline ends the read; any answer of the chip (an error status word, a wrong cryptogram, a malformed
/// response) is a failed proof.
fn proof_failure(method: ChipMethod, step: &str, e: apdu::Error) -> Result<ChipResult, ReadError> {
    match e {
        apdu::Error::CardRemoved => Err(ReadError::CardRemoved),
        // A chip that does not answer in time proved nothing either way.
        apdu::Error::Transport(_) | apdu::Error::NoAnswer { .. } => Err(ReadError::Card(e)),
        apdu::Error::Status(sw) => Ok(ChipResult::of(
            method,
            ChipStatus::Invalid,
            ChipProblemCode::ChipProofRefused,
            format!("{step}: the chip answered {sw}"),
        )),
        e => Ok(ChipResult::of(
            method,
            ChipStatus::Invalid,
            ChipProblemCode::ChipProofInvalid,
            format!("{step}: {e}"),
        )),
    }
}

/// Active authentication, required when DG15 is hashed in EF.SOD and chip
/// authentication is not run.
#[allow(clippy::too_many_arguments)]
fn active_authentication<C: Card>(
    channel: &mut C,
    signed: &Option<BTreeSet<u8>>,
    dg15: Option<&Vec<u8>>,
    refused: &BTreeMap<u8, StatusWord>,
    dg14: Option<&SecurityInfos>,
    rng: &mut impl CryptoRng,
    report: &mut impl FnMut(Step, usize),
    bytes: usize,
) -> Result<ChipResult, ReadError> {
    let method = ChipMethod::ActiveAuthentication;
    let requirement = match (signed, dg15) {
        (None, _) => Requirement::Unknown,
        (Some(s), _) if !s.contains(&15) => Requirement::None,
        (Some(_), None) => match refused.get(&15) {
            Some(sw) => Requirement::Unreadable(*sw),
            None => Requirement::NotVerified,
        },
        (Some(_), Some(b)) => match AaPublicKey::from_dg15(b) {
            Ok(key) => Requirement::Run(key),
            Err(apdu::Error::Unsupported(e)) => Requirement::Unsupported(e.into()),
            Err(e) => Requirement::Undecodable(e.to_string()),
        },
    };
    let Requirement::Run(key) = requirement else {
        return Ok(requirement.into_result(method, "DG15"));
    };
    report(Step::ActiveAuthentication, bytes);
    let info = dg14.and_then(|i| i.active_authentication().cloned());
    match active_auth::authenticate_random(channel, &key, info.as_ref(), rng) {
        Ok(()) => Ok(ChipResult {
            method,
            status: ChipStatus::Valid,
            card_security: None,
            problems: Vec::new(),
        }),
        Err(e) => proof_failure(method, "active authentication", e),
    }
}

/// PACE-CAM: the proof the chip gave during PACE, checked with the static key of an
/// EF.CardSecurity whose own signature verified against the trust anchors.
fn pace_cam(
    pace: &apdu::pace::PaceOutcome,
    proof: &apdu::pace::CamProof,
    card_security: Option<Result<Vec<u8>, StatusWord>>,
    trust: &TrustStore,
    now: Time,
    issuing_state: Option<&str>,
) -> ChipResult {
    let method = ChipMethod::PaceCam;
    let bytes = match card_security {
        Some(Ok(b)) => b,
        Some(Err(sw)) => {
            return Requirement::<()>::Unreadable(sw).into_result(method, "EF.CardSecurity");
        }
        None => return Requirement::<()>::Unknown.into_result(method, "EF.CardSecurity"),
    };
    let checked = verify_card_security(&bytes, trust, now, issuing_state);
    let status = checked.status;
    let infos = checked
        .security_infos
        .as_deref()
        .map(|der| SecurityInfos::parse(der).map_err(|e| e.to_string()));
    let mut result = match (status, infos) {
        (PassiveStatus::Invalid, _) => ChipResult::of(
            method,
            ChipStatus::Invalid,
            ChipProblemCode::ChipKeyNotVerified,
            "EF.CardSecurity does not verify".into(),
        ),
        (_, None) => Requirement::<()>::NotVerified.into_result(method, "EF.CardSecurity"),
        (_, Some(Err(e))) => {
            Requirement::<()>::Undecodable(e).into_result(method, "EF.CardSecurity")
        }
        (_, Some(Ok(infos))) => {
            let group = apdu::pace::group_of(&pace.info);
            let keys: Vec<_> = infos.chip_authentication_keys().collect();
            let verdicts: Vec<Result<(), apdu::Error>> = keys
                .iter()
                .map(|k| {
                    let key = ChipPublicKey::from_info(k)?;
                    proof.verify(group.as_ref().map_err(Clone::clone)?, &key.public)
                })
                .collect();
            if verdicts.iter().any(Result::is_ok) {
                ChipResult {
                    method,
                    status: if status == PassiveStatus::Valid {
                        ChipStatus::Valid
                    } else {
                        ChipStatus::NotChecked
                    },
                    card_security: None,
                    problems: if status == PassiveStatus::Valid {
                        Vec::new()
                    } else {
                        vec![ChipProblem {
                            code: ChipProblemCode::ChipKeyNotVerified,
                            message: "EF.CardSecurity is not traced to a trusted CSCA".into(),
                        }]
                    },
                }
            } else if keys.is_empty() {
                ChipResult::of(
                    method,
                    ChipStatus::Invalid,
                    ChipProblemCode::ChipKeyUndecodable,
                    "EF.CardSecurity holds no chip authentication key".into(),
                )
            } else {
                let why = verdicts
                    .into_iter()
                    .filter_map(Result::err)
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                ChipResult::of(
                    method,
                    ChipStatus::Invalid,
                    ChipProblemCode::ChipProofInvalid,
                    format!("PACE-CAM: {why}"),
                )
            }
        }
    };
    result.card_security = Some(checked);
    result
}
