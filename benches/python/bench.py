"""Per-call cost of the pennon Python extension on the shared binding fixtures
(benches/fixtures/bindings.json and context.json).

    python benches/python/bench.py [--quick] [--json]

timeit-style loops: each case is calibrated so that one round takes about 50 ms (20 ms
with --quick), then ROUNDS rounds are timed; the figure is the median round's ns per call,
with the fastest and slowest round beside it. Results are kept (appended to a list that is
cleared each round) so that every call builds its whole result. The `diagnostic` cases
split the cost: the pyo3 call itself, an empty context, and the same call with the
benchmark context — the difference is the context conversion.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import pennon

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_795_000_000_000
TARGETS_NS = {"static getter": 1000, "static evaluate": 1000, "targeting getter": 2000, "targeting evaluate": 2000}


def fixture_context() -> dict:
    """The shared benchmark context, benches/fixtures/context.json."""
    return json.loads((ROOT / "benches" / "fixtures" / "context.json").read_text(encoding="utf-8"))


def cases(engine: pennon.Engine, context: dict) -> dict[str, Callable[[], object]]:
    evaluate, get_boolean, get_string = engine.evaluate, engine.get_boolean, engine.get_string
    return {
        "static getter": lambda: get_boolean("static-flag", context, False, NOW),
        "targeting getter": lambda: get_boolean("targeting-flag", context, False, NOW),
        "split getter": lambda: get_string("split-flag", context, "control", NOW),
        "static evaluate": lambda: evaluate("static-flag", context, type="boolean", default=False, now=NOW),
        "targeting evaluate": lambda: evaluate("targeting-flag", context, type="boolean", default=False, now=NOW),
        "split evaluate": lambda: evaluate("split-flag", context, type="string", default="control", now=NOW),
        "evaluate_all (3 flags)": lambda: engine.evaluate_all(context, NOW),
        "static getter, host clock": lambda: get_boolean("static-flag", context, False),
        "static evaluate, no keywords (host clock)": lambda: evaluate("static-flag", context),
        # Diagnostics: where the time of `static getter` goes.
        "diagnostic: pyo3 call (engine.revision)": lambda: engine.revision,
        "diagnostic: static getter, empty context": lambda: get_boolean("static-flag", {}, False, NOW),
        "diagnostic: static evaluate, empty context": lambda: evaluate(
            "static-flag", {}, type="boolean", default=False, now=NOW
        ),
    }


def measure(call: Callable[[], object], rounds: int, round_seconds: float) -> dict:
    sink: list = []
    append = sink.append

    def run(n: int) -> float:
        sink.clear()
        started = time.perf_counter()
        for _ in range(n):
            append(call())
        return time.perf_counter() - started

    n = 1000
    while run(n) < round_seconds / 4:  # warm-up and calibration
        n *= 2
    n = max(1000, int(n * round_seconds / max(run(n), 1e-9)))
    per_call = sorted(run(n) / n * 1e9 for _ in range(rounds))
    return {
        "ns_median": statistics.median(per_call),
        "ns_min": per_call[0],
        "ns_max": per_call[-1],
        "calls_per_round": n,
    }


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    rounds, round_seconds = (5, 0.02) if quick else (15, 0.05)
    engine = pennon.Engine()
    engine.load((ROOT / "benches" / "fixtures" / "bindings.json").read_text(encoding="utf-8"))
    context = fixture_context()

    # Sanity: the fixture answers as documented, so the intended paths are measured.
    for flag, reason in (("static-flag", "STATIC"), ("targeting-flag", "TARGETING_MATCH"), ("split-flag", "SPLIT")):
        result = engine.evaluate(flag, context, now=NOW)
        if result["reason"] != reason:
            raise SystemExit(f"{flag}: expected {reason}, got {result}")

    results = {}
    for name, call in cases(engine, context).items():
        results[name] = measure(call, rounds, round_seconds)
        if "--json" not in argv:
            r = results[name]
            target = TARGETS_NS.get(name)
            verdict = "" if target is None else (" ok" if r["ns_median"] <= target else f" MISSED (target {target} ns)")
            print(
                f"{name:44} {r['ns_median']:8.0f} ns/call  (min {r['ns_min']:.0f}, max {r['ns_max']:.0f}){verdict}",
                flush=True,
            )
    if "--json" in argv:
        print(json.dumps({"python": sys.version.split()[0], "pennon": pennon.__version__, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
