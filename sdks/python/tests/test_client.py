"""The client without a server: snapshot, file and bootstrap sources, readiness, overrides,
environment variables, metrics, hooks, events, atomic swaps, fork safety."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

import pennon
from conftest import ROOT
from pennon.client import _compile

FIXTURES = ROOT / "tests" / "sdk" / "fixtures"
USER = {"targetingKey": "u1"}
STAFF = {"targetingKey": "u2", "email": "ada@pennon.dev"}


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def numbered(revision: int, generated_at: str = "2026-01-01T00:00:00Z") -> Dict[str, Any]:
    """A snapshot whose flag `which` serves the string `r<revision>`."""
    return {
        "schemaVersion": 1,
        "revision": revision,
        "generatedAt": generated_at,
        "flags": {
            "which": {
                "type": "string",
                "state": "on",
                "variants": {"v": f"r{revision}"},
                "offVariant": "v",
                "fallthrough": {"variant": "v"},
            },
            "steady": {
                "type": "boolean",
                "state": "on",
                "variants": {"on": True, "off": False},
                "offVariant": "off",
                "fallthrough": {"variant": "on"},
            },
        },
    }


def closed_port_url() -> str:
    """A URL nothing listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def wait_until(predicate: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def test_snapshot_source_answers_every_type() -> None:
    with pennon.Client(snapshot=fixture("basic-r1")) as client:
        client.ready()
        assert client.revision == 1 and not client.is_stale
        assert client.is_enabled("new-checkout", USER) is True
        assert client.get_boolean("new-checkout", USER, False) is True
        assert client.get_string("banner", STAFF, "x") == "hello staff"
        assert client.get_string("banner", USER, "x") == "hello r1"
        assert client.get_number("max-retries", USER, 0) == 3
        assert client.get_object("banner", USER, {"d": 1}) == {"d": 1}  # type mismatch: the default
        assert client.get_string("missing", USER, "fallback") == "fallback"
        details = client.evaluate("banner", STAFF)
        assert (details["value"], details["variant"], details["reason"], details["ruleId"]) == (
            "hello staff",
            "staff",
            "TARGETING_MATCH",
            "staff",
        )
        assert details["revision"] == 1 and details["age"] is None  # basic-r1 has no generatedAt
        missing = client.evaluate("missing", USER)
        assert (missing["value"], missing["reason"], missing["errorCode"]) == (None, "ERROR", "FLAG_NOT_FOUND")


def test_details_carry_the_age_of_the_snapshot() -> None:
    generated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    with pennon.Client(snapshot=numbered(4, generated)) as client:
        details = client.evaluate("which")
        assert details["revision"] == 4
        assert details["age"] is not None and 59_000 <= details["age"] <= 62_000, details


def test_a_getter_default_must_have_the_getters_type() -> None:
    with pennon.Client(snapshot=fixture("basic-r1")) as client:
        with pytest.raises(pennon.ArgumentError) as caught:
            client.get_boolean("new-checkout", USER, "no")  # type: ignore[arg-type]
        assert caught.value.code == "invalid_argument"
        client.override("other", True)  # the slow path words it the same way
        with pytest.raises(pennon.ArgumentError, match="must be a boolean, not a string"):
            client.get_boolean("new-checkout", USER, "no")  # type: ignore[arg-type]
        assert client.get_object("banner", USER, None) is None


def test_configuration_errors() -> None:
    for options in (
        {},
        {"url": "http://x", "file": "y"},
        {"url": "ftp://x", "sdk_key": "k"},
        {"url": "http://x"},
        {"file": "f", "bootstrap": "{}"},
        {"snapshot": "{}", "init_timeout": -1},
    ):
        with pytest.raises(pennon.ClientError) as caught:
            pennon.Client(**options)
        assert caught.value.code == "invalid_config", options
    with pytest.raises(pennon.ClientError) as caught:
        pennon.Client(snapshot="{")
    assert caught.value.code == "invalid_json"


def test_before_the_first_snapshot_answers_provider_not_ready_and_ready_times_out() -> None:
    client = pennon.Client(url=closed_port_url(), sdk_key="k", init_timeout=0.3)
    try:
        details = client.evaluate("new-checkout", USER)
        assert (details["value"], details["errorCode"], details["revision"]) == (None, "PROVIDER_NOT_READY", None)
        assert client.get_boolean("new-checkout", USER, True) is True
        started = time.monotonic()
        with pytest.raises(pennon.ClientError) as caught:
            client.ready()
        assert caught.value.code == "init_timeout"
        assert "network_error" in str(caught.value)  # names the last error
        assert time.monotonic() - started < 1.0
        with pytest.raises(pennon.ClientError):
            client.ready(timeout=0.05)
    finally:
        client.close()


def test_close_wakes_a_waiting_ready_and_never_hangs() -> None:
    client = pennon.Client(url=closed_port_url(), sdk_key="k", init_timeout=30)
    errors: List[pennon.ClientError] = []

    def wait() -> None:
        try:
            client.ready()
        except pennon.ClientError as error:
            errors.append(error)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)
    started = time.monotonic()
    client.close()
    waiter.join(2)
    assert not waiter.is_alive()
    assert [e.code for e in errors] == ["closed"]
    assert time.monotonic() - started < 1.5
    client.close()  # idempotent
    with pytest.raises(pennon.ClientError) as caught:
        client.ready()
    assert caught.value.code == "closed"


def test_ready_async() -> None:
    async def main() -> None:
        with pennon.Client(snapshot=fixture("basic-r1")) as ready:
            await ready.ready_async()
        slow = pennon.Client(url=closed_port_url(), sdk_key="k", init_timeout=0.2)
        try:
            # The event loop keeps running while it waits.
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            ticker = asyncio.ensure_future(tick())
            with pytest.raises(pennon.ClientError) as caught:
                await slow.ready_async()
            ticker.cancel()
            assert caught.value.code == "init_timeout"
            assert ticks >= 5
        finally:
            slow.close()

    asyncio.run(main())


def test_ready_async_resolves_when_the_refresh_thread_installs(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"

    async def main() -> None:
        with pennon.Client(file=str(path), poll_interval=0.02) as client:
            assert client.revision is None
            loop = asyncio.get_running_loop()
            loop.call_later(0.1, path.write_text, fixture("basic-r1"))
            await client.ready_async(timeout=3)
            assert client.revision == 1

    asyncio.run(main())


def test_overrides_answer_static_override() -> None:
    with pennon.Client(snapshot=fixture("basic-r1")) as client:
        client.override("new-checkout", False).override("brand-new", "yes")
        details = client.evaluate("new-checkout", USER)
        assert (details["value"], details["variant"], details["reason"], details["revision"]) == (
            False,
            "override",
            "STATIC",
            1,
        )
        assert client.is_enabled("new-checkout", USER) is False
        assert client.get_string("brand-new", USER, "no") == "yes"
        # An override of another type does not answer a typed getter.
        assert client.get_boolean("brand-new", USER, True) is True
        assert set(client.all_flags(USER)) == {"banner", "brand-new", "max-retries", "new-checkout"}
        assert client.all_flags(USER)["new-checkout"]["variant"] == "override"
        client.clear_override("new-checkout")
        assert client.is_enabled("new-checkout", USER) is True
        client.clear_override()
        assert "brand-new" not in client.all_flags(USER)


def test_environment_overrides_apply_when_the_type_matches() -> None:
    env = {
        "PENNON_FLAG_NEW_CHECKOUT": "false",
        "PENNON_FLAG_MAX_RETRIES": "not a number",
        "PENNON_FLAG_BANNER": "from the environment",
    }
    with pennon.Client(snapshot=fixture("basic-r1"), env_overrides=env) as client:
        assert client.is_enabled("new-checkout", USER) is False
        assert client.evaluate("new-checkout", USER)["reason"] == "STATIC"
        assert client.get_number("max-retries", USER, 0) == 3  # a string for a number flag: ignored
        assert client.get_string("banner", STAFF, "") == "from the environment"
    with pennon.Client(snapshot=fixture("basic-r1")) as off:  # opt-in
        assert off.is_enabled("new-checkout", USER) is True


def test_environment_overrides_from_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENNON_FLAG_MAX_RETRIES", "7")
    with pennon.Client(snapshot=fixture("basic-r1"), env_overrides=True) as client:
        assert client.get_number("max-retries", USER, 0) == 7


def test_metrics_and_hooks() -> None:
    with pennon.Client(snapshot=fixture("basic-r1")) as client:
        seen: List[Any] = []
        remove = client.on_evaluation(lambda flag, details: seen.append((flag, details["reason"])))
        client.is_enabled("new-checkout", USER)
        client.get_string("banner", STAFF, "")
        client.evaluate("missing", USER)
        client.all_flags(USER)  # neither counted nor hooked
        remove()
        client.is_enabled("new-checkout", USER)
        assert seen == [("new-checkout", "STATIC"), ("banner", "TARGETING_MATCH"), ("missing", "ERROR")]
        text = client.metrics()
        assert 'pennon_evaluations_total{flag="new-checkout",variant="on",reason="STATIC"} 2\n' in text
        assert 'pennon_evaluations_total{flag="banner",variant="staff",reason="TARGETING_MATCH"} 1\n' in text
        assert 'pennon_evaluations_total{flag="missing",variant="",reason="ERROR"} 1\n' in text


def test_counts_lose_nothing_across_threads_overrides_and_swaps(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(fixture("basic-r1"))
    with pennon.Client(file=str(path), poll_interval=0.02) as client:
        client.ready(5)
        assert "get_boolean" in vars(client), "no override or hook: the getters are the engine's"
        per_thread = 5_000

        def work() -> None:
            for _ in range(per_thread):
                client.is_enabled("new-checkout", USER)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        # A newer snapshot swaps the engine while the threads count.
        path.write_text(fixture("basic-r2"))
        os.utime(path, (time.time() + 2, time.time() + 2))
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 5
        while client.revision != 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.revision == 2
        client.override("new-checkout", True)
        assert "get_boolean" not in vars(client), "an override takes the getters off the fast path"
        assert client.get_boolean("new-checkout", USER, False) is True
        with pytest.raises(pennon.ArgumentError):
            client.get_boolean("new-checkout", USER, "no")  # type: ignore[arg-type]
        client.clear_override()
        text = client.metrics()
        counted = sum(
            int(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith('pennon_evaluations_total{flag="new-checkout",') and 'reason="ERROR"' not in line
        )
        assert counted == 4 * per_thread + 1, text
        assert 'pennon_evaluations_total{flag="new-checkout",variant="override",reason="STATIC"} 1\n' in text


def test_a_raising_hook_becomes_an_error_event() -> None:
    with pennon.Client(snapshot=fixture("basic-r1")) as client:
        errors: List[pennon.ErrorEvent] = []
        client.on("error", errors.append)

        def bad(flag: str, details: pennon.Details) -> None:
            raise RuntimeError("boom")

        client.on_evaluation(bad)
        assert client.is_enabled("new-checkout", USER) is True
        assert [e.code for e in errors] == ["hook_failed"]


def test_events_before_the_first_listener_are_given_to_it() -> None:
    client = pennon.Client(snapshot=fixture("basic-r1"))
    got: List[pennon.ReadyEvent] = []
    client.on("ready", got.append)
    assert got == [pennon.ReadyEvent(revision=1, recovered=False)]
    later: List[pennon.ReadyEvent] = []
    client.on("ready", later.append)  # only the first listener gets what was held
    assert later == []
    client.close()


def test_file_source_rereads_on_change_and_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(fixture("basic-r1"))
    with pennon.Client(file=str(path), poll_interval=0.02) as client:
        assert client.revision == 1  # the first read happens in the constructor
        changes: List[pennon.ChangeEvent] = []
        errors: List[pennon.ErrorEvent] = []
        client.on("change", changes.append)
        client.on("error", errors.append)
        path.write_text(fixture("basic-r2"))
        assert wait_until(lambda: changes), "no change event"
        expected = _compile(fixture("basic-r2").encode()).engine.changed_flags(
            _compile(fixture("basic-r1").encode()).engine
        )
        assert changes[0] == pennon.ChangeEvent(revision=2, previous_revision=1, flags=expected)
        assert expected, "basic-r2 changes some flag"
        path.write_text("{ not json")
        assert wait_until(lambda: errors), "no error event"
        assert errors[0].code == "invalid_json"
        assert client.revision == 2
        path.write_text(fixture("basic-r1"))  # older: refused
        assert wait_until(lambda: any(e.code == "revision_older" for e in errors))
        assert client.revision == 2


def test_bootstrap_makes_a_client_ready_offline() -> None:
    with pennon.Client(url=closed_port_url(), sdk_key="k", bootstrap=fixture("basic-r1")) as client:
        client.ready(timeout=0.01)
        assert client.revision == 1
        assert client.get_string("banner", USER, "") == "hello r1"


def test_bootstrap_file(tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.json"
    path.write_text(fixture("basic-r2"))
    with pennon.Client(url=closed_port_url(), sdk_key="k", bootstrap_file=str(path)) as client:
        assert client.revision == 2
    with pytest.raises(pennon.ClientError) as caught:
        pennon.Client(url=closed_port_url(), sdk_key="k", bootstrap_file=str(tmp_path / "none.json"))
    assert caught.value.code == "io_error"


def test_readers_never_see_half_of_two_snapshots() -> None:
    client = pennon.Client(snapshot=numbered(1))
    stop = threading.Event()
    problems: List[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            details = client.evaluate("which")
            if details["value"] != f"r{details['revision']}":
                problems.append(f"{details}")
            reads[0] += 1

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for revision in range(2, 300):
            client._install(_compile(json.dumps(numbered(revision)).encode()), None)
    finally:
        stop.set()
        for t in readers:
            t.join()
        client.close()
    assert problems == []
    assert reads[0] > 100 and client.revision == 299


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
# Python >= 3.12 warns about fork() in a threaded process: forking a process whose client
# thread runs (a preloading gunicorn master) is exactly what this test is about.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_keeps_refreshing_with_no_call(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(numbered(1)))
    client = pennon.Client(file=str(path), poll_interval=0.02)
    try:
        assert client.get_string("which", USER, "") == "r1"
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: no call to the client but evaluations
            os.close(read_end)
            seen = wait_until(lambda: client.get_string("which", USER, "") == "r2", 5.0)
            os.write(write_end, b"r2" if seen else client.get_string("which", USER, "?").encode())
            os._exit(0 if seen else 1)
        os.close(write_end)
        time.sleep(0.1)  # the change happens after the fork
        path.write_text(json.dumps(numbered(2)))
        _, status = os.waitpid(pid, 0)
        answer = os.read(read_end, 100)
        os.close(read_end)
        assert os.waitstatus_to_exitcode(status) == 0, f"the child saw {answer!r}"
        assert answer == b"r2"
        assert wait_until(lambda: client.get_string("which", USER, "") == "r2")  # the parent, too
    finally:
        client.close()
