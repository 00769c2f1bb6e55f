//! Running an export so that no panic crosses into the host: a caught panic becomes an
//! `internal` error with one wording in every binding, and prints nothing to the host's
//! stderr (the host gets an exception or status instead).

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use pennon_core::{Error, ErrorCode};

thread_local! {
    /// How many [`catch`] calls are running on this thread.
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

/// Runs `body`; a panic inside it comes back as an `internal` error
/// (`"a bug in Pennon: <panic message>"`) instead of unwinding into the host.
///
/// The panic hook is wrapped once per process so that panics caught here print nothing;
/// panics elsewhere still reach the previous hook.
pub fn catch<T>(body: impl FnOnce() -> T) -> Result<T, Error> {
    quiet_hook();
    GUARDED.with(|guarded| guarded.set(guarded.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    GUARDED.with(|guarded| guarded.set(guarded.get().saturating_sub(1)));
    outcome.map_err(|payload| internal(payload.as_ref()))
}

/// The `internal` error for a caught panic's payload.
pub fn internal(payload: &(dyn Any + Send)) -> Error {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    Error::new(ErrorCode::Internal, "", format!("a bug in Pennon: {detail}"))
}

fn quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::panic)] // The point of the test.
    fn a_panic_becomes_an_internal_error() {
        assert_eq!(catch(|| 7), Ok(7));
        let error = catch(|| -> u32 { panic!("deliberate") }).unwrap_err();
        assert_eq!(error.code, ErrorCode::Internal);
        assert_eq!(error.message, "a bug in Pennon: deliberate");
        let error = catch(|| -> u32 { panic!("{} {}", "formatted", 2) }).unwrap_err();
        assert_eq!(error.message, "a bug in Pennon: formatted 2");
        // Nested guards unwind to the innermost one.
        assert!(catch(|| catch(|| -> u32 { panic!("inner") }).is_err()).is_ok());
    }
}
