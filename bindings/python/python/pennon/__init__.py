"""Pennon feature flags for Python: the Rust evaluation engine as an extension module.

Everything here comes from the native module ``pennon._native``; this package only
re-exports it (all semantics live in the Rust core)::

    import pennon

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
from pennon._types import (
    Context,
    ErrorCode,
    EvaluationErrorCode,
    EvaluationResult,
    FlagType,
    LoadWarning,
    Reason,
    TypeName,
)

__all__ = [
    "ArgumentError",
    "Context",
    "ContextError",
    "Engine",
    "ErrorCode",
    "EvaluationErrorCode",
    "EvaluationResult",
    "FlagType",
    "InternalError",
    "LoadWarning",
    "PennonError",
    "Reason",
    "SnapshotError",
    "TypeName",
    "__version__",
    "core_error_codes",
    "core_reasons",
    "error_codes",
]
