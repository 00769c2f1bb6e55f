"""The Python runner of the argument contract (tests/conformance/arguments.json).

Every binding runs the same cases: how calls take flag keys, type names, ``now``,
defaults, contexts and snapshots, what an omitted argument means, and the exact error
objects (class, code, path, message) a bad argument raises. Names in the file are the JS
ones; this runner maps them to the Python API (``getBoolean`` -> ``get_boolean``, the
``evaluate`` options -> keyword arguments, ``new`` -> ``Engine(...)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

import pennon
from pennon import Engine, PennonError

FILE = Path(__file__).resolve().parents[3] / "tests" / "conformance" / "arguments.json"
DATA = json.loads(FILE.read_text(encoding="utf-8"))
GETTERS = {"getBoolean": "get_boolean", "getString": "get_string", "getNumber": "get_number", "getObject": "get_object"}


def _engine(case: Dict[str, Any]) -> Engine:
    engine = Engine()
    if case.get("engine") != "empty":
        engine.load(DATA["snapshot"])
    return engine


def _call(engine: Engine, case: Dict[str, Any]) -> Callable[[], Any]:
    call, args = case["call"], case["args"]
    if call in GETTERS:
        getter = getattr(engine, GETTERS[call])
        extra = {"now": args["now"]} if "now" in args else {}
        return lambda: getter(args["flag"], args["context"], args["default"], **extra)
    if call == "evaluate":
        options = {name: args[name] for name in ("type", "default", "now") if name in args}
        if "context" in args:
            return lambda: engine.evaluate(args["flag"], args["context"], **options)
        return lambda: engine.evaluate(args["flag"], **options)
    if call == "evaluateAll":
        return lambda: engine.evaluate_all(args["context"], **({"now": args["now"]} if "now" in args else {}))
    if call == "load":
        return lambda: engine.load(args["snapshot"])
    if call == "new":
        return lambda: Engine(args["snapshot"]) if "snapshot" in args else Engine()
    raise AssertionError(f"unknown call {call!r}")


def _subset(actual: Dict[str, Any], expected: Dict[str, Any]) -> None:
    for key, value in expected.items():
        assert actual[key] == value, key


@pytest.mark.parametrize("case", DATA["cases"], ids=[case["name"] for case in DATA["cases"]])
def test_argument_case(case: Dict[str, Any]) -> None:
    engine = _engine(case)
    run = _call(engine, case)
    expect = case["expect"]
    got: Any = None
    if "error" in expect:
        with pytest.raises(PennonError) as raised:
            run()
        error = raised.value
        want = expect["error"]
        assert type(error).__name__ == want["class"]
        assert isinstance(error, getattr(pennon, want["class"]))
        assert error.code == want["code"]
        assert error.path == want["path"]
        assert str(error) == want["message"]
    else:
        got = run()
    if "value" in expect:
        assert got == expect["value"]
        assert type(got) is type(expect["value"])
    if "result" in expect:
        _subset(got, expect["result"])
    if "results" in expect:
        assert sorted(got) == sorted(expect["results"])
        for key, result in expect["results"].items():
            _subset(got[key], result)
    if "warnings" in expect:
        assert [{"code": w["code"], "path": w["path"]} for w in got] == expect["warnings"]
        assert all(w["message"] for w in got)
    if "revision" in expect:
        # After `new`, the engine made; after `load`, the engine loaded (or kept) into.
        subject = got if case["call"] == "new" else engine
        assert subject.revision == expect["revision"]


def test_every_call_is_covered() -> None:
    calls = {case["call"] for case in DATA["cases"]}
    assert calls == {"new", "load", "evaluate", "evaluateAll", *GETTERS}


def test_literal_types_match_core() -> None:
    from typing import get_args

    from pennon import _native

    assert list(get_args(pennon.ErrorCode)) == _native.core_error_codes()
    assert list(get_args(pennon.Reason)) == _native.core_reasons()
    assert list(get_args(pennon.TypeName)) == [*get_args(pennon.FlagType), "any"]
