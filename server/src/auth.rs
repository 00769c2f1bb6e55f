//! Access: tokens and SDK keys, roles, and failed-authentication rate limiting.
//!
//! A token is 32 random bytes, shown once when created and stored as its SHA-256 (a
//! stolen database holds no usable secret). Lookups go by hash; the hash is then compared
//! again in constant time.

use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::store::{Store, now_ms};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use utoipa::ToSchema;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Change flags; in protected environments changes become change requests; kill anywhere.
    Developer,
    /// Read the admin API.
    Viewer,
    /// An SDK key: reads one environment's snapshots (SDK routes and OFREP only).
    Sdk,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Developer => "developer",
            Role::Viewer => "viewer",
            Role::Sdk => "sdk",
        }
    }
    fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "developer" => Some(Role::Developer),
            "viewer" => Some(Role::Viewer),
            "sdk" => Some(Role::Sdk),
            _ => None,
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's id.
    pub token_id: String,
    /// The token's name: who, in the audit trail.
    pub principal: String,
    /// Its role.
    pub role: Role,
    /// For SDK keys: the one environment it reads.
    pub environment: Option<String>,
}

impl Caller {
    /// Viewer, developer or admin.
    pub fn require_reader(&self) -> ApiResult<()> {
        match self.role {
            Role::Sdk => Err(ApiError::forbidden("an SDK key can only read snapshots (/sdk/v1, /ofrep/v1)")),
            _ => Ok(()),
        }
    }
    /// Developer or admin.
    pub fn require_writer(&self) -> ApiResult<()> {
        match self.role {
            Role::Admin | Role::Developer => Ok(()),
            Role::Viewer => Err(ApiError::forbidden("a viewer token cannot change anything")),
            Role::Sdk => Err(ApiError::forbidden("an SDK key can only read snapshots (/sdk/v1, /ofrep/v1)")),
        }
    }
    /// Admin.
    pub fn require_admin(&self) -> ApiResult<()> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(ApiError::forbidden(format!("this needs an admin token; this one is {}", self.role.as_str()))),
        }
    }
    /// An SDK key.
    fn require_sdk_key(&self) -> ApiResult<()> {
        self.require_sdk().map(|_| ())
    }
    /// The environment of an SDK key.
    pub fn require_sdk(&self) -> ApiResult<&str> {
        match (self.role, &self.environment) {
            (Role::Sdk, Some(environment)) => Ok(environment),
            _ => Err(ApiError::forbidden(
                "this route takes an SDK key (create one with `pennon token create NAME --role sdk`)",
            )),
        }
    }
}

/// A new secret: `pennon_` + 43 characters of URL-safe base64 (256 random bits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("pennon_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A token as the API lists it (never the secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Id.
    pub id: String,
    /// Name: the principal in the audit trail.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The environment of an SDK key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl TokenInfo {
    fn from_row(row: &sqlx::any::AnyRow) -> ApiResult<TokenInfo> {
        let role: String = row.try_get("role")?;
        Ok(TokenInfo {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            role: Role::parse(&role)
                .ok_or_else(|| ApiError::internal(format!("unknown role '{role}' in the database")))?,
            environment: row.try_get("environment")?,
            created_at: crate::time::rfc3339(row.try_get("created_at")?),
            created_by: row.try_get("created_by")?,
            revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(crate::time::rfc3339),
        })
    }
}

/// Lists every token.
pub async fn list(store: &Store) -> ApiResult<Vec<TokenInfo>> {
    let rows = sqlx::query("SELECT * FROM tokens ORDER BY created_at, id").fetch_all(&store.pool).await?;
    rows.iter().map(TokenInfo::from_row).collect()
}

/// Reads one token.
pub async fn get(store: &Store, id: &str) -> ApiResult<TokenInfo> {
    let row =
        sqlx::query("SELECT * FROM tokens WHERE id = $1").bind(id.to_string()).fetch_optional(&store.pool).await?;
    TokenInfo::from_row(&row.ok_or_else(|| ApiError::not_found(format!("no token with id '{id}'")))?)
}

/// Inserts a token inside a write.
pub async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    name: &str,
    role: Role,
    environment: Option<&str>,
    secret: &str,
    created_by: &str,
) -> ApiResult<String> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    sqlx::query("INSERT INTO tokens (id, name, role, environment, hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id.clone())
        .bind(name.to_string())
        .bind(role.as_str())
        .bind(environment.map(str::to_string))
        .bind(hash(secret))
        .bind(now_ms())
        .bind(created_by.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// Recent lookups, so that SDK traffic does not query the database per request. Entries
/// live a few seconds; revocation on this process removes them at once. Also the ids of
/// revoked tokens, so that open streams of a revoked key end.
pub struct Authenticator {
    cache: Mutex<HashMap<String, (Caller, Instant)>>,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    revoked: RwLock<HashSet<String>>,
    revocations: watch::Sender<u64>,
}

impl Default for Authenticator {
    fn default() -> Self {
        Authenticator {
            cache: Mutex::default(),
            failures: Mutex::default(),
            revoked: RwLock::default(),
            revocations: watch::channel(0).0,
        }
    }
}

/// How long a looked-up token is trusted without asking the database again (other
/// replicas learn of a revocation within this time).
const CACHE_TTL: Duration = Duration::from_secs(2);
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

impl Authenticator {
    /// Records revoked tokens (here or, seen in the database, on another replica):
    /// cached lookups are forgotten and open streams of those tokens end.
    pub fn revoke(&self, ids: impl IntoIterator<Item = String>) {
        let mut added = false;
        if let Ok(mut revoked) = self.revoked.write() {
            for id in ids {
                added |= revoked.insert(id);
            }
        }
        if added {
            if let Ok(mut cache) = self.cache.lock() {
                cache.clear();
            }
            self.revocations.send_modify(|count| *count += 1);
        }
    }

    /// Whether a token has been revoked.
    pub fn is_revoked(&self, token_id: &str) -> bool {
        self.revoked.read().map(|revoked| revoked.contains(token_id)).unwrap_or(false)
    }

    /// Wakes on every revocation.
    pub fn revocations(&self) -> watch::Receiver<u64> {
        self.revocations.subscribe()
    }

    fn blocked(&self, ip: IpAddr, limit: u32) -> Option<u64> {
        let failures = self.failures.lock().ok()?;
        let (since, count) = failures.get(&ip)?;
        let elapsed = since.elapsed();
        (elapsed < FAILURE_WINDOW && *count >= limit).then(|| (FAILURE_WINDOW - elapsed).as_secs().max(1))
    }

    fn failed(&self, ip: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            if failures.len() > 100_000 {
                failures.retain(|_, (since, _)| since.elapsed() < FAILURE_WINDOW);
            }
            let entry = failures.entry(ip).or_insert((Instant::now(), 0));
            if entry.0.elapsed() >= FAILURE_WINDOW {
                *entry = (Instant::now(), 0);
            }
            entry.1 += 1;
        }
    }

    async fn authenticate(&self, store: &Store, secret: &str) -> ApiResult<Option<Caller>> {
        let digest = hash(secret);
        if let Ok(cache) = self.cache.lock()
            && let Some((caller, at)) = cache.get(&digest)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Some(caller.clone()));
        }
        let row = sqlx::query("SELECT id, name, role, environment, hash, revoked_at FROM tokens WHERE hash = $1")
            .bind(digest.clone())
            .fetch_optional(&store.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("hash")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let role: String = row.try_get("role")?;
        let (Some(role), true, None) =
            (Role::parse(&role), bool::from(stored.as_bytes().ct_eq(digest.as_bytes())), revoked)
        else {
            return Ok(None);
        };
        let caller = Caller {
            token_id: row.try_get("id")?,
            principal: row.try_get("name")?,
            role,
            environment: row.try_get("environment")?,
        };
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(digest, (caller.clone(), Instant::now()));
        }
        Ok(Some(caller))
    }
}

/// The secret a request carries: `Authorization: Bearer …`, or `X-API-Key` (OFREP).
fn secret(parts: &Parts) -> Result<Option<&str>, ApiError> {
    if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let text = value.to_str().map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))?;
        return Ok(Some(token.trim()));
    }
    // The OFREP notification stream takes the key in its URL: EventSource cannot send
    // headers. No other route reads secrets from URLs (they end up in logs).
    if parts.uri.path() == crate::ofrep::EVENTS_PATH {
        let key = parts.uri.query().unwrap_or("").split('&').find_map(|pair| pair.strip_prefix("key="));
        if let Some(key) = key {
            return Ok(Some(key));
        }
    }
    if let Some(value) = parts.headers.get("x-api-key") {
        return value
            .to_str()
            .map(|text| Some(text.trim()))
            .map_err(|_| ApiError::unauthorized("the X-API-Key header is not text"));
    }
    Ok(None)
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Caller, ApiError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let authenticator = &app.authenticator;
        if let Some(retry_after) = authenticator.blocked(ip, app.settings.max_auth_failures) {
            let mut error = ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many failed authentications from this address; try again later",
            );
            error.extra = Some(serde_json::json!({ "retryAfter": retry_after }));
            return Err(error);
        }
        let result = match secret(parts) {
            Ok(Some(secret)) if !secret.is_empty() => match authenticator.authenticate(&app.store, secret).await? {
                Some(caller) => Ok(caller),
                None => Err(ApiError::unauthorized("the token is unknown or revoked")),
            },
            Ok(_) => Err(ApiError::unauthorized("this route needs a token: `Authorization: Bearer <token>`")),
            Err(error) => Err(error),
        };
        if result.is_err() {
            authenticator.failed(ip);
            app.metrics.auth_failures.inc();
        }
        result
    }
}

/// Declares in a handler's signature the least role a route needs: the request is
/// authenticated and authorised before its body is even read (so an under-privileged
/// caller learns nothing from validation errors).
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $check:ident) => {
        $(#[$doc])*
        pub struct $name(pub Caller);

        impl FromRequestParts<App> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<$name, ApiError> {
                let caller = Caller::from_request_parts(parts, app).await?;
                caller.$check()?;
                Ok($name(caller))
            }
        }
    };
}

role_extractor!(
    /// A viewer, developer or admin.
    Reader,
    require_reader
);
role_extractor!(
    /// A developer or admin.
    Writer,
    require_writer
);
role_extractor!(
    /// An admin.
    Admin,
    require_admin
);
role_extractor!(
    /// An SDK key (bound to one environment).
    SdkKey,
    require_sdk_key
);
