//! The evaluation context: a JSON object of attributes.

use alloc::format;
use alloc::string::String;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode};

/// The deepest nesting a context may have; the context object itself is level 1.
pub const MAX_DEPTH: usize = 64;

/// The most elements an array in a context may have (a JS sparse array of length 2^32 − 1
/// would otherwise be expanded element by element).
pub const MAX_ARRAY_LEN: usize = 1 << 20;

/// Why a host value cannot become a context. Bindings that convert host objects report
/// these as `INVALID_CONTEXT` results with [`ContextProblem::message`], so every binding
/// words them the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextProblem {
    /// The context is not an object / dict / map.
    NotAnObject,
    /// Objects and arrays nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An array has more than [`MAX_ARRAY_LEN`] elements.
    ArrayTooLong,
    /// An object key that is not a string.
    NonStringKey,
    /// NaN or an infinity.
    NonFiniteNumber,
    /// An integer outside the 64-bit range.
    IntegerOutOfRange,
    /// A host value with no JSON equivalent (a function, a symbol, a set…), by host type name.
    UnsupportedValue(&'static str),
}

impl ContextProblem {
    /// The message of the `INVALID_CONTEXT` result.
    pub fn message(self) -> String {
        match self {
            ContextProblem::NotAnObject => "the context must be an object".into(),
            ContextProblem::TooDeep => format!("the context nests deeper than {MAX_DEPTH} levels"),
            ContextProblem::ArrayTooLong => format!("context arrays may have at most {MAX_ARRAY_LEN} elements"),
            ContextProblem::NonStringKey => "context keys must be strings".into(),
            ContextProblem::NonFiniteNumber => "context numbers must be finite (no NaN or infinity)".into(),
            ContextProblem::IntegerOutOfRange => "context integers must fit in 64 bits".into(),
            ContextProblem::UnsupportedValue(kind) => {
                format!("a context value of type {kind} cannot be used: only JSON values can")
            }
        }
    }

    fn error(self) -> Error {
        Error::new(ErrorCode::InvalidContext, "", self.message())
    }
}

/// Nesting depth of objects and arrays: a scalar is 0, `{}` is 1, `{"a": [1]}` is 2.
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The length of the longest array in `value` (0 without arrays).
fn longest_array(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(longest_array).max().unwrap_or(0).max(items.len()),
        Value::Object(map) => map.values().map(longest_array).max().unwrap_or(0),
        _ => 0,
    }
}

/// The attributes an evaluation looks at. `targetingKey` is the default bucketing unit,
/// `tenant` is matched by tenant overrides and targets, `groups` by group targets.
///
/// Bindings build a context straight from host objects with [`Context::insert`]; JSON
/// interfaces use [`Context::from_json`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    attributes: Map<String, Value>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }

    /// A context with only a targeting key.
    pub fn with_targeting_key(key: impl Into<String>) -> Self {
        let mut context = Context::new();
        context.insert("targetingKey", Value::String(key.into()));
        context
    }

    /// Wraps a map of attributes.
    pub fn from_map(attributes: Map<String, Value>) -> Self {
        Context { attributes }
    }

    /// A context from a JSON value: an object nesting at most [`MAX_DEPTH`] levels, or
    /// `null` for the empty context (as an omitted context is in every binding).
    pub fn from_value(value: Value) -> Result<Self, Error> {
        if value.is_null() {
            return Ok(Context::new());
        }
        if depth(&value) > MAX_DEPTH {
            return Err(ContextProblem::TooDeep.error());
        }
        if longest_array(&value) > MAX_ARRAY_LEN {
            return Err(ContextProblem::ArrayTooLong.error());
        }
        match value {
            Value::Object(attributes) => Ok(Context { attributes }),
            _ => Err(ContextProblem::NotAnObject.error()),
        }
    }

    /// Parses a context from JSON text (an object).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::new(ErrorCode::InvalidContext, "", format!("the context is not JSON: {e}")))?;
        Context::from_value(value)
    }

    /// Sets an attribute, replacing any previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> &mut Self {
        self.attributes.insert(name.into(), value);
        self
    }

    /// A top-level attribute.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attributes.get(name)
    }

    /// All attributes.
    pub fn attributes(&self) -> &Map<String, Value> {
        &self.attributes
    }

    /// Gives the attributes back (a binding may reuse their strings for the next context).
    pub fn into_map(self) -> Map<String, Value> {
        self.attributes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits() {
        let mut deep = json!(1);
        for _ in 0..MAX_DEPTH {
            deep = json!({ "a": deep });
        }
        assert!(Context::from_value(deep.clone()).is_ok());
        let too_deep = json!({ "a": deep });
        assert_eq!(Context::from_value(too_deep).unwrap_err().message, ContextProblem::TooDeep.message());
        assert_eq!(Context::from_value(json!([])).unwrap_err().message, "the context must be an object");
        assert_eq!(Context::from_json("{").unwrap_err().code, ErrorCode::InvalidContext);
        assert!(Context::from_value(Value::Null).is_ok_and(|context| context.attributes().is_empty()));
        let longest = Value::Array(alloc::vec![Value::Null; MAX_ARRAY_LEN]);
        assert!(Context::from_value(json!({ "a": [longest.clone()] })).is_ok());
        let mut too_long = longest;
        if let Value::Array(items) = &mut too_long {
            items.push(Value::Null);
        }
        assert_eq!(
            Context::from_value(json!({ "a": { "b": too_long } })).unwrap_err().message,
            "context arrays may have at most 1048576 elements"
        );
    }
}
