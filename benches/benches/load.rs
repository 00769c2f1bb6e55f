//! Loading a generated 10,000-flag snapshot (see `pennon_benches`): `Snapshot::from_json`
//! end to end, and its two halves for diagnosis: parsing the text into a
//! `serde_json::Value`, and `Snapshot::from_value` (validation + compilation) of that value.
//!
//! Run: `cargo bench -p pennon-benches --bench load`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_main};
use pennon_benches::{LOAD_FLAG_COUNT, snapshot_json};
use pennon_core::{Snapshot, Value};

fn load(c: &mut Criterion) {
    let text = snapshot_json(LOAD_FLAG_COUNT);
    let value: Value = serde_json::from_str(&text).unwrap_or_else(|error| {
        eprintln!("the generated snapshot is not JSON: {error}");
        std::process::exit(1)
    });

    let mut group = c.benchmark_group("load_10000_flags");
    // A load takes tens of milliseconds: ten samples keep a run short. The loaded
    // snapshots are dropped outside the timed section.
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("from_json", |b| b.iter_with_large_drop(|| Snapshot::from_json(black_box(&text))));
    group.bench_function("parse_value_only", |b| {
        b.iter_with_large_drop(|| serde_json::from_str::<Value>(black_box(&text)))
    });
    group.bench_function("from_value", |b| b.iter_with_large_drop(|| Snapshot::from_value(black_box(&value))));
    group.finish();
}

/// The benchmark group. Private, so that the undocumented `pub fn` `criterion_group!`
/// generates is not part of any API (`missing_docs` stays quiet without an `allow`).
mod group {
    criterion::criterion_group!(benches, super::load);
}

criterion_main!(group::benches);
