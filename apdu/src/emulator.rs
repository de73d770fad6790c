//! The card side: a [`CardEmulator`] that answers APDUs from an in-memory [`CardImage`]
//! the way an eMRTD chip does (SELECT, READ BINARY B0/B1, GET CHALLENGE, MUTUAL
//! AUTHENTICATE, secure messaging), so every protocol runs terminal against card in
//! process, and the simulator can serve the same card to pcscd.
//!
//! It never panics on any APDU: [`CardEmulator::process`] takes raw bytes and always
//! answers with a status word.
//!
//! # Secure-messaging errors
//!
//! Terminals disagree about a plain status word under secure messaging (some count it
//! in the send sequence counter, some step their counter back), so the emulator never
//! leaves one ambiguous. It follows one rule (ICAO 9303-11, secure messaging):
//!
//! - every answer to a protected command it could unwrap is protected, errors included
//!   (DO'99' with the status word, DO'8E'), so both counters advance together; a READ
//!   BINARY whose protected answer would not fit the link gets a protected `6700`;
//! - it answers in plain when it cannot unwrap the command (an SM object missing or
//!   wrong: `6987` / `6988`; a plain command), and then it has ended the
//!   secure-messaging session: every later protected command gets `6987` until access
//!   control runs again;
//! - an extended-length APDU the chip does not support is refused with a plain `6700`
//!   before secure messaging sees it: the session and its counter are untouched, so a
//!   terminal that tried extended length (and steps its counter back on a bare length
//!   refusal) goes on in short APDUs in the same session.

use std::collections::BTreeMap;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::active_auth::{ChipAa, INS_INTERNAL_AUTHENTICATE};
use crate::bac::{self, ChipBac};
use crate::chip_auth::{ChipCa, P1_SET_COMPUTE, P2_AT, P2_KAT};
use crate::mrz::MrzKey;
use crate::pace::{
    ChipPace, ChipPaceConfig, ChipStaticKey, INS_GENERAL_AUTHENTICATE, INS_MSE, MSE_SET_AT_PACE,
};
use crate::read_binary::{INS_READ_BINARY, INS_READ_BINARY_ODD, INS_SELECT};

/// GET RESPONSE (ISO/IEC 7816-4 §11.4.5): the rest of a chained answer.
pub const INS_GET_RESPONSE: u8 = 0xC0;
use crate::rng::SystemRng;
use crate::secure_messaging::SmSession;
use crate::security_infos::ChipAuthenticationInfo;
use crate::tlv::{self, Tag, Tlv};
use crate::{Card, Command, Error, Response, StatusWord};

/// Who may read a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileAccess {
    /// Anyone, with or without secure messaging (EF.CardAccess, EF.ATR/INFO).
    Always,
    /// Only through an established secure channel (every LDS data group).
    SecureMessaging,
    /// Never without terminal authentication, which this card does not grant (DG3, DG4).
    TerminalAuthentication,
}

/// One elementary file.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatedFile {
    /// Contents.
    pub data: Vec<u8>,
    /// Who may read it.
    pub access: FileAccess,
    /// Short file identifier (1–30), if READ BINARY may address it so.
    pub sfi: Option<u8>,
}

impl core::fmt::Debug for EmulatedFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "EmulatedFile({} bytes, {:?})",
            self.data.len(),
            self.access
        )
    }
}

/// How a card refuses an Ne above what it can return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeRefusal {
    /// 6700, wrong length, with no hint.
    WrongLength,
    /// 6Cxx, naming the largest Ne it accepts.
    ExactLe,
}

/// The link and buffer properties of a chip: what makes reads fast or slow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChipLimits {
    /// Whether extended-length APDUs are accepted.
    pub extended_length: bool,
    /// Largest plain Ne READ BINARY honours.
    pub max_le: usize,
    /// How a larger Ne is refused.
    pub le_refusal: LeRefusal,
}

impl Default for ChipLimits {
    fn default() -> ChipLimits {
        ChipLimits {
            extended_length: false,
            max_le: 256,
            le_refusal: LeRefusal::WrongLength,
        }
    }
}

/// Deliberate misbehaviour of a test chip: what the simulator's attack cards (a clone
/// that refuses to prove its keys, hides them, or sends a wrong PACE-CAM proof) do
/// differently from a genuine chip. The default is a genuine chip.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChipAttack {
    /// Answer chip authentication (MSE:Set AT and MSE:Set KAT for CA, and its GENERAL
    /// AUTHENTICATE) with this status word instead of running it.
    pub refuse_chip_authentication: Option<StatusWord>,
    /// Answer INTERNAL AUTHENTICATE with this status word instead of signing.
    pub refuse_active_authentication: Option<StatusWord>,
    /// Files of the applications (by FID) the chip denies having: SELECT and READ
    /// BINARY by short file identifier answer 6A82.
    pub hidden_files: Vec<u16>,
    /// PACE-CAM: send a chip authentication datum CA_IC that is not the one proving the
    /// static key (the rest of PACE is genuine, so the channel opens).
    pub wrong_cam_proof: bool,
}

/// The contents and behaviour of a chip.
#[derive(Clone, Debug)]
pub struct CardImage {
    /// Answer to reset.
    pub atr: Vec<u8>,
    /// Files of the master file (EF.CardAccess 011C, EF.ATR/INFO 2F01, …).
    pub master_files: BTreeMap<u16, EmulatedFile>,
    /// Applications by AID, each with its files.
    pub applications: BTreeMap<Vec<u8>, BTreeMap<u16, EmulatedFile>>,
    /// MRZ information that opens the chip with BAC, if BAC is offered.
    pub bac: Option<MrzKey>,
    /// What the chip answers PACE with, if PACE is offered.
    pub pace: Option<ChipPaceConfig>,
    /// The static key and protocol of chip authentication, if offered.
    pub chip_authentication: Option<(ChipStaticKey, ChipAuthenticationInfo)>,
    /// The key that signs active authentication challenges, if offered.
    pub active_authentication: Option<std::sync::Arc<ChipAa>>,
    /// Buffer and link limits.
    pub limits: ChipLimits,
    /// Answer SELECT of the master file with 6D00 (some ID cards do).
    pub select_mf_unsupported: bool,
    /// Answer READ BINARY by short file identifier with 6A86 (older chips).
    pub sfi_unsupported: bool,
    /// Deliberate misbehaviour (attack cards); the default is none.
    pub attack: ChipAttack,
}

impl Default for CardImage {
    fn default() -> CardImage {
        CardImage {
            // A contactless-style ATR with no historical bytes of interest.
            atr: vec![0x3B, 0x80, 0x80, 0x01, 0x01],
            master_files: BTreeMap::new(),
            applications: BTreeMap::new(),
            bac: None,
            pace: None,
            chip_authentication: None,
            active_authentication: None,
            limits: ChipLimits::default(),
            select_mf_unsupported: false,
            sfi_unsupported: false,
            attack: ChipAttack::default(),
        }
    }
}

/// Counters a test or the simulator reads back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmulatorStats {
    /// Commands received.
    pub commands: usize,
    /// Bytes received (command APDUs).
    pub bytes_in: usize,
    /// Bytes sent (response APDUs).
    pub bytes_out: usize,
    /// READ BINARY commands received (B0 and B1), refused ones included.
    pub read_binary: usize,
    /// MUTUAL AUTHENTICATE or PACE attempts refused for a wrong key.
    pub failed_authentications: usize,
    /// PACE runs that opened a secure channel.
    pub pace_established: usize,
    /// Chip authentications that re-keyed the channel.
    pub chip_authentications: usize,
    /// INTERNAL AUTHENTICATE challenges signed.
    pub active_authentications: usize,
    /// Files (by FID) read at least partly, in order of first read.
    pub files_read: Vec<u16>,
    /// How often each file (by FID) was read from its start: more than once means the
    /// terminal read it twice.
    pub reads_from_start: BTreeMap<u16, usize>,
}

/// What the chip made of one command, in terms safe to log: the instruction, the file
/// and offset it addressed, lengths and the status word. Never the data field, which
/// carries key material and personal data; a simulator's APDU log is built from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSummary {
    /// Whether the command came under secure messaging (described after unwrapping).
    pub secure_messaging: bool,
    /// What the command asked for.
    pub operation: Operation,
    /// The status word the chip answered.
    pub sw: StatusWord,
}

/// The operation of a command, from its header and the chip's state alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Bytes that do not form a command APDU.
    Malformed,
    /// A secure-messaging command the chip could not unwrap (no session, bad MAC, a
    /// length the link refuses); only its instruction byte is known.
    Protected {
        /// The instruction byte of the wrapped command.
        ins: u8,
    },
    /// SELECT of the master file.
    SelectMasterFile,
    /// SELECT of an application by AID.
    SelectApplication {
        /// Whether the AID is the eMRTD application's (`A0 00 00 02 47 10 01`).
        emrtd: bool,
    },
    /// SELECT of an elementary file by file identifier.
    SelectFile {
        /// The file identifier asked for (found or not).
        fid: u16,
    },
    /// Another form of SELECT.
    Select {
        /// P1.
        p1: u8,
        /// P2.
        p2: u8,
    },
    /// READ BINARY (B0) or READ BINARY with offset data object (B1).
    ReadBinary {
        /// The file it addresses, when the chip could tell.
        fid: Option<u16>,
        /// The short file identifier, when it addresses the file by one.
        sfi: Option<u8>,
        /// The offset, when it could be read.
        offset: Option<usize>,
        /// Ne.
        le: Option<usize>,
        /// Whether it is the odd-instruction form (B1).
        odd: bool,
    },
    /// GET CHALLENGE.
    GetChallenge {
        /// Ne.
        le: Option<usize>,
    },
    /// MUTUAL AUTHENTICATE (BAC).
    MutualAuthenticate,
    /// MSE:Set AT for PACE.
    MseSetAtPace,
    /// MSE:Set AT for chip authentication.
    MseSetAtChipAuthentication,
    /// MSE:Set KAT (chip authentication version 1).
    MseSetKat,
    /// Another MSE.
    Mse {
        /// P1.
        p1: u8,
        /// P2.
        p2: u8,
    },
    /// GENERAL AUTHENTICATE (PACE steps, chip authentication).
    GeneralAuthenticate {
        /// Whether command chaining says more steps follow (CLA bit 5).
        chained: bool,
    },
    /// INTERNAL AUTHENTICATE (active authentication).
    InternalAuthenticate,
    /// GET RESPONSE: the next part of a chained answer (ISO/IEC 7816-4 §5.3.4).
    GetResponse {
        /// Ne.
        le: Option<usize>,
    },
    /// An instruction the chip does not know.
    Other {
        /// CLA (secure-messaging bits included).
        cla: u8,
        /// INS.
        ins: u8,
        /// P1.
        p1: u8,
        /// P2.
        p2: u8,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Selected {
    MasterFile,
    Application,
}

/// A chip answering APDUs from a [`CardImage`].
pub struct CardEmulator<R: CryptoRng = SystemRng> {
    image: CardImage,
    rng: R,
    df: Selected,
    application: Option<Vec<u8>>,
    file: Option<u16>,
    bac: Option<ChipBac>,
    pace: Option<ChipPace>,
    ca: Option<ChipCa>,
    /// Which protocol the last MSE set up for GENERAL AUTHENTICATE.
    ga_for_ca: bool,
    session: Option<SmSession>,
    /// A session that starts with the next command (set by the command that opened it).
    pending_session: Option<SmSession>,
    stats: EmulatorStats,
    /// The rest of an answer too long for the command's Ne, with the status word it
    /// ends with: GET RESPONSE fetches it (ISO/IEC 7816-4 §5.3.4).
    chained: Option<(Zeroizing<Vec<u8>>, StatusWord)>,
    /// The last command's operation, set while it is answered.
    operation: Option<(Operation, bool)>,
    last_command: Option<CommandSummary>,
}

impl<R: CryptoRng> core::fmt::Debug for CardEmulator<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CardEmulator")
            .field("secure_messaging", &self.session.is_some())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl CardEmulator<SystemRng> {
    /// A chip with this image, drawing its nonces from the system generator.
    pub fn new(image: CardImage) -> Self {
        CardEmulator::with_rng(image, SystemRng)
    }
}

impl<R: CryptoRng> CardEmulator<R> {
    /// A chip with this image and randomness source.
    pub fn with_rng(image: CardImage, rng: R) -> Self {
        let bac = image.bac.as_ref().map(ChipBac::new);
        let pace = image.pace.clone().map(ChipPace::new);
        let ca = chip_ca(&image);
        CardEmulator {
            image,
            rng,
            df: Selected::MasterFile,
            application: None,
            file: None,
            bac,
            pace,
            ca,
            ga_for_ca: false,
            pending_session: None,
            session: None,
            chained: None,
            stats: EmulatorStats::default(),
            operation: None,
            last_command: None,
        }
    }

    /// The image.
    pub fn image(&self) -> &CardImage {
        &self.image
    }

    /// Counters since power-on.
    pub fn stats(&self) -> &EmulatorStats {
        &self.stats
    }

    /// What the last command asked for and what the chip answered, for a log; `None`
    /// before the first command.
    pub fn last_command(&self) -> Option<&CommandSummary> {
        self.last_command.as_ref()
    }

    /// Whether a secure channel is open.
    pub fn has_secure_channel(&self) -> bool {
        self.session.is_some()
    }

    /// Cold reset: forgets selection and session, keeps the counters.
    pub fn reset(&mut self) {
        self.df = Selected::MasterFile;
        self.application = None;
        self.file = None;
        self.session = None;
        self.bac = self.image.bac.as_ref().map(ChipBac::new);
        self.pace = self.image.pace.clone().map(ChipPace::new);
        self.ca = chip_ca(&self.image);
        self.ga_for_ca = false;
        self.pending_session = None;
        self.chained = None;
    }

    /// Answers one raw command APDU with a raw response APDU.
    pub fn process(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.stats.commands += 1;
        self.stats.bytes_in += apdu.len();
        self.operation = None;
        let response = match Command::decode(apdu) {
            Ok(command) if command.ins == INS_GET_RESPONSE && command.cla & 0x0C == 0 => {
                match self.chained.take() {
                    // The rest of a chained answer: neither a new command nor the end of
                    // secure messaging.
                    Some(rest) => {
                        self.operation = Some((Operation::GetResponse { le: command.le }, false));
                        self.get_response(&command, rest)
                    }
                    None => self.answer_command(&command),
                }
            }
            Ok(command) => {
                self.chained = None;
                self.answer_command(&command)
            }
            Err(_) => {
                self.chained = None;
                Response::status(StatusWord::WrongLength)
            }
        };
        let (operation, secure_messaging) = self
            .operation
            .take()
            .unwrap_or((Operation::Malformed, false));
        self.last_command = Some(CommandSummary {
            secure_messaging,
            operation,
            sw: response.sw,
        });
        tracing::trace!(ins = format_args!("{:02X}", apdu.get(1).copied().unwrap_or_default()), sw = %response.sw, "chip answered");
        let bytes = response.encode();
        self.stats.bytes_out += bytes.len();
        bytes
    }

    /// Answers one decoded command, chaining an answer longer than its Ne.
    fn answer_command(&mut self, command: &Command) -> Response {
        let response = self.answer(command);
        if self.operation.is_none() {
            // Refused before it was unwrapped: only the outer header is known.
            self.operation = Some(if command.cla & 0x0C != 0 {
                (Operation::Protected { ins: command.ins }, true)
            } else {
                (self.operation_of(command), false)
            });
        }
        // READ BINARY never chains: it returns at most Ne bytes, and a protected answer
        // that outgrows the link is refused below (6700).
        if matches!(command.ins, INS_READ_BINARY | INS_READ_BINARY_ODD) {
            return response;
        }
        let link = if command.is_extended() {
            crate::command::MAX_EXTENDED_NE
        } else {
            crate::command::MAX_SHORT_NE
        };
        let ne = command.le.unwrap_or(link).min(link);
        if response.data.len() <= ne {
            return response;
        }
        // Too long for Ne: the first Ne bytes now, the rest by GET RESPONSE.
        let Response { mut data, sw } = response;
        let rest = Zeroizing::new(data.split_off(ne));
        let remaining = remaining_sw(rest.len());
        self.chained = Some((rest, sw));
        Response::new(data, remaining)
    }

    /// GET RESPONSE: the next part of a chained answer, Ne bytes at most.
    fn get_response(
        &mut self,
        command: &Command,
        (mut rest, sw): (Zeroizing<Vec<u8>>, StatusWord),
    ) -> Response {
        if command.p1 != 0 || command.p2 != 0 {
            self.chained = Some((rest, sw));
            return Response::status(StatusWord::IncorrectP1P2);
        }
        let ne = command.le.unwrap_or(crate::command::MAX_SHORT_NE);
        if rest.len() <= ne {
            return Response::new(rest.to_vec(), sw);
        }
        let later = Zeroizing::new(rest.split_off(ne));
        let remaining = remaining_sw(later.len());
        self.chained = Some((later, sw));
        Response::new(rest.to_vec(), remaining)
    }

    fn answer(&mut self, command: &Command) -> Response {
        if command.is_extended() && !self.image.limits.extended_length {
            // Refused for its length before it is unwrapped: the session and its counter
            // are untouched (see the module documentation).
            return Response::status(StatusWord::WrongLength);
        }
        if command.cla & 0x0C != 0 {
            let Some(session) = self.session.as_mut() else {
                return Response::status(StatusWord::SmDataObjectsMissing);
            };
            let plain = match session.unprotect_command(command) {
                Ok(plain) => plain,
                Err(sw) => {
                    self.session = None;
                    return Response::status(sw);
                }
            };
            let answer = self.dispatch(&plain, true);
            let Some(session) = self.session.as_mut() else {
                return Response::status(StatusWord::ConditionsNotSatisfied);
            };
            let limit = if self.image.limits.extended_length {
                crate::command::MAX_EXTENDED_NE
            } else {
                crate::command::MAX_SHORT_NE
            };
            let answer = if matches!(plain.ins, INS_READ_BINARY | INS_READ_BINARY_ODD)
                && protected_len(session.suite(), plain.ins, answer.data.len()) > limit
            {
                // A protected READ BINARY answer that does not fit the link: refused with
                // a protected 6700 (other answers are chained with GET RESPONSE by
                // `answer_command`).
                Response::status(StatusWord::WrongLength)
            } else {
                answer
            };
            let protected = match session.protect_response(plain.ins, &answer) {
                Ok(r) => r,
                Err(_) => {
                    self.session = None;
                    return Response::status(StatusWord::ConditionsNotSatisfied);
                }
            };
            if let Some(next) = self.pending_session.take() {
                // Chip authentication: this answer went out under the old keys.
                self.session = Some(next);
            }
            return protected;
        }
        // A plain command ends secure messaging (ICAO 9303-11 §9.8.6).
        self.session = None;
        let response = self.dispatch(command, false);
        if let Some(session) = self.pending_session.take() {
            self.session = Some(session);
        }
        response
    }

    fn dispatch(&mut self, command: &Command, protected: bool) -> Response {
        self.operation = Some((self.operation_of(command), protected));
        match command.ins {
            INS_SELECT => self.select(command),
            INS_READ_BINARY | INS_READ_BINARY_ODD => self.read_binary(command, protected),
            bac::INS_GET_CHALLENGE => self.get_challenge(command),
            bac::INS_MUTUAL_AUTHENTICATE => self.mutual_authenticate(command),
            INS_MSE => self.manage_security_environment(command),
            INS_GENERAL_AUTHENTICATE => self.general_authenticate(command),
            INS_INTERNAL_AUTHENTICATE => self.internal_authenticate(command),
            _ => Response::status(StatusWord::InsNotSupported),
        }
    }

    /// What `command` asks for, judged before it runs (the current file may change).
    fn operation_of(&self, command: &Command) -> Operation {
        let (p1, p2) = (command.p1, command.p2);
        match command.ins {
            INS_SELECT => match (p1, command.data.as_slice()) {
                (0x00, [] | [0x3F, 0x00]) => Operation::SelectMasterFile,
                (0x04, aid) => Operation::SelectApplication {
                    emrtd: aid == crate::read_binary::ICAO_AID,
                },
                (0x02, [hi, lo]) => Operation::SelectFile {
                    fid: u16::from_be_bytes([*hi, *lo]),
                },
                _ => Operation::Select { p1, p2 },
            },
            INS_READ_BINARY | INS_READ_BINARY_ODD => {
                let odd = command.ins == INS_READ_BINARY_ODD;
                let target = self.read_target(command, odd).ok();
                Operation::ReadBinary {
                    fid: target.map(|(fid, _)| fid),
                    sfi: (!odd && p1 & 0x80 != 0).then_some(p1 & 0x1F),
                    offset: target.map(|(_, offset)| offset),
                    le: command.le,
                    odd,
                }
            }
            bac::INS_GET_CHALLENGE => Operation::GetChallenge { le: command.le },
            bac::INS_MUTUAL_AUTHENTICATE => Operation::MutualAuthenticate,
            INS_MSE => match [p1, p2] {
                MSE_SET_AT_PACE => Operation::MseSetAtPace,
                [P1_SET_COMPUTE, P2_AT] => Operation::MseSetAtChipAuthentication,
                [P1_SET_COMPUTE, P2_KAT] => Operation::MseSetKat,
                _ => Operation::Mse { p1, p2 },
            },
            INS_GENERAL_AUTHENTICATE => Operation::GeneralAuthenticate {
                chained: command.cla & 0x10 != 0,
            },
            INS_INTERNAL_AUTHENTICATE => Operation::InternalAuthenticate,
            INS_GET_RESPONSE => Operation::GetResponse { le: command.le },
            ins => Operation::Other {
                cla: command.cla,
                ins,
                p1,
                p2,
            },
        }
    }

    fn select(&mut self, command: &Command) -> Response {
        match (command.p1, command.data.as_slice()) {
            (0x00, [] | [0x3F, 0x00]) => {
                if self.image.select_mf_unsupported {
                    return Response::status(StatusWord::InsNotSupported);
                }
                self.df = Selected::MasterFile;
                self.application = None;
                self.file = None;
                Response::status(StatusWord::Success)
            }
            (0x04, aid) => {
                if self.image.applications.contains_key(aid) {
                    self.df = Selected::Application;
                    self.application = Some(aid.to_vec());
                    self.file = None;
                    Response::status(StatusWord::Success)
                } else {
                    Response::status(StatusWord::FileNotFound)
                }
            }
            (0x02, [hi, lo]) => {
                let fid = u16::from_be_bytes([*hi, *lo]);
                if self.is_hidden(fid) {
                    return Response::status(StatusWord::FileNotFound);
                }
                if self.files().is_some_and(|f| f.contains_key(&fid)) {
                    self.file = Some(fid);
                    Response::status(StatusWord::Success)
                } else {
                    Response::status(StatusWord::FileNotFound)
                }
            }
            _ => Response::status(StatusWord::IncorrectP1P2),
        }
    }

    /// Whether the chip denies having this file of the current application.
    fn is_hidden(&self, fid: u16) -> bool {
        self.df == Selected::Application && self.image.attack.hidden_files.contains(&fid)
    }

    fn files(&self) -> Option<&BTreeMap<u16, EmulatedFile>> {
        match self.df {
            Selected::MasterFile => Some(&self.image.master_files),
            Selected::Application => self
                .application
                .as_ref()
                .and_then(|aid| self.image.applications.get(aid)),
        }
    }

    fn read_binary(&mut self, command: &Command, protected: bool) -> Response {
        self.stats.read_binary += 1;
        let odd = command.ins == INS_READ_BINARY_ODD;
        let (fid, offset) = match self.read_target(command, odd) {
            Ok(t) => t,
            Err(sw) => return Response::status(sw),
        };
        let Some(file) = self.files().and_then(|f| f.get(&fid)) else {
            return Response::status(StatusWord::CommandNotAllowed);
        };
        match file.access {
            FileAccess::Always => {}
            FileAccess::SecureMessaging if protected => {}
            FileAccess::SecureMessaging | FileAccess::TerminalAuthentication => {
                return Response::status(StatusWord::SecurityStatusNotSatisfied);
            }
        }
        let Some(le) = command.le else {
            return Response::status(StatusWord::WrongLength);
        };
        let limits = self.image.limits;
        if le > limits.max_le {
            return Response::status(match limits.le_refusal {
                LeRefusal::WrongLength => StatusWord::WrongLength,
                LeRefusal::ExactLe => StatusWord::WrongLe((limits.max_le % 256) as u8),
            });
        }
        if offset > file.data.len() {
            return Response::status(StatusWord::WrongParameters);
        }
        let data_le = if odd { odd_data_len(le) } else { le };
        let end = offset.saturating_add(data_le).min(file.data.len());
        let chunk = file.data.get(offset..end).unwrap_or_default().to_vec();
        let short = chunk.len() < data_le;
        if offset == 0 {
            *self.stats.reads_from_start.entry(fid).or_default() += 1;
        }
        if !self.stats.files_read.contains(&fid) {
            self.stats.files_read.push(fid);
        }
        if let Some(sfi_file) = self.select_after_read(command, odd) {
            self.file = Some(sfi_file);
        }
        let data = if odd {
            tlv::encode(Tag::new(0x53), &chunk)
        } else {
            chunk
        };
        let sw = if short {
            StatusWord::EndOfFileReached
        } else {
            StatusWord::Success
        };
        Response::new(data, sw)
    }

    /// The file and offset a READ BINARY addresses.
    fn read_target(&self, command: &Command, odd: bool) -> Result<(u16, usize), StatusWord> {
        if odd {
            let fid = self.file.ok_or(StatusWord::CommandNotAllowed)?;
            let object = Tlv::parse(&command.data).map_err(|_| StatusWord::IncorrectData)?;
            if object.tag() != Tag::new(0x54)
                || object.value().is_empty()
                || object.value().len() > 3
            {
                return Err(StatusWord::IncorrectData);
            }
            let offset = object
                .value()
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            return Ok((fid, offset));
        }
        if command.p1 & 0x80 != 0 {
            if self.image.sfi_unsupported {
                return Err(StatusWord::IncorrectP1P2);
            }
            let sfi = command.p1 & 0x1F;
            let fid = self
                .files()
                .and_then(|files| files.iter().find(|(_, f)| f.sfi == Some(sfi)))
                .map(|(fid, _)| *fid)
                .filter(|fid| !self.is_hidden(*fid))
                .ok_or(StatusWord::FileNotFound)?;
            return Ok((fid, usize::from(command.p2)));
        }
        let fid = self.file.ok_or(StatusWord::CommandNotAllowed)?;
        Ok((
            fid,
            usize::from(u16::from_be_bytes([command.p1, command.p2])),
        ))
    }

    /// READ BINARY by SFI makes that file the current one.
    fn select_after_read(&self, command: &Command, odd: bool) -> Option<u16> {
        if odd || command.p1 & 0x80 == 0 {
            return None;
        }
        let sfi = command.p1 & 0x1F;
        self.files()
            .and_then(|files| files.iter().find(|(_, f)| f.sfi == Some(sfi)))
            .map(|(fid, _)| *fid)
    }

    fn get_challenge(&mut self, command: &Command) -> Response {
        let Some(bac) = self.bac.as_mut() else {
            return Response::status(StatusWord::InsNotSupported);
        };
        if command.le != Some(8) {
            return Response::status(StatusWord::WrongLength);
        }
        Response::new(bac.challenge(&mut self.rng).to_vec(), StatusWord::Success)
    }

    fn mutual_authenticate(&mut self, command: &Command) -> Response {
        let Some(bac) = self.bac.as_mut() else {
            return Response::status(StatusWord::InsNotSupported);
        };
        match bac.mutual_authenticate(&command.data, &mut self.rng) {
            Ok((answer, session)) => {
                self.pending_session = Some(session);
                Response::new(answer, StatusWord::Success)
            }
            Err(sw) => {
                self.stats.failed_authentications += 1;
                Response::status(sw)
            }
        }
    }
}

/// Length of the protected answer carrying `plain` bytes to a command with `ins` (an odd
/// INS carries them in DO'85', without the padding-content indicator of DO'87').
fn protected_len(suite: crate::crypto::CipherSuite, ins: u8, plain: usize) -> usize {
    let len = crate::secure_messaging::protected_response_len(suite, plain);
    if ins & 1 == 1 && plain > 0 {
        len.saturating_sub(1)
    } else {
        len
    }
}

fn chip_ca(image: &CardImage) -> Option<ChipCa> {
    let (key, info) = image.chip_authentication.as_ref()?;
    ChipCa::new(key.group.clone(), key.private.clone(), info.clone()).ok()
}

/// The most data bytes that fit in `le` bytes once wrapped in DO'53'.
fn odd_data_len(le: usize) -> usize {
    match le {
        0..=2 => 0,
        3..=129 => le - 2,
        130..=258 => (le - 3).min(255),
        _ => le - 4,
    }
}

/// 61xx: how many bytes are left of a chained answer (00 for 256 or more).
fn remaining_sw(len: usize) -> StatusWord {
    StatusWord::BytesRemaining(u8::try_from(len).unwrap_or(0))
}

/// The last PACE-CAM answer with a wrong CA_IC: the genuine one decrypted, its last bit
/// flipped (so CA_IC · PK_IC no longer equals PK_Map,IC), encrypted again the same way
/// (KS_enc, IV = E(KS_enc, -1)). `None` when the answer has no CAM data.
fn spoil_cam_proof(data: &[u8], session: &SmSession) -> Option<Vec<u8>> {
    let outer = Tlv::parse(data).ok()?;
    if outer.tag() != Tag::new(0x7C) {
        return None;
    }
    let keys = session.keys();
    let suite = keys.suite();
    let block = suite.block_size();
    let mut iv = vec![0xFF; block];
    crate::crypto::encrypt_block(suite, keys.enc(), &mut iv).ok()?;
    let mut body = Vec::new();
    let mut spoiled = false;
    for object in tlv::TlvIter::new(outer.value()) {
        let object = object.ok()?;
        if object.tag() != Tag::new(0x8A) {
            body.extend_from_slice(object.raw());
            continue;
        }
        let mut plain = Zeroizing::new(object.value().to_vec());
        crate::crypto::decrypt_cbc(suite, keys.enc(), &iv, &mut plain).ok()?;
        let mut ca = Zeroizing::new(crate::crypto::unpad(&plain, block).ok()?.to_vec());
        *ca.last_mut()? ^= 0x01;
        let mut encrypted = crate::crypto::pad(&ca, block);
        crate::crypto::encrypt_cbc(suite, keys.enc(), &iv, &mut encrypted).ok()?;
        tlv::encode_into(Tag::new(0x8A), &encrypted, &mut body);
        spoiled = true;
    }
    spoiled.then(|| tlv::encode(Tag::new(0x7C), &body))
}

impl<R: CryptoRng> CardEmulator<R> {
    fn manage_security_environment(&mut self, command: &Command) -> Response {
        match [command.p1, command.p2] {
            MSE_SET_AT_PACE => {
                self.ga_for_ca = false;
                match self.pace.as_mut() {
                    Some(pace) => Response::status(pace.set_at(&command.data)),
                    None => Response::status(StatusWord::ReferencedDataNotFound),
                }
            }
            [P1_SET_COMPUTE, P2_AT | P2_KAT]
                if let Some(sw) = self.image.attack.refuse_chip_authentication =>
            {
                self.ga_for_ca = false;
                Response::status(sw)
            }
            [P1_SET_COMPUTE, P2_AT] => {
                let Some(ca) = self.ca.as_mut() else {
                    return Response::status(StatusWord::ReferencedDataNotFound);
                };
                self.ga_for_ca = true;
                match ca.mse_set_at(&command.data) {
                    Ok(()) => Response::status(StatusWord::Success),
                    Err(sw) => Response::status(sw),
                }
            }
            [P1_SET_COMPUTE, P2_KAT] => {
                let (Some(ca), Some(current)) = (self.ca.as_mut(), self.session.as_ref()) else {
                    return Response::status(StatusWord::ConditionsNotSatisfied);
                };
                match ca.mse_set_kat(&command.data, current, &mut self.rng) {
                    Ok(next) => {
                        self.stats.chip_authentications += 1;
                        self.pending_session = Some(next);
                        Response::status(StatusWord::Success)
                    }
                    Err(sw) => Response::status(sw),
                }
            }
            _ => Response::status(StatusWord::IncorrectP1P2),
        }
    }

    fn internal_authenticate(&mut self, command: &Command) -> Response {
        if let Some(sw) = self.image.attack.refuse_active_authentication {
            return Response::status(sw);
        }
        let Some(aa) = self.image.active_authentication.clone() else {
            return Response::status(StatusWord::InsNotSupported);
        };
        match aa.internal_authenticate(&command.data, &mut self.rng) {
            Ok(signature) => {
                self.stats.active_authentications += 1;
                Response::new(signature, StatusWord::Success)
            }
            Err(sw) => Response::status(sw),
        }
    }

    fn general_authenticate(&mut self, command: &Command) -> Response {
        if self.ga_for_ca {
            self.ga_for_ca = false;
            if let Some(sw) = self.image.attack.refuse_chip_authentication {
                return Response::status(sw);
            }
            let Some(ca) = self.ca.as_mut() else {
                return Response::status(StatusWord::ConditionsNotSatisfied);
            };
            return match ca.general_authenticate(&command.data, &mut self.rng) {
                Ok((data, next)) => {
                    self.stats.chip_authentications += 1;
                    self.pending_session = Some(next);
                    Response::new(data, StatusWord::Success)
                }
                Err(sw) => Response::status(sw),
            };
        }
        let Some(pace) = self.pace.as_mut() else {
            return Response::status(StatusWord::ConditionsNotSatisfied);
        };
        let (mut response, session) = pace.general_authenticate(command, &mut self.rng);
        if response.sw == StatusWord::AuthenticationFailed {
            self.stats.failed_authentications += 1;
        }
        if let Some(session) = session {
            self.stats.pace_established += 1;
            if self.image.attack.wrong_cam_proof {
                match spoil_cam_proof(&response.data, &session) {
                    Some(data) => response.data = data,
                    None => return Response::status(StatusWord::NoPreciseDiagnosis),
                }
            }
            // The answer to this command goes out in clear; the channel starts after it.
            self.pending_session = Some(session);
        }
        response
    }
}

impl<R: CryptoRng> Card for CardEmulator<R> {
    fn transmit(&mut self, command: &Command) -> Result<Response, Error> {
        let bytes = command.encode()?;
        Response::decode(&self.process(&bytes))
    }

    fn extended_length(&self) -> bool {
        self.image.limits.extended_length
    }
}
