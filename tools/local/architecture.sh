#!/usr/bin/env bash
# The shape issue #15 settled, checked on every `make test`:
# - the use-case crates (ports, sync-domain, sync-engine) have no AWS and no Lambda dependency;
# - no import cycle between the files of any workspace crate (tools/local/import-cycles.py).
set -euo pipefail
cd "$(dirname "$0")/../.."

status=0
# AWS SDK, smithy and Lambda crates; not aws-lc-rs/aws-lc-sys, the TLS crypto every HTTPS client
# here (reqwest, through the zoom crate) uses.
for crate in ports sync-domain sync-engine; do
    tree=$(cargo tree --locked -p "$crate" -e normal --prefix none)
    found=$(echo "$tree" | grep -E '^(aws-|aws_|lambda_)' | grep -vE '^aws-lc-' | sort -u || true)
    if [ -n "$found" ]; then
        echo "FAIL: $crate depends on AWS or Lambda crates:"; echo "$found" | sed 's/^/    /'
        status=1
    fi
done
members=$(sed -n '/^members/,/^\]/p' Cargo.toml | grep -o '"[^"]*"' | tr -d '"')
for member in $members; do
    if ! out=$(python3 tools/local/import-cycles.py "$member/src"); then
        echo "FAIL: $member:"; echo "$out" | grep -E "cycle|mutual" | sed 's/^/    /'
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "    no AWS/Lambda in ports, sync-domain, sync-engine; no import cycles in $(echo "$members" | wc -w) crates"
exit "$status"
