//! pcscd killed (not restarted) in the middle of a read, and the reader unplugged (the
//! vpcd simulator process gone) in the middle of a read: `cancuoc read` ends with a
//! clean error (card removed or reader error, never a hang or a panic), and once
//! pcscd or the reader is back, `cancuoc serve` (running throughout) and the next
//! `cancuoc read` read the card as genuine. Needs `scripts/with-pcscd.sh`.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{Api, Daemon, client_rule, temp_path, uid};
use common::{EVENT_DEADLINE, Sim, context, testbed, wait_for_card};
use serde_json::json;

/// A slow link, so that a whole read takes seconds and can be cut in its middle.
const SLOW: &[&str] = &[
    "--profile",
    "vn-cccd",
    "--latency-ms",
    "40",
    "--bitrate",
    "106",
];

fn read_cli(reader: &str, sim: &Sim) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["read", "--reader", reader, "--json"])
        .args(["--can", sim.start["access"]["can"].as_str().unwrap()])
        .arg("--trust")
        .arg(sim.csca())
        .env("CANCUOC_LOG", "warn")
        .env("CANCUOC_SOCKET", "/nonexistent/cancuoc-test.sock")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cancuoc read runs")
}

/// Waits until the simulator's APDU log has `n` lines: the read is under way.
fn wait_for_apdus(log: &Path, n: usize) {
    let deadline = Instant::now() + EVENT_DEADLINE;
    loop {
        let lines = std::fs::read_to_string(log).map_or(0, |t| t.lines().count());
        if lines >= n {
            return;
        }
        assert!(Instant::now() < deadline, "only {lines} APDUs logged");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The read's exit status and stderr, failing on a hang (no exit by the deadline).
fn finished(mut child: Child) -> (i32, String) {
    let deadline = Instant::now() + EVENT_DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!stderr.contains("panicked"), "{stderr}");
            return (status.code().unwrap_or(-1), stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("cancuoc read still running {EVENT_DEADLINE:?} after the fault");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A read through the daemon, retried while the reader is not yet back.
fn genuine_through(api: &mut Api, reader: &str, id: &str) {
    let deadline = Instant::now() + EVENT_DEADLINE;
    loop {
        let answer =
            api.request(json!({"cmd": "read", "reader": reader, "access": {"id_number": id}}));
        if answer["result"]["verification"]["verdict"] == "genuine" {
            return;
        }
        assert!(Instant::now() < deadline, "{answer:.400}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn csca() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki/csca.pem")
}

#[test]
fn pcscd_killed_mid_read_is_a_clean_error_and_reads_recover_when_it_is_back() {
    const NAME: &str = "pcscd_killed_mid_read_is_a_clean_error_and_reads_recover_when_it_is_back";
    let Some((slot, vpcd, reader)) = testbed(NAME) else {
        return;
    };
    let Ok(supervisor) = std::env::var("CANCUOC_PCSCD_RESTART") else {
        common::skip_pcscd(
            NAME,
            "pcscd is not ours to kill (a pcscd was already running)",
        );
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    let log = temp_path("pcscd-killed-apdus", "txt");
    let mut args = SLOW.to_vec();
    args.extend(["--apdu-log", log.to_str().unwrap()]);
    let sim = Sim::start(&vpcd, &args);
    assert!(wait_for_card(&context(), &reader, true), "the card appears");
    let daemon = Daemon::start(&client_rule("tests", uid(), &["all"]), &csca());

    let read = read_cli(&name, &sim);
    wait_for_apdus(&log, 8);
    let pid = common::pcscd_pid(&supervisor).expect("pcscd runs");
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, stderr) = finished(read);
    assert!(
        code == 4 || code == 7,
        "card removed (4) or reader error (7), got {code}: {stderr}"
    );

    // pcscd back (the supervisor starts a new one): the daemon, which ran throughout,
    // reads the card again, and so does the CLI.
    common::restart_pcscd(&slot, &supervisor, &reader);
    assert!(wait_for_card(&context(), &reader, true), "the card is back");
    let mut api = daemon.connect();
    genuine_through(&mut api, &name, &sim.id_number());
    let (code, stderr) = finished(read_cli(&name, &sim));
    assert_eq!(code, 0, "{stderr}");
    let (code, log_text) = daemon.stop();
    assert_eq!(code, Some(0), "{log_text}");
    let _ = std::fs::remove_file(&log);
    sim.stop();
}

#[test]
fn a_reader_unplugged_mid_read_is_a_clean_error_and_the_next_reader_reads() {
    let Some((_slot, vpcd, reader)) =
        testbed("a_reader_unplugged_mid_read_is_a_clean_error_and_the_next_reader_reads")
    else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    let log = temp_path("unplugged-apdus", "txt");
    let mut args = SLOW.to_vec();
    args.extend(["--apdu-log", log.to_str().unwrap()]);
    let mut sim = Sim::start(&vpcd, &args);
    assert!(wait_for_card(&context(), &reader, true), "the card appears");
    let daemon = Daemon::start(&client_rule("tests", uid(), &["all"]), &csca());
    let mut api = daemon.connect();

    // Through the CLI: the vpcd end of the reader vanishes mid-read.
    let read = read_cli(&name, &sim);
    wait_for_apdus(&log, 8);
    sim.child.kill().unwrap();
    let (code, stderr) = finished(read);
    assert!(
        code == 4 || code == 7,
        "card removed (4) or reader error (7), got {code}: {stderr}"
    );
    drop(sim);

    // Through the daemon: the same, answered with an error code, never left hanging.
    let _ = std::fs::remove_file(&log);
    let mut sim = Sim::start(&vpcd, &args);
    assert!(
        wait_for_card(&context(), &reader, true),
        "the card is back; the simulator's log:\n{}",
        sim.log_so_far()
    );
    let id = sim.id_number();
    let request = api.send(json!({"cmd": "read", "reader": name, "access": {"id_number": id}}));
    wait_for_apdus(&log, 8);
    sim.child.kill().unwrap();
    let answer = api.answer(&request);
    let code = answer["error"]["code"].as_str().unwrap_or_default();
    assert!(
        ["card-removed", "reader-error"].contains(&code),
        "{answer:.400}"
    );
    drop(sim);

    // A reader plugged in again reads.
    let sim = Sim::fast(&vpcd, &reader, "vn-cccd", &[]);
    genuine_through(&mut api, &name, &sim.id_number());
    let (code, log_text) = daemon.stop();
    assert_eq!(code, Some(0), "{log_text}");
    let _ = std::fs::remove_file(&log);
    sim.stop();
}
