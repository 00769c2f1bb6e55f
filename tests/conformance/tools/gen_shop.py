"""Generates snapshots/shop.json (a realistic shared snapshot) and the two case files that
use it through snapshotFile: shop-launch-day.json and shop-black-friday.json."""
import os

from gen_common import SNAPSHOTS, E, ERR, H, bucket_of, case, find_unit, ms, write, write_raw

SNAP = {
    "schemaVersion": 1,
    "revision": 42,
    "generatedAt": "2026-11-22T09:00:00Z",
    "environment": "production",
    "metadata": {"controlPlane": "pennon-cloud", "exportedBy": "ci"},
    "segments": {
        "staff": {"when": {"attribute": "email", "op": "endsWith", "value": "@pennon.dev"},
                  "description": "Pennon employees"},
    },
    "flags": {
        "checkout.kill-switch": {"type": "boolean", "state": "on", "variants": {"on": True, "off": False},
                                 "offVariant": "off", "fallthrough": {"variant": "on"}},
        "new-checkout": {
            "type": "boolean", "state": "canary", "variants": {"on": True, "off": False}, "offVariant": "off",
            "prerequisites": [{"flag": "checkout.kill-switch", "variants": ["on"]}],
            "targets": [{"variant": "on", "groups": ["qa"]}],
            "canary": {"progressive": {"start": "2026-11-22T09:00:00Z", "stages": [
                {"percentage": 1, "duration": "PT1H"}, {"percentage": 10, "duration": "PT4H"}, {"percentage": 100}]}},
            "rules": [{"id": "staff", "when": {"inSegment": "staff"}, "serve": {"variant": "on"}}],
            "fallthrough": {"variant": "on"},
            "metadata": {"owner": "checkout-team", "tags": ["checkout"], "removeBy": "2027-03-01T00:00:00Z"}},
        "pricing.banner": {
            "type": "string", "state": "on", "offVariant": "none",
            "variants": {"none": "", "black-friday": "Black Friday: 30 % off", "cyber": "Cyber deals all week"},
            "window": {"from": "2026-11-27T00:00:00Z", "until": "2026-12-01T00:00:00Z"},
            "fallthrough": {"split": {"variants": [{"variant": "black-friday", "weight": 50},
                                                   {"variant": "cyber", "weight": 50}]}}},
        "search.ranking": {
            "type": "object", "state": "on", "offVariant": "v1",
            "variants": {"v1": {"model": "bm25"}, "v2": {"model": "neural", "k": 50}},
            "overrides": [{"tenant": "acme", "variant": "v2", "expiresAt": "2026-12-31T00:00:00Z", "note": "pilot"}],
            "fallthrough": {"variant": "v1"}},
    },
}
V = SNAP["flags"]["search.ranking"]["variants"]
BANNER = SNAP["flags"]["pricing.banner"]["variants"]


def main():
    write_raw(os.path.join(SNAPSHOTS, "shop.json"), SNAP)
    L = ms("2026-11-22T09:30:00Z")
    start = ms("2026-11-22T09:00:00Z")
    lo = find_unit("new-checkout", lambda b: b < 1000)
    hi = find_unit("new-checkout", lambda b: 1000 <= b < 10000)
    out = find_unit("new-checkout", lambda b: b >= 10000)
    cs = [
        case("checkout.kill-switch → STATIC", "checkout.kill-switch", E(True, "on", "STATIC"), {"targetingKey": "u-1"}),
        case("new-checkout: %s canary bucket %d < 1000 (stage 0 = 1 %%) → on, stage 0" % lo, "new-checkout",
             E(True, "on", "DEFAULT", stage=0), {"targetingKey": lo[0]}),
        case("new-checkout: %s canary bucket %d ≥ 1000 → CANARY_EXCLUDED, stage 0" % hi, "new-checkout",
             E(False, "off", "CANARY_EXCLUDED", stage=0), {"targetingKey": hi[0]}),
        case("new-checkout: staff %s (bucket %d) is still gated: rules come after the gate" % hi, "new-checkout",
             E(False, "off", "CANARY_EXCLUDED", stage=0), {"targetingKey": hi[0], "email": "ana@pennon.dev"}),
        case("new-checkout: staff %s (bucket %d) passes the gate → rule staff, stage 0" % lo, "new-checkout",
             E(True, "on", "TARGETING_MATCH", ruleId="staff", stage=0),
             {"targetingKey": lo[0], "email": "ana@pennon.dev"}),
        case("new-checkout: group qa bypasses the gate → TARGETING_MATCH, no stage", "new-checkout",
             E(True, "on", "TARGETING_MATCH"), {"targetingKey": hi[0], "groups": ["qa"]}),
        case("new-checkout: 1 ms before the canary starts → everyone excluded, no stage", "new-checkout",
             E(False, "off", "CANARY_EXCLUDED"), {"targetingKey": lo[0]}, now=start - 1),
        case("new-checkout: no targetingKey → TARGETING_KEY_MISSING", "new-checkout",
             ERR(False, "TARGETING_KEY_MISSING"), {"email": "ana@pennon.dev"}),
        case("new-checkout: metadata is returned as flagMetadata", "new-checkout",
             dict(E(True, "on", "TARGETING_MATCH"), flagMetadata=SNAP["flags"]["new-checkout"]["metadata"]),
             {"groups": "qa"}),
        case("pricing.banner: before the window → OUT_OF_WINDOW, the empty string", "pricing.banner",
             E("", "none", "OUT_OF_WINDOW"), {"targetingKey": "u-1"}, type="string", default="dflt"),
        case("search.ranking: tenant acme → OVERRIDE v2", "search.ranking", E(V["v2"], "v2", "OVERRIDE"),
             {"targetingKey": "u-1", "tenant": "acme"}, type="object", default={}),
        case("search.ranking: other tenants → DEFAULT v1 (the flag has overrides)", "search.ranking",
             E(V["v1"], "v1", "DEFAULT"), {"targetingKey": "u-1", "tenant": "globex"}, type="object", default={}),
        case("search.ranking: boolean getter → TYPE_MISMATCH", "search.ranking", ERR(False, "TYPE_MISMATCH"),
             {"tenant": "acme"}),
    ]
    write("shop-launch-day.json", "A realistic shared snapshot (snapshots/shop.json) on launch day, 30 minutes "
          "into a staged canary: kill switch, staged canary with prerequisite, group target and a staff rule; "
          "a windowed banner split; an object flag with a tenant override.", None, cs, now=L,
          snapshot_file="snapshots/shop.json")
    BF = ms("2026-11-28T12:00:00Z")
    cs = [
        case("new-checkout: the canary is at stage 2 (100 %%): %s (bucket %d) passes" % out, "new-checkout",
             E(True, "on", "DEFAULT", stage=2), {"targetingKey": out[0]}),
        case("new-checkout: staff → rule staff, stage 2", "new-checkout",
             E(True, "on", "TARGETING_MATCH", ruleId="staff", stage=2), {"targetingKey": out[0], "email": "x@pennon.dev"}),
        case("new-checkout: 1 ms before stage 2 (14:00Z on launch day) %s (bucket %d) is still excluded, stage 1" % out,
             "new-checkout", E(False, "off", "CANARY_EXCLUDED", stage=1), {"targetingKey": out[0]},
             now=start + 5 * H - 1),
        case("search.ranking: acme's override has not expired yet", "search.ranking", E(V["v2"], "v2", "OVERRIDE"),
             {"tenant": "acme"}, type="object", default={}),
        case("search.ranking: at expiresAt the override is gone", "search.ranking", E(V["v1"], "v1", "DEFAULT"),
             {"tenant": "acme"}, type="object", default={}, now=ms("2026-12-31T00:00:00Z")),
        case("pricing.banner: exactly at until → OUT_OF_WINDOW", "pricing.banner", E("", "none", "OUT_OF_WINDOW"),
             {"targetingKey": "u-1"}, type="string", default="dflt", now=ms("2026-12-01T00:00:00Z")),
        case("pricing.banner: no targetingKey inside the window → TARGETING_KEY_MISSING", "pricing.banner",
             ERR("dflt", "TARGETING_KEY_MISSING"), {}, type="string", default="dflt"),
    ]
    for i in range(4):
        u = "user-%d" % i
        b = bucket_of("pricing.banner", u)
        v = "black-friday" if b < 50000 else "cyber"
        cs.append(case("pricing.banner: %s bucket %d → %s" % (u, b, v), "pricing.banner", E(BANNER[v], v, "SPLIT"),
                       {"targetingKey": u}, type="string", default="dflt"))
    write("shop-black-friday.json", "The shared snapshot snapshots/shop.json a week later: the canary is at 100 %, "
          "the banner window is open, the tenant override is about to expire.", None, cs, now=BF,
          snapshot_file="snapshots/shop.json")
    return {"shop-launch-day.json": 13, "shop-black-friday.json": len(cs)}


if __name__ == "__main__":
    for k, v in main().items():
        print(k, v)
