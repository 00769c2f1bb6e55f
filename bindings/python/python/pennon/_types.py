"""Type names for annotations: the shapes of what ``pennon._native`` returns.

They describe plain ``dict`` objects (no classes are instantiated at run time).
"""

from typing import Any, Dict, Optional, TypedDict

Context = Dict[str, Any]
"""An evaluation context: attribute name -> JSON-like value (``targetingKey``, ``tenant``...)."""


class EvaluationResult(TypedDict):
    """The canonical result of one evaluation (docs/snapshot-format.md section 4)."""

    value: Any
    variant: Optional[str]
    reason: str
    ruleId: Optional[str]
    stage: Optional[int]
    shadowVariant: Optional[str]
    errorCode: Optional[str]
    errorMessage: Optional[str]
    revision: Optional[int]
    flagMetadata: Optional[Dict[str, Any]]


class LoadWarning(TypedDict):
    """A problem found while loading a snapshot (an invalid flag, an unknown field...)."""

    code: str
    path: str
    message: str
