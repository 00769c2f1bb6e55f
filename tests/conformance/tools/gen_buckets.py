"""Generates the bucket-dependent files: rollouts, progressive, splits, canary, unicode and
../bucketing.json. Every bucket is computed with bucket.py (independent XXH3); every
expectation is the spec's rule applied by hand: in a rollout iff bucket < threshold
(percentage × 1000), split ranges consecutive in array order."""
import json

from gen_common import (DAY, H, MIN, NOW, E, ERR, ROOT, boolflag, bucket_of, bucket_table, case,
                        find_unit, iso, ms, snapshot, strflag, write, write_raw)
from bucket import hash_of

_TABLES = {}


def exact(salt, b):
    """A unit u-N whose bucket under salt is exactly b."""
    if salt not in _TABLES:
        _TABLES[salt] = bucket_table(salt)
    u = _TABLES[salt][b]
    assert bucket_of(salt, u) == b
    return u


def rng(salt, lo, hi, start=0):
    return find_unit(salt, lambda b: lo <= b < hi, start=start)


def ro(variant, otherwise, **kw):
    r = {"variant": variant, "otherwise": otherwise}
    r.update(kw)
    return {"rollout": r}


def rollout_case(flag, salt, thr, unit, ctx=None, on="on", off="off", values=(True, False), ruleId=None,
                 stage=None, now=None, why="", type="boolean", default=False, unit_label=None):
    b = bucket_of(salt, unit)
    inside = b < thr
    label = unit_label or json.dumps(unit, ensure_ascii=False)
    name = "%s: %s bucket %d %s %d → %s%s%s" % (
        flag, label, b, "<" if inside else "≥", thr, on if inside else off,
        "" if stage is None else " (stage %d)" % stage, (" — " + why) if why else "")
    return case(name, flag, E(values[0] if inside else values[1], on if inside else off, "SPLIT",
                              ruleId=ruleId, stage=stage),
                {"targetingKey": unit} if ctx is None else ctx, type=type, default=default, now=now)


# ---------------------------------------------------------------------------------------
def rollouts():
    flags = {
        "ro-0": boolflag(fallthrough=ro("on", "off", percentage=0)),
        "ro-100": boolflag(fallthrough=ro("on", "off", percentage=100)),
        "ro-25": boolflag(fallthrough=ro("on", "off", percentage=25)),
        "ro-12.5": boolflag(fallthrough=ro("on", "off", percentage=12.5)),
        "ro-33.333": boolflag(fallthrough=ro("on", "off", percentage=33.333)),
        "ro-0.001": boolflag(fallthrough=ro("on", "off", percentage=0.001)),
        "ro-99.999": boolflag(fallthrough=ro("on", "off", percentage=99.999)),
        "ro-default-salt": boolflag(fallthrough=ro("on", "off", percentage=50)),
        "ro-salt": boolflag(fallthrough=ro("on", "off", percentage=50, salt="checkout-exp")),
        "ro-salt-twin": boolflag(fallthrough=ro("on", "off", percentage=50, salt="checkout-exp")),
        "ro-bucketby": boolflag(fallthrough=ro("on", "off", percentage=50, bucketBy="orgId")),
        "ro-bucketby-key": boolflag(fallthrough=ro("on", "off", percentage=50, bucketBy="targetingKey")),
        "ro-pointer": boolflag(fallthrough=ro("on", "off", percentage=50, bucketBy="/account/id")),
        "ro-rule": boolflag(fallthrough={"variant": "off"},
                            rules=[{"id": "beta", "when": {"attribute": "plan", "op": "equals", "value": "pro"},
                                    "serve": ro("on", "off", percentage=30)}]),
        "ro-string": strflag(["old", "new"], "old", fallthrough=ro("new", "old", percentage=50)),
        "ro-inverted": boolflag(fallthrough=ro("off", "on", percentage=20)),
    }
    cs = []
    for f, thr in (("ro-0", 0), ("ro-100", 100000)):
        for b in (0, 50000, 99999):
            cs.append(rollout_case(f, f, thr, exact(f, b)))
    for f, thr in (("ro-25", 25000), ("ro-12.5", 12500), ("ro-33.333", 33333), ("ro-0.001", 1), ("ro-99.999", 99999)):
        for b in sorted({0, thr - 1, thr, min(thr + 1, 99999), 99999} - {-1}):
            if b < 0:
                continue
            cs.append(rollout_case(f, f, thr, exact(f, b), why="boundary" if b in (thr - 1, thr) else ""))
    for i in range(3):
        cs.append(rollout_case("ro-25", "ro-25", 25000, "user-%d" % i))
    # salt: a unit whose outcome differs between the default salt and "checkout-exp"
    n = 0
    while True:
        u = "user-%d" % n
        a, c = bucket_of("ro-default-salt", u) < 50000, bucket_of("checkout-exp", u) < 50000
        if a != c:
            break
        n += 1
    for uu in (u, "user-%d" % (n + 1000)):
        cs.append(rollout_case("ro-default-salt", "ro-default-salt", 50000, uu, why="default salt = flag key"))
        cs.append(rollout_case("ro-salt", "checkout-exp", 50000, uu, why="salt checkout-exp"))
        cs.append(rollout_case("ro-salt-twin", "checkout-exp", 50000, uu,
                               why="same salt as ro-salt, so the same bucket"))
    # bucketBy a custom attribute
    oi, _ = rng("ro-bucketby", 0, 50000)
    oo, _ = rng("ro-bucketby", 50000, 100000)
    cs += [rollout_case("ro-bucketby", "ro-bucketby", 50000, oi, ctx={"targetingKey": oo, "orgId": oi},
                        unit_label="orgId %s" % oi, why="the targetingKey is ignored"),
           rollout_case("ro-bucketby", "ro-bucketby", 50000, oo, ctx={"targetingKey": oi, "orgId": oo},
                        unit_label="orgId %s" % oo, why="the targetingKey is ignored"),
           case("ro-bucketby: orgId missing → INVALID_CONTEXT (even with a targetingKey)", "ro-bucketby",
                ERR(False, "INVALID_CONTEXT"), {"targetingKey": "u-1"})]
    # numbers as units
    for num in (7, 42, 1001):
        b = bucket_of("ro-bucketby", str(num))
        cs.append(rollout_case("ro-bucketby", "ro-bucketby", 50000, str(num), ctx={"orgId": num},
                               unit_label="orgId %d (number, bucketed as \"%d\")" % (num, num)))
    ki, _ = rng("ro-bucketby-key", 0, 50000)
    cs += [rollout_case("ro-bucketby-key", "ro-bucketby-key", 50000, ki, why="explicit bucketBy targetingKey"),
           case("ro-bucketby-key: explicit bucketBy targetingKey, missing → TARGETING_KEY_MISSING", "ro-bucketby-key",
                ERR(False, "TARGETING_KEY_MISSING"), {})]
    pi, _ = rng("ro-pointer", 0, 50000)
    po, _ = rng("ro-pointer", 50000, 100000)
    cs += [rollout_case("ro-pointer", "ro-pointer", 50000, pi, ctx={"account": {"id": pi}}, unit_label="/account/id " + pi),
           rollout_case("ro-pointer", "ro-pointer", 50000, po, ctx={"account": {"id": po}}, unit_label="/account/id " + po),
           case("ro-pointer: /account/id missing → INVALID_CONTEXT", "ro-pointer", ERR(False, "INVALID_CONTEXT"),
                {"targetingKey": "u-1", "account": {}}),
           case("ro-pointer: a top-level key \"account/id\" is not the pointer → INVALID_CONTEXT", "ro-pointer",
                ERR(False, "INVALID_CONTEXT"), {"account/id": "a-1"})]
    ri, _ = rng("ro-rule", 0, 30000)
    rO, _ = rng("ro-rule", 30000, 100000)
    cs += [rollout_case("ro-rule", "ro-rule", 30000, ri, ctx={"targetingKey": ri, "plan": "pro"}, ruleId="beta"),
           rollout_case("ro-rule", "ro-rule", 30000, rO, ctx={"targetingKey": rO, "plan": "pro"}, ruleId="beta"),
           case("ro-rule: the rule does not match → fallthrough DEFAULT", "ro-rule", E(False, "off", "DEFAULT"),
                {"targetingKey": ri, "plan": "free"}),
           case("ro-rule: the rule does not match and no targetingKey → no unit needed → DEFAULT", "ro-rule",
                E(False, "off", "DEFAULT"), {"plan": "free"}),
           case("ro-rule: the rule matches and no targetingKey → TARGETING_KEY_MISSING", "ro-rule",
                ERR(False, "TARGETING_KEY_MISSING"), {"plan": "pro"})]
    for i in range(4):
        cs.append(rollout_case("ro-string", "ro-string", 50000, "user-%d" % i, on="new", off="old",
                               values=("new", "old"), type="string", default="dflt"))
    for b in (0, 19999, 20000):
        cs.append(rollout_case("ro-inverted", "ro-inverted", 20000, exact("ro-inverted", b), on="off", off="on",
                               values=(False, True), why="variant is off, otherwise on"))
    cs.append(case("ro-25: no targetingKey → TARGETING_KEY_MISSING", "ro-25", ERR(True, "TARGETING_KEY_MISSING"),
                   {"country": "DE"}, default=True))
    return write("rollouts.json",
                 "Fixed-percentage rollouts (§5.1, §5.3): 0, 100 and partial percentages with up to 3 "
                 "decimals, exact bucket boundaries (in iff bucket < percentage × 1000), custom salt "
                 "(flags sharing a salt share buckets), bucketBy custom attributes, JSON pointers and "
                 "numbers, rollouts in rules (SPLIT + ruleId).", snapshot(301, flags), cs)


# ---------------------------------------------------------------------------------------
def progressive():
    S = NOW
    STG = [{"percentage": 10, "duration": "PT1H"}, {"percentage": 30, "duration": "PT2H"},
           {"percentage": 50, "duration": "P1D"}, {"percentage": 100}]
    B1, B2, B3 = S + H, S + 3 * H, S + 3 * H + DAY

    def prog(**kw):
        p = {"start": iso(S), "stages": STG}
        p.update(kw)
        return p
    DUR = [("PT0.5S", 500), ("PT1M", MIN), ("PT1H30M", 90 * MIN), ("P1DT12H", 36 * H), ("P1W", 7 * DAY)]
    dstages = [{"percentage": p, "duration": d} for p, (d, _) in zip((1, 2, 5, 10, 20), DUR)] + [{"percentage": 100}]
    flags = {
        "prog": boolflag(fallthrough=ro("on", "off", progressive=prog())),
        "prog-paused": boolflag(fallthrough=ro("on", "off", progressive=prog(pausedAt=iso(S + 2 * H)))),
        "prog-paused-boundary": boolflag(fallthrough=ro("on", "off", progressive=prog(pausedAt=iso(B1)))),
        "prog-paused-early": boolflag(fallthrough=ro("on", "off", progressive=prog(pausedAt=iso(S - H)))),
        "prog-durations": boolflag(fallthrough=ro("on", "off", progressive={"start": iso(S), "stages": dstages})),
        "prog-rule": boolflag(fallthrough={"variant": "off"},
                              rules=[{"id": "r", "when": {"attribute": "plan", "op": "equals", "value": "pro"},
                                      "serve": ro("on", "off", progressive=prog())}]),
        "prog-offset": boolflag(fallthrough=ro("on", "off", progressive={
            "start": "2026-11-22T01:00:00+01:00", "stages": [{"percentage": 50, "duration": "PT1H"}, {"percentage": 100}]})),
        "prog-single": boolflag(fallthrough=ro("on", "off", progressive={"start": iso(S), "stages": [{"percentage": 100}]})),
        "prog-zero-first": boolflag(fallthrough=ro("on", "off", progressive={
            "start": iso(S), "stages": [{"percentage": 0, "duration": "PT1H"}, {"percentage": 100}]})),
        "prog-bucketby": boolflag(fallthrough=ro("on", "off", progressive=prog(), bucketBy="orgId", salt="ramp")),
        "grad": boolflag(fallthrough=ro("on", "off", gradual={"start": iso(S), "duration": "PT100S"})),
        "grad-round": boolflag(fallthrough=ro("on", "off", gradual={"start": iso(S), "duration": "PT300S"})),
        "grad-from-to": boolflag(fallthrough=ro("on", "off", gradual={"start": iso(S), "duration": "PT4H",
                                                                     "from": 10, "to": 50})),
    }
    assert ms("2026-11-22T01:00:00+01:00") == S

    def stage_pct(stages_ms, t):
        """(threshold, stage) per §5.1 — stages_ms: list of (pct, dur_ms or None)."""
        if t < S:
            return 0, None
        acc = S
        for i, (p, d) in enumerate(stages_ms):
            if d is None or t < acc + d:
                return int(round(p * 1000)), i
            acc += d
        raise AssertionError
    SM = [(10, H), (30, 2 * H), (50, DAY), (100, None)]

    def P(flag, unit, t, stages=SM, pause=None, salt=None, note="", ctx=None, ruleId=None, label=None):
        eff = t if pause is None else min(t, pause)
        thr, st = stage_pct(stages, eff)
        return rollout_case(flag, salt or flag, thr, unit, now=t, stage=st, ctx=ctx, ruleId=ruleId, unit_label=label,
                            why=(note + "; " if note else "") + "now = start%+d ms" % (t - S))
    A = rng("prog", 10000, 30000)[0]
    Bu = rng("prog", 0, 10000)[0]
    Cu = rng("prog", 30000, 50000)[0]
    D = rng("prog", 50000, 100000)[0]
    pA, pC, pD = (rng("prog-paused", 10000, 30000)[0], rng("prog-paused", 30000, 50000)[0],
                  rng("prog-paused", 50000, 100000)[0])
    bA, bC = rng("prog-paused-boundary", 10000, 30000)[0], rng("prog-paused-boundary", 30000, 50000)[0]
    eB = rng("prog-paused-early", 0, 10000)[0]
    cs = [
        P("prog", Bu, S - 1, note="before start: 0 %, no stage"),
        P("prog", D, S - DAY, note="before start"),
        P("prog", Bu, S, note="exactly at start: stage 0"),
        P("prog", A, S),
        P("prog", exact("prog", 9999), S, note="stage 0 boundary bucket"),
        P("prog", exact("prog", 10000), S, note="stage 0 boundary bucket"),
        P("prog", A, B1 - 1, note="1 ms before the stage 1 boundary"),
        P("prog", A, B1, note="exactly at the boundary the next stage is in force"),
        P("prog", exact("prog", 29999), B1), P("prog", exact("prog", 30000), B1),
        P("prog", Cu, B2 - 1), P("prog", Cu, B2, note="stage 2 boundary"),
        P("prog", D, B3 - 1), P("prog", D, B3, note="the last stage"),
        P("prog", exact("prog", 99999), B3 + 365 * DAY, note="the last stage stays in force forever"),
        P("prog", Bu, B3 + DAY),
        case("prog: no targetingKey at a stage → TARGETING_KEY_MISSING", "prog", ERR(True, "TARGETING_KEY_MISSING"),
             {}, default=True, now=S + 1),
        P("prog-paused", pC, S + 5 * H, pause=S + 2 * H, note="paused in stage 1 (30 %)"),
        P("prog-paused", pA, S + 5 * H, pause=S + 2 * H, note="paused in stage 1"),
        P("prog-paused", pA, S + 30 * MIN, pause=S + 2 * H, note="before pausedAt time runs normally"),
        P("prog-paused", pA, S + 2 * H, pause=S + 2 * H, note="exactly at pausedAt"),
        P("prog-paused", pD, S + 10 * DAY, pause=S + 2 * H, note="still paused in stage 1"),
        P("prog-paused-boundary", bA, B1 - 1, pause=B1, note="pausedAt is the stage 1 boundary"),
        P("prog-paused-boundary", bA, B1 + 10 * DAY, pause=B1, note="paused exactly at the boundary: stage 1"),
        P("prog-paused-boundary", bC, B1 + 10 * DAY, pause=B1),
        P("prog-paused-early", eB, S + 5 * DAY, pause=S - H, note="paused before start: 0 %, no stage"),
    ]
    # durations: a unit with bucket in [20000, 100000) is out until the last stage
    DS = [(1, 500), (2, MIN), (5, 90 * MIN), (10, 36 * H), (20, 7 * DAY), (100, None)]
    du = rng("prog-durations", 20000, 100000)[0]
    acc = S
    for i, (d, dm) in enumerate(DUR):
        acc += dm
        cs.append(P("prog-durations", du, acc - 1, stages=DS, note="1 ms before the end of %s (stage %d)" % (d, i)))
        cs.append(P("prog-durations", du, acc, stages=DS, note="after %s: stage %d" % (d, i + 1)))
    cs.append(P("prog-durations", exact("prog-durations", 999), S + 499, stages=DS, note="1 % = buckets < 1000"))
    ri = rng("prog-rule", 10000, 30000)[0]
    cs += [P("prog-rule", ri, S, ctx={"targetingKey": ri, "plan": "pro"}, ruleId="r", note="rule serving a progressive rollout"),
           P("prog-rule", ri, B1, ctx={"targetingKey": ri, "plan": "pro"}, ruleId="r"),
           case("prog-rule: the rule does not match → DEFAULT, no stage", "prog-rule", E(False, "off", "DEFAULT"),
                {"targetingKey": ri, "plan": "free"}, now=B1)]
    OS = [(50, H), (100, None)]
    oi = rng("prog-offset", 0, 50000)[0]
    oo = rng("prog-offset", 50000, 100000)[0]
    cs += [P("prog-offset", oi, S - 1, stages=OS, note="start 01:00+01:00 = 00:00Z; before start"),
           P("prog-offset", oi, S, stages=OS), P("prog-offset", oo, S, stages=OS),
           P("prog-offset", oo, S + H, stages=OS)]
    su = exact("prog-single", 99999)
    cs += [P("prog-single", su, S - 1, stages=[(100, None)], note="before start: 0 %"),
           P("prog-single", su, S, stages=[(100, None)], note="a single stage with no duration, forever")]
    zu = exact("prog-zero-first", 0)
    cs += [P("prog-zero-first", zu, S, stages=[(0, H), (100, None)], note="a 0 % first stage"),
           P("prog-zero-first", zu, S + H, stages=[(0, H), (100, None)])]
    # bucketBy/salt on a progressive rollout
    org_in = rng("ramp", 0, 10000)[0]
    org_out = rng("ramp", 10000, 100000)[0]
    cs += [P("prog-bucketby", org_in, S, salt="ramp", ctx={"orgId": org_in}, label="orgId " + org_in, note="salt ramp"),
           P("prog-bucketby", org_out, S, salt="ramp", ctx={"orgId": org_out}, label="orgId " + org_out, note="salt ramp"),
           case("prog-bucketby: orgId missing → INVALID_CONTEXT", "prog-bucketby", ERR(False, "INVALID_CONTEXT"),
                {"targetingKey": "u-1"}, now=S)]

    # gradual ramps: threshold = from + (to - from) * (t - start) / D, floored (towards from), clamped
    def G(flag, unit, t, D, frm=0, to=100, note=""):
        f, tt = frm * 1000, to * 1000
        if t < S:
            thr = f
        elif t >= S + D:
            thr = tt
        else:
            thr = f + (tt - f) * (t - S) // D
        return rollout_case(flag, flag, thr, unit, now=t,
                            why=(note + "; " if note else "") + "gradual threshold %d at start%+d ms" % (thr, t - S))
    g25 = exact("grad", 25000)
    g99 = exact("grad", 99999)
    g0 = exact("grad", 0)
    cs += [G("grad", g0, S - 1, 100000, note="before start: clamped to from = 0"),
           G("grad", g0, S, 100000, note="at start the threshold is from"),
           G("grad", g0, S + 1, 100000),
           G("grad", g25, S + 25000, 100000, note="the middle"), G("grad", g25, S + 25001, 100000),
           G("grad", g99, S + 99999, 100000), G("grad", g99, S + 100000, 100000, note="the end: to = 100"),
           G("grad", g99, S + 100 * DAY, 100000, note="after the end: clamped to to")]
    r0 = exact("grad-round", 0)
    r1000 = exact("grad-round", 1000)
    cs += [G("grad-round", r0, S + 2, 300000, note="2/3 of a unit rounds down to 0"),
           G("grad-round", r0, S + 3, 300000),
           G("grad-round", r1000, S + 3002, 300000, note="1000.67 rounds down"),
           G("grad-round", r1000, S + 3003, 300000)]
    D4 = 4 * H
    cs += [G("grad-from-to", exact("grad-from-to", 9999), S - DAY, D4, 10, 50, note="before start: clamped to from = 10 %"),
           G("grad-from-to", exact("grad-from-to", 10000), S - 1, D4, 10, 50),
           G("grad-from-to", exact("grad-from-to", 10000), S + 1, D4, 10, 50),
           G("grad-from-to", exact("grad-from-to", 29999), S + 2 * H, D4, 10, 50, note="halfway: 30 %"),
           G("grad-from-to", exact("grad-from-to", 30000), S + 2 * H, D4, 10, 50),
           G("grad-from-to", exact("grad-from-to", 49999), S + D4, D4, 10, 50, note="the end: to = 50 %"),
           G("grad-from-to", exact("grad-from-to", 50000), S + 10 * DAY, D4, 10, 50, note="clamped to to")]
    return write("progressive.json",
                 "Progressive rollouts (stage i in force from start + d0…d(i-1) inclusive; exactly "
                 "at a boundary the next stage; before start 0 % and no stage; pausedAt freezes "
                 "time; stage reported 0-based) and gradual ramps (linear, integer 0.001 % units, "
                 "rounded towards from, clamped).", snapshot(302, flags), cs, now=S)


# ---------------------------------------------------------------------------------------
def split_case(flag, salt, ranges, unit, ctx=None, ruleId=None, values=None, type="string", default="dflt",
               label=None, why=""):
    """ranges: list of (variant, weight in thousandths)."""
    b = bucket_of(salt, unit)
    lo = 0
    for v, w in ranges:
        if lo <= b < lo + w:
            chosen, rng_ = v, (lo, lo + w)
            break
        lo += w
    val = values[chosen] if values else chosen
    lbl = label or unit
    name = "%s: %s bucket %d in [%d, %d) → %s%s" % (flag, lbl, b, rng_[0], rng_[1], chosen, (" — " + why) if why else "")
    return case(name, flag, E(val, chosen, "SPLIT", ruleId=ruleId), {"targetingKey": unit} if ctx is None else ctx,
                type=type, default=default)


def splits():
    def sp(*vw, **kw):
        s = {"variants": [{"variant": v, "weight": w} for v, w in vw]}
        s.update(kw)
        return {"split": s}
    flags = {
        "split-abc": strflag(["a", "b", "c"], "a", fallthrough=sp(("a", 50), ("b", 30), ("c", 20))),
        "split-thirds": strflag(["x", "y", "z"], "x", fallthrough=sp(("x", 33.333), ("y", 33.333), ("z", 33.334))),
        "split-zero-first": strflag(["a", "b"], "a", fallthrough=sp(("a", 0), ("b", 100))),
        "split-zero-last": strflag(["a", "b"], "b", fallthrough=sp(("a", 100), ("b", 0))),
        "split-order": strflag(["a", "b", "c"], "a", fallthrough=sp(("c", 20), ("a", 50), ("b", 30))),
        "split-fine": strflag(["a", "b"], "a", fallthrough=sp(("a", 0.001), ("b", 99.999))),
        "split-single": strflag(["only", "other"], "other", fallthrough=sp(("only", 100))),
        "split-rule": boolflag(fallthrough={"variant": "off"},
                               rules=[{"id": "exp", "when": {"attribute": "country", "op": "equals", "value": "DE"},
                                       "serve": sp(("on", 50), ("off", 50))}]),
        "split-orgs": strflag(["a", "b"], "a", fallthrough=sp(("a", 50), ("b", 50), salt="exp-2026", bucketBy="orgId")),
        "split-number": {"type": "number", "state": "on", "variants": {"low": 10, "high": 20.5}, "offVariant": "low",
                         "fallthrough": sp(("low", 40), ("high", 60))},
        "split-object": {"type": "object", "state": "on", "variants": {"small": {"rows": 10}, "large": {"rows": 100}},
                         "offVariant": "small", "fallthrough": sp(("small", 70), ("large", 30))},
    }
    cs = []
    R = {"split-abc": [("a", 50000), ("b", 30000), ("c", 20000)],
         "split-thirds": [("x", 33333), ("y", 33333), ("z", 33334)],
         "split-zero-first": [("a", 0), ("b", 100000)], "split-zero-last": [("a", 100000), ("b", 0)],
         "split-order": [("c", 20000), ("a", 50000), ("b", 30000)],
         "split-fine": [("a", 1), ("b", 99999)], "split-single": [("only", 100000)]}
    pts = {"split-abc": [0, 49999, 50000, 79999, 80000, 99999],
           "split-thirds": [0, 33332, 33333, 66665, 66666, 99999],
           "split-zero-first": [0, 99999], "split-zero-last": [0, 99999],
           "split-order": [0, 19999, 20000, 69999, 70000, 99999],
           "split-fine": [0, 1, 99999], "split-single": [0, 99999]}
    for f, bs in pts.items():
        for b in bs:
            cs.append(split_case(f, f, R[f], exact(f, b)))
    for i in range(4):
        cs.append(split_case("split-abc", "split-abc", R["split-abc"], "user-%d" % i))
    # rule split (boolean)
    rr = [("on", 50000), ("off", 50000)]
    for i in range(3):
        u = "user-%d" % i
        cs.append(split_case("split-rule", "split-rule", rr, u, ctx={"targetingKey": u, "country": "DE"}, ruleId="exp",
                             values={"on": True, "off": False}, type="boolean", default=False))
    cs += [case("split-rule: the rule does not match → DEFAULT", "split-rule", E(False, "off", "DEFAULT"),
                {"targetingKey": "user-0", "country": "AT"}),
           case("split-rule: the rule matches, no targetingKey → TARGETING_KEY_MISSING", "split-rule",
                ERR(True, "TARGETING_KEY_MISSING"), {"country": "DE"}, default=True)]
    orr = [("a", 50000), ("b", 50000)]
    oa = rng("exp-2026", 0, 50000)[0]
    ob = rng("exp-2026", 50000, 100000)[0]
    cs += [split_case("split-orgs", "exp-2026", orr, oa, ctx={"orgId": oa}, label="orgId " + oa, why="salt exp-2026"),
           split_case("split-orgs", "exp-2026", orr, ob, ctx={"orgId": ob, "targetingKey": oa}, label="orgId " + ob,
                      why="salt exp-2026, targetingKey ignored"),
           split_case("split-orgs", "exp-2026", orr, "12", ctx={"orgId": 12}, label="orgId 12 (number → \"12\")"),
           case("split-orgs: orgId missing → INVALID_CONTEXT", "split-orgs", ERR("dflt", "INVALID_CONTEXT"),
                {"targetingKey": "u-1"}, type="string", default="dflt")]
    for i in range(3):
        cs.append(split_case("split-number", "split-number", [("low", 40000), ("high", 60000)], "user-%d" % i,
                             values={"low": 10, "high": 20.5}, type="number", default=0))
        cs.append(split_case("split-object", "split-object", [("small", 70000), ("large", 30000)], "user-%d" % i,
                             values={"small": {"rows": 10}, "large": {"rows": 100}}, type="object", default={}))
    cs.append(case("split-abc: no targetingKey → TARGETING_KEY_MISSING", "split-abc",
                   ERR("dflt", "TARGETING_KEY_MISSING"), {}, type="string", default="dflt"))
    return write("splits.json",
                 "Weighted splits (§5.2): variant i takes the consecutive bucket range after "
                 "variant i-1 (array order, not name order), weights in 0.001 % units (33.333 + "
                 "33.333 + 33.334), zero weights, splits in rules, custom salt/bucketBy, "
                 "number and object variants.", snapshot(303, flags), cs)


# ---------------------------------------------------------------------------------------
def canary():
    S = NOW
    flags = {
        "can-10": boolflag(state="canary", canary={"percentage": 10}),
        "can-bypass": boolflag(state="canary", canary={"percentage": 0},
                               overrides=[{"tenant": "acme", "variant": "on"}],
                               targets=[{"variant": "on", "users": ["u-1"], "groups": ["qa"]}],
                               rules=[{"id": "all", "when": {"all": []}, "serve": {"variant": "on"}}]),
        "can-rollout": boolflag(state="canary", canary={"percentage": 10}, fallthrough=ro("on", "off", percentage=30)),
        "can-rollout-salt": boolflag(state="canary", canary={"percentage": 10},
                                     fallthrough=ro("on", "off", percentage=50, salt="independent")),
        "can-bucketby": boolflag(state="canary", canary={"percentage": 50, "bucketBy": "orgId", "salt": "orgs"},
                                 targets=[{"variant": "on", "users": ["u-1"]}]),
        "can-rules": boolflag(state="canary", canary={"percentage": 50}, fallthrough={"variant": "off"},
                              rules=[{"id": "de", "when": {"attribute": "country", "op": "equals", "value": "DE"},
                                      "serve": {"variant": "on"}}]),
        "can-staged": boolflag(state="canary", targets=[{"variant": "on", "users": ["u-1"]}],
                               canary={"progressive": {"start": iso(S), "stages": [
                                   {"percentage": 5, "duration": "PT1H"}, {"percentage": 20, "duration": "PT1H"},
                                   {"percentage": 100}]}}),
        "can-staged-rollout": boolflag(state="canary",
                                       canary={"progressive": {"start": iso(S), "stages": [
                                           {"percentage": 10, "duration": "PT1H"}, {"percentage": 100}]}},
                                       fallthrough=ro("on", "off", progressive={"start": iso(S), "stages": [
                                           {"percentage": 1, "duration": "PT30M"}, {"percentage": 2, "duration": "PT30M"},
                                           {"percentage": 50, "duration": "PT1H"}, {"percentage": 100}]})),
        "can-gradual": boolflag(state="canary", canary={"gradual": {"start": iso(S), "duration": "PT100S"}}),
        "can-string": strflag(["stable", "canary"], "stable", state="canary", canary={"percentage": 50},
                              fallthrough={"variant": "canary"}),
    }
    PASS = E(True, "on", "DEFAULT")
    EXC = E(False, "off", "CANARY_EXCLUDED")

    def gate(flag, unit, thr, salt=None, ctx=None, pass_exp=PASS, exc_exp=EXC, now=None, label=None, why="", stage=None):
        b = bucket_of(salt or flag, unit)
        ok = b < thr
        exp = dict(pass_exp if ok else exc_exp)
        if stage is not None:
            exp["stage"] = stage
        return case("%s: %s canary bucket %d %s %d → %s%s" % (flag, label or unit, b, "<" if ok else "≥", thr,
                                                              "passes the gate" if ok else "CANARY_EXCLUDED",
                                                              (" — " + why) if why else ""),
                    flag, exp, {"targetingKey": unit} if ctx is None else ctx, now=now)
    cs = [gate("can-10", exact("can-10", b), 10000, why="boundary" if b in (9999, 10000) else "")
          for b in (0, 9999, 10000, 99999)]
    cs += [gate("can-10", "user-%d" % i, 10000) for i in range(4)]
    cs += [case("can-10: no targetingKey → TARGETING_KEY_MISSING", "can-10", ERR(True, "TARGETING_KEY_MISSING"), {},
                default=True),
           case("can-bypass: a targeted user bypasses the 0 % gate", "can-bypass", E(True, "on", "TARGETING_MATCH"),
                {"targetingKey": "u-1"}),
           case("can-bypass: a group target bypasses the gate, no targetingKey needed", "can-bypass",
                E(True, "on", "TARGETING_MATCH"), {"groups": "qa"}),
           case("can-bypass: a tenant override bypasses the gate, no targetingKey needed", "can-bypass",
                E(True, "on", "OVERRIDE"), {"tenant": "acme"}),
           case("can-bypass: rules come after the gate: u-2 is excluded although the rule matches everyone",
                "can-bypass", EXC, {"targetingKey": "u-2"}),
           case("can-bypass: nothing bypasses and no targetingKey → TARGETING_KEY_MISSING", "can-bypass",
                ERR(False, "TARGETING_KEY_MISSING"), {"tenant": "globex"})]
    # canary ⊂ rollout with the shared default salt
    for lo, hi in ((0, 10000), (10000, 30000), (30000, 100000)):
        u, b = rng("can-rollout", lo, hi)
        if b < 10000:
            exp, what = E(True, "on", "SPLIT"), "passes the 10 % gate and is inside the 30 % rollout (same salt)"
        else:
            exp, what = EXC, "outside the 10 % gate"
        cs.append(case("can-rollout: %s bucket %d → %s" % (u, b, what), "can-rollout", exp, {"targetingKey": u}))
    u1 = find_unit("can-rollout-salt", lambda b: b < 10000)[0]
    # find one unit passing the gate but outside the independent rollout, and one inside
    n = 0
    got = {}
    while len(got) < 2:
        u = "user-%d" % n
        if bucket_of("can-rollout-salt", u) < 10000:
            got.setdefault(bucket_of("independent", u) < 50000, u)
        n += 1
    for inside, u in sorted(got.items()):
        bg, br = bucket_of("can-rollout-salt", u), bucket_of("independent", u)
        cs.append(case("can-rollout-salt: %s gate bucket %d < 10000 passes; salt independent bucket %d %s 50000 → %s"
                       % (u, bg, br, "<" if inside else "≥", "on" if inside else "off"), "can-rollout-salt",
                       E(inside, "on" if inside else "off", "SPLIT"), {"targetingKey": u}))
    del u1
    oi = rng("orgs", 0, 50000)[0]
    oo = rng("orgs", 50000, 100000)[0]
    cs += [gate("can-bucketby", oi, 50000, salt="orgs", ctx={"targetingKey": "u-2", "orgId": oi}, label="orgId " + oi,
                why="bucketBy orgId, salt orgs"),
           gate("can-bucketby", oo, 50000, salt="orgs", ctx={"targetingKey": "u-2", "orgId": oo}, label="orgId " + oo),
           case("can-bucketby: u-1 is targeted, so no orgId is needed", "can-bucketby", E(True, "on", "TARGETING_MATCH"),
                {"targetingKey": "u-1"}),
           case("can-bucketby: orgId missing → INVALID_CONTEXT", "can-bucketby", ERR(False, "INVALID_CONTEXT"),
                {"targetingKey": "u-2"})]
    pi = rng("can-rules", 0, 50000)[0]
    po = rng("can-rules", 50000, 100000)[0]
    cs += [gate("can-rules", pi, 50000, ctx={"targetingKey": pi, "country": "DE"},
                pass_exp=E(True, "on", "TARGETING_MATCH", ruleId="de"), why="then rule de matches"),
           gate("can-rules", pi, 50000, ctx={"targetingKey": pi, "country": "AT"},
                pass_exp=E(False, "off", "DEFAULT"), why="then no rule matches → fallthrough off"),
           gate("can-rules", po, 50000, ctx={"targetingKey": po, "country": "DE"}, why="the rule is never reached")]
    # staged canary
    P5 = rng("can-staged", 0, 5000)[0]
    Q = rng("can-staged", 5000, 20000)[0]
    Rr = rng("can-staged", 20000, 100000)[0]
    cs += [gate("can-staged", P5, 0, now=S - 1, why="before start the cohort is empty; no stage"),
           gate("can-staged", P5, 5000, now=S, stage=0, why="stage 0 (5 %) decides"),
           gate("can-staged", Q, 5000, now=S, stage=0),
           gate("can-staged", Q, 5000, now=S + H - 1, stage=0, why="1 ms before the stage 1 boundary"),
           gate("can-staged", Q, 20000, now=S + H, stage=1, why="stage 1 (20 %)"),
           gate("can-staged", Rr, 20000, now=S + H, stage=1),
           gate("can-staged", Rr, 100000, now=S + 2 * H, stage=2, why="stage 2 (100 %)"),
           case("can-staged: a targeted user bypasses the gate: no stage reported", "can-staged",
                E(True, "on", "TARGETING_MATCH"), {"targetingKey": "u-1"}, now=S)]
    V = rng("can-staged-rollout", 0, 1000)[0]
    W = rng("can-staged-rollout", 2000, 10000)[0]
    X = rng("can-staged-rollout", 10000, 50000)[0]
    Y = rng("can-staged-rollout", 50000, 100000)[0]

    def bb(u):
        return bucket_of("can-staged-rollout", u)
    cs += [
        case("can-staged-rollout: %s bucket %d: gate stage 0 (10 %%) passes, rollout stage 0 (1 %%) → on, stage 0"
             % (V, bb(V)), "can-staged-rollout", E(True, "on", "SPLIT", stage=0), {"targetingKey": V}, now=S + 10 * MIN),
        case("can-staged-rollout: %s bucket %d at +40 min: gate stage 0 passes, rollout stage 1 (2 %%) → off; the "
             "innermost stage (rollout, 1) is reported" % (W, bb(W)), "can-staged-rollout",
             E(False, "off", "SPLIT", stage=1), {"targetingKey": W}, now=S + 40 * MIN),
        case("can-staged-rollout: %s bucket %d at +40 min: outside the gate → CANARY_EXCLUDED, the gate's stage 0"
             % (X, bb(X)), "can-staged-rollout", dict(EXC, stage=0), {"targetingKey": X}, now=S + 40 * MIN),
        case("can-staged-rollout: %s bucket %d at +1 h: gate stage 1 (100 %%), rollout stage 2 (50 %%) → on, stage 2"
             % (X, bb(X)), "can-staged-rollout", E(True, "on", "SPLIT", stage=2), {"targetingKey": X}, now=S + H),
        case("can-staged-rollout: %s bucket %d at +1 h: rollout stage 2 (50 %%) → off, stage 2" % (Y, bb(Y)),
             "can-staged-rollout", E(False, "off", "SPLIT", stage=2), {"targetingKey": Y}, now=S + H),
        case("can-staged-rollout: %s bucket %d at +2 h: rollout stage 3 (100 %%) → on, stage 3" % (Y, bb(Y)),
             "can-staged-rollout", E(True, "on", "SPLIT", stage=3), {"targetingKey": Y}, now=S + 2 * H),
    ]
    g = exact("can-gradual", 500)
    cs += [gate("can-gradual", g, 500, now=S + 500, why="gradual cohort threshold 500 at start+500 ms; no stage"),
           gate("can-gradual", g, 501, now=S + 501, why="threshold 501")]
    si = rng("can-string", 0, 50000)[0]
    so = rng("can-string", 50000, 100000)[0]
    cs += [case("can-string: %s bucket %d < 50000 passes → canary" % (si, bucket_of("can-string", si)), "can-string",
                E("canary", "canary", "DEFAULT"), {"targetingKey": si}, type="string", default="dflt"),
           case("can-string: %s bucket %d ≥ 50000 → CANARY_EXCLUDED, the offVariant value" % (so, bucket_of("can-string", so)),
                "can-string", E("stable", "stable", "CANARY_EXCLUDED"), {"targetingKey": so}, type="string", default="dflt")]
    return write("canary.json",
                 "The canary gate (§4 step 11, §5.3): overrides and targets bypass it, rules and the "
                 "fallthrough come after it; CANARY_EXCLUDED serves offVariant; the default salt is "
                 "shared with the rollout (canary ⊂ rollout); staged cohorts report their stage, the "
                 "innermost stage when the rollout is staged too.", snapshot(304, flags), cs, now=S)


# ---------------------------------------------------------------------------------------
def unicode_():
    units = ["Jürgen", "jürgen", "Müller", "Straße", "東京", "日本語", "🚀", "👩\u200d💻", "Ελλάδα", "é", "e\u0301",
             "", " ", "ü" * 500, "a:b"]
    b_nfc, b_nfd = bucket_of("uni-nfc", "é"), bucket_of("uni-nfc", "e\u0301")
    thr = min(b_nfc, b_nfd) + 1
    pct = thr / 1000
    flags = {
        "uni-ro": boolflag(fallthrough=ro("on", "off", percentage=50)),
        "uni-salt": boolflag(fallthrough=ro("on", "off", percentage=50, salt="Ünïcödé-sält-🧂")),
        "uni-nfc": boolflag(fallthrough=ro("on", "off", percentage=pct)),
        "uni-split": strflag(["a", "b", "c"], "a", fallthrough={"split": {"variants": [
            {"variant": "a", "weight": 40}, {"variant": "b", "weight": 35}, {"variant": "c", "weight": 25}]}}),
        "uni-users": boolflag(fallthrough={"variant": "off"},
                              targets=[{"variant": "on", "users": ["jürgen", "東京", "🚀", ""]}]),
        "uni-nick": boolflag(fallthrough=ro("on", "off", percentage=50, bucketBy="nick")),
    }
    def lab(u):
        if u == "e\u0301":
            return '"e\\u0301" (NFD é)'
        if u == "é":
            return '"é" (NFC, U+00E9)'
        if "\u200d" in u:
            return '"👩\\u200d💻" (ZWJ sequence)'
        return json.dumps(u, ensure_ascii=False) if len(u) < 40 else '"ü"×500'

    cs = [rollout_case("uni-ro", "uni-ro", 50000, u, unit_label=lab(u)) for u in units]
    cs += [rollout_case("uni-salt", "Ünïcödé-sält-🧂", 50000, u, unit_label=lab(u), why="non-ASCII salt")
           for u in ("Jürgen", "東京", "", "user-1")]
    cs += [rollout_case("uni-nfc", "uni-nfc", thr, u, unit_label=lab(u),
                        why="precomposed and decomposed é are different bytes (percentage %s)" % pct)
           for u in ("é", "e\u0301")]
    sr = [("a", 40000), ("b", 35000), ("c", 25000)]
    cs += [split_case("uni-split", "uni-split", sr, u, label=lab(u)) for u in ("Jürgen", "東京", "🚀", "", "Ελλάδα")]
    cs += [case("uni-users: targetingKey \"jürgen\" is listed", "uni-users", E(True, "on", "TARGETING_MATCH"),
                {"targetingKey": "jürgen"}),
           case("uni-users: \"Jürgen\" is not (case-sensitive)", "uni-users", E(False, "off", "DEFAULT"),
                {"targetingKey": "Jürgen"}),
           case("uni-users: \"東京\" is listed", "uni-users", E(True, "on", "TARGETING_MATCH"), {"targetingKey": "東京"}),
           case("uni-users: \"🚀\" is listed", "uni-users", E(True, "on", "TARGETING_MATCH"), {"targetingKey": "🚀"}),
           case("uni-users: the empty targetingKey \"\" is listed", "uni-users", E(True, "on", "TARGETING_MATCH"),
                {"targetingKey": ""}),
           case("uni-users: no targetingKey is not the empty key", "uni-users", E(False, "off", "DEFAULT"), {})]
    cs += [rollout_case("uni-nick", "uni-nick", 50000, u, ctx={"nick": u}, unit_label="nick " + lab(u))
           for u in ("", "Zoë", "🦀")]
    return write("unicode.json",
                 "Bucketing units and salts are UTF-8 bytes, never normalised: non-ASCII, emoji, ZWJ "
                 "sequences, NFC vs NFD, the empty unit \"\" (a valid unit, unlike a missing one), "
                 "long units, a colon inside the unit.", snapshot(305, flags), cs)


def bucketing():
    vecs = []

    def v(salt, unit):
        vecs.append({"salt": salt, "unit": unit, "hash": str(hash_of(salt, unit)), "bucket": bucket_of(salt, unit)})
    for u in ("user-1", "user-2", "u-1", "u-2", "u-3", "alice", "bob@example.com", "00000000-0000-4000-8000-000000000000"):
        v("new-checkout", u)
    for u in ("42", "0", "-7", "1", "9007199254740992", "-9007199254740992", "1001"):
        v("f", u)  # integral numbers are bucketed as their decimal string
    for u in ("Jürgen", "Müller", "Straße", "Äpfel", "東京", "日本語", "한국어", "🚀", "👩\u200d💻", "é", "e\u0301",
              "Ελλάδα"):
        v("unicode", u)
    for s in ("new-checkout", "f", "unicode", "", "checkout.kill-switch"):
        v(s, "")
    v("", "user-1")
    v("a", "b:c")
    v("a:b", "c")  # same bytes "a:b:c" as the previous vector, so the same hash
    v("Ünïcödé-sält-🧂", "user-1")
    v("checkout.kill-switch", "u-1")
    v("ro-25", "u-83603")
    v("long", "x" * 64)
    v("long", "x" * 1000)
    v("long", "ü" * 500)
    v("long", "abcdefghijklmnopqrstuvwxyz0123456789" * 120)
    v("long", "a" * 240)
    for b in (0, 99999):
        v("edges", exact("edges", b))
    doc = {"description": "XXH3_64 (seed 0) of utf8(salt) ++ \":\" ++ utf8(unit); hash as a decimal string; "
                          "bucket = (hash × 100000) >> 64. Units under salt \"f\" are integral numbers written in "
                          "decimal (a context number 42 is bucketed exactly like the string \"42\"). Salt \"a\" unit "
                          "\"b:c\" and salt \"a:b\" unit \"c\" hash the same bytes. The unit \"\" and the salt \"\" "
                          "are valid. Computed with tools/bucket.py.",
           "vectors": vecs}
    assert vecs[-0]["hash"]
    assert [x for x in vecs if x["salt"] == "a"][0]["hash"] == [x for x in vecs if x["salt"] == "a:b"][0]["hash"]
    write_raw(ROOT + "/bucketing.json", doc)
    return len(vecs)


def main():
    return {"rollouts.json": rollouts(), "progressive.json": progressive(), "splits.json": splits(),
            "canary.json": canary(), "unicode.json": unicode_(), "bucketing.json (vectors)": bucketing()}


if __name__ == "__main__":
    for k, v in main().items():
        print(k, v)
