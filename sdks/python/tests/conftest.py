"""Shared helpers of the client's tests: the repository root, the binaries the
integration tests need (a missing one fails loudly with the command that builds it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# JSON equality with numbers compared numerically (1 == 1.0), booleans kept apart: the
# conformance tools' rule, shared.
sys.path.insert(0, str(ROOT / "tests" / "conformance" / "tools"))
from check_cases import same  # type: ignore[import-not-found]  # noqa: E402

__all__ = ["ROOT", "binary", "same"]


def binary(variable: str, build: str) -> str:
    """The path in environment variable ``variable``; fails (never skips) without it."""
    path = os.environ.get(variable)
    if not path:
        pytest.fail(f"these tests need {variable}: build it with `{build}` and set {variable} to its path")
    if not Path(path).is_file():
        pytest.fail(f"{variable}={path} does not exist (build it with `{build}`)")
    return path
