"""Outcomes (docs/sdk.md, Outcomes): ``client.record``, ``client.outcome_metrics()``, batches
sent to ``POST /sdk/v1/metrics`` of a local server that captures them (and refuses some,
to prove a refused batch is sent again verbatim; stores some and then fails, to prove
nothing is counted twice), bounded memory while the server is down, batch
ids, ``close()``'s final flush, ``flush_outcomes()``, a forked child that does not resend
its parent's counts, the OpenFeature provider's ``track``, and a real ``pennon serve``
whose experiment results count what the client sent."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

import pennon
from pennon import ClientError


def boolean(fallthrough: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": "boolean", "state": "on", "variants": {"on": True, "off": False}, "offVariant": "off", "fallthrough": fallthrough}


def snapshot(extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return {
        "schemaVersion": 1,
        "revision": 3,
        "flags": {
            "new-checkout": boolean({"variant": "on"}),
            # Half the users get `on` (the canary), the others `off` (its control).
            "checkout.canary": boolean({"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}),
            **(extra or {}),
        },
    }


class MetricsServer:
    """Serves one snapshot (no stream) and captures every ``POST /sdk/v1/metrics``;
    ``refuse(attempt)`` picks the batches answered with 503; ``lose(attempt)`` → ``"503"``,
    ``"drop"``, ``"slow"`` or ``None``: the batch is stored, then answered 503, its
    connection closed unanswered (a lost response), or answered after 1 s (past a short
    timeout); ``hang`` never answers. ``stored``: the batches stored, each
    batch id once, as ``pennon serve`` keeps them (a repeat is answered ``accepted: false``)."""

    def __init__(
        self,
        snap: Dict[str, Any],
        refuse: Callable[[int], bool] = lambda attempt: False,
        lose: Callable[[int], Optional[str]] = lambda attempt: None,
        hang: bool = False,
    ) -> None:
        self.posts: List[Dict[str, Any]] = []
        self.refused: List[Dict[str, Any]] = []
        self.stored: Dict[str, Dict[str, Any]] = {}
        self.attempts = 0
        body = json.dumps(snap).encode()
        outer = self
        release = threading.Event()
        self._release = release

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/sdk/v1/snapshot":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def do_POST(self) -> None:
                text = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if hang:
                    release.wait(10)
                    return
                post = {"authorization": self.headers["Authorization"], "type": self.headers["Content-Type"], "text": text, "body": json.loads(text)}
                with lock:
                    outer.attempts += 1
                    no = refuse(outer.attempts)
                    fresh = not no and post["body"]["batch"] not in outer.stored
                    if fresh:
                        outer.stored[post["body"]["batch"]] = post["body"]
                    lost = None if no else lose(outer.attempts)
                    if lost == "drop":
                        self.close_connection = True
                        return
                    no = no or lost is not None
                    (outer.refused if no else outer.posts).append(post)
                if lost == "slow":
                    time.sleep(1.0)
                answer = b'{"error":"unavailable"}' if no else json.dumps({"accepted": fresh}).encode()
                self.send_response(503 if no else 202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self) -> List[Dict[str, Any]]:
        return [post["body"] for post in self.posts]

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., MetricsServer]]:
    servers: List[MetricsServer] = []

    def start(snap: Dict[str, Any], **options: Any) -> MetricsServer:
        server = MetricsServer(snap, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def total(bodies: List[Dict[str, Any]], flag: str, variant: str, field: str) -> int:
    """Sums ``flags.FLAG.VARIANT.FIELD`` over batches (a latency field: its counts)."""
    out = 0
    for body in bodies:
        value = body.get("flags", {}).get(flag, {}).get(variant, {}).get(field, 0)
        out += sum(count for _, count in value) if isinstance(value, list) else value
    return out


def users_of(client: pennon.Client, variant: str, count: int) -> List[Dict[str, str]]:
    out: List[Dict[str, str]] = []
    i = 0
    while len(out) < count:
        user = {"targetingKey": f"user-{i}"}
        if client.evaluate("checkout.canary", user)["variant"] == variant:
            out.append(user)
        i += 1
    return out


def wait_for(check: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_record_and_outcome_metrics_per_flag_and_cohort() -> None:
    client = pennon.Client(snapshot=snapshot())
    [on] = users_of(client, "on", 1)
    [off] = users_of(client, "off", 1)
    client.record("checkout.canary", on, ok=True, latency_ms=12)
    client.record("checkout.canary", on, error=True, latency_ms=700.5)
    client.record("checkout.canary", off, ok=True, latency_ms=3)
    client.record("checkout.canary", off, converted=True)
    text = client.outcome_metrics()
    for line in [
        'pennon_canary_requests_total{flag="checkout.canary",cohort="on"} 2',
        'pennon_canary_errors_total{flag="checkout.canary",cohort="on"} 1',
        'pennon_canary_requests_total{flag="checkout.canary",cohort="off"} 1',
        'pennon_conversions_total{flag="checkout.canary",cohort="off"} 1',
        'pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="on",le="25"} 1',
        'pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="on",le="1000"} 2',
        'pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="on",le="+Inf"} 2',
        'pennon_canary_latency_ms_count{flag="checkout.canary",cohort="on"} 2',
        'pennon_canary_latency_ms_bucket{flag="checkout.canary",cohort="off",le="5"} 1',
    ]:
        assert f"{line}\n" in text, f"missing {line} in:\n{text}"
    assert re.search(r"^# TYPE pennon_canary_latency_ms histogram$", text, re.M)
    client.close()


def test_record_invalid_outcomes_raise_but_evaluation_errors_record_nothing() -> None:
    client = pennon.Client(snapshot=snapshot())
    outcomes: List[Dict[str, Any]] = [{}, {"ok": True, "error": True}, {"ok": True, "latency_ms": -1.0}, {"ok": True, "latency_ms": float("nan")}]
    for outcome in outcomes:
        with pytest.raises(pennon.ArgumentError) as raised:
            client.record("new-checkout", {}, **outcome)
        assert raised.value.code == "invalid_argument", outcome
    with pytest.raises(TypeError):
        client.record("new-checkout", {}, ok=True, extra=1)  # type: ignore[call-arg]
    client.record("no-such-flag", {}, ok=True)
    client.record("checkout.canary", {}, ok=True)  # TARGETING_KEY_MISSING
    assert "pennon_canary_requests_total{" not in client.outcome_metrics()
    client.close()


def test_metrics_options_only_with_url_and_an_interval_above_zero() -> None:
    refused: List[Dict[str, Any]] = [
        {"snapshot": snapshot(), "metrics": True},
        {"url": "http://127.0.0.1:9", "sdk_key": "k", "metrics": "yes"},
        {"url": "http://127.0.0.1:9", "sdk_key": "k", "metrics_interval": 0},
        {"url": "http://127.0.0.1:9", "sdk_key": "k", "metrics_interval": -1},
    ]
    for options in refused:
        with pytest.raises(ClientError) as raised:
            pennon.Client(**options)
        assert raised.value.code == "invalid_config", options


def test_batches_reach_the_server_with_the_sdk_key_outcomes_and_exposures(serve: Callable[..., MetricsServer]) -> None:
    server = serve(snapshot())
    client = pennon.Client(url=server.url, sdk_key="sdk-key-1", stream=False, metrics_interval=0.05)
    client.ready()
    ons = users_of(client, "on", 3)
    offs = users_of(client, "off", 2)
    for user in ons:
        client.is_enabled("checkout.canary", user)
        client.record("checkout.canary", user, ok=True, latency_ms=20)
    for user in offs:
        client.is_enabled("checkout.canary", user)
        client.record("checkout.canary", user, error=True, latency_ms=40)
        client.record("checkout.canary", user, converted=True)
    wait_for(lambda: total(server.bodies(), "checkout.canary", "off", "conversions") == 2, "a batch")
    for post in server.posts:
        assert post["authorization"] == "Bearer sdk-key-1"
        assert post["type"] == "application/json"
        assert re.fullmatch(r"[0-9a-f]{32}", post["body"]["batch"])
        assert re.match(r"pennon-python/\d+\.\d+\.\d+", post["body"]["sdk"])
    bodies = server.bodies()
    assert total(bodies, "checkout.canary", "on", "requests") == 3
    assert total(bodies, "checkout.canary", "on", "errors") == 0
    assert total(bodies, "checkout.canary", "on", "latency") == 3
    assert total(bodies, "checkout.canary", "off", "requests") == 2
    assert total(bodies, "checkout.canary", "off", "errors") == 2
    counted = client.metrics()
    client.close()

    def evaluations(variant: str) -> int:
        pattern = rf'pennon_evaluations_total\{{flag="checkout.canary",variant="{variant}",reason="[A-Z_]+"\}} (\d+)'
        return sum(int(n) for n in re.findall(pattern, counted))

    # Every counted evaluation is one exposure (users_of's too), never a record's own.
    assert total(server.bodies(), "checkout.canary", "on", "exposures") == evaluations("on")
    assert total(server.bodies(), "checkout.canary", "off", "exposures") == evaluations("off")


def test_a_refused_batch_is_sent_again_verbatim_before_a_new_one(serve: Callable[..., MetricsServer]) -> None:
    server = serve(snapshot(), refuse=lambda attempt: attempt <= 3)
    client = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics_interval=0.03)
    errors: List[str] = []
    client.on("error", lambda event: errors.append(event.code))
    client.ready()
    [user] = users_of(client, "on", 1)
    recorded = 0
    while len(server.posts) < 2:
        client.record("checkout.canary", user, ok=True, latency_ms=5)
        recorded += 1
        time.sleep(0.007)
    client.close()
    assert len(server.refused) == 3
    first = server.refused[0]
    assert total([first["body"]], "checkout.canary", "on", "requests") > 0
    for again in server.refused + server.posts[:1]:
        assert again["text"] == first["text"], "the same batch id, the same bytes"
    # Each batch id once, as the server keeps them (close() may repeat a batch a tick sends).
    stored = list(server.stored.values())
    assert len(stored) >= 2 and stored[0]["batch"] == first["body"]["batch"]
    assert total(stored, "checkout.canary", "on", "requests") == recorded, "nothing lost, nothing counted twice"
    assert total(stored, "checkout.canary", "on", "latency") == recorded
    assert total(stored[1:2], "checkout.canary", "on", "requests") > 0, "what was recorded meanwhile comes next"
    assert errors == [], "as in the Rust SDK: a periodic failure is retried on the next tick, no event"


def test_a_batch_the_server_stored_but_failed_to_answer_is_counted_once(serve: Callable[..., MetricsServer]) -> None:
    server = serve(snapshot(), lose=lambda attempt: {1: "503", 2: "drop"}.get(attempt))
    client = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics=False)
    client.ready()
    client.record("new-checkout", {}, ok=True)
    with pytest.raises(ClientError) as raised:
        client.flush_outcomes()
    assert raised.value.code == "server_error"
    client.record("new-checkout", {}, error=True)
    with pytest.raises(ClientError) as raised:
        client.flush_outcomes()
    assert raised.value.code == "network_error", raised.value
    assert client.flush_outcomes() is True, "answered `accepted: false`: a duplicate"
    assert client.flush_outcomes() is True, "then a new batch: what was recorded meanwhile"
    assert client.flush_outcomes() is False
    client.close()
    assert len(server.posts) == 2
    stored = list(server.stored.values())
    assert server.posts[0]["body"] == stored[0], "the first batch, verbatim"
    assert len(stored) == 2
    assert total(stored, "new-checkout", "on", "requests") == 2, "each outcome counted once"
    assert total(stored, "new-checkout", "on", "errors") == 1


def test_a_send_that_timed_out_after_the_server_stored_it_is_counted_once(
    serve: Callable[..., MetricsServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pennon._http

    monkeypatch.setattr(pennon._http, "REQUEST_TIMEOUT", 0.3)  # flush_outcomes()'s limit
    server = serve(snapshot(), lose=lambda attempt: "slow" if attempt == 1 else None)
    client = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics=False)
    client.ready()
    client.record("new-checkout", {}, ok=True)
    with pytest.raises(ClientError) as raised:
        client.flush_outcomes()
    assert raised.value.code == "timeout", raised.value
    client.record("new-checkout", {}, error=True)
    assert len(server.stored) == 1, "the server stored the first attempt"
    assert client.flush_outcomes() is True, "the stored batch again: a duplicate"
    assert client.flush_outcomes() is True, "what was recorded meanwhile"
    client.close()
    assert server.posts[0]["text"] == server.refused[0]["text"]
    stored = list(server.stored.values())
    assert len(stored) == 2
    assert total(stored, "new-checkout", "on", "requests") == 2, "each outcome counted once"
    assert total(stored, "new-checkout", "on", "errors") == 1


def test_flush_outcomes_sends_now_and_reports_failures(serve: Callable[..., MetricsServer]) -> None:
    server = serve(snapshot(), refuse=lambda attempt: attempt == 1)
    client = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics_interval=60)
    client.ready()
    assert client.flush_outcomes() is False, "nothing new"
    client.record("new-checkout", {}, ok=True)
    with pytest.raises(ClientError) as raised:
        client.flush_outcomes()
    assert raised.value.code == "server_error" and "503" in raised.value.message
    assert client.flush_outcomes() is True
    assert server.posts[0]["text"] == server.refused[0]["text"], "the refused batch, sent again"
    client.close()
    with pytest.raises(ClientError) as local:
        pennon.Client(snapshot=snapshot()).flush_outcomes()
    assert local.value.code == "invalid_config"
    # With metrics off, a url client still sends when asked.
    quiet = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics=False)
    quiet.ready()
    quiet.record("new-checkout", {}, error=True)
    assert quiet.flush_outcomes() is True
    quiet.close()
    assert total(server.bodies(), "new-checkout", "on", "errors") == 1


def test_a_flag_a_local_override_answers_records_nothing_but_the_outcome_is_checked() -> None:
    client = pennon.Client(snapshot=snapshot(), env_overrides={"PENNON_FLAG_CHECKOUT_CANARY": "true"})
    client.override("new-checkout", False)
    client.record("new-checkout", {}, ok=True)
    client.record("checkout.canary", {"targetingKey": "u1"}, converted=True)
    with pytest.raises(pennon.ArgumentError):
        client.record("new-checkout", {}, ok=True, error=True)
    assert "_total{" not in client.outcome_metrics()
    client.clear_override()
    client.record("new-checkout", {}, ok=True)
    assert 'pennon_canary_requests_total{flag="new-checkout",cohort="on"} 1\n' in client.outcome_metrics()


def test_bounded_memory_while_the_server_is_down(serve: Callable[..., MetricsServer]) -> None:
    # 1,100 flags: more flag x variant pairs than the engine keeps (1,000; beyond -> `_other`,
    # which stays local: it stands for no flag).
    many = {f"f{i:04}": boolean({"variant": "on"}) for i in range(1100)}
    server = serve(snapshot(many), refuse=lambda attempt: attempt <= 8)
    client = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics_interval=0.04)
    client.ready()
    for flag in many:
        client.record(flag, {}, ok=True, latency_ms=1)
    wait_for(lambda: len(server.refused) >= 3, "three refused sends")
    for _ in range(5):
        client.record("f0000", {}, error=True)
    wait_for(lambda: len(server.refused) >= 8, "eight refused sends")
    # The held batch never grew, whatever was recorded meanwhile: the same bytes every time.
    assert all(post["text"] == server.refused[0]["text"] for post in server.refused)
    wait_for(lambda: len(server.posts) >= 2, "the held batch, then the next")
    client.close()
    assert server.posts[0]["text"] == server.refused[0]["text"]
    bodies = list(server.stored.values())
    assert all(len(body["flags"]) <= 1000 for body in bodies), "a batch keeps to the server's limit"
    sent = {flag for body in bodies for flag in body["flags"]}
    assert len(sent) == 1000 and "_other" not in sent
    requests = sum(arm.get("requests", 0) for body in bodies for variants in body["flags"].values() for arm in variants.values())
    assert requests == 1005, "each sent once, after eight refusals"
    assert total(bodies[1:], "f0000", "on", "errors") == 5, "recorded while down: in a later batch"
    assert 'pennon_canary_requests_total{flag="_other",cohort=""} 100\n' in client.outcome_metrics()


def test_close_sends_what_is_left_once_within_a_second(serve: Callable[..., MetricsServer]) -> None:
    server = serve(snapshot())
    client = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics_interval=60)
    client.ready()
    [user] = users_of(client, "off", 1)
    client.record("checkout.canary", user, converted=True)
    started = time.monotonic()
    client.close()
    client.close()
    assert time.monotonic() - started < 1.0
    assert len(server.posts) == 1, "one flush, however often close() is called"
    assert total(server.bodies(), "checkout.canary", "off", "conversions") == 1

    hanging = serve(snapshot(), hang=True)
    stuck = pennon.Client(url=hanging.url, sdk_key="k", stream=False, metrics_interval=60)
    stuck.ready()
    stuck.record("new-checkout", {}, ok=True)
    started = time.monotonic()
    stuck.close()
    took = time.monotonic() - started
    assert 0.9 <= took < 1.6, f"close() took {took:.2f} s"


def test_metrics_false_and_an_idle_client_send_nothing(serve: Callable[..., MetricsServer]) -> None:
    server = serve(snapshot())
    off = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics=False, metrics_interval=0.02)
    idle = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics_interval=0.02)
    off.ready()
    idle.ready()
    off.record("new-checkout", {}, ok=True)
    off.is_enabled("new-checkout", {})
    time.sleep(0.2)
    off.close()
    idle.close()
    assert server.attempts == 0
    assert 'pennon_canary_requests_total{flag="new-checkout",cohort="on"} 1' in off.outcome_metrics(), "still exported locally"


def test_a_forked_child_does_not_send_its_parents_counts_again(serve: Callable[..., MetricsServer]) -> None:
    server = serve(snapshot())
    client = pennon.Client(url=server.url, sdk_key="k", stream=False, metrics_interval=60)
    client.ready()
    client.record("new-checkout", {}, ok=True)
    pid = os.fork()
    if pid == 0:  # the child: records one of its own, sends on close
        try:
            client.record("new-checkout", {}, error=True)
            client.close()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0
    client.close()
    bodies = server.bodies()
    assert total(bodies, "new-checkout", "on", "requests") == 2, "the parent's one and the child's one, each once"
    assert total(bodies, "new-checkout", "on", "errors") == 1


def test_openfeature_track_records_conversions_of_the_flags_an_event_names() -> None:
    from openfeature import api
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.track import TrackingEventDetails

    from pennon.openfeature import PennonProvider

    client = pennon.Client(snapshot=snapshot())
    [on] = users_of(client, "on", 1)
    provider = PennonProvider(client, conversions={"purchase": ["checkout.canary", "new-checkout"]})
    api.set_provider_and_wait(provider, "outcomes-track")
    features = api.get_client("outcomes-track")
    context = EvaluationContext(on["targetingKey"])
    features.track("purchase", context, TrackingEventDetails(value=99.5))
    features.track("signup", context, TrackingEventDetails(attributes={"flag": "checkout.canary"}))
    features.track("page-view", context)
    text = client.outcome_metrics()
    assert 'pennon_conversions_total{flag="checkout.canary",cohort="on"} 2\n' in text, text
    assert 'pennon_conversions_total{flag="new-checkout",cohort="on"} 1\n' in text, text
    assert "pennon_canary_requests_total{" not in text, "conversions only"
    with pytest.raises(ClientError):
        PennonProvider(client, conversions={"purchase": 7})  # type: ignore[dict-item]
    api.shutdown()
    client.close()


def test_against_pennon_serve_the_experiment_results_count_the_batches_per_variant() -> None:
    from datetime import datetime, timedelta, timezone

    from flagset import boolean_flag, start_server

    server = start_server()
    try:
        split = boolean_flag("on", fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}})
        server.put_flag("checkout.split", split)
        client = pennon.Client(url=server.url, sdk_key=server.sdk_key, metrics_interval=0.1)
        client.ready()
        expected = {"on": {"exposures": 0, "conversions": 0}, "off": {"exposures": 0, "conversions": 0}}
        for i in range(60):
            user = {"targetingKey": f"user-{i}"}
            variant = client.all_flags(user)["checkout.split"]["variant"]  # not counted
            assert variant is not None
            client.is_enabled("checkout.split", user)
            expected[variant]["exposures"] += 1
            if i % 3 == 0:
                client.record("checkout.split", user, converted=True)
                expected[variant]["conversions"] += 1
        assert expected["on"]["exposures"] > 0 and expected["off"]["exposures"] > 0
        client.close()
        now = datetime.now(timezone.utc)
        since = (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        until = (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        results = server.admin("GET", f"/api/v1/environments/development/experiments/checkout.split?since={since}&until={until}")
        got = {v["variant"]: {"exposures": v["exposures"], "conversions": v["conversions"]} for v in results["variants"]}
        assert got == expected
    finally:
        server.stop()
