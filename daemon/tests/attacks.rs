//! Cards that are not genuine, read as a counter reads them: each attack profile of the
//! simulator through a real pcscd with `cancuoc read`, and through `cancuoc serve`. None
//! may come out `genuine`; each must name the problem that gives it away. The genuine
//! profiles they are built from stay `genuine` (`read_cli.rs`, and the PACE-CAM control
//! card here).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::daemon::{Daemon, client_rule, uid};
use common::{Sim, testbed};
use serde_json::{Value, json};

/// An attack, what it must come out as, and the problem that must be named.
struct Attack {
    profile: &'static str,
    verdict: &'static str,
    exit: i32,
    problem: &'static str,
    /// Trust anchors besides the profile's own CSCA (relative to fixtures/pki).
    more_trust: &'static [&'static str],
}

const ATTACKS: &[Attack] = &[
    Attack {
        profile: "attack-clone-refuses-proofs",
        verdict: "forged",
        exit: 5,
        problem: "chip-proof-refused",
        more_trust: &[],
    },
    Attack {
        profile: "attack-clone-hides-keys",
        verdict: "forged",
        exit: 5,
        problem: "chip-key-unreadable",
        more_trust: &[],
    },
    Attack {
        profile: "attack-grafted-dg13",
        verdict: "not-verified",
        exit: 6,
        problem: "unsigned-data-group",
        more_trust: &[],
    },
    Attack {
        profile: "attack-foreign-csca",
        verdict: "not-verified",
        exit: 6,
        problem: "csca-country-mismatch",
        // A master list trusts many countries: the right one is trusted too.
        more_trust: &["csca.pem"],
    },
    Attack {
        profile: "attack-cam-wrong-proof",
        verdict: "forged",
        exit: 5,
        problem: "chip-proof-invalid",
        more_trust: &[],
    },
    Attack {
        profile: "attack-revoked-intermediate",
        verdict: "forged",
        exit: 5,
        problem: "certificate-revoked",
        more_trust: &["csca.crl.pem"],
    },
];

fn pki() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pki")
}

/// Every problem code in a result's verification.
fn problems(result: &Value) -> Vec<String> {
    let v = &result["verification"];
    [&v["passive"]["problems"], &v["chip"]["problems"]]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|p| p["code"].as_str().map(str::to_owned))
        .collect()
}

/// The access flags for a simulated card: the ID number of a Vietnamese card, the MRZ
/// data of a passport.
fn access_args(start: &Value) -> Vec<String> {
    let a = &start["access"];
    let s = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
    if a["id_number"].as_str().is_some_and(|id| !id.is_empty()) {
        vec!["--id-number".into(), s("id_number")]
    } else {
        vec![
            "--document-number".into(),
            s("document_number"),
            "--birth".into(),
            s("birth"),
            "--expiry".into(),
            s("expiry"),
        ]
    }
}

/// The API access object for the same.
fn access_json(start: &Value) -> Value {
    let a = &start["access"];
    if a["id_number"].as_str().is_some_and(|id| !id.is_empty()) {
        json!({"id_number": a["id_number"]})
    } else {
        json!({"document_number": a["document_number"], "birth": a["birth"], "expiry": a["expiry"]})
    }
}

fn check(attack: &Attack, how: &str, result: &Value) {
    let verdict = &result["verification"]["verdict"];
    assert_ne!(verdict, "genuine", "{} {how}: {result:#}", attack.profile);
    assert_eq!(
        verdict, attack.verdict,
        "{} {how}: {result:#}",
        attack.profile
    );
    let found = problems(result);
    assert!(
        found.iter().any(|p| p == attack.problem),
        "{} {how}: want problem {}, got {found:?}",
        attack.profile,
        attack.problem
    );
}

#[test]
fn attacks_through_pcscd_with_cancuoc_read() {
    let Some((_slot, vpcd, reader)) = testbed("attacks_through_pcscd_with_cancuoc_read") else {
        return;
    };
    let name = reader.to_str().unwrap().to_owned();
    for attack in ATTACKS {
        let sim = Sim::fast(&vpcd, &reader, attack.profile, &[]);
        let mut args: Vec<String> = vec![
            "read".into(),
            "--reader".into(),
            name.clone(),
            "--json".into(),
            "--local".into(),
            "--trust".into(),
            sim.csca().display().to_string(),
        ];
        for more in attack.more_trust {
            args.extend(["--trust".into(), pki().join(more).display().to_string()]);
        }
        args.extend(access_args(&sim.start));
        let out = Command::new(env!("CARGO_BIN_EXE_cancuoc"))
            .args(&args)
            .env("CANCUOC_LOG", "warn")
            .output()
            .expect("cancuoc read runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let result: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: no result ({e}): {stderr}", attack.profile));
        check(attack, "through pcscd", &result);
        assert_eq!(
            out.status.code(),
            Some(attack.exit),
            "{}: {stderr}",
            attack.profile
        );
        sim.stop();
    }
}

#[test]
fn attacks_through_the_daemon() {
    for attack in ATTACKS {
        // The simulator's start line says how to open the card and what to trust.
        let start = sim_start_line(attack.profile);
        let mut trust: Vec<String> = attack
            .more_trust
            .iter()
            .map(|m| pki().join(m).display().to_string())
            .collect();
        let mut extra: Vec<&str> = vec!["--simulator", attack.profile];
        for t in &trust {
            extra.extend(["--trust", t.as_str()]);
        }
        let config = format!(
            "[readers]\npcsc = false\n{}",
            client_rule("t", uid(), &["all"])
        );
        let csca = PathBuf::from(start["csca"].as_str().expect("the profile's CSCA"));
        let daemon = Daemon::start_with(&config, &csca, &extra);
        let mut api = daemon.connect();
        let answer =
            api.request(json!({"cmd": "read", "access": access_json(&start), "raw": true}));
        let result = &answer["result"];
        assert!(result.is_object(), "{}: {answer}", attack.profile);
        check(attack, "through cancuoc serve", result);
        if attack.profile == "attack-grafted-dg13" {
            // The grafted data never reaches the identity; it is visible only as a file,
            // with its status.
            assert!(result.get("vn").is_none(), "{result:#}");
            assert!(result["raw"]["DG13"].is_string(), "{result:#}");
            assert_eq!(
                result["verification"]["passive"]["data_groups"]["DG13"],
                "not-in-sod"
            );
        }
        trust.clear();
        let (code, stderr) = daemon.stop();
        assert_eq!(code, Some(0), "{stderr}");
    }
}

#[test]
fn a_genuine_pace_cam_card_is_genuine_through_the_daemon() {
    let start = sim_start_line("vn-cccd-cam");
    let config = format!(
        "[readers]\npcsc = false\n{}",
        client_rule("t", uid(), &["all"])
    );
    let csca = PathBuf::from(start["csca"].as_str().expect("the profile's CSCA"));
    let daemon = Daemon::start_with(&config, &csca, &["--simulator", "vn-cccd-cam"]);
    let mut api = daemon.connect();
    let answer = api.request(json!({"cmd": "read", "access": access_json(&start)}));
    let v = &answer["result"]["verification"];
    assert_eq!(v["verdict"], "genuine", "{answer:#}");
    assert_eq!(v["chip"]["method"], "pace-cam");
    assert_eq!(v["chip"]["status"], "valid");
    assert_eq!(v["chip"]["card_security"]["status"], "valid");
    let (code, stderr) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
}

/// What `cancuoc sim --profile NAME` prints on start: how to open the card and what
/// to trust (from the profile, without serving it).
fn sim_start_line(profile: &str) -> Value {
    let p = cancuoc::sim::profile::load(profile, &Default::default())
        .unwrap_or_else(|e| panic!("{profile}: {e}"));
    json!({
        "access": {
            "id_number": p.printed.id_number,
            "document_number": p.printed.document_number,
            "birth": p.printed.birth,
            "expiry": p.printed.expiry,
        },
        "csca": p.csca.expect("the profile names its CSCA"),
    })
}
