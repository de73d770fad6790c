//! A soak of `cancuoc serve`: hours of reads on two simulated readers behind pcscd, card
//! removals and insertions, 50 subscribed clients and misbehaving clients coming and
//! going, with the daemon's resident memory, open file descriptors, threads and read
//! latency sampled at a fixed interval. It fails on any read that is not `genuine`, on
//! a subscriber that missed a card event, and on growth of memory, descriptors or
//! threads between the first and the last part of the run.
//!
//! Run by `make soak` through `scripts/soak.sh`, which gives it a pcscd of its own with
//! two vpcd readers. Environment: `SOAK_MINUTES` (default 30), `SOAK_SAMPLE_SECONDS`
//! (default 60), `SOAK_CANCUOC` (the cancuoc binary), `SOAK_VPCD_PORT` (the first vpcd
//! port; the second reader is on the next), `SOAK_CSCA`, `SOAK_REPORT` (a file the
//! figures are written to as JSON lines).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const READERS: [&str; 2] = ["Virtual PCD 00 00", "Virtual PCD 00 01"];
/// Each reader's card is pulled and put back after this many reads.
const READS_PER_INSERTION: u64 = 25;
const SUBSCRIBERS: usize = 50;
/// How long any single wait may take before the soak calls it a hang.
const PATIENCE: Duration = Duration::from_secs(60);

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A blocking JSON-lines client of the daemon.
struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next: u64,
    events: Vec<Value>,
}

impl Client {
    fn connect(socket: &Path) -> std::io::Result<Client> {
        let stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(PATIENCE))?;
        Ok(Client {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
            next: 1,
            events: Vec::new(),
        })
    }

    fn line(&mut self) -> Option<Value> {
        let mut text = String::new();
        match self.reader.read_line(&mut text) {
            Ok(n) if n > 0 => serde_json::from_str(&text).ok(),
            _ => None,
        }
    }

    /// Sends `request` and returns its answer, keeping events that come first.
    fn request(&mut self, mut request: Value) -> Option<Value> {
        let id = self.next;
        self.next += 1;
        request["id"] = json!(id);
        writeln!(self.writer, "{request}").ok()?;
        loop {
            let line = self.line()?;
            if line.get("event").is_some() {
                self.events.push(line);
            } else if line["id"] == id {
                return Some(line);
            }
        }
    }

    /// Waits for the event `name` on `reader`.
    fn wait_event(&mut self, name: &str, reader: &str) -> bool {
        let is = |e: &Value| e["event"] == name && e["reader"] == reader;
        if let Some(i) = self.events.iter().position(is) {
            self.events.remove(i);
            return true;
        }
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            match self.line() {
                Some(e) if is(&e) => return true,
                Some(e) if e.get("event").is_some() => self.events.push(e),
                Some(_) => {}
                None => return false,
            }
        }
        false
    }
}

/// A child process killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status();
}

/// The daemon's resident memory (KiB), open descriptors and threads.
fn resources(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count() as u64)
        .unwrap_or(0);
    (field("VmRSS:"), fds, field("Threads:"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

fn start_sim(cancuoc: &Path, vpcd: &str) -> (Process, String) {
    let mut child = Command::new(cancuoc)
        .args(["sim", "--profile", "vn-cccd", "--vpcd", vpcd])
        .args(["--bitrate", "0", "--latency-ms", "0", "--crypto-ms", "0"])
        .env("CANCUOC_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cancuoc sim starts");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("the start line");
    let start: Value = serde_json::from_str(&line).expect("JSON start line");
    let id = start["access"]["id_number"]
        .as_str()
        .expect("an ID number")
        .to_owned();
    (Process(child), id)
}

/// What one reader's loop did.
#[derive(Default)]
struct LoopRecord {
    latencies: Mutex<Vec<Duration>>,
    reads: AtomicU64,
    cycles: AtomicU64,
    failures: Mutex<Vec<String>>,
}

fn read_loop(
    socket: PathBuf,
    reader: &'static str,
    sim: Arc<Mutex<Process>>,
    id: String,
    stats: Arc<LoopRecord>,
    stop: Arc<AtomicBool>,
) {
    let fail = |what: String| stats.failures.lock().unwrap().push(what);
    let Ok(mut client) = Client::connect(&socket) else {
        return fail(format!("{reader}: cannot connect"));
    };
    if client.request(json!({"cmd": "subscribe"})).is_none() {
        return fail(format!("{reader}: subscribe"));
    }
    let request = json!({"cmd": "read", "reader": reader, "access": {"id_number": id}});
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let Some(answer) = client.request(request.clone()) else {
            return fail(format!("{reader}: no answer to a read"));
        };
        let took = started.elapsed();
        if answer["result"]["verification"]["verdict"] != "genuine" {
            let mut text = answer.to_string();
            text.truncate(300);
            return fail(format!("{reader}: read {n} not genuine: {text}"));
        }
        stats.latencies.lock().unwrap().push(took);
        stats.reads.fetch_add(1, Ordering::Relaxed);
        n += 1;
        if n % READS_PER_INSERTION == 0 {
            signal(&sim.lock().unwrap().0, "USR1");
            if !client.wait_event("card-removed", reader) {
                return fail(format!("{reader}: no card-removed"));
            }
            signal(&sim.lock().unwrap().0, "USR2");
            if !client.wait_event("card-inserted", reader) {
                return fail(format!("{reader}: no card-inserted"));
            }
            stats.cycles.fetch_add(1, Ordering::Relaxed);
        }
        client.events.clear();
    }
}

/// Clients that misbehave and leave: garbage, a half line, an oversized line, a read
/// with a wrong key abandoned mid-way, and plain connect-and-close.
fn bad_clients(socket: PathBuf, stop: Arc<AtomicBool>, count: Arc<AtomicU64>) {
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) {
        if let Ok(mut s) = UnixStream::connect(&socket) {
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = match i % 5 {
                0 => s.write_all(b"\x00\xff{not json\n"),
                1 => s.write_all(b"{\"cmd\": \"info\""),
                2 => s.write_all(&vec![b'x'; 100_000]),
                3 => s.write_all(b"{\"cmd\": \"subscribe\"}\n{\"cmd\": \"readers\"}\n"),
                _ => Ok(()),
            };
            let mut sink = [0u8; 512];
            let _ = s.read(&mut sink);
            count.fetch_add(1, Ordering::Relaxed);
        }
        i += 1;
        // Pacing, not a wait for a condition: a few bad clients a second.
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn main() -> ExitCode {
    let minutes = env_u64("SOAK_MINUTES", 30);
    let sample = Duration::from_secs(env_u64("SOAK_SAMPLE_SECONDS", 60).max(1));
    let cancuoc = PathBuf::from(std::env::var("SOAK_CANCUOC").expect("SOAK_CANCUOC"));
    let port = env_u64("SOAK_VPCD_PORT", 35963);
    let csca = PathBuf::from(std::env::var("SOAK_CSCA").expect("SOAK_CSCA"));
    let report = std::env::var_os("SOAK_REPORT").map(PathBuf::from);
    let dir = std::env::temp_dir().join(format!("cancuoc-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("cancuoc.sock");
    let config = dir.join("cancuoc.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nmax_connections_per_uid = 256\n[trust]\nallow_test_anchors = true\n[[client]]\nname = \"soak\"\nusers = [{}]\nfields = [\"all\"]\n",
            uid()
        ),
    )
    .unwrap();

    let (sim1, id1) = start_sim(&cancuoc, &format!("127.0.0.1:{port}"));
    let (sim2, id2) = start_sim(&cancuoc, &format!("127.0.0.1:{}", port + 1));
    let mut daemon = Process(
        Command::new(&cancuoc)
            .args(["serve", "--config"])
            .arg(&config)
            .arg("--socket")
            .arg(&socket)
            .arg("--trust")
            .arg(&csca)
            .env("CANCUOC_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cancuoc serve starts"),
    );
    let pid = daemon.0.id();
    let up = Instant::now();
    while UnixStream::connect(&socket).is_err() {
        if let Ok(Some(status)) = daemon.0.try_wait() {
            eprintln!("soak: cancuoc serve ended before its socket appeared ({status})");
            return ExitCode::FAILURE;
        }
        assert!(up.elapsed() < PATIENCE, "no daemon socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Both cards seen before the clock starts.
    let mut probe = Client::connect(&socket).unwrap();
    let readers = probe.request(json!({"cmd": "subscribe"})).unwrap();
    for name in READERS {
        let present = readers["readers"].as_array().is_some_and(|r| {
            r.iter()
                .any(|r| r["name"] == name && r["card_present"] == true)
        });
        if !present && !probe.wait_event("card-inserted", name) {
            eprintln!("soak: no card on {name}");
            return ExitCode::FAILURE;
        }
    }
    drop(probe);

    let stop = Arc::new(AtomicBool::new(false));
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            let mut c = Client::connect(&socket).unwrap();
            c.request(json!({"cmd": "subscribe"})).unwrap();
            c.reader.get_ref().set_read_timeout(None).unwrap();
            std::thread::spawn(move || {
                let mut cycles = [0u64; 2];
                while let Some(e) = c.line() {
                    for (i, name) in READERS.iter().enumerate() {
                        if e["event"] == "card-inserted" && e["reader"] == *name {
                            cycles[i] += 1;
                        }
                    }
                }
                cycles
            })
        })
        .collect();
    let stats: Vec<Arc<LoopRecord>> = (0..2).map(|_| Arc::new(LoopRecord::default())).collect();
    let sims = [Arc::new(Mutex::new(sim1)), Arc::new(Mutex::new(sim2))];
    let loops: Vec<_> = [(0, id1), (1, id2)]
        .into_iter()
        .map(|(i, id)| {
            let (socket, sim, stats, stop) = (
                socket.clone(),
                sims[i].clone(),
                stats[i].clone(),
                stop.clone(),
            );
            std::thread::spawn(move || read_loop(socket, READERS[i], sim, id, stats, stop))
        })
        .collect();
    let bad_count = Arc::new(AtomicU64::new(0));
    let bad = {
        let (socket, stop, count) = (socket.clone(), stop.clone(), bad_count.clone());
        std::thread::spawn(move || bad_clients(socket, stop, count))
    };

    let started = Instant::now();
    let end = started + Duration::from_secs(minutes * 60);
    let mut samples: Vec<Value> = Vec::new();
    let mut failed = false;
    let mut next = started + sample;
    while Instant::now() < end && !failed {
        std::thread::sleep(
            next.saturating_duration_since(Instant::now())
                .min(Duration::from_secs(1)),
        );
        failed = stats.iter().any(|s| !s.failures.lock().unwrap().is_empty());
        if Instant::now() < next {
            continue;
        }
        next += sample;
        let (rss, fds, threads) = resources(pid);
        let mut window: Vec<Duration> = stats
            .iter()
            .flat_map(|s| std::mem::take(&mut *s.latencies.lock().unwrap()))
            .collect();
        window.sort();
        let ms = |d: Duration| (d.as_secs_f64() * 1e4).round() / 10.0;
        let figure = json!({
            "minute": ((started.elapsed().as_secs_f64() / 60.0) * 10.0).round() / 10.0,
            "rss_kib": rss,
            "fds": fds,
            "threads": threads,
            "reads": window.len(),
            "read_p50_ms": ms(percentile(&window, 0.5)),
            "read_p99_ms": ms(percentile(&window, 0.99)),
            "reads_total": stats.iter().map(|s| s.reads.load(Ordering::Relaxed)).sum::<u64>(),
            "card_cycles": stats.iter().map(|s| s.cycles.load(Ordering::Relaxed)).sum::<u64>(),
            "bad_clients": bad_count.load(Ordering::Relaxed),
        });
        println!("{figure}");
        if let Some(path) = &report {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{figure}");
            }
        }
        samples.push(figure);
    }
    stop.store(true, Ordering::SeqCst);
    for l in loops {
        let _ = l.join();
    }
    let _ = bad.join();
    let mut problems: Vec<String> = stats
        .iter()
        .flat_map(|s| s.failures.lock().unwrap().clone())
        .collect();
    let cycles: Vec<u64> = stats
        .iter()
        .map(|s| s.cycles.load(Ordering::Relaxed))
        .collect();
    signal(&daemon.0, "TERM");
    for (n, s) in subscribers.into_iter().enumerate() {
        match s.join() {
            Ok(seen) => {
                for i in 0..2 {
                    if seen[i] < cycles[i] {
                        problems.push(format!(
                            "subscriber {n} saw {} of {} insertions on {}",
                            seen[i], cycles[i], READERS[i]
                        ));
                    }
                }
            }
            Err(_) => problems.push(format!("subscriber {n} panicked")),
        }
    }
    problems.extend(growth(&samples));
    drop(daemon);
    drop(sims);
    let _ = std::fs::remove_dir_all(&dir);
    if problems.is_empty() && !samples.is_empty() {
        eprintln!("soak: passed ({} samples)", samples.len());
        ExitCode::SUCCESS
    } else {
        if samples.is_empty() {
            problems.push("no sample taken".into());
        }
        for p in &problems {
            eprintln!("soak: FAILED: {p}");
        }
        ExitCode::FAILURE
    }
}

/// Growth between the first and the last third of the samples (the first one left
/// out as warm-up): mean resident memory up by more than 10 % and 4 MiB, or a lasting
/// rise of descriptors or threads.
fn growth(samples: &[Value]) -> Vec<String> {
    let s = if samples.len() > 3 {
        &samples[1..]
    } else {
        samples
    };
    if s.len() < 3 {
        return Vec::new();
    }
    let third = s.len() / 3;
    let mean = |part: &[Value], key: &str| {
        part.iter().filter_map(|v| v[key].as_f64()).sum::<f64>() / part.len() as f64
    };
    let (head, tail) = (&s[..third], &s[s.len() - third..]);
    let mut problems = Vec::new();
    let (rss0, rss1) = (mean(head, "rss_kib"), mean(tail, "rss_kib"));
    if rss1 > rss0 * 1.10 && rss1 - rss0 > 4096.0 {
        problems.push(format!("RSS grew from {rss0:.0} KiB to {rss1:.0} KiB"));
    }
    // Descriptors and threads move with the clients connected at the moment of the
    // sample: growth is the last third's lowest count above the first third's highest.
    let extreme = |part: &[Value], key: &str, max: bool| {
        let values = part.iter().filter_map(|v| v[key].as_f64());
        if max {
            values.fold(f64::MIN, f64::max)
        } else {
            values.fold(f64::MAX, f64::min)
        }
    };
    for key in ["fds", "threads"] {
        let (a, b) = (extreme(head, key, true), extreme(tail, key, false));
        if b > a + 2.0 {
            problems.push(format!("{key} grew from at most {a} to at least {b}"));
        }
    }
    problems
}
