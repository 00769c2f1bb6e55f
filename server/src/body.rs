//! Request bodies: JSON, whatever the content type says, with errors in the API's own
//! vocabulary (`invalid_json` 400, `invalid_request` 400, `payload_too_large` 413).

use crate::error::ApiError;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct Body<T>(pub T);

/// A JSON request body that may be left out (an empty body is `T::default()`).
pub struct MaybeBody<T>(pub T);

async fn read<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state).await.map_err(|rejection| unreadable(&rejection, crate::app::BODY_LIMIT))
}

/// The error for a body that could not be read: `payload_too_large` over `limit` bytes,
/// `invalid_json` otherwise.
pub fn unreadable(rejection: &BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let message = format!("the body is larger than {limit} bytes");
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    } else {
        ApiError::invalid_json(format!("cannot read the body: {rejection}"))
    }
}

/// Parses a JSON body into `T` (`invalid_json`, or `invalid_request` for the wrong shape).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_json(format!("the body is not JSON: {e}")))?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("the body does not have the expected shape: {e}")))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        parse(&read(request, state).await?).map(Body)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for MaybeBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeBody(T::default()));
        }
        parse(&bytes).map(MaybeBody)
    }
}
