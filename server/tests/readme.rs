//! The command-line examples of `server/README.md` run as written against a real server
//! holding the example flags: every line must succeed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

mod common;

use common::{Backend, Server};
use std::process::Command;

/// The first ```sh block after `## Command line`.
fn examples() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme.find("## Command line").expect("a Command line section")..];
    let start = section.find("```sh\n").expect("an sh block") + "```sh\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    block.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_string).collect()
}

#[test]
fn every_command_line_example_in_the_readme_runs() {
    let (server, _db) = Server::start(Backend::Sqlite);
    let snapshot: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/flags.json")).unwrap(),
    )
    .unwrap();
    let imported =
        server.admin().post("/api/v1/environments/development/import", serde_json::json!({ "snapshot": snapshot }));
    assert_eq!(imported.status, 200, "{}", imported.text);

    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(common::binary(), bin.path().join("pennon")).unwrap();
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let work = tempfile::tempdir().unwrap();
    let lines = examples();
    assert!(lines.len() >= 15, "the README's examples went missing: {lines:?}");
    for line in &lines {
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", line])
            .current_dir(work.path())
            .env("PATH", &path)
            .env("PENNON_URL", &server.url)
            .env("PENNON_TOKEN", common::ADMIN_TOKEN)
            .env("HOME", work.path())
            .env_remove("PENNON_ENV")
            .env_remove("PENNON_CONFIG")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "README example failed ({}): {line}\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // The examples had their effect.
    let flag = server.admin().get("/api/v1/environments/development/flags/search.new-ranker");
    assert_eq!(flag.json["definition"]["state"], "shadow", "killed, then rolled back");
    assert!(work.path().join("backup/snapshot.json.sig").exists());
    let staging = server.admin().get("/api/v1/environments/staging/flags");
    assert_eq!(staging.json["flags"].as_array().unwrap().len(), 10);
}
