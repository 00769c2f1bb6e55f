"""End-to-end against a real `pennon serve` (env PENNON_BIN; a missing binary fails loudly
with the command that builds it): SQLite database in a temporary directory, admin token
from PENNON_ADMIN_TOKEN, an SDK key from POST /api/v1/tokens, flags killed with the CLI."""

from __future__ import annotations

import base64
import json
import os
import queue
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import pennon
from conftest import binary, listening_url

ADMIN = "py-sdk-admin-token-0123456789abcdef"
USER = {"targetingKey": "user-1"}
BUILD = "cargo build -p pennon-server --bin pennon"


class Server:
    def __init__(self, directory: Path, listen: str = "127.0.0.1:0") -> None:
        self.directory = directory
        self.env = {k: v for k, v in os.environ.items() if k not in ("PENNON_LISTEN", "PENNON_DATABASE_URL")}
        self.env.update(PENNON_ADMIN_TOKEN=ADMIN, XDG_CONFIG_HOME=str(directory), HOME=str(directory))
        self.process = subprocess.Popen(
            [binary("PENNON_BIN", BUILD), "serve", "--listen", listen, "--heartbeat", "1",
             "--database-url", f"sqlite://{directory / 'db'}"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.url = listening_url(self.process, "pennon:", 30)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def admin(self, method: str, path: str, body: Optional[Any] = None) -> Any:
        request = urllib.request.Request(
            self.url + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"authorization": f"Bearer {ADMIN}", "content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def sdk_key(self) -> str:
        token = self.admin("POST", "/api/v1/tokens", {"name": "py-sdk-test", "role": "sdk", "environment": "development"})
        return str(token["token"])

    def put_flag(self, key: str, definition: Dict[str, Any]) -> None:
        self.admin("PUT", f"/api/v1/environments/development/flags/{key}", {"definition": definition})

    def cli(self, *args: str) -> None:
        subprocess.run(
            [binary("PENNON_BIN", BUILD), *args, "--url", self.url, "--token", ADMIN],
            env=self.env, check=True, capture_output=True, timeout=30,
        )

    def public_key(self) -> str:
        with urllib.request.urlopen(f"{self.url}/sdk/v1/public-key", timeout=10) as response:
            return str(json.loads(response.read())["publicKey"])

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def boolean_flag(state: str) -> Dict[str, Any]:
    return {"type": "boolean", "state": state, "variants": {"on": True, "off": False},
            "offVariant": "off", "fallthrough": {"variant": "on"}}


def string_flag(value: str) -> Dict[str, Any]:
    return {"type": "string", "state": "on", "variants": {"v": value}, "offVariant": "v",
            "fallthrough": {"variant": "v"}}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def next_event(events: "queue.Queue[Any]", kind: type, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            event = events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if isinstance(event, kind):
            return event


def test_a_cli_kill_is_seen_within_a_second_as_a_change_naming_only_that_flag(server: Server) -> None:
    key = server.sdk_key()
    server.put_flag("checkout", boolean_flag("on"))
    server.put_flag("banner", string_flag("hello"))
    with pennon.Client(url=server.url, sdk_key=key) as client:
        client.ready()
        assert client.is_enabled("checkout", USER) is True
        assert client.get_string("banner", USER, "") == "hello"
        revision = client.revision
        changes: "queue.Queue[pennon.ChangeEvent]" = queue.Queue()
        client.on("change", changes.put)
        killed_at = time.monotonic()
        server.cli("kill", "checkout", "test: the Python client sees it")
        change = next_event(changes, pennon.ChangeEvent, 1.0)
        took = time.monotonic() - killed_at
        assert change is not None, "a change event within 1 s of the kill"
        assert took < 1.0
        assert revision is not None and change.previous_revision == revision and change.revision > revision
        assert change.flags == ["checkout"], "core names exactly the killed flag, not the untouched banner"
        assert client.is_enabled("checkout", USER) is False
        killed = client.evaluate("checkout", USER)
        assert killed["reason"] == "KILLED" and killed["revision"] == change.revision
        # The server's `generatedAt`: the age of a snapshot made a moment ago.
        assert killed["age"] is not None and -1000 <= killed["age"] < 5000, killed
        assert client.get_string("banner", USER, "") == "hello"


def test_signatures_verified_and_a_wrong_key_refused(server: Server) -> None:
    key = server.sdk_key()
    server.put_flag("checkout", boolean_flag("on"))
    with pennon.Client(url=server.url, sdk_key=key, public_key=server.public_key()) as signed:
        signed.ready()
        assert signed.is_enabled("checkout", USER) is True
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    with pennon.Client(
        url=server.url, sdk_key=key, public_key=base64.b64encode(other).decode(), init_timeout=0.5
    ) as refused:
        errors: List[str] = []
        refused.on("error", lambda e: errors.append(e.code))
        with pytest.raises(pennon.ClientError) as caught:
            refused.ready()
        assert caught.value.code == "init_timeout" and "signature_invalid" in str(caught.value)
        assert "signature_invalid" in errors
        assert refused.evaluate("checkout", USER)["errorCode"] == "PROVIDER_NOT_READY"


def test_polling_picks_up_a_change_and_a_bad_key_names_the_problem(server: Server) -> None:
    key = server.sdk_key()
    server.put_flag("checkout", boolean_flag("on"))
    with pennon.Client(url=server.url, sdk_key=key, stream=False, poll_interval=0.1) as polling:
        polling.ready()
        server.put_flag("fresh", boolean_flag("on"))
        deadline = time.monotonic() + 3
        while not polling.is_enabled("fresh", USER) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert polling.is_enabled("fresh", USER) is True
    with pennon.Client(url=server.url, sdk_key="nope", init_timeout=0.5) as bad:
        errors: List[str] = []
        bad.on("error", lambda e: errors.append(e.code))
        with pytest.raises(pennon.ClientError):
            bad.ready()
        assert "unauthorized" in errors


def test_server_killed_stale_then_recovered(server: Server, tmp_path: Path) -> None:
    key = server.sdk_key()
    server.put_flag("checkout", boolean_flag("on"))
    port = server.port
    events: "queue.Queue[Any]" = queue.Queue()
    with pennon.Client(
        url=server.url, sdk_key=key, heartbeat=1.0, stale_after=0.7, poll_interval=0.2,
        backoff=(0.05, 0.3), breaker=(5, 0.3),
    ) as client:
        client.ready()
        revision = client.revision
        for kind in ("ready", "stale"):
            client.on(kind, events.put)  # type: ignore[call-overload]
        next_event(events, pennon.ReadyEvent, 0.2)  # the held initial `ready`
        server.stop()
        stale = next_event(events, pennon.StaleEvent, 5)
        assert stale is not None and stale.revision == revision
        assert client.is_stale
        assert client.is_enabled("checkout", USER) is True, "the last good snapshot is still served"
        again = Server(tmp_path, f"127.0.0.1:{port}")
        try:
            ready = next_event(events, pennon.ReadyEvent, 10)
            assert ready == pennon.ReadyEvent(revision=revision or 0, recovered=True)
            assert not client.is_stale
            assert client.is_enabled("checkout", USER) is True
        finally:
            again.stop()
