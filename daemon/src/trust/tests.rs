//! Tests against the third-party reference data in `../shared/data` (BSI TR-03105-5
//! data set, German master list). They are skipped, saying so, when it is missing.

use super::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub(crate) fn shared_data(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/")).join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("reference data {} is missing: test skipped", p.display());
        None
    }
}

fn bsi_files() -> Option<(Vec<u8>, BTreeMap<u8, Vec<u8>>)> {
    let dir = shared_data("bsi-tr03105-5")?;
    let sod = std::fs::read(dir.join("EF_SOD.bin")).ok()?;
    let mut dgs = BTreeMap::new();
    for n in [1u8, 2, 3, 4, 14, 15] {
        dgs.insert(
            n,
            std::fs::read(dir.join(format!("Datagroup{n}.bin"))).ok()?,
        );
    }
    Some((sod, dgs))
}

fn bsi_time() -> Time {
    Time::from_ymd_hms(2014, 1, 1, 0, 0, 0).unwrap()
}

#[test]
fn trust_bsi_sod_hashes_ok_without_anchor() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    let r = verify_passive(&sod, &dgs, &TrustStore::new(), bsi_time());
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
    for n in [1u8, 2, 3, 4, 14] {
        assert_eq!(
            r.data_groups.0.get(&n),
            Some(&passive::DataGroupStatus::Ok),
            "DG{n}"
        );
    }
    // The data set's EF.SOD (and EF.COM) do not cover DG15.
    assert_eq!(
        r.data_groups.0.get(&15),
        Some(&passive::DataGroupStatus::NotInSod)
    );
    let signer = r.signer.as_ref().unwrap();
    assert!(
        signer.subject.contains("CN=HJP PB DS"),
        "{}",
        signer.subject
    );
    assert!(r.signature_algorithm.as_deref().unwrap().contains("PSS"));
    let codes: Vec<&str> = r.problems.iter().map(|p| p.code).collect();
    assert_eq!(codes, ["dg-not-in-sod", "csca-not-found"], "{r:#?}");
}

#[test]
fn trust_bsi_sod_against_german_master_list() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    let Some(ml) = shared_data("masterlists/DE_ML_2024-12-19.ml") else {
        return;
    };
    let mut store = TrustStore::new();
    store.load_path(&ml).unwrap();
    let r = verify_passive(&sod, &dgs, &store, bsi_time());
    assert_eq!(r.status, PassiveStatus::NoTrustAnchor, "{r:#?}");
    assert!(
        r.problems
            .iter()
            .all(|p| matches!(p.code, "csca-not-found" | "dg-not-in-sod")),
        "{r:#?}"
    );
}

#[test]
fn trust_bsi_single_byte_tampering_is_invalid() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    for (&n, bytes) in &dgs {
        if n == 15 {
            // Not covered by this SOD: tampering cannot be seen, it stays `not-in-sod`.
            continue;
        }
        // A few positions per group: start, middle, end.
        for pos in [0, bytes.len() / 2, bytes.len() - 1] {
            let mut tampered = dgs.clone();
            if let Some(b) = tampered.get_mut(&n).and_then(|v| v.get_mut(pos)) {
                *b ^= 0x01;
            }
            let r = verify_passive(&sod, &tampered, &TrustStore::new(), bsi_time());
            assert_eq!(r.status, PassiveStatus::Invalid, "DG{n} byte {pos}");
            assert_eq!(r.data_groups.0[&n], passive::DataGroupStatus::Mismatch);
            for (&other, status) in &r.data_groups.0 {
                if other != n && other != 15 {
                    assert_eq!(*status, passive::DataGroupStatus::Ok);
                }
            }
        }
    }
}

#[test]
fn trust_bsi_tampered_sod_is_invalid_or_malformed() {
    let Some((sod, dgs)) = bsi_files() else {
        return;
    };
    // Every byte of the SOD flipped in turn: never valid, never a panic.
    for pos in 0..sod.len() {
        let mut t = sod.clone();
        t[pos] ^= 0x80;
        let r = verify_passive(&t, &dgs, &TrustStore::new(), bsi_time());
        assert_ne!(r.status, PassiveStatus::Valid, "byte {pos}");
    }
}
