//! The `pennon` command line against a real `pennon serve`: every client subcommand, in
//! table and `--json` form, with its exit code and its effect seen through the API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{ADMIN_TOKEN, Backend, Server, backends, binary, boolean_flag};
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// What one `pennon` run did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }

    /// Exits with `code` and prints exactly one line on stderr.
    #[track_caller]
    fn fails(self, code: i32) -> Run {
        assert_eq!(self.code, code, "{self:?}");
        assert_eq!(self.stderr.lines().count(), 1, "one line on stderr: {self:?}");
        assert!(self.stderr.starts_with("pennon: "), "{self:?}");
        self
    }
}

/// Runs `pennon` for one server with one token, isolated from the caller's settings.
struct Cli {
    url: String,
    token: Option<String>,
    home: tempfile::TempDir,
}

impl Cli {
    fn new(url: &str, token: Option<&str>) -> Cli {
        Cli { url: url.to_string(), token: token.map(str::to_string), home: tempfile::tempdir().unwrap() }
    }

    fn admin(server: &Server) -> Cli {
        Cli::new(&server.url, Some(ADMIN_TOKEN))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .env_remove("PENNON_URL")
            .env_remove("PENNON_TOKEN")
            .env_remove("PENNON_ENV")
            .env_remove("PENNON_CONFIG")
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("PENNON_URL", &self.url);
        if let Some(token) = &self.token {
            command.env("PENNON_TOKEN", token);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut child = self
            .command(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

fn write_json(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path.display().to_string()
}

fn flag(server: &Server, env: &str, key: &str) -> common::Answer {
    server.admin().get(&format!("/api/v1/environments/{env}/flags/{key}"))
}

fn state_of(server: &Server, env: &str, key: &str) -> String {
    let answer = flag(server, env, key);
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json["definition"]["state"].as_str().unwrap().to_string()
}

/// Creates a flag with the CLI from a file.
fn create(cli: &Cli, dir: &Path, env: &str, key: &str, definition: &Value) {
    let file = write_json(dir, &format!("{key}.json"), definition);
    cli.run(&["put", key, "--file", &file, "-e", env, "--reason", "create"]).ok();
}

fn each_backend(test: impl Fn(Backend)) {
    for backend in backends() {
        test(backend);
    }
}

#[test]
fn a_flags_life_through_the_command_line() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let cli = Cli::admin(&server);
        let dir = tempfile::tempdir().unwrap();
        let mut definition = boolean_flag("on");
        definition["metadata"] = json!({"owner": "checkout-team"});

        // put creates; list shows it in both forms.
        let file = write_json(dir.path(), "def.json", &definition);
        let run = cli.run(&["put", "checkout.new", "--file", &file, "--reason", "new checkout"]).ok();
        assert!(run.stdout.contains("checkout.new"), "{run:?}");
        assert_eq!(state_of(&server, "development", "checkout.new"), "on");
        let run = cli.run(&["list"]).ok();
        let mut lines = run.stdout.lines();
        let header = lines.next().unwrap();
        for column in ["KEY", "TYPE", "STATE", "SERVING", "OWNER", "UPDATED"] {
            assert!(header.contains(column), "{run:?}");
        }
        let row = lines.next().unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(&cells[..5], ["checkout.new", "boolean", "on", "on", "checkout-team"], "{run:?}");
        let listed = cli.run(&["list", "--json"]).ok().json();
        assert_eq!(listed["flags"][0]["key"], "checkout.new");
        assert_eq!(listed["flags"][0]["definition"]["metadata"]["owner"], "checkout-team");

        // get, in both forms; the JSON form is the API's answer.
        let run = cli.run(&["get", "checkout.new"]).ok();
        assert!(run.stdout.contains("checkout-team") && run.stdout.contains("serving"), "{run:?}");
        let got = cli.run(&["get", "checkout.new", "--json"]).ok().json();
        assert_eq!(got, flag(&server, "development", "checkout.new").json);

        // put replaces, reading the current revision itself.
        definition["metadata"]["owner"] = json!("payments");
        let file = write_json(dir.path(), "def.json", &definition);
        cli.run(&["put", "checkout.new", "--file", &file]).ok();
        let now = flag(&server, "development", "checkout.new").json;
        assert_eq!(now["definition"]["metadata"]["owner"], "payments");

        // set canary with a percentage (the seed's words: reason as the last word).
        cli.run(&["set", "checkout.new", "canary", "--percentage", "10", "Testing with 10%"]).ok();
        let now = flag(&server, "development", "checkout.new").json;
        assert_eq!(now["definition"]["state"], "canary");
        assert_eq!(now["definition"]["canary"]["percentage"].as_f64(), Some(10.0));
        let run = cli.run(&["list"]).ok();
        assert!(run.stdout.contains("canary 10%"), "{run:?}");
        let run = cli.run(&["canary-status"]).ok();
        assert!(run.stdout.contains("checkout.new") && run.stdout.contains("10%"), "{run:?}");

        // kill: state kill through the API, and in history.
        let run = cli.run(&["kill", "checkout.new", "--reason", "Memory leak detected"]).ok();
        assert!(run.stdout.contains("kill"), "{run:?}");
        assert_eq!(state_of(&server, "development", "checkout.new"), "kill");
        let run = cli.run(&["history", "checkout.new"]).ok();
        let header = run.stdout.lines().next().unwrap();
        for column in ["REV", "AT", "WHO", "ACTION", "REASON"] {
            assert!(header.contains(column), "{run:?}");
        }
        let newest = run.stdout.lines().nth(1).unwrap();
        assert!(newest.contains("kill") && newest.contains("Memory leak detected"), "{run:?}");
        let history = cli.run(&["history", "checkout.new", "--json"]).ok().json();
        assert_eq!(history[0]["action"], "kill");
        assert_eq!(history[0]["reason"], "Memory leak detected");

        // rollback: the definition before the kill.
        cli.run(&["rollback", "checkout.new", "errors are gone"]).ok();
        assert_eq!(state_of(&server, "development", "checkout.new"), "canary");

        // set on, then a fixed rollout, then progressive stages started 90 minutes ago.
        cli.run(&["set", "checkout.new", "on"]).ok();
        cli.run(&["rollout", "schedule", "checkout.new", "--percentage", "25"]).ok();
        let now = flag(&server, "development", "checkout.new").json;
        assert_eq!(now["definition"]["fallthrough"]["rollout"]["percentage"].as_f64(), Some(25.0));
        let run = cli.run(&["list"]).ok();
        assert!(run.stdout.contains("rollout 25%"), "{run:?}");
        let start = pennon_core::time::format_timestamp(now_ms() - 90 * 60 * 1000).unwrap();
        cli.run(&["rollout", "schedule", "checkout.new", "--stages", "10:PT1H,30:PT2H,100", "--start", &start]).ok();
        let now = flag(&server, "development", "checkout.new").json;
        let stages = &now["definition"]["fallthrough"]["rollout"]["progressive"]["stages"];
        assert_eq!(stages.as_array().unwrap().len(), 3, "{now:?}");
        let run = cli.run(&["canary-status"]).ok();
        assert!(run.stdout.contains("2/3") && run.stdout.contains("30%"), "{run:?}");
        let status = cli.run(&["canary-status", "checkout.new", "--json"]).ok().json();
        assert_eq!(status[0]["cohort"], "fallthrough");
        assert_eq!(status[0]["stage"], 2);
        assert_eq!(status[0]["percentage"], 30.0);
        let run = cli.run(&["list"]).ok();
        assert!(run.stdout.contains("stage 2/3 30%"), "{run:?}");

        // evaluate, in both forms.
        cli.run(&["set", "checkout.new", "on", "--reason", "all in"]).ok();
        cli.run(&["rollout", "schedule", "checkout.new", "--percentage", "100"]).ok();
        let run = cli.run(&["evaluate", "checkout.new", "--context", r#"{"targetingKey":"u-1"}"#]).ok();
        assert!(run.stdout.contains("variant") && run.stdout.contains("on"), "{run:?}");
        let evaluation =
            cli.run(&["evaluate", "checkout.new", "-c", r#"{"targetingKey":"u-1"}"#, "--json"]).ok().json();
        assert_eq!(evaluation["value"], true, "{evaluation:?}");
        assert!(evaluation["revision"].is_u64());

        // delete: gone from the API; get says 5.
        cli.run(&["delete", "checkout.new", "--reason", "cleanup"]).ok();
        assert_eq!(flag(&server, "development", "checkout.new").status, 404);
        cli.run(&["get", "checkout.new"]).fails(5);
    });
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn failures_print_one_line_and_the_documented_exit_code() {
    // Unreachable: nothing listens on a port we just closed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let cli = Cli::new(&format!("http://127.0.0.1:{port}"), Some(ADMIN_TOKEN));
    let run = cli.run(&["list"]).fails(3);
    assert!(run.stderr.contains("127.0.0.1"), "{run:?}");
    cli.run(&["kill", "x", "--json"]).fails(3);

    // Usage errors are clap's: exit 2.
    assert_eq!(cli.run(&["rollout", "schedule", "x"]).code, 2);
    assert_eq!(cli.run(&["set", "x", "sideways"]).code, 2);

    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let dir = tempfile::tempdir().unwrap();
        let admin = Cli::admin(&server);

        // Bad or missing token: 4.
        let run = Cli::new(&server.url, Some("pennon_wrong_token")).run(&["list"]).fails(4);
        assert!(run.stderr.contains("(unauthorized)"), "{run:?}");
        Cli::new(&server.url, None).run(&["list", "--json"]).fails(4);

        // Unknown flag, environment: 5.
        let run = admin.run(&["get", "nope"]).fails(5);
        assert!(run.stderr.contains("(not_found)"), "{run:?}");
        admin.run(&["kill", "nope", "-e", "production", "--reason", "x"]).fails(5);
        admin.run(&["list", "-e", "no-such-env"]).fails(5);

        // Stale base revision: 6.
        create(&admin, dir.path(), "development", "f", &boolean_flag("on"));
        let revision = flag(&server, "development", "f").json["revision"].as_u64().unwrap();
        admin.run(&["set", "f", "off"]).ok();
        let file = write_json(dir.path(), "f.json", &boolean_flag("on"));
        let run = admin.run(&["put", "f", "--file", &file, "--base-revision", &revision.to_string()]).fails(6);
        assert!(run.stderr.contains("(conflict)"), "{run:?}");
        admin.run(&["delete", "f", "--base-revision", &revision.to_string()]).fails(6);
        // The output of `get --json` carries its revision: a change since then conflicts.
        let got = admin.run(&["get", "f", "--json"]).ok().stdout;
        admin.run(&["set", "f", "on"]).ok();
        admin.run_with_stdin(&["put", "f", "--file", "-"], Some(&got)).fails(6);
        assert_eq!(state_of(&server, "development", "f"), "on");

        // An invalid definition: 7 with core's code and path.
        let mut bad = boolean_flag("on");
        bad["fallthrough"] = json!({"variant": "maybe"});
        let file = write_json(dir.path(), "bad.json", &bad);
        let run = admin.run(&["put", "g", "--file", &file]).fails(7);
        assert!(run.stderr.contains("(unknown_variant)"), "{run:?}");
        assert_eq!(flag(&server, "development", "g").status, 404);
        // A local file that is not JSON is a usage error, sent nowhere.
        std::fs::write(dir.path().join("junk.json"), "{not json").unwrap();
        let junk = dir.path().join("junk.json").display().to_string();
        admin.run(&["put", "g", "--file", &junk]).fails(2);
        // A protected environment needs a reason: 7.
        let file = write_json(dir.path(), "p.json", &boolean_flag("on"));
        let run = admin.run(&["put", "p", "--file", &file, "-e", "production"]).fails(7);
        assert!(run.stderr.contains("(reason_required)"), "{run:?}");
    });
}

#[test]
fn change_requests_in_a_protected_environment() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let dir = tempfile::tempdir().unwrap();
        let admin = Cli::admin(&server);
        create(&admin, dir.path(), "production", "checkout", &boolean_flag("off"));

        let created = admin.run(&["token", "create", "dev-alice", "--role", "developer", "--json"]).ok().json();
        let alice = Cli::new(&server.url, Some(created["token"].as_str().unwrap()));
        let created = admin.run(&["token", "create", "admin-bob", "--role", "admin", "--json"]).ok().json();
        let bob = Cli::new(&server.url, Some(created["token"].as_str().unwrap()));

        // A developer's change in production becomes a change request: exit 8.
        let run = alice.run(&["set", "checkout", "on", "-e", "production", "--reason", "launch"]);
        assert_eq!(run.code, 8, "{run:?}");
        assert!(run.stdout.contains("waits for approval"), "{run:?}");
        assert_eq!(state_of(&server, "production", "checkout"), "off");
        let run = alice.run(&["set", "checkout", "on", "-e", "production", "--reason", "launch", "--json"]);
        assert_eq!(run.code, 8, "{run:?}");
        let second = run.json()["changeRequest"]["id"].as_str().unwrap().to_string();

        // `approve` without an id lists the pending ones.
        let run = admin.run(&["approve"]).ok();
        assert!(run.stdout.contains(&second) && run.stdout.contains("checkout"), "{run:?}");
        let pending = admin.run(&["approve", "--json"]).ok().json();
        assert_eq!(pending.as_array().unwrap().len(), 2, "{pending:?}");
        let first = pending
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .find(|id| *id != second)
            .unwrap();

        // The author may not approve (4); another admin may.
        alice.run(&["approve", &first, "-e", "production"]).fails(4);
        assert_eq!(state_of(&server, "production", "checkout"), "off");
        let run = bob.run(&["approve", &first, "--reason", "reviewed"]).ok();
        assert!(run.stdout.contains("production"), "{run:?}");
        assert_eq!(state_of(&server, "production", "checkout"), "on");

        // The second request was based on the old revision: approving it conflicts (6),
        // and the author may withdraw it.
        bob.run(&["approve", &second]).fails(6);
        let rejected = alice.run(&["reject", &second, "--reason", "superseded", "--json"]).ok().json();
        assert_eq!(rejected["status"], "rejected");
        let run = admin.run(&["approve"]).ok();
        assert!(!run.stdout.contains(&second), "{run:?}");

        // kill is always direct, even for a developer in production.
        alice.run(&["kill", "checkout", "-e", "production", "--reason", "incident"]).ok();
        assert_eq!(state_of(&server, "production", "checkout"), "kill");
    });
}

#[test]
fn overrides_and_segments() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let dir = tempfile::tempdir().unwrap();
        let admin = Cli::admin(&server);
        create(&admin, dir.path(), "development", "beta", &boolean_flag("on"));

        admin
            .run(&[
                "override",
                "set",
                "beta",
                "acme corp",
                "off",
                "--expires",
                "2099-01-01T00:00:00Z",
                "--note",
                "contract",
            ])
            .ok();
        let overrides = &flag(&server, "development", "beta").json["definition"]["overrides"];
        assert_eq!(overrides[0]["tenant"], "acme corp", "{overrides:?}");
        assert_eq!(overrides[0]["variant"], "off");
        let run = admin.run(&["evaluate", "beta", "--context", r#"{"targetingKey":"u","tenant":"acme corp"}"#]).ok();
        assert!(run.stdout.contains("OVERRIDE"), "{run:?}");
        admin.run(&["override", "rm", "beta", "acme corp", "--json"]).ok().json();
        let definition = &flag(&server, "development", "beta").json["definition"];
        assert!(definition["overrides"].as_array().is_none_or(Vec::is_empty), "{definition:?}");

        let staff = json!({"included": ["u-1"], "description": "our people"});
        let file = write_json(dir.path(), "staff.json", &staff);
        admin.run(&["segment", "put", "staff", "--file", &file, "--reason", "new"]).ok();
        let run = admin.run(&["segment", "list"]).ok();
        assert!(run.stdout.contains("staff") && run.stdout.contains("our people"), "{run:?}");
        let listed = admin.run(&["segment", "list", "--json"]).ok().json();
        assert_eq!(listed["segments"][0]["key"], "staff");
        let got = admin.run(&["segment", "get", "staff", "--json"]).ok().json();
        assert_eq!(got["definition"]["included"][0], "u-1");
        admin.run(&["segment", "get", "staff"]).ok();
        // Replace without a base revision: the CLI reads it.
        let file = write_json(dir.path(), "staff.json", &json!({"included": ["u-1", "u-2"]}));
        admin.run(&["segment", "put", "staff", "--file", &file]).ok();
        let answer = server.admin().get("/api/v1/environments/development/segments/staff");
        assert_eq!(answer.json["definition"]["included"][1], "u-2");
        admin.run(&["segment", "rm", "staff", "--reason", "gone"]).ok();
        admin.run(&["segment", "get", "staff"]).fails(5);
    });
}

#[test]
fn environments_tokens_and_status() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let admin = Cli::admin(&server);

        let run = admin.run(&["env", "list"]).ok();
        for env in ["development", "staging", "production"] {
            assert!(run.stdout.contains(env), "{run:?}");
        }
        let envs = admin.run(&["env", "list", "--json"]).ok().json();
        let production = envs.as_array().unwrap().iter().find(|e| e["key"] == "production").unwrap();
        assert_eq!(production["protected"], true);

        admin.run(&["env", "create", "qa"]).ok();
        admin.run(&["env", "create", "qa"]).fails(6);
        admin.run(&["env", "protect", "qa"]).ok();
        let envs = server.admin().get("/api/v1/environments").json;
        assert_eq!(envs.as_array().unwrap().iter().find(|e| e["key"] == "qa").unwrap()["protected"], true);
        let unprotected = admin.run(&["env", "unprotect", "qa", "--json"]).ok().json();
        assert_eq!(unprotected["protected"], false);

        let run = admin.run(&["status"]).ok();
        assert!(run.stdout.contains("database") && run.stdout.contains("qa"), "{run:?}");
        let status = admin.run(&["status", "--json"]).ok().json();
        assert!(status["environments"].as_array().unwrap().len() >= 4, "{status:?}");

        let run = admin.run(&["token", "create", "viewer-1", "--role", "viewer"]).ok();
        let secret = run.stdout.lines().last().unwrap().trim().to_string();
        let viewer = Cli::new(&server.url, Some(&secret));
        viewer.run(&["list"]).ok();
        viewer.run(&["kill", "x", "--reason", "no"]).fails(4);
        let tokens = admin.run(&["token", "list", "--json"]).ok().json();
        let id = tokens.as_array().unwrap().iter().find(|t| t["name"] == "viewer-1").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let run = admin.run(&["token", "list"]).ok();
        assert!(run.stdout.contains("viewer-1"), "{run:?}");
        let sdk = admin.run(&["token", "create", "web", "--role", "sdk", "-e", "staging", "--json"]).ok().json();
        assert_eq!(sdk["environment"], "staging");
        admin.run(&["token", "revoke", &id]).ok();
        viewer.run(&["list"]).fails(4);
        admin.run(&["token", "revoke", "no-such-token"]).fails(5);
    });
}

#[test]
fn export_import_stale_and_audit() {
    each_backend(|backend| {
        let (server, _db) = Server::start(backend);
        let dir = tempfile::tempdir().unwrap();
        let admin = Cli::admin(&server);
        create(&admin, dir.path(), "development", "a", &boolean_flag("on"));
        create(&admin, dir.path(), "development", "b", &boolean_flag("off"));
        admin.run(&["kill", "b", "--reason", "broken"]).ok();

        // export --out: the exact bytes, signature and ETag of the API.
        let out = dir.path().join("backup");
        let out_text = out.display().to_string();
        let run = admin.run(&["export", "--out", &out_text]).ok();
        assert!(run.stdout.contains("snapshot.json"), "{run:?}");
        let answer = server.admin().get("/api/v1/environments/development/snapshot");
        let bytes = std::fs::read(out.join("snapshot.json")).unwrap();
        assert_eq!(bytes, answer.text.as_bytes());
        let signature = std::fs::read_to_string(out.join("snapshot.json.sig")).unwrap();
        assert_eq!(Some(signature.as_str()), answer.header("pennon-signature"));
        let etag = std::fs::read_to_string(out.join("etag")).unwrap();
        assert_eq!(Some(etag.as_str()), answer.header("etag"));
        verify_signature(&server, &bytes, &signature);
        // Without --out: the bytes on stdout; --revision picks an older one.
        let run = admin.run(&["export"]).ok();
        assert_eq!(run.stdout.as_bytes(), &bytes[..]);
        let old = admin.run(&["export", "--revision", "1"]).ok();
        let old: Value = serde_json::from_str(&old.stdout).unwrap();
        assert_eq!(old["revision"], 1);
        admin.run(&["export", "--revision", "9999"]).fails(5);

        // import into staging: one revision with both flags.
        let snapshot = out.join("snapshot.json").display().to_string();
        admin.run(&["import", &snapshot, "-e", "staging", "--reason", "copy"]).ok();
        let staging = server.admin().get("/api/v1/environments/staging/flags").json;
        assert_eq!(staging["flags"].as_array().unwrap().len(), 2, "{staging:?}");
        assert_eq!(state_of(&server, "staging", "b"), "kill");
        let text = std::fs::read_to_string(&snapshot).unwrap();
        let change = admin.run_with_stdin(&["import", "-", "-e", "qa", "--json"], Some(&text));
        change.fails(5);
        // --replace removes what the snapshot does not have.
        create(&admin, dir.path(), "staging", "c", &boolean_flag("on"));
        let change = admin.run(&["import", &snapshot, "-e", "staging", "--replace", "--json"]).ok().json();
        assert_eq!(change["action"], "import", "{change:?}");
        assert_eq!(flag(&server, "staging", "c").status, 404);

        // stale: b is killed.
        let stale = admin.run(&["stale", "--days", "0", "--json"]).ok().json();
        let b = stale.as_array().unwrap().iter().find(|s| s["key"] == "b");
        assert!(b.is_some_and(|b| b["reasons"].to_string().contains("killed")), "{stale:?}");
        admin.run(&["stale"]).ok();

        // audit: table, JSON, filters, export, verify.
        let run = admin.run(&["audit"]).ok();
        assert!(run.stdout.contains("SEQ") && run.stdout.contains("broken"), "{run:?}");
        let entries = admin.run(&["audit", "--flag", "b", "-e", "development", "--json"]).ok().json();
        assert!(entries.as_array().unwrap().iter().all(|e| e["flag"] == "b"), "{entries:?}");
        assert_eq!(entries[0]["action"], "kill");
        let limited = admin.run(&["audit", "--limit", "1", "--json"]).ok().json();
        assert_eq!(limited.as_array().unwrap().len(), 1);
        let staging_only = admin.run(&["audit", "-e", "staging", "--json"]).ok().json();
        assert!(staging_only.as_array().unwrap().iter().all(|e| e["environment"] == "staging"), "{staging_only:?}");
        let export = admin.run(&["audit", "export"]).ok();
        let lines: Vec<Value> = export.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(lines.len() >= 4, "{export:?}");
        assert!(lines.windows(2).all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64()), "oldest first");
        let run = admin.run(&["audit", "verify"]).ok();
        assert!(run.stdout.starts_with("ok: ") && run.stdout.contains(" entries, head "), "{run:?}");
        let verified = admin.run(&["audit", "verify", "--json"]).ok().json();
        assert_eq!(verified["ok"], true);

        // An entry edited behind the server's back: the first bad entry, exit 9.
        tamper(&server, "UPDATE audit SET reason = 'edited' WHERE seq = 2");
        let run = admin.run(&["audit", "verify"]).fails(9);
        assert!(run.stderr.contains("entry 2") && run.stderr.contains("(chain_broken)"), "{run:?}");
        let run = admin.run(&["audit", "verify", "--json"]);
        assert_eq!(run.code, 9, "{run:?}");
        assert_eq!(run.json()["firstBad"]["seq"], 2);
    });
}

/// Runs one SQL statement on a server's database directly.
fn tamper(server: &Server, statement: &str) {
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        match server.backend {
            Backend::Sqlite => {
                let mut connection = sqlx::SqliteConnection::connect(&server.database_url).await.unwrap();
                sqlx::query(statement).execute(&mut connection).await.unwrap();
            }
            Backend::Postgres => {
                let mut connection = sqlx::PgConnection::connect(&server.database_url).await.unwrap();
                sqlx::query(statement).execute(&mut connection).await.unwrap();
            }
        }
    });
}

fn verify_signature(server: &Server, bytes: &[u8], signature: &str) {
    use base64::Engine as _;
    use ed25519_dalek::Verifier as _;
    let key = server.client(None).get("/sdk/v1/public-key").json;
    let key = base64::engine::general_purpose::STANDARD.decode(key["publicKey"].as_str().unwrap()).unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key.try_into().unwrap()).unwrap();
    let signature = base64::engine::general_purpose::STANDARD.decode(signature.trim()).unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
    key.verify(bytes, &signature).expect("the exported signature verifies");
}

#[test]
fn settings_come_from_flags_then_variables_then_the_config_file() {
    let backend = backends()[0];
    let (server, _db) = Server::start(backend);
    let dir = tempfile::tempdir().unwrap();
    create(&Cli::admin(&server), dir.path(), "staging", "s", &boolean_flag("on"));

    // Only the config file: url, token and environment from it.
    let cli = Cli::new("http://127.0.0.1:1", None);
    let config = dir.path().join("pennon.toml");
    std::fs::write(
        &config,
        format!("url = \"{}\"\ntoken = \"{ADMIN_TOKEN}\"\nenvironment = \"staging\"\n", server.url),
    )
    .unwrap();
    let config_text = config.display().to_string();
    let mut command = cli.command(&["list"]);
    command.env_remove("PENNON_URL").env("PENNON_CONFIG", &config_text);
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().nth(1).is_some_and(|row| row.starts_with("s ")), "{output:?}");
    // The default location under XDG_CONFIG_HOME.
    std::fs::create_dir_all(cli.home.path().join("pennon")).unwrap();
    std::fs::copy(&config, cli.home.path().join("pennon/config.toml")).unwrap();
    let mut command = cli.command(&["get", "s"]);
    command.env_remove("PENNON_URL");
    assert!(command.output().unwrap().status.success());
    // A variable beats the file; a flag beats the variable.
    let mut command = cli.command(&["get", "s"]);
    command.env_remove("PENNON_URL").env("PENNON_ENV", "development");
    assert_eq!(command.output().unwrap().status.code(), Some(5));
    let mut command = cli.command(&["get", "s", "-e", "staging"]);
    command.env_remove("PENNON_URL").env("PENNON_ENV", "development");
    assert!(command.output().unwrap().status.success());
    let mut command = cli.command(&["get", "s", "--url", "http://127.0.0.1:1"]);
    command.env_remove("PENNON_URL");
    assert_eq!(command.output().unwrap().status.code(), Some(3));
    // A config file that is named but missing is an error.
    let mut command = cli.command(&["list", "--config", "/no/such/pennon.toml"]);
    command.env_remove("PENNON_URL");
    assert_eq!(command.output().unwrap().status.code(), Some(2));
}

#[test]
fn completions_cover_the_whole_command() {
    let cli = Cli::new("http://127.0.0.1:1", None);
    let run = cli.run(&["completions", "bash"]).ok();
    assert!(run.stdout.contains("kill") && run.stdout.contains("canary-status") && run.stdout.contains("serve"));
    assert!(run.stdout.contains("--base-revision") && run.stdout.contains("--json"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let run = cli.run(&["completions", shell]).ok();
        assert!(run.stdout.contains("kill"), "{shell}: {run:?}");
    }
    assert_eq!(cli.run(&["completions", "tcsh"]).code, 2);
}

#[test]
fn context_sets_and_what_if_from_the_command_line() {
    let (server, _db) = Server::start(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let admin = Cli::admin(&server);
    let rule = |country: &str| {
        json!({ "type": "boolean", "state": "on", "variants": { "on": true, "off": false }, "offVariant": "off",
                "fallthrough": { "variant": "off" },
                "rules": [{ "id": "c", "when": { "attribute": "country", "op": "in", "values": [country] }, "serve": { "variant": "on" } }] })
    };
    create(&admin, dir.path(), "production", "beta", &rule("DE"));
    let contexts = json!([{ "targetingKey": "u-1", "country": "DE" }, { "targetingKey": "u-2", "country": "FR" }, { "country": "US" }]);
    let file = write_json(dir.path(), "users.json", &contexts);
    let run = admin.run(&["context-sets", "upload", "eu", &file, "-e", "production", "--description", "three"]).ok();
    assert!(run.stdout.contains("context set eu: 3 contexts in production"), "{run:?}");
    let run = admin.run(&["context-sets", "list", "-e", "production"]).ok();
    assert!(run.stdout.contains("eu") && run.stdout.contains("uploaded"), "{run:?}");
    let bad = write_json(dir.path(), "bad.json", &json!([{ "country": "DE" }, "nope"]));
    let run = admin.run(&["context-sets", "upload", "bad", &bad, "-e", "production"]).fails(7);
    assert!(run.stderr.contains("at /contexts/1"), "{run:?}");

    let created = admin.run(&["token", "create", "dev", "--role", "developer", "--json"]).ok().json();
    let developer = Cli::new(&server.url, Some(created["token"].as_str().unwrap()));
    let definition = write_json(dir.path(), "beta.json", &rule("FR"));
    let base = flag(&server, "production", "beta").json["revision"].to_string();
    let run = developer.run(&[
        "put",
        "beta",
        "-f",
        &definition,
        "-e",
        "production",
        "--base-revision",
        &base,
        "--reason",
        "France",
        "--json",
    ]);
    assert_eq!(run.code, 8, "{run:?}");
    let id = run.json()["changeRequest"]["id"].as_str().unwrap().to_string();
    let run = developer.run(&["what-if", &id, "--context-set", "eu"]).ok();
    assert!(run.stdout.starts_with("2 of 3 contexts flip in production"), "{run:?}");
    assert!(
        run.stdout.contains("beta") && run.stdout.contains("on (true)") && run.stdout.contains("off (false)"),
        "{run:?}"
    );
    let json = developer.run(&["what-if", &id, "--contexts", &file, "--json"]).ok().json();
    assert_eq!((json["flipped"].as_i64(), json["results"][0]["targetingKey"].as_str()), (Some(2), Some("u-1")));
    developer.run(&["what-if", &id]).fails(2);
    developer.run(&["what-if", &id, "--context-set", "nothing"]).fails(5);
    let run = admin.run(&["context-sets", "rm", "eu", "-e", "production"]).ok();
    assert!(run.stdout.contains("removed"), "{run:?}");
}
