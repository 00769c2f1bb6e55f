//! Pennon's Node.js addon: the `pennon-core` engine as a napi-rs class.
//!
//! This crate only converts values, maps errors and owns the snapshot handle
//! (`docs/bindings.md`); every answer comes from `pennon-core`. Contexts are walked with
//! Node-API straight into a [`Context`] and results are built straight as JS objects: no
//! JSON text on the evaluation path (see the `js` module).
//!
//! The npm package wraps this module in `index.js`, which defines the error classes and
//! registers them with [`register_error_classes`].

mod cache;
mod errors;
mod fast;
mod js;

use std::sync::{Arc, Mutex, PoisonError, Weak};

use napi::bindgen_prelude::{Env, JsValue, Object, Unknown};
use napi::sys::napi_value;
use napi_derive::napi;
use pennon_core::time::Millis;
use pennon_core::{Context, ErrorCode, Evaluation, FlagType, Snapshot, bucket};
use pennon_host::args::{self, Kind as ArgKind};
use pennon_host::limits::{MAX_CONTEXT_DEPTH, MAX_SNAPSHOT_DEPTH};
use pennon_host::{Holder, Loaded, clock, outcomes};

use crate::errors::{Failure, Outcome, guard, napi_failure};
use crate::js::{Converter, Js, Key, Kind, NapiResult, Spare};

/// A Pennon engine holding at most one compiled snapshot.
///
/// Every method runs synchronously on the calling thread. An `Engine` belongs to the
/// thread (main or worker) that created it; workers create their own engines and can adopt
/// an already compiled snapshot with `loadShared`.
#[napi]
pub struct Engine {
    /// The snapshot slot every binding shares (`pennon_host::Holder`): not ready, last
    /// good kept, and the generation `index.js` tags its cached attribute lists with.
    holder: Holder,
    /// Strings of earlier contexts, reused by the next conversion.
    spare: Spare,
}

#[napi]
impl Engine {
    /// An engine, not ready (evaluations answer `PROVIDER_NOT_READY`) until a snapshot
    /// loads: the one given here, or a later `load`. A bad snapshot here throws its
    /// `SnapshotError`.
    #[napi(constructor, ts_args_type = "snapshot?: string | object | null")]
    pub fn new(env: Env, snapshot: Option<Unknown<'_>>) -> napi::Result<Self> {
        let engine = Engine { holder: Holder::new(), spare: Spare::default() };
        if let Some(snapshot) = snapshot {
            guard(&env, |js| match js.kind(snapshot.raw()) {
                Ok(Kind::Undefined | Kind::Null) => Ok(()),
                _ => engine.install(js, Arc::new(compile(js, snapshot.raw())?)).map(drop),
            })?;
        }
        Ok(engine)
    }

    /// Loads a snapshot given as JSON text or as an already parsed object and returns its
    /// load warnings. On failure throws a `SnapshotError` and keeps the snapshot it had.
    #[napi(ts_args_type = "snapshot: string | object", ts_return_type = "Array<LoadWarning>")]
    pub fn load(&self, env: &Env, snapshot: Unknown<'_>) -> napi::Result<napi_value> {
        guard(env, |js| {
            let compiled = compile(js, snapshot.raw())?;
            self.install(js, Arc::new(compiled))
        })
    }

    /// The loaded snapshot's revision, or `null` before the first successful load.
    #[napi(getter, ts_return_type = "number | null")]
    pub fn revision(&self, env: &Env) -> napi::Result<Option<f64>> {
        guard(env, |_| Ok(self.holder.revision().map(revision_number)))
    }

    /// The keys of the flags whose evaluation may differ between `previous`'s snapshot and
    /// this engine's, as core computes them (`Snapshot::changed_flags`: added, removed,
    /// changed, and their dependents), sorted. An engine without a snapshot counts as an
    /// empty one. SDKs call it after loading a new snapshot into a fresh engine.
    #[napi(js_name = "changedFlags", ts_args_type = "previous: Engine", ts_return_type = "Array<string>")]
    pub fn changed_flags(&self, env: &Env, previous: &Engine) -> napi::Result<Vec<String>> {
        guard(env, |_| {
            let (new, old) = (self.holder.current(), previous.holder.current());
            Ok(pennon_host::changed_flags(new.as_ref().map(|l| &*l.snapshot), old.as_ref().map(|l| &*l.snapshot)))
        })
    }

    /// The load warnings of the loaded snapshot (`[]` before the first load).
    #[napi(getter, ts_return_type = "Array<LoadWarning>")]
    pub fn warnings(&self, env: &Env) -> napi::Result<napi_value> {
        guard(env, |js| {
            let loaded = self.holder.current();
            warnings(js, loaded.as_ref().map(|l| l.snapshot.warnings()).unwrap_or_default())
                .map_err(|status| napi_failure(js, status, "building the warnings"))
        })
    }

    /// Evaluates one flag and returns the full result object. Never throws for
    /// evaluation problems: they come back as `reason: "ERROR"` with the default.
    #[napi(
        ts_args_type = "flag: string, context?: Context | null, options?: EvaluateOptions<T> | null",
        ts_generic_types = "T = unknown",
        ts_return_type = "EvaluationResult<T>"
    )]
    pub fn evaluate(
        &self,
        env: &Env,
        flag: Unknown<'_>,
        context: Unknown<'_>,
        options: Unknown<'_>,
    ) -> napi::Result<napi_value> {
        guard(env, |js| self.evaluate_js(js, [flag.raw(), options.raw()], ContextArg::Object(context.raw())))
    }

    /// A boolean flag's value, or `defaultValue` on any error.
    #[napi(
        js_name = "getBoolean",
        ts_args_type = "flag: string, context: Context | null | undefined, defaultValue: boolean, now?: number | null",
        ts_return_type = "boolean"
    )]
    pub fn get_boolean(
        &self,
        env: &Env,
        flag: Unknown<'_>,
        context: Unknown<'_>,
        default_value: Unknown<'_>,
        now: Unknown<'_>,
    ) -> napi::Result<napi_value> {
        guard(env, |js| {
            self.typed(
                js,
                FlagType::Boolean,
                [flag.raw(), default_value.raw(), now.raw()],
                ContextArg::Object(context.raw()),
            )
        })
    }

    /// A string flag's value, or `defaultValue` on any error.
    #[napi(
        js_name = "getString",
        ts_args_type = "flag: string, context: Context | null | undefined, defaultValue: string, now?: number | null",
        ts_return_type = "string"
    )]
    pub fn get_string(
        &self,
        env: &Env,
        flag: Unknown<'_>,
        context: Unknown<'_>,
        default_value: Unknown<'_>,
        now: Unknown<'_>,
    ) -> napi::Result<napi_value> {
        guard(env, |js| {
            self.typed(
                js,
                FlagType::String,
                [flag.raw(), default_value.raw(), now.raw()],
                ContextArg::Object(context.raw()),
            )
        })
    }

    /// A number flag's value, or `defaultValue` on any error.
    #[napi(
        js_name = "getNumber",
        ts_args_type = "flag: string, context: Context | null | undefined, defaultValue: number, now?: number | null",
        ts_return_type = "number"
    )]
    pub fn get_number(
        &self,
        env: &Env,
        flag: Unknown<'_>,
        context: Unknown<'_>,
        default_value: Unknown<'_>,
        now: Unknown<'_>,
    ) -> napi::Result<napi_value> {
        guard(env, |js| {
            self.typed(
                js,
                FlagType::Number,
                [flag.raw(), default_value.raw(), now.raw()],
                ContextArg::Object(context.raw()),
            )
        })
    }

    /// An object flag's value (a fresh object per call), or `defaultValue` on any error.
    #[napi(
        js_name = "getObject",
        ts_args_type = "flag: string, context: Context | null | undefined, defaultValue: T, now?: number | null",
        ts_generic_types = "T extends object | null = Record<string, unknown>",
        ts_return_type = "T"
    )]
    pub fn get_object(
        &self,
        env: &Env,
        flag: Unknown<'_>,
        context: Unknown<'_>,
        default_value: Unknown<'_>,
        now: Unknown<'_>,
    ) -> napi::Result<napi_value> {
        guard(env, |js| {
            self.typed(
                js,
                FlagType::Object,
                [flag.raw(), default_value.raw(), now.raw()],
                ContextArg::Object(context.raw()),
            )
        })
    }

    /// Every flag evaluated for one context: `{flagKey: result}` (front-end bootstrap).
    /// Values of failed evaluations are `null`.
    #[napi(
        js_name = "evaluateAll",
        ts_args_type = "context?: Context | null, now?: number | null",
        ts_return_type = "Record<string, EvaluationResult>"
    )]
    pub fn evaluate_all(&self, env: &Env, context: Unknown<'_>, now: Unknown<'_>) -> napi::Result<napi_value> {
        guard(env, |js| self.evaluate_all_js(js, [context.raw(), now.raw()]))
    }

    /// Makes the loaded snapshot available to engines on other threads (workers) and
    /// returns its handle, or `null` when nothing is loaded. The handle stays valid while
    /// some engine in the process still holds that snapshot.
    #[napi(js_name = "shareSnapshot", ts_return_type = "number | null")]
    pub fn share_snapshot(&self, env: &Env) -> napi::Result<Option<u32>> {
        guard(env, |_| Ok(self.holder.current().map(|loaded| SHARED.share(&loaded.snapshot))))
    }

    /// Adopts a snapshot shared by another engine (`shareSnapshot()`, possibly on another
    /// thread) without parsing it again, and returns its warnings. Throws an
    /// `ArgumentError` when no engine holds that snapshot any more.
    #[napi(js_name = "loadShared", ts_args_type = "handle: number", ts_return_type = "Array<LoadWarning>")]
    pub fn load_shared(&self, env: &Env, handle: Unknown<'_>) -> napi::Result<napi_value> {
        guard(env, |js| {
            let raw = handle.raw();
            let number = match js.kind(raw) {
                Ok(Kind::Number) => js.number(raw).map_err(|status| napi_failure(js, status, "reading the handle"))?,
                _ => return Err(Failure::argument("the shared snapshot handle must be a number")),
            };
            let snapshot = u32::try_from(number as i64)
                .ok()
                .filter(|id| f64::from(*id) == number)
                .and_then(|id| SHARED.get(id))
                .ok_or_else(|| Failure::argument(format!("no engine holds a shared snapshot with handle {number}")))?;
            self.install(js, snapshot)
        })
    }
}

/// Evaluation counters (`docs/bindings.md`, "Counting evaluations").
#[napi]
impl Engine {
    /// Switches counting of this engine's single-flag evaluations (`evaluate` and the
    /// typed getters, not `evaluateAll`) per flag × variant × reason on or off. Off by
    /// default; counts so far are kept.
    #[napi(js_name = "countEvaluations")]
    pub fn count_evaluations(&self, env: &Env, enabled: bool) -> napi::Result<()> {
        guard(env, |_| {
            self.holder.counters().set_enabled(enabled);
            Ok(())
        })
    }

    /// Counts an answer the caller gave itself from a local override of `flag` (variant
    /// `override`, reason `STATIC`), when counting is on.
    #[napi(js_name = "countOverride")]
    pub fn count_override(&self, env: &Env, flag: String) -> napi::Result<()> {
        guard(env, |_| {
            self.holder.counters().count_override(&flag);
            Ok(())
        })
    }

    /// From now on this engine counts into `previous`'s counters (switched on or off with
    /// them): an SDK that loads each new snapshot into a fresh engine keeps one set of
    /// counters this way.
    #[napi(js_name = "shareCounters", ts_args_type = "previous: Engine")]
    pub fn share_counters(&self, env: &Env, previous: &Engine) -> napi::Result<()> {
        guard(env, |_| {
            self.holder.share_counters(&previous.holder);
            Ok(())
        })
    }

    /// The counters in Prometheus text format: `pennon_evaluations_total{flag,variant,reason}`,
    /// series sorted, `# HELP` and `# TYPE` first.
    #[napi]
    pub fn metrics(&self, env: &Env) -> napi::Result<String> {
        guard(env, |_| Ok(self.holder.counters().metrics_text()))
    }

    /// @internal Adds `n` answers `index.js` gave from its table of constant flags.
    #[napi(js_name = "__tally", skip_typescript)]
    pub fn tally(&self, env: &Env, flag: String, variant: Option<String>, reason: String, n: f64) -> napi::Result<()> {
        guard(env, |_| {
            let known = pennon_core::Reason::ALL.into_iter().find(|r| r.as_str() == reason);
            let known = known.ok_or_else(|| Failure::argument(format!("unknown reason `{reason}`")))?;
            self.holder.counters().add(&flag, variant.as_deref().unwrap_or_default(), known, n as u64);
            Ok(())
        })
    }
}

/// Outcomes (`docs/bindings.md`, "Recording outcomes").
#[napi]
impl Engine {
    /// Records what happened after the application used `flag` for `context`: `{ ok: true,
    /// latencyMs? }` or `{ error: true, latencyMs? }` (a request) and/or `{ converted: true }`,
    /// kept for the variant the context is served (evaluated at `now`, uncounted). An
    /// invalid outcome throws an `ArgumentError`; an evaluation that fails (not ready,
    /// unknown flag, a context that does not convert) records nothing and throws nothing.
    #[napi(
        ts_args_type = "flag: string, context: Context | null | undefined, outcome: Outcome, now?: number | null",
        ts_return_type = "void"
    )]
    pub fn record(
        &self,
        env: &Env,
        flag: Unknown<'_>,
        context: Unknown<'_>,
        outcome: Unknown<'_>,
        now: Unknown<'_>,
    ) -> napi::Result<()> {
        guard(env, |js| {
            let outcome = outcome_arg(js, outcome.raw())?;
            self.record_js(js, [flag.raw(), now.raw()], outcome, ContextArg::Object(context.raw())).map(drop)
        })
    }

    /// The body of `POST /sdk/v1/metrics` (JSON text) with every outcome and exposure since
    /// the previous take, `sdk` naming the sender (default `pennon-host/<version>`), or
    /// `null` when nothing is new. The numbers count as sent until `restoreOutcomes`
    /// gives the batch back.
    #[napi(js_name = "takeOutcomes", ts_args_type = "batchId: string, sdk?: string | null")]
    pub fn take_outcomes(&self, env: &Env, batch_id: String, sdk: Option<String>) -> napi::Result<Option<String>> {
        guard(env, |_| Ok(self.holder.take_outcomes(&batch_id, sdk.as_deref())))
    }

    /// Gives back a batch `takeOutcomes` made whose send failed: the next take carries its
    /// numbers again.
    #[napi(js_name = "restoreOutcomes")]
    pub fn restore_outcomes(&self, env: &Env, batch: String) -> napi::Result<()> {
        guard(env, |_| Ok(self.holder.restore_outcomes(&batch)?))
    }

    /// The outcomes in Prometheus text format (cumulative): `pennon_canary_requests_total`,
    /// `pennon_canary_errors_total`, `pennon_conversions_total` and the histogram
    /// `pennon_canary_latency_ms`, labelled `{flag, cohort}` (the variant).
    #[napi(js_name = "outcomeMetrics")]
    pub fn outcome_metrics(&self, env: &Env) -> napi::Result<String> {
        guard(env, |_| Ok(self.holder.outcome_metrics()))
    }
}

impl Engine {
    /// `record(flag, context, outcome, now)`: whether it recorded, or `None` when
    /// `index.js` flattened the context for another generation (as [`Engine::take`]).
    pub(crate) fn record_js(
        &self,
        js: Js<'_>,
        [flag, now]: [napi_value; 2],
        outcome: outcomes::Outcome,
        context: ContextArg<'_>,
    ) -> Outcome<Option<bool>> {
        check_flag(js, flag)?;
        let now = now_arg(js, now)?;
        let Some(loaded) = self.take(&context) else { return Ok(None) };
        let context = match loaded {
            Some(_) => context.convert(js, &self.spare),
            None => Ok(Context::new()),
        };
        let recorded = js.with_str(flag, |key| {
            let context = context.as_ref().map_err(String::as_str);
            self.holder.record(loaded.as_deref(), key, context, now, &outcome, outcomes::LATENCY_KEY)
        });
        if let Ok(context) = context {
            self.spare.recycle(context);
        }
        Ok(Some(recorded.map_err(|status| napi_failure(js, status, "reading the flag key"))??))
    }

    fn install(&self, js: Js<'_>, snapshot: Arc<Snapshot>) -> Outcome<napi_value> {
        let warnings =
            warnings(js, snapshot.warnings()).map_err(|status| napi_failure(js, status, "building warnings"))?;
        self.holder.install(snapshot);
        Ok(warnings)
    }

    /// The snapshot this call evaluates against, taken once after the arguments are read
    /// and before the context is converted (converting may run getters that load another
    /// snapshot: the answer still comes from one snapshot and carries its revision).
    /// `Some(None)` is "not ready"; `None` means `index.js` flattened the context for
    /// another generation and must ask for the attribute lists again.
    fn take(&self, context: &ContextArg<'_>) -> Option<Option<Arc<Loaded>>> {
        let loaded = self.holder.current();
        let current = loaded.as_ref().map_or(0.0, |loaded| loaded.generation as f64);
        match context {
            ContextArg::Pairs { generation, .. } if *generation != current => None,
            _ => Some(loaded),
        }
    }

    /// `evaluate(flag, context, options)`.
    pub(crate) fn evaluate_js(
        &self,
        js: Js<'_>,
        [flag, options]: [napi_value; 2],
        context: ContextArg<'_>,
    ) -> Outcome<napi_value> {
        let building = |status| napi_failure(js, status, "building the result");
        check_flag(js, flag)?;
        let options = EvaluateOptions::read(js, options)?;
        let now = match options.now {
            Some(now) => now_arg(js, now)?,
            None => clock::now(),
        };
        let builder = cache::result_builder(js).map_err(building)?;
        let default = match options.default {
            Some(default) => default,
            None => js.null().map_err(building)?,
        };
        let Some(loaded) = self.take(&context) else { return js.undefined().map_err(building) };
        let context = match loaded {
            Some(_) => context.convert(js, &self.spare),
            None => Ok(Context::new()),
        };
        let built = js.with_str(flag, |key| {
            let context = context.as_ref().map_err(String::as_str);
            let (evaluation, revision) = self.holder.evaluate(loaded.as_deref(), key, context, now, options.expected);
            result_object(js, builder, &evaluation, default, revision)
        });
        if let Ok(context) = context {
            self.spare.recycle(context);
        }
        built.and_then(|result| result).map_err(building)
    }

    /// The typed getters: `getBoolean(flag, context, defaultValue, now)` and its siblings.
    pub(crate) fn typed(
        &self,
        js: Js<'_>,
        expected: FlagType,
        [flag, default, now]: [napi_value; 3],
        context: ContextArg<'_>,
    ) -> Outcome<napi_value> {
        let building = |status| napi_failure(js, status, "building the value");
        check_flag(js, flag)?;
        check_default(js, expected, default)?;
        let now = now_arg(js, now)?;
        let Some(loaded) = self.take(&context) else { return js.undefined().map_err(building) };
        let context = match loaded {
            Some(_) => context.convert(js, &self.spare),
            None => Ok(Context::new()),
        };
        let value = js
            .with_str(flag, |key| {
                let context = context.as_ref().map_err(String::as_str);
                match self.holder.evaluate(loaded.as_deref(), key, context, now, Some(expected)).0.value {
                    Some(value) => js::to_js(js, value),
                    None => Ok(default),
                }
            })
            .and_then(|value| value);
        if let Ok(context) = context {
            self.spare.recycle(context);
        }
        value.map_err(building)
    }

    /// `evaluateAll(context, now)`.
    pub(crate) fn evaluate_all_js(&self, js: Js<'_>, [context, now]: [napi_value; 2]) -> Outcome<napi_value> {
        let building = |status| napi_failure(js, status, "building the results");
        let now = now_arg(js, now)?;
        let out = js.object().map_err(building)?;
        let Some(loaded) = self.holder.current() else { return Ok(out) };
        let snapshot = &*loaded.snapshot;
        let builder = cache::result_builder(js).map_err(building)?;
        let context = ContextArg::Object(context).convert(js, &self.spare);
        let null = js.null().map_err(building)?;
        let revision = Some(snapshot.revision());
        let mut fields = Vec::with_capacity(snapshot.flag_keys().len());
        for (key, evaluation) in snapshot.evaluate_all_converted(context.as_ref().map_err(String::as_str), now) {
            let result = result_object(js, builder, &evaluation, null, revision).map_err(building)?;
            fields.push((Key::Handle(js.str_value(key).map_err(building)?), result));
        }
        if let Ok(context) = context {
            self.spare.recycle(context);
        }
        js.define(out, &fields).map_err(building)?;
        Ok(out)
    }
}

impl Engine {
    /// `attributesRead(flag)` (internal, for `index.js`): `{ generation, attributes }`, the
    /// top-level attributes evaluating `flag` can read (core's `Snapshot::attributes_read`)
    /// and the generation of the snapshot they belong to.
    pub(crate) fn attributes_read_js(&self, js: Js<'_>, [flag]: [napi_value; 1]) -> Outcome<napi_value> {
        let building = |status| napi_failure(js, status, "listing the attributes");
        check_flag(js, flag)?;
        let loaded = self.holder.current();
        let names = match &loaded {
            Some(loaded) => js
                .with_str(flag, |key| {
                    loaded.snapshot.attributes_read(key).iter().map(|name| String::from(&**name)).collect()
                })
                .map_err(building)?,
            None => Vec::new(),
        };
        let attributes = array(js, names.iter().map(|name| js.str_value(name)))?;
        Engine::with_generation(js, loaded.as_deref(), &[(Key::Text(c"attributes"), attributes)])
    }

    /// `{ generation, ...fields }`: `fields` with the generation of the snapshot they
    /// come from (0 before the first load).
    fn with_generation(js: Js<'_>, loaded: Option<&Loaded>, fields: &[(Key, napi_value)]) -> Outcome<napi_value> {
        let generation = loaded.map_or(0.0, |loaded| loaded.generation as f64);
        let building = |status| napi_failure(js, status, "listing for index.js");
        let object = js.object().map_err(building)?;
        let generation = js.number_value(generation).map_err(building)?;
        js.define(object, &[(Key::Text(c"generation"), generation)]).map_err(building)?;
        js.define(object, fields).map_err(building)?;
        Ok(object)
    }

    /// `constants(now)` (internal, for `index.js`): `{ generation, since, until, flags }`,
    /// where `flags` lists the flags whose result is the same for every context at `now`
    /// (core's `Snapshot::constants`) as `[key, type, since, until, result, attributes, …]`:
    /// `type` is `null` for a flag that failed to load; `since` and `until` bound the
    /// instants (ms) over which the result holds; `result` is the result object `evaluate`
    /// gives, with `null` as the default; `attributes` is what the flag reads
    /// (`attributesRead`), which a call must still pass when some value of its context
    /// needs checking. The outer `since` and `until` bound the instants over which the list
    /// itself stays the same. Bounds are `±Infinity` when open, rounded inwards to numbers
    /// JS compares exactly. `flags` is empty before the first load.
    pub(crate) fn constants_js(&self, js: Js<'_>, [now]: [napi_value; 1]) -> Outcome<napi_value> {
        let building = |status| napi_failure(js, status, "listing the constant flags");
        let now = now_arg(js, now)?;
        let mut items = Vec::new();
        let mut table = pennon_core::Constancy::FOREVER;
        let loaded = self.holder.current();
        if let Some(snapshot) = loaded.as_deref().map(|loaded| &*loaded.snapshot) {
            let builder = cache::result_builder(js).map_err(building)?;
            let null = js.null().map_err(building)?;
            let revision = Some(snapshot.revision());
            let constants = snapshot.constants(now);
            table = constants.constancy;
            for constant in constants.flags {
                let kind = match constant.flag_type {
                    Some(kind) => js.str_value(kind.as_str()).map_err(building)?,
                    None => null,
                };
                let (since, until) = bounds(js, constant.constancy).map_err(building)?;
                let read = snapshot.attributes_read(constant.key);
                let attributes = array(js, read.iter().map(|name| js.str_value(name)))?;
                items.push(js.str_value(constant.key).map_err(building)?);
                items.push(kind);
                items.push(since);
                items.push(until);
                items.push(result_object(js, builder, &constant.evaluation, null, revision).map_err(building)?);
                items.push(attributes);
            }
        }
        let flags = array(js, items.into_iter().map(Ok))?;
        let (since, until) = bounds(js, table).map_err(building)?;
        Engine::with_generation(
            js,
            loaded.as_deref(),
            &[(Key::Text(c"since"), since), (Key::Text(c"until"), until), (Key::Text(c"flags"), flags)],
        )
    }
}

/// A JS array of `items`.
fn array(js: Js<'_>, items: impl ExactSizeIterator<Item = NapiResult<napi_value>>) -> Outcome<napi_value> {
    let building = |status| napi_failure(js, status, "building an array");
    let array = js.array(items.len()).map_err(building)?;
    for (index, item) in items.enumerate() {
        let index = u32::try_from(index).map_err(|_| Failure::internal("too many items for an array"))?;
        js.set_element(array, index, item.map_err(building)?).map_err(building)?;
    }
    Ok(array)
}

/// A span's ends as JS numbers that never widen it: integers beyond ±2^53 are not all
/// representable, so a bound out there is moved inwards (or made unreachable).
fn bounds(js: Js<'_>, span: pennon_core::Constancy) -> NapiResult<(napi_value, napi_value)> {
    const EXACT: Millis = 1 << 53;
    let since = match span.since {
        None => f64::NEG_INFINITY,
        Some(since) if since > EXACT => f64::INFINITY,
        Some(since) => since.max(-EXACT) as f64,
    };
    let until = match span.until {
        None => f64::INFINITY,
        Some(until) if until < -EXACT => f64::NEG_INFINITY,
        Some(until) => until.min(EXACT) as f64,
    };
    Ok((js.number_value(since)?, js.number_value(until)?))
}

/// The context argument of an evaluation.
#[derive(Clone, Copy)]
pub(crate) enum ContextArg<'a> {
    /// The caller's context value, converted whole.
    Object(napi_value),
    /// `index.js` flattened the context into `key, value` pairs: the attributes the flag
    /// reads and every attribute whose value needs checking (`docs/bindings.md`), for the
    /// snapshot of `generation`.
    Pairs {
        /// `key, value, key, value…`.
        pairs: &'a [napi_value],
        /// The generation the attribute lists came from (`attributesRead`).
        generation: f64,
    },
}

impl ContextArg<'_> {
    /// Converts the context, or says why it cannot be.
    fn convert<'s>(self, js: Js<'s>, spare: &'s Spare) -> Result<Context, String> {
        let converter = Converter::new(js, MAX_CONTEXT_DEPTH).with_spare(spare);
        let converted = match self {
            // An omitted or `null` context is the empty context (tests/conformance/arguments.json).
            ContextArg::Object(context) if matches!(js.kind(context), Ok(Kind::Undefined | Kind::Null)) => {
                return Ok(Context::new());
            }
            ContextArg::Object(context) => converter.object(context),
            ContextArg::Pairs { pairs, .. } => converter.pairs(pairs),
        };
        converted.map(Context::from_map).map_err(|problem| match problem.shared_problem() {
            Some(shared) => shared.message(),
            None => format!("the context cannot be converted: {}", problem.message("the context")),
        })
    }
}

/// The options of `evaluate`.
struct EvaluateOptions {
    expected: Option<FlagType>,
    default: Option<napi_value>,
    now: Option<napi_value>,
}

impl EvaluateOptions {
    fn read(js: Js<'_>, options: napi_value) -> Outcome<Self> {
        let reading = |status| napi_failure(js, status, "reading the options");
        let mut read = EvaluateOptions { expected: None, default: None, now: None };
        match js.kind(options).map_err(reading)? {
            Kind::Undefined | Kind::Null => return Ok(read),
            Kind::Object => {}
            other => return Err(Failure::argument(format!("the options must be an object, not {}", other.describe()))),
        }
        let field = |name: &std::ffi::CStr| -> Outcome<Option<napi_value>> {
            let value = js.named(options, name).map_err(reading)?;
            match js.kind(value).map_err(reading)? {
                Kind::Undefined => Ok(None),
                _ => Ok(Some(value)),
            }
        };
        if let Some(kind) = field(c"type")? {
            read.expected = flag_type(js, kind)?;
        }
        read.default = field(c"default")?;
        read.now = field(c"now")?;
        Ok(read)
    }
}

/// What a JS value is, in the words of the argument rules (`pennon_host::args`).
fn arg_kind(js: Js<'_>, value: napi_value, doing: &str) -> Outcome<ArgKind> {
    let kind = js.kind(value).map_err(|status| napi_failure(js, status, doing))?;
    Ok(match kind {
        Kind::Undefined => ArgKind::Undefined,
        Kind::Null => ArgKind::Null,
        Kind::Boolean => ArgKind::Boolean,
        Kind::Number => ArgKind::Number,
        Kind::String => ArgKind::String,
        Kind::Object if js.is_array(value).map_err(|status| napi_failure(js, status, doing))? => ArgKind::Array,
        Kind::Object => ArgKind::Object,
        other => ArgKind::Other(other.describe().into()),
    })
}

/// An outcome object, read as `JSON.stringify` would see it (`pennon_host::outcomes` checks it).
pub(crate) fn outcome_arg(js: Js<'_>, value: napi_value) -> Outcome<outcomes::Outcome> {
    let reading = |status| napi_failure(js, status, "reading the outcome");
    match arg_kind(js, value, "reading the outcome")? {
        ArgKind::Object => {}
        other => return Err(outcomes::outcome_kind_error(other).into()),
    }
    let keys = js.call(value, cache::object_keys(js).map_err(reading)?, &[value]).map_err(reading)?;
    let mut fields = Vec::new();
    for index in 0..js.array_length(keys).map_err(reading)? {
        let key = js.element(keys, index).map_err(reading)?;
        let item = js.property(value, key).map_err(reading)?;
        let field = match arg_kind(js, item, "reading the outcome")? {
            ArgKind::Boolean => outcomes::Field::Boolean(js.boolean(item).map_err(reading)?),
            ArgKind::Number => outcomes::Field::Number(js.number(item).map_err(reading)?),
            other => outcomes::Field::Other(other),
        };
        fields.push((js.string(key).map_err(reading)?, field));
    }
    let fields = fields.iter().map(|(name, field)| (name.as_str(), field.clone()));
    Ok(outcomes::outcome_from_fields(fields, outcomes::LATENCY_KEY)?)
}

/// `type`: a type name (`any` for no check), or `null`/`undefined` for no type check.
fn flag_type(js: Js<'_>, value: napi_value) -> Outcome<Option<FlagType>> {
    match arg_kind(js, value, "reading the type")? {
        ArgKind::Null | ArgKind::Undefined => Ok(None),
        ArgKind::String => {
            let name = js.string(value).map_err(|status| napi_failure(js, status, "reading the type"))?;
            Ok(args::flag_type(&name)?)
        }
        other => Err(args::flag_type_kind_error(other).into()),
    }
}

/// The flag key must be a string (a programmer error otherwise).
fn check_flag(js: Js<'_>, flag: napi_value) -> Outcome<()> {
    match js.kind(flag) {
        Ok(Kind::String) => Ok(()),
        Ok(_) => Err(args::flag_key_error(arg_kind(js, flag, "reading the flag key")?).into()),
        Err(status) => Err(napi_failure(js, status, "reading the flag key")),
    }
}

/// A typed getter's default must have the getter's type.
fn check_default(js: Js<'_>, expected: FlagType, default: napi_value) -> Outcome<()> {
    Ok(args::check_default(expected, arg_kind(js, default, "reading the default")?)?)
}

/// `now`: ms since the Unix epoch (fractions are floored), or the host clock when absent.
fn now_arg(js: Js<'_>, value: napi_value) -> Outcome<Millis> {
    match arg_kind(js, value, "reading now")? {
        ArgKind::Undefined | ArgKind::Null => Ok(clock::now()),
        ArgKind::Number => {
            let now = js.number(value).map_err(|status| napi_failure(js, status, "reading now"))?;
            Ok(args::now_from_number(now)?)
        }
        other => Err(args::now_kind_error(other).into()),
    }
}

/// A revision as a JS number (exact up to 2^53).
fn revision_number(revision: u64) -> f64 {
    revision as f64
}

/// Compiles the argument of `load`.
fn compile(js: Js<'_>, snapshot: napi_value) -> Outcome<Snapshot> {
    let reading = |status| napi_failure(js, status, "reading the snapshot");
    match js.kind(snapshot).map_err(reading)? {
        Kind::String => {
            let text = js.string(snapshot).map_err(reading)?;
            Ok(Snapshot::from_json(&text)?)
        }
        Kind::Object => {
            let value = Converter::new(js, MAX_SNAPSHOT_DEPTH).value(snapshot).map_err(|problem| Failure {
                code: ErrorCode::InvalidJson,
                path: problem.path(),
                message: format!(
                    "the snapshot object is not representable as JSON: {}",
                    problem.message("the snapshot")
                ),
            })?;
            let value = value.unwrap_or(pennon_core::Value::Null);
            Ok(pennon_host::load_document(&value)?)
        }
        _ => Err(args::snapshot_kind_error(arg_kind(js, snapshot, "reading the snapshot")?).into()),
    }
}

/// `[{code, path, message}]`.
fn warnings(js: Js<'_>, warnings: &[pennon_core::Error]) -> NapiResult<napi_value> {
    let array = js.array(warnings.len())?;
    for (index, warning) in warnings.iter().enumerate() {
        let object = js.object()?;
        js.define(
            object,
            &[
                (Key::Text(c"code"), js.str_value(warning.code.as_str())?),
                (Key::Text(c"path"), js.str_value(&warning.path)?),
                (Key::Text(c"message"), js.str_value(&warning.message)?),
            ],
        )?;
        js.set_element(array, u32::try_from(index).unwrap_or(u32::MAX), object)?;
    }
    Ok(array)
}

/// The canonical result object (`docs/snapshot-format.md` §4): all ten fields, `null`
/// included; `value` is `default` (the caller's own JS value) on error. `builder` is
/// [`cache::result_builder`].
fn result_object(
    js: Js<'_>,
    builder: napi_value,
    evaluation: &Evaluation<'_>,
    default: napi_value,
    revision: Option<u64>,
) -> NapiResult<napi_value> {
    let null = js.null()?;
    let value = match evaluation.value {
        Some(value) => js::to_js(js, value)?,
        None => default,
    };
    let stage = match evaluation.stage {
        Some(stage) => js.number_value(f64::from(stage))?,
        None => null,
    };
    let (error_code, error_message) = match &evaluation.error {
        Some(error) => (js.str_value(error.code.as_str())?, js.str_value(&error.message)?),
        None => (null, null),
    };
    let revision = match revision {
        Some(revision) => js.number_value(revision_number(revision))?,
        None => null,
    };
    let metadata = match evaluation.flag_metadata {
        Some(metadata) => js::map_to_js(js, metadata)?,
        None => null,
    };
    let fields = [
        value,
        js.opt_str_value(evaluation.variant)?,
        js.str_value(evaluation.reason.as_str())?,
        js.opt_str_value(evaluation.rule_id)?,
        stage,
        js.opt_str_value(evaluation.shadow_variant)?,
        error_code,
        error_message,
        revision,
        metadata,
    ];
    js.call(null, builder, &fields)
}

/// Snapshots shared between threads: handle → the snapshot, held weakly so that a handle
/// lives exactly as long as some engine holds its snapshot.
struct SharedSnapshots {
    entries: Mutex<SharedEntries>,
}

/// The next handle, and the live (handle, snapshot) pairs.
struct SharedEntries {
    next: u32,
    entries: Vec<(u32, Weak<Snapshot>)>,
}

static SHARED: SharedSnapshots =
    SharedSnapshots { entries: Mutex::new(SharedEntries { next: 1, entries: Vec::new() }) };

impl SharedSnapshots {
    fn share(&self, snapshot: &Arc<Snapshot>) -> u32 {
        let mut guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let SharedEntries { next, entries } = &mut *guard;
        entries.retain(|(_, weak)| weak.strong_count() > 0);
        if let Some((id, _)) = entries.iter().find(|(_, weak)| std::ptr::eq(weak.as_ptr(), Arc::as_ptr(snapshot))) {
            return *id;
        }
        let id = *next;
        *next = next.checked_add(1).unwrap_or(1);
        entries.push((id, Arc::downgrade(snapshot)));
        id
    }

    fn get(&self, id: u32) -> Option<Arc<Snapshot>> {
        let guard = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        guard.entries.iter().find(|(known, _)| *known == id).and_then(|(_, weak)| weak.upgrade())
    }
}

/// Every code of core's `ErrorCode::ALL`, in core's order, as `PennonError.code` carries
/// it (the tests compare it with `errorCodes()`, the codes this package maps).
#[napi(js_name = "coreErrorCodes", ts_return_type = "Array<ErrorCode>")]
pub fn core_error_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|code| code.as_str()).collect()
}

/// The class (`SnapshotError`, `ContextError`, `ArgumentError` or `InternalError`) an
/// error with this code is thrown as, chosen by `ErrorCode::category()`; `null` for a code
/// core does not know.
#[napi(js_name = "errorClassName", ts_return_type = "ErrorClassName | null")]
pub fn error_class_name(code: String) -> Option<&'static str> {
    ErrorCode::from_code(&code).map(|code| code.category().class_name())
}

/// The bucket (0 … 99 999) of `unit` under `salt`, as rollouts and splits compute it.
#[napi]
pub fn bucket(salt: String, unit: String) -> u32 {
    bucket::bucket(&salt, &unit)
}

/// `XXH3_64(seed 0, salt ++ ":" ++ unit)` as a decimal string (a u64 does not fit a JS
/// number).
#[napi(js_name = "bucketHash")]
pub fn bucket_hash(salt: String, unit: String) -> String {
    bucket::hash(&salt, &unit).to_string()
}

/// @internal Registers the error classes `index.js` defines, so that errors are thrown as
/// their instances; `index.js` calls it once per thread.
#[napi(
    js_name = "registerErrorClasses",
    ts_args_type = "classes: { SnapshotError: Function, ContextError: Function, ArgumentError: Function, InternalError: Function }"
)]
pub fn register_error_classes(env: &Env, classes: Object<'_>) -> napi::Result<()> {
    guard(env, |js| {
        let mut constructors = [std::ptr::null_mut(); 4];
        for (slot, name) in
            constructors.iter_mut().zip([c"SnapshotError", c"ContextError", c"ArgumentError", c"InternalError"])
        {
            let reading = |status| napi_failure(js, status, "reading the error classes");
            let class = js.named(classes.raw(), name).map_err(reading)?;
            if js.kind(class).map_err(reading)? != Kind::Function {
                return Err(Failure::argument(format!("{} must be a class", name.to_string_lossy())));
            }
            *slot = class;
        }
        cache::set_error_classes(js, constructors).map_err(|status| napi_failure(js, status, "registering"))
    })
}

/// @internal Panics on purpose, so that the tests can check that a panic reaches JS as an
/// `InternalError` and never aborts the process. Not part of the API.
#[doc(hidden)]
#[napi(js_name = "__panicForTests")]
pub fn panic_for_tests(env: &Env) -> napi::Result<()> {
    // A real panic: the guard must catch it and keep the panic hook quiet.
    #[allow(clippy::panic)] // The point of this hook.
    guard(env, |_| -> Outcome<()> { panic!("deliberate panic for the test suite") })
}

/// Module initialisation (per thread): prepares this environment's helpers and installs
/// the fast paths of the hot methods (`fast` module).
#[napi(module_exports)]
pub fn init(exports: Object<'_>, env: Env) -> napi::Result<()> {
    let js = Js::new(&env);
    cache::prepare(js).and_then(|()| fast::install(js, exports.raw())).map_err(|status| {
        napi::Error::new(
            napi::Status::GenericFailure,
            format!("pennon-node could not initialise (Node-API status {})", status.0),
        )
    })
}
