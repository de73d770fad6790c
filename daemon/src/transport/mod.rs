//! The ways to reach a card, each an [`apdu::Card`]: PC/SC readers through pcscd, NFC
//! readers through libnfc (feature `nfc`), and the in-process simulator ([`crate::sim`]).
//!
//! A reader is named as users name it: a PC/SC reader by its name, a libnfc device by
//! `nfc:` and its connstring. [`list`] gives every reader this machine offers and
//! [`open`] connects to the card on one of them; both the command line and the reader
//! manager go through them.

pub mod atr;
#[cfg(feature = "nfc")]
pub mod nfc;
pub mod pcsc;

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::failure::Failure;

pub use pcsc::Deadlines;

/// What kind of reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A PC/SC reader through pcscd.
    Pcsc,
    /// A libnfc device.
    Nfc,
    /// A simulated card in the daemon.
    Simulator,
}

impl Kind {
    /// The name in listings, events and the API.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pcsc => "pcsc",
            Kind::Nfc => "nfc",
            Kind::Simulator => "simulator",
        }
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A reader as a listing shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReaderInfo {
    /// The name to use in `read`.
    pub name: String,
    /// The kind.
    pub kind: Kind,
    /// Whether a card is in it; `null` when the reader cannot tell without a read
    /// (libnfc devices).
    pub card_present: Option<bool>,
    /// The card's ATR, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub atr: Option<String>,
    /// Whether a read is under way on it.
    pub busy: bool,
}

/// The prefix of a libnfc device's name.
const NFC_PREFIX: &str = "nfc:";

/// Where a reader is: which transport, and its name there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Address<'a> {
    /// A PC/SC reader, by its name.
    Pcsc(&'a str),
    /// A libnfc device, by its connstring.
    Nfc(&'a str),
}

impl<'a> Address<'a> {
    /// The reader a user's name stands for: `nfc:CONNSTRING` for a libnfc device
    /// (`nfc:pn53x_usb:001:004`, `nfc:pcsc:Virtual PCD 00 00`), else a PC/SC reader.
    pub fn of_name(name: &'a str) -> Address<'a> {
        match name.strip_prefix(NFC_PREFIX) {
            Some(connstring) => Address::Nfc(connstring),
            None => Address::Pcsc(name),
        }
    }

    /// The name users give for this reader.
    pub fn name(&self) -> String {
        match self {
            Address::Pcsc(name) => (*name).to_owned(),
            Address::Nfc(connstring) => format!("{NFC_PREFIX}{connstring}"),
        }
    }
}

/// Why a card could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The PC/SC reader could not connect to a card.
    #[error(transparent)]
    Pcsc(#[from] pcsc::PcscError),
    /// The libnfc device could not select a card.
    #[cfg(feature = "nfc")]
    #[error(transparent)]
    Nfc(#[from] nfc::NfcError),
    /// A libnfc device was named in a build without libnfc.
    #[error("built without NFC support (feature nfc)")]
    NoNfcSupport,
}

/// Who named the reader a card is opened on. A name that cannot be used is a mistake of
/// whoever gave it: a bad request when a caller typed it, a reader failure when it comes
/// from the daemon's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedBy {
    /// The user, on the command line.
    Caller,
    /// The daemon's configuration.
    Configuration,
}

impl OpenError {
    /// Its failure class, the name having been given by `named_by`.
    pub fn failure(&self, named_by: NamedBy) -> Failure {
        match self {
            OpenError::Pcsc(pcsc::PcscError::NoCard) => Failure::CardRemoved,
            #[cfg(feature = "nfc")]
            OpenError::Nfc(nfc::NfcError::NoCard) => Failure::CardRemoved,
            OpenError::Pcsc(pcsc::PcscError::Busy) => Failure::Busy,
            #[cfg(feature = "nfc")]
            OpenError::Nfc(nfc::NfcError::BadConnstring(_)) if named_by == NamedBy::Caller => {
                Failure::BadRequest
            }
            OpenError::NoNfcSupport if named_by == NamedBy::Caller => Failure::BadRequest,
            _ => Failure::Transport,
        }
    }
}

/// Connects to the card on the reader named `name` (see [`Address::of_name`]), with
/// the default [`Deadlines`].
pub fn open(name: &str) -> Result<Box<dyn apdu::Card>, OpenError> {
    open_at(Address::of_name(name), Deadlines::default())
}

/// Connects to the card at `address`; `deadlines` bound each command on a PC/SC reader.
pub fn open_at(
    address: Address<'_>,
    deadlines: Deadlines,
) -> Result<Box<dyn apdu::Card>, OpenError> {
    match address {
        Address::Pcsc(reader) => Ok(Box::new(pcsc::PcscCard::connect_with(reader, deadlines)?)),
        #[cfg(feature = "nfc")]
        Address::Nfc(connstring) => Ok(Box::new(nfc::NfcCard::connect(connstring)?)),
        #[cfg(not(feature = "nfc"))]
        Address::Nfc(_) => Err(OpenError::NoNfcSupport),
    }
}

/// Every reader this machine offers, PC/SC readers then libnfc devices, and what could
/// not be asked.
#[derive(Debug, Default)]
pub struct Listing {
    /// The readers found.
    pub readers: Vec<ReaderInfo>,
    /// One line per transport that could not list its readers.
    pub problems: Vec<String>,
}

/// Lists the PC/SC readers (with their cards) and the libnfc devices (without touching
/// their field).
pub fn list() -> Listing {
    let mut listing = Listing::default();
    match pcsc::list_readers() {
        Ok(readers) => listing.readers.extend(readers),
        Err(e) => listing.problems.push(e.to_string()),
    }
    #[cfg(feature = "nfc")]
    match nfc::list_devices() {
        Ok(devices) => listing
            .readers
            .extend(devices.into_iter().map(|connstring| ReaderInfo {
                name: Address::Nfc(&connstring).name(),
                kind: Kind::Nfc,
                card_present: None,
                atr: None,
                busy: false,
            })),
        Err(e) => listing.problems.push(e.to_string()),
    }
    listing
}

/// How often [`wait_for_card`] asks pcscd again.
const CARD_POLL: Duration = Duration::from_millis(200);

/// A reader holding a card: `name` itself once a card is in it, else the first PC/SC
/// reader with one; asked again until `wait` has passed, `None` when none had a card by
/// then. A libnfc device is not polled (opening it looks for the card), nor is a named
/// reader without a wait: opening it says what is wrong.
pub fn wait_for_card(
    name: Option<&str>,
    wait: Duration,
) -> Result<Option<String>, pcsc::PcscError> {
    if let Some(name) = name
        && (matches!(Address::of_name(name), Address::Nfc(_)) || wait.is_zero())
    {
        return Ok(Some(name.to_owned()));
    }
    let deadline = Instant::now() + wait;
    loop {
        let found = pcsc::list_readers()?
            .into_iter()
            .find(|r| r.card_present == Some(true) && name.is_none_or(|n| r.name == n));
        if let Some(reader) = found {
            return Ok(Some(reader.name));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(CARD_POLL);
    }
}

/// The ATR of the card in the PC/SC reader `name` as pcscd lists it; empty for libnfc
/// devices and when pcscd cannot say.
pub fn card_atr(name: &str) -> Vec<u8> {
    pcsc::list_readers()
        .ok()
        .and_then(|readers| readers.into_iter().find(|r| r.name == name))
        .and_then(|r| r.atr)
        .and_then(|atr| hex::decode(atr).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_the_nfc_prefix_are_libnfc_devices() {
        assert_eq!(
            Address::of_name("nfc:pcsc:Virtual PCD 00 00"),
            Address::Nfc("pcsc:Virtual PCD 00 00")
        );
        assert_eq!(
            Address::of_name("Virtual PCD 00 00"),
            Address::Pcsc("Virtual PCD 00 00")
        );
        for name in ["nfc:pn53x_usb:001:004", "Virtual PCD 00 00"] {
            assert_eq!(Address::of_name(name).name(), name);
        }
    }

    #[test]
    fn kinds_serialize_as_their_names() {
        for kind in [Kind::Pcsc, Kind::Nfc, Kind::Simulator] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        }
    }
}
