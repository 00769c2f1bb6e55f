//! Heap used by loading the generated 10,000-flag snapshot.
//!
//! A counting global allocator (wrapping the system allocator) tracks the bytes currently
//! allocated and their peak. The binary generates the snapshot JSON, then measures
//!
//! - the bytes the compiled `Snapshot` retains once the JSON text is dropped, and
//! - the peak heap during `Snapshot::from_json` above the baseline at which the JSON
//!   text is already allocated (the transient `serde_json::Value` DOM plus the snapshot
//!   being built),
//!
//! and, for reference, the size of the text and of its `Value` DOM. Bytes are requested
//! sizes (`Layout::size`), without allocator overhead.
//!
//! It also counts heap allocations: those of each load step, and those of one call of each
//! benchmarked evaluation (on the 1,000-flag snapshot of the `evaluate` benchmark, after a
//! warm-up call), since an allocation on the evaluation path is the usual reason for a
//! missed per-call target.
//!
//! Run: `cargo run --release -p pennon-benches --bin load_memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use pennon_benches::{
    EVALUATION_FLAG_COUNT, LOAD_FLAG_COUNT, NOW, SPLIT_FLAG, STATIC_FLAG, TARGETING_FLAG, matching_context,
    snapshot_json,
};
use pennon_core::{FlagType, Snapshot, Value};

/// The target for both the retained and the peak bytes: 30 MB.
const TARGET_BYTES: usize = 30_000_000;

/// Counts the bytes allocated through it; the allocation itself is done by [`System`].
struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn allocated(bytes: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    grew(bytes);
}

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    CURRENT.fetch_sub(bytes, Ordering::Relaxed);
}

// `GlobalAlloc` is an unsafe trait, so counting allocations needs `unsafe impl`; this is
// a measurement binary, outside the `forbid(unsafe_code)` core.
#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` with the arguments it was given, so `System`'s
// guarantees (and the caller's obligations) carry over unchanged; the counters are only
// updated after a successful call and never affect the returned pointers.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            allocated(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            allocated(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, i.e. by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the
        // contract on `new_size`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // A reallocation counts as an allocation: it may move the block.
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn current() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

/// Restarts peak tracking from the current level.
fn reset_peak() -> usize {
    let now = current();
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Heap allocations made by one call of `f`, after a warm-up call (so that lazily built
/// caches, such as a regex's, are not counted).
fn allocations_per_call(mut f: impl FnMut()) -> usize {
    f();
    let before = allocations();
    f();
    allocations().saturating_sub(before)
}

fn main() {
    let start = current();
    let text = snapshot_json(LOAD_FLAG_COUNT);
    let text_bytes = text.len();

    // Baseline: the JSON text is allocated, nothing else of the load is.
    let baseline = reset_peak();
    let allocations_before = allocations();
    let snapshot = Snapshot::from_json(&text).unwrap_or_else(|error| {
        eprintln!("the generated snapshot does not load: {error}");
        std::process::exit(1)
    });
    let peak_during_load = peak().saturating_sub(baseline);
    let load_allocations = allocations().saturating_sub(allocations_before);
    drop(text);
    let retained = current().saturating_sub(start);
    if !snapshot.warnings().is_empty() {
        eprintln!("the generated snapshot loaded with {} warnings", snapshot.warnings().len());
        std::process::exit(1);
    }
    let flags = snapshot.flag_keys().len();

    // For reference: the `serde_json::Value` DOM that `from_json` builds first.
    let text = snapshot_json(LOAD_FLAG_COUNT);
    let before_dom = current();
    let allocations_before = allocations();
    let dom: Value = serde_json::from_str(&text).unwrap_or_else(|error| {
        eprintln!("the generated snapshot is not JSON: {error}");
        std::process::exit(1)
    });
    let dom_bytes = current().saturating_sub(before_dom);
    let dom_allocations = allocations().saturating_sub(allocations_before);
    drop(dom);
    drop(text);
    drop(snapshot);

    let mb = |bytes: usize| bytes as f64 / 1e6;
    let verdict = |bytes: usize| if bytes <= TARGET_BYTES { "met" } else { "MISSED" };
    println!("load_memory: {flags} flags, 0 warnings (bytes requested from the allocator)");
    println!();
    println!(
        "| measure                               |        bytes |       MB | bytes/flag | allocations | target ≤ 30 MB |"
    );
    println!(
        "|---------------------------------------|-------------:|---------:|-----------:|------------:|----------------|"
    );
    let row = |name: &str, bytes: usize, count: Option<usize>, target: Option<&str>| {
        println!(
            "| {name:<37} | {bytes:>12} | {:>8.2} | {:>10} | {:>11} | {:<14} |",
            mb(bytes),
            bytes / flags.max(1),
            count.map_or_else(|| "-".to_string(), |n| n.to_string()),
            target.unwrap_or("-")
        );
    };
    row("JSON text", text_bytes, None, None);
    row("serde_json::Value DOM of the text", dom_bytes, Some(dom_allocations), None);
    row("retained by Snapshot (text dropped)", retained, None, Some(verdict(retained)));
    row(
        "peak during from_json above baseline",
        peak_during_load,
        Some(load_allocations),
        Some(verdict(peak_during_load)),
    );
    println!();
    println!("allocations: heap allocations made while parsing the DOM / by the whole `from_json` call.");

    // Allocations on the evaluation paths the `evaluate` benchmark measures.
    let snapshot = Snapshot::from_json(&snapshot_json(EVALUATION_FLAG_COUNT)).unwrap_or_else(|error| {
        eprintln!("the generated snapshot does not load: {error}");
        std::process::exit(1)
    });
    let context = matching_context();
    let evaluate = |key: &str| {
        black_box(snapshot.evaluate(black_box(key), &context, NOW, Some(FlagType::String)));
    };
    let rows = [
        (
            "static boolean",
            allocations_per_call(|| {
                black_box(snapshot.boolean(black_box(STATIC_FLAG), &context, NOW, false));
            }),
        ),
        ("targeting (5 conditions + segment)", allocations_per_call(|| evaluate(TARGETING_FLAG))),
        ("split (3 variants)", allocations_per_call(|| evaluate(SPLIT_FLAG))),
        (
            "evaluate_all (1,000 flags)",
            allocations_per_call(|| {
                snapshot.evaluate_all(&context, NOW).for_each(|entry| {
                    black_box(entry);
                });
            }),
        ),
    ];
    println!();
    println!("| evaluation (one call, after a warm-up call) | heap allocations |");
    println!("|---------------------------------------------|-----------------:|");
    for (name, count) in rows {
        println!("| {name:<43} | {count:>16} |");
    }
}
