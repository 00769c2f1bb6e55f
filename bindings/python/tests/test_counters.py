"""The Python runner of tests/conformance/counters.json (evaluation counters:
``count_evaluations``, ``count_override``, ``share_counters``, ``metrics``). Names in the
file are the JS ones (``getBoolean`` -> ``get_boolean``)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Dict

from pennon import Engine

FILE = Path(__file__).resolve().parents[3] / "tests" / "conformance" / "counters.json"
DATA: Dict[str, Any] = json.loads(FILE.read_text(encoding="utf-8"))
GETTERS = {"boolean": "get_boolean", "string": "get_string", "number": "get_number", "object": "get_object"}
HEADER = "".join(line + "\n" for line in DATA["metrics"][:2])


def _run(engine: Engine) -> None:
    now = DATA["now"]
    for step in DATA["steps"]:
        action = step["do"]
        if action == "count":
            engine.count_evaluations(step["enabled"])
        elif action == "load":
            engine.load(DATA["snapshots"][step["snapshot"]])
        elif action == "evaluate":
            for _ in range(step.get("times", 1)):
                if step.get("getter"):
                    getattr(engine, GETTERS[step["type"]])(step["flag"], step.get("context"), step["default"], now)
                else:
                    engine.evaluate(step["flag"], step.get("context"), type=step["type"], now=now)
        elif action == "override":
            engine.count_override(step["flag"])
        elif action == "evaluateAll":
            assert engine.evaluate_all({}, now)
        else:
            raise AssertionError(f"unknown step {action}")


def test_the_case_file() -> None:
    engine = Engine()
    _run(engine)
    assert engine.metrics() == "".join(line + "\n" for line in DATA["metrics"])


def test_off_by_default() -> None:
    engine = Engine(DATA["snapshots"]["first"])
    engine.get_boolean("a", {}, False)
    engine.count_override("a")
    assert engine.metrics() == HEADER


def test_shared_counters_add_up_across_engines_and_threads() -> None:
    first = Engine(DATA["snapshots"]["first"])
    first.count_evaluations(True)
    first.get_boolean("a", {}, False)
    fresh = Engine(DATA["snapshots"]["first"])
    fresh.share_counters(first)

    def work() -> None:
        for _ in range(500):
            fresh.get_boolean("a", {}, False)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = HEADER + 'pennon_evaluations_total{flag="a",variant="on",reason="STATIC"} 2001\n'
    assert first.metrics() == expected
    assert fresh.metrics() == expected
