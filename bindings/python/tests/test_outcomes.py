"""The Python runner of tests/conformance/outcomes.json (``record``, ``take_outcomes``,
``restore_outcomes``, ``outcome_metrics``). Names in the file are the JS ones; Python
spells the latency ``latency_ms``, in outcomes and in messages."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any, Dict

import pytest

from pennon import ArgumentError, Engine

FILE = Path(__file__).resolve().parents[3] / "tests" / "conformance" / "outcomes.json"
DATA: Dict[str, Any] = json.loads(FILE.read_text(encoding="utf-8"))
NOW = DATA["now"]


def _python(outcome: Any) -> Any:
    if isinstance(outcome, dict):
        return {("latency_ms" if key == "latencyMs" else key): value for key, value in outcome.items()}
    return outcome


def test_the_case_file() -> None:
    engine = Engine()
    taken: Dict[str, str] = {}
    for index, step in enumerate(DATA["steps"]):
        where = f"step {index} ({step['do']})"
        action = step["do"]
        if action == "load":
            engine.load(DATA["snapshots"][step["snapshot"]])
        elif action == "count":
            engine.count_evaluations(step["enabled"])
        elif action == "evaluate":
            for _ in range(step.get("times", 1)):
                engine.evaluate(step["flag"], step.get("context"), now=NOW)
        elif action == "record":
            for _ in range(step.get("times", 1)):
                args = (step["flag"], step.get("context"), _python(step["outcome"]), NOW)
                expected = step.get("error")
                if expected is None:
                    engine.record(*args)
                    continue
                with pytest.raises(ArgumentError) as raised:
                    engine.record(*args)
                assert type(raised.value).__name__ == expected["class"], where
                assert (raised.value.code, raised.value.path) == (expected["code"], expected["path"]), where
                assert str(raised.value) == expected["message"].replace("latencyMs", "latency_ms"), where
        elif action == "take":
            text = engine.take_outcomes(step["batch"], step["sdk"])
            assert (None if text is None else json.loads(text)) == step["expect"], where
            if text is not None:
                taken[step["batch"]] = text
        elif action == "restore":
            engine.restore_outcomes(taken[step["batch"]])
        elif action == "metrics":
            assert engine.outcome_metrics() == "".join(line + "\n" for line in step["expect"]), where
        else:
            raise AssertionError(f"unknown step {action}")


def test_values_json_cannot_carry() -> None:
    engine = Engine(DATA["snapshots"]["first"])
    for latency, text in [(math.nan, "NaN"), (math.inf, "Infinity"), (10**400, "Infinity")]:
        with pytest.raises(ArgumentError, match=f"latency_ms must be a finite number of milliseconds ≥ 0, not {text}$"):
            engine.record("checkout", {}, {"ok": True, "latency_ms": latency}, NOW)
    with pytest.raises(ArgumentError, match="unknown outcome key `1`"):
        engine.record("checkout", {}, {"ok": True, 1: 2}, NOW)  # type: ignore[misc]
    with pytest.raises(ArgumentError, match="the outcome must be an object, not an array"):
        engine.record("checkout", {}, [True], NOW)  # type: ignore[arg-type]
    engine.record("checkout", {"country": "DE"}, {"ok": True, "latency_ms": 2}, NOW)
    body = json.loads(engine.take_outcomes("x") or "null")
    assert body["flags"] == {"checkout": {"on": {"requests": 1, "latency": [[136, 1]]}}}
    assert body["sdk"].startswith("pennon-host/")


def test_shared_engines_record_into_one_set_across_threads() -> None:
    first = Engine(DATA["snapshots"]["first"])
    fresh = Engine(DATA["snapshots"]["first"])
    fresh.share_counters(first)

    def work() -> None:
        for i in range(500):
            fresh.record("checkout", {"country": "DE"}, {"error": i % 5 == 0, "ok": i % 5 != 0}, NOW)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first.restore_outcomes(first.take_outcomes("failed") or "")
    body = json.loads(fresh.take_outcomes("b") or "null")
    assert body["flags"]["checkout"]["on"] == {"requests": 2000, "errors": 400}
    assert first.take_outcomes("c") is None
    assert first.outcome_metrics() == fresh.outcome_metrics()
