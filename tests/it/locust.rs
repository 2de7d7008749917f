//! `slagate judge` on real Locust runs: Locust (tests/locust/locustfile.py, the guide's
//! Resource Agent user, 30 users) drives the simulator on an ephemeral port for 20 s, headless, and
//! slagate judges what it wrote. Needs `locust`: $SLAGATE_LOCUST, else `locust` on PATH, else
//! the venv `.ci/run` makes under target/. Without it the tests say so loudly on stderr and
//! return; under CI (`$CI` or `$SLAGATE_REQUIRE_LOCUST` set, as `.ci/run` does) a missing
//! Locust fails them, so CI never skips them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use slagate::fixture::{Fixture, Mode};

use crate::{failing_rows, repo, repo_sla, slagate, stderr, stdout};

/// Where Locust is, if it is installed.
fn locust() -> Option<PathBuf> {
    let works = |p: &Path| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let candidates = [
        std::env::var_os("SLAGATE_LOCUST").map(PathBuf::from),
        Some(PathBuf::from("locust")),
        Some(repo().join("target/locust-venv/bin/locust")),
    ];
    candidates.into_iter().flatten().find(|p| works(p))
}

/// Locust, or `None` after saying loudly (past the test harness's capture) that the test is
/// skipped; under CI, a panic instead.
fn locust_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(path) = locust() {
        return Some(path);
    }
    let msg = format!(
        "locust is not installed (no $SLAGATE_LOCUST, no `locust` on PATH, no \
         target/locust-venv): `{test}` was NOT run. Install it with `python3 -m venv \
         target/locust-venv && target/locust-venv/bin/pip install locust`, or run .ci/run."
    );
    if std::env::var_os("CI").is_some() || std::env::var_os("SLAGATE_REQUIRE_LOCUST").is_some() {
        panic!("{msg}");
    }
    // Written to the process's stderr directly: eprintln! would be captured and hidden.
    let _ = writeln!(std::io::stderr(), "\n!!!!! SKIPPED: {msg}\n");
    None
}

/// One Locust run at a time: a Python process driving 30 users takes a good part of a core,
/// and two at once beside the suite's timing-sensitive runs would starve those (a starved
/// slagate run is rightly INVALID).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A headless Locust run of the locustfile against `mode`, writing `DIR/run_*.csv` and
/// `DIR/run.json`: 30 users (about 55 req/s, above the medium level's 40), for 20 s.
fn run_locust(locust: &Path, mode: Mode, dir: &Path) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fixture = Fixture::start(0, mode).unwrap();
    let json = std::fs::File::create(dir.join("run.json")).unwrap();
    let out = Command::new(locust)
        .current_dir(repo())
        .args([
            "-f",
            "tests/locust/locustfile.py",
            "--headless",
            "--only-summary",
        ])
        .args(["-u", "30", "-r", "30", "-t", "20s", "--host"])
        .arg(fixture.base_url())
        .arg("--csv")
        .arg(dir.join("run"))
        .arg("--json")
        .stdout(json)
        .output()
        .expect("run locust");
    // Locust exits 1 when any request failed (degraded mode's 503s): the files are what count.
    assert!(
        dir.join("run_stats.csv").exists(),
        "locust wrote no stats ({:?}):\n{}",
        out.status,
        stderr(&out)
    );
}

fn judge(dir: &Path, extra: &[&str]) -> std::process::Output {
    let prefix = dir.join("run");
    let mut args = vec![
        "judge",
        "--locust",
        prefix.to_str().unwrap(),
        "--sla",
        repo_sla().to_str().unwrap(),
        "--profile",
        "medium",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.extend(extra.iter().map(|s| s.to_string()));
    slagate(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn a_degraded_service_under_locust_fails_its_analysis_p99_and_the_report_re_renders() {
    let Some(locust) = locust_or_skip("locust::a_degraded_service_under_locust_fails…") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    run_locust(&locust, Mode::Degraded, dir.path());
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();

    // The CSV alone: Locust's written p99, no interval.
    let out = judge(
        dir.path(),
        &["--json", &p("judged.json"), "--markdown", &p("a.md")],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    let failing = failing_rows(&text);
    assert!(
        failing.contains(&"/analysis/ p99".to_string()),
        "{failing:?}\n{text}"
    );
    assert!(
        text.contains("/analysis/ p99 < 2 s: p99 was ") && text.contains("as Locust wrote it"),
        "{text}"
    );
    assert!(
        text.contains("No interval: Locust's CSV gives percentiles only"),
        "{text}"
    );
    assert!(
        text.contains("the load was made by Locust, with 30 users"),
        "{text}"
    );
    assert!(text.contains("SLA FAILED"), "{text}");

    // `slagate report` (exit 0: it re-renders, it does not gate) writes the same bytes.
    let again = slagate(&["report", &p("judged.json"), "--markdown", &p("b.md")]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        std::fs::read(p("a.md")).unwrap(),
        std::fs::read(p("b.md")).unwrap()
    );

    // With --json the whole distribution: the same diagnostic lines as a slagate run.
    let out = judge(dir.path(), &["--locust-json", &p("run.json")]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(
        failing_rows(&text).contains(&"/analysis/ p99".to_string()),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("/analysis/ p99 < 2 s: p99 was"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("against a budget of < 2 s ("), "{line}");
    assert!(
        text.contains("took 2 s or longer; the slowest took"),
        "the count of slow requests, as slagate writes it:\n{text}"
    );
}

#[test]
fn a_healthy_service_under_locust_passes_or_is_inconclusive_for_want_of_samples() {
    let Some(locust) = locust_or_skip("locust::a_healthy_service_under_locust_passes…") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    run_locust(&locust, Mode::Healthy, dir.path());
    let out = judge(dir.path(), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(failing_rows(&text).is_empty(), "{text}");
    // 20 s of 50 users give the rarer endpoints fewer than the 299 samples a p99 needs.
    assert!(
        text.contains("SLA PASSED") || text.contains("SLA INCONCLUSIVE"),
        "{text}"
    );
    if text.contains("SLA INCONCLUSIVE") {
        assert!(text.contains("needs ≥ 299 samples"), "{text}");
    }
    // --strict turns that into exit 4.
    if text.contains("SLA INCONCLUSIVE") {
        let strict = judge(dir.path(), &["--strict"]);
        assert_eq!(strict.status.code(), Some(4), "{}", stdout(&strict));
    }
}

/// The checked-in degraded run (no Locust needed): without --profile, the profile whose users
/// are Locust's 50 is judged; every report format is written, and the exit code is 1.
#[test]
fn the_checked_in_degraded_run_picks_the_profile_with_locusts_users() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = repo().join("fixtures/locust/degraded/run");
    let mut args = vec!["judge".to_string(), "--locust".into()];
    args.push(prefix.to_string_lossy().into_owned());
    args.extend(crate::report_flags(dir.path()));
    let out = slagate(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(
        stderr(&out).contains("no --profile: judging profile medium, whose 50 users are Locust's"),
        "{}",
        stderr(&out)
    );
    assert!(
        failing_rows(&text).contains(&"/analysis/ p99".to_string()),
        "{text}"
    );
    for file in [
        "run.json",
        "run_stats.csv",
        "report.html",
        "junit.xml",
        "summary.md",
    ] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}

/// Bad input is a diagnostic with the file and line, exit 2, and every report path says so.
#[test]
fn a_file_that_is_not_locusts_is_exit_2_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        std::fs::read_to_string(repo().join("fixtures/locust/degraded/run_stats.csv")).unwrap();
    std::fs::write(
        dir.path().join("bad_stats.csv"),
        good.replacen(",662,", ",six,", 1),
    )
    .unwrap();
    let prefix = dir.path().join("bad");
    let json = dir.path().join("out.json");
    let out = slagate(&[
        "judge",
        "--locust",
        prefix.to_str().unwrap(),
        "--profile",
        "medium",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bad_stats.csv:3: `Request Count` is \"six\", not a number"),
        "{}",
        stderr(&out)
    );
    let doc = std::fs::read_to_string(&json).unwrap();
    assert!(doc.contains("slagate.not-run/v1"), "{doc}");
    let missing = slagate(&[
        "judge",
        "--locust",
        "/nonexistent/run",
        "--profile",
        "medium",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("/nonexistent/run_stats.csv"),
        "{}",
        stderr(&missing)
    );
}
