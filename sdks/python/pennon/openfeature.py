"""The OpenFeature provider of Pennon (``openfeature-sdk``), over a ``pennon.Client``::

    from openfeature import api
    from pennon.openfeature import PennonProvider

    api.set_provider_and_wait(PennonProvider(client))
    api.get_client().get_boolean_value("new-checkout", False, EvaluationContext("user-1"))

Every answer is the client's (so core's): value, variant, reason (Pennon's own reasons
such as ``KILLED`` or ``SHADOW`` pass through as custom reasons), error code (core uses
OpenFeature's codes) and flag metadata (the flag's scalar metadata plus ``revision``).

Events: ``PROVIDER_READY`` once the client is ready (``initialize`` waits for it, at most
the client's ``init_timeout``) and again when it recovers from being stale;
``PROVIDER_CONFIGURATION_CHANGED`` for every newer snapshot, ``flags_changed`` naming the
flags core says may evaluate differently; ``PROVIDER_STALE`` when no check succeeded for
``stale_after``; ``PROVIDER_ERROR`` when the client fails while it holds no snapshot
(with a snapshot it keeps serving it, and staleness is what tells).

Tracking (``client.track(event_name, context, details)``): an event is a conversion of
each flag it names, ``conversions={event_name: flag or [flags]}`` and a ``flag`` attribute
of the details (a key or a list), recorded with ``client.record(flag, context,
converted=True)``; an event that names no flag records nothing.

Needs the ``openfeature`` extra: ``pip install 'pennon[openfeature]'``.
"""

from __future__ import annotations

import datetime
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode, ProviderNotReadyError
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata
from openfeature.track import TrackingEventDetails

from pennon._errors import ClientError
from pennon._events import ChangeEvent, ErrorEvent, ReadyEvent, StaleEvent
from pennon._types import Context, Details, FlagType

if TYPE_CHECKING:
    from pennon.client import Client

__all__ = ["PennonProvider", "context_of"]

_Object = Union[Sequence[FlagValueType], Mapping[str, FlagValueType]]

# OpenFeature's resolution types → Pennon's flag types (integer and float are both numbers).
_PENNON_TYPE: Dict[str, FlagType] = {
    "boolean": "boolean",
    "string": "string",
    "integer": "number",
    "number": "number",
    "object": "object",
}


def _attribute(value: Any) -> Any:
    """An OpenFeature context attribute as JSON: datetimes become RFC 3339 strings."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _attribute(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_attribute(v) for v in value]
    return value


def context_of(evaluation_context: Optional[EvaluationContext]) -> Context:
    """Pennon's context for an OpenFeature one: the attributes, plus ``targetingKey`` from
    ``targeting_key``. Datetimes become RFC 3339 strings (a naive one is taken as UTC)."""
    if evaluation_context is None:
        return {}
    context: Context = {key: _attribute(value) for key, value in evaluation_context.attributes.items()}
    if evaluation_context.targeting_key is not None:
        context["targetingKey"] = evaluation_context.targeting_key
    return context


def _metadata(details: Details) -> Dict[str, Union[bool, int, float, str]]:
    """OpenFeature flag metadata holds booleans, strings and numbers: the flag's scalar
    metadata plus the snapshot revision (as Pennon's OFREP endpoint reports it)."""
    out: Dict[str, Union[bool, int, float, str]] = {}
    for key, value in (details["flagMetadata"] or {}).items():
        if isinstance(value, (bool, int, float, str)):
            out[key] = value
    if details["revision"] is not None:
        out["revision"] = details["revision"]
    return out


def _error_code(code: str) -> ErrorCode:
    try:
        return ErrorCode(code)
    except ValueError:
        return ErrorCode.GENERAL


class PennonProvider(AbstractProvider):
    """An OpenFeature provider answering from a ``pennon.Client``.

    ``close_on_shutdown=True`` closes the client when OpenFeature shuts the provider
    down (``api.shutdown()``, or another provider set in its place); by default the
    client stays yours to close. ``conversions``: ``{tracking_event_name: flag or [flags]}``,
    the flags whose conversion a tracking event is (see ``track``).
    """

    def __init__(
        self,
        client: "Client",
        *,
        close_on_shutdown: bool = False,
        conversions: Optional[Mapping[str, Union[str, Sequence[str]]]] = None,
    ) -> None:
        super().__init__()
        self._conversions = _conversions_option(conversions)
        self._client = client
        self._close_on_shutdown = close_on_shutdown
        self._lock = threading.Lock()
        self._unsubscribe: List[Callable[[], None]] = []
        # READY is OpenFeature's to send after `initialize` returns: the client's own
        # `ready` is forwarded only after that (a late first snapshot, a recovery).
        self._initialized = False
        self._replaying = False

    def get_metadata(self) -> Metadata:
        return Metadata(name="pennon")

    @property
    def client(self) -> "Client":
        """The Pennon client answering."""
        return self._client

    # ---- lifecycle -------------------------------------------------------------------

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Follows the client's events and waits until it is ready (at most its
        ``init_timeout``); raises ``ProviderNotReadyError`` when it is not."""
        with self._lock:
            self._initialized = False
            # The client hands a new listener the events it kept from before (a `ready`,
            # maybe changes): history that OpenFeature's READY after `initialize` covers.
            self._replaying = True
        try:
            unsubscribe = [
                self._client.on("ready", self._on_ready),
                self._client.on("change", self._on_change),
                self._client.on("error", self._on_error),
                self._client.on("stale", self._on_stale),
            ]
        finally:
            with self._lock:
                self._replaying = False
        with self._lock:
            self._unsubscribe = unsubscribe
        try:
            self._client.ready()
        except ClientError as error:
            raise ProviderNotReadyError(f"{error.code}: {error.message}") from error
        finally:
            with self._lock:
                self._initialized = True

    def shutdown(self) -> None:
        """Stops following the client's events (and closes it with ``close_on_shutdown``)."""
        with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, []
            self._initialized = False
        for stop in unsubscribe:
            stop()
        if self._close_on_shutdown:
            self._client.close()

    def _live(self) -> bool:
        with self._lock:
            return not self._replaying

    def _on_ready(self, event: ReadyEvent) -> None:
        with self._lock:
            forward = self._initialized and not self._replaying
        if forward:
            self.emit_provider_ready(ProviderEventDetails(metadata={"revision": event.revision}))

    def _on_change(self, event: ChangeEvent) -> None:
        if not self._live():
            return
        self.emit_provider_configuration_changed(
            ProviderEventDetails(
                flags_changed=list(event.flags),
                metadata={"revision": event.revision, "previousRevision": event.previous_revision},
            )
        )

    def _on_error(self, event: ErrorEvent) -> None:
        if self._live() and self._client.revision is None and event.code != "hook_failed":
            self.emit_provider_error(
                ProviderEventDetails(message=f"{event.code}: {event.message}", error_code=ErrorCode.GENERAL)
            )

    def _on_stale(self, event: StaleEvent) -> None:
        if not self._live():
            return
        metadata: Dict[str, Union[bool, str, int, float]] = {"since": event.since}
        if event.revision is not None:
            metadata["revision"] = event.revision
        self.emit_provider_stale(ProviderEventDetails(message="no successful check for stale_after", metadata=metadata))

    # ---- tracking --------------------------------------------------------------------

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: Optional[EvaluationContext] = None,
        tracking_event_details: Optional[TrackingEventDetails] = None,
    ) -> None:
        """OpenFeature's Tracking API: the event is a conversion of each flag it names (the
        flags ``conversions`` maps it to, and the details' ``flag`` attribute: a key or a
        list), recorded for the context with ``client.record(flag, context,
        converted=True)`` under the variant the context gets. An event that names no flag
        records nothing (Pennon counts conversions per flag and variant; the details'
        ``value`` and other attributes are not kept)."""
        flags = list(self._conversions.get(tracking_event_name, ()))
        if tracking_event_details is not None:
            for flag in _flag_list(tracking_event_details.attributes.get("flag")):
                if flag not in flags:
                    flags.append(flag)
        if not flags:
            return
        context = context_of(evaluation_context)
        for flag in flags:
            self._client.record(flag, context, converted=True)

    # ---- evaluation ------------------------------------------------------------------

    def _resolve(
        self,
        flag_key: str,
        default_value: Any,
        evaluation_context: Optional[EvaluationContext],
        fits: Callable[[Any], bool],
        convert: Callable[[Any], Any],
        type_name: str,
    ) -> FlagResolutionDetails[Any]:
        # Core checks the flag's type (TYPE_MISMATCH); `fits` only tells OpenFeature's
        # integer from float within Pennon's one number type.
        details = self._client.evaluate(flag_key, context_of(evaluation_context), type=_PENNON_TYPE[type_name])
        metadata = _metadata(details)
        code = details["errorCode"]
        if code is not None:
            return FlagResolutionDetails(
                value=default_value,
                error_code=_error_code(code),
                error_message=details["errorMessage"],
                reason=Reason.ERROR,
                flag_metadata=metadata,
            )
        value = details["value"]
        if not fits(value):
            return FlagResolutionDetails(
                value=default_value,
                error_code=ErrorCode.TYPE_MISMATCH,
                error_message=f"flag {flag_key!r} is not a {type_name} flag (it served {type(value).__name__})",
                reason=Reason.ERROR,
                flag_metadata=metadata,
            )
        return FlagResolutionDetails(
            value=convert(value),
            variant=details["variant"],
            reason=details["reason"],
            flag_metadata=metadata,
        )

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(flag_key, default_value, evaluation_context, _is_bool, _same, "boolean")

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[str]:
        return self._resolve(flag_key, default_value, evaluation_context, _is_str, _same, "string")

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[int]:
        return self._resolve(flag_key, default_value, evaluation_context, _is_integer, int, "integer")

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[float]:
        return self._resolve(flag_key, default_value, evaluation_context, _is_number, float, "number")

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: _Object,
        evaluation_context: Optional[EvaluationContext] = None,
    ) -> FlagResolutionDetails[_Object]:
        return self._resolve(flag_key, default_value, evaluation_context, _is_object, _same, "object")


def _flag_list(value: Any) -> List[str]:
    """A flag key or a list of them as a list (anything else: none)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [flag for flag in value if isinstance(flag, str)]
    return []


def _conversions_option(conversions: Optional[Mapping[str, Union[str, Sequence[str]]]]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for event, flags in (conversions or {}).items():
        listed = _flag_list(flags)
        if not listed or (not isinstance(flags, str) and len(listed) != len(flags)):
            raise ClientError("invalid_config", f"conversions[{event!r}] must be a flag key or a list of flag keys")
        out[event] = listed
    return out


def _same(value: Any) -> Any:
    return value


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    """A number flag serves an integer when its value has no fraction (JSON has one number type)."""
    return _is_number(value) and float(value).is_integer()


def _is_object(value: Any) -> bool:
    return isinstance(value, (dict, list))
