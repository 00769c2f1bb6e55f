//! Pennon for WebAssembly.
//!
//! One crate, two modules:
//!
//! - with the default `bindgen` feature, a [wasm-bindgen](https://wasm-bindgen.github.io/)
//!   API for JavaScript hosts (browsers, edge workers, Node): an `Engine` class that takes
//!   contexts as JS objects and returns results as JS objects (module `js`);
//! - with `--no-default-features`, the *raw ABI*: a module that imports only the
//!   `pennon_regex` functions and exchanges JSON through its linear memory, for any wasm runtime (module `raw`,
//!   documented in `wasm/README.md`).
//!
//! Both are built without core's regex engine: `matches` patterns are compiled and matched
//! by the separate regex module (`wasm/regex`), reached through the host ([`regex_host`]).
//!
//! Both only convert values, map errors and own handles: every decision is made by
//! [`pennon_core`]. The JSON request and response shapes of the raw ABI live in
//! [`json_api`], which is plain safe Rust and is unit-tested natively.
#![deny(unsafe_code)]

pub mod json_api;
pub mod regex_host;

#[cfg(feature = "bindgen")]
mod js;

// The raw ABI is the only place with `unsafe` (the `#[unsafe(no_mangle)]` export
// attributes); see the module docs for why nothing in it can panic.
#[cfg(not(feature = "bindgen"))]
#[allow(unsafe_code)]
pub mod raw;
