//! `cancuoc doctor`: what it finds wrong in an installation and says how to fix, as text
//! and as JSON. PC/SC is turned off in the configurations here, so these run without pcscd.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("cancuoc-doctor-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn doctor(config: &Path, json: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cancuoc"));
    command.arg("doctor").arg("--config").arg(config);
    if json {
        command.arg("--json");
    }
    command.env("LIBNFC_LOG_LEVEL", "0").output().unwrap()
}

fn checks(output: &Output) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(&output.stdout).expect("doctor --json prints JSON");
    doc["checks"].as_array().expect("a list of checks").clone()
}

fn find<'a>(checks: &'a [Value], name: &str, status: &str) -> Option<&'a Value> {
    checks
        .iter()
        .find(|c| c["name"] == name && c["status"] == status)
}

#[test]
fn test_anchors_and_a_world_writable_socket_are_problems_with_fixes() {
    let dir = Dir::new("bad");
    let socket = dir.0.join("api.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o777)).unwrap();
    let config = dir.0.join("cancuoc.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nsocket = {:?}\n[trust]\nanchors = [{:?}]\n[readers]\npcsc = false\n",
            socket,
            fixtures().join("pki/csca.pem")
        ),
    )
    .unwrap();
    let out = doctor(&config, true);
    assert_ne!(out.status.code(), Some(0), "a problem fails the doctor");
    let found = checks(&out);
    println!("{}", serde_json::to_string_pretty(&found).unwrap());
    let test = find(&found, "test anchors", "problem").expect("test anchors found");
    assert!(test["fix"].as_str().unwrap().contains("remove"));
    assert!(
        find(&found, "trust anchors", "ok").unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("VN")
    );
    let open = find(&found, "socket", "problem").expect("the open socket found");
    assert!(open["detail"].as_str().unwrap().contains("0777"), "{open}");
    assert!(find(&found, "socket", "ok").is_some(), "and it answers");
    drop(listener);

    // The same as text: one line per finding, a fix under each problem.
    let text = doctor(&config, false);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("PROBLEM test anchors"), "{stdout}");
    assert!(stdout.contains("fix: "), "{stdout}");
}

#[test]
fn a_sound_configuration_has_no_problem() {
    let dir = Dir::new("good");
    let config = dir.0.join("cancuoc.toml");
    // Test anchors allowed for a test bench are a warning, not a problem.
    std::fs::write(
        &config,
        format!(
            "[server]\nsocket = {:?}\n[trust]\nanchors = [{:?}]\nallow_test_anchors = true\n[readers]\npcsc = false\n[[client]]\nname = \"kiosk\"\nusers = [0]\nfields = [\"full_name\"]\n",
            dir.0.join("absent.sock"),
            fixtures().join("pki/csca.pem")
        ),
    )
    .unwrap();
    let out = doctor(&config, true);
    let found = checks(&out);
    println!("{}", serde_json::to_string_pretty(&found).unwrap());
    assert!(found.iter().all(|c| c["status"] != "problem"), "{found:#?}");
    assert_eq!(out.status.code(), Some(0));
    assert!(find(&found, "test anchors", "warning").is_some());
    let socket = find(&found, "socket", "warning").expect("no daemon listening");
    assert!(socket["fix"].as_str().unwrap().contains("cancuoc.socket"));
    assert!(find(&found, "pcscd", "ok").is_some());
}

#[test]
fn a_broken_configuration_is_a_problem() {
    let dir = Dir::new("broken");
    let config = dir.0.join("cancuoc.toml");
    std::fs::write(&config, "[server]\nmax_connections = 0\n").unwrap();
    let out = doctor(&config, true);
    let found = checks(&out);
    let problem = find(&found, "configuration", "problem").expect("the configuration refused");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("max_connections")
    );
    assert_ne!(out.status.code(), Some(0));
}
