//! What an evaluation returns: value, variant, reason, error and provenance.

use alloc::string::String;
use serde_json::{Map, Value, json};

use crate::error::EvaluationError;

/// The type of a flag's variants, and of a typed getter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagType {
    /// `true` / `false`.
    Boolean,
    /// A string.
    String,
    /// A JSON number.
    Number,
    /// A JSON object.
    Object,
}

impl FlagType {
    /// Every type.
    pub const ALL: [FlagType; 4] = [FlagType::Boolean, FlagType::String, FlagType::Number, FlagType::Object];

    /// The name used in snapshots: `boolean`, `string`, `number`, `object`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlagType::Boolean => "boolean",
            FlagType::String => "string",
            FlagType::Number => "number",
            FlagType::Object => "object",
        }
    }

    /// Parses a type name.
    pub fn parse(name: &str) -> Option<FlagType> {
        FlagType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether `value` has this type.
    pub fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (FlagType::Boolean, Value::Bool(_))
                | (FlagType::String, Value::String(_))
                | (FlagType::Number, Value::Number(_))
                | (FlagType::Object, Value::Object(_))
        )
    }
}

/// Why a value was served. The OpenFeature reasons plus Pennon's own (see
/// `docs/snapshot-format.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The flag has no targeting; its fallthrough variant.
    Static,
    /// Nothing matched; the fallthrough variant.
    Default,
    /// An individual target or a rule serving a fixed variant.
    TargetingMatch,
    /// A rollout, progressive stage, gradual ramp or weighted split chose.
    Split,
    /// State `off`.
    Disabled,
    /// An error; the caller's default was returned.
    Error,
    /// State `kill`.
    Killed,
    /// State `shadow`: the off variant is served; `shadow_variant` tells the on path.
    Shadow,
    /// An unexpired tenant override.
    Override,
    /// A prerequisite flag did not return an allowed variant.
    PrerequisiteFailed,
    /// `now` is outside the flag's window.
    OutOfWindow,
    /// State `canary` and the unit is outside the canary cohort.
    CanaryExcluded,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 12] = [
        Reason::Static,
        Reason::Default,
        Reason::TargetingMatch,
        Reason::Split,
        Reason::Disabled,
        Reason::Error,
        Reason::Killed,
        Reason::Shadow,
        Reason::Override,
        Reason::PrerequisiteFailed,
        Reason::OutOfWindow,
        Reason::CanaryExcluded,
    ];

    /// The stable SCREAMING_SNAKE_CASE form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::Default => "DEFAULT",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Disabled => "DISABLED",
            Reason::Error => "ERROR",
            Reason::Killed => "KILLED",
            Reason::Shadow => "SHADOW",
            Reason::Override => "OVERRIDE",
            Reason::PrerequisiteFailed => "PREREQUISITE_FAILED",
            Reason::OutOfWindow => "OUT_OF_WINDOW",
            Reason::CanaryExcluded => "CANARY_EXCLUDED",
        }
    }

    /// The reason's position in [`Reason::ALL`] (`0..Reason::ALL.len()`): an array index
    /// for per-reason counters.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// Where an answer sits in the snapshot that gave it: the flag's index among
/// [`Snapshot::flag_keys`](crate::Snapshot::flag_keys) and the served variant's index
/// among the flag's variants ([`Snapshot::variant_names`](crate::Snapshot::variant_names)),
/// `None` when no variant was served (an error). Lets a host keep per-flag, per-variant
/// data (evaluation counters) in arrays instead of looking names up on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    /// The flag's index in its snapshot.
    pub flag: u32,
    /// The served variant's index in the flag's variants; `None` on error.
    pub variant: Option<u32>,
}

/// The outcome of evaluating one flag, borrowed from the snapshot. Evaluation allocates
/// only to report an error, to lowercase non-ASCII (or longer than 64 bytes) text for a
/// case-insensitive comparison, or to remember more than 8 prerequisites and segments
/// computed in one call (a hash map, grown as needed: `evaluate_all` over the benchmark's
/// 1,000 flags makes 6 allocations); `benches/src/bin/load_memory.rs` counts 0
/// allocations per call for the benchmarked flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<'s> {
    /// The served variant's value; `None` means the caller's default (on error).
    pub value: Option<&'s Value>,
    /// The served variant's name; `None` on error.
    pub variant: Option<&'s str>,
    /// Why.
    pub reason: Reason,
    /// Set exactly when `reason` is [`Reason::Error`].
    pub error: Option<EvaluationError>,
    /// The rule that matched, if a rule decided.
    pub rule_id: Option<&'s str>,
    /// The 0-based progressive-rollout stage that decided, if any.
    pub stage: Option<u32>,
    /// In state `shadow`: the variant the on path would have served.
    pub shadow_variant: Option<&'s str>,
    /// The flag's `metadata`, if it has one.
    pub flag_metadata: Option<&'s Map<String, Value>>,
    /// Where the flag and the served variant sit in the snapshot; `None` when the
    /// snapshot has no such flag, none is loaded, or the context did not convert.
    pub slot: Option<Slot>,
}

impl<'s> Evaluation<'s> {
    pub(crate) fn error(error: EvaluationError, flag_metadata: Option<&'s Map<String, Value>>) -> Self {
        Evaluation {
            value: None,
            variant: None,
            reason: Reason::Error,
            error: Some(error),
            rule_id: None,
            stage: None,
            shadow_variant: None,
            flag_metadata,
            slot: None,
        }
    }

    /// The same evaluation, located at `slot`.
    pub(crate) fn at(self, slot: Slot) -> Self {
        Evaluation { slot: Some(slot), ..self }
    }

    /// The result of evaluating with no snapshot loaded: `PROVIDER_NOT_READY`. Bindings
    /// return it from engines that have not loaded a snapshot yet.
    pub fn not_ready() -> Evaluation<'static> {
        Evaluation::error(
            EvaluationError {
                code: crate::error::EvaluationErrorCode::ProviderNotReady,
                message: "no snapshot has been loaded yet".into(),
            },
            None,
        )
    }

    /// The result of a context the binding could not convert: `INVALID_CONTEXT`.
    pub fn invalid_context(message: impl Into<String>) -> Evaluation<'static> {
        Evaluation::error(
            EvaluationError { code: crate::error::EvaluationErrorCode::InvalidContext, message: message.into() },
            None,
        )
    }

    /// The served value, or `default` on error.
    pub fn value_or<'a>(&'a self, default: &'a Value) -> &'a Value {
        self.value.unwrap_or(default)
    }

    /// The canonical JSON form of the result (`docs/snapshot-format.md` §4), used by every
    /// JSON interface and by the conformance runners. `revision` is `None` when no
    /// snapshot is loaded.
    pub fn to_json(&self, default: &Value, revision: impl Into<Option<u64>>) -> Value {
        json!({
            "value": self.value_or(default),
            "variant": self.variant,
            "reason": self.reason.as_str(),
            "ruleId": self.rule_id,
            "stage": self.stage,
            "shadowVariant": self.shadow_variant,
            "errorCode": self.error.as_ref().map(|e| e.code.as_str()),
            "errorMessage": self.error.as_ref().map(|e| e.message.as_str()),
            "revision": revision.into(),
            "flagMetadata": self.flag_metadata,
        })
    }

    /// `json::canonical(&self.to_json(default, revision))`, written directly (no
    /// intermediate tree): the fast path of the JSON interfaces.
    pub fn to_canonical_json(&self, default: &Value, revision: impl Into<Option<u64>>) -> String {
        use crate::json::{write_map, write_string, write_value};
        fn text(out: &mut String, value: Option<&str>) {
            match value {
                Some(text) => write_string(text, out),
                None => out.push_str("null"),
            }
        }
        fn number(out: &mut String, value: Option<u64>) {
            match value {
                Some(n) => {
                    let _ = core::fmt::Write::write_fmt(out, format_args!("{n}"));
                }
                None => out.push_str("null"),
            }
        }
        let mut out = String::with_capacity(192);
        // Keys in canonical (byte-sorted) order.
        out.push_str("{\"errorCode\":");
        text(&mut out, self.error.as_ref().map(|e| e.code.as_str()));
        out.push_str(",\"errorMessage\":");
        text(&mut out, self.error.as_ref().map(|e| e.message.as_str()));
        out.push_str(",\"flagMetadata\":");
        match self.flag_metadata {
            Some(metadata) => write_map(metadata, &mut out),
            None => out.push_str("null"),
        }
        out.push_str(",\"reason\":");
        write_string(self.reason.as_str(), &mut out);
        out.push_str(",\"revision\":");
        number(&mut out, revision.into());
        out.push_str(",\"ruleId\":");
        text(&mut out, self.rule_id);
        out.push_str(",\"shadowVariant\":");
        text(&mut out, self.shadow_variant);
        out.push_str(",\"stage\":");
        number(&mut out, self.stage.map(u64::from));
        out.push_str(",\"value\":");
        write_value(self.value_or(default), &mut out);
        out.push_str(",\"variant\":");
        text(&mut out, self.variant);
        out.push('}');
        out
    }
}
