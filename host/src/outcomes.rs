//! Outcomes: what an application records after using a flag (`record(flag, context,
//! outcome)`), kept per flag × the variant the context was served, for safe rollouts and
//! experiments (DESIGN §9). The host evaluates the flag (uncounted) to find the variant,
//! so an outcome is attributed exactly as the application was served, in every language
//! the same way.
//!
//! - **Recording** costs relaxed atomic adds only: per flag × variant a request count, an
//!   error count, a conversion count, and — allocated on the first latency of the pair —
//!   the latency sum in µs, [`BUCKETS`] sketch counters indexed by core's
//!   [`sketch::index_of`] and the counts of the Prometheus histogram's buckets. Pairs are
//!   found by name in a sorted copy-on-write list (`crate::series`): no lock unless the
//!   pair is new. At most [`MAX_PAIRS`] pairs; further ones record under flag [`OTHER`]
//!   with no variant.
//! - **Sending** ([`Outcomes::take`]): the body of `POST /sdk/v1/metrics`, every number a
//!   delta since the previous batch, with the *exposures* (the evaluation counters' served
//!   variants, [`Counters`]) beside the outcomes. A take is "cumulative minus sent": the
//!   counters only grow, and the take remembers what it handed out. A batch whose send
//!   failed is given back ([`Outcomes::restore`]): its numbers are subtracted from "sent",
//!   so the next take carries them again. Nothing is lost while the server is down and the
//!   memory stays what the counters take, however long the outage.
//! - **Exporting** ([`Outcomes::metrics_text`]): the cumulative numbers as Prometheus
//!   text on the application's side.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use pennon_core::json::write_string;
use pennon_core::judgement::sketch::{self, BUCKETS};
use pennon_core::{Error, Value};

use crate::args::{self, Kind};
use crate::counters::{Counters, OVERRIDE_VARIANT};
pub use crate::series::OTHER;
use crate::series::{Registry, escape};

/// At most this many flag × variant pairs are kept.
pub const MAX_PAIRS: usize = 1_000;
/// The upper bounds (ms) of the Prometheus histogram's finite buckets.
pub const HISTOGRAM_BOUNDS: [u32; 13] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/// At most this many flags in one batch (the server's limit); the rest waits for the next.
pub const MAX_BATCH_FLAGS: usize = 1_000;
/// At most this many variants of one flag in one batch (the server's limit).
pub const MAX_BATCH_VARIANTS: usize = 100;
/// No flag is added to a batch whose flags already take this many bytes: the server takes
/// bodies up to 1 MiB, and one flag of [`MAX_BATCH_VARIANTS`] variants with full sketches
/// takes at most about 600 KB (a few KB in practice).
pub const MAX_BATCH_BYTES: usize = 400_000;
/// How JavaScript (and the wire) spells the latency key of an outcome.
pub const LATENCY_KEY: &str = "latencyMs";
/// How Python spells it.
pub const LATENCY_KEY_PYTHON: &str = "latency_ms";
/// What the body's `sdk` says when the caller names no SDK.
pub const DEFAULT_SDK: &str = concat!("pennon-host/", env!("CARGO_PKG_VERSION"));

/// One outcome: a request that succeeded (`ok`) or failed (`error`), with its latency
/// when measured, and/or a conversion (`converted`, for experiments).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcome {
    /// A request that succeeded.
    pub ok: bool,
    /// A request that failed.
    pub error: bool,
    /// A conversion.
    pub converted: bool,
    /// The request's latency in milliseconds (with `ok` or `error` only).
    pub latency_ms: Option<f64>,
}

impl Outcome {
    /// A request that succeeded.
    pub fn ok() -> Outcome {
        Outcome { ok: true, ..Outcome::default() }
    }

    /// A request that failed.
    pub fn error() -> Outcome {
        Outcome { error: true, ..Outcome::default() }
    }

    /// A conversion.
    pub fn converted() -> Outcome {
        Outcome { converted: true, ..Outcome::default() }
    }

    /// This outcome with the request's latency, in milliseconds.
    pub fn with_latency_ms(self, latency_ms: f64) -> Outcome {
        Outcome { latency_ms: Some(latency_ms), ..self }
    }

    /// This outcome with the request's latency.
    pub fn with_latency(self, latency: std::time::Duration) -> Outcome {
        self.with_latency_ms(latency.as_secs_f64() * 1000.0)
    }

    /// Whether this is a valid outcome (`latency_key` names the latency in messages, as
    /// the caller spelled it): at least one of ok, error, converted; not ok and error
    /// together; a latency only with a request, finite and ≥ 0.
    pub fn check(&self, latency_key: &str) -> Result<(), Error> {
        if self.ok && self.error {
            return Err(args::invalid("an outcome is ok or error, not both"));
        }
        if !(self.ok || self.error || self.converted) {
            return Err(args::invalid("an outcome needs ok, error or converted"));
        }
        match self.latency_ms {
            Some(ms) if !(ms.is_finite() && ms >= 0.0) => Err(latency_error(latency_key, &args::format_number(ms))),
            Some(_) if !(self.ok || self.error) => {
                Err(args::invalid(format!("the outcome's {latency_key} goes with ok or error (a request)")))
            }
            _ => Ok(()),
        }
    }
}

/// One property of an outcome object as a host read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `true` / `false`.
    Boolean(bool),
    /// A number (JS numbers include NaN and ±Infinity).
    Number(f64),
    /// Anything else; [`Kind::Undefined`] counts as absent (as `JSON.stringify` leaves it out).
    Other(Kind),
}

fn latency_error(latency_key: &str, found: &str) -> Error {
    args::invalid(format!("the outcome's {latency_key} must be a finite number of milliseconds ≥ 0, not {found}"))
}

/// The outcome argument was not an object (a dict in Python).
pub fn outcome_kind_error(found: Kind) -> Error {
    args::invalid(format!("the outcome must be an object, not {}", found.describe()))
}

/// An outcome from the properties of a host object, in the object's order, checked
/// ([`Outcome::check`]): `ok`, `error`, `converted` booleans (`false` is as absent) and the
/// latency (named `latency_key`: [`LATENCY_KEY`], or [`LATENCY_KEY_PYTHON`]); any other
/// key is refused.
pub fn outcome_from_fields<'a>(
    fields: impl IntoIterator<Item = (&'a str, Field)>,
    latency_key: &str,
) -> Result<Outcome, Error> {
    let mut outcome = Outcome::default();
    for (name, field) in fields {
        if field == Field::Other(Kind::Undefined) {
            continue;
        }
        let flag = match name {
            "ok" => &mut outcome.ok,
            "error" => &mut outcome.error,
            "converted" => &mut outcome.converted,
            _ if name == latency_key => {
                outcome.latency_ms = Some(match field {
                    Field::Number(ms) => ms,
                    Field::Boolean(_) => return Err(latency_error(latency_key, Kind::Boolean.describe())),
                    Field::Other(kind) => return Err(latency_error(latency_key, kind.describe())),
                });
                continue;
            }
            _ => {
                return Err(args::invalid(format!(
                    "unknown outcome key `{name}`: expected ok, error, converted or {latency_key}"
                )));
            }
        };
        *flag = match field {
            Field::Boolean(value) => value,
            Field::Number(_) => return Err(boolean_error(name, &Kind::Number)),
            Field::Other(kind) => return Err(boolean_error(name, &kind)),
        };
    }
    outcome.check(latency_key)?;
    Ok(outcome)
}

fn boolean_error(name: &str, found: &Kind) -> Error {
    args::invalid(format!("the outcome's {name} must be a boolean, not {}", found.describe()))
}

/// An outcome given as a JSON value (hosts whose arguments arrive as JSON, and the
/// language-neutral case file).
pub fn outcome_from_value(value: &Value, latency_key: &str) -> Result<Outcome, Error> {
    let Value::Object(object) = value else { return Err(outcome_kind_error(args::kind_of(value))) };
    outcome_from_fields(
        object.iter().map(|(name, value)| {
            let field = match value {
                Value::Bool(value) => Field::Boolean(*value),
                Value::Number(number) => Field::Number(number.as_f64().unwrap_or(f64::NAN)),
                other => Field::Other(args::kind_of(other)),
            };
            (name.as_str(), field)
        }),
        latency_key,
    )
}

/// The latency of one flag × variant pair: allocated on its first latency.
struct Latency {
    sum_us: AtomicU64,
    sketch: [AtomicU64; BUCKETS],
    /// Per [`HISTOGRAM_BOUNDS`] bucket (not cumulative), then the bucket above the last.
    histogram: [AtomicU64; HISTOGRAM_BOUNDS.len() + 1],
}

/// What one flag × variant pair recorded.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    errors: AtomicU64,
    conversions: AtomicU64,
    latency: OnceLock<Box<Latency>>,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Tally {
    fn add(&self, outcome: &Outcome) {
        if outcome.ok || outcome.error {
            add(&self.requests, 1);
            if outcome.error {
                add(&self.errors, 1);
            }
            if let Some(ms) = outcome.latency_ms {
                let latency = self.latency.get_or_init(|| {
                    Box::new(Latency {
                        sum_us: AtomicU64::new(0),
                        sketch: std::array::from_fn(|_| AtomicU64::new(0)),
                        histogram: std::array::from_fn(|_| AtomicU64::new(0)),
                    })
                });
                // Saturating casts: a latency is finite and ≥ 0 (checked).
                add(&latency.sum_us, (ms * 1000.0).round() as u64);
                if let Some(bucket) = latency.sketch.get(sketch::index_of(ms)) {
                    add(bucket, 1);
                }
                let slot = HISTOGRAM_BOUNDS.iter().position(|&bound| ms <= f64::from(bound));
                if let Some(bucket) = latency.histogram.get(slot.unwrap_or(HISTOGRAM_BOUNDS.len())) {
                    add(bucket, 1);
                }
            }
        }
        if outcome.converted {
            add(&self.conversions, 1);
        }
    }
}

/// The numbers of one flag × variant pair in a batch (or handed out so far). Kept in
/// sorted vectors rather than maps: the wasm build pays for every map type it links.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Numbers {
    exposures: u64,
    requests: u64,
    errors: u64,
    conversions: u64,
    /// (sketch bucket, count), by bucket, no zero counts.
    latency: Vec<(u16, u64)>,
}

impl Numbers {
    fn is_empty(&self) -> bool {
        self.exposures == 0
            && self.requests == 0
            && self.errors == 0
            && self.conversions == 0
            && self.latency.is_empty()
    }

    /// `self − other`, field by field (never below 0).
    fn minus(&self, other: &Numbers) -> Numbers {
        let before = |bucket: u16| match other.latency.binary_search_by_key(&bucket, |&(b, _)| b) {
            Ok(at) => other.latency.get(at).map_or(0, |&(_, n)| n),
            Err(_) => 0,
        };
        Numbers {
            exposures: self.exposures.saturating_sub(other.exposures),
            requests: self.requests.saturating_sub(other.requests),
            errors: self.errors.saturating_sub(other.errors),
            conversions: self.conversions.saturating_sub(other.conversions),
            latency: self
                .latency
                .iter()
                .map(|&(bucket, n)| (bucket, n.saturating_sub(before(bucket))))
                .filter(|&(_, n)| n > 0)
                .collect(),
        }
    }

    /// The wire form, zero fields left out: `{"exposures":1,…,"latency":[[bucket,count],…]}`.
    fn write_json(&self, out: &mut String) {
        out.push('{');
        let mut first = true;
        let mut separate = |out: &mut String| {
            if !std::mem::take(&mut first) {
                out.push(',');
            }
        };
        for (name, n) in [
            ("exposures", self.exposures),
            ("requests", self.requests),
            ("errors", self.errors),
            ("conversions", self.conversions),
        ] {
            if n > 0 {
                separate(out);
                let _ = write!(out, "\"{name}\":{n}");
            }
        }
        if !self.latency.is_empty() {
            separate(out);
            out.push_str("\"latency\":[");
            for (index, (bucket, n)) in self.latency.iter().enumerate() {
                let comma = if index > 0 { "," } else { "" };
                let _ = write!(out, "{comma}[{bucket},{n}]");
            }
            out.push(']');
        }
        out.push('}');
    }

    /// Reads the wire form (lenient: what it does not understand counts as 0).
    fn from_json(value: &Value) -> Numbers {
        let number = |name: &str| value.get(name).and_then(Value::as_u64).unwrap_or(0);
        let mut latency: Vec<(u16, u64)> = Vec::new();
        for pair in value.get("latency").and_then(Value::as_array).into_iter().flatten() {
            let pair = pair.as_array().map(|pair| pair.iter().filter_map(Value::as_u64).collect::<Vec<_>>());
            let Some(&[bucket, n]) = pair.as_deref() else { continue };
            let Ok(bucket) = u16::try_from(bucket) else { continue };
            // Kept sorted by inserting in place (no sort code linked into the wasm build).
            match latency.binary_search_by_key(&bucket, |&(b, _)| b) {
                Ok(at) => latency.get_mut(at).into_iter().for_each(|(_, kept)| *kept = kept.saturating_add(n)),
                Err(at) => latency.insert(at, (bucket, n)),
            }
        }
        Numbers {
            exposures: number("exposures"),
            requests: number("requests"),
            errors: number("errors"),
            conversions: number("conversions"),
            latency,
        }
    }
}

/// The numbers of one flag × variant pair.
#[derive(Debug, Clone)]
struct PairNumbers {
    flag: Box<str>,
    variant: Box<str>,
    numbers: Numbers,
}

impl PairNumbers {
    fn key(&self) -> (&str, &str) {
        (&self.flag, &self.variant)
    }
}

/// An engine's outcomes (shared by the engines of one SDK client, with the counters:
/// [`crate::Holder::share_counters`]).
pub struct Outcomes {
    pairs: Registry<Tally>,
    /// What the takes handed out so far and were not given back, sorted by pair (taken
    /// by `take` and `restore` only).
    sent: Mutex<Vec<PairNumbers>>,
}

impl Default for Outcomes {
    fn default() -> Self {
        Outcomes { pairs: Registry::new(MAX_PAIRS), sent: Mutex::new(Vec::new()) }
    }
}

impl std::fmt::Debug for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outcomes").field("pairs", &self.pairs.rows().len()).finish_non_exhaustive()
    }
}

impl Outcomes {
    /// No outcomes yet.
    pub fn new() -> Self {
        Outcomes::default()
    }

    /// Records `outcome` (checked by the caller) for `flag` served `variant`.
    #[inline]
    pub fn add(&self, flag: &str, variant: &str, outcome: &Outcome) {
        self.pairs.row(flag, variant).data.add(outcome);
    }

    /// Everything recorded so far, with the exposures `counters` counted, sorted by pair.
    fn cumulative(&self, counters: &Counters) -> Vec<PairNumbers> {
        // Exposures are evaluations that served a variant of the engine's; answers from
        // local overrides are not. The totals come sorted by flag, variant, reason.
        let mut exposures: Vec<PairNumbers> = Vec::new();
        for (flag, variant, reason, n) in counters.totals() {
            if variant.is_empty() || (&*variant == OVERRIDE_VARIANT && reason == "STATIC") {
                continue;
            }
            match exposures.last_mut() {
                Some(last) if last.key() == (&*flag, &*variant) => last.numbers.exposures += n,
                _ => exposures.push(PairNumbers {
                    flag,
                    variant,
                    numbers: Numbers { exposures: n, ..Numbers::default() },
                }),
            }
        }
        let rows = self.pairs.rows();
        let mut all = Vec::with_capacity(exposures.len() + rows.len());
        let mut exposures = exposures.into_iter();
        let mut next = exposures.next();
        for row in rows.iter() {
            let key = (&*row.flag, &*row.variant);
            if key == (OTHER, "") {
                continue;
            }
            let mut numbers = Numbers::default();
            while let Some(exposed) = next.take() {
                if exposed.key() > key {
                    next = Some(exposed);
                    break;
                }
                if exposed.key() == key {
                    numbers = exposed.numbers;
                } else {
                    all.push(exposed);
                }
                next = exposures.next();
            }
            let tally = &row.data;
            numbers.requests = read(&tally.requests);
            numbers.errors = read(&tally.errors);
            numbers.conversions = read(&tally.conversions);
            if let Some(latency) = tally.latency.get() {
                numbers.latency = (0u16..)
                    .zip(&latency.sketch)
                    .map(|(bucket, counter)| (bucket, read(counter)))
                    .filter(|&(_, n)| n > 0)
                    .collect();
            }
            all.push(PairNumbers { flag: row.flag.clone(), variant: row.variant.clone(), numbers });
        }
        all.extend(next);
        all.extend(exposures);
        all
    }

    /// The body of `POST /sdk/v1/metrics` with everything new since the previous take
    /// (minus what was restored): `{"batch", "sdk", "flags": {flag: {variant: {exposures,
    /// requests, errors, conversions, latency}}}}`, zero numbers left out; `None` when
    /// nothing is new. `counters` gives the exposures. From now on these numbers count as
    /// sent, until [`Outcomes::restore`] gives the batch back. A batch keeps to the
    /// server's limits — at most [`MAX_BATCH_FLAGS`] flags of at most
    /// [`MAX_BATCH_VARIANTS`] variants, flags added while the body is under
    /// [`MAX_BATCH_BYTES`] — and what does not fit goes with the next take. The
    /// [`OTHER`] pair (outcomes beyond [`MAX_PAIRS`]) is not sent: it stands for no flag.
    pub fn take(&self, batch_id: &str, sdk: Option<&str>, counters: &Counters) -> Option<String> {
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        // Every pair ever sent is still in the cumulative numbers (rows and series stay),
        // and both lists are sorted: one walk pairs them up, and what is sent now follows
        // the same order.
        let now = self.cumulative(counters);
        let mut next_sent = Vec::with_capacity(now.len());
        let mut before = 0;
        let mut flags = String::new();
        let (mut open_flag, mut flag_count, mut variant_count): (Option<&str>, usize, usize) = (None, 0, 0);
        for pair in now.iter() {
            while sent.get(before).is_some_and(|b| b.key() < pair.key()) {
                before += 1;
            }
            let was = sent.get(before).filter(|b| b.key() == pair.key());
            let delta = match was {
                Some(was) => pair.numbers.minus(&was.numbers),
                None => pair.numbers.clone(),
            };
            let same_flag = open_flag == Some(&*pair.flag);
            // What does not fit the server's limits waits for the next batch.
            let fits = if same_flag {
                variant_count < MAX_BATCH_VARIANTS
            } else {
                flag_count < MAX_BATCH_FLAGS && flags.len() < MAX_BATCH_BYTES
            };
            if delta.is_empty() || !fits {
                let kept = was.map_or_else(Numbers::default, |was| was.numbers.clone());
                next_sent.push(PairNumbers { numbers: kept, ..pair.clone() });
                continue;
            }
            if same_flag {
                flags.push(',');
                variant_count += 1;
            } else {
                flags.push_str(if open_flag.is_some() { "}," } else { "" });
                write_string(&pair.flag, &mut flags);
                flags.push_str(":{");
                open_flag = Some(&pair.flag);
                (flag_count, variant_count) = (flag_count + 1, 1);
            }
            write_string(&pair.variant, &mut flags);
            flags.push(':');
            delta.write_json(&mut flags);
            next_sent.push(pair.clone());
        }
        *sent = next_sent;
        open_flag?;
        let mut body = String::from("{\"batch\":");
        write_string(batch_id, &mut body);
        body.push_str(",\"sdk\":");
        write_string(sdk.unwrap_or(DEFAULT_SDK), &mut body);
        let _ = write!(body, ",\"flags\":{{{flags}}}}}}}");
        Some(body)
    }

    /// Gives back a batch [`Outcomes::take`] made whose send failed: its numbers count as
    /// not sent, so the next take carries them again. A body that is not JSON is an
    /// `invalid_argument` error; numbers of pairs this engine never handed out are ignored.
    pub fn restore(&self, batch: &str) -> Result<(), Error> {
        let body: Value = serde_json::from_str(batch)
            .map_err(|e| args::invalid(format!("restoreOutcomes takes a batch takeOutcomes gave: {e}")))?;
        let Some(flags) = body.get("flags").and_then(Value::as_object) else {
            return Err(args::invalid("restoreOutcomes takes a batch takeOutcomes gave: it has no `flags` object"));
        };
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        for (flag, variants) in flags {
            for (variant, numbers) in variants.as_object().into_iter().flatten() {
                let key = (flag.as_str(), variant.as_str());
                if let Some(before) = sent.binary_search_by(|b| b.key().cmp(&key)).ok().and_then(|at| sent.get_mut(at))
                {
                    before.numbers = before.numbers.minus(&Numbers::from_json(numbers));
                }
            }
        }
        Ok(())
    }

    /// The outcomes as Prometheus text (cumulative): `pennon_canary_requests_total` and
    /// `pennon_canary_errors_total` for pairs with requests, `pennon_conversions_total`
    /// for pairs with conversions, and the histogram `pennon_canary_latency_ms` (`le` 1 …
    /// 10000 and `+Inf`, `_sum` in ms, `_count`) for pairs with latencies, each labelled
    /// `{flag, cohort}` (the cohort is the variant), sorted by flag then variant.
    pub fn metrics_text(&self) -> String {
        let rows = self.pairs.rows();
        let labels = |flag: &str, variant: &str| format!("flag=\"{}\",cohort=\"{}\"", escape(flag), escape(variant));
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: &dyn Fn(&Tally) -> Option<u64>| {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} counter\n");
            for row in rows.iter() {
                if let Some(n) = value(&row.data) {
                    let _ = writeln!(out, "{name}{{{}}} {n}", labels(&row.flag, &row.variant));
                }
            }
        };
        let requests = |tally: &Tally| Some(read(&tally.requests)).filter(|&n| n > 0);
        counter(
            "pennon_canary_requests_total",
            "Requests recorded with an outcome, by flag and cohort (the variant served).",
            &requests,
        );
        counter("pennon_canary_errors_total", "Requests recorded as errors, by flag and cohort.", &|tally| {
            requests(tally).map(|_| read(&tally.errors))
        });
        counter("pennon_conversions_total", "Conversions recorded, by flag and cohort.", &|tally| {
            Some(read(&tally.conversions)).filter(|&n| n > 0)
        });
        let name = "pennon_canary_latency_ms";
        let _ = write!(
            out,
            "# HELP {name} Request latency in milliseconds, by flag and cohort.\n# TYPE {name} histogram\n"
        );
        for row in rows.iter() {
            let Some(latency) = row.data.latency.get() else { continue };
            let labels = labels(&row.flag, &row.variant);
            let mut total = 0;
            let bounds = HISTOGRAM_BOUNDS.iter().map(|bound| bound.to_string()).chain(["+Inf".to_owned()]);
            for (le, counter) in bounds.zip(&latency.histogram) {
                total += read(counter);
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {total}");
            }
            let sum = read(&latency.sum_us) as f64 / 1000.0;
            let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}\n{name}_count{{{labels}}} {total}");
        }
        out
    }
}

#[cfg(test)]
mod tests;
