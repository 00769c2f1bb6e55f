//! What a `serve` step scripts (tests/sdk/README.md): the queue of answers of the snapshot
//! route and the queue of connections of the stream route, parsed from JSON.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// A snapshot ready to serve: its exact bytes and its revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The exact bytes served (compact JSON, no newline).
    pub text: String,
    /// The snapshot's `revision`, when it has one.
    pub revision: Option<u64>,
}

impl Prepared {
    /// The ETag the harness gives this snapshot unless the script names one.
    pub fn auto_etag(&self) -> String {
        format!("\"{}\"", self.revision.map_or_else(|| "none".to_owned(), |r| r.to_string()))
    }
}

/// Which snapshot an answer or an event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotRef {
    /// The harness's current snapshot at the time of sending (`"$current"`, or no
    /// `snapshot` at all in a snapshot-route answer).
    Current,
    /// This one (it becomes the current snapshot when sent).
    Fixed(Prepared),
}

/// How an answer or event is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sign {
    /// With the harness key over the exact bytes.
    Yes,
    /// No signature at all.
    No,
    /// A well-formed signature that does not verify (harness key, other bytes).
    Bad,
}

/// The body of a snapshot-route answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// The snapshot's bytes.
    Snapshot,
    /// The first half of the snapshot's bytes, announced with the full length; then the
    /// connection is cut.
    Truncated,
    /// Text that is not JSON.
    Malformed,
    /// This text, verbatim.
    Raw(String),
}

/// The ETag of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Etag {
    /// `"<revision>"`, quoted.
    Auto,
    /// No `ETag` header.
    Absent,
    /// This value, verbatim.
    Fixed(String),
}

/// One scripted answer of `GET /sdk/v1/snapshot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status (200 by default).
    pub status: u16,
    /// The snapshot served with a 200.
    pub snapshot: SnapshotRef,
    /// The `ETag` header.
    pub etag: Etag,
    /// The `Pennon-Signature` header.
    pub sign: Sign,
    /// The body.
    pub body: BodyKind,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            status: 200,
            snapshot: SnapshotRef::Current,
            etag: Etag::Auto,
            sign: Sign::Yes,
            body: BodyKind::Snapshot,
            delay: Duration::ZERO,
        }
    }
}

/// One action of a scripted stream connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A whole `snapshot` event.
    Event {
        /// What it carries.
        snapshot: SnapshotRef,
        /// How its metadata signs it.
        sign: Sign,
    },
    /// A comment line (`: text`), as the server's heartbeat.
    Comment(String),
    /// The first half of a `snapshot` event, then the connection is cut.
    DropMidEvent {
        /// What the cut event carried.
        snapshot: SnapshotRef,
    },
    /// Nothing for this long.
    Silent(Duration),
    /// End the response cleanly (the server went away).
    Close,
}

/// One scripted stream connection: its actions in order. When they run out without a
/// `close`, the connection stays open and silent until the client leaves.
pub type Connection = Vec<Action>;

/// A parsed `serve` step: the queues it replaces (`None`: left as they are).
#[derive(Debug, Default)]
pub struct Script {
    /// The snapshot route's new queue.
    pub snapshot: Option<Vec<Reply>>,
    /// The stream route's new queue.
    pub stream: Option<Vec<Connection>>,
}

/// Parses a `serve` step's body. `fixtures` are the named snapshots; `now_ms` is the
/// time `$now±ms` placeholders are counted from.
pub fn parse(body: &Value, fixtures: &HashMap<String, Value>, now_ms: i64) -> Result<Script, String> {
    let object = body.as_object().ok_or("a serve step is an object {snapshot?, stream?}")?;
    for key in object.keys() {
        if key != "snapshot" && key != "stream" {
            return Err(format!("unknown key `{key}` in a serve step (snapshot, stream)"));
        }
    }
    let resolve = |value: &Value| resolve(value, fixtures, now_ms);
    let snapshot = match object.get("snapshot") {
        None => None,
        Some(list) => {
            let list = list.as_array().ok_or("`snapshot` is a list of answers")?;
            let replies = list.iter().map(|item| reply(item, &resolve)).collect::<Result<Vec<_>, _>>()?;
            Some(replies)
        }
    };
    let stream = match object.get("stream") {
        None => None,
        Some(list) => {
            let list = list.as_array().ok_or("`stream` is a list of connections")?;
            let connections = list
                .iter()
                .map(|connection| {
                    let actions = connection.as_array().ok_or("a stream connection is a list of actions")?;
                    actions.iter().map(|action| self::action(action, &resolve)).collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, String>>()?;
            Some(connections)
        }
    };
    Ok(Script { snapshot, stream })
}

fn reply(item: &Value, resolve: &dyn Fn(&Value) -> Result<SnapshotRef, String>) -> Result<Reply, String> {
    let object = item.as_object().ok_or("a snapshot answer is an object")?;
    let mut reply = Reply::default();
    for (key, value) in object {
        match key.as_str() {
            "status" => {
                reply.status = value
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .filter(|s| (100..=599).contains(s))
                    .ok_or("`status` is an HTTP status code")?;
            }
            "snapshot" => reply.snapshot = resolve(value)?,
            "etag" => {
                reply.etag = match value {
                    Value::Null => Etag::Absent,
                    Value::String(text) => Etag::Fixed(text.clone()),
                    _ => return Err("`etag` is a string or null".into()),
                }
            }
            "sign" => reply.sign = sign(value)?,
            "body" => {
                reply.body = match value.as_str().ok_or("`body` is a string")? {
                    "truncated" => BodyKind::Truncated,
                    "malformed" => BodyKind::Malformed,
                    raw => BodyKind::Raw(raw.to_owned()),
                }
            }
            "delayMs" => reply.delay = Duration::from_millis(value.as_u64().ok_or("`delayMs` is a number of ms")?),
            other => return Err(format!("unknown key `{other}` in a snapshot answer")),
        }
    }
    Ok(reply)
}

fn action(item: &Value, resolve: &dyn Fn(&Value) -> Result<SnapshotRef, String>) -> Result<Action, String> {
    let object = item.as_object().ok_or("a stream action is an object")?;
    let only = |key: &str, extra: &[&str]| -> Result<(), String> {
        match object.keys().find(|k| k.as_str() != key && !extra.contains(&k.as_str())) {
            Some(other) => Err(format!("unknown key `{other}` in a `{key}` action")),
            None => Ok(()),
        }
    };
    if let Some(value) = object.get("event") {
        only("event", &["sign"])?;
        let sign = object.get("sign").map(sign).transpose()?.unwrap_or(Sign::Yes);
        return Ok(Action::Event { snapshot: resolve(value)?, sign });
    }
    if let Some(value) = object.get("dropMidEvent") {
        only("dropMidEvent", &[])?;
        return Ok(Action::DropMidEvent { snapshot: resolve(value)? });
    }
    if let Some(value) = object.get("comment") {
        only("comment", &[])?;
        return Ok(Action::Comment(value.as_str().ok_or("`comment` is a string")?.to_owned()));
    }
    if let Some(value) = object.get("silentMs") {
        only("silentMs", &[])?;
        return Ok(Action::Silent(Duration::from_millis(value.as_u64().ok_or("`silentMs` is a number of ms")?)));
    }
    if object.contains_key("close") {
        only("close", &[])?;
        return Ok(Action::Close);
    }
    Err(format!("unknown stream action {item} (event, comment, dropMidEvent, silentMs, close)"))
}

fn sign(value: &Value) -> Result<Sign, String> {
    match value {
        Value::Bool(true) => Ok(Sign::Yes),
        Value::Bool(false) => Ok(Sign::No),
        Value::String(text) if text == "bad" => Ok(Sign::Bad),
        _ => Err("`sign` is true, false or \"bad\"".into()),
    }
}

/// A snapshot reference: a fixture name, `"$current"`, or a snapshot object.
fn resolve(value: &Value, fixtures: &HashMap<String, Value>, now_ms: i64) -> Result<SnapshotRef, String> {
    let snapshot = match value {
        Value::String(name) if name == "$current" => return Ok(SnapshotRef::Current),
        Value::String(name) => {
            fixtures.get(name).ok_or_else(|| format!("no fixture named `{name}` (tests/sdk/fixtures/{name}.json)"))?
        }
        Value::Object(_) => value,
        _ => return Err("a snapshot is a fixture name, \"$current\" or a snapshot object".into()),
    };
    let snapshot = substitute_times(snapshot, now_ms);
    let revision = snapshot.get("revision").and_then(Value::as_u64);
    Ok(SnapshotRef::Fixed(Prepared { text: snapshot.to_string(), revision }))
}

/// Replaces every string `$now`, `$now+MS` or `$now-MS` by that time in RFC 3339.
pub fn substitute_times(value: &Value, now_ms: i64) -> Value {
    match value {
        Value::String(text) => match placeholder(text) {
            Some(offset) => Value::String(rfc3339(now_ms.saturating_add(offset))),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute_times(v, now_ms)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute_times(v, now_ms))).collect::<Map<_, _>>())
        }
        _ => value.clone(),
    }
}

fn placeholder(text: &str) -> Option<i64> {
    let rest = text.strip_prefix("$now")?;
    if rest.is_empty() {
        return Some(0);
    }
    if let Some(ms) = rest.strip_prefix('+') {
        return ms.parse().ok();
    }
    rest.strip_prefix('-')?.parse::<i64>().ok().map(|ms| -ms)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or_default()
}

/// `ms` since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_338_000_250), "2026-11-22T09:00:00.250Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn placeholders_become_times() {
        let value = json!({"a": ["$now", "$now+1500", "$now-1000", "$nowhere", 3]});
        assert_eq!(
            substitute_times(&value, 0),
            json!({"a": ["1970-01-01T00:00:00.000Z", "1970-01-01T00:00:01.500Z", "1969-12-31T23:59:59.000Z", "$nowhere", 3]})
        );
    }

    #[test]
    fn a_serve_step_parses_and_unknown_keys_are_refused() {
        let fixtures = HashMap::from([("r1".to_owned(), json!({"schemaVersion": 1, "revision": 1, "flags": {}}))]);
        let script = parse(
            &json!({"snapshot": [{"snapshot": "r1", "etag": null, "sign": "bad"}, {"status": 500, "delayMs": 5}],
                    "stream": [[{"event": "r1", "sign": false}, {"comment": "heartbeat"}, {"silentMs": 10}, {"close": true}],
                               [{"dropMidEvent": "$current"}]]}),
            &fixtures,
            0,
        )
        .unwrap();
        let replies = script.snapshot.unwrap();
        assert_eq!(replies[0].etag, Etag::Absent);
        assert_eq!(replies[0].sign, Sign::Bad);
        assert!(matches!(&replies[0].snapshot, SnapshotRef::Fixed(p) if p.revision == Some(1)));
        assert_eq!((replies[1].status, replies[1].delay), (500, Duration::from_millis(5)));
        let stream = script.stream.unwrap();
        assert_eq!(stream[0].len(), 4);
        assert_eq!(stream[1], vec![Action::DropMidEvent { snapshot: SnapshotRef::Current }]);
        assert!(parse(&json!({"snapshot": [{"stauts": 200}]}), &fixtures, 0).is_err());
        assert!(parse(&json!({"snapshot": [{"snapshot": "nope"}]}), &fixtures, 0).is_err());
        assert!(parse(&json!({"stream": [[{"silentMs": 1, "close": true}]]}), &fixtures, 0).is_err());
    }
}
