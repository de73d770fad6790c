//! `cancuoc readers`: the readers this machine offers and what is in them — the
//! daemon's list when its socket exists, else PC/SC and libnfc asked directly.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::cli::exit::Exit;
use crate::client::{self, Client};
use crate::transport::{self, ReaderInfo};

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

/// One line of the table: the kind as the daemon or the listing names it, the reader's
/// name, the card's ATR.
struct Row<'a> {
    kind: &'a str,
    name: &'a str,
    atr: Option<&'a str>,
}

/// A reader as the direct listing prints it in JSON: whether a card is present is
/// `false` where it cannot be told, and the ATR is always there.
fn listed_json(reader: &ReaderInfo) -> Value {
    json!({
        "kind": reader.kind.name(),
        "name": reader.name,
        "card_present": reader.card_present.unwrap_or(false),
        "atr": reader.atr,
    })
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
    let transport::Listing { readers, problems } = transport::list();
    if args.json {
        let listed: Vec<Value> = readers.iter().map(listed_json).collect();
        let doc = json!({ "readers": listed, "problems": problems });
        println!("{doc}");
    } else {
        for p in &problems {
            eprintln!("cancuoc readers: {p}");
        }
        let rows: Vec<Row<'_>> = readers
            .iter()
            .map(|r| Row {
                kind: r.kind.name(),
                name: &r.name,
                atr: r.atr.as_deref(),
            })
            .collect();
        print_table(&rows);
    }
    if readers.is_empty() && !problems.is_empty() {
        Exit::Transport.into()
    } else {
        Exit::Ok.into()
    }
}

fn print_table(rows: &[Row<'_>]) {
    if rows.is_empty() {
        println!("no readers");
    }
    for l in rows {
        let card = match (l.atr, l.kind) {
            (Some(atr), _) => format!("card, ATR {atr}"),
            // libnfc devices are listed without touching the field.
            (None, "nfc") => "libnfc device".to_owned(),
            (None, _) => "no card".to_owned(),
        };
        println!("{:<6} {:<40} {card}", l.kind, l.name);
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
    let rows: Vec<Row<'_>> = entries
        .iter()
        .map(|r| Row {
            kind: r.get("kind").and_then(Value::as_str).unwrap_or("pcsc"),
            name: r.get("name").and_then(Value::as_str).unwrap_or_default(),
            atr: r.get("atr").and_then(Value::as_str),
        })
        .collect();
    print_table(&rows);
    Exit::Ok.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::Kind;

    #[test]
    fn the_direct_listing_says_false_for_unknown_presence_and_always_has_an_atr() {
        let nfc = ReaderInfo {
            name: "nfc:pn533_usb:001:004".into(),
            kind: Kind::Nfc,
            card_present: None,
            atr: None,
            busy: false,
        };
        assert_eq!(
            listed_json(&nfc),
            json!({"kind": "nfc", "name": "nfc:pn533_usb:001:004", "card_present": false, "atr": null})
        );
        let pcsc = ReaderInfo {
            name: "Virtual PCD 00 00".into(),
            kind: Kind::Pcsc,
            card_present: Some(true),
            atr: Some("3B80".into()),
            busy: false,
        };
        assert_eq!(
            listed_json(&pcsc),
            json!({"kind": "pcsc", "name": "Virtual PCD 00 00", "card_present": true, "atr": "3B80"})
        );
    }
}
