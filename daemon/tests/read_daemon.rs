//! `cancuoc read` and `cancuoc readers` through a running daemon (`cancuoc serve`), with
//! `cancuoc sim` behind pcscd: the same JSON, verdict and exit statuses as a direct
//! read, `--local` reading directly, and the usage errors of daemon mode. Needs
//! `scripts/with-pcscd.sh` (`make test` runs it); skips itself otherwise.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::daemon::{Daemon, client_rule, uid};
use common::{Sim, testbed};

/// `cancuoc ARGS…` with no daemon socket found by default.
fn cancuoc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(args)
        .env("CANCUOC_SOCKET", "/nonexistent/cancuoc-test.sock")
        .env("CANCUOC_LOG", "warn")
        .output()
        .expect("cancuoc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn read_and_readers_through_the_daemon() {
    let Some((_slot, vpcd, reader)) = testbed("read_and_readers_through_the_daemon") else {
        return;
    };
    let sim = Sim::fast(&vpcd, &reader, "vn-cccd", &[]);
    let reader = reader.to_str().unwrap().to_owned();
    let id = sim.id_number();
    let csca = sim.csca().to_str().unwrap().to_owned();
    let daemon = Daemon::start(
        &client_rule("tests", uid(), &["all"]),
        &PathBuf::from(&csca),
    );
    let socket = daemon.socket.to_str().unwrap().to_owned();
    let through = ["read", "--socket", &socket, "--reader", &reader];

    // A verified read, as JSON.
    let out = cancuoc(&[&through[..], &["--id-number", &id, "--json"]].concat());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("through the daemon"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["verification"]["verdict"], "genuine");
    assert_eq!(json["vn"]["id_number"], id.as_str());
    assert!(json.get("face").is_none(), "no face unless asked");

    // For people, with the face written where --face says.
    let face = std::env::temp_dir().join(format!("cancuoc-daemon-face-{}.png", std::process::id()));
    let out = cancuoc(
        &[
            &through[..],
            &["--id-number", &id, "--face", face.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("verdict          genuine"), "{stdout}");
    let png = std::fs::read(&face).expect("the face was written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG face");
    let _ = std::fs::remove_file(&face);

    // A wrong CAN: exit 3, as a direct read.
    let out = cancuoc(&[&through[..], &["--can", "000000"]].concat());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("wrong-access-key"), "{stderr}");

    // The daemon found through CANCUOC_SOCKET, no --socket.
    let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["read", "--reader", &reader, "--id-number", &id, "--json"])
        .env("CANCUOC_SOCKET", &socket)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("through the daemon"));

    // --trust and --raw belong to direct reads.
    let out = cancuoc(&[&through[..], &["--id-number", &id, "--trust", &csca]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--local"),
        "{}",
        text(&out.stderr)
    );
    let out = cancuoc(&[&through[..], &["--id-number", &id, "--raw", "/tmp/x"]].concat());
    assert_eq!(out.status.code(), Some(2));
    // An explicit socket that is not there is a usage error, not a direct read.
    let out = cancuoc(&[
        "read",
        "--socket",
        "/nonexistent/api.sock",
        "--reader",
        &reader,
        "--id-number",
        &id,
    ]);
    assert_eq!(out.status.code(), Some(2));

    // --local reads directly, with its own trust anchors, though a daemon is there.
    let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["read", "--local", "--reader", &reader, "--id-number", &id])
        .args(["--json", "--trust", &csca])
        .env("CANCUOC_SOCKET", &socket)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("through the daemon"), "{stderr}");
    let local: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(local["verification"]["verdict"], "genuine");
    assert_eq!(local["vn"], json["vn"], "the same identity either way");
    assert_eq!(local["document"], json["document"]);

    // The daemon's readers, listed as the direct listing lists them.
    let out = cancuoc(&["readers", "--socket", &socket]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("pcsc") && l.contains(&reader) && l.contains("card, ATR")),
        "{stdout}"
    );
    let out = cancuoc(&["readers", "--socket", &socket, "--json"]);
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        listing["readers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == reader.as_str()
                && r["card_present"] == true
                && r["kind"] == "pcsc"),
        "{listing}"
    );

    // --fields through the daemon: the name and the verdict, nothing else of the holder.
    let out = cancuoc(
        &[
            &through[..],
            &["--id-number", &id, "--fields", "full_name", "--json"],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let named: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(named["verification"]["verdict"], "genuine");
    assert_eq!(named["vn"]["full_name"], json["vn"]["full_name"]);
    assert_eq!(named["holder"]["full_name"], json["holder"]["full_name"]);
    for (group, key) in [
        ("vn", "id_number"),
        ("holder", "birth_date"),
        ("vn", "place_of_residence"),
    ] {
        assert!(
            named[group].get(key).is_none(),
            "{group}.{key} in {named:#}"
        );
    }
    assert!(named.get("document").is_none(), "{named:#}");

    // --wait, through the daemon and directly: asked while the slot is empty, answered
    // once the card is put in.
    for local in [false, true] {
        sim.signal("USR1");
        wait_until_listed(&socket, &reader, false);
        let mut args: Vec<&str> = vec!["read", "--reader", &reader, "--id-number", &id];
        args.extend(["--wait", "60", "--json"]);
        if local {
            args.extend(["--local", "--trust", &csca]);
        } else {
            args.extend(["--socket", &socket]);
        }
        let waiting = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .args(&args)
            .env("CANCUOC_SOCKET", &socket)
            .env("CANCUOC_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        sim.signal("USR2");
        let out = waiting.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "local {local}: {}",
            text(&out.stderr)
        );
        let waited: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            waited["verification"]["verdict"], "genuine",
            "local {local}"
        );
        assert_eq!(waited["vn"], json["vn"]);
    }

    let (status, log) = daemon.stop();
    assert_eq!(status, Some(0), "{log}");
    for secret in [id.as_str(), "000000", "Đặng"] {
        assert!(
            !log.contains(secret),
            "access or personal data in the daemon's log"
        );
    }
    sim.stop();
}

/// Waits until the daemon lists `reader` with (or without) a card.
fn wait_until_listed(socket: &str, reader: &str, present: bool) {
    let deadline = std::time::Instant::now() + common::EVENT_DEADLINE;
    loop {
        let out = cancuoc(&["readers", "--socket", socket, "--json"]);
        let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let seen = listing["readers"].as_array().is_some_and(|rs| {
            rs.iter()
                .any(|r| r["name"] == reader && r["card_present"] == present)
        });
        if seen {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{reader} never listed with card_present {present}: {listing}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
