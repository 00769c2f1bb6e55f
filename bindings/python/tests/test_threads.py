"""One Engine shared by many threads: evaluations run while another thread loads, every
result comes from one whole snapshot (its value always matches its revision), and
loading releases the GIL while it parses and compiles."""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any, Optional

from pennon import Engine

NOW = 1_795_000_000_000
FLAGS = 12


def versioned(revision: int) -> dict:
    """A snapshot whose every flag serves `rev-<revision>` (through a rule for half of them)."""
    flags = {}
    for i in range(FLAGS):
        flag: dict[str, Any] = {
            "type": "string",
            "state": "on",
            "variants": {"current": f"rev-{revision}", "other": "never"},
            "offVariant": "other",
            "fallthrough": {"variant": "current"},
        }
        if i % 2:
            flag["rules"] = [
                {"id": "any-country", "when": {"attribute": "country", "op": "exists"}, "serve": {"variant": "current"}}
            ]
        flags[f"flag-{i:02d}"] = flag
    return {"schemaVersion": 1, "revision": revision, "flags": flags}


def test_evaluations_during_loads_always_see_one_whole_snapshot():
    engine = Engine()
    engine.load(versioned(0))
    documents = [versioned(r) for r in range(1, 9)]
    texts = [json.dumps(d) for d in documents]
    stop = threading.Event()
    failures: list[str] = []
    seen: list[set[Optional[int]]] = []
    loads = [0]

    def loader() -> None:
        while not stop.is_set():
            k = loads[0] % len(documents)
            engine.load(texts[k] if loads[0] % 2 else documents[k])
            loads[0] += 1

    def evaluator(seed: int) -> None:
        rnd = random.Random(seed)
        revisions: set[Optional[int]] = set()
        context = {"targetingKey": f"user-{seed}", "country": "DE"}
        deadline = time.monotonic() + 60
        n = 0
        # At least 3,000 evaluations each, and on until this thread has seen a swap (on a
        # busy machine threads may be scheduled in long slices).
        while n < 3000 or (len(revisions) < 2 and time.monotonic() < deadline):
            n += 1
            if n % 10 == 0:
                results = engine.evaluate_all(context, now=NOW)
                found = {r["revision"] for r in results.values()}
                if len(found) != 1 or any(r["value"] != f"rev-{r['revision']}" for r in results.values()):
                    failures.append(f"evaluate_all mixed snapshots: {results}")
                    return
                revisions |= found
            else:
                flag = f"flag-{rnd.randrange(FLAGS):02d}"
                result = engine.evaluate(flag, context, type="string", default="default", now=NOW)
                if result["errorCode"] is not None or result["value"] != f"rev-{result['revision']}":
                    failures.append(f"{flag}: {result}")
                    return
                revisions.add(result["revision"])
        seen.append(revisions)

    threads = [threading.Thread(target=evaluator, args=(seed,)) for seed in range(4)]
    load_thread = threading.Thread(target=loader)
    load_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    load_thread.join(timeout=120)

    assert not failures, failures[:3]
    assert len(seen) == 4, "every evaluator finished"
    assert loads[0] > 1, "the loader swapped snapshots during the run"
    assert all(len(r) > 1 for r in seen), f"every evaluator saw a swap while loads went on: {seen}"
    assert engine.revision in range(1, 9)


def big_snapshot(flags: int) -> str:
    rule = {
        "id": "r1",
        "when": {
            "all": [
                {"attribute": "country", "op": "in", "values": ["DE", "FR", "SE"]},
                {"attribute": "email", "op": "matches", "value": "^[a-z]+@example\\.com$"},
                {"attribute": "version", "op": "semverGte", "value": "1.2.3"},
            ]
        },
        "serve": {"rollout": {"variant": "on", "otherwise": "off", "percentage": 25}},
    }
    document = {
        "schemaVersion": 1,
        "revision": 1,
        "flags": {
            f"flag-{i:05d}": {
                "type": "boolean",
                "state": "on",
                "variants": {"on": True, "off": False},
                "offVariant": "off",
                "rules": [rule],
                "fallthrough": {"variant": "off"},
            }
            for i in range(flags)
        },
    }
    return json.dumps(document)


def test_load_releases_the_gil_while_compiling():
    # A second thread evaluates on the engine that is loading and notes when it still sees
    # no snapshot (`revision` None). Were the GIL held for the whole native call, that
    # thread could run only before the call started (within one GIL switch interval,
    # 5 ms) and after the new snapshot was in, so its "no snapshot yet" answers would all
    # fall into the first tenth of the load. With the GIL released they spread over the
    # whole parse and compile.
    size = 4000
    for _ in range(5):
        text = big_snapshot(size)
        started = time.perf_counter()
        Engine().load(text)
        if time.perf_counter() - started > 0.1:
            break
        size *= 2

    engine = Engine()
    go, stop = threading.Event(), threading.Event()
    not_yet: list[float] = []

    def evaluator() -> None:
        context = {"targetingKey": "u", "country": "DE", "email": "a@example.com", "version": "2.0.0"}
        go.wait()
        while not stop.is_set():
            if engine.evaluate("flag-00001", context, now=NOW)["revision"] is None:
                not_yet.append(time.perf_counter())

    thread = threading.Thread(target=evaluator)
    thread.start()
    go.set()
    started = time.perf_counter()
    engine.load(text)
    finished = time.perf_counter()
    stop.set()
    thread.join(timeout=60)

    assert engine.revision == 1
    window = finished - started
    assert window > 0.05, "a load long enough to tell"
    tenths = {int(10 * (t - started) / window) for t in not_yet if started <= t <= finished}
    assert len(tenths) >= 5, (
        f"evaluations ran in {sorted(tenths)} of the ten tenths of a {1000 * window:.0f} ms load"
    )
