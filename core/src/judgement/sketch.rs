//! A mergeable latency sketch: counts in logarithmic buckets, so that any quantile is
//! known to within [`RELATIVE_ACCURACY`] of its true value, two sketches merge by adding
//! counts, and the memory is bounded ([`BUCKETS`] counters) whatever the traffic.
//!
//! This is the bucket mapping of DDSketch (Masson, Rim and Lee, "DDSketch: a fast and
//! fully-mergeable quantile sketch with relative-error guarantees", VLDB 2019) with a
//! fixed range: bucket `i ≥ 1` holds latencies in `(MIN·γ^(i−1), MIN·γ^i]` milliseconds,
//! bucket 0 everything up to [`MIN_MS`], and the last bucket everything above its lower
//! edge. An SDK records into an array of [`BUCKETS`] counters indexed by [`index_of`];
//! the server merges what SDKs send and asks for quantiles.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

/// γ, the ratio between consecutive bucket edges.
pub const GAMMA: f64 = 1.04;
/// Every quantile is within this fraction of the true value (`(γ − 1) / (γ + 1)`), for
/// latencies between [`MIN_MS`] and the last bucket's lower edge (about 83 minutes).
pub const RELATIVE_ACCURACY: f64 = (GAMMA - 1.0) / (GAMMA + 1.0);
/// The upper edge of bucket 0, in milliseconds.
pub const MIN_MS: f64 = 0.01;
/// How many buckets a sketch has.
pub const BUCKETS: usize = 512;

/// The bucket of a latency in milliseconds (negative and NaN latencies fall in bucket 0).
pub fn index_of(latency_ms: f64) -> usize {
    if latency_ms.is_nan() || latency_ms <= MIN_MS {
        return 0;
    }
    let index = libm::ceil(libm::log(latency_ms / MIN_MS) / libm::log(GAMMA));
    if index >= (BUCKETS - 1) as f64 { BUCKETS - 1 } else { index as usize }
}

/// The value that stands for bucket `index`: the point of the bucket whose relative
/// distance to both edges is the same (`2·MIN·γ^i / (γ + 1)`); `MIN / 2` for bucket 0.
pub fn value_of(index: usize) -> f64 {
    if index == 0 {
        return MIN_MS / 2.0;
    }
    2.0 * MIN_MS * libm::pow(GAMMA, index as f64) / (GAMMA + 1.0)
}

/// Why a sketch's JSON was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SketchError(pub String);

/// A latency sketch: a count per non-empty bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencySketch {
    counts: BTreeMap<u16, u64>,
    total: u64,
}

impl LatencySketch {
    /// An empty sketch.
    pub fn new() -> LatencySketch {
        LatencySketch::default()
    }

    /// Records one latency, in milliseconds.
    pub fn record(&mut self, latency_ms: f64) {
        self.add_to_bucket(index_of(latency_ms), 1);
    }

    /// Adds `count` latencies to bucket `index` (clamped to the last bucket).
    pub fn add_to_bucket(&mut self, index: usize, count: u64) {
        if count == 0 {
            return;
        }
        let index = index.min(BUCKETS - 1) as u16;
        let slot = self.counts.entry(index).or_insert(0);
        *slot = slot.saturating_add(count);
        self.total = self.total.saturating_add(count);
    }

    /// Adds every latency of `other`.
    pub fn merge(&mut self, other: &LatencySketch) {
        for (&index, &count) in &other.counts {
            self.add_to_bucket(index.into(), count);
        }
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The `q`-quantile (`0 ≤ q ≤ 1`) in milliseconds, `None` when empty. The rank is
    /// `q·(n − 1)` (the lower of the two middle values for the median of an even count),
    /// as in DDSketch.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 || q.is_nan() {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = libm::floor(q * (self.total - 1) as f64) as u64;
        let mut seen = 0u64;
        for (&index, &count) in &self.counts {
            seen += count;
            if seen > rank {
                return Some(value_of(index.into()));
            }
        }
        None
    }

    /// The non-empty buckets, in order: `(index, count)`.
    pub fn buckets(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.counts.iter().map(|(&index, &count)| (usize::from(index), count))
    }

    /// The wire form: `[[index, count], …]`, by index, empty buckets left out.
    pub fn to_json(&self) -> Value {
        Value::Array(self.buckets().map(|(index, count)| Value::from(alloc::vec![index as u64, count])).collect())
    }

    /// Reads the wire form; indices must be below [`BUCKETS`], counts non-negative
    /// integers; a bucket may appear more than once (its counts add up).
    pub fn from_json(value: &Value) -> Result<LatencySketch, SketchError> {
        let pairs = value
            .as_array()
            .ok_or_else(|| SketchError("a latency sketch must be an array of [bucket, count] pairs".into()))?;
        let mut sketch = LatencySketch::new();
        for (position, pair) in pairs.iter().enumerate() {
            let numbers: Option<Vec<u64>> = pair
                .as_array()
                .filter(|pair| pair.len() == 2)
                .map(|pair| pair.iter().filter_map(Value::as_u64).collect());
            match numbers.as_deref() {
                Some(&[index, count]) if index < BUCKETS as u64 => sketch.add_to_bucket(index as usize, count),
                _ => {
                    return Err(SketchError(format!(
                        "latency sketch entry {position} must be [bucket, count] with 0 ≤ bucket < {BUCKETS} and a count ≥ 0"
                    )));
                }
            }
        }
        Ok(sketch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_latency_in_range_comes_back_within_the_relative_accuracy() {
        let mut latency = MIN_MS * 1.001;
        while latency < 1.0e6 {
            let back = value_of(index_of(latency));
            assert!((back - latency).abs() <= RELATIVE_ACCURACY * latency * (1.0 + 1e-9), "{latency} → {back}");
            latency *= 1.37;
        }
    }

    #[test]
    fn quantiles_of_a_known_sample() {
        let mut sketch = LatencySketch::new();
        for ms in 1..=1000 {
            sketch.record(f64::from(ms));
        }
        assert_eq!(sketch.count(), 1000);
        for (q, exact) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0), (0.0, 1.0), (1.0, 1000.0)] {
            let estimate = sketch.quantile(q).unwrap_or(f64::NAN);
            assert!((estimate - exact).abs() <= RELATIVE_ACCURACY * exact * 1.0001, "q{q}: {estimate} vs {exact}");
        }
        assert_eq!(LatencySketch::new().quantile(0.5), None);
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let (mut a, mut b, mut both) = (LatencySketch::new(), LatencySketch::new(), LatencySketch::new());
        for ms in [0.0, 0.5, 3.0, 250.0, 1.0e9, -4.0, f64::NAN] {
            a.record(ms);
            both.record(ms);
        }
        for ms in [7.0, 250.0, 12_000.0] {
            b.record(ms);
            both.record(ms);
        }
        a.merge(&b);
        assert_eq!(a, both);
        assert_eq!(a.count(), 10);
    }

    #[test]
    fn the_wire_form_round_trips_and_refuses_bad_entries() {
        let mut sketch = LatencySketch::new();
        for ms in [1.0, 1.0, 80.0, 4000.0] {
            sketch.record(ms);
        }
        let json = sketch.to_json();
        assert_eq!(LatencySketch::from_json(&json), Ok(sketch));
        for bad in [
            serde_json::json!({}),
            serde_json::json!([[512, 1]]),
            serde_json::json!([[1, -1]]),
            serde_json::json!([[1]]),
        ] {
            assert!(LatencySketch::from_json(&bad).is_err(), "{bad}");
        }
    }
}
