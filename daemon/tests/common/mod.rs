//! The pcscd test bed shared by the integration tests: the vpcd slot, a running
//! `cancuoc sim`, and waiting for pcscd to see the card come and go.
#![allow(dead_code)]

pub mod daemon;
pub mod skip;

#[allow(unused_imports)]
pub use skip::{skip, skip_pcscd};

use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a `cancuoc` command gave: exit status, standard output as JSON (`Null` when it is
/// not JSON), standard error.
pub type Outcome = (i32, serde_json::Value, String);

/// `cancuoc read --reader R --json ARGS…` reading the card directly, even when a daemon
/// runs on this machine (its socket is pointed nowhere), logging at `log`.
pub fn read_card(reader: &str, args: &[&str], log: &str) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["read", "--reader", reader, "--json"])
        .args(args)
        .env("CANCUOC_LOG", log)
        .env("CANCUOC_SOCKET", "/nonexistent/cancuoc-test.sock")
        .output()
        .expect("cancuoc read runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The vpcd slots and pcscd itself, one test at a time in this process: every test that
/// talks to pcscd holds it (through [`testbed`]), so a test that restarts or kills pcscd
/// never pulls it from under another test of the same binary (binaries run one after
/// another, and `scripts/with-pcscd.sh` serializes runs on the machine).
static SLOT: Mutex<()> = Mutex::new(());

/// How long pcscd may take to go away and come back on a loaded machine: the restart
/// waits up to 5 s for the old pcscd to exit and up to 10 s for the new one, plus
/// process start-up under load. Waits return as soon as their condition holds.
pub const PCSCD_RESTART: Duration = Duration::from_secs(90);

/// The pid of the pcscd that `supervisor` (`scripts/with-pcscd.sh`) runs, from /proc
/// (pcscd's pid file is not reliable: a pcscd started or stopped beside it can take or
/// remove it).
pub fn pcscd_pid(supervisor: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "pid (comm) state ppid …"; comm may hold spaces, so split after the last ')'.
            let (head, tail) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1;
            let ppid = tail.split_whitespace().nth(1)?;
            (comm == "pcscd" && ppid == supervisor).then_some(pid)
        })
}

/// Restarts pcscd through `scripts/with-pcscd.sh` (SIGUSR1 to `supervisor`) and waits
/// until a new pcscd answers and lists `reader`. Takes the slot guard so that only the
/// test holding pcscd for itself can restart it.
pub fn restart_pcscd(_slot: &MutexGuard<'static, ()>, supervisor: &str, reader: &CString) {
    // None when pcscd was killed: the supervisor then only starts a new one.
    let before = pcscd_pid(supervisor);
    let status = Command::new("kill")
        .args(["-USR1", supervisor])
        .status()
        .unwrap();
    assert!(status.success(), "SIGUSR1 to {supervisor}");
    let deadline = Instant::now() + PCSCD_RESTART;
    loop {
        let now = pcscd_pid(supervisor);
        if now.is_some() && now != before {
            let listed = pcsc::Context::establish(pcsc::Scope::User)
                .and_then(|ctx| ctx.list_readers_owned())
                .is_ok_and(|names| names.contains(reader));
            if listed {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "pcscd not back with {reader:?} after {PCSCD_RESTART:?} (pid before {before:?}, now {now:?})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The vpcd address and reader name, or `None` outside `scripts/with-pcscd.sh` (the
/// test is recorded as skipped, see [`skip`]).
pub fn testbed(test: &str) -> Option<(MutexGuard<'static, ()>, String, CString)> {
    if std::env::var("CANCUOC_PCSCD").as_deref() != Ok("1") {
        skip(
            test,
            "needs pcscd with vsmartcard-vpcd; run under scripts/with-pcscd.sh (make test does)",
        );
        return None;
    }
    let guard = SLOT.lock().unwrap_or_else(|e| e.into_inner());
    let vpcd = std::env::var("CANCUOC_VPCD").unwrap_or_else(|_| "127.0.0.1:35963".into());
    let reader = std::env::var("CANCUOC_READER").unwrap_or_else(|_| "Virtual PCD 00 00".into());
    let reader = CString::new(reader).unwrap();
    // The previous test's card must be gone from pcscd's view before the next one is
    // inserted, or a connect could reach the old card's stale state.
    assert!(wait_for_card(&context(), &reader, false), "slot not empty");
    Some((guard, vpcd, reader))
}

/// A running `cancuoc sim`, stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Sim {
    pub child: Child,
    pub start: serde_json::Value,
    /// The slot as pcscd showed it once it had registered this card (through
    /// [`Sim::fast`]): the baseline of [`wait_for_removal`].
    pub inserted: Option<Slot>,
    log: Arc<Mutex<String>>,
    stderr: Option<JoinHandle<()>>,
}

impl Sim {
    pub fn start(vpcd: &str, args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .args(["sim", "--vpcd", vpcd])
            .args(args)
            .env("CANCUOC_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cancuoc sim starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let start = serde_json::from_str(&line).expect("one JSON line on start");
        let err = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap_or_else(|e| e.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        Sim {
            child,
            start,
            inserted: None,
            log,
            stderr: Some(stderr),
        }
    }

    /// What the simulator has written on stderr so far.
    pub fn log_so_far(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// `cancuoc sim --profile PROFILE` with no link model and no chip time (plus
    /// `extra`), once the previous card has left `reader` and pcscd sees this one.
    pub fn fast(vpcd: &str, reader: &CString, profile: &str, extra: &[&str]) -> Sim {
        assert!(wait_for_card(&context(), reader, false), "the slot empties");
        let mut args = vec![
            "--profile",
            profile,
            "--bitrate",
            "0",
            "--crypto-ms",
            "0",
            "--latency-ms",
            "0",
        ];
        args.extend_from_slice(extra);
        let mut sim = Sim::start(vpcd, &args);
        sim.inserted = wait_for_slot(&context(), reader, true, None);
        assert!(sim.inserted.is_some(), "the card appears");
        sim
    }

    /// Waits until pcscd has registered the removal of this card (not only shown the slot
    /// empty, see [`wait_for_removal`]); the slot as it then is.
    pub fn wait_removed(&self, reader: &CString) -> Slot {
        let inserted = self
            .inserted
            .expect("the card was inserted through Sim::fast");
        wait_for_removal(&context(), reader, inserted).unwrap_or_else(|| {
            panic!(
                "pcscd registers the card gone; the simulator's log:\n{}",
                self.log_so_far()
            )
        })
    }

    /// Puts the card back (SIGUSR2) once pcscd has registered its removal, and waits
    /// until pcscd has registered it back: a card put back any sooner can go unseen.
    pub fn put_back(&self, reader: &CString) {
        let removed = self.wait_removed(reader);
        self.signal("USR2");
        assert!(
            wait_for_reinsertion(&context(), reader, removed).is_some(),
            "the card is back; the simulator's log:\n{}",
            self.log_so_far()
        );
    }

    /// The ID number the profile's card opens with.
    pub fn id_number(&self) -> String {
        self.start["access"]["id_number"]
            .as_str()
            .expect("the start line gives the ID number")
            .to_owned()
    }

    /// The CSCA that verifies the profile's card.
    pub fn csca(&self) -> std::path::PathBuf {
        std::path::PathBuf::from(
            self.start["csca"]
                .as_str()
                .expect("the start line gives the CSCA"),
        )
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Stops the simulator and returns what it wrote on stderr.
    pub fn stop(mut self) -> String {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "sim exit status {status}");
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.take().unwrap().join().unwrap();
        self.log_so_far()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn context() -> pcsc::Context {
    pcsc::Context::establish(pcsc::Scope::User).expect("pcscd reachable")
}

/// How long a test waits for pcscd or the daemon to report a change: generous for a
/// loaded 2-core machine (the wait ends as soon as the condition holds, so only a
/// failure waits this long).
pub const EVENT_DEADLINE: Duration = Duration::from_secs(60);

/// A reader's slot as pcscd shows it: whether a card is in it, and pcscd's count of the
/// insertions and removals its polling thread has registered there (the upper half of
/// the reader state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub present: bool,
    pub events: u32,
}

/// Waits until the reader's slot is (or is not) occupied.
pub fn wait_for_card(ctx: &pcsc::Context, reader: &CString, present: bool) -> bool {
    wait_for_slot(ctx, reader, present, None).is_some()
}

/// Waits until pcscd has registered the removal of the card it showed as `inserted`:
/// the slot empty, and its event count moved on from the insertion's.
///
/// An empty slot alone is not enough. When a program disconnects with a reset from a
/// card that has gone, pcscd (1.9) marks the slot empty itself, before its polling
/// thread has seen the card go; if the card comes back before that thread's next poll
/// (every 400 ms), the thread sees it present as before, never registers a removal or
/// an insertion, and the slot stays empty for good. Only the polling thread moves the
/// event count, so a moved count says the removal is registered and a card put back
/// afterwards will be seen.
pub fn wait_for_removal(ctx: &pcsc::Context, reader: &CString, inserted: Slot) -> Option<Slot> {
    wait_for_slot(ctx, reader, false, Some(inserted.events))
}

/// Waits until pcscd has registered a card put back after the removal it registered as
/// `removed` (see [`wait_for_removal`]).
pub fn wait_for_reinsertion(ctx: &pcsc::Context, reader: &CString, removed: Slot) -> Option<Slot> {
    wait_for_slot(ctx, reader, true, Some(removed.events))
}

/// Waits until the reader's slot is (or is not) occupied, with an event count other
/// than `not_at` when given; the slot as it then is.
pub fn wait_for_slot(
    ctx: &pcsc::Context,
    reader: &CString,
    present: bool,
    not_at: Option<u32>,
) -> Option<Slot> {
    let mut states = [pcsc::ReaderState::new(reader.clone(), pcsc::State::UNAWARE)];
    let deadline = Instant::now() + EVENT_DEADLINE;
    while Instant::now() < deadline {
        match ctx.get_status_change(Duration::from_millis(250), &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => panic!("get_status_change: {e}"),
        }
        let s = states[0].event_state();
        let slot = Slot {
            present: s.contains(pcsc::State::PRESENT),
            events: states[0].event_count(),
        };
        if slot.present == present
            && not_at != Some(slot.events)
            && !s.contains(pcsc::State::CHANGED)
        {
            return Some(slot);
        }
        states[0].sync_current_state();
    }
    eprintln!(
        "{reader:?}: no card {}{} after {EVENT_DEADLINE:?}; pcscd's state {:?}, event count {}, and its log ends:\n{}",
        if present { "present" } else { "gone" },
        match not_at {
            Some(n) => format!(" with an event count other than {n}"),
            None => String::new(),
        },
        states[0].event_state(),
        states[0].event_count(),
        pcscd_log_tail(40)
    );
    None
}

/// The last `lines` lines of the log of the pcscd `scripts/with-pcscd.sh` runs.
pub fn pcscd_log_tail(lines: usize) -> String {
    let Some(path) = std::env::var_os("CANCUOC_PCSCD_LOG") else {
        return "(no CANCUOC_PCSCD_LOG)".into();
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
pub mod noise;
