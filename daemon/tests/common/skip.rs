//! Skipped checks are counted, never passed off as passes.
//!
//! A test that cannot run its check calls [`skip`]: it prints the marker line
//! `cancuoc-test-skipped: TEST: REASON` on stderr and appends it to the file named by
//! `CANCUOC_TEST_SKIP_LOG`, which `scripts/cargo-test-summary.sh` sets and counts (the
//! file works whether or not cargo captures the test's output). Under
//! `CANCUOC_TEST_NO_SKIP=1` (`make test` sets it: it installs every tool and provides
//! pcscd) a skip is a failure.

use std::io::Write;

/// The marker that starts every skip line.
pub const MARKER: &str = "cancuoc-test-skipped";

/// Records that `test` did not run its check because of `reason`; panics under
/// `CANCUOC_TEST_NO_SKIP=1`.
pub fn skip(test: &str, reason: &str) {
    let line = format!("{MARKER}: {test}: {}", reason.replace('\n', " "));
    eprintln!("{line}");
    if let Some(path) = std::env::var_os("CANCUOC_TEST_SKIP_LOG") {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        // One write per line: appends from parallel tests do not interleave.
        if let Ok(mut file) = file {
            let _ = file.write_all(format!("{line}\n").as_bytes());
        }
    }
    assert!(
        std::env::var("CANCUOC_TEST_NO_SKIP").as_deref() != Ok("1"),
        "{line}\n(CANCUOC_TEST_NO_SKIP=1: every check must run here)"
    );
}

/// Records that a pcscd test did not run; a failure when pcscd was provided
/// (`CANCUOC_PCSCD=1`, set by `scripts/with-pcscd.sh`), since then the test should
/// have run.
pub fn skip_pcscd(test: &str, reason: &str) {
    assert!(
        std::env::var("CANCUOC_PCSCD").as_deref() != Ok("1"),
        "{MARKER}: {test}: {reason}\n(pcscd is provided: the test must run)"
    );
    skip(test, reason);
}
