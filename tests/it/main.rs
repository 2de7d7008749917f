//! Integration tests: one binary, a module per area. Every server is on 127.0.0.1 with an
//! ephemeral port, and every run is bounded to a few seconds.

#[path = "../support/server.rs"]
mod server;

mod action;
mod cli;
mod compare;
mod e2e;
mod explain;
mod fixture_server;
mod generator;
mod ground_truth;
mod honesty;
mod html_browser;
mod repeat;
mod reports;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where sla.toml and profiles/ live).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn repo_sla() -> PathBuf {
    repo().join("sla.toml")
}

/// Run the slagate binary with these arguments, from the repository root.
pub fn slagate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_slagate"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("run slagate")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The rows of the SLA table that failed, as "endpoint metric".
pub fn failing_rows(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains("FAIL") && l.contains('┆'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('│').split('┆').map(str::trim).collect();
            format!("{} {}", cells[0], cells[1])
        })
        .collect()
}
