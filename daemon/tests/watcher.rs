//! The PC/SC watcher through a real pcscd: the simulated card's insertion and removal
//! arrive as events, with the card's ATR. Needs `scripts/with-pcscd.sh`.

mod common;

use std::sync::mpsc;

use cancuoc::transport::pcsc::{ReaderEvent, Watcher};
use common::{Sim, context, testbed, wait_for_card};

fn next_matching(
    events: &mpsc::Receiver<ReaderEvent>,
    want: impl Fn(&ReaderEvent) -> bool,
) -> Option<ReaderEvent> {
    let deadline = std::time::Instant::now() + common::EVENT_DEADLINE;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match events.recv_timeout(left) {
            Ok(e) if want(&e) => return Some(e),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

#[test]
fn card_insertion_and_removal_arrive_as_events() {
    let Some((_slot, vpcd, reader)) = testbed("card_insertion_and_removal_arrive_as_events") else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    let (tx, events) = mpsc::channel();
    let watcher = Watcher::spawn(move |e| {
        let _ = tx.send(e);
    });
    let added = next_matching(
        &events,
        |e| matches!(e, ReaderEvent::ReaderAdded(r) if *r == name),
    );
    assert!(added.is_some(), "the vpcd reader is reported");

    let sim = Sim::start(&vpcd, &["--profile", "passport", "--bitrate", "0"]);
    let inserted = next_matching(
        &events,
        |e| matches!(e, ReaderEvent::CardInserted { reader, .. } if *reader == name),
    );
    match inserted {
        Some(ReaderEvent::CardInserted { atr, .. }) => {
            let atr = cancuoc::transport::atr::Atr::parse(&atr).expect("an ATR");
            assert!(atr.contactless);
        }
        other => panic!("no insertion event: {other:?}"),
    }

    sim.signal("USR1");
    let removed = next_matching(
        &events,
        |e| matches!(e, ReaderEvent::CardRemoved(r) if *r == name),
    );
    assert!(removed.is_some(), "the removal is reported");
    sim.signal("USR2");
    let again = next_matching(
        &events,
        |e| matches!(e, ReaderEvent::CardInserted { reader, .. } if *reader == name),
    );
    assert!(again.is_some(), "the card is reported back");
    sim.stop();
    assert!(wait_for_card(&context(), &reader, false));
    drop(watcher);
}

#[test]
fn a_pcscd_restart_is_seen_and_survived() {
    let Some((slot, vpcd, reader)) = testbed("a_pcscd_restart_is_seen_and_survived") else {
        return;
    };
    let Ok(supervisor) = std::env::var("CANCUOC_PCSCD_RESTART") else {
        common::skip_pcscd(
            "a_pcscd_restart_is_seen_and_survived",
            "pcscd is not ours to restart (a pcscd was already running: stop it, e.g. systemctl stop pcscd.socket pcscd)",
        );
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    let (tx, events) = mpsc::channel();
    let watcher = Watcher::spawn(move |e| {
        let _ = tx.send(e);
    });
    let sim = Sim::start(
        &vpcd,
        &["--profile", "vn-cccd", "--bitrate", "0", "--crypto-ms", "0"],
    );
    let inserted = |events: &mpsc::Receiver<ReaderEvent>| {
        next_matching(
            events,
            |e| matches!(e, ReaderEvent::CardInserted { reader, .. } if *reader == name),
        )
        .is_some()
    };
    assert!(inserted(&events), "the card is reported");

    common::restart_pcscd(&slot, &supervisor, &reader);
    assert!(
        next_matching(&events, |e| matches!(e, ReaderEvent::ServiceLost)).is_some(),
        "the loss of pcscd is reported"
    );
    assert!(
        next_matching(
            &events,
            |e| matches!(e, ReaderEvent::ReaderAdded(r) if *r == name)
        )
        .is_some(),
        "the reader is back"
    );
    assert!(
        inserted(&events),
        "the simulator reconnects and the card is back"
    );

    // The next read succeeds without restarting anything of ours.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args([
            "read",
            "--local",
            "--reader",
            reader.to_str().unwrap(),
            "--json",
        ])
        .args(["--can", sim.start["access"]["can"].as_str().unwrap()])
        .args(["--trust", sim.start["csca"].as_str().unwrap()])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(
        json["verification"]["verdict"],
        "genuine",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sim.stop();
    drop(watcher);
}

/// Dropped right after an event, while its thread is between two waits for pcscd (where
/// a cancel has nothing to wake), the watcher still stops within its one-second slice:
/// the daemon's shutdown waits for it.
#[test]
fn a_watcher_dropped_between_two_waits_stops_at_once() {
    let Some((_slot, _vpcd, reader)) = testbed("a_watcher_dropped_between_two_waits_stops_at_once")
    else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    for round in 0..10 {
        let (tx, events) = mpsc::channel();
        let watcher = Watcher::spawn(move |e| {
            let _ = tx.send(e);
        });
        let added = next_matching(
            &events,
            |e| matches!(e, ReaderEvent::ReaderAdded(r) if *r == name),
        );
        assert!(
            added.is_some(),
            "round {round}: the vpcd reader is reported"
        );
        let (done_tx, done) = mpsc::channel();
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            drop(watcher);
            let _ = done_tx.send(());
        });
        assert!(
            done.recv_timeout(std::time::Duration::from_secs(5)).is_ok(),
            "round {round}: the watcher was still running 5 s after it was dropped"
        );
        eprintln!("round {round}: stopped in {:?}", started.elapsed());
    }
}
