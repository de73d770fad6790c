//! `cancuoc read` through a real pcscd with `cancuoc sim` behind vpcd: each profile read
//! with the access forms a counter clerk meets, its identity and verdict checked in the
//! result JSON, the exit statuses of a wrong CAN, a pulled card and a forged card, and a
//! debug log free of personal data. Needs `scripts/with-pcscd.sh` (`make test` runs it).

mod common;

use std::path::{Path, PathBuf};

use common::{Sim, context, read_card as read, testbed, wait_for_card};

/// [`Sim::fast`] for a reader named by a string.
fn fast(vpcd: &str, reader: &str, profile: &str, extra: &[&str]) -> Sim {
    Sim::fast(
        vpcd,
        &std::ffi::CString::new(reader).unwrap(),
        profile,
        extra,
    )
}

fn access(sim: &Sim, key: &str) -> String {
    sim.start["access"][key]
        .as_str()
        .unwrap_or_else(|| panic!("start line lacks access.{key}"))
        .to_owned()
}

fn csca(sim: &Sim) -> String {
    sim.csca().to_string_lossy().into_owned()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

#[test]
fn vn_cccd_by_id_number_qr_and_mrz() {
    let Some((_slot, vpcd, reader)) = testbed("vn_cccd_by_id_number_qr_and_mrz") else {
        return;
    };
    let reader = reader.to_str().unwrap().to_owned();
    let sim = fast(&vpcd, &reader, "vn-cccd", &[]);
    let id = access(&sim, "id_number");
    let qr = format!("{id}|012345678|Đặng Thị Thu Hà|17051989|Nữ|Hà Nội|10072021");
    let mrz = access(&sim, "mrz");
    let trust = csca(&sim);
    let mut results = Vec::new();
    for form in [
        vec!["--id-number", id.as_str()],
        vec!["--qr", qr.as_str()],
        vec!["--mrz", mrz.as_str()],
    ] {
        let mut args = form.clone();
        args.extend(["--trust", trust.as_str()]);
        let (code, json, stderr) = read(&reader, &args, "warn");
        assert_eq!(code, 0, "{form:?}: {stderr}");
        assert_eq!(json["verification"]["verdict"], "genuine", "{form:?}");
        assert_eq!(json["verification"]["chip"]["status"], "valid");
        assert_eq!(json["vn"]["full_name"], "Đặng Thị Thu Hà");
        assert_eq!(json["vn"]["id_number"], id.as_str());
        assert_eq!(json["holder"]["surname"], "DANG");
        results.push(json);
    }
    // PACE with the CAN (ID number, QR) and PACE with the MRZ: the same identity.
    assert_eq!(results[0]["vn"], results[1]["vn"]);
    assert_eq!(results[0]["vn"], results[2]["vn"]);
    assert_eq!(results[0]["document"], results[2]["document"]);
    sim.stop();
}

#[test]
fn bac_card_passport_and_bsi_specimen() {
    let Some((_slot, vpcd, reader)) = testbed("bac_card_passport_and_bsi_specimen") else {
        return;
    };
    let reader = reader.to_str().unwrap().to_owned();
    for profile in ["vn-cccd-bac", "passport"] {
        let sim = fast(&vpcd, &reader, profile, &[]);
        let (doc, birth, expiry, trust) = (
            access(&sim, "document_number"),
            access(&sim, "birth"),
            access(&sim, "expiry"),
            csca(&sim),
        );
        let args: Vec<String> = if profile == "vn-cccd-bac" {
            let id = access(&sim, "id_number");
            vec![
                "--id-number".into(),
                id,
                "--birth".into(),
                birth,
                "--expiry".into(),
                expiry,
            ]
        } else {
            vec![
                "--document-number".into(),
                doc,
                "--birth".into(),
                birth,
                "--expiry".into(),
                expiry,
            ]
        };
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--trust", trust.as_str()]);
        let (code, json, stderr) = read(&reader, &args, "warn");
        assert_eq!(code, 0, "{profile}: {stderr}");
        assert_eq!(json["verification"]["access"], "BAC", "{profile}");
        assert_eq!(json["verification"]["verdict"], "genuine", "{profile}");
        // The identity the profile defines, as its start line gives it.
        assert_eq!(
            json["document"]["number"],
            access(&sim, "document_number").as_str()
        );
        let mrz = access(&sim, "mrz");
        assert_eq!(
            json["document"]["mrz"].as_str().unwrap().replace('\n', ""),
            mrz
        );
        sim.stop();
    }
    let sim = fast(&vpcd, &reader, "bsi-reference", &[]);
    let face = std::env::temp_dir().join(format!("cancuoc-bsi-face-{}.png", std::process::id()));
    let face_arg = face.to_str().unwrap().to_owned();
    let (code, json, stderr) = read(
        &reader,
        &[
            "--document-number",
            "C11T002JM",
            "--birth",
            "960812",
            "--expiry",
            "231031",
            "--face",
            &face_arg,
        ],
        "warn",
    );
    let png = std::fs::read(&face).expect("the face was written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG face");
    let _ = std::fs::remove_file(&face);
    // No trust anchor for the specimen: exit 6, every hash ok, the chip proves its key.
    assert_eq!(code, 6, "{stderr}");
    assert_eq!(json["verification"]["verdict"], "not-verified");
    assert_eq!(json["verification"]["passive"]["status"], "no-trust-anchor");
    for dg in ["DG1", "DG2", "DG14"] {
        assert_eq!(
            json["verification"]["passive"]["data_groups"][dg], "ok",
            "{dg}"
        );
    }
    assert_eq!(
        json["verification"]["chip"]["method"],
        "chip-authentication"
    );
    assert_eq!(json["verification"]["chip"]["status"], "valid");
    sim.stop();
}

#[test]
fn wrong_can_removal_and_a_forged_card() {
    let Some((_slot, vpcd, reader)) = testbed("wrong_can_removal_and_a_forged_card") else {
        return;
    };
    let reader = reader.to_str().unwrap().to_owned();
    // A wrong CAN: exit 3 with a clear message.
    let sim = fast(&vpcd, &reader, "vn-cccd", &[]);
    let (code, _, stderr) = read(&reader, &["--can", "000000"], "warn");
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("wrong CAN or MRZ"), "{stderr}");
    sim.stop();

    // The card leaves the field at APDU 12 (a data group), mid-read: exit 4; put back,
    // it reads. A whole read without the face is 18 APDUs.
    let sim = fast(&vpcd, &reader, "vn-cccd", &["--remove-at", "12"]);
    let can = access(&sim, "can");
    let trust = csca(&sim);
    let (code, _, stderr) = read(&reader, &["--can", &can], "warn");
    assert_eq!(code, 4, "{stderr}");
    // The CLI disconnected with a reset from the gone card: put back only once pcscd
    // has registered the removal (Sim::put_back).
    sim.put_back(&std::ffi::CString::new(reader.clone()).unwrap());
    let deadline = std::time::Instant::now() + common::EVENT_DEADLINE;
    loop {
        let (code, json, stderr) = read(&reader, &["--can", &can, "--trust", &trust], "warn");
        if code == 0 {
            assert_eq!(json["verification"]["verdict"], "genuine");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the read after reinsertion succeeds: {stderr}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    sim.stop();

    // A forged DG13 (changed after the SOD was signed): exit 5, "forged".
    let dir = std::env::temp_dir().join(format!("cancuoc-forged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = std::fs::read_to_string(fixtures().join("cards/vn-cccd.toml"))
        .unwrap()
        .replace("\"keys/", "\"{fixtures}/cards/keys/")
        .replace("\"../pki/", "\"{fixtures}/pki/")
        .replace("[sod]\n", "[sod]\ntamper = [13]\n");
    let path = dir.join("vn-cccd-forged.toml");
    std::fs::write(&path, profile).unwrap();
    let sim = fast(&vpcd, &reader, path.to_str().unwrap(), &[]);
    let (code, json, stderr) = read(
        &reader,
        &["--can", &access(&sim, "can"), "--trust", &csca(&sim)],
        "debug",
    );
    assert_eq!(code, 5, "{stderr}");
    assert_eq!(json["verification"]["verdict"], "forged");
    assert_eq!(
        json["verification"]["passive"]["data_groups"]["DG13"],
        "mismatch"
    );
    // The debug log of a full read names no person, number, MRZ or CAN.
    for secret in [
        access(&sim, "can"),
        access(&sim, "id_number"),
        access(&sim, "document_number"),
        access(&sim, "mrz"),
        "Đặng".into(),
        "DANG".into(),
        "Hàng Bông".into(),
    ] {
        assert!(!stderr.contains(&secret), "personal data in the debug log");
    }
    assert!(stderr.contains("read step"), "the debug log was on");
    sim.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_apdu_log_of_a_full_read() {
    let Some((_slot, vpcd, reader)) = testbed("the_apdu_log_of_a_full_read") else {
        return;
    };
    let reader = reader.to_str().unwrap().to_owned();
    let log = std::env::temp_dir().join(format!("cancuoc-apdu-log-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let sim = fast(
        &vpcd,
        &reader,
        "vn-cccd",
        &["--apdu-log", log.to_str().unwrap()],
    );
    let (code, json, stderr) = read(
        &reader,
        &[
            "--id-number",
            &access(&sim, "id_number"),
            "--trust",
            &csca(&sim),
        ],
        "warn",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["verification"]["verdict"], "genuine");
    // Each line is flushed as the command is answered: the log is complete while the
    // simulator still runs.
    let text = std::fs::read_to_string(&log).expect("the APDU log exists");
    assert!(text.contains("MSE:SET AT (PACE)"), "{text}");
    assert!(text.contains("GENERAL AUTHENTICATE"), "{text}");
    assert!(
        text.lines()
            // One READ BINARY asks for more than the file holds: 6282, end of file.
            .any(|l| l.contains("READ BINARY DG1")
                && (l.contains("[SM] sw=9000") || l.contains("[SM] sw=6282"))),
        "{text}"
    );
    assert!(text.contains("READ BINARY EF.SOD"), "{text}");
    // No --face: DG2 is never read.
    assert!(!text.contains("READ BINARY DG2"), "{text}");
    // The card and the PC/SC link carry extended length (the ATR says so): every file
    // takes its 8-byte header read and one more command at most.
    let mut per_file = std::collections::BTreeMap::<&str, usize>::new();
    for line in text.lines() {
        if let Some(rest) = line.split("READ BINARY ").nth(1) {
            let file = rest.split(' ').next().unwrap_or("");
            *per_file.entry(file).or_default() += 1;
        }
    }
    assert!(per_file.len() >= 5, "{per_file:?}");
    assert!(per_file.values().all(|n| *n <= 2), "{per_file:?}\n{text}");
    let numbers: Vec<u64> = text
        .lines()
        .map(|l| {
            l.split(' ')
                .next()
                .unwrap()
                .parse()
                .expect("numbered lines")
        })
        .collect();
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
    for secret in [
        access(&sim, "can"),
        access(&sim, "id_number"),
        access(&sim, "document_number"),
        access(&sim, "mrz"),
    ] {
        assert!(!text.contains(&secret), "access data in the APDU log");
    }
    sim.stop();
    let _ = std::fs::remove_file(&log);
}

/// A chip that answers APDU 12 (mid-read, under secure messaging) only after 120 s:
/// the read ends within the command's deadline (default 5 s, 20 s for the chip's
/// cryptographic steps) with exit 8 naming the command, instead of hanging. pcscd
/// cannot abort the transmit it is in, so the holder pulls the stalled card and puts it
/// back; the next read is genuine.
#[test]
fn a_stalled_chip_ends_the_read_on_time_and_the_next_read_is_genuine() {
    let Some((_slot, vpcd, reader)) =
        testbed("a_stalled_chip_ends_the_read_on_time_and_the_next_read_is_genuine")
    else {
        return;
    };
    let reader = reader.to_str().unwrap().to_owned();
    let sim = fast(&vpcd, &reader, "vn-cccd", &["--stall-at", "12:120"]);
    let can = access(&sim, "can");
    let trust = csca(&sim);
    let started = std::time::Instant::now();
    let (code, _, stderr) = read(&reader, &["--can", &can, "--trust", &trust], "warn");
    let took = started.elapsed();
    eprintln!("stalled read ended after {took:?} with exit {code}");
    assert_eq!(code, 8, "{stderr}");
    assert!(stderr.contains("did not answer"), "{stderr}");
    let deadline = if stderr.contains("AUTHENTICATE") || stderr.contains("SECURITY ENVIRONMENT") {
        20
    } else {
        5
    };
    assert!(
        took < std::time::Duration::from_secs(deadline + 10),
        "{took:?} for a {deadline} s deadline: {stderr}"
    );

    // Pulled and put back: the next read is genuine.
    let name = std::ffi::CString::new(reader.clone()).unwrap();
    sim.signal("USR1");
    assert!(
        wait_for_card(&context(), &name, false),
        "pcscd sees the card gone"
    );
    sim.signal("USR2");
    assert!(wait_for_card(&context(), &name, true), "the card is back");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let verdict = loop {
        let (code, json, stderr) = read(&reader, &["--can", &can, "--trust", &trust], "warn");
        if code == 0 || std::time::Instant::now() > deadline {
            assert_eq!(code, 0, "{stderr}");
            break json["verification"]["verdict"].clone();
        }
    };
    assert_eq!(verdict, "genuine");
    let log = sim.stop();
    assert!(log.contains("fault: card stalls"), "{log}");
}
