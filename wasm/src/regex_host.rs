//! `matches` support of the main module: core's [`RegexEngine`] seam, implemented by
//! forwarding to the separate regex module (`wasm/regex`) through the host.
//!
//! The main module is built without core's `regex` feature, so it links no regex code.
//! [`register`] (called before the first snapshot is loaded) gives core an engine whose
//! patterns are handles in the regex module; the host moves the bytes between the two
//! modules' memories. With the wasm-bindgen API the host is the package's JS glue
//! (`setRegexHost`); in the raw module it is whatever provides the `pennon_regex` imports
//! (`wasm/README.md`, "Raw ABI").

use pennon_core::regex::{Pattern, RegexEngine};

/// The reason a pattern fails when the host has no regex module to compile it with.
pub const UNAVAILABLE: &str = "the regex module is not loaded";

/// Registers the forwarding engine with core (once; later calls do nothing).
pub fn register() {
    let _already = pennon_core::regex::set_regex_engine(Box::new(HostEngine));
}

struct HostEngine;

impl RegexEngine for HostEngine {
    fn compile(&self, pattern: &str) -> Result<Box<dyn Pattern>, String> {
        backend::compile(pattern).map(|handle| Box::new(HostPattern(handle)) as Box<dyn Pattern>)
    }
}

/// A pattern compiled in the regex module, freed there when core drops it.
struct HostPattern(u32);

impl Pattern for HostPattern {
    fn is_match(&self, text: &str) -> bool {
        backend::is_match(self.0, text)
    }
}

impl Drop for HostPattern {
    fn drop(&mut self) {
        backend::free(self.0);
    }
}

#[cfg(feature = "bindgen")]
pub use backend::{set_regex_host, take_unavailable};

/// The JS glue as host: an object with `compile(bytes)`, `isMatch(handle, bytes)` and
/// `free(handle)`, set once per module instance by the package's entry.
#[cfg(feature = "bindgen")]
mod backend {
    use std::cell::{Cell, RefCell};

    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// The regex host object of `wasm/js/common.mjs` (`regexHost`).
        pub type RegexHost;
        /// A handle (a number ≥ 1), the reason the pattern is invalid (a string), or `null`
        /// when the regex module is not loaded and cannot be loaded synchronously.
        #[wasm_bindgen(method)]
        fn compile(this: &RegexHost, pattern: &[u8]) -> JsValue;
        #[wasm_bindgen(method, js_name = isMatch)]
        fn is_match(this: &RegexHost, handle: u32, text: &[u8]) -> bool;
        #[wasm_bindgen(method)]
        fn free(this: &RegexHost, handle: u32);
    }

    thread_local! {
        static HOST: RefCell<Option<RegexHost>> = const { RefCell::new(None) };
        static UNAVAILABLE: Cell<bool> = const { Cell::new(false) };
    }

    /// Sets the regex host (the package's JS entry calls this once) and registers the
    /// forwarding engine with core.
    #[wasm_bindgen(js_name = setRegexHost)]
    pub fn set_regex_host(host: RegexHost) {
        HOST.with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                *slot = Some(host);
            }
        });
        super::register();
    }

    /// Whether a pattern failed since the last call because the regex module was not
    /// loaded (and clears the mark).
    pub fn take_unavailable() -> bool {
        UNAVAILABLE.with(Cell::take)
    }

    fn with_host<R>(f: impl FnOnce(&RegexHost) -> R) -> Option<R> {
        HOST.with(|slot| slot.try_borrow().ok().and_then(|host| host.as_ref().map(f)))
    }

    pub(super) fn compile(pattern: &str) -> Result<u32, String> {
        let answer = with_host(|host| host.compile(pattern.as_bytes())).unwrap_or(JsValue::NULL);
        if let Some(handle) = answer.as_f64() {
            return Ok(handle as u32);
        }
        match answer.as_string() {
            Some(reason) => Err(reason),
            None => {
                UNAVAILABLE.with(|flag| flag.set(true));
                Err(super::UNAVAILABLE.into())
            }
        }
    }

    pub(super) fn is_match(handle: u32, text: &str) -> bool {
        with_host(|host| host.is_match(handle, text.as_bytes())).unwrap_or(false)
    }

    pub(super) fn free(handle: u32) {
        with_host(|host| host.free(handle));
    }
}

/// The `pennon_regex` imports of the raw module (`wasm/README.md`, "Raw ABI").
#[cfg(all(not(feature = "bindgen"), target_arch = "wasm32"))]
#[allow(unsafe_code)]
mod backend {
    #[link(wasm_import_module = "pennon_regex")]
    unsafe extern "C" {
        fn pennon_regex_compile(ptr: u32, len: u32) -> i32;
        fn pennon_regex_error(ptr: u32, len: u32);
        fn pennon_regex_is_match(handle: u32, ptr: u32, len: u32) -> u32;
        fn pennon_regex_free(handle: u32);
    }

    const MAX_REASON: usize = 1 << 16;

    /// Address and length of `bytes` as wasm `i32`s.
    fn span(bytes: &[u8]) -> (u32, u32) {
        (bytes.as_ptr() as usize as u32, bytes.len() as u32)
    }

    pub(super) fn compile(pattern: &str) -> Result<u32, String> {
        let (ptr, len) = span(pattern.as_bytes());
        // SAFETY: the host reads `len` bytes at `ptr`, a live string of this module.
        let answer = unsafe { pennon_regex_compile(ptr, len) };
        if answer > 0 {
            return Ok(answer.unsigned_abs());
        }
        // A reason is short (the pattern at most); the cap keeps a confused host from
        // making this module allocate gigabytes.
        let mut reason = vec![0u8; (answer.unsigned_abs() as usize).min(MAX_REASON)];
        let (ptr, len) = span(&reason);
        // SAFETY: the host writes at most `len` bytes at `ptr`, a live buffer of this module.
        unsafe { pennon_regex_error(ptr, len) };
        reason.truncate(len as usize);
        Err(String::from_utf8_lossy(&reason).into_owned())
    }

    pub(super) fn is_match(handle: u32, text: &str) -> bool {
        let (ptr, len) = span(text.as_bytes());
        // SAFETY: the host reads `len` bytes at `ptr`, a live string of this module.
        unsafe { pennon_regex_is_match(handle, ptr, len) == 1 }
    }

    pub(super) fn free(handle: u32) {
        // SAFETY: a plain call with an integer.
        unsafe { pennon_regex_free(handle) }
    }
}

/// Native builds of the raw ABI (its unit tests) have no regex host.
#[cfg(all(not(feature = "bindgen"), not(target_arch = "wasm32")))]
mod backend {
    pub(super) fn compile(_pattern: &str) -> Result<u32, String> {
        Err(super::UNAVAILABLE.into())
    }

    pub(super) fn is_match(_handle: u32, _text: &str) -> bool {
        false
    }

    pub(super) fn free(_handle: u32) {}
}
