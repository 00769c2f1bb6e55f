#!/usr/bin/env bash
# Installs what the wasm build and tests need: the wasm32-unknown-unknown target, the
# wasm-bindgen CLI at exactly the version of the wasm-bindgen crate in Cargo.lock, and the
# npm packages of the workspace (binaryen@132 for wasm-opt). Idempotent: everything already
# present at the right version is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Rust target wasm32-unknown-unknown"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "installed"
else
  rustup target add wasm32-unknown-unknown
fi

step "wasm-bindgen CLI (the version of the wasm-bindgen crate)"
want=$(cargo metadata --format-version 1 --locked | node -e '
  const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const p = m.packages.find((p) => p.name === "wasm-bindgen");
  if (!p) { console.error("wasm-bindgen is not in the dependency graph"); process.exit(1); }
  console.log(p.version);')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [[ "$have" == "$want" ]]; then
  echo "wasm-bindgen $have already installed"
else
  echo "wasm-bindgen ${have:-missing}, need $want: cargo install (about 2 minutes)"
  cargo install wasm-bindgen-cli --version "$want" --locked ||
    cargo install wasm-bindgen-cli --version "$want"
  wasm-bindgen --version
fi

step "npm packages (binaryen for wasm-opt)"
if [[ -x node_modules/.bin/wasm-opt ]] && node_modules/.bin/wasm-opt --version | grep -q 'version 132'; then
  echo "wasm-opt $(node_modules/.bin/wasm-opt --version | awk '{print $3}') already installed"
else
  # Another binding's script may be running npm in this workspace: wait for it.
  while pgrep -f "npm (install|ci)" >/dev/null; do echo "waiting for another npm install…"; sleep 5; done
  npm install --no-audit --no-fund
  node_modules/.bin/wasm-opt --version
fi
