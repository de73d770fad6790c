//! PC/SC readers through pcscd (the `pcsc` crate): listing readers, connecting to a card
//! as an [`apdu::Card`], and watching readers come and go and cards be inserted and
//! removed.
//!
//! The PC/SC calls block, so a [`Watcher`] runs on its own thread and reports
//! [`ReaderEvent`]s through a callback; a read runs on the thread that owns the
//! [`PcscCard`].

use std::ffi::{CStr, CString};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use apdu::{Command, Response};
use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};

use super::atr::Atr;
use super::{Kind, ReaderInfo};

/// Why a PC/SC operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PcscError {
    /// pcscd is not running (or not reachable).
    #[error("the PC/SC service is not available: {0}")]
    NoService(pcsc::Error),
    /// No reader of that name.
    #[error("no reader named {0:?}")]
    UnknownReader(String),
    /// The reader has no card.
    #[error("no card in the reader")]
    NoCard,
    /// Anything else pcscd said.
    #[error("PC/SC: {0}")]
    Pcsc(#[from] pcsc::Error),
    /// The reader did not connect to the card in time.
    #[error(
        "the reader did not connect to the card within {0} ms (a card that stopped answering may still hold it)"
    )]
    NoAnswer(u64),
    /// The card's thread could not run.
    #[error("PC/SC: {0}")]
    Thread(String),
    /// Another program holds the reader: an exclusive connection, or a transaction that
    /// did not end within the command deadline.
    #[error(
        "the reader is busy: another program holds it (an exclusive connection or a transaction); try again when it is done"
    )]
    Busy,
}

fn establish() -> Result<Context, PcscError> {
    Context::establish(Scope::User).map_err(PcscError::NoService)
}

/// The PC/SC readers and what is in them.
pub fn list_readers() -> Result<Vec<ReaderInfo>, PcscError> {
    let ctx = establish()?;
    let names = match ctx.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut states: Vec<ReaderState> = names
        .iter()
        .map(|n| ReaderState::new(n.clone(), State::UNAWARE))
        .collect();
    ctx.get_status_change(Duration::ZERO, &mut states)?;
    Ok(states
        .iter()
        .map(|s| {
            let present = s.event_state().contains(State::PRESENT);
            ReaderInfo {
                name: s.name().to_string_lossy().into_owned(),
                kind: Kind::Pcsc,
                card_present: Some(present),
                atr: present.then(|| hex::encode_upper(s.atr())),
                // pcscd does not say whether a read is under way.
                busy: false,
            }
        })
        .collect())
}

/// How long a card may take to answer one command before the read ends.
///
/// SCardTransmit blocks until the reader's driver returns, and pcscd cannot abort it,
/// so each command runs on the card's own thread and the read waits for it only this
/// long. A card past its deadline ends the read with [`apdu::Error::NoAnswer`] naming
/// the command; its handle is released (SCardDisconnect with reset) as soon as the
/// driver returns, and the next read connects afresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    /// Every command but the chip's cryptographic steps.
    pub command: Duration,
    /// GENERAL AUTHENTICATE (PACE, CA v2, PACE-CAM), MSE:Set KAT (CA v1), INTERNAL and
    /// EXTERNAL AUTHENTICATE (AA, BAC): the chip computes before it answers.
    pub crypto: Duration,
}

impl Default for Deadlines {
    fn default() -> Deadlines {
        Deadlines {
            command: Duration::from_secs(5),
            crypto: Duration::from_secs(20),
        }
    }
}

impl Deadlines {
    /// The deadline of the command with instruction byte `ins`.
    pub fn of(&self, ins: u8) -> Duration {
        match ins {
            0x86 | 0x87 | 0x22 | 0x88 | 0x82 => self.crypto,
            _ => self.command,
        }
    }
}

/// The name of the command with instruction byte `ins`, for errors and logs.
pub fn command_name(ins: u8) -> &'static str {
    match ins {
        0xA4 => "SELECT",
        0xB0 | 0xB1 => "READ BINARY",
        0xC0 => "GET RESPONSE",
        0x84 => "GET CHALLENGE",
        0x82 => "EXTERNAL AUTHENTICATE",
        0x88 => "INTERNAL AUTHENTICATE",
        0x86 | 0x87 => "GENERAL AUTHENTICATE",
        0x22 => "MANAGE SECURITY ENVIRONMENT",
        _ => "a command",
    }
}

type Answer = Result<Vec<u8>, apdu::Error>;

/// How far the card's thread got in opening the card.
enum Opening {
    /// Connected (shared); the ATR. The transaction comes next.
    Connected(Vec<u8>),
    /// The read's transaction began: no other program's command can come in between.
    InTransaction,
}

/// The thread that owns the card handle and runs its blocking calls.
struct Io {
    commands: mpsc::Sender<Vec<u8>>,
    answers: mpsc::Receiver<Answer>,
}

/// A card in a PC/SC reader.
pub struct PcscCard {
    /// `None` once a command missed its deadline: the read cannot go on.
    io: Option<Io>,
    stuck: Option<apdu::Error>,
    /// Joined on drop unless stuck, so the card is reset before the next read.
    thread: Option<std::thread::JoinHandle<()>>,
    deadlines: Deadlines,
    atr: Vec<u8>,
    extended_length: bool,
}

impl Drop for PcscCard {
    fn drop(&mut self) {
        // Closing the command channel ends the card's thread, which disconnects (with a
        // reset when the card is still there); wait for that (it is immediate) unless the
        // card stopped answering.
        self.io = None;
        if let Some(thread) = self.thread.take()
            && self.stuck.is_none()
        {
            let _ = thread.join();
        }
    }
}

impl core::fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PcscCard")
            .field("extended_length", &self.extended_length)
            .field("deadlines", &self.deadlines)
            .finish_non_exhaustive()
    }
}

impl PcscCard {
    /// Connects to the card in `reader` with the default [`Deadlines`].
    pub fn connect(reader: &str) -> Result<PcscCard, PcscError> {
        PcscCard::connect_with(reader, Deadlines::default())
    }

    /// Connects to the card in `reader` (shared, so other programs can still list it)
    /// and begins the transaction the whole read runs in, on a thread of its own; the
    /// connection and the transaction each must come within the command deadline, else
    /// the reader is [`PcscError::Busy`] (another program holds it) or the card does
    /// not answer ([`PcscError::NoAnswer`]).
    pub fn connect_with(reader: &str, deadlines: Deadlines) -> Result<PcscCard, PcscError> {
        let name = CString::new(reader).map_err(|_| PcscError::UnknownReader(reader.to_owned()))?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let (commands, command_rx) = mpsc::channel::<Vec<u8>>();
        let (answer_tx, answers) = mpsc::channel::<Answer>();
        let owned = reader.to_owned();
        let thread = std::thread::Builder::new()
            .name("pcsc-card".into())
            .spawn(move || {
                let mut card = match connect_blocking(&name, &owned) {
                    Ok((card, atr)) => {
                        if ready_tx.send(Ok(Opening::Connected(atr))).is_err() {
                            return;
                        }
                        card
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // The whole read is one transaction (SCardBeginTransaction): secure
                // messaging counts its commands, so another program's command in
                // between would break the session. Begin waits while another program
                // holds one; the caller stops waiting at the deadline.
                let transaction = match card.transaction() {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = ready_tx.send(Err(busy_or(e)));
                        return;
                    }
                };
                if ready_tx.send(Ok(Opening::InTransaction)).is_err() {
                    return;
                }
                let mut buffer = vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED];
                let mut gone = false;
                while let Ok(command) = command_rx.recv() {
                    let answer = match transaction.transmit(&command, &mut buffer) {
                        // No status word at all: how vpcd, and readers that lose the
                        // card mid-exchange, answer; pcscd may not know yet.
                        Ok([]) => {
                            gone = true;
                            Ok(Vec::new())
                        }
                        Ok(answer) => Ok(answer.to_vec()),
                        Err(e) => {
                            let error = card_error(&transaction, e);
                            gone |= error == apdu::Error::CardRemoved;
                            Err(error)
                        }
                    };
                    if answer_tx.send(answer).is_err() {
                        break;
                    }
                }
                // Ending the transaction leaves the card as it is.
                let _ = transaction.end(pcsc::Disposition::LeaveCard);
                // A card still there is reset, which ends its secure-messaging session
                // before the next read. A card that has gone is left alone: pcscd (1.9)
                // answers the reset of a gone card by marking the slot empty itself,
                // before its polling thread has seen the card go, and a card back
                // before that thread's next poll then stayed unseen until taken away
                // again (a card held loosely over an NFC reader does just that).
                let disposition = if gone || card_gone(&card) {
                    pcsc::Disposition::LeaveCard
                } else {
                    pcsc::Disposition::ResetCard
                };
                let _ = card.disconnect(disposition);
            })
            .map_err(|e| PcscError::Thread(e.to_string()))?;
        let mut card = PcscCard {
            io: Some(Io { commands, answers }),
            stuck: None,
            thread: Some(thread),
            deadlines,
            atr: Vec::new(),
            extended_length: false,
        };
        let waited = deadlines.command.as_millis() as u64;
        let atr = match ready_rx.recv_timeout(deadlines.command) {
            Ok(Ok(Opening::Connected(atr))) => atr,
            Ok(Ok(Opening::InTransaction)) => {
                return Err(PcscError::Thread("the card thread skipped a step".into()));
            }
            Ok(Err(e)) => return Err(e),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                card.stuck = Some(apdu::Error::NoAnswer {
                    command: "connect",
                    waited_ms: waited,
                });
                // pcscd holds a connection back while another program's transaction
                // runs on that reader.
                return Err(if held_by_another(reader) {
                    PcscError::Busy
                } else {
                    PcscError::NoAnswer(waited)
                });
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PcscError::Thread("the card thread ended".into()));
            }
        };
        match ready_rx.recv_timeout(deadlines.command) {
            Ok(Ok(Opening::InTransaction)) => {}
            Ok(Ok(Opening::Connected(_))) => {
                return Err(PcscError::Thread("the card thread skipped a step".into()));
            }
            Ok(Err(e)) => return Err(e),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Still waiting for another program's transaction to end: the thread
                // ends, and disconnects, once it has.
                card.stuck = Some(apdu::Error::Transport("the reader is busy".into()));
                return Err(PcscError::Busy);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(PcscError::Thread("the card thread ended".into()));
            }
        }
        let extended_length = Atr::parse(&atr).is_ok_and(|a| a.extended_length());
        tracing::debug!(extended_length, atr_len = atr.len(), "connected to card");
        card.atr = atr;
        card.extended_length = extended_length;
        Ok(card)
    }

    /// The card's ATR.
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// Overrides what the ATR said about extended length (a reader that cannot carry
    /// extended APDUs, or a card whose ATR does not say it can).
    pub fn set_extended_length(&mut self, on: bool) {
        self.extended_length = on;
    }
}

fn connect_blocking(name: &CStr, reader: &str) -> Result<(pcsc::Card, Vec<u8>), PcscError> {
    let ctx = establish()?;
    let card = match ctx.connect(name, ShareMode::Shared, Protocols::ANY) {
        Ok(card) => card,
        Err(pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard) => {
            return Err(PcscError::NoCard);
        }
        Err(pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable) => {
            return Err(PcscError::UnknownReader(reader.to_owned()));
        }
        Err(e) => return Err(busy_or(e)),
    };
    // SCardStatus gives the ATR with every IFD handler; the ATR attribute is
    // optional for handlers and vpcd's does not give it.
    let atr = card
        .status2_owned()
        .map(|s| s.atr().to_vec())
        .ok()
        .filter(|a| !a.is_empty())
        .or_else(|| card.get_attribute_owned(pcsc::Attribute::AtrString).ok())
        .unwrap_or_default();
    Ok((card, atr))
}

/// A connection or transaction refused because another program holds the reader.
fn busy_or(e: pcsc::Error) -> PcscError {
    match e {
        pcsc::Error::SharingViolation => PcscError::Busy,
        e => PcscError::Pcsc(e),
    }
}

/// Whether another program is connected to the card in `reader` (pcscd's reader state
/// says in use or exclusive), asked on a context of its own.
fn held_by_another(reader: &str) -> bool {
    let (Ok(ctx), Ok(name)) = (establish(), CString::new(reader)) else {
        return false;
    };
    let mut states = [ReaderState::new(name, State::UNAWARE)];
    ctx.get_status_change(Duration::ZERO, &mut states).is_ok()
        && states
            .iter()
            .any(|s| s.event_state().intersects(State::INUSE | State::EXCLUSIVE))
}

/// The card-side meaning of a PC/SC error on `card`.
fn card_error(card: &pcsc::Card, e: pcsc::Error) -> apdu::Error {
    match e {
        pcsc::Error::RemovedCard
        | pcsc::Error::ResetCard
        | pcsc::Error::NoSmartcard
        | pcsc::Error::UnpoweredCard
        | pcsc::Error::ReaderUnavailable
        | pcsc::Error::UnknownReader => apdu::Error::CardRemoved,
        // pcscd answers a transmit with "not transacted" both when the card left
        // mid-exchange (vpcd does) and when the reader failed: the card's status tells.
        pcsc::Error::NotTransacted if card_gone(card) => apdu::Error::CardRemoved,
        e => apdu::Error::Transport(e.to_string()),
    }
}

/// Whether the card left the reader, as SCardStatus says.
fn card_gone(card: &pcsc::Card) -> bool {
    match card.status2_owned() {
        Ok(status) => {
            let state = status.status();
            !state.contains(pcsc::Status::PRESENT) || state.contains(pcsc::Status::ABSENT)
        }
        Err(
            pcsc::Error::RemovedCard
            | pcsc::Error::ResetCard
            | pcsc::Error::NoSmartcard
            | pcsc::Error::ReaderUnavailable
            | pcsc::Error::UnknownReader,
        ) => true,
        Err(_) => false,
    }
}

impl apdu::Card for PcscCard {
    fn transmit(&mut self, command: &Command) -> Result<Response, apdu::Error> {
        let bytes = command.encode()?;
        tracing::trace!(
            ins = format_args!("{:02X}", command.ins),
            nc = command.data.len(),
            "PC/SC transmit"
        );
        if let Some(e) = &self.stuck {
            return Err(e.clone());
        }
        let io = self
            .io
            .as_ref()
            .ok_or_else(|| apdu::Error::Transport("the card thread ended".into()))?;
        if io.commands.send(bytes).is_err() {
            return Err(apdu::Error::Transport("the card thread ended".into()));
        }
        let deadline = self.deadlines.of(command.ins);
        let answer = match io.answers.recv_timeout(deadline) {
            Ok(answer) => answer?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let e = apdu::Error::NoAnswer {
                    command: command_name(command.ins),
                    waited_ms: deadline.as_millis() as u64,
                };
                tracing::warn!(
                    ins = format_args!("{:02X}", command.ins),
                    waited_ms = deadline.as_millis() as u64,
                    "the card did not answer in time; the read ends and the reader is released"
                );
                // The card's thread ends, and disconnects with a reset, once the
                // driver returns.
                self.io = None;
                self.stuck = Some(e.clone());
                return Err(e);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(apdu::Error::Transport("the card thread ended".into()));
            }
        };
        // An answer without even a status word is what a reader gives when the card
        // left the field mid-exchange (vpcd does it too); pcscd notices a moment later.
        if answer.is_empty() {
            return Err(apdu::Error::CardRemoved);
        }
        let response = Response::decode(&answer)?;
        tracing::trace!(sw = %response.sw, len = response.data.len(), "PC/SC answer");
        Ok(response)
    }

    fn extended_length(&self) -> bool {
        self.extended_length
    }

    /// Set or announced: yes; an ATR that says no: no; an ATR that does not say: try.
    fn extended_length_announced(&self) -> Option<bool> {
        if self.extended_length {
            return Some(true);
        }
        Atr::parse(&self.atr)
            .ok()
            .and_then(|a| a.extended_length_announced())
    }
}

/// What happened at the readers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderEvent {
    /// A reader appeared.
    ReaderAdded(String),
    /// A reader went away.
    ReaderRemoved(String),
    /// A card was put on a reader; its ATR.
    CardInserted {
        /// The reader.
        reader: String,
        /// The ATR.
        atr: Vec<u8>,
    },
    /// The card left a reader.
    CardRemoved(String),
    /// pcscd stopped; readers are gone until it is back.
    ServiceLost,
}

/// A thread watching PC/SC readers; stops when dropped.
pub struct Watcher {
    ctx: Arc<std::sync::Mutex<Option<Context>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl core::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Watcher")
    }
}

impl Watcher {
    /// Starts watching; `report` gets every event, in order, from the watcher's thread.
    pub fn spawn(report: impl Fn(ReaderEvent) + Send + 'static) -> Watcher {
        let ctx = Arc::new(std::sync::Mutex::new(None::<Context>));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (ctx2, stop2) = (ctx.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("pcsc-watcher".into())
            .spawn(move || watch(&ctx2, &stop2, &report))
            .ok();
        Watcher { ctx, stop, thread }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(guard) = self.ctx.lock() {
            if let Some(ctx) = guard.as_ref() {
                let _ = ctx.cancel();
            }
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn watch(
    shared: &std::sync::Mutex<Option<Context>>,
    stop: &std::sync::atomic::AtomicBool,
    report: &dyn Fn(ReaderEvent),
) {
    use std::sync::atomic::Ordering;
    let mut known: Vec<(CString, bool)> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let Ok(ctx) = Context::establish(Scope::User) else {
            std::thread::sleep(Duration::from_millis(500));
            continue;
        };
        if let Ok(mut guard) = shared.lock() {
            *guard = Some(ctx.clone());
        }
        if let Err(e) = watch_service(&ctx, stop, report, &mut known) {
            tracing::debug!(error = %e, "PC/SC watch interrupted");
        }
        if !known.is_empty() {
            for (name, present) in known.drain(..) {
                let name = name.to_string_lossy().into_owned();
                if present {
                    report(ReaderEvent::CardRemoved(name.clone()));
                }
                report(ReaderEvent::ReaderRemoved(name));
            }
            report(ReaderEvent::ServiceLost);
        }
        if !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// How long one wait for a reader event lasts before the watcher looks at its stop flag
/// again. SCardCancel wakes only a wait in progress: a stop that comes while the watcher
/// is between two waits would otherwise be seen at the next reader event, which may never
/// come, and the daemon's shutdown would wait for it.
const WATCH_SLICE: Duration = Duration::from_secs(1);

/// Watches one pcscd connection until it fails or the watcher stops.
fn watch_service(
    ctx: &Context,
    stop: &std::sync::atomic::AtomicBool,
    report: &dyn Fn(ReaderEvent),
    known: &mut Vec<(CString, bool)>,
) -> Result<(), pcsc::Error> {
    use std::sync::atomic::Ordering;
    let pnp: &CStr = pcsc::PNP_NOTIFICATION();
    let mut states = vec![ReaderState::new(pnp, State::UNAWARE)];
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        // Reconcile the reader list.
        let names = match ctx.list_readers_owned() {
            Ok(n) => n,
            Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        known.retain(|(name, present)| {
            if names.contains(name) {
                return true;
            }
            let n = name.to_string_lossy().into_owned();
            if *present {
                report(ReaderEvent::CardRemoved(n.clone()));
            }
            report(ReaderEvent::ReaderRemoved(n));
            false
        });
        states.retain(|s| s.name() == pnp || names.iter().any(|n| n.as_c_str() == s.name()));
        for name in &names {
            if !known.iter().any(|(n, _)| n == name) {
                known.push((name.clone(), false));
                report(ReaderEvent::ReaderAdded(
                    name.to_string_lossy().into_owned(),
                ));
                states.push(ReaderState::new(name.clone(), State::UNAWARE));
            }
        }
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match ctx.get_status_change(WATCH_SLICE, &mut states) {
                Ok(()) => break,
                Err(pcsc::Error::Cancelled) => return Ok(()),
                Err(pcsc::Error::Timeout) => continue,
                Err(e) => return Err(e),
            }
        }
        for state in &mut states {
            if state.name() == pnp {
                state.sync_current_state();
                continue;
            }
            let present = state.event_state().contains(State::PRESENT);
            if let Some(entry) = known.iter_mut().find(|(n, _)| n.as_c_str() == state.name()) {
                if entry.1 != present {
                    entry.1 = present;
                    let reader = state.name().to_string_lossy().into_owned();
                    report(if present {
                        ReaderEvent::CardInserted {
                            reader,
                            atr: state.atr().to_vec(),
                        }
                    } else {
                        ReaderEvent::CardRemoved(reader)
                    });
                }
            }
            state.sync_current_state();
        }
    }
}
