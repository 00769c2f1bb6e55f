//! What each client subcommand does: the requests it sends and what it prints.

use super::api::{Api, Failure, Reply, exit};
use super::config::{self, Settings};
use super::format::{self, field, pairs, short_time, table, text};
use super::{
    AuditCommand, AuditFilters, ChangeArgs, Command, EnvCommand, Global, OverrideCommand, RolloutCommand,
    SegmentCommand, TokenCommand,
};
use reqwest::Method;
use serde_json::{Map, Value, json};
use std::io::{Read, Write};
use std::path::Path;

/// Runs a client subcommand; returns the exit code after printing its output or the
/// one-line failure.
pub async fn run(global: Global, command: Command) -> u8 {
    let outcome = async {
        if let Command::Completions { shell } = &command {
            return Ok(completions(*shell));
        }
        let file = config::load(&global)?;
        let settings = config::resolve(&global, file);
        let api = Api::new(&settings.url, settings.token.clone())?;
        let client = Client { api, settings };
        client.dispatch(command).await
    }
    .await;
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{failure}");
            failure.exit
        }
    }
}

/// Writes to stdout; a closed pipe (`pennon list | head -1`) is not an error.
fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes a line to stdout.
fn line(text: &str) {
    emit(&format!("{text}\n"));
}

fn completions(shell: clap_complete::Shell) -> u8 {
    let mut command = super::top_command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pennon", &mut script);
    emit(&String::from_utf8_lossy(&script));
    exit::OK
}

/// Reads a local file, or stdin for `-`, as JSON.
pub(super) fn read_json(path: &Path, what: &str) -> Result<Value, Failure> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|error| Failure::usage(what, format!("cannot read {}: {error}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|error| Failure::usage(what, format!("{} is not JSON: {error}", path.display())))
}

/// The reason: the last word or `--reason`.
fn reason_of(said: Option<String>, flag: Option<String>) -> Option<String> {
    said.or(flag)
}

/// Adds `reason` (and `baseRevision`) to a request body when given.
fn with_reason(mut body: Map<String, Value>, reason: Option<String>) -> Value {
    if let Some(reason) = reason {
        body.insert("reason".to_string(), Value::String(reason));
    }
    Value::Object(body)
}

struct Client {
    api: Api,
    settings: Settings,
}

impl Client {
    fn env(&self) -> &str {
        &self.settings.environment
    }

    /// `["api", "v1", "environments", env, …rest]`.
    fn env_path<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut path = vec!["api", "v1", "environments", self.env()];
        path.extend_from_slice(rest);
        path
    }

    /// Prints an answer as JSON (re-indented, unchanged otherwise).
    fn print_json(&self, reply: &Reply) {
        line(&format::pretty_json(&reply.text()));
    }

    /// GET; with `--json` prints the answer and returns `None`, else its JSON.
    async fn read(&self, what: &str, path: &[&str], query: &[(&str, String)]) -> Result<Option<Value>, Failure> {
        let reply = self.api.get(what, path, query).await?;
        if self.settings.json {
            self.print_json(&reply);
            return Ok(None);
        }
        reply.json(what).map(Some)
    }

    /// Sends a change and prints its outcome: the new revision, or the change request
    /// it became (exit 8).
    async fn change(
        &self,
        what: &str,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<u8, Failure> {
        let reply = self.api.send(what, method, path, query, body).await?;
        let answer = reply.json(what)?;
        if self.settings.json {
            self.print_json(&reply);
        }
        if reply.status == 202 {
            if !self.settings.json {
                let request = answer.get("changeRequest").unwrap_or(&answer);
                let id = text(request, "id");
                line(&format!("change request {id}: {what} waits for approval by an admin (pennon approve {id})"));
            }
            return Ok(exit::PENDING);
        }
        if !self.settings.json {
            line(&describe_change(&answer));
        }
        Ok(exit::OK)
    }

    /// The current revision of a flag or segment, `None` when it does not exist.
    async fn current_revision(&self, what: &str, path: &[&str]) -> Result<Option<u64>, Failure> {
        match self.api.get(what, path, &[]).await {
            Ok(reply) => Ok(reply.json(what)?.get("revision").and_then(Value::as_u64)),
            Err(failure) if failure.exit == exit::NOT_FOUND => Ok(None),
            Err(failure) => Err(failure),
        }
    }

    async fn dispatch(&self, command: Command) -> Result<u8, Failure> {
        match command {
            Command::List => self.list().await,
            Command::Get { flag } => self.get(&flag).await,
            Command::Put { flag, file, change } => self.put("flags", &flag, &file, change).await,
            Command::Delete { flag, change } => self.delete("flags", &flag, change).await,
            Command::Set { flag, state, said, percentage, change } => {
                let what = format!("set {flag} {} in {}", state.as_str(), self.env());
                let mut body = Map::new();
                body.insert("state".to_string(), json!(state.as_str()));
                if let Some(percentage) = percentage {
                    body.insert("percentage".to_string(), Value::Number(percentage));
                }
                if let Some(base) = change.base_revision {
                    body.insert("baseRevision".to_string(), json!(base));
                }
                let body = with_reason(body, reason_of(said, change.reason));
                self.change(&what, Method::POST, &self.env_path(&["flags", &flag, "state"]), &[], Some(&body)).await
            }
            Command::Kill { flag, said, reason } => {
                let what = format!("kill {flag} in {}", self.env());
                let body = with_reason(Map::new(), reason_of(said, reason.reason));
                self.change(&what, Method::POST, &self.env_path(&["flags", &flag, "kill"]), &[], Some(&body)).await
            }
            Command::Rollback { flag, said, to, reason } => {
                let what = format!("roll back {flag} in {}", self.env());
                let mut body = Map::new();
                if let Some(to) = to {
                    body.insert("toRevision".to_string(), json!(to));
                }
                let body = with_reason(body, reason_of(said, reason.reason));
                self.change(&what, Method::POST, &self.env_path(&["flags", &flag, "rollback"]), &[], Some(&body)).await
            }
            Command::Rollout(command) => self.rollout(command).await,
            Command::History { flag } => self.history(&flag).await,
            Command::Evaluate { flag, context, now } => self.evaluate(&flag, &context, now).await,
            Command::Status => self.status().await,
            Command::CanaryStatus { flag } => self.canary_status(flag.as_deref()).await,
            Command::Experiment(command) => {
                emit(&super::experiment::run(&self.api, &self.settings, command).await?);
                Ok(exit::OK)
            }
            Command::ContextSets(command) => {
                emit(&super::what_if::context_sets(&self.api, &self.settings, command).await?);
                Ok(exit::OK)
            }
            Command::WhatIf { id, context_set, contexts } => {
                emit(&super::what_if::what_if(&self.api, &self.settings, &id, context_set, contexts).await?);
                Ok(exit::OK)
            }
            Command::Override(command) => self.override_command(command).await,
            Command::Segment(command) => self.segment(command).await,
            Command::Approve { id: None, .. } => self.pending().await,
            Command::Approve { id: Some(id), reason } => {
                let what = format!("approve change request {id}");
                let body = with_reason(Map::new(), reason.reason);
                self.change(&what, Method::POST, &["api", "v1", "change-requests", &id, "approve"], &[], Some(&body))
                    .await
            }
            Command::Reject { id, reason } => {
                let what = format!("reject change request {id}");
                let body = with_reason(Map::new(), reason.reason);
                let reply = self
                    .api
                    .send(&what, Method::POST, &["api", "v1", "change-requests", &id, "reject"], &[], Some(&body))
                    .await?;
                if self.settings.json {
                    self.print_json(&reply);
                } else {
                    let request = reply.json(&what)?;
                    line(&format!("change request {} is {}", text(&request, "id"), field(&request, "status")));
                }
                Ok(exit::OK)
            }
            Command::Env(command) => self.env_command(command).await,
            Command::Token(command) => self.token(command).await,
            Command::Import { file, replace, reason } => {
                let what = format!("import {} into {}", file.display(), self.env());
                let snapshot = read_json(&file, &what)?;
                let mut body = Map::new();
                body.insert("snapshot".to_string(), snapshot);
                body.insert("replace".to_string(), json!(replace));
                let body = with_reason(body, reason.reason);
                self.change(&what, Method::POST, &self.env_path(&["import"]), &[], Some(&body)).await
            }
            Command::Export { revision, out } => self.export(revision, out.as_deref()).await,
            Command::Stale { days } => self.stale(days).await,
            Command::Audit { action: None, filters } => self.audit(&filters).await,
            Command::Audit { action: Some(AuditCommand::Verify), .. } => self.audit_verify().await,
            Command::Audit { action: Some(AuditCommand::Export { filters }), filters: outer } => {
                self.audit_export(&merge_filters(filters, outer)).await
            }
            Command::Completions { shell } => Ok(completions(shell)),
        }
    }

    /// `pennon rollout schedule`: a time-based rollout (no controller).
    #[allow(clippy::too_many_arguments)]
    async fn schedule(
        &self,
        flag: String,
        percentage: Option<serde_json::Number>,
        stages: Option<super::Stages>,
        cohort: super::Cohort,
        start: Option<String>,
        change: ChangeArgs,
    ) -> Result<u8, Failure> {
        let what = format!("set the rollout of {flag} in {}", self.env());
        let mut body = Map::new();
        let cohort = match cohort {
            super::Cohort::Canary => "canary",
            super::Cohort::Fallthrough => "fallthrough",
        };
        body.insert("cohort".to_string(), json!(cohort));
        if let Some(percentage) = percentage {
            body.insert("percentage".to_string(), Value::Number(percentage));
        }
        if let Some(stages) = stages {
            body.insert("stages".to_string(), stages_json(stages, "duration"));
        }
        if let Some(start) = start {
            body.insert("start".to_string(), Value::String(start));
        }
        if let Some(base) = change.base_revision {
            body.insert("baseRevision".to_string(), json!(base));
        }
        let body = with_reason(body, change.reason);
        self.change(&what, Method::PUT, &self.env_path(&["flags", &flag, "rollout"]), &[], Some(&body)).await
    }

    async fn rollout(&self, command: RolloutCommand) -> Result<u8, Failure> {
        let act = |flag: &str, verb: &str, body: Value| {
            let what = format!("{verb} the rollout of {flag} in {}", self.env());
            (what, body)
        };
        let (flag, verb, body) = match command {
            RolloutCommand::Schedule { flag, percentage, stages, cohort, start, change } => {
                return self.schedule(flag, percentage, stages, cohort, start, change).await;
            }
            RolloutCommand::Status { flag } => return self.rollout_status(&flag).await,
            RolloutCommand::Start {
                flag,
                stages,
                plan,
                min_requests,
                approval,
                max_error_rate,
                rollback,
                criteria,
                canary_variant,
                control_variant,
                settle,
                reason,
            } => {
                let what = format!("start the rollout of {flag} in {}", self.env());
                let mut body = match plan {
                    Some(file) => read_json(&file, &what)?,
                    None => json!({}),
                };
                let object =
                    body.as_object_mut().ok_or_else(|| Failure::usage(&what, "the plan must be a JSON object"))?;
                if let Some(stages) = stages {
                    object.insert("stages".to_string(), stages_json(stages, "minDuration"));
                }
                if let Some(Value::Array(stages)) = object.get_mut("stages") {
                    for stage in stages.iter_mut().filter_map(Value::as_object_mut) {
                        let percentage = stage.get("percentage").and_then(Value::as_f64);
                        if let Some(n) = min_requests {
                            stage.insert("minRequests".to_string(), json!(n));
                        }
                        if let Some(rate) = max_error_rate {
                            stage.insert("maxErrorRate".to_string(), json!(rate));
                        }
                        if approval.iter().any(|p| p.as_f64() == percentage) {
                            stage.insert("approval".to_string(), json!(true));
                        }
                    }
                }
                if let Some(criteria) = criteria {
                    let criteria: Value = serde_json::from_str(&criteria)
                        .map_err(|error| Failure::usage(&what, format!("--criteria is not JSON: {error}")))?;
                    object.insert("criteria".to_string(), criteria);
                }
                if let Some(rollback) = rollback {
                    object.insert("rollback".to_string(), json!(rollback.as_str()));
                }
                let named =
                    [("canaryVariant", canary_variant), ("controlVariant", control_variant), ("settle", settle)];
                for (key, value) in named {
                    if let Some(value) = value {
                        object.insert(key.to_string(), Value::String(value));
                    }
                }
                let body = with_reason(object.clone(), reason.reason);
                let reply =
                    self.api.send(&what, Method::POST, &self.env_path(&["rollouts", &flag]), &[], Some(&body)).await?;
                return self.print_rollout(&what, &reply);
            }
            RolloutCommand::Pause { flag, reason } => (flag, "pause", with_reason(Map::new(), reason.reason)),
            RolloutCommand::Resume { flag, reason } => (flag, "resume", with_reason(Map::new(), reason.reason)),
            RolloutCommand::Promote { flag, full, reason } => {
                let mut body = Map::new();
                if full {
                    body.insert("full".to_string(), json!(true));
                }
                (flag, "promote", with_reason(body, reason.reason))
            }
            RolloutCommand::Abort { flag, rollback, reason } => {
                let mut body = Map::new();
                if let Some(rollback) = rollback {
                    body.insert("rollback".to_string(), json!(rollback.as_str()));
                }
                (flag, "abort", with_reason(body, reason.reason))
            }
        };
        let (what, body) = act(&flag, verb, body);
        let reply =
            self.api.send(&what, Method::POST, &self.env_path(&["rollouts", &flag, verb]), &[], Some(&body)).await?;
        self.print_rollout(&what, &reply)
    }

    /// Prints a rollout answer: JSON, or one line.
    fn print_rollout(&self, what: &str, reply: &Reply) -> Result<u8, Failure> {
        if self.settings.json {
            self.print_json(reply);
        } else {
            line(&format::rollout_line(&reply.json(what)?));
        }
        Ok(exit::OK)
    }

    async fn rollout_status(&self, flag: &str) -> Result<u8, Failure> {
        let what = format!("get the rollout of {flag} in {}", self.env());
        let Some(rollout) = self.read(&what, &self.env_path(&["rollouts", flag]), &[]).await? else {
            return Ok(exit::OK);
        };
        line(&format::rollout_line(&rollout));
        if let Some(current) = rollout.get("current").filter(|c| c.is_object()) {
            line(&format!("now: {}", format::judgement_text(current)));
        }
        let rows: Vec<Vec<String>> = rollout
            .get("events")
            .and_then(Value::as_array)
            .map(|events| {
                events
                    .iter()
                    .map(|event| {
                        let judgement = event.get("judgement").filter(|j| j.is_object());
                        vec![
                            field(event, "seq"),
                            short_time(text(event, "at")),
                            field(event, "actor"),
                            field(event, "kind"),
                            field(event, "stage"),
                            event
                                .get("percentage")
                                .filter(|p| !p.is_null())
                                .map_or("-".to_string(), |p| format!("{p}%")),
                            field(event, "revision"),
                            judgement.map_or("-".to_string(), format::judgement_text),
                            field(event, "reason"),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        emit(&table(&["SEQ", "AT", "WHO", "EVENT", "STAGE", "PERCENT", "REV", "JUDGEMENT", "REASON"], &rows));
        Ok(exit::OK)
    }

    async fn list(&self) -> Result<u8, Failure> {
        let what = format!("list the flags of {}", self.env());
        let Some(answer) = self.read(&what, &self.env_path(&["flags"]), &[]).await? else {
            return Ok(exit::OK);
        };
        let now = format::now_millis();
        let flags = answer.get("flags").and_then(Value::as_array).cloned().unwrap_or_default();
        if flags.is_empty() {
            line(&format!("no flags in {} (revision {})", self.env(), field(&answer, "revision")));
            return Ok(exit::OK);
        }
        let rows: Vec<Vec<String>> = flags
            .iter()
            .map(|flag| {
                let definition = flag.get("definition").unwrap_or(&Value::Null);
                let owner = definition.get("metadata").map_or("-".to_string(), |m| field(m, "owner"));
                vec![
                    text(flag, "key").to_string(),
                    field(definition, "type"),
                    field(definition, "state"),
                    format::serving(definition, now),
                    owner,
                    short_time(text(flag, "updatedAt")),
                ]
            })
            .collect();
        emit(&table(&["KEY", "TYPE", "STATE", "SERVING", "OWNER", "UPDATED"], &rows));
        Ok(exit::OK)
    }

    async fn get(&self, flag: &str) -> Result<u8, Failure> {
        let what = format!("get {flag} in {}", self.env());
        let Some(answer) = self.read(&what, &self.env_path(&["flags", flag]), &[]).await? else {
            return Ok(exit::OK);
        };
        let definition = answer.get("definition").unwrap_or(&Value::Null);
        let metadata = definition.get("metadata").unwrap_or(&Value::Null);
        let mut rows = vec![
            ("flag", text(&answer, "key").to_string()),
            ("environment", self.env().to_string()),
            ("revision", field(&answer, "revision")),
            ("updated", format!("{} by {}", short_time(text(&answer, "updatedAt")), field(&answer, "updatedBy"))),
            ("type", field(definition, "type")),
            ("state", field(definition, "state")),
            ("serving", format::serving(definition, format::now_millis())),
        ];
        if metadata.get("owner").is_some() {
            rows.push(("owner", field(metadata, "owner")));
        }
        if metadata.get("description").is_some() {
            rows.push(("description", field(metadata, "description")));
        }
        emit(&pairs(&rows));
        let definition_text = serde_json::to_string_pretty(definition).unwrap_or_default();
        line(&format!("definition:\n{definition_text}"));
        Ok(exit::OK)
    }

    /// `put` and `segment put`: create, or replace based on a revision.
    async fn put(&self, kind: &str, key: &str, file: &Path, change: ChangeArgs) -> Result<u8, Failure> {
        let noun = if kind == "flags" { "" } else { "segment " };
        let what = format!("put {noun}{key} in {}", self.env());
        let document = read_json(file, &what)?;
        // The output of `pennon get --json` carries the definition and the revision read.
        let (definition, read_revision) = match document.get("definition") {
            Some(definition) if definition.is_object() && document.get("key").is_some() => {
                (definition.clone(), document.get("revision").and_then(Value::as_u64))
            }
            _ => (document, None),
        };
        let path = self.env_path(&[kind, key]);
        let base = match change.base_revision.or(read_revision) {
            Some(base) => Some(base),
            None => self.current_revision(&what, &path).await?,
        };
        let mut body = Map::new();
        body.insert("definition".to_string(), definition);
        if let Some(base) = base {
            body.insert("baseRevision".to_string(), json!(base));
        }
        let body = with_reason(body, change.reason);
        self.change(&what, Method::PUT, &path, &[], Some(&body)).await
    }

    /// `delete` and `segment rm`.
    async fn delete(&self, kind: &str, key: &str, change: ChangeArgs) -> Result<u8, Failure> {
        let noun = if kind == "flags" { "" } else { "segment " };
        let what = format!("delete {noun}{key} in {}", self.env());
        let path = self.env_path(&[kind, key]);
        let base = match change.base_revision {
            Some(base) => Some(base),
            None => self.current_revision(&what, &path).await?,
        };
        let mut query = Vec::new();
        if let Some(base) = base {
            query.push(("baseRevision", base.to_string()));
        }
        if let Some(reason) = change.reason {
            query.push(("reason", reason));
        }
        self.change(&what, Method::DELETE, &path, &query, None).await
    }

    async fn history(&self, flag: &str) -> Result<u8, Failure> {
        let what = format!("read the history of {flag} in {}", self.env());
        let Some(answer) = self.read(&what, &self.env_path(&["flags", flag, "history"]), &[]).await? else {
            return Ok(exit::OK);
        };
        let entries = answer.as_array().cloned().unwrap_or_default();
        let rows: Vec<Vec<String>> = entries
            .iter()
            .map(|entry| {
                vec![
                    field(entry, "revision"),
                    short_time(text(entry, "at")),
                    field(entry, "principal"),
                    field(entry, "action"),
                    field(entry, "reason"),
                ]
            })
            .collect();
        emit(&table(&["REV", "AT", "WHO", "ACTION", "REASON"], &rows));
        Ok(exit::OK)
    }

    async fn evaluate(&self, flag: &str, context: &str, now: Option<String>) -> Result<u8, Failure> {
        let what = format!("evaluate {flag} in {}", self.env());
        let context = match context.strip_prefix('@') {
            Some(file) => read_json(Path::new(file), &what)?,
            None if context == "-" => read_json(Path::new("-"), &what)?,
            None => serde_json::from_str(context)
                .map_err(|error| Failure::usage(&what, format!("--context is not JSON: {error}")))?,
        };
        let mut body = Map::new();
        body.insert("context".to_string(), context);
        if let Some(now) = now {
            body.insert("now".to_string(), Value::String(now));
        }
        let body = Value::Object(body);
        let reply =
            self.api.send(&what, Method::POST, &self.env_path(&["flags", flag, "evaluate"]), &[], Some(&body)).await?;
        if self.settings.json {
            self.print_json(&reply);
            return Ok(exit::OK);
        }
        let answer = reply.json(&what)?;
        let mut rows = vec![
            ("value", answer.get("value").map_or("-".to_string(), Value::to_string)),
            ("variant", field(&answer, "variant")),
            ("reason", field(&answer, "reason")),
        ];
        if answer.get("ruleId").is_some_and(|v| !v.is_null()) {
            rows.push(("rule", field(&answer, "ruleId")));
        }
        // Core counts stages from 0; people (and `canary-status`) from 1.
        if let Some(stage) = answer.get("stage").and_then(Value::as_u64) {
            rows.push(("stage", format!("{} (index {stage})", stage + 1)));
        }
        if answer.get("shadowVariant").is_some_and(|v| !v.is_null()) {
            rows.push(("shadow variant", field(&answer, "shadowVariant")));
        }
        if answer.get("errorCode").is_some_and(|v| !v.is_null()) {
            rows.push(("error", format!("{}: {}", field(&answer, "errorCode"), field(&answer, "errorMessage"))));
        }
        rows.push(("revision", field(&answer, "revision")));
        emit(&pairs(&rows));
        Ok(exit::OK)
    }

    async fn status(&self) -> Result<u8, Failure> {
        let what = "read the server's status";
        let Some(answer) = self.read(what, &["api", "v1", "status"], &[]).await? else {
            return Ok(exit::OK);
        };
        emit(&pairs(&[
            ("server", format!("{} ({})", self.settings.url, field(&answer, "version"))),
            ("database", field(&answer, "database")),
        ]));
        let environments = answer.get("environments").and_then(Value::as_array).cloned().unwrap_or_default();
        let rows: Vec<Vec<String>> = environments
            .iter()
            .map(|env| {
                vec![
                    text(env, "key").to_string(),
                    yes_no(env.get("protected")),
                    field(env, "revision"),
                    field(env, "flags"),
                    field(env, "segments"),
                    short_time(text(env, "publishedAt")),
                ]
            })
            .collect();
        line("");
        emit(&table(&["ENVIRONMENT", "PROTECTED", "REVISION", "FLAGS", "SEGMENTS", "PUBLISHED"], &rows));
        Ok(exit::OK)
    }

    async fn canary_status(&self, flag: Option<&str>) -> Result<u8, Failure> {
        let now = format::now_millis();
        let flags: Vec<Value> = match flag {
            Some(flag) => {
                let what = format!("get {flag} in {}", self.env());
                vec![self.api.get(&what, &self.env_path(&["flags", flag]), &[]).await?.json(&what)?]
            }
            None => {
                let what = format!("list the flags of {}", self.env());
                let answer = self.api.get(&what, &self.env_path(&["flags"]), &[]).await?.json(&what)?;
                answer.get("flags").and_then(Value::as_array).cloned().unwrap_or_default()
            }
        };
        // Rollouts the controller guards: their row replaces the flag's canary row.
        let what = format!("list the rollouts of {}", self.env());
        let rollouts = self.api.get(&what, &self.env_path(&["rollouts"]), &[]).await?.json(&what)?;
        let guarded: Vec<&Value> = rollouts
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|r| matches!(text(r, "status"), "running" | "paused" | "awaiting_approval"))
                    .filter(|r| flag.is_none_or(|flag| text(r, "flag") == flag))
                    .collect()
            })
            .unwrap_or_default();
        let mut rows: Vec<format::CanaryRow> = guarded.iter().map(|r| format::guarded_row(r)).collect();
        for flag in &flags {
            let definition = flag.get("definition").unwrap_or(&Value::Null);
            let key = text(flag, "key");
            let watched = guarded.iter().any(|r| text(r, "flag") == key);
            rows.extend(
                format::canary_rows(key, definition, now)
                    .into_iter()
                    .filter(|row| !(watched && row.cohort == "canary")),
            );
        }
        if self.settings.json {
            let items: Vec<Value> = rows
                .iter()
                .map(|row| {
                    let (stage, stages, next_at, paused) = match &row.progress {
                        format::Progress::Staged { stage, count, next_at, paused, .. } => {
                            (stage.map(|s| s + 1), Some(*count), *next_at, *paused)
                        }
                        format::Progress::Guarded { stage, count, next_at, status, .. } => {
                            (usize::try_from(*stage).ok(), usize::try_from(*count).ok(), *next_at, status == "paused")
                        }
                        format::Progress::Gradual { done_at, .. } => (None, None, *done_at, false),
                        _ => (None, None, None, false),
                    };
                    let rollout = guarded.iter().find(|r| row.judgement.is_some() && text(r, "flag") == row.key);
                    json!({
                        "key": row.key,
                        "state": row.state,
                        "cohort": row.cohort,
                        "percentage": row.progress.percentage().trim_end_matches('%').parse::<f64>().ok(),
                        "stage": stage,
                        "stages": stages,
                        "paused": paused,
                        "nextAt": next_at.and_then(pennon_core::time::format_timestamp),
                        "status": rollout.map(|r| r["status"].clone()),
                        "judgement": rollout.map(|r| r["current"].clone()),
                    })
                })
                .collect();
            line(&serde_json::to_string_pretty(&items).unwrap_or_default());
            return Ok(exit::OK);
        }
        if rows.is_empty() {
            match flag {
                Some(flag) => line(&format!("{flag} is not in canary and has no rollout in {}", self.env())),
                None => line(&format!("no canaries or rollouts in {}", self.env())),
            }
            return Ok(exit::OK);
        }
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                vec![
                    row.key.clone(),
                    row.state.clone(),
                    row.cohort.to_string(),
                    row.progress.percentage(),
                    row.progress.stage(),
                    row.progress.next(),
                    row.judgement.clone().unwrap_or_else(|| "-".to_string()),
                ]
            })
            .collect();
        emit(&table(&["KEY", "STATE", "COHORT", "PERCENT", "STAGE", "NEXT", "JUDGEMENT"], &rows));
        Ok(exit::OK)
    }

    async fn override_command(&self, command: OverrideCommand) -> Result<u8, Failure> {
        match command {
            OverrideCommand::Set { flag, tenant, variant, expires, note, reason } => {
                let what = format!("set the override of {flag} for {tenant} in {}", self.env());
                let mut body = Map::new();
                body.insert("variant".to_string(), Value::String(variant));
                if let Some(expires) = expires {
                    body.insert("expiresAt".to_string(), Value::String(expires));
                }
                if let Some(note) = note {
                    body.insert("note".to_string(), Value::String(note));
                }
                let body = with_reason(body, reason.reason);
                let path = self.env_path(&["flags", &flag, "overrides", &tenant]);
                self.change(&what, Method::PUT, &path, &[], Some(&body)).await
            }
            OverrideCommand::Rm { flag, tenant, reason } => {
                let what = format!("remove the override of {flag} for {tenant} in {}", self.env());
                let query: Vec<(&str, String)> = reason.reason.map(|r| ("reason", r)).into_iter().collect();
                let path = self.env_path(&["flags", &flag, "overrides", &tenant]);
                self.change(&what, Method::DELETE, &path, &query, None).await
            }
        }
    }

    async fn segment(&self, command: SegmentCommand) -> Result<u8, Failure> {
        match command {
            SegmentCommand::List => {
                let what = format!("list the segments of {}", self.env());
                let Some(answer) = self.read(&what, &self.env_path(&["segments"]), &[]).await? else {
                    return Ok(exit::OK);
                };
                let segments = answer.get("segments").and_then(Value::as_array).cloned().unwrap_or_default();
                let rows: Vec<Vec<String>> = segments
                    .iter()
                    .map(|segment| {
                        let definition = segment.get("definition").unwrap_or(&Value::Null);
                        let count = |key: &str| definition.get(key).and_then(Value::as_array).map_or(0, Vec::len);
                        vec![
                            text(segment, "key").to_string(),
                            field(segment, "revision"),
                            count("included").to_string(),
                            count("excluded").to_string(),
                            yes_no(Some(&json!(definition.get("when").is_some()))),
                            short_time(text(segment, "updatedAt")),
                            field(definition, "description"),
                        ]
                    })
                    .collect();
                emit(&table(&["KEY", "REV", "INCLUDED", "EXCLUDED", "RULE", "UPDATED", "DESCRIPTION"], &rows));
                Ok(exit::OK)
            }
            SegmentCommand::Get { segment } => {
                let what = format!("get segment {segment} in {}", self.env());
                let Some(answer) = self.read(&what, &self.env_path(&["segments", &segment]), &[]).await? else {
                    return Ok(exit::OK);
                };
                emit(&pairs(&[
                    ("segment", text(&answer, "key").to_string()),
                    ("environment", self.env().to_string()),
                    ("revision", field(&answer, "revision")),
                    (
                        "updated",
                        format!("{} by {}", short_time(text(&answer, "updatedAt")), field(&answer, "updatedBy")),
                    ),
                ]));
                let definition = answer.get("definition").unwrap_or(&Value::Null);
                line(&format!("definition:\n{}", serde_json::to_string_pretty(definition).unwrap_or_default()));
                Ok(exit::OK)
            }
            SegmentCommand::Put { segment, file, change } => self.put("segments", &segment, &file, change).await,
            SegmentCommand::Rm { segment, change } => self.delete("segments", &segment, change).await,
        }
    }

    async fn pending(&self) -> Result<u8, Failure> {
        let what = "list pending change requests";
        let mut query = vec![("status", "pending".to_string())];
        if self.settings.environment_explicit {
            query.push(("environment", self.env().to_string()));
        }
        let Some(answer) = self.read(what, &["api", "v1", "change-requests"], &query).await? else {
            return Ok(exit::OK);
        };
        let requests = answer.as_array().cloned().unwrap_or_default();
        if requests.is_empty() {
            line("no pending change requests");
            return Ok(exit::OK);
        }
        let rows: Vec<Vec<String>> = requests
            .iter()
            .map(|request| {
                vec![
                    field(request, "id"),
                    field(request, "environment"),
                    field(request, "action"),
                    target(request),
                    field(request, "author"),
                    short_time(text(request, "createdAt")),
                    field(request, "reason"),
                ]
            })
            .collect();
        emit(&table(&["ID", "ENV", "ACTION", "TARGET", "AUTHOR", "CREATED", "REASON"], &rows));
        Ok(exit::OK)
    }

    async fn env_command(&self, command: EnvCommand) -> Result<u8, Failure> {
        let (what, reply) = match command {
            EnvCommand::List => {
                let what = "list the environments".to_string();
                let Some(answer) = self.read(&what, &["api", "v1", "environments"], &[]).await? else {
                    return Ok(exit::OK);
                };
                let rows: Vec<Vec<String>> = answer
                    .as_array()
                    .map(|envs| {
                        envs.iter()
                            .map(|env| {
                                vec![text(env, "key").to_string(), yes_no(env.get("protected")), field(env, "revision")]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                emit(&table(&["ENVIRONMENT", "PROTECTED", "REVISION"], &rows));
                return Ok(exit::OK);
            }
            EnvCommand::Create { key, protected } => {
                let what = format!("create environment {key}");
                let body = json!({"key": key, "protected": protected});
                let reply =
                    self.api.send(&what, Method::POST, &["api", "v1", "environments"], &[], Some(&body)).await?;
                (what, reply)
            }
            EnvCommand::Protect { key } => self.patch_env(&key, true).await?,
            EnvCommand::Unprotect { key } => self.patch_env(&key, false).await?,
        };
        if self.settings.json {
            self.print_json(&reply);
        } else {
            let env = reply.json(&what)?;
            let protected =
                if env.get("protected").and_then(Value::as_bool) == Some(true) { "protected" } else { "not protected" };
            line(&format!("environment {}: {protected}, revision {}", text(&env, "key"), field(&env, "revision")));
        }
        Ok(exit::OK)
    }

    async fn patch_env(&self, key: &str, protected: bool) -> Result<(String, Reply), Failure> {
        let verb = if protected { "protect" } else { "unprotect" };
        let what = format!("{verb} environment {key}");
        let body = json!({"protected": protected});
        let reply = self.api.send(&what, Method::PATCH, &["api", "v1", "environments", key], &[], Some(&body)).await?;
        Ok((what, reply))
    }

    async fn token(&self, command: TokenCommand) -> Result<u8, Failure> {
        match command {
            TokenCommand::List => {
                let what = "list the tokens";
                let Some(answer) = self.read(what, &["api", "v1", "tokens"], &[]).await? else {
                    return Ok(exit::OK);
                };
                let rows: Vec<Vec<String>> = answer
                    .as_array()
                    .map(|tokens| {
                        tokens
                            .iter()
                            .map(|token| {
                                vec![
                                    field(token, "id"),
                                    field(token, "name"),
                                    field(token, "role"),
                                    field(token, "environment"),
                                    short_time(text(token, "createdAt")),
                                    field(token, "createdBy"),
                                    token.get("revokedAt").and_then(Value::as_str).map_or("-".to_string(), short_time),
                                ]
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                emit(&table(&["ID", "NAME", "ROLE", "ENV", "CREATED", "BY", "REVOKED"], &rows));
                Ok(exit::OK)
            }
            TokenCommand::Create { name, role } => {
                let what = format!("create token {name}");
                let mut body = Map::new();
                body.insert("name".to_string(), json!(name));
                body.insert("role".to_string(), json!(role.as_str()));
                if role == super::Role::Sdk {
                    body.insert("environment".to_string(), json!(self.env()));
                }
                let body = Value::Object(body);
                let reply = self.api.send(&what, Method::POST, &["api", "v1", "tokens"], &[], Some(&body)).await?;
                if self.settings.json {
                    self.print_json(&reply);
                } else {
                    let token = reply.json(&what)?;
                    let scope = token.get("environment").and_then(Value::as_str).map(|e| format!(" for {e}"));
                    line(&format!(
                        "created token {} ({}, {}{}); its secret is shown only now:",
                        text(&token, "name"),
                        field(&token, "id"),
                        text(&token, "role"),
                        scope.unwrap_or_default()
                    ));
                    line(text(&token, "token"));
                }
                Ok(exit::OK)
            }
            TokenCommand::Revoke { id } => {
                let what = format!("revoke token {id}");
                let reply = self.api.send(&what, Method::DELETE, &["api", "v1", "tokens", &id], &[], None).await?;
                if self.settings.json {
                    self.print_json(&reply);
                } else {
                    let token = reply.json(&what)?;
                    line(&format!("revoked token {} ({})", field(&token, "name"), field(&token, "id")));
                }
                Ok(exit::OK)
            }
        }
    }

    async fn export(&self, revision: Option<u64>, out: Option<&Path>) -> Result<u8, Failure> {
        let what = format!("export {}", self.env());
        let query: Vec<(&str, String)> = revision.map(|r| ("revision", r.to_string())).into_iter().collect();
        let reply = self.api.get(&what, &self.env_path(&["snapshot"]), &query).await?;
        let Some(dir) = out else {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&reply.body);
            let _ = stdout.flush();
            return Ok(exit::OK);
        };
        let write = |name: &str, bytes: &[u8]| -> Result<String, Failure> {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|error| {
                Failure::new(exit::OTHER, &what, format!("cannot write {}: {error}", path.display()), "io")
            })?;
            Ok(path.display().to_string())
        };
        std::fs::create_dir_all(dir).map_err(|error| {
            Failure::new(exit::OTHER, &what, format!("cannot create {}: {error}", dir.display()), "io")
        })?;
        let snapshot = write("snapshot.json", &reply.body)?;
        let revision = reply
            .header("pennon-revision")
            .map(str::to_string)
            .or_else(|| reply.json(&what).ok().and_then(|s| s.get("revision").map(Value::to_string)))
            .unwrap_or_else(|| "?".to_string());
        let mut written = vec![(snapshot, format!("revision {revision}, {} bytes", reply.body.len()))];
        match reply.header("pennon-signature") {
            Some(signature) => {
                written.push((write("snapshot.json.sig", signature.as_bytes())?, "signature".to_string()))
            }
            None => {
                written.push(("snapshot.json.sig".to_string(), "not written: no Pennon-Signature header".to_string()))
            }
        }
        match reply.header("etag") {
            Some(etag) => written.push((write("etag", etag.as_bytes())?, format!("ETag {etag}"))),
            None => written.push(("etag".to_string(), "not written: no ETag header".to_string())),
        }
        if self.settings.json {
            let files: Vec<Value> = written.iter().map(|(path, note)| json!({"path": path, "note": note})).collect();
            line(
                &serde_json::to_string_pretty(
                    &json!({"environment": self.env(), "revision": revision, "files": files}),
                )
                .unwrap_or_default(),
            );
        } else {
            for (path, note) in written {
                line(&format!("wrote {path} ({note})"));
            }
        }
        Ok(exit::OK)
    }

    async fn stale(&self, days: Option<u32>) -> Result<u8, Failure> {
        let what = format!("list stale flags of {}", self.env());
        let query: Vec<(&str, String)> = days.map(|d| ("days", d.to_string())).into_iter().collect();
        let Some(answer) = self.read(&what, &self.env_path(&["stale"]), &query).await? else {
            return Ok(exit::OK);
        };
        let flags = answer.as_array().cloned().unwrap_or_default();
        if flags.is_empty() {
            line(&format!("no stale flags in {}", self.env()));
            return Ok(exit::OK);
        }
        let rows: Vec<Vec<String>> = flags
            .iter()
            .map(|flag| {
                let reasons: Vec<&str> = flag
                    .get("reasons")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                vec![
                    text(flag, "key").to_string(),
                    field(flag, "state"),
                    reasons.join(", "),
                    flag.get("since").and_then(Value::as_str).map_or("-".to_string(), short_time),
                ]
            })
            .collect();
        emit(&table(&["KEY", "STATE", "REASONS", "SINCE"], &rows));
        Ok(exit::OK)
    }

    fn audit_query(&self, filters: &AuditFilters) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if self.settings.environment_explicit {
            query.push(("environment", self.env().to_string()));
        }
        let pairs = [
            ("flag", filters.flag.clone()),
            ("principal", filters.principal.clone()),
            ("action", filters.action.clone()),
            ("since", filters.since.clone()),
            ("until", filters.until.clone()),
            ("limit", filters.limit.map(|l| l.to_string())),
            ("before", filters.before.map(|b| b.to_string())),
        ];
        query.extend(pairs.into_iter().filter_map(|(key, value)| value.map(|v| (key, v))));
        query
    }

    async fn audit(&self, filters: &AuditFilters) -> Result<u8, Failure> {
        let what = "read the audit log";
        let query = self.audit_query(filters);
        let Some(answer) = self.read(what, &["api", "v1", "audit"], &query).await? else {
            return Ok(exit::OK);
        };
        let rows: Vec<Vec<String>> = answer
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|entry| {
                        vec![
                            field(entry, "seq"),
                            short_time(text(entry, "at")),
                            field(entry, "principal"),
                            field(entry, "environment"),
                            field(entry, "action"),
                            target(entry),
                            field(entry, "revision"),
                            field(entry, "reason"),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default();
        emit(&table(&["SEQ", "AT", "WHO", "ENV", "ACTION", "TARGET", "REV", "REASON"], &rows));
        Ok(exit::OK)
    }

    async fn audit_verify(&self) -> Result<u8, Failure> {
        let what = "verify the audit log";
        let reply = self.api.get(what, &["api", "v1", "audit", "verify"], &[]).await?;
        let answer = reply.json(what)?;
        let ok = answer.get("ok").and_then(Value::as_bool) == Some(true);
        if self.settings.json {
            self.print_json(&reply);
        } else if ok {
            line(&format!("ok: {} entries, head {}", field(&answer, "entries"), field(&answer, "headHash")));
        }
        if ok {
            return Ok(exit::OK);
        }
        let bad = answer.get("firstBad").unwrap_or(&Value::Null);
        let failure = Failure::new(
            exit::BROKEN_CHAIN,
            what,
            format!("the chain breaks at entry {}: {}", field(bad, "seq"), field(bad, "problem")),
            "chain_broken",
        );
        Err(failure)
    }

    async fn audit_export(&self, filters: &AuditFilters) -> Result<u8, Failure> {
        let what = "export the audit log";
        let query = self.audit_query(filters);
        let mut response = self.api.stream(what, &["api", "v1", "audit", "export"], &query).await?;
        let mut stdout = std::io::stdout().lock();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if stdout.write_all(&chunk).is_err() {
                        return Ok(exit::OK);
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    return Err(Failure::new(
                        exit::UNREACHABLE,
                        what,
                        format!("the answer broke off: {error}"),
                        "unreachable",
                    ));
                }
            }
        }
        let _ = stdout.flush();
        Ok(exit::OK)
    }
}

/// Audit filters given before or after `export`: the ones after win.
fn merge_filters(inner: AuditFilters, outer: AuditFilters) -> AuditFilters {
    AuditFilters {
        flag: inner.flag.or(outer.flag),
        principal: inner.principal.or(outer.principal),
        action: inner.action.or(outer.action),
        since: inner.since.or(outer.since),
        until: inner.until.or(outer.until),
        limit: inner.limit.or(outer.limit),
        before: inner.before.or(outer.before),
    }
}

/// `--stages` as the API takes them, the duration under `duration_key`.
fn stages_json(stages: super::Stages, duration_key: &str) -> Value {
    let stages = stages.0.into_iter().map(|stage| {
        let mut object = Map::new();
        object.insert("percentage".to_string(), Value::Number(stage.percentage));
        if let Some(duration) = stage.duration {
            object.insert(duration_key.to_string(), Value::String(duration));
        }
        Value::Object(object)
    });
    Value::Array(stages.collect())
}

/// `yes` / `no` for a boolean field.
fn yes_no(value: Option<&Value>) -> String {
    match value.and_then(Value::as_bool) {
        Some(true) => "yes".to_string(),
        Some(false) => "no".to_string(),
        None => "-".to_string(),
    }
}

/// The flag or segment an audit entry or change request is about.
fn target(entry: &Value) -> String {
    if let Some(flag) = entry.get("flag").and_then(Value::as_str) {
        return flag.to_string();
    }
    if let Some(segment) = entry.get("segment").and_then(Value::as_str) {
        return format!("segment {segment}");
    }
    "-".to_string()
}

/// One line for an applied change:
/// `development revision 5: kill checkout.new (state kill, serving off)`.
pub fn describe_change(change: &Value) -> String {
    let mut out =
        format!("{} revision {}: {}", text(change, "environment"), field(change, "revision"), field(change, "action"));
    let subject = target(change);
    if subject != "-" {
        out.push(' ');
        out.push_str(&subject);
    }
    if let Some(definition) = change.get("definition").filter(|d| d.is_object())
        && change.get("flag").is_some()
        && definition.get("state").is_some()
    {
        let serving = format::serving(definition, format::now_millis());
        out.push_str(&format!(" (state {}, serving {serving})", field(definition, "state")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_described_in_one_line() {
        let change = json!({"environment": "development", "revision": 5, "flag": "checkout", "action": "kill",
            "definition": {"type": "boolean", "state": "kill", "variants": {"on": true, "off": false},
                "offVariant": "off", "fallthrough": {"variant": "on"}}, "auditSeq": 9});
        assert_eq!(describe_change(&change), "development revision 5: kill checkout (state kill, serving off)");
        let segment = json!({"environment": "staging", "revision": 2, "segment": "staff", "action": "segment_delete"});
        assert_eq!(describe_change(&segment), "staging revision 2: segment_delete segment staff");
    }

    #[test]
    fn later_audit_filters_win() {
        let inner = AuditFilters { flag: Some("a".into()), ..AuditFilters::default() };
        let outer = AuditFilters { flag: Some("b".into()), limit: Some(3), ..AuditFilters::default() };
        let merged = merge_filters(inner, outer);
        assert_eq!(merged.flag.as_deref(), Some("a"));
        assert_eq!(merged.limit, Some(3));
    }
}
