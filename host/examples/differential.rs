//! The Rust reference runner of the differential test (docs/bindings.md, "Differential
//! mode"): reads request lines, writes one canonical result line per request — or, for a
//! request whose arguments a binding must refuse, the canonical error object
//! `{"error": {"code", "message", "path"}}` (`message` as hosts show it: core's display).
//! It calls core through `pennon-host`'s argument rules, as every binding does.
//!
//! ```text
//! cargo run --release -p pennon-host --example differential -- IN.jsonl OUT.jsonl
//! ```
//!
//! Snapshot paths in requests are relative to the current directory (the repo root).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

use pennon_core::{Context, Error, Evaluation, Map, Snapshot, Value, json};
use pennon_host::args;

/// `{"error": {"code", "message", "path"}}` for an error a call throws.
fn error_line(error: &Error) -> Value {
    let mut line = Map::new();
    line.insert("error".into(), args::thrown_json(error));
    Value::Object(line)
}

fn run(input: &str, output: &str) -> Result<usize, String> {
    let reader = BufReader::new(std::fs::File::open(input).map_err(|e| format!("{input}: {e}"))?);
    let mut writer = BufWriter::new(std::fs::File::create(output).map_err(|e| format!("{output}: {e}"))?);
    let mut snapshots: HashMap<String, Result<Snapshot, String>> = HashMap::new();
    let mut count = 0;
    for (number, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("{input}: {e}"))?;
        let request: Value = serde_json::from_str(&line).map_err(|e| format!("{input}:{}: {e}", number + 1))?;
        let field = |name: &str| request.get(name).ok_or_else(|| format!("{input}:{}: no `{name}`", number + 1));
        let path = field("snapshot")?.as_str().ok_or("snapshot must be a path")?.to_owned();
        let snapshot = snapshots.entry(path.clone()).or_insert_with(|| {
            std::fs::read_to_string(&path)
                .map_err(|e| format!("{path}: {e}"))
                .and_then(|text| Snapshot::from_json(&text).map_err(|e| format!("{path}: {e}")))
        });
        let snapshot = snapshot.as_ref().map_err(Clone::clone)?;
        let flag = field("flag")?.as_str().ok_or("flag must be a string")?;
        let name = field("type")?.as_str().ok_or("type must be a string")?;
        let default = field("default")?;
        let now = field("now")?.as_i64().ok_or("now must be an integer")?;
        let result = match args::flag_type(name) {
            Err(error) => error_line(&error),
            Ok(expected) => match Context::from_value(field("context")?.clone()) {
                Ok(context) => snapshot.evaluate(flag, &context, now, expected).to_json(default, snapshot.revision()),
                Err(error) => Evaluation::invalid_context(error.message).to_json(default, snapshot.revision()),
            },
        };
        writeln!(writer, "{}", json::canonical(&result)).map_err(|e| format!("{output}: {e}"))?;
        count += 1;
    }
    writer.flush().map_err(|e| format!("{output}: {e}"))?;
    Ok(count)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: differential IN.jsonl OUT.jsonl");
        return ExitCode::FAILURE;
    };
    match run(input, output) {
        Ok(count) => {
            println!("rust: {count} results written to {output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
