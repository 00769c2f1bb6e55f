//! Differential runner of the raw wasm module (`docs/bindings.md`, "Differential mode"):
//!
//! ```text
//! cargo run -p pennon-wasm-host --bin pennon-wasm-differential -- IN.jsonl OUT.jsonl
//! ```
//!
//! Each input line is `{"snapshot": "<path relative to the repo root>", "flag", "context",
//! "type", "default", "now"}`; each output line is the canonical result JSON exactly as the
//! module returned it, or for a refused request the error object a host would throw. Snapshots are loaded once per path (a snapshot that fails to load
//! leaves its engine empty, so its lines give `PROVIDER_NOT_READY`). The module is
//! `wasm/dist/raw/pennon_raw.wasm` or `$PENNON_RAW_WASM`; relative snapshot paths resolve
//! against `$PENNON_ROOT` (default: the repository this crate is in).

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use pennon_core::{Error, ErrorCode, json};
use pennon_host::args::thrown_json;
use pennon_wasm_host::{RawEngine, RawModule};
use serde_json::{Map, Value};
use wasmtime::{bail, format_err};

fn main() -> wasmtime::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        bail!("usage: pennon-wasm-differential IN.jsonl OUT.jsonl");
    };
    let root = match std::env::var_os("PENNON_ROOT") {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    };
    let mut module = RawModule::load_default()?;
    let mut engines: HashMap<String, RawEngine> = HashMap::new();
    let reader = BufReader::new(fs::File::open(input).map_err(|e| format_err!("{input}: {e}"))?);
    let mut writer = BufWriter::new(fs::File::create(output).map_err(|e| format_err!("{output}: {e}"))?);
    let mut count = 0usize;
    for (number, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let Value::Object(mut request) = serde_json::from_str::<Value>(&line)? else {
            bail!("{input}:{}: not a JSON object", number + 1);
        };
        let Some(Value::String(snapshot)) = request.remove("snapshot") else {
            bail!("{input}:{}: `snapshot` (a path) is required", number + 1);
        };
        if !engines.contains_key(&snapshot) {
            let engine = RawEngine::new(&mut module)?;
            let text = fs::read(root.join(&snapshot)).map_err(|e| format_err!("{snapshot}: {e}"))?;
            engine.load(&mut module, &text)?;
            engines.insert(snapshot.clone(), engine);
        }
        let engine = engines.get(&snapshot).ok_or_else(|| format_err!("engine for {snapshot}"))?;
        let request: Map<String, Value> = request.into_iter().collect();
        let response = module.engine_evaluate(engine.handle(), Value::Object(request).to_string().as_bytes())?;
        if response.status == 0 {
            writer.write_all(response.body.as_bytes())?;
        } else {
            // A refused request: the error object a host would throw (`pennon_host::args::thrown_json`).
            let body = response.json()?;
            let text = |field: &str| body.get(field).and_then(Value::as_str).unwrap_or_default().to_owned();
            let code = ErrorCode::from_code(&text("code"))
                .filter(|code| code.status() == response.status)
                .ok_or_else(|| format_err!("{input}:{}: status {} with body {body}", number + 1, response.status))?;
            let mut line = Map::new();
            line.insert("error".into(), thrown_json(&Error::new(code, text("path"), text("message"))));
            writer.write_all(json::canonical(&Value::Object(line)).as_bytes())?;
        }
        writer.write_all(b"\n")?;
        count += 1;
    }
    writer.flush()?;
    eprintln!("pennon-wasm-differential: {count} results written to {output}");
    Ok(())
}
