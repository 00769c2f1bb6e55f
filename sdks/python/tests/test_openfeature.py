"""pennon.openfeature.PennonProvider through the real OpenFeature SDK (openfeature-sdk):
api.set_provider_and_wait, get_client, *_details, add_handler, against clients over an
in-memory snapshot, a snapshot file, a dead server, and a real `pennon serve`."""

from __future__ import annotations

import asyncio
import datetime
import json
import queue
import socket
import time
from pathlib import Path
from typing import Callable, Iterator, List, Tuple

import pytest
from flagset import boolean_flag, snapshot, start_server
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from openfeature.provider import ProviderStatus

import pennon
from pennon.openfeature import PennonProvider, context_of


@pytest.fixture(autouse=True)
def fresh_openfeature() -> Iterator[None]:
    yield
    api.shutdown()


@pytest.fixture
def client() -> Iterator[pennon.Client]:
    with pennon.Client(snapshot=snapshot()) as client:
        yield client


class Events:
    """OpenFeature events of Pennon's provider seen by a client's handlers (they run on
    OpenFeature's threads). A new READY handler is called at once when the provider
    (`current`: the no-op provider before ours is set) is ready: that call is left out."""

    def __init__(self, *events: ProviderEvent, current: str = "No-op Provider") -> None:
        self.seen: "queue.Queue[Tuple[ProviderEvent, EventDetails]]" = queue.Queue()
        for event in events:
            api.get_client().add_handler(event, self._handler(event))
        if ProviderEvent.PROVIDER_READY in events:
            event, details = self.next()
            assert (event, details.provider_name) == (ProviderEvent.PROVIDER_READY, current)

    def _handler(self, event: ProviderEvent) -> Callable[[EventDetails], None]:
        return lambda details: self.seen.put((event, details))

    def next(self, timeout: float = 5.0) -> Tuple[ProviderEvent, EventDetails]:
        try:
            return self.seen.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no OpenFeature event within {timeout} s") from None

    def none_within(self, seconds: float) -> None:
        try:
            event = self.seen.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected event {event}")


def test_values_variants_reasons_and_metadata(client: pennon.Client) -> None:
    api.set_provider_and_wait(PennonProvider(client))
    of = api.get_client()
    assert api.get_provider_metadata().name == "pennon"
    assert of.get_provider_status() == ProviderStatus.READY

    details = of.get_boolean_details("checkout", False, EvaluationContext("user-1"))
    assert (details.value, details.variant, details.reason, details.error_code) == (True, "on", Reason.STATIC, None)
    # Scalar metadata of the flag plus the revision; the list `tags` is not an OpenFeature value.
    assert dict(details.flag_metadata) == {"owner": "payments", "ticket": 42, "revision": 1}

    hallo = of.get_string_details("greeting", "hi", EvaluationContext("user-2", {"country": "AT"}))
    assert (hallo.value, hallo.variant, hallo.reason) == ("hallo", "hallo", Reason.TARGETING_MATCH)
    hello = of.get_string_details("greeting", "hi", EvaluationContext("user-3", {"country": "FR"}))
    assert (hello.value, hello.variant, hello.reason) == ("hello", "hello", Reason.DEFAULT)

    off = of.get_boolean_details("retired", True)
    assert (off.value, off.variant, off.reason) == (False, "off", Reason.DISABLED)
    # Pennon's own reasons pass through as custom reasons.
    assert of.get_boolean_details("killed", True).reason == "KILLED"
    assert of.get_boolean_details("invoices.write", True).reason == "SHADOW"

    assert of.get_integer_details("max-retries", 1).value == 3
    assert of.get_float_details("max-retries", 1.5).value == 3.0
    assert of.get_float_details("sample-rate", 1.0).value == 0.5
    limits = of.get_object_details("limits", {})
    assert (limits.value, limits.variant) == ({"rps": 10, "burst": 20}, "default")
    assert of.get_boolean_value("new-pricing", False, EvaluationContext("vip")) is True
    assert of.get_boolean_value("new-pricing", True, EvaluationContext("bob")) is False
    # The async API answers the same (evaluation does no IO: nothing to await inside).
    async_details = asyncio.run(of.get_string_details_async("greeting", "hi", EvaluationContext("u", {"country": "DE"})))
    assert (async_details.value, async_details.reason) == ("hallo", Reason.TARGETING_MATCH)


def test_errors_map_to_openfeature_codes(client: pennon.Client) -> None:
    api.set_provider_and_wait(PennonProvider(client))
    of = api.get_client()
    missing = of.get_string_details("no-such-flag", "fallback")
    assert (missing.value, missing.reason, missing.error_code) == ("fallback", Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
    assert missing.error_message

    wrong = of.get_string_details("checkout", "fallback")
    assert (wrong.value, wrong.error_code, wrong.reason) == ("fallback", ErrorCode.TYPE_MISMATCH, Reason.ERROR)
    fraction = of.get_integer_details("sample-rate", 7)
    assert (fraction.value, fraction.error_code) == (7, ErrorCode.TYPE_MISMATCH)

    # A percentage split needs a unit to bucket: no targeting key is core's TARGETING_KEY_MISSING.
    flags = {"split": {**boolean_flag("on"), "fallthrough": {"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}}}
    with pennon.Client(snapshot=snapshot(flags=flags)) as bucketed:
        api.set_provider_and_wait(PennonProvider(bucketed), domain="bucketed")
        no_key = api.get_client("bucketed").get_boolean_details("split", False)
        assert (no_key.value, no_key.error_code) == (False, ErrorCode.TARGETING_KEY_MISSING)


def test_overrides_and_hooks_of_the_client_apply(client: pennon.Client) -> None:
    seen: List[str] = []
    client.on_evaluation(lambda flag, details: seen.append(flag))
    client.override("retired", True)
    api.set_provider_and_wait(PennonProvider(client))
    details = api.get_client().get_boolean_details("retired", False)
    assert (details.value, details.variant, details.reason) == (True, "override", Reason.STATIC)
    assert seen == ["retired"]


def test_evaluation_context_mapping() -> None:
    when = datetime.datetime(2026, 12, 6, 9, 30, tzinfo=datetime.timezone.utc)
    context = EvaluationContext(
        "user-1",
        {"country": "AT", "age": 42, "beta": True, "signedUpAt": when, "naive": datetime.datetime(2026, 1, 2, 3, 4, 5), "tags": ["a", "b"], "org": {"plan": "pro"}},
    )
    assert context_of(context) == {
        "targetingKey": "user-1",
        "country": "AT",
        "age": 42,
        "beta": True,
        "signedUpAt": "2026-12-06T09:30:00+00:00",
        "naive": "2026-01-02T03:04:05+00:00",
        "tags": ["a", "b"],
        "org": {"plan": "pro"},
    }
    assert context_of(None) == {}
    assert context_of(EvaluationContext(attributes={"targetingKey": "from-attributes"})) == {"targetingKey": "from-attributes"}


def test_api_level_context_is_merged(client: pennon.Client) -> None:
    api.set_provider_and_wait(PennonProvider(client))
    api.set_evaluation_context(EvaluationContext(attributes={"country": "CH"}))
    assert api.get_client().get_string_value("greeting", "hi", EvaluationContext("user-1")) == "hallo"


def test_ready_and_configuration_changed_from_a_snapshot_file(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(snapshot(revision=1)))
    with pennon.Client(file=str(path), poll_interval=0.05) as client:
        events = Events(ProviderEvent.PROVIDER_READY, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
        api.set_provider_and_wait(PennonProvider(client))
        assert events.next()[0] == ProviderEvent.PROVIDER_READY
        events.none_within(0.2)  # READY once: OpenFeature's, not the client's again

        flags = dict(snapshot()["flags"])
        flags["checkout"] = boolean_flag("kill")
        time.sleep(0.05)  # a new modification time
        path.write_text(json.dumps(snapshot(revision=2, flags=flags)))
        event, details = events.next()
        assert event == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
        assert details.flags_changed == ["checkout"], "core's keys"
        assert details.metadata == {"revision": 2, "previousRevision": 1}
        assert details.provider_name == "pennon"
        assert api.get_client().get_boolean_details("checkout", True).reason == "KILLED"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_client_that_never_gets_ready_is_a_provider_error() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with pennon.Client(url=dead, sdk_key="k", init_timeout=0.3) as client:
        events = Events(ProviderEvent.PROVIDER_ERROR)
        with pytest.raises(Exception) as raised:
            api.set_provider_and_wait(PennonProvider(client))
        assert "init_timeout" in str(raised.value)
        event, details = events.next()
        assert event == ProviderEvent.PROVIDER_ERROR
        assert api.get_client().get_provider_status() == ProviderStatus.ERROR
        assert api.get_client().get_boolean_details("checkout", False).error_code == ErrorCode.PROVIDER_NOT_READY


def test_errors_while_not_ready_then_a_late_first_snapshot_is_ready(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"  # not there yet
    with pennon.Client(file=str(path), poll_interval=0.05, init_timeout=0.3) as client:
        events = Events(ProviderEvent.PROVIDER_READY, ProviderEvent.PROVIDER_ERROR)
        with pytest.raises(Exception, match="init_timeout"):
            api.set_provider_and_wait(PennonProvider(client))
        # OpenFeature's own error for the failed initialize, then the client's failing
        # checks (it holds no snapshot, so it cannot evaluate: ERROR is right).
        first, _ = events.next()
        assert first == ProviderEvent.PROVIDER_ERROR
        event, details = events.next()
        assert event == ProviderEvent.PROVIDER_ERROR and details.message and ":" in details.message
        assert api.get_client().get_provider_status() == ProviderStatus.ERROR

        path.write_text(json.dumps(snapshot(revision=3)))
        deadline = time.monotonic() + 5
        while True:
            event, details = events.next(timeout=max(0.01, deadline - time.monotonic()))
            if event == ProviderEvent.PROVIDER_READY:
                break
        assert details.metadata == {"revision": 3}
        assert api.get_client().get_provider_status() == ProviderStatus.READY
        assert api.get_client().get_boolean_value("checkout", False) is True


def test_stale_from_a_bootstrapped_client_whose_server_is_gone() -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with pennon.Client(url=dead, sdk_key="k", bootstrap=json.dumps(snapshot()), stale_after=0.3, stream=False, poll_interval=0.1) as client:
        events = Events(ProviderEvent.PROVIDER_STALE, ProviderEvent.PROVIDER_ERROR)
        api.set_provider_and_wait(PennonProvider(client))
        event, details = events.next()
        assert event == ProviderEvent.PROVIDER_STALE, "failed checks with a snapshot held: stale, not error"
        assert details.metadata["revision"] == 1
        assert api.get_client().get_provider_status() == ProviderStatus.STALE
        # Still serving the last good snapshot.
        assert api.get_client().get_boolean_value("checkout", False) is True


def test_stale_then_ready_again_when_the_server_is_back() -> None:
    server = start_server()
    try:
        server.put_flag("checkout", boolean_flag("on"))
        # A short breaker: recovery is seen within a poll or two of the server being back.
        with pennon.Client(
            url=server.url, sdk_key=server.sdk_key, stream=False, poll_interval=0.1, stale_after=0.5, breaker=(5, 0.2)
        ) as client:
            api.set_provider_and_wait(PennonProvider(client))
            events = Events(ProviderEvent.PROVIDER_STALE, ProviderEvent.PROVIDER_READY, ProviderEvent.PROVIDER_ERROR, current="pennon")
            server.pause()
            event, _ = events.next()
            assert event == ProviderEvent.PROVIDER_STALE, "failed checks with a snapshot held: stale, not error"
            assert api.get_client().get_provider_status() == ProviderStatus.STALE
            assert api.get_client().get_boolean_value("checkout", False) is True, "the last good snapshot serves"
            server.resume()
            event, details = events.next(timeout=10)
            assert event == ProviderEvent.PROVIDER_READY and details.metadata == {"revision": client.revision}
            assert api.get_client().get_provider_status() == ProviderStatus.READY
    finally:
        server.stop()


@pytest.mark.parametrize("close_on_shutdown", [False, True])
def test_shutdown_closes_the_client_only_when_asked(tmp_path: Path, close_on_shutdown: bool) -> None:
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(snapshot(revision=1)))
    with pennon.Client(file=str(path), poll_interval=0.05) as client:
        api.set_provider_and_wait(PennonProvider(client, close_on_shutdown=close_on_shutdown))
        api.shutdown()
        time.sleep(0.05)
        path.write_text(json.dumps(snapshot(revision=2)))
        deadline = time.monotonic() + 1.0
        while client.revision == 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        # A closed client stops refreshing; one left open picks the new file up.
        assert client.revision == (1 if close_on_shutdown else 2)


def test_against_pennon_serve_a_kill_is_a_configuration_change() -> None:
    server = start_server()
    try:
        server.put_flag("checkout", boolean_flag("on"))
        with pennon.Client(url=server.url, sdk_key=server.sdk_key) as client:
            events = Events(ProviderEvent.PROVIDER_READY, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
            api.set_provider_and_wait(PennonProvider(client))
            assert events.next()[0] == ProviderEvent.PROVIDER_READY
            of = api.get_client()
            details = of.get_boolean_details("checkout", False, EvaluationContext("user-1"))
            assert (details.value, details.reason) == (True, Reason.STATIC)
            revision = details.flag_metadata["revision"]

            killed_at = time.monotonic()
            server.kill("checkout")
            event, changed = events.next(timeout=5)
            assert time.monotonic() - killed_at < 1.0, "seen within 1 s"
            assert event == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
            assert changed.flags_changed == ["checkout"]
            after = of.get_boolean_details("checkout", True, EvaluationContext("user-1"))
            assert (after.value, after.reason) == (False, "KILLED")
            later = after.flag_metadata["revision"]
            assert isinstance(revision, int) and isinstance(later, int) and later > revision
    finally:
        server.stop()
