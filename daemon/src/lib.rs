//! cancuoc: reads and verifies chip-based citizen ID cards and passports, and serves the
//! verified identity to local applications.
// No unsafe code, but for the one FFI boundary that needs it: taking ownership of the
// socket systemd passes (api::systemd), allowed there alone.
#![deny(unsafe_code)]

pub mod api;
pub mod cli;
pub mod client;
pub mod config;
pub mod dump;
pub mod failure;
pub mod fields;
pub mod lds;
pub mod logging;
pub mod pki;
pub mod readers;
#[cfg(test)]
pub(crate) mod reference;
pub mod service;
pub mod session;
pub mod sim;
pub mod sim_read;
pub mod transport;
pub mod trust;
pub mod web;
