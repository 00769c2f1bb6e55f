//! Evaluates every flag of a snapshot for a list of sample contexts and prints a table.
//!
//! ```text
//! cargo run -p pennon-core --example evaluate -- \
//!     [--snapshot examples/flags.json] [--contexts examples/contexts.json] [--now 2026-11-22T12:00:00Z]
//! ```
//!
//! `--contexts` is a JSON array of `{ "name": "...", "context": { ... } }`.

use std::process::ExitCode;

use pennon_core::{Context, Snapshot, Value, time};

struct Options {
    snapshot: String,
    contexts: String,
    now: String,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        snapshot: "examples/flags.json".into(),
        contexts: "examples/contexts.json".into(),
        now: "2026-11-22T12:00:00Z".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--snapshot" => &mut options.snapshot,
            "--contexts" => &mut options.contexts,
            "--now" => &mut options.now,
            "-h" | "--help" => {
                return Err("usage: evaluate [--snapshot FILE] [--contexts FILE] [--now RFC3339]".into());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        };
        *slot = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
    }
    Ok(options)
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

/// `true`, `"blue"`, `3`, or compact JSON for objects, shortened to fit a column.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 28 { format!("{}…", text.chars().take(27).collect::<String>()) } else { text }
}

fn run() -> Result<(), String> {
    let options = parse_options()?;
    let snapshot = Snapshot::from_json(&read(&options.snapshot)?).map_err(|e| format!("{}: {e}", options.snapshot))?;
    let now = time::parse_timestamp(&options.now).ok_or_else(|| format!("--now: `{}` is not RFC 3339", options.now))?;
    let contexts: Value =
        serde_json::from_str(&read(&options.contexts)?).map_err(|e| format!("{}: {e}", options.contexts))?;
    let contexts = contexts.as_array().ok_or("the contexts file must hold a JSON array")?;

    println!(
        "snapshot {} · revision {} · environment {} · {} flags · now {}",
        options.snapshot,
        snapshot.revision(),
        snapshot.environment().unwrap_or("-"),
        snapshot.flag_keys().len(),
        options.now
    );
    for warning in snapshot.warnings() {
        println!("warning: {warning}");
    }
    for entry in contexts {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
        let context = Context::from_value(entry.get("context").cloned().unwrap_or(Value::Null))
            .map_err(|e| format!("context `{name}`: {e}"))?;
        println!(
            "\n{name}  {}",
            context.attributes().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
        );
        println!("  {:<30} {:<30} {:<14} {:<20} detail", "flag", "value", "variant", "reason");
        for (key, evaluation) in snapshot.evaluate_all(&context, now) {
            let mut detail = Vec::new();
            if let Some(rule) = evaluation.rule_id {
                detail.push(format!("rule {rule}"));
            }
            if let Some(stage) = evaluation.stage {
                detail.push(format!("stage {stage}"));
            }
            if let Some(shadow) = evaluation.shadow_variant {
                detail.push(format!("shadow→{shadow}"));
            }
            if let Some(error) = &evaluation.error {
                detail.push(format!("{}: {}", error.code, error.message));
            }
            println!(
                "  {:<30} {:<30} {:<14} {:<20} {}",
                key,
                evaluation.value.map_or_else(|| "(default)".into(), show),
                evaluation.variant.unwrap_or("-"),
                evaluation.reason.as_str(),
                detail.join(", ")
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
