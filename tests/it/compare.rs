//! Baseline regressions through the binary: a head 30 % slower than its base (the fixture's
//! `Slower` mode, inside every budget) is a regression though its own check passes; two healthy
//! runs are not; runs of another load shape are refused before any comparison.
//!
//! The SLA here is the repository's without `/health/`: its 2 ms median is within reach of a
//! busy test machine's scheduling noise, which a 10 % tolerance on 0.2 ms cannot absorb. The
//! other endpoints answer in 10 ms and more, where that noise is far below the tolerance.

use std::path::{Path, PathBuf};

use slagate::fixture::{Fixture, Mode};

use crate::server::unused_port_url;
use crate::{repo_sla, slagate, stderr, stdout};

/// Forty users without think time for 10 s: a few hundred samples of the slowest endpoint and
/// a thousand or more of the others.
const PROFILE: &str = "users = 40\nspawn_rate = 400\nrun_time = \"10s\"\nlevel = \"smoke\"\n";

struct Setup {
    dir: tempfile::TempDir,
    sla: PathBuf,
    profile: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_sla()).unwrap();
    let start = text
        .find("[[endpoint]]\nname = \"/health/\"")
        .expect("sla.toml has /health/");
    let end = start + 1 + text[start + 1..].find("[[endpoint]]").unwrap();
    let sla = dir.path().join("sla.toml");
    std::fs::write(&sla, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let profile = dir.path().join("busy.toml");
    std::fs::write(&profile, PROFILE).unwrap();
    Setup { dir, sla, profile }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `slagate check` with this setup's profile and SLA.
fn check(s: &Setup) -> crate::Check {
    crate::check(&s.profile).sla(&s.sla)
}

/// `slagate check` against a fresh fixture in `mode`, saving the run as `json`.
fn check_against(s: &Setup, mode: Mode, json: &Path, extra: &[&str]) -> std::process::Output {
    let fixture = Fixture::start(0, mode).unwrap();
    check(s)
        .host(&fixture.base_url())
        .arg("--json")
        .arg(json)
        .args(extra)
        .run()
}

/// `slagate compare BASE HEAD` with this setup's SLA.
fn compare(s: &Setup, base: &Path, head: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["compare", path(base), path(head), "--sla", path(&s.sla)];
    args.extend_from_slice(extra);
    slagate(&args)
}

fn regressed_rows(doc: &serde_json::Value) -> Vec<String> {
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] == "regression")
        .map(|r| format!("{} {}", r["endpoint"].as_str().unwrap(), r["metric"]))
        .collect()
}

#[test]
fn a_slower_head_is_a_regression_though_every_budget_passes_and_an_equal_one_is_not() {
    let s = setup();
    let base = s.dir.path().join("base.json");
    let out = check_against(&s, Mode::Healthy, &base, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The head, 30 % slower and judged against the base in the same command.
    let head = s.dir.path().join("head.json");
    let base_flag = ["--baseline", path(&base)];
    let out = check_against(&s, Mode::Slower, &head, &base_flag);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    // Its own verdict passed: the regression alone failed it.
    let run: serde_json::Value = serde_json::from_slice(&std::fs::read(&head).unwrap()).unwrap();
    assert!(
        run["verdict"] == "pass" || run["verdict"] == "inconclusive",
        "{}",
        run["verdict"]
    );
    assert!(text.contains("REGRESSION"), "{text}");

    // The same two files through `slagate compare`.
    let json = s.dir.path().join("cmp.json");
    let md = s.dir.path().join("cmp.md");
    let out = compare(
        &s,
        &base,
        &head,
        &["--json", path(&json), "--markdown", path(&md)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], "slagate.compare/v2");
    assert_eq!(doc["verdict"], "regression");
    assert_eq!(doc["noise"]["model"], "within_run");
    let regressed = regressed_rows(&doc);
    // The whole service's shift, and the endpoints with the most samples and the largest
    // absolute shift, are caught every time.
    for endpoint in ["All endpoints", "/system/metrics", "/analysis/"] {
        assert!(
            regressed.contains(&format!("{endpoint} \"shift\"")),
            "{endpoint} shift not caught: {regressed:?}\n{}",
            stdout(&out)
        );
    }
    let headline = doc["headline"].as_str().unwrap();
    assert!(
        headline.starts_with("REGRESSION: the service is ")
            && headline.contains("slower at shift [")
            && headline
                .contains("(1 base run, 1 head run; noise within runs only; 95 % per comparison)"),
        "{headline}"
    );
    assert!(
        text.contains(headline),
        "the terminal says the same: {text}"
    );
    assert!(
        regressed.iter().any(|r| r.ends_with("\"p95\"")),
        "no p95 caught: {regressed:?}"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("**❌ regression**"), "{md}");
    // --regression warn reports the same and exits 0.
    let out = compare(&s, &base, &head, &["--regression", "warn"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("REGRESSION"));

    // A second healthy run: nothing to report.
    let again = s.dir.path().join("again.json");
    let out = check_against(&s, Mode::Healthy, &again, &base_flag);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    // "NO REGRESSION: …", or "NO REGRESSION (1 improvement): …" when the base happened to be
    // slowed by the machine.
    let text = stdout(&out);
    assert!(
        text.contains("NO REGRESSION") && text.contains("no row is worse than its tolerance"),
        "{text}"
    );
}

#[test]
fn a_history_of_base_runs_and_a_repeated_head_name_their_noise_model() {
    // Three base runs (say, the last three of main) and a head made three times: the
    // comparison estimates how much runs vary on this machine and says so in its verdict.
    let s = setup();
    let short = ["-t", "4s"];
    let bases: Vec<PathBuf> = (1..=3)
        .map(|k| {
            let base = s.dir.path().join(format!("base{k}.json"));
            let out = check_against(&s, Mode::Healthy, &base, &short);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            base
        })
        .collect();
    let head = s.dir.path().join("head.json");
    let mut extra: Vec<&str> = short.to_vec();
    extra.push("--repeat");
    extra.push("3");
    extra.push("--baseline");
    extra.extend(bases.iter().map(|b| path(b)));
    let out = check_against(&s, Mode::Slower, &head, &extra);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("REGRESSION: the service is ")
            && text.contains("(3 base runs, 3 head runs; noise between runs estimated from them; 95 % per comparison)"),
        "{text}"
    );
    assert!(
        text.contains("3+3 runs ±"),
        "each judged row names its noise: {text}"
    );

    // A folder of base runs is a history too; --history keeps the most recent.
    let folder = s.dir.path().join("main-runs");
    std::fs::create_dir(&folder).unwrap();
    for (k, b) in bases.iter().enumerate() {
        std::fs::copy(b, folder.join(format!("run{k}.json"))).unwrap();
    }
    std::fs::write(folder.join("notes.json"), "{}").unwrap();
    let out = compare(
        &s,
        &folder,
        &bases[0],
        &["--history", "2", "--regression", "warn"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("notes.json: not a run, skipped"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("(2 base runs, 1 head run; noise between runs"),
        "{}",
        stdout(&out)
    );
    // Counts that leave no base run, or keep none, are bad input: exit 2, said in a line.
    for (flags, said) in [
        (["--heads", "2"], "--heads 2 leaves no base run"),
        (["--history", "0"], "--history must be at least 1"),
    ] {
        let out = compare(&s, &folder, &bases[0], &flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(said), "{flags:?}: {}", stderr(&out));
    }
}

#[test]
fn runs_of_another_shape_are_refused() {
    let s = setup();
    let base = s.dir.path().join("base.json");
    // A short run is enough to have a file to compare; its own verdict does not matter here
    // (two users for a 1 s window may leave an endpoint unsampled: a coverage FAIL, exit 1).
    let out = check_against(&s, Mode::Healthy, &base, &["-t", "2s", "-u", "2"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 4)),
        "{}",
        stderr(&out)
    );
    assert!(base.exists(), "the run wrote no JSON: {}", stderr(&out));

    // Another user count, in a copy of the same run.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    doc["profile"]["users"] = 7.into();
    let other = s.dir.path().join("other.json");
    std::fs::write(&other, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = slagate(&["compare", path(&base), path(&other)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("users differs (base 2, head 7)"), "{err}");

    // `check --baseline` with another shape is refused before any load: no fixture needed.
    let head = s.dir.path().join("head.json");
    let out = check(&s)
        .host(&unused_port_url())
        .arg("--baseline")
        .arg(&base)
        .arg("--json")
        .arg(&head)
        .run();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("users differs (base 2, head 40)"), "{err}");
    assert!(
        err.contains("run time differs (base 2s, head 10s)"),
        "{err}"
    );
}
