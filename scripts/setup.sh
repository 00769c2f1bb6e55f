#!/usr/bin/env bash
# Installs everything Pennon's build and tests need on a fresh machine of this kind
# (Debian with rustup, gcc, Python 3 and Node preinstalled): Rust components and targets,
# the exact wasm-bindgen CLI, npm packages, the Python venv (.venv) with maturin, and the
# Debian packages of the C tests. Idempotent: re-running reuses what is already there.
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
