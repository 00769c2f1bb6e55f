#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod bucket;
mod changes;
mod condition;
mod constant;
mod context;
#[cfg(test)]
mod cost_tests;
mod decode;
mod definition;
mod error;
mod evaluate;
mod flag;
mod getters;
mod graph;
pub mod json;
pub mod judgement;
mod memo;
mod reads;
pub mod regex;
mod result;
mod rollout;
mod segment;
mod set;
mod snapshot;
pub mod time;
mod version;
pub mod what_if;

pub use constant::{Constancy, Constant, Constants};
pub use context::{
    Context, ContextProblem, MAX_ARRAY_LEN as MAX_CONTEXT_ARRAY_LEN, MAX_DEPTH as MAX_CONTEXT_DEPTH,
    depth as context_depth,
};
pub use error::{Error, ErrorCategory, ErrorCode, EvaluationError, EvaluationErrorCode};
pub use result::{Evaluation, FlagType, Reason, Slot};
pub use rollout::Standing;
pub use serde_json::{Map, Value};
pub use snapshot::{SCHEMA_VERSION, Snapshot};
pub use what_if::{WhatIf, what_if};
