"""Reconnect delays: exponential backoff with full jitter (docs/sdk.md, Refresh 4)."""

from __future__ import annotations

import random
from typing import Callable


def backoff_delay(base: float, cap: float, attempt: int, unit: float) -> float:
    """``random(0, min(cap, base * 2**attempt))`` in seconds, ``unit`` being the draw in [0, 1)."""
    ceiling = min(cap, base * (1 << min(attempt, 31)))
    return ceiling * min(max(unit, 0.0), 1.0)


class Backoff:
    """The reconnect attempt counter of one stream, with its jitter source."""

    def __init__(self, base: float, cap: float, draw: Callable[[], float] = random.random) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._draw = draw

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more attempt."""
        delay = backoff_delay(self.base, self.cap, self.attempt, self._draw())
        self.attempt = min(self.attempt + 1, 1000)
        return delay

    def reset(self) -> None:
        """After a stream delivered an event."""
        self.attempt = 0
