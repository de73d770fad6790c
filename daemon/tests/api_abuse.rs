//! 10 000 malformed, oversized, truncated and random requests on 50 connections to a
//! `cancuoc serve` process: every request gets an error answer or a clean close, the
//! daemon stays up with bounded memory, and a normal read succeeds afterwards. Uses an
//! in-process simulated card, so no pcscd is needed.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::daemon::{Api, Daemon, client_rule, uid};
use common::noise::{Noise, malformed};
use serde_json::json;

const CONNECTIONS: u64 = 50;
const PER_CONNECTION: usize = 200;
const MAX_LINE: usize = 64 * 1024;

#[test]
fn ten_thousand_bad_requests_leave_the_daemon_up_and_bounded() {
    let config = format!(
        // 50 clients of one user, beyond the default per-user cap.
        "[server]\nmax_connections_per_uid = 256\n[readers]\npcsc = false\n[[readers.simulator]]\nname = \"Sim\"\nprofile = \"vn-cccd\"\n{}",
        client_rule("tests", uid(), &["all"])
    );
    let csca = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki/csca.pem");
    let mut daemon = Daemon::start(&config, &csca);
    let id_number = cancuoc::sim::profile::vn_cccd()
        .unwrap()
        .printed
        .id_number
        .clone();
    // One read first, so the memory baseline includes what a read allocates.
    let mut api = daemon.connect();
    let answer = api.request(
        json!({"cmd": "read", "reader": "Sim", "access": {"id_number": id_number}, "face": "jpeg"}),
    );
    assert_eq!(answer["result"]["verification"]["verdict"], "genuine");
    let (baseline, _) = daemon.memory_kib();

    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let socket = daemon.socket.clone();
            std::thread::spawn(move || {
                let mut noise = Noise(0xD1B5_4A32_D192_ED03 ^ (c + 1));
                let mut api = Api::connect(&socket);
                let (mut answered, mut closed) = (0usize, 0usize);
                for i in 0..PER_CONNECTION {
                    match (i + c as usize) % 50 {
                        // Over the line bound: an answer, then the server closes.
                        0 => {
                            let long = vec![b'{'; MAX_LINE + 1 + noise.below(200_000)];
                            let _ = api.writer().write_all(&long);
                            let _ = api.writer().write_all(b"\n");
                            if let Some(answer) = api.line() {
                                assert_eq!(answer["error"]["code"], "bad-request");
                            }
                            assert!(api.line().is_none(), "closed after an over-long line");
                            closed += 1;
                            api = Api::connect(&socket);
                        }
                        // Half a request, then the client leaves.
                        1 => {
                            let line = malformed(&mut noise);
                            let _ = api.writer().write_all(&line[..line.len() / 2]);
                            closed += 1;
                            api = Api::connect(&socket);
                        }
                        _ => {
                            let mut line = malformed(&mut noise);
                            line.push(b'\n');
                            api.writer()
                                .write_all(&line)
                                .expect("the daemon takes the line");
                            let answer = api.line().expect("an answer");
                            assert!(answer.get("error").is_some(), "{answer}");
                            answered += 1;
                        }
                    }
                }
                (answered, closed)
            })
        })
        .collect();
    let (mut answered, mut closed) = (0, 0);
    for w in workers {
        let (a, c) = w.join().expect("worker");
        answered += a;
        closed += c;
    }
    let elapsed = started.elapsed();
    assert_eq!(answered + closed, CONNECTIONS as usize * PER_CONNECTION);
    assert!(daemon.alive(), "the daemon is up");
    let (rss, peak) = daemon.memory_kib();
    eprintln!(
        "{} requests ({answered} answered, {closed} closed) in {elapsed:?}; daemon RSS {baseline} KiB before, {rss} KiB after, peak {peak} KiB",
        answered + closed
    );
    assert!(peak < 256 * 1024, "peak RSS {peak} KiB");
    assert!(
        rss < baseline + 64 * 1024,
        "RSS grew from {baseline} to {rss} KiB"
    );

    // The wrong keys among the noise throttled this client; a normal read still works
    // once the wait is over.
    let mut api = daemon.connect();
    let read = json!({"cmd": "read", "reader": "Sim", "access": {"id_number": id_number}});
    let deadline = Instant::now() + Duration::from_secs(330);
    let answer = loop {
        let answer = api.request(read.clone());
        if answer["error"]["code"] != "throttled" {
            break answer;
        }
        assert!(Instant::now() < deadline);
        let wait = answer["error"]["retry_after_ms"].as_u64().unwrap_or(100);
        std::thread::sleep(Duration::from_millis(wait + 10));
    };
    assert_eq!(
        answer["result"]["verification"]["verdict"], "genuine",
        "{answer}"
    );
    let (code, log) = daemon.stop();
    assert_eq!(code, Some(0), "{log:.2000}");
}
