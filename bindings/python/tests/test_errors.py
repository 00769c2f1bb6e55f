"""The error mapping (docs/bindings.md, "Errors"): every code of core's ErrorCode::ALL maps
to one exception class chosen by its category, with `.code` and `.path`."""

from __future__ import annotations

import pickle

import pytest

import pennon
from pennon import ArgumentError, ContextError, InternalError, PennonError, SnapshotError
from pennon import _native

# The category of each code as docs/bindings.md and core's ErrorCode::category() define it.
NOT_SNAPSHOT = {"invalid_context": ContextError, "invalid_argument": ArgumentError, "internal": InternalError}


def expected_class(code: str) -> type:
    return NOT_SNAPSHOT.get(code, SnapshotError)


def test_error_codes_cover_core_exactly():
    core = pennon.core_error_codes()
    mapped = pennon.error_codes()
    assert len(core) == len(set(core)) >= 27
    assert list(mapped) == core, "the binding maps every code of ErrorCode::ALL, in order"
    for code, cls in mapped.items():
        assert cls is expected_class(code), code
        assert issubclass(cls, PennonError)


@pytest.mark.parametrize("code", pennon.core_error_codes())
def test_each_code_builds_its_exception(code: str):
    error = _native._error(code, "/flags/x/rules/0", "what went wrong")
    assert type(error) is expected_class(code)
    assert error.code == code
    assert error.path == "/flags/x/rules/0"
    assert str(error) == f"{code} at /flags/x/rules/0: what went wrong"
    # Exceptions pickle with their attributes (multiprocessing, logging handlers...).
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.code, copy.path, str(copy)) == (type(error), code, error.path, str(error))


def test_unknown_codes_are_argument_errors():
    with pytest.raises(ArgumentError):
        _native._error("no_such_code")


def test_hierarchy():
    for cls in (SnapshotError, ContextError, ArgumentError, InternalError):
        assert issubclass(cls, PennonError)
        assert cls.__module__ == "pennon._native"
    assert issubclass(PennonError, Exception)
    assert issubclass(ArgumentError, ValueError)
    assert not issubclass(SnapshotError, ValueError)
    assert ArgumentError.__mro__[1:3] == (PennonError, ValueError)


def test_exceptions_can_be_raised_and_caught_by_users():
    with pytest.raises(PennonError):
        raise SnapshotError("custom")


def test_a_panic_arrives_as_internal_error(capfd: pytest.CaptureFixture[str]):
    with pytest.raises(InternalError) as raised:
        _native._panic()
    assert raised.value.code == "internal"
    assert str(raised.value) == "internal: a bug in Pennon: deliberate panic from pennon._native._panic"
    # The caught panic printed nothing (no panic message, no backtrace) to the host's stderr.
    assert capfd.readouterr().err == ""
