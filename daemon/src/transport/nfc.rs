//! NFC readers driven directly through libnfc (the `nfc1` crate, libnfc built from
//! source): PN53x / ACR122-class readers over USB, and any PC/SC reader through libnfc's
//! `pcsc` driver. A device is named by its libnfc connstring, for example
//! `pn53x_usb:001:004`, `acr122_usb:001:005` or `pcsc:Virtual PCD 00 00` (`pcsc:` then
//! the PC/SC reader name).
//!
//! [`NfcCard::connect`] opens the device, initialises it as an initiator, selects one
//! passive ISO 14443-A target (or -B when the device offers it and no -A target
//! answered) and then exchanges whole APDUs with easy framing (libnfc does the ISO
//! 14443-4 block protocol and chaining).

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
    modulation: ModulationType,
    extended_length: bool,
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
        let supported = device
            .get_supported_modulation(Mode::Initiator)
            .map_err(NfcError::Nfc)?;
        let mut selected = None;
        for wanted in [ModulationType::Iso14443a, ModulationType::Iso14443b] {
            if !supported.contains(&wanted) {
                continue;
            }
            let modulation = Modulation {
                modulation_type: wanted,
                baud_rate: BaudRate::Baud106,
            };
            match device.initiator_select_passive_target(&modulation) {
                Ok(target) if is_selected(&target, wanted) => {
                    selected = Some(wanted);
                    break;
                }
                Ok(_) => {}
                Err(e) if no_card(&e) => {}
                Err(e) => return Err(NfcError::Nfc(e)),
            }
        }
        let modulation = selected.ok_or(NfcError::NoCard)?;
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
