#!/usr/bin/env bash
# Builds libpennon (release) and the C benchmark harness, then measures the per-call cost
# of the C ABI. Figures and how to read them: benches/c/README.md.
#
# usage: benches/c/run.sh [--quick]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cargo build -p pennon-c --release --locked --quiet
lib="${CARGO_TARGET_DIR:-$root/target}/release"
mkdir -p "$root/target/c-bench"
gcc -std=c11 -O2 -Wall -Wextra -Werror -I bindings/c/include benches/c/bench.c "$lib/libpennon.a" \
  -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o "$root/target/c-bench/bench"
echo "$(uname -m), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$root/target/c-bench/bench" "$@" benches/fixtures/bindings.json
