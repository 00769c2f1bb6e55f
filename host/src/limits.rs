//! Nesting limits for values that hosts hand over as objects.

/// Deepest nesting of objects and arrays in a context, the context object itself being
/// level 1. Deeper contexts are `INVALID_CONTEXT` (core's `ContextProblem::TooDeep`).
pub const MAX_CONTEXT_DEPTH: usize = pennon_core::MAX_CONTEXT_DEPTH;

/// Deepest nesting of objects and arrays in a snapshot handed over as an object (a JS
/// object, a Python dict), the snapshot object itself being level 1. It only guards the
/// converting code's stack: a converted document is loaded as its JSON text
/// ([`crate::load_document`]), so the text's own limits apply to it exactly as to a file —
/// a flag nested too deep fails alone, whichever form the document came in.
pub const MAX_SNAPSHOT_DEPTH: usize = 512;
