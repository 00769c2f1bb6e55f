//! Loading: parse → validate → compile a snapshot into an immutable plan.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::hash::BuildHasherDefault;
use hashbrown::HashMap;
use rustc_hash::FxHasher;
use serde_json::{Map, Value};

use crate::decode::{self, Obj, Path};
use crate::error::{Error, ErrorCode};
use crate::flag::{Flag, FlagIds};
use crate::graph;
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
    pub(crate) flags: Box<[Result<Flag, Error>]>,
    index: HashMap<Box<str>, u32, BuildHasherDefault<FxHasher>>,
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
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::new(ErrorCode::InvalidJson, "", format!("the snapshot is not JSON: {e}")))?;
        Snapshot::from_value(&value)
    }

    /// Compiles an already parsed snapshot document.
    pub fn from_value(value: &Value) -> Result<Snapshot, Error> {
        let invalid = |path: &str, message: &str| Error::new(ErrorCode::InvalidSnapshot, path, message);
        let Value::Object(top) = value else { return Err(invalid("", "a snapshot is a JSON object")) };
        match top.get("schemaVersion") {
            Some(Value::Number(n)) if n.as_u64() == Some(SCHEMA_VERSION) => {}
            Some(other) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedSchemaVersion,
                    "schemaVersion",
                    format!("this engine reads schemaVersion {SCHEMA_VERSION}, not {}", decode::show(other)),
                ));
            }
            None => {
                return Err(Error::new(
                    ErrorCode::UnsupportedSchemaVersion,
                    "schemaVersion",
                    "`schemaVersion` is required",
                ));
            }
        }
        let revision = top
            .get("revision")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid("revision", "`revision` must be an integer ≥ 0"))?;
        let flags_map = match top.get("flags") {
            Some(Value::Object(flags)) => flags,
            _ => return Err(invalid("flags", "`flags` must be an object")),
        };
        let segments_map = match top.get("segments") {
            None | Some(Value::Null) => None,
            Some(Value::Object(segments)) => Some(segments),
            Some(_) => return Err(invalid("segments", "`segments` must be an object")),
        };

        let mut warnings = Vec::new();
        let root_obj = Obj::new(value, Path::Root)?;
        let (generated_at, environment) = top_level_metadata(&root_obj, &mut warnings);

        let segments = SegmentTable::decode(segments_map);

        let mut keys: Vec<&str> = flags_map.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let flag_ids: FlagIds = keys.iter().enumerate().map(|(id, key)| (Box::<str>::from(*key), id as u32)).collect();
        let root = Path::Root;
        let flags_path = root.key("flags");
        let mut prerequisite_warnings: Vec<Vec<Error>> = Vec::with_capacity(keys.len());
        let mut flags: Vec<Result<Flag, Error>> = keys
            .iter()
            .map(|key| {
                let mut flag_warnings = Vec::new();
                let flag = match flags_map.get(*key) {
                    Some(value) => {
                        Flag::decode(key, value, &flags_path.key(key), &segments, &flag_ids, &mut flag_warnings)
                    }
                    None => Err(flags_path.key(key).error(ErrorCode::MissingField, "flag vanished")),
                };
                prerequisite_warnings.push(flag_warnings);
                flag
            })
            .collect();
        reject_prerequisite_cycles(&mut flags, &keys);

        for (flag, flag_warnings) in flags.iter().zip(prerequisite_warnings) {
            match flag {
                Ok(_) => warnings.extend(flag_warnings),
                Err(error) => warnings.push(error.clone()),
            }
        }
        warnings.extend(segments.errors().cloned());

        let index = keys.iter().enumerate().map(|(id, key)| (Box::<str>::from(*key), id as u32)).collect();
        Ok(Snapshot {
            revision,
            environment,
            generated_at,
            keys: keys.into_iter().map(Box::from).collect(),
            flags: flags.into(),
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

    /// The type of a valid flag.
    pub fn flag_type(&self, key: &str) -> Option<FlagType> {
        self.flag(key).and_then(|(_, flag)| flag.as_ref().ok()).map(|flag| flag.kind)
    }

    pub(crate) fn flag(&self, key: &str) -> Option<(u32, &Result<Flag, Error>)> {
        let id = *self.index.get(key)?;
        self.flags.get(id as usize).map(|flag| (id, flag))
    }
}

/// Reads `generatedAt` and `environment`; problems there (and unknown top-level fields)
/// are warnings, never failures: they cannot change an answer.
fn top_level_metadata(root: &Obj<'_>, warnings: &mut Vec<Error>) -> (Option<Millis>, Option<String>) {
    for field in root.unknown_fields(TOP_LEVEL_FIELDS) {
        warnings.push(Error::new(ErrorCode::UnknownField, field, format!("unknown top-level field `{field}` ignored")));
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

/// Flags on a prerequisite cycle or with chains deeper than [`graph::MAX_DEPTH`] become invalid.
fn reject_prerequisite_cycles(flags: &mut [Result<Flag, Error>], keys: &[&str]) {
    let edges: Vec<Vec<u32>> =
        flags.iter().map(|flag| flag.as_ref().map(Flag::prerequisite_ids).unwrap_or_default()).collect();
    let analysis = graph::analyze(&edges);
    let root = Path::Root;
    let flags_path = root.key("flags");
    for (id, (flag, key)) in flags.iter_mut().zip(keys).enumerate() {
        if flag.is_err() {
            continue;
        }
        let path = flags_path.key(key);
        let prerequisites_path = path.key("prerequisites");
        if analysis.on_cycle.get(id).copied().unwrap_or(false) {
            let cycle = cycle_through(id, &edges, &analysis.on_cycle, keys);
            *flag =
                Err(prerequisites_path
                    .error(ErrorCode::PrerequisiteCycle, format!("prerequisites form a cycle: {cycle}")));
        } else if analysis.depth.get(id).copied().unwrap_or(0) > graph::MAX_DEPTH {
            *flag = Err(prerequisites_path
                .error(ErrorCode::DepthExceeded, format!("prerequisite chain deeper than {}", graph::MAX_DEPTH)));
        }
    }
}

/// `a → b → a`, following cycle members from `start`.
fn cycle_through(start: usize, edges: &[Vec<u32>], on_cycle: &[bool], keys: &[&str]) -> String {
    let mut names = Vec::new();
    let mut node = start;
    let mut seen = Vec::new();
    loop {
        names.push(keys.get(node).copied().unwrap_or("?"));
        seen.push(node);
        let next = edges
            .get(node)
            .and_then(|out| out.iter().map(|&n| n as usize).find(|&n| on_cycle.get(n).copied().unwrap_or(false)));
        match next {
            Some(next) if !seen.contains(&next) => node = next,
            Some(next) => {
                names.push(keys.get(next).copied().unwrap_or("?"));
                break;
            }
            None => break,
        }
    }
    names.join(" → ")
}

/// The flag metadata map type, re-exported for bindings.
pub type Metadata = Map<String, Value>;
