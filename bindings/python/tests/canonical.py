"""Canonical JSON of Python objects, byte for byte as ``pennon_core::json::canonical``.

The differential runner serialises the Python objects it received from the engine with
this (docs/bindings.md, "Differential mode"): keys sorted by UTF-8 bytes, no whitespace,
non-ASCII written as is, control characters escaped as ``JSON.stringify`` does, integral
numbers within +-2**53 written without fraction (``3``, not ``3.0``), other floats in
their shortest round-trip form with serde_json's layout (``1e-7``, ``1.5e+300``,
``0.00001``, ``1e+16``).

``test_differential.py`` checks it against core's serialiser on sample data.
"""

from __future__ import annotations

import json
import math
from typing import Any

_MAX_EXACT = 2**53


def _float_digits(value: float) -> tuple[str, int]:
    """The shortest round-trip digits of a finite positive float and the position of the
    decimal point relative to them (``123.4`` -> ``("1234", 3)``)."""
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    return digits, point


def _exponent(power: int) -> str:
    return f"e+{power}" if power >= 0 else f"e-{-power}"


def format_float(value: float) -> str:
    """A finite float as core's canonical JSON writes it."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a JSON number")
    if value.is_integer() and abs(value) <= _MAX_EXACT:
        return str(int(value))
    sign = "-" if value < 0 else ""
    digits, point = _float_digits(abs(value))
    length = len(digits)
    if length <= point <= 16:
        body = digits + "0" * (point - length) + ".0"
    elif 0 < point <= 16:
        body = digits[:point] + "." + digits[point:]
    elif -5 < point <= 0:
        body = "0." + "0" * (-point) + digits
    elif length == 1:
        body = digits + _exponent(point - 1)
    else:
        body = digits[0] + "." + digits[1:] + _exponent(point - 1)
    return sign + body


def _string(text: str) -> str:
    # ensure_ascii=False escapes exactly ", \, and U+0000..U+001F (\n \r \t \b \f by name,
    # the rest as lowercase \u00xx), which is what core and JSON.stringify do.
    return json.dumps(text, ensure_ascii=False)


def canonical(value: Any) -> str:
    """Serialises a JSON-like Python object canonically."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(format_float(value))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object key {key!r} is not a str")
        out.append("{")
        # Code-point order is UTF-8 byte order (no surrogates in valid text).
        for index, key in enumerate(sorted(value)):
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    else:
        raise TypeError(f"{type(value).__name__} is not JSON")
