//! Files generated from core's lists (error codes, reasons, OpenFeature error codes, flag
//! types, type names) for the hosts' type systems. The test fails when a checked-in copy
//! differs from what core says today; `PENNON_BLESS=1 cargo test -p pennon-host --test
//! generated` rewrites them.

use std::path::{Path, PathBuf};

use pennon_core::{ErrorCode, EvaluationErrorCode, FlagType, Reason};
use pennon_host::args::TYPE_NAMES;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const BEGIN: &str = "# BEGIN GENERATED from pennon-core (cargo test -p pennon-host --test generated)\n";
const END: &str = "# END GENERATED\n";

fn literal(name: &str, doc: &str, items: impl IntoIterator<Item = &'static str>) -> String {
    let items: Vec<String> = items.into_iter().map(|item| format!("    \"{item}\",\n")).collect();
    format!("{name} = Literal[\n{}]\n\"\"\"{doc}\"\"\"\n\n", items.concat())
}

fn python_literals() -> String {
    let mut out = String::from(BEGIN);
    out += &literal(
        "ErrorCode",
        "Every stable error code (``PennonError.code``, load warnings' ``code``), in core's order.",
        ErrorCode::ALL.iter().map(|code| code.as_str()),
    );
    out += &literal(
        "EvaluationErrorCode",
        "The OpenFeature error codes of evaluation results (``errorCode``).",
        EvaluationErrorCode::ALL.iter().map(|code| code.as_str()),
    );
    out += &literal("Reason", "Every evaluation reason (``reason``).", Reason::ALL.iter().map(|r| r.as_str()));
    out += &literal("FlagType", "The value types of flags.", FlagType::ALL.iter().map(|t| t.as_str()));
    out +=
        &literal("TypeName", "What ``evaluate(type=...)`` accepts: a flag type, or ``any`` for no check.", TYPE_NAMES);
    out.truncate(out.trim_end().len() + 1);
    out += END;
    out
}

/// Replaces the text between `BEGIN` and `END` (inclusive) in `file` with `generated`,
/// or checks that it is already that.
fn check_region(file: &Path, generated: &str) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let start = text.find(BEGIN).unwrap_or_else(|| panic!("{} has no generated region", file.display()));
    let end = text[start..].find(END).map(|at| start + at + END.len()).expect("generated region has an end");
    let current = &text[start..end];
    if current == generated {
        return;
    }
    if std::env::var_os("PENNON_BLESS").is_some() {
        let updated = format!("{}{generated}{}", &text[..start], &text[end..]);
        std::fs::write(file, updated).expect("rewrite");
        return;
    }
    panic!(
        "{} is stale: run `PENNON_BLESS=1 cargo test -p pennon-host --test generated`\n--- expected ---\n{generated}",
        file.display()
    );
}

#[test]
fn python_literals_match_core() {
    check_region(&root().join("bindings/python/python/pennon/_types.py"), &python_literals());
}
