//! Per-call evaluation costs on a generated 1,000-flag snapshot (see `pennon_benches`):
//! a static flag, a five-condition + segment targeting rule, a weighted split, and
//! `evaluate_all` over every flag for one context.
//!
//! Run: `cargo bench -p pennon-benches --bench evaluate`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_main};
use pennon_benches::{
    EVALUATION_FLAG_COUNT, NOW, SPLIT_FLAG, STATIC_FLAG, TARGETING_FLAG, matching_context, snapshot_json,
};
use pennon_core::{FlagType, Snapshot};

fn evaluate(c: &mut Criterion) {
    let snapshot = Snapshot::from_json(&snapshot_json(EVALUATION_FLAG_COUNT)).unwrap_or_else(|error| {
        eprintln!("the generated snapshot does not load: {error}");
        std::process::exit(1)
    });
    let context = matching_context();

    let mut group = c.benchmark_group("evaluate");
    group.bench_function("static_boolean", |b| {
        b.iter(|| snapshot.boolean(black_box(STATIC_FLAG), black_box(&context), black_box(NOW), false))
    });
    group.bench_function("targeting_5_conditions_and_segment", |b| {
        b.iter(|| {
            let result = snapshot.evaluate(black_box(TARGETING_FLAG), black_box(&context), NOW, Some(FlagType::String));
            black_box(result.variant)
        })
    });
    group.bench_function("split_3_variants", |b| {
        b.iter(|| {
            let result = snapshot.evaluate(black_box(SPLIT_FLAG), black_box(&context), NOW, Some(FlagType::String));
            black_box(result.variant)
        })
    });
    group.finish();

    let mut group = c.benchmark_group("evaluate_all");
    group.throughput(Throughput::Elements(EVALUATION_FLAG_COUNT as u64));
    group.bench_function("1000_mixed_flags", |b| {
        b.iter(|| {
            for entry in snapshot.evaluate_all(black_box(&context), black_box(NOW)) {
                black_box(entry);
            }
        })
    });
    group.finish();
}

/// The benchmark group. Private, so that the undocumented `pub fn` `criterion_group!`
/// generates is not part of any API (`missing_docs` stays quiet without an `allow`).
mod group {
    criterion::criterion_group!(benches, super::evaluate);
}

criterion_main!(group::benches);
