//! Environment-variable overrides (docs/sdk.md, Evaluation): `checkout.new-flow` ↔
//! `PENNON_FLAG_CHECKOUT_NEW_FLOW`.

use std::collections::HashMap;

use pennon_core::Value;

/// The prefix of every override variable.
pub(crate) const PREFIX: &str = "PENNON_FLAG_";

/// The variable that overrides `flag`: the prefix, then the key in upper case with every
/// character outside `[A-Z0-9]` replaced by `_`.
pub(crate) fn variable_name(flag: &str) -> String {
    let mut name = String::with_capacity(PREFIX.len() + flag.len());
    name.push_str(PREFIX);
    name.extend(flag.chars().map(|c| {
        let upper = c.to_ascii_uppercase();
        if upper.is_ascii_uppercase() || upper.is_ascii_digit() { upper } else { '_' }
    }));
    name
}

/// A variable's value: JSON when it parses, else the text as a string.
pub(crate) fn parse_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Every `PENNON_FLAG_*` variable of `vars`, by variable name, parsed.
pub(crate) fn collect(vars: impl IntoIterator<Item = (String, String)>) -> HashMap<String, Value> {
    vars.into_iter()
        .filter(|(name, _)| name.starts_with(PREFIX))
        .map(|(name, text)| (name, parse_value(&text)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_variable_name_rule() {
        assert_eq!(variable_name("checkout.new-flow"), "PENNON_FLAG_CHECKOUT_NEW_FLOW");
        assert_eq!(variable_name("new_trust_algorithm"), "PENNON_FLAG_NEW_TRUST_ALGORITHM");
        assert_eq!(variable_name("Max Retry/2"), "PENNON_FLAG_MAX_RETRY_2");
        // Non-ASCII letters are outside [A-Z0-9]: one `_` per character.
        assert_eq!(variable_name("café"), "PENNON_FLAG_CAF_");
        assert_eq!(variable_name(""), "PENNON_FLAG_");
    }

    #[test]
    fn values_are_json_when_they_parse_else_strings() {
        assert_eq!(parse_value("true"), json!(true));
        assert_eq!(parse_value("3"), json!(3));
        assert_eq!(parse_value(r#"{"a":1}"#), json!({"a": 1}));
        assert_eq!(parse_value("\"quoted\""), json!("quoted"));
        assert_eq!(parse_value("blue"), json!("blue"));
        assert_eq!(parse_value("{broken"), json!("{broken"));
    }

    #[test]
    fn only_prefixed_variables_are_collected() {
        let vars = [("PENNON_FLAG_A".to_owned(), "1".to_owned()), ("PATH".to_owned(), "/bin".to_owned())];
        let map = collect(vars);
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("PENNON_FLAG_A"), Some(&json!(1)));
    }
}
