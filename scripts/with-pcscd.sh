#!/usr/bin/env bash
# with-pcscd.sh CMD...: runs CMD with a pcscd that has vsmartcard's vpcd reader
# ("Virtual PCD 00 00" on TCP 35963, "… 00 01" on 35964), then stops that pcscd.
#
# When no pcscd is running, it starts `pcscd --foreground` with a private reader
# configuration holding only the vpcd reader, waits until it is ready, runs CMD, stops
# it and waits for it to exit: no process is left behind, whatever CMD does. When a
# pcscd is already running (pcscd 1.9 has one socket per machine), that one is used as
# it is and left running: it must have the vpcd reader (the vsmartcard-vpcd package's
# configuration does).
#
# When it started pcscd itself, SIGUSR1 to this script restarts it (CMD sees the
# script's PID in CANCUOC_PCSCD_RESTART), for tests of recovery from a pcscd restart.
# Not SIGHUP: under nohup the shell starts with SIGHUP ignored, and a shell cannot trap
# a signal that was ignored when it started, so the restart would silently never come.
#
# CMD sees CANCUOC_PCSCD=1, CANCUOC_VPCD=127.0.0.1:35963 and
# CANCUOC_READER='Virtual PCD 00 00'; tests that need pcscd skip themselves without
# CANCUOC_PCSCD. Runs on one machine are serialized by a lock, because the vpcd port
# takes one card at a time. Exit status: CMD's.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 CMD [ARG]..." >&2
    exit 2
fi

VPCD_PORT=35963
DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
if ! command -v pcscd >/dev/null || [ ! -e "$DRIVER" ]; then
    echo "with-pcscd: needs pcscd and vsmartcard-vpcd (apt-get install pcscd vsmartcard-vpcd)" >&2
    exit 1
fi

lock_dir=/run/lock
[ -w "$lock_dir" ] || lock_dir=${TMPDIR:-/tmp}
exec 9>"$lock_dir/cancuoc-pcscd.lock"
if ! flock -w 900 9; then
    echo "with-pcscd: another run holds $lock_dir/cancuoc-pcscd.lock" >&2
    exit 1
fi

pcscd_running() {
    local pidfile=/run/pcscd/pcscd.pid
    [ -S /run/pcscd/pcscd.comm ] && [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

work=$(mktemp -d)
pid=
cmd=
cleanup() {
    if [ -n "$cmd" ] && kill -0 "$cmd" 2>/dev/null; then
        kill -TERM "$cmd" 2>/dev/null || true
        wait "$cmd" 2>/dev/null || true
    fi
    stop_pcscd
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_pcscd() {
    : >"$work/pcscd.log"
    pcscd --foreground --info --config "$work/reader.conf.d" >"$work/pcscd.log" 2>&1 &
    pid=$!
    local ready=
    for _ in $(seq 100); do
        if grep -qs "daemon ready" "$work/pcscd.log"; then
            ready=1
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$ready" ]; then
        echo "with-pcscd: pcscd did not start:" >&2
        cat "$work/pcscd.log" >&2
        exit 1
    fi
    echo "with-pcscd: pcscd $pid ready (vpcd on $VPCD_PORT)" >&2
}

stop_pcscd() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}

if pcscd_running; then
    echo "with-pcscd: using the pcscd already running" >&2
else
    mkdir "$work/reader.conf.d"
    printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x%X\nLIBPATH      %s\nCHANNELID    0x%X\n' \
        "$VPCD_PORT" "$DRIVER" "$VPCD_PORT" >"$work/reader.conf.d/vpcd"
    start_pcscd
    # SIGUSR1 restarts this pcscd, so tests can check that clients recover from it.
    export CANCUOC_PCSCD_RESTART=$$
    restart=
    trap 'restart=1' USR1
fi

export CANCUOC_PCSCD=1
export CANCUOC_VPCD="127.0.0.1:$VPCD_PORT"
export CANCUOC_READER="Virtual PCD 00 00"
# pcscd's own log, which a test that waited in vain for a card shows.
export CANCUOC_PCSCD_LOG="$work/pcscd.log"
# CMD runs in the background so that a SIGUSR1 is handled while it runs.
"$@" &
cmd=$!
while :; do
    status=0
    wait "$cmd" || status=$?
    if [ -n "${restart:-}" ]; then
        restart=
        echo "with-pcscd: restarting pcscd" >&2
        stop_pcscd
        start_pcscd
        continue
    fi
    break
done
exit "$status"
