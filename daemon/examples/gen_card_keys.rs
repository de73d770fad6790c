//! Regenerates the simulated cards' chip keys in `fixtures/cards/keys` (TEST ONLY
//! keys), byte for byte, from fixed seeds:
//! `cargo run -p cancuoc --example gen_card_keys [-- OUTPUT_DIR]`.
use std::path::PathBuf;
use std::process::ExitCode;

use apdu::ec::CurveId;
use apdu::rng::DeterministicRng;
use cancuoc::sim::issue::{IssueError, PrivateKey};

/// Seed of every card key; the label names the key.
const SEED: &[u8] = b"cancuoc simulated card keys - TEST ONLY";

fn keys() -> Result<Vec<(&'static str, String)>, IssueError> {
    let rng = |label: &str| DeterministicRng::new(SEED, label);
    let ec = |label: &str, curve| PrivateKey::generate_ec(&mut rng(label), curve, false).to_pem();
    let rsa = |label: &str, bits| PrivateKey::generate_rsa(&mut rng(label), bits)?.to_pem();
    Ok(vec![
        // Chip authentication (ECDH) and active authentication (ECDSA) of the CCCD.
        (
            "vn-cccd-ca.key.pem",
            ec("vn-cccd ca", CurveId::BrainpoolP256r1)?,
        ),
        (
            "vn-cccd-aa.key.pem",
            ec("vn-cccd aa", CurveId::BrainpoolP256r1)?,
        ),
        // The older BAC-only card: RSA active authentication, no chip authentication.
        ("vn-cccd-bac-aa.key.pem", rsa("vn-cccd-bac aa", 1024)?),
        // The passport: RSA active authentication.
        ("passport-aa.key.pem", rsa("passport aa", 2048)?),
        // The PACE-CAM cards: the static chip key PACE-CAM proves, on the PACE curve.
        (
            "vn-cccd-cam-ca.key.pem",
            ec("vn-cccd-cam ca", CurveId::BrainpoolP256r1)?,
        ),
    ])
}

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../fixtures/cards/keys"
            ))
        });
    let keys = match keys() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("gen_card_keys: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("gen_card_keys: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (name, pem) in keys {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, pem) {
            eprintln!("gen_card_keys: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}
