//! The HTTP side of the command line: one client for the admin API, failures as one
//! line and an exit code.

use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// Exit codes of the command line (docs/control-plane.md, "Exit codes").
pub mod exit {
    /// Done.
    pub const OK: u8 = 0;
    /// Any other failure.
    pub const OTHER: u8 = 1;
    /// Usage error (also: a local file or argument that is not what it must be).
    pub const USAGE: u8 = 2;
    /// The server could not be reached.
    pub const UNREACHABLE: u8 = 3;
    /// Not authenticated or not allowed (401, 403, 429).
    pub const DENIED: u8 = 4;
    /// Not found (404).
    pub const NOT_FOUND: u8 = 5;
    /// Conflict (409, 428).
    pub const CONFLICT: u8 = 6;
    /// Refused as invalid (400, 413, 422).
    pub const INVALID: u8 = 7;
    /// Accepted as a change request (202).
    pub const PENDING: u8 = 8;
    /// `audit verify` found the chain broken.
    pub const BROKEN_CHAIN: u8 = 9;
}

/// The exit code for an HTTP status the server answered with.
pub fn exit_for_status(status: u16) -> u8 {
    match status {
        200..=201 | 203..=299 => exit::OK,
        202 => exit::PENDING,
        401 | 403 | 429 => exit::DENIED,
        404 => exit::NOT_FOUND,
        409 | 428 => exit::CONFLICT,
        400 | 413 | 422 => exit::INVALID,
        _ => exit::OTHER,
    }
}

/// A failure: printed as `pennon: <what>: <message> (<code>)` on stderr, then the
/// process exits with `exit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The exit code.
    pub exit: u8,
    /// What the command tried to do (`kill checkout in production`).
    pub what: String,
    /// The server's message, or what went wrong here.
    pub message: String,
    /// The server's error code, or a code of the command line (`unreachable`, `usage`…).
    pub code: String,
}

impl Failure {
    /// A failure of this client (not an answer of the server).
    pub fn new(exit: u8, what: impl Into<String>, message: impl Into<String>, code: &str) -> Failure {
        Failure { exit, what: what.into(), message: message.into(), code: code.to_string() }
    }

    /// A local input that is not what it must be (exit 2).
    pub fn usage(what: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure::new(exit::USAGE, what, message, "usage")
    }

    /// The failure for an error answer of the server.
    pub fn from_answer(what: &str, status: u16, headers: &HeaderMap, body: &[u8], had_token: bool) -> Failure {
        let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let error = json.get("error");
        let code = error.and_then(|e| e.get("code")).and_then(Value::as_str).map(str::to_string);
        let message = error.and_then(|e| e.get("message")).and_then(Value::as_str).map(str::to_string);
        let mut message = match (message, &code) {
            (Some(message), _) => message,
            (None, _) => {
                let reason = reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("unexpected answer");
                let snippet: String = String::from_utf8_lossy(body).chars().take(200).collect();
                let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
                if snippet.is_empty() {
                    format!("HTTP {status} {reason}")
                } else {
                    format!("HTTP {status} {reason}: {snippet}")
                }
            }
        };
        if let Some(path) = error.and_then(|e| e.get("path")).and_then(Value::as_str) {
            message.push_str(&format!(" at {path}"));
        }
        if let Some(current) = error
            .and_then(|e| e.get("currentRevision"))
            .or_else(|| json.get("currentRevision"))
            .filter(|c| !c.is_null())
        {
            message.push_str(&format!(" (current revision {current}; read it and try again)"));
        }
        if let Some(after) = headers.get("retry-after").and_then(|v| v.to_str().ok())
            && status == 429
        {
            message.push_str(&format!("; retry after {after} s"));
        }
        if status == 401 && !had_token {
            message.push_str("; no token given: pass --token, set PENNON_TOKEN or put `token` in the config file");
        }
        let code = code.unwrap_or_else(|| format!("http_{status}"));
        Failure { exit: exit_for_status(status).max(exit::OTHER), what: what.to_string(), message, code }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the server put in its message.
        let message = self.message.replace(['\n', '\r'], " ");
        write!(f, "pennon: {}: {} ({})", self.what, message, self.code)
    }
}

/// A successful answer (2xx), body unread as JSON.
#[derive(Debug)]
pub struct Reply {
    /// The status (200, 201, 202…).
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The exact body bytes.
    pub body: bytes::Bytes,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self, what: &str) -> Result<Value, Failure> {
        serde_json::from_slice(&self.body).map_err(|error| {
            Failure::new(exit::OTHER, what, format!("the server's answer is not JSON: {error}"), "unexpected_answer")
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client of one server's admin API with one token.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Api {
    /// A client for `url` (a server's base URL, may carry a path prefix).
    pub fn new(url: &str, token: Option<String>) -> Result<Api, Failure> {
        let base = Url::parse(url).map_err(|error| Failure::usage(format!("server URL {url}"), error.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Failure::usage(format!("server URL {url}"), "must be an http:// or https:// URL"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("pennon-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| Failure::new(exit::OTHER, "start the HTTP client", error.to_string(), "internal"))?;
        Ok(Api { http, base, token: token.filter(|t| !t.is_empty()) })
    }

    /// The URL of `segments` (each percent-encoded) below the base, with a query.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        url
    }

    /// Sends one request. Transport failures exit 3; error statuses become a
    /// [`Failure`] with the documented exit code; 2xx (including 202) is a [`Reply`].
    pub async fn send(
        &self,
        what: &str,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply, Failure> {
        let url = self.url(segments, query);
        let mut request = self.http.request(method, url.clone());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| self.transport(what, &error))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|error| self.transport(what, &error))?;
        if (200..300).contains(&status) {
            Ok(Reply { status, headers, body })
        } else {
            Err(Failure::from_answer(what, status, &headers, &body, self.token.is_some()))
        }
    }

    /// Sends a request and returns the response unread (for streaming bodies).
    pub async fn stream(
        &self,
        what: &str,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<reqwest::Response, Failure> {
        let mut request = self.http.get(self.url(segments, query));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|error| self.transport(what, &error))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        Err(Failure::from_answer(what, status, &headers, &body, self.token.is_some()))
    }

    /// GET and parse JSON.
    pub async fn get(&self, what: &str, segments: &[&str], query: &[(&str, String)]) -> Result<Reply, Failure> {
        self.send(what, Method::GET, segments, query, None).await
    }

    fn transport(&self, what: &str, error: &reqwest::Error) -> Failure {
        let root = root_cause(error);
        let base = self.base.as_str().trim_end_matches('/');
        if error.is_timeout() {
            Failure::new(exit::UNREACHABLE, what, format!("no answer from {base} in time: {root}"), "timeout")
        } else if error.is_connect() {
            Failure::new(exit::UNREACHABLE, what, format!("cannot connect to {base}: {root}"), "unreachable")
        } else if error.is_request() || error.is_body() || error.is_decode() {
            Failure::new(exit::UNREACHABLE, what, format!("the connection to {base} failed: {root}"), "unreachable")
        } else {
            Failure::new(exit::OTHER, what, root, "http")
        }
    }
}

/// The innermost error message (reqwest nests hyper's and the OS's).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_documented_exit_codes() {
        assert_eq!(exit_for_status(200), 0);
        assert_eq!(exit_for_status(201), 0);
        assert_eq!(exit_for_status(202), 8);
        for status in [401, 403, 429] {
            assert_eq!(exit_for_status(status), 4, "{status}");
        }
        assert_eq!(exit_for_status(404), 5);
        assert_eq!(exit_for_status(409), 6);
        assert_eq!(exit_for_status(428), 6);
        for status in [400, 413, 422] {
            assert_eq!(exit_for_status(status), 7, "{status}");
        }
        for status in [500, 503, 418, 302] {
            assert_eq!(exit_for_status(status), 1, "{status}");
        }
    }

    #[test]
    fn an_error_answer_is_one_line_with_the_servers_code_and_path() {
        let body = br#"{"error":{"code":"unknown_variant","message":"no variant maybe","path":"/fallthrough/variant","requestId":"r1"}}"#;
        let failure = Failure::from_answer("put checkout in development", 422, &HeaderMap::new(), body, true);
        assert_eq!(failure.exit, 7);
        assert_eq!(
            failure.to_string(),
            "pennon: put checkout in development: no variant maybe at /fallthrough/variant (unknown_variant)"
        );
    }

    #[test]
    fn a_conflict_names_the_current_revision() {
        let body =
            br#"{"error":{"code":"conflict","message":"stale base revision","currentRevision":7,"requestId":"r"}}"#;
        let failure = Failure::from_answer("put x", 409, &HeaderMap::new(), body, true);
        assert_eq!(failure.exit, 6);
        assert!(failure.to_string().contains("current revision 7"), "{failure}");
    }

    #[test]
    fn an_answer_that_is_not_json_still_gives_one_line() {
        let failure = Failure::from_answer("list", 502, &HeaderMap::new(), b"<html>\nbad\ngateway</html>", true);
        assert_eq!(failure.exit, 1);
        assert_eq!(failure.to_string(), "pennon: list: HTTP 502 Bad Gateway: <html> bad gateway</html> (http_502)");
    }

    #[test]
    fn unauthorized_without_a_token_says_how_to_give_one() {
        let body = br#"{"error":{"code":"unauthorized","message":"missing token","requestId":"r"}}"#;
        let failure = Failure::from_answer("list", 401, &HeaderMap::new(), body, false);
        assert_eq!(failure.exit, 4);
        assert!(failure.message.contains("PENNON_TOKEN"));
    }

    #[test]
    fn urls_encode_segments_and_keep_a_path_prefix() {
        let api = Api::new("https://flags.example/pennon/", None).unwrap();
        let url = api.url(&["api", "v1", "environments", "dev", "flags", "a", "overrides", "acme corp/1"], &[]);
        assert_eq!(
            url.as_str(),
            "https://flags.example/pennon/api/v1/environments/dev/flags/a/overrides/acme%20corp%2F1"
        );
        let api = Api::new("http://127.0.0.1:7070", None).unwrap();
        let url = api.url(&["api", "v1", "audit"], &[("flag", "a&b".to_string())]);
        assert_eq!(url.as_str(), "http://127.0.0.1:7070/api/v1/audit?flag=a%26b");
        assert!(Api::new("ftp://x", None).is_err());
        assert!(Api::new("not a url", None).is_err());
    }
}
