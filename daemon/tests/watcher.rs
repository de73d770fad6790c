//! The PC/SC watcher through a real pcscd: the simulated card's insertion and removal
//! arrive as events, with the card's ATR. Needs `scripts/with-pcscd.sh`.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use cancuoc::transport::pcsc::{ReaderEvent, Watcher};
use common::{Sim, context, testbed, wait_for_card};

fn next_matching(
    events: &mpsc::Receiver<ReaderEvent>,
    want: impl Fn(&ReaderEvent) -> bool,
) -> Option<ReaderEvent> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
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
