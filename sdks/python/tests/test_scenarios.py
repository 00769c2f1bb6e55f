"""The language-neutral SDK behaviour suite (tests/sdk/, format in its README), run by the
Python client: every scenario in tests/sdk/scenarios/ against its own pennon-sdk-harness
process (env PENNON_SDK_HARNESS; a missing binary fails loudly with the command that
builds it). PENNON_SCENARIO=name runs one scenario.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import time
import urllib.request
from dataclasses import asdict
from typing import Any, Dict, List, Optional

import pytest

import pennon
from conftest import ROOT, binary, listening_url, same

# Scenarios this SDK cannot express, by name, with the reason: reported as xfail-free
# failures would hide nothing, so they are listed here and the list is checked below.
NOT_EXPRESSIBLE: Dict[str, str] = {}

SDK_KEY = "harness-sdk-key"
DEFAULT_WITHIN_MS = 3000
SCENARIOS_DIR = ROOT / "tests" / "sdk" / "scenarios"
KNOWN_OPTIONS = {
    "stream",
    "pollIntervalMs",
    "initTimeoutMs",
    "staleAfterMs",
    "heartbeatMs",
    "publicKey",
    "backoffBaseMs",
    "backoffCapMs",
    "breakerFailures",
    "breakerOpenMs",
}


def load_scenarios() -> List[Dict[str, Any]]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(SCENARIOS_DIR.glob("*.json"))]


SCENARIOS = load_scenarios()


class Harness:
    def __init__(self) -> None:
        path = binary(
            "PENNON_SDK_HARNESS", "cargo build -p pennon-sdk-harness --bin pennon-sdk-harness"
        )
        self.process = subprocess.Popen(
            [path, "--exit-with-stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.url = listening_url(self.process, "harness:", 10)

    def control(self, path: str, body: Optional[Any] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method="GET" if body is None else "POST",
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def requests(self) -> List[Dict[str, Any]]:
        result: List[Dict[str, Any]] = self.control("/_harness/requests").get("requests", [])
        return result

    def public_key(self, which: str) -> str:
        keys = self.control("/_harness/public-key")
        return str(keys["wrongPublicKey"] if which == "wrong" else keys["publicKey"])

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.kill()
        self.process.wait()


# The scenario files' names for the payload fields (the TypeScript client's words).
EVENT_FIELDS = {"previousRevision": "previous_revision"}


def event_record(kind: str, payload: Any) -> Dict[str, Any]:
    record = {"type": kind}
    for key, value in asdict(payload).items():
        record[{v: k for k, v in EVENT_FIELDS.items()}.get(key, key)] = value
    return record


def event_matches(spec: Dict[str, Any], event: Dict[str, Any]) -> bool:
    if spec["type"] != event["type"]:
        return False
    for key in ("revision", "previousRevision", "code", "recovered"):
        if key in spec and not same(spec[key], event.get(key)):
            return False
    # Exactly core's keys (Snapshot::changed_flags), sorted: every SDK reports the same.
    if isinstance(spec.get("flags"), list) and not same(spec["flags"], event.get("flags")):
        return False
    return True


def headers_match(expected: Dict[str, Any], request: Dict[str, Any]) -> bool:
    for name, want in expected.items():
        got = (request.get("headers") or {}).get(name.lower())
        if isinstance(want, bool):
            if want != (got is not None):
                return False
        elif want != got:
            return False
    return True


def route_mismatch(route: str, spec: Dict[str, Any], log: List[Dict[str, Any]]) -> Optional[str]:
    requests = [r for r in log if r["route"] == route and ("status" not in spec or r["status"] == spec["status"])]
    n = len(requests)
    what = f"{route} requests" if "status" not in spec else f"{route} requests answered {spec['status']}"
    if "count" in spec and n != spec["count"]:
        return f"{n} {what}, expected {spec['count']}"
    if "min" in spec and n < spec["min"]:
        return f"{n} {what}, expected at least {spec['min']}"
    if "max" in spec and n > spec["max"]:
        return f"{n} {what}, expected at most {spec['max']}"
    if "every" in spec:
        for r in requests:
            if not headers_match(spec["every"], r):
                return f"a {route} request does not have {spec['every']}: {r.get('headers')}"
    if "some" in spec and not any(headers_match(spec["some"], r) for r in requests):
        return f"no {what} has {spec['some']}"
    return None


def summarize(log: List[Dict[str, Any]]) -> str:
    return ", ".join(f"{r['route']}@{r['atMs']}ms:{r['status']} {r.get('headers')}" for r in log)


class Run:
    def __init__(self, harness: Harness, config: Optional[Dict[str, Any]]) -> None:
        self.harness = harness
        self.config = config or {}
        self.client: Optional[pennon.Client] = None
        self.events: "queue.Queue[Dict[str, Any]]" = queue.Queue()

    def get_client(self) -> pennon.Client:
        if self.client is None:
            c = self.config
            unknown = set(c) - KNOWN_OPTIONS
            assert not unknown, f"client options {unknown} are unknown to the Python runner"
            # The scenarios are about snapshots: no outcome batches in the harness's request
            # log (test_outcomes.py tests those).
            options: Dict[str, Any] = {"url": self.harness.url, "sdk_key": SDK_KEY, "metrics": False}
            if "stream" in c:
                options["stream"] = c["stream"]
            for key, name in (
                ("pollIntervalMs", "poll_interval"),
                ("initTimeoutMs", "init_timeout"),
                ("staleAfterMs", "stale_after"),
                ("heartbeatMs", "heartbeat"),
            ):
                if key in c:
                    options[name] = c[key] / 1000
            if isinstance(c.get("publicKey"), str):
                options["public_key"] = self.harness.public_key(c["publicKey"])
            if "backoffBaseMs" in c or "backoffCapMs" in c:
                options["backoff"] = (c.get("backoffBaseMs", 1000) / 1000, c.get("backoffCapMs", 30_000) / 1000)
            if "breakerFailures" in c or "breakerOpenMs" in c:
                options["breaker"] = (c.get("breakerFailures", 5), c.get("breakerOpenMs", 30_000) / 1000)
            client = pennon.Client(**options)
            self.client = client
            for kind in ("ready", "change", "error", "stale"):
                client.on(kind, lambda payload, kind=kind: self.events.put(event_record(kind, payload)))  # type: ignore[misc]
        return self.client

    def next_event(self, deadline: float) -> Optional[Dict[str, Any]]:
        try:
            return self.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def step(self, step: Dict[str, Any]) -> None:
        assert len(step) == 1, "a step is an object with exactly one key"
        ((kind, spec),) = step.items()
        if kind == "serve":
            self.harness.control("/_harness/script", spec)
            return
        client = self.get_client()
        if kind == "wait":
            time.sleep(spec / 1000)
        elif kind == "ready":
            self.ready(client, spec)
        elif kind == "expectValue":
            self.expect_value(client, spec)
        elif kind == "expectEvent":
            self.expect_event(spec)
        elif kind == "expectNoEvent":
            self.expect_no_event(spec)
        elif kind == "expectRequests":
            self.expect_requests(spec)
        elif kind == "expectNoRequests":
            self.harness.requests()
            time.sleep(spec["forMs"] / 1000)
            log = [r for r in self.harness.requests() if r["route"] != "other"]
            assert not log, f"requests arrived within {spec['forMs']} ms: {summarize(log)}"
        else:
            raise AssertionError(f"unknown step `{kind}`")

    def ready(self, client: pennon.Client, spec: Any) -> None:
        started = time.monotonic()
        error: Optional[pennon.ClientError] = None
        try:
            client.ready()
        except pennon.ClientError as e:
            error = e
        took_ms = (time.monotonic() - started) * 1000
        want_error = isinstance(spec, dict) and spec.get("error") is True
        if not want_error:
            assert error is None, f"ready failed: {error}"
            return
        assert error is not None, "ready succeeded, the scenario expects an error"
        if "code" in spec:
            assert error.code == spec["code"], f"ready failed with code `{error.code}`, expected `{spec['code']}`"
        if "withinMs" in spec:
            assert took_ms <= spec["withinMs"], f"ready took {took_ms:.0f} ms to fail, more than {spec['withinMs']} ms"

    def expect_value(self, client: pennon.Client, spec: Dict[str, Any]) -> None:
        deadline = time.monotonic() + spec.get("withinMs", DEFAULT_WITHIN_MS) / 1000
        while True:
            details = client.evaluate(spec["flag"], spec.get("context"))
            why = None
            if not same(spec["value"], details["value"]):
                why = f"value {details['value']!r} (expected {spec['value']!r})"
            else:
                for key in ("revision", "variant", "reason", "stage", "errorCode"):
                    if key in spec and not same(spec[key], details.get(key)):
                        why = f"{key} {details.get(key)!r} (expected {spec[key]!r})"
                        break
            if why is None:
                return
            assert time.monotonic() < deadline, f"flag `{spec['flag']}`: {why} (details: {details})"
            time.sleep(0.02)

    def expect_event(self, spec: Dict[str, Any]) -> None:
        within = spec.get("withinMs", DEFAULT_WITHIN_MS)
        deadline = time.monotonic() + within / 1000
        seen: List[Dict[str, Any]] = []
        while True:
            event = self.next_event(deadline)
            assert event is not None, f"no matching event within {within} ms; saw {seen}"
            if event_matches(spec, event):
                return
            seen.append(event)

    def expect_no_event(self, spec: Dict[str, Any]) -> None:
        deadline = time.monotonic() + spec["forMs"] / 1000
        while True:
            event = self.next_event(deadline)
            if event is None:
                return
            assert not event_matches(spec, event), f"unexpected event {event}"

    def expect_requests(self, spec: Dict[str, Any]) -> None:
        deadline = time.monotonic() + spec.get("withinMs", DEFAULT_WITHIN_MS) / 1000
        log: List[Dict[str, Any]] = []
        while True:
            log.extend(self.harness.requests())
            problems = [p for route in ("snapshot", "stream") if route in spec
                        for p in [route_mismatch(route, spec[route], log)] if p is not None]
            if not problems:
                return
            assert time.monotonic() < deadline, f"{'; '.join(problems)} (log: {summarize(log)})"
            time.sleep(0.025)


def test_the_scenario_list_and_not_expressible_agree() -> None:
    assert SCENARIOS, f"no scenarios in {SCENARIOS_DIR}"
    names = {s["name"] for s in SCENARIOS}
    for name in NOT_EXPRESSIBLE:
        assert name in names, f"NOT_EXPRESSIBLE names `{name}`, which is no scenario"
    for path in sorted(SCENARIOS_DIR.glob("*.json")):
        scenario = json.loads(path.read_text(encoding="utf-8"))
        assert re.sub(r"^\d+-", "", path.stem) == scenario["name"], path


def selected() -> List[Any]:
    only = os.environ.get("PENNON_SCENARIO")
    params = []
    for scenario in SCENARIOS:
        if only and only != scenario["name"]:
            continue
        reason = NOT_EXPRESSIBLE.get(scenario["name"])
        marks = [pytest.mark.xfail(reason=f"NOT RUN: {reason}", run=False, strict=True)] if reason else []
        params.append(pytest.param(scenario, id=scenario["name"], marks=marks))
    return params


@pytest.mark.parametrize("scenario", selected())
def test_scenario(scenario: Dict[str, Any]) -> None:
    harness = Harness()
    run = Run(harness, scenario.get("client"))
    try:
        for index, step in enumerate(scenario["steps"], start=1):
            try:
                run.step(step)
            except AssertionError as error:
                raise AssertionError(f"step {index} {json.dumps(step)}: {error}") from None
    finally:
        if run.client is not None:
            run.client.close()
        harness.stop()
