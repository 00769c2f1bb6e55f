//! Changes: each one is checked against the environment's state as of the write lock,
//! validated by core on the whole resulting snapshot, written with its audit entry in one
//! transaction, and published once committed. In a protected environment a developer's
//! change becomes a change request that another admin approves.

use crate::app::App;
use crate::audit::{self, Record};
use crate::auth::{Caller, Role};
use crate::edit::{self, FlagEdit};
use crate::error::{ApiError, ApiResult};
use crate::publish::{Document, Entry, Kind, Published};
use crate::store::{Write, now_ms};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// A change to an environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Mutation {
    /// Create or replace a flag or segment.
    Put {
        /// Flag or segment.
        kind: Kind,
        /// Its key.
        key: String,
        /// The new definition.
        definition: Value,
    },
    /// Delete a flag or segment.
    Delete {
        /// Flag or segment.
        kind: Kind,
        /// Its key.
        key: String,
    },
    /// Edit a flag (state, kill, rollout, overrides).
    Edit {
        /// The flag.
        key: String,
        /// The edit.
        edit: FlagEdit,
    },
    /// Restore a flag's earlier definition as a new revision.
    Rollback {
        /// The flag.
        key: String,
        /// The environment revision whose definition to restore (default: the one before
        /// the flag's last change).
        to_revision: Option<i64>,
    },
    /// Import a whole snapshot as one revision.
    Import {
        /// The snapshot (format v1).
        snapshot: Value,
        /// Remove flags and segments the snapshot does not have.
        replace: bool,
    },
}

impl Mutation {
    fn action(&self) -> &'static str {
        match self {
            Mutation::Put { kind: Kind::Flag, .. } => "update",
            Mutation::Put { kind: Kind::Segment, .. } => "segment_update",
            Mutation::Delete { kind: Kind::Flag, .. } => "delete",
            Mutation::Delete { kind: Kind::Segment, .. } => "segment_delete",
            Mutation::Edit { edit, .. } => edit.action(),
            Mutation::Rollback { .. } => "rollback",
            Mutation::Import { .. } => "import",
        }
    }
    /// The flag or segment it changes, if one.
    fn target(&self) -> Option<(Kind, &str)> {
        match self {
            Mutation::Put { kind, key, .. } | Mutation::Delete { kind, key } => Some((*kind, key)),
            Mutation::Edit { key, .. } | Mutation::Rollback { key, .. } => Some((Kind::Flag, key)),
            Mutation::Import { .. } => None,
        }
    }
    fn is_kill(&self) -> bool {
        matches!(self, Mutation::Edit { edit: FlagEdit::Kill, .. })
    }
}

/// An applied change.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// The environment.
    pub environment: String,
    /// The revision the change created.
    pub revision: i64,
    /// The flag changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The segment changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// What kind of change.
    pub action: String,
    /// The definition now (absent after a delete or an import).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
    /// The audit entry's sequence number.
    pub audit_seq: i64,
}

/// A change waiting for approval.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeRequest {
    /// Id.
    pub id: String,
    /// Environment.
    pub environment: String,
    /// What kind of change.
    pub action: String,
    /// The flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The segment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The change itself.
    pub request: Value,
    /// The revision of the flag (or, for imports, the environment) it was based on.
    pub base_revision: i64,
    /// Who proposed it.
    pub author: String,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `pending`, `applied` or `rejected`.
    pub status: String,
    /// When it was proposed.
    pub created_at: String,
    /// Who decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
}

/// What a change request turned into.
pub enum Outcome {
    /// Applied and published.
    Applied(Applied),
    /// Waiting for another admin.
    Pending(ChangeRequest),
}

/// Who asks for a change, and why.
pub struct Author<'a> {
    /// The caller.
    pub caller: &'a Caller,
    /// The request id.
    pub request_id: String,
    /// The reason given.
    pub reason: Option<String>,
}

/// When a revision was made (ms); revision 0 was made with the environment.
async fn revision_time(conn: &mut AnyConnection, environment: &str, revision: i64) -> ApiResult<i64> {
    let row = sqlx::query(
        "SELECT COALESCE((SELECT at FROM revisions WHERE environment = $1 AND revision = $2), created_at) AS at \
         FROM environments WHERE key = $1",
    )
    .bind(environment.to_string())
    .bind(revision)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("at")?)
}

/// Loads an environment's current document from the database.
pub async fn load_document(conn: &mut AnyConnection, environment: &str) -> ApiResult<Option<Document>> {
    let Some(row) = sqlx::query("SELECT protected, revision FROM environments WHERE key = $1")
        .bind(environment.to_string())
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let revision: i64 = row.try_get("revision")?;
    let protected: i64 = row.try_get("protected")?;
    let generated_at = revision_time(conn, environment, revision).await?;
    let mut document = Document {
        environment: environment.to_string(),
        protected: protected != 0,
        revision,
        generated_at,
        ..Document::default()
    };
    let rows = sqlx::query(
        "SELECT kind, key, revision, definition, at, principal FROM current_entries WHERE environment = $1",
    )
    .bind(environment.to_string())
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let kind = if kind == "segment" { Kind::Segment } else { Kind::Flag };
        let text: String = row.try_get("definition")?;
        let definition =
            serde_json::from_str(&text).map_err(|e| ApiError::internal(format!("stored definition: {e}")))?;
        let entry = Entry {
            definition,
            revision: row.try_get("revision")?,
            at: row.try_get("at")?,
            principal: row.try_get("principal")?,
        };
        document.entries_mut(kind).insert(row.try_get("key")?, Arc::new(entry));
    }
    Ok(Some(document))
}

/// Loads, compiles and signs the environment's snapshot as the database has it, and
/// installs it in this process (used at start and when another replica published).
pub async fn reload(app: &App, environment: &str) -> ApiResult<bool> {
    let mut conn = app.store.pool.acquire().await?;
    let Some(document) = load_document(&mut conn, environment).await? else { return Ok(false) };
    drop(conn);
    let (bytes, snapshot) = document.compile(None).or_else(|_| {
        // Stored data never fails validation unless core changed; serve it anyway, with
        // the invalid entries answering the caller's default as core specifies.
        let bytes = document.snapshot_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        pennon_core::Snapshot::from_json(&text).map(|snapshot| (bytes, snapshot)).map_err(|e| ApiError::refused(&e))
    })?;
    let published = Published::new(&document, bytes, snapshot, &app.signing_key);
    app.metrics.observe_publish(&published);
    Ok(app.environments.install(document, published))
}

/// The document in force for a write, from memory when it is current.
async fn document_for_write(app: &App, write: &mut Write, environment: &str) -> ApiResult<Arc<Document>> {
    let row = sqlx::query("SELECT revision, protected FROM environments WHERE key = $1")
        .bind(environment.to_string())
        .fetch_optional(&mut *write.tx)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))?;
    let revision: i64 = row.try_get("revision")?;
    let protected = row.try_get::<i64, _>("protected")? != 0;
    if let Some(slot) = app.environments.slot(environment)
        && slot.document.revision == revision
        && slot.document.protected == protected
    {
        return Ok(slot.document.clone());
    }
    let document = load_document(&mut write.tx, environment)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))?;
    Ok(Arc::new(document))
}

fn check_base(kind: Kind, key: &str, current: Option<&Entry>, base: Option<i64>, required: bool) -> ApiResult<()> {
    let current_revision = current.map(|entry| entry.revision);
    match (base, current_revision) {
        (None, Some(_)) if required => Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            format!("{} '{key}' exists: name the revision you based this change on (baseRevision)", kind.as_str()),
        )),
        (None, _) => Ok(()),
        (Some(base), Some(current)) if base == current => Ok(()),
        (Some(0), None) => Ok(()),
        (Some(base), current) => Err(ApiError::conflict(
            match current {
                Some(current) => format!(
                    "{} '{key}' changed since revision {base}: it is at revision {current}; read it and try again",
                    kind.as_str()
                ),
                None => {
                    format!("{} '{key}' does not exist (any more); it was expected at revision {base}", kind.as_str())
                }
            },
            current,
        )),
    }
}

/// The entries a mutation writes: `(kind, key, new definition or None to delete)`, and
/// the definition it restored for a rollback.
async fn entries_for(
    write: &mut Write,
    document: &Document,
    mutation: &Mutation,
    base: Option<i64>,
) -> ApiResult<Vec<(Kind, String, Option<Value>)>> {
    let now = crate::time::rfc3339(now_ms());
    match mutation {
        Mutation::Put { kind, key, definition } => {
            check_base(*kind, key, document.entries(*kind).get(key).map(|e| e.as_ref()), base, true)?;
            if !definition.is_object() {
                return Err(ApiError::bad_request("definition must be a JSON object"));
            }
            Ok(vec![(*kind, key.clone(), Some(definition.clone()))])
        }
        Mutation::Delete { kind, key } => {
            let current = document
                .entries(*kind)
                .get(key)
                .ok_or_else(|| ApiError::not_found(format!("no {} '{key}'", kind.as_str())))?;
            check_base(*kind, key, Some(current), base, true)?;
            Ok(vec![(*kind, key.clone(), None)])
        }
        Mutation::Edit { key, edit } => {
            let current = document.flags.get(key).ok_or_else(|| ApiError::not_found(format!("no flag '{key}'")))?;
            check_base(Kind::Flag, key, Some(current), base, false)?;
            Ok(vec![(Kind::Flag, key.clone(), Some(edit::apply(&current.definition, edit, &now)?))])
        }
        Mutation::Rollback { key, to_revision } => {
            let current = document.flags.get(key);
            check_base(Kind::Flag, key, current.map(|e| e.as_ref()), base, false)?;
            let rows = sqlx::query(
                "SELECT revision, definition FROM entries WHERE environment = $1 AND kind = 'flag' AND key = $2 ORDER BY revision DESC",
            )
            .bind(document.environment.clone())
            .bind(key.clone())
            .fetch_all(&mut *write.tx)
            .await?;
            let versions: Vec<(i64, Option<String>)> = rows
                .iter()
                .map(|row| Ok((row.try_get("revision")?, row.try_get("definition")?)))
                .collect::<Result<_, sqlx::Error>>()?;
            if versions.is_empty() {
                return Err(ApiError::not_found(format!("no flag '{key}'")));
            }
            let target = match to_revision {
                None => versions.get(1).ok_or_else(|| {
                    ApiError::unprocessable(format!("flag '{key}' has no earlier definition to roll back to"))
                })?,
                Some(to) => versions
                    .iter()
                    .find(|(revision, _)| revision <= to)
                    .ok_or_else(|| ApiError::unprocessable(format!("flag '{key}' did not exist at revision {to}")))?,
            };
            let text = target
                .1
                .as_ref()
                .ok_or_else(|| ApiError::unprocessable(format!("flag '{key}' was deleted at revision {}", target.0)))?;
            let definition =
                serde_json::from_str(text).map_err(|e| ApiError::internal(format!("stored definition: {e}")))?;
            Ok(vec![(Kind::Flag, key.clone(), Some(definition))])
        }
        Mutation::Import { snapshot, replace } => {
            if let Some(base) = base
                && base != document.revision
            {
                return Err(ApiError::conflict(
                    format!("environment '{}' is at revision {}, not {base}", document.environment, document.revision),
                    Some(document.revision),
                ));
            }
            let text = snapshot.to_string();
            let compiled = pennon_core::Snapshot::from_json(&text).map_err(|error| ApiError::refused(&error))?;
            if let Some(problem) = compiled.warnings().first() {
                return Err(ApiError::refused(problem));
            }
            let mut out = Vec::new();
            for kind in [Kind::Flag, Kind::Segment] {
                let incoming = snapshot.get(kind.field()).and_then(Value::as_object).cloned().unwrap_or_default();
                if *replace {
                    for key in document.entries(kind).keys().filter(|key| !incoming.contains_key(*key)) {
                        out.push((kind, key.clone(), None));
                    }
                }
                for (key, definition) in incoming {
                    if document.entries(kind).get(&key).map(|e| &e.definition) != Some(&definition) {
                        out.push((kind, key, Some(definition)));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// Applies a change (or files it as a change request), publishing it once committed.
pub async fn apply(
    app: &App,
    author: Author<'_>,
    environment: &str,
    mutation: Mutation,
    base: Option<i64>,
) -> ApiResult<Outcome> {
    let caller = author.caller;
    caller.require_writer()?;
    let mut write = app.store.begin_write().await?;
    let document = document_for_write(app, &mut write, environment).await?;
    if document.protected && author.reason.as_deref().is_none_or(|reason| reason.trim().is_empty()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason_required",
            format!("environment '{environment}' is protected: every change needs a reason"),
        ));
    }
    if document.protected && caller.role == Role::Developer && !mutation.is_kill() {
        // Validate now so that nobody approves a change that cannot apply.
        let changes = entries_for(&mut write, &document, &mutation, base).await?;
        prepare(app, &document, &changes)?;
        let request = propose(&mut write, &document, &author, &mutation, base).await?;
        write.commit().await?;
        return Ok(Outcome::Pending(request));
    }
    let applied = commit_mutation(app, write, &document, &author, &mutation, base, None).await?;
    Ok(Outcome::Applied(applied))
}

/// The next document and its compiled, signed snapshot.
fn prepare(
    app: &App,
    document: &Document,
    changes: &[(Kind, String, Option<Value>)],
) -> ApiResult<(Document, Published)> {
    let mut next = document.clone();
    next.revision += 1;
    next.generated_at = now_ms();
    for (kind, key, definition) in changes {
        match definition {
            Some(definition) => {
                let entry = Entry {
                    definition: definition.clone(),
                    revision: next.revision,
                    at: next.generated_at,
                    principal: String::new(),
                };
                next.entries_mut(*kind).insert(key.clone(), Arc::new(entry));
            }
            None => {
                next.entries_mut(*kind).remove(key);
            }
        }
    }
    let before = app.environments.published(&document.environment).filter(|p| p.revision == document.revision);
    let (bytes, snapshot) = next.compile(before.as_deref())?;
    let published = Published::new(&next, bytes, snapshot, &app.signing_key);
    Ok((next, published))
}

async fn commit_mutation(
    app: &App,
    mut write: Write,
    document: &Document,
    author: &Author<'_>,
    mutation: &Mutation,
    base: Option<i64>,
    detail: Option<Value>,
) -> ApiResult<Applied> {
    let staged = stage(app, &mut write, document, author, mutation, base, detail).await?;
    publish_staged(app, write, staged).await
}

/// A change written inside a transaction that is not committed yet: what
/// [`publish_staged`] installs once it is.
pub struct Staged {
    /// What the change did.
    pub applied: Applied,
    next: Document,
    published: Published,
}

/// Applies a mutation directly (never as a change request) inside `write`, for callers
/// that write their own rows in the same transaction (the rollout controller), then
/// [`publish_staged`].
pub async fn stage_in(
    app: &App,
    write: &mut Write,
    environment: &str,
    author: &Author<'_>,
    mutation: &Mutation,
    base: Option<i64>,
    detail: Option<Value>,
) -> ApiResult<Staged> {
    let document = document_for_write(app, write, environment).await?;
    stage(app, write, &document, author, mutation, base, detail).await
}

/// The document in force for a write (inside its transaction, so it is current).
pub async fn current_document(app: &App, write: &mut Write, environment: &str) -> ApiResult<Arc<Document>> {
    document_for_write(app, write, environment).await
}

async fn stage(
    app: &App,
    write: &mut Write,
    document: &Document,
    author: &Author<'_>,
    mutation: &Mutation,
    base: Option<i64>,
    detail: Option<Value>,
) -> ApiResult<Staged> {
    let changes = entries_for(write, document, mutation, base).await?;
    if changes.is_empty() {
        return Err(ApiError::unprocessable("nothing to change: the import matches what is in force"));
    }
    let (mut next, published) = prepare(app, document, &changes)?;
    let revision = next.revision;
    let at = next.generated_at;
    let principal = author.caller.principal.clone();
    let environment = document.environment.clone();
    sqlx::query("UPDATE environments SET revision = $1 WHERE key = $2")
        .bind(revision)
        .bind(environment.clone())
        .execute(&mut *write.tx)
        .await?;
    let mut action = mutation.action().to_string();
    if let Mutation::Put { kind, key, .. } = mutation
        && !document.entries(*kind).contains_key(key)
    {
        action = if *kind == Kind::Flag { "create".into() } else { "segment_create".into() };
    }
    let mut last_seq = 0;
    for (kind, key, definition) in &changes {
        let text = definition.as_ref().map(Value::to_string);
        sqlx::query("INSERT INTO entries (environment, kind, key, revision, definition, at, principal) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(environment.clone())
            .bind(kind.as_str())
            .bind(key.clone())
            .bind(revision)
            .bind(text.clone())
            .bind(at)
            .bind(principal.clone())
            .execute(&mut *write.tx)
            .await?;
        match text {
            Some(text) => {
                sqlx::query(
                    "INSERT INTO current_entries (environment, kind, key, revision, definition, at, principal) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (environment, kind, key) DO UPDATE SET revision = excluded.revision, definition = excluded.definition, \
                     at = excluded.at, principal = excluded.principal",
                )
                .bind(environment.clone())
                .bind(kind.as_str())
                .bind(key.clone())
                .bind(revision)
                .bind(text)
                .bind(at)
                .bind(principal.clone())
                .execute(&mut *write.tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM current_entries WHERE environment = $1 AND kind = $2 AND key = $3")
                    .bind(environment.clone())
                    .bind(kind.as_str())
                    .bind(key.clone())
                    .execute(&mut *write.tx)
                    .await?;
            }
        }
        let before = document.entries(*kind).get(key).map(|entry| entry.definition.clone());
        let record = Record {
            principal: principal.clone(),
            request_id: author.request_id.clone(),
            environment: Some(environment.clone()),
            action: action.clone(),
            flag: (*kind == Kind::Flag).then(|| key.clone()),
            segment: (*kind == Kind::Segment).then(|| key.clone()),
            revision: Some(revision),
            before,
            after: definition.clone(),
            reason: author.reason.clone(),
            detail: detail.clone(),
        };
        last_seq = audit::append(write, record).await?;
    }
    sqlx::query("INSERT INTO revisions (environment, revision, at, principal, audit_seq) VALUES ($1, $2, $3, $4, $5)")
        .bind(environment.clone())
        .bind(revision)
        .bind(at)
        .bind(principal.clone())
        .bind(last_seq)
        .execute(&mut *write.tx)
        .await?;
    write.notify(&environment).await?;
    let (flag, segment, definition) = match mutation.target() {
        Some((kind, key)) => {
            let definition = changes.first().and_then(|(_, _, definition)| definition.clone());
            let key = Some(key.to_string());
            if kind == Kind::Flag { (key, None, definition) } else { (None, key, definition) }
        }
        None => (None, None, None),
    };
    let applied = Applied { environment, revision, flag, segment, action, definition, audit_seq: last_seq };
    for (kind, key, definition) in &changes {
        if definition.is_some()
            && let Some(entry) = next.entries_mut(*kind).get_mut(key)
        {
            Arc::make_mut(entry).principal = principal.clone();
        }
    }
    Ok(Staged { applied, next, published })
}

/// Commits a write holding a [`Staged`] change and publishes it (SSE at once).
pub async fn publish_staged(app: &App, write: Write, staged: Staged) -> ApiResult<Applied> {
    write.commit().await?;
    let Staged { applied, next, published } = staged;
    app.metrics.observe_publish(&published);
    app.environments.install(next, published);
    Ok(applied)
}

async fn propose(
    write: &mut Write,
    document: &Document,
    author: &Author<'_>,
    mutation: &Mutation,
    base: Option<i64>,
) -> ApiResult<ChangeRequest> {
    let target = mutation.target();
    let base_revision = match (target, base) {
        (_, Some(base)) => base,
        (Some((kind, key)), None) => document.entries(kind).get(key).map_or(0, |entry| entry.revision),
        (None, None) => document.revision,
    };
    let request = serde_json::to_value(mutation).map_err(|e| ApiError::internal(e.to_string()))?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (flag, segment) = match target {
        Some((Kind::Flag, key)) => (Some(key.to_string()), None),
        Some((Kind::Segment, key)) => (None, Some(key.to_string())),
        None => (None, None),
    };
    let created_at = now_ms();
    sqlx::query(
        "INSERT INTO change_requests (id, environment, action, flag, segment, request, base_revision, author, reason, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10)",
    )
    .bind(id.clone())
    .bind(document.environment.clone())
    .bind(mutation.action())
    .bind(flag.clone())
    .bind(segment.clone())
    .bind(request.to_string())
    .bind(base_revision)
    .bind(author.caller.principal.clone())
    .bind(author.reason.clone())
    .bind(created_at)
    .execute(&mut *write.tx)
    .await?;
    audit::append(
        write,
        Record {
            principal: author.caller.principal.clone(),
            request_id: author.request_id.clone(),
            environment: Some(document.environment.clone()),
            action: "change_request".into(),
            flag: flag.clone(),
            segment: segment.clone(),
            revision: None,
            before: target.and_then(|(kind, key)| document.entries(kind).get(key).map(|e| e.definition.clone())),
            after: Some(request.clone()),
            reason: author.reason.clone(),
            detail: Some(serde_json::json!({ "changeRequest": id, "baseRevision": base_revision })),
        },
    )
    .await?;
    let request = ChangeRequest {
        id,
        environment: document.environment.clone(),
        action: mutation.action().to_string(),
        flag,
        segment,
        request,
        base_revision,
        author: author.caller.principal.clone(),
        reason: author.reason.clone(),
        status: "pending".into(),
        created_at: crate::time::rfc3339(created_at),
        decided_by: None,
        decided_at: None,
        decision_reason: None,
    };
    announce_request(write, &request, "pending", created_at);
    Ok(request)
}

fn change_request_from_row(row: &sqlx::any::AnyRow) -> ApiResult<ChangeRequest> {
    let request: String = row.try_get("request")?;
    Ok(ChangeRequest {
        id: row.try_get("id")?,
        environment: row.try_get("environment")?,
        action: row.try_get("action")?,
        flag: row.try_get("flag")?,
        segment: row.try_get("segment")?,
        request: serde_json::from_str(&request).map_err(|e| ApiError::internal(e.to_string()))?,
        base_revision: row.try_get("base_revision")?,
        author: row.try_get("author")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        created_at: crate::time::rfc3339(row.try_get("created_at")?),
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get::<Option<i64>, _>("decided_at")?.map(crate::time::rfc3339),
        decision_reason: row.try_get("decision_reason")?,
    })
}

/// Lists change requests, newest first.
pub async fn list_requests(
    app: &App,
    environment: Option<&str>,
    status: Option<&str>,
) -> ApiResult<Vec<ChangeRequest>> {
    let rows = sqlx::query(
        "SELECT * FROM change_requests WHERE ($1 IS NULL OR environment = $1) AND ($2 IS NULL OR status = $2) ORDER BY created_at DESC, id",
    )
    .bind(environment.map(str::to_string))
    .bind(status.map(str::to_string))
    .fetch_all(&app.store.pool)
    .await?;
    rows.iter().map(change_request_from_row).collect()
}

/// Reads one change request.
pub async fn get_request(app: &App, id: &str) -> ApiResult<ChangeRequest> {
    let row = sqlx::query("SELECT * FROM change_requests WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&app.store.pool)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no change request '{id}'")))?;
    change_request_from_row(&row)
}

async fn pending_request(write: &mut Write, id: &str) -> ApiResult<ChangeRequest> {
    let row = sqlx::query("SELECT * FROM change_requests WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *write.tx)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no change request '{id}'")))?;
    let request = change_request_from_row(&row)?;
    if request.status != "pending" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("change request '{id}' is already {}", request.status),
        ));
    }
    Ok(request)
}

/// A `change_request` event, sent when the write commits.
fn announce_request(write: &mut Write, request: &ChangeRequest, status: &str, at: i64) {
    let data = serde_json::json!({
        "id": request.id,
        "environment": request.environment,
        "flag": request.flag,
        "status": status,
        "at": crate::time::rfc3339(at),
    });
    write.announce(crate::events::Event::new("change_request", Some(&request.environment), data));
}

async fn decide(
    write: &mut Write,
    request: &ChangeRequest,
    status: &str,
    caller: &Caller,
    reason: Option<&str>,
) -> ApiResult<()> {
    let (id, at) = (request.id.as_str(), now_ms());
    announce_request(write, request, status, at);
    sqlx::query(
        "UPDATE change_requests SET status = $1, decided_by = $2, decided_at = $3, decision_reason = $4 WHERE id = $5",
    )
    .bind(status.to_string())
    .bind(caller.principal.clone())
    .bind(at)
    .bind(reason.map(str::to_string))
    .bind(id.to_string())
    .execute(&mut *write.tx)
    .await?;
    Ok(())
}

/// Approves and applies a change request (an admin other than its author).
pub async fn approve(
    app: &App,
    caller: &Caller,
    request_id: String,
    id: &str,
    reason: Option<String>,
) -> ApiResult<Applied> {
    caller.require_admin()?;
    let mut write = app.store.begin_write().await?;
    let request = pending_request(&mut write, id).await?;
    if request.author == caller.principal {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "self_approval",
            "a change request needs an admin other than its author",
        ));
    }
    let mutation: Mutation = serde_json::from_value(request.request.clone())
        .map_err(|e| ApiError::internal(format!("stored change request: {e}")))?;
    let document = document_for_write(app, &mut write, &request.environment).await?;
    let base = Some(request.base_revision);
    decide(&mut write, &request, "applied", caller, reason.as_deref()).await?;
    let author = Author { caller, request_id, reason: request.reason.clone() };
    let detail = serde_json::json!({ "changeRequest": id, "author": request.author, "approvedBy": caller.principal, "approvalReason": reason });
    commit_mutation(app, write, &document, &author, &mutation, base, Some(detail)).await.map_err(|mut error| {
        if error.code == "conflict" {
            error.message = format!("{} — propose the change again on the current revision", error.message);
        }
        error
    })
}

/// What approving a pending change request would publish, built by the same staging
/// path an approval takes (`entries_for`, `prepare`) inside a write that is never
/// committed: the snapshot in force and the proposed one. `409` when the request is
/// decided or stale (its approval would fail the same way).
pub async fn preview(app: &App, id: &str) -> ApiResult<(ChangeRequest, Arc<Published>, Published)> {
    let mut write = app.store.begin_write().await?;
    let request = pending_request(&mut write, id).await?;
    let mutation: Mutation = serde_json::from_value(request.request.clone())
        .map_err(|e| ApiError::internal(format!("stored change request: {e}")))?;
    let document = document_for_write(app, &mut write, &request.environment).await?;
    let changes = entries_for(&mut write, &document, &mutation, Some(request.base_revision)).await?;
    let (_, proposed) = prepare(app, &document, &changes)?;
    drop(write); // rolled back: nothing was written
    let current = crate::sdk::published_at(app, &request.environment, Some(document.revision)).await?;
    Ok((request, current, proposed))
}

/// Rejects a change request (an admin, or its author withdrawing it).
pub async fn reject(
    app: &App,
    caller: &Caller,
    request_id: String,
    id: &str,
    reason: Option<String>,
) -> ApiResult<ChangeRequest> {
    caller.require_reader()?;
    let mut write = app.store.begin_write().await?;
    let request = pending_request(&mut write, id).await?;
    if caller.role != Role::Admin && request.author != caller.principal {
        return Err(ApiError::forbidden("only an admin or the author can reject a change request"));
    }
    decide(&mut write, &request, "rejected", caller, reason.as_deref()).await?;
    let record = Record {
        principal: caller.principal.clone(),
        request_id,
        environment: Some(request.environment.clone()),
        action: "reject".into(),
        flag: request.flag.clone(),
        segment: request.segment.clone(),
        reason: reason.clone(),
        detail: Some(serde_json::json!({ "changeRequest": id })),
        ..Record::default()
    };
    audit::append(&mut write, record).await?;
    write.commit().await?;
    let mut request = request;
    request.status = "rejected".into();
    request.decided_by = Some(caller.principal.clone());
    request.decided_at = Some(crate::time::rfc3339(now_ms()));
    request.decision_reason = reason;
    Ok(request)
}

/// What an environment's settings become (`None`: as they are; on creation: off).
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvironmentSettings {
    /// Whether changes need approval.
    pub protected: Option<bool>,
    /// Whether SDK evaluate calls' contexts are sampled.
    pub sample_contexts: Option<bool>,
}

/// Creates an environment (revision 0, empty), or changes its settings.
pub async fn put_environment(
    app: &App,
    author: Author<'_>,
    key: &str,
    settings: EnvironmentSettings,
    create: bool,
) -> ApiResult<Document> {
    author.caller.require_admin()?;
    let mut write = app.store.begin_write().await?;
    let existing = sqlx::query("SELECT protected, sample_contexts FROM environments WHERE key = $1")
        .bind(key.to_string())
        .fetch_optional(&mut *write.tx)
        .await?;
    let exists = existing.is_some();
    let (was_protected, was_sampling) = match &existing {
        Some(row) => (row.try_get::<i64, _>("protected")? != 0, row.try_get::<i64, _>("sample_contexts")? != 0),
        None => (false, false),
    };
    let protected = settings.protected.unwrap_or(was_protected);
    let sample_contexts = settings.sample_contexts.unwrap_or(was_sampling);
    match (create, exists) {
        (true, true) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "already_exists", format!("environment '{key}' exists")));
        }
        (false, false) => return Err(ApiError::not_found(format!("no environment '{key}'"))),
        _ => {}
    }
    if create {
        if !valid_key(key) {
            return Err(ApiError::unprocessable(format!(
                "'{key}' is not a valid environment key (letters, digits, _ . : -)"
            )));
        }
        sqlx::query("INSERT INTO environments (key, protected, revision, created_at) VALUES ($1, $2, 0, $3)")
            .bind(key.to_string())
            .bind(i64::from(protected))
            .bind(now_ms())
            .execute(&mut *write.tx)
            .await?;
    } else {
        sqlx::query("UPDATE environments SET protected = $1, sample_contexts = $2 WHERE key = $3")
            .bind(i64::from(protected))
            .bind(i64::from(sample_contexts))
            .bind(key.to_string())
            .execute(&mut *write.tx)
            .await?;
    }
    let record = Record {
        principal: author.caller.principal.clone(),
        request_id: author.request_id.clone(),
        environment: Some(key.to_string()),
        action: if create { "environment_create".into() } else { "environment_update".into() },
        reason: author.reason.clone(),
        detail: Some(serde_json::json!({ "protected": protected, "sampleContexts": sample_contexts })),
        ..Record::default()
    };
    audit::append(&mut write, record).await?;
    write.notify(key).await?;
    let document =
        load_document(&mut write.tx, key).await?.ok_or_else(|| ApiError::internal("environment vanished"))?;
    write.commit().await?;
    app.samples.set_enabled(key, sample_contexts);
    reload(app, key).await?;
    Ok(document)
}

/// Keys of environments, flags and segments: the snapshot format's key rule.
pub fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && key.len() <= 256
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-'))
}

/// Every flag's definition as of an environment revision (for export of old revisions).
pub async fn document_at(app: &App, environment: &str, revision: i64) -> ApiResult<Document> {
    let mut conn = app.store.pool.acquire().await?;
    let current = load_document(&mut conn, environment)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no environment '{environment}'")))?;
    if revision > current.revision || revision < 0 {
        return Err(ApiError::not_found(format!(
            "environment '{environment}' has no revision {revision} (newest: {})",
            current.revision
        )));
    }
    let at = revision_time(&mut conn, environment, revision).await?;
    let rows = sqlx::query(
        "SELECT kind, key, revision, definition, at, principal FROM entries WHERE environment = $1 AND revision <= $2 ORDER BY revision ASC",
    )
    .bind(environment.to_string())
    .bind(revision)
    .fetch_all(&mut *conn)
    .await?;
    let mut document = Document {
        environment: environment.to_string(),
        protected: current.protected,
        revision,
        generated_at: at,
        ..Document::default()
    };
    let mut latest: BTreeMap<(String, String), Option<Entry>> = BTreeMap::new();
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let key: String = row.try_get("key")?;
        let text: Option<String> = row.try_get("definition")?;
        let entry = match text {
            Some(text) => Some(Entry {
                definition: serde_json::from_str(&text)
                    .map_err(|e| ApiError::internal(format!("stored definition: {e}")))?,
                revision: row.try_get("revision")?,
                at: row.try_get("at")?,
                principal: row.try_get("principal")?,
            }),
            None => None,
        };
        latest.insert((kind, key), entry);
    }
    for ((kind, key), entry) in latest {
        if let Some(entry) = entry {
            let kind = if kind == "segment" { Kind::Segment } else { Kind::Flag };
            document.entries_mut(kind).insert(key, Arc::new(entry));
        }
    }
    Ok(document)
}
