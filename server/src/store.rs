//! Storage: one schema, the same queries on SQLite (embedded, the default) and
//! PostgreSQL, through sqlx's `Any` driver. Writes are serialised by locking the audit
//! chain's head row (and, within one process, a mutex, which is what SQLite needs), so
//! every change sees the state it is based on and the chain never forks.

use crate::error::{ApiError, ApiResult};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Row, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (WAL, full sync).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database pool and what writing needs.
#[derive(Clone)]
pub struct Store {
    /// The pool.
    pub pool: AnyPool,
    /// Which database it is.
    pub backend: Backend,
    /// The URL, for `LISTEN` on PostgreSQL.
    pub url: String,
    /// The admin event stream's channel: writes send their events once committed.
    pub events: crate::events::Hub,
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects (creating a SQLite file on first start) and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let mut url = format!("sqlite:{rest}");
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
            }
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(format!("unsupported database URL '{url}': use sqlite://FILE or postgres://…"));
        };
        let options = AnyConnectOptions::from_str(&url).map_err(|e| format!("database URL: {e}"))?;
        let pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => pool_options
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; FULL makes every
                        // acknowledged commit durable through a crash or power loss.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA foreign_keys = ON",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .map_err(|e| format!("cannot open {url}: {e}"))?,
            Backend::Postgres => pool_options
                .max_connections(16)
                .connect_with(options)
                .await
                .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?,
        };
        MIGRATOR.run(&pool).await.map_err(|e| format!("database migration failed: {e}"))?;
        Ok(Store { pool, backend, url, events: Default::default(), write_lock: Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// Starts a write: takes the process's write lock, opens a transaction and locks the
    /// audit chain's head. Dropping the [`Write`] without [`Write::commit`] rolls back.
    pub async fn begin_write(&self) -> ApiResult<Write> {
        let guard = self.write_lock.clone().lock_owned().await;
        let mut tx = self.pool.begin().await?;
        let lock = match self.backend {
            Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        };
        if self.backend == Backend::Sqlite {
            // Take SQLite's write lock now rather than on the first write (no upgrade
            // deadlock with another process on the same file).
            sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(&mut *tx).await?;
        }
        let row = sqlx::query(lock).fetch_one(&mut *tx).await?;
        let head = Head { seq: row.try_get("seq")?, hash: row.try_get("hash")? };
        Ok(Write { tx, head, backend: self.backend, events: Vec::new(), hub: self.events.clone(), _guard: guard })
    }
}

/// The audit chain's head: the newest entry's sequence number and hash.
#[derive(Debug, Clone)]
pub struct Head {
    /// Sequence number of the newest entry (0: none yet).
    pub seq: i64,
    /// Its hash (64 zeros before the first entry).
    pub hash: String,
}

/// A write in progress; see [`Store::begin_write`].
pub struct Write {
    /// The transaction.
    pub tx: Transaction<'static, Any>,
    /// The chain's head as of the lock; [`crate::audit`] advances it.
    pub head: Head,
    /// Which database.
    pub backend: Backend,
    events: Vec<crate::events::Event>,
    hub: crate::events::Hub,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Write {
    /// Commits: durable once this returns (SQLite WAL with full sync, PostgreSQL commit).
    pub async fn commit(mut self) -> ApiResult<()> {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(self.head.seq)
            .bind(self.head.hash.clone())
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await.map_err(ApiError::from)?;
        for event in self.events {
            self.hub.send(event);
        }
        Ok(())
    }

    /// Sends `event` on the admin event stream once (and only if) this write commits.
    pub fn announce(&mut self, event: crate::events::Event) {
        self.events.push(event);
    }

    /// Asks every replica to reload this environment once the transaction commits
    /// (PostgreSQL `NOTIFY`; nothing on SQLite, where one process owns the file).
    pub async fn notify(&mut self, environment: &str) -> ApiResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify('pennon_publish', $1)")
                .bind(environment.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
