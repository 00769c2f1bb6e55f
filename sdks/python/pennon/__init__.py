"""Pennon feature flags for Python.

``pennon.Client`` keeps a live snapshot of a Pennon server (or a file) and answers
evaluations from it::

    import pennon

    with pennon.Client(url="https://flags.example.com", sdk_key="sdk-...") as client:
        client.ready()
        if client.is_enabled("new-checkout", {"targetingKey": "u-1"}):
            ...

Every answer comes from the Rust core through the native module ``pennon._native``, whose
``Engine`` is re-exported for evaluating a snapshot loaded by hand::

    engine = pennon.Engine()
    engine.load(snapshot_json)            # str, bytes or an already parsed dict
    result = engine.evaluate("new-checkout", {"targetingKey": "u-1"}, default=False)
    result["value"], result["reason"]
"""

from pennon._native import (
    ArgumentError,
    ContextError,
    Engine,
    InternalError,
    PennonError,
    SnapshotError,
    __version__,
    core_error_codes,
    core_reasons,
    error_codes,
)
from pennon._errors import ClientError
from pennon._events import ChangeEvent, ErrorEvent, Event, EventName, ReadyEvent, StaleEvent
from pennon._types import (
    Context,
    Details,
    ErrorCode,
    EvaluationErrorCode,
    EvaluationResult,
    FlagType,
    LoadWarning,
    Outcome,
    Reason,
    TypeName,
)
from pennon.client import Client, EvaluationHook, SnapshotInput

__all__ = [
    "ArgumentError",
    "ChangeEvent",
    "Client",
    "ClientError",
    "Context",
    "ContextError",
    "Details",
    "Engine",
    "ErrorCode",
    "ErrorEvent",
    "EvaluationErrorCode",
    "EvaluationHook",
    "EvaluationResult",
    "Event",
    "EventName",
    "FlagType",
    "InternalError",
    "LoadWarning",
    "Outcome",
    "PennonError",
    "ReadyEvent",
    "Reason",
    "SnapshotError",
    "SnapshotInput",
    "StaleEvent",
    "TypeName",
    "__version__",
    "core_error_codes",
    "core_reasons",
    "error_codes",
]
