//! Dumps that replay, through a real pcscd with `cancuoc sim` behind vpcd: every
//! simulator profile is read with `--raw DIR`, the folder verified offline with `cancuoc
//! verify DIR`, served again with `cancuoc sim --from-dump DIR` and read once more. The
//! replay gives the same fields, the same files and the same passive authentication, and
//! never a genuine verdict (the chip's keys are not in a dump). Needs
//! `scripts/with-pcscd.sh` (`make test` runs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sim, testbed};

fn cancuoc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cancuoc"))
}

/// `cancuoc read --local --json ARGS…`: exit status, parsed stdout, stderr.
fn read(reader: &str, args: &[&str]) -> common::Outcome {
    common::read_card(reader, &[&["--local"][..], args].concat(), "warn")
}

fn verify(dir: &Path, trust: &[&str]) -> (i32, serde_json::Value, String) {
    let out = cancuoc()
        .args(["verify", "--json"])
        .args(trust)
        .arg(dir)
        .output()
        .expect("cancuoc verify runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `cancuoc sim ARGS…` with no link model, once the slot is empty and until pcscd
/// sees the card.
fn start(vpcd: &str, reader: &str, args: &[&str]) -> Sim {
    let reader = std::ffi::CString::new(reader).unwrap();
    let ctx = common::context();
    assert!(
        common::wait_for_card(&ctx, &reader, false),
        "the slot empties"
    );
    let mut all = vec!["--bitrate", "0", "--crypto-ms", "0", "--latency-ms", "0"];
    all.extend_from_slice(args);
    let sim = Sim::start(vpcd, &all);
    assert!(
        common::wait_for_card(&ctx, &reader, true),
        "the card appears"
    );
    sim
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cancuoc-replay-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Every built-in profile, taken from the simulator's own list so none is left out: an
/// attack card's dump replays its files as they were, and the replay must come out no
/// better than the card.
const PROFILES: &[&str] = cancuoc::sim::profile::BUILTIN;

/// The profiles whose chip offers BAC only.
const BAC_ONLY: &[&str] = &[
    "vn-cccd-bac",
    "passport",
    "bsi-reference",
    "attack-grafted-dg13",
];

#[test]
fn every_profile_round_trips_through_a_dump() {
    let Some((_slot, vpcd, reader)) = testbed("every_profile_round_trips_through_a_dump") else {
        return;
    };
    let reader = reader.to_str().unwrap().to_owned();
    for &profile in PROFILES {
        let card_sim = start(&vpcd, &reader, &["--profile", profile]);
        let line = card_sim.start.clone();
        // The CSCA when the profile has one (the BSI specimen has none).
        let trust: Vec<String> = match line["csca"].as_str() {
            Some(csca) => vec!["--trust".into(), csca.to_owned()],
            None => Vec::new(),
        };
        let trust: Vec<&str> = trust.iter().map(String::as_str).collect();
        // The CAN when the card offers PACE, else the MRZ (BAC).
        let can = line["access"]["can"]
            .as_str()
            .filter(|_| !BAC_ONLY.contains(&profile));
        let (flag, key) = match can {
            Some(can) => ("--can", can.to_owned()),
            None => (
                "--mrz",
                line["access"]["mrz"].as_str().expect("an MRZ").to_owned(),
            ),
        };
        let dump = scratch(profile);
        let dump_arg = dump.to_str().unwrap().to_owned();
        let (code, card, stderr) = read(
            &reader,
            &[
                &[flag, key.as_str(), "--raw", dump_arg.as_str()],
                trust.as_slice(),
            ]
            .concat(),
        );
        card_sim.stop();
        assert!(card.is_object(), "{profile}: read: {code} {stderr}");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dump.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["reader"], reader.as_str(), "{profile}");
        assert!(manifest["apdus"].as_u64().unwrap() > 3, "{profile}");
        assert!(
            !manifest.to_string().contains(&key),
            "{profile}: the key leaked"
        );

        // Offline: the same passive authentication as the read.
        let (vcode, verified, vstderr) = verify(&dump, &trust);
        assert_eq!(
            verified["passive"]["status"], card["verification"]["passive"]["status"],
            "{profile}: verify DIR: {vstderr}\n{}\n{}",
            verified["passive"], card["verification"]["passive"]
        );
        let expected = match card["verification"]["passive"]["status"].as_str() {
            Some("valid") => 0,
            Some("invalid") => 5,
            _ => 6,
        };
        assert_eq!(vcode, expected, "{profile}: {vstderr}");

        // The replay: same fields, files and passive authentication; never genuine.
        let replay = start(&vpcd, &reader, &["--from-dump", &dump_arg, flag, &key]);
        let again = scratch(&format!("{profile}-again"));
        let again_arg = again.to_str().unwrap().to_owned();
        let (rcode, replayed, rstderr) = read(
            &reader,
            &[
                &[flag, key.as_str(), "--raw", again_arg.as_str()],
                trust.as_slice(),
            ]
            .concat(),
        );
        let sim_log = replay.stop();
        assert!(sim_log.contains("NOT the card"), "{profile}: banner");
        assert!(replayed.is_object(), "{profile}: replay: {rcode} {rstderr}");
        for field in ["document", "holder", "vn"] {
            assert_eq!(replayed[field], card[field], "{profile}: {field}");
        }
        assert_eq!(
            replayed["verification"]["passive"], card["verification"]["passive"],
            "{profile}: passive authentication"
        );
        assert_ne!(
            replayed["verification"]["verdict"], "genuine",
            "{profile}: a replay read as genuine"
        );
        assert_ne!(rcode, 0, "{profile}");
        assert_eq!(files_of(&again), files_of(&dump), "{profile}: files");
        let _ = std::fs::remove_dir_all(&dump);
        let _ = std::fs::remove_dir_all(&again);
    }
}
