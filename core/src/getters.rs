//! Typed getters with defaults, and "all flags for this context".

use serde_json::Value;

use crate::context::Context;
use crate::memo::Memo;
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
        self.evaluate_all_converted(Ok(context), now)
    }

    /// [`Snapshot::evaluate`] for a binding's context, which may have failed to convert:
    /// `Err(message)` is the `INVALID_CONTEXT` result with that message
    /// ([`Evaluation::invalid_context`]), whatever the flag.
    pub fn evaluate_converted(
        &self,
        key: &str,
        context: Result<&Context, &str>,
        now: Millis,
        expected: Option<FlagType>,
    ) -> Evaluation<'_> {
        match context {
            Ok(context) => self.evaluate(key, context, now, expected),
            Err(message) => Evaluation::invalid_context(message),
        }
    }

    /// [`Snapshot::evaluate_all`] for a binding's context, which may have failed to
    /// convert: with `Err(message)` every flag's result is `INVALID_CONTEXT`.
    pub fn evaluate_all_converted<'s>(
        &'s self,
        context: Result<&'s Context, &'s str>,
        now: Millis,
    ) -> impl ExactSizeIterator<Item = (&'s str, Evaluation<'s>)> + 's {
        // One memo for every flag: a prerequisite or segment shared by many flags is
        // computed once for the whole call.
        let mut memo = Memo::default();
        self.keys.iter().zip(self.flags.iter()).enumerate().map(move |(id, (key, entry))| {
            // Flag ids fit u32 (`Snapshot::compile` numbers them so).
            let id = id as u32;
            let evaluation = match context {
                Ok(context) => self.evaluate_entry(id, key, entry, context, now, None, &mut memo),
                Err(message) => Evaluation::invalid_context(message),
            };
            (&**key, evaluation)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::EvaluationErrorCode;
    use alloc::vec::Vec;

    const SNAPSHOT: &str = r#"{"schemaVersion": 1, "revision": 4, "flags": {
      "a": {"type": "boolean", "state": "on", "variants": {"on": true, "off": false}, "offVariant": "off",
            "fallthrough": {"variant": "on"}},
      "b": {"type": "string", "state": "on", "variants": {"x": "x"}, "offVariant": "x",
            "fallthrough": {"variant": "x"}}}}"#;

    #[test]
    fn a_context_that_did_not_convert_is_invalid_for_every_flag() {
        let snapshot = Snapshot::from_json(SNAPSHOT).unwrap();
        let context = Context::with_targeting_key("u-1");
        let converted: Vec<_> = snapshot.evaluate_all_converted(Ok(&context), 0).collect();
        assert_eq!(converted, snapshot.evaluate_all(&context, 0).collect::<Vec<_>>());
        assert_eq!(snapshot.evaluate_converted("a", Ok(&context), 0, None), snapshot.evaluate("a", &context, 0, None));
        for (key, evaluation) in snapshot.evaluate_all_converted(Err("the context must be an object"), 0) {
            let error = evaluation.error.as_ref().unwrap();
            assert_eq!(
                (error.code, error.message.as_str()),
                (EvaluationErrorCode::InvalidContext, "the context must be an object"),
                "{key}"
            );
            assert_eq!(evaluation, snapshot.evaluate_converted(key, Err("the context must be an object"), 0, None));
        }
        assert_eq!(snapshot.evaluate_all_converted(Err("x"), 0).len(), 2);
    }

    #[test]
    fn slots_locate_the_flag_and_the_served_variant() {
        use crate::result::{Reason, Slot};
        let snapshot = Snapshot::from_json(SNAPSHOT).unwrap();
        let context = Context::new();
        let a = snapshot.evaluate("a", &context, 0, None);
        assert_eq!(a.slot, Some(Slot { flag: 0, variant: Some(1) }));
        assert_eq!(snapshot.flag_key_at(0), Some("a"));
        assert_eq!(snapshot.variant_names(0).collect::<Vec<_>>(), ["off", "on"]);
        let b = snapshot.evaluate("b", &context, 0, None);
        assert_eq!((b.slot, snapshot.flag_key_at(1)), (Some(Slot { flag: 1, variant: Some(0) }), Some("b")));
        let mismatch = snapshot.evaluate("b", &context, 0, Some(FlagType::Boolean));
        assert_eq!(mismatch.slot, Some(Slot { flag: 1, variant: None }));
        assert_eq!(snapshot.evaluate("nope", &context, 0, None).slot, None);
        assert_eq!((snapshot.flag_key_at(2), snapshot.variant_names(2).len()), (None, 0));
        for (id, (key, evaluation)) in snapshot.evaluate_all(&context, 0).enumerate() {
            assert_eq!(evaluation.slot.map(|slot| slot.flag as usize), Some(id), "{key}");
        }
        for (index, reason) in Reason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), index);
        }
    }
}
