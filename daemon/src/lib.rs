//! cancuoc: reads and verifies chip-based citizen ID cards and passports, and serves the
//! verified identity to local applications.
#![forbid(unsafe_code)]

pub mod cli;
pub mod lds;
pub mod logging;
pub mod sim;
pub mod trust;
