#!/usr/bin/env bash
# Builds every wasm artefact of Pennon into wasm/dist/:
#   dist/web, dist/bundler, dist/nodejs  wasm-bindgen outputs (+ the package's JS entries),
#                                        optimised with wasm-opt -Oz (npm binaryen@132)
#   dist/raw/pennon_raw.wasm            the raw ABI module (imports only `pennon_regex`), optimised too
#   dist/*/pennon_regex.wasm            the regex module (wasm/regex), next to each main module
# and prints the size report (scripts/sizes.sh; test.sh checks the budget). Needs what
# ./setup.sh installs. Idempotent; cargo reuses its cache.
set -euo pipefail
cd "$(dirname "$0")"
WASM_DIR=$(pwd)
ROOT=$(cd .. && pwd)
DIST="$WASM_DIR/dist"

step() { printf '\n==> %s\n' "$*"; }

# A profile of its own, defined here because the root Cargo.toml is shared: size-optimised,
# fat LTO, and panic=abort (wasm32-unknown-unknown cannot unwind). Not stripped: wasm-bindgen
# needs the target_features section; wasm-opt strips afterwards.
PROFILE=wasm-release
CARGO_WASM=(
  --target wasm32-unknown-unknown --locked --profile "$PROFILE"
  --config "profile.$PROFILE.inherits=\"release\""
  --config "profile.$PROFILE.opt-level=\"s\""
  --config "profile.$PROFILE.lto=\"fat\""
  --config "profile.$PROFILE.codegen-units=1"
  --config "profile.$PROFILE.panic=\"abort\""
)

metadata=$(cd "$ROOT" && cargo metadata --format-version 1 --locked)
TARGET_DIR=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)' <<<"$metadata")
WANT_BINDGEN=$(node -e '
  const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const p = m.packages.find((p) => p.name === "wasm-bindgen");
  if (!p) { console.error("wasm-bindgen is not in the dependency graph"); process.exit(1); }
  console.log(p.version);' <<<"$metadata")
HAVE_BINDGEN=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$HAVE_BINDGEN" != "$WANT_BINDGEN" ]]; then
  echo "wasm-bindgen CLI ${HAVE_BINDGEN:-missing}, but the crate uses $WANT_BINDGEN: run wasm/setup.sh" >&2
  exit 1
fi
WASM_OPT="$ROOT/node_modules/.bin/wasm-opt"
[[ -x "$WASM_OPT" ]] || { echo "wasm-opt (npm binaryen) missing: run wasm/setup.sh" >&2; exit 1; }
BUILT="$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/pennon_wasm.wasm"
mkdir -p "$DIST/raw" "$DIST/.cargo"

step "Build the wasm-bindgen module (cargo, profile $PROFILE)"
(cd "$ROOT" && cargo build -p pennon-wasm "${CARGO_WASM[@]}")
cp "$BUILT" "$DIST/.cargo/pennon_wasm.wasm"

step "Build the raw ABI module (--no-default-features)"
(cd "$ROOT" && cargo build -p pennon-wasm --no-default-features "${CARGO_WASM[@]}")
cp "$BUILT" "$DIST/.cargo/pennon_raw.wasm"

# Built on its own: a build together with pennon-wasm would unify core's features.
step "Build the regex module (wasm/regex)"
(cd "$ROOT" && cargo build -p pennon-wasm-regex "${CARGO_WASM[@]}")
cp "$TARGET_DIR/wasm32-unknown-unknown/$PROFILE/pennon_wasm_regex.wasm" "$DIST/.cargo/pennon_regex.wasm"

# wasm-opt reads the features the module uses from its target_features section and
# drops the section (and the names and producers sections) from its output.
optimise() { "$WASM_OPT" -Oz --strip-debug --strip-producers --strip-target-features "$1" -o "$1.opt" && mv "$1.opt" "$1"; }

step "Optimise the raw and regex modules (wasm-opt -Oz, binaryen $("$WASM_OPT" --version | awk '{print $3}'))"
cp "$DIST/.cargo/pennon_raw.wasm" "$DIST/raw/pennon_raw.wasm"
optimise "$DIST/raw/pennon_raw.wasm"
cp "$DIST/.cargo/pennon_regex.wasm" "$DIST/raw/pennon_regex.wasm"
optimise "$DIST/raw/pennon_regex.wasm"
node -e '
  const { readFileSync } = require("fs");
  const [raw, regex] = process.argv.slice(1).map((f) => new WebAssembly.Module(readFileSync(f)));
  const imports = WebAssembly.Module.imports(raw).map((i) => `${i.module}.${i.name}`).sort().join(" ");
  const want = "pennon_regex.pennon_regex_compile pennon_regex.pennon_regex_error pennon_regex.pennon_regex_free pennon_regex.pennon_regex_is_match";
  if (imports !== want) { console.error(`the raw module must import exactly ${want}, it imports ${imports}`); process.exit(1); }
  if (WebAssembly.Module.imports(regex).length) { console.error("the regex module must import nothing"); process.exit(1); }
  console.log("raw module: imports", imports);
  console.log("raw module: exports", WebAssembly.Module.exports(raw).map((e) => e.name).join(" "));
  console.log("regex module: no imports, exports", WebAssembly.Module.exports(regex).map((e) => e.name).join(" "));' \
  "$DIST/raw/pennon_raw.wasm" "$DIST/raw/pennon_regex.wasm"

# common.js of each entry: the generated error module (js/errors.mjs, shared with every
# Pennon JS package), then js/common.mjs without its imports of it.
bundle_common() {
  { cat js/errors.mjs; grep -v "from './errors.mjs';$" js/common.mjs; } >"$1"
}

for target in web bundler nodejs; do
  step "wasm-bindgen $WANT_BINDGEN --target $target, then wasm-opt -Oz"
  out="$DIST/$target"
  rm -rf "$out"
  wasm-bindgen --target "$target" --out-dir "$out" --out-name pennon_wasm "$DIST/.cargo/pennon_wasm.wasm"
  optimise "$out/pennon_wasm_bg.wasm"
  cp "$DIST/raw/pennon_regex.wasm" "$out/pennon_regex.wasm"
  cp js/index.d.ts "$out/index.d.ts"
  cp js/contract.d.ts "$out/contract.d.ts"
  case "$target" in
    web) bundle_common "$out/common.js"; cp js/web.mjs "$out/index.js" ;;
    bundler) bundle_common "$out/common.js"; cp js/bundler.mjs "$out/index.js" ;;
    nodejs)
      # The glue is CommonJS; its snippets (inline_js) are ES modules, loaded with
      # require(esm) (Node >= 20.19).
      echo '{ "type": "commonjs" }' >"$out/package.json"
      for snippets in "$out"/snippets/*/; do echo '{ "type": "module" }' >"$snippets/package.json"; done
      bundle_common "$out/common.mjs"
      node scripts/esm-to-cjs.mjs "$out/common.mjs" "$out/common.cjs"
      rm "$out/common.mjs"
      cp js/nodejs.cjs "$out/index.cjs"
      cp js/nodejs.mjs "$out/index.mjs"
      ;;
  esac
done

step "Sizes"
scripts/sizes.sh
