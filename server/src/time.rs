//! Times on the wire: RFC 3339 text outside, milliseconds since the epoch inside, parsed
//! and printed by core so that the server and every engine agree.

use crate::error::{ApiError, ApiResult};

/// `2026-12-06T02:30:11.250Z`.
pub fn rfc3339(ms: i64) -> String {
    pennon_core::time::format_timestamp(ms).unwrap_or_else(|| ms.to_string())
}

/// Parses an RFC 3339 timestamp, naming the field on error.
pub fn parse(text: &str, field: &str) -> ApiResult<i64> {
    pennon_core::time::parse_timestamp(text)
        .ok_or_else(|| ApiError::bad_request(format!("{field}: '{text}' is not an RFC 3339 timestamp with an offset")))
}
