//! The per-thread "last error" behind `pennon_last_error_message` and
//! `pennon_last_error_path`.
//!
//! Every function that returns a `PennonStatus` (and `pennon_engine_new`) first clears
//! it and, when it fails, stores the message and path of its failure. The pointers handed
//! to C point into this thread's storage and stay valid until the next such call on the
//! same thread.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};

use crate::engine::Failure;

#[derive(Default)]
struct LastError {
    message: Option<CString>,
    path: Option<CString>,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = const { RefCell::new(LastError { message: None, path: None }) };
}

/// A C string of `text`, with NUL bytes (which C strings cannot hold) written as `\0`.
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

/// Forgets the previous call's error. Cheap when there is none (the hot path).
pub fn clear() {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut()
            && (last.message.is_some() || last.path.is_some())
        {
            *last = LastError::default();
        }
    });
}

/// Records a failure for this thread.
pub fn set(failure: &Failure) {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            last.message = Some(c_string(&failure.message));
            last.path = (!failure.path.is_empty()).then(|| c_string(&failure.path));
        }
    });
}

/// Pointer to this thread's last message, or to a static empty string.
pub fn message_ptr() -> *const c_char {
    pointer(|last| last.message.as_deref())
}

/// Pointer to this thread's last path, or to a static empty string.
pub fn path_ptr() -> *const c_char {
    pointer(|last| last.path.as_deref())
}

fn pointer(field: impl Fn(&LastError) -> Option<&CStr>) -> *const c_char {
    LAST_ERROR
        .try_with(|cell| cell.try_borrow().ok().and_then(|last| field(&last).map(CStr::as_ptr)))
        .ok()
        .flatten()
        .unwrap_or(c"".as_ptr())
}
