"""Per-call cost of the Python client (``pennon.Client``) against the bare binding
(``pennon.Engine``) on the shared binding fixtures, W1-W3:

    python benches/python/client.py [--quick] [--json]      # wall clock
    python benches/python/client.py --instructions          # instructions per call (valgrind)

W1 static getter, W2 targeting getter (six checks), W3 split getter, each through the
client (``client.get_boolean`` / ``get_string``: overrides checked, counted in the
metrics) and through the binding (``engine.get_boolean`` / ``get_string``, host clock, as
the client uses); then ``evaluate`` (details) both ways. ``overhead`` is the client's extra
cost over the binding's same call. Wall clock: the loop and rounds of ``bench.py``.
Instructions: ``instructions.py``'s method (callgrind at 2,000 and 12,000 calls, the
difference per call), which does not move with the load of a shared machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402

import pennon  # noqa: E402

SMALL, LARGE = 2_000, 12_000


def workloads() -> Tuple[pennon.Client, Dict[str, Dict[str, Callable[[], object]]]]:
    text = (bench.ROOT / "benches" / "fixtures" / "bindings.json").read_text(encoding="utf-8")
    engine = pennon.Engine(text)
    client = pennon.Client(snapshot=text)
    context = bench.fixture_context()
    return client, {
        "W1 static getter": {
            "binding": lambda: engine.get_boolean("static-flag", context, False),
            "client": lambda: client.get_boolean("static-flag", context, False),
        },
        "W2 targeting getter": {
            "binding": lambda: engine.get_boolean("targeting-flag", context, False),
            "client": lambda: client.get_boolean("targeting-flag", context, False),
        },
        "W3 split getter": {
            "binding": lambda: engine.get_string("split-flag", context, "control"),
            "client": lambda: client.get_string("split-flag", context, "control"),
        },
        "W1 evaluate (details)": {
            "binding": lambda: engine.evaluate("static-flag", context),
            "client": lambda: client.evaluate("static-flag", context),
        },
    }


def instructions(name: str, side: str, calls: int) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__, "--run",
         name, side, str(calls)],
        capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in callgrind's output:\n{done.stderr}")
    return int(found.group(1))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--run"]:
        _, cases = workloads()
        call = cases[argv[1]][argv[2]]
        for _ in range(int(argv[3])):
            call()
        return 0
    counting = "--instructions" in argv
    quick = "--quick" in argv
    rounds, round_seconds = (5, 0.02) if quick else (15, 0.05)
    client, cases = workloads()
    results: Dict[str, Dict[str, float]] = {}
    for name, calls in cases.items():
        if counting:
            figures = {
                side: (instructions(name, side, LARGE) - instructions(name, side, SMALL)) / (LARGE - SMALL)
                for side in calls
            }
        else:
            figures = {side: bench.measure(call, rounds, round_seconds)["ns_median"] for side, call in calls.items()}
        figures["overhead"] = figures["client"] / figures["binding"] - 1
        results[name] = figures
        if "--json" not in argv:
            unit = "instr" if counting else "ns"
            print(
                f"{name:24} binding {figures['binding']:7.0f} {unit}   client {figures['client']:7.0f} {unit}"
                f"   overhead {figures['overhead'] * 100:+6.1f} %",
                flush=True,
            )
    client.close()
    if "--json" in argv:
        print(json.dumps({"python": sys.version.split()[0], "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
