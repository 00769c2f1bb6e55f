//! Placeholder; the binding lands with issue 3.
