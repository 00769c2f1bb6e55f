"""One case of the peers benchmark in its own Python process (run.mjs starts one per
engine and workload): load the engine, check its answers, then time it.

    python case.py ENGINE WORKLOAD [--quick]   -> one JSON line: the medians and the checks
    python case.py ENGINE all --check          -> the checks of every workload, no timing

The same protocol, checks and timing scheme as ../node/case.mjs: warm up for a fixed time,
calibrate a round length, then ROUNDS rounds; each round's CPU time (time.process_time_ns)
and wall clock are divided by the evaluations in it and the median round is reported. The
contexts are prepared before timing and taken in turn (itertools.cycle).
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from engines import ENGINES, Engine

CASES = json.loads((Path(__file__).resolve().parent.parent / "workloads" / "cases.json").read_text(encoding="utf-8"))
WORKLOADS = ("W1", "W2", "W3", "W4", "W4all")


def w3_users() -> list[dict]:
    spec = CASES["w3Users"]
    return [{**CASES["user"], "userId": f"{spec['prefix']}{i}"} for i in range(spec["count"])]


def same(got: Any, want: Any) -> bool:
    """Equal and of the same JSON type (True is not 1 here)."""
    return type(got) is type(want) and got == want or (
        isinstance(got, (int, float)) and not isinstance(got, bool) and isinstance(want, (int, float)) and got == want
    )


def check(engine: Engine, workload: str) -> dict:
    passed, failed, notes = 0, [], []

    def expect(ok: bool, message: str) -> None:
        nonlocal passed
        if ok:
            passed += 1
        else:
            failed.append(message)

    user = engine.context(CASES["user"])
    if workload == "W1":
        got = engine.w1(user)
        expect(got is True, f"W1: expected True, got {got!r}")
    elif workload == "W2":
        assert engine.w2 is not None
        got = engine.w2(user)
        expect(got is True, f"W2: the matching context gave {got!r}")
        for attribute, value in CASES["w2Breaks"].items():
            if attribute in engine.cannot_express:
                notes.append(f"W2: {attribute} = {json.dumps(value)} not asserted (not expressible natively)")
                continue
            got = engine.w2(engine.context({**CASES["user"], attribute: value}))
            expect(got is False, f"W2: {attribute} = {json.dumps(value)} should flip the answer, got {got!r}")
    elif workload == "W3":
        assert engine.w3 is not None
        w3 = engine.w3
        users = [engine.context(u) for u in w3_users()]
        answers = [w3(c) for c in users]
        expect(all(isinstance(a, bool) for a in answers), "W3: every answer is a boolean")
        expect(all(w3(c) == a for c, a in zip(users, answers)), "W3: the same user gets the same answer twice")
        share = sum(answers) / len(answers)
        spec = CASES["w3Users"]
        expect(spec["minShare"] <= share <= spec["maxShare"], f"W3: on-share {share} outside [{spec['minShare']}, {spec['maxShare']}]")
        notes.append(f"W3: on-share {share:.3f}")
    elif workload in ("W4", "W4all"):
        values_of = engine.w4_values if workload == "W4" else engine.w4_all_values
        assert values_of is not None and engine.w4_values is not None
        values = values_of(user)
        for flag, want in CASES["w4Expected"].items():
            got = values.get(flag)
            ok = any(same(got, w) for w in want) if isinstance(want, list) else same(got, want)
            expect(ok, f"{workload}: {flag} gave {got!r}, expected {want!r}")
        if workload == "W4all":
            getters = engine.w4_values(user)
            expect(all(same(values.get(k), v) for k, v in getters.items()), "W4all: evaluate_all agrees with the typed getters")
    else:
        raise SystemExit(f"unknown workload {workload}")
    return {"passed": passed, "failed": failed, "notes": notes}


def measure(fn: Callable[[Any], Any], contexts: list, warmup_s: float, rounds: int, round_s: float) -> dict:
    source = itertools.cycle(contexts)
    islice = itertools.islice

    def run(n: int) -> None:
        for c in islice(source, n):
            fn(c)

    n = 10
    batch = 0.0
    warm_end = time.perf_counter() + warmup_s
    while time.perf_counter() < warm_end or batch == 0.0:
        start = time.perf_counter()
        run(n)
        batch = time.perf_counter() - start
        if batch < round_s / 10:
            n *= 2
    calls = max(10, round(n * round_s / max(batch, 1e-9)))
    cpu, wall = [], []
    for _ in range(rounds):
        cpu_start, start = time.process_time_ns(), time.perf_counter_ns()
        run(calls)
        wall.append((time.perf_counter_ns() - start) / calls)
        cpu.append((time.process_time_ns() - cpu_start) / calls)
    return {
        "cpuNs": statistics.median_low(cpu),
        "wallNs": statistics.median_low(wall),
        "cpuNsMin": min(cpu),
        "calls": calls,
        "rounds": rounds,
    }


def main(argv: list[str]) -> int:
    engine_name, workload = argv[0], argv[1]
    quick, check_only = "--quick" in argv, "--check" in argv
    engine = ENGINES[engine_name]()
    if workload == "all":
        available = {"W1": engine.w1, "W2": engine.w2, "W3": engine.w3, "W4": engine.w4, "W4all": engine.w4_all}
        workloads = [w for w in WORKLOADS if available[w] is not None]
    else:
        workloads = [workload]
    result: dict[str, Any] = {
        "engine": engine_name,
        "runtime": "python",
        "version": engine.version,
        "workload": workload,
        "python": sys.version.split()[0],
        "checks": {w: check(engine, w) for w in workloads},
    }
    failures = sum(len(c["failed"]) for c in result["checks"].values())
    if not check_only and failures == 0:
        fn = {"W1": engine.w1, "W2": engine.w2, "W3": engine.w3, "W4": engine.w4, "W4all": engine.w4_all}[workload]
        assert fn is not None
        users = w3_users() if workload == "W3" else [CASES["user"]]
        contexts = [engine.context(u) for u in users]
        timing = (0.3, 7, 0.04) if quick else (0.7, 11, 0.12)
        result.update(measure(fn, contexts, *timing))
    engine.close()
    print(json.dumps(result), flush=True)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
