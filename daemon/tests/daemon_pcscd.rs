//! `cancuoc serve` as a process, with `cancuoc sim` behind pcscd/vpcd: events for cards
//! and readers, two readers read at once under 50 subscribed clients (with the latency
//! of `info` meanwhile), a client leaving mid-read frees the reader, and a pcscd restart
//! is survived. Needs `scripts/with-pcscd.sh` (`make test` runs it); skips itself
//! otherwise.

mod common;

use std::ffi::CString;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::daemon::{Api, Daemon, client_rule, uid};
use common::{EVENT_DEADLINE, Sim, context, testbed, wait_for_card};
use serde_json::{Value, json};

/// The second vpcd slot: the port after the first, and reader "… 00 01".
fn second_slot(vpcd: &str, reader: &CString) -> (String, CString) {
    let (host, port) = vpcd.rsplit_once(':').unwrap();
    let port: u16 = port.parse().unwrap();
    let name = reader.to_str().unwrap().replace(" 00 00", " 00 01");
    (format!("{host}:{}", port + 1), CString::new(name).unwrap())
}

fn csca() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki/csca.pem")
}

/// Every field for this test's uid, and room for the 51 connections of the subscriber
/// test (the default allows 32 per uid).
fn all_fields() -> String {
    format!(
        "[server]\nmax_connections_per_uid = 64\n{}",
        client_rule("tests", uid(), &["all"])
    )
}

fn is_event(e: &Value, name: &str, reader: &str) -> bool {
    e["event"] == name && e["reader"] == reader
}

/// Subscribes, and waits until the daemon sees a card on `reader` (in the snapshot the
/// subscription starts from, or in an event after it).
fn subscribe_until_card(api: &mut Api, reader: &str) {
    let answer = api.request(json!({"cmd": "subscribe"}));
    let present = answer["readers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == reader && r["card_present"] == true);
    if !present {
        api.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-inserted", reader));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
fn two_readers_fifty_subscribers_concurrent_reads_and_card_events() {
    let Some((_slot, vpcd, reader)) =
        testbed("two_readers_fifty_subscribers_concurrent_reads_and_card_events")
    else {
        return;
    };
    let (vpcd2, reader2) = second_slot(&vpcd, &reader);
    assert!(
        wait_for_card(&context(), &reader2, false),
        "second slot not empty"
    );
    let (name1, name2) = (
        reader.to_str().unwrap().to_owned(),
        reader2.to_str().unwrap().to_owned(),
    );
    let daemon = Daemon::start(&all_fields(), &csca());
    let mut watcher = daemon.connect();
    let answer = watcher.request(json!({"cmd": "subscribe"}));
    assert_eq!(answer["subscribed"], true, "{answer}");

    // 50 more clients, subscribed, each counting what it is told.
    let stop = Arc::new(AtomicBool::new(false));
    let mut subscribers = Vec::new();
    for _ in 0..50 {
        let mut api = daemon.connect();
        let answer = api.request(json!({"cmd": "subscribe"}));
        assert_eq!(answer["subscribed"], true);
        subscribers.push(std::thread::spawn(move || {
            let mut events = Vec::new();
            while let Some(line) = api.line() {
                events.push(line);
            }
            events
        }));
    }

    let sim1 = Sim::start(&vpcd, &["--profile", "vn-cccd"]);
    let sim2 = Sim::start(&vpcd2, &["--profile", "vn-cccd"]);
    for name in [&name1, &name2] {
        let e = watcher.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-inserted", name));
        assert!(
            e["atr"].as_str().is_some_and(|a| a.starts_with("3B")),
            "{e}"
        );
    }
    let id = sim1.id_number();

    // `info` round trips on a connection of its own while both reads run.
    let probing = Arc::new(AtomicBool::new(true));
    let probe = {
        let socket = daemon.socket.clone();
        let probing = probing.clone();
        std::thread::spawn(move || {
            let mut api = Api::connect(&socket);
            let mut times = Vec::new();
            while probing.load(Ordering::SeqCst) {
                let t = Instant::now();
                let answer = api.request(json!({"cmd": "info"}));
                times.push(t.elapsed());
                assert_eq!(answer["api_level"], 1);
                std::thread::sleep(Duration::from_millis(5));
            }
            times
        })
    };
    let started = Instant::now();
    let reads: Vec<_> = [name1.clone(), name2.clone()]
        .into_iter()
        .map(|name| {
            let socket = daemon.socket.clone();
            let id = id.clone();
            std::thread::spawn(move || {
                let mut api = Api::connect(&socket);
                let t = Instant::now();
                let answer = api.request(
                    json!({"cmd": "read", "reader": name, "access": {"id_number": id}, "face": "jpeg"}),
                );
                (answer, t.elapsed())
            })
        })
        .collect();
    let reads: Vec<(Value, Duration)> = reads.into_iter().map(|t| t.join().unwrap()).collect();
    let wall = started.elapsed();
    probing.store(false, Ordering::SeqCst);
    let mut times = probe.join().unwrap();
    for (answer, _) in &reads {
        assert_eq!(
            answer["result"]["verification"]["verdict"], "genuine",
            "{answer:.300}"
        );
        assert!(answer["result"]["face"].is_object());
    }
    let longest = reads.iter().map(|(_, t)| *t).max().unwrap();
    let sum: Duration = reads.iter().map(|(_, t)| *t).sum();
    assert!(
        wall < sum,
        "the two reads overlapped: wall {wall:?}, one after the other {sum:?}"
    );
    times.sort();
    assert!(times.len() >= 10, "info answered while the reads ran");
    eprintln!(
        "info under load: {} requests, median {:?}, p99 {:?}, max {:?}; reads {:?} and {:?} (wall {:?})",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().unwrap(),
        reads[0].1,
        reads[1].1,
        wall
    );
    assert!(longest < Duration::from_secs(60));

    // Card removal and insertion, driven by the simulator.
    sim1.signal("USR1");
    watcher.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-removed", &name1));
    assert!(
        wait_for_card(&context(), &reader, false),
        "pcscd sees it gone"
    );
    sim1.signal("USR2");
    watcher.wait_event(EVENT_DEADLINE, |e| is_event(e, "card-inserted", &name1));
    let readers = watcher.request(json!({"cmd": "readers"}));
    assert!(
        readers["readers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == name1.as_str()
                && r["card_present"] == true
                && r["busy"] == false),
        "{readers}"
    );

    stop.store(true, Ordering::SeqCst);
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    for subscriber in subscribers {
        let events = subscriber.join().unwrap();
        for (event, name) in [
            ("card-inserted", &name1),
            ("card-inserted", &name2),
            ("card-removed", &name1),
        ] {
            assert!(
                events.iter().any(|e| is_event(e, event, name)),
                "a subscriber missed {event} {name}: {events:?}"
            );
        }
    }
    assert!(!log.contains(&id), "no ID number in the daemon's log");
    sim1.stop();
    sim2.stop();
    assert!(wait_for_card(&context(), &reader2, false));
}

#[test]
fn a_client_leaving_mid_read_frees_the_reader() {
    let Some((_slot, vpcd, reader)) = testbed("a_client_leaving_mid_read_frees_the_reader") else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    // Slow enough that a whole read takes seconds.
    let sim = Sim::start(
        &vpcd,
        &[
            "--profile",
            "vn-cccd",
            "--latency-ms",
            "40",
            "--bitrate",
            "106",
        ],
    );
    assert!(wait_for_card(&context(), &reader, true));
    let id = sim.id_number();
    let daemon = Daemon::start(&all_fields(), &csca());
    let mut leaver = daemon.connect();
    subscribe_until_card(&mut leaver, &name);
    let request =
        json!({"cmd": "read", "reader": name, "access": {"id_number": id}, "face": "jpeg"});
    leaver.send(request.clone());
    leaver.wait_event(EVENT_DEADLINE, |e| {
        e["event"] == "read-progress" && e["step"] == "EF.COM"
    });
    drop(leaver);
    let left = Instant::now();
    let mut other = daemon.connect();
    let answer = loop {
        let answer = other.request(request.clone());
        if answer["error"]["code"] != "busy" {
            break answer;
        }
        assert!(
            // The cancelled read ends at its next APDU; a loaded machine may be slow.
            left.elapsed() < Duration::from_secs(15),
            "the reader stays busy after its client left"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        answer["result"]["verification"]["verdict"], "genuine",
        "{answer:.300}"
    );
    // SIGTERM during a read: the read is cancelled and answered, the daemon exits 0.
    other.request(json!({"cmd": "subscribe"}));
    let id = other.send(request);
    other.wait_event(EVENT_DEADLINE, |e| {
        e["event"] == "read-progress" && e["step"] == "EF.COM"
    });
    let term = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let answer = other.answer(&id);
    assert_eq!(answer["error"]["code"], "cancelled", "{answer}");
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    eprintln!("SIGTERM to exit during a read: {:?}", term.elapsed());
    assert!(
        log.contains("code=\"cancelled\"") || log.contains("code=cancelled"),
        "{log}"
    );
    sim.stop();
}

#[test]
fn a_pcscd_restart_takes_the_readers_away_and_back() {
    let Some((slot, vpcd, reader)) = testbed("a_pcscd_restart_takes_the_readers_away_and_back")
    else {
        return;
    };
    let Ok(supervisor) = std::env::var("CANCUOC_PCSCD_RESTART") else {
        common::skip_pcscd(
            "a_pcscd_restart_takes_the_readers_away_and_back",
            "pcscd is not ours to restart (a pcscd was already running: stop it, e.g. systemctl stop pcscd.socket pcscd)",
        );
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    let sim = Sim::fast(&vpcd, &reader, "vn-cccd", &[]);
    let id = sim.id_number();
    let daemon = Daemon::start(&all_fields(), &csca());
    let mut api = daemon.connect();
    subscribe_until_card(&mut api, &name);
    // Each wait starts once pcscd is back, however long the restart took under load.
    common::restart_pcscd(&slot, &supervisor, &reader);
    for event in ["reader-removed", "reader-added", "card-inserted"] {
        api.wait_event(EVENT_DEADLINE, |e| is_event(e, event, &name));
    }
    let answer = api.request(json!({"cmd": "read", "reader": name, "access": {"id_number": id}}));
    assert_eq!(
        answer["result"]["verification"]["verdict"], "genuine",
        "{answer:.300}"
    );
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    sim.stop();
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python example run as another user (nobody), reading its script from stdin so
/// that the checkout's permissions do not matter. `None` when this process cannot
/// change user (not root) or has no setpriv.
fn python_example_as_nobody(socket: &std::path::Path) -> Option<std::process::Output> {
    use std::io::Write;
    if uid() != 0 || !std::path::Path::new("/usr/bin/setpriv").exists() {
        return None;
    }
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let script = std::fs::read(repo().join("examples/python/read_card.py")).unwrap();
    let mut child = std::process::Command::new("/usr/bin/setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            python,
            "-",
            "--socket",
        ])
        .arg(socket)
        .args(["--can", "123456"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(&script).unwrap();
    Some(child.wait_with_output().unwrap())
}

#[test]
fn a_queue_kiosk_gets_the_name_only_and_others_are_forbidden() {
    let Some((_slot, vpcd, reader)) =
        testbed("a_queue_kiosk_gets_the_name_only_and_others_are_forbidden")
    else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    let apdu_log = common::daemon::temp_path("queue-kiosk-apdus", "txt");
    // DG11 and DG12 on the card: the name policy reads DG11 and must never touch DG12.
    let sim = Sim::fast(
        &vpcd,
        &reader,
        "vn-cccd-dg11-dg12",
        &["--apdu-log", apdu_log.to_str().unwrap()],
    );
    let id = sim.id_number();
    // Anyone may connect (mode 0666); only this user has a rule, and it is name only.
    let daemon = Daemon::start(
        &format!(
            "[server]\nsocket_mode = \"0666\"\n{}",
            client_rule("queue-kiosk", uid(), &["full_name"])
        ),
        &csca(),
    );
    let mut api = daemon.connect();
    subscribe_until_card(&mut api, &name);
    let answer = api.request(json!({"cmd": "read", "reader": name, "access": {"id_number": id}}));
    let result = answer["result"].as_object().expect("a result");
    assert_eq!(
        result.keys().collect::<Vec<_>>(),
        ["holder", "verification", "vn"],
        "{answer}"
    );
    assert_eq!(
        result["vn"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["full_name"]
    );
    let holder: Vec<&String> = result["holder"].as_object().unwrap().keys().collect();
    assert_eq!(holder, ["full_name", "given_names", "surname"]);
    assert_eq!(
        result["holder"]["full_name"], "Đặng Thị Thu Hà",
        "from DG11"
    );
    assert_eq!(result["verification"]["verdict"], "genuine");
    let answer = api.request(
        json!({"cmd": "read", "reader": name, "access": {"id_number": id}, "face": "jpeg"}),
    );
    assert_eq!(answer["error"]["code"], "forbidden", "{answer}");

    let log = std::fs::read_to_string(&apdu_log).expect("the simulator's APDU log");
    let _ = std::fs::remove_file(&apdu_log);
    assert!(log.lines().any(|l| l.contains("DG1")), "{log}");
    assert!(log.lines().any(|l| l.contains("DG13")), "{log}");
    assert!(log.lines().any(|l| l.contains("DG11")), "{log}");
    for never in ["DG2", "DG12"] {
        assert!(
            !log.lines()
                .any(|l| l.contains(&format!("{never} ")) || l.contains(&format!("({never})"))),
            "{never} was read:\n{log}"
        );
    }

    match python_example_as_nobody(&daemon.socket) {
        Some(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(stderr.starts_with("forbidden"), "{stderr}");
            assert!(out.stdout.is_empty());
        }
        None => eprintln!(
            "a_queue_kiosk_gets_the_name_only_and_others_are_forbidden: another user's client not run: needs root and setpriv"
        ),
    }
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("client refused"), "{log}");
    sim.stop();
}
