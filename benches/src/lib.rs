//! Snapshot and context generators shared by the Pennon benchmarks (`benches/evaluate.rs`,
//! `benches/load.rs`), the `load_memory` binary and the sanity test in `tests/`.
//!
//! Everything is generated in code and deterministic: the same flag count gives the same
//! snapshot, byte for byte. A generated snapshot holds
//!
//! - three *benchmark flags* whose evaluation is measured per call:
//!   [`STATIC_FLAG`] (no targeting, reason `STATIC`), [`TARGETING_FLAG`] (one rule whose
//!   `when` is `all` of five attribute conditions plus an `inSegment`, all of which
//!   [`matching_context`] satisfies, reason `TARGETING_MATCH`) and [`SPLIT_FLAG`] (a
//!   three-variant weighted split by `targetingKey`, reason `SPLIT`);
//! - filler flags cycling through ten shapes: static switches, user targets plus a rule,
//!   multi-rule string flags, percentage rollouts, weighted splits, progressive rollouts,
//!   number flags whose rule serves a split bucketed by a nested attribute, object flags
//!   with tenant overrides and a window, flags in state off / kill / shadow / canary, and
//!   flags with a prerequisite, a gradual ramp and a regex or CIDR condition;
//! - segments with included / excluded lists and conditions, some nesting another segment.
//!
//! Every flag and segment is valid (the snapshot loads with zero warnings), and evaluating
//! any flag for [`matching_context`] at [`NOW`] never errors; `tests/generated.rs` checks
//! both.

use pennon_core::{Context, Value};
use serde_json::{Map, json};

/// The evaluation time of every benchmark: 2026-11-22T09:00:00Z in ms since the epoch.
pub const NOW: i64 = 1_795_338_000_000;

/// Flag count of the snapshot measured per call and by `evaluate_all`.
pub const EVALUATION_FLAG_COUNT: usize = 1_000;

/// Flag count of the snapshot measured by the load benchmark and `load_memory`.
pub const LOAD_FLAG_COUNT: usize = 10_000;

/// A boolean flag without targeting: `on`, fallthrough `on`, reason `STATIC`.
pub const STATIC_FLAG: &str = "bench.static";

/// A string flag with one rule of five conditions and an `inSegment`; reason
/// `TARGETING_MATCH` for [`matching_context`].
pub const TARGETING_FLAG: &str = "bench.targeting";

/// The id of [`TARGETING_FLAG`]'s rule.
pub const TARGETING_RULE: &str = "enterprise-eu-modern";

/// The segment [`TARGETING_FLAG`]'s rule requires.
pub const TARGETING_SEGMENT: &str = "bench.beta";

/// A string flag whose fallthrough is a 50/30/20 split by `targetingKey`; reason `SPLIT`.
pub const SPLIT_FLAG: &str = "bench.split";

/// How many flags are not filler: the three benchmark flags.
const BENCHMARK_FLAGS: usize = 3;

const EU: [&str; 15] = ["AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "NO", "PL", "PT", "SE"];
const PLANS: [&str; 4] = ["free", "pro", "business", "enterprise"];
const AREAS: [&str; 8] = ["checkout", "search", "catalog", "account", "payments", "shipping", "reviews", "growth"];

/// The context every benchmark evaluates: a signed-in enterprise user in Germany on a
/// recent app version, in the beta segment.
pub fn matching_context() -> Context {
    let mut context = Context::with_targeting_key("user-4711");
    context
        .insert("country", json!("DE"))
        .insert("plan", json!("enterprise"))
        .insert("appVersion", json!("5.4.2"))
        .insert("email", json!("Jane.Doe@Example.COM"))
        .insert("age", json!(34))
        .insert("betaOptIn", json!(true))
        .insert("platform", json!("ios"))
        .insert("ip", json!("10.20.30.40"))
        .insert("tenant", json!("acme"))
        .insert("groups", json!(["beta", "mobile"]))
        .insert("account", json!({ "id": 9001, "region": "eu-central" }));
    context
}

/// A snapshot document with exactly `flag_count` flags (at least the three benchmark
/// flags) and `max(8, flag_count / 100)` generated segments plus the benchmark segments.
pub fn snapshot_value(flag_count: usize) -> Value {
    let segment_count = (flag_count / 100).max(8);
    let mut segments = Map::new();
    segments.insert(
        TARGETING_SEGMENT.into(),
        json!({
            "description": "Users who opted into the beta programme.",
            "included": ["user-1", "user-2", "user-3"],
            "excluded": ["user-13"],
            "when": { "attribute": "betaOptIn", "op": "equals", "value": true }
        }),
    );
    segments.insert(
        "staff".into(),
        json!({
            "description": "Employees: company email address or the staff group.",
            "when": { "any": [
                { "attribute": "email", "op": "endsWith", "value": "@kestrel.example", "caseInsensitive": true },
                { "attribute": "groups", "op": "in", "values": ["staff"] }
            ] }
        }),
    );
    for k in 0..segment_count {
        segments.insert(segment_key(k), segment(k));
    }

    let mut flags = Map::new();
    flags.insert(STATIC_FLAG.into(), static_flag(0));
    flags.insert(TARGETING_FLAG.into(), targeting_flag());
    flags.insert(SPLIT_FLAG.into(), split_flag());
    for i in 0..flag_count.saturating_sub(BENCHMARK_FLAGS) {
        flags.insert(filler_key(i), filler_flag(i, segment_count));
    }

    json!({
        "schemaVersion": 1,
        "revision": 1842,
        "generatedAt": rfc3339(NOW - 3_600_000),
        "environment": "production",
        "metadata": { "project": "pennon-benches", "generator": "pennon-benches generator" },
        "segments": segments,
        "flags": flags,
    })
}

/// [`snapshot_value`] as JSON text, as a control plane would ship it.
pub fn snapshot_json(flag_count: usize) -> String {
    snapshot_value(flag_count).to_string()
}

/// The key of filler flag `i`, e.g. `search.rollout-00003`.
pub fn filler_key(i: usize) -> String {
    let area = AREAS.get(i / 10 % AREAS.len()).copied().unwrap_or("misc");
    let shape = match i % 10 {
        0 => "switch",
        1 => "targeted",
        2 => "experience",
        3 => "rollout",
        4 => "experiment",
        5 => "progressive",
        6 => "limit",
        7 => "layout",
        8 => "lifecycle",
        _ => "dependent",
    };
    format!("{area}.{shape}-{i:05}")
}

/// The key of generated segment `k`.
fn segment_key(k: usize) -> String {
    format!("seg-{k:03}")
}

/// A generated segment: 25 included and 5 excluded users and a two-condition `when`;
/// every fourth segment (from the second on) also accepts members of the previous one.
fn segment(k: usize) -> Value {
    let included: Vec<String> = (0..25).map(|u| format!("u-{k}-{u}")).collect();
    let excluded: Vec<String> = (25..30).map(|u| format!("u-{k}-{u}")).collect();
    let countries: Vec<&str> = EU.iter().copied().cycle().skip(k % EU.len()).take(6).collect();
    let base = json!({ "all": [
        { "attribute": "country", "op": "in", "values": countries },
        { "attribute": "plan", "op": "in", "values": [plan(k), plan(k + 1)] }
    ] });
    let when = if k % 4 == 1 {
        json!({ "any": [ base, { "all": [
            { "inSegment": segment_key(k - 1) },
            { "attribute": "age", "op": "lt", "value": 30 + k % 20 }
        ] } ] })
    } else {
        base
    };
    json!({
        "description": format!("Generated audience {k}"),
        "included": included,
        "excluded": excluded,
        "when": when,
    })
}

/// The `k`-th plan name, cycling.
fn plan(k: usize) -> &'static str {
    PLANS.get(k % PLANS.len()).copied().unwrap_or("free")
}

/// Metadata like a control plane attaches to every flag.
fn metadata(i: usize, kind: &str) -> Value {
    json!({
        "description": format!("Generated {kind} flag number {i}, shaped like a real product flag."),
        "owner": format!("team-{}", AREAS.get(i % AREAS.len()).copied().unwrap_or("misc")),
        "tags": [kind, "generated"],
        "createdAt": rfc3339(NOW - (i as i64 % 400 + 1) * 86_400_000),
    })
}

/// A boolean on/off flag without targeting.
fn static_flag(i: usize) -> Value {
    json!({
        "type": "boolean", "state": "on",
        "variants": { "on": true, "off": false }, "offVariant": "off",
        "fallthrough": { "variant": "on" },
        "metadata": metadata(i, "switch"),
    })
}

/// The targeting benchmark flag: `all` of five conditions plus `inSegment`, each of which
/// [`matching_context`] satisfies, so every one of them is evaluated.
fn targeting_flag() -> Value {
    json!({
        "type": "string", "state": "on",
        "variants": { "control": "control", "treatment": "treatment" },
        "offVariant": "control",
        "rules": [ {
            "id": TARGETING_RULE,
            "description": "Enterprise customers in Europe on a recent app, adults, company mail, in the beta.",
            "when": { "all": [
                { "attribute": "country", "op": "in", "values": EU },
                { "attribute": "plan", "op": "equals", "value": "enterprise" },
                { "attribute": "appVersion", "op": "semverGte", "value": "5.2.0" },
                { "attribute": "email", "op": "endsWith", "value": "@example.com", "caseInsensitive": true },
                { "attribute": "age", "op": "gte", "value": 18 },
                { "inSegment": TARGETING_SEGMENT }
            ] },
            "serve": { "variant": "treatment" }
        } ],
        "fallthrough": { "variant": "control" },
        "metadata": metadata(1, "experience"),
    })
}

/// The split benchmark flag: three variants, 50/30/20, bucketed by `targetingKey`.
fn split_flag() -> Value {
    json!({
        "type": "string", "state": "on",
        "variants": { "a": "a", "b": "b", "c": "c" },
        "offVariant": "a",
        "fallthrough": { "split": { "variants": [
            { "variant": "a", "weight": 50 }, { "variant": "b", "weight": 30 }, { "variant": "c", "weight": 20 }
        ] } },
        "metadata": metadata(2, "experiment"),
    })
}

/// Filler flag `i`, one of ten shapes chosen by `i % 10`.
fn filler_flag(i: usize, segment_count: usize) -> Value {
    let percentage = (i * 7 % 100) as u64;
    match i % 10 {
        0 => static_flag(i),
        1 => {
            let users: Vec<String> = (0..20).map(|u| format!("u-{i}-{u}")).collect();
            json!({
                "type": "boolean", "state": "on",
                "variants": { "on": true, "off": false }, "offVariant": "off",
                "targets": [ { "variant": "on", "users": users, "groups": ["qa"] } ],
                "rules": [ { "id": "internal", "when": { "all": [
                    { "attribute": "email", "op": "endsWith", "value": "@kestrel.example", "caseInsensitive": true },
                    { "attribute": "plan", "op": "in", "values": ["business", "enterprise"] },
                    { "attribute": "country", "op": "in", "values": EU }
                ] }, "serve": { "variant": "on" } } ],
                "fallthrough": { "variant": "off" },
                "metadata": metadata(i, "targeted"),
            })
        }
        2 => json!({
            "type": "string", "state": "on",
            "variants": { "v1": "classic", "v2": "modern", "v3": "beta" }, "offVariant": "v1",
            "rules": [
                { "id": "modern-eu", "when": { "all": [
                    { "attribute": "country", "op": "in", "values": EU },
                    { "attribute": "appVersion", "op": "semverGte", "value": format!("4.{}.0", i % 10) },
                    { "attribute": "age", "op": "gte", "value": 21 }
                ] }, "serve": { "variant": "v2" } },
                { "id": "segment", "when": { "inSegment": segment_key(i % segment_count) }, "serve": { "variant": "v3" } }
            ],
            "fallthrough": { "variant": "v1" },
            "metadata": metadata(i, "experience"),
        }),
        3 => json!({
            "type": "boolean", "state": "on",
            "variants": { "on": true, "off": false }, "offVariant": "off",
            "fallthrough": { "rollout": { "variant": "on", "otherwise": "off", "percentage": percentage } },
            "metadata": metadata(i, "rollout"),
        }),
        4 => json!({
            "type": "string", "state": "on",
            "variants": { "control": "control", "red": "red", "green": "green" }, "offVariant": "control",
            "fallthrough": { "split": { "salt": format!("experiment-{i}"), "variants": [
                { "variant": "control", "weight": 33.334 },
                { "variant": "red", "weight": 33.333 },
                { "variant": "green", "weight": 33.333 }
            ] } },
            "metadata": metadata(i, "experiment"),
        }),
        5 => json!({
            "type": "boolean", "state": "on",
            "variants": { "on": true, "off": false }, "offVariant": "off",
            "rules": [ { "id": "staff", "when": { "inSegment": "staff" }, "serve": { "variant": "on" } } ],
            "fallthrough": { "rollout": { "variant": "on", "otherwise": "off", "progressive": {
                "start": rfc3339(NOW - (i as i64 % 48) * 3_600_000),
                "stages": [
                    { "percentage": 5, "duration": "PT1H" },
                    { "percentage": 25, "duration": "PT2H" },
                    { "percentage": 50, "duration": "PT4H" },
                    { "percentage": 100 }
                ]
            } } },
            "metadata": metadata(i, "progressive"),
        }),
        6 => json!({
            "type": "number", "state": "on",
            "variants": { "low": 10, "mid": 50, "high": 100 }, "offVariant": "low",
            "rules": [ { "id": "seniors-or-abroad", "when": { "any": [
                { "attribute": "age", "op": "gte", "value": 65 },
                { "not": { "attribute": "country", "op": "in", "values": EU } },
                { "attribute": "/account/region", "op": "startsWith", "value": "eu-" }
            ] }, "serve": { "split": { "bucketBy": "/account/id", "variants": [
                { "variant": "low", "weight": 20 }, { "variant": "mid", "weight": 40 }, { "variant": "high", "weight": 40 }
            ] } } } ],
            "fallthrough": { "variant": "mid" },
            "metadata": metadata(i, "limit"),
        }),
        7 => json!({
            "type": "object", "state": "on",
            "variants": {
                "compact": { "rows": 10, "theme": "light", "sidebar": false },
                "full": { "rows": 50, "theme": "dark", "sidebar": true }
            },
            "offVariant": "compact",
            "overrides": [
                { "tenant": format!("tenant-{i}"), "variant": "full", "note": "contract" },
                { "tenant": "globex", "variant": "full", "expiresAt": rfc3339(NOW + 30 * 86_400_000) }
            ],
            "window": { "from": rfc3339(NOW - 7 * 86_400_000), "until": rfc3339(NOW + 90 * 86_400_000) },
            "fallthrough": { "variant": "compact" },
            "metadata": metadata(i, "layout"),
        }),
        8 => {
            let mut flag = json!({
                "type": "boolean",
                "variants": { "on": true, "off": false }, "offVariant": "off",
                "rules": [ { "id": "pro", "when": { "attribute": "plan", "op": "in", "values": ["pro", "business"] },
                    "serve": { "variant": "on" } } ],
                "fallthrough": { "rollout": { "variant": "on", "otherwise": "off", "percentage": 50 } },
                "metadata": metadata(i, "lifecycle"),
            });
            if let Value::Object(fields) = &mut flag {
                let state = ["off", "kill", "shadow", "canary"].get(i / 10 % 4).copied().unwrap_or("on");
                fields.insert("state".into(), json!(state));
                if state == "canary" {
                    fields.insert("canary".into(), json!({ "percentage": 5 }));
                }
            }
            flag
        }
        _ => {
            let extra = if i % 100 == 9 {
                json!({ "attribute": "targetingKey", "op": "matches", "value": "^user-[0-9]+$" })
            } else {
                json!({ "attribute": "ip", "op": "inCidr", "values": ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"] })
            };
            json!({
                "type": "boolean", "state": "on",
                "variants": { "on": true, "off": false }, "offVariant": "off",
                "prerequisites": [ { "flag": filler_key(i - 9), "variants": ["on"] } ],
                "rules": [ { "id": "ios-legacy", "when": { "all": [
                    { "attribute": "platform", "op": "equals", "value": "ios" },
                    { "attribute": "appVersion", "op": "semverLt", "value": "6.0" },
                    extra
                ] }, "serve": { "variant": "on" } } ],
                "fallthrough": { "rollout": { "variant": "on", "otherwise": "off", "gradual": {
                    "start": rfc3339(NOW - 86_400_000), "duration": "P7D"
                } } },
                "metadata": metadata(i, "dependent"),
            })
        }
    }
}

/// Formats ms since the epoch as an RFC 3339 UTC timestamp (`2026-11-22T09:00:00.000Z`),
/// with core's formatter; the benchmark times are far inside its years 0–9999.
pub fn rfc3339(ms: i64) -> String {
    pennon_core::time::format_timestamp(ms).unwrap_or_default()
}
