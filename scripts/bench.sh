#!/usr/bin/env bash
# Every benchmark of Pennon in one command: the core (criterion: static, targeting, split,
# all 1,000 flags, loading 10,000 flags; memory of a loaded snapshot), then the per-call
# cost of each binding on the shared fixtures (benches/fixtures): the Node addon, wasm in
# Node, Python and C, the control plane (pennon serve), and the rollout simulator
# (benches/rollouts). Release builds are made first. Needs what
# ./scripts/setup.sh installs.
#
#   scripts/bench.sh           full runs (about 12 minutes on a 2-core machine)
#   scripts/bench.sh --quick   shorter rounds (about 5 minutes)
#
# Pennon side by side with the peers' SDKs (flagd, GrowthBook, Unleash, Flipt): benches/peers/run.sh.
# What each figure means, and the figures measured so far: benches/README.md and the
# README beside each harness.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=()
criterion=(--warm-up-time 2 --measurement-time 5)
if [[ "${1:-}" == "--quick" ]]; then
  quick=(--quick)
  criterion=(--warm-up-time 1 --measurement-time 2)
fi

step() { printf '\n==> %s\n' "$*"; }

echo "$(uname -m), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

step "core: evaluation and load (cargo bench -p pennon-benches)"
cargo bench --locked -p pennon-benches --bench evaluate -- "${criterion[@]}"
cargo bench --locked -p pennon-benches --bench load -- "${criterion[@]}"
cargo run --locked --quiet --release -p pennon-benches --bin load_memory

step "Node addon (benches/node/bench.mjs)"
node bindings/node/scripts/build.mjs >/dev/null
node benches/node/bench.mjs "${quick[@]}"

step "wasm in Node (benches/wasm/run.sh)"
bash benches/wasm/run.sh "${quick[@]}"

step "Python (benches/python/bench.py)"
.venv/bin/python -m maturin develop --release --locked --quiet
.venv/bin/python benches/python/bench.py "${quick[@]}"

step "C ABI (benches/c/run.sh)"
bash benches/c/run.sh "${quick[@]}"

step "pennon serve: conditional GETs, SSE fan-out, write latency, memory (benches/server/run.sh)"
if [[ ${#quick[@]} -gt 0 ]]; then bash benches/server/run.sh --quick; else bash benches/server/run.sh; fi

step "Safe rollouts: the simulator, full (benches/rollouts, figures in benches/rollouts/RESULTS.md)"
cargo build --locked --quiet --release -p pennon-server -p pennon-rollouts --bin pennon --bin pennon-rollouts
target_dir="${CARGO_TARGET_DIR:-target}"
if [[ ${#quick[@]} -gt 0 ]]; then "$target_dir/release/pennon-rollouts" --quick; else "$target_dir/release/pennon-rollouts"; fi
