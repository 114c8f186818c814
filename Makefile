# The two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
# No incremental caches: they only help edit-compile loops, and on a clean CI build they
# cost minutes and gigabytes (13 GiB of target/debug/incremental seen here).
export CARGO_INCREMENTAL ?= 0
MEMBERS ?= 1000000

.PHONY: run run-cli test deps fmt lint unit test-pg fuzz-api bench bench-store bench-sync ui ui-test app test-app test-build \
	screenshots bindings bench-app bench-dashboard

deps:
	@./scripts/install-deps.sh

## make run: builds the UI, the server and the till app, starts the server with demo members
## (DEMO_MEMBERS=1000000 for a million) and opens the till registered to it (under Xvfb when
## there is no display). The CLI walk-through of the rules: make run-cli.
run: deps app
	$(CARGO) build --locked -p loyalty-server
	./scripts/demo.sh

run-cli:
	$(CARGO) run --release -p loyalty-till-cli -- demo

## The UI (Vite + Svelte) -> ui/dist, embedded into the app at compile time.
ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
ui: ui/node_modules/.package-lock.json
	cd ui && npm run build

ui-test: ui
	cd ui && npm run check && npm test

app: ui
	$(CARGO) build --locked -p loyalty-till-app

## Everything `make test` runs, built as one cargo graph: the same feature set as
## `cargo test --workspace`, so the app binary and the test binaries reuse one build of the
## dependencies (a `-p` subset resolves features differently and rebuilds many of them).
test-build: ui
	$(CARGO) build --workspace --all-targets --locked

## The app in a real window: WebDriver (tauri-driver + WebKitWebDriver) under Xvfb.
test-app: test-build
	xvfb-run -a -s "-screen 0 1024x768x24" $(CARGO) test --workspace --locked --test app_e2e -- --ignored

## Screenshots of the main screens -> docs/screenshots/ (the same run as test-app).
screenshots: test-build
	LOYALTY_SCREENSHOTS=$(CURDIR)/docs/screenshots xvfb-run -a -s "-screen 0 1024x768x24" \
	  $(CARGO) test --workspace --locked --test app_e2e -- --ignored

## Regenerates the TypeScript types of the IPC (ui/src/lib/bindings) from Rust (ts-rs).
bindings:
	UPDATE_BINDINGS=1 $(CARGO) test -p loyalty-app --lib bindings

## make test: format check, clippy -D warnings, every test of the workspace (SQLite; the
## TypeScript bindings must be current), the UI's type check and unit tests, the app in a
## real window, then the PostgreSQL variants on a throwaway cluster and the API fuzzer.
test: deps ui fmt lint unit ui-test test-app test-pg fuzz-api

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

# Only the PostgreSQL variants (`unit` ran the SQLite ones and reported these as skipped).
test-pg:
	./scripts/with-postgres.sh $(CARGO) test --workspace --locked -- postgres

## make fuzz-api: Schemathesis fuzzes a live loyalty-server against its OpenAPI document,
## on SQLite, then on a throwaway PostgreSQL cluster (FUZZ_EXAMPLES=N for a longer run).
fuzz-api:
	./scripts/fuzz-api.sh
	./scripts/with-postgres.sh ./scripts/fuzz-api.sh --postgres

## make bench: the benchmarks (1M members; reuses bench-data/ between runs).
bench: deps bench-store bench-sync bench-app bench-dashboard

bench-store:
	$(CARGO) run --release --locked -p loyalty-bench -- store --members $(MEMBERS)

## The server and the till sync end to end: 10 tills converging after 10 000 offline sales
## each, HTTP ingest vs raw INSERT, a new till bootstrapping $(MEMBERS) members, accruals/s.
bench-sync:
	$(CARGO) run --release --locked -p loyalty-bench -- sync --members $(MEMBERS)

## The till app in its real window (Xvfb) with $(MEMBERS) members on a real server
## (bench-data/app-server-N/); builds the UI and the release app and server first.
bench-app: ui
	$(CARGO) build --release --locked -p loyalty-till-app -p loyalty-server
	xvfb-run -a -s "-screen 0 1024x768x24" \
	  $(CARGO) run --release --locked -p loyalty-bench -- app --members $(MEMBERS)

## The owner's dashboard on the embedded server: $(MEMBERS) members, 10 sales each
## (bench-data/dashboard-*/, generated once); last line JSON with dashboard_s (goal <= 2).
bench-dashboard:
	$(CARGO) run --release --locked -p loyalty-bench -- dashboard --members $(MEMBERS) --sales $$(( $(MEMBERS) * 10 ))
