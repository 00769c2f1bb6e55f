//! Edits of a flag definition that the API and the CLI express in the users' words
//! (`set FLAG canary --percentage 10`, `kill`, overrides…). Pure functions on the
//! definition's JSON: core validates the result before anything is written.

use crate::error::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value, json};
use utoipa::ToSchema;

/// One stage of a progressive rollout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Stage {
    /// Percentage of units in this stage, kept as written (`10` stays `10`).
    #[schema(value_type = f64)]
    pub percentage: Number,
    /// How long the stage lasts (ISO 8601, e.g. `PT1H`); the last needs none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

/// Which part of a flag a rollout edit sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Cohort {
    /// The canary gate (`canary`).
    Canary,
    /// The fallthrough serve, as a rollout of its variant.
    Fallthrough,
}

/// A change to one flag's definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "camelCase")]
pub enum FlagEdit {
    /// Set the lifecycle state, and a canary or rollout percentage with it.
    State {
        /// `off`, `shadow`, `canary`, `on` or `kill`.
        state: String,
        /// With `canary`: the canary's percentage; with `on`: the fallthrough rollout's.
        percentage: Option<Number>,
    },
    /// The kill switch.
    Kill,
    /// A fixed percentage or progressive stages on the canary or the fallthrough.
    Rollout {
        /// Which part.
        cohort: Cohort,
        /// A fixed percentage…
        percentage: Option<Number>,
        /// …or stages.
        stages: Option<Vec<Stage>>,
        /// When the stages start (RFC 3339; default: now).
        start: Option<String>,
    },
    /// Serve a variant to one tenant, until an optional instant.
    OverrideSet {
        /// The tenant.
        tenant: String,
        /// The variant.
        variant: String,
        /// Until when (RFC 3339).
        expires_at: Option<String>,
        /// A note (e.g. the contract number).
        note: Option<String>,
    },
    /// Remove a tenant's override.
    OverrideRm {
        /// The tenant.
        tenant: String,
    },
}

impl FlagEdit {
    /// The audit action.
    pub fn action(&self) -> &'static str {
        match self {
            FlagEdit::State { .. } => "state",
            FlagEdit::Kill => "kill",
            FlagEdit::Rollout { .. } => "rollout",
            FlagEdit::OverrideSet { .. } => "override_set",
            FlagEdit::OverrideRm { .. } => "override_rm",
        }
    }
}

fn object(definition: &mut Value) -> ApiResult<&mut Map<String, Value>> {
    definition.as_object_mut().ok_or_else(|| ApiError::internal("a stored flag definition is not an object"))
}

fn schedule(
    percentage: Option<&Number>,
    stages: Option<&[Stage]>,
    start: Option<&str>,
    now: &str,
) -> ApiResult<Map<String, Value>> {
    let mut schedule = Map::new();
    match (percentage, stages) {
        (Some(percentage), None) => {
            schedule.insert("percentage".into(), Value::Number(percentage.clone()));
        }
        (None, Some(stages)) if !stages.is_empty() => {
            let start = start.unwrap_or(now);
            schedule.insert("progressive".into(), json!({ "start": start, "stages": stages }));
        }
        _ => return Err(ApiError::unprocessable("give either a percentage or a non-empty list of stages")),
    }
    Ok(schedule)
}

/// Replaces the schedule of a cohort object (`percentage` / `progressive` / `gradual`),
/// keeping `bucketBy` and `salt`.
fn reschedule(cohort: &mut Map<String, Value>, schedule: Map<String, Value>) {
    for key in ["percentage", "progressive", "gradual"] {
        cohort.remove(key);
    }
    cohort.extend(schedule);
}

fn set_fallthrough(flag: &mut Map<String, Value>, schedule: Map<String, Value>) -> ApiResult<()> {
    let off = flag.get("offVariant").cloned().unwrap_or(Value::Null);
    let fallthrough = flag.get_mut("fallthrough").and_then(Value::as_object_mut);
    match fallthrough {
        Some(serve) if serve.contains_key("rollout") => {
            if let Some(Value::Object(rollout)) = serve.get_mut("rollout") {
                reschedule(rollout, schedule);
            }
        }
        Some(serve) if serve.contains_key("variant") => {
            let variant = serve.get("variant").cloned().unwrap_or(Value::Null);
            let mut rollout = Map::new();
            rollout.insert("variant".into(), variant);
            rollout.insert("otherwise".into(), off);
            rollout.extend(schedule);
            serve.clear();
            serve.insert("rollout".into(), Value::Object(rollout));
        }
        _ => {
            return Err(ApiError::unprocessable(
                "the fallthrough is a split (or missing): set its weights with `put` instead",
            ));
        }
    }
    Ok(())
}

/// Applies an edit to a definition. `now` is RFC 3339 (the default start of stages).
pub fn apply(definition: &Value, edit: &FlagEdit, now: &str) -> ApiResult<Value> {
    let mut definition = definition.clone();
    let flag = object(&mut definition)?;
    match edit {
        FlagEdit::State { state, percentage } => {
            flag.insert("state".into(), Value::from(state.as_str()));
            match (state.as_str(), percentage) {
                (_, None) => {}
                ("canary", Some(percentage)) => {
                    let schedule = schedule(Some(percentage), None, None, now)?;
                    match flag.get_mut("canary").and_then(Value::as_object_mut) {
                        Some(canary) => reschedule(canary, schedule),
                        None => {
                            flag.insert("canary".into(), Value::Object(schedule));
                        }
                    }
                }
                ("on", Some(percentage)) => set_fallthrough(flag, schedule(Some(percentage), None, None, now)?)?,
                (other, Some(_)) => {
                    return Err(ApiError::unprocessable(format!(
                        "a percentage goes with state canary or on, not {other}"
                    )));
                }
            }
        }
        FlagEdit::Kill => {
            flag.insert("state".into(), Value::from("kill"));
        }
        FlagEdit::Rollout { cohort, percentage, stages, start } => {
            let schedule = schedule(percentage.as_ref(), stages.as_deref(), start.as_deref(), now)?;
            match cohort {
                Cohort::Canary => match flag.get_mut("canary").and_then(Value::as_object_mut) {
                    Some(canary) => reschedule(canary, schedule),
                    None => {
                        flag.insert("canary".into(), Value::Object(schedule));
                    }
                },
                Cohort::Fallthrough => set_fallthrough(flag, schedule)?,
            }
        }
        FlagEdit::OverrideSet { tenant, variant, expires_at, note } => {
            let mut entry = Map::new();
            entry.insert("tenant".into(), Value::from(tenant.as_str()));
            entry.insert("variant".into(), Value::from(variant.as_str()));
            if let Some(expires_at) = expires_at {
                entry.insert("expiresAt".into(), Value::from(expires_at.as_str()));
            }
            if let Some(note) = note {
                entry.insert("note".into(), Value::from(note.as_str()));
            }
            let overrides = flag.entry("overrides").or_insert_with(|| Value::Array(Vec::new()));
            let list = overrides
                .as_array_mut()
                .ok_or_else(|| ApiError::unprocessable("the flag's overrides are not a list"))?;
            match list.iter_mut().find(|o| o.get("tenant").and_then(Value::as_str) == Some(tenant.as_str())) {
                Some(existing) => *existing = Value::Object(entry),
                None => list.push(Value::Object(entry)),
            }
        }
        FlagEdit::OverrideRm { tenant } => {
            let list = flag.get_mut("overrides").and_then(Value::as_array_mut);
            let before = list.as_ref().map_or(0, |list| list.len());
            if let Some(list) = list {
                list.retain(|o| o.get("tenant").and_then(Value::as_str) != Some(tenant.as_str()));
                if list.len() == before {
                    return Err(ApiError::not_found(format!("the flag has no override for tenant '{tenant}'")));
                }
                if list.is_empty() {
                    flag.remove("overrides");
                }
            } else {
                return Err(ApiError::not_found(format!("the flag has no override for tenant '{tenant}'")));
            }
        }
    }
    Ok(definition)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn flag() -> Value {
        json!({"type": "boolean", "state": "off", "variants": {"on": true, "off": false}, "offVariant": "off", "fallthrough": {"variant": "on"}})
    }
    const NOW: &str = "2026-12-06T00:00:00Z";

    #[test]
    fn canary_percentage_creates_or_reschedules_the_gate_keeping_bucketing() {
        let edit = FlagEdit::State { state: "canary".into(), percentage: Some(10.into()) };
        let once = apply(&flag(), &edit, NOW).unwrap();
        assert_eq!(once["canary"], json!({"percentage": 10}));
        let mut with_salt = once.clone();
        with_salt["canary"] = json!({"gradual": {"start": NOW, "duration": "PT1H"}, "salt": "s"});
        let again =
            apply(&with_salt, &FlagEdit::State { state: "canary".into(), percentage: Some(30.into()) }, NOW).unwrap();
        assert_eq!(again["canary"], json!({"percentage": 30, "salt": "s"}));
    }

    #[test]
    fn on_with_percentage_turns_the_fallthrough_into_a_rollout_and_updates_it() {
        let once = apply(&flag(), &FlagEdit::State { state: "on".into(), percentage: Some(25.into()) }, NOW).unwrap();
        assert_eq!(once["fallthrough"], json!({"rollout": {"variant": "on", "otherwise": "off", "percentage": 25}}));
        let stages = vec![
            Stage { percentage: 50.into(), duration: Some("PT1H".into()) },
            Stage { percentage: 100.into(), duration: None },
        ];
        let staged = apply(
            &once,
            &FlagEdit::Rollout { cohort: Cohort::Fallthrough, percentage: None, stages: Some(stages), start: None },
            NOW,
        )
        .unwrap();
        assert_eq!(staged["fallthrough"]["rollout"]["progressive"]["start"], json!(NOW));
        assert!(staged["fallthrough"]["rollout"].get("percentage").is_none());
    }

    #[test]
    fn a_percentage_with_off_or_a_split_is_refused() {
        assert!(apply(&flag(), &FlagEdit::State { state: "off".into(), percentage: Some(5.into()) }, NOW).is_err());
        let mut split = flag();
        split["fallthrough"] = json!({"split": {"variants": []}});
        assert!(apply(&split, &FlagEdit::State { state: "on".into(), percentage: Some(5.into()) }, NOW).is_err());
    }

    #[test]
    fn overrides_are_set_once_per_tenant_and_removed() {
        let set = |flag: &Value, variant: &str| {
            apply(
                flag,
                &FlagEdit::OverrideSet { tenant: "acme".into(), variant: variant.into(), expires_at: None, note: None },
                NOW,
            )
            .unwrap()
        };
        let twice = set(&set(&flag(), "on"), "off");
        assert_eq!(twice["overrides"], json!([{"tenant": "acme", "variant": "off"}]));
        let removed = apply(&twice, &FlagEdit::OverrideRm { tenant: "acme".into() }, NOW).unwrap();
        assert!(removed.get("overrides").is_none());
        assert_eq!(
            apply(&removed, &FlagEdit::OverrideRm { tenant: "acme".into() }, NOW).unwrap_err().code,
            "not_found"
        );
    }
}
