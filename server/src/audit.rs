//! The audit trail: every change writes one entry in the same transaction as the change.
//! Entries are append-only and hash-chained: each carries the SHA-256 of the one before,
//! so an edited, removed or inserted entry breaks the chain and `verify` finds it.

use crate::error::ApiResult;
use crate::store::{Store, Write, now_ms};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a change writes to the trail.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Who: the token's principal.
    pub principal: String,
    /// The request that made the change.
    pub request_id: String,
    /// The environment, for changes inside one.
    pub environment: Option<String>,
    /// What kind of change (`create`, `kill`, `rollback`, …).
    pub action: String,
    /// The flag changed.
    pub flag: Option<String>,
    /// The segment changed.
    pub segment: Option<String>,
    /// The environment revision the change created.
    pub revision: Option<i64>,
    /// The definition before.
    pub before: Option<Value>,
    /// The definition after.
    pub after: Option<Value>,
    /// Why, in the author's words.
    pub reason: Option<String>,
    /// Anything else worth keeping (a change request id, a token id…).
    pub detail: Option<Value>,
}

/// One entry of the trail, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who.
    pub principal: String,
    /// The request id.
    pub request_id: String,
    /// Environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// What kind of change.
    pub action: String,
    /// Flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Segment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The environment revision it created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// Definition before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// Definition after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// More about the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The stored form: JSON columns as text, `at` in milliseconds.
struct Stored {
    seq: i64,
    at: i64,
    principal: String,
    request_id: String,
    environment: Option<String>,
    action: String,
    flag: Option<String>,
    segment: Option<String>,
    revision: Option<i64>,
    before: Option<String>,
    after: Option<String>,
    reason: Option<String>,
    detail: Option<String>,
    prev_hash: String,
    hash: String,
}

impl Stored {
    /// SHA-256 over a JSON array of every field but the hash itself.
    fn digest(&self) -> String {
        let canonical = json!([
            self.seq,
            self.at,
            self.principal,
            self.request_id,
            self.environment,
            self.action,
            self.flag,
            self.segment,
            self.revision,
            self.before,
            self.after,
            self.reason,
            self.detail,
            self.prev_hash,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    fn from_row(row: &AnyRow) -> Result<Stored, sqlx::Error> {
        Ok(Stored {
            seq: row.try_get("seq")?,
            at: row.try_get("at")?,
            principal: row.try_get("principal")?,
            request_id: row.try_get("request_id")?,
            environment: row.try_get("environment")?,
            action: row.try_get("action")?,
            flag: row.try_get("flag")?,
            segment: row.try_get("segment")?,
            revision: row.try_get("revision")?,
            before: row.try_get("before_json")?,
            after: row.try_get("after_json")?,
            reason: row.try_get("reason")?,
            detail: row.try_get("detail")?,
            prev_hash: row.try_get("prev_hash")?,
            hash: row.try_get("hash")?,
        })
    }

    fn entry(self) -> Entry {
        let parse = |text: Option<String>| text.and_then(|text| serde_json::from_str(&text).ok());
        Entry {
            seq: self.seq,
            at: crate::time::rfc3339(self.at),
            principal: self.principal,
            request_id: self.request_id,
            environment: self.environment,
            action: self.action,
            flag: self.flag,
            segment: self.segment,
            revision: self.revision,
            before: parse(self.before),
            after: parse(self.after),
            reason: self.reason,
            detail: parse(self.detail),
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// Appends an entry inside the write's transaction and advances the head; returns its
/// sequence number.
pub async fn append(write: &mut Write, record: Record) -> ApiResult<i64> {
    let text = |value: &Option<Value>| value.as_ref().map(Value::to_string);
    let mut stored = Stored {
        seq: write.head.seq + 1,
        at: now_ms(),
        principal: record.principal,
        request_id: record.request_id,
        environment: record.environment,
        action: record.action,
        flag: record.flag,
        segment: record.segment,
        revision: record.revision,
        before: text(&record.before),
        after: text(&record.after),
        reason: record.reason,
        detail: text(&record.detail),
        prev_hash: write.head.hash.clone(),
        hash: String::new(),
    };
    stored.hash = stored.digest();
    sqlx::query(
        "INSERT INTO audit (seq, at, principal, request_id, environment, action, flag, segment, revision, \
         before_json, after_json, reason, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(stored.seq)
    .bind(stored.at)
    .bind(stored.principal.clone())
    .bind(stored.request_id.clone())
    .bind(stored.environment.clone())
    .bind(stored.action.clone())
    .bind(stored.flag.clone())
    .bind(stored.segment.clone())
    .bind(stored.revision)
    .bind(stored.before.clone())
    .bind(stored.after.clone())
    .bind(stored.reason.clone())
    .bind(stored.detail.clone())
    .bind(stored.prev_hash.clone())
    .bind(stored.hash.clone())
    .execute(&mut *write.tx)
    .await?;
    write.announce(crate::events::Event::new(
        "audit",
        stored.environment.as_deref(),
        json!({
            "id": stored.seq,
            "environment": stored.environment,
            "action": stored.action,
            "flag": stored.flag,
            "segment": stored.segment,
            "principal": stored.principal,
            "at": crate::time::rfc3339(stored.at),
        }),
    ));
    write.head.seq = stored.seq;
    write.head.hash = stored.hash;
    Ok(stored.seq)
}

/// Which entries to read.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Only this environment.
    pub environment: Option<String>,
    /// Only this flag.
    pub flag: Option<String>,
    /// Only changes by this principal.
    pub principal: Option<String>,
    /// Only entries of this action (`state`, `kill`, `rollback`, `change_request`…).
    pub action: Option<String>,
    /// Only entries at or after this instant (RFC 3339).
    pub since: Option<String>,
    /// Only entries before this instant (RFC 3339).
    pub until: Option<String>,
    /// At most this many (default 100, at most 10,000; export: no limit).
    pub limit: Option<i64>,
    /// Only entries with a sequence number below this one (paging backwards).
    pub before: Option<i64>,
}

/// Reads entries, newest first (`oldest_first` for export).
pub async fn query(store: &Store, filter: &Filter, oldest_first: bool, limit: Option<i64>) -> ApiResult<Vec<Entry>> {
    let mut sql = String::from("SELECT * FROM audit WHERE 1 = 1");
    let mut texts: Vec<String> = Vec::new();
    let mut numbers: Vec<i64> = Vec::new();
    let mut binds: Vec<bool> = Vec::new(); // true: text, false: number, in order
    let mut n = 0;
    let mut add_text = |sql: &mut String, column: &str, value: &str| {
        n += 1;
        sql.push_str(&format!(" AND {column} = ${n}"));
        texts.push(value.to_string());
        binds.push(true);
    };
    if let Some(environment) = &filter.environment {
        add_text(&mut sql, "environment", environment);
    }
    if let Some(flag) = &filter.flag {
        add_text(&mut sql, "flag", flag);
    }
    if let Some(principal) = &filter.principal {
        add_text(&mut sql, "principal", principal);
    }
    if let Some(action) = &filter.action {
        add_text(&mut sql, "action", action);
    }
    let mut add_number = |sql: &mut String, condition: &str, value: i64| {
        n += 1;
        sql.push_str(&format!(" AND {condition} ${n}"));
        numbers.push(value);
        binds.push(false);
    };
    if let Some(since) = &filter.since {
        add_number(&mut sql, "at >=", crate::time::parse(since, "since")?);
    }
    if let Some(until) = &filter.until {
        add_number(&mut sql, "at <", crate::time::parse(until, "until")?);
    }
    if let Some(before) = filter.before {
        add_number(&mut sql, "seq <", before);
    }
    sql.push_str(if oldest_first { " ORDER BY seq ASC" } else { " ORDER BY seq DESC" });
    if let Some(limit) = limit {
        sql.push_str(&format!(" LIMIT {}", limit.clamp(1, 10_000)));
    }
    let mut query = sqlx::query(&sql);
    let (mut t, mut u) = (texts.into_iter(), numbers.into_iter());
    for is_text in binds {
        query = if is_text { query.bind(t.next()) } else { query.bind(u.next()) };
    }
    let rows = query.fetch_all(&store.pool).await?;
    rows.iter().map(|row| Stored::from_row(row).map(Stored::entry).map_err(Into::into)).collect()
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Every entry's hash is right and each links to the one before, without gaps.
    pub ok: bool,
    /// Entries checked.
    pub entries: i64,
    /// The newest entry's hash.
    pub head_hash: String,
    /// The first entry that breaks the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<Value>,
}

/// Recomputes every hash and link, oldest first, and checks the head row agrees.
pub async fn verify(store: &Store) -> ApiResult<Verification> {
    let rows = sqlx::query("SELECT * FROM audit ORDER BY seq ASC").fetch_all(&store.pool).await?;
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&store.pool).await?;
    let (head_seq, head_hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
    let mut previous = GENESIS.to_string();
    let mut count = 0;
    let bad = |seq: i64, problem: &str| Some(json!({ "seq": seq, "problem": problem }));
    let mut first_bad = None;
    for (expected_seq, row) in (1..).zip(rows.iter()) {
        let stored = Stored::from_row(row)?;
        count += 1;
        if stored.seq != expected_seq {
            first_bad = bad(stored.seq, &format!("expected entry {expected_seq} here: an entry is missing"));
        } else if stored.prev_hash != previous {
            first_bad = bad(stored.seq, "its previous hash does not match the entry before it");
        } else if stored.digest() != stored.hash {
            first_bad = bad(stored.seq, "its content does not match its hash: the entry was edited");
        }
        if first_bad.is_some() {
            break;
        }
        previous = stored.hash;
    }
    if first_bad.is_none() && (head_seq != count || head_hash != previous) {
        first_bad = bad(head_seq, "the chain's head does not match its newest entry: entries were removed");
    }
    Ok(Verification { ok: first_bad.is_none(), entries: count, head_hash: previous, first_bad })
}

/// The trail of one flag, newest first.
pub async fn history(store: &Store, environment: &str, flag: &str) -> ApiResult<Vec<Entry>> {
    let filter =
        Filter { environment: Some(environment.to_string()), flag: Some(flag.to_string()), ..Filter::default() };
    query(store, &filter, false, None).await
}
