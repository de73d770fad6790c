#!/usr/bin/env bash
# deb-test.sh DEB: checks the Debian package with lintian, installs it on this machine
# (as root; a throwaway machine), runs `cancuoc doctor` and `cancuoc serve --check-config` with the installed
# configuration, then removes and purges it and checks that every file it brought is gone.
set -euo pipefail

deb=$(readlink -f "$1")

# lintian first: every tag it still reports is overridden in debian/lintian-overrides
# with its reason, so any other error or warning fails here.
echo "== lintian"
lintian --fail-on error,warning "$deb"
echo "lintian: no tag beyond the overridden ones (debian/lintian-overrides)"
listing() {
    find /etc /usr /lib /var/lib -path /proc -prune -o -iname '*cancuoc*' -print 2>/dev/null | sort
}
before=$(mktemp); after=$(mktemp)
# Whatever happens, the machine is left without the package.
trap 'apt-get purge -y -qq cancuoc >/dev/null 2>&1 || true; rm -f "$before" "$after"' EXIT
listing >"$before"

apt-get install -y -qq "$deb" >/dev/null
echo "== installed: $(dpkg-query -W -f='${Package} ${Version}' cancuoc)"
getent passwd cancuoc >/dev/null || { echo "no user cancuoc" >&2; exit 1; }
getent group cancuoc-nfc | grep -q cancuoc || { echo "cancuoc not in cancuoc-nfc" >&2; exit 1; }
test -f /etc/cancuoc/cancuoc.toml
test -f /usr/share/man/man1/cancuoc.1.gz
if dpkg -L cancuoc | grep -q fixtures; then echo "test fixtures in the package" >&2; exit 1; fi
echo "== cancuoc doctor"
cancuoc doctor || echo "(doctor exit $?: findings on this machine are expected)"
echo "== cancuoc serve --check-config"
cancuoc serve --check-config --config /etc/cancuoc/cancuoc.toml

apt-get remove -y -qq cancuoc >/dev/null
test -f /etc/cancuoc/cancuoc.toml || { echo "remove took the conffile" >&2; exit 1; }
apt-get purge -y -qq cancuoc >/dev/null
listing >"$after"
if ! diff -u "$before" "$after"; then
    echo "files left after purge (above)" >&2
    exit 1
fi
if getent passwd cancuoc >/dev/null; then echo "user cancuoc left after purge" >&2; exit 1; fi
echo "deb-test: install, doctor, check-config, remove and purge ok"
