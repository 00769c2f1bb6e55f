#!/usr/bin/env bash
# Pennon's main job, end to end on one machine:
#   1. set up (scripts/setup.sh) and evaluate the example flags for the sample users;
#   2. start the control plane (`pennon serve`, SQLite in .pennon/) with the example flags
#      imported into development and production;
#   3. use the `pennon` command line against it: list, canary, kill, history, audit.
# The server keeps running; the script prints its URL, the admin token, and how to stop it.
# Extra arguments go to the evaluator, e.g. --now 2026-11-28T10:00:00Z.
# PENNON_PORT picks the port (default 7070).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
printf '\n==> Evaluate the example flags (examples/flags.json × examples/contexts.json)\n'
cargo run --quiet --release -p pennon-core --example evaluate -- "$@"

printf '\n==> Build the pennon binary (server and command line)\n'
cargo build --quiet --release --locked -p pennon-server
pennon() { target/release/pennon "$@"; }

state=.pennon
mkdir -p "$state"
if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
  printf 'stopping the server an earlier demo started (pid %s)\n' "$(cat "$state/pid")"
  kill "$(cat "$state/pid")" && sleep 1
fi
# One admin token per demo directory, kept so that a second run finds the same data.
[ -s "$state/admin-token" ] || python3 -c 'import secrets; print("pennon_" + secrets.token_urlsafe(32))' > "$state/admin-token"
chmod 600 "$state/admin-token"
port="${PENNON_PORT:-7070}"
export PENNON_URL="http://127.0.0.1:$port" PENNON_TOKEN
PENNON_TOKEN="$(cat "$state/admin-token")"

printf '\n==> pennon serve on %s (database: %s/pennon.db, log: %s/serve.log)\n' "$PENNON_URL" "$state" "$state"
PENNON_ADMIN_TOKEN="$PENNON_TOKEN" nohup target/release/pennon serve \
  --listen "127.0.0.1:$port" --database-url "sqlite://$state/pennon.db" > "$state/serve.log" 2>&1 &
echo $! > "$state/pid"
for _ in $(seq 1 100); do
  curl -fsS "$PENNON_URL/readyz" > /dev/null 2>&1 && break
  kill -0 "$(cat "$state/pid")" 2>/dev/null || { cat "$state/serve.log"; echo "pennon serve exited" >&2; exit 1; }
  sleep 0.1
done
printf 'export PENNON_URL=%s\nexport PENNON_TOKEN=%s\n' "$PENNON_URL" "$PENNON_TOKEN" > "$state/env"

run() { printf '\n$ pennon'; printf ' %q' "$@"; printf '\n'; pennon "$@"; }
for env in development production; do
  if [ "$(pennon list -e "$env" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["flags"]))')" = 0 ]; then
    run import examples/flags.json -e "$env" --reason "demo: the example flags"
  fi
done
run status
run list -e production
run set checkout.new-flow canary --percentage 10 -e development --reason "demo: start the canary at 10%"
run kill search.new-ranker -e production --reason "demo: the kill switch needs no approval"
run canary-status -e development
run history search.new-ranker -e production
run evaluate checkout.express-pay -e production --context '{"targetingKey": "u-1", "country": "DE"}'
run audit verify

cat <<TEXT

pennon serve is running on $PENNON_URL (pid $(cat "$state/pid")).
  Admin token: $PENNON_TOKEN
  Use the command line from this shell:  source $state/env && target/release/pennon list
  The API's description:                 curl $PENNON_URL/openapi.json
  Stop the server:                       kill \$(cat $state/pid)
TEXT
