# The README's two commands: `make demo` (the daily sync end to end, locally) and `make test`.
SHELL := /bin/bash

.PHONY: test lint unit demo bench sandbox

test:
	tools/local/test.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

sandbox:
	cargo run -p zoom-sandbox -- --help

demo:
	tools/local/demo.sh
