"""Type stubs for ``pennon._native``, the pyo3 extension (bindings/python/src/lib.rs).

Checked against the built module by ``python -m mypy.stubtest pennon._native``
(bindings/python/test.sh).
"""

from typing import Any, Literal, Mapping, Optional, Sequence, TypeVar, Union, final

from pennon._types import Context, EvaluationResult, LoadWarning

_T = TypeVar("_T")

_Json = Union[None, bool, int, float, str, Sequence[Any], Mapping[str, Any]]
_FlagType = Literal["boolean", "string", "number", "object"]

__version__: str
__all__ = [
    "Engine",
    "PennonError",
    "SnapshotError",
    "ContextError",
    "ArgumentError",
    "InternalError",
    "error_codes",
    "core_error_codes",
]

class PennonError(Exception):
    """Base class of every Pennon exception."""

    code: str
    """The stable snake_case error code (``invalid_json``, ``invalid_argument``...)."""
    path: str
    """The JSON path the error concerns (empty when none)."""

class SnapshotError(PennonError):
    """Loading a snapshot failed; the engine keeps the snapshot it had."""

class ContextError(PennonError):
    """A context could not be used."""

class ArgumentError(PennonError, ValueError):
    """An invalid argument (code ``invalid_argument``)."""

class InternalError(PennonError):
    """A bug inside Pennon (code ``internal``)."""

@final
class Engine:
    """Holds at most one compiled snapshot and evaluates flags against it; thread-safe."""

    def __new__(cls) -> Engine: ...
    def load(self, snapshot: Union[str, bytes, _Json]) -> list[LoadWarning]:
        """Loads JSON text or a parsed document; raises SnapshotError and keeps the old one."""
    @property
    def revision(self) -> Optional[int]:
        """The loaded snapshot's revision, or None before the first load."""
    @property
    def warnings(self) -> list[LoadWarning]:
        """The loaded snapshot's load warnings."""
    def evaluate(
        self,
        flag: str,
        context: Context,
        *,
        type: Optional[_FlagType] = None,
        default: Any = None,
        now: Optional[int] = None,
    ) -> EvaluationResult:
        """The canonical result dict; never raises for evaluation problems."""
    def get_boolean(self, flag: str, context: Context, default: _T, now: Optional[int] = None) -> Union[bool, _T]:
        """A boolean flag's value, or ``default`` on any error."""
    def get_string(self, flag: str, context: Context, default: _T, now: Optional[int] = None) -> Union[str, _T]:
        """A string flag's value, or ``default`` on any error."""
    def get_number(
        self, flag: str, context: Context, default: _T, now: Optional[int] = None
    ) -> Union[int, float, _T]:
        """A number flag's value, or ``default`` on any error."""
    def get_object(
        self, flag: str, context: Context, default: _T, now: Optional[int] = None
    ) -> Union[dict[str, Any], _T]:
        """An object flag's value (a new dict), or ``default`` on any error."""
    def evaluate_all(self, context: Context, now: Optional[int] = None) -> dict[str, EvaluationResult]:
        """Every flag for one context, ``{flag_key: result}``."""
    def _evaluate_canonical(
        self, flag: str, context_json: str, type: Optional[_FlagType], default_json: str, now: int
    ) -> str: ...

def error_codes() -> dict[str, type[PennonError]]:
    """``{code: exception class}`` for every error code the binding maps."""

def core_error_codes() -> list[str]:
    """Every error code core defines, in order."""

def _error(code: str, path: str = "", message: str = "test") -> PennonError: ...
def _canonical_json(document: _Json) -> str: ...
def _panic() -> None: ...
