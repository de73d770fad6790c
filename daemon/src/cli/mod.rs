//! The `cancuoc` command line: one module per subcommand.

pub mod access_source;
pub mod assets;
pub mod bench;
pub mod demo;
pub mod doctor;
pub mod exit;
pub mod output;
pub mod read;
pub mod readers;
pub mod serve;
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
    /// List PC/SC readers and the cards in them.
    Readers(readers::Args),
    /// Read and verify the card on a reader.
    Read(read::Args),
    /// Full reads of a simulated card at 106/212/424/848 kbit/s: APDUs, bytes, modeled
    /// air time, host CPU time, and the ratio to the air-time limit.
    Bench(bench::Args),
    /// Serve a simulated card to pcscd (vsmartcard's vpcd): "Virtual PCD 00 00".
    Sim(sim::Args),
    /// Serve the local socket API (newline-delimited JSON on a Unix socket).
    Serve(serve::Args),
    /// Offline passive authentication of dumped EF.SOD and data group files.
    Verify(verify::Args),
    /// Check pcscd, readers, the kernel NFC drivers, the daemon's socket, the
    /// configuration and the trust anchors, and say what to fix.
    Doctor(doctor::Args),
    /// Trust anchors: CSCA master lists, certificates, CRLs.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Write man pages and shell completions (for packaging).
    #[command(hide = true)]
    Assets(assets::Args),
}

/// `cancuoc trust …`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// List the CSCAs in a master list, PEM or DER file, or folder, and check them.
    Inspect(trust_inspect::Args),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> std::process::ExitCode {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Readers(args) => readers::run(&args),
        Command::Read(args) => read::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Trust(TrustCommand::Inspect(args)) => trust_inspect::run(&args),
        Command::Sim(args) => sim::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Assets(args) => assets::run(&args),
    }
}
