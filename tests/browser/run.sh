#!/usr/bin/env bash
# pennon/browser, pennon/openfeature-web and pennon's wasm build in Debian's headless
# Chromium against a real `pennon serve`:
#   PENNON_BIN=target/debug/pennon tests/browser/run.sh
# Needs /usr/bin/chromium (scripts/setup.sh installs Debian's package), the repository's
# `npm install` (esbuild) and wasm/build.sh's wasm/dist/web; builds
# sdks/typescript/dist/web.mjs. Installs the npm packages of package-lock.json on first
# use (node_modules is reused); no browser is downloaded (playwright-core only).
set -euo pipefail
[ -n "${PENNON_BIN:-}" ] || { echo "PENNON_BIN must name the pennon binary (cargo build -p pennon-server --bin pennon)" >&2; exit 2; }
[ -x "$PENNON_BIN" ] || { echo "PENNON_BIN=$PENNON_BIN is not an executable" >&2; exit 2; }
export PENNON_BIN="$(realpath "$PENNON_BIN")"
cd "$(dirname "$0")"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: apt-get install -y chromium (scripts/setup.sh)" >&2; exit 2; }
[ -f ../../wasm/dist/web/pennon_wasm_bg.wasm ] || { echo "wasm/dist/web is missing: run wasm/build.sh" >&2; exit 2; }
node ../../sdks/typescript/scripts/build.mjs
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
node --test --test-reporter=spec browser.test.mjs
