//! Shared by the server's integration tests: start a real `pennon serve` process on a
//! fresh database (SQLite in a temporary directory, or a new PostgreSQL database), talk
//! to it over HTTP, stop it.
//!
//! PostgreSQL: `PENNON_TEST_POSTGRES_URL` names a server where the test may create
//! databases (`scripts/test.sh server` starts one). Without it, `backends()` fails the
//! test, unless `PENNON_TEST_BACKENDS=sqlite` says on purpose that only SQLite runs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The admin token every test server starts with.
pub const ADMIN_TOKEN: &str = "pennon_test_admin_0123456789abcdef0123456789abcdef";

/// A database a test server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends every store test runs against.
pub fn backends() -> Vec<Backend> {
    match std::env::var("PENNON_TEST_BACKENDS").as_deref() {
        Ok("sqlite") => vec![Backend::Sqlite],
        Ok("postgres") => vec![Backend::Postgres],
        _ => {
            assert!(
                std::env::var("PENNON_TEST_POSTGRES_URL").is_ok(),
                "PENNON_TEST_POSTGRES_URL is not set: run `scripts/test.sh server`, which starts PostgreSQL, \
                 or set PENNON_TEST_BACKENDS=sqlite to run on SQLite only"
            );
            vec![Backend::Sqlite, Backend::Postgres]
        }
    }
}

/// A database for one test server: a SQLite file or a fresh PostgreSQL database.
pub struct Database {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

impl Database {
    pub fn new(backend: Backend) -> Database {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("pennon.db").display());
                Database { url, backend, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let base = std::env::var("PENNON_TEST_POSTGRES_URL").expect("PENNON_TEST_POSTGRES_URL");
                let name = format!("pennon_test_{}", uuid::Uuid::new_v4().simple());
                let admin = base.clone();
                let create = name.clone();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async move {
                        use sqlx::Connection;
                        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                        sqlx::query(&format!("CREATE DATABASE {create}")).execute(&mut conn).await.unwrap();
                    })
                })
                .join()
                .unwrap();
                let url = match base.rfind('/') {
                    Some(slash) if base[..slash].ends_with(|c: char| c != '/') => {
                        let (head, tail) = base.split_at(slash);
                        let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
                        format!("{head}/{name}{query}")
                    }
                    _ => format!("{base}/{name}"),
                };
                Database { url, backend, _dir: None }
            }
        }
    }
}

/// A running `pennon serve`.
pub struct Server {
    pub url: String,
    pub child: Child,
    pub database_url: String,
    pub backend: Backend,
    pub stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// The path of the `pennon` binary under test.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pennon"))
}

impl Server {
    /// Starts a server on a fresh database of this backend.
    pub fn start(backend: Backend) -> (Server, Database) {
        let database = Database::new(backend);
        let server = Server::start_on(&database, &[]);
        (server, database)
    }

    /// Starts a server on an existing database, with extra `serve` arguments.
    pub fn start_on(database: &Database, extra: &[&str]) -> Server {
        let mut child = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &database.url])
            .args(extra)
            .env("PENNON_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start pennon serve");
        let stdout = child.stdout.take().unwrap();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let keep = lines.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("pennon: listening on ")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.trim().to_string());
                }
                keep.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("pennon serve did not print `pennon: listening on URL` within 60 s");
        Server { url, child, database_url: database.url.clone(), backend: database.backend, stdout: lines }
    }

    /// Kills the process at once (SIGKILL): nothing is flushed or shut down cleanly.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A blocking HTTP client for this server with the admin token.
    pub fn admin(&self) -> Client {
        Client::new(&self.url, Some(ADMIN_TOKEN))
    }

    pub fn client(&self, token: Option<&str>) -> Client {
        Client::new(&self.url, token)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A small blocking JSON client.
pub struct Client {
    pub base: String,
    pub token: Option<String>,
    pub http: reqwest::blocking::Client,
}

/// An answer: status, headers and the body (JSON when it parses).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: serde_json::Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

impl Client {
    pub fn new(base: &str, token: Option<&str>) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            token: token.map(str::to_string),
            http: reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
        }
    }

    pub fn send(&self, method: &str, path: &str, body: Option<&serde_json::Value>, headers: &[(&str, &str)]) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().unwrap_or_else(|e| panic!("{path}: {e:?}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Answer { status, headers, text, json }
    }

    pub fn get(&self, path: &str) -> Answer {
        self.send("GET", path, None, &[])
    }
    pub fn post(&self, path: &str, body: serde_json::Value) -> Answer {
        self.send("POST", path, Some(&body), &[])
    }
    pub fn put(&self, path: &str, body: serde_json::Value) -> Answer {
        self.send("PUT", path, Some(&body), &[])
    }
    pub fn delete(&self, path: &str) -> Answer {
        self.send("DELETE", path, None, &[])
    }
}

/// A valid boolean flag definition in snapshot format v1.
pub fn boolean_flag(state: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "boolean",
        "state": state,
        "variants": { "on": true, "off": false },
        "offVariant": "off",
        "fallthrough": { "variant": "on" }
    })
}

/// Runs `test` on every backend of [`backends`].
pub fn each_backend(test: impl Fn(Backend)) {
    for backend in backends() {
        eprintln!("-- {backend:?}");
        test(backend);
    }
}

/// A new token of this role (and, for SDK keys, environment), created by the admin.
pub fn token(server: &Server, name: &str, role: &str, environment: Option<&str>) -> String {
    let answer = server
        .admin()
        .post("/api/v1/tokens", serde_json::json!({ "name": name, "role": role, "environment": environment }));
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json["token"].as_str().unwrap().to_string()
}
