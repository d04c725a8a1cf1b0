#!/usr/bin/env bash
# The long form of the failure-proof suites (#17, RELIABILITY.md): the same tests `make test`
# runs with a few rounds, here with ZTS_SOAK_ROUNDS rounds (default 20), against a moto of its
# own (stopped on exit) and the in-process Zoom sandbox. Prints each round's figures.
set -euo pipefail
cd "$(dirname "$0")/../.."

export ZTS_SOAK_ROUNDS="${ZTS_SOAK_ROUNDS:-20}"
export ZTS_MOTO_STATE="$PWD/.local/moto-soak-$$"
tools/local/moto.sh start >/dev/null
trap 'tools/local/moto.sh stop >/dev/null 2>&1 || true; rm -rf "$ZTS_MOTO_STATE"' EXIT
trap 'exit 130' INT TERM
eval "$(tools/local/moto.sh env)"
export ZTS_REQUIRE_AWS=1
echo "==> failure-proof suites, $ZTS_SOAK_ROUNDS rounds (tools/reliability)"
cargo test --locked -p reliability -- --nocapture --test-threads 1
