#!/usr/bin/env bash
# Builds wasm/dist (wasm/build.sh) and a `bench-conversions` variant of the nodejs build,
# then runs the per-call benchmark: bash benches/wasm/run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
wasm/build.sh >/dev/null
PROFILE=wasm-release
cargo build -p pennon-wasm --features bench-conversions --target wasm32-unknown-unknown --locked --profile "$PROFILE" \
  --config "profile.$PROFILE.inherits=\"release\"" --config "profile.$PROFILE.opt-level=\"s\"" \
  --config "profile.$PROFILE.lto=\"fat\"" --config "profile.$PROFILE.codegen-units=1" \
  --config "profile.$PROFILE.panic=\"abort\"" --quiet
target_dir=$(cargo metadata --format-version 1 --locked --no-deps | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).target_directory)')
rm -rf benches/wasm/.build
wasm-bindgen --target nodejs --out-dir benches/wasm/.build/nodejs "$target_dir/wasm32-unknown-unknown/$PROFILE/pennon_wasm.wasm"
node_modules/.bin/wasm-opt -Oz benches/wasm/.build/nodejs/pennon_wasm_bg.wasm -o benches/wasm/.build/nodejs/pennon_wasm_bg.wasm
node benches/wasm/bench.mjs "$@"
