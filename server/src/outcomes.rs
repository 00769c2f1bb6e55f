//! Outcomes: what SDKs send to `POST /sdk/v1/metrics` (DESIGN §7, §9), summed per
//! environment, flag, variant and second of the server's clock, and read back as the
//! windows that rollout judgement and experiment results work on.
//!
//! A batch carries a random id; the id is stored in the same transaction as the counts,
//! so an acknowledged batch is durable and a batch sent again (an SDK retrying after a
//! lost answer) adds nothing. Rows and ids older than the retention period are pruned
//! as batches arrive, at most once a minute.

use crate::app::App;
use crate::change::valid_key;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pennon_core::judgement::Arm;
use pennon_core::judgement::sketch::LatencySketch;
use serde_json::{Map, Value, json};
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Largest body of `POST /sdk/v1/metrics`.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Most flags in one batch.
pub const MAX_FLAGS: usize = 1000;
/// Most variants of one flag in one batch.
pub const MAX_VARIANTS: usize = 100;
/// Largest count accepted (2⁵³ − 1, exact in every JSON implementation).
pub const MAX_COUNT: u64 = (1 << 53) - 1;
/// Default retention of outcomes and batch ids.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(14 * 86_400);
/// Pruning runs at most this often (or as often as the retention period, if shorter).
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// One flag × variant's counts in a batch or a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Evaluations that served the variant.
    pub exposures: u64,
    /// Requests recorded (successes and errors).
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Conversions recorded.
    pub conversions: u64,
    /// Latencies of the requests.
    pub latency: LatencySketch,
}

impl Counts {
    fn is_empty(&self) -> bool {
        self.exposures == 0
            && self.requests == 0
            && self.errors == 0
            && self.conversions == 0
            && self.latency.count() == 0
    }
}

/// A batch as SDKs send it: `{batch, sdk?, flags: {flag: {variant: {exposures?,
/// requests?, errors?, conversions?, latency?}}}}`. Documents the body in OpenAPI.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct BatchBody {
    /// The batch's id: 16 to 64 characters of `A–Z a–z 0–9 _ -` (32 random hex digits
    /// recommended). A batch whose id the server has stored adds nothing.
    pub batch: String,
    /// The SDK that sends it (`pennon-node/0.1.0`), for logs.
    pub sdk: Option<String>,
    /// Per flag and variant, what happened since the previous batch the server accepted.
    #[serde(default)]
    pub flags: BTreeMap<String, BTreeMap<String, VariantBody>>,
}

/// One flag × variant in a batch: deltas; absent fields are 0 / empty.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct VariantBody {
    /// Evaluations that served this variant.
    pub exposures: Option<u64>,
    /// Requests recorded (`ok` or `error`).
    pub requests: Option<u64>,
    /// Requests recorded as `error`.
    pub errors: Option<u64>,
    /// Conversions recorded.
    pub conversions: Option<u64>,
    /// The requests' latency sketch, `[[bucket, count], …]` (core's `judgement::sketch`).
    #[schema(value_type = Option<Vec<Vec<u64>>>)]
    pub latency: Option<Value>,
}

/// A batch, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Its id.
    pub id: String,
    /// The SDK that sent it.
    pub sdk: Option<String>,
    /// flag → variant → counts.
    pub flags: BTreeMap<String, BTreeMap<String, Counts>>,
}

/// JSON Pointer of a path of keys.
fn pointer(keys: &[&str]) -> String {
    keys.iter().map(|key| format!("/{}", key.replace('~', "~0").replace('/', "~1"))).collect()
}

/// `400 invalid_request` at `keys`.
fn refuse(keys: &[&str], message: impl Into<String>) -> ApiError {
    let mut error = ApiError::bad_request(message);
    error.path = (!keys.is_empty()).then(|| pointer(keys));
    error
}

fn object<'a>(value: &'a Value, keys: &[&str], what: &str) -> ApiResult<&'a Map<String, Value>> {
    value.as_object().ok_or_else(|| refuse(keys, format!("{what} must be a JSON object")))
}

fn count(value: &Value, keys: &[&str]) -> ApiResult<u64> {
    value
        .as_u64()
        .filter(|n| *n <= MAX_COUNT)
        .ok_or_else(|| refuse(keys, format!("must be an integer from 0 to {MAX_COUNT}")))
}

fn latency(value: &Value, keys: &[&str]) -> ApiResult<LatencySketch> {
    LatencySketch::from_json(value).map_err(|error| {
        // Name the entry that was refused when there is one.
        let entry = value.as_array().and_then(|entries| {
            entries.iter().position(|entry| LatencySketch::from_json(&Value::Array(vec![entry.clone()])).is_err())
        });
        let position = entry.map(|position| position.to_string());
        let mut keys = keys.to_vec();
        keys.extend(position.as_deref());
        refuse(&keys, error.0)
    })
}

fn valid_batch_id(id: &str) -> bool {
    (16..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

impl Batch {
    /// Reads and checks a body: `400 invalid_json` when it is not JSON, `400
    /// invalid_request` naming the JSON path of the first thing wrong otherwise.
    pub fn parse(bytes: &[u8]) -> ApiResult<Batch> {
        let body: Value =
            serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_json(format!("the body is not JSON: {e}")))?;
        let body = object(&body, &[], "the body")?;
        if let Some(unknown) = body.keys().find(|key| !matches!(key.as_str(), "batch" | "sdk" | "flags")) {
            return Err(refuse(&[unknown], format!("unknown field '{unknown}' (batch, sdk, flags)")));
        }
        let id = match body.get("batch") {
            Some(Value::String(id)) if valid_batch_id(id) => id.clone(),
            Some(_) => return Err(refuse(&["batch"], "must be 16 to 64 characters of A-Z a-z 0-9 _ -")),
            None => return Err(refuse(&["batch"], "a batch needs an id (`batch`)")),
        };
        let sdk = match body.get("sdk") {
            None | Some(Value::Null) => None,
            Some(Value::String(sdk)) if sdk.len() <= 200 => Some(sdk.clone()),
            Some(_) => return Err(refuse(&["sdk"], "must be a string of at most 200 bytes")),
        };
        let mut flags = BTreeMap::new();
        let empty = Map::new();
        let given = match body.get("flags") {
            None | Some(Value::Null) => &empty,
            Some(value) => object(value, &["flags"], "flags")?,
        };
        if given.len() > MAX_FLAGS {
            return Err(refuse(&["flags"], format!("{} flags in one batch; at most {MAX_FLAGS}", given.len())));
        }
        for (flag, variants) in given {
            let at = ["flags", flag.as_str()];
            if !valid_key(flag) {
                return Err(refuse(&at, format!("'{flag}' is not a flag key")));
            }
            let variants = object(variants, &at, "a flag's outcomes")?;
            if variants.len() > MAX_VARIANTS {
                return Err(refuse(&at, format!("{} variants of one flag; at most {MAX_VARIANTS}", variants.len())));
            }
            let mut parsed = BTreeMap::new();
            for (variant, fields) in variants {
                let at = ["flags", flag.as_str(), variant.as_str()];
                if !valid_key(variant) {
                    return Err(refuse(&at, format!("'{variant}' is not a variant name")));
                }
                let mut counts = Counts::default();
                for (field, value) in object(fields, &at, "a variant's outcomes")? {
                    let at = ["flags", flag.as_str(), variant.as_str(), field.as_str()];
                    match field.as_str() {
                        "exposures" => counts.exposures = count(value, &at)?,
                        "requests" => counts.requests = count(value, &at)?,
                        "errors" => counts.errors = count(value, &at)?,
                        "conversions" => counts.conversions = count(value, &at)?,
                        "latency" => counts.latency = latency(value, &at)?,
                        _ => {
                            return Err(refuse(
                                &at,
                                format!("unknown field '{field}' (exposures, requests, errors, conversions, latency)"),
                            ));
                        }
                    }
                }
                parsed.insert(variant.clone(), counts);
            }
            flags.insert(flag.clone(), parsed);
        }
        Ok(Batch { id, sdk, flags })
    }
}

/// Rows written by one statement (8 parameters each, well below SQLite's and
/// PostgreSQL's limits).
const ROWS_PER_STATEMENT: usize = 500;

/// `($1, …, $k)extra, ($k+1, …)extra, …` for `rows` rows of `k` parameters each.
fn placeholders(rows: usize, k: usize, extra: &str) -> String {
    (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=k).map(|i| format!("${}", row * k + i)).collect();
            format!("({}{extra})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn stored_sketch(text: &str) -> ApiResult<LatencySketch> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ApiError::internal(format!("a stored latency sketch: {e}")))?;
    LatencySketch::from_json(&value).map_err(|e| ApiError::internal(format!("a stored latency sketch: {}", e.0)))
}

/// Stores a batch received at `now_ms` in `environment`: adds its counts to the rows of
/// that second and records its id, in one transaction. `false` (nothing added) when a
/// batch with this id was stored before.
pub async fn store(store: &Store, environment: &str, batch: &Batch, now_ms: i64) -> ApiResult<bool> {
    let second = now_ms.div_euclid(1000);
    // The first statement writes, so that SQLite takes its write lock at once.
    let mut tx = store.pool.begin().await?;
    let inserted =
        sqlx::query("INSERT INTO outcome_batches (id, received_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(batch.id.clone())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    // In key order, so that concurrent batches lock rows in the same order (PostgreSQL).
    let rows: Vec<(&String, &String, &Counts)> = batch
        .flags
        .iter()
        .flat_map(|(flag, variants)| variants.iter().map(move |(variant, counts)| (flag, variant, counts)))
        .filter(|(_, _, counts)| !counts.is_empty())
        .collect();
    let mut sketches = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        // Counts add up in the database; sketches are merged here, on the rows the upsert
        // has locked until commit.
        let values = placeholders(chunk.len(), 8, ", '[]'");
        let sql = format!(
            "INSERT INTO outcomes (environment, second, flag, variant, exposures, requests, errors, conversions, latency) \
             VALUES {values} ON CONFLICT (environment, flag, variant, second) DO UPDATE SET \
             exposures = outcomes.exposures + excluded.exposures, requests = outcomes.requests + excluded.requests, \
             errors = outcomes.errors + excluded.errors, conversions = outcomes.conversions + excluded.conversions \
             RETURNING flag, variant, latency"
        );
        let mut query = sqlx::query(&sql);
        for (flag, variant, counts) in chunk {
            query = query
                .bind(environment.to_string())
                .bind(second)
                .bind((*flag).clone())
                .bind((*variant).clone())
                .bind(signed(counts.exposures))
                .bind(signed(counts.requests))
                .bind(signed(counts.errors))
                .bind(signed(counts.conversions));
        }
        for row in query.fetch_all(&mut *tx).await? {
            let (flag, variant): (String, String) = (row.try_get("flag")?, row.try_get("variant")?);
            let Some(latency) = batch.flags.get(&flag).and_then(|v| v.get(&variant)).map(|c| &c.latency) else {
                continue;
            };
            if latency.count() > 0 {
                let mut merged = stored_sketch(&row.try_get::<String, _>("latency")?)?;
                merged.merge(latency);
                sketches.push((flag, variant, merged.to_json().to_string()));
            }
        }
    }
    for chunk in sketches.chunks(ROWS_PER_STATEMENT) {
        let values = placeholders(chunk.len(), 3, "");
        let (environment_at, second_at) = (chunk.len() * 3 + 1, chunk.len() * 3 + 2);
        let sql = format!(
            "UPDATE outcomes SET latency = v.column3 FROM (VALUES {values}) AS v \
             WHERE outcomes.flag = v.column1 AND outcomes.variant = v.column2 \
             AND outcomes.environment = ${environment_at} AND outcomes.second = ${second_at}"
        );
        let mut query = sqlx::query(&sql);
        for (flag, variant, latency) in chunk {
            query = query.bind(flag.clone()).bind(variant.clone()).bind(latency.clone());
        }
        query.bind(environment.to_string()).bind(second).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Removes outcomes of seconds before `before_ms` and the ids of batches received
/// before it; returns how many rows went.
pub async fn prune(store: &Store, before_ms: i64) -> ApiResult<u64> {
    let mut tx = store.pool.begin().await?;
    let rows = sqlx::query("DELETE FROM outcomes WHERE second < $1")
        .bind(before_ms.div_euclid(1000))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let batches = sqlx::query("DELETE FROM outcome_batches WHERE received_at < $1")
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(rows + batches)
}

/// When to prune next: outcomes are kept for `period`, pruning runs at most once per
/// [`PRUNE_INTERVAL`] (or per `period`, if shorter).
#[derive(Debug)]
pub struct Retention {
    period_ms: i64,
    next_ms: AtomicI64,
}

impl Retention {
    /// Keeps outcomes for `period`.
    pub fn new(period: Duration) -> Retention {
        let period_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1);
        Retention { period_ms, next_ms: AtomicI64::new(0) }
    }

    /// When pruning is due at `now_ms` (and this caller is the one to do it): the instant
    /// before which outcomes go.
    pub fn due(&self, now_ms: i64) -> Option<i64> {
        let next = self.next_ms.load(Ordering::Acquire);
        let interval = i64::try_from(PRUNE_INTERVAL.as_millis()).unwrap_or(i64::MAX).min(self.period_ms);
        (now_ms >= next
            && self.next_ms.compare_exchange(next, now_ms + interval, Ordering::AcqRel, Ordering::Acquire).is_ok())
        .then(|| now_ms.saturating_sub(self.period_ms))
    }
}

/// What `POST /sdk/v1/metrics` does for an SDK key of `environment`: checks the body,
/// stores it, prunes when due, counts the batch in `/metrics`. Answers `202
/// {"accepted": bool}`.
pub async fn receive(app: &App, environment: &str, body: Result<bytes::Bytes, ApiError>) -> ApiResult<Response> {
    let batch = match body.and_then(|bytes| Batch::parse(&bytes)) {
        Ok(batch) => batch,
        Err(error) => {
            app.metrics.count_batch("refused");
            return Err(error);
        }
    };
    let now = crate::store::now_ms();
    let accepted = store(&app.store, environment, &batch, now).await?;
    tracing::debug!(batch = %batch.id, sdk = batch.sdk.as_deref().unwrap_or("-"), accepted, "outcome batch");
    app.metrics.count_batch(if accepted { "accepted" } else { "duplicate" });
    if let Some(before) = app.retention.due(now) {
        match prune(&app.store, before).await {
            Ok(removed) => tracing::debug!(removed, "pruned outcomes"),
            Err(error) => tracing::warn!("pruning outcomes: {error}"),
        }
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": accepted }))).into_response())
}

/// The seconds of a window `[from_ms, to_ms)`: those that begin in it.
fn seconds(from_ms: i64, to_ms: i64) -> (i64, i64) {
    let ceil = |ms: i64| ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) != 0);
    (ceil(from_ms), ceil(to_ms))
}

/// Per variant, an arm of judgement: the exposures, requests, errors and latencies of
/// `flag` in `environment` over the seconds that begin in `[from_ms, to_ms)`.
pub async fn window(
    store: &Store,
    environment: &str,
    flag: &str,
    from_ms: i64,
    to_ms: i64,
) -> ApiResult<BTreeMap<String, Arm>> {
    let counts = totals(store, environment, flag, from_ms, to_ms, true).await?;
    Ok(counts
        .into_iter()
        .map(|(variant, counts)| {
            let arm = Arm {
                exposures: counts.exposures,
                requests: counts.requests,
                errors: counts.errors,
                latency: counts.latency,
            };
            (variant, arm)
        })
        .collect())
}

/// Second by second (ascending), per variant, what [`window`] sums over `[from_ms,
/// to_ms)`: for callers that need the window at many ends (the rollout series), one read.
pub async fn window_seconds(
    store: &Store,
    environment: &str,
    flag: &str,
    from_ms: i64,
    to_ms: i64,
) -> ApiResult<Vec<(i64, String, Arm)>> {
    let (from, to) = seconds(from_ms, to_ms);
    let rows = sqlx::query(
        "SELECT second, variant, exposures, requests, errors, latency FROM outcomes \
         WHERE environment = $1 AND flag = $2 AND second >= $3 AND second < $4 ORDER BY second",
    )
    .bind(environment.to_string())
    .bind(flag.to_string())
    .bind(from)
    .bind(to)
    .fetch_all(&store.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let latency: String = row.try_get("latency")?;
            let arm = Arm {
                exposures: unsigned(row.try_get("exposures")?),
                requests: unsigned(row.try_get("requests")?),
                errors: unsigned(row.try_get("errors")?),
                latency: if latency == "[]" { LatencySketch::new() } else { stored_sketch(&latency)? },
            };
            Ok((row.try_get("second")?, row.try_get("variant")?, arm))
        })
        .collect()
}

/// The first second a window ending at `to_ms` leaves out (as [`window`] counts).
pub fn end_second(to_ms: i64) -> i64 {
    seconds(0, to_ms).1
}

/// Per variant, every count (conversions too; no latencies) of `flag` in `environment`
/// over the seconds that begin in `[from_ms, to_ms)`: what experiments tally.
pub async fn tallies(
    store: &Store,
    environment: &str,
    flag: &str,
    from_ms: i64,
    to_ms: i64,
) -> ApiResult<BTreeMap<String, Counts>> {
    totals(store, environment, flag, from_ms, to_ms, false).await
}

async fn totals(
    store: &Store,
    environment: &str,
    flag: &str,
    from_ms: i64,
    to_ms: i64,
    latencies: bool,
) -> ApiResult<BTreeMap<String, Counts>> {
    let (from, to) = seconds(from_ms, to_ms);
    // `$1`…`$4`: the environment, the flag, the window's first and end seconds.
    let select = |sql: &'static str| {
        sqlx::query(sql).bind(environment.to_string()).bind(flag.to_string()).bind(from).bind(to).fetch_all(&store.pool)
    };
    let rows = select(
        "SELECT variant, CAST(SUM(exposures) AS BIGINT) AS exposures, CAST(SUM(requests) AS BIGINT) AS requests, \
         CAST(SUM(errors) AS BIGINT) AS errors, CAST(SUM(conversions) AS BIGINT) AS conversions \
         FROM outcomes WHERE environment = $1 AND flag = $2 AND second >= $3 AND second < $4 GROUP BY variant",
    )
    .await?;
    let mut out = BTreeMap::new();
    for row in rows {
        let counts = Counts {
            exposures: unsigned(row.try_get("exposures")?),
            requests: unsigned(row.try_get("requests")?),
            errors: unsigned(row.try_get("errors")?),
            conversions: unsigned(row.try_get("conversions")?),
            latency: LatencySketch::new(),
        };
        out.insert(row.try_get::<String, _>("variant")?, counts);
    }
    if latencies {
        let rows = select(
            "SELECT variant, latency FROM outcomes \
             WHERE environment = $1 AND flag = $2 AND second >= $3 AND second < $4 AND latency <> '[]'",
        )
        .await?;
        for row in rows {
            let sketch = stored_sketch(&row.try_get::<String, _>("latency")?)?;
            out.entry(row.try_get::<String, _>("variant")?).or_default().latency.merge(&sketch);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &Value) -> (String, Option<String>) {
        let error = Batch::parse(body.to_string().as_bytes()).expect_err("refused");
        (error.code, error.path)
    }

    #[test]
    fn a_batch_parses_with_absent_fields_as_zero() {
        let body = json!({ "batch": "0123456789abcdef0123456789abcdef", "sdk": "pennon-node/0.1.0",
            "flags": { "checkout.new": { "on": { "exposures": 3, "latency": [[212, 5], [212, 1]] }, "off": {} } } });
        let batch = Batch::parse(body.to_string().as_bytes()).expect("parses");
        let on = &batch.flags["checkout.new"]["on"];
        assert_eq!((on.exposures, on.requests, on.latency.count()), (3, 0, 6));
        assert!(batch.flags["checkout.new"]["off"].is_empty());
    }

    #[test]
    fn every_refusal_names_its_path() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(Batch::parse(b"{").expect_err("refused").code, "invalid_json");
        for (body, path) in [
            (json!([]), None),
            (json!({ "flags": {} }), Some("/batch")),
            (json!({ "batch": "short" }), Some("/batch")),
            (json!({ "batch": id, "extra": 1 }), Some("/extra")),
            (json!({ "batch": id, "flags": [] }), Some("/flags")),
            (json!({ "batch": id, "flags": { "a/b": {} } }), Some("/flags/a~1b")),
            (json!({ "batch": id, "flags": { "f": { "on": { "exposures": -1 } } } }), Some("/flags/f/on/exposures")),
            (json!({ "batch": id, "flags": { "f": { "on": { "errors": 1.5 } } } }), Some("/flags/f/on/errors")),
            (json!({ "batch": id, "flags": { "f": { "on": { "error": 1 } } } }), Some("/flags/f/on/error")),
            (
                json!({ "batch": id, "flags": { "f": { "on": { "latency": [[1, 2], [512, 1]] } } } }),
                Some("/flags/f/on/latency/1"),
            ),
        ] {
            assert_eq!(refused(&body), ("invalid_request".to_string(), path.map(str::to_string)), "{body}");
        }
    }

    #[test]
    fn windows_take_the_seconds_that_begin_in_them() {
        assert_eq!(seconds(1000, 3000), (1, 3));
        assert_eq!(seconds(1001, 3001), (2, 4));
        assert_eq!(seconds(-1, 0), (0, 0));
    }

    #[test]
    fn pruning_is_due_at_most_once_per_interval() {
        let retention = Retention::new(Duration::from_secs(3600));
        assert_eq!(retention.due(10_000_000), Some(10_000_000 - 3_600_000));
        assert_eq!(retention.due(10_000_001), None);
        assert_eq!(retention.due(10_059_999), None);
        assert!(retention.due(10_060_000).is_some());
        let short = Retention::new(Duration::from_secs(2));
        assert!(short.due(5_000).is_some());
        assert!(short.due(7_000).is_some());
    }
}
