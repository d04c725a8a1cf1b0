#!/usr/bin/env bash
# Makes sure headless Chromium (Debian's `chromium` package) is installed and prints its path.
# Used by tools/local/test.sh for the license report's browser test
# (shared/licensing/tests/chromium.rs). Non-interactive and quiet; installs with apt-get
# (as root, or through sudo), refreshing the package lists only if the first attempt fails.
set -euo pipefail

CHROMIUM="${ZTS_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$CHROMIUM" ]]; then
    echo "$CHROMIUM"
    exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "chromium.sh: chromium is missing and neither root nor sudo is available" >&2; exit 1; }
    SUDO=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
install() { "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null 2>&1; }
echo "chromium.sh: installing chromium (apt-get, about 1-2 minutes)" >&2
if ! install; then
    "${SUDO[@]}" apt-get update -qq >/dev/null 2>&1 || true
    install || { echo "chromium.sh: apt-get install chromium failed" >&2; exit 1; }
fi
[[ -x /usr/bin/chromium ]] || { echo "chromium.sh: /usr/bin/chromium is missing after the install" >&2; exit 1; }
echo /usr/bin/chromium
