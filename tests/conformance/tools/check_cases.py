#!/usr/bin/env python3
"""Structural sanity check of the conformance suite (no Pennon engine involved).

    python3 tests/conformance/tools/check_cases.py            # from the repo root
    python3 check_cases.py [CONFORMANCE_DIR]

Checks, for every cases/*.json:
  * top-level shape: description, exactly one of snapshot / snapshotFile (which must exist),
    integer `now` at file level or on every case, `load` shape, cases list;
  * a file with load.error has no cases; load.warnings are known codes;
  * every case: unique name, flag, object context, type, default, expect;
  * the flag exists in the snapshot, or the case expects FLAG_NOT_FOUND and it does not;
  * expect: reason and errorCode are known; ERROR ⇔ errorCode; on errors value = default and
    variant null; otherwise the variant exists and value equals variants[variant];
    shadowVariant exists; ruleId names a rule of the flag; stage is a non-negative integer;
  * PARSE_ERROR only where the file declares load warnings;
and bucketing.json: at least 40 vectors, hash as a decimal string, bucket in range, and (when
the `xxhash` module is importable, e.g. /tmp/ccvenv/bin/python) hash/bucket recomputed.
Prints the number of cases per file and the total; exits 1 on any problem.
"""
import glob
import json
import os
import sys

REASONS = {"STATIC", "DEFAULT", "TARGETING_MATCH", "SPLIT", "DISABLED", "ERROR", "KILLED", "SHADOW", "OVERRIDE",
           "PREREQUISITE_FAILED", "OUT_OF_WINDOW", "CANARY_EXCLUDED"}
ERRORS = {"FLAG_NOT_FOUND", "TYPE_MISMATCH", "PARSE_ERROR", "TARGETING_KEY_MISSING", "INVALID_CONTEXT", "GENERAL"}
LOAD_ERRORS = {"invalid_json", "invalid_snapshot", "unsupported_schema_version"}
WARNINGS = {"missing_field", "invalid_type", "invalid_value", "unknown_field", "unknown_operator", "unknown_variant",
            "variant_type_mismatch", "invalid_regex", "invalid_semver", "invalid_cidr", "invalid_date",
            "invalid_duration", "invalid_percentage", "invalid_weights", "unknown_segment", "invalid_segment",
            "segment_cycle", "prerequisite_cycle", "depth_exceeded", "unknown_prerequisite", "duplicate_id"}
TYPES = {"boolean", "string", "number", "object", "any"}
CASE_KEYS = {"name", "flag", "context", "type", "default", "now", "expect"}
EXPECT_KEYS = {"value", "variant", "reason", "ruleId", "stage", "shadowVariant", "errorCode", "flagMetadata"}
FILE_KEYS = {"description", "snapshot", "snapshotFile", "now", "load", "cases"}


def same(a, b):
    """JSON equality with numbers compared numerically (1 == 1.0) but booleans kept apart."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_file(path, root, problems):
    rel = os.path.relpath(path, root)

    def bad(msg):
        problems.append("%s: %s" % (rel, msg))
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except Exception as e:  # noqa: BLE001
        bad("not JSON: %s" % e)
        return 0
    if not isinstance(doc, dict):
        bad("not an object")
        return 0
    for k in doc:
        if k not in FILE_KEYS:
            bad("unknown top-level key %r" % k)
    if not isinstance(doc.get("description"), str) or not doc["description"]:
        bad("missing description")
    if ("snapshot" in doc) == ("snapshotFile" in doc):
        bad("needs exactly one of snapshot / snapshotFile")
        return 0
    snap = None
    if "snapshot" in doc:
        snap = doc["snapshot"]
    else:
        sp = os.path.join(root, doc["snapshotFile"])
        if not os.path.isfile(sp):
            bad("snapshotFile %s does not exist" % doc["snapshotFile"])
            return 0
        try:
            with open(sp, encoding="utf-8") as fh:
                snap = json.load(fh)
        except ValueError:
            snap = None  # deliberately invalid JSON (invalid_json files)
    load = doc.get("load")
    warnings = []
    if load is not None:
        if not isinstance(load, dict) or set(load) - {"error", "warnings"}:
            bad("bad load object")
        if "error" in load:
            if load["error"] not in LOAD_ERRORS:
                bad("unknown load.error %r" % load["error"])
            if doc.get("cases"):
                bad("a file with load.error must have no cases")
            return 0
        warnings = load.get("warnings", [])
        for w in warnings:
            if w not in WARNINGS:
                bad("unknown warning code %r" % w)
        if not warnings:
            bad("load without error or warnings: omit load instead")
    if not isinstance(snap, dict) or not isinstance(snap.get("flags"), dict):
        bad("snapshot without a flags object but no load.error")
        return 0
    if snap.get("schemaVersion") != 1 or not is_int(snap.get("revision")):
        bad("snapshot schemaVersion/revision look wrong but no load.error")
    flags = snap["flags"]
    cases = doc.get("cases")
    if not isinstance(cases, list) or not cases:
        bad("no cases")
        return 0
    file_now = doc.get("now")
    if file_now is not None and not is_int(file_now):
        bad("file now is not an integer")
    names = set()
    for i, c in enumerate(cases):
        where = "case %d (%s)" % (i, c.get("name"))
        for k in c:
            if k not in CASE_KEYS:
                bad("%s: unknown key %r" % (where, k))
        for k in ("name", "flag", "context", "type", "default", "expect"):
            if k not in c:
                bad("%s: missing %s" % (where, k))
        if not all(k in c for k in ("name", "flag", "context", "type", "expect")):
            continue
        if c["name"] in names:
            bad("%s: duplicate name" % where)
        names.add(c["name"])
        if not isinstance(c["context"], dict):
            bad("%s: context is not an object" % where)
        if c["type"] not in TYPES:
            bad("%s: unknown type %r" % (where, c["type"]))
        now = c.get("now", file_now)
        if not is_int(now):
            bad("%s: no integer now" % where)
        ex = c["expect"]
        for k in ex:
            if k not in EXPECT_KEYS:
                bad("%s: unknown expect key %r" % (where, k))
        for k in ("value", "reason"):
            if k not in ex:
                bad("%s: expect.%s missing" % (where, k))
        reason, code = ex.get("reason"), ex.get("errorCode")
        if reason not in REASONS:
            bad("%s: unknown reason %r" % (where, reason))
        if code is not None and code not in ERRORS:
            bad("%s: unknown errorCode %r" % (where, code))
        if (reason == "ERROR") != (code is not None):
            bad("%s: reason ERROR iff errorCode" % where)
        flag = flags.get(c["flag"])
        if code == "FLAG_NOT_FOUND":
            if c["flag"] in flags:
                bad("%s: FLAG_NOT_FOUND but the flag exists" % where)
        elif flag is None:
            bad("%s: flag %r not in the snapshot" % (where, c["flag"]))
            continue
        if code == "PARSE_ERROR" and not warnings:
            bad("%s: PARSE_ERROR in a file without load warnings" % where)
        if reason == "ERROR":
            if ex.get("variant") is not None:
                bad("%s: an error has variant null" % where)
            if not same(ex.get("value"), c.get("default")):
                bad("%s: an error returns the default" % where)
            for k in ("ruleId", "stage", "shadowVariant"):
                if ex.get(k) is not None:
                    bad("%s: an error has no %s" % (where, k))
            continue
        variants = flag.get("variants") if isinstance(flag, dict) else None
        if not isinstance(variants, dict):
            bad("%s: successful result for a flag without variants" % where)
            continue
        v = ex.get("variant")
        if v not in variants:
            bad("%s: variant %r not defined" % (where, v))
        elif not same(ex.get("value"), variants[v]):
            bad("%s: value %r is not variants[%r] = %r" % (where, ex.get("value"), v, variants[v]))
        if reason in ("DISABLED", "KILLED", "OUT_OF_WINDOW", "SHADOW", "PREREQUISITE_FAILED", "CANARY_EXCLUDED") \
                and v != flag.get("offVariant"):
            bad("%s: %s must serve offVariant" % (where, reason))
        sv = ex.get("shadowVariant")
        if sv is not None and (sv not in variants or reason != "SHADOW"):
            bad("%s: bad shadowVariant" % where)
        rid = ex.get("ruleId")
        if rid is not None:
            ids = [r.get("id") for r in flag.get("rules", [])]
            if rid not in ids:
                bad("%s: ruleId %r not a rule of the flag" % (where, rid))
            if reason not in ("TARGETING_MATCH", "SPLIT"):
                bad("%s: ruleId with reason %s" % (where, reason))
        st = ex.get("stage")
        if st is not None and (not is_int(st) or st < 0):
            bad("%s: bad stage" % where)
        if c["type"] != "any" and flag.get("type") != c["type"]:
            bad("%s: typed getter %s on a %s flag must be TYPE_MISMATCH" % (where, c["type"], flag.get("type")))
    return len(cases)


def check_bucketing(path, problems):
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    vecs = doc.get("vectors", [])
    if len(vecs) < 40:
        problems.append("bucketing.json: fewer than 40 vectors")
    try:
        import xxhash
    except ImportError:
        xxhash = None
    for v in vecs:
        if set(v) != {"salt", "unit", "hash", "bucket"} or not isinstance(v["hash"], str) or not v["hash"].isdigit():
            problems.append("bucketing.json: bad vector %r" % (v,))
            continue
        h = int(v["hash"])
        if not 0 <= h < 2**64 or (h * 100000) >> 64 != v["bucket"]:
            problems.append("bucketing.json: bucket does not follow from hash in %r" % (v,))
        if xxhash is not None:
            hh = xxhash.xxh3_64_intdigest(v["salt"].encode() + b":" + v["unit"].encode(), seed=0)
            if hh != h:
                problems.append("bucketing.json: hash mismatch for %r" % (v,))
    return len(vecs), xxhash is not None


def main(argv):
    root = argv[0] if argv else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = []
    total = 0
    for path in sorted(glob.glob(os.path.join(root, "cases", "*.json"))):
        n = check_file(path, root, problems)
        total += n
        print("%5d  %s" % (n, os.path.relpath(path, root)))
    print("%5d  total cases" % total)
    bpath = os.path.join(root, "bucketing.json")
    if os.path.exists(bpath):
        n, verified = check_bucketing(bpath, problems)
        print("%5d  bucketing vectors%s" % (n, " (hashes recomputed)" if verified else " (xxhash not installed: "
                                             "hashes not recomputed)"))
    else:
        problems.append("bucketing.json missing")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
