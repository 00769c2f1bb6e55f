"""Outcome batches (docs/sdk.md, Outcomes).

What the app records with ``client.record`` and the evaluations the engine counts
(exposures) are aggregated by the engine (``pennon_host::outcomes``, lock free); this
module takes a batch now and then and sends it to ``POST {url}/sdk/v1/metrics``. A batch
whose send fails is added back to the engine (``restore_outcomes``), so nothing is lost and
memory stays bounded however long the server is down: the engine holds one set of sums,
never a queue of batches.

Sends run on the client's refresh thread, on its tick (``Run.idle``/``Run.sleep``), once
more from ``close()``, and from ``client.flush_outcomes()``. Two sends may overlap (a
tick's and ``close()``'s): each takes its own batch, so neither loses or repeats the
other's counts. The same policy as the Rust SDK (sdks/rust/src/outcomes.rs): periodic
failures are retried with the next batch, silently; ``flush_outcomes()`` reports them.
"""

from __future__ import annotations

import secrets
import time
from typing import Callable

from pennon._errors import ClientError
from pennon._http import USER_AGENT, Failure, check_status
from pennon._native import Engine

CLOSE_FLUSH_TIMEOUT = 1.0
"""The final flush of ``close()`` gets this long at most (seconds)."""

SEND_TIMEOUT = 5.0
"""A periodic send gets this long at most: it runs on the refresh thread."""

# After these statuses sending the same batch again cannot succeed (the server refused its
# body): it is dropped rather than given back, else it would block every later batch.
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

    def tick(self) -> None:
        """Sends a batch when ``interval`` passed since the last (the refresh thread's
        tick). Never raises: a failed batch goes with the next one."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._interval
        try:
            self.flush(SEND_TIMEOUT)
        except ClientError:
            pass

    def flush(self, timeout: float) -> bool:
        """Takes one batch and sends it within ``timeout`` seconds: ``True`` when the server
        took it, ``False`` when nothing was new. Raises ``ClientError`` when the send failed
        (the batch was given back, or dropped when the server refused its body)."""
        body = self._engine.take_outcomes(new_batch_id(), USER_AGENT)
        if body is None:
            return False
        try:
            status = self._send(body, timeout)
        except Failure as failure:
            self._engine.restore_outcomes(body)
            raise ClientError(failure.error.code, f"sending outcomes failed: {failure.error.message}") from None
        if 200 <= status < 300:
            return True
        if status in _UNSENDABLE:
            raise ClientError("http_error", f"the server refused an outcome batch (HTTP {status}): dropped")
        self._engine.restore_outcomes(body)
        try:
            check_status(status, "POST /sdk/v1/metrics")
        except Failure as failure:
            raise failure.error from None
        raise ClientError("internal", f"unexpected status {status}")  # pragma: no cover - 2xx returned above

    def final_flush(self) -> None:
        """``close()``'s flush: once, within ``CLOSE_FLUSH_TIMEOUT``, never raising."""
        try:
            self.flush(CLOSE_FLUSH_TIMEOUT)
        except ClientError:
            pass

    def discard(self) -> None:
        """Drops what is held (a forked child: its parent sends those counts)."""
        self._engine.take_outcomes(new_batch_id(), USER_AGENT)
