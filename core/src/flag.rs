//! A compiled flag: typed variants, state, targeting and what it serves.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use crate::condition::Condition;
use crate::decode::{self, Decoded, Obj, Path};
use crate::error::{Error, ErrorCode};
use crate::reads::{AttributeNames, Reads};
use crate::result::FlagType;
use crate::rollout::{Cohort, Split};
use crate::segment::SegmentTable;
use crate::set::StringSet;
use crate::time::Millis;

/// Lifecycle state of a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Off,
    Shadow,
    Canary,
    On,
    Kill,
}

/// What a rule or the fallthrough serves.
#[derive(Debug)]
pub(crate) enum Serve {
    Variant(u32),
    Rollout { cohort: Cohort, variant: u32, otherwise: u32 },
    Split(Split),
}

impl Serve {
    fn reads<'s>(&'s self, reads: &mut Reads<'s>) {
        match self {
            Serve::Variant(_) => {}
            Serve::Rollout { cohort, .. } => cohort.reads(reads),
            Serve::Split(split) => split.reads(reads),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Override {
    pub(crate) tenant: Box<str>,
    pub(crate) variant: u32,
    pub(crate) expires_at: Option<Millis>,
}

#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) variant: u32,
    pub(crate) users: StringSet,
    pub(crate) groups: StringSet,
    pub(crate) tenants: StringSet,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: Box<str>,
    pub(crate) when: Condition,
    pub(crate) serve: Serve,
}

#[derive(Debug)]
pub(crate) struct Prerequisite {
    /// `None` when the flag is not in the snapshot: never satisfied.
    pub(crate) flag: Option<u32>,
    pub(crate) variants: StringSet,
}

/// A compiled, valid flag.
#[derive(Debug)]
pub(crate) struct Flag {
    pub(crate) kind: FlagType,
    /// Sorted by name; indices are variant ids.
    pub(crate) variants: Box<[(Box<str>, Value)]>,
    pub(crate) state: State,
    pub(crate) off: u32,
    pub(crate) fallthrough: Serve,
    pub(crate) overrides: Box<[Override]>,
    pub(crate) targets: Box<[Target]>,
    pub(crate) rules: Box<[Rule]>,
    pub(crate) prerequisites: Box<[Prerequisite]>,
    pub(crate) window: Option<(Option<Millis>, Option<Millis>)>,
    pub(crate) canary: Option<Cohort>,
    pub(crate) metadata: Option<Map<String, Value>>,
    /// No targeting of any kind: the fallthrough variant is reported as `STATIC`.
    pub(crate) is_static: bool,
}

const FLAG_FIELDS: &[&str] = &[
    "type",
    "variants",
    "state",
    "offVariant",
    "fallthrough",
    "overrides",
    "targets",
    "rules",
    "prerequisites",
    "window",
    "canary",
    "metadata",
];
const STATES: &[&str] = &["off", "shadow", "canary", "on", "kill"];
const TYPES: &[&str] = &["boolean", "string", "number", "object"];

/// Resolves prerequisite flag keys to flag ids.
pub(crate) type FlagIds<'k> = BTreeMap<&'k str, u32>;

/// Every flag of a snapshot, indexed by flag id; invalid flags keep their load error.
pub(crate) type FlagTable = [Result<Flag, Error>];

impl Flag {
    /// Decodes one flag. Prerequisites on unknown flags are reported in `warnings`.
    pub(crate) fn decode(
        key: &str,
        mut value: Value,
        path: &Path<'_>,
        segments: &SegmentTable,
        flag_ids: &FlagIds<'_>,
        warnings: &mut Vec<Error>,
    ) -> Decoded<Flag> {
        if !decode::is_valid_key(key) {
            return Err(decode::invalid_key(path, key));
        }
        // Variant values and metadata move into the plan; everything else is read in place.
        let (variants_value, metadata_value) = match value.as_object_mut() {
            Some(map) => (map.remove("variants"), map.remove("metadata")),
            None => (None, None),
        };
        let obj = Obj::new(&value, *path)?;
        obj.only(FLAG_FIELDS)?;

        let (kind, kind_path) = obj.req("type")?;
        let kind = match decode::string(kind, &kind_path)? {
            "boolean" => FlagType::Boolean,
            "string" => FlagType::String,
            "number" => FlagType::Number,
            "object" => FlagType::Object,
            other => {
                return Err(kind_path.error(
                    ErrorCode::InvalidValue,
                    format!("unknown flag type `{other}`; expected one of {}", decode::one_of(TYPES)),
                ));
            }
        };

        let variants_path = path.key("variants");
        let variant_map = match variants_value {
            None | Some(Value::Null) => {
                return Err(variants_path.error(ErrorCode::MissingField, "`variants` is required"));
            }
            Some(Value::Object(map)) => map,
            Some(other) => return Err(decode::wrong_type(&variants_path, "an object", &other)),
        };
        let mut variants: Vec<(Box<str>, Value)> = Vec::with_capacity(variant_map.len());
        for (name, variant_value) in variant_map {
            let variant_path = variants_path.key(&name);
            if !decode::is_valid_key(&name) {
                return Err(decode::invalid_key(&variant_path, &name));
            }
            if !kind.accepts(&variant_value) {
                return Err(variant_path.error(
                    ErrorCode::VariantTypeMismatch,
                    format!(
                        "variant `{name}` is {}, but the flag's type is {}",
                        decode::show(&variant_value),
                        kind.as_str()
                    ),
                ));
            }
            variants.push((name.into_boxed_str(), variant_value));
        }
        if variants.is_empty() {
            return Err(variants_path.error(ErrorCode::InvalidValue, "a flag needs at least one variant"));
        }
        variants.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let variant = |name: &Value, path: &Path<'_>| -> Decoded<u32> {
            let name = decode::string(name, path)?;
            variants
                .binary_search_by(|(n, _)| (**n).cmp(name))
                .map(|i| i as u32)
                .map_err(|_| path.error(ErrorCode::UnknownVariant, format!("the flag has no variant `{name}`")))
        };

        let (state, state_path) = obj.req("state")?;
        let state = match decode::string(state, &state_path)? {
            "off" => State::Off,
            "shadow" => State::Shadow,
            "canary" => State::Canary,
            "on" => State::On,
            "kill" => State::Kill,
            other => {
                return Err(state_path.error(
                    ErrorCode::InvalidValue,
                    format!("unknown state `{other}`; expected one of {}", decode::one_of(STATES)),
                ));
            }
        };
        let (off, off_path) = obj.req("offVariant")?;
        let off = variant(off, &off_path)?;
        let (fallthrough, fallthrough_path) = obj.req("fallthrough")?;
        let fallthrough = Serve::decode(fallthrough, &fallthrough_path, key, &variant)?;

        let overrides = list(&obj, "overrides", |item, item_path| {
            let entry = Obj::new(item, *item_path)?;
            entry.only(&["tenant", "variant", "expiresAt", "note"])?;
            let (tenant, tenant_path) = entry.req("tenant")?;
            let (name, name_path) = entry.req("variant")?;
            if let Some((note, note_path)) = entry.opt("note") {
                decode::string(note, &note_path)?;
            }
            Ok(Override {
                tenant: decode::string(tenant, &tenant_path)?.into(),
                variant: variant(name, &name_path)?,
                expires_at: match entry.opt("expiresAt") {
                    Some((value, path)) => Some(decode::timestamp(value, &path)?),
                    None => None,
                },
            })
        })?;

        let targets = list(&obj, "targets", |item, item_path| {
            let entry = Obj::new(item, *item_path)?;
            entry.only(&["variant", "users", "groups", "tenants"])?;
            let (name, name_path) = entry.req("variant")?;
            let set = |field: &str| -> Decoded<StringSet> {
                match entry.opt(field) {
                    Some((value, path)) => Ok(StringSet::new(decode::strings(value, &path)?)),
                    None => Ok(StringSet::default()),
                }
            };
            Ok(Target {
                variant: variant(name, &name_path)?,
                users: set("users")?,
                groups: set("groups")?,
                tenants: set("tenants")?,
            })
        })?;

        let rules = list(&obj, "rules", |item, item_path| {
            let entry = Obj::new(item, *item_path)?;
            entry.only(&["id", "description", "when", "serve"])?;
            let (id, id_path) = entry.req("id")?;
            if let Some((description, description_path)) = entry.opt("description") {
                decode::string(description, &description_path)?;
            }
            let (when, when_path) = entry.req("when")?;
            let (serve, serve_path) = entry.req("serve")?;
            Ok(Rule {
                id: decode::key(id, &id_path)?.into(),
                when: Condition::decode(when, &when_path, segments)?,
                serve: Serve::decode(serve, &serve_path, key, &variant)?,
            })
        })?;
        let mut ids = BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            if !ids.insert(&*rule.id) {
                let rules_path = path.key("rules");
                let rule_path = rules_path.index(i);
                return Err(rule_path
                    .key("id")
                    .error(ErrorCode::DuplicateId, format!("rule id `{}` is used twice", rule.id)));
            }
        }

        let mut unknown_prerequisites = Vec::new();
        let prerequisites = list(&obj, "prerequisites", |item, item_path| {
            let entry = Obj::new(item, *item_path)?;
            entry.only(&["flag", "variants"])?;
            let (flag, flag_path) = entry.req("flag")?;
            let flag = decode::key(flag, &flag_path)?;
            let (allowed, allowed_path) = entry.req("variants")?;
            let allowed = decode::strings(allowed, &allowed_path)?;
            if allowed.is_empty() {
                return Err(allowed_path.error(ErrorCode::InvalidValue, "list at least one variant"));
            }
            let id = flag_ids.get(flag).copied();
            if id.is_none() {
                unknown_prerequisites.push(flag_path.error(
                    ErrorCode::UnknownPrerequisite,
                    format!("prerequisite flag `{flag}` is not in the snapshot; it is never satisfied"),
                ));
            }
            Ok(Prerequisite { flag: id, variants: StringSet::new(allowed) })
        })?;

        let window = match obj.opt("window") {
            Some((value, window_path)) => {
                let window = Obj::new(value, window_path)?;
                window.only(&["from", "until"])?;
                let time = |field: &str| match window.opt(field) {
                    Some((value, path)) => decode::timestamp(value, &path).map(Some),
                    None => Ok(None),
                };
                let (from, until) = (time("from")?, time("until")?);
                if let (Some(from), Some(until)) = (from, until)
                    && from >= until
                {
                    return Err(
                        window_path.error(ErrorCode::InvalidValue, "`window.from` must be before `window.until`")
                    );
                }
                Some((from, until))
            }
            None => None,
        };

        let canary = match obj.opt("canary") {
            Some((value, canary_path)) => Some(Cohort::decode_canary(value, &canary_path, key)?),
            None if state == State::Canary => {
                return Err(path
                    .key("canary")
                    .error(ErrorCode::MissingField, "state `canary` needs a `canary` cohort"));
            }
            None => None,
        };

        let metadata = match metadata_value {
            None | Some(Value::Null) => None,
            Some(value) => Some(decode_metadata(value, &path.key("metadata"))?),
        };

        warnings.extend(unknown_prerequisites);
        let is_static = state == State::On
            && overrides.is_empty()
            && targets.is_empty()
            && rules.is_empty()
            && prerequisites.is_empty()
            && window.is_none();
        Ok(Flag {
            kind,
            variants: variants.into(),
            state,
            off,
            fallthrough,
            overrides,
            targets,
            rules,
            prerequisites,
            window,
            canary,
            metadata,
            is_static,
        })
    }

    /// The attributes evaluating flag `id` of `flags` can read
    /// (`Snapshot::attributes_read`), following prerequisites and segments.
    pub(crate) fn attributes_read(flags: &FlagTable, segments: &SegmentTable, id: u32) -> AttributeNames {
        let mut reads = Reads::default();
        Flag::walk(flags, segments, id, &mut reads);
        reads.into_names()
    }

    /// Walks flag `id` of `flags` unless it was walked already.
    fn walk<'s>(flags: &'s FlagTable, segments: &'s SegmentTable, id: u32, reads: &mut Reads<'s>) {
        if reads.first_visit_of_flag(id)
            && let Some(Ok(flag)) = flags.get(id as usize)
        {
            flag.reads(flags, segments, reads);
        }
    }

    /// Records the attributes this flag's evaluation can read.
    fn reads<'s>(&'s self, flags: &'s FlagTable, segments: &'s SegmentTable, reads: &mut Reads<'s>) {
        if matches!(self.state, State::Off | State::Kill) {
            return;
        }
        for prerequisite in self.prerequisites.iter() {
            if let Some(id) = prerequisite.flag {
                Flag::walk(flags, segments, id, reads);
            }
        }
        if !self.overrides.is_empty() {
            reads.name("tenant");
        }
        if !self.targets.is_empty() {
            ["targetingKey", "tenant", "groups"].into_iter().for_each(|name| reads.name(name));
        }
        if let Some(canary) = &self.canary {
            canary.reads(reads);
        }
        for rule in self.rules.iter() {
            rule.when.reads(segments, reads);
            rule.serve.reads(reads);
        }
        self.fallthrough.reads(reads);
    }

    /// Name and value of a variant id.
    pub(crate) fn variant(&self, id: u32) -> Option<(&str, &Value)> {
        self.variants.get(id as usize).map(|(name, value)| (&**name, value))
    }

    /// Every segment this flag's rules name directly (for `Snapshot::changed_flags`).
    pub(crate) fn segments(&self, out: &mut Vec<u32>) {
        for rule in self.rules.iter() {
            rule.when.segments(out);
        }
    }

    /// Flags this flag requires (for the prerequisite graph).
    pub(crate) fn prerequisite_ids(&self) -> Vec<u32> {
        self.prerequisites.iter().filter_map(|p| p.flag).collect()
    }
}

impl Serve {
    fn decode(
        value: &Value,
        path: &Path<'_>,
        flag_key: &str,
        variant: &dyn Fn(&Value, &Path<'_>) -> Decoded<u32>,
    ) -> Decoded<Serve> {
        let obj = Obj::new(value, *path)?;
        if let Some((name, name_path)) = obj.opt("variant") {
            obj.only(&["variant"])?;
            return variant(name, &name_path).map(Serve::Variant);
        }
        if let Some((split, split_path)) = obj.opt("split") {
            obj.only(&["split"])?;
            return Split::decode(split, &split_path, flag_key, variant).map(Serve::Split);
        }
        if let Some((rollout, rollout_path)) = obj.opt("rollout") {
            obj.only(&["rollout"])?;
            let rollout = Obj::new(rollout, rollout_path)?;
            rollout.only(&["variant", "otherwise", "percentage", "progressive", "gradual", "bucketBy", "salt"])?;
            let (on, on_path) = rollout.req("variant")?;
            let (otherwise, otherwise_path) = rollout.req("otherwise")?;
            return Ok(Serve::Rollout {
                variant: variant(on, &on_path)?,
                otherwise: variant(otherwise, &otherwise_path)?,
                cohort: Cohort::decode_fields(&rollout, flag_key)?,
            });
        }
        obj.only(&["variant", "rollout", "split"])?;
        Err(path.error(ErrorCode::MissingField, "a serve needs one of `variant`, `rollout` or `split`"))
    }
}

/// Decodes an optional array field item by item.
fn list<T>(obj: &Obj<'_>, field: &str, mut item: impl FnMut(&Value, &Path<'_>) -> Decoded<T>) -> Decoded<Box<[T]>> {
    let Some((value, path)) = obj.opt(field) else { return Ok(Box::default()) };
    decode::array(value, &path)?.iter().enumerate().map(|(i, entry)| item(entry, &path.index(i))).collect()
}

/// Metadata is free-form; the documented keys must have their documented types.
fn decode_metadata(value: Value, path: &Path<'_>) -> Decoded<Map<String, Value>> {
    let obj = Obj::new(&value, *path)?;
    for field in ["description", "owner"] {
        if let Some((text, text_path)) = obj.opt(field) {
            decode::string(text, &text_path)?;
        }
    }
    if let Some((tags, tags_path)) = obj.opt("tags") {
        decode::strings(tags, &tags_path)?;
    }
    for field in ["createdAt", "removeBy"] {
        if let Some((time, time_path)) = obj.opt(field) {
            decode::timestamp(time, &time_path)?;
        }
    }
    match value {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}
