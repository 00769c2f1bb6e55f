//! Pennon's regex module: `pennon_core::regex::compile` (the `matches` dialect of
//! `docs/snapshot-format.md` §6.2, with core's one configuration) behind a small ABI, so
//! that a wasm host loads regex support only for snapshots with a `matches` condition.
//!
//! The module imports nothing. The host never passes addresses: it asks for the input
//! buffer, writes UTF-8 there, and names only lengths and pattern handles
//! (`wasm/README.md`, "Regex module"). All integers are wasm `i32`, read as unsigned.
//!
//! | export | returns | does |
//! |---|---|---|
//! | `pennon_regex_abi_version()` | `1` | the version of this ABI |
//! | `pennon_regex_input(len)` | `ptr` | the input buffer, at least `len` bytes (`0` if memory is short); valid until the next call |
//! | `pennon_regex_compile(len)` | handle | compiles the pattern in the input's first `len` bytes: a handle ≥ 1, or `0` when it is invalid (the reason is the output) |
//! | `pennon_regex_is_match(handle, len)` | `1` / `0` | whether the pattern matches the text in the input's first `len` bytes (`0` for an unknown handle or non-UTF-8 text) |
//! | `pennon_regex_drop(handle)` | — | frees a pattern (unknown handles are ignored) |
//! | `pennon_regex_output_ptr()` / `pennon_regex_output_len()` | `ptr` / `len` | the UTF-8 reason of the last failed compile |
#![deny(unsafe_code)]

use std::cell::RefCell;

use pennon_core::regex::{Regex, compile};

#[derive(Default)]
struct State {
    input: Vec<u8>,
    output: String,
    /// Pattern `h` is at index `h - 1`; dropped ones are `None` (handles are never reused).
    patterns: Vec<Option<Regex>>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// Runs `f` on the module state; `fallback` if it is already borrowed (cannot happen: the
/// module is single-threaded and never calls out).
fn with_state<R>(fallback: R, f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|state| state.try_borrow_mut().map_or(fallback, |mut state| f(&mut state)))
}

/// Address of a buffer as a wasm `i32`.
fn address(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.as_ptr() as usize).unwrap_or(0)
}

impl State {
    fn input(&self, len: u32) -> Option<&[u8]> {
        self.input.get(..usize::try_from(len).ok()?)
    }

    fn compile(&mut self, len: u32) -> u32 {
        let compiled = match self.input(len).map(std::str::from_utf8) {
            Some(Ok(pattern)) => compile(pattern),
            _ => Err(String::from("the pattern is not UTF-8")),
        };
        let handle = u32::try_from(self.patterns.len()).ok().and_then(|n| n.checked_add(1));
        match (compiled, handle) {
            (Ok(regex), Some(handle)) => {
                self.patterns.push(Some(regex));
                handle
            }
            (Err(reason), _) => {
                self.output = reason;
                0
            }
            (Ok(_), None) => {
                self.output = String::from("too many patterns");
                0
            }
        }
    }

    fn pattern(&self, handle: u32) -> Option<&Regex> {
        self.patterns.get(usize::try_from(handle.checked_sub(1)?).ok()?)?.as_ref()
    }

    fn drop_pattern(&mut self, handle: u32) {
        if let Some(slot) = handle.checked_sub(1).and_then(|i| self.patterns.get_mut(usize::try_from(i).ok()?)) {
            *slot = None;
        }
    }

    fn is_match(&self, handle: u32, len: u32) -> bool {
        match (self.pattern(handle), self.input(len).map(std::str::from_utf8)) {
            (Some(regex), Some(Ok(text))) => regex.is_match(text),
            _ => false,
        }
    }
}

#[allow(unsafe_code)] // `#[unsafe(no_mangle)]` only
mod exports {
    use super::{address, with_state};

    #[unsafe(no_mangle)]
    extern "C" fn pennon_regex_abi_version() -> u32 {
        1
    }

    #[unsafe(no_mangle)]
    extern "C" fn pennon_regex_input(len: u32) -> u32 {
        with_state(0, |state| {
            let Ok(len) = usize::try_from(len) else { return 0 };
            if state.input.len() < len && state.input.try_reserve_exact(len - state.input.len()).is_err() {
                return 0;
            }
            state.input.resize(state.input.len().max(len), 0);
            address(&state.input)
        })
    }

    #[unsafe(no_mangle)]
    extern "C" fn pennon_regex_compile(len: u32) -> u32 {
        with_state(0, |state| state.compile(len))
    }

    #[unsafe(no_mangle)]
    extern "C" fn pennon_regex_is_match(handle: u32, len: u32) -> u32 {
        with_state(0, |state| u32::from(state.is_match(handle, len)))
    }

    #[unsafe(no_mangle)]
    extern "C" fn pennon_regex_drop(handle: u32) {
        with_state((), |state| state.drop_pattern(handle));
    }

    #[unsafe(no_mangle)]
    extern "C" fn pennon_regex_output_ptr() -> u32 {
        with_state(0, |state| address(state.output.as_bytes()))
    }

    #[unsafe(no_mangle)]
    extern "C" fn pennon_regex_output_len() -> u32 {
        with_state(0, |state| u32::try_from(state.output.len()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::State;

    fn state_with(input: &str) -> State {
        State { input: input.as_bytes().to_vec(), ..State::default() }
    }

    #[test]
    fn compiles_matches_and_reports_invalid_patterns() {
        let mut state = state_with(r"^\d+$");
        let handle = state.compile(5);
        assert_eq!(handle, 1);
        state.input = b"123".to_vec();
        assert!(state.is_match(handle, 3));
        state.input = "١٢٣".as_bytes().to_vec();
        assert!(!state.is_match(handle, 6));
        assert!(!state.is_match(handle + 1, 6));
        assert!(!state.is_match(handle, 7));
        state.drop_pattern(handle);
        assert!(!state.is_match(handle, 6));
        state.input = b"a".to_vec();
        assert_eq!(state.compile(1), 2, "handles are never reused");
        state.input = br"\pL".to_vec();
        assert_eq!(state.compile(3), 0);
        assert!(state.output.contains("not part of Pennon's regex dialect"), "{}", state.output);
        state.input = b"(".to_vec();
        assert_eq!(state.compile(1), 0);
        assert_eq!(state.output, "unclosed group");
        state.input = vec![0xff];
        assert_eq!(state.compile(1), 0);
    }
}
