"""The Pennon client (docs/sdk.md): holds the newest good snapshot of one source in a
``pennon._native.Engine``, keeps it fresh on one daemon thread (stream, poll, backoff,
watchdog, breaker) and answers evaluations from it. Every answer comes from core through
the binding; this module does IO, caching, events and integration only.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Callable, Dict, Literal, Optional, Tuple, Type, TypeVar, Union, overload

from pennon._errors import ClientError
from pennon._events import ChangeEvent, ErrorEvent, EventName, ReadyEvent, StaleEvent
from pennon._types import Context, Details

__all__ = ["Client", "ClientError", "SnapshotInput", "EvaluationHook"]

_T = TypeVar("_T")

SnapshotInput = Union[str, bytes, Dict[str, Any]]
"""Snapshot JSON text, its bytes, or an already parsed snapshot."""

EvaluationHook = Callable[[str, Details], None]
"""``hook(flag, details)``, run after every single-flag evaluation (exposure logging)."""


class Client:
    """A Pennon client: one source (``url`` + ``sdk_key``, ``file`` or ``snapshot``).

    Durations are seconds (floats). Refreshes on one daemon thread; fork-safe (a child
    process gets a client that refreshes, with no call to make).
    """

    def __init__(
        self,
        url: Optional[str] = None,
        sdk_key: Optional[str] = None,
        file: Optional[str] = None,
        snapshot: Optional[SnapshotInput] = None,
        bootstrap: Optional[SnapshotInput] = None,
        bootstrap_file: Optional[str] = None,
        stream: bool = True,
        poll_interval: Optional[float] = None,
        init_timeout: float = 5.0,
        stale_after: float = 120.0,
        heartbeat: float = 15.0,
        public_key: Optional[str] = None,
        backoff: Tuple[float, float] = (1.0, 30.0),
        breaker: Tuple[int, float] = (5, 30.0),
        env_overrides: Union[bool, Dict[str, str]] = False,
    ) -> None:
        raise NotImplementedError

    # ---- readiness -------------------------------------------------------------------

    def ready(self, timeout: Optional[float] = None) -> None:
        """Returns once the first snapshot is installed; raises ``ClientError`` with code
        ``init_timeout`` once ``init_timeout`` (counted from construction, or ``timeout``
        seconds from this call when given) passed, or ``closed``. Never hangs."""
        raise NotImplementedError

    async def ready_async(self, timeout: Optional[float] = None) -> None:
        """``ready`` for asyncio: awaits without blocking the event loop."""
        raise NotImplementedError

    @property
    def revision(self) -> Optional[int]:
        """The revision of the snapshot held, ``None`` before the first."""
        raise NotImplementedError

    @property
    def is_stale(self) -> bool:
        """No check succeeded for ``stale_after`` (the last good snapshot is still served)."""
        raise NotImplementedError

    # ---- evaluation ------------------------------------------------------------------

    def is_enabled(self, flag: str, context: Optional[Context] = None) -> bool:
        """A boolean flag is on: ``get_boolean(flag, context, False)``."""
        raise NotImplementedError

    def get_boolean(self, flag: str, context: Optional[Context], default: bool) -> bool:
        raise NotImplementedError

    def get_string(self, flag: str, context: Optional[Context], default: str) -> str:
        raise NotImplementedError

    def get_number(self, flag: str, context: Optional[Context], default: Union[int, float]) -> Union[int, float]:
        raise NotImplementedError

    def get_object(self, flag: str, context: Optional[Context], default: _T) -> Union[Dict[str, Any], _T]:
        raise NotImplementedError

    def evaluate(self, flag: str, context: Optional[Context] = None) -> Details:
        """Evaluates a flag of any type with every detail; ``value`` is ``None`` on error."""
        raise NotImplementedError

    def all_flags(self, context: Optional[Context] = None) -> Dict[str, Details]:
        """Every flag of the snapshot (and every overridden flag) for ``context``, keys
        sorted. Not counted in the metrics, no hooks."""
        raise NotImplementedError

    # ---- events ----------------------------------------------------------------------

    @overload
    def on(self, event: Literal["ready"], callback: Callable[[ReadyEvent], None]) -> Callable[[], None]: ...
    @overload
    def on(self, event: Literal["change"], callback: Callable[[ChangeEvent], None]) -> Callable[[], None]: ...
    @overload
    def on(self, event: Literal["error"], callback: Callable[[ErrorEvent], None]) -> Callable[[], None]: ...
    @overload
    def on(self, event: Literal["stale"], callback: Callable[[StaleEvent], None]) -> Callable[[], None]: ...
    def on(self, event: EventName, callback: Callable[[Any], None]) -> Callable[[], None]:
        """Calls ``callback(payload)`` on each ``event``; returns a function that unsubscribes.

        Callbacks run on the refresh thread (or the constructing thread for a snapshot
        given in memory); one that raises is reported as an ``error`` event ``hook_failed``.
        """
        raise NotImplementedError

    # ---- overrides, metrics, hooks -------------------------------------------------------

    def override(self, flag: str, value: Any) -> "Client":
        """Makes ``flag`` answer ``value`` (reason ``STATIC``, variant ``override``) for calls
        whose type ``value`` has."""
        raise NotImplementedError

    def clear_override(self, flag: Optional[str] = None) -> "Client":
        """Removes an ``override`` (all of them without a flag)."""
        raise NotImplementedError

    def metrics(self) -> str:
        """The evaluation counters in Prometheus text (``pennon_evaluations_total{flag,variant,reason}``)."""
        raise NotImplementedError

    def on_evaluation(self, hook: EvaluationHook) -> Callable[[], None]:
        """Runs ``hook(flag, details)`` after every single-flag evaluation; returns a
        function that removes it."""
        raise NotImplementedError

    # ---- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Stops refreshing (idempotent). Evaluations keep answering from the snapshot held."""
        raise NotImplementedError

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


