"""The circuit breaker of the refresh loop (docs/sdk.md, Refresh 6).

After ``threshold`` consecutive failed checks it opens for ``open_for`` seconds: no request
at all. Then one check is let through (half-open): a success closes it, a failure opens
it again. Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

from typing import Literal


class Breaker:
    def __init__(self, threshold: int, open_for: float) -> None:
        self.threshold = max(1, threshold)
        self.open_for = open_for
        self.failures = 0
        self.state: Literal["closed", "open", "half-open"] = "closed"
        self.until = 0.0

    def permit(self, now: float) -> float:
        """0 when a check may run at ``now``, else how long to wait (seconds)."""
        if self.state != "open":
            return 0.0
        if now >= self.until:
            self.state = "half-open"
            return 0.0
        return self.until - now

    def success(self) -> None:
        self.failures = 0
        self.state = "closed"

    def failure(self, now: float) -> None:
        self.failures += 1
        if self.state == "half-open" or self.failures >= self.threshold:
            self.state = "open"
            self.until = now + self.open_for
