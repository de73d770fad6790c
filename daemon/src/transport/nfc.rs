//! NFC readers driven directly through libnfc (the `nfc1` crate, libnfc built from
//! source): PN53x / ACR122-class readers over USB, and any PC/SC reader through libnfc's
//! `pcsc` driver. A device is named by its libnfc connstring, for example
//! `pn53x_usb:001:004`, `acr122_usb:001:005` or `pcsc:Virtual PCD 00 00` (`pcsc:` then
//! the PC/SC reader name).
//!
//! [`NfcCard::connect`] opens the device, initialises it as an initiator, selects one
//! passive ISO 14443-A target, or an ISO 14443-B one when the device offers type B and
//! no type A target answered (the chips of many identity documents are type B), and
//! then exchanges whole APDUs with easy framing (libnfc does the ISO 14443-4 block
//! protocol and chaining, for either type).
//!
//! Through libnfc's `pcsc` driver the type comes from what the PC/SC reader reports: a
//! contactless ATR with eight historical bytes (ATQB application data, protocol info,
//! MBLI) and no UID, or an eight-byte one, is a type B target; that is how the tests
//! present a type B card from the simulator behind vpcd.

use std::time::Duration;

use apdu::{Command, Response};
use nfc1::target_info::TargetInfo;
use nfc1::{BaudRate, Mode, Modulation, ModulationType, Property, Timeout};

/// Longest libnfc connstring accepted (libnfc holds them in 1024-byte buffers).
const MAX_CONNSTRING: usize = 1000;
/// Receive buffer for one answer: the largest extended-length response and its SW.
const MAX_RESPONSE: usize = 65536 + 2;
/// Most devices listed.
const MAX_DEVICES: usize = 16;
/// How long one APDU may take at the card (signatures and key agreement included).
const TRANSCEIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an NFC operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NfcError {
    /// libnfc could not start.
    #[error("libnfc could not start: {0}")]
    Context(nfc1::Error),
    /// The connstring is empty, too long or has control characters.
    #[error("not a libnfc connstring: {0:?}")]
    BadConnstring(String),
    /// No device answers at that connstring.
    #[error("no NFC device at {0:?}")]
    NoDevice(String),
    /// The device has no card in its field.
    #[error("no card on the NFC reader")]
    NoCard,
    /// Anything else libnfc said.
    #[error("libnfc: {0}")]
    Nfc(nfc1::Error),
}

/// Whether `s` can be handed to libnfc as a connstring.
fn valid_connstring(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_CONNSTRING && !s.chars().any(char::is_control)
}

/// The libnfc devices this machine offers, as connstrings: USB readers, and PC/SC
/// readers through libnfc's `pcsc` driver (`pcsc:NAME`).
pub fn list_devices() -> Result<Vec<String>, NfcError> {
    let mut context = nfc1::Context::new().map_err(NfcError::Context)?;
    context.list_devices(MAX_DEVICES).map_err(NfcError::Nfc)
}

/// A card selected on a libnfc device.
pub struct NfcCard {
    // Declared before the context so that it is closed first.
    device: nfc1::Device,
    _context: nfc1::Context,
    connstring: String,
    modulation: Iso14443,
    extended_length: bool,
}

/// The ISO/IEC 14443 type of the selected target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Iso14443 {
    /// Type A.
    A,
    /// Type B.
    B,
}

impl Iso14443 {
    fn modulation_type(self) -> ModulationType {
        match self {
            Iso14443::A => ModulationType::Iso14443a,
            Iso14443::B => ModulationType::Iso14443b,
        }
    }
}

/// What selection needs of a device, so the choice of target can be tested without one.
trait Selector {
    /// The modulations the device offers as an initiator.
    fn supported(&mut self) -> Result<Vec<ModulationType>, nfc1::Error>;
    /// One attempt to select a passive target at 106 kbit/s.
    fn select(&mut self, modulation: ModulationType) -> Result<nfc1::Target, nfc1::Error>;
}

impl Selector for nfc1::Device {
    fn supported(&mut self) -> Result<Vec<ModulationType>, nfc1::Error> {
        self.get_supported_modulation(Mode::Initiator)
    }

    fn select(&mut self, modulation_type: ModulationType) -> Result<nfc1::Target, nfc1::Error> {
        self.initiator_select_passive_target(&Modulation {
            modulation_type,
            baud_rate: BaudRate::Baud106,
        })
    }
}

/// Selects a type A target, else a type B one, among the types `device` offers.
fn select_target(device: &mut impl Selector) -> Result<Iso14443, NfcError> {
    let supported = device.supported().map_err(NfcError::Nfc)?;
    for wanted in [Iso14443::A, Iso14443::B] {
        if !supported.contains(&wanted.modulation_type()) {
            continue;
        }
        match device.select(wanted.modulation_type()) {
            Ok(target) if is_selected(&target, wanted.modulation_type()) => return Ok(wanted),
            Ok(_) => {}
            Err(e) if no_card(&e) => {}
            Err(e) => return Err(NfcError::Nfc(e)),
        }
    }
    Err(NfcError::NoCard)
}

impl core::fmt::Debug for NfcCard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NfcCard")
            .field("connstring", &self.connstring)
            .field("modulation", &self.modulation)
            .field("extended_length", &self.extended_length)
            .finish_non_exhaustive()
    }
}

impl NfcCard {
    /// Opens the device at `connstring` and selects the card in its field.
    pub fn connect(connstring: &str) -> Result<NfcCard, NfcError> {
        if !valid_connstring(connstring) {
            return Err(NfcError::BadConnstring(connstring.to_owned()));
        }
        let mut context = nfc1::Context::new().map_err(NfcError::Context)?;
        let mut device = context
            .open_with_connstring(connstring)
            .map_err(|_| NfcError::NoDevice(connstring.to_owned()))?;
        device.initiator_init().map_err(NfcError::Nfc)?;
        // One selection attempt rather than waiting forever; whole APDUs in and out.
        device
            .set_property_bool(Property::InfiniteSelect, false)
            .map_err(NfcError::Nfc)?;
        device
            .set_property_bool(Property::AutoIso144434, true)
            .map_err(NfcError::Nfc)?;
        device
            .set_property_bool(Property::EasyFraming, true)
            .map_err(NfcError::Nfc)?;
        let modulation = select_target(&mut device)?;
        tracing::debug!(connstring, ?modulation, "selected an NFC target");
        Ok(NfcCard {
            device,
            _context: context,
            connstring: connstring.to_owned(),
            modulation,
            extended_length: false,
        })
    }

    /// The device's connstring.
    pub fn connstring(&self) -> &str {
        &self.connstring
    }

    /// The ISO/IEC 14443 type of the selected card.
    pub fn iso14443(&self) -> Iso14443 {
        self.modulation
    }

    /// Lets the read use extended-length APDUs. Off by default: PN53x frames cannot
    /// carry them, and libnfc does not pass on what the card says about them.
    pub fn set_extended_length(&mut self, on: bool) {
        self.extended_length = on;
    }
}

/// Whether `select` found a target of the kind asked for. libnfc reports "none found"
/// as success with the target left as it was (an ISO 14443-A target without a UID).
fn is_selected(target: &nfc1::Target, wanted: ModulationType) -> bool {
    match (&target.target_info, wanted) {
        (TargetInfo::Iso14443a(a), ModulationType::Iso14443a) => a.uid_len > 0,
        // libnfc fills a type B target in only when one answered ATQB; the target it
        // starts from is type A.
        (TargetInfo::Iso14443b(_), ModulationType::Iso14443b) => true,
        _ => false,
    }
}

/// Whether a libnfc error means there is no card (any more).
fn no_card(e: &nfc1::Error) -> bool {
    matches!(
        e,
        nfc1::Error::NoSuchDeviceFound
            | nfc1::Error::TargetReleased
            | nfc1::Error::RfTransmissionError
            | nfc1::Error::DeviceNotSupported
            | nfc1::Error::Timeout
    )
}

/// The card-side meaning of a libnfc error during an exchange.
fn card_error(e: nfc1::Error) -> apdu::Error {
    match e {
        nfc1::Error::NoSuchDeviceFound
        | nfc1::Error::TargetReleased
        | nfc1::Error::RfTransmissionError => apdu::Error::CardRemoved,
        e => apdu::Error::Transport(format!("libnfc: {e}")),
    }
}

impl apdu::Card for NfcCard {
    fn transmit(&mut self, command: &Command) -> Result<Response, apdu::Error> {
        let bytes = command.encode()?;
        tracing::trace!(
            ins = format_args!("{:02X}", command.ins),
            nc = command.data.len(),
            "NFC transmit"
        );
        let answer = self
            .device
            .initiator_transceive_bytes(&bytes, MAX_RESPONSE, Timeout::Duration(TRANSCEIVE_TIMEOUT))
            .map_err(card_error)?;
        // Not even a status word: the card left the field mid-exchange.
        if answer.is_empty() {
            return Err(apdu::Error::CardRemoved);
        }
        if answer.len() > MAX_RESPONSE {
            return Err(apdu::Error::Transport("libnfc: answer too long".into()));
        }
        let response = Response::decode(&answer)?;
        tracing::trace!(sw = %response.sw, len = response.data.len(), "NFC answer");
        Ok(response)
    }

    fn extended_length(&self) -> bool {
        self.extended_length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connstrings_are_checked() {
        assert!(valid_connstring("pcsc:Virtual PCD 00 00"));
        assert!(valid_connstring("pn53x_usb:001:004"));
        assert!(!valid_connstring(""));
        assert!(!valid_connstring("pcsc:a\0b"));
        assert!(!valid_connstring(&"x".repeat(MAX_CONNSTRING + 1)));
        assert!(matches!(
            NfcCard::connect("pcsc:\n"),
            Err(NfcError::BadConnstring(_))
        ));
    }

    #[test]
    fn lost_targets_mean_a_removed_card() {
        assert!(matches!(
            card_error(nfc1::Error::RfTransmissionError),
            apdu::Error::CardRemoved
        ));
        assert!(matches!(
            card_error(nfc1::Error::TargetReleased),
            apdu::Error::CardRemoved
        ));
        assert!(matches!(
            card_error(nfc1::Error::Io),
            apdu::Error::Transport(_)
        ));
    }

    /// A device answering selection from a script.
    struct Scripted {
        supported: Vec<ModulationType>,
        a: Result<nfc1::Target, nfc1::Error>,
        b: Result<nfc1::Target, nfc1::Error>,
        asked: Vec<ModulationType>,
    }

    impl Selector for Scripted {
        fn supported(&mut self) -> Result<Vec<ModulationType>, nfc1::Error> {
            Ok(self.supported.clone())
        }
        fn select(&mut self, m: ModulationType) -> Result<nfc1::Target, nfc1::Error> {
            self.asked.push(m);
            match m {
                ModulationType::Iso14443a => self.a,
                _ => self.b,
            }
        }
    }

    fn type_a() -> nfc1::Target {
        let mut t = nfc1::Target::new_iso14443a();
        if let TargetInfo::Iso14443a(a) = &mut t.target_info {
            a.uid_len = 4;
        }
        t
    }

    fn type_b() -> nfc1::Target {
        nfc1::Target {
            modulation: Modulation {
                modulation_type: ModulationType::Iso14443b,
                baud_rate: BaudRate::Baud106,
            },
            target_info: TargetInfo::Iso14443b(nfc1::target_info::Iso14443b {
                pupi: [0x4D, 0x52, 0x54, 0x44],
                application_data: [0; 4],
                protocol_info: [0x81, 0x81, 0x00],
                card_identifier: 0,
            }),
        }
    }

    fn scripted(
        supported: &[ModulationType],
        a: Result<nfc1::Target, nfc1::Error>,
        b: Result<nfc1::Target, nfc1::Error>,
    ) -> Scripted {
        Scripted {
            supported: supported.to_vec(),
            a,
            b,
            asked: Vec::new(),
        }
    }

    #[test]
    fn a_type_b_card_is_selected_when_no_type_a_answers() {
        use ModulationType::{Iso14443a as A, Iso14443b as B};
        let none = || Ok(nfc1::Target::new_iso14443a());
        // A PN53x with a type B chip: the type A poll finds nothing.
        let mut d = scripted(&[A, B], none(), Ok(type_b()));
        assert_eq!(select_target(&mut d).unwrap(), Iso14443::B);
        assert_eq!(d.asked, [A, B]);
        // libnfc's pcsc driver: the card is not type A ("not supported"), so type B.
        let mut d = scripted(&[A, B], Err(nfc1::Error::DeviceNotSupported), Ok(type_b()));
        assert_eq!(select_target(&mut d).unwrap(), Iso14443::B);
        // A type A card wins without a type B poll.
        let mut d = scripted(&[A, B], Ok(type_a()), Ok(type_b()));
        assert_eq!(select_target(&mut d).unwrap(), Iso14443::A);
        assert_eq!(d.asked, [A]);
        // A device without type B is never asked for it.
        let mut d = scripted(&[A], none(), Ok(type_b()));
        assert!(matches!(select_target(&mut d), Err(NfcError::NoCard)));
        assert_eq!(d.asked, [A]);
        // A type B device with nothing in its field; libnfc left the type A target.
        let mut d = scripted(&[B], none(), none());
        assert!(matches!(select_target(&mut d), Err(NfcError::NoCard)));
        // A device failure is not "no card".
        let mut d = scripted(&[A, B], none(), Err(nfc1::Error::Io));
        assert!(matches!(select_target(&mut d), Err(NfcError::Nfc(_))));
    }

    #[test]
    fn an_untouched_target_is_no_selection() {
        assert!(!is_selected(
            &nfc1::Target::new_iso14443a(),
            ModulationType::Iso14443a
        ));
        assert!(!is_selected(
            &nfc1::Target::new_iso14443a(),
            ModulationType::Iso14443b
        ));
    }
}
