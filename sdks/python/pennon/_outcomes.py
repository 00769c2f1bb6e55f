"""Outcome batches (docs/sdk.md, Outcomes).

What the app records with ``client.record`` and the evaluations the engine counts
(exposures) are aggregated by the engine (``pennon_host::outcomes``, lock free); this
module takes a batch now and then and sends it to ``POST {url}/sdk/v1/metrics``. A batch
whose send fails is kept (pending) and sent again verbatim, same batch id and bytes, before
a new one is taken: when the server stored it but the answer was lost (a timeout, a 503
after the commit) it ignores the repeat, so nothing is counted twice, and nothing is lost
however long it is down. Meanwhile the engine's counters keep adding up, so memory stays one
pending body plus the engine's fixed sums, never a queue of batches.

Sends run on the client's refresh thread, on its tick (``Run.idle``/``Run.sleep``), once
more from ``close()``, and from ``client.flush_outcomes()``. Two sends may overlap (a
tick's and ``close()``'s): both send the pending batch, which the server keeps once. The
same policy as the Rust SDK (sdks/rust/src/outcomes.rs): periodic failures are retried on
the next tick, silently; ``flush_outcomes()`` reports them.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Callable, Optional

from pennon._errors import ClientError
from pennon._http import USER_AGENT, Failure, check_status
from pennon._native import Engine

CLOSE_FLUSH_TIMEOUT = 1.0
"""The final flush of ``close()`` gets this long at most (seconds)."""

SEND_TIMEOUT = 5.0
"""A periodic send gets this long at most: it runs on the refresh thread."""

# After these statuses sending the same batch again cannot succeed (the server refused its
# body): it is dropped rather than kept, else it would block every later batch.
_UNSENDABLE = (400, 413, 422)

Send = Callable[[str, float], int]
"""``send(body, timeout)``: the HTTP status of ``POST /sdk/v1/metrics``; raises ``Failure``."""


def new_batch_id() -> str:
    """A batch id: 32 random hex digits (the server stores each id once, ignores repeats)."""
    return secrets.token_hex(16)


class Outcomes:
    """The batches of one client: ``engine`` holds its outcomes (every later engine of the
    client shares them), ``send`` posts a batch."""

    def __init__(self, engine: Engine, send: Send, interval: float) -> None:
        self._engine = engine
        self._send = send
        self._interval = interval
        self._next = time.monotonic() + interval
        self._lock = threading.Lock()
        # The batch whose send failed, sent again before a new one is taken.
        self._pending: Optional[str] = None

    def tick(self) -> None:
        """Sends a batch when ``interval`` passed since the last (the refresh thread's
        tick). Never raises: a failed batch is sent again on the next tick."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._interval
        try:
            self.flush(SEND_TIMEOUT)
        except ClientError:
            pass

    def flush(self, timeout: float) -> bool:
        """Sends the pending batch, else takes a new one and sends it, within ``timeout``
        seconds: ``True`` when the server took it, ``False`` when nothing was new. Raises
        ``ClientError`` when the send failed (the batch stays pending, or is dropped when the
        server refused its body)."""
        with self._lock:
            if self._pending is None:
                self._pending = self._engine.take_outcomes(new_batch_id(), USER_AGENT)
            body = self._pending
        if body is None:
            return False
        try:
            status = self._send(body, timeout)
        except Failure as failure:
            raise ClientError(failure.error.code, f"sending outcomes failed: {failure.error.message}") from None
        if 200 <= status < 300:
            self._settle(body)
            return True
        if status in _UNSENDABLE:
            self._settle(body)
            raise ClientError("http_error", f"the server refused an outcome batch (HTTP {status}): dropped")
        try:
            check_status(status, "POST /sdk/v1/metrics")
        except Failure as failure:
            raise failure.error from None
        raise ClientError("internal", f"unexpected status {status}")  # pragma: no cover - 2xx returned above

    def _settle(self, body: str) -> None:
        """The server answered ``body`` for good: the next send takes a new batch."""
        with self._lock:
            if self._pending is body:
                self._pending = None

    def final_flush(self) -> None:
        """``close()``'s flush: once, within ``CLOSE_FLUSH_TIMEOUT``, never raising."""
        try:
            self.flush(CLOSE_FLUSH_TIMEOUT)
        except ClientError:
            pass

    def discard(self) -> None:
        """Drops what is held (a forked child: its parent sends those counts). A new lock:
        the parent's threads may have held the old one at the fork."""
        self._lock = threading.Lock()
        self._pending = None
        self._engine.take_outcomes(new_batch_id(), USER_AGENT)
