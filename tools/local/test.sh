#!/usr/bin/env bash
# Every test: formatting, lints, then the whole workspace's tests against local servers:
# moto (local AWS) is installed into .venv/ if needed, started on a free loopback port for this
# run and stopped on exit; the Zoom sandbox is started in-process by the tests themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Incremental caches only help repeated local builds and double the disk a run needs.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> architecture (tools/local/architecture.sh)"
tools/local/architecture.sh
echo "==> cfn-lint infra/template.yaml (pinned, into .venv/)"
tools/local/cfn-lint.sh

# A state directory of its own, so this run never stops a moto a developer started by hand.
export ZTS_MOTO_STATE="$PWD/.local/moto-test-$$"
echo "==> starting moto (local AWS)"
tools/local/moto.sh start >/dev/null
trap 'tools/local/moto.sh stop >/dev/null 2>&1 || true; rm -rf "$ZTS_MOTO_STATE"' EXIT
trap 'exit 130' INT TERM
eval "$(tools/local/moto.sh env)"
# Tests that need AWS fail (instead of skipping) when the endpoint is missing.
export ZTS_REQUIRE_AWS=1
echo "    ZTS_AWS_ENDPOINT_URL=$ZTS_AWS_ENDPOINT_URL"

# Headless Chromium for the license report's browser test (installed if missing; required here).
export ZTS_CHROMIUM="$(tools/local/chromium.sh)" ZTS_REQUIRE_CHROMIUM=1
echo "==> cargo test"
cargo test --workspace --locked

# The daily sync end to end (its own moto, sandbox and function processes, stopped on exit).
echo "==> demo smoke test (tools/local/demo.sh)"
tools/local/demo.sh

# Packaging: one function through `cargo lambda build --release` (the pinned cargo-lambda, this
# machine's architecture), bootstrap checked where SAM's builder takes it. Not all of them: every
# release binary links with thin LTO (3-5 CPU minutes each); six took 35 CPU minutes, 18+ minutes
# on CI's two cores (README, Deploy). `make package` builds every function.
echo "==> packaging (tools/local/package.sh oauth-connect)"
tools/local/package.sh oauth-connect
