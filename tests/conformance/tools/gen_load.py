"""Generates the loading/validation files: whole-snapshot load errors (one file each),
per-flag invalid entries (load-errors-flags.json), x- extensions and a top-level unknown
field. Codes come from the table in docs/snapshot-format.md §8."""
import os

from gen_common import (NOW, E, ERR, SNAPSHOTS, boolflag, bucket_of, case, iso, snapshot, strflag, write,
                        write_raw, H)


def whole_snapshot():
    out = {}
    docs = {
        "load-error-schema-version-2.json": ({"schemaVersion": 2, "revision": 1, "flags": {"f": boolflag()}},
                                             "unsupported_schema_version", "schemaVersion 2 is rejected as a whole"),
        "load-error-schema-version-missing.json": ({"revision": 1, "flags": {"f": boolflag()}},
                                                   "unsupported_schema_version", "schemaVersion missing"),
        "load-error-schema-version-string.json": ({"schemaVersion": "1", "revision": 1, "flags": {"f": boolflag()}},
                                                  "unsupported_schema_version", "schemaVersion \"1\" (a string) is not 1"),
        "load-error-revision-missing.json": ({"schemaVersion": 1, "flags": {"f": boolflag()}},
                                             "invalid_snapshot", "revision missing"),
        "load-error-revision-negative.json": ({"schemaVersion": 1, "revision": -1, "flags": {"f": boolflag()}},
                                              "invalid_snapshot", "revision must be an integer ≥ 0"),
        "load-error-revision-string.json": ({"schemaVersion": 1, "revision": "42", "flags": {"f": boolflag()}},
                                            "invalid_snapshot", "revision \"42\" is a string"),
        "load-error-revision-fraction.json": ({"schemaVersion": 1, "revision": 1.5, "flags": {"f": boolflag()}},
                                              "invalid_snapshot", "revision 1.5 is not an integer"),
        "load-error-flags-missing.json": ({"schemaVersion": 1, "revision": 1},
                                          "invalid_snapshot", "flags missing"),
        "load-error-flags-not-object.json": ({"schemaVersion": 1, "revision": 1, "flags": [boolflag()]},
                                             "invalid_snapshot", "flags is an array, not an object"),
        "load-error-flags-string.json": ({"schemaVersion": 1, "revision": 1, "flags": "none"},
                                         "invalid_snapshot", "flags is a string"),
    }
    for fname, (snap, code, why) in docs.items():
        write(fname, "Whole-snapshot load failure: %s → %s. No cases: loading itself must fail." % (why, code),
              snap, [], now=None, load={"error": code})
        out[fname] = 0
    write_raw(os.path.join(SNAPSHOTS, "not-an-object.json"), [{"schemaVersion": 1, "revision": 1, "flags": {}}])
    with open(os.path.join(SNAPSHOTS, "invalid-json.txt"), "w", encoding="utf-8") as fh:
        fh.write('{ "schemaVersion": 1, "revision": 1, "flags": { "f": { "type": "boolean", \n')
    write("load-error-not-object.json", "Whole-snapshot load failure: the document is a JSON array, not an object "
          "→ invalid_snapshot.", None, [], now=None, load={"error": "invalid_snapshot"},
          snapshot_file="snapshots/not-an-object.json")
    write("load-error-invalid-json.json", "Whole-snapshot load failure: the text is truncated, not JSON → "
          "invalid_json. (The snapshot file is deliberately not valid JSON, hence .txt.)", None, [], now=None,
          load={"error": "invalid_json"}, snapshot_file="snapshots/invalid-json.txt")
    out["load-error-not-object.json"] = 0
    out["load-error-invalid-json.json"] = 0
    return out


def flags_invalid():
    de = {"attribute": "country", "op": "equals", "value": "DE"}

    def rule(cond, serve=None, rid="r"):
        return {"id": rid, "when": cond, "serve": serve or {"variant": "on"}}

    def rf(cond, **kw):
        return boolflag(rules=[rule(cond)], **kw)

    def prog(stages, start="2026-11-21T00:00:00Z"):
        return {"rollout": {"variant": "on", "otherwise": "off", "progressive": {"start": start, "stages": stages}}}
    bad = {
        "bad-cidr-prefix": (rf({"attribute": "ip", "op": "inCidr", "values": ["10.0.0.0/33"]}), "invalid_cidr"),
        "bad-cidr-text": (rf({"attribute": "ip", "op": "inCidr", "values": ["10.0.0.0/8", "not-a-cidr"]}), "invalid_cidr"),
        "bad-cidr-v6": (rf({"attribute": "ip", "op": "inCidr", "values": ["2001:db8::/129"]}), "invalid_cidr"),
        "bad-date-op": (rf({"attribute": "at", "op": "before", "value": "2026-13-01T00:00:00Z"}), "invalid_date"),
        "bad-date-no-offset": (rf({"attribute": "at", "op": "after", "value": "2026-11-22T00:00:00"}), "invalid_date"),
        "bad-date-window": (boolflag(window={"from": "yesterday"}), "invalid_date"),
        "bad-date-expires": (boolflag(overrides=[{"tenant": "acme", "variant": "on", "expiresAt": "2026-12-31"}]),
                             "invalid_date"),
        "bad-date-start": (boolflag(fallthrough=prog([{"percentage": 100}], start="soon")), "invalid_date"),
        "bad-duration-month": (boolflag(fallthrough=prog([{"percentage": 10, "duration": "P1M"}, {"percentage": 100}])),
                               "invalid_duration"),
        "bad-duration-year": (boolflag(fallthrough=prog([{"percentage": 10, "duration": "P1Y"}, {"percentage": 100}])),
                              "invalid_duration"),
        "bad-duration-text": (boolflag(fallthrough=prog([{"percentage": 10, "duration": "1h"}, {"percentage": 100}])),
                              "invalid_duration"),
        "bad-duration-gradual": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "gradual": {
            "start": "2026-11-21T00:00:00Z", "duration": "P2M"}}}), "invalid_duration"),
        "bad-dup-rule-id": (boolflag(rules=[rule(de), rule({"all": []})]), "duplicate_id"),
        "bad-missing-fallthrough": ({k: v for k, v in boolflag().items() if k != "fallthrough"}, "missing_field"),
        "bad-missing-offvariant": ({k: v for k, v in boolflag().items() if k != "offVariant"}, "missing_field"),
        "bad-missing-state": ({k: v for k, v in boolflag().items() if k != "state"}, "missing_field"),
        "bad-missing-type": ({k: v for k, v in boolflag().items() if k != "type"}, "missing_field"),
        "bad-missing-variants": ({k: v for k, v in boolflag().items() if k != "variants"}, "missing_field"),
        "bad-missing-rule-id": (boolflag(rules=[{"when": de, "serve": {"variant": "on"}}]), "missing_field"),
        "bad-missing-canary": (boolflag(state="canary"), "missing_field"),
        "bad-empty-variants": ({"type": "boolean", "state": "on", "variants": {}, "offVariant": "off",
                                "fallthrough": {"variant": "off"}}, "invalid_value"),
        "bad-state": (boolflag(state="paused"), "invalid_value"),
        "bad-state-case": (boolflag(state="On"), "invalid_value"),
        "bad-type": (boolflag(type="integer"), "invalid_value"),
        "bad-variant-key": (boolflag(variants={"on": True, "off": False, "bad key": True}), "invalid_value"),
        "bad-rule-id-key": (boolflag(rules=[rule(de, rid="r 1")]), "invalid_value"),
        "bad-percentage-101": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 101}}),
                               "invalid_percentage"),
        "bad-percentage-decimals": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off",
                                                                      "percentage": 12.3456}}), "invalid_percentage"),
        "bad-percentage-negative": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off",
                                                                      "percentage": -1}}), "invalid_percentage"),
        "bad-percentage-canary": (boolflag(state="canary", canary={"percentage": 150}), "invalid_percentage"),
        "bad-stages-decreasing": (boolflag(fallthrough=prog([{"percentage": 50, "duration": "PT1H"},
                                                             {"percentage": 30}])), "invalid_percentage"),
        "bad-gradual-to": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "gradual": {
            "start": "2026-11-21T00:00:00Z", "duration": "PT1H", "to": 101}}}), "invalid_percentage"),
        "bad-regex-paren": (rf({"attribute": "id", "op": "matches", "value": "("}), "invalid_regex"),
        "bad-regex-lookahead": (rf({"attribute": "id", "op": "matches", "value": "u-(?=1)"}), "invalid_regex"),
        "bad-regex-backref": (rf({"attribute": "id", "op": "matches", "value": "(a)\\1"}), "invalid_regex"),
        "bad-semver-text": (rf({"attribute": "v", "op": "semverGte", "value": "1.x"}), "invalid_semver"),
        "bad-semver-v": (rf({"attribute": "v", "op": "semverEq", "value": "v1.2.3"}), "invalid_semver"),
        "bad-semver-leading-zero": (rf({"attribute": "v", "op": "semverLt", "value": "01.0.0"}), "invalid_semver"),
        "bad-unknown-field-flag": (boolflag(colour="red"), "unknown_field"),
        "bad-unknown-field-rule": (boolflag(rules=[dict(rule(de), priority=1)]), "unknown_field"),
        "bad-unknown-field-condition": (rf(dict(de, negate=True)), "unknown_field"),
        "bad-unknown-field-serve": (boolflag(fallthrough={"variant": "on", "weight": 1}), "unknown_field"),
        "bad-unknown-field-rollout": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off",
                                                                        "percentage": 100, "sticky": True}}), "unknown_field"),
        "bad-unknown-field-target": (boolflag(targets=[{"variant": "on", "users": ["u-1"], "emails": ["a@b.c"]}]),
                                     "unknown_field"),
        "bad-unknown-field-override": (boolflag(overrides=[{"tenant": "acme", "variant": "on", "region": "eu"}]),
                                       "unknown_field"),
        "bad-unknown-field-prereq": (boolflag(prerequisites=[{"flag": "good", "variants": ["on"], "optional": True}]),
                                     "unknown_field"),
        "bad-unknown-field-cohort": (boolflag(state="canary", canary={"percentage": 100, "sticky": True}), "unknown_field"),
        "bad-unknown-op": (rf({"attribute": "id", "op": "regexMatch", "value": "x"}), "unknown_operator"),
        "bad-unknown-op-case": (rf({"attribute": "country", "op": "Equals", "value": "DE"}), "unknown_operator"),
        "bad-unknown-variant-off": (boolflag(offVariant="nope"), "unknown_variant"),
        "bad-unknown-variant-fallthrough": (boolflag(fallthrough={"variant": "nope"}), "unknown_variant"),
        "bad-unknown-variant-rule": (boolflag(rules=[rule(de, {"variant": "nope"})]), "unknown_variant"),
        "bad-unknown-variant-target": (boolflag(targets=[{"variant": "nope", "users": ["u-1"]}]), "unknown_variant"),
        "bad-unknown-variant-override": (boolflag(overrides=[{"tenant": "acme", "variant": "nope"}]), "unknown_variant"),
        "bad-unknown-variant-otherwise": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "nope",
                                                                            "percentage": 50}}), "unknown_variant"),
        "bad-unknown-variant-split": (boolflag(fallthrough={"split": {"variants": [
            {"variant": "on", "weight": 50}, {"variant": "nope", "weight": 50}]}}), "unknown_variant"),
        "bad-variant-type-bool": (boolflag(variants={"on": "yes", "off": False}), "variant_type_mismatch"),
        "bad-variant-type-null": (boolflag(variants={"on": True, "off": None}), "variant_type_mismatch"),
        "bad-variant-type-number": ({"type": "number", "state": "on", "variants": {"one": "1", "two": 2},
                                     "offVariant": "two", "fallthrough": {"variant": "two"}}, "variant_type_mismatch"),
        "bad-variant-type-object": ({"type": "object", "state": "on", "variants": {"a": {"k": 1}, "b": [1, 2]},
                                     "offVariant": "a", "fallthrough": {"variant": "a"}}, "variant_type_mismatch"),
        "bad-variant-type-string": ({"type": "string", "state": "on", "variants": {"a": "a", "b": 5},
                                     "offVariant": "a", "fallthrough": {"variant": "a"}}, "variant_type_mismatch"),
        "bad-weights-low": (boolflag(fallthrough={"split": {"variants": [
            {"variant": "on", "weight": 50}, {"variant": "off", "weight": 30}]}}), "invalid_weights"),
        "bad-weights-99.999": (strflag(["a", "b", "c"], "a", fallthrough={"split": {"variants": [
            {"variant": "a", "weight": 33.333}, {"variant": "b", "weight": 33.333},
            {"variant": "c", "weight": 33.333}]}}), "invalid_weights"),
        "bad-weights-high": (boolflag(fallthrough={"split": {"variants": [
            {"variant": "on", "weight": 60}, {"variant": "off", "weight": 50}]}}), "invalid_weights"),
        "bad-type-rules": (boolflag(rules={"r": rule(de)}), "invalid_type"),
        "bad-type-percentage": (boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off",
                                                                  "percentage": "50"}}), "invalid_type"),
        "bad-type-variants": (boolflag(variants=[True, False]), "invalid_type"),
        "bad-type-values": (rf({"attribute": "country", "op": "in", "values": "DE"}), "invalid_type"),
        "bad-type-lt-value": (rf({"attribute": "age", "op": "lt", "value": "10"}), "invalid_type"),
    }
    t_units = ["user-%d" % i for i in range(3)]
    good = {
        "good": boolflag(),
        "good-rules": boolflag(fallthrough={"variant": "off"}, rules=[
            {"id": "r", "when": {"all": [{"attribute": "id", "op": "matches", "value": "^u-\\d+$"},
                                         {"attribute": "v", "op": "semverGte", "value": "2"},
                                         {"attribute": "ip", "op": "inCidr", "values": ["2001:db8::/32", "10.0.0.0/8"]},
                                         {"attribute": "at", "op": "before", "value": "2026-11-22T00:00:00.001+00:00"}]},
             "serve": {"variant": "on"}}]),
        "good-ptm": boolflag(fallthrough=prog([{"percentage": 10, "duration": "PT1M"}, {"percentage": 100}],
                                              start=iso(NOW - H))),
        "good-thirds": strflag(["a", "b", "c"], "a", fallthrough={"split": {"variants": [
            {"variant": "a", "weight": 33.333}, {"variant": "b", "weight": 33.333}, {"variant": "c", "weight": 33.334}]}}),
        "good-pct": boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 12.345}}),
    }
    flags = {k: v for k, (v, _) in bad.items()}
    flags.update(good)
    ctx = {"targetingKey": "u-1", "country": "DE", "tenant": "acme", "id": "u-1", "v": "2.0.0", "ip": "10.0.0.1",
           "at": "2026-11-21T00:00:00Z", "age": 5}
    cs = []
    for k in sorted(bad):
        f, code = bad[k]
        ftype = f.get("type") if f.get("type") in ("boolean", "string", "number", "object") else "any"
        dflt = {"boolean": True, "string": "dflt", "number": -1, "object": {"d": True}, "any": "dflt"}[ftype]
        cs.append(case("%s: invalid (%s) → PARSE_ERROR" % (k, code), k, ERR(dflt, "PARSE_ERROR"), ctx, type=ftype,
                       default=dflt))
    cs += [
        case("bad-unknown-field-flag: PARSE_ERROR also for the wrong typed getter", "bad-unknown-field-flag",
             ERR("dflt", "PARSE_ERROR"), ctx, type="string", default="dflt"),
        case("bad-type: PARSE_ERROR for type any", "bad-type", ERR(None, "PARSE_ERROR"), ctx, type="any", default=None),
        case("good: a valid sibling is unaffected → STATIC", "good", E(True, "on", "STATIC"), ctx),
        case("good-rules: valid regex, padded semver, IPv6 CIDR and offset date operands load and match", "good-rules",
             E(True, "on", "TARGETING_MATCH", ruleId="r"), ctx),
        case("good-rules: and do not match otherwise", "good-rules", E(False, "off", "DEFAULT"), dict(ctx, v="1.9.9")),
        case("good-ptm: PT1M (one minute) is valid, unlike P1M; an hour after start the last stage is in force",
             "good-ptm", E(True, "on", "SPLIT", stage=1), ctx),
    ]
    for u in t_units:
        b = bucket_of("good-thirds", u)
        v = "a" if b < 33333 else "b" if b < 66666 else "c"
        cs.append(case("good-thirds: 33.333 + 33.333 + 33.334 = 100 is valid; %s bucket %d → %s" % (u, b, v),
                       "good-thirds", E(v, v, "SPLIT"), {"targetingKey": u}, type="string", default="dflt"))
        b = bucket_of("good-pct", u)
        cs.append(case("good-pct: 12.345 %% (three decimals) is valid; %s bucket %d %s 12345 → %s"
                       % (u, b, "<" if b < 12345 else "≥", "on" if b < 12345 else "off"), "good-pct",
                       E(b < 12345, "on" if b < 12345 else "off", "SPLIT"), {"targetingKey": u}))
    warnings = [bad[k][1] for k in sorted(flags) if k in bad]
    return {"load-errors-flags.json": write(
        "load-errors-flags.json",
        "Per-flag validation (§8): each invalid flag (unknown field anywhere, unknown operator or state, bad "
        "regex/semver/CIDR/date/duration incl. P1M, percentage 101 / 12.3456 / decreasing stages, weights not "
        "adding up to 100, unknown variant, variant value of the wrong type, duplicate rule id, missing or "
        "mistyped fields) loads as an invalid entry with one warning and evaluates to PARSE_ERROR with the "
        "caller's default, while valid siblings work.", snapshot(209, flags), cs, load={"warnings": warnings})}


def extensions():
    seg = {"staff": {"when": {"attribute": "email", "op": "endsWith", "value": "@pennon.dev", "x-hint": "domain"},
                     "x-owner": "it", "description": "staff"}}
    meta = {"owner": "growth", "tags": ["a"], "x-anything": 1, "nested": {"deep": [1, {"k": None}]},
            "createdAt": "2026-01-01T00:00:00Z"}
    flags = {
        "ext-all": {"type": "boolean", "state": "on", "variants": {"on": True, "off": False}, "offVariant": "off",
                    "x-note": {"why": "ignored"},
                    "fallthrough": {"variant": "off", "x-why": 1},
                    "window": {"from": "2026-01-01T00:00:00Z", "x-tz": "Europe/Berlin"},
                    "overrides": [{"tenant": "acme", "variant": "on", "x-ticket": "PEN-7"}],
                    "targets": [{"variant": "on", "users": ["u-1"], "x-source": "crm"}],
                    "prerequisites": [{"flag": "ext-plain", "variants": ["on"], "x-why": "safety"}],
                    "rules": [{"id": "staff", "x-comment": "…", "when": {"any": [{"inSegment": "staff"}],
                                                                         "x-hint": True},
                               "serve": {"variant": "on", "x-reason": "staff first"}},
                              {"id": "de", "when": {"attribute": "country", "op": "equals", "value": "DE",
                                                    "x-hint": "country"},
                               "serve": {"rollout": {"variant": "on", "otherwise": "off", "percentage": 100,
                                                     "x-experiment": "exp-1"}}},
                              {"id": "split", "when": {"attribute": "country", "op": "equals", "value": "AT"},
                               "serve": {"split": {"variants": [{"variant": "on", "weight": 100, "x-color": "red"}],
                                                   "x-note": 1}}}],
                    "metadata": meta},
        "ext-plain": {"type": "boolean", "state": "on", "variants": {"on": True, "off": False}, "offVariant": "off",
                      "fallthrough": {"variant": "on"}, "x-": "an empty extension name is still x-"},
        "ext-canary": {"type": "boolean", "state": "canary", "variants": {"on": True, "off": False}, "offVariant": "off",
                       "fallthrough": {"variant": "on"},
                       "canary": {"progressive": {"start": "2026-11-21T00:00:00Z", "x-plan": "fast",
                                                  "stages": [{"percentage": 100, "x-label": "all"}]},
                                  "x-owner": "sre"}},
    }
    snap = snapshot(210, flags, seg, generatedAt="2026-11-22T09:00:00Z", environment="production",
                    metadata={"anything": ["goes", 1, None], "x-y": {}})
    snap["x-generator"] = {"name": "pennon-control-plane", "version": "9.9.9"}
    cs = [
        case("ext-plain: x- fields are ignored → STATIC", "ext-plain", E(True, "on", "STATIC")),
        case("ext-all: override with x-ticket applies", "ext-all", E(True, "on", "OVERRIDE"), {"tenant": "acme"}),
        case("ext-all: target with x-source applies", "ext-all", E(True, "on", "TARGETING_MATCH"), {"targetingKey": "u-1"}),
        case("ext-all: segment and condition x- fields are ignored: staff rule", "ext-all",
             E(True, "on", "TARGETING_MATCH", ruleId="staff"), {"targetingKey": "u-2", "email": "a@pennon.dev"}),
        case("ext-all: rollout with x-experiment → SPLIT", "ext-all", E(True, "on", "SPLIT", ruleId="de"),
             {"targetingKey": "u-2", "country": "DE"}),
        case("ext-all: split entry with x-color → SPLIT", "ext-all", E(True, "on", "SPLIT", ruleId="split"),
             {"targetingKey": "u-2", "country": "AT"}),
        case("ext-all: nothing matches → fallthrough with x-why; metadata verbatim, x- keys included", "ext-all",
             dict(E(False, "off", "DEFAULT"), flagMetadata=meta), {"targetingKey": "u-2", "country": "CH"}),
        case("ext-canary: cohort with x- fields, one 100 % stage → passes, stage 0", "ext-canary",
             E(True, "on", "DEFAULT", stage=0), {"targetingKey": "u-2"}),
    ]
    n = write("extensions.json", "Forward compatibility (§8): fields starting with x- are ignored everywhere "
              "(top level, flag, rule, condition, serve, rollout, split entry, target, override, prerequisite, "
              "window, segment, cohort, progressive stage); metadata is free-form and returned verbatim. The "
              "snapshot loads without warnings.", snap, cs)
    snap2 = snapshot(211, {"f": boolflag()})
    snap2["colour"] = "red"
    n2 = write("load-warning-top-level.json", "An unknown field at the top level loads with a warning "
               "(unknown_field) and changes nothing else.", snap2,
               [case("f: the snapshot loads; the flag is STATIC", "f", E(True, "on", "STATIC"))],
               load={"warnings": ["unknown_field"]})
    return {"extensions.json": n, "load-warning-top-level.json": n2}


def main():
    out = whole_snapshot()
    out.update(flags_invalid())
    out.update(extensions())
    return out


if __name__ == "__main__":
    for k, v in main().items():
        print(k, v)
