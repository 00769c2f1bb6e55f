"""FastAPI: guard a route with a flag (seed 002's ``requireFlag``, in FastAPI's words).

``require_flag(client, flag)`` is a dependency. When the flag is on for the request it
returns the flag mode ``"enabled"``; with ``shadow_ok=True`` a flag in state ``shadow``
returns ``"shadow"``; otherwise it answers ``403`` with the body every Pennon route guard
sends: ``{"error": "FEATURE_DISABLED", "flag", "state", "reason"}``. The mode is also in
``request.state.flag_mode``. Register ``feature_disabled_handler`` once so the body is
exactly that (FastAPI's own handler would wrap it in ``{"detail": ...}``)::

    app = FastAPI()
    app.add_exception_handler(FeatureDisabled, feature_disabled_handler)

    @app.post("/api/invoices")
    def create_invoice(mode: FlagMode = Depends(require_flag(client, "invoices.write", shadow_ok=True))) -> dict: ...

Needs the ``fastapi`` extra: ``pip install 'pennon[fastapi]'``.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Awaitable, Callable, Optional, Union

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

from pennon._types import Context
from pennon.gate import Feature, FeatureDisabled, FlagMode, evaluate_gate

if TYPE_CHECKING:
    from pennon.client import Client

__all__ = ["FeatureDisabled", "FeatureForbidden", "FlagMode", "feature_disabled_handler", "require_flag"]

RequestContext = Callable[[Request], Union[Context, Awaitable[Context]]]
"""The evaluation context of a request (a plain or an async function)."""


class FeatureForbidden(FeatureDisabled, HTTPException):
    """What ``require_flag`` raises: a ``FeatureDisabled`` that is also a ``403``
    ``HTTPException`` (so an app without ``feature_disabled_handler`` still answers 403)."""

    def __init__(self, feature: Feature) -> None:
        FeatureDisabled.__init__(self, feature)
        HTTPException.__init__(self, status_code=403, detail=self.as_json())


async def feature_disabled_handler(request: Request, exc: Exception) -> JSONResponse:
    """``app.add_exception_handler(FeatureDisabled, feature_disabled_handler)``: answers
    ``403 {"error": "FEATURE_DISABLED", "flag", "state", "reason"}`` for ``require_flag``
    and for ``@feature`` functions without a fallback called by a route."""
    if not isinstance(exc, FeatureDisabled):
        raise TypeError(f"feature_disabled_handler handles FeatureDisabled, not {type(exc).__name__}")
    return JSONResponse(exc.as_json(), status_code=403)


def _default_context(request: Request) -> Context:
    context: Optional[Context] = getattr(request.state, "pennon_context", None)
    return context if context is not None else {}


def require_flag(
    client: "Client",
    flag: str,
    *,
    shadow_ok: bool = False,
    context: Optional[RequestContext] = None,
) -> Callable[[Request], Awaitable[FlagMode]]:
    """A dependency guarding a route with the boolean ``flag``: returns the flag mode
    (``"enabled"``, or ``"shadow"`` with ``shadow_ok``) or raises ``FeatureForbidden``
    (403). ``context(request)`` gives the evaluation context (default:
    ``request.state.pennon_context``, set by a middleware of yours, else ``{}``)."""
    context_of: RequestContext = context if context is not None else _default_context

    async def pennon_require_flag(request: Request) -> FlagMode:
        found = context_of(request)
        ctx: Context = await found if inspect.isawaitable(found) else found
        answer = evaluate_gate(client, flag, ctx, shadow_ok=shadow_ok)
        if answer.mode is None:
            raise FeatureForbidden(answer)
        request.state.flag_mode = answer.mode
        return answer.mode

    return pennon_require_flag
