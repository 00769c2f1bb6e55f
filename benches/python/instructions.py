"""Instructions per call of each case of bench.py, counted by valgrind's callgrind.

    python benches/python/instructions.py [CASE...]

Wall-clock figures on a shared 2-core machine wander by ±30 %; instruction counts do not
(the same binary and inputs give the same count, whatever else runs), so this is the tool
for comparing two builds of the extension. Each case runs under callgrind twice, with
2,000 and 12,000 calls; the difference divided by 10,000 is the cost of one call, with
interpreter start-up and the loading of the snapshot cancelled out. PYTHONHASHSEED is fixed
so that dict layouts are the same in both runs. Needs `valgrind` (Debian package).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402

SMALL, LARGE = 2_000, 12_000


def run_case(name: str, calls: int) -> None:
    import pennon

    engine = pennon.Engine()
    engine.load((bench.ROOT / "benches" / "fixtures" / "bindings.json").read_text(encoding="utf-8"))
    call = bench.cases(engine, bench.fixture_context())[name]
    for _ in range(calls):
        call()


def instructions(name: str, calls: int) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__, "--run", name,
         str(calls)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in callgrind's output:\n{done.stderr}")
    return int(found.group(1))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--run"]:
        run_case(argv[1], int(argv[2]))
        return 0
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    import pennon

    names = argv or list(bench.cases(pennon.Engine(), {}))
    for name in names:
        per_call = (instructions(name, LARGE) - instructions(name, SMALL)) / (LARGE - SMALL)
        print(f"{name:44} {per_call:8.0f} instructions/call", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
