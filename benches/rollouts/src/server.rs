//! The admin API of a `pennon serve` ([`Api`]: a URL, an admin token and an
//! environment), and a real `pennon serve` for the simulation ([`Server`]): SQLite in a
//! temporary directory, a known admin token, killed with SIGKILL and restarted on the
//! same database and port.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// The environment every simulated rollout of the full run goes to (not protected: no
/// reasons needed).
pub const ENVIRONMENT: &str = "development";

/// One environment of a server's admin API, as an admin token sees it.
pub struct Api {
    /// `http://HOST:PORT`.
    pub url: String,
    /// The environment the flag and rollout calls go to.
    pub environment: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl Api {
    /// The admin API at `url` with `token`, for `environment`.
    pub fn new(url: &str, token: &str, environment: &str) -> Result<Api, String> {
        let http =
            reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
        Ok(Api {
            url: url.trim_end_matches('/').to_owned(),
            environment: environment.to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// An admin API call; the answer's JSON, or an error naming the status and body.
    pub fn admin(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, String> {
        self.call(method, path, body)?.map_err(|(status, error)| error.unwrap_or_else(|| status.to_string()))
    }

    /// An admin API call whose 404 is an answer (`None`), not an error.
    pub fn find(&self, path: &str) -> Result<Option<Value>, String> {
        match self.call(reqwest::Method::GET, path, None)? {
            Ok(value) => Ok(Some(value)),
            Err((404, _)) => Ok(None),
            Err((status, error)) => Err(error.unwrap_or_else(|| status.to_string())),
        }
    }

    /// Ok(JSON) on success; Err((status, message)) on an HTTP error status; Err on a
    /// transport error or an answer that is not JSON.
    #[allow(clippy::type_complexity)]
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Result<Value, (u16, Option<String>)>, String> {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.url)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status();
        let text = response.text().map_err(|e| format!("{method} {path}: {e}"))?;
        if !status.is_success() {
            return Ok(Err((status.as_u16(), Some(format!("{method} {path}: {status} {text}")))));
        }
        serde_json::from_str(&text).map(Ok).map_err(|e| format!("{method} {path}: not JSON ({e}): {text}"))
    }

    /// A new SDK key for the environment.
    pub fn sdk_key(&self) -> Result<String, String> {
        let body = json!({ "name": "rollout-simulator", "role": "sdk", "environment": self.environment });
        let created = self.admin(reqwest::Method::POST, "/api/v1/tokens", Some(&body))?;
        created.get("token").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("no token in {created}"))
    }

    /// The path of a flag of the environment.
    pub fn flag_path(&self, key: &str) -> String {
        format!("/api/v1/environments/{}/flags/{key}", self.environment)
    }

    /// Creates or replaces a flag in the environment.
    pub fn put_flag(&self, key: &str, definition: &Value) -> Result<Value, String> {
        let body = json!({ "definition": definition, "reason": "simulation" });
        self.admin(reqwest::Method::PUT, &self.flag_path(key), Some(&body))
    }
}

/// A running `pennon serve` and what it takes to start it again; its admin API (for
/// [`ENVIRONMENT`]) through `Deref`.
pub struct Server {
    binary: PathBuf,
    args: Vec<String>,
    dir: tempfile::TempDir,
    admin_token: String,
    child: Child,
    api: Api,
}

impl Deref for Server {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Server {
    /// Starts `binary serve` on a fresh SQLite database with `args` added (e.g.
    /// `--rollout-interval`), on a free port.
    pub fn start(binary: &Path, args: &[String]) -> Result<Server, String> {
        let dir = tempfile::Builder::new().prefix("pennon-rollouts.").tempdir().map_err(|e| e.to_string())?;
        let admin_token = format!("pennon_sim_{:032x}", rand::random::<u128>());
        let (child, url) = spawn(binary, args, dir.path(), "127.0.0.1:0", &admin_token)?;
        let api = Api::new(&url, &admin_token, ENVIRONMENT)?;
        Ok(Server { binary: binary.to_owned(), args: args.to_vec(), dir, admin_token, child, api })
    }

    /// Kills the server with SIGKILL: nothing is flushed or shut down cleanly.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same database and port (so the SDK clients, which
    /// keep their URL, reconnect to it).
    pub fn restart(&mut self) -> Result<(), String> {
        let listen = self.api.url.trim_start_matches("http://").to_owned();
        let (child, url) = spawn(&self.binary, &self.args, self.dir.path(), &listen, &self.admin_token)?;
        self.child = child;
        self.api.url = url;
        Ok(())
    }

    /// The last lines of the server's log (stderr), for error messages.
    pub fn log_tail(&self) -> String {
        log_tail(self.dir.path())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn log_tail(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines.get(lines.len().saturating_sub(30)..).unwrap_or_default().join("\n")
}

/// Starts `pennon serve` and waits for its `pennon: listening on URL` line.
fn spawn(
    binary: &Path,
    args: &[String],
    dir: &Path,
    listen: &str,
    admin_token: &str,
) -> Result<(Child, String), String> {
    let log =
        File::options().create(true).append(true).open(dir.join("serve.log")).map_err(|e| format!("serve.log: {e}"))?;
    let mut child = Command::new(binary)
        .args(["serve", "--listen", listen, "--heartbeat", "1", "--database-url"])
        .arg(format!("sqlite://{}", dir.join("pennon.db").display()))
        .args(args)
        .env("PENNON_ADMIN_TOKEN", admin_token)
        .env("RUST_LOG", "warn")
        .env_remove("PENNON_LISTEN")
        .env_remove("PENNON_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sender = Some(sender);
        // Reads to the end so the server never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("pennon: listening on ")
                && let Some(sender) = sender.take()
            {
                let _ = sender.send(url.trim().to_owned());
            }
        }
    });
    match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => Ok((child, url)),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("{} serve did not say where it listens within 60 s:\n{}", binary.display(), log_tail(dir)))
        }
    }
}
