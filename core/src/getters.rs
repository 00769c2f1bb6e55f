//! Typed getters with defaults, and "all flags for this context".

use serde_json::Value;

use crate::context::Context;
use crate::result::{Evaluation, FlagType};
use crate::snapshot::Snapshot;
use crate::time::Millis;

impl Snapshot {
    /// A boolean flag's value, or `default` on any error (including `TYPE_MISMATCH`).
    pub fn boolean(&self, key: &str, context: &Context, now: Millis, default: bool) -> bool {
        self.evaluate(key, context, now, Some(FlagType::Boolean)).value.and_then(Value::as_bool).unwrap_or(default)
    }

    /// A string flag's value, or `default` on any error.
    pub fn string<'a>(&'a self, key: &str, context: &Context, now: Millis, default: &'a str) -> &'a str {
        self.evaluate(key, context, now, Some(FlagType::String)).value.and_then(Value::as_str).unwrap_or(default)
    }

    /// A number flag's value, or `default` on any error.
    pub fn number(&self, key: &str, context: &Context, now: Millis, default: f64) -> f64 {
        self.evaluate(key, context, now, Some(FlagType::Number)).value.and_then(Value::as_f64).unwrap_or(default)
    }

    /// An object flag's value, or `default` on any error.
    pub fn object<'a>(&'a self, key: &str, context: &Context, now: Millis, default: &'a Value) -> &'a Value {
        self.evaluate(key, context, now, Some(FlagType::Object)).value.unwrap_or(default)
    }

    /// Every flag evaluated for one context, sorted by key (for front-end bootstrap).
    pub fn evaluate_all<'s>(
        &'s self,
        context: &'s Context,
        now: Millis,
    ) -> impl ExactSizeIterator<Item = (&'s str, Evaluation<'s>)> + 's {
        self.keys
            .iter()
            .zip(self.flags.iter())
            .map(move |(key, entry)| (&**key, self.evaluate_entry(key, entry, context, now, None)))
    }
}
