//! `pennon serve`: opens the database (creating it on first start), loads and signs
//! every environment's snapshot, and serves the router until interrupted. With
//! PostgreSQL, replicas learn of each other's publishes through `LISTEN/NOTIFY`.

use crate::app::{self, Settings, State};
use crate::auth::{self, Role};
use crate::change;
use crate::store::{Backend, Store, now_ms};
use ed25519_dalek::SigningKey;
use rand::RngCore;
use sqlx::Row;
use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Options of `pennon serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port; the chosen one is printed).
    #[arg(long, env = "PENNON_LISTEN", default_value = "127.0.0.1:7070")]
    pub listen: String,
    /// Database: `sqlite://FILE` (created on first start) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "PENNON_DATABASE_URL", default_value = "sqlite://pennon.db")]
    pub database_url: String,
    /// Seconds between heartbeats on SDK streams.
    #[arg(long, default_value_t = 15)]
    pub heartbeat: u64,
    /// Seconds a request may take (streams excepted).
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,
    /// Failed authentications allowed per client address and minute before `429`.
    #[arg(long, default_value_t = 20)]
    pub max_auth_failures: u32,
    /// How long outcomes from SDKs are kept (ISO 8601 duration: P14D, PT12H).
    #[arg(long, default_value = "P14D", value_parser = parse_retention)]
    pub outcome_retention: Duration,
    /// Log format.
    #[arg(long, value_enum, env = "PENNON_LOG_FORMAT", default_value = "text")]
    pub log_format: LogFormat,
    /// How often the rollout controller judges every active rollout (`10s`, `500ms`, `1m`).
    #[arg(long, value_name = "INTERVAL", default_value = "10s", value_parser = parse_interval)]
    pub rollout_interval: Duration,
    /// Do not serve the dashboard at `/` (the API is unchanged).
    #[arg(long)]
    pub no_dashboard: bool,
}

/// Parses `250ms`, `10s` or `2m` (a whole number and a unit), at least 10 ms.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` is not an interval such as 10s or 500ms"))?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => return Err(format!("`{text}`: give a unit, ms, s or m (10s, 500ms)")),
    };
    if duration < Duration::from_millis(10) {
        return Err(format!("`{text}` is shorter than 10ms"));
    }
    Ok(duration)
}

fn parse_retention(text: &str) -> Result<Duration, String> {
    pennon_core::time::parse_duration(text)
        .and_then(|ms| u64::try_from(ms).ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is not a positive ISO 8601 duration such as P14D or PT12H"))
}

/// How logs are written (to stderr).
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// The environments a new database starts with: `(key, protected)`.
const FIRST_ENVIRONMENTS: [(&str, bool); 3] = [("development", false), ("staging", false), ("production", true)];

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> ExitCode {
    init_logging(args.log_format);
    match serve(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("pennon serve: {message}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Builds the shared state on an open store: first-start setup, signing key, tokens,
/// every environment loaded.
pub async fn prepare(store: Store, settings: Settings) -> Result<app::App, String> {
    let signing_key = first_start(&store).await.map_err(|e| e.to_string())?;
    let state = Arc::new(State {
        environments: crate::publish::Environments::new(store.events.clone()),
        store,
        signing_key,
        authenticator: Default::default(),
        metrics: Default::default(),
        retention: crate::outcomes::Retention::new(settings.outcome_retention),
        settings,
        started: Instant::now(),
        ready: Default::default(),
        samples: Default::default(),
        shutdown: tokio::sync::watch::channel(false).0,
    });
    load_revocations(&state).await.map_err(|e| format!("loading tokens: {e}"))?;
    reload_all(&state).await.map_err(|e| format!("loading environments: {e}"))?;
    crate::context_sets::load_settings(&state).await.map_err(|e| format!("loading environment settings: {e}"))?;
    state.ready.store(true, Ordering::Release);
    Ok(state)
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let store = Store::connect(&args.database_url).await?;
    let settings = Settings {
        heartbeat: Duration::from_secs(args.heartbeat.max(1)),
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        max_auth_failures: args.max_auth_failures,
        outcome_retention: args.outcome_retention,
        dashboard: !args.no_dashboard,
    };
    let app = prepare(store, settings).await?;
    admin_token(&app.store).await.map_err(|e| e.to_string())?;
    tokio::spawn(follow(app.clone()));
    tokio::spawn(crate::controller::run(app.clone(), args.rollout_interval));
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let (router, _) = app::router(app.clone());
    println!("pennon: listening on http://{address}");
    if !args.no_dashboard {
        println!("pennon: dashboard at http://{address}/");
    }
    let _ = std::io::stdout().flush();
    tracing::info!(%address, database = app.store.backend.name(), "serving");
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown().await;
            tracing::info!("shutting down: closing streams, finishing requests");
            app.shutdown.send_replace(true);
        })
        .await
        .map_err(|e| format!("server: {e}"))
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Creates what a new database needs (environments, signing key) and returns the key.
async fn first_start(store: &Store) -> Result<SigningKey, crate::error::ApiError> {
    let mut write = store.begin_write().await?;
    let environments: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM environments").fetch_one(&mut *write.tx).await?.try_get("n")?;
    if environments == 0 {
        for (key, protected) in FIRST_ENVIRONMENTS {
            sqlx::query("INSERT INTO environments (key, protected, revision, created_at) VALUES ($1, $2, 0, $3)")
                .bind(key)
                .bind(i64::from(protected))
                .bind(now_ms())
                .execute(&mut *write.tx)
                .await?;
            let record = crate::audit::Record {
                principal: "pennon".into(),
                request_id: "first-start".into(),
                environment: Some(key.into()),
                action: "environment_create".into(),
                detail: Some(serde_json::json!({ "protected": protected })),
                ..Default::default()
            };
            crate::audit::append(&mut write, record).await?;
        }
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    sqlx::query("INSERT INTO settings (key, value) VALUES ('signing_key', $1) ON CONFLICT (key) DO NOTHING")
        .bind(hex::encode(seed))
        .execute(&mut *write.tx)
        .await?;
    let stored: String = sqlx::query("SELECT value FROM settings WHERE key = 'signing_key'")
        .fetch_one(&mut *write.tx)
        .await?
        .try_get("value")?;
    write.commit().await?;
    let bytes: [u8; 32] = hex::decode(stored.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| crate::error::ApiError::internal("the stored signing key is not 32 hex bytes"))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// `PENNON_ADMIN_TOKEN` when set (added if new); otherwise, on a database without an
/// admin, a new admin token, printed once.
async fn admin_token(store: &Store) -> Result<(), crate::error::ApiError> {
    let given = std::env::var("PENNON_ADMIN_TOKEN").ok().filter(|token| !token.trim().is_empty());
    let mut write = store.begin_write().await?;
    let secret = match &given {
        Some(token) => {
            let known = sqlx::query("SELECT id FROM tokens WHERE hash = $1")
                .bind(auth::hash(token))
                .fetch_optional(&mut *write.tx)
                .await?
                .is_some();
            if known {
                return Ok(());
            }
            token.clone()
        }
        None => {
            let admins: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL")
                    .fetch_one(&mut *write.tx)
                    .await?
                    .try_get("n")?;
            if admins > 0 {
                return Ok(());
            }
            auth::new_secret()
        }
    };
    let id = auth::insert(&mut write.tx, "admin", Role::Admin, None, &secret, "pennon").await?;
    let record = crate::audit::Record {
        principal: "pennon".into(),
        request_id: "first-start".into(),
        action: "token_create".into(),
        detail: Some(
            serde_json::json!({ "id": id, "name": "admin", "role": "admin", "from": if given.is_some() { "PENNON_ADMIN_TOKEN" } else { "generated" } }),
        ),
        ..Default::default()
    };
    crate::audit::append(&mut write, record).await?;
    write.commit().await?;
    if given.is_none() {
        println!("pennon: created the admin token (shown only now; store it, e.g. export PENNON_TOKEN=…):");
        println!("pennon: admin token {secret}");
    }
    Ok(())
}

/// Learns of tokens revoked (also by other replicas), so their open streams end.
async fn load_revocations(app: &app::App) -> Result<(), sqlx::Error> {
    let rows = sqlx::query("SELECT id FROM tokens WHERE revoked_at IS NOT NULL").fetch_all(&app.store.pool).await?;
    let ids: Vec<String> = rows.iter().map(|row| row.try_get("id")).collect::<Result<_, _>>()?;
    app.authenticator.revoke(ids);
    Ok(())
}

async fn reload_all(app: &app::App) -> Result<(), crate::error::ApiError> {
    let rows = sqlx::query("SELECT key FROM environments ORDER BY key").fetch_all(&app.store.pool).await?;
    for row in rows {
        let key: String = row.try_get("key")?;
        change::reload(app, &key).await?;
    }
    Ok(())
}

/// Keeps this process's snapshots current with what other processes commit: PostgreSQL
/// notifications as they happen, and a check of every environment's revision every few
/// seconds (which also covers notifications lost while reconnecting).
async fn follow(app: app::App) {
    if app.store.backend == Backend::Postgres {
        let listener_app = app.clone();
        tokio::spawn(async move {
            loop {
                if let Err(error) = listen(&listener_app).await {
                    tracing::warn!("LISTEN pennon_publish: {error}; reconnecting");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    loop {
        interval.tick().await;
        if let Err(error) = load_revocations(&app).await {
            tracing::warn!("checking revoked tokens: {error}");
        }
        if let Err(error) = crate::context_sets::load_settings(&app).await {
            tracing::warn!("checking environment settings: {error}");
        }
        let rows =
            match sqlx::query("SELECT key, revision, protected FROM environments").fetch_all(&app.store.pool).await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::warn!("checking revisions: {error}");
                    continue;
                }
            };
        for row in rows {
            let (Ok(key), Ok(revision), Ok(protected)) = (
                row.try_get::<String, _>("key"),
                row.try_get::<i64, _>("revision"),
                row.try_get::<i64, _>("protected"),
            ) else {
                continue;
            };
            let stale = app
                .environments
                .slot(&key)
                .is_none_or(|slot| slot.document.revision < revision || slot.document.protected != (protected != 0));
            if stale && let Err(error) = change::reload(&app, &key).await {
                tracing::warn!(environment = %key, "reload: {error}");
            }
        }
    }
}

async fn listen(app: &app::App) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(&app.store.url).await?;
    listener.listen("pennon_publish").await?;
    // Whatever was published while not listening.
    let _ = reload_all(app).await;
    loop {
        let notification = listener.recv().await?;
        let environment = notification.payload().to_string();
        if let Err(error) = change::reload(app, &environment).await {
            tracing::warn!(%environment, "reload after notification: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rollout_intervals_take_a_unit() {
        assert_eq!(parse_interval("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_interval("100ms").unwrap(), Duration::from_millis(100));
        assert_eq!(parse_interval("2m").unwrap(), Duration::from_secs(120));
        for bad in ["10", "s", "1h", "5ms", "-1s", "1.5s"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
