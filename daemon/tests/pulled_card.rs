//! The card pulled at every moment of a read: for a PACE card with chip authentication
//! (vn-cccd) and a BAC card with active authentication (vn-cccd-bac), the simulator's
//! card leaves the field at APDU N, for every N from the read's first APDU to its last.
//! Each such read ends as `card-removed` (exit 4 from `cancuoc read`, the error code
//! through `cancuoc serve`) — never a panic, a hang, a protocol error or a verdict — and
//! the next read of the card put back is `genuine`. Through the daemon, one `cancuoc
//! serve` lives through the whole sweep, and a subscribed client sees every removal and
//! insertion. Needs `scripts/with-pcscd.sh` (`make test` runs it).

mod common;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::daemon::{Api, Daemon, client_rule, uid};
use common::{EVENT_DEADLINE, Sim, testbed};
use serde_json::{Value, json};

/// How long one read may take before it counts as a hang.
const READ_DEADLINE: Duration = Duration::from_secs(60);

/// The profiles swept: PACE + chip authentication, BAC + active authentication.
const PROFILES: [&str; 2] = ["vn-cccd", "vn-cccd-bac"];

fn access(sim: &Sim, key: &str) -> String {
    sim.start["access"][key]
        .as_str()
        .unwrap_or_else(|| panic!("start line lacks access.{key}"))
        .to_owned()
}

/// `cancuoc read`'s access arguments for the profile's card.
fn cli_access(sim: &Sim, profile: &str) -> Vec<String> {
    let mut args = if profile == "vn-cccd-bac" {
        vec![
            "--id-number".into(),
            access(sim, "id_number"),
            "--birth".into(),
            access(sim, "birth"),
            "--expiry".into(),
            access(sim, "expiry"),
        ]
    } else {
        vec!["--can".into(), access(sim, "can")]
    };
    args.extend(["--trust".into(), sim.csca().to_string_lossy().into_owned()]);
    args
}

/// The daemon's access object for the profile's card.
fn api_access(sim: &Sim, profile: &str) -> Value {
    if profile == "vn-cccd-bac" {
        json!({"id_number": access(sim, "id_number"), "birth": access(sim, "birth"), "expiry": access(sim, "expiry")})
    } else {
        json!({"can": access(sim, "can")})
    }
}

/// `cancuoc read --reader R --json ARGS…` killed after [`READ_DEADLINE`] (a hang fails
/// the test): exit status, parsed stdout, stderr.
fn read(reader: &str, args: &[String]) -> (i32, Value, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["read", "--reader", reader, "--json"])
        .args(args)
        .env("CANCUOC_LOG", "warn")
        .env("CANCUOC_SOCKET", "/nonexistent/cancuoc-test.sock")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cancuoc read runs");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let stdout = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > READ_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "cancuoc read hung for {READ_DEADLINE:?}: {}",
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let json = serde_json::from_slice(&stdout.join().unwrap()).unwrap_or(Value::Null);
    (status.code().unwrap_or(-1), json, stderr.join().unwrap())
}

/// How many APDUs the simulator counts for one whole read (the first read after it
/// started), by `cancuoc read` or by `read` through the daemon.
fn apdus_of(sim: Sim) -> u64 {
    let log = sim.stop();
    log.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[1].trim_end_matches(',') == "APDUs")
        .and_then(|w| w[0].parse().ok())
        .unwrap_or_else(|| panic!("no APDU count in the simulator's log: {log}"))
}

#[test]
fn the_card_pulled_at_every_apdu_of_a_cli_read() {
    let Some((_slot, vpcd, reader)) = testbed("the_card_pulled_at_every_apdu_of_a_cli_read") else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    for profile in PROFILES {
        let started = Instant::now();
        let sim = Sim::fast(&vpcd, &reader, profile, &[]);
        let args = cli_access(&sim, profile);
        let (code, json, stderr) = read(&name, &args);
        assert_eq!(code, 0, "{profile}: {stderr}");
        assert_eq!(json["verification"]["verdict"], "genuine", "{profile}");
        let last = apdus_of(sim);
        for n in 1..=last {
            let at = n.to_string();
            let sim = Sim::fast(&vpcd, &reader, profile, &["--remove-at", &at]);
            let (code, json, stderr) = read(&name, &args);
            assert!(!stderr.contains("panicked"), "{profile} @{n}: {stderr}");
            assert_eq!(
                code, 4,
                "{profile}, card pulled at APDU {n} of {last}: exit {code}, {json}, {stderr}"
            );
            sim.put_back(&reader);
            let (code, json, stderr) = read(&name, &args);
            assert_eq!(code, 0, "{profile} @{n}, put back: {stderr}");
            assert_eq!(json["verification"]["verdict"], "genuine", "{profile} @{n}");
            sim.stop();
        }
        eprintln!(
            "{profile}: card pulled at each of {last} APDUs of a cancuoc read: exit 4 each time, then genuine ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
}

fn is_event(e: &Value, name: &str, reader: &str) -> bool {
    e["event"] == name && e["reader"] == reader
}

fn csca() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki/csca.pem")
}

/// Reads through the daemon, the answer within [`READ_DEADLINE`].
fn daemon_read(api: &mut Api, reader: &str, access: &Value) -> Value {
    let started = Instant::now();
    let answer = api.request(json!({"cmd": "read", "reader": reader, "access": access}));
    assert!(
        started.elapsed() < READ_DEADLINE,
        "a read took {:?}",
        started.elapsed()
    );
    answer
}

#[test]
fn the_card_pulled_at_every_apdu_of_a_daemon_read() {
    let Some((_slot, vpcd, reader)) = testbed("the_card_pulled_at_every_apdu_of_a_daemon_read")
    else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    let daemon = Daemon::start(&client_rule("tests", uid(), &["all"]), &csca());
    let mut api = daemon.connect();
    assert_eq!(api.request(json!({"cmd": "subscribe"}))["subscribed"], true);
    let inserted = |api: &mut Api| {
        api.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-inserted", &name));
    };
    for profile in PROFILES {
        let started = Instant::now();
        let sim = Sim::fast(&vpcd, &reader, profile, &[]);
        inserted(&mut api);
        let key = api_access(&sim, profile);
        let answer = daemon_read(&mut api, &name, &key);
        assert_eq!(
            answer["result"]["verification"]["verdict"], "genuine",
            "{profile}: {answer:.300}"
        );
        let last = apdus_of(sim);
        api.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-removed", &name));
        for n in 1..=last {
            let at = n.to_string();
            let sim = Sim::fast(&vpcd, &reader, profile, &["--remove-at", &at]);
            inserted(&mut api);
            let answer = daemon_read(&mut api, &name, &key);
            assert_eq!(
                answer["error"]["code"], "card-removed",
                "{profile}, card pulled at APDU {n} of {last}: {answer:.300}"
            );
            api.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-removed", &name));
            sim.put_back(&reader);
            inserted(&mut api);
            let answer = daemon_read(&mut api, &name, &key);
            assert_eq!(
                answer["result"]["verification"]["verdict"], "genuine",
                "{profile} @{n}, put back: {answer:.300}"
            );
            sim.stop();
            api.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-removed", &name));
            api.events.clear();
        }
        eprintln!(
            "{profile}: card pulled at each of {last} APDUs of a daemon read: card-removed each time, then genuine ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
}

/// A card that leaves the field during a read and comes straight back, as a card held
/// loosely over an NFC reader does, is read again: `cancuoc read` ends the failed read
/// without resetting the card that has gone. (A reset of a gone card makes pcscd mark
/// the slot empty before its polling thread has seen the card go; a card back before
/// that thread's next poll then stayed unseen until it was taken away again.)
#[test]
fn a_card_back_at_once_after_the_read_it_left_reads_again() {
    let Some((_slot, vpcd, reader)) =
        testbed("a_card_back_at_once_after_the_read_it_left_reads_again")
    else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    // Pulled at each APDU of the read (18 without the face), put back at once.
    for at in 1..=18 {
        let sim = Sim::fast(&vpcd, &reader, "vn-cccd", &["--remove-at", &at.to_string()]);
        let args = cli_access(&sim, "vn-cccd");
        let (code, json, stderr) = read(&name, &args);
        assert_eq!(code, 4, "pulled at APDU {at}: {json} {stderr}");
        // Back at once, without waiting for pcscd to register the removal.
        sim.signal("USR2");
        // pcscd may still show the card as it was before it registers the bounce, so a
        // read started in between can find no card: the card must be read within a few
        // tries, each once pcscd shows a card.
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(
                common::wait_for_card(&common::context(), &reader, true),
                "pulled at APDU {at}: pcscd never shows the card back; the simulator's log:\n{}",
                sim.log_so_far()
            );
            let (code, json, stderr) = read(&name, &args);
            assert!(!stderr.contains("panicked"), "{stderr}");
            if code == 0 {
                assert_eq!(
                    json["verification"]["verdict"], "genuine",
                    "pulled at APDU {at}"
                );
                break;
            }
            assert!(
                code == 4 && tries < 5,
                "pulled at APDU {at}: try {tries} to read the card back: exit {code}, {json} {stderr}"
            );
        }
        sim.stop();
    }
}
