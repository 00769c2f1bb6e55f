#!/usr/bin/env bash
# The differential test: ≥10,000 generated (flag, context, now) requests over the example
# and conformance snapshots, evaluated by every binding; all outputs — results, and the
# error objects of requests whose arguments every binding must refuse — must be
# byte-identical to the Rust reference. Expects the bindings to be built (scripts/test.sh builds them first).
#
# usage: tests/differential/run.sh [--count N] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=target/differential
rm -rf "$out" && mkdir -p "$out"
python3 tests/differential/generate.py "$out" "$@"
requests="$out/requests.jsonl"
python=.venv/bin/python

declare -A runners=(
  [rust]="cargo run --quiet --release -p pennon-host --example differential -- $requests $out/rust.jsonl"
  [wasm-js]="node wasm/test/differential.mjs $requests $out/wasm-js.jsonl"
  [wasm-raw]="cargo run --quiet -p pennon-wasm-host --bin pennon-wasm-differential -- $requests $out/wasm-raw.jsonl"
  [node]="node bindings/node/test/differential.mjs $requests $out/node.jsonl"
  [python]="$python bindings/python/tests/differential.py $requests $out/python.jsonl"
  [c]="bindings/c/target/conformance_runner --differential $requests $out/c.jsonl"
)
order=(rust wasm-js wasm-raw node python c)

lines=$(wc -l <"$requests")
passed=0 failed=0
for name in "${order[@]}"; do
  echo "--> $name"
  eval "${runners[$name]}"
done
for name in "${order[@]:1}"; do
  if cmp -s "$out/rust.jsonl" "$out/$name.jsonl"; then
    echo "ok: $name produced $lines results byte-identical to rust"
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "MISMATCH: $name differs from rust; first differing requests:"
    python3 - "$requests" "$out/rust.jsonl" "$out/$name.jsonl" <<'PY'
import sys
requests, expected, actual = (open(p, encoding="utf-8").read().splitlines() for p in sys.argv[1:])
if len(expected) != len(actual):
    print(f"  line counts differ: rust {len(expected)}, binding {len(actual)}")
shown = 0
for i, (want, got) in enumerate(zip(expected, actual)):
    if want != got and shown < 5:
        shown += 1
        print(f"  line {i + 1}: request {requests[i]}\n    rust:    {want}\n    binding: {got}")
PY
  fi
done
echo "differential: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
