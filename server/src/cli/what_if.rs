//! `pennon context-sets …` (upload, list, remove the contexts a what-if runs against) and
//! `pennon what-if CR-ID`: who a pending change request would flip, from what to what.

use super::api::{Api, Failure};
use super::config::Settings;
use super::format::{self, field, short_time, table, text};
use reqwest::Method;
use serde_json::{Value, json};
use std::path::PathBuf;

/// `pennon context-sets …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum ContextSetCommand {
    /// The environment's context sets: name, source (uploaded or sampled), count, updated.
    List,
    /// Upload a set (developer): FILE holds a JSON array of contexts, or `{"contexts": […]}`;
    /// `-` reads stdin. Replaces a set of the same name.
    ///
    /// Example: `pennon context-sets upload eu-users users.json -e production`
    Upload {
        /// The set's name.
        name: String,
        /// The contexts: a JSON file, or `-` for stdin.
        file: PathBuf,
        /// What the set is.
        #[arg(long)]
        description: Option<String>,
    },
    /// Remove a set (developer); `sampled` is emptied.
    Rm {
        /// The set's name.
        name: String,
    },
}

/// Runs `pennon context-sets …`: what to print.
pub async fn context_sets(api: &Api, settings: &Settings, command: ContextSetCommand) -> Result<String, Failure> {
    let environment = settings.environment.as_str();
    let (what, method, name, body) = match command {
        ContextSetCommand::List => (format!("list the context sets of {environment}"), Method::GET, None, None),
        ContextSetCommand::Upload { name, file, description } => {
            let what = format!("upload context set {name} to {environment}");
            let mut body = match super::commands::read_json(&file, &what)? {
                Value::Array(contexts) => json!({ "contexts": contexts }),
                object @ Value::Object(_) => object,
                _ => {
                    return Err(Failure::usage(
                        &what,
                        "the file holds a JSON array of contexts or {\"contexts\": […]}",
                    ));
                }
            };
            if let (Some(description), Some(object)) = (description, body.as_object_mut()) {
                object.insert("description".to_string(), Value::String(description));
            }
            (what, Method::PUT, Some(name), Some(body))
        }
        ContextSetCommand::Rm { name } => {
            (format!("remove context set {name} from {environment}"), Method::DELETE, Some(name), None)
        }
    };
    let mut path = vec!["api", "v1", "environments", environment, "context-sets"];
    path.extend(name.as_deref());
    let reply = api.send(&what, method.clone(), &path, &[], body.as_ref()).await?;
    if settings.json {
        return Ok(format::pretty_json(&reply.text()) + "\n");
    }
    let answer = reply.json(&what)?;
    Ok(match (method, answer.as_array()) {
        (Method::GET, Some(sets)) => {
            let rows: Vec<Vec<String>> = sets
                .iter()
                .map(|set| {
                    let updated = short_time(text(set, "updatedAt"));
                    vec![text(set, "name").to_string(), text(set, "source").to_string(), field(set, "count"), updated]
                })
                .collect();
            table(&["NAME", "SOURCE", "CONTEXTS", "UPDATED"], &rows)
        }
        (Method::DELETE, _) => format!("context set {} removed from {environment}\n", text(&answer, "name")),
        _ => format!("context set {}: {} contexts in {environment}\n", text(&answer, "name"), field(&answer, "count")),
    })
}

/// Runs `pennon what-if ID`: a line of counts, then who flips from what to what.
pub async fn what_if(
    api: &Api,
    settings: &Settings,
    id: &str,
    context_set: Option<String>,
    contexts: Option<PathBuf>,
) -> Result<String, Failure> {
    let what = format!("what-if of change request {id}");
    let body = match (context_set, contexts) {
        (Some(name), None) => json!({ "contextSet": name }),
        (None, Some(file)) => json!({ "contexts": super::commands::read_json(&file, &what)? }),
        _ => return Err(Failure::usage(&what, "give --context-set NAME or --contexts FILE")),
    };
    let reply =
        api.send(&what, Method::POST, &["api", "v1", "change-requests", id, "what-if"], &[], Some(&body)).await?;
    if settings.json {
        return Ok(format::pretty_json(&reply.text()) + "\n");
    }
    let answer = reply.json(&what)?;
    let answer_of = |side: &Value| match side.get("variant").and_then(Value::as_str) {
        Some(variant) => format!("{variant} ({})", side.get("value").unwrap_or(&Value::Null)),
        None => "(error)".to_string(),
    };
    let rows: Vec<Vec<String>> = answer
        .get("summary")
        .and_then(Value::as_array)
        .map(|summary| {
            summary
                .iter()
                .map(|movement| {
                    vec![
                        text(movement, "flag").to_string(),
                        answer_of(movement.get("from").unwrap_or(&Value::Null)),
                        answer_of(movement.get("to").unwrap_or(&Value::Null)),
                        field(movement, "count"),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = format!(
        "{} of {} contexts flip in {} (revision {})\n",
        field(&answer, "flipped"),
        field(&answer, "contexts"),
        text(&answer, "environment"),
        field(&answer, "revision")
    );
    if !rows.is_empty() {
        out.push_str(&table(&["FLAG", "FROM", "TO", "CONTEXTS"], &rows));
    }
    Ok(out)
}
