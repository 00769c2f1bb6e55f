//! One error vocabulary for the HTTP API: a status, a stable snake_case code, a message
//! for people and, for refused definitions, core's JSON Pointer path.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

tokio::task_local! {
    /// The id of the request being handled (set by the request-id middleware), so that
    /// every error body names it.
    pub static REQUEST_ID: String;
}

/// Sets `field` of a JSON object (nothing when `object` is not one).
pub fn set(object: &mut Value, field: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        map.insert(field.to_string(), value);
    }
}

/// The request id of the request in progress, or `-` outside of one.
pub fn request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "-".to_string())
}

/// An error answered to an API client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// JSON Pointer to the offending value, when there is one.
    pub path: Option<String>,
    /// Further fields merged into the error object (e.g. `currentRevision`).
    pub extra: Option<Value>,
}

/// The result of API operations.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.to_string(), message: message.into(), path: None, extra: None }
    }
    /// `400 invalid_json`.
    pub fn invalid_json(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }
    /// `400 invalid_request`: the body is JSON but not the expected shape.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    /// `422 invalid_request`: well-formed, but it makes no sense.
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
    }
    /// `401 unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    /// `403 forbidden`.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// `404 not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// `409 conflict`, naming the current revision.
    pub fn conflict(message: impl Into<String>, current: Option<i64>) -> ApiError {
        let mut error = ApiError::new(StatusCode::CONFLICT, "conflict", message);
        error.extra = Some(json!({ "currentRevision": current }));
        error
    }
    /// `500 internal`: a bug or an unexpected database answer. Logged with the request id.
    pub fn internal(message: impl Into<String>) -> ApiError {
        let message = message.into();
        tracing::error!(request_id = %request_id(), "internal error: {message}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
    /// The same error, naming the JSON Pointer of the offending value.
    pub fn with_path(mut self, path: &str) -> ApiError {
        self.path = Some(path.to_string());
        self
    }
    /// `422` with core's code and path: the change would make a definition invalid.
    pub fn refused(error: &pennon_core::Error) -> ApiError {
        let mut refused = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.code.as_str(), error.message.clone());
        refused.path = (!error.path.is_empty()).then(|| error.path.clone());
        refused
    }

    /// The JSON body: `{"error": {code, message, path?, requestId, …}}`.
    pub fn body(&self) -> Value {
        let mut error = json!({ "code": self.code, "message": self.message, "requestId": request_id() });
        if let Some(path) = &self.path {
            set(&mut error, "path", Value::from(path.as_str()));
        }
        if let (Some(Value::Object(extra)), Value::Object(object)) = (&self.extra, &mut error) {
            object.extend(extra.clone());
        }
        json!({ "error": error })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        // The database going away (connection lost, server shutting down, pool
        // exhausted, SQLite busy past its timeout) is `503`: the client may retry, and
        // nothing was acknowledged.
        let unavailable = match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
                true
            }
            sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(database) => database.code().is_some_and(|code| {
                code.starts_with("08") || code.starts_with("57") || code == "5" || code == "6" || code == "517"
            }),
            _ => false,
        };
        if unavailable {
            tracing::error!(request_id = %request_id(), "database unavailable: {error}");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the database is unavailable")
        } else {
            ApiError::internal(format!("database: {error}"))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            let seconds = self.extra.as_ref().and_then(|extra| extra.get("retryAfter")).and_then(Value::as_u64);
            if let Some(Ok(value)) = seconds.map(|seconds| seconds.to_string().parse()) {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
            }
        }
        response
    }
}
