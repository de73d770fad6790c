//! Simulated cards: complete chips with synthetic holders, served in process as a
//! [`apdu::Card`] (for `cancuoc demo` and the tests).

pub mod profile;
