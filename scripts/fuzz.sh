#!/usr/bin/env bash
# fuzz.sh: runs fuzz targets one after another for FUZZ_SECONDS each and prints, per
# target, the inputs run, the time and the corpus size as libFuzzer reports them.
#
# Environment: FUZZ_SECONDS (default 60); FUZZ_TARGETS (default: every target of
# `cargo fuzz list`), to split a long campaign over several cores; FUZZ_LOG_DIR (default
# fuzz/logs), where each target's libFuzzer output is kept. Stops at the first crash,
# whose input libFuzzer leaves under fuzz/artifacts/TARGET/.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-$(cargo fuzz list)}
logs=${FUZZ_LOG_DIR:-logs}
mkdir -p "$logs"

for target in $targets; do
    cargo fuzz build "$target" 2>&1 | tail -n 3
done
printf '%-24s %14s %9s %8s\n' target inputs seconds corpus
for target in $targets; do
    log="$logs/$target.log"
    if ! cargo fuzz run "$target" -- -max_total_time="$seconds" >"$log" 2>&1; then
        echo "fuzz: $target failed; its output is in fuzz/$log" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    # libFuzzer ends with "Done N runs in S second(s)" and its last status line
    # carries "corp: FILES/SIZE".
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
    secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -n 1)
    corp=$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' "$log" | tail -n 1 | cut -d' ' -f2)
    printf '%-24s %14s %9s %8s\n' "$target" "${runs:-?}" "${secs:-?}" "${corp:-?}"
done
