//! The ways to reach a card, each an [`apdu::Card`]: PC/SC readers through pcscd, NFC
//! readers through libnfc (feature `nfc`), and the in-process simulator ([`crate::sim`]).

pub mod atr;
#[cfg(feature = "nfc")]
pub mod nfc;
pub mod pcsc;
