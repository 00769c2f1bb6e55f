//! Reading the conformance suite (`tests/conformance/`), shared by the test files that
//! run over its case files.

use std::fs;
use std::path::{Path, PathBuf};

use pennon_core::Value;

/// `tests/conformance/`.
pub fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance")
}

/// A JSON file of the suite, parsed.
pub fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The case files, sorted.
pub fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(suite_dir().join("cases"))
        .expect("tests/conformance/cases exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Loads a case file's snapshot (`snapshot` inline, or `snapshotFile` as text).
pub fn load(file: &Value, name: &str) -> Result<pennon_core::Snapshot, pennon_core::Error> {
    match (file.get("snapshot"), file.get("snapshotFile").and_then(Value::as_str)) {
        (Some(inline), None) => pennon_core::Snapshot::from_value(inline),
        (None, Some(relative)) => {
            let path = suite_dir().join(relative);
            pennon_core::Snapshot::from_json(
                &fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            )
        }
        _ => panic!("{name}: exactly one of snapshot / snapshotFile"),
    }
}
