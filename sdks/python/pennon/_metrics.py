"""Evaluation counters per flag x variant x reason, rendered as Prometheus text.

No lock on the hot path: each series is an ``itertools.count`` whose ``next()`` is one
C call, atomic under the GIL (and internally synchronised on free-threaded CPython), and
a new series is added with ``dict.setdefault``, also atomic. ``render()`` reads every
counter's value from its ``repr`` (``count(7)`` has counted 7) without advancing it.
"""

from __future__ import annotations

import itertools
from typing import Dict, List, Optional, Tuple

MAX_SERIES = 10_000
"""At most this many flag x variant x reason series; further ones count under flag ``_other``."""
OTHER = "_other"

_Key = Tuple[str, Optional[str], str]


class Metrics:
    def __init__(self) -> None:
        self._table: Dict[_Key, "itertools.count[int]"] = {}

    def count(self, flag: str, variant: Optional[str], reason: str) -> None:
        """Counts one evaluation; ``variant`` is ``None`` when none was served."""
        key = (flag, variant, reason)
        counter = self._table.get(key)
        if counter is None:
            if len(self._table) >= MAX_SERIES:
                key = (OTHER, None, reason)
            counter = self._table.setdefault(key, itertools.count())
        next(counter)

    def snapshot(self) -> Dict[Tuple[str, str, str], int]:
        """Every series and its count (no variant: ``""``)."""
        out: Dict[Tuple[str, str, str], int] = {}
        for (flag, variant, reason), counter in list(self._table.items()):
            key = (flag, variant or "", reason)
            out[key] = out.get(key, 0) + _value(counter)
        return out

    def render(self) -> str:
        """Prometheus text exposition, series sorted."""
        rows: List[str] = [
            "# HELP pennon_evaluations_total Flag evaluations by flag, variant and reason.\n",
            "# TYPE pennon_evaluations_total counter\n",
        ]
        for (flag, variant, reason), n in sorted(self.snapshot().items()):
            rows.append(
                f'pennon_evaluations_total{{flag="{_escape(flag)}",variant="{_escape(variant)}",'
                f'reason="{_escape(reason)}"}} {n}\n'
            )
        return "".join(rows)


def _value(counter: "itertools.count[int]") -> int:
    # repr is `count(N)`: N is the next value, i.e. how many next() calls were made.
    return int(repr(counter)[6:-1])


def _escape(label: str) -> str:
    return label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
