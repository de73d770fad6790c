//! Access to the reference data in `../shared` (never copied into the project).
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared reference folder: `$CANCUOC_SHARED`, or `../shared` beside the workspace.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("CANCUOC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")))
}

/// The ICAO 9303-11 worked examples.
pub fn vectors() -> serde_json::Value {
    let path = shared_dir().join("vectors/icao9303-11.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the ICAO 9303-11 worked examples are missing at {} ({e}); \
             put the shared reference folder beside the workspace or set CANCUOC_SHARED",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("vectors file is JSON")
}

/// The hex string at `group.field`, decoded.
pub fn hex_at(v: &serde_json::Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} missing"));
    hex::decode(s).unwrap_or_else(|e| panic!("vector field {field}: {e}"))
}

/// The string at `group.field`.
pub fn str_at<'a>(v: &'a serde_json::Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {field} missing"))
}
