//! Honest verdicts through the binary: a run too short to bound its percentiles is
//! INCONCLUSIVE (exit 0 with a warning, exit 4 under `--strict`) and says how long a run would
//! decide it; `validate` warns about a profile that cannot reach its level.

use slagate::fixture::{Fixture, Mode};

use crate::e2e::rows_with;
use crate::{check, failing_rows, repo_sla, slagate, stderr, stdout};

/// Four users without think time for 4 s, every budget judged: a few hundred requests in
/// all, tens per endpoint — enough for every endpoint's coverage, far from the 299 samples a
/// p99 needs. No think time on purpose: the validity rule on late think-time wake-ups cannot
/// fire, so a busy test machine cannot turn this run INVALID; thin data is what is tested.
fn short_smoke(fixture: &Fixture, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("short.toml");
    std::fs::write(&profile, "users = 4\nspawn_rate = 100\nrun_time = \"4s\"\n").unwrap();
    check(&profile)
        .sla(repo_sla())
        .host(&fixture.base_url())
        .args(extra)
        .run()
}

#[test]
fn too_few_samples_is_inconclusive_exits_0_and_says_how_long_to_run() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let out = short_smoke(&fixture, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(failing_rows(&text).is_empty(), "{text}");
    let inconclusive = rows_with(&text, "INCONCLUSIVE");
    for endpoint in [
        "/health/",
        "/system/metrics",
        "/analysis/",
        "/lmcache/status",
        "/optimize/run",
    ] {
        let row = format!("{endpoint} p99");
        assert!(
            inconclusive.contains(&row),
            "{row} in {inconclusive:?}\n{text}"
        );
    }
    assert!(text.contains("SLA INCONCLUSIVE: "), "{text}");
    assert!(
        text.contains("inconclusive (too few samples) of 26 checks"),
        "{text}"
    );
    assert!(text.contains("⚠ WARNING: "), "{text}");
    assert!(text.contains("This run exits 0; pass --strict"), "{text}");
    assert!(
        text.contains("Too few samples to decide (INCONCLUSIVE):"),
        "{text}"
    );
    assert!(
        text.contains("needs ≥ 299 samples: about "),
        "how long a run would decide it: {text}"
    );
}

#[test]
fn strict_makes_an_inconclusive_run_exit_4_and_records_it() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let junit = dir.path().join("junit.xml");
    let out = short_smoke(
        &fixture,
        &[
            "--strict",
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(4), "{text}\n{}", stderr(&out));
    assert!(failing_rows(&text).is_empty(), "{text}");
    assert!(text.contains("SLA INCONCLUSIVE: "), "{text}");
    assert!(text.contains("--strict is set: this run exits 4"), "{text}");

    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["verdict"], "inconclusive");
    assert_eq!(doc["exit_code"], 4);
    assert_eq!(doc["strict"], true);
    let p99 = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["endpoint"] == "/health/" && c["metric"] == "p99")
        .unwrap();
    assert_eq!(p99["status"], "inconclusive");
    assert_eq!(p99["needs"]["samples"], 299);
    assert!(p99["interval"].is_null());
    // Under --strict an inconclusive check is a JUnit failure (it fails the job).
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("type=\"inconclusive\""), "{xml}");
    assert!(!xml.contains("<skipped"), "{xml}");

    // `slagate report` re-renders the same verdict from the JSON.
    let again = slagate(&["report", json.to_str().unwrap()]);
    assert!(
        stdout(&again).contains("--strict is set: this run exits 4"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn validate_warns_about_a_profile_that_cannot_reach_its_level_and_still_exits_0() {
    // Level medium needs 40 req/s; 5 users thinking 1 s make at most 5 req/s.
    let dir = tempfile::tempdir().unwrap();
    let sla = dir.path().join("sla.toml");
    std::fs::copy(repo_sla(), &sla).unwrap();
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    std::fs::write(
        dir.path().join("profiles/medium.toml"),
        "users = 5\nspawn_rate = 5\nrun_time = \"1m\"\nthink_time = \"1s\"\n",
    )
    .unwrap();
    let out = slagate(&["validate", "--sla", sla.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("cannot reach level `medium`"), "{err}");
    assert!(err.contains("1 profile(s) are valid"), "{err}");
}
