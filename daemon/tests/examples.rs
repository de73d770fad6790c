//! The client examples in `examples/` (Python and Node.js): against a real daemon with
//! `cancuoc sim` behind pcscd (needs `scripts/with-pcscd.sh`; skips itself otherwise),
//! and against a stand-in daemon that sends unasked events and splits its answer into
//! pieces (needs only python3 and node).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::daemon::{Daemon, client_rule, uid};
use common::{Sim, testbed};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The two clients: program and script.
fn clients() -> [(&'static str, PathBuf); 2] {
    [
        ("python3", repo().join("examples/python/read_card.py")),
        ("node", repo().join("examples/node/read_card.js")),
    ]
}

fn run(program: &str, script: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .arg(script)
        .args(args)
        .env_remove("CANCUOC_SOCKET")
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (make deps installs it): {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The DG13 name of the vn-cccd profile, as the fixture defines it.
fn profile_name() -> String {
    let profile = std::fs::read_to_string(repo().join("fixtures/cards/vn-cccd.toml")).unwrap();
    let profile: toml::Table = toml::from_str(&profile).unwrap();
    profile["dg13"]["full_name"].as_str().unwrap().to_owned()
}

#[test]
fn the_examples_read_a_simulated_card_through_the_daemon() {
    let Some((_slot, vpcd, reader)) =
        testbed("the_examples_read_a_simulated_card_through_the_daemon")
    else {
        return;
    };
    let sim = Sim::fast(&vpcd, &reader, "vn-cccd", &[]);
    let reader = reader.to_str().unwrap().to_owned();
    let id = sim.id_number();
    let daemon = Daemon::start(&client_rule("tests", uid(), &["all"]), &sim.csca());
    let socket = daemon.socket.to_str().unwrap().to_owned();
    let name = profile_name();

    for (program, script) in clients() {
        let out = run(
            program,
            &script,
            &["--socket", &socket, "--reader", &reader, "--id-number", &id],
        );
        assert!(out.status.success(), "{program}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines, [name.as_str(), "genuine"], "{program}");

        let out = run(
            program,
            &script,
            &[
                "--socket",
                &socket,
                "--reader",
                &reader,
                "--can",
                "000000",
                "--timeout",
                "30",
            ],
        );
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{program}: a wrong CAN fails");
        assert!(stderr.contains("wrong-access-key"), "{program}: {stderr}");
        assert!(
            !stderr.contains("000000"),
            "{program}: the CAN is not printed"
        );
        assert!(out.stdout.is_empty(), "{program}");
    }

    let (status, log) = daemon.stop();
    assert_eq!(status, Some(0), "the daemon exits 0 on SIGTERM: {log}");
    sim.stop();
}

/// A stand-in daemon for one client: it answers the first request line with an event,
/// an answer to another id, then the answer in small pieces, a large face included.
fn stand_in(
    socket: &Path,
    answer: impl Fn(&serde_json::Value) -> serde_json::Value + Send + 'static,
) -> std::thread::JoinHandle<serde_json::Value> {
    let listener = UnixListener::bind(socket).unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(stream.try_clone().unwrap())
            .read_line(&mut line)
            .unwrap();
        let request: serde_json::Value = serde_json::from_str(&line).unwrap();
        let mut out = Vec::new();
        out.extend_from_slice(b"{\"event\":\"card-inserted\",\"reader\":\"R\"}\n");
        out.extend_from_slice(b"{\"event\":\"progress\",\"id\":1,\"step\":\"DG1\"}\n");
        out.extend_from_slice(b"{\"id\":424242,\"readers\":[]}\n");
        out.extend_from_slice(answer(&request).to_string().as_bytes());
        out.push(b'\n');
        for piece in out.chunks(4093) {
            if stream.write_all(piece).is_err() {
                break;
            }
            stream.flush().unwrap();
        }
        request
    })
}

#[test]
fn the_examples_skip_events_and_take_lines_in_pieces() {
    let dir = std::env::temp_dir().join(format!("cancuoc-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (program, script) in clients() {
        let socket = dir.join(format!("{program}.sock"));
        let _ = std::fs::remove_file(&socket);
        let daemon = stand_in(&socket, |request| {
            serde_json::json!({
                "id": request["id"],
                "result": {
                    "holder": {"full_name": "THU HA DANG"},
                    "vn": {"full_name": "Đặng Thị Thu Hà"},
                    "face": {"format": "jpeg", "data": "A".repeat(1_500_000)},
                    "verification": {"verdict": "genuine"},
                },
            })
        });
        let socket_arg = socket.to_str().unwrap();
        let out = run(
            program,
            &script,
            &[
                "--socket",
                socket_arg,
                "--id-number",
                "001189123456",
                "--birth",
                "890517",
                "--expiry",
                "290517",
            ],
        );
        let request = daemon.join().unwrap();
        assert!(out.status.success(), "{program}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "Đặng Thị Thu Hà\ngenuine\n", "{program}");
        // What the client sent: a read, no reader (the daemon picks), the access form.
        assert_eq!(request["cmd"], "read", "{program}");
        assert!(request.get("reader").is_none(), "{program}");
        assert_eq!(
            request["access"],
            serde_json::json!({"id_number": "001189123456", "birth": "890517", "expiry": "290517"}),
            "{program}"
        );

        // An error answer: its code and message on stderr, a non-zero exit.
        let _ = std::fs::remove_file(&socket);
        let daemon = stand_in(
            &socket,
            |request| serde_json::json!({"id": request["id"], "error": {"code": "busy", "message": "a read is under way on that reader"}}),
        );
        let out = run(
            program,
            &script,
            &["--socket", socket_arg, "--can", "123456"],
        );
        let request = daemon.join().unwrap();
        assert_eq!(request["access"], serde_json::json!({"can": "123456"}));
        assert_eq!(out.status.code(), Some(1), "{program}");
        assert_eq!(
            text(&out.stderr).trim(),
            "busy: a read is under way on that reader",
            "{program}"
        );
        let _ = std::fs::remove_file(&socket);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The developer's setup: no pcscd, the daemon holds the simulated card itself
/// (`cancuoc serve --simulator vn-cccd`), and the examples read it without `--reader`.
#[test]
fn the_examples_read_the_daemon_s_own_simulated_card() {
    let csca = repo().join("fixtures/pki/csca.pem");
    let daemon = Daemon::start_with(
        &format!(
            "[readers]\npcsc = false\n{}",
            client_rule("tests", uid(), &["all"])
        ),
        &csca,
        &["--simulator", "vn-cccd"],
    );
    let socket = daemon.socket.to_str().unwrap().to_owned();
    let id = cancuoc::sim::profile::vn_cccd()
        .unwrap()
        .printed
        .id_number
        .clone();
    for (program, script) in clients() {
        let out = run(program, &script, &["--socket", &socket, "--id-number", &id]);
        assert!(out.status.success(), "{program}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines, [profile_name().as_str(), "genuine"], "{program}");
    }
    let mut api = daemon.connect();
    let readers = api.request(serde_json::json!({"cmd": "readers"}));
    assert_eq!(
        readers["readers"][0]["name"], "Simulated vn-cccd",
        "{readers}"
    );
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}
