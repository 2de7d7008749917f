//! `--repeat N` through the binary, against the embedded simulator: N runs reported, one
//! combined verdict that gates, and the combined JSON equal to the runs merged.

use slagate::fixture::{Fixture, Mode};
use slagate::report::RunReport;

use crate::{check, repo, repo_sla, stderr, stdout};

fn repeated(fixture: &Fixture, json: &std::path::Path) -> std::process::Output {
    check("smoke")
        .sla(repo_sla())
        .host(&fixture.base_url())
        .users(10)
        .spawn_rate(100)
        .run_time("3s")
        .args(["--repeat", "3", "--json"])
        .arg(json)
        .run()
}

fn load(path: &std::path::Path) -> RunReport {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    slagate::report::json::load(&bytes).unwrap()
}

#[test]
fn repeat_3_reports_three_runs_and_gates_on_their_combination() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let out = repeated(&fixture, &json);
    let text = stdout(&out);
    let err = stderr(&out);

    for k in 1..=3 {
        let banner = format!("━━ run {k} of 3 ━━");
        assert_eq!(text.matches(&banner).count(), 1, "{banner}\n{text}");
    }
    assert_eq!(text.matches("━━ combined: 3 runs").count(), 1, "{text}");
    assert!(text.contains("Runs min–max"), "{text}");
    // One verdict line per run and one for the combination, which comes last.
    let verdicts: Vec<&str> = text
        .lines()
        .filter(|l| {
            ["SLA PASSED", "SLA FAILED", "SLA INCONCLUSIVE", "RUN "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    assert_eq!(verdicts.len(), 4, "{verdicts:?}\n{text}");
    let combined_at = text.find("━━ combined").unwrap();
    assert!(text.rfind(verdicts[3]).unwrap() > combined_at);
    // Ramp-up 0.1 s: each run measures 1 s–3 s, and the combination all three windows.
    assert!(verdicts[0].contains("2s measured"), "{}", verdicts[0]);
    assert!(verdicts[3].contains("6s measured"), "{}", verdicts[3]);

    // The combined JSON is what gates, and it is the three runs merged.
    let combined = load(&json);
    assert_eq!(
        out.status.code(),
        Some(i32::from(combined.exit_code().code())),
        "{text}\n{err}"
    );
    // Not asserted: the outcome itself. It depends on timing (a `max` budget on a busy shared
    // machine); what must hold is that the combination, not any one run, decides the exit code.
    let runs: Vec<RunReport> = (1..=3)
        .map(|k| load(&dir.path().join(format!("run-run{k}.json"))))
        .collect();
    let requests: u64 = runs.iter().map(|r| r.total.requests).sum();
    assert!(requests > 0);
    assert_eq!(combined.total.requests, requests);
    let windows: std::time::Duration = runs.iter().map(|r| r.window.length()).sum();
    assert_eq!(combined.window.length(), windows);
    for (e, ep) in combined.endpoints.iter().enumerate() {
        let mut merged = runs[0].endpoints[e].stats.latency.clone();
        for r in &runs[1..] {
            merged.add(&r.endpoints[e].stats.latency).unwrap();
        }
        assert_eq!(ep.stats.latency.len(), merged.len(), "{}", ep.name);
        assert_eq!(
            ep.stats.latency.value_at_quantile(0.95),
            merged.value_at_quantile(0.95),
            "{}: the combined p95 is the merged histogram's",
            ep.name
        );
    }
    // The combined run is an ordinary slagate.run/v3 document.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("schemas/slagate.run.v4.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::options().build(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn repeat_0_is_refused_before_any_load() {
    let out = check("smoke").args(["--repeat", "0"]).run();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--repeat"), "{}", stderr(&out));
}
