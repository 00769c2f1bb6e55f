"""Feature-gated code: the ``feature_context`` context manager (sync and async) and the
``@feature`` decorator (sync and async functions, any framework or none).

Both ask the client, and through it core; they only decide what to run. The rule that
turns a result into a mode is the one every Pennon SDK's route guard uses (``requireFlag``
in Node, ``pennon.fastapi.require_flag`` here): a boolean flag serving ``True`` is
*enabled*; a flag in state ``shadow`` whose on path would serve another variant is in
*shadow* mode (when the caller accepts it); anything else is disabled, with a *state* for
people (``off``, ``kill``, ``shadow``, ``canary``, ``error``, ``on``).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Literal, Mapping, Optional, TypeVar, Union, cast, overload

from pennon._types import Context, Details

if TYPE_CHECKING:
    from typing import ParamSpec, Protocol

    from pennon.client import Client

    _P = ParamSpec("_P")
    _Q = ParamSpec("_Q")
    _S = TypeVar("_S")

    class _Gate(Protocol):
        """What ``feature(...)`` without a fallback returns: keeps any signature."""

        def __call__(self, function: Callable[_Q, _S], /) -> Callable[_Q, _S]: ...

_R = TypeVar("_R")

__all__ = ["Feature", "FeatureDisabled", "FlagMode", "FlagState", "evaluate_gate", "feature", "feature_context"]

FlagMode = Literal["enabled", "shadow"]
"""How a guarded piece of code runs: for real, or in shadow mode (validate, log, no effect)."""

FlagState = Literal["on", "off", "kill", "shadow", "canary", "error"]
"""What a disabled answer tells people about the flag, from core's reason."""

_STATE_OF_REASON: Dict[str, FlagState] = {
    "DISABLED": "off",
    "OUT_OF_WINDOW": "off",
    "KILLED": "kill",
    "SHADOW": "shadow",
    "CANARY_EXCLUDED": "canary",
    "ERROR": "error",
}

ContextLike = Union[Context, str, None]
"""An evaluation context, or just a targeting key (a user id), or nothing."""


def _context_of(context: ContextLike) -> Optional[Context]:
    if isinstance(context, str):
        return {"targetingKey": context}
    return context


@dataclass(frozen=True)
class Feature:
    """One gate's answer. True when the code runs for real (``if feature:``)."""

    flag: str
    mode: Optional[FlagMode]
    """``"enabled"``, ``"shadow"`` (only when shadow mode was accepted) or ``None``."""
    state: FlagState
    """The flag's state for people: ``on`` when enabled, else from core's reason."""
    details: Details
    """Core's result (value, variant, reason, revision...)."""

    @property
    def enabled(self) -> bool:
        """The code runs for real (mode ``enabled``)."""
        return self.mode == "enabled"

    @property
    def shadow(self) -> bool:
        """The code runs in shadow mode."""
        return self.mode == "shadow"

    def __bool__(self) -> bool:
        return self.enabled


def evaluate_gate(client: "Client", flag: str, context: ContextLike = None, *, shadow_ok: bool = False) -> Feature:
    """Evaluates ``flag`` once through ``client`` and tells how guarded code runs."""
    details = client.evaluate(flag, _context_of(context))
    if details["value"] is True:
        return Feature(flag, "enabled", "on", details)
    state = _STATE_OF_REASON.get(details["reason"], "on")
    # In state `shadow` core serves the off variant and names the variant the on path
    # would have served: shadow mode when that is another variant than the one served.
    shadow_variant = details["shadowVariant"]
    if shadow_ok and details["reason"] == "SHADOW" and shadow_variant is not None and shadow_variant != details["variant"]:
        return Feature(flag, "shadow", state, details)
    return Feature(flag, None, state, details)


class FeatureDisabled(Exception):
    """Guarded code was called while its flag is off (``@feature`` without a fallback).

    ``as_json()`` is the body every Pennon route guard answers with ``403``.
    """

    def __init__(self, feature: Feature) -> None:
        Exception.__init__(self, f"feature {feature.flag!r} is disabled (state {feature.state}, reason {feature.details['reason']})")
        self.feature = feature
        self.flag = feature.flag
        self.state: FlagState = feature.state
        self.reason: str = feature.details["reason"]

    def as_json(self) -> Dict[str, str]:
        """``{"error": "FEATURE_DISABLED", "flag", "state", "reason"}``."""
        return {"error": "FEATURE_DISABLED", "flag": self.flag, "state": self.state, "reason": self.reason}


class feature_context:  # noqa: N801 (used like a function: `with feature_context(...)`)
    """``with`` / ``async with`` block that evaluates a flag once and yields a ``Feature``
    (true when enabled)::

        async with feature_context(client, "auto_submit_enabled", user_id) as enabled:
            if enabled:
                await process_auto_submit()
            else:
                await process_manual_submit()

    ``context`` is an evaluation context, or a targeting key (a user id). The answer is
    fixed for the whole block even if a new snapshot arrives meanwhile.
    """

    def __init__(self, client: "Client", flag: str, context: ContextLike = None, *, shadow_ok: bool = False) -> None:
        self._client = client
        self._flag = flag
        self._context = context
        self._shadow_ok = shadow_ok

    def __enter__(self) -> Feature:
        return evaluate_gate(self._client, self._flag, self._context, shadow_ok=self._shadow_ok)

    def __exit__(self, *exc_info: object) -> None:
        return None

    async def __aenter__(self) -> Feature:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        return None


@overload
def feature(
    client: "Client",
    flag: str,
    *,
    fallback: None = None,
    context: "Union[Callable[..., ContextLike], Mapping[str, Any], None]" = None,
) -> "_Gate": ...


@overload
def feature(
    client: "Client",
    flag: str,
    *,
    fallback: "Callable[_P, _R]",
    context: "Union[Callable[_P, ContextLike], Mapping[str, Any], None]" = None,
) -> "Callable[[Callable[_P, _R]], Callable[_P, _R]]": ...


def feature(
    client: "Client",
    flag: str,
    *,
    fallback: "Optional[Callable[..., Any]]" = None,
    context: "Union[Callable[..., ContextLike], Mapping[str, Any], None]" = None,
) -> "Callable[[Callable[..., Any]], Callable[..., Any]]":
    """Decorates a function (sync or async) so that it runs only while ``flag`` is on.

    When it is off, ``fallback`` (same signature; async for an async function) runs
    instead, or ``FeatureDisabled`` is raised when there is none. ``context`` is the
    evaluation context: a mapping, or a function called with the same arguments::

        @feature(client, "new-pricing", fallback=old_price, context=lambda user, cart: {"targetingKey": user})
        def price(user: str, cart: list[int]) -> int: ...

    The flag is evaluated at each call (it follows the live snapshot), never at import.
    """

    def gate(args: Any, kwargs: Any) -> Feature:
        ctx = context(*args, **kwargs) if callable(context) else context
        return evaluate_gate(client, flag, cast(ContextLike, ctx))

    def decorate(function: "Callable[..., Any]") -> "Callable[..., Any]":
        if inspect.iscoroutinefunction(function):
            if fallback is not None and not inspect.iscoroutinefunction(fallback):
                raise TypeError(f"the fallback of the async function {function.__qualname__} must be async too")

            @functools.wraps(function)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                answer = gate(args, kwargs)
                if answer.enabled:
                    return await function(*args, **kwargs)
                if fallback is None:
                    raise FeatureDisabled(answer)
                return await fallback(*args, **kwargs)

            return async_wrapper

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            answer = gate(args, kwargs)
            if answer.enabled:
                return function(*args, **kwargs)
            if fallback is None:
                raise FeatureDisabled(answer)
            return fallback(*args, **kwargs)

        return wrapper

    return decorate
