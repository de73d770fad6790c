//! The command-line subcommands.
pub mod trust_inspect;
pub mod verify;
