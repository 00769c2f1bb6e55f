//! Judgement: the statistics that decide whether a canary is healthy and what an
//! experiment shows. Pure functions of counts and sketches: no IO, no clock, and nothing
//! here sees a [`crate::Snapshot`].

pub mod sketch;
