#!/usr/bin/env bash
# Every test Pennon has. CI runs exactly this (.ci/run).
#   PENNON_SKIP_SETUP=1   skip scripts/setup.sh (everything is installed already)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS

step() { printf '\n==> [%4ds] %s\n' "$((SECONDS - started))" "$*"; }

if [ "${PENNON_SKIP_SETUP:-0}" != 1 ]; then
  ./scripts/setup.sh
fi
export PENNON_SKIP_SETUP=1

step "Format"
cargo fmt --all --check

step "Lint (clippy on every crate and target, warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Docs (rustdoc, warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "no_std: core for wasm32v1-none (a target without std)"
cargo build -p pennon-core --no-default-features --target wasm32v1-none --locked

step "Rust: unit, conformance, property, schema, benchmark-sanity and doc tests"
# pennon-wasm-host needs the built wasm modules: wasm/test.sh runs it.
cargo test --workspace --exclude pennon-wasm-host --locked

step "C binding"
bindings/c/test.sh

step "Python binding"
bindings/python/test.sh

step "Node addon"
bindings/node/test.sh

step "wasm (JS and raw ABI under wasmtime)"
wasm/test.sh

step "One JS contract: the same TypeScript program type-checks against pennon-node and pennon-wasm"
tests/typescript/check.sh

step "Differential test: every binding, byte-identical results"
tests/differential/run.sh

step "Main job smoke test"
out=$(cargo run --quiet --release -p pennon-core --example evaluate --locked)
grep -q "revision" <<<"$out" || { echo "the evaluator printed no results"; exit 1; }
if grep -q " ERROR " <<<"$out"; then echo "the example flags produced errors:"; echo "$out"; exit 1; fi
echo "example evaluation ok ($(grep -c '^  ' <<<"$out") rows)"
echo "all test suites passed in $((SECONDS - started)) s"
