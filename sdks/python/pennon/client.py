"""The Pennon client (docs/sdk.md): holds the newest good snapshot of one source in a
``pennon._native.Engine``, keeps it fresh on one daemon thread (stream, poll, backoff,
watchdog, breaker; ``pennon._refresh``) and answers evaluations from it. Every answer
comes from core through the binding; this module does caching, events and integration.

Atomic swap: each accepted snapshot is compiled into its own ``Engine``; installing it is
one assignment of ``self._current`` (a ``_Prepared`` holding the engine, revision and
``generatedAt``). A reader takes that reference once per call, so no evaluation sees half
of two snapshots, and no reader ever waits for a lock.

Fork safety: every live client is in a ``WeakSet``; ``os.register_at_fork`` gives a child
process (gunicorn, uWSGI, Celery workers) new locks and a new refresh thread for each of
them, with no call to make.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import threading
import time
import weakref
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Literal, Mapping, Optional, Set, Tuple, Type, TypeVar, Union, overload

from pennon import _env
from pennon._errors import ClientError
from pennon._events import ChangeEvent, ErrorEvent, Event, EventName, ReadyEvent, StaleEvent
from pennon._native import Engine, PennonError
from pennon._types import Context, Details, FlagType, Outcome

if TYPE_CHECKING:
    from pennon._outcomes import Outcomes
    from pennon._refresh import Run

__all__ = ["Client", "ClientError", "SnapshotInput", "EvaluationHook"]

_T = TypeVar("_T")

SnapshotInput = Union[str, bytes, Dict[str, Any]]
"""Snapshot JSON text, its bytes, or an already parsed snapshot."""

EvaluationHook = Callable[[str, Details], None]
"""``hook(flag, details)``, run after every single-flag evaluation (exposure logging)."""

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:\d\d)$")
_EVENTS = ("ready", "change", "error", "stale")
_HELD_EVENTS = 32
_TYPES = ("boolean", "string", "number", "object")


def _accepts(kind: Optional[str], value: Any) -> bool:
    """``value`` has the JSON type of flag type ``kind`` (core's ``FlagType::accepts``)."""
    if kind == "boolean":
        return type(value) is bool
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "object":
        return isinstance(value, dict)
    return False


# An engine without a snapshot that never counts: the typed getters' slow path asks it to
# check a default (`pennon_host::args`: a default must have the getter's type), so both
# paths raise the same `ArgumentError` with the same words.
_ARGUMENTS = Engine()
_GETTERS = ("get_boolean", "get_string", "get_number", "get_object")


def _check_default(kind: FlagType, default: Any) -> None:
    getattr(_ARGUMENTS, "get_" + kind)("", None, default)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _snapshot_bytes(value: object, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, dict):
        return json.dumps(value).encode("utf-8")
    raise ClientError("invalid_config", f"{what} must be snapshot JSON text, bytes or a dict")


def _duration(name: str, value: Optional[float], fallback: float) -> float:
    if value is None:
        return fallback
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ClientError("invalid_config", f"{name} must be a number of seconds >= 0")
    return float(value)


def _generated_at(parsed: Any) -> Optional[float]:
    text = parsed.get("generatedAt") if isinstance(parsed, dict) else None
    if not isinstance(text, str):
        return None
    # RFC 3339 as `datetime.fromisoformat` of Python 3.9 takes it: `+00:00` for `Z`, and
    # the fraction of a second cut or padded to six digits.
    match = _RFC3339.match(text)
    if match is None:
        return None
    stamp, fraction, zone = match.groups()
    fraction = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00" if zone in ("Z", "z") else zone
    try:
        moment = datetime.fromisoformat(f"{stamp}.{fraction}{zone}")
    except ValueError:
        return None
    return moment.timestamp() * 1000.0


class _Prepared:
    """A compiled snapshot and what the SDK reads from its JSON: ``generatedAt`` (details'
    ``age``) and the flags' declared types (environment overrides apply only to a flag of
    their type). Parsed on the refresh path only, never per evaluation."""

    __slots__ = ("engine", "revision", "generated_at", "types")

    def __init__(self, engine: Engine, body: bytes) -> None:
        self.engine = engine
        revision = engine.revision
        assert revision is not None
        self.revision: int = revision
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        self.generated_at = _generated_at(parsed)
        flags = parsed.get("flags") if isinstance(parsed, dict) else None
        self.types: Dict[str, str] = {}
        if isinstance(flags, dict):
            for key, flag in flags.items():
                kind = flag.get("type") if isinstance(flag, dict) else None
                if kind in _TYPES:
                    self.types[key] = kind


def _compile(body: bytes) -> _Prepared:
    """Compiles snapshot bytes with core (acceptance b); raises a ClientError with core's code."""
    engine = Engine()
    try:
        engine.load(body)
    except PennonError as error:
        raise ClientError(error.code, str(error)) from None
    return _Prepared(engine, body)


_live: "weakref.WeakSet[Client]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for client in list(_live):
        client._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Client:
    """A Pennon client over one source: ``url`` + ``sdk_key`` (a Pennon server), ``file``
    (re-read when it changes) or ``snapshot`` (in memory, never refreshed); with ``url``, an
    optional ``bootstrap`` (or ``bootstrap_file``) makes it ready offline.

    Durations are seconds (floats): ``poll_interval`` (default 30, 1 for ``file``),
    ``init_timeout`` (5), ``stale_after`` (120), ``heartbeat`` (15: a stream silent for
    3x this is dead), ``backoff=(base, cap)`` (1, 30), ``breaker=(failures, open_for)``
    (5, 30). ``public_key``: the server's Ed25519 key (base64), needs
    ``pennon[signatures]``. ``env_overrides``: ``True`` reads ``PENNON_FLAG_*`` from
    ``os.environ``, a mapping reads them from it.

    ``metrics`` (default ``True`` with ``url``, only with ``url``): what ``record`` records
    and the exposures (evaluations counted per variant) go to ``POST {url}/sdk/v1/metrics``
    every ``metrics_interval`` seconds (10) and once more from ``close()``.

    It refreshes on one daemon thread and stays fork-safe with no call to make.
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
        env_overrides: Union[bool, Mapping[str, Optional[str]]] = False,
        metrics: Optional[bool] = None,
        metrics_interval: float = 10.0,
    ) -> None:
        sources = [s for s in (url, file, snapshot) if s is not None]
        if len(sources) != 1:
            raise ClientError("invalid_config", "configure exactly one source: url (with sdk_key), file or snapshot")
        self._url: Optional[str] = None
        self._sdk_key: Optional[str] = None
        self._file: Optional[str] = None
        if url is not None:
            if not isinstance(url, str) or not (url.startswith("http://") or url.startswith("https://")):
                raise ClientError("invalid_config", "url must start with http:// or https://")
            if not isinstance(sdk_key, str) or sdk_key == "":
                raise ClientError("invalid_config", "url needs an sdk_key")
            self._url = url.rstrip("/")
            self._sdk_key = sdk_key
        elif file is not None:
            self._file = os.fspath(file)
        if (bootstrap is not None or bootstrap_file is not None) and url is None:
            raise ClientError("invalid_config", "a bootstrap goes with the url source")
        self._stream = bool(stream)
        self._poll_interval = _duration("poll_interval", poll_interval, 1.0 if file is not None else 30.0)
        self._init_timeout = _duration("init_timeout", init_timeout, 5.0)
        self._stale_after = _duration("stale_after", stale_after, 120.0)
        self._heartbeat = _duration("heartbeat", heartbeat, 15.0)
        self._backoff_base = _duration("backoff base", backoff[0], 1.0)
        self._backoff_cap = _duration("backoff cap", backoff[1], 30.0)
        self._breaker_failures = int(_duration("breaker failures", breaker[0], 5))
        self._breaker_open_for = _duration("breaker open_for", breaker[1], 30.0)
        send_metrics = url is not None if metrics is None else metrics
        if not isinstance(send_metrics, bool):
            raise ClientError("invalid_config", "metrics must be True or False")
        if send_metrics and url is None:
            raise ClientError("invalid_config", "metrics are sent to the server of the url source: configure url or metrics=False")
        interval = self._metrics_interval = _duration("metrics_interval", metrics_interval, 10.0)
        if interval == 0:
            raise ClientError("invalid_config", "metrics_interval must be a number of seconds > 0")
        self._public_key: Any = None
        if public_key is not None:
            from pennon._signature import parse_public_key

            self._public_key = parse_public_key(public_key)
        if env_overrides is False:
            self._env: Dict[str, Any] = {}
        elif env_overrides is True:
            self._env = _env.collect(os.environ)
        else:
            self._env = _env.collect(env_overrides)

        # What evaluations read: one reference, swapped whole. The engines count
        # evaluations (`pennon_evaluations_total`, docs/bindings.md "Counting evaluations"):
        # each snapshot's engine counts into this one's counters (`share_counters`).
        self._empty = Engine()
        self._empty.count_evaluations(True)
        # Outcome batches: taken from this engine, whose outcomes every snapshot's engine
        # shares (`share_counters` shares both), sent on the refresh thread's tick.
        self._outcomes: Optional["Outcomes"] = None
        # The sender of `flush_outcomes()` with metrics off (kept for its pending batch).
        self._manual_outcomes: Optional["Outcomes"] = None
        if send_metrics:
            from pennon._http import Http
            from pennon._outcomes import Outcomes

            assert self._url is not None and self._sdk_key is not None
            sender = Http(self._url, self._sdk_key, lambda: True, 1.0)
            self._outcomes = Outcomes(self._empty, sender.post_metrics, interval)
        self._current: Optional[_Prepared] = None
        self._etag: Optional[str] = None
        self._overrides: Dict[str, Any] = {}
        self._hooks: Tuple[EvaluationHook, ...] = ()
        self._listeners: Dict[str, Tuple[Callable[[Any], None], ...]] = {name: () for name in _EVENTS}
        # Events of a kind nobody listened to yet (see `on`).
        self._held: Dict[str, List[Event]] = {name: [] for name in _EVENTS}
        self._plain = True
        self._replain()
        self._closed = False
        self._created = time.monotonic()
        self._last_success = time.monotonic()
        self._last_success_wall = time.time()
        self._stale = False
        self._last_error: Optional[ClientError] = None
        self._file_seen: Optional[Tuple[int, int]] = None
        self._new_locks()

        # Sources given in memory load now; their errors are configuration errors (raised).
        in_memory: Optional[bytes] = None
        if snapshot is not None:
            in_memory = _snapshot_bytes(snapshot, "snapshot")
        elif bootstrap is not None:
            in_memory = _snapshot_bytes(bootstrap, "bootstrap")
        elif bootstrap_file is not None:
            try:
                with open(bootstrap_file, "rb") as handle:
                    in_memory = handle.read()
            except OSError as error:
                raise ClientError("io_error", f"cannot read the bootstrap file {bootstrap_file}: {error}") from None
        if in_memory is not None:
            self._install(_compile(in_memory), None)
        if self._file is not None:
            # The first read happens now: a readable file makes the client ready at once.
            from pennon._refresh import read_file

            self._file_seen = read_file(self, self._file, None)
        _live.add(self)
        self._start()

    # ---- threads and locks -------------------------------------------------------------

    def _new_locks(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        # Serialises event delivery (the refresh thread's, a replay in `on`).
        self._emit_lock = threading.RLock()
        self._async_waiters: Set[Tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]] = set()
        self._run: Optional["Run"] = None

    def _start(self) -> None:
        from pennon._refresh import Run

        if self._closed or (self._url is None and self._file is None):
            return
        tick = min(max(self._stale_after / 4, 0.01), 1.0, self._metrics_interval)
        run = Run(self, tick)
        self._run = run
        run.start("url" if self._url is not None else "file")

    def _after_fork(self) -> None:
        # In a forked child: the parent's refresh thread does not exist here, and any lock
        # it held stays held forever. New locks, a new thread; the parent's sockets are
        # left to the garbage collector (never shut down: that would cut the parent's).
        # The outcomes not yet sent are the parent's to send: the child starts from zero.
        self._new_locks()
        for outcomes in (self._outcomes, self._manual_outcomes):
            if outcomes is not None:
                outcomes.discard()
        self._start()

    # ---- readiness -------------------------------------------------------------------

    def _init_timeout_error(self, waited: float) -> ClientError:
        last = self._last_error
        why = f"; last error: {last.message} ({last.code})" if last is not None else ""
        return ClientError("init_timeout", f"no snapshot within {waited:g} s{why}")

    def _closed_error(self) -> ClientError:
        return ClientError("closed", "the client was closed before it became ready")

    def _ready_left(self, timeout: Optional[float]) -> Tuple[float, float]:
        if timeout is not None:
            return timeout, timeout
        return max(0.0, self._init_timeout - (time.monotonic() - self._created)), self._init_timeout

    def ready(self, timeout: Optional[float] = None) -> None:
        """Returns once the first snapshot is installed; raises ``ClientError`` with code
        ``init_timeout`` once ``init_timeout`` (counted from construction; or ``timeout``
        seconds from this call when given) passed first, or ``closed``. Never hangs."""
        left, total = self._ready_left(timeout)
        deadline = time.monotonic() + left
        with self._cond:
            while self._current is None:
                if self._closed:
                    raise self._closed_error()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._init_timeout_error(total)
                self._cond.wait(remaining)

    async def ready_async(self, timeout: Optional[float] = None) -> None:
        """``ready()`` for asyncio: awaits without blocking the event loop."""
        if self._current is not None:
            return
        if self._closed:
            raise self._closed_error()
        left, total = self._ready_left(timeout)
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[None]" = loop.create_future()
        waiter = (loop, future)
        with self._cond:
            if self._current is not None:
                return
            self._async_waiters.add(waiter)
        try:
            await asyncio.wait_for(future, left)
        except asyncio.TimeoutError:
            raise self._init_timeout_error(total) from None
        finally:
            with self._cond:
                self._async_waiters.discard(waiter)

    def _settle_waiters(self, error: Optional[ClientError]) -> None:
        """Wakes every waiter of ``ready`` / ``ready_async`` (call with ``self._cond`` held)."""
        self._cond.notify_all()
        for loop, future in list(self._async_waiters):

            def settle(future: "asyncio.Future[None]" = future) -> None:
                if not future.done():
                    if error is None:
                        future.set_result(None)
                    else:
                        future.set_exception(error)

            try:
                loop.call_soon_threadsafe(settle)
            except RuntimeError:
                pass  # that event loop is closed
        self._async_waiters.clear()

    @property
    def revision(self) -> Optional[int]:
        """The revision of the snapshot held, ``None`` before the first."""
        current = self._current
        return None if current is None else current.revision

    @property
    def is_stale(self) -> bool:
        """No check succeeded for ``stale_after`` (the last good snapshot is still served)."""
        return self._stale

    # ---- evaluation ------------------------------------------------------------------

    def _override_for(self, flag: str, expected: Optional[str], current: Optional[_Prepared]) -> Tuple[bool, Any]:
        """A local override of ``flag`` answering a call that expects ``expected`` (or any type)."""
        overrides = self._overrides
        if flag in overrides:
            value = overrides[flag]
            if expected is None or _accepts(expected, value):
                return True, value
        if not self._env:
            return False, None
        name = _env.variable_name(flag)
        if name not in self._env:
            return False, None
        value = self._env[name]
        # Applies only when its type matches the flag's (the getter's when the snapshot does
        # not know the flag).
        flag_type = current.types.get(flag, expected) if current is not None else expected
        if flag_type is None or not _accepts(flag_type, value) or not (expected is None or _accepts(expected, value)):
            return False, None
        return True, value

    @staticmethod
    def _overridden(value: Any, current: Optional[_Prepared], now: int) -> Details:
        return {
            "value": value,
            "variant": "override",
            "reason": "STATIC",
            "ruleId": None,
            "stage": None,
            "shadowVariant": None,
            "errorCode": None,
            "errorMessage": None,
            "revision": None if current is None else current.revision,
            "flagMetadata": None,
            "age": _age(current, now),
        }

    def _resolve(self, flag: str, context: Optional[Context], kind: Optional[FlagType], default: Any) -> Details:
        current = self._current
        details: Details
        if not self._plain:
            found, value = self._override_for(flag, kind, current)
            if found:
                details = self._overridden(value, current, _now_ms())
                self._empty.count_override(flag)
                if self._hooks:
                    self._run_hooks(flag, details)
                return details
        engine = self._empty if current is None else current.engine
        # The host clock (the binding's) decides; keyword arguments only when needed: each
        # costs the pyo3 call about as much as a dict lookup in Python.
        if kind is None:
            details = engine.evaluate(flag, context)  # type: ignore[assignment]
        else:
            details = engine.evaluate(flag, context, type=kind, default=default)  # type: ignore[assignment]
        generated_at = None if current is None else current.generated_at
        details["age"] = None if generated_at is None else int(_now_ms() - generated_at)
        if self._hooks:
            self._run_hooks(flag, details)
        return details

    def _run_hooks(self, flag: str, details: Details) -> None:
        for hook in self._hooks:
            try:
                hook(flag, details)
            except Exception as error:  # noqa: BLE001 - reported as an event
                self._emit_error(ClientError("hook_failed", f"an on_evaluation hook raised: {error!r}"))

    def _typed(self, flag: str, context: Optional[Context], kind: FlagType, default: Any) -> Any:
        """The typed getters with an override, environment variable or hook in force (else
        the getters are the engine's own: see ``_rebind``)."""
        _check_default(kind, default)
        value = self._resolve(flag, context, kind, default)["value"]
        return value if _accepts(kind, value) else default

    def _rebind(self) -> None:
        """The typed getters' fast path. With no override, environment variable or hook in
        force (the common case), ``get_boolean`` … ``get_object`` of this client *are* the
        native methods of the engine in use (they count the evaluation themselves), set as
        instance attributes at every swap; otherwise the methods below answer. One
        attribute store each, so a reader on another thread sees one or the other."""
        current = self._current
        engine = self._empty if current is None else current.engine
        attributes = self.__dict__
        for name in _GETTERS:
            if self._plain:
                attributes[name] = getattr(engine, name)
            else:
                attributes.pop(name, None)

    def is_enabled(self, flag: str, context: Optional[Context] = None) -> bool:
        """A boolean flag is on: ``get_boolean(flag, context, False)``."""
        return self.get_boolean(flag, context, False)

    def get_boolean(self, flag: str, context: Optional[Context], default: bool) -> bool:
        """A boolean flag's value, or ``default`` on any error. A default of another type
        raises ``ArgumentError``."""
        result: bool = self._typed(flag, context, "boolean", default)
        return result

    def get_string(self, flag: str, context: Optional[Context], default: str) -> str:
        """A string flag's value, or ``default`` on any error."""
        result: str = self._typed(flag, context, "string", default)
        return result

    def get_number(self, flag: str, context: Optional[Context], default: Union[int, float]) -> Union[int, float]:
        """A number flag's value, or ``default`` on any error."""
        result: Union[int, float] = self._typed(flag, context, "number", default)
        return result

    def get_object(self, flag: str, context: Optional[Context], default: _T) -> Union[Dict[str, Any], _T]:
        """An object flag's value (a new dict), or ``default`` (a dict or ``None``) on any error."""
        result: Union[Dict[str, Any], _T] = self._typed(flag, context, "object", default)
        return result

    def evaluate(self, flag: str, context: Optional[Context] = None, *, type: Optional[FlagType] = None) -> Details:
        """Evaluates a flag with every detail; ``value`` is ``None`` on error. With
        ``type`` (``"boolean"``, ``"string"``, ``"number"``, ``"object"``), a flag of
        another type is core's ``TYPE_MISMATCH`` error."""
        return self._resolve(flag, context, type, None)

    def all_flags(self, context: Optional[Context] = None) -> Dict[str, Details]:
        """Every flag of the snapshot (and every overridden flag) for ``context``, keys
        sorted (a front end's bootstrap). Not counted in the metrics, no hooks."""
        now = _now_ms()
        current = self._current
        age = _age(current, now)
        out: Dict[str, Details] = {}
        if current is not None:
            for key, result in current.engine.evaluate_all(context, now).items():
                found, value = self._override_for(key, None, current)
                if found:
                    out[key] = self._overridden(value, current, now)
                else:
                    details: Details = result  # type: ignore[assignment]
                    details["age"] = age
                    out[key] = details
        for key, value in list(self._overrides.items()):
            if key not in out:
                out[key] = self._overridden(value, current, now)
        return {key: out[key] for key in sorted(out)}

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
        """Calls ``callback(payload)`` on each ``event`` (``ready``, ``change``, ``error``,
        ``stale``); returns a function that unsubscribes.

        Callbacks run on the refresh thread (on the constructing thread for a snapshot
        loaded at construction), one at a time; one that raises is reported as an
        ``error`` event with code ``hook_failed``. The refresh thread starts in the
        constructor, so events that fire before the first listener of their kind exists
        are kept (the first 32 of each kind) and given to that first listener, here, in
        order: ``client = Client(...); client.on("ready", ...)`` never misses ``ready``.
        """
        if event not in _EVENTS:
            raise ClientError("invalid_argument", f"unknown event {event!r}: one of {', '.join(_EVENTS)}")
        if not callable(callback):
            raise ClientError("invalid_argument", "on() needs a callable")
        with self._emit_lock:
            self._listeners[event] = (*self._listeners[event], callback)
            held = self._held.pop(event, None)
            for payload in held or ():
                self._deliver(event, callback, payload)

        def unsubscribe() -> None:
            with self._emit_lock:
                self._listeners[event] = tuple(c for c in self._listeners[event] if c is not callback)

        return unsubscribe

    def _emit(self, name: str, payload: Event) -> None:
        with self._emit_lock:
            listeners = self._listeners[name]
            held = self._held.get(name)
            if held is not None:
                if len(held) < _HELD_EVENTS:
                    held.append(payload)
                return
            for callback in listeners:
                self._deliver(name, callback, payload)

    def _deliver(self, name: str, callback: Callable[[Any], None], payload: Event) -> None:
        try:
            callback(payload)
        except Exception as error:  # noqa: BLE001 - reported as an event
            if name != "error":
                self._emit_error(ClientError("hook_failed", f"a {name!r} listener raised: {error!r}"))

    def _emit_error(self, error: ClientError) -> None:
        self._emit("error", ErrorEvent(error.code, error.message))

    # ---- overrides, metrics, hooks -------------------------------------------------------

    def override(self, flag: str, value: Any) -> "Client":
        """Makes ``flag`` answer ``value`` (reason ``STATIC``, variant ``override``) for calls
        whose type ``value`` has (and for ``evaluate``)."""
        if value is None:
            raise ClientError("invalid_argument", "an override needs a value")
        self._overrides[flag] = value
        self._replain()
        return self

    def clear_override(self, flag: Optional[str] = None) -> "Client":
        """Removes an ``override`` (all of them without a flag)."""
        if flag is None:
            self._overrides.clear()
        else:
            self._overrides.pop(flag, None)
        self._replain()
        return self

    def _replain(self) -> None:
        # One attribute for the getters' fast path to read.
        self._plain = not (self._overrides or self._env or self._hooks)
        self._rebind()

    def metrics(self) -> str:
        """The evaluation counters in Prometheus text (``pennon_evaluations_total{flag,variant,reason}``)."""
        return self._empty.metrics()

    def record(
        self,
        flag: str,
        context: Optional[Context] = None,
        *,
        ok: bool = False,
        error: bool = False,
        latency_ms: Optional[float] = None,
        converted: bool = False,
    ) -> None:
        """Records what happened after using ``flag`` for ``context``: a request (``ok=True``
        or ``error=True``, with ``latency_ms``) and/or a conversion (``converted=True``),
        under the variant core serves ``context`` (evaluated again, uncounted, without
        hooks). Lock free; sent in the next batch (``metrics``).

        Raises ``ArgumentError`` (code ``invalid_argument``) for an invalid outcome: none of
        ``ok``/``error``/``converted``, ``ok`` and ``error`` together, a negative latency.
        An unknown flag, a bad context or a flag a local override answers (no cohort of a
        rollout) records nothing and raises nothing."""
        outcome: Outcome = {}
        if ok:
            outcome["ok"] = True
        if error:
            outcome["error"] = True
        if latency_ms is not None:
            outcome["latency_ms"] = latency_ms
        if converted:
            outcome["converted"] = True
        current = self._current
        if not self._plain and self._override_for(flag, None, current)[0]:
            _ARGUMENTS.record(flag, context, outcome)  # checks the outcome, records nothing
            return
        (self._empty if current is None else current.engine).record(flag, context, outcome)

    def flush_outcomes(self) -> bool:
        """Sends what was recorded since the last batch now, on the calling thread (at most
        10 s), instead of at the next ``metrics_interval``: ``True`` when the server took
        the batch, ``False`` when nothing was new. Raises ``ClientError`` when the send
        failed (the batch is kept and sent again, the same batch, by the next flush; what
        was recorded meanwhile goes in the one after). Only for a ``url`` client
        (``invalid_config`` otherwise)."""
        from pennon._http import REQUEST_TIMEOUT, Http
        from pennon._outcomes import Outcomes

        if self._url is None or self._sdk_key is None:
            raise ClientError("invalid_config", "outcomes are sent to the server of a url source")
        outcomes = self._outcomes or self._manual_outcomes
        if outcomes is None:
            sender = Http(self._url, self._sdk_key, lambda: True, 1.0)
            outcomes = self._manual_outcomes = Outcomes(self._empty, sender.post_metrics, self._metrics_interval)
        return outcomes.flush(REQUEST_TIMEOUT)

    def outcome_metrics(self) -> str:
        """The recorded outcomes in Prometheus text (cumulative, ``cohort`` = the variant):
        ``pennon_canary_requests_total``, ``pennon_canary_errors_total``,
        ``pennon_conversions_total``, ``pennon_canary_latency_ms`` (histogram)."""
        return self._empty.outcome_metrics()

    def on_evaluation(self, hook: EvaluationHook) -> Callable[[], None]:
        """Runs ``hook(flag, details)`` after every single-flag evaluation (typed getters,
        ``is_enabled``, ``evaluate``): exposure logging. Returns a function that removes it."""
        if not callable(hook):
            raise ClientError("invalid_argument", "on_evaluation needs a callable")
        self._hooks = (*self._hooks, hook)
        self._replain()

        def remove() -> None:
            self._hooks = tuple(h for h in self._hooks if h is not hook)
            self._replain()

        return remove

    # ---- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Stops refreshing (idempotent) and sends what was recorded since the last batch,
        once, within 1 s. Evaluations keep answering from the snapshot held."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._settle_waiters(self._closed_error())
        run = self._run
        if run is not None:
            run.halt()
            thread = run.thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(1.0)
        if self._outcomes is not None:
            self._outcomes.final_flush()
        _live.discard(self)

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    # ---- acceptance, install, status (the refresh thread's side) ---------------------

    def _prepare(self, body: bytes, signature: Optional[str]) -> _Prepared:
        """Verifies and compiles fetched snapshot bytes (acceptance a and b)."""
        if self._public_key is not None:
            from pennon._signature import verify_signature

            verify_signature(self._public_key, body, signature)
        return _compile(body)

    def _install(self, prepared: _Prepared, etag: Optional[str]) -> None:
        """Installs a prepared snapshot unless it is older than the one held (acceptance c);
        an equal revision is a no-op. The swap is one assignment. Emits ``ready`` or ``change``."""
        previous = self._current
        revision = prepared.revision
        if previous is not None:
            if revision < previous.revision:
                raise ClientError(
                    "revision_older",
                    f"refused revision {revision}: older than the revision held ({previous.revision})",
                )
            if revision == previous.revision:
                self._etag = etag or self._etag
                return
        prepared.engine.share_counters(self._empty)
        with self._cond:
            self._current = prepared
            self._etag = etag
            self._rebind()
            if previous is None:
                self._settle_waiters(None)
        if previous is None:
            self._emit("ready", ReadyEvent(revision, False))
        else:
            flags: List[str] = prepared.engine.changed_flags(previous.engine)
            self._emit("change", ChangeEvent(revision, previous.revision, flags))

    def _check_succeeded(self) -> None:
        self._last_success = time.monotonic()
        self._last_success_wall = time.time()
        if self._stale:
            self._stale = False
            current = self._current
            if current is not None:
                self._emit("ready", ReadyEvent(current.revision, True))

    def _check_failed(self, error: ClientError) -> None:
        self._last_error = error
        self._emit_error(error)

    def _tick(self) -> None:
        """The refresh thread's tick: staleness, and an outcome batch when one is due."""
        self._check_staleness()
        if self._outcomes is not None and not self._closed:
            self._outcomes.tick()

    def _check_staleness(self) -> None:
        if self._url is None:
            return
        if not self._stale and time.monotonic() - self._last_success >= self._stale_after:
            self._stale = True
            self._emit("stale", StaleEvent(self._last_success_wall, self.revision))


def _age(current: Optional[_Prepared], now: int) -> Optional[int]:
    generated_at = None if current is None else current.generated_at
    return None if generated_at is None else int(now - generated_at)
