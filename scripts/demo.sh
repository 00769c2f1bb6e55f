#!/usr/bin/env bash
# Pennon's main job: set up, then evaluate the example flags (examples/flags.json) for
# the sample users (examples/contexts.json) and print the results.
# Extra arguments go to the evaluator, e.g. --now 2026-11-28T10:00:00Z.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
printf '\n==> Evaluate the example flags\n'
cargo run --quiet --release -p pennon-core --example evaluate -- "$@"
