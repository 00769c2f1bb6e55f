"""Type names for annotations: the shapes of what ``pennon._native`` returns.

They describe plain ``dict`` objects (no classes are instantiated at run time).
"""

from typing import Any, Dict, Literal, Optional, TypedDict

# BEGIN GENERATED from pennon-core (cargo test -p pennon-host --test generated)
ErrorCode = Literal[
    "invalid_json",
    "invalid_snapshot",
    "unsupported_schema_version",
    "missing_field",
    "invalid_type",
    "invalid_value",
    "unknown_field",
    "unknown_operator",
    "unknown_variant",
    "variant_type_mismatch",
    "invalid_regex",
    "invalid_semver",
    "invalid_cidr",
    "invalid_date",
    "invalid_duration",
    "invalid_percentage",
    "invalid_weights",
    "unknown_segment",
    "invalid_segment",
    "segment_cycle",
    "prerequisite_cycle",
    "depth_exceeded",
    "unknown_prerequisite",
    "duplicate_id",
    "invalid_context",
    "invalid_argument",
    "internal",
]
"""Every stable error code (``PennonError.code``, load warnings' ``code``), in core's order."""

EvaluationErrorCode = Literal[
    "FLAG_NOT_FOUND",
    "TYPE_MISMATCH",
    "PARSE_ERROR",
    "TARGETING_KEY_MISSING",
    "INVALID_CONTEXT",
    "PROVIDER_NOT_READY",
    "GENERAL",
]
"""The OpenFeature error codes of evaluation results (``errorCode``)."""

Reason = Literal[
    "STATIC",
    "DEFAULT",
    "TARGETING_MATCH",
    "SPLIT",
    "DISABLED",
    "ERROR",
    "KILLED",
    "SHADOW",
    "OVERRIDE",
    "PREREQUISITE_FAILED",
    "OUT_OF_WINDOW",
    "CANARY_EXCLUDED",
]
"""Every evaluation reason (``reason``)."""

FlagType = Literal[
    "boolean",
    "string",
    "number",
    "object",
]
"""The value types of flags."""

TypeName = Literal[
    "boolean",
    "string",
    "number",
    "object",
    "any",
]
"""What ``evaluate(type=...)`` accepts: a flag type, or ``any`` for no check."""
# END GENERATED

Context = Dict[str, Any]
"""An evaluation context: attribute name -> JSON-like value (``targetingKey``, ``tenant``...)."""


class EvaluationResult(TypedDict):
    """The canonical result of one evaluation (docs/snapshot-format.md section 4)."""

    value: Any
    variant: Optional[str]
    reason: Reason
    ruleId: Optional[str]
    stage: Optional[int]
    shadowVariant: Optional[str]
    errorCode: Optional[EvaluationErrorCode]
    errorMessage: Optional[str]
    revision: Optional[int]
    flagMetadata: Optional[Dict[str, Any]]


class Outcome(TypedDict, total=False):
    """What happened after the application used a flag (``record``): a request that
    succeeded (``ok``) or failed (``error``), with its latency when measured, and/or a
    conversion. At least one of ``ok``, ``error``, ``converted``; not ``ok`` and ``error``
    together; ``latency_ms`` only with a request, a finite number >= 0. Anything else
    raises ``ArgumentError``."""

    ok: bool
    error: bool
    converted: bool
    latency_ms: float


class LoadWarning(TypedDict):
    """A problem found while loading a snapshot (an invalid flag, an unknown field...)."""

    code: ErrorCode
    path: str
    """JSON Pointer (RFC 6901) of the offending value, e.g. ``/flags/checkout/rules/0``."""
    message: str


class Details(EvaluationResult):
    """Every detail of one evaluation through ``pennon.Client``: core's result plus ``age``."""

    age: Optional[int]
    """Milliseconds since the snapshot's ``generatedAt``, when it has one."""
