//! Nesting limits for values that hosts hand over as objects.

/// Deepest nesting of objects and arrays in a context, the context object itself being
/// level 1. Deeper contexts are `INVALID_CONTEXT` (core's `ContextProblem::TooDeep`).
pub const MAX_CONTEXT_DEPTH: usize = pennon_core::MAX_CONTEXT_DEPTH;

/// Deepest nesting of objects and arrays in a snapshot handed over as an object (a JS
/// object, a Python dict): serde_json's recursion limit for JSON text, so that a document
/// nested too deep is refused whether it arrives as text or as an object.
pub const MAX_SNAPSHOT_DEPTH: usize = 128;
