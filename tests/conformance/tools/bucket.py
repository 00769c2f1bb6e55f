#!/usr/bin/env python3
"""Independent reference implementation of Pennon's bucketing rule (snapshot format §5.3).

    h      = XXH3_64(seed 0, utf8(salt) ++ ":" ++ utf8(unit))
    bucket = (h * 100000) >> 64          # integer in [0, 100000)

A unit is inside a rollout when ``bucket < threshold`` (threshold in units of 0.001 %,
i.e. percentage 12.5 -> 12500). A split serves the variant whose consecutive range
contains the bucket. Integral number units are bucketed as their decimal string
(``42`` -> ``"42"``, ``-7`` -> ``"-7"``).

This file is deliberately independent of the Pennon engine: conformance expectations
that depend on buckets must be computed with it (or another independent XXH3), never
by running Pennon.

Setup (once):
    python3 -m venv /tmp/ccvenv && /tmp/ccvenv/bin/pip install xxhash

Usage:
    /tmp/ccvenv/bin/python bucket.py SALT UNIT [UNIT ...]
        prints "salt<TAB>unit<TAB>hash<TAB>bucket" for each unit
    /tmp/ccvenv/bin/python bucket.py --find SALT BUCKET [PREFIX]
        searches PREFIX0, PREFIX1, ... (default prefix "u-") for a unit whose bucket is
        exactly BUCKET (useful for boundary cases; expect ~100 000 tries)
    /tmp/ccvenv/bin/python bucket.py --range SALT LO HI [PREFIX]
        first unit PREFIXn with LO <= bucket < HI

Remember that the default salt is the flag key, so "SALT" is usually the flag key.
"""
import sys

import xxhash

BUCKETS = 100_000


def unit_bytes(unit):
    """The byte string of a unit: a str as UTF-8, an integral number in decimal."""
    if isinstance(unit, bool):
        raise TypeError("booleans cannot be bucketed (INVALID_CONTEXT)")
    if isinstance(unit, float):
        if not unit.is_integer():
            raise TypeError("non-integral numbers cannot be bucketed (INVALID_CONTEXT)")
        unit = int(unit)
    if isinstance(unit, int):
        if abs(unit) > 2**53:
            raise TypeError("|n| > 2^53 cannot be bucketed (INVALID_CONTEXT)")
        return str(unit).encode("ascii")
    if isinstance(unit, str):
        return unit.encode("utf-8")
    raise TypeError("unsupported unit type %r (INVALID_CONTEXT)" % type(unit).__name__)


def hash_of(salt, unit):
    """XXH3_64 (seed 0) of utf8(salt) ++ b":" ++ unit bytes, as a Python int (u64)."""
    return xxhash.xxh3_64_intdigest(salt.encode("utf-8") + b":" + unit_bytes(unit), seed=0)


def bucket_of(salt, unit):
    """(hash * 100000) >> 64 — an integer in [0, 100000)."""
    return (hash_of(salt, unit) * BUCKETS) >> 64


def find_unit(salt, pred, prefix="u-", start=0, limit=5_000_000):
    """First unit f"{prefix}{n}" (n >= start) whose bucket satisfies pred(bucket)."""
    sb = salt.encode("utf-8") + b":"
    for n in range(start, start + limit):
        u = "%s%d" % (prefix, n)
        b = (xxhash.xxh3_64_intdigest(sb + u.encode("utf-8")) * BUCKETS) >> 64
        if pred(b):
            return u, b
    raise LookupError("no unit found for salt %r" % salt)


def bucket_table(salt, prefix="u-", count=2_000_000):
    """Map bucket -> first unit f"{prefix}{n}" (n < count) landing in it."""
    sb = salt.encode("utf-8") + b":"
    table = {}
    for n in range(count):
        u = "%s%d" % (prefix, n)
        b = (xxhash.xxh3_64_intdigest(sb + u.encode("utf-8")) * BUCKETS) >> 64
        table.setdefault(b, u)
    return table


def main(argv):
    if len(argv) >= 3 and argv[0] == "--find":
        salt, target = argv[1], int(argv[2])
        prefix = argv[3] if len(argv) > 3 else "u-"
        u, b = find_unit(salt, lambda b: b == target, prefix)
        print("%s\t%s\t%d\t%d" % (salt, u, hash_of(salt, u), b))
        return 0
    if len(argv) >= 4 and argv[0] == "--range":
        salt, lo, hi = argv[1], int(argv[2]), int(argv[3])
        prefix = argv[4] if len(argv) > 4 else "u-"
        u, b = find_unit(salt, lambda b: lo <= b < hi, prefix)
        print("%s\t%s\t%d\t%d" % (salt, u, hash_of(salt, u), b))
        return 0
    if len(argv) < 2:
        print(__doc__)
        return 2
    salt = argv[0]
    for unit in argv[1:]:
        print("%s\t%s\t%d\t%d" % (salt, unit, hash_of(salt, unit), bucket_of(salt, unit)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
