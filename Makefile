# The README's two commands: `make demo` (the daily sync end to end, locally) and `make test`.
SHELL := /bin/bash

.PHONY: test lint unit demo bench sandbox package soak

test:
	tools/local/test.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

sandbox:
	cargo run -p zoom-sandbox -- --help

demo:
	tools/local/demo.sh

# The failure-proof suites' long form (RELIABILITY.md): ZTS_SOAK_ROUNDS rounds, default 20.
soak:
	tools/local/soak.sh

# `cargo lambda build --release` for every function (this machine's architecture; slow: see the
# README's Deploy section); bootstraps in target/lambda/<function>/bootstrap.
package:
	CARGO_INCREMENTAL=0 tools/local/package.sh

# Issue #10's figures (BENCHMARKS.md); larger sizes: make bench BENCH_ARGS=--full
BENCH_FUNCTIONS := oauth-connect connect-link reclamation application-roster application-access license-information license-differentiation license-admin maintenance
bench:
	CARGO_INCREMENTAL=0 cargo build --release -p bench $(addprefix -p ,$(BENCH_FUNCTIONS))
	target/release/bench $(BENCH_ARGS)
