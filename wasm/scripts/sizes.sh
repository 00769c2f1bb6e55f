#!/usr/bin/env bash
# Size report of the optimised wasm modules in wasm/dist. With --check, fails when a module
# is over budget: PENNON_WASM_BUDGET_RAW (default 250000 bytes) raw or
# PENNON_WASM_BUDGET_GZIP (default 100000 bytes) after gzip -9.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=dist
BUDGET_RAW=${PENNON_WASM_BUDGET_RAW:-250000}
BUDGET_GZIP=${PENNON_WASM_BUDGET_GZIP:-100000}
check=0
[[ "${1:-}" == "--check" ]] && check=1

over=()
row() { printf '%-30s %9s B raw %8s B gzip  %s\n' "$@"; }
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$@" | wc -c | tr -d ' '; }
module() {
  local label=$1 file=$2 raw gzipped
  raw=$(size "$file")
  gzipped=$(gz "$file")
  local note=""
  if ((raw > BUDGET_RAW || gzipped > BUDGET_GZIP)); then
    note="OVER BUDGET"
    over+=("$label")
  fi
  row "$label" "$raw" "$gzipped" "$note"
}

echo "budget per module: ${BUDGET_RAW} B raw, ${BUDGET_GZIP} B gzipped (1 KB = 1000 B)"
[[ -f $DIST/.cargo/pennon_wasm.wasm ]] && row "cargo output (bindgen)" "$(size $DIST/.cargo/pennon_wasm.wasm)" "$(gz $DIST/.cargo/pennon_wasm.wasm)" "before wasm-bindgen and wasm-opt"
[[ -f $DIST/.cargo/pennon_raw.wasm ]] && row "cargo output (raw)" "$(size $DIST/.cargo/pennon_raw.wasm)" "$(gz $DIST/.cargo/pennon_raw.wasm)" "before wasm-opt"
for target in web bundler nodejs; do
  module "$target/pennon_wasm_bg.wasm" "$DIST/$target/pennon_wasm_bg.wasm"
  mapfile -t js < <(find "$DIST/$target" -type f \( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' \) | sort)
  row "$target JS (glue + entries)" "$(cat "${js[@]}" | wc -c | tr -d ' ')" "$(cat "${js[@]}" | gzip -9 | wc -c | tr -d ' ')" ""
done
module "raw/pennon_raw.wasm" "$DIST/raw/pennon_raw.wasm"

if ((check && ${#over[@]} > 0)); then
  echo "over the size budget: ${over[*]} (see wasm/README.md, \"Sizes\")" >&2
  exit 1
fi
