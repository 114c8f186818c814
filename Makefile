# The two commands: `make run` and `make test`. Both install what is missing first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
MEMBERS ?= 1000000

.PHONY: run test deps fmt lint unit test-pg fuzz-api bench bench-store

deps:
	@./scripts/install-deps.sh

## make run: builds and runs the till core demo (a CLI session on a local SQLite store).
run: deps
	$(CARGO) run --release -p loyalty-till-cli -- demo

## make test: format check, clippy -D warnings, every test of the workspace (SQLite), then
## the server's PostgreSQL variants on a throwaway cluster.
test: deps fmt lint unit test-pg fuzz-api

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

# Only the PostgreSQL variants (`unit` ran the SQLite ones and reported these as skipped).
test-pg:
	./scripts/with-postgres.sh $(CARGO) test -p loyalty-server -p loyalty --locked -- postgres

## make fuzz-api: Schemathesis fuzzes a live loyalty-server against its OpenAPI document,
## on SQLite, then on a throwaway PostgreSQL cluster (FUZZ_EXAMPLES=N for a longer run).
fuzz-api:
	./scripts/fuzz-api.sh
	./scripts/with-postgres.sh ./scripts/fuzz-api.sh --postgres

## make bench: the benchmarks (1M members; reuses bench-data/ between runs).
bench: deps bench-store

bench-store:
	$(CARGO) run --release --locked -p loyalty-bench -- store --members $(MEMBERS)
