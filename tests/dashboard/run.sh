#!/usr/bin/env bash
# The dashboard in Debian's headless Chromium against a real `pennon serve` with the
# example flags (sign in, change, kill, approval with a what-if, a simulated canary's
# rollback, screenshots and axe-core on every page at two widths):
#   PENNON_BIN=target/debug/pennon PENNON_ROLLOUTS_BIN=target/debug/pennon-rollouts tests/dashboard/run.sh
# Needs both binaries (cargo build -p pennon-server -p pennon-rollouts --bin pennon --bin
# pennon-rollouts) and /usr/bin/chromium (scripts/setup.sh installs Debian's package).
# Installs the npm packages of package-lock.json on first use and when the lock changed;
# no browser is downloaded (playwright-core only). Screenshots go to tests/dashboard/artifacts/.
set -euo pipefail
for variable in PENNON_BIN PENNON_ROLLOUTS_BIN; do
  [ -n "${!variable:-}" ] || { echo "$variable must name its binary (cargo build -p pennon-server -p pennon-rollouts --bin pennon --bin pennon-rollouts)" >&2; exit 2; }
  [ -x "${!variable}" ] || { echo "$variable=${!variable} is not an executable" >&2; exit 2; }
  export "$variable=$(realpath "${!variable}")"
done
cd "$(dirname "$0")"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "no Chromium at ${CHROMIUM:-/usr/bin/chromium}: apt-get install -y chromium (scripts/setup.sh)" >&2; exit 2; }
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
rm -rf artifacts
node --test --test-reporter=spec dashboard.test.mjs
