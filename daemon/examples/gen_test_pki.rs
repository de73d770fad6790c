//! Regenerates the test PKI in `fixtures/pki` (TEST ONLY keys), byte for byte:
//! `cargo run -p cancuoc --features test-pki --example gen_test_pki [-- OUTPUT_DIR]`.
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/pki")));
    let files = match cancuoc::sim::test_pki::generate().and_then(|p| p.files()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gen_test_pki: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("gen_test_pki: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for (name, data) in files {
        let path = dir.join(&name);
        if let Err(e) = std::fs::write(&path, data) {
            eprintln!("gen_test_pki: {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}
