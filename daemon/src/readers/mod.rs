//! The reader manager: every reader the daemon serves, whether a card is in it, which
//! one is busy, and the events clients subscribe to.
//!
//! Three kinds of reader: PC/SC readers (followed through hotplug and pcscd restarts by
//! a [`Watcher`] thread), libnfc devices named in the configuration, and in-process
//! simulated cards. One read per reader at a time: a read [`claim`](Manager::claim)s its
//! reader and runs on a blocking thread of its own, so a slow card never holds up the
//! socket server or the other readers.

pub mod cancel;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use apdu::rng::SystemRng;
use serde::Serialize;
use tokio::sync::{Notify, broadcast};

pub use cancel::{CancelToken, Cancellable};

use crate::config;
use crate::failure::Failure;
use crate::session::result::ReadResult;
use crate::session::{self, Progress, ReadError, ReadRequest};
use crate::sim::profile::{self, LoadOptions, Profile};
use crate::transport::pcsc::{ReaderEvent, Watcher};
use crate::transport::{self, Address, Deadlines, Kind, NamedBy, ReaderInfo};
use crate::trust::TrustStore;

/// How many events a subscriber may fall behind before it is told some were lost.
pub const EVENT_BACKLOG: usize = 256;

/// What happened at the readers, as subscribers get it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A reader appeared.
    ReaderAdded {
        /// Its name.
        reader: String,
        /// Its kind.
        kind: Kind,
    },
    /// A reader went away (unplugged, or pcscd stopped).
    ReaderRemoved {
        /// Its name.
        reader: String,
    },
    /// A card was put on a reader.
    CardInserted {
        /// The reader.
        reader: String,
        /// The card's ATR, hex.
        atr: String,
    },
    /// The card left a reader.
    CardRemoved {
        /// The reader.
        reader: String,
    },
}

#[derive(Debug)]
enum Source {
    Pcsc,
    Nfc(String),
    Simulator(Box<Profile>),
}

#[derive(Debug)]
struct Slot {
    source: Source,
    /// `Some(insertion number)` while a card is present.
    card: Option<u64>,
    atr: Option<Vec<u8>>,
    busy: bool,
    /// Whether the watcher reported the reader (PC/SC readers claimed by name before
    /// the watcher saw them are not).
    listed: bool,
}

impl Slot {
    fn kind(&self) -> Kind {
        match self.source {
            Source::Pcsc => Kind::Pcsc,
            Source::Nfc(_) => Kind::Nfc,
            Source::Simulator(_) => Kind::Simulator,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    readers: BTreeMap<String, Slot>,
    insertions: u64,
}

/// The readers and their events.
pub struct Manager {
    state: Mutex<State>,
    events: broadcast::Sender<Event>,
    /// Woken on every change a waiting read could care about (a card inserted, a reader
    /// released).
    changed: Notify,
    trust: std::sync::RwLock<Arc<TrustStore>>,
    pcsc: bool,
    deadlines: Deadlines,
    watcher: Mutex<Option<Watcher>>,
}

impl core::fmt::Debug for Manager {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Manager")
            .field("readers", &self.lock().readers.len())
            .finish_non_exhaustive()
    }
}

/// Why a reader could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimError {
    /// No reader of that name.
    NoReader,
    /// A read is under way on it.
    Busy,
    /// No reader has a card (for "first card").
    NoCard,
    /// The wait was cancelled.
    Cancelled,
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadFailure {
    /// Cancelled by the client or the daemon's shutdown.
    #[error("the read was cancelled")]
    Cancelled,
    /// No card in the reader.
    #[error("no card in the reader")]
    NoCard,
    /// The reader failed (pcscd away, device gone, transmission error).
    #[error("{0}")]
    Reader(String),
    /// Another program holds the reader (an exclusive connection or a transaction).
    #[error("{0}")]
    Busy(String),
    /// The read failed.
    #[error("{0}")]
    Read(ReadError),
}

impl ClaimError {
    /// Its failure class.
    pub fn failure(&self) -> Failure {
        match self {
            ClaimError::NoReader => Failure::Transport,
            ClaimError::Busy => Failure::Busy,
            ClaimError::NoCard => Failure::CardRemoved,
            ClaimError::Cancelled => Failure::Cancelled,
        }
    }
}

impl ReadFailure {
    /// Its failure class.
    pub fn failure(&self) -> Failure {
        match self {
            ReadFailure::Cancelled => Failure::Cancelled,
            ReadFailure::NoCard => Failure::CardRemoved,
            ReadFailure::Reader(_) => Failure::Transport,
            ReadFailure::Busy(_) => Failure::Busy,
            ReadFailure::Read(e) => e.failure(),
        }
    }
}

/// A reader reserved for one read; released when dropped.
#[derive(Debug)]
pub struct Claim {
    manager: Weak<Manager>,
    /// The reader.
    pub reader: String,
    /// The card's insertion number on that reader (0 when unknown), for throttling.
    pub insertion: u64,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(manager) = self.manager.upgrade() {
            let mut state = manager.lock();
            let unlisted = match state.readers.get_mut(&self.reader) {
                Some(slot) => {
                    slot.busy = false;
                    !slot.listed
                }
                None => false,
            };
            if unlisted {
                state.readers.remove(&self.reader);
            }
            drop(state);
            manager.changed.notify_waiters();
        }
    }
}

impl Manager {
    /// Sets up the configured readers and starts following PC/SC ones.
    pub fn start(
        readers: &config::Readers,
        trust: Arc<TrustStore>,
    ) -> Result<Arc<Manager>, String> {
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        let mut state = State::default();
        for sim in &readers.simulators {
            let profile = profile::load(&sim.profile, &LoadOptions::default())
                .map_err(|e| format!("simulator {:?}: {e}", sim.name))?;
            state.insertions += 1;
            state.readers.insert(
                sim.name.clone(),
                Slot {
                    atr: Some(profile.image.atr.clone()),
                    source: Source::Simulator(Box::new(profile)),
                    card: Some(state.insertions),
                    busy: false,
                    listed: true,
                },
            );
        }
        for connstring in &readers.nfc {
            state.readers.insert(
                Address::Nfc(connstring).name(),
                Slot {
                    source: Source::Nfc(connstring.clone()),
                    card: None,
                    atr: None,
                    busy: false,
                    listed: true,
                },
            );
        }
        let manager = Arc::new(Manager {
            state: Mutex::new(state),
            events,
            changed: Notify::new(),
            trust: std::sync::RwLock::new(trust),
            pcsc: readers.pcsc,
            deadlines: readers.deadlines,
            watcher: Mutex::new(None),
        });
        if readers.pcsc {
            let weak = Arc::downgrade(&manager);
            let watcher = Watcher::spawn(move |event| {
                if let Some(manager) = weak.upgrade() {
                    manager.on_pcsc(event);
                }
            });
            *manager.watcher.lock().unwrap_or_else(|p| p.into_inner()) = Some(watcher);
        }
        Ok(manager)
    }

    /// Stops following PC/SC readers (the watcher thread ends).
    pub fn stop(&self) {
        let watcher = self
            .watcher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(watcher);
    }

    /// The trust anchors reads verify against.
    pub fn trust(&self) -> Arc<TrustStore> {
        self.trust.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the trust anchors; reads under way keep the ones they started with.
    pub fn set_trust(&self, trust: TrustStore) {
        *self.trust.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(trust);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn on_pcsc(&self, event: ReaderEvent) {
        let mut state = self.lock();
        let out = match event {
            ReaderEvent::ReaderAdded(name) => {
                let slot = state.readers.entry(name.clone()).or_insert(Slot {
                    source: Source::Pcsc,
                    card: None,
                    atr: None,
                    busy: false,
                    listed: true,
                });
                slot.listed = true;
                Some(Event::ReaderAdded {
                    reader: name,
                    kind: Kind::Pcsc,
                })
            }
            ReaderEvent::ReaderRemoved(name) => {
                if state.readers.get(&name).is_some_and(|s| !s.busy) {
                    state.readers.remove(&name);
                } else if let Some(slot) = state.readers.get_mut(&name) {
                    // Its read ends on its own with an error; the claim removes it.
                    slot.listed = false;
                    slot.card = None;
                }
                Some(Event::ReaderRemoved { reader: name })
            }
            ReaderEvent::CardInserted { reader, atr } => {
                state.insertions += 1;
                let n = state.insertions;
                state.readers.get_mut(&reader).map(|slot| {
                    slot.card = Some(n);
                    slot.atr = Some(atr.clone());
                    Event::CardInserted {
                        reader,
                        atr: hex::encode_upper(&atr),
                    }
                })
            }
            ReaderEvent::CardRemoved(reader) => state.readers.get_mut(&reader).map(|slot| {
                slot.card = None;
                slot.atr = None;
                Event::CardRemoved { reader }
            }),
            ReaderEvent::ServiceLost => {
                tracing::info!("readers: pcscd went away; waiting for it");
                None
            }
        };
        drop(state);
        if let Some(event) = out {
            tracing::info!(event = ?EventName(&event), "readers: event");
            // No subscriber is not an error.
            let _ = self.events.send(event);
            self.changed.notify_waiters();
        }
    }

    /// The readers, by name.
    pub fn list(&self) -> Vec<ReaderInfo> {
        info_of(&self.lock())
    }

    /// The readers now, and every event after that moment.
    pub fn subscribe(&self) -> (Vec<ReaderInfo>, broadcast::Receiver<Event>) {
        let state = self.lock();
        let rx = self.events.subscribe();
        (info_of(&state), rx)
    }

    /// Reserves `reader` for one read.
    pub fn claim(self: &Arc<Self>, reader: &str) -> Result<Claim, ClaimError> {
        let mut state = self.lock();
        match state.readers.get_mut(reader) {
            Some(slot) if slot.busy => Err(ClaimError::Busy),
            Some(slot) => {
                slot.busy = true;
                Ok(self.claim_of(reader, slot.card.unwrap_or(0)))
            }
            // pcscd may know a reader a moment before the watcher reports it.
            None if self.pcsc && reader.len() <= 256 => {
                state.readers.insert(
                    reader.to_owned(),
                    Slot {
                        source: Source::Pcsc,
                        card: None,
                        atr: None,
                        busy: true,
                        listed: false,
                    },
                );
                Ok(self.claim_of(reader, 0))
            }
            None => Err(ClaimError::NoReader),
        }
    }

    fn claim_of(self: &Arc<Self>, reader: &str, insertion: u64) -> Claim {
        Claim {
            manager: Arc::downgrade(self),
            reader: reader.to_owned(),
            insertion,
        }
    }

    /// Reserves the reader whose card has waited longest, waiting up to `wait` for a
    /// card when none is free.
    pub async fn claim_first_card(
        self: &Arc<Self>,
        wait: Duration,
        cancel: &CancelToken,
    ) -> Result<Claim, ClaimError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            {
                let mut state = self.lock();
                let first = state
                    .readers
                    .iter_mut()
                    .filter(|(_, s)| !s.busy)
                    .filter_map(|(name, s)| Some((s.card?, name, s)))
                    .min_by_key(|(n, _, _)| *n);
                if let Some((insertion, name, slot)) = first {
                    slot.busy = true;
                    let name = name.clone();
                    drop(state);
                    return Ok(self.claim_of(&name, insertion));
                }
            }
            tokio::select! {
                _ = &mut changed => {}
                _ = tokio::time::sleep_until(deadline) => return Err(ClaimError::NoCard),
                _ = cancel.cancelled() => return Err(ClaimError::Cancelled),
            }
        }
    }

    /// Waits up to `wait` for a card in the claimed reader (at once when one is there),
    /// and records its insertion in the claim.
    pub async fn wait_for_card(
        self: &Arc<Self>,
        claim: &mut Claim,
        wait: Duration,
        cancel: &CancelToken,
    ) -> Result<(), ClaimError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let card = self
                .lock()
                .readers
                .get(&claim.reader)
                .and_then(|slot| slot.card);
            if let Some(insertion) = card {
                claim.insertion = insertion;
                return Ok(());
            }
            tokio::select! {
                _ = &mut changed => {}
                _ = tokio::time::sleep_until(deadline) => return Err(ClaimError::NoCard),
                _ = cancel.cancelled() => return Err(ClaimError::Cancelled),
            }
        }
    }

    /// Runs one read on the claimed reader, on a blocking thread. The claim is held
    /// until the card is released, even when the caller stops waiting.
    pub async fn read(
        self: &Arc<Self>,
        claim: Claim,
        request: ReadRequest,
        cancel: CancelToken,
        progress: Box<dyn FnMut(Progress) + Send>,
    ) -> Result<ReadResult, ReadFailure> {
        let source = {
            let state = self.lock();
            match state.readers.get(&claim.reader).map(|s| &s.source) {
                Some(Source::Pcsc) | None => Target::Pcsc,
                Some(Source::Nfc(c)) => Target::Nfc(c.clone()),
                Some(Source::Simulator(p)) => Target::Simulator(Box::new(p.image.clone())),
            }
        };
        let trust = self.trust();
        let reader = claim.reader.clone();
        let deadlines = self.deadlines;
        tokio::task::spawn_blocking(move || {
            let _claim = claim;
            read_blocking(
                &reader, source, deadlines, &request, &trust, cancel, progress,
            )
        })
        .await
        .map_err(|e| ReadFailure::Reader(format!("the read thread failed: {e}")))?
    }
}

enum Target {
    Pcsc,
    Nfc(String),
    Simulator(Box<apdu::emulator::CardImage>),
}

fn read_blocking(
    reader: &str,
    target: Target,
    deadlines: Deadlines,
    request: &ReadRequest,
    trust: &TrustStore,
    cancel: CancelToken,
    mut progress: Box<dyn FnMut(Progress) + Send>,
) -> Result<ReadResult, ReadFailure> {
    let run = |card: &mut dyn apdu::Card, progress: &mut dyn FnMut(Progress)| {
        let mut card = Cancellable::new(card, cancel.clone());
        let outcome = session::read_card(&mut card, request, trust, &mut SystemRng, progress);
        match outcome {
            Ok((result, _)) => Ok(result),
            Err(_) if cancel.is_cancelled() => Err(ReadFailure::Cancelled),
            Err(e) => Err(ReadFailure::Read(e)),
        }
    };
    if cancel.is_cancelled() {
        return Err(ReadFailure::Cancelled);
    }
    // The address comes from the slot, never from parsing the name a client gave: only
    // configured libnfc devices are opened.
    let connstring;
    let address = match target {
        Target::Pcsc => Address::Pcsc(reader),
        Target::Nfc(c) => {
            connstring = c;
            Address::Nfc(&connstring)
        }
        Target::Simulator(image) => {
            let mut chip = apdu::emulator::CardEmulator::new(*image);
            return run(&mut chip, &mut *progress);
        }
    };
    let mut card = transport::open_at(address, deadlines).map_err(|e| {
        match e.failure(NamedBy::Configuration) {
            Failure::CardRemoved => ReadFailure::NoCard,
            Failure::Busy => ReadFailure::Busy(e.to_string()),
            _ => ReadFailure::Reader(e.to_string()),
        }
    })?;
    run(&mut *card, &mut *progress)
}

fn info_of(state: &State) -> Vec<ReaderInfo> {
    state
        .readers
        .iter()
        .filter(|(_, s)| s.listed)
        .map(|(name, s)| ReaderInfo {
            name: name.clone(),
            kind: s.kind(),
            card_present: match s.source {
                Source::Nfc(_) => None,
                _ => Some(s.card.is_some()),
            },
            atr: s.atr.as_ref().map(hex::encode_upper),
            busy: s.busy,
        })
        .collect()
}

/// An event's name for logs, without the reader names (which can be long but are not
/// personal) or ATRs.
struct EventName<'a>(&'a Event);

impl core::fmt::Debug for EventName<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (name, reader) = match self.0 {
            Event::ReaderAdded { reader, .. } => ("reader-added", reader),
            Event::ReaderRemoved { reader } => ("reader-removed", reader),
            Event::CardInserted { reader, .. } => ("card-inserted", reader),
            Event::CardRemoved { reader } => ("card-removed", reader),
        };
        write!(f, "{name} {reader:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_simulators(names: &[&str]) -> Arc<Manager> {
        let readers = config::Readers {
            pcsc: false,
            nfc: vec!["pn533_usb".into()],
            simulators: names
                .iter()
                .map(|n| config::Simulator {
                    name: (*n).into(),
                    profile: "vn-cccd".into(),
                })
                .collect(),
            deadlines: Default::default(),
        };
        Manager::start(&readers, Arc::new(TrustStore::new())).unwrap()
    }

    #[test]
    fn simulators_are_listed_with_their_card_and_nfc_without_presence() {
        let m = with_simulators(&["Sim A"]);
        let list = m.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "Sim A");
        assert_eq!(list[0].card_present, Some(true));
        assert_eq!(list[1].name, "nfc:pn533_usb");
        assert_eq!(list[1].card_present, None);
    }

    #[test]
    fn one_claim_per_reader_released_on_drop() {
        let m = with_simulators(&["Sim A"]);
        let claim = m.claim("Sim A").unwrap();
        assert_eq!(m.claim("Sim A").unwrap_err(), ClaimError::Busy);
        assert!(m.list()[0].busy);
        drop(claim);
        assert!(m.claim("Sim A").is_ok());
        assert_eq!(m.claim("nowhere").unwrap_err(), ClaimError::NoReader);
    }

    #[tokio::test]
    async fn first_card_takes_a_free_reader_and_waits_for_one() {
        let m = with_simulators(&["Sim A", "Sim B"]);
        let cancel = CancelToken::new();
        let a = m.claim_first_card(Duration::ZERO, &cancel).await.unwrap();
        assert_eq!(a.reader, "Sim A");
        let b = m.claim_first_card(Duration::ZERO, &cancel).await.unwrap();
        assert_eq!(b.reader, "Sim B");
        assert_eq!(
            m.claim_first_card(Duration::ZERO, &cancel)
                .await
                .unwrap_err(),
            ClaimError::NoCard
        );
        let m2 = m.clone();
        let waiter = tokio::spawn(async move {
            m2.claim_first_card(Duration::from_secs(10), &CancelToken::new())
                .await
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(b);
        let b = waiter.await.unwrap().unwrap();
        assert_eq!(b.reader, "Sim B");
        let cancel = CancelToken::new();
        let m3 = m.clone();
        let c2 = cancel.clone();
        let waiter = tokio::spawn(async move {
            m3.claim_first_card(Duration::from_secs(10), &c2)
                .await
                .map(|_| ())
        });
        cancel.cancel();
        assert_eq!(waiter.await.unwrap().unwrap_err(), ClaimError::Cancelled);
        drop((a, b));
    }
}
