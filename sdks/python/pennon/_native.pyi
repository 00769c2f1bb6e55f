"""Type stubs for ``pennon._native``, the pyo3 extension (bindings/python/src/lib.rs).

Checked against the built module by ``python -m mypy.stubtest pennon._native``
(bindings/python/test.sh).
"""

from typing import Any, Mapping, Optional, Sequence, TypeVar, Union, final

from pennon._types import Context, ErrorCode, EvaluationResult, LoadWarning, Outcome, TypeName

_T = TypeVar("_T")

_Json = Union[None, bool, int, float, str, Sequence[Any], Mapping[str, Any]]

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
    "core_reasons",
]

class PennonError(Exception):
    """Base class of every Pennon exception."""

    code: ErrorCode
    """The stable snake_case error code (``invalid_json``, ``invalid_argument``...)."""
    path: Optional[str]
    """JSON Pointer (RFC 6901) of the value the error concerns, or None."""

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

    def __new__(cls, snapshot: Union[str, bytes, _Json, None] = None) -> Engine:
        """An engine, not ready until a snapshot loads (given here or with ``load``)."""
    def load(self, snapshot: Union[str, bytes, _Json]) -> list[LoadWarning]:
        """Loads JSON text or a parsed document; raises SnapshotError and keeps the old one."""
    @property
    def revision(self) -> Optional[int]:
        """The loaded snapshot's revision, or None before the first load."""
    @property
    def warnings(self) -> list[LoadWarning]:
        """The loaded snapshot's load warnings."""
    def changed_flags(self, previous: Engine) -> list[str]:
        """The keys of the flags whose evaluation may differ from `previous`'s snapshot (core's rule; sorted)."""
    def evaluate(
        self,
        flag: str,
        context: Optional[Context] = None,
        *,
        type: Optional[TypeName] = None,
        default: Any = None,
        now: Union[int, float, None] = None,
    ) -> EvaluationResult:
        """The canonical result dict; never raises for evaluation problems."""
    def get_boolean(self, flag: str, context: Context, default: _T, now: Union[int, float, None] = None) -> Union[bool, _T]:
        """A boolean flag's value, or ``default`` on any error."""
    def get_string(self, flag: str, context: Context, default: _T, now: Union[int, float, None] = None) -> Union[str, _T]:
        """A string flag's value, or ``default`` on any error."""
    def get_number(
        self, flag: str, context: Context, default: _T, now: Optional[int] = None
    ) -> Union[int, float, _T]:
        """A number flag's value, or ``default`` on any error."""
    def get_object(
        self, flag: str, context: Context, default: _T, now: Optional[int] = None
    ) -> Union[dict[str, Any], _T]:
        """An object flag's value (a new dict), or ``default`` on any error."""
    def evaluate_all(self, context: Optional[Context] = None, now: Union[int, float, None] = None) -> dict[str, EvaluationResult]:
        """Every flag for one context, ``{flag_key: result}``."""
    def count_evaluations(self, enabled: bool) -> None:
        """Switches counting of ``evaluate`` and the typed getters per flag x variant x reason on or off (off by default)."""
    def count_override(self, flag: str) -> None:
        """Counts an answer given from a local override of ``flag`` (variant ``override``, reason ``STATIC``) when counting is on."""
    def share_counters(self, previous: Engine) -> None:
        """From now on counts into ``previous``'s counters (an SDK's fresh engine per snapshot keeps one set)."""
    def metrics(self) -> str:
        """The counters in Prometheus text: ``pennon_evaluations_total{flag,variant,reason}``, sorted."""
    def record(
        self, flag: str, context: Optional[Context], outcome: Outcome, now: Union[int, float, None] = None
    ) -> None:
        """Records an outcome for the variant ``context`` is served (nothing when the evaluation fails)."""
    def take_outcomes(self, batch_id: str, sdk: Optional[str] = None) -> Optional[str]:
        """The body of ``POST /sdk/v1/metrics`` with everything since the previous take, or None when nothing is new."""
    def restore_outcomes(self, batch: str) -> None:
        """Gives back a batch whose send failed: the next take carries it again."""
    def outcome_metrics(self) -> str:
        """The outcomes in Prometheus text: ``pennon_canary_requests_total{flag,cohort}``, errors, conversions, latency histogram."""
    def _evaluate_canonical(
        self, flag: str, context_json: str, type: Optional[TypeName], default_json: str, now: int
    ) -> str: ...

def error_codes() -> dict[str, type[PennonError]]:
    """``{code: exception class}`` for every error code the binding maps."""

def core_error_codes() -> list[str]:
    """Every error code core defines, in order."""

def core_reasons() -> list[str]:
    """Every evaluation reason core defines, in order."""

def _error(code: str, path: str = "", message: str = "test") -> PennonError: ...
def _canonical_json(document: _Json) -> str: ...
def _panic() -> None: ...
