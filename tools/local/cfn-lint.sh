#!/usr/bin/env bash
# Lint infra/template.yaml with a pinned cfn-lint installed into the project's .venv/ (the same
# virtualenv as moto; pip from PyPI, offline once installed).
#
#   tools/local/cfn-lint.sh            install if needed, then lint the template
#   tools/local/cfn-lint.sh install    install only
set -euo pipefail

CFN_LINT_VERSION="1.58.0"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${ZTS_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

install() {
    if [[ ! -x "$PY" ]]; then
        echo "cfn-lint.sh: creating virtualenv $VENV" >&2
        python3 -m venv "$VENV"
    fi
    if "$PY" - "$CFN_LINT_VERSION" <<'PYEOF' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(0 if version("cfn-lint") == sys.argv[1] else 1)
PYEOF
        return 0
    fi
    echo "cfn-lint.sh: installing cfn-lint==$CFN_LINT_VERSION into $VENV" >&2
    "$PY" -m pip install --quiet "cfn-lint==$CFN_LINT_VERSION"
}

install
[[ "${1:-}" == "install" ]] && exit 0
"$VENV/bin/cfn-lint" --version >&2
"$VENV/bin/cfn-lint" "$ROOT/infra/template.yaml"
echo "cfn-lint.sh: infra/template.yaml passes" >&2
