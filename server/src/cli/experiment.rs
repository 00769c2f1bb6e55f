//! `pennon experiment results FLAG`: per variant, exposures, conversions, conversion
//! rate, lift over the control with its interval, p-value, and a warning when the
//! exposures do not match the split the flag promised (sample-ratio mismatch).

use super::api::{Api, Failure};
use super::config::Settings;
use super::format::{self, short_time, table};
use super::parse_time;
use serde_json::Value;

/// `pennon experiment …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum ExperimentCommand {
    /// Results of an experiment on FLAG from the outcomes SDKs sent: per variant,
    /// exposures, conversions, rate, lift over the control [interval], p-value, and a
    /// warning on a sample-ratio mismatch.
    ///
    /// Example: `pennon experiment results checkout.new --since 2026-12-01T00:00:00Z --control off`
    Results {
        /// The flag key.
        flag: String,
        /// Start of the window (RFC 3339); default: the flag's last change.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        since: Option<String>,
        /// End of the window (RFC 3339); default: now.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        until: Option<String>,
        /// The variant the others are compared with; default: the flag's off variant.
        #[arg(long, value_name = "VARIANT")]
        control: Option<String>,
    },
}

/// Runs `pennon experiment …`: what to print, the table or with `--json` the API's JSON.
pub async fn run(api: &Api, settings: &Settings, command: ExperimentCommand) -> Result<String, Failure> {
    let ExperimentCommand::Results { flag, since, until, control } = command;
    let environment = settings.environment.as_str();
    let what = format!("read the experiment results of {flag} in {environment}");
    let query: Vec<(&str, String)> = [("since", since), ("until", until), ("control", control)]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect();
    let path = ["api", "v1", "environments", environment, "experiments", flag.as_str()];
    let reply = api.get(&what, &path, &query).await?;
    if settings.json {
        return Ok(format::pretty_json(&reply.text()) + "\n");
    }
    Ok(render(&reply.json(&what)?))
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0))
}

fn signed_percent(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{:+.1}%", v * 100.0))
}

/// The table of an experiment's results.
pub fn render(answer: &Value) -> String {
    let control = answer.get("control").and_then(Value::as_str).unwrap_or("");
    let number = |value: &Value, pointer: &str| value.pointer(pointer).and_then(Value::as_f64);
    let rows: Vec<Vec<String>> = answer
        .get("variants")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|variant| {
            let name = variant.get("variant").and_then(Value::as_str).unwrap_or("");
            let lift = if name == control {
                "(control)".to_string()
            } else {
                let interval = match (number(variant, "/lift/low"), number(variant, "/lift/high")) {
                    (Some(low), Some(high)) => {
                        format!(" [{}, {}]", signed_percent(Some(low)), signed_percent(Some(high)))
                    }
                    _ => String::new(),
                };
                signed_percent(number(variant, "/lift/estimate")) + &interval
            };
            vec![
                name.to_string(),
                format::field(variant, "exposures"),
                format::field(variant, "conversions"),
                percent(number(variant, "/rate")),
                lift,
                number(variant, "/pValue").map_or_else(|| "-".to_string(), |p| format!("{p:.4}")),
            ]
        })
        .collect();
    let mut out = format!(
        "{} in {}, {} to {}, control {control}\n\n",
        format::text(answer, "flag"),
        format::text(answer, "environment"),
        short_time(format::text(answer, "from")),
        short_time(format::text(answer, "to")),
    );
    out.push_str(&table(&["VARIANT", "EXPOSURES", "CONVERSIONS", "RATE", "LIFT [INTERVAL]", "P-VALUE"], &rows));
    if answer.pointer("/srm/mismatch").and_then(Value::as_bool) == Some(true) {
        let p = number(answer, "/srm/pValue").map_or_else(String::new, |p| format!(" (p = {p:.2e})"));
        out.push_str(&format!(
            "warning: sample ratio mismatch{p}: the exposures do not match the split the flag promises; the results may be biased\n"
        ));
    }
    out
}
