#!/usr/bin/env bash
# soak.sh: runs the soak (daemon/examples/soak.rs) against a pcscd of its own.
#
# The soak holds pcscd for SOAK_MINUTES, far longer than a test may hold the machine's
# pcscd (scripts/with-pcscd.sh serializes those). So it runs in a private mount
# namespace where /run/pcscd is an empty tmpfs: its pcscd's socket is seen by the soak's
# processes only, and its vpcd readers listen on ports of their own (SOAK_VPCD_PORT and
# the next), so a pcscd the machine runs meanwhile is left alone. Needs root (unshare).
#
# Environment: SOAK_MINUTES (default 30), SOAK_SAMPLE_SECONDS (default 60),
# SOAK_VPCD_PORT (default 35983), SOAK_REPORT (default target/soak.jsonl).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$here/target}
DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
if ! command -v pcscd >/dev/null || [ ! -e "$DRIVER" ]; then
    echo "soak: needs pcscd and vsmartcard-vpcd (make deps)" >&2
    exit 1
fi

if [ "${SOAK_IN_NAMESPACE:-}" != 1 ]; then
    cargo build --quiet -p cancuoc --bin cancuoc --example soak
    exec env SOAK_IN_NAMESPACE=1 unshare --mount --propagation private "$0" "$@"
fi

port=${SOAK_VPCD_PORT:-35983}
work=$(mktemp -d)
mount -t tmpfs tmpfs /run/pcscd
mkdir "$work/reader.conf.d"
printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      %s\nCHANNELID    0x%X\n' \
    "$port" "$DRIVER" "$port" >"$work/reader.conf.d/vpcd"
pcscd --foreground --info --config "$work/reader.conf.d" >"$work/pcscd.log" 2>&1 &
pcscd=$!
trap 'kill -TERM $pcscd 2>/dev/null; wait $pcscd 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 300); do
    grep -qs "daemon ready" "$work/pcscd.log" && break
    kill -0 "$pcscd" 2>/dev/null || break
    sleep 0.1
done
if ! grep -qs "daemon ready" "$work/pcscd.log"; then
    echo "soak: pcscd did not start:" >&2
    cat "$work/pcscd.log" >&2
    exit 1
fi

export SOAK_CANCUOC="$target/debug/cancuoc"
export SOAK_CSCA="$here/fixtures/pki/csca.pem"
export SOAK_VPCD_PORT=$port
export SOAK_REPORT=${SOAK_REPORT:-$target/soak.jsonl}
: >"$SOAK_REPORT"
echo "soak: ${SOAK_MINUTES:-30} min, figures in $SOAK_REPORT" >&2
"$target/debug/examples/soak"
