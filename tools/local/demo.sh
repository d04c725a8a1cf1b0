#!/usr/bin/env bash
# The daily sync end to end, locally (`make demo`):
#   installs moto and cargo-lambda (pinned, from PyPI) into .venv/ if needed; builds; starts moto
#   (local AWS) and the Zoom sandbox (demo tenant, a third of its members dormant for 100+ days)
#   on free loopback ports; creates the table, the app secret and the unit queue; runs the real
#   function binaries against `cargo lambda watch`; connects the demo master account through
#   /connect -> the sandbox's authorize page -> /oauth/callback as a browser would (curl,
#   following each redirect); fires the four schedule events from events/ (`cargo lambda
#   invoke --data-file`); drains the unit queue into the functions (SQS batch events, partial
#   batch failures honoured); prints the license report and
#   a reclamation dry run, and checks both against the sandbox's ground truth (per account and
#   license: provisioned, assigned, active, inactive, reclamation candidates; the dry run's users);
#   has license-admin write the text report and two user exports to the files bucket, prints
#   their links, downloads them and checks the exports' users and candidates against the truth.
#   The function binaries are built once (debug) and run directly against the Runtime API of
#   `cargo lambda watch --only-lambda-apis` (which also serves the invoke API and function URLs).
#   Everything it started is stopped on exit. Exits non-zero with the failing step's name.
#
# Local simplification: the deployed stack has one FIFO queue per task function; here the four
# tasks share one FIFO queue (cargo lambda watch gives every function the same environment)
# and the drain step routes each unit to the function its `task` names.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

VENV="${ZTS_VENV:-$ROOT/.venv}"
STATE="$ROOT/.local/demo-$$"
mkdir -p "$STATE"
export ZTS_MOTO_STATE="$STATE/moto"
# Error messages without anyhow's backtraces (panics still honour RUST_BACKTRACE).
export RUST_LIB_BACKTRACE="${RUST_LIB_BACKTRACE:-0}"

STEP="start"
step() { STEP="$*"; echo "==> $*"; }
fail() { echo "demo: FAILED at step '$STEP': $*" >&2; exit 1; }

SANDBOX_PID="" WATCH_PID=""
PIDS=()
cleanup() {
    local rc=$?
    if [[ -n "$WATCH_PID" ]] && kill -0 "$WATCH_PID" 2>/dev/null; then
        kill -TERM -- "-$WATCH_PID" 2>/dev/null || kill -TERM "$WATCH_PID" 2>/dev/null || true
    fi
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    if [[ -n "$SANDBOX_PID" ]] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
        kill -TERM "$SANDBOX_PID" 2>/dev/null || true
    fi
    tools/local/moto.sh stop >/dev/null 2>&1 || true
    if [[ $rc -ne 0 ]]; then
        echo "demo: FAILED at step '$STEP' (exit $rc); logs kept in $STATE" >&2
        for f in "$STATE"/*.log; do
            [[ -f "$f" ]] || continue
            echo "---- last lines of $f" >&2
            grep -v 'metadata=' "$f" | tail -n 15 | cut -c1-400 >&2
        done
    else
        rm -rf "$STATE"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
random_hex() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }

# ---------------------------------------------------------------------------------------------
step "installing tools into $VENV (moto, cargo-lambda: tools/local/cargo-lambda.sh)"
tools/local/moto.sh install
tools/local/cargo-lambda.sh install
export PATH="$VENV/bin:$PATH"
CARGO_LAMBDA="$(cargo lambda --version)" || fail "cargo lambda is not runnable"
echo "    $CARGO_LAMBDA"

step "building the function binaries, the Zoom sandbox and the demo helper (debug)"
FUNCTIONS=(oauth-connect connect-link application-roster application-access license-information license-differentiation reclamation license-admin maintenance)
pkgs=(-p zoom-sandbox -p local-stack)
for f in "${FUNCTIONS[@]}"; do pkgs+=(-p "$f"); done
# pipefail: the pipeline fails when cargo does, whatever grep finds.
cargo build --locked "${pkgs[@]}" 2>&1 | { grep -E "^(error|warning: unused)|Finished" || true; } ||
    fail "cargo build failed"
LOCAL_STACK="$ROOT/target/debug/local-stack"

step "starting moto (local AWS)"
tools/local/moto.sh start >/dev/null
eval "$(tools/local/moto.sh env)"
echo "    $ZTS_AWS_ENDPOINT_URL"

# The demo tenant with a third of its active members dormant (no activity for 100-400 days), so
# the report and the dry run show reclamation candidates.
DEMO_TENANT="${ZTS_DEMO_TENANT:-demo,dormant=33}"
step "starting the Zoom sandbox (tenant $DEMO_TENANT)"
WATCH_PORT="$(free_port)"
FN_URL="http://127.0.0.1:$WATCH_PORT/lambda-url/oauth-connect"
export ZTS_DEMO_CLIENT_ID="demo-client-$(random_hex | cut -c1-8)"
export ZTS_DEMO_CLIENT_SECRET="$(random_hex)"
export ZTS_DEMO_WEBHOOK_SECRET="$(random_hex)"
ZOOM_SANDBOX_CLIENT_SECRET="$ZTS_DEMO_CLIENT_SECRET" ZOOM_SANDBOX_WEBHOOK_SECRET="$ZTS_DEMO_WEBHOOK_SECRET" \
    target/debug/zoom-sandbox --port 0 --tenant "$DEMO_TENANT" --client-id "$ZTS_DEMO_CLIENT_ID" \
    --redirect-uri "$FN_URL/oauth/callback" >"$STATE/sandbox.log" 2>&1 &
SANDBOX_PID=$!
SANDBOX=""
for _ in $(seq 1 300); do
    SANDBOX="$(sed -n 's/^zoom-sandbox listening on \(http[^ ]*\).*/\1/p' "$STATE/sandbox.log" | head -n1)"
    [[ -n "$SANDBOX" ]] && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || fail "the sandbox exited"
    sleep 0.2
done
[[ -n "$SANDBOX" ]] || fail "the sandbox did not start within 60 s"
echo "    $SANDBOX"

step "creating the table, the files bucket, the app secret and the unit queue"
export ZTS_TABLE_NAME="zts-demo"
export ZTS_APP_SECRET_ID="zts-demo/app"
export ZTS_TOKEN_SECRET_PREFIX="zts-demo/tokens/"
export ZTS_FILES_BUCKET="zts-demo-files"
export ZTS_AWS_REGION="us-east-1"
export ZTS_ZOOM_REGION="NA"
export ZTS_ZOOM_OAUTH_BASE="$SANDBOX"
export ZTS_ZOOM_API_BASE="$SANDBOX/v2"
export ZTS_OAUTH_REDIRECT_URI="$FN_URL/oauth/callback"
export ZTS_CONNECT_URL="$FN_URL/connect"
export ZTS_DEADLINE_MARGIN_SECS=10
export RUST_LOG="${RUST_LOG:-info}"
ZTS_QUEUE_URL="$("$LOCAL_STACK" setup --queue-name zts-demo-units.fifo --region NA)" || fail "setup failed"
export ZTS_QUEUE_URL
echo "    table $ZTS_TABLE_NAME, bucket $ZTS_FILES_BUCKET, secret $ZTS_APP_SECRET_ID, queue $ZTS_QUEUE_URL"

step "starting cargo lambda watch (Lambda APIs) and the function binaries on 127.0.0.1:$WATCH_PORT"
setsid cargo lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
    >"$STATE/watch.log" 2>&1 </dev/null &
WATCH_PID=$!
for _ in $(seq 1 600); do
    if port_open "$WATCH_PORT"; then break; fi
    kill -0 "$WATCH_PID" 2>/dev/null || fail "cargo lambda watch exited"
    sleep 0.2
done
port_open "$WATCH_PORT" || fail "cargo lambda watch did not answer"
# Each binary polls watch's Runtime API under /.rt/<function> (cargo-lambda 1.9 sends
# Lambda-Runtime-Deadline-Ms as the remaining time; the functions read both that and Lambda's
# epoch milliseconds).
for f in "${FUNCTIONS[@]}"; do
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$WATCH_PORT/.rt/$f" AWS_LAMBDA_FUNCTION_NAME="$f" AWS_LAMBDA_FUNCTION_VERSION=1 \
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_LAMBDA_LOG_GROUP_NAME="/local/$f" AWS_LAMBDA_LOG_STREAM_NAME=demo \
        "target/debug/$f" >"$STATE/$f.log" 2>&1 </dev/null &
    PIDS+=($!)
done

invoke() { # function event-file
    cargo lambda invoke "$1" --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" --data-file "$2"
}

step "an admin mints a one-time connect link (connect-link, events/connect-link/mint.json)"
invoke connect-link events/connect-link/mint.json >"$STATE/link.json" || fail "connect-link failed: $(head -c 400 "$STATE/link.json")"
CONNECT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connect_url"])' "$STATE/link.json")" ||
    fail "no connect_url in $(head -c 400 "$STATE/link.json")"
echo "    $FN_URL/connect?invite=… (valid once, settings: free users yes, on premises no, 60 days)"

step "connecting the demo master account through the OAuth routes (as a browser)"
# Without the link /connect refuses.
STATUS="$(curl -sS --max-time 600 -o /dev/null -w '%{http_code}' "$FN_URL/connect")"
[[ "$STATUS" == 403 ]] || fail "/connect without a link answered $STATUS, not 403"
echo "    /connect without a link -> 403"
# /connect answers 302 to the sandbox's authorize page and sets the cookie binding this browser.
AUTHORIZE="$(curl -sS --max-time 600 -D "$STATE/connect.headers" -o "$STATE/connect.html" -w '%{http_code} %{redirect_url}' "$CONNECT")"
[[ "$AUTHORIZE" == 302\ "$SANDBOX"/oauth/authorize* ]] || fail "/connect answered '$AUTHORIZE', not a redirect to $SANDBOX/oauth/authorize"
# (Set by hand: curl keeps no Secure cookie for plain http.)
COOKIE="$(sed -n 's/^[Ss]et-[Cc]ookie: *\(__Host-zts-connect=[^;]*\).*/\1/p' "$STATE/connect.headers" | head -n1)"
[[ -n "$COOKIE" ]] || fail "/connect set no binding cookie"
echo "    /connect?invite=… -> 302 $SANDBOX/oauth/authorize?… (+ HttpOnly Secure SameSite=Lax cookie)"
CALLBACK="$(curl -sS --max-time 60 -o /dev/null -w '%{http_code} %{redirect_url}' "${AUTHORIZE#302 }")"
[[ "$CALLBACK" == 302\ "$FN_URL"/oauth/callback* ]] || fail "the sandbox's authorize answered '${CALLBACK%% *}', not a redirect to the callback"
echo "    authorize (the owner approves) -> 302 /oauth/callback?code=…&state=…"
STATUS="$(curl -sS --max-time 120 -H 'Accept: application/json' -H "Cookie: $COOKIE" -o "$STATE/callback.json" -w '%{http_code}' "${CALLBACK#302 }")"
[[ "$STATUS" == 200 ]] || fail "/oauth/callback answered $STATUS: $(head -c 400 "$STATE/callback.json")"
python3 - "$STATE/callback.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
flat = lambda k: d.get(k) if k in d else (d.get("connection") or {}).get(k)
print("    connected:", ", ".join(f"{k}={flat(k)}" for k in ("account_name", "sub_accounts", "connection_id") if flat(k) is not None) or json.dumps(d)[:300])
PYEOF

drain() {
    "$LOCAL_STACK" drain --queue-url "$ZTS_QUEUE_URL" --invoke-url "http://127.0.0.1:$WATCH_PORT" || fail "draining the unit queue failed"
}
schedule() { # task
    invoke "$1" "events/$1/schedule.json" >"$STATE/$1-schedule.json" || fail "invoking $1 with events/$1/schedule.json failed"
    echo "    $1: $(head -c 300 "$STATE/$1-schedule.json")"
}

step "daily schedule: Application Roster and Application Access (events/*/schedule.json)"
schedule application-roster
schedule application-access
step "draining the unit queue (SQS batches into the functions)"
drain
step "24-hour schedule: License Information"
schedule license-information
drain
step "schedule: License Differentiation (after the daily sync)"
SINCE="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"
schedule license-differentiation
drain

step "license report (DynamoDB) against the sandbox's ground truth"
"$LOCAL_STACK" report --sandbox "$SANDBOX" --since "$SINCE" || fail "the report differs from the ground truth"

step "reclamation dry run (events/reclamation/dry-run.json for this connection) against the ground truth"
"$LOCAL_STACK" dry-run --invoke-url "http://127.0.0.1:$WATCH_PORT" --sandbox "$SANDBOX" \
    events/reclamation/dry-run.json || fail "the reclamation dry run check failed (see above)"

step "license management: manage the master's paid license, set its contract, print the report (events/license-admin/)"
lic() { # event-file [license-id]: invoke license-admin with the event for this connection
    "$LOCAL_STACK" event "$1" >"$STATE/lic-event.json" || fail "no connection"
    [[ -z "${2:-}" ]] || python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["license_id"]=sys.argv[2]; json.dump(d,open(sys.argv[1],"w"))' "$STATE/lic-event.json" "$2"
    invoke license-admin "$STATE/lic-event.json" >"$STATE/lic-out.json" || fail "license-admin with $1 failed: $(head -c 400 "$STATE/lic-out.json")"
}
lic events/license-admin/list.json
MASTER_LICENSE="$(python3 -c 'import json,sys; print(next(l["license_id"] for l in json.load(open(sys.argv[1]))["licenses"] if l["account_kind"]=="master" and l["license_id"].endswith(":licensed")))' "$STATE/lic-out.json")" || fail "no licensed license of the master account"
lic events/license-admin/manage.json "$MASTER_LICENSE"
lic events/license-admin/set-contract.json "$MASTER_LICENSE"
delivered() { # event-file: the report or export as a file; prints its link, downloads and checks it
    "$LOCAL_STACK" file --invoke-url "http://127.0.0.1:$WATCH_PORT" --sandbox "$SANDBOX" --since "$SINCE" "$1" ||
        fail "license-admin with $1: the file or its check failed"
}
delivered events/license-admin/report-text.json

step "user exports as files (events/license-admin/export-*.json): download through the links, check against the ground truth"
delivered events/license-admin/export-all-users-csv.json
delivered events/license-admin/export-underutilized-jsonl.json

step "uninstall: Zoom sends app_deauthorized; the daily maintenance keeps the data for the retention period, then purges it"
CONNECTION_ID="$("$LOCAL_STACK" connection)" || fail "no connection"
DEAUTH="$(curl -sS --max-time 60 -X POST -H 'Content-Type: application/json' \
    -d "{\"url\": \"$FN_URL/zoom/events\", \"event\": \"app_deauthorized\", \"account\": \"master\"}" \
    "$SANDBOX/_sandbox/webhooks/send")" || fail "the sandbox could not send app_deauthorized"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d.get("status")==200 else 1)' "$DEAUTH" ||
    fail "/zoom/events did not accept app_deauthorized: $(head -c 300 <<<"$DEAUTH")"
echo "    signed app_deauthorized -> /zoom/events 200 (tokens deleted, records kept for the retention period)"
invoke maintenance events/maintenance/purge.json >"$STATE/purge-1.json" || fail "maintenance failed: $(head -c 400 "$STATE/purge-1.json")"
python3 - "$STATE/purge-1.json" "$CONNECTION_ID" <<'PYEOF' || fail "maintenance purged within the retention period"
import json, sys
p = json.load(open(sys.argv[1]))["purge"]
waiting = [w["connection_id"] for w in p["waiting"]]
assert sys.argv[2] in waiting and not p["purged"], p
print(f"    maintenance (day 0): purged none; waiting until {p['waiting'][0]['purge_after']}")
PYEOF
"$LOCAL_STACK" end-retention || fail "could not end the retention period"
invoke maintenance events/maintenance/purge.json >"$STATE/purge-2.json" || fail "maintenance failed: $(head -c 400 "$STATE/purge-2.json")"
python3 - "$STATE/purge-2.json" "$CONNECTION_ID" <<'PYEOF' || fail "maintenance did not purge the connection"
import json, sys
p = json.load(open(sys.argv[1]))["purge"]
purged = {x["connection_id"]: x["items"] for x in p["purged"]}
assert sys.argv[2] in purged, p
print(f"    maintenance (after the retention period): purged {sys.argv[2]}, {purged[sys.argv[2]]} items and its token secret")
PYEOF
"$LOCAL_STACK" purged "$CONNECTION_ID" || fail "the connection's data is not all gone"

step "metrics the run emitted (the stack's metric filters over the functions' JSON logs)"
"$VENV/bin/python" tools/local/metrics.py infra/template.yaml "$STATE" || fail "could not count the metrics"

step "done"
echo "demo: the daily sync ran end to end; the report and the dry run equal the sandbox's ground truth."
