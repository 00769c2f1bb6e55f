"""The README's examples run: every ```python block of bindings/python/README.md, in
order, in one namespace (later blocks use names from earlier ones)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


def test_the_readme_has_examples():
    assert len(python_blocks()) >= 4


def test_the_readme_examples_run(capsys):
    namespace: dict = {"__name__": "readme"}
    for number, block in enumerate(python_blocks(), 1):
        exec(compile(block, f"{README.name} python block {number}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "TARGETING_MATCH" in printed
    assert "NaN is not a JSON number at /score" in printed
    assert "invalid_snapshot at /flags: `flags` must be an object" in printed
