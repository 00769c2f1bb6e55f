"""The Python runner of the conformance suite (tests/conformance/README.md).

One pytest item per case file for the load expectations (error or warnings, checked for
the snapshot given as text, as bytes and as a parsed object) and one item per case for the
evaluation, so the count shows in pytest's summary. Each case is evaluated on the engine
that loaded the parsed object and compared with the expectation; the same case is also
evaluated on the engine that loaded the text (same dict expected) and through core's JSON
interface (``Engine._evaluate_canonical``), which must give the same canonical bytes as
the Python objects received.

The binding does not expose bucketing, so ``bucketing.json`` is covered by the Rust runner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

import pytest

from canonical import canonical
from pennon import Engine, SnapshotError

SUITE = Path(__file__).resolve().parents[3] / "tests" / "conformance"
CASE_FILES = sorted((SUITE / "cases").glob("*.json"))
COMPARED = ("value", "variant", "reason", "ruleId", "stage", "shadowVariant", "errorCode")
RESULT_KEYS = {*COMPARED, "errorMessage", "revision", "flagMetadata"}


@dataclass(frozen=True)
class CaseFile:
    name: str
    data: dict
    text: str
    parsed: Optional[Any]  # None when the snapshot text is not JSON


def _read(path: Path) -> CaseFile:
    data = json.loads(path.read_text(encoding="utf-8"))
    if "snapshotFile" in data:
        text = (SUITE / data["snapshotFile"]).read_text(encoding="utf-8")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    else:
        parsed = data["snapshot"]
        text = json.dumps(parsed, ensure_ascii=False)
    return CaseFile(path.name, data, text, parsed)


@lru_cache(maxsize=None)
def case_file(name: str) -> CaseFile:
    return _read(SUITE / "cases" / name)


@lru_cache(maxsize=None)
def engines(name: str) -> tuple[Engine, Engine]:
    """(loaded from the parsed object, loaded from the text) for a file that loads."""
    file = case_file(name)
    from_object, from_text = Engine(), Engine()
    from_object.load(file.parsed)
    from_text.load(file.text)
    return from_object, from_text


def _cases() -> list:
    params = []
    for path in CASE_FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        for index, case in enumerate(data.get("cases") or []):
            params.append(pytest.param(path.name, index, id=f"{path.stem}[{index}] {case.get('name', '?')}"))
    return params


CASES = _cases()


def same(expected: Any, actual: Any) -> bool:
    """JSON equality; numbers compare numerically (1 == 1.0) but never equal booleans."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(a, b) for a, b in zip(expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(v, actual[k]) for k, v in expected.items())
    return type(expected) is type(actual) and expected == actual


def problems(expect: Mapping[str, Any], actual: Mapping[str, Any], revision: int) -> list[str]:
    found = []
    if set(actual) != RESULT_KEYS:
        found.append(f"result keys {sorted(actual)}")
    for field in COMPARED:
        if not same(expect.get(field), actual.get(field)):
            found.append(f"{field}: expected {expect.get(field)!r}, got {actual.get(field)!r}")
    message = actual.get("errorMessage")
    if actual.get("errorCode") is not None:
        if not (isinstance(message, str) and message):
            found.append(f"errorMessage {message!r} with errorCode {actual.get('errorCode')}")
    elif message is not None:
        found.append(f"errorMessage {message!r} without errorCode")
    if actual.get("revision") != revision or isinstance(actual.get("revision"), bool):
        found.append(f"revision: expected {revision}, got {actual.get('revision')!r}")
    if "flagMetadata" in expect and not same(expect["flagMetadata"], actual.get("flagMetadata")):
        found.append(f"flagMetadata: expected {expect['flagMetadata']!r}, got {actual.get('flagMetadata')!r}")
    return found


def test_the_suite_is_all_there():
    assert len(CASE_FILES) >= 30
    total = sum(len(json.loads(p.read_text(encoding="utf-8")).get("cases") or []) for p in CASE_FILES)
    assert len(CASES) == total
    assert total >= 400, f"the suite must have at least 400 cases, found {total}"


@pytest.mark.parametrize("name", [p.name for p in CASE_FILES])
def test_load(name: str):
    file = case_file(name)
    load = file.data.get("load") or {}
    inputs: list[Any] = [file.text, file.text.encode("utf-8")]
    if file.parsed is not None:
        inputs.append(file.parsed)
    if "error" in load:
        assert not file.data.get("cases"), "a file with a load error has no cases"
        for snapshot in inputs:
            engine = Engine()
            with pytest.raises(SnapshotError) as raised:
                engine.load(snapshot)
            assert raised.value.code == load["error"], f"{type(snapshot).__name__}: {raised.value}"
            assert engine.revision is None
        return
    expected = load.get("warnings", [])
    returned = []
    for snapshot in inputs:
        engine = Engine()
        warnings = engine.load(snapshot)
        assert [w["code"] for w in warnings] == expected, f"{type(snapshot).__name__}: {warnings}"
        assert engine.warnings == warnings
        for warning in warnings:
            assert set(warning) == {"code", "path", "message"}
            assert warning["message"]
        returned.append(warnings)
    assert all(w == returned[0] for w in returned), "text, bytes and object load with the same warnings"


@pytest.mark.parametrize(("name", "index"), CASES)
def test_case(name: str, index: int):
    file = case_file(name)
    case = file.data["cases"][index]
    from_object, from_text = engines(name)
    kind = case["type"]
    expected_type = None if kind == "any" else kind
    now = case.get("now", file.data.get("now"))
    assert now is not None, "every case has a time"
    context = case.get("context", {})
    default = case.get("default")
    result = from_object.evaluate(case["flag"], context, type=expected_type, default=default, now=now)
    revision = from_object.revision
    assert revision is not None
    found = problems(case["expect"], result, revision)
    assert not found, "; ".join(found) + f" (result {result})"

    # The same answer whichever way the snapshot came in...
    assert from_text.evaluate(case["flag"], context, type=expected_type, default=default, now=now) == result
    # ...and byte for byte what core's JSON interface gives for the same request.
    assert canonical(result) == from_object._evaluate_canonical(
        case["flag"], json.dumps(context), expected_type, json.dumps(default), now
    )
    # The typed getters return the value (or the default) of the typed evaluation.
    if expected_type is not None:
        getter = getattr(from_object, f"get_{expected_type}")
        assert same(getter(case["flag"], context, default, now), result["value"])
