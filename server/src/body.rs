//! Request bodies: JSON, whatever the content type says, with errors in the API's own
//! vocabulary (`invalid_json` 400, `payload_too_large` 413).

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body is larger than {} bytes", crate::app::BODY_LIMIT),
                )
            } else {
                ApiError::invalid_json(format!("cannot read the body: {rejection}"))
            }
        })?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid_json(format!("the body is not JSON: {e}")))?;
        serde_json::from_value(value)
            .map(Body)
            .map_err(|e| ApiError::bad_request(format!("the body does not have the expected shape: {e}")))
    }
}

/// A JSON request body that may be left out (an empty body is `T::default()`).
pub struct MaybeBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for MaybeBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let empty = request.headers().get(axum::http::header::CONTENT_LENGTH).is_some_and(|length| length == "0");
        if empty {
            return Ok(MaybeBody(T::default()));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::invalid_json(format!("cannot read the body: {rejection}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeBody(T::default()));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::invalid_json(format!("the body is not JSON: {e}")))?;
        serde_json::from_value(value)
            .map(MaybeBody)
            .map_err(|e| ApiError::bad_request(format!("the body does not have the expected shape: {e}")))
    }
}
