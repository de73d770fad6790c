//! The card protocols of cancuoc, without I/O: ISO/IEC 7816-4 APDUs, BER-TLV, ICAO 9303
//! secure messaging and access protocols, for both the terminal and the card side.
//!
//! Everything above the [`Card`] trait is synchronous and deterministic given its
//! randomness source, so every protocol runs terminal against [`emulator::CardEmulator`]
//! in process.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod active_auth;
pub mod asn1;
pub mod bac;
pub mod card;
pub mod chip_auth;
pub mod command;
pub mod crypto;
pub mod dh;
pub mod ec;
pub mod emulator;
mod error;
pub mod hash;
pub mod key_agreement;
pub mod mrz;
pub mod pace;
pub mod read_binary;
pub mod rng;
pub mod secure_messaging;
pub mod security_infos;
pub mod status;
pub mod tlv;

pub use card::{Card, Link};
pub use command::{Command, Response};
pub use error::Error;
pub use secure_messaging::SecureChannel;
pub use status::StatusWord;
