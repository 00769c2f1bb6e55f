//! The language-neutral SDK behaviour suite (`tests/sdk/`, format in its README), run by
//! the Rust SDK: every scenario in `tests/sdk/scenarios/` against its own
//! `pennon-sdk-harness` process.
//!
//! The harness binary is found, in this order: `PENNON_SDK_HARNESS`; then
//! `$CARGO_TARGET_DIR/debug/pennon-sdk-harness` (or the workspace's `target/debug/…`). A
//! missing binary fails loudly with the command that builds it (a nested `cargo build`
//! would wait on the lock `cargo test` holds). `PENNON_SCENARIO=name` runs one scenario.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use pennon::{Client, Context, Details, Event};
use serde_json::{Value, json};

/// Scenarios the Rust SDK cannot express, by name, with the reason. Every other scenario
/// runs; nothing is skipped silently.
const NOT_EXPRESSIBLE: &[(&str, &str)] = &[];

/// The SDK key every runner uses (scenarios check it arrives as `Authorization: Bearer`).
const SDK_KEY: &str = "harness-sdk-key";
/// How long an `expect*` step waits when it gives no `withinMs`.
const DEFAULT_WITHIN: Duration = Duration::from_millis(3000);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn harness_binary() -> PathBuf {
    if let Ok(path) = std::env::var("PENNON_SDK_HARNESS") {
        let path = PathBuf::from(path);
        assert!(path.exists(), "PENNON_SDK_HARNESS={} does not exist", path.display());
        return path;
    }
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| repo_root().join("target"));
    let candidate = target.join("debug").join("pennon-sdk-harness");
    assert!(
        candidate.exists(),
        "the SDK scenarios need the harness: run `cargo build -p pennon-sdk-harness` with the same CARGO_TARGET_DIR \
         first, or set PENNON_SDK_HARNESS (looked for {})",
        candidate.display()
    );
    candidate
}

/// One harness process, killed on drop.
struct Harness {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl Harness {
    fn start() -> Result<Harness, String> {
        let mut child = Command::new(harness_binary())
            .arg("--exit-with-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the harness: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(url) = line.strip_prefix("harness: listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                return Err("the harness did not print `harness: listening on URL`".into());
            }
        };
        let http =
            reqwest::blocking::Client::builder().timeout(Duration::from_secs(5)).build().map_err(|e| e.to_string())?;
        Ok(Harness { child, url, http })
    }

    fn control(&self, request: reqwest::blocking::RequestBuilder) -> Result<Value, String> {
        let response = request.send().map_err(|e| format!("the harness control API failed: {e}"))?;
        let status = response.status();
        let text = response.text().map_err(|e| format!("the harness answer broke: {e}"))?;
        let body: Value =
            serde_json::from_str(&text).map_err(|e| format!("the harness answered no JSON: {e}: {text}"))?;
        if !status.is_success() {
            return Err(format!("the harness refused: {status} {body}"));
        }
        Ok(body)
    }

    fn script(&self, serve: &Value) -> Result<(), String> {
        let request = self
            .http
            .post(format!("{}/_harness/script", self.url))
            .header("content-type", "application/json")
            .body(serve.to_string());
        self.control(request).map(|_| ())
    }

    /// The request log since the last call (SDK routes and others).
    fn requests(&self) -> Result<Vec<Value>, String> {
        let body = self.control(self.http.get(format!("{}/_harness/requests", self.url)))?;
        Ok(body["requests"].as_array().cloned().unwrap_or_default())
    }

    fn public_key(&self, which: &str) -> Result<String, String> {
        let body = self.control(self.http.get(format!("{}/_harness/public-key", self.url)))?;
        let field = if which == "wrong" { "wrongPublicKey" } else { "publicKey" };
        body[field].as_str().map(str::to_owned).ok_or_else(|| format!("no {field} in {body}"))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running scenario: the harness, and the client once a step needs it.
struct Run<'a> {
    harness: &'a Harness,
    config: &'a Value,
    client: Option<(Client, Receiver<Event>)>,
}

fn ms(value: &Value) -> Option<Duration> {
    value.as_u64().map(Duration::from_millis)
}

fn within(spec: &Value) -> Duration {
    ms(&spec["withinMs"]).unwrap_or(DEFAULT_WITHIN)
}

impl Run<'_> {
    /// The client, built at the first step that is not `serve` (so the harness is
    /// scripted before the client's first request), with its event subscription.
    fn client(&mut self) -> Result<&(Client, Receiver<Event>), String> {
        if self.client.is_none() {
            let client = self.build()?;
            let events = client.events();
            self.client = Some((client, events));
        }
        self.client.as_ref().ok_or_else(|| "no client".to_owned())
    }

    fn build(&self) -> Result<Client, String> {
        let c = self.config;
        let mut builder = Client::builder().url(&self.harness.url).sdk_key(SDK_KEY);
        for key in c.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            let known = [
                "stream",
                "pollIntervalMs",
                "initTimeoutMs",
                "staleAfterMs",
                "heartbeatMs",
                "publicKey",
                "backoffBaseMs",
                "backoffCapMs",
                "breakerFailures",
                "breakerOpenMs",
            ];
            if !known.contains(&key.as_str()) {
                return Err(format!("client option `{key}` is unknown to the Rust runner"));
            }
        }
        if let Some(stream) = c["stream"].as_bool() {
            builder = builder.stream(stream);
        }
        if let Some(d) = ms(&c["pollIntervalMs"]) {
            builder = builder.poll_interval(d);
        }
        if let Some(d) = ms(&c["initTimeoutMs"]) {
            builder = builder.init_timeout(d);
        }
        if let Some(d) = ms(&c["staleAfterMs"]) {
            builder = builder.stale_after(d);
        }
        if let Some(d) = ms(&c["heartbeatMs"]) {
            builder = builder.heartbeat(d);
        }
        if let Some(which) = c["publicKey"].as_str() {
            builder = builder.public_key(&self.harness.public_key(which)?);
        }
        if !c["backoffBaseMs"].is_null() || !c["backoffCapMs"].is_null() {
            let base = ms(&c["backoffBaseMs"]).unwrap_or(Duration::from_secs(1));
            let cap = ms(&c["backoffCapMs"]).unwrap_or(Duration::from_secs(30));
            builder = builder.backoff(base, cap);
        }
        if !c["breakerFailures"].is_null() || !c["breakerOpenMs"].is_null() {
            let failures = c["breakerFailures"].as_u64().map_or(5, |n| u32::try_from(n).unwrap_or(u32::MAX));
            let open = ms(&c["breakerOpenMs"]).unwrap_or(Duration::from_secs(30));
            builder = builder.breaker(failures, open);
        }
        builder.build().map_err(|e| format!("the client did not build: {e}"))
    }

    fn step(&mut self, step: &Value) -> Result<(), String> {
        let (kind, spec) = step
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
            .ok_or("a step is an object with exactly one key")?;
        match kind.as_str() {
            "serve" => self.harness.script(spec),
            "wait" => {
                self.client()?;
                std::thread::sleep(ms(spec).ok_or("`wait` is a number of ms")?);
                Ok(())
            }
            "ready" => self.ready(spec),
            "expectValue" => self.expect_value(spec),
            "expectEvent" => self.expect_event(spec),
            "expectNoEvent" => self.expect_no_event(spec),
            "expectRequests" => self.expect_requests(spec),
            "expectNoRequests" => self.expect_no_requests(spec),
            other => Err(format!("unknown step `{other}`")),
        }
    }

    fn ready(&mut self, spec: &Value) -> Result<(), String> {
        let started = Instant::now();
        let result = self.client()?.0.wait_ready();
        let took = started.elapsed();
        let want_error = spec.get("error").and_then(Value::as_bool).unwrap_or(false);
        match (result, want_error) {
            (Ok(()), false) => Ok(()),
            (Ok(()), true) => Err("ready succeeded, the scenario expects an error".into()),
            (Err(error), false) => Err(format!("ready failed: {error}")),
            (Err(error), true) => {
                if let Some(code) = spec.get("code").and_then(Value::as_str)
                    && error.code != code
                {
                    return Err(format!("ready failed with code `{}`, expected `{code}`: {error}", error.code));
                }
                if let Some(limit) = spec.get("withinMs").and_then(ms)
                    && took > limit
                {
                    return Err(format!("ready took {took:?} to fail, more than {limit:?}"));
                }
                Ok(())
            }
        }
    }

    fn expect_value(&mut self, spec: &Value) -> Result<(), String> {
        let flag = spec["flag"].as_str().ok_or("expectValue needs `flag`")?.to_owned();
        let context = Context::from_value(spec["context"].clone()).map_err(|e| format!("bad context: {e:?}"))?;
        let deadline = Instant::now() + within(spec);
        let client = self.client()?.0.clone();
        loop {
            let details = client.evaluate(&flag, &context);
            let mismatch = value_mismatch(spec, &details);
            match mismatch {
                None => return Ok(()),
                Some(why) if Instant::now() >= deadline => {
                    return Err(format!("flag `{flag}`: {why} (details: {details:?})"));
                }
                Some(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    fn expect_event(&mut self, spec: &Value) -> Result<(), String> {
        let deadline = Instant::now() + within(spec);
        let events = &self.client()?.1;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(event) if event_matches(spec, &event) => return Ok(()),
                Ok(event) => seen.push(event),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    return Err(format!("no matching event within {:?}; saw {seen:?}", within(spec)));
                }
            }
        }
    }

    fn expect_no_event(&mut self, spec: &Value) -> Result<(), String> {
        let window = ms(&spec["forMs"]).ok_or("expectNoEvent needs `forMs`")?;
        let deadline = Instant::now() + window;
        let events = &self.client()?.1;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(event) if event_matches(spec, &event) => return Err(format!("unexpected event {event:?}")),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }

    fn expect_requests(&mut self, spec: &Value) -> Result<(), String> {
        self.client()?;
        let deadline = Instant::now() + within(spec);
        let mut log = Vec::new();
        loop {
            log.extend(self.harness.requests()?);
            let problems: Vec<String> = ["snapshot", "stream"]
                .into_iter()
                .filter(|route| spec.get(*route).is_some())
                .filter_map(|route| route_mismatch(route, &spec[route], &log))
                .collect();
            if problems.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("{} (log: {})", problems.join("; "), summarize(&log)));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn expect_no_requests(&mut self, spec: &Value) -> Result<(), String> {
        self.client()?;
        let window = ms(&spec["forMs"]).ok_or("expectNoRequests needs `forMs`")?;
        self.harness.requests()?;
        std::thread::sleep(window);
        let log: Vec<Value> = self.harness.requests()?.into_iter().filter(|r| r["route"] != "other").collect();
        if log.is_empty() { Ok(()) } else { Err(format!("requests arrived within {window:?}: {}", summarize(&log))) }
    }
}

fn summarize(log: &[Value]) -> String {
    let lines: Vec<String> =
        log.iter().map(|r| format!("{}@{}ms:{} {}", r["route"], r["atMs"], r["status"], r["headers"])).collect();
    format!("[{}]", lines.join(", "))
}

/// Numbers compare by value (`3` equals `3.0`), everything else structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn value_mismatch(spec: &Value, details: &Details) -> Option<String> {
    if !same(&spec["value"], &details.value) {
        return Some(format!("value {} (expected {})", details.value, spec["value"]));
    }
    let optional = |key: &str, got: Value| -> Option<String> {
        let want = spec.get(key)?;
        (!same(want, &got)).then(|| format!("{key} {got} (expected {want})"))
    };
    optional("revision", json!(details.revision))
        .or_else(|| optional("variant", json!(details.variant)))
        .or_else(|| optional("reason", json!(details.reason)))
        .or_else(|| optional("stage", json!(details.stage)))
        .or_else(|| optional("errorCode", json!(details.error_code)))
}

fn event_matches(spec: &Value, event: &Event) -> bool {
    let (kind, fields) = match event {
        Event::Ready { revision, recovered } => ("ready", json!({"revision": revision, "recovered": recovered})),
        Event::Change { revision, previous_revision, flags } => {
            ("change", json!({"revision": revision, "previousRevision": previous_revision, "flags": flags}))
        }
        Event::Error { code, message } => ("error", json!({"code": code, "message": message})),
        Event::Stale { since_ms, revision } => ("stale", json!({"since": since_ms, "revision": revision})),
    };
    if spec["type"] != kind {
        return false;
    }
    ["revision", "previousRevision", "code", "recovered"].into_iter().all(|key| match spec.get(key) {
        None => true,
        Some(want) => same(want, &fields[key]),
    }) && match spec.get("flags").and_then(Value::as_array) {
        // Exactly core's keys (Snapshot::changed_flags), sorted: every SDK reports the same.
        None => true,
        Some(wanted) => fields["flags"].as_array() == Some(wanted),
    }
}

/// Why the requests of `route` in `log` do not meet `spec`, if they do not.
fn route_mismatch(route: &str, spec: &Value, log: &[Value]) -> Option<String> {
    let requests: Vec<&Value> = log
        .iter()
        .filter(|r| r["route"] == route)
        .filter(|r| spec.get("status").is_none_or(|status| r["status"] == *status))
        .collect();
    let n = requests.len() as u64;
    let what = match spec.get("status") {
        Some(status) => format!("{route} requests answered {status}"),
        None => format!("{route} requests"),
    };
    if let Some(count) = spec["count"].as_u64()
        && n != count
    {
        return Some(format!("{n} {what}, expected {count}"));
    }
    if let Some(min) = spec["min"].as_u64()
        && n < min
    {
        return Some(format!("{n} {what}, expected at least {min}"));
    }
    if let Some(max) = spec["max"].as_u64()
        && n > max
    {
        return Some(format!("{n} {what}, expected at most {max}"));
    }
    if let Some(headers) = spec["every"].as_object()
        && let Some(bad) = requests.iter().find(|r| !headers_match(headers, r))
    {
        return Some(format!("a {route} request does not have {}: {}", Value::from(headers.clone()), bad["headers"]));
    }
    if let Some(headers) = spec["some"].as_object()
        && !requests.iter().any(|r| headers_match(headers, r))
    {
        return Some(format!("no {what} has {}", Value::from(headers.clone())));
    }
    None
}

fn headers_match(expected: &serde_json::Map<String, Value>, request: &Value) -> bool {
    expected.iter().all(|(name, want)| {
        let got = &request["headers"][name.to_ascii_lowercase()];
        match want {
            Value::Bool(present) => *present != got.is_null(),
            want => want == got,
        }
    })
}

fn run_scenario(scenario: &Value) -> Result<(), String> {
    let harness = Harness::start()?;
    let mut run = Run { harness: &harness, config: &scenario["client"], client: None };
    let steps = scenario["steps"].as_array().ok_or("no steps")?;
    let mut result = Ok(());
    for (index, step) in steps.iter().enumerate() {
        if let Err(why) = run.step(step) {
            result = Err(format!("step {} {step}: {why}", index + 1));
            break;
        }
    }
    if let Some((client, _)) = run.client.take() {
        client.close();
    }
    result
}

#[test]
fn every_scenario_in_tests_sdk() {
    let dir = repo_root().join("tests/sdk/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no scenarios in {}", dir.display());
    let only = std::env::var("PENNON_SCENARIO").ok();
    let scenarios: Vec<(String, Value)> = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let scenario: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = scenario["name"].as_str().unwrap_or_else(|| panic!("{}: no name", path.display())).to_owned();
            (name, scenario)
        })
        .collect();
    for (name, _) in NOT_EXPRESSIBLE {
        assert!(scenarios.iter().any(|(n, _)| n == name), "NOT_EXPRESSIBLE names `{name}`, which is no scenario");
    }
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, scenario) in &scenarios {
        if only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        if let Some((_, reason)) = NOT_EXPRESSIBLE.iter().find(|(n, _)| n == name) {
            println!("scenario {name}: NOT RUN (the Rust SDK cannot express it: {reason})");
            continue;
        }
        let started = Instant::now();
        ran += 1;
        match run_scenario(scenario) {
            Ok(()) => println!("scenario {name}: ok ({} ms)", started.elapsed().as_millis()),
            Err(why) => {
                println!("scenario {name}: FAILED at {why}");
                failures.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(ran > 0, "no scenario ran (PENNON_SCENARIO={only:?})");
    assert!(failures.is_empty(), "{} of {ran} scenarios failed:\n{}", failures.len(), failures.join("\n"));
}
