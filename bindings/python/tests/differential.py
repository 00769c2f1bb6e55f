"""Differential mode of the Python runner (docs/bindings.md, "Differential mode").

    python bindings/python/tests/differential.py IN.jsonl OUT.jsonl

Each input line is ``{"snapshot": "<path relative to the repo root>", "flag": ...,
"context": {...}, "type": "boolean|string|number|object|any", "default": <json>,
"now": <ms>}``; each output line is the canonical JSON of the result dict the engine
returned, serialised from the Python objects received (``canonical.py``), so that the
conversion code of this binding is what gets compared with the other bindings. A request
whose arguments the binding refuses gives the error object it raised,
``{"error": {"code", "message", "path"}}``, after a check that its class is the one its
code maps to.

Snapshots are loaded once per path. A snapshot that fails to load leaves its engine
empty: its lines get the ``PROVIDER_NOT_READY`` result (and a note on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator

import pennon
from pennon import Engine, PennonError, SnapshotError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from canonical import canonical  # noqa: E402

REPO = Path(__file__).resolve().parents[3]


def results(lines: Iterable[str], repo: Path = REPO) -> Iterator[str]:
    """The canonical result line for every request line (blank lines are skipped)."""
    engines: Dict[str, Engine] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        request = json.loads(line)
        path = request["snapshot"]
        engine = engines.get(path)
        if engine is None:
            engine = Engine()
            try:
                engine.load((repo / path).read_text(encoding="utf-8"))
            except SnapshotError as error:
                print(f"line {number}: snapshot {path} does not load: {error}", file=sys.stderr)
            engines[path] = engine
        outcome: Any
        try:
            outcome = engine.evaluate(
                request["flag"],
                request.get("context", {}),
                type=request.get("type"),
                default=request.get("default"),
                now=request.get("now"),
            )
        except PennonError as error:
            if type(error) is not pennon.error_codes()[error.code]:
                raise AssertionError(f"{error.code} was raised as {type(error).__name__}") from error
            outcome = {"error": {"code": error.code, "message": str(error), "path": error.path}}
        yield canonical(outcome)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    source, target = Path(argv[1]), Path(argv[2])
    count = 0
    with source.open(encoding="utf-8") as lines, target.open("w", encoding="utf-8", newline="\n") as out:
        for text in results(lines):
            out.write(text + "\n")
            count += 1
    print(f"differential: {count} results written to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
