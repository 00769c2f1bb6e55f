//! The requests of the SDK protocol (DESIGN §7) over blocking HTTP: the snapshot, the
//! stream, and the batches of outcomes.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client as HttpClient, Response};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::Error;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed check. `auth` marks 401/403: not a breaker failure, never retried faster
/// than the poll interval.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) auth: bool,
}

/// What `GET /sdk/v1/snapshot` answered.
#[derive(Debug)]
pub(crate) enum Fetched {
    NotModified,
    Snapshot { text: String, signature: Option<String>, etag: Option<String> },
}

pub(crate) struct Http {
    /// Snapshot requests: a 10 s timeout for the headers and for every read.
    poll: HttpClient,
    /// The stream: reqwest's blocking timeout applies to each read, not to the whole
    /// body, so it is the watchdog (3 × heartbeat of silence).
    stream: HttpClient,
    base: String,
    authorization: String,
}

impl Http {
    /// Built on the refresh thread: reqwest's blocking client must not be created or
    /// dropped inside an async runtime, which the application's thread may be.
    pub(crate) fn new(base: &str, sdk_key: &str, watchdog: Duration) -> Result<Http, Error> {
        let build = |timeout: Duration| {
            HttpClient::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(timeout)
                .user_agent(concat!("pennon-rust/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::new("internal", format!("cannot create the HTTP client: {e}")))
        };
        Ok(Http {
            poll: build(REQUEST_TIMEOUT)?,
            stream: build(watchdog)?,
            base: base.to_owned(),
            authorization: format!("Bearer {sdk_key}"),
        })
    }

    pub(crate) fn snapshot(&self, etag: Option<&str>) -> Result<Fetched, Failure> {
        let mut request =
            self.poll.get(format!("{}/sdk/v1/snapshot", self.base)).header(AUTHORIZATION, &self.authorization);
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = request.send().map_err(transport)?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let response = check_status(response)?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let signature = header("pennon-signature");
        let etag = header(ETAG.as_str());
        let text = response.text().map_err(|e| Failure {
            error: Error::new("network_error", format!("reading the snapshot failed: {e}")),
            auth: false,
        })?;
        Ok(Fetched::Snapshot { text, signature, etag })
    }

    /// `POST /sdk/v1/metrics` with a batch of outcomes, within `timeout`; `202` means
    /// stored (or stored before). On failure, whether the batch may be sent again: not when
    /// the server refused the body itself (`400`, `413`, `422`), which it would refuse again.
    pub(crate) fn post_metrics(&self, body: String, timeout: Duration) -> Result<(), (Error, bool)> {
        let request = self
            .poll
            .post(format!("{}/sdk/v1/metrics", self.base))
            .header(AUTHORIZATION, &self.authorization)
            .header(CONTENT_TYPE, "application/json")
            .timeout(timeout)
            .body(body);
        let response = request.send().map_err(|e| (transport(e).error, true))?;
        let again = !matches!(response.status().as_u16(), 400 | 413 | 422);
        check_status(response).map(drop).map_err(|failure| (failure.error, again))
    }

    pub(crate) fn open_stream(&self, last_event_id: Option<u64>) -> Result<Response, Failure> {
        let mut request = self
            .stream
            .get(format!("{}/sdk/v1/stream", self.base))
            .header(AUTHORIZATION, &self.authorization)
            .header(ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        check_status(request.send().map_err(transport)?)
    }
}

fn transport(error: reqwest::Error) -> Failure {
    let code = if error.is_timeout() { "timeout" } else { "network_error" };
    Failure { error: Error::new(code, format!("request failed: {error}")), auth: false }
}

fn check_status(response: Response) -> Result<Response, Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let (code, auth, what) = match status.as_u16() {
        401 => ("unauthorized", true, "the SDK key was refused (unknown, revoked or malformed): check sdk_key"),
        403 => ("forbidden", true, "the SDK key may not read this (is it an SDK key for this environment?)"),
        500..=599 => ("server_error", false, "the server failed"),
        _ => ("http_error", false, "unexpected answer"),
    };
    Err(Failure { error: Error::new(code, format!("{what} (HTTP {status} from {})", response.url())), auth })
}
