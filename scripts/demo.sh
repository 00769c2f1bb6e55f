#!/usr/bin/env bash
# Pennon's main job, end to end on one machine:
#   1. set up (scripts/setup.sh) and evaluate the example flags for the sample users;
#   2. start the control plane (`pennon serve`, SQLite in .pennon/) with the example flags
#      imported into development and production;
#   3. use the `pennon` command line against it: list, canary, kill, history, audit.
# The server keeps running; the script prints its URL, the admin token, and how to stop it.
# Extra arguments go to the evaluator, e.g. --now 2026-11-28T10:00:00Z.
# PENNON_PORT picks the port (default 7070).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
printf '\n==> Evaluate the example flags (examples/flags.json × examples/contexts.json)\n'
cargo run --quiet --release -p pennon-core --example evaluate -- "$@"

printf '\n==> Build the pennon binary (server, dashboard and command line) and the rollout simulator\n'
cargo build --quiet --release --locked -p pennon-server -p pennon-rollouts --bin pennon --bin pennon-rollouts
scripts/demo-server.sh target/release/pennon
