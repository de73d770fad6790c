//! `cancuoc readers`: the readers this machine offers and what is in them.

use std::process::ExitCode;

use crate::cli::exit::Exit;
use crate::transport::pcsc::{self, ReaderInfo};

/// Options of `cancuoc readers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One reader in the listing.
#[derive(Debug, serde::Serialize)]
struct Listed {
    kind: &'static str,
    #[serde(flatten)]
    reader: ReaderInfo,
}

/// Runs `cancuoc readers`.
pub fn run(args: &Args) -> ExitCode {
    let mut listed: Vec<Listed> = Vec::new();
    let mut problems = Vec::new();
    match pcsc::list_readers() {
        Ok(readers) => listed.extend(readers.into_iter().map(|reader| Listed {
            kind: "pcsc",
            reader,
        })),
        Err(e) => problems.push(e.to_string()),
    }
    #[cfg(feature = "nfc")]
    match crate::transport::nfc::list_devices() {
        Ok(devices) => listed.extend(devices.into_iter().map(|connstring| Listed {
            kind: "nfc",
            reader: ReaderInfo {
                name: format!("nfc:{connstring}"),
                card_present: false,
                atr: None,
            },
        })),
        Err(e) => problems.push(e.to_string()),
    }
    if args.json {
        let doc = serde_json::json!({ "readers": listed, "problems": problems });
        println!("{doc}");
    } else {
        for p in &problems {
            eprintln!("cancuoc readers: {p}");
        }
        if listed.is_empty() {
            println!("no readers");
        }
        for l in &listed {
            let card = match (&l.reader.atr, l.kind) {
                (Some(atr), _) => format!("card, ATR {atr}"),
                // libnfc devices are listed without touching the field.
                (None, "nfc") => "libnfc device".to_owned(),
                (None, _) => "no card".to_owned(),
            };
            println!("{:<6} {:<40} {card}", l.kind, l.reader.name);
        }
    }
    if listed.is_empty() && !problems.is_empty() {
        Exit::Transport.into()
    } else {
        Exit::Ok.into()
    }
}
