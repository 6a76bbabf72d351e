# Pyra: `make run` builds and starts pyrad; `make test` runs every test.
CARGO ?= cargo
RELEASE := target/release
# Line tables keep backtraces readable and the debug build small and quick.
export CARGO_PROFILE_DEV_DEBUG ?= line-tables-only
export CARGO_TERM_COLOR ?= never

.PHONY: run build test test-deps lint fmt bench install clean

## run: build release binaries, start pyrad in the background, show how to talk to it
run: build
	@$(RELEASE)/pyractl daemon start
	@$(RELEASE)/pyractl status
	@echo
	@echo "pyrad is running. Try:"
	@echo "  $(RELEASE)/pyractl status --json     # the daemon's state"
	@echo "  $(RELEASE)/pyractl daemon stop       # stop it"
	@echo "  $(RELEASE)/pyractl daemon install    # run it as a systemd user service"
	@echo "  tail -f \$${PYRA_HOME:-$$HOME/.pyra}/logs/pyrad.log"

build:
	$(CARGO) build --release --workspace

## test: formatting, lints, unit and integration tests (CI runs this)
test: test-deps lint
	$(CARGO) build --workspace --bins --examples
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace; \
	else \
		$(CARGO) test --workspace; \
	fi

test-deps:
	@bash tests/setup.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## bench: release build, then the figures named in the issues as a table
## (SOAK=30 runs the 30-minute soak instead of the 3-minute default)
bench: test-deps
	$(CARGO) build --release --workspace
	$(RELEASE)/pyra-bench $(if $(SOAK),--soak-minutes $(SOAK))

## install: copy pyrad and pyractl to ~/.local/bin (PREFIX to change)
PREFIX ?= $(HOME)/.local
install: build
	install -d $(PREFIX)/bin
	install -m 0755 $(RELEASE)/pyrad $(RELEASE)/pyractl $(PREFIX)/bin/

clean:
	$(CARGO) clean
