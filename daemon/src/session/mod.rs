//! The reading pipeline: one read of one card, as named steps that follow each other.
//!
//! EF.CardAccess → PACE (BAC only when the chip offers no PACE, or the caller allows the
//! fallback) → EF.CardSecurity (PACE-CAM) → select the application → EF.COM → EF.SOD →
//! the data groups EF.SOD hashes that the read needs, but the face → passive
//! authentication → the chip proof the signed data requires (PACE-CAM, else chip
//! authentication when DG14 holds a key, else active authentication when DG15 is
//! hashed) → the verified identity and the verdict so far ([`Partial`]) → the face, its
//! hash checked against the same EF.SOD → result.
//!
//! Each step reports [`Progress`]. No file is read twice; a data group the caller did not
//! ask for is never read. A data group is decoded only after its hash matched, and only
//! such data groups feed the result's identity; the verdict is [`Verdict::of`] typed,
//! signed facts (docs/verdict.md).

pub mod access_input;
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
use crate::pki::Time;
use crate::trust::passive::{DataGroupStatus, ProblemCode, verify_card_security, verify_sod};
use crate::trust::{PassiveStatus, TrustStore};
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
    /// How much of the read is done, 0 to 100, never going back.
    pub percent: u8,
    /// Once, before the face is read: the identity from signed data that verified,
    /// with the verdict so far.
    pub partial: Option<std::sync::Arc<Partial>>,
}

/// The identity a read knows before it reads the face (DG2, read last for this): from
/// DG1, DG11 and DG13 whose hashes matched an EF.SOD whose signature and chain were
/// checked, with the verdict so far (the chip proof has run). The final result is the
/// authority: it says whether these fields stand.
#[derive(Clone, serde::Serialize)]
pub struct Partial {
    /// As in [`ReadResult::document`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<result::Document>,
    /// As in [`ReadResult::holder`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<result::Holder>,
    /// As in [`ReadResult::vn`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vn: Option<VnIdentity>,
    /// The verdict if the read ended here, which the face still to come can only lower;
    /// absent while it would be `genuine` without a valid chip proof.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

impl core::fmt::Debug for Partial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Partial([redacted], {:?})", self.verdict)
    }
}

/// Reports the steps of a read, with an estimate of how far it is: file sizes are
/// taken as they are read, the rest from typical cards, and the protocol steps count
/// as the bytes they cost about as much time as.
struct Reporter<'a> {
    progress: &'a mut dyn FnMut(Progress),
    /// The steps still to come, with their expected weight.
    plan: Vec<(Step, usize)>,
    /// Weight of the protocol steps done.
    work_done: usize,
    /// The protocol step under way.
    working: Option<usize>,
    percent: u8,
}

impl<'a> Reporter<'a> {
    fn new(progress: &'a mut dyn FnMut(Progress), face: bool) -> Self {
        let plan = [
            Step::Access,
            Step::EfCom,
            Step::EfSod,
            Step::DataGroup(1),
            Step::DataGroup(14),
            Step::PassiveAuthentication,
            Step::ChipAuthentication,
        ];
        let face = face.then_some(Step::DataGroup(2));
        Reporter {
            progress,
            plan: plan
                .iter()
                .chain(face.iter())
                .map(|s| (*s, Self::weight(*s)))
                .collect(),
            work_done: 0,
            working: None,
            percent: 0,
        }
    }

    /// About what a step costs, in file bytes on a typical card.
    fn weight(step: Step) -> usize {
        match step {
            Step::Access => 3000,
            Step::CardSecurity => 1200,
            Step::EfCom => 40,
            Step::EfSod => 2000,
            Step::DataGroup(1) => 100,
            Step::DataGroup(2) => 15000,
            Step::DataGroup(13) => 600,
            Step::DataGroup(14) => 400,
            Step::DataGroup(_) => 300,
            Step::ChipAuthentication | Step::ActiveAuthentication => 1500,
            Step::PassiveAuthentication => 300,
            Step::Done => 0,
        }
    }

    /// The data groups the read will fetch, once EF.SOD told.
    fn expect_data_groups(&mut self, groups: impl Iterator<Item = u8>) {
        self.plan.retain(|(s, _)| !matches!(s, Step::DataGroup(_)));
        self.plan
            .extend(groups.map(|n| (Step::DataGroup(n), Self::weight(Step::DataGroup(n)))));
    }

    fn send(&mut self, step: Step, bytes: usize, partial: Option<std::sync::Arc<Partial>>) {
        (self.progress)(Progress {
            step,
            bytes,
            percent: self.percent,
            partial,
        });
    }

    fn step(&mut self, step: Step, bytes: usize) {
        tracing::debug!(step = %step.name(), bytes, "read step");
        self.work_done += self.working.take().unwrap_or(0);
        if let Some(i) = self.plan.iter().position(|(s, _)| *s == step) {
            self.plan.remove(i);
        }
        let is_file = matches!(
            step,
            Step::EfCom | Step::EfSod | Step::CardSecurity | Step::DataGroup(_)
        );
        if !is_file {
            self.working = Some(Self::weight(step));
        }
        let done = bytes + self.work_done;
        let remaining: usize = self.plan.iter().map(|(_, w)| w).sum::<usize>()
            + self.working.unwrap_or(0)
            + if is_file { Self::weight(step) } else { 0 };
        let estimate = if step == Step::Done {
            100
        } else {
            (done * 100 / (done + remaining).max(1)).min(99) as u8
        };
        self.percent = self.percent.max(estimate);
        self.send(step, bytes, None);
    }

    fn partial(&mut self, partial: Partial, bytes: usize) {
        let step = Step::DataGroup(2);
        self.send(step, bytes, Some(std::sync::Arc::new(partial)));
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

impl ReadError {
    /// Its failure class.
    pub fn failure(&self) -> crate::failure::Failure {
        use crate::failure::Failure;
        match self {
            ReadError::WrongAccessKey => Failure::WrongAccessKey,
            ReadError::CardRemoved => Failure::CardRemoved,
            ReadError::Card(e) => Failure::of_card(e),
            ReadError::File { .. } => Failure::CardProtocol,
        }
    }
}

/// The counters of a read, for logs and benchmarks: the file reader's own.
pub use apdu::read_binary::ReadStats;

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
    let mut reporter = Reporter::new(progress, request.face.is_some());
    let now = Time::now();

    // Access.
    reporter.step(Step::Access, bytes);
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
            reporter.step(Step::CardSecurity, bytes);
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
    reporter.step(Step::EfCom, bytes);
    // Why EF.COM, read, did not decode.
    let mut com_undecodable = None;
    let com = match read_optional(
        &mut reader,
        &mut channel,
        LdsFile::Com.sfi(),
        LdsFile::Com.fid(),
    )? {
        Ok(data) => {
            bytes += data.len();
            let parsed = match EfCom::parse(&data) {
                Ok(com) => Some(com),
                Err(e) => {
                    com_undecodable = Some(e.to_string());
                    None
                }
            };
            files.insert("EF.COM".into(), data);
            parsed
        }
        Err(_) => None,
    };
    reporter.step(Step::EfSod, bytes);
    let sod_bytes =
        reader.read_file_by_sfi(&mut channel, LdsFile::Sod.sfi(), LdsFile::Sod.fid())?;
    bytes += sod_bytes.len();
    files.insert("EF.SOD".into(), sod_bytes.clone());
    let sod = Sod::from_bytes(&sod_bytes);
    let listed: BTreeSet<u8> = com
        .as_ref()
        .map(|c| c.data_groups.iter().map(|g| g.number()).collect())
        .unwrap_or_default();
    // The signed list decides; without a usable EF.SOD (passive authentication will say
    // why) EF.COM's list is all there is.
    let signed: Option<BTreeSet<u8>> = sod
        .as_ref()
        .ok()
        .map(|s| s.lds.hashes.keys().copied().collect());

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
    let order: Vec<u8> = match &signed {
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
    // The face last: what proves the card and names the holder comes first.
    let read_face = order.contains(&2);
    reporter.expect_data_groups(order.iter().copied());
    let mut groups: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    // Data groups the chip refused to give, with its status word.
    let mut refused: BTreeMap<u8, Refusal> = BTreeMap::new();
    for n in order.into_iter().filter(|&n| n != 2) {
        let Some(dg) = DataGroup::new(n) else {
            continue;
        };
        reporter.step(Step::DataGroup(n), bytes);
        match read_optional(&mut reader, &mut channel, dg.sfi(), dg.fid())? {
            Ok(data) => {
                bytes += data.len();
                files.insert(dg.name().into(), data.clone());
                groups.insert(n, data);
            }
            Err(why) => {
                tracing::debug!(dg = n, why = %why, "data group not readable");
                refused.insert(n, why);
            }
        }
    }

    // Passive authentication, before anything read is decoded: the issuing state that
    // binds the CSCA comes from DG1 only when DG1's hash matched.
    reporter.step(Step::PassiveAuthentication, bytes);
    let dg1 = groups
        .get(&1)
        .filter(|b| sod.as_ref().is_ok_and(|s| s.hash_matches(1, b)))
        .map(|b| Dg1::parse(b));
    let issuing_state = match &dg1 {
        Some(Ok(d)) => Some(d.fields.issuing_state.trim_end_matches('<').to_owned()),
        _ => None,
    };
    let mut passive = verify_sod(sod.as_ref(), &groups, trust, now, issuing_state.as_deref());
    // EF.COM is not signed: it only gives the chip away when it disagrees, or when it
    // is not an EF.COM at all.
    if let Some(e) = com_undecodable {
        passive.add_problem(
            ProblemCode::EfComMismatch,
            format!("EF.COM does not decode ({e}): it cannot be compared with EF.SOD"),
        );
    }
    if let (Some(signed), Some(_)) = (&signed, &com) {
        passive.compare_ef_com(signed, &listed);
    }
    // A data group the signed list holds and the read needs, that the chip would not
    // give: what it holds cannot be vouched for. DG14 and DG15 are judged by the chip
    // proof they hold the key of.
    for (n, why) in &refused {
        if !matches!(n, 14 | 15) && signed.as_ref().is_some_and(|s| s.contains(n)) {
            passive.add_problem(
                ProblemCode::DgUnreadable,
                format!("DG{n} is hashed in EF.SOD but {why}"),
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
        reporter.step(Step::ChipAuthentication, bytes);
        let (pace, proof) = proof;
        pace_cam(
            pace,
            proof,
            card_security,
            dg14.as_ref().and_then(|d| d.as_ref().ok()),
            trust,
            now,
            issuing_state.as_deref(),
        )
    } else {
        let plan = match (&signed, &dg14) {
            (Some(s), _) if !s.contains(&14) => Requirement::None,
            (None, _) => Requirement::Unknown,
            (Some(_), None) => match refused.get(&14) {
                Some(why) => Requirement::Unreadable(why.clone()),
                None => Requirement::NotVerified,
            },
            (Some(_), Some(Err(e))) => Requirement::Undecodable(e.clone()),
            // The signed DG14 says nothing of chip authentication: none required.
            (Some(_), Some(Ok(infos))) if !infos.mentions_chip_authentication() => {
                Requirement::None
            }
            // It does: whatever keeps it from being run (a key without its domain
            // parameters, an entry of an unknown kind, a protocol without its key) leaves
            // the required proof unproven.
            (Some(_), Some(Ok(infos))) => match ChipAuthPlan::choose(infos) {
                Ok(plan) => Requirement::Run(plan),
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
                    &mut reporter,
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
                reporter.step(Step::ChipAuthentication, bytes);
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

    // No silent downgrade of the mapping either: EF.CardAccess is unsigned, so a chip
    // whose signed DG14 offers PACE-CAM must have proven itself by CAM or by chip
    // authentication.
    let offers_cam = dg14
        .as_ref()
        .and_then(|d| d.as_ref().ok())
        .is_some_and(SecurityInfos::offers_pace_cam);
    let chip = if offers_cam && chip.status == ChipStatus::NoneOffered {
        ChipResult::of(
            ChipMethod::PaceCam,
            ChipStatus::NotChecked,
            ChipProblemCode::PaceDowngraded,
            "the signed DG14 offers PACE-CAM, but the chip was opened without it and offers no chip authentication".into(),
        )
    } else {
        chip
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
    let policy = VerdictPolicy {
        require_chip_proof: request.policy.require_chip_proof,
    };

    // The identity, from data groups whose hash matched only.
    let undecodable =
        |passive: &mut crate::trust::PassiveResult, name: &str, e: &dyn std::fmt::Display| {
            passive.add_problem(
                ProblemCode::DgUndecodable,
                format!("{name} matches its hash but does not decode: {e}"),
            );
        };
    let dg1 = match dg1 {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            undecodable(&mut passive, "DG1", &e);
            None
        }
        None if groups.contains_key(&1) => None,
        None => {
            return Err(ReadError::File {
                file: "DG1",
                error: match refused.get(&1) {
                    Some(why) => format!("not readable ({why})"),
                    None => "not readable".into(),
                },
            });
        }
    };
    let full_name = match verified_bytes(11).map(|b| Dg11::parse(b)) {
        Some(Ok(d)) => d.full_name.clone(),
        Some(Err(e)) => {
            undecodable(&mut passive, "DG11", &e);
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
            undecodable(&mut passive, "DG13", &e);
            None
        }
        None => None,
    };

    // The face, last; the verified name goes to the caller before it. Data groups whose
    // hash matched an EF.SOD whose signature or chain failed name nobody.
    let mut face = None;
    if let Some(dg2) = DataGroup::new(2).filter(|_| read_face) {
        let signed_ok = passive.status != PassiveStatus::Invalid;
        let (document, holder) = identity.clone().filter(|_| signed_ok).unzip();
        // The face still to come can only lower the verdict; `genuine` is told before
        // it only when the chip proved itself.
        let so_far = Verdict::of(passive.status, chip.status, access_check, policy);
        let verdict =
            (so_far != Verdict::Genuine || chip.status == ChipStatus::Valid).then_some(so_far);
        reporter.partial(
            Partial {
                document,
                holder,
                vn: vn.clone().filter(|_| signed_ok),
                verdict,
            },
            bytes,
        );
        reporter.step(Step::DataGroup(2), bytes);
        match read_optional(&mut reader, &mut channel, dg2.sfi(), dg2.fid())? {
            Ok(data) => {
                bytes += data.len();
                passive.add_data_group(sod.as_ref(), 2, &data);
                // The image decoder (C, for JPEG 2000) sees only an image whose hash
                // matched.
                let matched = passive.data_groups.0.get(&2) == Some(&DataGroupStatus::Ok)
                    && passive.status != PassiveStatus::Invalid;
                if let (Some(format), true) = (request.face, matched) {
                    match Dg2::parse(&data)
                        .and_then(|d| d.decode_first(&ImageLimits::default(), format))
                    {
                        Ok(img) => face = Some(result::face_of(&img)),
                        Err(e) => undecodable(&mut passive, "DG2", &e),
                    }
                }
                files.insert(dg2.name().into(), data);
            }
            Err(why) => {
                tracing::debug!(dg = 2, why = %why, "data group not readable");
                if signed.as_ref().is_some_and(|s| s.contains(&2)) {
                    passive.add_problem(
                        ProblemCode::DgUnreadable,
                        format!("DG2 is hashed in EF.SOD but {why}"),
                    );
                }
            }
        }
    }
    // Every file's bytes, EF.CardAccess and EF.CardSecurity included.
    let stats = ReadStats {
        bytes,
        ..reader.stats()
    };
    drop(channel);
    let verdict = Verdict::of(passive.status, chip.status, access_check, policy);
    reporter.step(Step::Done, bytes);
    let signed_ok = passive.status != PassiveStatus::Invalid;
    let (document, holder) = identity.filter(|_| signed_ok).unzip();
    let vn = vn.filter(|_| signed_ok);
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

/// Short file identifier and file identifier of EF.CardSecurity in the master file.
const CARD_SECURITY_SFI: u8 = 0x1D;
const CARD_SECURITY_FID: u16 = 0x011D;

/// Why the chip did not give a file.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Refusal {
    /// It answered an error status word.
    Status(StatusWord),
    /// Its answers are no file: a malformed header, a file too large, a truncated
    /// answer, a secure-messaging error.
    Answer(String),
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Refusal::Status(sw) => write!(f, "the chip answered {sw}"),
            Refusal::Answer(e) => write!(f, "the chip's answer is no file: {e}"),
        }
    }
}

/// Reads a file; whatever the chip answers instead of it (an error status word, a
/// malformed or oversized file, a secure-messaging error) is an answer, not a failure of
/// the read: what it means is for the verdict to say. Only a transport failure (card
/// removed, reader error, no answer in time) ends the read.
fn read_optional<C: Card>(
    reader: &mut FileReader,
    channel: &mut C,
    sfi: u8,
    fid: u16,
) -> Result<Result<Vec<u8>, Refusal>, ReadError> {
    match reader.read_file_by_sfi(channel, sfi, fid) {
        Ok(data) => Ok(Ok(data)),
        Err(apdu::Error::Status(sw)) => Ok(Err(Refusal::Status(sw))),
        Err(
            e @ (apdu::Error::CardRemoved
            | apdu::Error::Transport(_)
            | apdu::Error::NoAnswer { .. }),
        ) => Err(e.into()),
        Err(e) => Ok(Err(Refusal::Answer(e.to_string()))),
    }
}

/// What the signed data says about a chip proof, before running it.
enum Requirement<P> {
    /// No proof of this kind is required.
    None,
    /// EF.SOD did not parse: nobody can say.
    Unknown,
    /// Its file is signed but the chip did not give it.
    Unreadable(Refusal),
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
            Requirement::Unreadable(why) => ChipResult::of(
                method,
                ChipStatus::Invalid,
                C::ChipKeyUnreadable,
                format!("{file} is hashed in EF.SOD but the chip did not give it: {why}"),
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
    refused: &BTreeMap<u8, Refusal>,
    dg14: Option<&SecurityInfos>,
    rng: &mut impl CryptoRng,
    reporter: &mut Reporter<'_>,
    bytes: usize,
) -> Result<ChipResult, ReadError> {
    let method = ChipMethod::ActiveAuthentication;
    let requirement = match (signed, dg15) {
        (None, _) => Requirement::Unknown,
        (Some(s), _) if !s.contains(&15) => Requirement::None,
        (Some(_), None) => match refused.get(&15) {
            Some(why) => Requirement::Unreadable(why.clone()),
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
    reporter.step(Step::ActiveAuthentication, bytes);
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
    card_security: Option<Result<Vec<u8>, Refusal>>,
    dg14: Option<&SecurityInfos>,
    trust: &TrustStore,
    now: Time,
    issuing_state: Option<&str>,
) -> ChipResult {
    let method = ChipMethod::PaceCam;
    let bytes = match card_security {
        Some(Ok(b)) => b,
        Some(Err(why)) => {
            return Requirement::<()>::Unreadable(why).into_result(method, "EF.CardSecurity");
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
            let verdicts: Vec<Result<ChipPublicKey, apdu::Error>> = keys
                .iter()
                .map(|k| {
                    let key = ChipPublicKey::from_info(k)?;
                    proof.verify(group.as_ref().map_err(Clone::clone)?, &key.public)?;
                    Ok(key)
                })
                .collect();
            // The signed DG14's chip-authentication keys, when it holds any: the key
            // PACE-CAM proved must be one of them, or the chip is not the one DG14 was
            // signed for.
            let dg14_keys: Vec<ChipPublicKey> = dg14
                .map(|i| {
                    i.chip_authentication_keys()
                        .filter_map(|k| ChipPublicKey::from_info(k).ok())
                        .collect()
                })
                .unwrap_or_default();
            let proven: Vec<&ChipPublicKey> =
                verdicts.iter().filter_map(|v| v.as_ref().ok()).collect();
            let same = |a: &ChipPublicKey, b: &ChipPublicKey| {
                a.group.agreement() == b.group.agreement() && a.public == b.public
            };
            if !proven.is_empty()
                && dg14.is_some_and(|i| i.chip_authentication_keys().next().is_some())
                && !proven.iter().any(|p| dg14_keys.iter().any(|k| same(p, k)))
            {
                ChipResult::of(
                    method,
                    ChipStatus::Invalid,
                    ChipProblemCode::ChipKeyMismatch,
                    "the key PACE-CAM proved (EF.CardSecurity) is none of the chip-authentication keys of the signed DG14".into(),
                )
            } else if !proven.is_empty() {
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
