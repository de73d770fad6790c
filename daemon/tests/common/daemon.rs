//! A `cancuoc serve` child process and a blocking API client for it.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A running daemon, stopped with SIGTERM when dropped.
pub struct Daemon {
    pub child: Child,
    pub socket: PathBuf,
    pub config: PathBuf,
    stderr: Option<JoinHandle<String>>,
}

/// A temporary path unique to this process and call.
pub fn temp_path(stem: &str, ext: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "cancuoc-{stem}-{}-{}.{ext}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A `[[client]]` rule named `name` for `uid` with `fields`.
pub fn client_rule(name: &str, uid: u32, fields: &[&str]) -> String {
    let fields: Vec<String> = fields.iter().map(|f| format!("{f:?}")).collect();
    format!(
        "[[client]]\nname = {name:?}\nusers = [{uid}]\nfields = [{}]\n",
        fields.join(", ")
    )
}

/// This process's uid.
pub fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

impl Daemon {
    /// Starts `cancuoc serve` with `config` (TOML) and the trust anchor `trust`, and
    /// waits for its socket.
    pub fn start(config: &str, trust: &Path) -> Daemon {
        Daemon::start_with(config, trust, &[])
    }

    /// [`Daemon::start`] with more `cancuoc serve` options.
    pub fn start_with(config: &str, trust: &Path, extra: &[&str]) -> Daemon {
        let socket = temp_path("daemon", "sock");
        let config_path = socket.with_extension("toml");
        // The tests trust the published test PKI.
        std::fs::write(
            &config_path,
            format!("[trust]\nallow_test_anchors = true\n{config}"),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .arg("--socket")
            .arg(&socket)
            .arg("--trust")
            .arg(trust)
            .args(extra)
            .env("CANCUOC_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cancuoc serve starts");
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let started = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "cancuoc serve exited with {status}: {}",
                    stderr.join().unwrap()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no socket after 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon {
            child,
            socket,
            config: config_path,
            stderr: Some(stderr),
        }
    }

    pub fn connect(&self) -> Api {
        Api::connect(&self.socket)
    }

    /// The daemon's resident and peak memory, in KiB (VmRSS, VmHWM).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then the exit code and the log.
    pub fn stop(mut self) -> (Option<i32>, String) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut code = None;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                code = status.code();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if code.is_none() {
            eprintln!(
                "the daemon did not exit within 20 s of SIGTERM; its threads (name, kernel wait):\n{}\npcscd's log ends:\n{}",
                threads_of(self.child.id()),
                super::pcscd_log_tail(20)
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = self.stderr.take().unwrap().join().unwrap();
        assert!(!log.contains("panicked"), "the daemon panicked:\n{log}");
        (code, log)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.config);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// A blocking client: requests and answers, with events kept aside.
pub struct Api {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
    pub events: Vec<Value>,
    /// What arrived of a line a read timeout cut short, completed by the next read.
    partial: String,
}

impl Api {
    pub fn connect(socket: &Path) -> Api {
        let stream = UnixStream::connect(socket).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        Api {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
            next_id: 1,
            events: Vec::new(),
            partial: String::new(),
        }
    }

    pub fn send(&mut self, mut request: Value) -> Value {
        if request.get("id").is_none() {
            request["id"] = json!(self.next_id);
            self.next_id += 1;
        }
        let mut line = request.to_string();
        line.push('\n');
        self.writer.write_all(line.as_bytes()).unwrap();
        request["id"].clone()
    }

    /// The next line, or `None` on a close or timeout. A line cut by a timeout is kept
    /// and completed by the next call, never lost.
    pub fn line(&mut self) -> Option<Value> {
        match self.reader.read_line(&mut self.partial) {
            Ok(_) if self.partial.ends_with('\n') => {
                let text = std::mem::take(&mut self.partial);
                Some(serde_json::from_str(&text).expect("JSON lines"))
            }
            Ok(_) | Err(_) => None,
        }
    }

    /// The answer to `id`; events on the way are kept in `events`.
    pub fn answer(&mut self, id: &Value) -> Value {
        loop {
            let line = self.line().expect("an answer");
            if line.get("event").is_some() {
                self.events.push(line);
            } else if &line["id"] == id {
                return line;
            }
        }
    }

    pub fn request(&mut self, request: Value) -> Value {
        let id = self.send(request);
        self.answer(&id)
    }

    /// Waits for an event matching `want`, keeping the others.
    pub fn wait_event(&mut self, timeout: Duration, want: impl Fn(&Value) -> bool) -> Value {
        match self.try_wait_event(timeout, want) {
            Some(event) => event,
            None => panic!("no such event after {timeout:?}; got {:?}", self.events),
        }
    }

    /// [`Api::wait_event`], `None` when no such event came in `timeout` (so that the
    /// caller can tell more, e.g. the daemon's log).
    pub fn try_wait_event(
        &mut self,
        timeout: Duration,
        want: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(i) = self.events.iter().position(&want) {
            return Some(self.events.remove(i));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.reader
                .get_ref()
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            let line = self.line();
            self.reader
                .get_ref()
                .set_read_timeout(Some(Duration::from_secs(60)))
                .unwrap();
            match line {
                Some(line) if line.get("event").is_some() && want(&line) => return Some(line),
                Some(line) if line.get("event").is_some() => self.events.push(line),
                Some(_) => {}
                None if Instant::now() < deadline => {
                    // A closed connection returns at once: do not spin on it.
                    std::thread::sleep(Duration::from_millis(20));
                }
                None => return None,
            }
        }
    }

    pub fn writer(&mut self) -> &mut UnixStream {
        &mut self.writer
    }
}

/// Each thread of process `pid`: its name and where in the kernel it waits.
fn threads_of(pid: u32) -> String {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return "(gone)".into();
    };
    tasks
        .filter_map(Result::ok)
        .map(|task| {
            let read = |file: &str| {
                std::fs::read_to_string(task.path().join(file))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            format!("  {} {}", read("comm"), read("wchan"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
