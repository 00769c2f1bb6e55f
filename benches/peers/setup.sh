#!/usr/bin/env bash
# Installs the peers' SDKs for benches/peers, apart from the project's own setup:
#   node/node_modules   the four npm packages pinned in node/package.json + package-lock.json
#   .venv               a venv with python/requirements.txt (the four PyPI SDKs, all pinned)
# Idempotent: what is already installed at the pinned versions is reused without the
# network. Pennon's own artefacts (the Node addon, the wasm build, the Python extension in
# the repository's .venv) come from ./scripts/setup.sh and are built by run.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

step() { printf '\n==> [benches/peers setup] %s\n' "$*"; }

step "npm packages (node/package-lock.json)"
if node -e '
  const lock = require("./node/package-lock.json").packages;
  for (const [path, p] of Object.entries(lock)) {
    if (!path.startsWith("node_modules/")) continue;
    let have;
    try { have = require(`./node/${path}/package.json`).version } catch { process.exit(1) }
    if (have !== p.version) process.exit(1);
  }' 2>/dev/null; then
  echo "node/node_modules already matches the lockfile"
else
  # `npm ci` installs exactly the lockfile; --no-workspaces keeps it out of the root workspaces.
  (cd node && npm ci --no-audit --no-fund --no-workspaces)
fi

step "Python venv .venv (python/requirements.txt)"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else "Python >= 3.9 is required")'
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' 2>/dev/null; then
  rm -rf .venv
  python3 -m venv .venv
fi
# Exactly the pinned set (requirements.txt is this venv's `pip freeze`): nothing missing or different.
if cmp -s <(grep -v '^#' python/requirements.txt | sort -f) <(.venv/bin/python -m pip freeze | sort -f); then
  echo "reusing .venv ($(.venv/bin/python --version), exactly python/requirements.txt)"
else
  .venv/bin/python -m pip install --quiet --requirement python/requirements.txt
  echo "installed python/requirements.txt into .venv"
fi
