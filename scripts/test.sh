#!/usr/bin/env bash
# Every test Pennon has. CI runs exactly this (.ci/run).
#   scripts/test.sh                 every part, in order
#   scripts/test.sh PART...         only those parts: rust c python node wasm typescript
#                                   differential peers server sdk rollouts dashboard smoke
#   PENNON_SKIP_SETUP=1             skip scripts/setup.sh (everything is installed already)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS

ALL=(rust c python node wasm typescript differential peers server sdk rollouts dashboard smoke)
parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=("${ALL[@]}")
for part in "${parts[@]}"; do
  [[ " ${ALL[*]} " == *" $part "* ]] || { echo "unknown part '$part' (parts: ${ALL[*]})" >&2; exit 2; }
done
wanted() { [[ " ${parts[*]} " == *" $1 "* ]]; }

# Where cargo puts binaries (tests of the server and SDKs run the built `pennon`).
target_dir="${CARGO_TARGET_DIR:-target}"
[[ "$target_dir" == /* ]] || target_dir="$PWD/$target_dir"

step() { printf '\n==> [%4ds] %s\n' "$((SECONDS - started))" "$*"; }

if [ "${PENNON_SKIP_SETUP:-0}" != 1 ]; then
  ./scripts/setup.sh
fi
export PENNON_SKIP_SETUP=1

if wanted rust; then
  step "Format"
  cargo fmt --all --check

  step "Lint (clippy on every crate and target, warnings denied)"
  cargo clippy --workspace --all-targets --locked -- -D warnings

  step "Docs (rustdoc, warnings denied)"
  RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

  step "no_std: core for wasm32v1-none (a target without std)"
  cargo build -p pennon-core --no-default-features --target wasm32v1-none --locked

  step "Rust: unit, conformance, property, schema, generated-file, benchmark-sanity and doc tests"
  # pennon-wasm-host needs the built wasm modules: wasm/test.sh runs it; pennon-server's
  # tests need PostgreSQL: the server part runs them; the Rust SDK's need a pennon
  # binary: the sdk part runs them.
  cargo test --workspace --exclude pennon-wasm-host --exclude pennon-server --exclude pennon --locked

  step "Judgement: the reference values regenerated with scipy / statsmodels and compared"
  tests/judgement/check.sh
fi

if wanted c; then
  step "C binding"
  bindings/c/test.sh
fi

if wanted python; then
  step "Python binding"
  bindings/python/test.sh
fi

if wanted node; then
  step "Node addon"
  bindings/node/test.sh
fi

if wanted wasm; then
  step "wasm (JS and raw ABI under wasmtime)"
  wasm/test.sh
fi

if wanted typescript; then
  step "One JS contract: the same TypeScript program type-checks against pennon-node and pennon-wasm"
  tests/typescript/check.sh
fi

if wanted differential; then
  step "Differential test: every binding, byte-identical results"
  tests/differential/run.sh
fi

if wanted peers; then
  step "Peer benchmarks: every engine's answers to W1-W4 checked (no timing)"
  benches/peers/run.sh --check
fi

if wanted server; then
  step "Server: pennon serve on SQLite and PostgreSQL (store, durability, distribution, CLI), OFREP from Node"
  # A throwaway PostgreSQL cluster for this part only, stopped however the part ends.
  trap 'scripts/postgres.sh stop || true' EXIT
  PENNON_TEST_POSTGRES_URL="$(scripts/postgres.sh start)"
  export PENNON_TEST_POSTGRES_URL
  cargo test -p pennon-server --locked --no-fail-fast
  step "OFREP: the OpenFeature server SDK with its OFREP provider against pennon serve"
  cargo build -p pennon-server --bin pennon --locked
  PENNON_BIN="$target_dir/debug/pennon" tests/ofrep/run.sh
  scripts/postgres.sh stop
  trap - EXIT
fi

if wanted sdk; then
  step "SDKs: the Rust client (unit, fault injection, against a real pennon serve, README examples)"
  cargo build -p pennon-server --bin pennon --locked
  # The language-neutral behaviour suite (tests/sdk) needs its harness; the Rust runner
  # (sdks/rust/tests/scenarios.rs) is one of pennon's tests, so it is built first.
  cargo build -p pennon-sdk-harness --bin pennon-sdk-harness --locked
  export PENNON_SDK_HARNESS="$target_dir/debug/pennon-sdk-harness"
  PENNON_BIN="$target_dir/debug/pennon" cargo test -p pennon --locked
  step "SDKs: the Rust crate as packaged (cargo package; its README examples in a scratch project)"
  sdks/rust/package.sh
  step "SDK behaviour suite: the harness, and every tests/sdk scenario valid against tests/sdk/scenario.schema.json"
  cargo test -p pennon-sdk-harness --locked
  step "SDKs: the TypeScript client (types, unit, tests/sdk scenarios, against a real pennon serve, README examples)"
  # The npm workspaces (bindings/node/setup.sh installs when package-lock.json changed).
  bindings/node/setup.sh
  # The addon (a no-op cargo check when it is current), PENNON_SDK_HARNESS from above.
  node bindings/node/scripts/build.mjs
  # The wasm build, for the web client and the npm pack test (the wasm part builds it
  # too; `scripts/test.sh sdk` alone needs it here): again when its sources are newer.
  if [ ! -e wasm/dist/nodejs/index.cjs ] ||
    [ -n "$(find wasm/src wasm/js wasm/regex/src core/src host/src -newer wasm/dist/nodejs/index.cjs -print -quit)" ]; then
    CARGO_TARGET_DIR="$target_dir" wasm/build.sh
  fi
  # The web client's bundle (dist/web.mjs, esbuild).
  node sdks/typescript/scripts/build.mjs
  node_modules/.bin/tsc -p sdks/typescript
  PENNON_BIN="$target_dir/debug/pennon" node --test --unhandled-rejections=strict sdks/typescript/test/
  step "SDKs: pennon/browser, its OpenFeature provider and the wasm build in headless Chromium"
  PENNON_BIN="$target_dir/debug/pennon" tests/browser/run.sh
  step "SDKs: the Python client (mypy --strict, unit, tests/sdk scenarios, fork, against a real pennon serve, OpenFeature, FastAPI, README, wheel packaging)"
  PENNON_BIN="$target_dir/debug/pennon" sdks/python/test.sh
  step "End to end: a change made with the CLI reaches a Node, a Python and a Rust client within 1 s"
  cargo build -p pennon --example watch --locked
  PENNON_BIN="$target_dir/debug/pennon" PENNON_WATCH_RUST="$target_dir/debug/examples/watch" tests/e2e/run.py
fi

if wanted rollouts; then
  step "Safe rollouts: the simulator, short (real pennon serve, Rust SDK clients; healthy canaries, regressions, rollback propagation, kill -9 and restart)"
  cargo build -p pennon-server -p pennon-rollouts --bin pennon --bin pennon-rollouts --locked
  "$target_dir/debug/pennon-rollouts" --quick
fi

if wanted dashboard; then
  step "Dashboard: type check, unit tests, and dist/ rebuilt and compared with the committed one"
  # Its own node_modules (not an npm workspace: the server embeds the built dist/).
  if [ ! -d server/dashboard/node_modules ] ||
    [ server/dashboard/package-lock.json -nt server/dashboard/node_modules/.package-lock.json ]; then
    (cd server/dashboard && npm ci --no-audit --no-fund)
  fi
  (cd server/dashboard && npm run --silent check && npm test && npm run --silent build)
  if [ -n "$(git status --porcelain -- server/dashboard/dist)" ]; then
    git status --short -- server/dashboard/dist
    echo "server/dashboard/dist differs from its sources: run 'npm run build' in server/dashboard and commit dist/" >&2
    exit 1
  fi
  step "Dashboard: every page in headless Chromium against a real pennon serve (approvals, kill, a simulated canary's rollback, axe, screenshots)"
  cargo build -p pennon-server -p pennon-rollouts --bin pennon --bin pennon-rollouts --locked
  PENNON_BIN="$target_dir/debug/pennon" PENNON_ROLLOUTS_BIN="$target_dir/debug/pennon-rollouts" tests/dashboard/run.sh
fi

if wanted smoke; then
  step "Main job smoke test"
  out=$(cargo run --quiet --release -p pennon-core --example evaluate --locked)
  grep -q "revision" <<<"$out" || { echo "the evaluator printed no results"; exit 1; }
  if grep -q " ERROR " <<<"$out"; then echo "the example flags produced errors:"; echo "$out"; exit 1; fi
  echo "example evaluation ok ($(grep -c '^  ' <<<"$out") rows)"
  step "Main job smoke test: the demo's server half (pennon serve and its dashboard, the example flags, the CLI, a simulated canary's rollback)"
  cargo build -p pennon-server -p pennon-rollouts --bin pennon --bin pennon-rollouts --locked
  demo_dir="$(mktemp -d)"
  demo_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  demo_ok=0
  PENNON_DEMO_DIR="$demo_dir" PENNON_PORT="$demo_port" scripts/demo-server.sh "$target_dir/debug/pennon" > "$demo_dir/out.txt" 2>&1 && demo_ok=1
  # The dashboard the demo prints the address of: the embedded build, not the placeholder.
  if [ "$demo_ok" = 1 ] && ! curl -fsS "http://127.0.0.1:$demo_port/" | grep -q 'src="assets/app-'; then
    echo "the demo's server does not serve the dashboard at /"; demo_ok=0
  fi
  [ -f "$demo_dir/pid" ] && kill "$(cat "$demo_dir/pid")" 2>/dev/null || true
  if [ "$demo_ok" != 1 ] || ! grep -q "^ok: .* entries" "$demo_dir/out.txt" || ! grep -q "kill search.new-ranker" "$demo_dir/out.txt" ||
    ! grep -q "^  Dashboard: " "$demo_dir/out.txt" || ! grep -q "^development payments.retry-v2: " "$demo_dir/out.txt"; then
    cat "$demo_dir/out.txt"; echo "the demo's server half failed"; exit 1
  fi
  echo "demo server ok: $(grep -c '^\$ pennon' "$demo_dir/out.txt") CLI commands against pennon serve"
  rm -rf "$demo_dir"
fi
echo "test parts passed (${parts[*]}) in $((SECONDS - started)) s"
