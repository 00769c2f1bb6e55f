"""pennon.testing: FlagOverrides and testing_client without pytest, and the pytest
plugin (registered by the wheel's `pytest11` entry point) in an inner pytest run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from flagset import snapshot

import pennon
from pennon.testing import EMPTY_SNAPSHOT, FlagOverrides, testing_client


def test_testing_client_answers_only_the_flags_given() -> None:
    with testing_client({"checkout": True, "max-retries": 5}) as client:
        assert client.is_enabled("checkout")
        assert client.get_number("max-retries", None, 3) == 5
        details = client.evaluate("checkout")
        assert (details["variant"], details["reason"]) == ("override", "STATIC")
        assert client.evaluate("other")["errorCode"] == "FLAG_NOT_FOUND"
        assert client.revision == EMPTY_SNAPSHOT["revision"]


def test_testing_client_over_a_snapshot() -> None:
    with testing_client({"retired": True}, snapshot=snapshot()) as client:
        assert client.is_enabled("retired") and client.is_enabled("checkout")
        assert not client.is_enabled("killed")


def test_flag_overrides_remove_only_what_they_set() -> None:
    with pennon.Client(snapshot=snapshot()) as client:
        client.override("killed", True)  # the application's own override
        with FlagOverrides(client, {"retired": True}) as flags:
            flags.set("checkout", False).set("greeting", "servus")
            assert client.is_enabled("retired") and not client.is_enabled("checkout")
            assert client.get_string("greeting", None, "") == "servus"
            flags.unset("greeting")
            assert client.get_string("greeting", None, "") == "hello"
        assert not client.is_enabled("retired") and client.is_enabled("checkout")
        assert client.is_enabled("killed"), "an override set elsewhere stays"


INNER_CONFTEST = """
import pennon
import pytest

APP_CLIENT = pennon.Client(snapshot=%r)


@pytest.fixture
def pennon_client():
    return APP_CLIENT
"""

INNER_TESTS = """
from conftest import APP_CLIENT


def test_1_sets_a_flag(pennon_flags, pennon_client):
    assert pennon_client is APP_CLIENT
    pennon_flags.set("retired", True).set("checkout", False)
    assert APP_CLIENT.is_enabled("retired")
    assert not APP_CLIENT.is_enabled("checkout")


def test_2_the_flags_are_gone(pennon_client):
    assert not APP_CLIENT.is_enabled("retired")
    assert APP_CLIENT.is_enabled("checkout")
"""

INNER_DEFAULTS = """
import pytest


def test_the_default_client_has_no_flags(pennon_client, pennon_flags):
    assert pennon_client.evaluate("checkout")["errorCode"] == "FLAG_NOT_FOUND"
    pennon_flags.set("checkout", True)
    assert pennon_client.is_enabled("checkout")


class TestOwnSnapshot:
    @pytest.fixture
    def pennon_snapshot(self):
        return %r

    def test_it_is_used(self, pennon_client):
        assert pennon_client.is_enabled("checkout")
        assert pennon_client.revision == 7
"""


def run_inner(tmp_path: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_pytest_plugin_cleans_up_after_each_test(tmp_path: Path) -> None:
    result = run_inner(
        tmp_path,
        {"conftest.py": INNER_CONFTEST % (snapshot(),), "test_inner.py": INNER_TESTS},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_pytest_plugin_defaults(tmp_path: Path) -> None:
    result = run_inner(tmp_path, {"test_defaults.py": INNER_DEFAULTS % (snapshot(revision=7),)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_plugin_is_registered_by_the_entry_point(tmp_path: Path) -> None:
    # Not loaded through a conftest or -p: the installed wheel's `pytest11` entry point.
    result = run_inner(tmp_path, {"test_fixtures.py": "def test_fixture(pennon_flags):\n    assert pennon_flags.client.revision == 0\n"})
    assert result.returncode == 0, result.stdout + result.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--trace-config", "-q", "--co", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert "pennon.testing" in listed.stdout, listed.stdout
