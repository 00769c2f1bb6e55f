"""tests/conformance/changes.json through the Python binding: Engine.changed_flags gives
core's keys (Snapshot::changed_flags) for every case, both ways round."""

import json
from pathlib import Path

import pytest

from pennon import Engine

CASES = json.loads((Path(__file__).parents[3] / "tests" / "conformance" / "changes.json").read_text())


def test_the_case_file_is_there() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_changed_flags_match_core(case: dict) -> None:
    before, after = Engine(case["before"]), Engine(case["after"])
    assert after.changed_flags(before) == case["changed"]
    assert before.changed_flags(after) == case["changed"]
    assert after.changed_flags(Engine(case["after"])) == []


def test_an_engine_without_a_snapshot_counts_as_empty() -> None:
    after = CASES[0]["after"]
    loaded = Engine(after)
    keys = sorted(after["flags"])
    assert loaded.changed_flags(Engine()) == keys
    assert Engine().changed_flags(loaded) == keys
    assert Engine().changed_flags(Engine()) == []
    with pytest.raises(TypeError):
        loaded.changed_flags({})  # type: ignore[arg-type]
