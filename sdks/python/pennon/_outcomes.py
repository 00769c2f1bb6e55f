"""Outcome batches (docs/sdk.md, Outcomes).

What the app records with ``client.record`` and the evaluations the engine counts
(exposures) are aggregated by the engine (``pennon_host::outcomes``, lock free); this
module takes a batch now and then and sends it to ``POST {url}/sdk/v1/metrics``. A batch
whose send fails is added back to the engine (``restore_outcomes``), so nothing is lost and
memory stays bounded however long the server is down: the engine holds one set of sums,
never a queue of batches.

Sends run on the client's refresh thread, on its tick (``Run.idle``/``Run.sleep``), and
once more from ``close()``. Two sends may overlap (a tick's and ``close()``'s): each takes
its own batch, so neither loses or repeats the other's counts.
"""

from __future__ import annotations

import secrets
import time
from typing import Callable

from pennon._errors import ClientError
from pennon._http import USER_AGENT
from pennon._native import Engine

CLOSE_FLUSH_TIMEOUT = 1.0
"""The final flush of ``close()`` gets this long at most (seconds)."""

SEND_TIMEOUT = 5.0
"""A periodic send gets this long at most: it runs on the refresh thread."""

# After these statuses sending the same batch again cannot succeed (the server refused its
# body): it is dropped rather than restored, else it would block every later batch.
_UNSENDABLE = (400, 413)

Send = Callable[[str, float], int]
"""``send(body, timeout)``: the HTTP status of ``POST /sdk/v1/metrics``; raises on failure."""


def new_batch_id() -> str:
    """A batch id: 32 random hex digits (the server stores each id once, ignores repeats)."""
    return secrets.token_hex(16)


class Outcomes:
    """The batches of one client: ``engine`` holds its outcomes (every later engine of the
    client shares them), ``send`` posts a batch, ``report`` gets an error for the client's
    ``error`` event (once per run of failures)."""

    def __init__(self, engine: Engine, send: Send, report: Callable[[ClientError], None], interval: float) -> None:
        self._engine = engine
        self._send = send
        self._report = report
        self._interval = interval
        self._next = time.monotonic() + interval
        self._failing = False

    def tick(self) -> None:
        """Sends a batch when ``interval`` passed since the last (the refresh thread's tick)."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._interval
        self.flush(SEND_TIMEOUT)

    def flush(self, timeout: float) -> None:
        """Takes one batch and sends it within ``timeout`` seconds. Never raises."""
        try:
            body = self._engine.take_outcomes(new_batch_id(), USER_AGENT)
        except Exception as error:  # noqa: BLE001 - reported, never raised
            return self._failed(ClientError("internal", f"taking an outcome batch failed: {error!r}"))
        if body is None:
            return None
        try:
            status = self._send(body, timeout)
        except Exception as error:  # noqa: BLE001 - restored and reported, never raised
            return self._restore(body, f"sending outcomes failed: {error}")
        if 200 <= status < 300:
            self._failing = False
            return None
        if status in _UNSENDABLE:
            return self._failed(ClientError("metrics_refused", f"the server refused an outcome batch (HTTP {status}): dropped"))
        return self._restore(body, f"sending outcomes failed (HTTP {status})")

    def final_flush(self) -> None:
        """``close()``'s flush: once, within ``CLOSE_FLUSH_TIMEOUT``."""
        self.flush(CLOSE_FLUSH_TIMEOUT)

    def discard(self) -> None:
        """Drops what is held (a forked child: its parent sends those counts)."""
        try:
            self._engine.take_outcomes(new_batch_id(), USER_AGENT)
        except Exception:  # noqa: BLE001 - nothing to keep
            pass

    def _restore(self, body: str, why: str) -> None:
        try:
            self._engine.restore_outcomes(body)
        except Exception as error:  # noqa: BLE001 - reported, never raised
            return self._failed(ClientError("internal", f"{why}; restoring it failed: {error!r}"))
        return self._failed(ClientError("metrics_failed", f"{why}: kept for the next send"))

    def _failed(self, error: ClientError) -> None:
        if self._failing:
            return
        self._failing = True
        self._report(error)
