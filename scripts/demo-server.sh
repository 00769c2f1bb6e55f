#!/usr/bin/env bash
# The second half of scripts/demo.sh: start `pennon serve` (SQLite in .pennon/ or
# $PENNON_DEMO_DIR) with the example flags imported into development and production, and
# use the command line against it. The server keeps running; the end says how to stop it.
#   scripts/demo-server.sh BINARY     e.g. target/release/pennon
# PENNON_PORT picks the port (default 7070). scripts/test.sh smoke runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:?usage: scripts/demo-server.sh PATH-TO-pennon}"
pennon() { "$bin" "$@"; }

state="${PENNON_DEMO_DIR:-.pennon}"
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
PENNON_ADMIN_TOKEN="$PENNON_TOKEN" nohup "$bin" serve \
  --listen "127.0.0.1:$port" --database-url "sqlite://$state/pennon.db" > "$state/serve.log" 2>&1 &
echo $! > "$state/pid"
for attempt in $(seq 1 300); do
  curl -fsS "$PENNON_URL/readyz" > /dev/null 2>&1 && break
  kill -0 "$(cat "$state/pid")" 2>/dev/null || { cat "$state/serve.log"; echo "pennon serve exited" >&2; exit 1; }
  [ "$attempt" -lt 300 ] || { cat "$state/serve.log"; echo "pennon serve did not become ready in 30 s" >&2; exit 1; }
  sleep 0.1
done
printf 'export PENNON_URL=%s\nexport PENNON_TOKEN=%s\n' "$PENNON_URL" "$PENNON_TOKEN" > "$state/env"

# Shows each command as one would type it (arguments with spaces or JSON in single quotes).
run() {
  local shown=() arg
  for arg in "$@"; do
    if [[ "$arg" =~ [[:space:]\"{}] ]]; then shown+=("'$arg'"); else shown+=("$arg"); fi
  done
  printf '\n$ pennon %s\n' "${shown[*]}"
  pennon "$@"
}
for env in development production; do
  if [ "$(pennon list -e "$env" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["flags"]))')" = 0 ]; then
    run import examples/flags.json -e "$env" --reason "demo: the example flags"
  fi
done
run status
run list -e production
run rollout start checkout.new-flow -e development --stages 10:PT10M,30:PT10M,50:PT30M,100:PT1H --approval 50 --reason "demo: a guarded canary, judged on what SDKs record"
run kill search.new-ranker -e production --reason "demo: the kill switch needs no approval"
run canary-status -e development
run rollout status checkout.new-flow -e development
# Real data for the dashboard's rollout page: pennon-rollouts (built beside pennon by
# scripts/demo.sh) runs SDK clients whose canary fails 5 points more often than its control,
# and the controller rolls it back. Once per demo directory.
rollouts_bin="$(dirname "$bin")/pennon-rollouts"
if [ -x "$rollouts_bin" ] && [ ! -s "$state/sdk-key" ]; then
  printf '\n==> A canary with a regression: SDK clients send traffic to payments.retry-v2 in development; its canary errors 5 points more often than its control\n'
  pennon token create demo-traffic --role sdk -e development --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$state/sdk-key"
  chmod 600 "$state/sdk-key"
  "$rollouts_bin" drive --url "$PENNON_URL" --token "$PENNON_TOKEN" --sdk-key "$(cat "$state/sdk-key")" \
    --environment development --flag payments.retry-v2 --regression errors:+5 \
    --stages 10,50,100 --stage-duration PT5S --min-requests 500,2000 --rate 300 --deadline 120
  run rollout status payments.retry-v2 -e development
fi
run history search.new-ranker -e production
run evaluate checkout.express-pay -e production --context '{"targetingKey": "u-1", "country": "DE"}'
run audit verify

cat <<TEXT

pennon serve is running on $PENNON_URL (pid $(cat "$state/pid")).
  Dashboard: $PENNON_URL/  (sign in with the admin token below; the rollout page of
             payments.retry-v2 shows the canary the controller rolled back)
  Admin token: $PENNON_TOKEN
  Use the command line from this shell:  source $state/env && $bin list
  The API's description:                 curl $PENNON_URL/openapi.json
  Stop the server:                       kill \$(cat $state/pid)
TEXT
