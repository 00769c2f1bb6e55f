#!/usr/bin/env bash
# OFREP from the outside: the OpenFeature server SDK with its real OFREP provider
# (@openfeature/ofrep-provider) evaluates flags served by `pennon serve`.
#   PENNON_BIN=target/debug/pennon tests/ofrep/run.sh
# Installs the npm packages of package-lock.json on first use (node_modules is reused).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
[ -n "${PENNON_BIN:-}" ] || { echo "PENNON_BIN must name the pennon binary (cargo build -p pennon-server)" >&2; exit 2; }
[ -x "$PENNON_BIN" ] || { echo "PENNON_BIN=$PENNON_BIN is not an executable" >&2; exit 2; }
if [ ! -d node_modules/@openfeature/ofrep-provider ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
node --test --test-reporter=spec ofrep.test.mjs
