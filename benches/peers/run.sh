#!/usr/bin/env bash
# Pennon side by side with the peers' SDKs (README.md beside this file), in one command:
#
#   benches/peers/run.sh            full run (about 3 minutes on a 2-core machine), writes RESULTS.md
#   benches/peers/run.sh --quick    shorter rounds (under a minute), writes RESULTS.md (marked quick)
#   benches/peers/run.sh --check    only the correctness checks of every engine (seconds, no timing,
#                                   no build: needs the artefacts of a previous build or test run)
#
# Installs the peers (setup.sh) when missing, and before a timing run makes Pennon's release
# builds (the Node addon, wasm/dist, the Python extension in .venv) unless --no-build is given.
# Needs what ./scripts/setup.sh installs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

args=()
build=1
for arg in "$@"; do
  case "$arg" in
    --quick | --check) args+=("$arg") ;;
    --no-build) build=0 ;;
    *) echo "usage: benches/peers/run.sh [--quick | --check] [--no-build]" >&2; exit 2 ;;
  esac
done
[[ " ${args[*]-} " == *" --check "* ]] && build=0

"$here/setup.sh" >/dev/null

# True when wasm/dist is missing or older than a Rust source, a manifest or the wasm glue:
# wasm/build.sh relinks (fat LTO) and re-optimises every module even when nothing changed.
wasm_stale() {
  local out=wasm/dist/nodejs/pennon_wasm_bg.wasm
  [[ ! -e "$out" ]] && return 0
  [[ -n "$(find . \( -path ./target -o -name node_modules -o -name .venv -o -path ./wasm/dist \) -prune -o \
    \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock -o -path './wasm/js/*' -o -path ./wasm/build.sh \) \
    -newer "$out" -print -quit)" ]]
}

if ((build)); then
  echo "==> release builds of Pennon (Node addon, wasm, Python extension)"
  node bindings/node/scripts/build.mjs >/dev/null
  if wasm_stale; then wasm/build.sh >/dev/null; else echo "wasm/dist is up to date"; fi
  .venv/bin/python -m maturin develop --release --locked --quiet
fi

exec node "$here/run.mjs" "${args[@]}"
