#!/usr/bin/env bash
# Runs `cargo test` with the given arguments and ends with one line totalling every test
# binary's results, so the last line of the run says how many tests ran:
#
#   tests: N passed, M failed, K skipped
#
# A test that cannot run its check records it (daemon/tests/common/skip.rs) in the file
# named by CANCUOC_TEST_SKIP_LOG, set here: such a test counts as skipped, not passed,
# and is listed above the total. Ignored tests count as skipped too. Exit status:
# cargo's (non-zero when any test failed).
set -uo pipefail
log=$(mktemp)
skips=$(mktemp)
trap 'rm -f "$log" "$skips"' EXIT
export CANCUOC_TEST_SKIP_LOG="$skips"
cargo test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# Only libtest's own result lines count, never a number in a test's output.
results=$(grep -E '^test result: ' "$log")
sum() { grep -Eo "[0-9]+ $1" <<<"$results" | awk '{s+=$1} END {print s+0}'; }
passed=$(sum passed)
failed=$(sum failed)
ignored=$(sum ignored)
# Tests that skipped and otherwise passed: skipped, not passed.
skipped_names=$(sed -n 's/^cancuoc-test-skipped: \([^:]*\): .*/\1/p' "$skips" | sort -u)
skipped=0
for name in $skipped_names; do
    if grep -Eq "^test (.*::)?$name \.\.\. ok\$" "$log"; then
        skipped=$((skipped + 1))
    fi
done
passed=$((passed - skipped))
echo
if [ -s "$skips" ]; then
    echo "skipped checks (the reason each did not run):"
    sort -u "$skips" | sed 's/^cancuoc-test-skipped: /  /'
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "cargo test failed before any test failed (exit $status): a build error?"
fi
echo "tests: $passed passed, $failed failed, $((skipped + ignored)) skipped"
exit "$status"
