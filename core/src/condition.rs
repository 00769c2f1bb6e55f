//! Targeting conditions: attribute references, operators with pre-parsed operands, and
//! the all / any / not / inSegment combinators.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::net::IpAddr;
use serde_json::Value;

use crate::context::Context;
use crate::decode::{self, Decoded, Obj, Path};
use crate::error::ErrorCode;
use crate::memo::Memo;
use crate::reads::Reads;
use crate::regex::{self, Pattern};
use crate::segment::SegmentTable;
use crate::set::StringSet;
use crate::time::{self, Millis};
use crate::version::{self, Version};

/// Where a condition reads its value: a top-level key, or a JSON Pointer into objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    first: Box<str>,
    rest: Box<[Box<str>]>,
}

impl Attribute {
    pub(crate) fn top(name: &str) -> Self {
        Attribute { first: name.into(), rest: Box::default() }
    }

    /// Parses `name` or `/json/pointer` (RFC 6901 escapes `~0` and `~1`).
    pub(crate) fn parse(text: &str, path: &Path<'_>) -> Decoded<Self> {
        let Some(pointer) = text.strip_prefix('/') else {
            if text.is_empty() {
                return Err(path.error(ErrorCode::InvalidValue, "the attribute name is empty"));
            }
            return Ok(Attribute::top(text));
        };
        let mut segments = Vec::new();
        for raw in pointer.split('/') {
            let mut segment = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                match (c, c == '~') {
                    (_, false) => segment.push(c),
                    (_, true) => match chars.next() {
                        Some('0') => segment.push('~'),
                        Some('1') => segment.push('/'),
                        _ => {
                            return Err(path.error(
                                ErrorCode::InvalidValue,
                                format!("`{text}` is not a JSON Pointer: `~` must be followed by 0 or 1"),
                            ));
                        }
                    },
                }
            }
            segments.push(Box::<str>::from(segment));
        }
        let mut segments = segments.into_iter();
        let first = segments.next().unwrap_or_default();
        Ok(Attribute { first, rest: segments.collect() })
    }

    /// Records the top-level attribute this path starts at.
    pub(crate) fn reads<'s>(&'s self, reads: &mut Reads<'s>) {
        reads.name(&self.first);
    }

    pub(crate) fn is_targeting_key(&self) -> bool {
        self.rest.is_empty() && &*self.first == "targetingKey"
    }

    /// The value in the context, if present (`null` counts as present here).
    pub(crate) fn lookup<'c>(&self, context: &'c Context) -> Option<&'c Value> {
        let mut value = context.get(&self.first)?;
        for key in self.rest.iter() {
            value = value.as_object()?.get(&**key)?;
        }
        Some(value)
    }
}

/// How messages name an attribute: a top-level name as written (`targetingKey`), a
/// nested one as its JSON Pointer (`/user/id`, with `~0` / `~1` escapes). A top-level name
/// that could be misread as a pointer (empty, or starting with `/`) is also written as one.
impl core::fmt::Display for Attribute {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.rest.is_empty() && !self.first.is_empty() && !self.first.starts_with('/') {
            return f.write_str(&self.first);
        }
        for segment in core::iter::once(&self.first).chain(self.rest.iter()) {
            f.write_str("/")?;
            for c in segment.chars() {
                match c {
                    '~' => f.write_str("~0")?,
                    '/' => f.write_str("~1")?,
                    c => core::fmt::Write::write_char(f, c)?,
                }
            }
        }
        Ok(())
    }
}

/// A compiled condition.
#[derive(Debug)]
pub(crate) enum Condition {
    All(Box<[Condition]>),
    Any(Box<[Condition]>),
    Not(Box<Condition>),
    InSegment(u32),
    Test { attribute: Attribute, test: Test },
}

/// A compiled operator with its operand.
#[derive(Debug)]
pub(crate) enum Test {
    Exists,
    Missing,
    /// `equals`/`in` (negated: `notEquals`/`notIn`).
    OneOf {
        values: Scalars,
        negate: bool,
    },
    Text {
        kind: TextOp,
        needle: Box<str>,
        case_insensitive: bool,
    },
    Number {
        ordering: Compare,
        operand: f64,
    },
    Date {
        after: bool,
        operand: f64,
    },
    Semver {
        ordering: Compare,
        operand: Version,
    },
    Matches(Box<dyn Pattern>),
    InCidr(Box<[Network]>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

/// `<`, `<=`, `=`, `>=`, `>` against an operand.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Compare {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl Compare {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Compare::Less => ordering == Ordering::Less,
            Compare::LessOrEqual => ordering != Ordering::Greater,
            Compare::Equal => ordering == Ordering::Equal,
            Compare::GreaterOrEqual => ordering != Ordering::Less,
            Compare::Greater => ordering == Ordering::Greater,
        }
    }
}

/// The scalar operands of `equals` / `in`.
#[derive(Debug, Default)]
pub(crate) struct Scalars {
    strings: StringSet,
    /// Sorted by [`f64::total_cmp`], without -0.
    numbers: Vec<f64>,
    has_true: bool,
    has_false: bool,
    case_insensitive: bool,
}

impl Scalars {
    fn contains(&self, value: &Value) -> bool {
        match value {
            Value::String(text) if self.case_insensitive => with_lowercase(text, |lower| self.strings.contains(lower)),
            Value::String(text) => self.strings.contains(text),
            Value::Number(number) => {
                number.as_f64().is_some_and(|n| self.numbers.binary_search_by(|x| x.total_cmp(&(n + 0.0))).is_ok())
            }
            Value::Bool(flag) => {
                if *flag {
                    self.has_true
                } else {
                    self.has_false
                }
            }
            _ => false,
        }
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Network {
    V4 { network: u32, mask: u32 },
    V6 { network: u128, mask: u128 },
}

impl Network {
    fn parse(text: &str) -> Option<Network> {
        let (address, prefix) = text.split_once('/')?;
        if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u32 = prefix.parse().ok()?;
        match address.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) if prefix <= 32 => {
                let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
                Some(Network::V4 { network: u32::from(v4) & mask, mask })
            }
            IpAddr::V6(v6) if prefix <= 128 => {
                let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
                Some(Network::V6 { network: u128::from(v6) & mask, mask })
            }
            _ => None,
        }
    }

    /// An IPv6 address is in the IPv6 networks that contain it; an IPv4-mapped one
    /// (`::ffff:a.b.c.d`) is also in the IPv4 networks containing `a.b.c.d`.
    fn contains(&self, address: IpAddr) -> bool {
        match (self, address) {
            (Network::V4 { network, mask }, IpAddr::V4(v4)) => u32::from(v4) & mask == *network,
            (Network::V4 { network, mask }, IpAddr::V6(v6)) => {
                v6.to_ipv4_mapped().is_some_and(|v4| u32::from(v4) & mask == *network)
            }
            (Network::V6 { network, mask }, IpAddr::V6(v6)) => u128::from(v6) & mask == *network,
            (Network::V6 { .. }, IpAddr::V4(_)) => false,
        }
    }
}

const OPERATORS: &[&str] = &[
    "equals",
    "notEquals",
    "in",
    "notIn",
    "contains",
    "startsWith",
    "endsWith",
    "lt",
    "lte",
    "gt",
    "gte",
    "before",
    "after",
    "semverEq",
    "semverLt",
    "semverLte",
    "semverGt",
    "semverGte",
    "matches",
    "inCidr",
    "exists",
    "missing",
];

/// What an operator takes as its operand.
enum Operand {
    None,
    Value,
    Values,
}

impl Condition {
    /// Decodes a condition; `segments` resolves `inSegment` names to ids.
    pub(crate) fn decode(value: &Value, path: &Path<'_>, segments: &SegmentTable) -> Decoded<Condition> {
        let obj = Obj::new(value, *path)?;
        for combinator in ["all", "any"] {
            if let Some((list, list_path)) = obj.opt(combinator) {
                obj.only(&[combinator])?;
                let conditions = decode::array(list, &list_path)?
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Condition::decode(item, &list_path.index(i), segments))
                    .collect::<Decoded<Box<[_]>>>()?;
                return Ok(if combinator == "all" { Condition::All(conditions) } else { Condition::Any(conditions) });
            }
        }
        if let Some((inner, inner_path)) = obj.opt("not") {
            obj.only(&["not"])?;
            return Ok(Condition::Not(Box::new(Condition::decode(inner, &inner_path, segments)?)));
        }
        if let Some((name, name_path)) = obj.opt("inSegment") {
            obj.only(&["inSegment"])?;
            let name = decode::string(name, &name_path)?;
            return segments.resolve(name, &name_path).map(Condition::InSegment);
        }
        if !obj.has("attribute") && !obj.has("op") {
            return Err(path.error(
                ErrorCode::InvalidValue,
                "a condition needs `attribute` and `op`, or one of `all`, `any`, `not`, `inSegment`",
            ));
        }
        let (attribute, attribute_path) = obj.req("attribute")?;
        let attribute = Attribute::parse(decode::string(attribute, &attribute_path)?, &attribute_path)?;
        let (op, op_path) = obj.req("op")?;
        let op = decode::string(op, &op_path)?;
        let operand = match op {
            "exists" | "missing" => Operand::None,
            "in" | "notIn" | "inCidr" => Operand::Values,
            _ if OPERATORS.contains(&op) => Operand::Value,
            _ => {
                return Err(op_path.error(
                    ErrorCode::UnknownOperator,
                    format!("unknown operator `{op}`; this engine knows {}", decode::one_of(OPERATORS)),
                ));
            }
        };
        let takes_case = matches!(op, "equals" | "notEquals" | "in" | "notIn" | "contains" | "startsWith" | "endsWith");
        let mut fields = alloc::vec!["attribute", "op"];
        match operand {
            Operand::None => {}
            Operand::Value => fields.push("value"),
            Operand::Values => fields.push("values"),
        }
        if takes_case {
            fields.push("caseInsensitive");
        }
        obj.only(&fields)?;
        let case_insensitive = match obj.opt("caseInsensitive") {
            Some((flag, flag_path)) => decode::boolean(flag, &flag_path)?,
            None => false,
        };
        let test = match operand {
            Operand::None => {
                if op == "exists" {
                    Test::Exists
                } else {
                    Test::Missing
                }
            }
            Operand::Value => {
                let (operand, operand_path) = obj.req("value")?;
                Test::decode_single(op, operand, &operand_path, case_insensitive)?
            }
            Operand::Values => {
                let (list, list_path) = obj.req("values")?;
                let items = decode::array(list, &list_path)?;
                if op == "inCidr" {
                    let networks = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let item_path = list_path.index(i);
                            let text = decode::string(item, &item_path)?;
                            Network::parse(text).ok_or_else(|| {
                                item_path.error(
                                    ErrorCode::InvalidCidr,
                                    format!("`{text}` is not a CIDR network (address/prefix)"),
                                )
                            })
                        })
                        .collect::<Decoded<Box<[_]>>>()?;
                    Test::InCidr(networks)
                } else {
                    let values = Scalars::decode(
                        items.iter().enumerate().map(|(i, item)| (item, list_path.index(i))),
                        case_insensitive,
                    )?;
                    Test::OneOf { values, negate: op == "notIn" }
                }
            }
        };
        Ok(Condition::Test { attribute, test })
    }

    /// Records the attributes this condition can read, following segments.
    pub(crate) fn reads<'s>(&'s self, segments: &'s SegmentTable, reads: &mut Reads<'s>) {
        match self {
            Condition::All(list) | Condition::Any(list) => list.iter().for_each(|c| c.reads(segments, reads)),
            Condition::Not(inner) => inner.reads(segments, reads),
            Condition::InSegment(id) => segments.reads(*id, reads),
            Condition::Test { attribute, .. } => attribute.reads(reads),
        }
    }

    /// Every segment this condition references, directly.
    pub(crate) fn segments(&self, out: &mut Vec<u32>) {
        match self {
            Condition::All(list) | Condition::Any(list) => list.iter().for_each(|c| c.segments(out)),
            Condition::Not(inner) => inner.segments(out),
            Condition::InSegment(id) => out.push(*id),
            Condition::Test { .. } => {}
        }
    }

    /// Whether the context satisfies the condition; `memo` remembers segment memberships
    /// for the rest of the evaluation.
    pub(crate) fn matches(&self, context: &Context, segments: &SegmentTable, memo: &mut Memo) -> bool {
        match self {
            Condition::All(list) => list.iter().all(|c| c.matches(context, segments, memo)),
            Condition::Any(list) => list.iter().any(|c| c.matches(context, segments, memo)),
            Condition::Not(inner) => !inner.matches(context, segments, memo),
            Condition::InSegment(id) => segments.contains(*id, context, memo),
            Condition::Test { attribute, test } => test.matches(attribute.lookup(context)),
        }
    }
}

impl Scalars {
    fn decode<'v, 'p>(items: impl Iterator<Item = (&'v Value, Path<'p>)>, case_insensitive: bool) -> Decoded<Scalars> {
        let mut scalars = Scalars { case_insensitive, ..Scalars::default() };
        let mut strings = Vec::new();
        for (item, item_path) in items {
            match item {
                Value::String(text) if case_insensitive => strings.push(Cow::Owned(text.to_lowercase())),
                Value::String(text) => strings.push(Cow::Borrowed(text.as_str())),
                // `+ 0.0` turns -0 into 0, so that the total order of the search keeps
                // `-0 == 0`; a number without an f64 (none in JSON) would equal nothing.
                Value::Number(number) => scalars.numbers.extend(number.as_f64().map(|n| n + 0.0)),
                Value::Bool(true) => scalars.has_true = true,
                Value::Bool(false) => scalars.has_false = true,
                other => return Err(decode::wrong_type(&item_path, "a string, number or boolean", other)),
            }
        }
        scalars.strings = StringSet::new(strings.iter().map(|s| &**s));
        // Sorted for a binary search: `in` with many numbers stays logarithmic per value.
        scalars.numbers.sort_unstable_by(f64::total_cmp);
        scalars.numbers.dedup();
        Ok(scalars)
    }
}

impl Test {
    fn decode_single(op: &str, operand: &Value, path: &Path<'_>, case_insensitive: bool) -> Decoded<Test> {
        let compare = |suffix: &str| match suffix {
            "Lt" | "lt" => Compare::Less,
            "Lte" | "lte" => Compare::LessOrEqual,
            "Gt" | "gt" => Compare::Greater,
            "Gte" | "gte" => Compare::GreaterOrEqual,
            _ => Compare::Equal,
        };
        Ok(match op {
            "equals" | "notEquals" => Test::OneOf {
                values: Scalars::decode(core::iter::once((operand, *path)), case_insensitive)?,
                negate: op == "notEquals",
            },
            "contains" | "startsWith" | "endsWith" => {
                let needle = decode::string(operand, path)?;
                let kind = match op {
                    "contains" => TextOp::Contains,
                    "startsWith" => TextOp::StartsWith,
                    _ => TextOp::EndsWith,
                };
                let needle = if case_insensitive { needle.to_lowercase().into() } else { needle.into() };
                Test::Text { kind, needle, case_insensitive }
            }
            "lt" | "lte" | "gt" | "gte" => {
                let operand = operand.as_f64().ok_or_else(|| decode::wrong_type(path, "a number", operand))?;
                Test::Number { ordering: compare(op), operand }
            }
            "before" | "after" => {
                let operand = match operand {
                    Value::String(_) => decode::timestamp(operand, path)? as f64,
                    Value::Number(number) => number.as_f64().unwrap_or(f64::NAN),
                    other => return Err(decode::wrong_type(path, "a timestamp string or a number of ms", other)),
                };
                Test::Date { after: op == "after", operand }
            }
            "matches" => {
                let pattern = decode::string(operand, path)?;
                let regex = regex::compile_pattern(pattern).map_err(|error| {
                    path.error(
                        ErrorCode::InvalidRegex,
                        format!("`{pattern}` is not a valid regular expression: {error}"),
                    )
                })?;
                Test::Matches(regex)
            }
            _ => {
                // semverEq / semverLt / … (the only operators left).
                let text = decode::string(operand, path)?;
                let operand = version::parse(text).ok_or_else(|| {
                    path.error(ErrorCode::InvalidSemver, format!("`{text}` is not a semantic version"))
                })?;
                Test::Semver { ordering: compare(op.trim_start_matches("semver")), operand }
            }
        })
    }

    /// Applies the test to a looked-up attribute (§6.2 of the format).
    fn matches(&self, value: Option<&Value>) -> bool {
        let value = match value {
            None | Some(Value::Null) => return matches!(self, Test::Missing),
            Some(value) => value,
        };
        match self {
            Test::Exists => true,
            Test::Missing => false,
            Test::OneOf { values, negate } => *negate != any_element(value, |v| values.contains(v)),
            _ => any_element(value, |v| self.matches_scalar(v)),
        }
    }

    fn matches_scalar(&self, value: &Value) -> bool {
        match (self, value) {
            (Test::Text { kind, needle, case_insensitive: false }, Value::String(text)) => match kind {
                TextOp::Contains => text.contains(&**needle),
                TextOp::StartsWith => text.starts_with(&**needle),
                TextOp::EndsWith => text.ends_with(&**needle),
            },
            (Test::Text { kind, needle: needle_text, case_insensitive: true }, Value::String(text))
                if text.is_ascii() =>
            {
                // The Unicode lowercase of ASCII text is its ASCII lowercase, so compare
                // bytes without allocating; a non-ASCII needle cannot occur in ASCII text.
                let (haystack, needle) = (text.as_bytes(), needle_text.as_bytes());
                needle.is_ascii()
                    && match kind {
                        // Past the stack buffer, lowercase once and search in linear time
                        // rather than compare the needle at every offset.
                        TextOp::Contains if haystack.len() > LOWERCASE_BUFFER => {
                            with_lowercase(text, |lower| lower.contains(&**needle_text))
                        }
                        TextOp::Contains => {
                            needle.is_empty() || haystack.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
                        }
                        TextOp::StartsWith => {
                            haystack.get(..needle.len()).is_some_and(|h| h.eq_ignore_ascii_case(needle))
                        }
                        TextOp::EndsWith => haystack
                            .len()
                            .checked_sub(needle.len())
                            .and_then(|start| haystack.get(start..))
                            .is_some_and(|h| h.eq_ignore_ascii_case(needle)),
                    }
            }
            (Test::Text { kind, needle, case_insensitive: true }, Value::String(text)) => {
                let text = text.to_lowercase();
                match kind {
                    TextOp::Contains => text.contains(&**needle),
                    TextOp::StartsWith => text.starts_with(&**needle),
                    TextOp::EndsWith => text.ends_with(&**needle),
                }
            }
            (Test::Number { ordering, operand }, Value::Number(number)) => {
                number.as_f64().and_then(|n| n.partial_cmp(operand)).is_some_and(|o| ordering.holds(o))
            }
            (Test::Date { after, operand }, _) => {
                let instant = match value {
                    Value::String(text) => time::parse_timestamp(text).map(|ms: Millis| ms as f64),
                    Value::Number(number) => number.as_f64(),
                    _ => None,
                };
                instant.is_some_and(|t| if *after { t > *operand } else { t < *operand })
            }
            (Test::Semver { ordering, operand }, Value::String(text)) => {
                version::parse(text).is_some_and(|v| ordering.holds(version::compare(&v, operand)))
            }
            (Test::Matches(regex), Value::String(text)) => regex.is_match(text.as_str()),
            (Test::InCidr(networks), Value::String(text)) => {
                text.parse::<IpAddr>().is_ok_and(|address| networks.iter().any(|n| n.contains(address)))
            }
            _ => false,
        }
    }
}

/// The longest ASCII text lowercased on the stack.
const LOWERCASE_BUFFER: usize = 64;

/// Calls `f` with the Unicode lowercase of `text`; short ASCII text is lowercased on the
/// stack, so the common case allocates nothing.
fn with_lowercase<R>(text: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; LOWERCASE_BUFFER];
    if text.is_ascii()
        && let Some(slot) = buffer.get_mut(..text.len())
    {
        slot.copy_from_slice(text.as_bytes());
        slot.make_ascii_lowercase();
        if let Ok(lower) = core::str::from_utf8(slot) {
            return f(lower);
        }
    }
    f(&text.to_lowercase())
}

/// A test on an array attribute holds when it holds for some element.
fn any_element(value: &Value, test: impl Fn(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(test),
        scalar => test(scalar),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(condition: Value, context: Value) -> bool {
        let segments = SegmentTable::default();
        let condition = Condition::decode(&condition, &Path::Root, &segments).unwrap();
        condition.matches(&Context::from_value(context).unwrap(), &segments, &mut Memo::default())
    }

    fn decode_error(condition: Value) -> ErrorCode {
        Condition::decode(&condition, &Path::Root, &SegmentTable::default()).unwrap_err().code
    }

    #[test]
    fn operators_follow_the_format() {
        let op = |op: &str, operand: Value| json!({"attribute": "a", "op": op, "value": operand});
        assert!(check(op("equals", json!(1)), json!({"a": 1.0})));
        assert!(!check(op("equals", json!("1")), json!({"a": 1})));
        assert!(check(op("notEquals", json!("x")), json!({"a": "y"})));
        assert!(!check(op("notEquals", json!("x")), json!({})));
        assert!(check(
            json!({"attribute": "a", "op": "equals", "value": "ÄB", "caseInsensitive": true}),
            json!({"a": "äb"})
        ));
        assert!(check(op("startsWith", json!("ab")), json!({"a": ["zz", "abc"]})));
        let numbers = json!({"attribute": "a", "op": "in", "values": [3, -0.0, 1e300, 2.5, -7, 3.0]});
        for (value, expected) in
            [(json!(3), true), (json!(0), true), (json!(-0.0), true), (json!(2.5), true), (json!(1e300), true)]
                .into_iter()
                .chain([(json!(-7.0), true), (json!(2), false), (json!(-1e300), false), (json!("3"), false)])
        {
            assert_eq!(check(numbers.clone(), json!({"a": value})), expected, "{value}");
        }
        assert!(check(op("lte", json!(3)), json!({"a": 3})));
        assert!(!check(op("lt", json!(3)), json!({"a": "2"})));
        assert!(check(op("after", json!("2026-01-01T00:00:00Z")), json!({"a": "2026-01-01T00:00:00.001Z"})));
        assert!(check(op("semverLt", json!("2.0.0")), json!({"a": "2.0.0-rc.1"})));
        assert!(check(op("semverEq", json!("2.1")), json!({"a": "2.1.0+build.5"})));
        assert!(!check(op("semverGt", json!("1.0.0")), json!({"a": "banana"})));
        assert!(check(op("matches", json!("^u-\\d+$")), json!({"a": "u-42"})));
        assert!(check(
            json!({"attribute": "a", "op": "inCidr", "values": ["10.0.0.0/8"]}),
            json!({"a": "::ffff:10.1.2.3"})
        ));
        assert!(check(
            json!({"attribute": "a", "op": "inCidr", "values": ["2001:db8::/32"]}),
            json!({"a": "2001:db8::1"})
        ));
        assert!(!check(json!({"attribute": "a", "op": "inCidr", "values": ["10.0.0.0/8"]}), json!({"a": "not-an-ip"})));
        let cidr = |network: &str, address: &str| {
            check(json!({"attribute": "a", "op": "inCidr", "values": [network]}), json!({"a": address}))
        };
        // An IPv4-mapped address is in the IPv6 networks containing it and in the IPv4 ones.
        for network in ["::/0", "::ffff:0:0/96", "::ffff:10.0.0.0/104", "10.0.0.0/8"] {
            assert!(cidr(network, "::ffff:10.0.0.1"), "{network}");
        }
        assert!(!cidr("::ffff:10.0.0.0/104", "::ffff:11.0.0.1"));
        assert!(!cidr("::ffff:0:0/96", "10.0.0.1"));
        assert!(!cidr("2001:db8::/32", "::ffff:10.0.0.1"));
        assert!(check(json!({"attribute": "a", "op": "missing"}), json!({"a": null})));
        assert!(check(json!({"attribute": "/x/y~1z", "op": "exists"}), json!({"x": {"y/z": 0}})));
        assert!(check(json!({"all": []}), json!({})));
        assert!(!check(json!({"any": []}), json!({})));
        assert!(check(json!({"not": {"any": []}}), json!({})));
    }

    #[test]
    fn attributes_display_as_written_or_as_pointers() {
        let shown = |text: &str| alloc::string::ToString::to_string(&Attribute::parse(text, &Path::Root).unwrap());
        assert_eq!(shown("targetingKey"), "targetingKey");
        assert_eq!(shown("/user/id"), "/user/id");
        assert_eq!(shown("/a~1b/c~0d"), "/a~1b/c~0d");
        // One pointer segment is a top-level name; it shows as one unless it looks like a pointer.
        assert_eq!(shown("/plan"), "plan");
        assert_eq!(shown("/~1x"), "/~1x");
        assert_eq!(shown("/"), "/");
        assert_eq!(shown("a/b"), "a/b");
    }

    #[test]
    fn case_insensitive_fast_path_agrees_with_unicode_lowercasing() {
        let long = "aB".repeat(40) + "Xy";
        let long_needle = "Ab".repeat(33) + "x";
        let texts = [
            "",
            "a",
            "AB",
            "Ab",
            "xABy",
            "İstanbul",
            "STRASSE",
            "straße",
            "\u{212A}elvin",
            "kelvin",
            "ÄB",
            "äb",
            long.as_str(),
            long_needle.as_str(),
        ];
        for op in ["contains", "startsWith", "endsWith", "equals", "in"] {
            for needle in texts {
                for text in texts {
                    let reference = {
                        let (text, needle) = (text.to_lowercase(), needle.to_lowercase());
                        match op {
                            "contains" => text.contains(&needle),
                            "startsWith" => text.starts_with(&needle),
                            "endsWith" => text.ends_with(&needle),
                            _ => text == needle,
                        }
                    };
                    let condition = if op == "in" {
                        json!({"attribute": "a", "op": op, "values": [needle], "caseInsensitive": true})
                    } else {
                        json!({"attribute": "a", "op": op, "value": needle, "caseInsensitive": true})
                    };
                    assert_eq!(check(condition, json!({"a": text})), reference, "{text:?} {op} {needle:?}");
                }
            }
        }
    }

    #[test]
    fn bad_operands_fail_at_load() {
        let op = |op: &str, operand: Value| json!({"attribute": "a", "op": op, "value": operand});
        assert_eq!(decode_error(op("matches", json!("("))), ErrorCode::InvalidRegex);
        assert_eq!(decode_error(op("semverGt", json!("x.y"))), ErrorCode::InvalidSemver);
        assert_eq!(decode_error(op("after", json!("tomorrow"))), ErrorCode::InvalidDate);
        assert_eq!(decode_error(op("approximately", json!(1))), ErrorCode::UnknownOperator);
        assert_eq!(
            decode_error(json!({"attribute": "a", "op": "inCidr", "values": ["10.0.0.0/33"]})),
            ErrorCode::InvalidCidr
        );
        assert_eq!(
            decode_error(json!({"attribute": "a", "op": "lt", "value": 1, "caseInsensitive": true})),
            ErrorCode::UnknownField
        );
        assert_eq!(decode_error(json!({"inSegment": "nope"})), ErrorCode::UnknownSegment);
        assert_eq!(decode_error(json!({"attribute": "a", "op": "in", "values": [[1]]})), ErrorCode::InvalidType);
    }
}
