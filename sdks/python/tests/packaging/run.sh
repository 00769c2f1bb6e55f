#!/usr/bin/env bash
# Packaging test of the Python SDK: build the wheel once (maturin, as
# bindings/python/test.sh does), install it with its extras into a fresh venv, and from
# an empty directory run the README's examples (against a real `pennon serve`) and the
# pytest plugin's tests (its `pytest11` entry point); then type-check the examples with
# mypy --strict against the installed package (PEP 561).
#
#   PENNON_BIN=target/debug/pennon sdks/python/tests/packaging/run.sh [WHEEL]
#
# WHEEL: an already built wheel to test instead of building one. Needs the repo's .venv
# (bindings/python/setup.sh: maturin, mypy) and PyPI for the extras' dependencies.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
ROOT=$PWD
PY="$ROOT/.venv/bin/python"
step() { printf '\n==> %s\n' "$*"; }

[ -x "$PY" ] || { echo "no $PY: run bindings/python/setup.sh first" >&2; exit 1; }
[ -n "${PENNON_BIN:-}" ] || { echo "PENNON_BIN must name the pennon binary (cargo build -p pennon-server --bin pennon)" >&2; exit 1; }
[ -x "$PENNON_BIN" ] || { echo "PENNON_BIN=$PENNON_BIN is not an executable" >&2; exit 1; }
PENNON_BIN=$(cd "$(dirname "$PENNON_BIN")" && pwd)/$(basename "$PENNON_BIN")
export PENNON_BIN

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MYPY_CACHE_DIR="$WORK/mypy-cache"

if [ "$#" -ge 1 ]; then
  WHEEL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
  step "Build the wheel (maturin build --release)"
  "$PY" -m maturin build --release --locked --out "$WORK/dist"
  WHEELS=("$WORK"/dist/pennon-*.whl)
  [ "${#WHEELS[@]}" -eq 1 ] && [ -f "${WHEELS[0]}" ] || { echo "expected one wheel in $WORK/dist" >&2; exit 1; }
  WHEEL=${WHEELS[0]}
fi
echo "wheel: $(basename "$WHEEL")"

step "A fresh venv with pennon[openfeature,fastapi,signatures] and the test tools"
python3 -m venv "$WORK/fresh"
FRESH="$WORK/fresh/bin/python"
"$FRESH" -m pip install --quiet "${WHEEL}[openfeature,fastapi,signatures]" \
  -r sdks/python/requirements-dev.txt "pytest==$("$PY" -c 'import pytest; print(pytest.__version__)')"

step "The README's examples and the pytest plugin, from an empty directory"
mkdir "$WORK/empty"
cp sdks/python/tests/{test_readme.py,test_testing.py,flagset.py} sdks/python/README.md "$WORK/empty/"
cd "$WORK/empty"
# The package imported is the installed one, not the source tree's.
"$FRESH" -c 'import pennon, sys; sys.exit(0 if "/fresh/" in pennon.__file__ else f"pennon came from {pennon.__file__}")'
export PENNON_README="$WORK/empty/README.md"
"$FRESH" -m pytest -q -p no:cacheprovider test_readme.py test_testing.py

step "mypy --strict on the README's examples against the installed package"
"$FRESH" test_readme.py "$WORK/readme_examples.py"
"$PY" -m mypy --strict --no-incremental --python-executable "$FRESH" "$WORK/readme_examples.py"
cd "$ROOT"
echo "packaging test passed"
