//! The one error vocabulary of Pennon: stable snake_case codes for everything that can
//! go wrong while loading, and the OpenFeature error codes of evaluation results.

use alloc::string::String;
use core::fmt;
use serde_json::{Map, Value};

macro_rules! codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal,)* }) => {
        $(#[$meta])*
        $vis enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every code, in declaration order. Bindings test that they map each one.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable string form of the code.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// Parses the stable string form back into the code.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes! {
    /// Stable snake_case error codes. Each has a fixed ABI status number
    /// ([`ErrorCode::status`]). Each binding maps every one of them (a JS `Error`
    /// subclass with `.code`, a Python exception with `.code`, a C status plus message).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum ErrorCode {
        /// The text is not JSON.
        InvalidJson => "invalid_json",
        /// The top level is not a snapshot.
        InvalidSnapshot => "invalid_snapshot",
        /// `schemaVersion` is missing or not supported by this engine.
        UnsupportedSchemaVersion => "unsupported_schema_version",
        /// A required field is absent.
        MissingField => "missing_field",
        /// A field has the wrong JSON type.
        InvalidType => "invalid_type",
        /// A field has a value outside its domain.
        InvalidValue => "invalid_value",
        /// A field this version does not know.
        UnknownField => "unknown_field",
        /// A condition operator this version does not know.
        UnknownOperator => "unknown_operator",
        /// A reference to a variant the flag does not define.
        UnknownVariant => "unknown_variant",
        /// A variant's value does not have the flag's type.
        VariantTypeMismatch => "variant_type_mismatch",
        /// A regular expression that does not compile.
        InvalidRegex => "invalid_regex",
        /// A semantic version that does not parse.
        InvalidSemver => "invalid_semver",
        /// A CIDR network that does not parse.
        InvalidCidr => "invalid_cidr",
        /// A timestamp that does not parse.
        InvalidDate => "invalid_date",
        /// An ISO 8601 duration that does not parse or uses years or months.
        InvalidDuration => "invalid_duration",
        /// A percentage outside 0–100, too precise, or decreasing across stages.
        InvalidPercentage => "invalid_percentage",
        /// Split weights that do not add up to 100.
        InvalidWeights => "invalid_weights",
        /// `inSegment` names a segment that does not exist.
        UnknownSegment => "unknown_segment",
        /// `inSegment` names a segment that failed to load.
        InvalidSegment => "invalid_segment",
        /// Segments that reference each other in a cycle.
        SegmentCycle => "segment_cycle",
        /// Flags whose prerequisites form a cycle.
        PrerequisiteCycle => "prerequisite_cycle",
        /// Prerequisite chains or segment nesting deeper than the limit.
        DepthExceeded => "depth_exceeded",
        /// (Warning) a prerequisite names a flag that is not in the snapshot.
        UnknownPrerequisite => "unknown_prerequisite",
        /// Two rules of one flag share an id.
        DuplicateId => "duplicate_id",
        /// A context that is not a JSON object or cannot be converted.
        InvalidContext => "invalid_context",
        /// An argument passed to a binding is invalid (null pointer, bad UTF-8, bad type name…).
        InvalidArgument => "invalid_argument",
        /// A bug: a panic was caught at a binding boundary.
        Internal => "internal",
    }
}

codes! {
    /// OpenFeature error codes carried by evaluation results.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum EvaluationErrorCode {
        /// The flag is not in the snapshot.
        FlagNotFound => "FLAG_NOT_FOUND",
        /// The requested type differs from the flag's type.
        TypeMismatch => "TYPE_MISMATCH",
        /// The flag's configuration failed to load.
        ParseError => "PARSE_ERROR",
        /// Bucketing needed the targeting key and the context has none.
        TargetingKeyMissing => "TARGETING_KEY_MISSING",
        /// The context lacks an attribute bucketing needs, or it has an unusable type.
        InvalidContext => "INVALID_CONTEXT",
        /// The engine has no snapshot yet.
        ProviderNotReady => "PROVIDER_NOT_READY",
        /// Any other error.
        General => "GENERAL",
    }
}

/// The family of an [`ErrorCode`]: bindings map each family to one exception class
/// (`SnapshotError`, `ContextError`, `ArgumentError`, `InternalError`), all subclasses
/// of `PennonError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCategory {
    /// Loading a snapshot failed.
    Snapshot,
    /// A context could not be used.
    Context,
    /// An argument passed to a binding was invalid.
    Argument,
    /// A bug inside Pennon.
    Internal,
}

impl ErrorCategory {
    /// `SnapshotError`, `ContextError`, `ArgumentError` or `InternalError`.
    pub const fn class_name(self) -> &'static str {
        match self {
            ErrorCategory::Snapshot => "SnapshotError",
            ErrorCategory::Context => "ContextError",
            ErrorCategory::Argument => "ArgumentError",
            ErrorCategory::Internal => "InternalError",
        }
    }
}

impl ErrorCode {
    /// The status the binary ABIs (C `PennonStatus`, the raw wasm ABI) return for this
    /// code; 0 is success. Written out, never derived from declaration order: these
    /// numbers are ABI and never change (a new code takes the next free number).
    pub const fn status(self) -> u32 {
        match self {
            ErrorCode::InvalidJson => 1,
            ErrorCode::InvalidSnapshot => 2,
            ErrorCode::UnsupportedSchemaVersion => 3,
            ErrorCode::MissingField => 4,
            ErrorCode::InvalidType => 5,
            ErrorCode::InvalidValue => 6,
            ErrorCode::UnknownField => 7,
            ErrorCode::UnknownOperator => 8,
            ErrorCode::UnknownVariant => 9,
            ErrorCode::VariantTypeMismatch => 10,
            ErrorCode::InvalidRegex => 11,
            ErrorCode::InvalidSemver => 12,
            ErrorCode::InvalidCidr => 13,
            ErrorCode::InvalidDate => 14,
            ErrorCode::InvalidDuration => 15,
            ErrorCode::InvalidPercentage => 16,
            ErrorCode::InvalidWeights => 17,
            ErrorCode::UnknownSegment => 18,
            ErrorCode::InvalidSegment => 19,
            ErrorCode::SegmentCycle => 20,
            ErrorCode::PrerequisiteCycle => 21,
            ErrorCode::DepthExceeded => 22,
            ErrorCode::UnknownPrerequisite => 23,
            ErrorCode::DuplicateId => 24,
            ErrorCode::InvalidContext => 25,
            ErrorCode::InvalidArgument => 26,
            ErrorCode::Internal => 27,
        }
    }

    /// The code of a non-zero ABI status, if it names one.
    pub fn from_status(status: u32) -> Option<Self> {
        ErrorCode::ALL.iter().copied().find(|code| code.status() == status)
    }

    /// The family this code belongs to.
    pub const fn category(self) -> ErrorCategory {
        match self {
            ErrorCode::InvalidContext => ErrorCategory::Context,
            ErrorCode::InvalidArgument => ErrorCategory::Argument,
            ErrorCode::Internal => ErrorCategory::Internal,
            _ => ErrorCategory::Snapshot,
        }
    }
}

/// A typed error with a stable code, the JSON path it concerns (empty when none) and a
/// human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// JSON Pointer (RFC 6901) to the offending value, e.g. `/flags/checkout/rules/2/when/op`;
    /// empty when the error concerns no particular value.
    pub path: String,
    /// What is wrong, for people.
    pub message: String,
}

impl Error {
    /// Creates an error.
    pub fn new(code: ErrorCode, path: impl Into<String>, message: impl Into<String>) -> Self {
        Error { code, path: path.into(), message: message.into() }
    }

    /// `{"code": …, "path": …, "message": …}`: how JSON interfaces report an error or a
    /// load warning; `path` is `null` when the error concerns no particular value.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("code".into(), Value::from(self.code.as_str()));
        let path = if self.path.is_empty() { Value::Null } else { Value::from(self.path.as_str()) };
        object.insert("path".into(), path);
        object.insert("message".into(), Value::from(self.message.as_str()));
        Value::Object(object)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.code, self.message)
        } else {
            write!(f, "{} at {}: {}", self.code, self.path, self.message)
        }
    }
}

impl core::error::Error for Error {}

/// An error of one evaluation: an OpenFeature code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationError {
    /// OpenFeature error code.
    pub code: EvaluationErrorCode,
    /// What went wrong, for people.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(code.as_str()), Some(*code));
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        for code in EvaluationErrorCode::ALL {
            assert_eq!(EvaluationErrorCode::from_code(code.as_str()), Some(*code));
        }
        assert_eq!(ErrorCode::from_code("nope"), None);
        for (index, code) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code.status() as usize, index + 1, "{code}");
            assert_eq!(ErrorCode::from_status(code.status()), Some(*code));
        }
        assert_eq!(ErrorCode::from_status(0), None);
        assert_eq!(ErrorCode::from_status(ErrorCode::ALL.len() as u32 + 1), None);
    }
}
