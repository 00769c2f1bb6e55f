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
    /// exposures, conversions, rate, lift over the control with its interval, p-value, and a
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

/// The table of an experiment's results, and core's warnings (a sample-ratio mismatch
/// among them) below it.
pub fn render(answer: &Value) -> String {
    let control = format::text(answer, "control");
    let number = |value: &Value, pointer: &str| value.pointer(pointer).and_then(Value::as_f64);
    let list = |value: &Value, key: &str| value.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let rows: Vec<Vec<String>> = list(answer, "variants")
        .iter()
        .map(|variant| {
            let lift = if variant.get("control").and_then(Value::as_bool) == Some(true) {
                "(control)".to_string()
            } else {
                let interval = match (number(variant, "/lift/interval/0"), number(variant, "/lift/interval/1")) {
                    (Some(low), Some(high)) => {
                        format!(" [{}, {}]", signed_percent(Some(low)), signed_percent(Some(high)))
                    }
                    _ => String::new(),
                };
                signed_percent(number(variant, "/lift/estimate")) + &interval
            };
            vec![
                format::text(variant, "variant").to_string(),
                format::field(variant, "exposures"),
                format::field(variant, "conversions"),
                percent(number(variant, "/rate")),
                lift,
                number(variant, "/lift/pValue").map_or_else(|| "-".to_string(), |p| format!("{p:.4}")),
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
    for warning in list(answer, "warnings") {
        out.push_str(&format!("warning: {}\n", warning.as_str().unwrap_or_default()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_table_shows_rates_lift_with_its_interval_and_warnings() {
        let answer = json!({ "flag": "exp", "environment": "development", "control": "a",
            "from": "2026-12-06T08:00:00Z", "to": "2026-12-06T09:30:00.500Z",
            "variants": [
                { "variant": "a", "exposures": 2000, "conversions": 200, "rate": 0.1, "control": true },
                { "variant": "b", "exposures": 1000, "conversions": 130, "rate": 0.13, "control": false,
                  "lift": { "estimate": 0.3, "interval": [-0.05, 0.65], "pValue": 0.1234567 } },
                { "variant": "c", "exposures": 0, "conversions": 0, "rate": 0.0, "control": false, "lift": null } ],
            "warnings": ["sample ratio mismatch (χ² = 333.3, p = 1.00e-74): …"] });
        assert_eq!(
            render(&answer),
            "exp in development, 2026-12-06 08:00:00Z to 2026-12-06 09:30:00Z, control a\n\n\
             VARIANT  EXPOSURES  CONVERSIONS  RATE   LIFT [INTERVAL]         P-VALUE\n\
             a        2000       200          10.0%  (control)               -\n\
             b        1000       130          13.0%  +30.0% [-5.0%, +65.0%]  0.1235\n\
             c        0          0            0.0%   -                       -\n\
             warning: sample ratio mismatch (χ² = 333.3, p = 1.00e-74): …\n"
        );
    }
}
