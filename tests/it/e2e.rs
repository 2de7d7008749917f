//! The whole pipeline through the binary, against the embedded simulator.

use slagate::fixture::{Fixture, Mode};

use crate::{check, failing_rows, quick_profile, repo_sla, stderr, stdout};

/// The rows of the SLA table whose result starts with `result`, as "endpoint metric".
pub fn rows_with(out: &str, result: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains('┆'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.trim_matches('│').split('┆').map(str::trim).collect();
            (cells.len() == 7 && cells[6].starts_with(result))
                .then(|| format!("{} {}", cells[0], cells[1]))
        })
        .collect()
}

/// A short, busy run of the smoke shape that judges every budget: 10 users for 6 s give every
/// endpoint dozens of samples.
fn smoke(fixture: &Fixture) -> std::process::Output {
    check(quick_profile())
        .sla(repo_sla())
        .host(&fixture.base_url())
        .users(10)
        .spawn_rate(100)
        .run_time("6s")
        .run()
}

#[test]
fn healthy_target_fails_nothing_and_exits_0_with_its_thin_percentiles_inconclusive() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let out = smoke(&fixture);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(failing_rows(&text).is_empty(), "{text}");
    // 5 s of 10 users give every endpoint dozens of samples: enough to bound each p50, not
    // enough for a p99 (299 needed). Those rows are INCONCLUSIVE, and the run says so.
    let inconclusive = rows_with(&text, "INCONCLUSIVE");
    assert!(
        inconclusive.iter().filter(|r| r.ends_with(" p99")).count() == 5,
        "every p99 row: {inconclusive:?}\n{text}"
    );
    assert!(
        inconclusive
            .iter()
            .all(|r| r.ends_with(" p99") || r.ends_with(" p95")),
        "{inconclusive:?}"
    );
    assert!(
        text.contains(&format!(
            "SLA INCONCLUSIVE: {} passed, {} inconclusive (too few samples) of 26 checks",
            26 - inconclusive.len(),
            inconclusive.len()
        )),
        "{text}"
    );
    assert!(text.contains("⚠ WARNING: "), "{text}");
    assert!(text.contains("needs ≥ 299 samples: about "), "{text}");
    for table in [
        "Request statistics",
        "Response time percentiles",
        "SLA checks",
        "Aggregated",
    ] {
        assert!(text.contains(table), "missing {table}: {text}");
    }
    assert!(fixture.requests_served() > 100);
}

#[test]
fn degraded_target_fails_exactly_the_degraded_rows_and_exits_1() {
    let fixture = Fixture::start(0, Mode::Degraded).unwrap();
    let out = smoke(&fixture);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert_eq!(
        failing_rows(&text),
        ["/analysis/ p99", "all endpoints max_error_rate"],
        "{text}"
    );
    assert!(text.contains("SLA FAILED: 2 of 26 checks"), "{text}");
    // The diagnostics say why, with the evidence.
    assert!(text.contains("× /analysis/ p99 < 2 s: p99 was"), "{text}");
    assert!(text.contains("/optimize/run:"), "{text}");
    assert!(text.contains("HTTP 503 Service Unavailable"), "{text}");
}

#[test]
fn target_down_exits_3_with_one_line() {
    let url = crate::server::unused_port_url();
    let out = check("smoke").host(&url).run_time("2s").run();
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("unreachable") && lines[0].contains("refused"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}
