#!/usr/bin/env bash
# Local AWS for tests and the demo: moto's server in a project-local virtualenv.
#
#   tools/local/moto.sh install   create .venv/ and install the pinned moto[server] (idempotent)
#   tools/local/moto.sh start     install if needed, start moto_server on a free loopback port,
#                                 wait until it answers, print the endpoint URL
#   tools/local/moto.sh env       print `export ...` lines for the running server (eval them)
#   tools/local/moto.sh stop      stop the server started by `start` (by its pid)
#   tools/local/moto.sh status    say whether it runs and where
#
# State lives in .local/moto/ (pid, endpoint, log); both .venv/ and .local/ are gitignored.
set -euo pipefail

MOTO_VERSION="5.2.5"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${ZTS_VENV:-$ROOT/.venv}"
STATE="${ZTS_MOTO_STATE:-$ROOT/.local/moto}"
PY="$VENV/bin/python"

log() { echo "moto.sh: $*" >&2; }

install() {
    # Serialize concurrent installs (two test runs on a fresh checkout share .venv/).
    if command -v flock >/dev/null 2>&1 && [[ -z "${ZTS_MOTO_INSTALL_LOCKED:-}" ]]; then
        mkdir -p "$ROOT/.local"
        ZTS_MOTO_INSTALL_LOCKED=1 flock "$ROOT/.local/moto-install.lock" "$0" install
        return
    fi
    if [[ ! -x "$PY" ]]; then
        log "creating virtualenv $VENV"
        python3 -m venv "$VENV"
    fi
    if "$PY" - "$MOTO_VERSION" <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(0 if version("moto") == sys.argv[1] else 1)
EOF
        return 0
    fi
    log "installing moto[server]==$MOTO_VERSION into $VENV"
    "$PY" -m pip install --quiet "moto[server]==$MOTO_VERSION"
}

running_pid() {
    [[ -f "$STATE/pid" ]] || return 1
    local pid
    pid="$(cat "$STATE/pid")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

start() {
    if pid="$(running_pid)"; then
        log "already running (pid $pid)"
        cat "$STATE/endpoint"
        return 0
    fi
    install
    mkdir -p "$STATE"
    local port
    port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    # setsid: its own process group, so `stop` ends the server and any children it forked.
    # tools/local/moto_server.py: moto_server with DynamoDB and Secrets Manager requests applied
    # one at a time, atomic as in AWS (plain moto lets two racing conditional writes both pass).
    setsid "$PY" "$ROOT/tools/local/moto_server.py" -H 127.0.0.1 -p "$port" >"$STATE/moto.log" 2>&1 < /dev/null &
    local pid=$!
    echo "$pid" >"$STATE/pid"
    local endpoint="http://127.0.0.1:$port"
    # Wait until it answers (generous: a loaded machine imports moto slowly).
    local i
    for i in $(seq 1 300); do
        if "$PY" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1] + '/moto-api/', timeout=2)" "$endpoint" 2>/dev/null; then
            echo "$endpoint" >"$STATE/endpoint"
            log "moto_server $MOTO_VERSION listening on $endpoint (pid $pid)"
            echo "$endpoint"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "moto_server exited during start-up; log follows"
            cat "$STATE/moto.log" >&2
            rm -f "$STATE/pid"
            return 1
        fi
        sleep 0.2
    done
    log "moto_server did not answer on $endpoint within 60 s"
    stop
    return 1
}

stop() {
    local pid
    if pid="$(running_pid)"; then
        # Negative pid: the process group created by setsid (moto_server and its children only).
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        local i
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        log "stopped moto_server (pid $pid)"
    fi
    rm -f "$STATE/pid" "$STATE/endpoint"
}

print_env() {
    running_pid >/dev/null || { log "not running; run '$0 start' first"; return 1; }
    local endpoint
    endpoint="$(cat "$STATE/endpoint")"
    cat <<EOF
export ZTS_AWS_ENDPOINT_URL=$endpoint
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
EOF
}

status() {
    if pid="$(running_pid)"; then
        echo "running (pid $pid) at $(cat "$STATE/endpoint")"
    else
        echo "not running"
        return 1
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    env) print_env ;;
    status) status ;;
    *)
        echo "usage: $0 {install|start|stop|env|status}" >&2
        exit 2
        ;;
esac
