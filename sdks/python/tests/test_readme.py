"""The README's examples run: every ```python block of sdks/python/README.md, in order,
in one namespace, against a real `pennon serve` (PENNON_URL and PENNON_SDK_KEY are what
the README reads). `python test_readme.py FILE` writes the blocks as one module, which
the packaging test type-checks with mypy --strict.

PENNON_README names another copy of the README (the packaging test runs this file from
an empty directory)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from flagset import Server, boolean_flag, constant_flag, start_server

README = Path(os.environ.get("PENNON_README") or Path(__file__).resolve().parents[1] / "README.md")


def python_blocks() -> List[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    server = start_server()
    try:
        server.put_flag("new-checkout", boolean_flag("on"))
        server.put_flag("max-retries", constant_flag("number", "five", 5))
        server.put_flag("banner", constant_flag("string", "hello", "Hello!"))
        server.put_flag("legacy-export", boolean_flag("kill"))
        # In state shadow: tenant t-1's on path serves `on` (shadow mode), t-2's `off`.
        server.put_flag(
            "invoices.write",
            boolean_flag("shadow", fallthrough={"variant": "off"}, targets=[{"variant": "on", "users": ["t-1"]}]),
        )
        yield server
    finally:
        server.stop()


def test_the_readme_has_examples() -> None:
    assert len(python_blocks()) >= 10


def test_the_readme_examples_run(server: Server, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENNON_URL", server.url)
    monkeypatch.setenv("PENNON_SDK_KEY", server.sdk_key)
    namespace: Dict[str, Any] = {"__name__": "readme"}
    for number, block in enumerate(python_blocks(), 1):
        exec(compile(block, f"{README.name} python block {number}", "exec"), namespace)
    # The pytest example is a test: run it with the plugin's fixture value.
    from pennon.testing import FlagOverrides, testing_client

    with testing_client() as fixture_client, FlagOverrides(fixture_client) as pennon_flags:
        namespace["test_checkout_uses_the_new_flow"](pennon_flags)

    printed = capsys.readouterr().out
    for expected in [
        "new checkout for user-123",
        "True on STATIC True",
        "embedded: True",
        "from a file: True",
        "async: True",
        "auto submit for user-123",
        "True on STATIC",
        "price: 90",
        "{'error': 'FEATURE_DISABLED', 'flag': 'legacy-export', 'state': 'kill', 'reason': 'KILLED'}",
        "{'shadow': True}",
        "403 {'error': 'FEATURE_DISABLED', 'flag': 'invoices.write', 'state': 'shadow', 'reason': 'SHADOW'}",
        "openfeature: True on STATIC",
        "openfeature: fallback FLAG_NOT_FOUND",
        "testing client: True 5",
        "overridden: False",
        "restored: True",
        "env override: False STATIC",
        "exposures: [('new-checkout', 'on')]",
        'pennon_evaluations_total{flag="new-checkout",variant="on",reason="STATIC"}',
        "checkout: new",
        'pennon_canary_requests_total{flag="new-checkout",cohort="on"} 1',
        'pennon_conversions_total{flag="banner",cohort="hello"} 1',
        "conversions: ['pennon_conversions_total{flag=\"banner\",cohort=\"hello\"} 2', "
        "'pennon_conversions_total{flag=\"new-checkout\",cohort=\"on\"} 1']",
    ]:
        assert expected in printed, f"{expected!r} not in the README's output:\n{printed}"
    assert namespace["retries"] == 5 and namespace["banner"] == "Hello!"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text("\n\n".join(python_blocks()), encoding="utf-8")
