#!/usr/bin/env bash
# The project's pinned cargo-lambda: installs it from PyPI into .venv/ on first use (with zig, its
# cross-linker), then runs `cargo lambda ARGS...`. Used by demo.sh and package.sh.
#   tools/local/cargo-lambda.sh build --release -p reclamation
#   tools/local/cargo-lambda.sh install      only install (idempotent)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CARGO_LAMBDA_VERSION="1.9.2"
VENV="${ZTS_VENV:-$ROOT/.venv}"

installed() {
    "$VENV/bin/python" - "$CARGO_LAMBDA_VERSION" <<'PYEOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("cargo-lambda") == sys.argv[1] else 1)
PYEOF
}

if ! installed; then
    # moto.sh creates the virtualenv (serialized with a lock) and installs moto into it.
    "$ROOT/tools/local/moto.sh" install >&2
    mkdir -p "$ROOT/.local"
    (
        flock 9
        if ! installed; then
            echo "cargo-lambda.sh: installing cargo-lambda==$CARGO_LAMBDA_VERSION into $VENV" >&2
            "$VENV/bin/python" -m pip install --quiet "cargo-lambda==$CARGO_LAMBDA_VERSION"
        fi
    ) 9>"$ROOT/.local/cargo-lambda-install.lock"
fi
[[ "${1:-}" == install ]] && exit 0
export PATH="$VENV/bin:$PATH"
exec cargo lambda "$@"
