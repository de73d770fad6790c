//! PC/SC readers through pcscd (the `pcsc` crate): listing readers, connecting to a card
//! as an [`apdu::Card`], and watching readers come and go and cards be inserted and
//! removed.
//!
//! The PC/SC calls block, so a [`Watcher`] runs on its own thread and reports
//! [`ReaderEvent`]s through a callback; a read runs on the thread that owns the
//! [`PcscCard`].

use std::ffi::{CStr, CString};
use std::sync::Arc;
use std::time::Duration;

use apdu::{Command, Response};
use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};

use super::atr::Atr;

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
}

fn establish() -> Result<Context, PcscError> {
    Context::establish(Scope::User).map_err(PcscError::NoService)
}

/// A reader as the listing shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReaderInfo {
    /// The reader's name as pcscd gives it.
    pub name: String,
    /// Whether a card is present.
    pub card_present: bool,
    /// The card's ATR, hex, when one is present.
    pub atr: Option<String>,
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
                card_present: present,
                atr: present.then(|| hex::encode_upper(s.atr())),
            }
        })
        .collect())
}

/// A card in a PC/SC reader.
pub struct PcscCard {
    card: pcsc::Card,
    atr: Vec<u8>,
    extended_length: bool,
    buffer: Vec<u8>,
}

impl core::fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PcscCard")
            .field("extended_length", &self.extended_length)
            .finish_non_exhaustive()
    }
}

impl PcscCard {
    /// Connects to the card in `reader` (shared, so other programs can still list it;
    /// the read itself runs in one transaction at the caller's choice).
    pub fn connect(reader: &str) -> Result<PcscCard, PcscError> {
        let ctx = establish()?;
        let name = CString::new(reader).map_err(|_| PcscError::UnknownReader(reader.to_owned()))?;
        let card = match ctx.connect(&name, ShareMode::Shared, Protocols::ANY) {
            Ok(card) => card,
            Err(pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard) => {
                return Err(PcscError::NoCard);
            }
            Err(pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable) => {
                return Err(PcscError::UnknownReader(reader.to_owned()));
            }
            Err(e) => return Err(e.into()),
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
        let extended_length = Atr::parse(&atr).is_ok_and(|a| a.extended_length());
        tracing::debug!(extended_length, atr_len = atr.len(), "connected to card");
        Ok(PcscCard {
            card,
            atr,
            extended_length,
            buffer: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        })
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

/// The card-side meaning of a PC/SC error.
fn card_error(e: pcsc::Error) -> apdu::Error {
    match e {
        pcsc::Error::RemovedCard
        | pcsc::Error::ResetCard
        | pcsc::Error::NoSmartcard
        | pcsc::Error::UnpoweredCard
        | pcsc::Error::ReaderUnavailable
        | pcsc::Error::UnknownReader
        // What pcscd answers a transmit to a card that left mid-exchange (vpcd too).
        | pcsc::Error::NotTransacted => apdu::Error::CardRemoved,
        e => apdu::Error::Transport(e.to_string()),
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
        let answer = self
            .card
            .transmit(&bytes, &mut self.buffer)
            .map_err(card_error)?;
        // An answer without even a status word is what a reader gives when the card
        // left the field mid-exchange (vpcd does it too); pcscd notices a moment later.
        if answer.is_empty() {
            return Err(apdu::Error::CardRemoved);
        }
        let response = Response::decode(answer)?;
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
        match ctx.get_status_change(None, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Cancelled) => return Ok(()),
            Err(pcsc::Error::Timeout) => continue,
            Err(e) => return Err(e),
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
