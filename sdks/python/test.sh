#!/usr/bin/env bash
# Every check of the Python client (pip `pennon`): the venv with the client's pinned
# dependencies, the wheel (SDK + pennon._native) built once and installed into .venv,
# mypy --strict over the package, and pytest sdks/python/tests — units, client, the SDK
# scenario suite against pennon-sdk-harness, end-to-end against a real `pennon serve`.
# Run from anywhere. Builds the two binaries unless PENNON_SDK_HARNESS / PENNON_BIN name
# them (with CARGO_TARGET_DIR, default target/).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

# The client's runtime dependencies (pyproject.toml) and the `signatures` extra, pinned,
# and what the integration tests need (requirements-dev.txt: OpenFeature, FastAPI).
mapfile -t DEV_PINS < <(grep -v '^#' sdks/python/requirements-dev.txt | grep .)
bindings/python/setup.sh h11==0.16.0 cryptography==51.0.1 "${DEV_PINS[@]}"
PY="$PWD/.venv/bin/python"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MYPY_CACHE_DIR="$WORK/mypy-cache"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"

step "Build the wheel once (maturin build --release) and install it into .venv"
"$PY" -m maturin build --release --locked --out "$WORK/dist"
WHEELS=("$WORK"/dist/pennon-*.whl)
[ "${#WHEELS[@]}" -eq 1 ] && [ -f "${WHEELS[0]}" ] || { echo "expected one wheel in $WORK/dist"; exit 1; }
"$PY" -m pip install --quiet --force-reinstall --no-deps --no-index "${WHEELS[0]}"

step "Type-check the package (mypy --strict), the tests and the client benchmark"
"$PY" -m mypy --strict sdks/python/pennon
"$PY" -m mypy --check-untyped-defs sdks/python/tests benches/python/client.py

step "The SDK scenario harness and the server"
if [ -z "${PENNON_SDK_HARNESS:-}" ]; then
  cargo build --locked -p pennon-sdk-harness --bin pennon-sdk-harness
  export PENNON_SDK_HARNESS="$TARGET/debug/pennon-sdk-harness"
fi
if [ -z "${PENNON_BIN:-}" ]; then
  cargo build --locked -p pennon-server --bin pennon
  export PENNON_BIN="$TARGET/debug/pennon"
fi

step "pytest sdks/python/tests"
set +e
# From the scratch directory: the installed wheel is imported, never the source tree.
(cd "$WORK" && "$PY" -m pytest -p no:cacheprovider --rootdir "$OLDPWD/sdks/python/tests" "$OLDPWD/sdks/python/tests" -q)
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here"
  exit 1
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi

step "Packaging test: the wheel with its extras in a fresh venv, the README from an empty directory"
sdks/python/tests/packaging/run.sh "${WHEELS[0]}"
