//! Runs the `verify` and `trust inspect` subcommands on their own, until the main
//! binary wires them: `cargo run --example trust_cli -- verify --json FILE...`.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Offline passive authentication of dumped files.
    Verify(cancuoc::cli::verify::Args),
    /// Trust store commands.
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
}

#[derive(Subcommand)]
enum TrustCommand {
    /// List the certificates of a master list, PEM/DER file or folder.
    Inspect(cancuoc::cli::trust_inspect::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Verify(a) => cancuoc::cli::verify::run(&a),
        Command::Trust {
            command: TrustCommand::Inspect(a),
        } => cancuoc::cli::trust_inspect::run(&a),
    }
}
