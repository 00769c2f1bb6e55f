"""Flags in tests: overrides a test sets and that are gone after it.

With pytest (the plugin is registered by the wheel, nothing to configure), three fixtures:

- ``pennon_flags``: sets flags for one test (``pennon_flags.set("checkout", True)``) on
  ``pennon_client`` and removes them after the test;
- ``pennon_client``: the client those flags are set on. By default a client that is
  ready at once from ``pennon_snapshot`` and closed after the test; override this
  fixture in a ``conftest.py`` to return your application's client instead;
- ``pennon_snapshot``: the snapshot of that default client (default: one without
  flags, so only what a test sets exists); override it to load your own.

Without pytest, the same pieces: ``FlagOverrides(client)`` as a context manager and
``testing_client(flags)``, a ready client whose flags are the ones given.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Dict, Iterator, Mapping, Optional, Set

from pennon.client import Client, SnapshotInput

__all__ = ["EMPTY_SNAPSHOT", "FlagOverrides", "testing_client"]

EMPTY_SNAPSHOT: Dict[str, Any] = {"schemaVersion": 1, "revision": 0, "flags": {}}
"""A snapshot without flags: a client built on it answers only what is overridden."""


class FlagOverrides:
    """Flags set on ``client`` with ``client.override`` (reason ``STATIC``, variant
    ``override``), removed together by ``clear()`` or at the end of a ``with`` block.
    Only the overrides set through this object are removed."""

    def __init__(self, client: Client, flags: Optional[Mapping[str, Any]] = None) -> None:
        self.client = client
        self._flags: Set[str] = set()
        if flags:
            self.update(flags)

    def set(self, flag: str, value: Any) -> "FlagOverrides":
        """Makes ``flag`` answer ``value`` until ``clear()``."""
        self.client.override(flag, value)
        self._flags.add(flag)
        return self

    def update(self, flags: Mapping[str, Any]) -> "FlagOverrides":
        """``set`` for every ``flag: value`` of ``flags``."""
        for flag, value in flags.items():
            self.set(flag, value)
        return self

    def unset(self, flag: str) -> "FlagOverrides":
        """Removes the override of ``flag``: it answers from the snapshot again."""
        self.client.clear_override(flag)
        self._flags.discard(flag)
        return self

    def clear(self) -> None:
        """Removes every override set through this object."""
        for flag in sorted(self._flags):
            self.client.clear_override(flag)
        self._flags.clear()

    def __enter__(self) -> "FlagOverrides":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.clear()


def testing_client(flags: Optional[Mapping[str, Any]] = None, *, snapshot: Optional[SnapshotInput] = None) -> Client:
    """A client that is ready at once, does no IO, and answers ``flags`` (overrides) on
    top of ``snapshot`` (default: no flags at all). Close it (or use ``with``)."""
    client = Client(snapshot=snapshot if snapshot is not None else EMPTY_SNAPSHOT)
    for flag, value in (flags or {}).items():
        client.override(flag, value)
    return client


testing_client.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name


if importlib.util.find_spec("pytest") is not None:
    import pytest

    @pytest.fixture
    def pennon_snapshot() -> Optional[SnapshotInput]:
        """The snapshot of the default ``pennon_client`` (``None``: no flags)."""
        return None

    @pytest.fixture
    def pennon_client(pennon_snapshot: Optional[SnapshotInput]) -> Iterator[Client]:
        """A ready client over ``pennon_snapshot``, closed after the test."""
        with testing_client(snapshot=pennon_snapshot) as client:
            yield client

    @pytest.fixture
    def pennon_flags(pennon_client: Client) -> Iterator[FlagOverrides]:
        """Flags this test sets on ``pennon_client``; removed after the test."""
        with FlagOverrides(pennon_client) as flags:
            yield flags
