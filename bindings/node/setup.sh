#!/usr/bin/env bash
# Installs what the Node addon needs beyond the Rust toolchain: the npm packages of the
# repository's npm workspaces (@napi-rs/cli for type generation, TypeScript for the
# packaging test). Idempotent: an existing node_modules with the pinned versions is reused.
#
# `npm install`, not `npm ci`: the lockfile lacks optional packages of other platforms that
# the registry here does not serve, which makes `npm ci` fail (shared/TOOLCHAIN.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

step() { printf '\n==> [bindings/node setup] %s\n' "$*"; }

step "node and npm"
node --version
npm --version

installed() {
  # Prints the version of an npm package in the root node_modules, or nothing.
  node -e "try { console.log(require('$1/package.json').version) } catch {}" 2>/dev/null
}

step "npm packages (root workspaces: @napi-rs/cli 3.10.12, typescript 6.0.3)"
# npm records what it installed in node_modules/.package-lock.json: a lockfile newer than
# that record (new devDependencies of a workspace) needs an install.
if [ "$(installed @napi-rs/cli)" = "3.10.12" ] && [ "$(installed typescript)" = "6.0.3" ] && [ -e node_modules/pennon-node ] &&
  [ node_modules/.package-lock.json -nt package-lock.json ]; then
  echo "node_modules already has them: reusing it"
else
  npm install --no-audit --no-fund
fi
