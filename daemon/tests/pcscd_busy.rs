//! Through pcscd: a read is one PC/SC transaction. Another program holding the reader
//! (a transaction of its own, or an exclusive connection) makes `cancuoc read` end with
//! a clear "busy" error and the transport exit status (7), never a protocol error; once
//! the other program lets go, the read works. Through the daemon the same holder gives
//! the API error code `busy`. A chip that refuses extended-length APDUs
//! reads with short ones inside the one transaction. Needs `scripts/with-pcscd.sh`.

mod common;

use std::ffi::CString;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::daemon::{Api, Daemon, client_rule, uid};
use common::{Sim, context, testbed};

/// `cancuoc read --local --reader R --json ARGS…`: exit status, parsed stdout, stderr.
fn read(reader: &CString, args: &[&str]) -> common::Outcome {
    common::read_card(
        reader.to_str().unwrap(),
        &[&["--local"][..], args].concat(),
        "warn",
    )
}

/// How another program holds the reader.
#[derive(Clone, Copy, Debug)]
enum Hold {
    Transaction,
    Exclusive,
}

/// Another program: a thread with its own PC/SC context holding `reader` until told to
/// let go.
fn hold(reader: &CString, how: Hold) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let reader = reader.clone();
    let (held_tx, held_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let ctx = context();
        let mode = match how {
            Hold::Transaction => pcsc::ShareMode::Shared,
            Hold::Exclusive => pcsc::ShareMode::Exclusive,
        };
        let mut card = ctx
            .connect(&reader, mode, pcsc::Protocols::ANY)
            .expect("the other program connects");
        match how {
            Hold::Transaction => {
                let transaction = card.transaction().expect("its transaction begins");
                held_tx.send(()).unwrap();
                let _ = release_rx.recv();
                transaction
                    .end(pcsc::Disposition::LeaveCard)
                    .map_err(|(_, e)| e)
                    .expect("its transaction ends");
            }
            Hold::Exclusive => {
                held_tx.send(()).unwrap();
                let _ = release_rx.recv();
            }
        }
        card.disconnect(pcsc::Disposition::LeaveCard)
            .map_err(|(_, e)| e)
            .expect("it disconnects");
    });
    held_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the other program holds the reader");
    (release_tx, thread)
}

#[test]
fn a_reader_held_by_another_program_is_busy_and_a_refused_extended_length_reads_short() {
    let Some((_slot, vpcd, reader)) = testbed("pcscd_busy") else {
        return;
    };
    let sim = Sim::fast(&vpcd, &reader, "vn-cccd", &[]);
    let can = sim.start["access"]["can"].as_str().unwrap().to_owned();
    let csca = sim.csca().to_string_lossy().into_owned();
    let args = ["--can", can.as_str(), "--trust", csca.as_str()];

    for how in [Hold::Transaction, Hold::Exclusive] {
        let (release, other) = hold(&reader, how);
        let started = Instant::now();
        let (code, json, stderr) = read(&reader, &args);
        let took = started.elapsed();
        eprintln!("{how:?}: busy after {took:?}: {}", stderr.trim());
        assert_eq!(code, 7, "{how:?}: exit status {code}, stderr: {stderr}");
        assert!(json.is_null(), "{how:?}: no result");
        assert!(stderr.contains("busy"), "{how:?}: {stderr}");
        // Within the command deadline (5 s) and a margin, never hanging on the holder.
        assert!(took < Duration::from_secs(15), "{how:?}: took {took:?}");
        release.send(()).unwrap();
        other.join().unwrap();

        // The other program let go: the read works, in one transaction of its own.
        let (code, json, stderr) = read(&reader, &args);
        assert_eq!(code, 0, "{how:?} released: {stderr}");
        assert_eq!(json["verification"]["verdict"], "genuine", "{stderr}");
    }

    // Through the daemon: its read of a reader another program holds answers `busy`.
    let daemon = Daemon::start(&client_rule("tests", uid(), &["all"]), &sim.csca());
    let mut api = Api::connect(&daemon.socket);
    let name = reader.to_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = api.request(serde_json::json!({"cmd": "readers"}));
        let listed = answer["readers"].as_array().cloned().unwrap_or_default();
        if listed
            .iter()
            .any(|r| r["name"] == name && r["card_present"] == true)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon sees the card: {answer}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let request = serde_json::json!({"cmd": "read", "reader": name, "access": {"can": can}});
    let (release, other) = hold(&reader, Hold::Exclusive);
    let answer = api.request(request.clone());
    assert_eq!(answer["error"]["code"], "busy", "{answer}");
    release.send(()).unwrap();
    other.join().unwrap();
    let answer = api.request(request);
    assert_eq!(
        answer["result"]["verification"]["verdict"], "genuine",
        "{answer:.300}"
    );
    daemon.stop();
    sim.stop();

    // vn-cccd-le224: its ATR does not say, a try of extended length is refused (6700),
    // and the read goes on with short APDUs in the same transaction and session.
    let log = std::env::temp_dir().join(format!("cancuoc-busy-apdus-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let sim = Sim::fast(
        &vpcd,
        &reader,
        "vn-cccd-le224",
        &["--apdu-log", log.to_str().unwrap()],
    );
    let can = sim.start["access"]["can"].as_str().unwrap().to_owned();
    let csca = sim.csca().to_string_lossy().into_owned();
    let (code, json, stderr) = read(&reader, &["--can", &can, "--trust", &csca]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verification"]["verdict"], "genuine");
    assert!(json["document"]["number"].is_string());
    sim.stop();
    let lines = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(
        lines.lines().any(|l| l.contains("6700")),
        "an extended-length try was refused:\n{lines}"
    );

    // A reader that carries short APDUs only, in front of a chip that announces extended
    // length in its ATR (vn-cccd) or does not say (vn-cccd-ext-unannounced): the reader
    // refuses the extended try itself, the chip never sees it, and the read goes on in
    // short APDUs in the same secure-messaging session.
    for profile in ["vn-cccd", "vn-cccd-ext-unannounced"] {
        let _ = std::fs::remove_file(&log);
        let sim = Sim::fast(
            &vpcd,
            &reader,
            profile,
            &["--short-apdu-reader", "--apdu-log", log.to_str().unwrap()],
        );
        let can = sim.start["access"]["can"].as_str().unwrap().to_owned();
        let csca = sim.csca().to_string_lossy().into_owned();
        let (code, json, stderr) = read(&reader, &["--can", &can, "--trust", &csca]);
        assert_eq!(code, 0, "{profile}: {stderr}");
        assert_eq!(json["verification"]["verdict"], "genuine", "{profile}");
        assert!(json["vn"]["full_name"].is_string(), "{profile}");
        sim.stop();
        let lines = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_file(&log);
        let refused = lines.lines().filter(|l| l.contains("6700")).count();
        assert_eq!(refused, 1, "{profile}: one refused try:\n{lines}");
    }
}
