"""Shared helpers for the conformance-case generators (gen_*.py).

The generated JSON files under ../cases are the normative artefacts; these scripts only
authored them. Every expected value is written out by hand from docs/snapshot-format.md,
except bucket numbers, which come from bucket.py (an independent XXH3 implementation),
and millisecond timestamps, which come from Python's datetime.
"""
import copy
import datetime as _dt
import json
import os
import re

from bucket import bucket_of, bucket_table, find_unit  # noqa: F401  (re-exported)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # tests/conformance
CASES = os.path.join(ROOT, "cases")
SNAPSHOTS = os.path.join(ROOT, "snapshots")

_TS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$"
)


def ms(ts):
    """RFC 3339 timestamp -> integer ms since the epoch; sub-ms digits are truncated."""
    m = _TS.match(ts)
    if not m:
        raise ValueError(ts)
    y, mo, d, h, mi, s, frac, off = m.groups()
    if off == "Z":
        tz = _dt.timezone.utc
    else:
        sign = 1 if off[0] == "+" else -1
        tz = _dt.timezone(sign * _dt.timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
    base = _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=tz)
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    whole = (base - epoch) // _dt.timedelta(seconds=1)
    extra = int((frac or "0")[:3].ljust(3, "0"))
    return whole * 1000 + extra


def iso(t):
    """ms -> RFC 3339 UTC string (with .mmm only when needed)."""
    d = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(milliseconds=t)
    s = d.strftime("%Y-%m-%dT%H:%M:%S")
    if t % 1000:
        s += ".%03d" % (t % 1000)
    return s + "Z"


NOW = ms("2026-11-22T00:00:00Z")
assert NOW == 1795305600000
H = 3_600_000
MIN = 60_000
DAY = 86_400_000


def E(value, variant, reason, **extra):
    """An expected successful result."""
    out = {"value": value, "variant": variant, "reason": reason}
    for k, v in extra.items():
        if v is not None:
            out[k] = v
    return out


def ERR(default, code):
    """An expected error result: the caller's default, no variant."""
    return {"value": default, "variant": None, "reason": "ERROR", "errorCode": code}


def case(name, flag, expect, context=None, type="boolean", default=False, now=None):
    c = {"name": name, "flag": flag, "context": {} if context is None else context,
         "type": type, "default": default}
    if now is not None:
        c["now"] = now
    c["expect"] = expect
    return c


def boolflag(**kw):
    f = {"type": "boolean", "state": "on", "variants": {"on": True, "off": False},
         "offVariant": "off", "fallthrough": {"variant": "on"}}
    f.update(copy.deepcopy(kw))
    return f


def strflag(variants, off, **kw):
    f = {"type": "string", "state": "on", "variants": {v: v for v in variants},
         "offVariant": off, "fallthrough": {"variant": off}}
    f.update(copy.deepcopy(kw))
    return f


def snapshot(revision, flags, segments=None, **top):
    s = {"schemaVersion": 1, "revision": revision}
    s.update(top)
    if segments is not None:
        s["segments"] = segments
    s["flags"] = flags
    return s


def write(fname, description, snap, cases, now=NOW, load=None, snapshot_file=None):
    doc = {"description": description}
    if snapshot_file is not None:
        doc["snapshotFile"] = snapshot_file
    else:
        doc["snapshot"] = snap
    if now is not None:
        doc["now"] = now
    if load is not None:
        doc["load"] = load
    doc["cases"] = cases
    names = [c["name"] for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, (fname, dup)
    path = os.path.join(CASES, fname)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
    return len(cases)


def write_raw(path, obj):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def j(v):
    """Compact JSON for case names."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
