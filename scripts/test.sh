#!/usr/bin/env bash
# Every test Pennon has. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

./scripts/setup.sh

step "Format"
cargo fmt --all --check

step "Lint (clippy, warnings denied)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Docs (rustdoc, warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "no_std: core for wasm32v1-none (a target without std)"
cargo build -p pennon-core --no-default-features --target wasm32v1-none --locked

step "Unit, conformance, property, schema and doc tests"
cargo test --workspace --locked

step "Main job smoke test"
out=$(cargo run --quiet -p pennon-core --example evaluate --locked)
grep -q "revision" <<<"$out" || { echo "the evaluator printed no results"; exit 1; }
if grep -q " ERROR " <<<"$out"; then echo "the example flags produced errors:"; echo "$out"; exit 1; fi
echo "example evaluation ok ($(grep -c '^  ' <<<"$out") rows)"
