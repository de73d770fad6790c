# cancuoc — the two commands: `make demo` and `make test`.
#
# Both install what they need first (Debian packages, as root; idempotent), so they work
# on a fresh Debian machine that has only the Rust toolchain.

SHELL := /bin/bash
CARGO ?= cargo
PREFIX ?= /usr/local
# Seconds each fuzz target runs under `make fuzz`.
FUZZ_SECONDS ?= 60

# Debian packages the build and the tests need. cmake and libclang-dev build libnfc
# (feature `nfc`, on by default) from the source the nfc1-sys crate carries; libusb
# comes with it, built from source too. python3 and nodejs run the client examples'
# test (examples/).
APT_PACKAGES := pkg-config pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools cmake libclang-dev python3 nodejs

.PHONY: all deps demo sim test check unit fuzz fuzz-deps bench install clean

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

## test: formatting, lints, and every test.
test: deps check unit

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Tests run under scripts/with-pcscd.sh: it starts pcscd with the vpcd reader for the
# simulator's integration tests and stops it afterwards. Building first keeps pcscd's
# run (and the machine-wide lock it holds) short.
unit:
	$(CARGO) test --workspace --no-run --quiet
	bash scripts/with-pcscd.sh bash scripts/cargo-test-summary.sh --workspace

## fuzz: run every fuzz target for FUZZ_SECONDS seconds each.
fuzz: fuzz-deps
	@cd fuzz && for target in $$(RUSTC_BOOTSTRAP=1 $(CARGO) fuzz list); do \
		echo "== fuzz $$target ($(FUZZ_SECONDS)s)"; \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$target -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

fuzz-deps:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked

## bench: host-side cost of the protocols.
bench: deps
	$(CARGO) bench --workspace

## install: the cancuoc binary into $(PREFIX)/bin.
install: deps
	$(CARGO) build --release -p cancuoc
	install -D -m 0755 target/release/cancuoc $(DESTDIR)$(PREFIX)/bin/cancuoc
	mkdir -p $(DESTDIR)$(PREFIX)/share/cancuoc/fixtures
	cp -r fixtures/cards fixtures/pki $(DESTDIR)$(PREFIX)/share/cancuoc/fixtures/

clean:
	$(CARGO) clean
