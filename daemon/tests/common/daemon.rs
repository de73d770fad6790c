//! A running `cancuoc serve` for the tests that go through the socket API as a client
//! would: a child process on a socket in the temporary folder.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `cancuoc serve --socket <tmp> --trust <trust>`, killed when dropped.
pub struct Daemon {
    child: Child,
    pub socket: PathBuf,
    stderr: Option<JoinHandle<String>>,
}

impl Daemon {
    /// Starts the daemon and waits until its socket takes connections.
    pub fn start(name: &str, trust: &Path) -> Daemon {
        let socket =
            std::env::temp_dir().join(format!("cancuoc-{name}-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&socket);
        let mut child = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .arg("serve")
            .arg("--socket")
            .arg(&socket)
            .arg("--trust")
            .arg(trust)
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
        let mut daemon = Daemon {
            child,
            socket,
            stderr: Some(stderr),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let up = std::fs::metadata(&daemon.socket).is_ok_and(|m| m.file_type().is_socket())
                && std::os::unix::net::UnixStream::connect(&daemon.socket).is_ok();
            if up {
                return daemon;
            }
            if let Ok(Some(status)) = daemon.child.try_wait() {
                let log = daemon.stderr.take().unwrap().join().unwrap();
                panic!("cancuoc serve exited ({status}): {log}");
            }
            assert!(Instant::now() < deadline, "the daemon's socket appears");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM; the exit status and what the daemon wrote on stderr.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break status;
            }
            assert!(Instant::now() < deadline, "the daemon stops on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = self.stderr.take().unwrap().join().unwrap();
        (status, log)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}
