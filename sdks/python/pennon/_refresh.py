"""The refresh loop of one client, run on its one daemon thread (docs/sdk.md, Refresh).

The url source: initial fetch, stream with reconnect (jittered backoff) and
``Last-Event-ID``, polling with ``If-None-Match`` while the stream is down (or always,
``stream=False``), the watchdog, the circuit breaker, 401/403 paced to the poll interval.
The file source: re-read when its modification time or size changes. The same thread
checks staleness and sends outcome batches (``pennon._outcomes``) on every tick (it never
blocks longer than one tick: sleeps wait on the run's stop event, network reads time out
every tick; a batch's send, up to its timeout), so ``close()`` and the ``stale`` event are
never late by more than a tick.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional, Tuple

from pennon._backoff import Backoff
from pennon._breaker import Breaker
from pennon._errors import ClientError
from pennon._http import Closed, Failure, Http, Silent
from pennon._sse import SseComment, SseParser

if TYPE_CHECKING:
    from pennon.client import Client


class Run:
    """One run of the refresh thread: its stop event and the client it refreshes. A forked
    child starts a new run (the parent's thread does not exist there)."""

    def __init__(self, client: "Client", tick: float) -> None:
        self.client = client
        self.tick = tick
        self.stop = threading.Event()
        self.http: Optional[Http] = None
        self.thread: Optional[threading.Thread] = None

    def start(self, target: str) -> None:
        body = self._run_url if target == "url" else self._run_file
        self.thread = threading.Thread(target=self._guarded, args=(body,), name=f"pennon-{target}", daemon=True)
        self.thread.start()

    def _guarded(self, body: Callable[[], None]) -> None:
        # No exception reaches the application: a bug here becomes an `error` event.
        try:
            body()
        except Exception as error:  # noqa: BLE001 - reported, never raised
            if not self.stop.is_set():
                self.client._check_failed(ClientError("internal", f"the refresh loop failed: {error!r}"))

    def halt(self) -> None:
        self.stop.set()
        if self.http is not None:
            self.http.abort()

    @property
    def closed(self) -> bool:
        return self.stop.is_set()

    def idle(self) -> bool:
        """One tick passed while waiting: staleness, outcomes; ``False`` once closed."""
        if self.stop.is_set():
            return False
        self.client._tick()
        return True

    def sleep(self, seconds: float) -> bool:
        """Sleeps ``seconds`` in ticks (``idle``'s work on each); ``False`` when closed."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return not self.stop.is_set()
            if self.stop.wait(min(left, self.tick)):
                return False
            self.client._tick()

    # ---- file source -----------------------------------------------------------------

    def _run_file(self) -> None:
        client = self.client
        assert client._file is not None
        seen: Optional[Tuple[int, int]] = client._file_seen
        while self.sleep(client._poll_interval):
            seen = read_file(client, client._file, seen)

    # ---- url source ------------------------------------------------------------------

    def _run_url(self) -> None:
        client = self.client
        assert client._url is not None and client._sdk_key is not None
        self.http = Http(client._url, client._sdk_key, self.idle, self.tick)
        if self.stop.is_set():
            return
        loop = _UrlLoop(self, self.http)
        loop.run()


def read_file(client: "Client", path: str, seen: Optional[Tuple[int, int]]) -> Optional[Tuple[int, int]]:
    """Reads the file source when its (mtime, size) changed; returns what was seen."""
    try:
        stat = os.stat(path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == seen:
            client._check_succeeded()
            return seen
        with open(path, "rb") as handle:
            body = handle.read()
    except OSError as error:
        client._check_failed(ClientError("io_error", f"cannot read {path}: {error}"))
        return seen
    try:
        prepared = client._prepare(body, None)
    except ClientError as error:
        client._check_failed(error)
        return stamp
    client._check_succeeded()
    try:
        client._install(prepared, None)
    except ClientError as error:
        client._check_failed(error)
    return stamp


@dataclass
class _End:
    kind: str  # 'closed' | 'ended' | 'failed' | 'watchdog'
    failure: Optional[Failure] = None


class _UrlLoop:
    def __init__(self, run: Run, http: Http) -> None:
        client = run.client
        self.run_ = run
        self.client = client
        self.http = http
        self.breaker = Breaker(client._breaker_failures, client._breaker_open_for)
        self.backoff = Backoff(client._backoff_base, client._backoff_cap)
        self.last_poll = time.monotonic()

    def run(self) -> None:
        run, client = self.run_, self.client
        # 1. The initial fetch.
        first = self.poll(True)
        auth = first is not None and first.auth
        while not run.closed:
            wait = self.breaker.permit(time.monotonic())
            if wait > 0:
                if not run.sleep(wait):
                    return
                continue
            if not client._stream:
                # 3. Polling: every poll interval (a 401/403 waits the same).
                left = client._poll_interval - (time.monotonic() - self.last_poll)
                if left > 0:
                    if not run.sleep(left):
                        return
                    continue
                self.poll(True)
                continue
            # 2. Streaming.
            delay_at_least = 0.0
            if auth:
                delay_at_least = client._poll_interval
                auth = False
            else:
                end = self.stream()
                if end.kind == "closed":
                    return
                if end.kind == "watchdog":
                    # 5. Close it, fetch in full, reconnect.
                    client._check_failed(
                        ClientError(
                            "stream_silent",
                            f"the stream was silent for {3 * client._heartbeat:g} s: reconnecting",
                        )
                    )
                    if self.breaker.permit(time.monotonic()) == 0:
                        self.poll(False)
                    continue
                if end.kind == "failed" and end.failure is not None and end.failure.auth:
                    delay_at_least = client._poll_interval
            # 4. Reconnect after a jittered backoff, polling meanwhile. A refused key is
            # asked again once per poll interval, by the stream alone.
            delay = max(self.backoff.next_delay(), delay_at_least)
            waited = self.wait_polling(delay) if delay_at_least == 0 else run.sleep(delay)
            if not waited:
                return

    def poll(self, conditional: bool) -> Optional[Failure]:
        """One ``GET /sdk/v1/snapshot``; the failure, if the check failed."""
        client = self.client
        self.last_poll = time.monotonic()
        try:
            fetched = self.http.snapshot(client._etag if conditional else None)
            if self.run_.closed:
                return None
            if fetched.not_modified:
                self.succeeded()
                return None
            prepared = client._prepare(fetched.body, fetched.signature)
        except Closed:
            return None
        except Failure as failure:
            if self.run_.closed:
                return None
            self.failed(failure)
            return failure
        except ClientError as error:
            refused = Failure.of(error)
            self.failed(refused)
            return refused
        self.succeeded()
        try:
            client._install(prepared, fetched.etag)
        except ClientError as error:
            client._check_failed(error)
        return None

    def succeeded(self) -> None:
        self.breaker.success()
        self.client._check_succeeded()

    def failed(self, failure: Failure) -> None:
        if not failure.auth:
            self.breaker.failure(time.monotonic())
        self.client._check_failed(failure.error)

    def wait_polling(self, delay: float) -> bool:
        """Sleeps ``delay``, polling every poll interval meanwhile (the stream is down)."""
        run = self.run_
        deadline = time.monotonic() + delay
        interval = self.client._poll_interval
        while True:
            if run.closed:
                return False
            now = time.monotonic()
            if now >= deadline:
                return True
            next_poll = self.last_poll + interval
            if now >= next_poll:
                if self.breaker.permit(now) == 0:
                    self.poll(True)
                else:
                    self.last_poll = now
                continue
            if not run.sleep(min(deadline, next_poll) - now):
                return False

    def stream(self) -> _End:
        """One stream connection, read until it ends."""
        client, run = self.client, self.run_
        watchdog = 3 * client._heartbeat
        try:
            stream = self.http.open_stream(client.revision, watchdog)
        except Closed:
            return _End("closed")
        except Failure as failure:
            return self.open_failed(failure)
        try:
            if run.closed:
                return _End("closed")
            self.succeeded()
            parser = SseParser()
            for chunk in stream.chunks():
                for item in parser.feed(chunk):
                    if isinstance(item, SseComment):
                        client._check_succeeded()
                    elif item.event == "snapshot":
                        self.snapshot_event(item.data)
                if run.closed:
                    return _End("closed")
            return _End("closed" if run.closed else "ended")
        except Closed:
            return _End("closed")
        except Silent:
            return _End("closed" if run.closed else "watchdog")
        except Failure as failure:
            if run.closed:
                return _End("closed")
            client._check_failed(failure.error)
            return _End("ended")
        finally:
            self.http.finished(stream)

    def open_failed(self, failure: Failure) -> _End:
        if self.run_.closed:
            return _End("closed")
        # A failed connection was a check too: the next poll counts from it.
        self.last_poll = time.monotonic()
        self.failed(failure)
        return _End("failed", failure)

    def snapshot_event(self, data: str) -> None:
        """A ``snapshot`` event: metadata JSON, ``\\n``, the exact snapshot bytes."""
        client = self.client
        meta_text, newline, text = data.partition("\n")
        if not newline:
            return self.failed(Failure("invalid_event", "a snapshot event needs two data lines (metadata, snapshot)"))
        try:
            meta = json.loads(meta_text)
        except ValueError:
            meta = {}
        if not isinstance(meta, dict):
            meta = {}
        signature = meta.get("signature")
        etag = meta.get("etag")
        try:
            prepared = client._prepare(
                text.encode("utf-8"), signature if isinstance(signature, str) else None
            )
        except ClientError as error:
            return self.failed(Failure.of(error))
        self.backoff.reset()
        self.succeeded()
        try:
            client._install(prepared, etag if isinstance(etag, str) else None)
        except ClientError as error:
            client._check_failed(error)
