#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the server's tests and benchmarks.
#
#   scripts/postgres.sh start   create (initdb) and start a cluster on 127.0.0.1 at a free port
#                               with trust authentication; prints its URL. Already running: prints
#                               the URL again.
#   scripts/postgres.sh url     prints the URL of the running cluster (exit 1 when none runs)
#   scripts/postgres.sh stop    stops the cluster and removes its directory (nothing running: no-op)
#
# The URL is postgres://postgres@127.0.0.1:PORT/postgres (superuser `postgres`, no password):
# for local tests only. The cluster lives in target/postgres, or, when we are root and the
# `postgres` user cannot reach target/, in $TMPDIR (PENNON_PG_DIR overrides both). As root
# (CI) every PostgreSQL program runs as the `postgres` user (`runuser -u postgres --`): the
# server refuses to run as root. Installs nothing: scripts/setup.sh installs Debian's
# `postgresql` package. Binaries: $PENNON_PG_BIN or /usr/lib/postgresql/15/bin.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${PENNON_PG_BIN:-/usr/lib/postgresql/15/bin}"

usage() { echo "usage: scripts/postgres.sh start|stop|url" >&2; exit 2; }
[ $# -eq 1 ] || usage

[ -x "$bin/pg_ctl" ] && [ -x "$bin/initdb" ] && [ -x "$bin/postgres" ] || {
  echo "PostgreSQL 15 is not installed in $bin (scripts/setup.sh installs it)" >&2
  exit 1
}

as_root=0
[ "$(id -u)" -eq 0 ] && as_root=1

# Runs a command as the cluster's owner: `postgres` when we are root (from /, as our working
# directory may be closed to that user), else ourselves.
as_owner() {
  if ((as_root)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

state_dir() {
  if [ -n "${PENNON_PG_DIR:-}" ]; then
    echo "$PENNON_PG_DIR"
  elif ((as_root)) && ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
    echo "${TMPDIR:-/tmp}/pennon-postgres-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
  else
    echo "$root/target/postgres"
  fi
}
dir="$(state_dir)"
data="$dir/data"

running() { [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }
url() { echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  if running; then
    url
    return
  fi
  # A directory left by a crashed run: start afresh.
  rm -rf "$dir"
  mkdir -p "$dir"
  if ((as_root)); then chown postgres: "$dir"; fi
  as_owner "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust --encoding=UTF8 \
    --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    echo "initdb failed" >&2
    exit 1
  }
  # Several tests create databases and servers at once; the defaults (100) are enough for
  # them, the SSE benchmark does not touch PostgreSQL connections per client.
  local attempt port
  for attempt in 1 2 3; do
    port="$(free_port)"
    if as_owner "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200" \
      start >/dev/null; then
      echo "$port" >"$dir/port"
      url
      return
    fi
    echo "PostgreSQL did not start on port $port (attempt $attempt):" >&2
    tail -n 5 "$dir/postgres.log" >&2 || true
  done
  exit 1
}

stop() {
  if running; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  fi
  rm -rf "$dir"
}

case "$1" in
  start) start ;;
  stop) stop ;;
  url)
    running || { echo "no PostgreSQL cluster is running in $dir (scripts/postgres.sh start)" >&2; exit 1; }
    url
    ;;
  *) usage ;;
esac
