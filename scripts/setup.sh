#!/usr/bin/env bash
# Installs everything Pennon's build and tests need on a fresh machine of this kind
# (Debian with rustup, gcc, Python 3 and Node preinstalled): Rust components and targets,
# the exact wasm-bindgen CLI, npm packages, the Python venv (.venv) with maturin, and the
# Debian packages of the C tests and of the server's tests (PostgreSQL 15). Idempotent:
# re-running reuses what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Rust components and targets"
rustup component add rustfmt clippy >/dev/null 2>&1 || rustup component add rustfmt clippy
# wasm32v1-none has no std at all: building core for it proves the no_std claim.
installed=$(rustup target list --installed)
for target in wasm32v1-none; do
  grep -qx "$target" <<<"$installed" || rustup target add "$target"
done

step "Fetch crates"
cargo fetch --locked

for binding in wasm bindings/node bindings/python bindings/c; do
  "./$binding/setup.sh"
done

# The server's tests run every store test on SQLite and on PostgreSQL; scripts/postgres.sh
# starts a throwaway cluster with these binaries.
pg_bin=/usr/lib/postgresql/15/bin
if ! { [ -x "$pg_bin/pg_ctl" ] && [ -x "$pg_bin/initdb" ] && "$pg_bin/postgres" --version 2>/dev/null | grep -q ' 15\.'; }; then
  step "PostgreSQL 15 (Debian's postgresql package)"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# The browser tests (tests/browser) drive Debian's Chromium headless; nothing downloads a
# browser (playwright-core only, executablePath /usr/bin/chromium).
if ! /usr/bin/chromium --version >/dev/null 2>&1; then
  step "Chromium (Debian's chromium package)"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
