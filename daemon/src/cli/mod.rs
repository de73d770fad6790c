//! The `cancuoc` command line: one module per subcommand.

pub mod demo;
pub mod exit;
pub mod sim;
pub mod trust_inspect;
pub mod verify;

use clap::{Parser, Subcommand};

/// Reads chip-based ID cards and passports (ICAO 9303), proves them genuine, and serves
/// the verified identity to local applications.
#[derive(Debug, Parser)]
#[command(name = "cancuoc", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the built-in simulated Vietnamese card in process and print what it holds.
    Demo(demo::Args),
    /// Serve a simulated card to pcscd (vsmartcard's vpcd): "Virtual PCD 00 00".
    Sim(sim::Args),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> std::process::ExitCode {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Sim(args) => sim::run(&args),
    }
}
