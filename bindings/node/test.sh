#!/usr/bin/env bash
# Builds and tests the Node addon (bindings/node): release build with the index.d.ts
# staleness check, lints, the node:test suites (conformance, API, threads, differential
# runner, README example), the conformance suite again through napi-rs's own method glue,
# a differential run against the Rust reference, and the packaging test.
# Idempotent and safe on a clean clone (it runs setup.sh when npm packages are missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

step() { printf '\n==> [bindings/node] %s\n' "$*"; }

step "npm packages"
"$here/setup.sh"

step "release build of the addon; index.d.ts must be current"
node "$here/scripts/build.mjs" --check

step "rustfmt and clippy (pennon-node)"
rustfmt --edition 2024 --check "$here"/src/*.rs "$here"/build.rs
cargo clippy --quiet -p pennon-node --all-targets -- -D warnings

step "node:test: conformance, changed flags, counters, outcomes, engine API, worker threads, differential runner, README example"
node --test \
  "$here/test/conformance.test.mjs" \
  "$here/test/changes.test.mjs" \
  "$here/test/counters.test.mjs" \
  "$here/test/outcomes.test.mjs" \
  "$here/test/arguments.test.mjs" \
  "$here/test/engine.test.mjs" \
  "$here/test/threads.test.mjs" \
  "$here/test/differential.test.mjs" \
  "$here/test/readme.test.mjs"

step "node:test: conformance and engine API with the fast paths off (napi-rs methods, whole contexts)"
PENNON_NODE_NO_FAST_PATHS=1 node --test "$here/test/conformance.test.mjs" "$here/test/arguments.test.mjs" \
  "$here/test/engine.test.mjs" "$here/test/counters.test.mjs" "$here/test/outcomes.test.mjs"

step "differential run against the Rust reference (byte-identical canonical results)"
out="$root/target/node-differential"
rm -rf "$out" && mkdir -p "$out"
python3 tests/differential/generate.py "$out" --count 5000
cargo run --quiet --release -p pennon-host --example differential -- "$out/requests.jsonl" "$out/rust.jsonl"
node "$here/test/differential.mjs" "$out/requests.jsonl" "$out/node.jsonl"
if cmp "$out/rust.jsonl" "$out/node.jsonl"; then
  echo "differential: 1 passed, 0 failed ($(wc -l <"$out/node.jsonl") results byte-identical)"
else
  echo "differential: 0 passed, 1 failed (first difference above; files in $out)"
  exit 1
fi

step "packaging: npm pack, install into a scratch project, require / import / TypeScript"
node --test "$here/test/packaging.test.mjs"

step "bindings/node: all tests passed"
