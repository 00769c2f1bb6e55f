#!/usr/bin/env bash
# Size report of the optimised wasm modules in wasm/dist against the issue's budgets (after
# wasm-opt; gzip -9): main modules PENNON_WASM_BUDGET_RAW (default 250000 B) raw and
# PENNON_WASM_BUDGET_GZIP (default 100000 B) gzipped, the regex module
# PENNON_REGEX_BUDGET_GZIP (default 100000 B) gzipped; the budgets are reported on every
# run. With --check, fails when a module grows past its regression ceiling (the measured
# size of 2026-12-06 plus about 3 %: wasm/README.md, "Sizes"), so that nothing makes the
# modules bigger while the budgets are still out of reach; PENNON_WASM_BUDGET_ENFORCE=1
# also fails on a missed budget.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=dist
BUDGET_RAW=${PENNON_WASM_BUDGET_RAW:-250000}
BUDGET_GZIP=${PENNON_WASM_BUDGET_GZIP:-100000}
REGEX_BUDGET_GZIP=${PENNON_REGEX_BUDGET_GZIP:-100000}
ENFORCE=${PENNON_WASM_BUDGET_ENFORCE:-0}
# Regression ceilings (raw / gzip) of the main modules, the raw module and the regex module.
CEILING_MAIN=(387000 168000)
CEILING_RAW_ABI=(365400 152600)
CEILING_REGEX=(272000 111500)
check=0
[[ "${1:-}" == "--check" ]] && check=1

over=()
grown=()
row() { printf '%-30s %9s B raw %8s B gzip  %s\n' "$@"; }
size() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$@" | wc -c | tr -d ' '; }
# module LABEL FILE MAX_RAW MAX_GZIP CEILING_RAW CEILING_GZIP (MAX_RAW 0: no raw budget)
module() {
  local label=$1 file=$2 max_raw=$3 max_gzip=$4 ceiling_raw=$5 ceiling_gzip=$6 raw gzipped
  raw=$(size "$file")
  gzipped=$(gz "$file")
  local note="within budget" limits="${max_gzip} B gzip"
  ((max_raw > 0)) && limits="${max_raw} B raw / $limits"
  if (((max_raw > 0 && raw > max_raw) || gzipped > max_gzip)); then
    note="OVER BUDGET ($limits)"
    over+=("$label")
  fi
  if ((raw > ceiling_raw || gzipped > ceiling_gzip)); then
    note="$note; GREW PAST ITS CEILING (${ceiling_raw} B raw / ${ceiling_gzip} B gzip)"
    grown+=("$label")
  fi
  row "$label" "$raw" "$gzipped" "$note"
}

echo "budgets: main modules ${BUDGET_RAW} B raw / ${BUDGET_GZIP} B gzip, regex module ${REGEX_BUDGET_GZIP} B gzip (1 KB = 1000 B)"
[[ -f $DIST/.cargo/pennon_wasm.wasm ]] && row "cargo output (bindgen)" "$(size $DIST/.cargo/pennon_wasm.wasm)" "$(gz $DIST/.cargo/pennon_wasm.wasm)" "before wasm-bindgen and wasm-opt"
[[ -f $DIST/.cargo/pennon_raw.wasm ]] && row "cargo output (raw)" "$(size $DIST/.cargo/pennon_raw.wasm)" "$(gz $DIST/.cargo/pennon_raw.wasm)" "before wasm-opt"
for target in web bundler nodejs; do
  module "$target/pennon_wasm_bg.wasm" "$DIST/$target/pennon_wasm_bg.wasm" "$BUDGET_RAW" "$BUDGET_GZIP" "${CEILING_MAIN[@]}"
  mapfile -t js < <(find "$DIST/$target" -type f \( -name '*.js' -o -name '*.cjs' -o -name '*.mjs' \) | sort)
  row "$target JS (glue + entries)" "$(cat "${js[@]}" | wc -c | tr -d ' ')" "$(cat "${js[@]}" | gzip -9 | wc -c | tr -d ' ')" ""
done
module "raw/pennon_raw.wasm" "$DIST/raw/pennon_raw.wasm" "$BUDGET_RAW" "$BUDGET_GZIP" "${CEILING_RAW_ABI[@]}"
module "pennon_regex.wasm (every build)" "$DIST/raw/pennon_regex.wasm" 0 "$REGEX_BUDGET_GZIP" "${CEILING_REGEX[@]}"

if ((${#over[@]} > 0)); then
  echo "SIZE BUDGET NOT MET (reported; see wasm/README.md, \"Sizes\"): ${over[*]}" >&2
  if ((check && ENFORCE)); then exit 1; fi
fi
if ((${#grown[@]} > 0)); then
  echo "SIZE REGRESSION: ${grown[*]} grew past the ceiling" >&2
  if ((check)); then exit 1; fi
fi
if ((check)); then
  echo "sizes: every module within its regression ceiling"
fi
