//! Pennon's C ABI (`libpennon.a`, `libpennon.so`, `include/pennon.h`).
//!
//! The binding only converts values, maps errors and owns handles (`docs/bindings.md`):
//! a `PennonEngine` holds one compiled [`pennon_core::Snapshot`], JSON text goes in, the
//! canonical result JSON of [`pennon_core::json::canonical`] comes out in a Rust-owned
//! [`PennonBuffer`], and every failure is a [`PennonStatus`] plus a thread-local message.
//!
//! Layout: `ffi.rs` holds every export and all of the crate's `unsafe` (pointer handling,
//! each block justified by a `SAFETY` comment); `engine.rs` and `last_error.rs` are safe
//! Rust; `status.rs` is generated from [`pennon_core::ErrorCode::ALL`] by
//! `tests/generated.rs`, which also regenerates the header with cbindgen. Build, link,
//! ownership and error rules for C users: `bindings/c/README.md`.

mod engine;
mod ffi;
mod last_error;
mod status;

pub use engine::PENNON_MAX_CONTEXT_DEPTH;
pub use ffi::*;
pub use status::PennonStatus;
