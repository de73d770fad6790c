//! Test access to the third-party reference data beside the workspace (`../shared`, or
//! the folder named by `CANCUOC_SHARED`): the ICAO worked examples, the BSI TR-03105-5
//! data set and the German master list. It is read in place, never copied into the
//! project, and a test that needs it fails with a clear message when it is missing.

use std::path::PathBuf;

/// The reference folder.
pub fn dir() -> PathBuf {
    std::env::var_os("CANCUOC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")))
}

/// The path of `rel` inside the reference folder; panics, naming it, when missing.
pub fn path(rel: &str) -> PathBuf {
    let p = dir().join(rel);
    assert!(
        p.exists(),
        "reference data {} is missing: put the shared reference folder beside the \
         workspace or set CANCUOC_SHARED",
        p.display()
    );
    p
}

/// The bytes of `rel` inside the reference folder.
pub fn read(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("reference data {}: {e}", p.display()))
}
