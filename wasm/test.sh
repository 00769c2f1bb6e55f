#!/usr/bin/env bash
# Builds and tests everything in wasm/: both modules, the three wasm-bindgen targets,
# lints, Rust unit tests, the node:test suites (conformance over the nodejs and web builds,
# API and error tests), the wasmtime tests of the raw module (conformance, ABI abuse,
# differential), the packaging test, and finally the sizes: the budgets are reported, the
# regression ceilings enforced (wasm/README.md, "Sizes"). Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

./setup.sh
./build.sh

step "Format (rustfmt --check on wasm/ files)"
find src host regex -name '*.rs' -print0 | xargs -0 rustfmt --edition 2024 --check --config-path ../rustfmt.toml

step "Lint: clippy for wasm32 (both features) and the host crate, warnings denied"
(cd .. && cargo clippy -p pennon-wasm --target wasm32-unknown-unknown --all-targets --locked -- -D warnings)
(cd .. && cargo clippy -p pennon-wasm --target wasm32-unknown-unknown --no-default-features --all-targets --locked -- -D warnings)
(cd .. && cargo clippy -p pennon-wasm -p pennon-wasm-host --all-targets --locked -- -D warnings)
(cd .. && cargo clippy -p pennon-wasm-regex --target wasm32-unknown-unknown --locked -- -D warnings)
(cd .. && cargo clippy -p pennon-wasm-regex --all-targets --locked -- -D warnings)
(cd .. && cargo clippy -p pennon-wasm --no-default-features --all-targets --locked -- -D warnings)

step "Rust unit tests of pennon-wasm (JSON API of the raw ABI) and of the regex module"
(cd .. && cargo test -p pennon-wasm --no-default-features --locked)
(cd .. && cargo test -p pennon-wasm-regex --locked)

step "node:test: conformance (nodejs, web and bundler builds), API, errors, web target"
node --test test/*.test.mjs

step "wasmtime: the raw module through conformance, ABI abuse and the differential runners"
(cd .. && cargo test -p pennon-wasm-host --locked -- --nocapture)

step "Packaging: npm pack, install the tarball in a scratch project, require and import it"
node test/package.mjs

step "Size: the budgets (main modules 250 KB raw / 100 KB gzip, regex module 100 KB gzip; reported) and the regression ceilings (checked)"
scripts/sizes.sh --check
