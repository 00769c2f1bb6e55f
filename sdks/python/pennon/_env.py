"""Environment-variable overrides (docs/sdk.md, Evaluation): ``checkout.new-flow`` maps to
``PENNON_FLAG_CHECKOUT_NEW_FLOW``."""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional

PREFIX = "PENNON_FLAG_"

_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def variable_name(flag: str) -> str:
    """The prefix, then the key upper-cased (ASCII) with every character outside
    ``[A-Z0-9]`` as ``_``."""
    out = []
    for c in flag:
        upper = c.upper() if c.isascii() else c
        out.append(upper if upper in _KEEP else "_")
    return PREFIX + "".join(out)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_value(text: str) -> Any:
    """A variable's value: JSON when it parses (strict JSON: ``NaN`` and ``Infinity`` stay
    strings, as in every SDK), else the text as a string."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError:
        return text


def collect(variables: Mapping[str, Optional[str]]) -> Dict[str, Any]:
    """Every ``PENNON_FLAG_*`` variable of ``variables``, by name, parsed."""
    return {
        name: parse_value(text)
        for name, text in variables.items()
        if name.startswith(PREFIX) and isinstance(text, str)
    }
