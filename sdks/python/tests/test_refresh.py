"""Refresh-loop behaviour the shared scenarios do not pin down, against a tiny local HTTP
server: a refused SDK key is not asked again faster than the poll interval, and
``close()`` ends an open stream at once."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List, Tuple

import pytest

import pennon
from conftest import ROOT

SNAPSHOT = (ROOT / "tests" / "sdk" / "fixtures" / "basic-r1.json").read_bytes()


class Recorder(ThreadingHTTPServer):
    daemon_threads = True
    status = 401
    requests: List[Tuple[float, str]]


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.requests.append((time.monotonic(), self.path))
        if self.server.status != 200:
            self.send_response(self.server.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.endswith("/snapshot"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(SNAPSHOT)))
            self.end_headers()
            self.wfile.write(SNAPSHOT)
            return
        # The stream: headers, then silence until the client leaves.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.flush()
        while True:
            time.sleep(0.05)
            try:
                self.wfile.write(b"")
                self.wfile.flush()
            except OSError:
                return


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder(("127.0.0.1", 0), Handler)
    recorder.requests = []
    thread = threading.Thread(target=recorder.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        recorder.shutdown()
        recorder.server_close()


def url(server: Recorder) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize("status,code", [(401, "unauthorized"), (403, "forbidden")])
def test_a_refused_key_is_asked_once_per_poll_interval(server: Recorder, status: int, code: str) -> None:
    server.status = status
    errors: List[str] = []
    client = pennon.Client(url=url(server), sdk_key="bad", poll_interval=0.4, backoff=(0.01, 0.02))
    try:
        client.on("error", lambda e: errors.append(e.code))
        time.sleep(1.5)
    finally:
        client.close()
    # The initial fetch, then one stream attempt per 0.4 s: 4 or 5 in 1.5 s, never the
    # dozens a 10-20 ms backoff would send.
    assert 3 <= len(server.requests) <= 6, server.requests
    assert set(errors) == {code}
    gaps = [b[0] - a[0] for a, b in zip(server.requests[1:], server.requests[2:])]
    assert all(gap >= 0.35 for gap in gaps), gaps


def test_close_ends_an_open_stream_at_once(server: Recorder) -> None:
    server.status = 200
    client = pennon.Client(url=url(server), sdk_key="k", heartbeat=30)
    client.ready(timeout=3)
    deadline = time.monotonic() + 3
    while not any(path.endswith("/stream") for _, path in server.requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(path.endswith("/stream") for _, path in server.requests)
    run = client._run
    assert run is not None
    thread = run.thread
    assert thread is not None and thread.is_alive()
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 0.5
    assert not thread.is_alive()
