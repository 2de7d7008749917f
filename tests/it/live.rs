//! The live view (issue 13): off a terminal, one plain status line per `--progress-interval`
//! with every endpoint's recent percentiles and the budgets at risk, never an escape sequence;
//! on a terminal (a pseudo-terminal made by `script`), a block redrawn in place; `0` shows
//! nothing. All on stderr.

use std::process::Command;

use crate::server::{Behaviour, TestServer};
use crate::{check, stderr, stdout};

/// One endpoint `/x` with a p95 budget the server's 20 ms answers break.
fn scratch(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sla.toml"),
        format!(
            "[target]\nbase_url = \"{url}\"\n\n[[endpoint]]\nname = \"/x\"\n\
             budget = {{ p95 = \"5ms\" }}\n"
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    std::fs::write(
        dir.path().join("profiles/live.toml"),
        "users = 3\nspawn_rate = 100\nrun_time = \"4s\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_piped_run_prints_plain_lines_at_the_interval() {
    let server = TestServer::start(Behaviour::Fixed(std::time::Duration::from_millis(20)));
    let dir = scratch(&server.url());
    let out = check(dir.path().join("profiles/live.toml"))
        .sla(dir.path().join("sla.toml"))
        .arg("--progress-interval")
        .arg("1s")
        .run();
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("[0:0")).collect();
    assert!(lines.len() >= 4, "a line a second:\n{err}");
    assert!(
        !err.contains('\x1b'),
        "no escape sequence off a terminal:\n{err}"
    );
    // Users finish as the run ends, so the figures are looked for in any line, not the last.
    assert!(lines.iter().any(|l| l.contains("3/3 users")), "{err}");
    assert!(
        lines.iter().any(|l| l.contains("| /x p50 2")),
        "each endpoint's recent percentiles:\n{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("at risk: /x p95 2") && l.contains("(budget < 5 ms)")),
        "the broken budget is named:\n{err}"
    );
    assert!(!stdout(&out).contains("[0:0"), "stdout keeps the tables");

    let quiet = check(dir.path().join("profiles/live.toml"))
        .sla(dir.path().join("sla.toml"))
        .arg("--progress-interval")
        .arg("0")
        .run_time("2s")
        .run();
    assert!(
        !stderr(&quiet).contains("[0:0"),
        "0 shows nothing:\n{}",
        stderr(&quiet)
    );
}

#[test]
fn a_terminal_gets_a_block_redrawn_in_place() {
    if Command::new("script").arg("--version").output().is_err() {
        // util-linux's `script` makes the pseudo-terminal; every Debian has it.
        eprintln!("\n!!!!! SKIPPED: no `script` (util-linux) to make a pseudo-terminal\n");
        assert!(std::env::var_os("CI").is_none(), "CI must have `script`");
        return;
    }
    let server = TestServer::start(Behaviour::Fixed(std::time::Duration::from_millis(20)));
    let dir = scratch(&server.url());
    let typescript = dir.path().join("typescript");
    let command = format!(
        "{} check --profile {} --sla {} --run-time 3s >/dev/null",
        env!("CARGO_BIN_EXE_slagate"),
        dir.path().join("profiles/live.toml").display(),
        dir.path().join("sla.toml").display()
    );
    let status = Command::new("script")
        .args(["-qfec", &command])
        .arg(&typescript)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script");
    let shown = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(status.status.code().is_some(), "{shown}");
    // The block: a head line, a line per endpoint, the budgets at risk; then drawn over.
    assert!(shown.contains("/ 0:03] 3/3 users"), "{shown}");
    assert!(shown.contains("  /x  p50 2"), "{shown}");
    assert!(shown.contains("  budgets at risk: /x p95"), "{shown}");
    assert!(
        shown.contains("\x1b[3F\x1b[J"),
        "redrawn in place:\n{shown:?}"
    );
}
