//! The card protocols of cancuoc, without I/O: ISO 7816-4 APDUs, BER-TLV, ICAO 9303
//! secure messaging and access protocols, for both the terminal and the card side.
#![forbid(unsafe_code)]

pub mod dh;
pub mod ec;
