#!/usr/bin/env bash
# Benchmarks of `pennon serve` (README.md beside this file), in one command:
#
#   benches/server/run.sh            full run (a few minutes on 2 cores), writes RESULTS.md
#   benches/server/run.sh --quick    a fast sanity pass (about a minute, small numbers), prints only
#   benches/server/run.sh --no-build use the release binaries already built
#
# (a) snapshot GETs with If-None-Match per second on loopback (wrk, else server/examples/loadgen)
# (b) one change → received by 1,000 and 10,000 connected SSE clients: p50/p99 latency
# (c) write latency p50/p99, sequential PUT/state changes, on SQLite and on PostgreSQL
# (d) the server's VmRSS with 10,000 flags imported and 10,000 SSE clients connected, and its
#     peak while 1,000 clients receive the 10,000-flag snapshot
#
# Needs what scripts/setup.sh installs; installs Debian's wrk when missing (as root or with
# sudo) and starts a throwaway PostgreSQL cluster (scripts/postgres.sh) unless one runs.
# Timing figures are never asserted by the tests: this script only reports them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

quick=0
build=1
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    *) echo "usage: benches/server/run.sh [--quick] [--no-build]" >&2; exit 2 ;;
  esac
done

if ((quick)); then
  get_seconds=3; sse_sizes=(1000); sse_changes=3; write_count=100; rss_flags=1000; rss_clients=1000
else
  get_seconds=10; sse_sizes=(1000 10000); sse_changes=10; write_count=500; rss_flags=10000; rss_clients=10000
fi

# 10,000 SSE clients need 10,000 descriptors in the load generator and as many in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < rss_clients + 500)); then
  echo "ulimit -n is $(ulimit -n): too low for $rss_clients SSE clients (raise the hard limit)" >&2
  exit 1
fi

target_dir="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target_dir" == /* ]] || target_dir="$root/$target_dir"
pennon="$target_dir/release/pennon"
loadgen="$target_dir/release/examples/loadgen"
if ((build)); then
  echo "==> release build of pennon and the load generator" >&2
  cargo build --release --locked -p pennon-server --bin pennon --example loadgen >&2
fi

if ! command -v wrk >/dev/null; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  echo "==> installing wrk (Debian package)" >&2
  { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq wrk; } >/dev/null 2>&1 ||
    echo "wrk could not be installed: using the Rust load generator for (a)" >&2
fi

work="$(mktemp -d)"
servers=()
started_pg=0
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  ((started_pg)) && scripts/postgres.sh stop || true
  rm -rf "$work"
}
trap cleanup EXIT

admin_token="pennon_bench_admin_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# start_server NAME DATABASE_URL: starts `pennon serve`, sets $url and $pid.
start_server() {
  local name=$1 database=$2
  PENNON_ADMIN_TOKEN="$admin_token" RUST_LOG=warn "$pennon" serve --listen 127.0.0.1:0 --database-url "$database" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  servers+=("$pid")
  url=""
  for _ in $(seq 1 600); do
    url="$(sed -n 's/^pennon: listening on \([^ ]*\).*/\1/p' "$work/$name.out" | head -n 1)"
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.err" >&2; echo "pennon serve ($name) exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { echo "pennon serve ($name) did not start" >&2; exit 1; }
  url="${url%/}"
}

stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

results="$work/results.txt"
: >"$results"
section() { printf '\n### %s\n\n' "$*" | tee -a "$results" >&2; }
# run DESCRIPTION COMMAND...: runs a measurement, records the command and its RESULT lines.
run() {
  local description=$1
  shift
  echo "==> $description" >&2
  {
    printf '%s\n\n```\n$ %s\n' "$description" "$(printf '%q ' "$@" | sed "s|$root/||g; s|$admin_token|\$ADMIN_TOKEN|g; s|$sdk_key|\$SDK_KEY|g")"
    "$@"
    printf '```\n\n'
  } | tee -a "$results"
}

machine="$(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -r)"

# ---- SQLite server: (a), (b), (c) on SQLite --------------------------------------------
start_server sqlite "sqlite://$work/bench.db"
sqlite_url=$url
sqlite_pid=$pid
sdk_key="$("$loadgen" setup --url "$url" --admin-token "$admin_token" --flags 20 | sed -n 's/^SDK_KEY=//p')"

section "(a) snapshot GETs with If-None-Match (304) on loopback, SQLite server, 21 flags"
etag="$(curl -fsS -D - -o /dev/null -H "Authorization: Bearer $sdk_key" "$url/sdk/v1/snapshot" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | tr -d '\r')"
status="$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $sdk_key" -H "If-None-Match: $etag" "$url/sdk/v1/snapshot")"
[ "$status" = 304 ] || { echo "GET /sdk/v1/snapshot with If-None-Match: $etag answered $status, not 304" >&2; exit 1; }
if command -v wrk >/dev/null; then
  run "wrk, 1 thread, 64 connections, ${get_seconds} s (wrk and the server share the 2 cores)" \
    wrk -t1 -c64 -d"${get_seconds}s" --latency -H "Authorization: Bearer $sdk_key" -H "If-None-Match: $etag" "$url/sdk/v1/snapshot"
  run "wrk, 2 threads, 128 connections, ${get_seconds} s" \
    wrk -t2 -c128 -d"${get_seconds}s" --latency -H "Authorization: Bearer $sdk_key" -H "If-None-Match: $etag" "$url/sdk/v1/snapshot"
  run "for comparison: full snapshot GETs (200, no If-None-Match), wrk 1 thread 64 connections" \
    wrk -t1 -c64 -d"${get_seconds}s" --latency -H "Authorization: Bearer $sdk_key" "$url/sdk/v1/snapshot"
else
  run "Rust load generator, 64 connections, ${get_seconds} s" \
    "$loadgen" snapshot-gets --url "$url" --key "$sdk_key" --seconds "$get_seconds" --connections 64
fi

section "(b) one change → every connected SSE client (latency from sending the change to the event's arrival)"
for clients in "${sse_sizes[@]}"; do
  run "$clients SSE clients, $sse_changes changes one after the other (state on/off of bench-flag), SQLite server" \
    "$loadgen" sse --url "$url" --key "$sdk_key" --admin-token "$admin_token" --clients "$clients" \
    --changes "$sse_changes" --pid "$sqlite_pid"
done

section "(c) write latency, sequential, one client: PUT with baseRevision and state changes in turn"
run "SQLite: $write_count writes" \
  "$loadgen" writes --url "$sqlite_url" --admin-token "$admin_token" --count "$write_count" --label sqlite
stop_server "$sqlite_pid"

if [ -z "${PENNON_BENCH_POSTGRES_URL:-}" ]; then
  if ! scripts/postgres.sh url >/dev/null 2>&1; then started_pg=1; fi
  PENNON_BENCH_POSTGRES_URL="$(scripts/postgres.sh start)"
fi
pg_db="pennon_bench_$$"
/usr/lib/postgresql/15/bin/psql -q "$PENNON_BENCH_POSTGRES_URL" -c "CREATE DATABASE $pg_db" >/dev/null
start_server postgres "${PENNON_BENCH_POSTGRES_URL%/*}/$pg_db"
pg_pid=$pid
"$loadgen" setup --url "$url" --admin-token "$admin_token" --flags 20 >/dev/null
run "PostgreSQL 15 (local throwaway cluster, default settings): $write_count writes" \
  "$loadgen" writes --url "$url" --admin-token "$admin_token" --count "$write_count" --label postgres
stop_server "$pg_pid"

# ---- (d) memory -----------------------------------------------------------------------
section "(d) server memory (VmRSS) with $rss_flags flags and $rss_clients SSE clients, SQLite server"
start_server memory "sqlite://$work/memory.db"
memory_pid=$pid
echo "VmRSS after start: $(awk '/^VmRSS/ {print $2, $3}' "/proc/$memory_pid/status")" | tee -a "$results"
sdk_key="$("$loadgen" setup --url "$url" --admin-token "$admin_token" --flags "$rss_flags" | tee -a "$results" | sed -n 's/^SDK_KEY=//p')"
sed -i '/^SDK_KEY=/d' "$results"
echo "VmRSS after importing $rss_flags flags: $(awk '/^VmRSS/ {print $2, $3}' "/proc/$memory_pid/status")" | tee -a "$results"
echo "snapshot size: $(curl -fsS -H "Authorization: Bearer $sdk_key" "$url/sdk/v1/snapshot" | wc -c) bytes" | tee -a "$results"
run "(c) again with $rss_flags flags in the environment: $((write_count / 10)) sequential writes on SQLite (every change validates and publishes the whole environment)" \
  "$loadgen" writes --url "$url" --admin-token "$admin_token" --count "$((write_count / 10))" --label "sqlite_${rss_flags}_flags"
run "$rss_clients SSE clients resuming at the newest revision (Last-Event-ID: no snapshot sent on connect), no change" \
  "$loadgen" sse --url "$url" --key "$sdk_key" --admin-token "$admin_token" --clients "$rss_clients" \
  --changes 0 --resume --pid "$memory_pid"
echo "VmHWM (peak) so far: $(awk '/^VmHWM/ {print $2, $3}' "/proc/$memory_pid/status")" | tee -a "$results"
# Every client of a change receives the whole snapshot (about 130 bytes a flag): with
# 10,000 flags and 10,000 clients one change is 13 GB on loopback. Sending the big snapshot
# is measured with fewer clients (each gets it on connect, then once more for one change).
big_clients=$((rss_clients / 10))
run "$big_clients SSE clients that each receive the $rss_flags-flag snapshot on connect and once more for 1 change" \
  "$loadgen" sse --url "$url" --key "$sdk_key" --admin-token "$admin_token" --clients "$big_clients" \
  --changes 1 --pid "$memory_pid" --timeout-secs 120
echo "VmRSS at the end: $(awk '/^VmRSS/ {print $2, $3}' "/proc/$memory_pid/status"); VmHWM (peak): $(awk '/^VmHWM/ {print $2, $3}' "/proc/$memory_pid/status")" | tee -a "$results"
stop_server "$memory_pid"

# The value of KEY= in the first RESULT line matching PATTERN.
kv() { grep -E "$1" "$results" | head -n 1 | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
summary() {
  local rps fan
  echo "| | measurement | figure | goal |"
  echo "|---|---|---|---|"
  if grep -q '^Requests/sec' "$results"; then
    mapfile -t rps < <(awk '/^Requests\/sec/ {printf "%.0f\n", $2}' "$results")
    echo "| (a) | snapshot GETs with If-None-Match (304), wrk 1 thread × 64 connections / 2 threads × 128 | ${rps[0]} / ${rps[1]} per s | ≥ 20,000/s |"
    echo "| (a) | for comparison: full snapshot GETs (200, 21 flags) | ${rps[2]} per s | |"
  else
    echo "| (a) | snapshot GETs with If-None-Match (304), Rust load generator, 64 connections | $(kv 'RESULT snapshot_304' per_second) per s | ≥ 20,000/s |"
  fi
  for clients in "${sse_sizes[@]}"; do
    fan="RESULT sse_fanout .*clients=$clients changes=$sse_changes "
    echo "| (b) | one change → $clients SSE clients ($sse_changes changes; missed: $(kv "$fan" missed)) | p50 $(kv "$fan" p50_ms) ms, p99 $(kv "$fan" p99_ms) ms, max $(kv "$fan" max_ms) ms | p99 ≤ 1 s |"
  done
  echo "| (c) | write latency, SQLite, 21 flags | p50 $(kv 'RESULT writes_sqlite_all' p50_ms) ms, p99 $(kv 'RESULT writes_sqlite_all' p99_ms) ms | |"
  echo "| (c) | write latency, PostgreSQL, 21 flags | p50 $(kv 'RESULT writes_postgres_all' p50_ms) ms, p99 $(kv 'RESULT writes_postgres_all' p99_ms) ms | |"
  echo "| (c) | write latency, SQLite, $rss_flags flags | p50 $(kv "RESULT writes_sqlite_${rss_flags}_flags_all" p50_ms) ms, p99 $(kv "RESULT writes_sqlite_${rss_flags}_flags_all" p99_ms) ms | |"
  echo "| (d) | VmRSS: started / $rss_flags flags imported / + $rss_clients SSE clients | $(awk '/^VmRSS after start/ {print $4}' "$results") / $(awk '/^VmRSS after importing/ {print $6}' "$results") / $(kv "RESULT sse_connect clients=$rss_clients .*initial_snapshots=0 " server_rss_connected_kib) kB | |"
  fan="RESULT sse_fanout .*clients=$big_clients changes=1 "
  echo "| (d) | the $rss_flags-flag snapshot ($(awk '/^snapshot size/ {print $3}' "$results") bytes) → $big_clients clients, one change | p50 $(kv "$fan" p50_ms) ms, p99 $(kv "$fan" p99_ms) ms; peak VmHWM $(awk '/VmHWM \(peak\): / {print $(NF-1)}' "$results" | tail -n 1) kB | |"
}

if ((quick)); then
  echo
  summary
  echo "quick run: RESULTS.md not written" >&2
else
  {
    echo "# pennon serve benchmarks: results"
    echo
    echo "Written by \`benches/server/run.sh\` on $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo "Machine: $machine. Release build; server and load generator on the same machine (loopback)."
    echo "See README.md for what each figure means and the goals. Other work on the machine moves these"
    echo "figures by up to 2× from run to run on 2 cores."
    echo
    echo "## Summary"
    echo
    summary
    echo
    echo "## Every measurement with its command"
    cat "$results"
  } >"$here/RESULTS.md"
  echo "wrote benches/server/RESULTS.md" >&2
fi
