//! The ways to reach a card, each an [`apdu::Card`]: PC/SC readers through pcscd, and
//! the in-process simulator ([`crate::sim`]).

pub mod atr;
pub mod pcsc;
