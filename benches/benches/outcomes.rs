//! What recording an outcome costs (`pennon_host::Holder::record`, issue 10): the same
//! flags as the `evaluate` bench (a static flag, a five-condition + segment rule, a
//! three-way split) on the generated 1,000-flag snapshot, counted evaluation
//! (`Holder::evaluate`, what serving the flag costs) against `record` with a request and
//! its latency (an uncounted evaluation to find the variant, then relaxed atomic adds),
//! and `record` from four threads at once into the same flag × variant.
//!
//! Run: `cargo bench -p pennon-benches --bench outcomes`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_main};
use pennon_benches::{
    EVALUATION_FLAG_COUNT, NOW, SPLIT_FLAG, STATIC_FLAG, TARGETING_FLAG, matching_context, snapshot_json,
};
use pennon_core::Snapshot;
use pennon_host::Holder;
use pennon_host::outcomes::{LATENCY_KEY, Outcome};

fn outcomes(c: &mut Criterion) {
    let snapshot = Snapshot::from_json(&snapshot_json(EVALUATION_FLAG_COUNT)).unwrap_or_else(|error| {
        eprintln!("the generated snapshot does not load: {error}");
        std::process::exit(1)
    });
    let holder = Arc::new(Holder::new());
    holder.install(Arc::new(snapshot));
    holder.counters().set_enabled(true);
    let context = matching_context();
    let outcome = Outcome::ok().with_latency_ms(12.5);

    let mut group = c.benchmark_group("outcomes");
    for (name, flag) in [("static", STATIC_FLAG), ("targeting", TARGETING_FLAG), ("split", SPLIT_FLAG)] {
        group.bench_function(format!("{name}/evaluate_counted"), |b| {
            b.iter(|| {
                let loaded = holder.current();
                let (evaluation, _) = holder.evaluate(loaded.as_deref(), black_box(flag), Ok(&context), NOW, None);
                black_box(evaluation.variant.is_some())
            })
        });
        group.bench_function(format!("{name}/record"), |b| {
            b.iter(|| {
                let loaded = holder.current();
                holder.record(loaded.as_deref(), black_box(flag), Ok(&context), NOW, black_box(&outcome), LATENCY_KEY)
            })
        });
    }
    group.bench_function("static/record_4_threads", |b| {
        b.iter_custom(|iterations| {
            let started = std::time::Instant::now();
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (holder, context) = (Arc::clone(&holder), context.clone());
                    std::thread::spawn(move || {
                        for _ in 0..iterations {
                            let loaded = holder.current();
                            let _ =
                                holder.record(loaded.as_deref(), STATIC_FLAG, Ok(&context), NOW, &outcome, LATENCY_KEY);
                        }
                    })
                })
                .collect();
            for thread in threads {
                let _ = thread.join();
            }
            // Per call of one thread: what each caller waits.
            started.elapsed()
        })
    });
    group.finish();
}

/// The benchmark group (private, as in the `evaluate` bench).
mod group {
    criterion::criterion_group!(benches, super::outcomes);
}

criterion_main!(group::benches);
