#!/usr/bin/env bash
# Regenerates the judgement reference values with scipy / statsmodels (generate.py) and
# compares them with the committed tests/judgement/reference.json, which core's Rust tests
# read (core/tests/judgement.rs, `reference`). Fails loudly when Python or the packages are
# missing. The venv is tests/judgement/.venv (or $PENNON_JUDGEMENT_VENV), created on first
# use from requirements.txt and rebuilt when that file changes.
#
#   tests/judgement/check.sh           compare
#   tests/judgement/check.sh --write   regenerate reference.json in place
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${PENNON_JUDGEMENT_VENV:-$HERE/.venv}

if ! command -v python3 >/dev/null; then
  echo "tests/judgement/check.sh: python3 is required (with venv and pip) to compute the reference values" >&2
  exit 1
fi
if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
  echo "creating $VENV from tests/judgement/requirements.txt"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

if [ "${1:-}" = "--write" ]; then
  "$VENV/bin/python" "$HERE/generate.py" "$HERE/reference.json"
  echo "wrote tests/judgement/reference.json"
  exit 0
fi
FRESH=$(mktemp)
trap 'rm -f "$FRESH"' EXIT
"$VENV/bin/python" "$HERE/generate.py" "$FRESH"
if cmp -s "$FRESH" "$HERE/reference.json"; then
  echo "tests/judgement/reference.json: identical to a fresh run of generate.py"
  exit 0
fi
diff -u "$HERE/reference.json" "$FRESH" | head -40 >&2 || true
echo "tests/judgement/reference.json differs from a fresh run of generate.py: run tests/judgement/check.sh --write, then cargo test -p pennon-core --test judgement" >&2
exit 1
