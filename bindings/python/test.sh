#!/usr/bin/env bash
# Every check of the Python extension: lint, build the wheel, install it into .venv,
# check the type stubs against the built module, run pytest (conformance runner, engine,
# errors, threads, differential mode, README examples), then install the same wheel into
# a fresh venv and evaluate a flag there. Run from anywhere; CI runs it through
# scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

bindings/python/setup.sh
PY="$PWD/.venv/bin/python"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MYPY_CACHE_DIR="$WORK/mypy-cache"

step "Lint pennon-python (rustfmt, clippy with warnings denied)"
cargo fmt -p pennon-python --check
cargo clippy -p pennon-python --all-targets --locked -- -D warnings

step "Build the wheel (maturin build --release)"
"$PY" -m maturin build --release --locked --out "$WORK/dist"
WHEELS=("$WORK"/dist/pennon-*.whl)
[ "${#WHEELS[@]}" -eq 1 ] && [ -f "${WHEELS[0]}" ] || { echo "expected one wheel in $WORK/dist"; exit 1; }
WHEEL=${WHEELS[0]}
echo "built $(basename "$WHEEL")"

step "Install the wheel into .venv"
"$PY" -m pip install --quiet --force-reinstall --no-deps --no-index "$WHEEL"

step "Type stubs match the module (mypy.stubtest pennon._native)"
# From the scratch directory: stubtest keeps its cache in the working directory.
(cd "$WORK" && "$PY" -m mypy.stubtest pennon._native)

step "Type-check the tests and benchmarks against the stubs (mypy)"
"$PY" -m mypy --check-untyped-defs bindings/python/tests benches/python
# The binding's part of the package. Imports into the SDK modules are followed silently:
# those (and their dependencies h11, cryptography) are checked by sdks/python/test.sh.
"$PY" -m mypy --strict --follow-imports=silent sdks/python/pennon/_types.py sdks/python/pennon/_native.pyi

step "pytest bindings/python/tests"
set +e
"$PY" -m pytest bindings/python/tests -q
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here"
  exit 1
elif [ "$status" -ne 0 ]; then
  exit "$status"
fi

step "Packaging test: the wheel in a fresh venv"
python3 -m venv "$WORK/fresh"
"$WORK/fresh/bin/python" -m pip install --quiet --no-index --no-deps "$WHEEL"
cp bindings/python/tests/packaging_check.py "$WORK/check.py"
# From an empty directory, so that nothing of the source tree can be imported instead.
(cd "$WORK" && "$WORK/fresh/bin/python" check.py)
# The installed stubs work for a user's type checker (PEP 561: py.typed + _native.pyi).
(cd "$WORK" && "$PY" -m mypy --strict --no-incremental --python-executable "$WORK/fresh/bin/python" check.py)
