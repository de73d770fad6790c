//! `cancuoc demo` end to end: it reads the simulated card, and its most verbose log holds
//! no personal data and no key.

use std::process::Command;

use apdu::bac::{self, BacKeys};
use cancuoc::sim::profile;

fn run_demo(log: &str) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
        .arg("demo")
        .env("CANCUOC_LOG", log)
        .output()
        .expect("cancuoc runs");
    (
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn demo_prints_the_holder_and_the_mrz() {
    let (stdout, _, code) = run_demo("warn");
    assert_eq!(code, 0, "{stdout}");
    let printed = profile::vn_cccd().unwrap().printed;
    assert!(stdout.contains(&printed.id_number), "{stdout}");
    assert!(stdout.contains("Đặng Thị Thu Hà"), "{stdout}");
    assert!(stdout.contains("IDVNM"), "{stdout}");
    assert!(
        stdout.contains("PACE-ECDH-GM-AES-128 brainpoolP256r1"),
        "{stdout}"
    );
    assert!(stdout.contains("chip-authentication valid"), "{stdout}");
    let verdict = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("verdict"))
        .unwrap_or_default();
    assert!(verdict.ends_with("genuine"), "{stdout}");
}

#[test]
fn the_trace_log_holds_no_personal_data_and_no_key() {
    let (stdout, log, code) = run_demo("trace");
    assert_eq!(code, 0);
    // The log must exist for this test to mean anything.
    assert!(log.contains("PACE established"), "{log}");
    assert!(log.contains("file read"), "{log}");
    assert!(log.contains("read step"), "{log}");
    let profile = profile::vn_cccd().unwrap();
    let mrz_key = profile.mrz_key().unwrap();
    let keys = BacKeys::derive(&mrz_key);
    let mut secrets: Vec<String> = vec![
        mrz_key.as_str().to_owned(),
        profile.printed.id_number.clone(),
        profile.printed.document_number.clone(),
        profile.printed.can.clone(),
        profile.printed.birth.clone(),
        profile.printed.expiry.clone(),
        "DANG".into(),
        "Đặng".into(),
        "THU<HA".into(),
        "THU HA".into(),
        "Hàng Bông".into(),
        "Kiến Xương".into(),
        "Phạm Thị Lan".into(),
        hex::encode(&*bac::key_seed(&mrz_key)),
        hex::encode(keys.k_enc().as_bytes()),
        hex::encode(keys.k_mac().as_bytes()),
    ];
    // Every MRZ line the demo printed.
    secrets.extend(
        stdout
            .lines()
            .map(str::trim)
            .filter(|l| l.len() == 30)
            .map(str::to_owned),
    );
    let lower = log.to_lowercase();
    for secret in &secrets {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "the log holds a secret ({} characters)",
            secret.len()
        );
    }
    // Session keys are random; no run of 16 or more hex digits may appear at all.
    let longest_hex = log
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest_hex < 16, "a long hex string is in the log");
}
