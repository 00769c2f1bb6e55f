//! Percentage rollouts, progressive stages, gradual ramps, weighted splits and canary
//! cohorts: everything that turns a bucket and a time into a decision.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use serde_json::Value;

use crate::bucket::{self, BUCKETS, UnitError};
use crate::condition::Attribute;
use crate::context::Context;
use crate::decode::{self, Decoded, Obj, Path};
use crate::error::{ErrorCode, EvaluationError, EvaluationErrorCode};
use crate::reads::Reads;
use crate::time::Millis;

/// Which unit is bucketed and under which salt.
#[derive(Debug)]
pub(crate) struct Bucketing {
    attribute: Attribute,
    /// `salt ++ ":"`, precomputed.
    prefix: Box<[u8]>,
}

impl Bucketing {
    /// Reads `bucketBy` and `salt` from `obj` (defaults: `targetingKey`, the flag key).
    fn decode(obj: &Obj<'_>, flag_key: &str) -> Decoded<Bucketing> {
        let attribute = match obj.opt("bucketBy") {
            Some((value, path)) => Attribute::parse(decode::string(value, &path)?, &path)?,
            None => Attribute::top("targetingKey"),
        };
        let salt = match obj.opt("salt") {
            Some((value, path)) => decode::string(value, &path)?,
            None => flag_key,
        };
        let mut prefix = Vec::with_capacity(salt.len() + 1);
        prefix.extend_from_slice(salt.as_bytes());
        prefix.push(b':');
        Ok(Bucketing { attribute, prefix: prefix.into() })
    }

    /// The context's bucket in `[0, 100 000)`.
    pub(crate) fn bucket(&self, context: &Context) -> Result<u32, EvaluationError> {
        let unit = bucket::unit_bytes(self.attribute.lookup(context)).map_err(|error| {
            let code = match error {
                UnitError::Missing if self.attribute.is_targeting_key() => EvaluationErrorCode::TargetingKeyMissing,
                _ => EvaluationErrorCode::InvalidContext,
            };
            let message = match error {
                UnitError::Missing => format!("bucketing needs the context attribute `{}`", self.attribute),
                UnitError::Unusable => format!(
                    "the context attribute `{}` must be a string or an integer (|n| ≤ 2^53) to be bucketed",
                    self.attribute
                ),
            };
            EvaluationError { code, message }
        })?;
        Ok(bucket::bucket_of_hash(bucket::hash_prefixed(&self.prefix, unit.as_bytes())))
    }
}

/// How large a cohort is at a given time.
#[derive(Debug)]
pub(crate) enum Schedule {
    Fixed(u32),
    Progressive { start: Millis, stages: Box<[Stage]>, paused_at: Option<Millis> },
    Gradual { start: Millis, duration: Millis, from: u32, to: u32 },
}

/// One progressive stage: its threshold and when it ends, as an offset from the start
/// (`None` for the last stage, which stays in force).
#[derive(Debug)]
pub(crate) struct Stage {
    threshold: u32,
    ends_after: Option<Millis>,
}

const SCHEDULE_FIELDS: [&str; 3] = ["percentage", "progressive", "gradual"];

impl Schedule {
    fn decode(obj: &Obj<'_>) -> Decoded<Schedule> {
        let present: Vec<&str> = SCHEDULE_FIELDS.into_iter().filter(|f| obj.opt(f).is_some()).collect();
        if present.len() != 1 {
            return Err(obj.path().error(
                if present.is_empty() { ErrorCode::MissingField } else { ErrorCode::InvalidValue },
                "exactly one of `percentage`, `progressive` or `gradual` is required",
            ));
        }
        if let Some((value, path)) = obj.opt("percentage") {
            return decode::percentage(value, &path).map(Schedule::Fixed);
        }
        if let Some((value, path)) = obj.opt("progressive") {
            let progressive = Obj::new(value, path)?;
            progressive.only(&["start", "stages", "pausedAt"])?;
            let (start, start_path) = progressive.req("start")?;
            let start = decode::timestamp(start, &start_path)?;
            let paused_at = match progressive.opt("pausedAt") {
                Some((value, path)) => Some(decode::timestamp(value, &path)?),
                None => None,
            };
            let (stages, stages_path) = progressive.req("stages")?;
            let items = decode::array(stages, &stages_path)?;
            if items.is_empty() {
                return Err(
                    stages_path.error(ErrorCode::InvalidValue, "a progressive rollout needs at least one stage")
                );
            }
            let mut decoded = Vec::with_capacity(items.len());
            let mut elapsed: Millis = 0;
            let mut previous = 0;
            for (i, item) in items.iter().enumerate() {
                let stage_path = stages_path.index(i);
                let stage = Obj::new(item, stage_path)?;
                stage.only(&["percentage", "duration"])?;
                let (percentage, percentage_path) = stage.req("percentage")?;
                let threshold = decode::percentage(percentage, &percentage_path)?;
                if threshold < previous {
                    return Err(percentage_path.error(
                        ErrorCode::InvalidPercentage,
                        "stage percentages must not decrease: a progressing rollout never removes anyone",
                    ));
                }
                previous = threshold;
                let last = i + 1 == items.len();
                let ends_after = match (stage.opt("duration"), last) {
                    (_, true) => None,
                    (Some((value, path)), false) => {
                        elapsed = elapsed.saturating_add(decode::duration(value, &path)?);
                        Some(elapsed)
                    }
                    (None, false) => {
                        return Err(stage_path
                            .key("duration")
                            .error(ErrorCode::MissingField, "every stage but the last needs a `duration`"));
                    }
                };
                if let (true, Some((value, path))) = (last, stage.opt("duration")) {
                    decode::duration(value, &path)?;
                }
                decoded.push(Stage { threshold, ends_after });
            }
            return Ok(Schedule::Progressive { start, stages: decoded.into(), paused_at });
        }
        let (value, path) = obj.req("gradual")?;
        let gradual = Obj::new(value, path)?;
        gradual.only(&["start", "duration", "from", "to"])?;
        let (start, start_path) = gradual.req("start")?;
        let (duration, duration_path) = gradual.req("duration")?;
        let percent_or = |field: &str, default: u32| match gradual.opt(field) {
            Some((value, path)) => decode::percentage(value, &path),
            None => Ok(default),
        };
        Ok(Schedule::Gradual {
            start: decode::timestamp(start, &start_path)?,
            duration: decode::duration(duration, &duration_path)?,
            from: percent_or("from", 0)?,
            to: percent_or("to", BUCKETS)?,
        })
    }

    /// The threshold in force at `now`, and the index of the progressive stage if any.
    pub(crate) fn threshold(&self, now: Millis) -> (u32, Option<u32>) {
        match self {
            Schedule::Fixed(threshold) => (*threshold, None),
            Schedule::Progressive { start, stages, paused_at } => {
                let at = paused_at.map_or(now, |paused| now.min(paused));
                if at < *start {
                    return (0, None);
                }
                let elapsed = at.saturating_sub(*start);
                let mut current = (0, None);
                for (index, stage) in stages.iter().enumerate() {
                    current = (stage.threshold, Some(index as u32));
                    if stage.ends_after.is_none_or(|end| elapsed < end) {
                        break;
                    }
                }
                current
            }
            Schedule::Gradual { start, duration, from, to } => {
                let elapsed = now.saturating_sub(*start);
                let threshold = if elapsed <= 0 {
                    *from
                } else if elapsed >= *duration {
                    *to
                } else {
                    // Integer division truncates towards zero, i.e. towards `from`.
                    let delta = i128::from(*to) - i128::from(*from);
                    let step = delta * i128::from(elapsed) / i128::from(*duration);
                    (i128::from(*from) + step) as u32
                };
                (threshold, None)
            }
        }
    }
}

/// Where a cohort stands at an instant: the share of units in it, and the progressive
/// stage in force ([`crate::Snapshot::standing`]). The same threshold evaluation uses, so
/// a dashboard or a command line never works out stages or ramps on its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    /// Percent of units in the cohort (0–100, in thousandths of a percent as evaluation).
    pub percentage: f64,
    /// The progressive stage in force (from 0; `None` before the start).
    pub stage: Option<u32>,
    /// How many stages a progressive rollout has.
    pub stages: Option<u32>,
    /// A progressive rollout held at `pausedAt`.
    pub paused: bool,
    /// A gradual ramp that has not reached its `to` yet.
    pub ramping: bool,
}

impl Standing {
    /// `{percentage, stage, stages, paused, ramping}` (`stage` from 0, null before a
    /// progressive rollout starts; both null unless progressive).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "percentage": self.percentage,
            "stage": self.stage,
            "stages": self.stages,
            "paused": self.paused,
            "ramping": self.ramping,
        })
    }
}

/// A cohort: the units whose bucket is below the schedule's threshold (§5.3).
#[derive(Debug)]
pub(crate) struct Cohort {
    bucketing: Bucketing,
    schedule: Schedule,
}

impl Cohort {
    /// Decodes a canary cohort object.
    pub(crate) fn decode_canary(value: &Value, path: &Path<'_>, flag_key: &str) -> Decoded<Cohort> {
        let obj = Obj::new(value, *path)?;
        obj.only(&["percentage", "progressive", "gradual", "bucketBy", "salt"])?;
        Cohort::decode_fields(&obj, flag_key)
    }

    /// Reads the cohort fields of a rollout or canary object.
    pub(crate) fn decode_fields(obj: &Obj<'_>, flag_key: &str) -> Decoded<Cohort> {
        Ok(Cohort { bucketing: Bucketing::decode(obj, flag_key)?, schedule: Schedule::decode(obj)? })
    }

    pub(crate) fn reads<'s>(&'s self, reads: &mut Reads<'s>) {
        self.bucketing.attribute.reads(reads);
    }

    /// Where the cohort stands at `now`.
    pub(crate) fn standing(&self, now: Millis) -> Standing {
        let (threshold, stage) = self.schedule.threshold(now);
        let (stages, paused, ramping) = match &self.schedule {
            Schedule::Fixed(_) => (None, false, false),
            Schedule::Progressive { stages, paused_at, .. } => (Some(stages.len() as u32), paused_at.is_some(), false),
            Schedule::Gradual { to, .. } => (None, false, threshold != *to),
        };
        Standing { percentage: f64::from(threshold) / 1000.0, stage, stages, paused, ramping }
    }

    /// Whether the context is in the cohort at `now`, and the progressive stage if any.
    pub(crate) fn includes(&self, context: &Context, now: Millis) -> Result<(bool, Option<u32>), EvaluationError> {
        let (threshold, stage) = self.schedule.threshold(now);
        // Bucketing errors surface even at 0 % or 100 %: a context that cannot be bucketed
        // is a bug the caller should see, whatever today's percentage is.
        let bucket = self.bucketing.bucket(context)?;
        Ok((bucket < threshold, stage))
    }
}

/// A weighted split: consecutive bucket ranges, one per variant.
#[derive(Debug)]
pub(crate) struct Split {
    bucketing: Bucketing,
    /// `(exclusive upper bound, variant index)`, ascending; the last bound is 100 000.
    ranges: Box<[(u32, u32)]>,
}

impl Split {
    /// Each range's variant and its share of units (0–1), in order.
    pub(crate) fn shares(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        let lowers = core::iter::once(0).chain(self.ranges.iter().map(|(upper, _)| *upper));
        self.ranges.iter().zip(lowers).map(|((upper, variant), lower)| (*variant, f64::from(upper - lower) / 100_000.0))
    }

    pub(crate) fn decode(
        value: &Value,
        path: &Path<'_>,
        flag_key: &str,
        variant: &dyn Fn(&Value, &Path<'_>) -> Decoded<u32>,
    ) -> Decoded<Split> {
        let obj = Obj::new(value, *path)?;
        obj.only(&["variants", "bucketBy", "salt"])?;
        let bucketing = Bucketing::decode(&obj, flag_key)?;
        let (list, list_path) = obj.req("variants")?;
        let items = decode::array(list, &list_path)?;
        let mut ranges = Vec::with_capacity(items.len());
        let mut upper: u32 = 0;
        for (i, item) in items.iter().enumerate() {
            let item_path = list_path.index(i);
            let entry = Obj::new(item, item_path)?;
            entry.only(&["variant", "weight"])?;
            let (name, name_path) = entry.req("variant")?;
            let index = variant(name, &name_path)?;
            let (weight, weight_path) = entry.req("weight")?;
            upper = upper.saturating_add(decode::percentage(weight, &weight_path)?);
            ranges.push((upper, index));
        }
        if upper != BUCKETS {
            return Err(list_path.error(
                ErrorCode::InvalidWeights,
                format!("split weights add up to {}.{:03} %, not 100 %", upper / 1000, upper % 1000),
            ));
        }
        Ok(Split { bucketing, ranges: ranges.into() })
    }

    pub(crate) fn reads<'s>(&'s self, reads: &mut Reads<'s>) {
        self.bucketing.attribute.reads(reads);
    }

    /// The variant index whose range holds the context's bucket.
    pub(crate) fn choose(&self, context: &Context) -> Result<u32, EvaluationError> {
        let bucket = self.bucketing.bucket(context)?;
        self.ranges.iter().find(|(upper, _)| bucket < *upper).map(|(_, variant)| *variant).ok_or_else(|| {
            EvaluationError {
                code: EvaluationErrorCode::General,
                message: "split ranges do not cover the bucket".into(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schedule(value: Value) -> Schedule {
        Schedule::decode(&Obj::new(&value, Path::Root).unwrap()).unwrap()
    }

    #[test]
    fn bucketing_errors_name_the_attribute_path() {
        let message = |bucket_by: &str, context: Value| {
            let obj = json!({"bucketBy": bucket_by});
            let bucketing = Bucketing::decode(&Obj::new(&obj, Path::Root).unwrap(), "f").unwrap();
            bucketing.bucket(&Context::from_value(context).unwrap()).unwrap_err().message
        };
        assert_eq!(message("/user/id", json!({})), "bucketing needs the context attribute `/user/id`");
        assert_eq!(
            message("/user/id", json!({"user": {"id": true}})),
            "the context attribute `/user/id` must be a string or an integer (|n| ≤ 2^53) to be bucketed"
        );
        assert_eq!(message("accountId", json!({})), "bucketing needs the context attribute `accountId`");
    }

    #[test]
    fn progressive_boundaries() {
        let s = schedule(json!({"progressive": {"start": "1970-01-01T00:00:00Z", "stages": [
            {"percentage": 10, "duration": "PT1S"}, {"percentage": 30, "duration": "PT2S"}, {"percentage": 100}]}}));
        assert_eq!(s.threshold(-1), (0, None));
        assert_eq!(s.threshold(0), (10_000, Some(0)));
        assert_eq!(s.threshold(999), (10_000, Some(0)));
        assert_eq!(s.threshold(1000), (30_000, Some(1)));
        assert_eq!(s.threshold(2999), (30_000, Some(1)));
        assert_eq!(s.threshold(3000), (100_000, Some(2)));
        assert_eq!(s.threshold(i64::MAX), (100_000, Some(2)));
    }

    #[test]
    fn gradual_ramp_rounds_towards_from() {
        let up = schedule(json!({"gradual": {"start": "1970-01-01T00:00:00Z", "duration": "PT3S"}}));
        assert_eq!(up.threshold(-5), (0, None));
        assert_eq!(up.threshold(1), (33, None));
        assert_eq!(up.threshold(1500), (50_000, None));
        assert_eq!(up.threshold(3000), (100_000, None));
        let down =
            schedule(json!({"gradual": {"start": "1970-01-01T00:00:00Z", "duration": "PT3S", "from": 100, "to": 0}}));
        assert_eq!(down.threshold(1), (99_967, None));
    }

    #[test]
    fn standing_is_the_threshold_evaluation_uses_with_its_stage() {
        let cohort = |value: Value| Cohort::decode_canary(&value, &Path::Root, "f").unwrap();
        let staged = cohort(
            json!({"progressive": {"start": "1970-01-01T00:00:00Z", "pausedAt": "1970-01-01T00:00:01.500Z",
            "stages": [{"percentage": 10, "duration": "PT1S"}, {"percentage": 30, "duration": "PT2S"}, {"percentage": 100}]}}),
        );
        let held = Standing { percentage: 30.0, stage: Some(1), stages: Some(3), paused: true, ramping: false };
        assert_eq!(staged.standing(9_000), held, "paused in stage 2");
        let before = Standing { percentage: 0.0, stage: None, stages: Some(3), paused: true, ramping: false };
        assert_eq!(staged.standing(-1), before, "not started");
        let ramp = cohort(json!({"gradual": {"start": "1970-01-01T00:00:00Z", "duration": "PT3S"}}));
        let ramping = Standing { percentage: 0.033, stage: None, stages: None, paused: false, ramping: true };
        assert_eq!(ramp.standing(1), ramping);
        assert_eq!(ramp.standing(3000), Standing { percentage: 100.0, ramping: false, ..ramping });
        let fixed = cohort(json!({"percentage": 12.5}));
        assert_eq!(
            fixed.standing(0).to_json(),
            json!({"percentage": 12.5, "stage": null, "stages": null, "paused": false, "ramping": false})
        );
    }

    #[test]
    fn schedules_reject_bad_input() {
        let error = |value: Value| Schedule::decode(&Obj::new(&value, Path::Root).unwrap()).unwrap_err().code;
        assert_eq!(error(json!({})), ErrorCode::MissingField);
        assert_eq!(error(json!({"percentage": 5, "gradual": {}})), ErrorCode::InvalidValue);
        assert_eq!(
            error(
                json!({"progressive": {"start": "1970-01-01T00:00:00Z", "stages": [{"percentage": 50, "duration": "PT1H"}, {"percentage": 10}]}})
            ),
            ErrorCode::InvalidPercentage
        );
        assert_eq!(
            error(
                json!({"progressive": {"start": "1970-01-01T00:00:00Z", "stages": [{"percentage": 5}, {"percentage": 10}]}})
            ),
            ErrorCode::MissingField
        );
        assert_eq!(
            error(
                json!({"progressive": {"start": "1970-01-01T00:00:00Z", "stages": [{"percentage": 5, "duration": "P1M"}, {"percentage": 10}]}})
            ),
            ErrorCode::InvalidDuration
        );
    }
}
