//! Access data kept off the command line: `cancuoc read --can -` through a real pcscd
//! with `cancuoc sim` behind vpcd, while every process's command line (/proc/*/cmdline)
//! is scanned for the CAN; the CAN from the environment; the warning for a CAN given as
//! an argument. Needs `scripts/with-pcscd.sh` (`make test` runs it).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Sim, testbed};

fn read_command(reader: &str, trust: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cancuoc"));
    cmd.args(["read", "--reader", reader, "--json", "--trust", trust])
        .env("CANCUOC_LOG", "warn")
        .env_remove("CANCUOC_CAN")
        // Read directly even when a daemon runs on this machine.
        .env("CANCUOC_SOCKET", "/nonexistent/cancuoc-test.sock");
    cmd
}

/// The pids whose command line holds `needle`, and whether `pid`'s was read.
fn scan_cmdlines(needle: &[u8], pid: u32) -> (Vec<String>, bool) {
    let mut found = Vec::new();
    let mut saw_pid = false;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return (found, saw_pid);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if name == pid.to_string() && !cmdline.is_empty() {
            saw_pid = true;
        }
        if cmdline.windows(needle.len()).any(|w| w == needle) {
            found.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            ));
        }
    }
    (found, saw_pid)
}

#[test]
fn can_from_standard_input_never_shows_in_any_command_line() {
    let Some((_slot, vpcd, reader)) =
        testbed("can_from_standard_input_never_shows_in_any_command_line")
    else {
        return;
    };
    let reader = reader.to_str().unwrap().to_owned();
    let sim = Sim::fast(
        &vpcd,
        &std::ffi::CString::new(reader.clone()).unwrap(),
        "vn-cccd",
        &[],
    );
    let can = sim.start["access"]["can"].as_str().unwrap().to_owned();
    let trust = sim.csca().to_string_lossy().into_owned();

    let mut child = read_command(&reader, &trust)
        .args(["--can", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cancuoc read starts");
    let pid = child.id();
    let mut scans = 0;
    let mut scans_of_reader = 0;
    let check = |scans: &mut u32, scans_of_reader: &mut u32| {
        let (found, saw) = scan_cmdlines(can.as_bytes(), pid);
        assert!(found.is_empty(), "the CAN is on a command line: {found:?}");
        *scans += 1;
        if saw {
            *scans_of_reader += 1;
        }
    };
    // While it waits for its standard input, then while it reads.
    check(&mut scans, &mut scans_of_reader);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{can}").unwrap();
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the read ends");
        check(&mut scans, &mut scans_of_reader);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verification"]["verdict"], "genuine");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(scans_of_reader >= 1, "the reading process was seen");
    println!("{scans} scans of /proc/*/cmdline, {scans_of_reader} while the read ran: no CAN");
    sim.stop();

    // From the environment; and as an argument, with a warning naming the flag.
    let sim = Sim::fast(
        &vpcd,
        &std::ffi::CString::new(reader.clone()).unwrap(),
        "vn-cccd",
        &[],
    );
    // With the face written owner-only.
    let face = std::env::temp_dir().join(format!("cancuoc-access-face-{}.jpg", std::process::id()));
    let _ = std::fs::remove_file(&face);
    let out = read_command(&reader, &trust)
        .env("CANCUOC_CAN", &can)
        .arg("--face")
        .arg(&face)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&face).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the face file's mode");
    let _ = std::fs::remove_file(&face);
    sim.stop();
    let sim = Sim::fast(
        &vpcd,
        &std::ffi::CString::new(reader.clone()).unwrap(),
        "vn-cccd",
        &[],
    );
    // Only some fields: the others are neither read nor shown.
    let out = read_command(&reader, &trust)
        .args(["--can", &can, "--fields", "full_name,id_number"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["vn"]["id_number"].is_string(), "{json}");
    assert!(json["vn"].get("place_of_residence").is_none(), "{json}");
    assert!(json.get("face").is_none() && json["verification"]["verdict"] == "genuine");
    // No progress lines when standard error is not a terminal.
    assert!(
        !stderr.contains("bytes") && !stderr.contains("DG1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: --can on the command line can be seen"),
        "{stderr}"
    );
    assert!(!stderr.contains(&can), "{stderr}");
    sim.stop();
}

#[test]
fn an_empty_standard_input_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .args(["read", "--local", "--reader", "none", "--can", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no can on standard input"), "{stderr}");
}
