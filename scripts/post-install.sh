#!/usr/bin/env bash
# post-install.sh SYSUSERS_CONF: the steps `make install` takes on the running system
# (never for a staged DESTDIR install): creates the cancuoc system user and group, and
# tells systemd and udev about the files just installed.
set -euo pipefail

sysusers_conf=$1

# The user and group the service runs as; the group also opens the API socket and the
# USB NFC readers to its members.
if command -v systemd-sysusers >/dev/null; then
    systemd-sysusers "$sysusers_conf"
else
    getent group cancuoc >/dev/null || groupadd --system cancuoc
    if ! getent passwd cancuoc >/dev/null; then
        useradd --system --gid cancuoc --home-dir / --no-create-home \
            --shell /usr/sbin/nologin --comment "cancuoc identity card reader daemon" cancuoc
    fi
    if getent group plugdev >/dev/null; then
        usermod --append --groups plugdev cancuoc
    fi
fi

# Only when systemd runs this system; in a container or a chroot there is nothing to tell.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
# Likewise udev: the NFC reader rules apply to readers plugged in from now on.
if [ -S /run/udev/control ]; then
    udevadm control --reload || true
fi

echo "cancuoc: installed; start the API socket with: systemctl enable --now cancuoc.socket" >&2
