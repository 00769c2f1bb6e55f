"""Shared helpers of the client's tests: the repository root, the binaries the
integration tests need (a missing one fails loudly with the command that builds it)."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# JSON equality with numbers compared numerically (1 == 1.0), booleans kept apart: the
# conformance tools' rule, shared.
sys.path.insert(0, str(ROOT / "tests" / "conformance" / "tools"))
from check_cases import same  # type: ignore[import-not-found]  # noqa: E402

__all__ = ["ROOT", "binary", "listening_url", "same"]


def binary(variable: str, build: str) -> str:
    """The path in environment variable ``variable``; fails (never skips) without it."""
    path = os.environ.get(variable)
    if not path:
        pytest.fail(f"these tests need {variable}: build it with `{build}` and set {variable} to its path")
    if not Path(path).is_file():
        pytest.fail(f"{variable}={path} does not exist (build it with `{build}`)")
    return path


def listening_url(process: "subprocess.Popen[str]", prefix: str, seconds: float) -> str:
    """Reads ``process``'s standard output (on a thread, so a silent process cannot hang
    the test) until it prints ``<prefix> listening on URL``; returns the URL. Kills the
    process and fails after ``seconds`` without one."""
    stdout = process.stdout
    assert stdout is not None
    lines: "queue.Queue[str]" = queue.Queue()

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + seconds
    pattern = re.compile(rf"^{re.escape(prefix)} listening on (\S+)")
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise AssertionError(f"no `{prefix} listening on URL` within {seconds} s") from None
        match = pattern.match(line)
        if match:
            return match.group(1)
