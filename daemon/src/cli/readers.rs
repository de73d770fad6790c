//! `cancuoc readers`: the readers this machine offers and what is in them — the
//! daemon's list when its socket exists, else PC/SC and libnfc asked directly.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::cli::exit::Exit;
use crate::client::{self, Client};
use crate::transport::pcsc::{self, ReaderInfo};

/// Options of `cancuoc readers`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The daemon's socket (default: $CANCUOC_SOCKET, else /run/cancuoc/api.sock, used
    /// when a socket is there). Given here, it must exist.
    #[arg(long, value_name = "PATH", conflicts_with = "local")]
    pub socket: Option<PathBuf>,
    /// Ask PC/SC and libnfc directly, not the daemon.
    #[arg(long)]
    pub local: bool,
}

/// How long the daemon may take to list its readers.
const DAEMON_TIMEOUT: Duration = Duration::from_secs(15);

/// One reader in the listing.
#[derive(Debug, serde::Serialize)]
struct Listed {
    kind: String,
    #[serde(flatten)]
    reader: ReaderInfo,
}

/// Runs `cancuoc readers`.
pub fn run(args: &Args) -> ExitCode {
    let socket = if args.local {
        None
    } else {
        match client::find_socket(args.socket.as_deref()) {
            Ok(socket) => socket,
            Err(e) => {
                eprintln!("cancuoc readers: --socket: {e}");
                return Exit::Usage.into();
            }
        }
    };
    if let Some(socket) = socket {
        return run_through_daemon(args, &socket);
    }
    let mut listed: Vec<Listed> = Vec::new();
    let mut problems = Vec::new();
    match pcsc::list_readers() {
        Ok(readers) => listed.extend(readers.into_iter().map(|reader| Listed {
            kind: "pcsc".into(),
            reader,
        })),
        Err(e) => problems.push(e.to_string()),
    }
    #[cfg(feature = "nfc")]
    match crate::transport::nfc::list_devices() {
        Ok(devices) => listed.extend(devices.into_iter().map(|connstring| Listed {
            kind: "nfc".into(),
            reader: ReaderInfo {
                name: format!("nfc:{connstring}"),
                card_present: false,
                atr: None,
            },
        })),
        Err(e) => problems.push(e.to_string()),
    }
    if args.json {
        let doc = json!({ "readers": listed, "problems": problems });
        println!("{doc}");
    } else {
        for p in &problems {
            eprintln!("cancuoc readers: {p}");
        }
        print_table(&listed);
    }
    if listed.is_empty() && !problems.is_empty() {
        Exit::Transport.into()
    } else {
        Exit::Ok.into()
    }
}

fn print_table(listed: &[Listed]) {
    if listed.is_empty() {
        println!("no readers");
    }
    for l in listed {
        let card = match (&l.reader.atr, l.kind.as_str()) {
            (Some(atr), _) => format!("card, ATR {atr}"),
            // libnfc devices are listed without touching the field.
            (None, "nfc") => "libnfc device".to_owned(),
            (None, _) => "no card".to_owned(),
        };
        println!("{:<6} {:<40} {card}", l.kind, l.reader.name);
    }
}

/// The daemon's `readers` answer, printed as the direct listing prints.
fn run_through_daemon(args: &Args, socket: &Path) -> ExitCode {
    let answer = Client::connect(socket)
        .and_then(|mut client| client.request("readers", Map::new(), DAEMON_TIMEOUT));
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => {
            let hint = if matches!(e, client::ClientError::Connect { .. }) {
                " (--local asks the readers without the daemon)"
            } else {
                ""
            };
            eprintln!("cancuoc readers: {e}{hint}");
            return Exit::of_client(&e).into();
        }
    };
    let Some(Value::Array(readers)) = answer.get("readers") else {
        eprintln!("cancuoc readers: the daemon's answer holds no reader list");
        return Exit::Internal.into();
    };
    // The daemon's entries as they are (they may say more than this version knows),
    // each with the kind the direct listing gives.
    let entries: Vec<Map<String, Value>> = readers
        .iter()
        .filter_map(Value::as_object)
        .filter(|r| r.get("name").is_some_and(Value::is_string))
        .map(|r| {
            let mut r = r.clone();
            r.entry("kind").or_insert_with(|| json!("pcsc"));
            r
        })
        .collect();
    if args.json {
        println!("{}", json!({ "readers": entries, "problems": [] }));
        return Exit::Ok.into();
    }
    let listed: Vec<Listed> = entries
        .iter()
        .map(|r| Listed {
            kind: r
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("pcsc")
                .to_owned(),
            reader: ReaderInfo {
                name: r
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                card_present: r
                    .get("card_present")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                atr: r.get("atr").and_then(Value::as_str).map(str::to_owned),
            },
        })
        .collect();
    print_table(&listed);
    Exit::Ok.into()
}
