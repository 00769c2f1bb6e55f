//! The evaluation context: a JSON object of attributes.

use alloc::string::String;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode};

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

    /// A context from a JSON value, which must be an object.
    pub fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Object(attributes) => Ok(Context { attributes }),
            _ => Err(Error::new(ErrorCode::InvalidContext, "", "the context must be a JSON object")),
        }
    }

    /// Parses a context from JSON text (an object).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::new(ErrorCode::InvalidContext, "", alloc::format!("the context is not JSON: {e}")))?;
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
}
