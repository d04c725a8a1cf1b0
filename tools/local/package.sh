#!/usr/bin/env bash
# Packaging: `cargo lambda build --release` for the Lambda functions, for this machine's
# architecture, as SAM's rust-cargolambda builder runs it (one `--bin` per function from the
# workspace root; deploys add `--arm64`). Checks that every bootstrap is where the builder copies
# it from (target/lambda/<binary>/bootstrap) and prints its size.
#   tools/local/package.sh                 every package under functions/
#   tools/local/package.sh reclamation     only these
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $# -gt 0 ]]; then
    FUNCTIONS=("$@")
else
    FUNCTIONS=()
    for d in functions/*/; do FUNCTIONS+=("$(basename "$d")"); done
fi
args=()
for f in "${FUNCTIONS[@]}"; do args+=(--bin "$f"); done

start=$SECONDS
# pipefail: the pipeline fails when the build does, whatever grep finds.
if ! tools/local/cargo-lambda.sh build --release --locked "${args[@]}" 2>&1 |
    { grep -E "^(error|warning)|Finished" || true; }; then
    echo "package.sh: cargo lambda build --release failed" >&2
    exit 1
fi

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
for f in "${FUNCTIONS[@]}"; do
    bootstrap="$TARGET_DIR/lambda/$f/bootstrap"
    [[ -x "$bootstrap" ]] || { echo "package.sh: $bootstrap is missing" >&2; exit 1; }
    kind=""
    if command -v file >/dev/null; then kind="$(file -b "$bootstrap" | cut -d, -f1-2)"; fi
    printf '    %-48s %6.1f MB  %s\n' "$bootstrap" "$(du -k "$bootstrap" | awk '{print $1 / 1024}')" "$kind"
done
echo "    ${#FUNCTIONS[@]} function(s) packaged in $((SECONDS - start)) s"
