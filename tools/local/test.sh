#!/usr/bin/env bash
# Every test: formatting, lints, then the whole workspace's tests (against local servers).
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked
