#!/usr/bin/env python3
"""A small, independent *reference model* of docs/snapshot-format.md, used only to
cross-check the hand-written expectations of the conformance cases. It is not normative
(the case files are) and it is not the Pennon engine. It needs `xxhash` and `regex`:

    /tmp/ccvenv/bin/pip install xxhash regex
    /tmp/ccvenv/bin/python refeval.py            # runs every cases/*.json through the model

Known simplifications: regex syntax is approximated with the `regex` module, after a
translation of the dialect (rust_regex_to_python: ASCII Perl classes and word boundaries,
no property classes) and a check rejecting look-around and back-references; Unicode
lowercasing is Python's str.lower().
"""
import datetime as _dt
import glob
import ipaddress
import json
import os
import re
import sys
from decimal import Decimal

import regex as _re
import xxhash

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,255}$")
TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")
DUR = re.compile(r"^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
                 r"(?:(\d+(?:\.\d+)?)S)?)?$")
SEMVER = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?"
                    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
                    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")
OPS = {"equals", "notEquals", "in", "notIn", "contains", "startsWith", "endsWith", "lt", "lte", "gt", "gte",
       "before", "after", "semverEq", "semverLt", "semverLte", "semverGt", "semverGte", "matches", "inCidr",
       "exists", "missing"}
CI_OPS = {"equals", "notEquals", "in", "notIn", "contains", "startsWith", "endsWith"}


class Invalid(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def isnum(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_ts(s):
    if not isinstance(s, str):
        return None
    m = TS.match(s)
    if not m:
        return None
    y, mo, d, h, mi, se, frac, off = m.groups()
    try:
        if off == "Z":
            tz = _dt.timezone.utc
        else:
            sign = 1 if off[0] == "+" else -1
            tz = _dt.timezone(sign * _dt.timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
        t = _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(se), tzinfo=tz)
    except ValueError:
        return None
    ep = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return ((t - ep) // _dt.timedelta(seconds=1)) * 1000 + int((frac or "0")[:3].ljust(3, "0"))


def need_ts(s):
    if not isinstance(s, str):
        raise Invalid("invalid_type")
    t = parse_ts(s)
    if t is None:
        raise Invalid("invalid_date")
    return t


def need_dur(s):
    if not isinstance(s, str):
        raise Invalid("invalid_type")
    m = DUR.match(s)
    if not m or s in ("P", "PT") or s.endswith("T") or not any(m.groups()):
        raise Invalid("invalid_duration")
    w, d, h, mi, se = (Decimal(x) if x else Decimal(0) for x in m.groups())
    return int(w * 604800000 + d * 86400000 + h * 3600000 + mi * 60000 + se * 1000)


def need_pct(p):
    if not isnum(p):
        raise Invalid("invalid_type")
    dp = Decimal(repr(p))
    if dp < 0 or dp > 100 or (dp * 1000) != (dp * 1000).to_integral_value():
        raise Invalid("invalid_percentage")
    return int(dp * 1000)


def parse_semver(s):
    if not isinstance(s, str):
        return None
    m = SEMVER.match(s)
    if not m:
        return None
    a, b, c, pre, _ = m.groups()
    pre_ids = []
    if pre:
        for x in pre.split("."):
            pre_ids.append((0, int(x), "") if x.isdigit() else (1, 0, x))
    return (int(a), int(b or 0), int(c or 0)), pre_ids


def semver_cmp(x, y):
    if x[0] != y[0]:
        return -1 if x[0] < y[0] else 1
    px, py = x[1], y[1]
    if not px and not py:
        return 0
    if not px:
        return 1
    if not py:
        return -1
    for a, b in zip(px, py):
        if a != b:
            return -1 if a < b else 1
    return (len(px) > len(py)) - (len(px) < len(py))


def parse_cidr(s):
    if not isinstance(s, str) or "/" not in s:
        raise Invalid("invalid_cidr")
    try:
        return ipaddress.ip_network(s, strict=False)
    except ValueError:
        raise Invalid("invalid_cidr") from None


# The dialect's ASCII Perl classes, spelled out for Python's `regex` module (which would
# make them Unicode-aware): inside a class as ranges, outside as a class of their own.
_WORD = "0-9A-Za-z_"
_PERL_IN_CLASS = {"d": "0-9", "s": "\\t\\n\\x0b\\x0c\\r ", "w": _WORD,
                  "D": "\\x00-/:-\\U0010ffff", "S": "\\x00-\\x08\\x0e-\\x1f!-\\U0010ffff",
                  "W": "\\x00-/:-@\\[-\\^`{-\\U0010ffff"}
_BOUNDARY = {"b": f"(?-i:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))",
             "B": f"(?-i:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))"}


def rust_regex_to_python(s):
    """Translates the dialect of §6.2 (Rust regex syntax, ASCII \\d \\s \\w \\b and (?i), no \\p{…})
    into Python `regex` syntax, or raises Invalid. An approximation: a (?-u) group only
    loses its `u` (and any `.` after one is refused, as it could match inside a character)."""
    if _re.search(r"\(\?<?[=!]|\\[1-9]", s):
        raise Invalid("invalid_regex")
    out, i, depth, ascii_mode = [], 0, 0, False
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            e = s[i + 1]
            i += 2
            if e in "pP":
                raise Invalid("invalid_regex")
            if e in _PERL_IN_CLASS:
                out.append(_PERL_IN_CLASS[e] if depth else f"[{_PERL_IN_CLASS[e]}]")
            elif e in _BOUNDARY and not depth:
                out.append(_BOUNDARY[e])
            elif e == "x" and s[i:i + 1] == "{":
                end = s.index("}", i)
                out.append("\\U%08x" % int(s[i + 1:end], 16))
                i = end + 1
            else:
                out.append(c + e)
            continue
        if c == "[":
            depth += 1
            if s[i + 1:i + 2] == "^":
                out.append("[^")
                i += 2
                if s[i:i + 1] == "]":
                    out.append("\\]")
                    i += 1
                continue
        elif c == "]" and depth:
            depth -= 1
        elif c == "(" and not depth and s[i + 1:i + 2] == "?":
            m = _re.match(r"\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])", s[i:])
            if m and "u" in (m.group(2) or ""):
                ascii_mode = True
            if m:
                on, off = m.group(1).replace("u", ""), (m.group(2) or "").replace("u", "")
                out.append("(?" + on + ("-" + off if off else "") + m.group(3))
                i += m.end()
                continue
        elif c == "." and not depth and ascii_mode:
            raise Invalid("invalid_regex")
        out.append(c)
        i += 1
    return "".join(out)


def parse_regex(s):
    if not isinstance(s, str):
        raise Invalid("invalid_type")
    try:
        # ASCII: (?i) folds ASCII letters only (the Perl classes are spelled out already).
        return _re.compile(rust_regex_to_python(s), _re.ASCII)
    except (_re.error, ValueError):
        raise Invalid("invalid_regex") from None


def check_keys(obj, allowed):
    if not isinstance(obj, dict):
        raise Invalid("invalid_type")
    for k in obj:
        if k.startswith("x-"):
            continue
        if k not in allowed:
            raise Invalid("unknown_field")


def get(o, k):
    return None if not isinstance(o, dict) else o.get(k)


def strip_x(o):
    return {k: v for k, v in o.items() if not k.startswith("x-")} if isinstance(o, dict) else o


# ------------------------------------------------------------------ compile ------------
class Model:
    def __init__(self, snap):
        self.snap = snap
        self.flags = {}    # key -> compiled flag or Invalid
        self.segments = {}
        self.memo = {}     # per evaluation: ("flag" | "segment", key) -> result
        self.warnings = []

    # conditions ---------------------------------------------------------------
    def comp_cond(self, c, segrefs):
        if not isinstance(c, dict):
            raise Invalid("invalid_type")
        c = strip_x(c)
        if "all" in c or "any" in c:
            k = "all" if "all" in c else "any"
            check_keys(c, {k})
            if not isinstance(c[k], list):
                raise Invalid("invalid_type")
            return (k, [self.comp_cond(x, segrefs) for x in c[k]])
        if "not" in c:
            check_keys(c, {"not"})
            return ("not", self.comp_cond(c["not"], segrefs))
        if "inSegment" in c:
            check_keys(c, {"inSegment"})
            segrefs.append(c["inSegment"])
            return ("seg", c["inSegment"])
        if "op" not in c or "attribute" not in c:
            raise Invalid("missing_field")
        op = c["op"]
        if op not in OPS:
            raise Invalid("unknown_operator")
        allowed = {"attribute", "op"}
        if op in ("in", "notIn", "inCidr"):
            allowed.add("values")
        elif op not in ("exists", "missing"):
            allowed.add("value")
        if op in CI_OPS:
            allowed.add("caseInsensitive")
        check_keys(c, allowed)
        for k in allowed - {"caseInsensitive"}:
            if k not in c:
                raise Invalid("missing_field")
        attr = c["attribute"]
        ci = bool(c.get("caseInsensitive", False))
        if op in ("in", "notIn"):
            if not isinstance(c["values"], list):
                raise Invalid("invalid_type")
            operand = c["values"]
        elif op == "inCidr":
            if not isinstance(c["values"], list):
                raise Invalid("invalid_type")
            operand = [parse_cidr(x) for x in c["values"]]
        elif op in ("contains", "startsWith", "endsWith"):
            if not isinstance(c["value"], str):
                raise Invalid("invalid_type")
            operand = c["value"]
        elif op in ("lt", "lte", "gt", "gte"):
            if not isnum(c["value"]):
                raise Invalid("invalid_type")
            operand = c["value"]
        elif op in ("before", "after"):
            operand = c["value"] if isnum(c["value"]) else need_ts(c["value"])
        elif op.startswith("semver"):
            operand = parse_semver(c["value"])
            if operand is None:
                raise Invalid("invalid_semver")
        elif op == "matches":
            operand = parse_regex(c["value"])
        else:
            operand = c.get("value")
        return ("op", op, attr, operand, ci)

    # serves / cohorts ---------------------------------------------------------
    def comp_amount(self, r):
        kinds = [k for k in ("percentage", "progressive", "gradual") if k in r]
        if len(kinds) != 1:
            raise Invalid("missing_field" if not kinds else "invalid_value")
        k = kinds[0]
        if k == "percentage":
            return ("pct", need_pct(r["percentage"]))
        if k == "progressive":
            p = strip_x(r["progressive"])
            check_keys(p, {"start", "stages", "pausedAt"})
            start = need_ts(p.get("start"))
            paused = need_ts(p["pausedAt"]) if "pausedAt" in p else None
            stages = []
            last = -1
            for i, s in enumerate(p.get("stages") or []):
                s = strip_x(s)
                check_keys(s, {"percentage", "duration"})
                pct = need_pct(s.get("percentage"))
                if pct < last:
                    raise Invalid("invalid_percentage")
                last = pct
                if i < len(p["stages"]) - 1:
                    if "duration" not in s:
                        raise Invalid("missing_field")
                    stages.append((pct, need_dur(s["duration"])))
                else:
                    stages.append((pct, need_dur(s["duration"]) if "duration" in s else None))
            if not stages:
                raise Invalid("invalid_value")
            return ("prog", start, stages, paused)
        g = strip_x(r["gradual"])
        check_keys(g, {"start", "duration", "from", "to"})
        return ("grad", need_ts(g.get("start")), need_dur(g.get("duration")), need_pct(g.get("from", 0)),
                need_pct(g.get("to", 100)))

    def comp_serve(self, s, variants):
        s = strip_x(s)
        if not isinstance(s, dict):
            raise Invalid("invalid_type")
        if "variant" in s:
            check_keys(s, {"variant"})
            if s["variant"] not in variants:
                raise Invalid("unknown_variant")
            return ("fixed", s["variant"])
        if "rollout" in s:
            check_keys(s, {"rollout"})
            r = strip_x(s["rollout"])
            check_keys(r, {"variant", "otherwise", "percentage", "progressive", "gradual", "bucketBy", "salt"})
            amt = self.comp_amount(r)
            for k in ("variant", "otherwise"):
                if r.get(k) not in variants:
                    raise Invalid("unknown_variant")
            return ("rollout", r["variant"], r["otherwise"], amt, r.get("bucketBy", "targetingKey"), r.get("salt"))
        if "split" in s:
            check_keys(s, {"split"})
            sp = strip_x(s["split"])
            check_keys(sp, {"variants", "bucketBy", "salt"})
            ranges, total = [], 0
            for e in sp["variants"]:
                e = strip_x(e)
                check_keys(e, {"variant", "weight"})
                w = need_pct(e["weight"])
                if e["variant"] not in variants:
                    raise Invalid("unknown_variant")
                ranges.append((e["variant"], total, total + w))
                total += w
            if total != 100000:
                raise Invalid("invalid_weights")
            return ("split", ranges, sp.get("bucketBy", "targetingKey"), sp.get("salt"))
        raise Invalid("missing_field")

    # flags --------------------------------------------------------------------
    def comp_flag(self, key, f):
        if not isinstance(f, dict):
            raise Invalid("invalid_type")
        f = strip_x(f)
        check_keys(f, {"type", "variants", "state", "offVariant", "fallthrough", "overrides", "targets", "rules",
                       "prerequisites", "window", "canary", "metadata"})
        for k in ("type", "variants", "state", "offVariant", "fallthrough"):
            if k not in f:
                raise Invalid("missing_field")
        if not isinstance(f["variants"], dict):
            raise Invalid("invalid_type")
        if not f["variants"] or not all(KEY.match(k) for k in f["variants"]):
            raise Invalid("invalid_value")
        if f["type"] not in ("boolean", "string", "number", "object"):
            raise Invalid("invalid_value")
        if f["state"] not in ("off", "shadow", "canary", "on", "kill"):
            raise Invalid("invalid_value")
        tcheck = {"boolean": lambda v: isinstance(v, bool), "string": lambda v: isinstance(v, str),
                  "number": isnum, "object": lambda v: isinstance(v, dict)}[f["type"]]
        if not all(tcheck(v) for v in f["variants"].values()):
            raise Invalid("variant_type_mismatch")
        V = f["variants"]
        if f["offVariant"] not in V:
            raise Invalid("unknown_variant")
        segrefs = []
        out = {"key": key, "type": f["type"], "variants": V, "state": f["state"], "off": f["offVariant"],
               "metadata": f.get("metadata")}
        out["fallthrough"] = self.comp_serve(f["fallthrough"], V)
        for k in ("overrides", "targets", "rules", "prerequisites"):
            if k in f and not isinstance(f[k], list):
                raise Invalid("invalid_type")
        out["overrides"] = []
        for o in f.get("overrides", []):
            o = strip_x(o)
            check_keys(o, {"tenant", "variant", "expiresAt", "note"})
            if o.get("variant") not in V:
                raise Invalid("unknown_variant")
            out["overrides"].append((o["tenant"], o["variant"], need_ts(o["expiresAt"]) if "expiresAt" in o else None))
        out["targets"] = []
        for t in f.get("targets", []):
            t = strip_x(t)
            check_keys(t, {"variant", "users", "groups", "tenants"})
            if t.get("variant") not in V:
                raise Invalid("unknown_variant")
            out["targets"].append((t["variant"], t.get("users", []), t.get("groups", []), t.get("tenants", [])))
        out["rules"] = []
        ids = set()
        for r in f.get("rules", []):
            r = strip_x(r)
            check_keys(r, {"id", "description", "when", "serve"})
            if "id" not in r or "when" not in r or "serve" not in r:
                raise Invalid("missing_field")
            if not isinstance(r["id"], str) or not KEY.match(r["id"]):
                raise Invalid("invalid_value")
            if r["id"] in ids:
                raise Invalid("duplicate_id")
            ids.add(r["id"])
            out["rules"].append((r["id"], self.comp_cond(r["when"], segrefs), self.comp_serve(r["serve"], V)))
        out["prereqs"] = []
        for p in f.get("prerequisites", []):
            p = strip_x(p)
            check_keys(p, {"flag", "variants"})
            out["prereqs"].append((p["flag"], p["variants"]))
        w = strip_x(f.get("window")) if "window" in f else None
        out["window"] = None
        if w is not None:
            check_keys(w, {"from", "until"})
            out["window"] = (need_ts(w["from"]) if "from" in w else None, need_ts(w["until"]) if "until" in w else None)
        out["canary"] = None
        if f["state"] == "canary" and "canary" not in f:
            raise Invalid("missing_field")
        if "canary" in f:
            c = strip_x(f["canary"])
            check_keys(c, {"percentage", "progressive", "gradual", "bucketBy", "salt"})
            out["canary"] = (self.comp_amount(c), c.get("bucketBy", "targetingKey"), c.get("salt"))
        out["segrefs"] = segrefs
        out["static"] = (not out["overrides"] and not out["targets"] and not out["rules"] and not out["prereqs"]
                         and out["window"] is None and f["state"] == "on")
        return out

    def load(self):
        s = self.snap
        if not isinstance(s, dict):
            raise Invalid("invalid_snapshot")
        sv = s.get("schemaVersion")
        if not (isnum(sv) and isinstance(sv, int) and sv == 1):
            raise Invalid("unsupported_schema_version")
        rev = s.get("revision")
        if not (isinstance(rev, int) and not isinstance(rev, bool) and rev >= 0):
            raise Invalid("invalid_snapshot")
        if not isinstance(s.get("flags"), dict):
            raise Invalid("invalid_snapshot")
        top_warn = [k for k in s if not k.startswith("x-") and k not in
                    ("schemaVersion", "revision", "generatedAt", "environment", "metadata", "segments", "flags")]
        # segments
        segs = s.get("segments", {})
        seg_deps = {}
        for k, sg in segs.items():
            try:
                sg2 = strip_x(sg)
                check_keys(sg2, {"included", "excluded", "when", "description"})
                refs = []
                when = self.comp_cond(sg2["when"], refs) if "when" in sg2 else None
                self.segments[k] = (sg2.get("included", []), sg2.get("excluded", []), when)
                seg_deps[k] = refs
            except Invalid as e:
                self.segments[k] = e
        for k, refs in seg_deps.items():
            if self.reaches(seg_deps, k, k):
                self.segments[k] = Invalid("segment_cycle")
        for k, refs in seg_deps.items():
            if not isinstance(self.segments[k], Invalid):
                for r in refs:
                    if r not in segs:
                        self.segments[k] = Invalid("unknown_segment")
                    elif isinstance(self.segments[r], Invalid):
                        self.segments[k] = Invalid("invalid_segment")
        # flags
        deps = {}
        for k, f in s["flags"].items():
            try:
                self.flags[k] = self.comp_flag(k, f)
                deps[k] = [p for p, _ in self.flags[k]["prereqs"]]
            except Invalid as e:
                self.flags[k] = e
        for k in deps:
            if self.reaches(deps, k, k):
                self.flags[k] = Invalid("prerequisite_cycle")
        # More than 32 prerequisite edges in a chain from a flag: depth_exceeded.
        on_cycle = {k for k in deps if isinstance(self.flags[k], Invalid) and self.flags[k].code == "prerequisite_cycle"}
        memo = {}

        def chain(k):
            if k in on_cycle:
                return 1
            if k not in memo:
                memo[k] = max((chain(p) + 1 for p in deps.get(k, []) if p in self.flags), default=0)
            return memo[k]

        for k in deps:
            if k not in on_cycle and chain(k) > 32:
                self.flags[k] = Invalid("depth_exceeded")
        unknown_pre = {}
        for k, f in self.flags.items():
            if isinstance(f, Invalid):
                continue
            for r in f["segrefs"]:
                if r not in segs:
                    self.flags[k] = Invalid("unknown_segment")
                    break
                if isinstance(self.segments[r], Invalid):
                    self.flags[k] = Invalid("invalid_segment")
                    break
            else:
                unknown_pre[k] = [p for p, _ in f["prereqs"] if p not in s["flags"]]
        for k in sorted(self.flags):
            if isinstance(self.flags[k], Invalid):
                self.warnings.append(self.flags[k].code)
            else:
                self.warnings += ["unknown_prerequisite"] * len(unknown_pre.get(k, []))
        for k in sorted(self.segments):
            if isinstance(self.segments[k], Invalid):
                self.warnings.append(self.segments[k].code)
        self.warnings = ["unknown_field"] * len(top_warn) + self.warnings
        self.revision = rev

    @staticmethod
    def reaches(deps, start, target):
        seen, stack = set(), list(deps.get(start, []))
        while stack:
            n = stack.pop()
            if n == target:
                return True
            if n in seen:
                continue
            seen.add(n)
            stack += deps.get(n, [])
        return False

    # evaluation ---------------------------------------------------------------
    @staticmethod
    def attr(ctx, ref):
        if not ref.startswith("/"):
            return ctx.get(ref)
        cur = ctx
        for tok in ref[1:].split("/"):
            tok = tok.replace("~1", "/").replace("~0", "~")
            if not isinstance(cur, dict) or tok not in cur:
                return None
            cur = cur[tok]
        return cur

    def segment(self, name, ctx):
        inc, exc, when = self.segments[name]
        tk = ctx.get("targetingKey")
        if isinstance(tk, str) and tk in inc:
            return True
        if isinstance(tk, str) and tk in exc:
            return False
        return when is not None and self.cond(when, ctx)

    def cond(self, c, ctx, depth=0):
        k = c[0]
        if k == "all":
            return all(self.cond(x, ctx) for x in c[1])
        if k == "any":
            return any(self.cond(x, ctx) for x in c[1])
        if k == "not":
            return not self.cond(c[1], ctx)
        if k == "seg":
            if ("segment", c[1]) not in self.memo:
                self.memo[("segment", c[1])] = self.segment(c[1], ctx)
            return self.memo[("segment", c[1])]
        _, op, ref, operand, ci = c
        v = self.attr(ctx, ref)
        if op == "missing":
            return v is None
        if v is None:
            return False
        if op == "exists":
            return True
        vals = v if isinstance(v, list) else [v]
        # notEquals / notIn are the exact negation of equals / in (for arrays: no element).
        positive = {"notEquals": "equals", "notIn": "in"}.get(op)
        if positive:
            return not any(self.op1(positive, x, operand, ci) for x in vals)
        return any(self.op1(op, x, operand, ci) for x in vals)

    @staticmethod
    def eq(a, b, ci):
        if isinstance(a, bool) or isinstance(b, bool):
            return type(a) is type(b) and a == b
        if isnum(a) and isnum(b):
            # Numbers compare as IEEE 754 doubles (format §6.2), also beyond 2^53.
            return float(a) == float(b)
        if isinstance(a, str) and isinstance(b, str):
            return a.lower() == b.lower() if ci else a == b
        return False

    def op1(self, op, x, operand, ci):
        if x is None:
            return False
        if op == "equals":
            return self.eq(x, operand, ci)
        if op == "notEquals":
            return not self.eq(x, operand, ci)
        if op == "in":
            return any(self.eq(x, o, ci) for o in operand)
        if op == "notIn":
            return not any(self.eq(x, o, ci) for o in operand)
        if op in ("contains", "startsWith", "endsWith"):
            if not isinstance(x, str):
                return False
            a, b = (x.lower(), operand.lower()) if ci else (x, operand)
            return {"contains": b in a, "startsWith": a.startswith(b), "endsWith": a.endswith(b)}[op]
        if op in ("lt", "lte", "gt", "gte"):
            if not isnum(x):
                return False
            x, operand = float(x), float(operand)
            return {"lt": x < operand, "lte": x <= operand, "gt": x > operand, "gte": x >= operand}[op]
        if op in ("before", "after"):
            t = float(x) if isnum(x) else parse_ts(x) if isinstance(x, str) else None
            if t is None:
                return False
            return t < float(operand) if op == "before" else t > float(operand)
        if op.startswith("semver"):
            sv = parse_semver(x)
            if sv is None:
                return False
            c = semver_cmp(sv, operand)
            return {"semverEq": c == 0, "semverLt": c < 0, "semverLte": c <= 0, "semverGt": c > 0,
                    "semverGte": c >= 0}[op]
        if op == "matches":
            return isinstance(x, str) and operand.search(x) is not None
        if op == "inCidr":
            if not isinstance(x, str):
                return False
            try:
                a = ipaddress.ip_address(x)
            except ValueError:
                return False
            cands = [a]
            if a.version == 6 and a.ipv4_mapped is not None:
                cands.append(a.ipv4_mapped)
            return any(c.version == n.version and c in n for c in cands for n in operand)
        raise AssertionError(op)

    @staticmethod
    def unit(ctx, ref):
        v = Model.attr(ctx, ref)
        if v is None:
            raise EvalError("TARGETING_KEY_MISSING" if ref == "targetingKey" else "INVALID_CONTEXT")
        if isinstance(v, bool):
            raise EvalError("INVALID_CONTEXT")
        if isinstance(v, str):
            return v
        if isnum(v) and float(v).is_integer() and abs(v) <= 2**53:
            return str(int(v))
        raise EvalError("INVALID_CONTEXT")

    @staticmethod
    def bucket(salt, unit):
        h = xxhash.xxh3_64_intdigest(salt.encode() + b":" + unit.encode())
        return (h * 100000) >> 64

    @staticmethod
    def threshold(amt, now):
        if amt[0] == "pct":
            return amt[1], None
        if amt[0] == "prog":
            _, start, stages, paused = amt
            t = now if paused is None else min(now, paused)
            if t < start:
                return 0, None
            acc = start
            for i, (p, d) in enumerate(stages):
                if d is None or t < acc + d:
                    return p, i
                acc += d
            return stages[-1][0], len(stages) - 1
        _, start, dur, frm, to = amt
        if now < start:
            return frm, None
        if now >= start + dur:
            return to, None
        return frm + (to - frm) * (now - start) // dur, None

    def serve(self, f, s, ctx, now):
        """-> (variant, reason_kind, stage)"""
        if s[0] == "fixed":
            return s[1], "fixed", None
        if s[0] == "rollout":
            _, var, oth, amt, by, salt = s
            u = self.unit(ctx, by)
            thr, st = self.threshold(amt, now)
            return (var if self.bucket(salt or f["key"], u) < thr else oth), "split", st
        _, ranges, by, salt = s
        b = self.bucket(salt or f["key"], self.unit(ctx, by))
        for v, lo, hi in ranges:
            if lo <= b < hi:
                return v, "split", None
        raise AssertionError

    def evaluate(self, key, ctx, now, typ, default, depth=0):
        if depth == 0:
            # One evaluation decides each prerequisite flag and segment once (format §2.4).
            self.memo = {}
        if key not in self.flags:
            return err(default, "FLAG_NOT_FOUND")
        f = self.flags[key]
        if isinstance(f, Invalid):
            return err(default, "PARSE_ERROR")
        if typ != "any" and typ != f["type"]:
            return err(default, "TYPE_MISMATCH")
        V = f["variants"]

        def res(v, reason, **kw):
            r = {"value": V[v], "variant": v, "reason": reason}
            r.update({k: x for k, x in kw.items() if x is not None})
            return r
        if f["state"] == "kill":
            return res(f["off"], "KILLED")
        if f["state"] == "off":
            return res(f["off"], "DISABLED")
        w = f["window"]
        if w and ((w[0] is not None and now < w[0]) or (w[1] is not None and now >= w[1])):
            return res(f["off"], "OUT_OF_WINDOW")
        try:
            on = self.on_path(f, ctx, now, depth)
        except EvalError as e:
            if f["state"] == "shadow":
                return res(f["off"], "SHADOW")
            return err(default, e.code)
        if f["state"] == "shadow":
            return res(f["off"], "SHADOW", shadowVariant=on[0])
        v, reason, rid, st = on
        return res(v, reason, ruleId=rid, stage=st)

    def on_path(self, f, ctx, now, depth):
        for pk, allowed in f["prereqs"]:
            if ("flag", pk) not in self.memo:
                self.memo[("flag", pk)] = self.evaluate(pk, ctx, now, "any", None, depth + 1)
            r = self.memo[("flag", pk)]
            if r.get("errorCode") or r["variant"] not in allowed:
                return f["off"], "PREREQUISITE_FAILED", None, None
        tenant = ctx.get("tenant")
        for t, v, exp in f["overrides"]:
            if isinstance(tenant, str) and tenant == t and (exp is None or now < exp):
                return v, "OVERRIDE", None, None
        tk = ctx.get("targetingKey")
        groups = ctx.get("groups")
        gl = [groups] if isinstance(groups, str) else [g for g in groups if isinstance(g, str)] \
            if isinstance(groups, list) else []
        for v, users, tgroups, tenants in f["targets"]:
            if (isinstance(tk, str) and tk in users) or (isinstance(tenant, str) and tenant in tenants) or \
                    any(g in tgroups for g in gl):
                return v, "TARGETING_MATCH", None, None
        cstage = None
        if f["state"] == "canary":
            amt, by, salt = f["canary"]
            u = self.unit(ctx, by)
            thr, cstage = self.threshold(amt, now)
            if self.bucket(salt or f["key"], u) >= thr:
                return f["off"], "CANARY_EXCLUDED", None, cstage
        for rid, cond, s in f["rules"]:
            if self.cond(cond, ctx):
                v, kind, st = self.serve(f, s, ctx, now)
                return v, ("TARGETING_MATCH" if kind == "fixed" else "SPLIT"), rid, st if st is not None else cstage
        v, kind, st = self.serve(f, f["fallthrough"], ctx, now)
        if kind == "split":
            return v, "SPLIT", None, st if st is not None else cstage
        return v, ("STATIC" if f["static"] else "DEFAULT"), None, cstage


class EvalError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def err(default, code):
    return {"value": default, "variant": None, "reason": "ERROR", "errorCode": code}


def same(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isnum(a) and isnum(b):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def run_file(path):
    doc = json.load(open(path, encoding="utf-8"))
    fails = []
    if "snapshotFile" in doc:
        text = open(os.path.join(ROOT, doc["snapshotFile"]), encoding="utf-8").read()
        try:
            snap = json.loads(text)
        except ValueError:
            snap = None
            got_err = "invalid_json"
    else:
        snap = doc["snapshot"]
    m = Model(snap)
    want_err = (doc.get("load") or {}).get("error")
    if snap is not None:
        try:
            m.load()
            got_err = None
        except Invalid as e:
            got_err = e.code
    if got_err != want_err:
        return ["load error: expected %r, model %r" % (want_err, got_err)]
    if got_err:
        return []
    want_w = (doc.get("load") or {}).get("warnings", [])
    if want_w != m.warnings:
        fails.append("warnings: expected %r, model %r" % (want_w, m.warnings))
    for c in doc["cases"]:
        now = c.get("now", doc.get("now"))
        got = m.evaluate(c["flag"], c["context"], now, c["type"], c["default"])
        exp = c["expect"]
        for k in ("value", "variant", "reason", "ruleId", "stage", "shadowVariant", "errorCode"):
            if not same(exp.get(k), got.get(k)):
                fails.append("%s: %s expected %r, model %r" % (c["name"], k, exp.get(k), got.get(k)))
        # flagMetadata is null for a missing or invalid flag (docs/snapshot-format.md §4).
        missing = got.get("errorCode") in ("FLAG_NOT_FOUND", "PARSE_ERROR")
        got_meta = None if missing else (m.flags.get(c["flag"]) or {}).get("metadata")
        if "flagMetadata" in exp and not same(exp["flagMetadata"], got_meta):
            fails.append("%s: flagMetadata differs" % c["name"])
    return fails


def main(argv):
    files = argv or sorted(glob.glob(os.path.join(ROOT, "cases", "*.json")))
    bad = 0
    for p in files:
        fails = run_file(p)
        for f in fails:
            print("%s: %s" % (os.path.basename(p), f))
        bad += len(fails)
    print("%d disagreement(s)" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
