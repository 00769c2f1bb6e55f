//! Outcomes from SDKs (`POST /sdk/v1/metrics`) against a real server, on SQLite and on
//! PostgreSQL: a batch stored once, bad bodies refused with their path and nothing
//! stored, summation per second, window boundaries, retention, experiment results
//! against numbers worked out by hand, and `pennon experiment results`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{ADMIN_TOKEN, Backend, Database, Server, backends, binary, boolean_flag};
use pennon_core::judgement::sketch::LatencySketch;
use pennon_server::outcomes::{self, Batch, Counts};
use pennon_server::store::Store;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const DEV: &str = "/api/v1/environments/development";

fn each_backend(test: impl Fn(Backend)) {
    for backend in backends() {
        eprintln!("-- {backend:?}");
        test(backend);
    }
}

fn sdk_key(server: &Server, environment: &str) -> String {
    let body = json!({ "name": format!("app-{environment}"), "role": "sdk", "environment": environment });
    let answer = server.admin().post("/api/v1/tokens", body);
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json["token"].as_str().unwrap().to_string()
}

fn batch_id(n: u32) -> String {
    format!("{n:032x}")
}

/// The same database the server writes, opened by the library (queries and clock of our own).
struct Direct {
    runtime: tokio::runtime::Runtime,
    store: Store,
}

impl Direct {
    fn open(database: &Database) -> Direct {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let store = runtime.block_on(Store::connect(&database.url)).unwrap();
        Direct { runtime, store }
    }

    fn window(&self, environment: &str, flag: &str, from_ms: i64, to_ms: i64) -> BTreeMap<String, Counts> {
        let arms = self.runtime.block_on(outcomes::window(&self.store, environment, flag, from_ms, to_ms)).unwrap();
        let tallies = self.runtime.block_on(outcomes::tallies(&self.store, environment, flag, from_ms, to_ms)).unwrap();
        assert_eq!(arms.keys().collect::<Vec<_>>(), tallies.keys().collect::<Vec<_>>());
        // `window` and `tallies` agree on every count; `window` adds the latencies.
        tallies
            .into_iter()
            .map(|(variant, mut counts)| {
                let arm = &arms[&variant];
                assert_eq!(
                    (arm.exposures, arm.requests, arm.errors),
                    (counts.exposures, counts.requests, counts.errors)
                );
                counts.latency = arm.latency.clone();
                (variant, counts)
            })
            .collect()
    }

    /// Everything ever stored of a flag.
    fn all(&self, environment: &str, flag: &str) -> BTreeMap<String, Counts> {
        self.window(environment, flag, 0, i64::MAX / 2)
    }

    fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        self.runtime.block_on(sqlx::query(sql).fetch_one(&self.store.pool)).unwrap().try_get("n").unwrap()
    }

    fn store(&self, environment: &str, body: &Value, now_ms: i64) -> bool {
        let batch = Batch::parse(body.to_string().as_bytes()).unwrap();
        self.runtime.block_on(outcomes::store(&self.store, environment, &batch, now_ms)).unwrap()
    }
}

fn sketch(latencies: &[f64]) -> LatencySketch {
    let mut sketch = LatencySketch::new();
    for ms in latencies {
        sketch.record(*ms);
    }
    sketch
}

fn counts(exposures: u64, requests: u64, errors: u64, conversions: u64, latency: LatencySketch) -> Counts {
    Counts { exposures, requests, errors, conversions, latency }
}

fn metric(server: &Server, result: &str) -> u64 {
    let text = server.client(None).get("/metrics").text;
    let name = format!("pennon_outcome_batches_total{{result=\"{result}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(name.as_str())).map_or(0, |n| n.trim().parse().unwrap())
}

#[test]
fn a_batch_is_stored_once_in_the_keys_environment_and_counted() {
    each_backend(|backend| {
        let (server, database) = Server::start(backend);
        let sdk = server.client(Some(&sdk_key(&server, "staging")));
        let body = json!({ "batch": batch_id(1), "sdk": "pennon-test/0",
            "flags": { "checkout.new": {
                "on": { "exposures": 1200, "requests": 1180, "errors": 12, "conversions": 30, "latency": [[212, 5], [230, 1100]] },
                "off": { "exposures": 10800, "requests": 10700, "errors": 90, "conversions": 240, "latency": [[210, 9000]] } },
              "not.yet.a.flag": { "v": { "exposures": 7 } } } });
        let answer = sdk.post("/sdk/v1/metrics", body.clone());
        assert_eq!((answer.status, &answer.json), (202, &json!({ "accepted": true })), "{}", answer.text);
        // The same batch again (an SDK that lost the answer): acknowledged, nothing added.
        let again = sdk.post("/sdk/v1/metrics", body);
        assert_eq!((again.status, &again.json), (202, &json!({ "accepted": false })), "{}", again.text);

        let direct = Direct::open(&database);
        let stored = direct.all("staging", "checkout.new");
        let mut on_latency = LatencySketch::new();
        on_latency.add_to_bucket(212, 5);
        on_latency.add_to_bucket(230, 1100);
        let mut off_latency = LatencySketch::new();
        off_latency.add_to_bucket(210, 9000);
        assert_eq!(stored["on"], counts(1200, 1180, 12, 30, on_latency));
        assert_eq!(stored["off"], counts(10800, 10700, 90, 240, off_latency));
        // A flag the environment does not have (yet) is kept: a rollout may start later.
        assert_eq!(direct.all("staging", "not.yet.a.flag")["v"].exposures, 7);
        // Only in the key's environment.
        assert!(direct.all("development", "checkout.new").is_empty());
        assert_eq!((metric(&server, "accepted"), metric(&server, "duplicate"), metric(&server, "refused")), (1, 1, 0));
    });
}

#[test]
fn bad_bodies_are_refused_with_their_path_and_nothing_is_stored() {
    each_backend(|backend| {
        let (server, database) = Server::start(backend);
        let key = sdk_key(&server, "development");
        let sdk = server.client(Some(&key));
        let id = batch_id(7);
        let many_flags: serde_json::Map<String, Value> =
            (0..=1000).map(|n| (format!("f{n}"), json!({ "on": { "exposures": 1 } }))).collect();
        let many_variants: serde_json::Map<String, Value> =
            (0..=100).map(|n| (format!("v{n}"), json!({ "exposures": 1 }))).collect();
        let cases = [
            (json!([1, 2]), "invalid_request", None),
            (json!({ "sdk": "x", "flags": { "f": { "on": { "exposures": 1 } } } }), "invalid_request", Some("/batch")),
            (json!({ "batch": 42 }), "invalid_request", Some("/batch")),
            (
                json!({ "batch": id, "flags": { "f": { "on": { "exposures": 1 } } }, "extra": true }),
                "invalid_request",
                Some("/extra"),
            ),
            (
                json!({ "batch": id, "flags": { "f": { "on": { "exposures": 1, "requests": -3 } } } }),
                "invalid_request",
                Some("/flags/f/on/requests"),
            ),
            (
                json!({ "batch": id, "flags": { "f": { "on": { "exposures": 1, "errors": "2" } } } }),
                "invalid_request",
                Some("/flags/f/on/errors"),
            ),
            (
                json!({ "batch": id, "flags": { "f": { "on": { "conversions": 9_007_199_254_740_992_u64 } } } }),
                "invalid_request",
                Some("/flags/f/on/conversions"),
            ),
            (
                json!({ "batch": id, "flags": { "f": { "on": { "latency": [[3, 1], [600, 1]] } } } }),
                "invalid_request",
                Some("/flags/f/on/latency/1"),
            ),
            (
                json!({ "batch": id, "flags": { "f": { "on": { "latency": { "3": 1 } } } } }),
                "invalid_request",
                Some("/flags/f/on/latency"),
            ),
            (json!({ "batch": id, "flags": { "f": { "on": 5 } } }), "invalid_request", Some("/flags/f/on")),
            (
                json!({ "batch": id, "flags": { "f": { "bad variant": {} } } }),
                "invalid_request",
                Some("/flags/f/bad variant"),
            ),
            (
                json!({ "batch": id, "flags": { "ok": { "on": { "exposures": 1 } }, "bad/flag": {} } }),
                "invalid_request",
                Some("/flags/bad~1flag"),
            ),
            (json!({ "batch": id, "flags": many_flags }), "invalid_request", Some("/flags")),
            (json!({ "batch": id, "flags": { "f": many_variants } }), "invalid_request", Some("/flags/f")),
        ];
        for (body, code, path) in &cases {
            let answer = sdk.post("/sdk/v1/metrics", body.clone());
            assert_eq!(answer.status, 400, "{body}: {}", answer.text);
            assert_eq!(answer.code(), *code, "{}", answer.text);
            assert_eq!(answer.json["error"]["path"].as_str(), *path, "{}", answer.text);
        }
        let not_json = sdk.send("POST", "/sdk/v1/metrics", None, &[]);
        assert_eq!((not_json.status, not_json.code()), (400, "invalid_json"), "{}", not_json.text);
        let http = reqwest::blocking::Client::new();
        let send_raw = |bytes: Vec<u8>| {
            let response = http
                .post(format!("{}/sdk/v1/metrics", server.url))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(bytes)
                .send()
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().unwrap_or(Value::Null))
        };
        let (status, answer) = send_raw(b"{\"batch\": ".to_vec());
        assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("invalid_json")));
        // Over 1 MiB: refused before it is read.
        let big = format!("{{\"batch\":\"{id}\",\"sdk\":\"{}\"}}", "x".repeat(outcomes::BODY_LIMIT));
        let (status, answer) = send_raw(big.into_bytes());
        assert_eq!((status, answer["error"]["code"].as_str()), (413, Some("payload_too_large")));

        let direct = Direct::open(&database);
        assert_eq!(direct.count("SELECT COUNT(*) AS n FROM outcomes"), 0);
        assert_eq!(direct.count("SELECT COUNT(*) AS n FROM outcome_batches"), 0);
        assert_eq!(metric(&server, "refused"), cases.len() as u64 + 3);
        assert_eq!(metric(&server, "accepted"), 0);
        // The id of a refused batch was not kept: the corrected batch is accepted.
        let fixed = sdk.post("/sdk/v1/metrics", json!({ "batch": id, "flags": { "f": { "on": { "exposures": 1 } } } }));
        assert_eq!(fixed.json, json!({ "accepted": true }), "{}", fixed.text);
        // Limits are inclusive: 1,000 flags fit (written in several statements).
        let at_limit: serde_json::Map<String, Value> = (0..1000)
            .map(|n| (format!("g{n}"), json!({ "on": { "exposures": 1, "latency": [[n % 512, 2]] } })))
            .collect();
        let answer = sdk.post("/sdk/v1/metrics", json!({ "batch": batch_id(8), "flags": at_limit }));
        assert_eq!(answer.status, 202, "{}", answer.text);
        let mut latency = LatencySketch::new();
        latency.add_to_bucket(999 % 512, 2);
        assert_eq!(direct.all("development", "g999")["on"], counts(1, 0, 0, 0, latency));
        assert_eq!(direct.all("development", "g0")["on"].latency.count(), 2);
    });
}

#[test]
fn batches_add_up_per_second_and_windows_take_the_seconds_that_begin_in_them() {
    each_backend(|backend| {
        let (server, database) = Server::start(backend);
        let direct = Direct::open(&database);
        let t = 1_800_000_000_000_i64; // a second boundary
        let batch = |n: u32, exposures: u64, latencies: &[f64]| {
            json!({ "batch": batch_id(n), "flags": { "f": {
                "on": { "exposures": exposures, "requests": exposures, "errors": 1, "conversions": 2, "latency": sketch(latencies).to_json() } } } })
        };
        assert!(direct.store("development", &batch(1, 10, &[5.0, 50.0]), t + 100));
        assert!(direct.store("development", &batch(2, 20, &[50.0]), t + 999));
        assert!(direct.store("development", &batch(3, 40, &[500.0]), t + 1000));
        assert!(direct.store("development", &batch(4, 80, &[]), t + 2500));
        // Two batches in one second are one row.
        assert_eq!(direct.count("SELECT COUNT(*) AS n FROM outcomes"), 3);

        let exposures =
            |from: i64, to: i64| direct.window("development", "f", from, to).get("on").map_or(0, |c| c.exposures);
        assert_eq!(exposures(t, t + 1000), 30);
        assert_eq!(exposures(t, t + 1001), 70);
        assert_eq!(exposures(t + 1, t + 2000), 40);
        assert_eq!(exposures(t + 1000, t + 3000), 120);
        assert_eq!(exposures(t + 2001, t + 3000), 0);
        assert_eq!(exposures(t - 5000, t), 0);
        let first = &direct.window("development", "f", t, t + 1000)["on"];
        assert_eq!(first, &counts(30, 30, 2, 4, sketch(&[5.0, 50.0, 50.0])));
        let all = &direct.window("development", "f", t, t + 3000)["on"];
        assert_eq!(all, &counts(150, 150, 4, 8, sketch(&[5.0, 50.0, 50.0, 500.0])));

        // Concurrent batches through the server in the same few seconds: nothing lost.
        let key = sdk_key(&server, "development");
        std::thread::scope(|scope| {
            for thread in 0..4_u32 {
                let client = server.client(Some(&key));
                scope.spawn(move || {
                    for n in 0..10_u32 {
                        let body = json!({ "batch": batch_id(1000 + thread * 100 + n), "flags": {
                            "g": { "on": { "exposures": 1, "requests": 1, "latency": [[100, 1]] }, "off": { "exposures": 2 } } } });
                        assert_eq!(client.post("/sdk/v1/metrics", body).json, json!({ "accepted": true }));
                    }
                });
            }
        });
        let all = direct.all("development", "g");
        assert_eq!(
            (all["on"].exposures, all["on"].requests, all["on"].latency.count(), all["off"].exposures),
            (40, 40, 40, 80)
        );
    });
}

#[test]
fn outcomes_older_than_the_retention_are_pruned() {
    each_backend(|backend| {
        let database = Database::new(backend);
        let direct = Direct::open(&database);
        let t = 1_700_000_000_000_i64; // in the past: the server prunes it too
        let body = |n: u32| json!({ "batch": batch_id(n), "flags": { "f": { "on": { "exposures": 1 } } } });
        assert!(direct.store("development", &body(1), t - 1));
        assert!(direct.store("development", &body(2), t));
        let removed = direct.runtime.block_on(outcomes::prune(&direct.store, t)).unwrap();
        assert_eq!(removed, 2, "the row of second t/1000 - 1 and the id of batch 1");
        assert_eq!(direct.all("development", "f")["on"].exposures, 1);
        assert!(direct.store("development", &body(1), t + 5), "a pruned id is forgotten");

        // The server prunes as batches arrive (`--outcome-retention`).
        let server = Server::start_on(&database, &["--outcome-retention", "PT2S"]);
        let sdk = server.client(Some(&sdk_key(&server, "development")));
        assert_eq!(sdk.post("/sdk/v1/metrics", body(10)).json, json!({ "accepted": true }));
        std::thread::sleep(std::time::Duration::from_millis(3200));
        assert_eq!(sdk.post("/sdk/v1/metrics", body(11)).json, json!({ "accepted": true }));
        assert_eq!(direct.all("development", "f")["on"].exposures, 1, "only batch 11 is left");
        assert_eq!(direct.count("SELECT COUNT(*) AS n FROM outcome_batches"), 1);
        assert_eq!(sdk.post("/sdk/v1/metrics", body(11)).json, json!({ "accepted": false }));
    });
}

fn split_flag() -> Value {
    json!({
        "type": "string",
        "state": "on",
        "variants": { "a": "A", "b": "B", "c": "C" },
        "offVariant": "a",
        "fallthrough": { "split": { "variants": [ { "variant": "a", "weight": 50 }, { "variant": "b", "weight": 25 }, { "variant": "c", "weight": 25 } ] } }
    })
}

#[test]
fn experiment_results_compare_every_variant_with_the_control_over_a_window() {
    each_backend(|backend| {
        let (server, _database) = Server::start(backend);
        let admin = server.admin();
        assert_eq!(admin.put(&format!("{DEV}/flags/exp"), json!({ "definition": split_flag() })).status, 201);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let sdk = server.client(Some(&sdk_key(&server, "development")));
        let body = json!({ "batch": batch_id(1), "flags": { "exp": {
            "a": { "exposures": 2000, "conversions": 200 },
            "b": { "exposures": 1000, "conversions": 130 },
            "c": { "exposures": 1000, "conversions": 100 } } } });
        assert_eq!(sdk.post("/sdk/v1/metrics", body).status, 202);

        let answer = admin.get(&format!("{DEV}/experiments/exp"));
        assert_eq!(answer.status, 200, "{}", answer.text);
        let result = &answer.json;
        assert_eq!((result["environment"].as_str(), result["flag"].as_str()), (Some("development"), Some("exp")));
        let from = pennon_core::time::parse_timestamp(result["from"].as_str().unwrap()).unwrap();
        let to = pennon_core::time::parse_timestamp(result["to"].as_str().unwrap()).unwrap();
        assert!(from < to);
        let variants = result["variants"].as_array().unwrap();
        let by_name =
            |name: &str| variants.iter().find(|v| v["variant"] == name).unwrap_or_else(|| panic!("{name}: {result}"));
        assert_eq!((by_name("a")["exposures"].as_u64(), by_name("a")["conversions"].as_u64()), (Some(2000), Some(200)));
        assert_eq!((by_name("b")["exposures"].as_u64(), by_name("b")["conversions"].as_u64()), (Some(1000), Some(130)));
        assert_eq!(result["control"], "a");
        // By hand: rates 200/2000 = 10 %, 130/1000 = 13 %, 100/1000 = 10 %; b's difference
        // 0.03 and lift 0.13/0.10 − 1 = 30 %, c's 0; exposures 2000:1000:1000 are exactly
        // the promised 50:25:25, so χ² = 0 and its p-value 1.
        let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1e-12;
        assert!(close(&by_name("a")["rate"], 0.1) && close(&by_name("b")["rate"], 0.13), "{result}");
        assert!(close(&by_name("b")["difference"]["estimate"], 0.03), "{result}");
        assert!(close(&by_name("b")["lift"]["estimate"], 0.3), "{result}");
        assert!(close(&by_name("c")["lift"]["estimate"], 0.0), "{result}");
        assert!(close(&by_name("b")["weight"], 0.25) && close(&by_name("a")["weight"], 0.5), "{result}");
        let interval = by_name("b")["lift"]["interval"].as_array().unwrap();
        assert!(interval[0].as_f64().unwrap() < 0.3 && 0.3 < interval[1].as_f64().unwrap(), "{result}");
        assert_eq!(by_name("a")["control"], true);
        assert!(close(&result["sampleRatio"]["chi2"], 0.0) && close(&result["sampleRatio"]["pValue"], 1.0), "{result}");
        assert_eq!(result["warnings"], json!([]));

        // 1000:1300 against 50:50: χ² = 2 · 150² / 1150 = 39.13, p ≈ 4·10⁻¹⁰ → the warning.
        let mut skewed = split_flag();
        skewed["variants"] = json!({ "a": "A", "b": "B" });
        skewed["fallthrough"] =
            json!({ "split": { "variants": [ { "variant": "a", "weight": 50 }, { "variant": "b", "weight": 50 } ] } });
        assert_eq!(admin.put(&format!("{DEV}/flags/skewed"), json!({ "definition": skewed })).status, 201);
        let body = json!({ "batch": batch_id(2), "flags": { "skewed": {
            "a": { "exposures": 1000, "conversions": 100 }, "b": { "exposures": 1300, "conversions": 130 } } } });
        assert_eq!(sdk.post("/sdk/v1/metrics", body).status, 202);
        let srm = admin.get(&format!("{DEV}/experiments/skewed?since=2000-01-01T00:00:00Z")).json;
        assert!((srm["sampleRatio"]["chi2"].as_f64().unwrap() - 2.0 * 22_500.0 / 1150.0).abs() < 1e-9, "{srm}");
        assert_eq!(srm["sampleRatio"]["mismatch"], true, "{srm}");
        assert!(srm["warnings"][0].as_str().unwrap().starts_with("sample ratio mismatch"), "{srm}");

        // The window starts at the flag's last change: outcomes before it are not counted.
        let change = json!({ "state": "on", "reason": "restart the experiment" });
        let changed = admin.post(&format!("{DEV}/flags/exp/state"), change);
        assert_eq!(changed.status, 200, "{}", changed.text);
        let after = admin.get(&format!("{DEV}/experiments/exp"));
        assert_eq!(after.status, 200, "{}", after.text);
        let exposures: Vec<u64> =
            after.json["variants"].as_array().unwrap().iter().map(|v| v["exposures"].as_u64().unwrap()).collect();
        assert_eq!(exposures, [0, 0, 0], "{}", after.text);
        let since = admin.get(&format!("{DEV}/experiments/exp?since={}", result["from"].as_str().unwrap()));
        assert_eq!(since.json["variants"], result["variants"], "{}", since.text);

        let control = admin.get(&format!("{DEV}/experiments/exp?control=b"));
        assert_eq!((control.status, control.json["control"].as_str()), (200, Some("b")), "{}", control.text);
        let unknown = admin.get(&format!("{DEV}/experiments/exp?control=zzz"));
        assert_eq!((unknown.status, unknown.code()), (422, "invalid_request"), "{}", unknown.text);
        let bad_time = admin.get(&format!("{DEV}/experiments/exp?since=yesterday"));
        assert_eq!((bad_time.status, bad_time.code()), (400, "invalid_request"), "{}", bad_time.text);
        assert_eq!(admin.get(&format!("{DEV}/experiments/nope")).status, 404);
        assert_eq!(admin.get("/api/v1/environments/nowhere/experiments/exp").status, 404);
        // A flag without outcomes has results too (all zero).
        assert_eq!(admin.put(&format!("{DEV}/flags/quiet"), json!({ "definition": boolean_flag("on") })).status, 201);
        assert_eq!(admin.get(&format!("{DEV}/experiments/quiet")).status, 200);
    });
}

#[test]
fn pennon_experiment_results_prints_a_table_or_the_json() {
    let backend = backends()[0];
    let (server, _database) = Server::start(backend);
    let admin = server.admin();
    assert_eq!(admin.put(&format!("{DEV}/flags/exp"), json!({ "definition": split_flag() })).status, 201);
    let sdk = server.client(Some(&sdk_key(&server, "development")));
    let body = json!({ "batch": batch_id(1), "flags": { "exp": {
        "a": { "exposures": 2000, "conversions": 200 }, "b": { "exposures": 1000, "conversions": 130 } } } });
    assert_eq!(sdk.post("/sdk/v1/metrics", body).status, 202);
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(binary())
            .args(args)
            .args(["--url", &server.url, "--token", ADMIN_TOKEN])
            .env_remove("PENNON_ENV")
            .env_remove("PENNON_CONFIG")
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let since = "2000-01-01T00:00:00Z";
    let (code, stdout, stderr) = run(&["experiment", "results", "exp", "--since", since]);
    assert_eq!(code, Some(0), "{stderr}");
    let header = stdout.lines().find(|line| line.starts_with("VARIANT")).unwrap_or_else(|| panic!("{stdout}"));
    for column in ["EXPOSURES", "CONVERSIONS", "RATE", "LIFT", "P-VALUE"] {
        assert!(header.contains(column), "{stdout}");
    }
    let row = |name: &str| {
        stdout.lines().find(|line| line.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("{stdout}"))
    };
    assert!(row("a").contains("2000") && row("a").contains("10.0%"), "{stdout}");
    assert!(row("b").contains("1000") && row("b").contains("13.0%"), "{stdout}");
    let (code, stdout, _) = run(&["experiment", "results", "exp", "--since", since, "--json", "--control", "b"]);
    assert_eq!(code, Some(0));
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((json["flag"].as_str(), json["control"].as_str()), (Some("exp"), Some("b")));
    let (code, _, stderr) = run(&["experiment", "results", "nope"]);
    assert_eq!(code, Some(5), "{stderr}");
    assert!(stderr.starts_with("pennon: ") && stderr.lines().count() == 1, "{stderr}");
}
