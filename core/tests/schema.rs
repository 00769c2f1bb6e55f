//! Checks the JSON Schemas in `schema/` against the files they describe.
//!
//! - both schemas are valid Draft 2020-12 schemas;
//! - `examples/flags.json` is a valid snapshot (schema plus the cross-references JSON Schema
//!   cannot express) and `examples/contexts.json` is a list of named contexts;
//! - every `tests/conformance/cases/*.json` and `tests/conformance/bucketing.json` matches the
//!   conformance schema, and the snapshot of every case file that must load cleanly (no
//!   `load.error`, no `load.warnings`) is a valid snapshot;
//! - the snapshot schema rejects what `docs/snapshot-format.md` forbids.
//!
//! Only the dev-dependencies are used; the engine itself is not exercised here.

// A failed check is a failed test.
#![allow(clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use jsonschema::Validator;
use serde_json::{Map, Value, json};

/// Most schema errors listed for one file.
const MAX_ERRORS: usize = 20;
/// Longest schema error message kept (messages quote the failing instance).
const MAX_MESSAGE: usize = 400;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn display(path: &Path) -> String {
    let root = repo_root();
    path.strip_prefix(&root).unwrap_or(path).display().to_string()
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", display(path)))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not valid JSON: {e}", display(path)))
}

fn truncate(message: String) -> String {
    if message.chars().count() <= MAX_MESSAGE {
        return message;
    }
    let mut short: String = message.chars().take(MAX_MESSAGE).collect();
    short.push('…');
    short
}

/// Loads `schema/<name>`, checks it against its meta-schema and compiles it.
fn compile(name: &str) -> Result<Validator, String> {
    let path = repo_root().join("schema").join(name);
    let schema = read_json(&path)?;
    if let Err(error) = jsonschema::meta::validate(&schema) {
        return Err(format!(
            "{}: not a valid JSON Schema: at {} (meta-schema {}): {}",
            display(&path),
            error.instance_path(),
            error.schema_path(),
            truncate(error.to_string())
        ));
    }
    jsonschema::draft202012::new(&schema)
        .map_err(|e| format!("{}: does not compile: {}", display(&path), truncate(e.to_string())))
}

fn snapshot_schema() -> Validator {
    compile("snapshot.schema.json").unwrap_or_else(|message| panic!("{message}"))
}

fn conformance_schema() -> Validator {
    compile("conformance.schema.json").unwrap_or_else(|message| panic!("{message}"))
}

/// The schema errors of `instance`, one line each: instance path, schema path, message.
fn schema_errors(validator: &Validator, instance: &Value) -> Vec<String> {
    let mut errors: Vec<String> = validator
        .iter_errors(instance)
        .take(MAX_ERRORS + 1)
        .map(|error| {
            let at = error.instance_path().to_string();
            format!(
                "at '{}' (schema {}): {}",
                if at.is_empty() { "/" } else { at.as_str() },
                error.schema_path(),
                truncate(error.to_string())
            )
        })
        .collect();
    if errors.len() > MAX_ERRORS {
        errors.truncate(MAX_ERRORS);
        errors.push("… more errors omitted".to_owned());
    }
    errors
}

/// Validates and records every error under `what` (a file name, possibly with a JSON path).
fn check(validator: &Validator, instance: &Value, what: &str, schema: &str, problems: &mut Vec<String>) {
    for error in schema_errors(validator, instance) {
        problems.push(format!("{what} does not match {schema}: {error}"));
    }
}

fn report(problems: &[String]) {
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
}

// ---------------------------------------------------------------------------------------------
// Cross-references that JSON Schema cannot express (used for files that must load cleanly).
// ---------------------------------------------------------------------------------------------

fn members(value: Option<&Value>) -> BTreeSet<String> {
    value.and_then(Value::as_object).map(|object| object.keys().cloned().collect()).unwrap_or_default()
}

fn array(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// A percentage in units of 0.001 %.
fn thousandths(value: Option<&Value>) -> Option<i64> {
    let number = value?.as_f64()?;
    // Percentages have at most three decimals (checked by the schema), so rounding is exact.
    Some((number * 1000.0).round() as i64)
}

struct Integrity<'a> {
    flags: &'a Map<String, Value>,
    segments: BTreeSet<String>,
    problems: Vec<String>,
}

impl Integrity<'_> {
    fn variant(&mut self, variants: &BTreeSet<String>, name: Option<&Value>, path: &str) {
        match name.and_then(Value::as_str) {
            Some(name) if variants.contains(name) => {}
            Some(name) => self.problems.push(format!("{path}: unknown variant '{name}'")),
            None => self.problems.push(format!("{path}: missing variant name")),
        }
    }

    fn schedule(&mut self, holder: &Value, path: &str) {
        if let Some(progressive) = holder.get("progressive") {
            let stages = array(progressive.get("stages"));
            let mut previous = 0;
            for (index, stage) in stages.iter().enumerate() {
                let here = format!("{path}.progressive.stages[{index}]");
                let percentage = thousandths(stage.get("percentage")).unwrap_or(0);
                if percentage < previous {
                    self.problems.push(format!("{here}.percentage: stages must not decrease"));
                }
                previous = percentage;
                if index + 1 < stages.len() && stage.get("duration").is_none() {
                    self.problems.push(format!("{here}: every stage but the last needs a duration"));
                }
            }
        }
    }

    fn serve(&mut self, variants: &BTreeSet<String>, serve: Option<&Value>, path: &str) {
        let Some(serve) = serve else {
            self.problems.push(format!("{path}: missing serve"));
            return;
        };
        if let Some(name) = serve.get("variant") {
            self.variant(variants, Some(name), &format!("{path}.variant"));
        }
        if let Some(rollout) = serve.get("rollout") {
            self.variant(variants, rollout.get("variant"), &format!("{path}.rollout.variant"));
            self.variant(variants, rollout.get("otherwise"), &format!("{path}.rollout.otherwise"));
            self.schedule(rollout, &format!("{path}.rollout"));
        }
        if let Some(split) = serve.get("split") {
            let mut total = 0;
            for (index, entry) in array(split.get("variants")).iter().enumerate() {
                let here = format!("{path}.split.variants[{index}]");
                self.variant(variants, entry.get("variant"), &format!("{here}.variant"));
                total += thousandths(entry.get("weight")).unwrap_or(0);
            }
            if total != 100_000 {
                self.problems.push(format!("{path}.split: weights add up to {}, not 100", total as f64 / 1000.0));
            }
        }
    }

    fn condition(&mut self, condition: Option<&Value>, path: &str) {
        let Some(condition) = condition else { return };
        if let Some(segment) = condition.get("inSegment").and_then(Value::as_str)
            && !self.segments.contains(segment)
        {
            self.problems.push(format!("{path}.inSegment: unknown segment '{segment}'"));
        }
        for kind in ["all", "any"] {
            for (index, inner) in array(condition.get(kind)).iter().enumerate() {
                self.condition(Some(inner), &format!("{path}.{kind}[{index}]"));
            }
        }
        if let Some(inner) = condition.get("not") {
            self.condition(Some(inner), &format!("{path}.not"));
        }
    }

    fn flag(&mut self, key: &str, flag: &Value) {
        let path = format!("flags.{key}");
        let variants = members(flag.get("variants"));
        self.variant(&variants, flag.get("offVariant"), &format!("{path}.offVariant"));
        self.serve(&variants, flag.get("fallthrough"), &format!("{path}.fallthrough"));
        for (index, entry) in array(flag.get("overrides")).iter().enumerate() {
            self.variant(&variants, entry.get("variant"), &format!("{path}.overrides[{index}].variant"));
        }
        for (index, entry) in array(flag.get("targets")).iter().enumerate() {
            self.variant(&variants, entry.get("variant"), &format!("{path}.targets[{index}].variant"));
        }
        let mut ids = BTreeSet::new();
        for (index, rule) in array(flag.get("rules")).iter().enumerate() {
            let here = format!("{path}.rules[{index}]");
            if let Some(id) = rule.get("id").and_then(Value::as_str)
                && !ids.insert(id.to_owned())
            {
                self.problems.push(format!("{here}.id: duplicate rule id '{id}'"));
            }
            self.condition(rule.get("when"), &format!("{here}.when"));
            self.serve(&variants, rule.get("serve"), &format!("{here}.serve"));
        }
        for (index, prerequisite) in array(flag.get("prerequisites")).iter().enumerate() {
            let here = format!("{path}.prerequisites[{index}]");
            let Some(name) = prerequisite.get("flag").and_then(Value::as_str) else {
                continue;
            };
            match self.flags.get(name) {
                None => self.problems.push(format!("{here}.flag: unknown flag '{name}'")),
                Some(other) => {
                    let allowed = members(other.get("variants"));
                    for (j, variant) in array(prerequisite.get("variants")).iter().enumerate() {
                        self.variant(&allowed, Some(variant), &format!("{here}.variants[{j}]"));
                    }
                }
            }
        }
        if let Some(canary) = flag.get("canary") {
            self.schedule(canary, &format!("{path}.canary"));
        }
    }
}

/// Problems a schema-valid snapshot can still have: references to variants, segments and flags
/// that do not exist, split weights that do not add up to 100, decreasing or unterminated
/// progressive schedules, duplicate rule ids.
fn integrity_problems(snapshot: &Value) -> Vec<String> {
    let empty = Map::new();
    let flags = snapshot.get("flags").and_then(Value::as_object).unwrap_or(&empty);
    let mut integrity = Integrity { flags, segments: members(snapshot.get("segments")), problems: Vec::new() };
    for (key, flag) in flags {
        integrity.flag(key, flag);
    }
    if let Some(segments) = snapshot.get("segments").and_then(Value::as_object) {
        for (key, segment) in segments {
            integrity.condition(segment.get("when"), &format!("segments.{key}.when"));
        }
    }
    integrity.problems
}

// ---------------------------------------------------------------------------------------------
// The files of the repository.
// ---------------------------------------------------------------------------------------------

#[test]
fn schemas_are_valid_json_schemas() {
    let problems: Vec<String> = ["snapshot.schema.json", "conformance.schema.json"]
        .into_iter()
        .filter_map(|name| compile(name).err())
        .collect();
    report(&problems);
}

#[test]
fn example_snapshot_is_valid() {
    let validator = snapshot_schema();
    let path = repo_root().join("examples/flags.json");
    let mut problems = Vec::new();
    match read_json(&path) {
        Err(message) => problems.push(message),
        Ok(snapshot) => {
            check(&validator, &snapshot, &display(&path), "snapshot.schema.json", &mut problems);
            for problem in integrity_problems(&snapshot) {
                problems.push(format!("{}: {problem}", display(&path)));
            }
            let flags = snapshot.get("flags").and_then(Value::as_object).map_or(0, Map::len);
            println!("{}: {flags} flags checked", display(&path));
        }
    }
    report(&problems);
}

#[test]
fn example_contexts_are_named_contexts() {
    let validator = jsonschema::draft202012::new(&json!({
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["name", "context"],
            "properties": {
                "name": { "type": "string", "minLength": 1 },
                "context": { "type": "object" }
            },
            "additionalProperties": false
        }
    }))
    .unwrap_or_else(|error| panic!("inline contexts schema does not compile: {error}"));
    let path = repo_root().join("examples/contexts.json");
    let mut problems = Vec::new();
    match read_json(&path) {
        Err(message) => problems.push(message),
        Ok(contexts) => {
            check(&validator, &contexts, &display(&path), "the contexts list schema", &mut problems);
            let mut names = BTreeSet::new();
            for entry in array(Some(&contexts)) {
                if let Some(name) = entry.get("name").and_then(Value::as_str)
                    && !names.insert(name)
                {
                    problems.push(format!("{}: duplicate name '{name}'", display(&path)));
                }
            }
        }
    }
    report(&problems);
}

/// The `*.json` files of a directory, sorted; none when the directory does not exist yet.
fn json_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: cannot list: {e}", display(dir)))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: cannot list: {e}", display(dir)))?.path();
        if path.is_file() && path.extension().is_some_and(|extension| extension == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Whether a case file expects its snapshot to load with neither an error nor warnings.
fn loads_cleanly(case_file: &Value) -> bool {
    match case_file.get("load") {
        None => true,
        Some(load) => {
            load.get("error").is_none()
                && array(load.get("warnings")).is_empty()
                && load.get("warnings").is_none_or(Value::is_array)
        }
    }
}

#[test]
fn conformance_files_match_their_schemas() {
    let conformance = conformance_schema();
    let snapshot = snapshot_schema();
    let suite = repo_root().join("tests/conformance");
    let mut problems = Vec::new();
    let mut case_files = 0;
    let mut cases = 0;
    let mut clean_snapshots = 0;
    // A shared snapshot file is checked once, but every case file that needs it is named.
    let mut shared: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();

    let files = match json_files(&suite.join("cases")) {
        Ok(files) => files,
        Err(message) => {
            problems.push(message);
            Vec::new()
        }
    };
    for path in &files {
        let name = display(path);
        let case_file = match read_json(path) {
            Ok(value) => value,
            Err(message) => {
                problems.push(message);
                continue;
            }
        };
        case_files += 1;
        cases += array(case_file.get("cases")).len();
        check(&conformance, &case_file, &name, "conformance.schema.json", &mut problems);
        if !loads_cleanly(&case_file) {
            continue;
        }
        if let Some(inline) = case_file.get("snapshot") {
            clean_snapshots += 1;
            let what = format!("{name} (inline snapshot, at /snapshot)");
            check(&snapshot, inline, &what, "snapshot.schema.json", &mut problems);
            for problem in integrity_problems(inline) {
                problems.push(format!("{what}: {problem}"));
            }
        } else if let Some(file) = case_file.get("snapshotFile").and_then(Value::as_str) {
            shared.entry(suite.join(file)).or_default().push(name);
        }
    }

    for (path, users) in &shared {
        clean_snapshots += 1;
        let what = format!("{} (snapshotFile of {})", display(path), users.join(", "));
        match read_json(path) {
            Err(message) => problems.push(format!("{message} (snapshotFile of {})", users.join(", "))),
            Ok(value) => {
                check(&snapshot, &value, &what, "snapshot.schema.json", &mut problems);
                for problem in integrity_problems(&value) {
                    problems.push(format!("{what}: {problem}"));
                }
            }
        }
    }

    let bucketing = suite.join("bucketing.json");
    let mut vectors = None;
    if bucketing.exists() {
        match read_json(&bucketing) {
            Err(message) => problems.push(message),
            Ok(value) => {
                vectors = Some(array(value.get("vectors")).len());
                check(&conformance, &value, &display(&bucketing), "conformance.schema.json", &mut problems);
            }
        }
    }

    println!(
        "conformance: {case_files} case file(s) with {cases} case(s), {clean_snapshots} cleanly loading \
         snapshot(s) checked against the snapshot schema; bucketing.json: {}",
        vectors.map_or_else(|| "absent".to_owned(), |n| format!("{n} vector(s)"))
    );
    report(&problems);
}

// ---------------------------------------------------------------------------------------------
// What the snapshot schema accepts and rejects.
// ---------------------------------------------------------------------------------------------

/// A small snapshot touching most of the format; every mutation below starts from it.
fn base_snapshot() -> Value {
    json!({
        "schemaVersion": 1,
        "revision": 7,
        "generatedAt": "2026-11-22T09:00:00Z",
        "segments": {
            "staff": { "when": { "attribute": "email", "op": "endsWith", "value": "@pennon.dev" } }
        },
        "flags": {
            "checkout": {
                "type": "boolean",
                "state": "canary",
                "variants": { "on": true, "off": false },
                "offVariant": "off",
                "canary": {
                    "progressive": {
                        "start": "2026-11-22T08:00:00Z",
                        "stages": [
                            { "percentage": 10, "duration": "PT1H" },
                            { "percentage": 33.333, "duration": "P1DT12H" },
                            { "percentage": 100 }
                        ]
                    }
                },
                "rules": [
                    {
                        "id": "beta-de",
                        "when": { "all": [
                            { "attribute": "country", "op": "in", "values": ["DE", "AT"] },
                            { "attribute": "/app/version", "op": "semverGte", "value": "2.1" },
                            { "not": { "inSegment": "staff" } }
                        ] },
                        "serve": { "rollout": { "variant": "on", "otherwise": "off", "percentage": 25 } }
                    }
                ],
                "fallthrough": { "variant": "on" }
            }
        }
    })
}

/// Replaces (or adds, or appends at index `len`) the member at a JSON Pointer whose parent exists.
fn set(value: &mut Value, pointer: &str, new: Value) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return false;
    };
    match value.pointer_mut(parent) {
        Some(Value::Object(object)) => {
            object.insert(key.replace("~1", "/").replace("~0", "~"), new);
            true
        }
        Some(Value::Array(items)) => match key.parse::<usize>() {
            Ok(index) if index == items.len() => {
                items.push(new);
                true
            }
            Ok(index) => match items.get_mut(index) {
                Some(slot) => {
                    *slot = new;
                    true
                }
                None => false,
            },
            Err(_) => false,
        },
        _ => false,
    }
}

fn remove(value: &mut Value, pointer: &str) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return false;
    };
    value.pointer_mut(parent).and_then(Value::as_object_mut).and_then(|object| object.remove(key)).is_some()
}

enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
}

fn edited(edits: Vec<Edit>) -> Value {
    let mut snapshot = base_snapshot();
    for edit in edits {
        let (applied, pointer) = match edit {
            Edit::Set(pointer, new) => (set(&mut snapshot, pointer, new), pointer),
            Edit::Remove(pointer) => (remove(&mut snapshot, pointer), pointer),
        };
        assert!(applied, "test bug: cannot edit {pointer} in the base snapshot");
    }
    snapshot
}

fn assert_rejected(validator: &Validator, what: &str, edits: Vec<Edit>, expected_at: &str) {
    let snapshot = edited(edits);
    let errors: Vec<String> = validator.iter_errors(&snapshot).map(|error| error.instance_path().to_string()).collect();
    assert!(!errors.is_empty(), "the snapshot schema accepts {what}");
    assert!(
        errors.iter().any(|at| at.starts_with(expected_at)),
        "the snapshot schema rejects {what}, but not at {expected_at}: errors at {errors:?}"
    );
}

fn assert_accepted(validator: &Validator, what: &str, edits: Vec<Edit>) {
    let snapshot = edited(edits);
    let errors = schema_errors(validator, &snapshot);
    assert!(errors.is_empty(), "the snapshot schema rejects {what}:\n  {}", errors.join("\n  "));
}

#[test]
fn snapshot_schema_accepts_the_base_snapshot() {
    assert_accepted(&snapshot_schema(), "the base snapshot", vec![]);
}

#[test]
fn snapshot_schema_accepts_extensions_everywhere() {
    let validator = snapshot_schema();
    assert_accepted(
        &validator,
        "x- extension fields",
        vec![
            Edit::Set("/x-foo", json!({ "anything": [1, 2] })),
            Edit::Set("/flags/checkout/x-foo", json!("ticket CHK-1")),
            Edit::Set("/flags/checkout/canary/x-foo", json!(true)),
            Edit::Set("/flags/checkout/canary/progressive/stages/0/x-foo", json!(null)),
            Edit::Set("/flags/checkout/rules/0/x-foo", json!(1)),
            Edit::Set("/flags/checkout/rules/0/when/x-foo", json!("")),
            Edit::Set("/flags/checkout/rules/0/when/all/0/x-foo", json!([])),
            Edit::Set("/flags/checkout/rules/0/serve/x-foo", json!({})),
            Edit::Set("/flags/checkout/rules/0/serve/rollout/x-foo", json!(2)),
            Edit::Set("/segments/staff/x-foo", json!("segment note")),
        ],
    );
}

#[test]
fn snapshot_schema_accepts_the_documented_forms() {
    let validator = snapshot_schema();
    assert_accepted(
        &validator,
        "timestamps with offsets and fractions, weeks and fractional seconds, splits, gradual ramps",
        vec![
            Edit::Set("/generatedAt", json!("2026-11-22T10:00:00.250+01:00")),
            Edit::Set("/flags/checkout/canary/progressive/stages/0/duration", json!("P2WT0.5S")),
            Edit::Set("/flags/checkout/window", json!({ "until": "2026-12-01T00:00:00Z" })),
            Edit::Set(
                "/flags/checkout/fallthrough",
                json!({ "split": { "salt": "exp-1", "bucketBy": "/account/id", "variants": [
                    { "variant": "on", "weight": 33.333 }, { "variant": "off", "weight": 66.667 }
                ] } }),
            ),
            Edit::Set(
                "/flags/checkout/rules/0/serve",
                json!({ "rollout": { "variant": "on", "otherwise": "off",
                    "gradual": { "start": "2026-11-22T08:00:00Z", "duration": "PT90M", "to": 50 } } }),
            ),
            Edit::Set(
                "/flags/checkout/rules/0/when/all/0",
                json!({ "attribute": "ip", "op": "inCidr", "values": ["10.0.0.0/8", "2001:db8::/32"] }),
            ),
            Edit::Set(
                "/flags/checkout/rules/0/when/all/1",
                json!({ "attribute": "createdAt", "op": "before", "value": 1_795_000_000_000_u64 }),
            ),
        ],
    );
}

#[test]
fn snapshot_schema_rejects_an_unknown_operator() {
    assert_rejected(
        &snapshot_schema(),
        "an unknown operator",
        vec![Edit::Set("/flags/checkout/rules/0/when/all/0/op", json!("regexMatch"))],
        "/flags/checkout/rules/0/when/all/0",
    );
}

#[test]
fn snapshot_schema_rejects_a_duration_in_months() {
    assert_rejected(
        &snapshot_schema(),
        "the duration P1M",
        vec![Edit::Set("/flags/checkout/canary/progressive/stages/0/duration", json!("P1M"))],
        "/flags/checkout/canary/progressive/stages/0/duration",
    );
    assert_rejected(
        &snapshot_schema(),
        "the duration P1Y",
        vec![Edit::Set("/flags/checkout/canary/progressive/stages/1/duration", json!("P1Y"))],
        "/flags/checkout/canary/progressive/stages/1/duration",
    );
    assert_rejected(
        &snapshot_schema(),
        "the zero duration PT0S",
        vec![Edit::Set("/flags/checkout/canary/progressive/stages/0/duration", json!("PT0S"))],
        "/flags/checkout/canary/progressive/stages/0/duration",
    );
}

#[test]
fn snapshot_schema_rejects_bad_percentages() {
    let validator = snapshot_schema();
    assert_rejected(
        &validator,
        "a percentage of 101",
        vec![Edit::Set("/flags/checkout/rules/0/serve/rollout/percentage", json!(101))],
        "/flags/checkout/rules/0/serve/rollout/percentage",
    );
    assert_rejected(
        &validator,
        "a negative percentage",
        vec![Edit::Set("/flags/checkout/canary/progressive/stages/0/percentage", json!(-1))],
        "/flags/checkout/canary/progressive/stages/0/percentage",
    );
    assert_rejected(
        &validator,
        "a percentage with four decimals",
        vec![Edit::Set("/flags/checkout/rules/0/serve/rollout/percentage", json!(12.3456))],
        "/flags/checkout/rules/0/serve/rollout/percentage",
    );
}

#[test]
fn snapshot_schema_rejects_a_flag_without_off_variant() {
    assert_rejected(
        &snapshot_schema(),
        "a flag without offVariant",
        vec![Edit::Remove("/flags/checkout/offVariant")],
        "/flags/checkout",
    );
}

#[test]
fn snapshot_schema_rejects_unknown_fields() {
    let validator = snapshot_schema();
    assert_rejected(
        &validator,
        "an unknown field in a flag",
        vec![Edit::Set("/flags/checkout/description", json!("not a flag field"))],
        "/flags/checkout",
    );
    assert_rejected(
        &validator,
        "an unknown field in a condition",
        vec![Edit::Set("/flags/checkout/rules/0/when/all/0/negate", json!(true))],
        "/flags/checkout/rules/0/when/all/0",
    );
    assert_rejected(
        &validator,
        "an unknown field in a rollout",
        vec![Edit::Set("/flags/checkout/rules/0/serve/rollout/seed", json!(3))],
        "/flags/checkout/rules/0/serve",
    );
    assert_rejected(
        &validator,
        "an unknown field in a segment",
        vec![Edit::Set("/segments/staff/rules", json!([]))],
        "/segments/staff",
    );
}

#[test]
fn snapshot_schema_rejects_other_invalid_flags() {
    let validator = snapshot_schema();
    assert_rejected(
        &validator,
        "a canary flag without a canary cohort",
        vec![Edit::Remove("/flags/checkout/canary")],
        "/flags/checkout",
    );
    assert_rejected(
        &validator,
        "a string variant in a boolean flag",
        vec![Edit::Set("/flags/checkout/variants/on", json!("true"))],
        "/flags/checkout/variants/on",
    );
    assert_rejected(
        &validator,
        "a serve with both a variant and a rollout",
        vec![Edit::Set("/flags/checkout/rules/0/serve/variant", json!("on"))],
        "/flags/checkout/rules/0/serve",
    );
    assert_rejected(
        &validator,
        "a rollout with both a percentage and a gradual ramp",
        vec![Edit::Set(
            "/flags/checkout/rules/0/serve/rollout/gradual",
            json!({ "start": "2026-11-22T08:00:00Z", "duration": "PT1H" }),
        )],
        "/flags/checkout/rules/0/serve",
    );
    assert_rejected(
        &validator,
        "an unknown state",
        vec![Edit::Set("/flags/checkout/state", json!("paused"))],
        "/flags/checkout/state",
    );
    assert_rejected(
        &validator,
        "a timestamp without an offset",
        vec![Edit::Set("/flags/checkout/canary/progressive/start", json!("2026-11-22T08:00:00"))],
        "/flags/checkout/canary/progressive/start",
    );
    assert_rejected(
        &validator,
        "a semver with a leading v",
        vec![Edit::Set("/flags/checkout/rules/0/when/all/1/value", json!("v2.1.0"))],
        "/flags/checkout/rules/0/when/all/1",
    );
    assert_rejected(
        &validator,
        "in without values",
        vec![Edit::Remove("/flags/checkout/rules/0/when/all/0/values")],
        "/flags/checkout/rules/0/when/all/0",
    );
    assert_rejected(
        &validator,
        "caseInsensitive on a numeric operator",
        vec![
            Edit::Set("/flags/checkout/rules/0/when/all/0", json!({ "attribute": "age", "op": "gte", "value": 18 })),
            Edit::Set("/flags/checkout/rules/0/when/all/0/caseInsensitive", json!(true)),
        ],
        "/flags/checkout/rules/0/when/all/0",
    );
    assert_rejected(
        &validator,
        "a flag key that starts with a dash",
        vec![Edit::Set("/flags/-checkout", json!({}))],
        "/flags",
    );
    assert_rejected(&validator, "schemaVersion 2", vec![Edit::Set("/schemaVersion", json!(2))], "/schemaVersion");
}

#[test]
fn conformance_schema_requires_exactly_one_snapshot_source() {
    let validator = conformance_schema();
    let case = json!({
        "name": "n", "flag": "f", "context": {}, "type": "boolean", "default": false,
        "expect": { "value": false, "reason": "ERROR", "errorCode": "FLAG_NOT_FOUND" }
    });
    let inline = json!({ "description": "d", "snapshot": base_snapshot(), "now": 0, "cases": [case.clone()] });
    let errors = schema_errors(&validator, &inline);
    assert!(errors.is_empty(), "a minimal case file is rejected:\n  {}", errors.join("\n  "));
    let both =
        json!({ "description": "d", "snapshot": {}, "snapshotFile": "snapshots/a.json", "cases": [case.clone()] });
    assert!(!validator.is_valid(&both), "a case file with snapshot and snapshotFile is accepted");
    let neither = json!({ "description": "d", "cases": [case.clone()] });
    assert!(!validator.is_valid(&neither), "a case file without a snapshot is accepted");
    let mistyped = json!({ "description": "d", "snapshot": {}, "cases": [
        { "name": "n", "flag": "f", "context": {}, "type": "boolean", "default": "no",
          "expect": { "reason": "ERROR" } }
    ] });
    assert!(!validator.is_valid(&mistyped), "a boolean case with a string default is accepted");
    let vectors =
        json!({ "vectors": [ { "salt": "s", "unit": "u", "hash": "18446744073709551615", "bucket": 99999 } ] });
    let errors = schema_errors(&validator, &vectors);
    assert!(errors.is_empty(), "bucketing vectors are rejected:\n  {}", errors.join("\n  "));
    let bad_bucket = json!({ "vectors": [ { "salt": "s", "unit": "u", "hash": "1", "bucket": 100_000 } ] });
    assert!(!validator.is_valid(&bad_bucket), "a bucket of 100000 is accepted");
}

#[test]
fn integrity_check_finds_what_the_schema_cannot() {
    assert!(
        integrity_problems(&base_snapshot()).is_empty(),
        "the base snapshot has integrity problems: {:?}",
        integrity_problems(&base_snapshot())
    );
    let broken = edited(vec![
        Edit::Set("/flags/checkout/offVariant", json!("nope")),
        Edit::Set("/flags/checkout/rules/0/serve/rollout/otherwise", json!("nope")),
        Edit::Set(
            "/flags/checkout/fallthrough",
            json!({ "split": { "variants": [
                { "variant": "on", "weight": 33.333 }, { "variant": "off", "weight": 66.666 }
            ] } }),
        ),
        Edit::Set("/flags/checkout/canary/progressive/stages/1/percentage", json!(5)),
        Edit::Remove("/flags/checkout/canary/progressive/stages/0/duration"),
        Edit::Set("/flags/checkout/rules/0/when/all/2/not/inSegment", json!("ghosts")),
        Edit::Set("/flags/checkout/prerequisites", json!([{ "flag": "missing", "variants": ["on"] }])),
        Edit::Set(
            "/flags/checkout/rules/1",
            json!({ "id": "beta-de", "when": { "all": [] }, "serve": { "variant": "on" } }),
        ),
    ]);
    let problems = integrity_problems(&broken);
    for expected in [
        "flags.checkout.offVariant: unknown variant 'nope'",
        "flags.checkout.rules[0].serve.rollout.otherwise: unknown variant 'nope'",
        "flags.checkout.fallthrough.split: weights add up to 99.999, not 100",
        "flags.checkout.canary.progressive.stages[1].percentage: stages must not decrease",
        "flags.checkout.canary.progressive.stages[0]: every stage but the last needs a duration",
        "flags.checkout.rules[0].when.all[2].not.inSegment: unknown segment 'ghosts'",
        "flags.checkout.prerequisites[0].flag: unknown flag 'missing'",
        "flags.checkout.rules[1].id: duplicate rule id 'beta-de'",
    ] {
        assert!(
            problems.iter().any(|problem| problem == expected),
            "the integrity check misses `{expected}`; it found:\n  {}",
            problems.join("\n  ")
        );
    }
}
