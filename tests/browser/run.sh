#!/usr/bin/env bash
# pennon/browser and pennon/openfeature-web in Debian's headless Chromium against a real
# `pennon serve`:
#   PENNON_BIN=target/debug/pennon tests/browser/run.sh
# Needs /usr/bin/chromium (scripts/setup.sh installs Debian's package). Installs the npm
# packages of package-lock.json on first use (node_modules is reused); no browser is
# downloaded (playwright-core only).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
[ -n "${PENNON_BIN:-}" ] || { echo "PENNON_BIN must name the pennon binary (cargo build -p pennon-server --bin pennon)" >&2; exit 2; }
[ -x "$PENNON_BIN" ] || { echo "PENNON_BIN=$PENNON_BIN is not an executable" >&2; exit 2; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: apt-get install -y chromium (scripts/setup.sh)" >&2; exit 2; }
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
PENNON_BIN="$(cd "$OLDPWD" && realpath "$PENNON_BIN")" node --test --test-reporter=spec browser.test.mjs
