"""Generates the non-operator topic files: states, reasons-and-errors, targets-overrides,
windows, prerequisites(-invalid), segments(-invalid). Expectations are written by hand
from docs/snapshot-format.md §3–§4, §6.3; bucket numbers come from bucket.py."""
from gen_common import (DAY, H, NOW, E, ERR, boolflag, bucket_of, case, find_unit, ms,
                        snapshot, strflag, write)

ON = E(True, "on", "DEFAULT")


def pick_in(salt, thr, start=0):
    return find_unit(salt, lambda b: b < thr, start=start)


def pick_out(salt, thr, start=0):
    return find_unit(salt, lambda b: b >= thr, start=start)


# ---------------------------------------------------------------------------------------
def states():
    flags = {
        "off": boolflag(state="off", overrides=[{"tenant": "acme", "variant": "on"}],
                        targets=[{"variant": "on", "users": ["u-1"]}],
                        rules=[{"id": "all", "when": {"all": []}, "serve": {"variant": "on"}}]),
        "kill": boolflag(state="kill", overrides=[{"tenant": "acme", "variant": "on"}],
                         targets=[{"variant": "on", "users": ["u-1"]}],
                         rules=[{"id": "all", "when": {"all": []}, "serve": {"variant": "on"}}]),
        "kill-string": strflag(["legacy", "modern"], "legacy", state="kill",
                               fallthrough={"variant": "modern"}),
        "kill-window": boolflag(state="kill", window={"from": "2027-01-01T00:00:00Z"}),
        "off-window": boolflag(state="off", window={"until": "2026-01-01T00:00:00Z"}),
        "kill-prereq": boolflag(state="kill", prerequisites=[{"flag": "off", "variants": ["on"]}]),
        "off-prereq": boolflag(state="off", prerequisites=[{"flag": "off", "variants": ["on"]}]),
        "kill-rollout": boolflag(state="kill", fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}),
        "on": boolflag(fallthrough={"variant": "off"},
                       overrides=[{"tenant": "acme", "variant": "on"}],
                       targets=[{"variant": "on", "users": ["u-1"]}],
                       rules=[{"id": "de", "when": {"attribute": "country", "op": "equals", "value": "DE"},
                               "serve": {"variant": "on"}}]),
        "on-prereq": boolflag(prerequisites=[{"flag": "off", "variants": ["on"]}],
                              overrides=[{"tenant": "acme", "variant": "on"}],
                              targets=[{"variant": "on", "users": ["u-1"]}]),
        "shadow": strflag(["old", "new", "beta", "tenant", "de"], "old", state="shadow",
                          fallthrough={"variant": "new"},
                          overrides=[{"tenant": "acme", "variant": "tenant"}],
                          targets=[{"variant": "beta", "users": ["u-1"]}],
                          rules=[{"id": "de", "when": {"attribute": "country", "op": "equals", "value": "DE"},
                                  "serve": {"variant": "de"}}]),
        "shadow-rollout": strflag(["old", "new"], "old", state="shadow",
                                  fallthrough={"rollout": {"variant": "new", "otherwise": "old", "percentage": 50}}),
        "shadow-bucketby": strflag(["old", "new", "exp"], "old", state="shadow",
                                   fallthrough={"variant": "new"},
                                   rules=[{"id": "de", "when": {"attribute": "country", "op": "equals", "value": "DE"},
                                           "serve": {"rollout": {"variant": "exp", "otherwise": "new",
                                                                 "percentage": 100, "bucketBy": "orgId"}}}]),
        "shadow-prereq": strflag(["old", "new"], "old", state="shadow", fallthrough={"variant": "new"},
                                 prerequisites=[{"flag": "off", "variants": ["on"]}]),
        "shadow-window": strflag(["old", "new"], "old", state="shadow", fallthrough={"variant": "new"},
                                 window={"until": "2026-11-01T00:00:00Z"}),
        "shadow-window-active": strflag(["old", "new"], "old", state="shadow", fallthrough={"variant": "new"},
                                        window={"from": "2026-11-01T00:00:00Z"}),
        "shadow-same": boolflag(state="shadow", fallthrough={"variant": "off"}),
        "canary-all": boolflag(state="canary", canary={"percentage": 100}),
        "canary-none": boolflag(state="canary", canary={"percentage": 0}),
    }
    cs = []
    for fl in ("off", "kill"):
        reason = "DISABLED" if fl == "off" else "KILLED"
        r = E(False, "off", reason)
        cs += [
            case("%s: plain context → offVariant, %s" % (fl, reason), fl, r, {"targetingKey": "u-9"}),
            case("%s: a targeted user still gets offVariant" % fl, fl, r, {"targetingKey": "u-1"}),
            case("%s: a tenant override does not apply" % fl, fl, r, {"targetingKey": "u-9", "tenant": "acme"}),
            case("%s: no context at all" % fl, fl, r, {}),
            case("%s: type any → %s" % (fl, reason), fl, r, {"targetingKey": "u-1"}, type="any", default=None),
            case("%s: the type check comes before the state: string getter → TYPE_MISMATCH" % fl, fl,
                 ERR("dflt", "TYPE_MISMATCH"), {"targetingKey": "u-1"}, type="string", default="dflt"),
        ]
    cs += [
        case("kill-string: killed string flag serves its offVariant value", "kill-string",
             E("legacy", "legacy", "KILLED"), {"targetingKey": "u-1"}, type="string", default="dflt"),
        case("kill-window: kill wins over an inactive window (KILLED, not OUT_OF_WINDOW)", "kill-window",
             E(False, "off", "KILLED")),
        case("off-window: off wins over an expired window (DISABLED, not OUT_OF_WINDOW)", "off-window",
             E(False, "off", "DISABLED")),
        case("kill-prereq: kill wins over a failing prerequisite", "kill-prereq", E(False, "off", "KILLED")),
        case("off-prereq: off wins over a failing prerequisite", "off-prereq", E(False, "off", "DISABLED")),
        case("kill-rollout: a killed flag needs no bucketing unit (no targetingKey, no error)", "kill-rollout",
             E(False, "off", "KILLED"), {}),
        case("on: tenant override → OVERRIDE", "on", E(True, "on", "OVERRIDE"), {"targetingKey": "u-9", "tenant": "acme"}),
        case("on: targeted user → TARGETING_MATCH", "on", E(True, "on", "TARGETING_MATCH"), {"targetingKey": "u-1"}),
        case("on: rule match → TARGETING_MATCH with ruleId", "on", E(True, "on", "TARGETING_MATCH", ruleId="de"),
             {"targetingKey": "u-9", "country": "DE"}),
        case("on: nothing matches → fallthrough, DEFAULT", "on", E(False, "off", "DEFAULT"), {"targetingKey": "u-9"}),
        case("on-prereq: failing prerequisite beats a tenant override", "on-prereq",
             E(False, "off", "PREREQUISITE_FAILED"), {"targetingKey": "u-9", "tenant": "acme"}),
        case("on-prereq: failing prerequisite beats an individual target", "on-prereq",
             E(False, "off", "PREREQUISITE_FAILED"), {"targetingKey": "u-1"}),
        case("shadow: nothing matches → offVariant with shadowVariant = fallthrough", "shadow",
             E("old", "old", "SHADOW", shadowVariant="new"), {"targetingKey": "u-9"}, type="string", default="dflt"),
        case("shadow: targeted user → shadowVariant = the target's variant", "shadow",
             E("old", "old", "SHADOW", shadowVariant="beta"), {"targetingKey": "u-1"}, type="string", default="dflt"),
        case("shadow: tenant override → shadowVariant = the override's variant", "shadow",
             E("old", "old", "SHADOW", shadowVariant="tenant"), {"targetingKey": "u-1", "tenant": "acme"},
             type="string", default="dflt"),
        case("shadow: rule match → shadowVariant = the rule's variant (ruleId not reported)", "shadow",
             E("old", "old", "SHADOW", shadowVariant="de"), {"targetingKey": "u-9", "country": "DE"},
             type="string", default="dflt"),
        case("shadow: the on path needs no targetingKey here", "shadow",
             E("old", "old", "SHADOW", shadowVariant="new"), {}, type="string", default="dflt"),
        case("shadow: type any", "shadow", E("old", "old", "SHADOW", shadowVariant="new"), {}, type="any", default=None),
        case("shadow: boolean getter on a string flag → TYPE_MISMATCH", "shadow", ERR(True, "TYPE_MISMATCH"), {},
             type="boolean", default=True),
        case("shadow-rollout: the on path errors (no targetingKey) → shadowVariant null, still SHADOW",
             "shadow-rollout", E("old", "old", "SHADOW"), {}, type="string", default="dflt"),
        case("shadow-bucketby: the on path errors (rule needs orgId) → shadowVariant null", "shadow-bucketby",
             E("old", "old", "SHADOW"), {"targetingKey": "u-1", "country": "DE"}, type="string", default="dflt"),
        case("shadow-bucketby: the rule does not match, so no unit is needed → shadowVariant new", "shadow-bucketby",
             E("old", "old", "SHADOW", shadowVariant="new"), {"targetingKey": "u-1", "country": "AT"},
             type="string", default="dflt"),
        case("shadow-bucketby: the rule's 100 % rollout by orgId → shadowVariant exp", "shadow-bucketby",
             E("old", "old", "SHADOW", shadowVariant="exp"), {"targetingKey": "u-1", "country": "DE", "orgId": "o-1"},
             type="string", default="dflt"),
        case("shadow-prereq: the on path fails its prerequisite → shadowVariant = offVariant", "shadow-prereq",
             E("old", "old", "SHADOW", shadowVariant="old"), {"targetingKey": "u-1"}, type="string", default="dflt"),
        case("shadow-window: outside the window → OUT_OF_WINDOW, no shadowVariant", "shadow-window",
             E("old", "old", "OUT_OF_WINDOW"), {"targetingKey": "u-1"}, type="string", default="dflt"),
        case("shadow-window-active: inside the window → SHADOW", "shadow-window-active",
             E("old", "old", "SHADOW", shadowVariant="new"), {"targetingKey": "u-1"}, type="string", default="dflt"),
        case("shadow-same: on path chooses the offVariant too → shadowVariant off", "shadow-same",
             E(False, "off", "SHADOW", shadowVariant="off"), {"targetingKey": "u-1"}),
        case("canary-all: 100 % canary, fixed fallthrough → DEFAULT (state is not on, so not STATIC)",
             "canary-all", E(True, "on", "DEFAULT"), {"targetingKey": "u-1"}),
        case("canary-none: 0 % canary → CANARY_EXCLUDED, offVariant", "canary-none",
             E(False, "off", "CANARY_EXCLUDED"), {"targetingKey": "u-1"}),
        case("canary-none: the gate needs the unit even at 0 % → TARGETING_KEY_MISSING", "canary-none",
             ERR(False, "TARGETING_KEY_MISSING"), {}),
    ]
    # shadow-rollout with a unit: bucket decides the shadowVariant
    u_in, b_in = pick_in("shadow-rollout", 50000)
    u_out, b_out = pick_out("shadow-rollout", 50000)
    cs += [
        case("shadow-rollout: %s bucket %d < 50000 → shadowVariant new" % (u_in, b_in), "shadow-rollout",
             E("old", "old", "SHADOW", shadowVariant="new"), {"targetingKey": u_in}, type="string", default="dflt"),
        case("shadow-rollout: %s bucket %d ≥ 50000 → shadowVariant old" % (u_out, b_out), "shadow-rollout",
             E("old", "old", "SHADOW", shadowVariant="old"), {"targetingKey": u_out}, type="string", default="dflt"),
    ]
    return write("states.json",
                 "Lifecycle states (§4 steps 4–7, 11): off and kill beat overrides, targets, rules, "
                 "windows and prerequisites; shadow serves offVariant and reports the on path's "
                 "variant (null when the on path errors); canary basics.", snapshot(201, flags), cs)


# ---------------------------------------------------------------------------------------
def reasons():
    obj = {"color": "blue", "sizes": [1, 2], "nested": {"k": None}}
    meta = {"description": "Checkout kill switch", "owner": "checkout-team", "tags": ["checkout", "ops"],
            "createdAt": "2026-01-01T00:00:00Z", "removeBy": "2027-06-30T00:00:00Z",
            "jira": {"key": "PEN-1", "links": [1, 2]}}
    flags = {
        "static-bool": boolflag(),
        "static-string": {"type": "string", "state": "on", "variants": {"a": "alpha", "b": "beta"},
                          "offVariant": "a", "fallthrough": {"variant": "b"}},
        "static-number": {"type": "number", "state": "on", "variants": {"small": 1, "big": 1000.5},
                          "offVariant": "small", "fallthrough": {"variant": "big"}},
        "static-object": {"type": "object", "state": "on", "variants": {"v1": obj, "empty": {}},
                          "offVariant": "empty", "fallthrough": {"variant": "v1"}},
        "static-metadata": boolflag(metadata=meta),
        "static-empty-lists": boolflag(overrides=[], targets=[], rules=[], prerequisites=[]),
        "default-rule": boolflag(rules=[{"id": "de", "when": {"attribute": "country", "op": "equals", "value": "DE"},
                                         "serve": {"variant": "off"}}]),
        "default-target": boolflag(targets=[{"variant": "off", "users": ["u-1"]}]),
        "default-override": boolflag(overrides=[{"tenant": "acme", "variant": "off"}]),
        "default-expired-override": boolflag(overrides=[{"tenant": "acme", "variant": "off",
                                                         "expiresAt": "2026-01-01T00:00:00Z"}]),
        "default-prereq": boolflag(prerequisites=[{"flag": "static-bool", "variants": ["on"]}]),
        "default-window": boolflag(window={"from": "2026-01-01T00:00:00Z"}),
        "default-canary": boolflag(state="canary", canary={"percentage": 100}),
        "split-100": boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 100}}),
        "split-0": boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 0}}),
        "bucket-org": boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 50,
                                                        "bucketBy": "orgId"}}),
        "rule-rollout": boolflag(rules=[{"id": "de", "when": {"attribute": "country", "op": "equals", "value": "DE"},
                                         "serve": {"rollout": {"variant": "off", "otherwise": "on", "percentage": 50,
                                                               "bucketBy": "orgId"}}}]),
        "broken": boolflag(colour="red"),
    }
    cs = [
        case("static-bool: no targeting at all → STATIC", "static-bool", E(True, "on", "STATIC"), {"targetingKey": "u-1"}),
        case("static-bool: STATIC needs no context", "static-bool", E(True, "on", "STATIC"), {}),
        case("static-string → STATIC", "static-string", E("beta", "b", "STATIC"), {}, type="string", default="dflt"),
        case("static-number → STATIC", "static-number", E(1000.5, "big", "STATIC"), {}, type="number", default=7),
        case("static-object → STATIC, value compared deeply", "static-object", E(obj, "v1", "STATIC"), {},
             type="object", default={"d": 1}),
        case("static-metadata: metadata is returned verbatim as flagMetadata", "static-metadata",
             dict(E(True, "on", "STATIC"), flagMetadata=meta), {}),
        case("static-empty-lists: empty overrides/targets/rules/prerequisites are no targeting → STATIC",
             "static-empty-lists", E(True, "on", "STATIC"), {"targetingKey": "u-1"}),
        case("default-rule: a rule that does not match → DEFAULT", "default-rule", E(True, "on", "DEFAULT"),
             {"country": "AT"}),
        case("default-rule: the rule matches → TARGETING_MATCH", "default-rule",
             E(False, "off", "TARGETING_MATCH", ruleId="de"), {"country": "DE"}),
        case("default-target: an unmatched target → DEFAULT", "default-target", E(True, "on", "DEFAULT"),
             {"targetingKey": "u-2"}),
        case("default-override: an unmatched override → DEFAULT", "default-override", E(True, "on", "DEFAULT"),
             {"tenant": "globex"}),
        case("default-expired-override: an expired override still counts as targeting → DEFAULT",
             "default-expired-override", E(True, "on", "DEFAULT"), {"tenant": "acme"}),
        case("default-prereq: a satisfied prerequisite → DEFAULT", "default-prereq", E(True, "on", "DEFAULT"), {}),
        case("default-window: inside the window → DEFAULT", "default-window", E(True, "on", "DEFAULT"), {}),
        case("default-canary: passed the 100 % canary → DEFAULT", "default-canary", E(True, "on", "DEFAULT"),
             {"targetingKey": "u-1"}),
        case("split-100: fallthrough rollout 100 % → SPLIT", "split-100", E(True, "on", "SPLIT"), {"targetingKey": "u-1"}),
        case("split-0: fallthrough rollout 0 % → SPLIT, otherwise", "split-0", E(False, "off", "SPLIT"),
             {"targetingKey": "u-1"}),
        case("split-100: no targetingKey → TARGETING_KEY_MISSING, caller's default", "split-100",
             ERR(True, "TARGETING_KEY_MISSING"), {}, default=True),
        case("split-0: even 0 % needs the unit → TARGETING_KEY_MISSING", "split-0",
             ERR(True, "TARGETING_KEY_MISSING"), {"country": "DE"}, default=True),
        case("split-100: attribute names are case-sensitive: targetingkey is not targetingKey", "split-100",
             ERR(False, "TARGETING_KEY_MISSING"), {"targetingkey": "u-1"}),
        case("split-100: a boolean targetingKey cannot be bucketed → INVALID_CONTEXT", "split-100",
             ERR(False, "INVALID_CONTEXT"), {"targetingKey": True}),
        case("split-100: a non-integral number targetingKey → INVALID_CONTEXT", "split-100",
             ERR(False, "INVALID_CONTEXT"), {"targetingKey": 1.5}),
        case("split-100: an integral number targetingKey is a valid unit", "split-100",
             E(True, "on", "SPLIT"), {"targetingKey": 42}),
        case("split-100: an object targetingKey → INVALID_CONTEXT", "split-100",
             ERR(False, "INVALID_CONTEXT"), {"targetingKey": {"id": "u-1"}}),
        case("no-such-flag: boolean getter → FLAG_NOT_FOUND", "no-such-flag", ERR(True, "FLAG_NOT_FOUND"), {}, default=True),
        case("no-such-flag: string getter → FLAG_NOT_FOUND", "no-such-flag", ERR("dflt", "FLAG_NOT_FOUND"), {},
             type="string", default="dflt"),
        case("no-such-flag: number getter → FLAG_NOT_FOUND", "no-such-flag", ERR(7, "FLAG_NOT_FOUND"), {},
             type="number", default=7),
        case("no-such-flag: object getter → FLAG_NOT_FOUND", "no-such-flag", ERR({"d": [1]}, "FLAG_NOT_FOUND"), {},
             type="object", default={"d": [1]}),
        case("no-such-flag: type any → FLAG_NOT_FOUND", "no-such-flag", ERR("fallback", "FLAG_NOT_FOUND"), {},
             type="any", default="fallback"),
        case("Static-Bool: flag keys are case-sensitive → FLAG_NOT_FOUND", "Static-Bool",
             ERR(False, "FLAG_NOT_FOUND"), {}),
        case("broken: invalid flag → PARSE_ERROR", "broken", ERR(True, "PARSE_ERROR"), {"targetingKey": "u-1"}, default=True),
        case("broken: PARSE_ERROR comes before the type check (string getter)", "broken",
             ERR("dflt", "PARSE_ERROR"), {}, type="string", default="dflt"),
        case("broken: type any → PARSE_ERROR", "broken", ERR(None, "PARSE_ERROR"), {}, type="any", default=None),
    ]
    # typed getters vs flag types
    defaults = {"boolean": True, "string": "dflt", "number": 7, "object": {"d": 1}}
    values = {"boolean": (True, "on"), "string": ("beta", "b"), "number": (1000.5, "big"), "object": (obj, "v1")}
    for ftype in ("boolean", "string", "number", "object"):
        fkey = "static-bool" if ftype == "boolean" else "static-" + ftype
        for getter in ("boolean", "string", "number", "object"):
            if getter == ftype:
                v, var = values[ftype]
                cs.append(case("%s flag, %s getter → served" % (ftype, getter), fkey, E(v, var, "STATIC"), {},
                               type=getter, default=defaults[getter]))
            else:
                cs.append(case("%s flag, %s getter → TYPE_MISMATCH" % (ftype, getter), fkey,
                               ERR(defaults[getter], "TYPE_MISMATCH"), {}, type=getter, default=defaults[getter]))
        v, var = values[ftype]
        cs.append(case("%s flag, type any → served without a type check" % ftype, fkey, E(v, var, "STATIC"), {},
                       type="any", default="fallback"))
    # bucketBy attribute: missing / wrong types / integral numbers
    bad = [({"targetingKey": "u-1"}, "orgId missing (targetingKey present does not help)"),
           ({"targetingKey": "u-1", "orgId": None}, "orgId null"),
           ({"orgId": True}, "orgId boolean"), ({"orgId": 1.5}, "orgId non-integral number"),
           ({"orgId": {"id": 1}}, "orgId object"), ({"orgId": ["o-1"]}, "orgId array"),
           ({"orgId": 9007199254740994}, "orgId integral but |n| > 2^53")]
    for ctx, why in bad:
        cs.append(case("bucket-org: %s → INVALID_CONTEXT" % why, "bucket-org", ERR(True, "INVALID_CONTEXT"), ctx,
                       default=True))

    def org_case(unit_json, unit_str, why=""):
        b = bucket_of("bucket-org", unit_str)
        ok = b < 50000
        return case("bucket-org: orgId %s is bucketed as \"%s\": bucket %d %s 50000 → %s%s"
                    % (unit_json, unit_str, b, "<" if ok else "≥", "on" if ok else "off", why),
                    "bucket-org", E(ok, "on" if ok else "off", "SPLIT"), {"orgId": __import__("json").loads(unit_json)})
    cs += [org_case("42", "42"), org_case("\"42\"", "42", " (same as the number)"),
           org_case("42.0", "42", " (an integral number written with a fraction)"),
           org_case("-7", "-7"), org_case("7", "7"), org_case("9007199254740992", "9007199254740992", " (2^53)"),
           org_case("-9007199254740992", "-9007199254740992"), org_case("0", "0"),
           org_case("\"o-1\"", "o-1")]
    # rule needing a unit only when it matches
    u = "o-1"
    b = bucket_of("rule-rollout", u)
    cs += [
        case("rule-rollout: the rule does not match, so no unit is needed → DEFAULT", "rule-rollout",
             E(True, "on", "DEFAULT"), {"country": "AT"}),
        case("rule-rollout: the rule matches and orgId is missing → INVALID_CONTEXT", "rule-rollout",
             ERR(False, "INVALID_CONTEXT"), {"country": "DE", "targetingKey": "u-1"}),
        case("rule-rollout: orgId o-1 bucket %d %s 50000 → %s, SPLIT with ruleId" % (b, "<" if b < 50000 else "≥",
                                                                                  "off" if b < 50000 else "on"),
             "rule-rollout", E(b >= 50000, "off" if b < 50000 else "on", "SPLIT", ruleId="de"),
             {"country": "DE", "orgId": u}),
    ]
    return write("reasons-and-errors.json",
                 "Reasons STATIC vs DEFAULT vs SPLIT, and every error path: FLAG_NOT_FOUND, "
                 "PARSE_ERROR (before the type check), TYPE_MISMATCH for each typed getter vs each "
                 "flag type, type any, TARGETING_KEY_MISSING, INVALID_CONTEXT for bucketBy attributes "
                 "that are missing, null, boolean, non-integral, objects, arrays or beyond 2^53; "
                 "integral numbers are bucketed as their decimal string.",
                 snapshot(202, flags), cs, load={"warnings": ["unknown_field"]})


# ---------------------------------------------------------------------------------------
def targets_overrides():
    EXP = ms("2026-12-31T00:00:00Z")
    X = ms("2026-11-22T12:00:00.500+02:00")
    assert X == ms("2026-11-22T10:00:00.500Z")
    plan = strflag(["basic", "pro", "enterprise", "beta", "staff"], "basic",
                   overrides=[{"tenant": "acme", "variant": "enterprise", "expiresAt": "2026-12-31T00:00:00Z",
                               "note": "contract 1182"},
                              {"tenant": "acme", "variant": "pro"},
                              {"tenant": "globex", "variant": "pro", "expiresAt": "2026-11-01T00:00:00Z"}],
                   targets=[{"variant": "staff", "users": ["u-1", "u-2"]},
                            {"variant": "beta", "groups": ["qa", "testers"], "tenants": ["initech"]},
                            {"variant": "pro", "users": ["u-7"]}],
                   rules=[{"id": "eu", "when": {"attribute": "country", "op": "in", "values": ["DE", "AT"]},
                           "serve": {"variant": "pro"}}])
    flags = {
        "plan": plan,
        "expiry-offset": boolflag(fallthrough={"variant": "off"},
                                  overrides=[{"tenant": "acme", "variant": "on",
                                              "expiresAt": "2026-11-22T12:00:00.500+02:00"}]),
        "expiry-subms": boolflag(fallthrough={"variant": "off"},
                                 overrides=[{"tenant": "acme", "variant": "on",
                                             "expiresAt": "2026-11-22T00:00:00.0019Z"}]),
        "groups-only": boolflag(fallthrough={"variant": "off"}, targets=[{"variant": "on", "groups": ["beta"]}]),
        "tenants-only": boolflag(fallthrough={"variant": "off"},
                                 targets=[{"variant": "on", "tenants": ["acme", "initech"]}]),
        "empty-target": boolflag(fallthrough={"variant": "off"}, targets=[{"variant": "on", "users": []}]),
    }

    def P(name, ctx, variant, reason, now=None, ruleId=None):
        return case("plan: " + name, "plan", E(variant, variant, reason, ruleId=ruleId), ctx,
                    type="string", default="dflt", now=now)
    cs = [
        P("tenant acme, override unexpired → enterprise", {"targetingKey": "u-9", "tenant": "acme"}, "enterprise", "OVERRIDE"),
        P("tenant acme 1 ms before expiresAt (%d) → enterprise" % EXP, {"tenant": "acme"}, "enterprise", "OVERRIDE", now=EXP - 1),
        P("tenant acme exactly at expiresAt → first override no longer applies; the second (no expiry) → pro",
          {"tenant": "acme"}, "pro", "OVERRIDE", now=EXP),
        P("tenant acme a day after expiry → pro (second override)", {"tenant": "acme"}, "pro", "OVERRIDE", now=EXP + DAY),
        P("tenant globex: its override expired → falls through to the target for u-1",
          {"targetingKey": "u-1", "tenant": "globex"}, "staff", "TARGETING_MATCH"),
        P("tenant globex alone: expired override, nothing else → DEFAULT", {"tenant": "globex"}, "basic", "DEFAULT"),
        P("tenant acme + targeted user u-1 → the override beats the target", {"targetingKey": "u-1", "tenant": "acme"},
          "enterprise", "OVERRIDE"),
        P("tenant acme + country DE → the override beats the rule", {"tenant": "acme", "country": "DE"},
          "enterprise", "OVERRIDE"),
        P("user u-1 → staff", {"targetingKey": "u-1"}, "staff", "TARGETING_MATCH"),
        P("user u-2 → staff", {"targetingKey": "u-2"}, "staff", "TARGETING_MATCH"),
        P("user U-1 → users are case-sensitive → DEFAULT", {"targetingKey": "U-1"}, "basic", "DEFAULT"),
        P("groups \"qa\" (a string) → beta", {"targetingKey": "u-3", "groups": "qa"}, "beta", "TARGETING_MATCH"),
        P("groups [\"x\", \"testers\"] (an array sharing an element) → beta",
          {"targetingKey": "u-3", "groups": ["x", "testers"]}, "beta", "TARGETING_MATCH"),
        P("groups [] → no target → DEFAULT", {"targetingKey": "u-3", "groups": []}, "basic", "DEFAULT"),
        P("groups \"QA\" → case-sensitive → DEFAULT", {"targetingKey": "u-3", "groups": "QA"}, "basic", "DEFAULT"),
        P("groups \"qa,testers\" is one group name → DEFAULT", {"targetingKey": "u-3", "groups": "qa,testers"},
          "basic", "DEFAULT"),
        P("tenant initech → tenant target → beta", {"targetingKey": "u-3", "tenant": "initech"}, "beta", "TARGETING_MATCH"),
        P("tenant Initech → case-sensitive → DEFAULT", {"targetingKey": "u-3", "tenant": "Initech"}, "basic", "DEFAULT"),
        P("u-1 in groups qa → the first matching target (users) wins → staff",
          {"targetingKey": "u-1", "groups": ["qa"]}, "staff", "TARGETING_MATCH"),
        P("u-7 in groups qa → target 2 (groups) comes before target 3 (users) → beta",
          {"targetingKey": "u-7", "groups": "qa"}, "beta", "TARGETING_MATCH"),
        P("u-7 alone → third target → pro", {"targetingKey": "u-7"}, "pro", "TARGETING_MATCH"),
        P("u-3 in DE → rule eu → pro", {"targetingKey": "u-3", "country": "DE"}, "pro", "TARGETING_MATCH", ruleId="eu"),
        P("u-1 in DE → the target beats the rule → staff, no ruleId", {"targetingKey": "u-1", "country": "DE"},
          "staff", "TARGETING_MATCH"),
        P("tenant initech in AT → the tenant target beats the rule", {"tenant": "initech", "country": "AT"},
          "beta", "TARGETING_MATCH"),
        P("no targetingKey, tenant acme → overrides need no targeting key", {"tenant": "acme"}, "enterprise", "OVERRIDE"),
        P("no targetingKey, groups qa → beta", {"groups": "qa"}, "beta", "TARGETING_MATCH"),
        P("targetingKey \"acme\" is not the tenant attribute → DEFAULT", {"targetingKey": "acme"}, "basic", "DEFAULT"),
        P("tenant globex, groups qa → beta", {"tenant": "globex", "groups": "qa"}, "beta", "TARGETING_MATCH"),
        P("tenant in the users list is not a user: targetingKey u-9, tenant u-1 → DEFAULT",
          {"targetingKey": "u-9", "tenant": "u-1"}, "basic", "DEFAULT"),
        case("expiry-offset: 1 ms before expiresAt 2026-11-22T12:00:00.500+02:00 (= %d) → OVERRIDE" % X,
             "expiry-offset", E(True, "on", "OVERRIDE"), {"tenant": "acme"}, now=X - 1),
        case("expiry-offset: exactly at expiresAt → no longer applies → DEFAULT", "expiry-offset",
             E(False, "off", "DEFAULT"), {"tenant": "acme"}, now=X),
        case("expiry-offset: 1 ms after expiresAt → DEFAULT", "expiry-offset", E(False, "off", "DEFAULT"),
             {"tenant": "acme"}, now=X + 1),
        case("expiry-offset: at file now (before expiry) → OVERRIDE", "expiry-offset", E(True, "on", "OVERRIDE"),
             {"tenant": "acme"}),
        case("expiry-subms: expiresAt ….0019Z truncates to %d; 1 ms before → OVERRIDE" % (NOW + 1), "expiry-subms",
             E(True, "on", "OVERRIDE"), {"tenant": "acme"}, now=NOW),
        case("expiry-subms: exactly at the truncated expiresAt → DEFAULT", "expiry-subms",
             E(False, "off", "DEFAULT"), {"tenant": "acme"}, now=NOW + 1),
        case("groups-only: groups \"beta\" → on", "groups-only", E(True, "on", "TARGETING_MATCH"), {"groups": "beta"}),
        case("groups-only: groups [\"alpha\", \"beta\"] → on", "groups-only", E(True, "on", "TARGETING_MATCH"),
             {"groups": ["alpha", "beta"]}),
        case("groups-only: groups [\"alpha\"] → DEFAULT", "groups-only", E(False, "off", "DEFAULT"), {"groups": ["alpha"]}),
        case("groups-only: no groups → DEFAULT", "groups-only", E(False, "off", "DEFAULT"), {"targetingKey": "beta"}),
        case("tenants-only: tenant initech → on", "tenants-only", E(True, "on", "TARGETING_MATCH"), {"tenant": "initech"}),
        case("tenants-only: tenant umbrella → DEFAULT", "tenants-only", E(False, "off", "DEFAULT"), {"tenant": "umbrella"}),
        case("empty-target: an empty users list matches nobody", "empty-target", E(False, "off", "DEFAULT"),
             {"targetingKey": "u-1"}),
    ]
    return write("targets-overrides.json",
                 "Tenant overrides (§3.1: first applying wins, now < expiresAt, exactly at expiresAt "
                 "no longer applies) and individual targets (§3.2: users, groups as string or array, "
                 "tenants, order); override beats target beats rule.", snapshot(203, flags), cs)


# ---------------------------------------------------------------------------------------
def windows():
    Fm, U = ms("2026-11-22T08:00:00Z"), ms("2026-11-23T08:00:00Z")
    assert ms("2026-11-22T09:00:00+01:00") == Fm and ms("2026-11-23T03:00:00-05:00") == U
    W = {"from": "2026-11-22T08:00:00Z", "until": "2026-11-23T08:00:00Z"}
    flags = {
        "win": boolflag(window=W),
        "win-from": boolflag(window={"from": W["from"]}),
        "win-until": boolflag(window={"until": W["until"]}),
        "win-offset": boolflag(window={"from": "2026-11-22T09:00:00+01:00", "until": "2026-11-23T03:00:00-05:00"}),
        "win-ms": boolflag(window={"from": "2026-11-22T08:00:00.2509Z", "until": "2026-11-22T08:00:01.0009Z"}),
        "win-kill": boolflag(state="kill", window=W),
        "win-off": boolflag(state="off", window=W),
        "win-targets": boolflag(window={"from": W["from"]}, fallthrough={"variant": "off"},
                                targets=[{"variant": "on", "users": ["u-1"]}]),
        "win-override": boolflag(window={"from": W["from"]}, fallthrough={"variant": "off"},
                                 overrides=[{"tenant": "acme", "variant": "on"}]),
        "win-shadow": strflag(["old", "new"], "old", state="shadow", fallthrough={"variant": "new"},
                              window={"from": W["from"]}),
        "win-rollout": boolflag(window={"until": W["until"]},
                                fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}),
        "never-on": boolflag(state="off"),
        "win-prereq": boolflag(window={"from": W["from"]}, prerequisites=[{"flag": "never-on", "variants": ["on"]}]),
        "needs-win": boolflag(prerequisites=[{"flag": "win", "variants": ["on"]}]),
        "win-string": strflag(["old", "new"], "old", fallthrough={"variant": "new"}, window=W),
        "win-canary": boolflag(state="canary", canary={"percentage": 100}, window={"from": W["from"]}),
    }
    IN, OUT = E(True, "on", "DEFAULT"), E(False, "off", "OUT_OF_WINDOW")
    ctx = {"targetingKey": "u-1"}

    def C(name, flag, exp, now, c=None, **kw):
        return case("%s: %s" % (flag, name), flag, exp, ctx if c is None else c, now=now, **kw)
    cs = [
        C("1 ms before from → OUT_OF_WINDOW", "win", OUT, Fm - 1),
        C("exactly at from → active", "win", IN, Fm),
        C("1 ms before until → active", "win", IN, U - 1),
        C("exactly at until → OUT_OF_WINDOW", "win", OUT, U),
        C("a day after until → OUT_OF_WINDOW", "win", OUT, U + DAY),
        C("long before from → OUT_OF_WINDOW", "win", OUT, ms("2000-01-01T00:00:00Z")),
        C("type any outside the window", "win", OUT, U, type="any", default=None),
        C("1 ms before from → OUT_OF_WINDOW", "win-from", OUT, Fm - 1),
        C("exactly at from → active", "win-from", IN, Fm),
        C("years later (no until) → active", "win-from", IN, ms("2099-01-01T00:00:00Z")),
        C("long before until (no from) → active", "win-until", IN, ms("2000-01-01T00:00:00Z")),
        C("1 ms before until → active", "win-until", IN, U - 1),
        C("exactly at until → OUT_OF_WINDOW", "win-until", OUT, U),
        C("offsets: 1 ms before from (09:00+01:00 = 08:00Z) → OUT_OF_WINDOW", "win-offset", OUT, Fm - 1),
        C("offsets: exactly at from → active", "win-offset", IN, Fm),
        C("offsets: 1 ms before until (03:00-05:00 = 08:00Z) → active", "win-offset", IN, U - 1),
        C("offsets: exactly at until → OUT_OF_WINDOW", "win-offset", OUT, U),
        C("from ….2509Z truncates to .250: at .249 → OUT_OF_WINDOW", "win-ms", OUT, Fm + 249),
        C("at .250 → active", "win-ms", IN, Fm + 250),
        C("until 08:00:01.0009Z truncates to .000: at 08:00:00.999 → active", "win-ms", IN, Fm + 999),
        C("at 08:00:01.000 → OUT_OF_WINDOW", "win-ms", OUT, Fm + 1000),
        C("kill beats the window, inside", "win-kill", E(False, "off", "KILLED"), Fm),
        C("kill beats the window, outside", "win-kill", E(False, "off", "KILLED"), Fm - 1),
        C("off beats the window, outside", "win-off", E(False, "off", "DISABLED"), U),
        C("off inside the window → DISABLED", "win-off", E(False, "off", "DISABLED"), Fm),
        C("targeted user before from → OUT_OF_WINDOW", "win-targets", OUT, Fm - 1),
        C("targeted user at from → TARGETING_MATCH", "win-targets", E(True, "on", "TARGETING_MATCH"), Fm),
        C("tenant override before from → OUT_OF_WINDOW", "win-override", OUT, Fm - 1, c={"tenant": "acme"}),
        C("tenant override at from → OVERRIDE", "win-override", E(True, "on", "OVERRIDE"), Fm, c={"tenant": "acme"}),
        C("shadow before from → OUT_OF_WINDOW, no shadowVariant", "win-shadow", E("old", "old", "OUT_OF_WINDOW"),
          Fm - 1, type="string", default="dflt"),
        C("shadow at from → SHADOW", "win-shadow", E("old", "old", "SHADOW", shadowVariant="new"), Fm,
          type="string", default="dflt"),
        C("no targetingKey at until → OUT_OF_WINDOW: no unit needed", "win-rollout", OUT, U, c={}),
        C("no targetingKey 1 ms before until → TARGETING_KEY_MISSING", "win-rollout",
          ERR(False, "TARGETING_KEY_MISSING"), U - 1, c={}),
        C("before from → OUT_OF_WINDOW (the window comes before prerequisites)", "win-prereq", OUT, Fm - 1),
        C("at from → PREREQUISITE_FAILED", "win-prereq", E(False, "off", "PREREQUISITE_FAILED"), Fm),
        C("the prerequisite is evaluated at the same now: win is outside its window → PREREQUISITE_FAILED",
          "needs-win", E(False, "off", "PREREQUISITE_FAILED"), Fm - 1),
        C("the prerequisite is inside its window → DEFAULT", "needs-win", IN, Fm),
        C("a string flag outside the window serves its offVariant value", "win-string",
          E("old", "old", "OUT_OF_WINDOW"), U, type="string", default="dflt"),
        C("inside the window", "win-string", E("new", "new", "DEFAULT"), U - 1, type="string", default="dflt"),
        C("the type check comes before the window → TYPE_MISMATCH", "win-string",
          ERR(0, "TYPE_MISMATCH"), U, type="number", default=0),
        C("canary before from → OUT_OF_WINDOW, no unit needed", "win-canary", OUT, Fm - 1, c={}),
        C("canary at from → passes the 100 % gate → DEFAULT", "win-canary", IN, Fm),
    ]
    return write("windows.json",
                 "Activation windows (§2, §4 step 6): active for from ≤ now < until; inactive 1 ms "
                 "before from and exactly at until; offsets and sub-ms truncation; kill/off beat "
                 "the window; the window beats shadow, prerequisites, overrides, targets and the "
                 "canary gate.", snapshot(204, flags), cs, now=Fm)


# ---------------------------------------------------------------------------------------
def prerequisites():
    de = {"attribute": "country", "op": "equals", "value": "DE"}
    flags = {
        "base-on": boolflag(),
        "base-off": boolflag(state="off"),
        "base-kill": boolflag(state="kill"),
        "base-shadow": boolflag(state="shadow"),
        "base-targeted": boolflag(fallthrough={"variant": "off"}, targets=[{"variant": "on", "users": ["u-1"]}]),
        "base-string": strflag(["v1", "v2"], "v1", rules=[{"id": "de", "when": de, "serve": {"variant": "v2"}}]),
        "base-rollout": boolflag(fallthrough={"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}),
        "dep-on": boolflag(prerequisites=[{"flag": "base-on", "variants": ["on"]}]),
        "dep-off": boolflag(prerequisites=[{"flag": "base-off", "variants": ["on"]}]),
        "dep-off-allows-off": boolflag(prerequisites=[{"flag": "base-off", "variants": ["off"]}]),
        "dep-kill": boolflag(prerequisites=[{"flag": "base-kill", "variants": ["on"]}]),
        "dep-kill-allows-off": boolflag(prerequisites=[{"flag": "base-kill", "variants": ["off"]}]),
        "dep-shadow": boolflag(prerequisites=[{"flag": "base-shadow", "variants": ["on"]}]),
        "dep-shadow-allows-off": boolflag(prerequisites=[{"flag": "base-shadow", "variants": ["off"]}]),
        "dep-targeted": boolflag(prerequisites=[{"flag": "base-targeted", "variants": ["on"]}]),
        "dep-string": boolflag(prerequisites=[{"flag": "base-string", "variants": ["v2"]}]),
        "dep-string-any": boolflag(prerequisites=[{"flag": "base-string", "variants": ["v1", "v2"]}]),
        "dep-two": boolflag(prerequisites=[{"flag": "base-on", "variants": ["on"]},
                                           {"flag": "base-targeted", "variants": ["on"]}]),
        "dep-rollout": boolflag(prerequisites=[{"flag": "base-rollout", "variants": ["on"]}]),
        "dep-rollout-allows-off": boolflag(prerequisites=[{"flag": "base-rollout", "variants": ["off"]}]),
        "chain-c": boolflag(fallthrough={"variant": "off"}, targets=[{"variant": "on", "users": ["u-1"]}]),
        "chain-b": boolflag(prerequisites=[{"flag": "chain-c", "variants": ["on"]}]),
        "chain-a": boolflag(prerequisites=[{"flag": "chain-b", "variants": ["on"]}]),
        "dep-bypass": boolflag(fallthrough={"variant": "off"}, prerequisites=[{"flag": "base-off", "variants": ["on"]}],
                               overrides=[{"tenant": "acme", "variant": "on"}],
                               targets=[{"variant": "on", "users": ["u-1"]}],
                               rules=[{"id": "de", "when": de, "serve": {"variant": "on"}}]),
        "dep-state-off": boolflag(state="off", prerequisites=[{"flag": "base-off", "variants": ["on"]}]),
        "dep-state-kill": boolflag(state="kill", prerequisites=[{"flag": "base-off", "variants": ["on"]}]),
        "dep-string-flag": strflag(["a", "b"], "a", fallthrough={"variant": "b"},
                                   prerequisites=[{"flag": "base-on", "variants": ["on"]}]),
        "dep-rules": boolflag(fallthrough={"variant": "off"},
                              prerequisites=[{"flag": "base-string", "variants": ["v2"]}],
                              rules=[{"id": "pro", "when": {"attribute": "plan", "op": "equals", "value": "pro"},
                                      "serve": {"variant": "on"}}]),
        "dep-canary": boolflag(state="canary", canary={"percentage": 100},
                               prerequisites=[{"flag": "base-targeted", "variants": ["on"]}]),
    }
    OK = E(True, "on", "DEFAULT")
    FAIL = E(False, "off", "PREREQUISITE_FAILED")
    u9 = {"targetingKey": "u-9"}
    ri, bi = pick_in("base-rollout", 50000)
    ro, bo = pick_out("base-rollout", 50000)
    cs = [
        case("dep-on: prerequisite base-on serves on → satisfied → DEFAULT", "dep-on", OK, u9),
        case("dep-off: prerequisite is off (serves off) → PREREQUISITE_FAILED", "dep-off", FAIL, u9),
        case("dep-off-allows-off: prerequisite is off and off is allowed → satisfied", "dep-off-allows-off", OK, u9),
        case("dep-kill: prerequisite killed → PREREQUISITE_FAILED", "dep-kill", FAIL, u9),
        case("dep-kill-allows-off: a killed prerequisite serves off, which is allowed → satisfied",
             "dep-kill-allows-off", OK, u9),
        case("dep-shadow: a shadow prerequisite serves its offVariant → PREREQUISITE_FAILED", "dep-shadow", FAIL, u9),
        case("dep-shadow-allows-off: a shadow prerequisite serves off, allowed → satisfied",
             "dep-shadow-allows-off", OK, u9),
        case("dep-targeted: u-1 is targeted in the prerequisite → satisfied", "dep-targeted", OK, {"targetingKey": "u-1"}),
        case("dep-targeted: u-2 is not → PREREQUISITE_FAILED", "dep-targeted", FAIL, {"targetingKey": "u-2"}),
        case("dep-string: the prerequisite's rule serves v2 for DE → satisfied", "dep-string", OK, {"country": "DE"}),
        case("dep-string: AT gets v1 → PREREQUISITE_FAILED", "dep-string", FAIL, {"country": "AT"}),
        case("dep-string-any: v1 or v2 allowed → satisfied for AT", "dep-string-any", OK, {"country": "AT"}),
        case("dep-string-any: satisfied for DE", "dep-string-any", OK, {"country": "DE"}),
        case("dep-two: both prerequisites satisfied for u-1", "dep-two", OK, {"targetingKey": "u-1"}),
        case("dep-two: the second fails for u-2 → PREREQUISITE_FAILED", "dep-two", FAIL, {"targetingKey": "u-2"}),
        case("dep-rollout: the prerequisite errors (no targetingKey) → PREREQUISITE_FAILED, not an error",
             "dep-rollout", FAIL, {}),
        case("dep-rollout-allows-off: an erroring prerequisite is never satisfied, even when off is allowed",
             "dep-rollout-allows-off", FAIL, {}),
        case("dep-rollout: %s has bucket %d < 50000 in base-rollout → on → satisfied" % (ri, bi), "dep-rollout", OK,
             {"targetingKey": ri}),
        case("dep-rollout: %s has bucket %d ≥ 50000 → off → PREREQUISITE_FAILED" % (ro, bo), "dep-rollout", FAIL,
             {"targetingKey": ro}),
        case("dep-rollout-allows-off: %s bucket %d ≥ 50000 → off → satisfied" % (ro, bo), "dep-rollout-allows-off", OK,
             {"targetingKey": ro}),
        case("chain-a: u-1 satisfies c, so b, so a", "chain-a", OK, {"targetingKey": "u-1"}),
        case("chain-a: u-2 fails c, so b fails, so a fails", "chain-a", FAIL, {"targetingKey": "u-2"}),
        case("chain-b: u-2 → PREREQUISITE_FAILED", "chain-b", FAIL, {"targetingKey": "u-2"}),
        case("chain-c: u-2 → DEFAULT off", "chain-c", E(False, "off", "DEFAULT"), {"targetingKey": "u-2"}),
        case("dep-bypass: a tenant override does not bypass a failing prerequisite", "dep-bypass", FAIL,
             {"targetingKey": "u-9", "tenant": "acme"}),
        case("dep-bypass: an individual target does not bypass a failing prerequisite", "dep-bypass", FAIL,
             {"targetingKey": "u-1"}),
        case("dep-bypass: a matching rule does not bypass a failing prerequisite", "dep-bypass", FAIL,
             {"targetingKey": "u-9", "country": "DE"}),
        case("dep-state-off: off beats a failing prerequisite → DISABLED", "dep-state-off", E(False, "off", "DISABLED"), u9),
        case("dep-state-kill: kill beats a failing prerequisite → KILLED", "dep-state-kill", E(False, "off", "KILLED"), u9),
        case("dep-string-flag: a string flag with a boolean prerequisite → DEFAULT b", "dep-string-flag",
             E("b", "b", "DEFAULT"), u9, type="string", default="dflt"),
        case("dep-string-flag: boolean getter on a string flag → TYPE_MISMATCH (step 3, before prerequisites)", "dep-string-flag",
             ERR(False, "TYPE_MISMATCH"), u9),
        case("dep-rules: prerequisite satisfied (DE), rule matches (pro) → TARGETING_MATCH", "dep-rules",
             E(True, "on", "TARGETING_MATCH", ruleId="pro"), {"country": "DE", "plan": "pro"}),
        case("dep-rules: prerequisite fails (AT) although the rule would match", "dep-rules", FAIL,
             {"country": "AT", "plan": "pro"}),
        case("dep-canary: prerequisites come before the canary gate: u-2 → PREREQUISITE_FAILED", "dep-canary", FAIL,
             {"targetingKey": "u-2"}),
        case("dep-canary: u-1 satisfies it and passes the 100 % gate → DEFAULT", "dep-canary", OK, {"targetingKey": "u-1"}),
    ]
    return write("prerequisites.json",
                 "Prerequisites (§3.4, §4 step 8): evaluated fully for the same context and time; "
                 "satisfied when the served variant is allowed (killed/off/shadow prerequisites serve "
                 "their offVariant); an erroring prerequisite is never satisfied; chains; a failing "
                 "prerequisite is not bypassed by overrides, targets or rules.", snapshot(205, flags), cs)


def prerequisites_invalid():
    flags = {
        "ok": boolflag(),
        "missing-dep": boolflag(prerequisites=[{"flag": "ghost", "variants": ["on"]}],
                                targets=[{"variant": "on", "users": ["u-1"]}]),
        "missing-dep-shadow": boolflag(state="shadow", prerequisites=[{"flag": "ghost", "variants": ["off"]}]),
        "cyc-a": boolflag(prerequisites=[{"flag": "cyc-b", "variants": ["on"]}]),
        "cyc-b": boolflag(prerequisites=[{"flag": "cyc-a", "variants": ["on"]}]),
        "cyc-self": boolflag(prerequisites=[{"flag": "cyc-self", "variants": ["on"]}]),
        "cyc-x": boolflag(prerequisites=[{"flag": "cyc-y", "variants": ["on"]}]),
        "cyc-y": boolflag(prerequisites=[{"flag": "cyc-z", "variants": ["on"]}]),
        "cyc-z": boolflag(prerequisites=[{"flag": "cyc-x", "variants": ["on", "off"]}]),
        "needs-cyc": boolflag(prerequisites=[{"flag": "cyc-a", "variants": ["on", "off"]}]),
        "bad": boolflag(colour="red"),
        "needs-bad": boolflag(prerequisites=[{"flag": "bad", "variants": ["on", "off"]}]),
        "needs-ok": boolflag(prerequisites=[{"flag": "ok", "variants": ["on"]}]),
    }
    FAIL = E(False, "off", "PREREQUISITE_FAILED")
    PE = ERR(True, "PARSE_ERROR")
    cs = [
        case("ok: a valid flag next to invalid ones → STATIC", "ok", E(True, "on", "STATIC")),
        case("needs-ok: a valid chain → DEFAULT", "needs-ok", E(True, "on", "DEFAULT")),
        case("missing-dep: unknown prerequisite ghost is never satisfied", "missing-dep", FAIL, {"targetingKey": "u-9"}),
        case("missing-dep: not even for a targeted user", "missing-dep", FAIL, {"targetingKey": "u-1"}),
        case("missing-dep-shadow: the on path fails its unknown prerequisite → shadowVariant off",
             "missing-dep-shadow", E(False, "off", "SHADOW", shadowVariant="off")),
        case("cyc-a: on a two-flag cycle → PARSE_ERROR", "cyc-a", PE, default=True),
        case("cyc-b: on a two-flag cycle → PARSE_ERROR", "cyc-b", PE, default=True),
        case("cyc-self: a flag that needs itself → PARSE_ERROR", "cyc-self", PE, default=True),
        case("cyc-x: on a three-flag cycle → PARSE_ERROR", "cyc-x", PE, default=True),
        case("cyc-y: on a three-flag cycle → PARSE_ERROR", "cyc-y", PE, default=True),
        case("cyc-z: on a three-flag cycle → PARSE_ERROR", "cyc-z", PE, default=True),
        case("cyc-a: PARSE_ERROR with type any", "cyc-a", ERR("x", "PARSE_ERROR"), type="any", default="x"),
        case("needs-cyc: not on the cycle, so valid; its prerequisite errors → PREREQUISITE_FAILED", "needs-cyc", FAIL),
        case("bad: invalid flag → PARSE_ERROR", "bad", PE, default=True),
        case("needs-bad: an invalid prerequisite errors → PREREQUISITE_FAILED", "needs-bad", FAIL),
    ]
    return write("prerequisites-invalid.json",
                 "Prerequisite load problems: an unknown prerequisite loads with the warning "
                 "unknown_prerequisite and is never satisfied; every flag on a cycle is invalid "
                 "(prerequisite_cycle → PARSE_ERROR); flags that depend on invalid flags stay valid "
                 "and fail their prerequisite.", snapshot(206, flags), cs,
                 load={"warnings": ["unknown_field"] + ["prerequisite_cycle"] * 6 + ["unknown_prerequisite"] * 2})


# ---------------------------------------------------------------------------------------
def segments():
    def ins(s):
        return {"inSegment": s}
    segs = {
        "staff": {"when": {"attribute": "email", "op": "endsWith", "value": "@pennon.dev"}},
        "beta": {"included": ["u-1", "u-2"], "excluded": ["u-2", "u-9"],
                 "when": {"attribute": "country", "op": "in", "values": ["DE"]}, "description": "beta testers"},
        "beta-pro": {"when": {"all": [ins("beta"), {"attribute": "plan", "op": "equals", "value": "pro"}]}},
        "beta-pro-deep": {"when": {"not": {"not": ins("beta-pro")}}},
        "listed": {"included": ["u-5"]},
        "blocked": {"excluded": ["u-6"]},
        "empty": {},
        "org": {"when": {"attribute": "/org/id", "op": "exists"}},
    }

    def rf(cond):
        return boolflag(fallthrough={"variant": "off"}, rules=[{"id": "r", "when": cond, "serve": {"variant": "on"}}])
    flags = {
        "f-staff": rf(ins("staff")), "f-beta": rf(ins("beta")), "f-beta-pro": rf(ins("beta-pro")),
        "f-deep": rf(ins("beta-pro-deep")), "f-listed": rf(ins("listed")), "f-blocked": rf(ins("blocked")),
        "f-empty": rf(ins("empty")), "f-not-beta": rf({"not": ins("beta")}),
        "f-staff-or-beta": rf({"any": [ins("staff"), ins("beta")]}),
        "f-org": rf(ins("org")),
        "f-two-rules": boolflag(fallthrough={"variant": "off"},
                                rules=[{"id": "staff", "when": ins("staff"), "serve": {"variant": "off"}},
                                       {"id": "beta", "when": ins("beta"), "serve": {"variant": "on"}}]),
    }
    Y = E(True, "on", "TARGETING_MATCH", ruleId="r")
    N = E(False, "off", "DEFAULT")
    data = [
        ("f-staff", {"email": "ana@pennon.dev"}, Y, "when matches"),
        ("f-staff", {"email": "ana@example.com"}, N, "when does not match"),
        ("f-staff", {}, N, "email missing"),
        ("f-beta", {"targetingKey": "u-1", "country": "US"}, Y, "included although when does not match"),
        ("f-beta", {"targetingKey": "u-2", "country": "US"}, Y, "included and excluded: included wins"),
        ("f-beta", {"targetingKey": "u-9", "country": "DE"}, N, "excluded beats a matching when"),
        ("f-beta", {"targetingKey": "u-5", "country": "DE"}, Y, "not listed, when matches"),
        ("f-beta", {"targetingKey": "u-5", "country": "US"}, N, "not listed, when does not match"),
        ("f-beta", {"country": "DE"}, Y, "no targetingKey: lists skipped, when matches"),
        ("f-beta", {}, N, "no targetingKey, no country"),
        ("f-beta", {"targetingKey": "U-1", "country": "US"}, N, "lists are case-sensitive"),
        ("f-beta-pro", {"targetingKey": "u-1", "plan": "pro"}, Y, "nested segment and plan"),
        ("f-beta-pro", {"targetingKey": "u-1", "plan": "free"}, N, "nested segment, wrong plan"),
        ("f-beta-pro", {"targetingKey": "u-9", "country": "DE", "plan": "pro"}, N, "excluded from the nested segment"),
        ("f-deep", {"targetingKey": "u-1", "plan": "pro"}, Y, "two levels of nesting"),
        ("f-deep", {"targetingKey": "u-3", "country": "DE", "plan": "pro"}, Y, "two levels, via when"),
        ("f-deep", {"targetingKey": "u-3", "country": "AT", "plan": "pro"}, N, "two levels, no match"),
        ("f-listed", {"targetingKey": "u-5"}, Y, "included only"),
        ("f-listed", {"targetingKey": "u-6"}, N, "not included and no when"),
        ("f-listed", {}, N, "no targetingKey"),
        ("f-blocked", {"targetingKey": "u-6"}, N, "excluded"),
        ("f-blocked", {"targetingKey": "u-1"}, N, "not excluded, but no when: not in the segment"),
        ("f-empty", {"targetingKey": "u-1", "country": "DE"}, N, "an empty segment contains nobody"),
        ("f-not-beta", {"targetingKey": "u-1"}, N, "in beta"),
        ("f-not-beta", {"targetingKey": "u-9", "country": "DE"}, Y, "excluded from beta"),
        ("f-staff-or-beta", {"targetingKey": "u-9", "email": "x@pennon.dev"}, Y, "staff although excluded from beta"),
        ("f-staff-or-beta", {"targetingKey": "u-9"}, N, "neither"),
        ("f-org", {"org": {"id": 0}}, Y, "segment condition with a JSON pointer"),
        ("f-org", {"org": {}}, N, "pointer target missing"),
    ]
    cs = [case("%s: %s → %s (%s)" % (f, __import__("json").dumps(c, ensure_ascii=False), "match" if e is Y else "no match", why),
               f, e, c) for f, c, e, why in data]
    cs += [
        case("f-two-rules: staff matches the first rule → off, ruleId staff", "f-two-rules",
             E(False, "off", "TARGETING_MATCH", ruleId="staff"), {"targetingKey": "u-1", "email": "a@pennon.dev"}),
        case("f-two-rules: beta only → second rule", "f-two-rules", E(True, "on", "TARGETING_MATCH", ruleId="beta"),
             {"targetingKey": "u-1"}),
    ]
    return write("segments.json",
                 "Segments (§6.3): included beats excluded beats when; no when means only included "
                 "keys; nested inSegment; segments in any/not.", snapshot(207, flags, segs), cs)


def segments_invalid():
    segs = {
        "bad-seg": {"when": {"attribute": "country", "op": "equals", "value": "DE"}, "colour": "red"},
        "cyc-a": {"when": {"inSegment": "cyc-b"}},
        "cyc-b": {"included": ["u-1"], "when": {"inSegment": "cyc-a"}},
        "cyc-self": {"when": {"any": [{"attribute": "country", "op": "equals", "value": "DE"}, {"inSegment": "cyc-self"}]}},
        "ok-seg": {"included": ["u-1"]},
        "regex-seg": {"when": {"attribute": "email", "op": "matches", "value": "("}},
        "unused-bad": {"included": ["u-1"], "extra": 1},
    }

    def rf(cond):
        return boolflag(fallthrough={"variant": "off"}, rules=[{"id": "r", "when": cond, "serve": {"variant": "on"}}])
    flags = {
        "f-bad-regex-seg": rf({"inSegment": "regex-seg"}),
        "f-bad-seg": rf({"inSegment": "bad-seg"}),
        "f-cyc": rf({"inSegment": "cyc-a"}),
        "f-ok": rf({"inSegment": "ok-seg"}),
        "f-plain": boolflag(),
        "f-self": rf({"inSegment": "cyc-self"}),
        "f-unknown-seg": rf({"inSegment": "nope"}),
        "f-unreached": boolflag(fallthrough={"variant": "off"},
                                rules=[{"id": "first", "when": {"all": []}, "serve": {"variant": "on"}},
                                       {"id": "second", "when": {"inSegment": "nope"}, "serve": {"variant": "on"}}]),
    }
    PE = ERR(True, "PARSE_ERROR")
    ctx = {"targetingKey": "u-1", "country": "DE", "email": "a@b.c"}
    cs = [
        case("f-ok: a valid segment next to invalid ones → included u-1", "f-ok",
             E(True, "on", "TARGETING_MATCH", ruleId="r"), ctx),
        case("f-ok: u-2 not included", "f-ok", E(False, "off", "DEFAULT"), {"targetingKey": "u-2"}),
        case("f-plain: a flag without segments is unaffected → STATIC", "f-plain", E(True, "on", "STATIC"), ctx),
        case("f-bad-seg: uses a segment with an unknown field → PARSE_ERROR", "f-bad-seg", PE, ctx, default=True),
        case("f-bad-regex-seg: uses a segment with a bad regex → PARSE_ERROR", "f-bad-regex-seg", PE, ctx, default=True),
        case("f-cyc: uses a segment on a cycle → PARSE_ERROR", "f-cyc", PE, ctx, default=True),
        case("f-cyc: PARSE_ERROR even for a key included in the cyclic segment", "f-cyc", PE, {"targetingKey": "u-1"},
             default=True),
        case("f-self: uses a self-referencing segment → PARSE_ERROR", "f-self", PE, ctx, default=True),
        case("f-unknown-seg: inSegment names a segment that does not exist → PARSE_ERROR", "f-unknown-seg", PE, ctx,
             default=True),
        case("f-unreached: an unknown segment in a later rule invalidates the flag even when an earlier rule matches",
             "f-unreached", PE, ctx, default=True),
        case("f-unknown-seg: PARSE_ERROR before TYPE_MISMATCH", "f-unknown-seg", ERR(0, "PARSE_ERROR"), ctx,
             type="number", default=0),
    ]
    return write("segments-invalid.json",
                 "Invalid segments (§6.3, §8): unknown segments, segment cycles (segment_cycle), "
                 "segments with unknown fields or bad operands; every flag using one is invalid "
                 "(PARSE_ERROR), other flags are unaffected; warnings list flags then segments, each "
                 "sorted by key.", snapshot(208, flags, segs), cs,
                 load={"warnings": ["invalid_segment", "invalid_segment", "invalid_segment", "invalid_segment",
                                    "unknown_segment", "unknown_segment",
                                    "unknown_field", "segment_cycle", "segment_cycle", "segment_cycle",
                                    "invalid_regex", "unknown_field"]})


def main():
    return {"states.json": states(), "reasons-and-errors.json": reasons(),
            "targets-overrides.json": targets_overrides(), "windows.json": windows(),
            "prerequisites.json": prerequisites(), "prerequisites-invalid.json": prerequisites_invalid(),
            "segments.json": segments(), "segments-invalid.json": segments_invalid()}


if __name__ == "__main__":
    for k, v in main().items():
        print(k, v)
