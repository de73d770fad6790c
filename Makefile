# cancuoc — the two commands: `make demo` and `make test`.
#
# Both install what they need first (Debian packages, as root; idempotent), so they work
# on a fresh Debian machine that has only the Rust toolchain.

SHELL := /bin/bash
CARGO ?= cargo
PREFIX ?= /usr/local
# Where `make install` puts the rest (under DESTDIR, when set). The binary goes to
# $(PREFIX)/bin, and the systemd unit's ExecStart is rewritten to match.
SYSTEMD_UNIT_DIR ?= /lib/systemd/system
UDEV_RULES_DIR ?= /lib/udev/rules.d
MODPROBE_DIR ?= /etc/modprobe.d
POLKIT_RULES_DIR ?= /usr/share/polkit-1/rules.d
SYSUSERS_DIR ?= /usr/lib/sysusers.d
CONFIG_DIR := /etc/cancuoc
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
# The binary `install-files` installs.
BIN ?= $(TARGET_DIR)/release/cancuoc
# Seconds each fuzz target runs under `make fuzz`.
FUZZ_SECONDS ?= 60

# Debian packages the build and the tests need. cmake and libclang-dev build libnfc
# (feature `nfc`, on by default) from the source the nfc1-sys crate carries; libusb
# comes with it, built from source too. systemd (systemd-analyze, systemd-socket-activate,
# systemd-sysusers) and udev (udevadm) check the packaging files in daemon/tests/systemd.rs;
# python3 and nodejs run the client examples (examples/) in daemon/tests/examples.rs.
APT_PACKAGES := pkg-config pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools cmake libclang-dev \
	systemd udev python3 nodejs chromium chromium-driver

.PHONY: all deps demo sim test check fuzz-check unit fuzz fuzz-deps bench soak install install-files uninstall deb deb-test clean

all: test

## deps: install the Debian packages listed in APT_PACKAGES (only those missing).
deps:
	@bash scripts/ensure-packages.sh $(APT_PACKAGES)

## sim: serve the simulated Vietnamese card to pcscd (needs pcscd running with vpcd).
sim: deps
	$(CARGO) run --release --quiet -p cancuoc -- sim --profile vn-cccd

## demo: read the built-in simulated Vietnamese card and print what it holds.
demo: deps
	$(CARGO) run --release --quiet -p cancuoc -- demo

## test: formatting, lints, every fuzz target compiling, and every test.
test: deps check fuzz-check unit

# Clippy twice: as the release binary builds (default features) and with every feature,
# so code behind `test-pki` (the test PKI, its bench and generator) is linted too.
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

# Every fuzz target type-checks, so one that stops compiling fails the tests. The fuzz
# crate is its own workspace (target dir fuzz/target); RUSTC_BOOTSTRAP=1 as cargo fuzz
# builds it. A check, not a sanitizer build: about 3 minutes on a cold cache on 2
# cores (most of it libFuzzer's C++ build script), a second warm.
fuzz-check:
	RUSTC_BOOTSTRAP=1 $(CARGO) check --manifest-path fuzz/Cargo.toml --bins --quiet

# Tests run under scripts/with-pcscd.sh: it starts pcscd with the vpcd reader for the
# simulator's integration tests and stops it afterwards. Building first keeps pcscd's
# run (and the machine-wide lock it holds) short. --no-fail-fast: every test binary
# runs even after one fails, so a failure never hides the rest; the summary's last line
# counts them all and its exit status is non-zero on any failure. Every check must run here:
# CANCUOC_TEST_NO_SKIP=1 turns a test that would skip (a tool or pcscd missing) into a
# failure; run alone, such a test is counted as skipped in the summary's last line.
unit:
	$(CARGO) test --workspace --all-features --no-run --quiet
	CANCUOC_TEST_NO_SKIP=1 bash scripts/with-pcscd.sh bash scripts/cargo-test-summary.sh --workspace --all-features --no-fail-fast

## fuzz: run every fuzz target for FUZZ_SECONDS seconds each (FUZZ_TARGETS for some of
## them) and print the inputs each ran (scripts/fuzz.sh).
fuzz: fuzz-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" bash scripts/fuzz.sh

fuzz-deps:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked

## soak: `cancuoc serve` under reads, card events and clients for SOAK_MINUTES
## (default 30); fails on a read that is not genuine or on growing memory, descriptors
## or threads (scripts/soak.sh, daemon/examples/soak.rs). Not part of `make test`.
SOAK_MINUTES ?= 30
soak: deps
	SOAK_MINUTES=$(SOAK_MINUTES) bash scripts/soak.sh

## bench: host-side cost of the protocols.
bench: deps
	$(CARGO) bench --workspace --all-features

## install: the binary into $(PREFIX)/bin, the systemd units, udev
## rules, module blacklist, polkit rule, sysusers file and example configuration; then,
## when DESTDIR is empty, the cancuoc user (udev/README.md describes the layout).
install: deps
	$(CARGO) build --release -p cancuoc
	@$(MAKE) --no-print-directory install-files BIN=$(TARGET_DIR)/release/cancuoc

# install-files: everything `install` lays out, from an already built $(BIN).
install-files:
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/cancuoc
	install -d -m 0755 $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed 's|/usr/bin/cancuoc|$(PREFIX)/bin/cancuoc|' udev/cancuoc.service \
		> $(DESTDIR)$(SYSTEMD_UNIT_DIR)/cancuoc.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/cancuoc.service
	install -m 0644 udev/cancuoc.socket $(DESTDIR)$(SYSTEMD_UNIT_DIR)/cancuoc.socket
	install -D -m 0644 udev/60-cancuoc-nfc.rules $(DESTDIR)$(UDEV_RULES_DIR)/60-cancuoc-nfc.rules
	install -D -m 0644 udev/cancuoc-blacklist-nfc.conf $(DESTDIR)$(MODPROBE_DIR)/cancuoc-blacklist-nfc.conf
	install -D -m 0644 udev/polkit/50-cancuoc-pcscd.rules \
		$(DESTDIR)$(POLKIT_RULES_DIR)/50-cancuoc-pcscd.rules
	install -D -m 0644 udev/cancuoc.sysusers $(DESTDIR)$(SYSUSERS_DIR)/cancuoc.conf
	@if [ ! -f udev/cancuoc.toml ]; then :; \
	elif [ -e $(DESTDIR)$(CONFIG_DIR)/cancuoc.toml ]; then \
		echo "cancuoc: keeping the existing $(DESTDIR)$(CONFIG_DIR)/cancuoc.toml"; \
	else \
		echo "install -D -m 0644 udev/cancuoc.toml $(DESTDIR)$(CONFIG_DIR)/cancuoc.toml"; \
		install -D -m 0644 udev/cancuoc.toml $(DESTDIR)$(CONFIG_DIR)/cancuoc.toml; \
	fi
	install -d -m 0755 $(DESTDIR)$(CONFIG_DIR)/trust
	@if [ -z "$(DESTDIR)" ]; then bash scripts/post-install.sh $(SYSUSERS_DIR)/cancuoc.conf; fi

## uninstall: removes what `install` laid out (the configuration and the user stay).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/cancuoc \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/cancuoc.service $(DESTDIR)$(SYSTEMD_UNIT_DIR)/cancuoc.socket \
		$(DESTDIR)$(UDEV_RULES_DIR)/60-cancuoc-nfc.rules \
		$(DESTDIR)$(MODPROBE_DIR)/cancuoc-blacklist-nfc.conf \
		$(DESTDIR)$(POLKIT_RULES_DIR)/50-cancuoc-pcscd.rules \
		$(DESTDIR)$(SYSUSERS_DIR)/cancuoc.conf
	@echo "cancuoc: $(CONFIG_DIR) and the cancuoc user are kept; remove them by hand if unwanted"

## deb: the Debian package, into $(TARGET_DIR)/debian/ (cargo-deb; release build).
deb: deps
	@command -v cargo-deb >/dev/null || $(CARGO) install cargo-deb --locked
	$(CARGO) build --release -p cancuoc
	rm -rf $(TARGET_DIR)/assets
	$(TARGET_DIR)/release/cancuoc assets $(TARGET_DIR)/assets
	gzip -9n $(TARGET_DIR)/assets/man/*.1
	gzip -9n -c CHANGELOG.md > $(TARGET_DIR)/assets/changelog.gz
	$(CARGO) deb -p cancuoc --no-build --strip

## deb-test: lintian, then install the package on this machine, run doctor and
## check-config, purge it.
## Not part of `make test`: the release build alone takes over ten minutes on 2 cores.
deb-test: deb
	bash scripts/ensure-packages.sh lintian
	bash scripts/deb-test.sh $$(ls -t $(TARGET_DIR)/debian/cancuoc_*.deb | head -1)

clean:
	$(CARGO) clean
