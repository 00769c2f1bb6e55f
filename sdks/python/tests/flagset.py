"""Snapshots and a real `pennon serve` for the integration tests (OpenFeature, FastAPI,
gates, the README). The server is the binary named by PENNON_BIN
(`cargo build -p pennon-server --bin pennon`); a missing binary fails loudly."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

ADMIN_TOKEN = "py-integrations-admin-token-0123456789abcdef"


def boolean_flag(state: str, **extra: Any) -> Dict[str, Any]:
    """A boolean flag in `state` whose on path serves `true`."""
    return {
        "type": "boolean",
        "state": state,
        "variants": {"on": True, "off": False},
        "offVariant": "off",
        "fallthrough": {"variant": "on"},
        **extra,
    }


def constant_flag(kind: str, variant: str, value: Any) -> Dict[str, Any]:
    """A flag of type `kind` with one variant, served to everyone."""
    return {"type": kind, "state": "on", "variants": {variant: value}, "offVariant": variant, "fallthrough": {"variant": variant}}


FLAGS: Dict[str, Dict[str, Any]] = {
    "checkout": boolean_flag("on", metadata={"owner": "payments", "tags": ["web"], "ticket": 42}),
    "retired": boolean_flag("off"),
    "killed": boolean_flag("kill"),
    "invoices.write": boolean_flag("shadow"),
    "pos.lite": boolean_flag("canary", canary={"percentage": 0}),
    "greeting": {
        **constant_flag("string", "hello", "hello"),
        "variants": {"hello": "hello", "hallo": "hallo"},
        "rules": [
            {
                "id": "german-speaking",
                "when": {"attribute": "country", "op": "in", "values": ["DE", "AT", "CH"]},
                "serve": {"variant": "hallo"},
            }
        ],
    },
    "max-retries": constant_flag("number", "three", 3),
    "sample-rate": constant_flag("number", "half", 0.5),
    "limits": constant_flag("object", "default", {"rps": 10, "burst": 20}),
    "new-pricing": {
        "type": "boolean",
        "state": "on",
        "variants": {"on": True, "off": False},
        "offVariant": "off",
        "fallthrough": {"variant": "off"},
        "targets": [{"variant": "on", "users": ["vip"]}],
    },
}


def snapshot(revision: int = 1, flags: Optional[Dict[str, Dict[str, Any]]] = None) -> Dict[str, Any]:
    return {
        "schemaVersion": 1,
        "revision": revision,
        "environment": "test",
        "flags": FLAGS if flags is None else flags,
    }


def pennon_bin() -> str:
    path = os.environ.get("PENNON_BIN")
    assert path, "these tests need the server: `cargo build -p pennon-server --bin pennon`, then PENNON_BIN=target/debug/pennon"
    assert Path(path).is_file(), f"PENNON_BIN={path} does not exist"
    return path


def _serve(directory: Path, listen: str) -> "Tuple[subprocess.Popen[str], str]":
    """Starts `pennon serve` on `listen` with the database in `directory`; its URL."""
    env = {k: v for k, v in os.environ.items() if k not in ("PENNON_LISTEN", "PENNON_DATABASE_URL")}
    env["PENNON_ADMIN_TOKEN"] = ADMIN_TOKEN
    process = subprocess.Popen(
        [pennon_bin(), "serve", "--listen", listen, "--heartbeat", "1", "--database-url", f"sqlite://{directory / 'db'}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stdout = process.stdout
    assert stdout is not None
    # Read on a thread (draining stdout for the server's whole life, so it never blocks
    # on a full pipe); wait at most 30 s for the address.
    address: "queue.Queue[str]" = queue.Queue()

    def read() -> None:
        for line in stdout:
            match = re.match(r"^pennon: listening on (\S+)", line)
            if match:
                address.put(match.group(1))
        address.put("")

    threading.Thread(target=read, daemon=True).start()
    try:
        url = address.get(timeout=30)
    except queue.Empty:
        url = ""
    if not url:
        process.kill()
        raise AssertionError(f"pennon serve printed no `pennon: listening on URL` (exit status {process.poll()})")
    return process, url.rstrip("/")


class Server:
    """A running `pennon serve` with an SQLite database in a temporary directory, and an
    SDK key for the environment `development`."""

    def __init__(self) -> None:
        self.directory = tempfile.TemporaryDirectory(prefix="pennon-py-integrations-")
        try:
            self.process, self.url = _serve(Path(self.directory.name), "127.0.0.1:0")
        except BaseException:
            self.directory.cleanup()
            raise
        token = self.admin("POST", "/api/v1/tokens", {"name": "py-integrations", "role": "sdk", "environment": "development"})
        self.sdk_key: str = token["token"]

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def put_flag(self, key: str, definition: Dict[str, Any]) -> None:
        self.admin("PUT", f"/api/v1/environments/development/flags/{key}", {"definition": definition, "reason": "test"})

    def kill(self, key: str) -> None:
        self.admin("POST", f"/api/v1/environments/development/flags/{key}/kill", {"reason": "test"})

    def pause(self) -> None:
        """Stops the process; `resume()` starts it again on the same address and database."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def resume(self) -> None:
        self.process, url = _serve(Path(self.directory.name), self.url.split("://", 1)[1])
        assert url == self.url, (url, self.url)

    def stop(self) -> None:
        self.pause()
        self.directory.cleanup()


def start_server() -> Server:
    """Starts `pennon serve` on a free port and creates an SDK key for `development`."""
    return Server()
