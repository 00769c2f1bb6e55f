//! Loading: parse → validate → compile a snapshot into an immutable plan.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::hash::BuildHasherDefault;
use hashbrown::HashMap;
use once_cell::race::OnceBox;
use rustc_hash::FxHasher;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::changes::Fingerprinter;
use crate::decode::{self, Obj, Path};
use crate::definition::Definition;
use crate::error::{Error, ErrorCode};
use crate::flag::{Flag, FlagIds, FlagTable};
use crate::graph;
use crate::reads::AttributeNames;
use crate::result::FlagType;
use crate::segment::SegmentTable;
use crate::time::Millis;

/// The schema version this engine reads.
pub const SCHEMA_VERSION: u64 = 1;

const TOP_LEVEL_FIELDS: &[&str] =
    &["schemaVersion", "revision", "generatedAt", "environment", "metadata", "segments", "flags"];

/// A compiled, immutable snapshot: every flag and segment of one environment at one
/// revision, ready for evaluation. Share it freely between threads.
#[derive(Debug)]
pub struct Snapshot {
    pub(crate) revision: u64,
    environment: Option<String>,
    generated_at: Option<Millis>,
    /// Sorted by key; indices are flag ids.
    pub(crate) keys: Box<[Box<str>]>,
    /// Indexed by flag id; invalid flags keep their load error.
    pub(crate) flags: Box<FlagTable>,
    /// Indexed by flag id: a fingerprint of each definition, for
    /// [`Snapshot::changed_flags`].
    pub(crate) fingerprints: Box<[u64]>,
    index: HashMap<Box<str>, u32, BuildHasherDefault<FxHasher>>,
    /// Indexed by flag id: the attributes each flag reads, computed on first use
    /// ([`Snapshot::attributes_read`]).
    pub(crate) reads: Box<[OnceBox<AttributeNames>]>,
    pub(crate) segments: SegmentTable,
    warnings: Vec<Error>,
}

impl Snapshot {
    /// Parses, validates and compiles snapshot JSON.
    ///
    /// Fails as a whole only when the document is not a snapshot at all (not JSON, no valid
    /// `schemaVersion`, `revision` or `flags`); an invalid flag or segment loads as an
    /// entry that evaluates to an error and is listed in [`Snapshot::warnings`].
    ///
    /// ```
    /// use pennon_core::{Context, Snapshot};
    ///
    /// let snapshot = Snapshot::from_json(r#"{
    ///   "schemaVersion": 1, "revision": 7,
    ///   "flags": { "dark-mode": { "type": "boolean", "state": "on",
    ///     "variants": { "on": true, "off": false }, "offVariant": "off",
    ///     "fallthrough": { "variant": "on" } } }
    /// }"#)?;
    /// let user = Context::with_targeting_key("user-1");
    /// assert!(snapshot.boolean("dark-mode", &user, 0, false));
    /// assert_eq!(snapshot.revision(), 7);
    /// # Ok::<(), pennon_core::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<Snapshot, Error> {
        // Split the document into its parts as raw text (validated while being split off;
        // serde's error category tells bad JSON from JSON that is not an object). Each flag
        // and segment is then parsed, compiled and dropped in turn, so loading never holds
        // the whole document as a tree.
        let top: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(|error| {
            // A type error can come before a syntax error (`[1`): only JSON is "not an object".
            let syntax = match error.classify() {
                serde_json::error::Category::Data => serde_json::from_str::<&RawValue>(text).err(),
                _ => Some(error),
            };
            match syntax {
                Some(e) => Error::new(ErrorCode::InvalidJson, "", format!("the snapshot is not JSON: {e}")),
                None => invalid_snapshot("", "a snapshot is a JSON object"),
            }
        })?;
        let mut head = Map::new();
        let (mut flags, mut segments) = (None, None);
        for (key, raw) in top {
            match key.as_str() {
                "flags" => flags = Some(raw),
                "segments" => segments = Some(raw),
                _ => {
                    head.insert(key, parse_raw(raw)?);
                }
            }
        }
        fn raw_entries<'t>(raw: &'t RawValue, field: &str) -> Result<Vec<(String, Definition<'t>)>, Error> {
            serde_json::from_str::<BTreeMap<String, &RawValue>>(raw.get())
                .map(|entries| entries.into_iter().map(|(key, raw)| (key, Definition::Raw(raw))).collect())
                .map_err(|_| invalid_snapshot(&format!("/{field}"), &format!("`{field}` must be an object")))
        }
        Snapshot::compile(
            head,
            |_| flags.map(|raw| raw_entries(raw, "flags")),
            |_| match segments {
                Some(raw) if raw.get() != "null" => raw_entries(raw, "segments").map(Some),
                _ => Ok(None),
            },
        )
    }

    /// Compiles an already parsed snapshot document (for hosts that hand over objects).
    pub fn from_value(value: &Value) -> Result<Snapshot, Error> {
        let Value::Object(top) = value else { return Err(invalid_snapshot("", "a snapshot is a JSON object")) };
        let head: Map<String, Value> = top
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "flags" | "segments"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        fn tree_entries(map: &Map<String, Value>) -> Vec<(String, Definition<'_>)> {
            let mut entries: Vec<(String, Definition<'_>)> =
                map.iter().map(|(key, value)| (key.clone(), Definition::Tree(value))).collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            entries
        }
        Snapshot::compile(
            head,
            |_| match top.get("flags") {
                Some(Value::Object(flags)) => Some(Ok(tree_entries(flags))),
                Some(_) => Some(Err(invalid_snapshot("/flags", "`flags` must be an object"))),
                None => None,
            },
            |_| match top.get("segments") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(segments)) => Ok(Some(tree_entries(segments))),
                Some(_) => Err(invalid_snapshot("/segments", "`segments` must be an object")),
            },
        )
    }

    /// Validates the top level, then decodes segments and flags one at a time. `flags` and
    /// `segments` are asked for only after the top-level checks, in the documented order.
    fn compile<'a>(
        head: Map<String, Value>,
        flags: impl FnOnce(()) -> Option<Result<Vec<(String, Definition<'a>)>, Error>>,
        segments: impl FnOnce(()) -> Result<Option<Vec<(String, Definition<'a>)>>, Error>,
    ) -> Result<Snapshot, Error> {
        match head.get("schemaVersion") {
            Some(Value::Number(n)) if n.as_u64() == Some(SCHEMA_VERSION) => {}
            Some(other) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedSchemaVersion,
                    "/schemaVersion",
                    format!("this engine reads schemaVersion {SCHEMA_VERSION}, not {}", decode::show(other)),
                ));
            }
            None => {
                return Err(Error::new(
                    ErrorCode::UnsupportedSchemaVersion,
                    "/schemaVersion",
                    "`schemaVersion` is required",
                ));
            }
        }
        let revision = head
            .get("revision")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid_snapshot("/revision", "`revision` must be an integer ≥ 0"))?;
        let flag_entries = flags(()).unwrap_or_else(|| Err(invalid_snapshot("/flags", "`flags` must be an object")))?;
        let segment_entries = segments(())?;

        let mut warnings = Vec::new();
        let head = Value::Object(head);
        let (generated_at, environment) = top_level_metadata(&Obj::new(&head, Path::Root)?, &mut warnings);

        let mut fingerprinter = Fingerprinter::default();
        let segments = SegmentTable::decode(segment_entries.unwrap_or_default(), &mut fingerprinter);

        let (keys, definitions): (Vec<String>, Vec<Definition<'_>>) = flag_entries.into_iter().unzip();
        let flag_ids: FlagIds<'_> = keys.iter().enumerate().map(|(id, key)| (key.as_str(), id as u32)).collect();
        let root = Path::Root;
        let flags_path = root.key("flags");
        let mut prerequisite_warnings: Vec<Vec<Error>> = Vec::with_capacity(keys.len());
        let mut fingerprints: Vec<u64> = Vec::with_capacity(keys.len());
        let mut flags: Vec<Result<Flag, Error>> = keys
            .iter()
            .zip(definitions)
            .map(|(key, definition)| {
                let path = flags_path.key(key);
                let mut flag_warnings = Vec::new();
                let flag = definition
                    .into_fingerprinted_value(&path, &mut fingerprinter, &mut fingerprints)
                    .and_then(|value| Flag::decode(key, value, &path, &segments, &flag_ids, &mut flag_warnings));
                prerequisite_warnings.push(flag_warnings);
                flag
            })
            .collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        reject_prerequisite_cycles(&mut flags, &key_refs);

        for (flag, flag_warnings) in flags.iter().zip(prerequisite_warnings) {
            match flag {
                Ok(_) => warnings.extend(flag_warnings),
                Err(error) => warnings.push(error.clone()),
            }
        }
        warnings.extend(segments.errors().cloned());

        let index = keys.iter().enumerate().map(|(id, key)| (Box::<str>::from(key.as_str()), id as u32)).collect();
        Ok(Snapshot {
            revision,
            environment,
            generated_at,
            keys: keys.into_iter().map(String::into_boxed_str).collect(),
            reads: flags.iter().map(|_| OnceBox::new()).collect(),
            flags: flags.into(),
            fingerprints: fingerprints.into(),
            index,
            segments,
            warnings,
        })
    }

    /// The snapshot's revision.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The snapshot's `environment`, if set.
    pub fn environment(&self) -> Option<&str> {
        self.environment.as_deref()
    }

    /// The snapshot's `generatedAt` in ms since the Unix epoch, if set.
    pub fn generated_at(&self) -> Option<Millis> {
        self.generated_at
    }

    /// Problems found while loading: invalid flags and segments, unknown prerequisites,
    /// unknown top-level fields. Top-level warnings come first, then flags, then segments,
    /// each sorted by key.
    pub fn warnings(&self) -> &[Error] {
        &self.warnings
    }

    /// Every flag key, sorted.
    pub fn flag_keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.keys.iter().map(|k| &**k)
    }

    /// The key of the flag at `index` in [`Snapshot::flag_keys`] (an [`Evaluation`]'s
    /// [`Slot::flag`](crate::Slot)).
    ///
    /// [`Evaluation`]: crate::Evaluation
    pub fn flag_key_at(&self, index: u32) -> Option<&str> {
        self.keys.get(index as usize).map(|key| &**key)
    }

    /// The variant names of the flag at `index`, sorted: a [`Slot::variant`](crate::Slot)
    /// indexes them. Empty for an invalid flag or an index out of range.
    pub fn variant_names(&self, index: u32) -> impl ExactSizeIterator<Item = &str> {
        let variants = match self.flags.get(index as usize) {
            Some(Ok(flag)) => &flag.variants[..],
            _ => &[],
        };
        variants.iter().map(|(name, _)| &**name)
    }

    /// The type of a valid flag.
    pub fn flag_type(&self, key: &str) -> Option<FlagType> {
        self.flag(key).and_then(|flag| flag.as_ref().ok()).map(|flag| flag.kind)
    }

    /// Where a valid flag's cohorts stand at `now`: its canary gate (`canary`, when it has
    /// one) and its fallthrough rollout (`fallthrough`, when the fallthrough is a
    /// percentage rollout), as `{canary, fallthrough}` with each a
    /// [`Standing`](crate::Standing) in JSON or null. `None` for an unknown or invalid flag.
    ///
    /// ```
    /// use pennon_core::Snapshot;
    ///
    /// let snapshot = Snapshot::from_json(r#"{"schemaVersion": 1, "revision": 1, "flags": {
    ///   "checkout": {"type": "boolean", "state": "canary", "offVariant": "off",
    ///     "variants": {"on": true, "off": false}, "fallthrough": {"variant": "on"},
    ///     "canary": {"progressive": {"start": "2026-01-01T00:00:00Z", "stages": [
    ///       {"percentage": 10, "duration": "PT1H"}, {"percentage": 50}]}}}}}"#).unwrap();
    /// let at = pennon_core::time::parse_timestamp("2026-01-01T02:00:00Z").unwrap();
    /// let standing = snapshot.standing("checkout", at).unwrap();
    /// assert_eq!(standing["canary"]["percentage"], 50.0);
    /// assert_eq!((&standing["canary"]["stage"], &standing["canary"]["stages"]), (&1.into(), &2.into()));
    /// assert!(standing["fallthrough"].is_null());
    /// ```
    pub fn standing(&self, key: &str, now: Millis) -> Option<Value> {
        let flag = self.flag(key)?.as_ref().ok()?;
        let fallthrough = match &flag.fallthrough {
            crate::flag::Serve::Rollout { cohort, .. } => Some(cohort.standing(now).to_json()),
            _ => None,
        };
        let canary = flag.canary.as_ref().map(|cohort| cohort.standing(now).to_json());
        Some(serde_json::json!({ "canary": canary, "fallthrough": fallthrough }))
    }

    /// The share of units (0–1) the fallthrough of a valid flag gives each variant at `now`:
    /// a split's weights, or a percentage rollout's cohort (at its stage or point on the
    /// ramp) and the rest. A variant named twice in a split appears twice. `None` for an
    /// unknown or invalid flag and for a fallthrough that serves one variant. Experiment
    /// results check exposures against these shares (sample-ratio mismatch).
    ///
    /// ```
    /// use pennon_core::Snapshot;
    ///
    /// let snapshot = Snapshot::from_json(r#"{"schemaVersion": 1, "revision": 1, "flags": {
    ///   "copy": {"type": "string", "state": "on", "offVariant": "a",
    ///     "variants": {"a": "A", "b": "B"},
    ///     "fallthrough": {"split": {"variants": [{"variant": "a", "weight": 70}, {"variant": "b", "weight": 30}]}}}}}"#).unwrap();
    /// assert_eq!(snapshot.fallthrough_shares("copy", 0), Some(vec![("a", 0.7), ("b", 0.3)]));
    /// ```
    pub fn fallthrough_shares(&self, key: &str, now: Millis) -> Option<Vec<(&str, f64)>> {
        let flag = self.flag(key)?.as_ref().ok()?;
        let name = |index: u32| flag.variants.get(index as usize).map_or("", |(name, _)| &**name);
        match &flag.fallthrough {
            crate::flag::Serve::Variant(_) => None,
            crate::flag::Serve::Rollout { cohort, variant, otherwise } => {
                let share = cohort.standing(now).percentage / 100.0;
                Some(alloc::vec![(name(*variant), share), (name(*otherwise), 1.0 - share)])
            }
            crate::flag::Serve::Split(split) => {
                Some(split.shares().map(|(variant, share)| (name(variant), share)).collect())
            }
        }
    }

    pub(crate) fn flag(&self, key: &str) -> Option<&Result<Flag, Error>> {
        self.flags.get(self.flag_id(key)? as usize)
    }

    pub(crate) fn flag_id(&self, key: &str) -> Option<u32> {
        self.index.get(key).copied()
    }

    /// The top-level context attributes that evaluating flag `key` can read, sorted: those
    /// its rules, targets, overrides, canary and rollouts look at, and those of its
    /// segments and prerequisites. Empty for a flag that reads none (a static flag) and
    /// for unknown or invalid flags.
    ///
    /// Evaluating `key` with a context restricted to these attributes gives the same
    /// result as with the whole context, so a binding may convert only them (after
    /// checking that the rest of the host's context is valid: an invalid context is
    /// `INVALID_CONTEXT` whatever the flag reads).
    ///
    /// ```
    /// use pennon_core::Snapshot;
    ///
    /// let snapshot = Snapshot::from_json(r#"{
    ///   "schemaVersion": 1, "revision": 1,
    ///   "flags": { "eu-only": { "type": "boolean", "state": "on",
    ///     "variants": { "on": true, "off": false }, "offVariant": "off",
    ///     "rules": [ { "id": "eu", "serve": { "variant": "on" },
    ///       "when": { "attribute": "country", "op": "in", "values": ["DE", "FR"] } } ],
    ///     "fallthrough": { "variant": "off" } } }
    /// }"#)?;
    /// assert_eq!(snapshot.attributes_read("eu-only"), [Box::from("country")]);
    /// # Ok::<(), pennon_core::Error>(())
    /// ```
    ///
    /// Each flag's list is computed on first use and kept with the snapshot.
    pub fn attributes_read(&self, key: &str) -> &[Box<str>] {
        let Some(id) = self.flag_id(key) else { return &[] };
        let Some(cell) = self.reads.get(id as usize) else { return &[] };
        cell.get_or_init(|| Box::new(Flag::attributes_read(&self.flags, &self.segments, id)))
    }
}

fn parse_raw(raw: &RawValue) -> Result<Value, Error> {
    serde_json::from_str(raw.get())
        .map_err(|e| Error::new(ErrorCode::InvalidJson, "", format!("the snapshot is not JSON: {e}")))
}

fn invalid_snapshot(path: &str, message: &str) -> Error {
    Error::new(ErrorCode::InvalidSnapshot, path, message)
}

/// Reads `generatedAt` and `environment`; problems there (and unknown top-level fields)
/// are warnings, never failures: they cannot change an answer.
fn top_level_metadata(root: &Obj<'_>, warnings: &mut Vec<Error>) -> (Option<Millis>, Option<String>) {
    for field in root.unknown_fields(TOP_LEVEL_FIELDS) {
        let mut path = String::from("/");
        crate::json::push_pointer_token(&mut path, field);
        warnings.push(Error::new(ErrorCode::UnknownField, path, format!("unknown top-level field `{field}` ignored")));
    }
    let generated_at = root
        .opt("generatedAt")
        .and_then(|(value, path)| decode::timestamp(value, &path).map_err(|e| warnings.push(e)).ok());
    let environment = root
        .opt("environment")
        .and_then(|(value, path)| decode::string(value, &path).map(String::from).map_err(|e| warnings.push(e)).ok());
    if let Some((metadata, path)) = root.opt("metadata")
        && !metadata.is_object()
    {
        warnings.push(decode::wrong_type(&path, "an object", metadata));
    }
    (generated_at, environment)
}

/// Flags on a prerequisite cycle or with chains deeper than [`graph::MAX_DEPTH`] become
/// invalid. Each cycle is spelled out once, in the error of its first flag (by key); the
/// other flags of the cycle refer to that flag, so the messages stay linear in size.
fn reject_prerequisite_cycles(flags: &mut FlagTable, keys: &[&str]) {
    let edges: Vec<Vec<u32>> =
        flags.iter().map(|flag| flag.as_ref().map(Flag::prerequisite_ids).unwrap_or_default()).collect();
    let analysis = graph::analyze(&edges);
    let cycles = graph::cycles(&edges, &analysis);
    let key_of = |id: u32| keys.get(id as usize).copied().unwrap_or("?");
    let root = Path::Root;
    let flags_path = root.key("flags");
    for (id, (flag, key)) in flags.iter_mut().zip(keys).enumerate() {
        if flag.is_err() {
            continue;
        }
        let path = flags_path.key(key);
        let prerequisites_path = path.key("prerequisites");
        if let Some(first) = cycles.representative.get(id).copied().flatten() {
            let message = match cycles.paths.get(&first) {
                Some(cycle) if first as usize == id => {
                    let names: Vec<&str> = cycle.iter().map(|&node| key_of(node)).collect();
                    format!("prerequisites form a cycle: {}", names.join(" → "))
                }
                _ => {
                    let first = key_of(first);
                    format!("prerequisites form a cycle through `{first}` (the error of `{first}` names the cycle)")
                }
            };
            *flag = Err(prerequisites_path.error(ErrorCode::PrerequisiteCycle, message));
        } else if analysis.depth.get(id).copied().unwrap_or(0) > graph::MAX_DEPTH {
            *flag = Err(prerequisites_path
                .error(ErrorCode::DepthExceeded, format!("prerequisite chain deeper than {}", graph::MAX_DEPTH)));
        }
    }
}
