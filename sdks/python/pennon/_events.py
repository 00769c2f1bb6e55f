"""The payloads of the client's events (docs/sdk.md, Events).

Frozen dataclasses with the TypeScript client's fields in Python's words.
"""

from dataclasses import dataclass
from typing import Callable, List, Literal, Optional, Union


@dataclass(frozen=True)
class ReadyEvent:
    """The first snapshot was installed, or a stale client recovered."""

    revision: int
    recovered: bool = False
    """``True`` when it ends a stale period."""


@dataclass(frozen=True)
class ChangeEvent:
    """A newer snapshot was installed."""

    revision: int
    previous_revision: int
    flags: List[str]
    """The keys of the flags whose evaluation may differ, computed by core
    (``Snapshot::changed_flags`` through ``Engine.changed_flags``), sorted. May be empty."""


@dataclass(frozen=True)
class ErrorEvent:
    """A check failed or a snapshot was refused; the last good snapshot stays."""

    code: str
    message: str


@dataclass(frozen=True)
class StaleEvent:
    """No check succeeded for ``stale_after`` seconds; the last good snapshot is served."""

    since: float
    """When the last check succeeded (seconds since the epoch, ``time.time()``)."""
    revision: Optional[int]


Event = Union[ReadyEvent, ChangeEvent, ErrorEvent, StaleEvent]
EventName = Literal["ready", "change", "error", "stale"]
Listener = Callable[[Event], None]
