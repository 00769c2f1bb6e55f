#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod args;
pub mod clock;
pub mod guard;
mod holder;
pub mod limits;

pub use holder::{Holder, Loaded};
