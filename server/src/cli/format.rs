//! Pure formatting for people: tables, timestamps, what a flag serves, where a staged
//! rollout stands, and a JSON re-indenter that keeps the server's key order.

use pennon_core::time::{Millis, format_timestamp, parse_duration, parse_timestamp};
use serde_json::Value;
use std::fmt::Write as _;

/// A string field of a JSON object, or `""`.
pub fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A field of a JSON object as people read it: strings bare, numbers and booleans as
/// JSON, `-` when absent or null.
pub fn field(value: &Value, key: &str) -> String {
    match value.get(key) {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(text)) if text.is_empty() => "-".to_string(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// Lays rows out in aligned columns separated by two spaces; the last column is not
/// padded. Widths count characters, not bytes.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let columns = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header_cells: Vec<String> = headers.iter().map(|h| (*h).to_string()).collect();
    for row in std::iter::once(&header_cells).chain(rows.iter()) {
        let mut line = String::new();
        for (index, width) in widths.iter().enumerate() {
            let cell = row.get(index).map(String::as_str).unwrap_or("");
            if index + 1 == columns {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count()) + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `key  value` lines with the keys aligned.
pub fn pairs(rows: &[(&str, String)]) -> String {
    let width = rows.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in rows {
        let _ = writeln!(out, "{key:<width$}  {value}");
    }
    out
}

/// An RFC 3339 timestamp as people read it, in UTC to the second:
/// `2026-12-06T03:30:11.250+01:00` → `2026-12-06 02:30:11Z`. Anything that does not
/// parse is returned unchanged; empty or absent is `-`.
pub fn short_time(text: &str) -> String {
    if text.is_empty() {
        return "-".to_string();
    }
    match parse_timestamp(text) {
        Some(ms) => short_millis(ms).unwrap_or_else(|| text.to_string()),
        None => text.to_string(),
    }
}

/// Milliseconds since the epoch as `2026-12-06 02:30:11Z`.
pub fn short_millis(ms: Millis) -> Option<String> {
    let full = format_timestamp(ms)?; // 2026-12-06T02:30:11.250Z
    let date = full.get(0..10)?;
    let time = full.get(11..19)?;
    Some(format!("{date} {time}Z"))
}

/// The current time in ms since the Unix epoch.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A percentage as people read it (`25`, `12.5`; `10.0` is `10`), `?` when it is not a
/// number.
fn percent_text(value: Option<&Value>) -> String {
    units(value).map_or_else(|| "?".to_string(), units_text)
}

/// 0.001 % units (0 … 100 000) as a percentage without trailing zeros: `37500` → `37.5`.
pub fn units_text(units: i64) -> String {
    let whole = units / 1000;
    let fraction = (units % 1000).abs();
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:03}");
    let sign = if units < 0 && whole == 0 { "-" } else { "" };
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// A percentage as 0.001 % units.
fn units(value: Option<&Value>) -> Option<i64> {
    let number = value?.as_f64()?;
    if !number.is_finite() {
        return None;
    }
    // Percentages have at most three decimals: the rounding only removes float noise.
    #[allow(clippy::cast_possible_truncation)]
    Some((number * 1000.0).round() as i64)
}

/// Where a cohort (a rollout or a canary cohort) stands at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// `"percentage": P`.
    Fixed {
        /// The percentage as written.
        percentage: String,
    },
    /// `"progressive"`: stage `stage` (0-based; `None` before `start`) of `count`.
    Staged {
        /// The stage in force, 0-based; `None` before the start.
        stage: Option<usize>,
        /// How many stages there are.
        count: usize,
        /// The percentage in force as written (`0` before the start).
        percentage: String,
        /// When the next stage begins (ms), if one does and the rollout is not paused.
        next_at: Option<Millis>,
        /// The rollout is paused (`pausedAt`).
        paused: bool,
    },
    /// `"gradual"`: a linear ramp.
    Gradual {
        /// The percentage in force now, in 0.001 % units.
        units: i64,
        /// The target percentage in 0.001 % units.
        to: i64,
        /// When the ramp reaches `to` (ms), if it has not yet.
        done_at: Option<Millis>,
    },
    /// A rollout guarded by the controller (`GET …/rollouts`).
    Guarded {
        /// The canary percentage it set, as written.
        percentage: String,
        /// The stage, 1-based.
        stage: u64,
        /// How many stages there are.
        count: u64,
        /// `running`, `paused`, `awaiting_approval`, …
        status: String,
        /// The earliest time the stage may advance (ms), while running.
        next_at: Option<Millis>,
    },
    /// Something this client cannot read.
    Unknown,
}

impl Progress {
    /// Reads a rollout or cohort object at time `now` (ms).
    pub fn of(cohort: &Value, now: Millis) -> Progress {
        if let Some(percentage) = cohort.get("percentage") {
            return Progress::Fixed { percentage: percent_text(Some(percentage)) };
        }
        if let Some(progressive) = cohort.get("progressive") {
            return staged(progressive, now).unwrap_or(Progress::Unknown);
        }
        if let Some(gradual) = cohort.get("gradual") {
            return ramp(gradual, now).unwrap_or(Progress::Unknown);
        }
        Progress::Unknown
    }

    /// The percentage in force, as people read it (`25%`).
    pub fn percentage(&self) -> String {
        match self {
            Progress::Fixed { percentage }
            | Progress::Staged { percentage, .. }
            | Progress::Guarded { percentage, .. } => format!("{percentage}%"),
            Progress::Gradual { units, .. } => format!("{}%", units_text(*units)),
            Progress::Unknown => "?".to_string(),
        }
    }

    /// The stage column: `2/4` (1-based; `0/4` before the start), `ramp`, or `-`.
    pub fn stage(&self) -> String {
        match self {
            Progress::Staged { stage, count, .. } => format!("{}/{count}", stage.map_or(0, |s| s + 1)),
            Progress::Guarded { stage, count, .. } => format!("{stage}/{count}"),
            Progress::Gradual { .. } => "ramp".to_string(),
            Progress::Fixed { .. } | Progress::Unknown => "-".to_string(),
        }
    }

    /// What happens next: `stage 3 at 2026-…Z`, `paused`, `100% at …`, or `-`.
    pub fn next(&self) -> String {
        match self {
            Progress::Staged { paused: true, .. } => "paused".to_string(),
            Progress::Staged { stage, next_at: Some(at), .. } => {
                let next = stage.map_or(1, |s| s + 2);
                format!("stage {next} at {}", short_millis(*at).unwrap_or_else(|| at.to_string()))
            }
            Progress::Gradual { to, done_at: Some(at), .. } => {
                format!("{}% at {}", units_text(*to), short_millis(*at).unwrap_or_else(|| at.to_string()))
            }
            Progress::Guarded { status, stage, count, next_at, .. } => match status.as_str() {
                "running" => {
                    let next = if stage >= count { "on".to_string() } else { format!("stage {}", stage + 1) };
                    match next_at.and_then(short_millis) {
                        Some(at) => format!("{next} when healthy, from {at}"),
                        None => format!("{next} when healthy"),
                    }
                }
                "awaiting_approval" => format!("stage {} after approval (pennon rollout promote)", stage + 1),
                other => other.replace('_', " "),
            },
            _ => "-".to_string(),
        }
    }

    /// A short summary: `25%`, `stage 2/4 30%`, `ramp 37.5%`.
    pub fn summary(&self) -> String {
        match self {
            Progress::Fixed { .. } => self.percentage(),
            Progress::Staged { paused, .. } => {
                let paused = if *paused { " paused" } else { "" };
                format!("stage {} {}{paused}", self.stage(), self.percentage())
            }
            Progress::Gradual { .. } => format!("ramp {}", self.percentage()),
            Progress::Guarded { status, .. } => {
                format!("rollout stage {} {} {}", self.stage(), self.percentage(), status.replace('_', " "))
            }
            Progress::Unknown => "?".to_string(),
        }
    }
}

fn staged(progressive: &Value, now: Millis) -> Option<Progress> {
    let start = parse_timestamp(progressive.get("start")?.as_str()?)?;
    let stages = progressive.get("stages")?.as_array()?;
    let count = stages.len();
    let paused_at = progressive.get("pausedAt").and_then(Value::as_str).and_then(parse_timestamp);
    let at = paused_at.map_or(now, |p| p.min(now));
    let paused = paused_at.is_some();
    if at < start {
        let next_at = (!paused).then_some(start);
        return Some(Progress::Staged { stage: None, count, percentage: "0".to_string(), next_at, paused });
    }
    let mut edge = start;
    for (index, stage) in stages.iter().enumerate() {
        let percentage = percent_text(stage.get("percentage"));
        if index + 1 == count {
            return Some(Progress::Staged { stage: Some(index), count, percentage, next_at: None, paused });
        }
        let duration = parse_duration(stage.get("duration")?.as_str()?)?;
        edge = edge.checked_add(duration)?;
        if at < edge {
            let next_at = (!paused).then_some(edge);
            return Some(Progress::Staged { stage: Some(index), count, percentage, next_at, paused });
        }
    }
    None
}

fn ramp(gradual: &Value, now: Millis) -> Option<Progress> {
    let start = parse_timestamp(gradual.get("start")?.as_str()?)?;
    let duration = parse_duration(gradual.get("duration")?.as_str()?)?;
    let from = gradual.get("from").map_or(Some(0), |v| units(Some(v)))?;
    let to = gradual.get("to").map_or(Some(100_000), |v| units(Some(v)))?;
    let end = start.checked_add(duration)?;
    let value = if now < start {
        from
    } else if now >= end {
        to
    } else {
        // Integer division truncates towards zero, i.e. towards `from`.
        let elapsed = i128::from(now - start);
        let step = i128::from(to - from) * elapsed / i128::from(duration.max(1));
        from + i64::try_from(step).ok()?
    };
    let done_at = (now < end).then_some(end);
    Some(Progress::Gradual { units: value, to, done_at })
}

/// What a serve (`{variant}`, `{rollout}`, `{split}`) gives: `on`, `rollout 25%`,
/// `stage 2/4 30%`, `ramp 37.5%`, `split a/b`.
pub fn serve_summary(serve: &Value, now: Millis) -> String {
    if let Some(variant) = serve.get("variant").and_then(Value::as_str) {
        return variant.to_string();
    }
    if let Some(rollout) = serve.get("rollout") {
        return match Progress::of(rollout, now) {
            Progress::Fixed { .. } => format!("rollout {}", Progress::of(rollout, now).percentage()),
            progress => progress.summary(),
        };
    }
    if let Some(split) = serve.get("split") {
        let names: Vec<&str> = split
            .get("variants")
            .and_then(Value::as_array)
            .map(|variants| variants.iter().map(|v| text(v, "variant")).collect())
            .unwrap_or_default();
        return format!("split {}", names.join("/"));
    }
    "?".to_string()
}

/// The SERVING column of `pennon list`: what a flag definition serves now. `off` and
/// `kill` serve the off variant; `shadow` serves it while evaluating the on path;
/// `canary` gates by the cohort, then serves the fallthrough.
pub fn serving(definition: &Value, now: Millis) -> String {
    let off = text(definition, "offVariant");
    let fallthrough = definition.get("fallthrough").map(|serve| serve_summary(serve, now));
    let fallthrough = fallthrough.unwrap_or_else(|| "?".to_string());
    match text(definition, "state") {
        "off" | "kill" => off.to_string(),
        "shadow" => format!("{off} (shadow: {fallthrough})"),
        "canary" => {
            let cohort = definition.get("canary").map_or(Progress::Unknown, |c| Progress::of(c, now));
            let plain = definition.get("fallthrough").and_then(|s| s.get("variant")).is_some();
            if plain {
                format!("canary {}", cohort.summary())
            } else {
                format!("canary {}, {fallthrough}", cohort.summary())
            }
        }
        _ => fallthrough,
    }
}

/// One row of `pennon canary-status`: a flag in canary state or with a rollout fallthrough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryRow {
    /// The flag key.
    pub key: String,
    /// The flag's state.
    pub state: String,
    /// `canary` (the canary gate) or `fallthrough` (the fallthrough rollout).
    pub cohort: &'static str,
    /// Where it stands.
    pub progress: Progress,
    /// For a guarded rollout: its judgement now, in one line.
    pub judgement: Option<String>,
}

/// The rows of `pennon canary-status` for one flag (none, one or two).
pub fn canary_rows(key: &str, definition: &Value, now: Millis) -> Vec<CanaryRow> {
    let state = text(definition, "state").to_string();
    let mut rows = Vec::new();
    if state == "canary" {
        let progress = definition.get("canary").map_or(Progress::Unknown, |c| Progress::of(c, now));
        rows.push(CanaryRow {
            key: key.to_string(),
            state: state.clone(),
            cohort: "canary",
            progress,
            judgement: None,
        });
    }
    if let Some(rollout) = definition.get("fallthrough").and_then(|f| f.get("rollout")) {
        let progress = Progress::of(rollout, now);
        rows.push(CanaryRow { key: key.to_string(), state, cohort: "fallthrough", progress, judgement: None });
    }
    rows
}

/// The row of `pennon canary-status` for a rollout the controller guards.
pub fn guarded_row(rollout: &Value) -> CanaryRow {
    let number = |key: &str| rollout.get(key).and_then(Value::as_u64).unwrap_or(0);
    let progress = Progress::Guarded {
        percentage: percent_text(rollout.get("percentage")),
        stage: number("stage"),
        count: number("stages"),
        status: text(rollout, "status").to_string(),
        next_at: parse_timestamp(text(rollout, "earliestAdvanceAt")),
    };
    CanaryRow {
        key: text(rollout, "flag").to_string(),
        state: "canary".to_string(),
        cohort: "canary",
        progress,
        judgement: rollout.get("current").filter(|c| c.is_object()).map(judgement_text),
    }
}

/// One line for a rollout: `development checkout.new: running, stage 2/3, canary 50%,
/// next: stage 3 when healthy, from …`.
pub fn rollout_line(rollout: &Value) -> String {
    let row = guarded_row(rollout);
    let status = text(rollout, "status").replace('_', " ");
    format!(
        "{} {}: {status}, stage {}, canary {}; next: {}",
        text(rollout, "environment"),
        row.key,
        row.progress.stage(),
        row.progress.percentage(),
        row.progress.next()
    )
}

/// A judgement in one line: `healthy · canary on 150 req 0.7% err p95 120ms · control off …`.
pub fn judgement_text(judgement: &Value) -> String {
    let arm = |name: &str| {
        let arm = judgement.get(name).unwrap_or(&Value::Null);
        let rate =
            arm.get("errorRate").and_then(Value::as_f64).map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0));
        let p95 = arm.get("p95").and_then(Value::as_f64).map_or("-".to_string(), |p| format!("{p:.0}ms"));
        format!("{name} {} {} req {rate} err p95 {p95}", text(arm, "variant"), field(arm, "requests"))
    };
    let mut verdict = text(judgement, "verdict").replace('_', " ");
    if let Some(criterion) = judgement.get("criterion").and_then(Value::as_str) {
        verdict.push_str(&format!(" ({criterion})"));
    }
    format!("{verdict} · {} · {}", arm("canary"), arm("control"))
}

/// Re-indents JSON text with two spaces, keeping its key order and number spelling
/// exactly (the server's answer, not a re-serialisation). Text that is not JSON comes
/// out with whitespace outside strings rearranged, never lost characters.
pub fn pretty_json(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 2);
    let mut depth: usize = 0;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = input.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', depth * 2));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> Millis {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn tables_align_columns_and_leave_the_last_unpadded() {
        let rows = vec![
            vec!["checkout.new".to_string(), "boolean".to_string(), "on".to_string()],
            vec!["a".to_string(), "string".to_string(), "rollout 25%".to_string()],
        ];
        let text = table(&["KEY", "TYPE", "SERVING"], &rows);
        assert_eq!(
            text,
            "KEY           TYPE     SERVING\n\
             checkout.new  boolean  on\n\
             a             string   rollout 25%\n"
        );
    }

    #[test]
    fn tables_count_characters_not_bytes() {
        let rows = vec![vec!["über".to_string(), "x".to_string()]];
        assert_eq!(table(&["K", "V"], &rows), "K     V\nüber  x\n");
    }

    #[test]
    fn empty_trailing_cells_leave_no_trailing_spaces() {
        let rows = vec![vec!["a".to_string(), String::new()]];
        assert_eq!(table(&["KEY", "REASON"], &rows), "KEY  REASON\na\n");
    }

    #[test]
    fn timestamps_are_shortened_to_utc_seconds() {
        assert_eq!(short_time("2026-12-06T02:30:11Z"), "2026-12-06 02:30:11Z");
        assert_eq!(short_time("2026-12-06T03:30:11.250+01:00"), "2026-12-06 02:30:11Z");
        assert_eq!(short_time("yesterday"), "yesterday");
        assert_eq!(short_time(""), "-");
    }

    #[test]
    fn units_print_without_trailing_zeros() {
        assert_eq!(units_text(37_500), "37.5");
        assert_eq!(units_text(100_000), "100");
        assert_eq!(units_text(33_333), "33.333");
        assert_eq!(units_text(0), "0");
    }

    #[test]
    fn serving_of_a_fixed_variant_is_its_name() {
        let flag = json!({"state": "on", "offVariant": "off", "fallthrough": {"variant": "on"}});
        assert_eq!(serving(&flag, 0), "on");
        let off = json!({"state": "kill", "offVariant": "off", "fallthrough": {"variant": "on"}});
        assert_eq!(serving(&off, 0), "off");
        let shadow = json!({"state": "shadow", "offVariant": "off", "fallthrough": {"variant": "on"}});
        assert_eq!(serving(&shadow, 0), "off (shadow: on)");
    }

    #[test]
    fn serving_of_rollouts_splits_and_canaries() {
        let rollout = json!({"state": "on", "offVariant": "off",
            "fallthrough": {"rollout": {"variant": "on", "otherwise": "off", "percentage": 25}}});
        assert_eq!(serving(&rollout, 0), "rollout 25%");
        let float = json!({"state": "on", "offVariant": "off",
            "fallthrough": {"rollout": {"variant": "on", "otherwise": "off", "percentage": 25.0}}});
        assert_eq!(serving(&float, 0), "rollout 25%");
        let split = json!({"state": "on", "offVariant": "a", "fallthrough": {"split": {"variants": [
            {"variant": "a", "weight": 50}, {"variant": "b", "weight": 50}]}}});
        assert_eq!(serving(&split, 0), "split a/b");
        let canary = json!({"state": "canary", "offVariant": "off", "canary": {"percentage": 10},
            "fallthrough": {"variant": "on"}});
        assert_eq!(serving(&canary, 0), "canary 10%");
        let both = json!({"state": "canary", "offVariant": "off", "canary": {"percentage": 12.5},
            "fallthrough": {"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}});
        assert_eq!(serving(&both, 0), "canary 12.5%, rollout 50%");
    }

    fn progressive(paused: Option<&str>) -> Value {
        let mut p = json!({"start": "2026-01-01T00:00:00Z", "stages": [
            {"percentage": 10, "duration": "PT1H"}, {"percentage": 30, "duration": "PT2H"},
            {"percentage": 50, "duration": "PT4H"}, {"percentage": 100}]});
        if let Some(paused) = paused {
            p["pausedAt"] = json!(paused);
        }
        json!({"variant": "on", "otherwise": "off", "progressive": p})
    }

    #[test]
    fn stages_follow_start_and_durations() {
        let rollout = progressive(None);
        let before = Progress::of(&rollout, at("2025-12-31T23:00:00Z"));
        assert_eq!(before.summary(), "stage 0/4 0%");
        assert_eq!(before.next(), "stage 1 at 2026-01-01 00:00:00Z");
        let first = Progress::of(&rollout, at("2026-01-01T00:00:00Z"));
        assert_eq!(first.summary(), "stage 1/4 10%");
        // Exactly at a boundary the next stage is in force.
        let second = Progress::of(&rollout, at("2026-01-01T01:00:00Z"));
        assert_eq!(second.summary(), "stage 2/4 30%");
        assert_eq!(second.next(), "stage 3 at 2026-01-01 03:00:00Z");
        let third = Progress::of(&rollout, at("2026-01-01T06:59:59.999Z"));
        assert_eq!(third.summary(), "stage 3/4 50%");
        let last = Progress::of(&rollout, at("2030-01-01T00:00:00Z"));
        assert_eq!(last.summary(), "stage 4/4 100%");
        assert_eq!(last.next(), "-");
    }

    #[test]
    fn a_paused_rollout_stays_where_it_was_paused() {
        let rollout = progressive(Some("2026-01-01T01:30:00Z"));
        let later = Progress::of(&rollout, at("2026-02-01T00:00:00Z"));
        assert_eq!(later.summary(), "stage 2/4 30% paused");
        assert_eq!(later.next(), "paused");
        let flag = json!({"state": "on", "offVariant": "off", "fallthrough": {"rollout": rollout}});
        assert_eq!(serving(&flag, at("2026-02-01T00:00:00Z")), "stage 2/4 30% paused");
    }

    #[test]
    fn a_gradual_ramp_is_linear_and_clamped() {
        let cohort = json!({"gradual": {"start": "2026-01-01T00:00:00Z", "duration": "PT10H"}});
        assert_eq!(Progress::of(&cohort, at("2025-01-01T00:00:00Z")).percentage(), "0%");
        let mid = Progress::of(&cohort, at("2026-01-01T03:45:00Z"));
        assert_eq!(mid.summary(), "ramp 37.5%");
        assert_eq!(mid.next(), "100% at 2026-01-01 10:00:00Z");
        assert_eq!(Progress::of(&cohort, at("2027-01-01T00:00:00Z")).percentage(), "100%");
        let down = json!({"gradual": {"start": "2026-01-01T00:00:00Z", "duration": "PT3H", "from": 100, "to": 0}});
        assert_eq!(Progress::of(&down, at("2026-01-01T01:00:00Z")).percentage(), "66.667%");
    }

    #[test]
    fn canary_rows_list_the_gate_and_the_rollout() {
        let flag = json!({"state": "canary", "offVariant": "off", "canary": {"percentage": 5},
            "fallthrough": {"rollout": {"variant": "on", "otherwise": "off", "percentage": 50}}});
        let rows = canary_rows("x", &flag, 0);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cohort, "canary");
        assert_eq!(rows[0].progress.percentage(), "5%");
        assert_eq!(rows[1].cohort, "fallthrough");
        let plain = json!({"state": "on", "offVariant": "off", "fallthrough": {"variant": "on"}});
        assert!(canary_rows("y", &plain, 0).is_empty());
    }

    #[test]
    fn pretty_json_keeps_order_and_numbers() {
        let text = r#"{"z":1.50,"a":[],"s":"a,b:{\"c\"}","o":{"k":[1,2]},"e":{}}"#;
        let pretty = pretty_json(text);
        assert_eq!(
            pretty,
            "{\n  \"z\": 1.50,\n  \"a\": [],\n  \"s\": \"a,b:{\\\"c\\\"}\",\n  \"o\": {\n    \"k\": [\n      1,\n      2\n    ]\n  },\n  \"e\": {}\n}"
        );
        let reparsed: Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(reparsed, serde_json::from_str::<Value>(text).unwrap());
    }
}
