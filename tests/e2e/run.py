#!/usr/bin/env python3
"""End to end: a flag changed with the `pennon` CLI is seen by a Node, a Python and a Rust
client of a real `pennon serve` within 1 s.

Starts `pennon serve` (SQLite in a temporary directory), imports tests/e2e/flags.json
into production, creates an SDK key, starts the three SDKs' `watch` examples (each prints
one JSON line per event) and then switches `e2e.switch` off and on with the CLI several
times. For every switch, each client must report a `change` naming exactly
`["e2e.switch"]` (core's changed keys) with the new value, within 1 s of the moment the
CLI command started. Prints the latencies; exits non-zero on any miss.

usage: tests/e2e/run.py  (PENNON_BIN, PENNON_WATCH_RUST, PENNON_PYTHON; see scripts/test.sh)
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FLAG = "e2e.switch"
SWITCHES = 6
DEADLINE = 1.0  # seconds from the CLI command's start to each client's change event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    pennon = os.environ["PENNON_BIN"]
    watchers = {
        "rust": [os.environ["PENNON_WATCH_RUST"], FLAG],
        "node": ["node", str(ROOT / "sdks/typescript/examples/watch.mjs"), FLAG],
        "python": [os.environ.get("PENNON_PYTHON", str(ROOT / ".venv/bin/python")),
                   str(ROOT / "sdks/python/examples/watch.py"), FLAG],
    }
    with tempfile.TemporaryDirectory(prefix="pennon-e2e.") as tmp:
        url = f"http://127.0.0.1:{free_port()}"
        admin = "pennon_" + secrets.token_urlsafe(32)
        env = dict(os.environ, PENNON_URL=url, PENNON_TOKEN=admin, PENNON_ADMIN_TOKEN=admin)
        log = open(Path(tmp) / "serve.log", "wb")
        server = subprocess.Popen(
            [pennon, "serve", "--listen", url.removeprefix("http://"),
             "--database-url", f"sqlite://{tmp}/pennon.db"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        processes: list[subprocess.Popen[str]] = []
        try:
            wait_ready(url, server, Path(tmp) / "serve.log")

            def cli(*args: str) -> str:
                done = subprocess.run([pennon, *args, "-e", "production"], env=env,
                                      capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"pennon {' '.join(args)} failed: {done.stderr}{done.stdout}")
                return done.stdout

            cli("import", str(ROOT / "tests/e2e/flags.json"), "--reason", "e2e: the test flags")
            created = json.loads(cli("token", "create", "e2e-sdk", "--role", "sdk", "--json"))
            env["PENNON_SDK_KEY"] = created["token"]

            lines: queue.Queue[tuple[float, str, dict[str, object]]] = queue.Queue()
            for sdk, command in watchers.items():
                process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)
                processes.append(process)
                threading.Thread(target=read_lines, args=(sdk, process, lines), daemon=True).start()

            ready = expect(lines, {sdk: "ready" for sdk in watchers}, 30.0)
            for sdk, (_, line) in ready.items():
                if line.get("value") is not True:
                    raise SystemExit(f"{sdk}: {FLAG} is {line.get('value')!r} at the start, not true")

            latencies: dict[str, list[float]] = {sdk: [] for sdk in watchers}
            for n in range(SWITCHES):
                state, value = ("off", False) if n % 2 == 0 else ("on", True)
                started = time.monotonic()
                cli("set", FLAG, state, "--reason", f"e2e switch {n + 1}")
                seen = expect(lines, {sdk: "change" for sdk in watchers}, started + DEADLINE + 5.0 - time.monotonic())
                for sdk, (at, line) in seen.items():
                    if line.get("flags") != [FLAG] or line.get("value") is not value:
                        raise SystemExit(f"{sdk}: switch {n + 1} ({state}) reported {line}, "
                                         f"want flags [{FLAG!r}] and value {value}")
                    latencies[sdk].append(at - started)
            report(latencies)
            late = {sdk: max(values) for sdk, values in latencies.items() if max(values) > DEADLINE}
            if late:
                print(f"FAIL: not within {DEADLINE} s: {late}", file=sys.stderr)
                return 1
            print(f"ok: {SWITCHES} CLI changes seen by Node, Python and Rust, each within {DEADLINE} s")
            return 0
        finally:
            for process in processes:
                process.kill()
            server.terminate()
            server.wait(10)


def wait_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"pennon serve exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"pennon serve was not ready in 30 s:\n{log.read_text()}")


def read_lines(sdk: str, process: subprocess.Popen[str],
               lines: queue.Queue[tuple[float, str, dict[str, object]]]) -> None:
    assert process.stdout is not None
    for text in process.stdout:
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            line = {"event": "garbage", "text": text}
        lines.put((time.monotonic(), sdk, line))
    stderr = process.stderr.read() if process.stderr else ""
    lines.put((time.monotonic(), sdk, {"event": "exit", "code": process.wait(), "stderr": stderr}))


def expect(lines: queue.Queue[tuple[float, str, dict[str, object]]], wanted: dict[str, str],
           timeout: float) -> dict[str, tuple[float, dict[str, object]]]:
    """The first line of the wanted event from each SDK; anything else is a failure."""
    deadline = time.monotonic() + timeout
    seen: dict[str, tuple[float, dict[str, object]]] = {}
    while len(seen) < len(wanted):
        try:
            at, sdk, line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            missing = sorted(set(wanted) - set(seen))
            raise SystemExit(f"no {'/'.join(sorted(set(wanted.values())))} event from {missing} in time") from None
        if line.get("event") != wanted[sdk] or sdk in seen:
            raise SystemExit(f"{sdk}: unexpected {line}")
        seen[sdk] = (at, line)
    return seen


def report(latencies: dict[str, list[float]]) -> None:
    print(f"CLI change → client change event, {SWITCHES} switches (ms, from the CLI command's start):")
    for sdk, values in latencies.items():
        ms = sorted(v * 1000 for v in values)
        print(f"  {sdk:6} median {ms[len(ms) // 2]:6.1f}  max {ms[-1]:6.1f}  all {[round(v) for v in ms]}")


if __name__ == "__main__":
    sys.exit(main())
