//! Connection hygiene: 5 000 connections from one user that never read their answers
//! leave the daemon serving a normal client, and its open descriptors return to where
//! they were (the per-uid cap refuses the extra connections at once, the idle timeout
//! and the write timeout close the rest).

mod common;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::daemon::{Daemon, client_rule, uid};
use serde_json::json;

/// One `info` request on a new connection; `None` when refused or unanswered.
fn info(socket: &std::path::Path) -> Option<serde_json::Value> {
    use std::io::BufRead;
    let mut stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"{\"id\":1,\"cmd\":\"info\"}\n").ok()?;
    let mut line = String::new();
    std::io::BufReader::new(stream).read_line(&mut line).ok()?;
    serde_json::from_str(&line).ok()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Raises this process's descriptor limit (the daemon started after inherits it).
fn raise_nofile(want: u64) {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    if soft >= want {
        return;
    }
    let hard = hard.max(want);
    // As root the hard limit may be raised too; otherwise take what is allowed.
    if setrlimit(Resource::RLIMIT_NOFILE, want, hard).is_err() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        setrlimit(Resource::RLIMIT_NOFILE, want.min(hard), hard).unwrap();
    }
}

#[test]
fn five_thousand_silent_connections_leave_a_normal_client_served() {
    const FLOOD: usize = 5_000;
    raise_nofile(FLOOD as u64 + 512);
    let config = format!(
        "[server]\nmax_connections = 64\nmax_connections_per_uid = 16\nidle_timeout_seconds = 2\n[readers]\npcsc = false\n{}",
        client_rule("tests", uid(), &["all"])
    );
    let csca =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki/csca.pem");
    let mut daemon = Daemon::start(&config, &csca);
    let pid = daemon.child.id();
    assert_eq!(
        daemon.connect().request(json!({"cmd": "info"}))["client"],
        "tests"
    );
    let baseline_deadline = Instant::now() + Duration::from_secs(10);
    let mut baseline = open_fds(pid);
    // The served connection closes: wait for the count to settle.
    while Instant::now() < baseline_deadline {
        std::thread::sleep(Duration::from_millis(100));
        let now = open_fds(pid);
        if now == baseline {
            break;
        }
        baseline = now;
    }

    let mut flood = Vec::with_capacity(FLOOD);
    let mut peak = 0;
    for i in 0..FLOOD {
        let Ok(mut stream) = UnixStream::connect(&daemon.socket) else {
            continue;
        };
        // The first ones ask for answers and events they never read.
        if i < 64 {
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            let _ = stream.write_all(b"{\"id\":0,\"cmd\":\"subscribe\"}\n");
            for id in 1..2000 {
                let line = format!("{{\"id\":{id},\"cmd\":\"info\"}}\n");
                if stream.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        }
        flood.push(stream);
        if i % 500 == 0 {
            peak = peak.max(open_fds(pid));
        }
    }
    peak = peak.max(open_fds(pid));
    assert!(daemon.alive(), "the daemon survives the flood");

    // A normal client (the same user) is served once the silent ones are dropped.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(40);
    loop {
        let answer = info(&daemon.socket);
        if answer.is_some_and(|a| a["client"] == "tests") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a normal client is served in time"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let served_after = started.elapsed();

    // The daemon's descriptors return to the baseline while the clients still hold
    // their ends: it closed every one of them itself.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut now = open_fds(pid);
    while now > baseline {
        assert!(
            Instant::now() < deadline,
            "daemon fds: baseline {baseline}, still {now}"
        );
        std::thread::sleep(Duration::from_millis(200));
        now = open_fds(pid);
    }
    println!(
        "{} connections opened; daemon fds: baseline {baseline}, peak {peak}, after {now}; normal client served after {:.1} s",
        flood.len(),
        served_after.as_secs_f64()
    );
    drop(flood);
    assert!(daemon.alive());
    let (code, _log) = daemon.stop();
    assert_eq!(code, Some(0));
}
