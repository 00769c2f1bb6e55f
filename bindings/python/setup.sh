#!/usr/bin/env bash
# Installs what the Python extension's build and tests need: a virtualenv at .venv (repo
# root) with maturin (from its prebuilt wheel), pytest and mypy, at pinned versions, plus
# any `name==version` pins given as arguments (sdks/python/test.sh adds the client's).
# Idempotent: an existing venv with the right versions is reused without touching the
# network.
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n==> %s\n' "$*"; }

VENV=.venv
PINS=(maturin==1.16.0 pytest==9.2.0 mypy==2.4.1 "$@")

step "Python venv ($VENV) with ${PINS[*]}"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else "Python >= 3.9 is required")'
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi
if "$VENV/bin/python" - "${PINS[@]}" <<'PY'
import sys
from importlib import metadata
for pin in sys.argv[1:]:
    name, version = pin.split("==")
    try:
        if metadata.version(name) != version:
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PY
then
  echo "reusing $VENV ($("$VENV/bin/python" --version), ${PINS[*]})"
else
  "$VENV/bin/python" -m pip install --quiet --only-binary maturin "${PINS[@]}"
  echo "installed ${PINS[*]} into $VENV"
fi
