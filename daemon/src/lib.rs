//! cancuoc: reads and verifies chip-based citizen ID cards and passports, and serves the
//! verified identity to local applications.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod client;
pub mod lds;
pub mod logging;
#[cfg(test)]
pub(crate) mod reference;
pub mod session;
pub mod sim;
pub mod transport;
pub mod trust;
