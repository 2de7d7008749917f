//! The reader against real Locust 2.47 output: the reference samples (`fixtures/locust/
//! reference/`, from locust-formats.md §0) and two runs of `tests/locust/locustfile.py` against
//! the simulator (`fixtures/locust/{degraded,healthy}/`, 50 users for 20 s). Figures are
//! asserted exactly as Locust wrote them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::read::{self, PERCENTILES};
use super::*;
use crate::plan::{Overrides, Plan};
use crate::stats::FailureKind;
use crate::verdict::{self, CheckMetric, Status, Subject};
use crate::{config, plan};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/locust")
        .join(path)
}

fn text(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).unwrap()
}

fn medium() -> Plan {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sla = config::load_sla(&root.join("sla.toml")).unwrap();
    let profile = config::load_profile(&root.join("profiles/medium.toml")).unwrap();
    plan::build(&sla, &profile, &Overrides::default()).unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn the_reference_stats_file_reads_exactly() {
    let (rows, agg) =
        read::stats_rows(Path::new("ex_stats.csv"), &text("reference/ex_stats.csv")).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["/", "/missing", "/q \"x\",y", "/slow"]);
    let slow = &rows[3];
    assert_eq!(
        (slow.method.as_str(), slow.requests, slow.failures),
        ("GET", 105, 0)
    );
    assert_eq!(slow.max_ms, 351.43632799997704);
    assert_eq!(slow.average_ms, 233.01567129523713);
    assert_eq!(
        slow.percentiles,
        Some([240, 280, 300, 310, 330, 340, 340, 350, 350, 350, 350])
    );
    assert_eq!(slow.line, 5);
    let agg = agg.expect("the Aggregated row");
    assert_eq!(
        (agg.method.as_str(), agg.requests, agg.failures),
        ("", 351, 71)
    );
    assert_eq!(agg.rps, 26.99677579212265);
    assert_eq!(agg.line, 6);
}

#[test]
fn the_reference_history_and_failures_read_exactly() {
    let h = read::history_rows(Path::new("h"), &text("reference/ex_stats_history.csv")).unwrap();
    assert_eq!(h.len(), 14, "a 14 s run: 14 data rows");
    assert_eq!(
        (h[0].timestamp, h[0].users, h[0].percentiles),
        (1795949812, 0, None)
    );
    let r = h.iter().find(|r| r.timestamp == 1795949815).unwrap();
    assert_eq!((r.users, r.total_requests, r.total_failures), (5, 82, 15));
    assert_eq!(
        r.percentiles,
        Some([4, 15, 120, 160, 290, 320, 340, 340, 340, 340, 340])
    );
    let f = read::failure_rows(Path::new("f"), &text("reference/ex_failures.csv")).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].method.as_str(), f[0].name.as_str()),
        ("GET", "/missing")
    );
    assert_eq!(f[0].occurrences, 71);
    assert_eq!(f[0].first_seen, Some(1795949812)); // 2026-11-29T10:56:52Z
    assert_eq!(failure_kind(&f[0].error), FailureKind::Status(404));
}

#[test]
fn the_reference_json_reads_exactly() {
    let j = read::json_entries(Path::new("out.json"), &text("reference/out.json")).unwrap();
    let q = j.iter().find(|e| e.name == "/q \"x\",y").unwrap();
    assert_eq!((q.num_requests, q.num_failures), (50, 0));
    assert_eq!(q.response_times.get("22"), Some(&1));
    assert_eq!(q.response_times.values().sum::<u64>(), 50);
    let st = from_json(q);
    assert_eq!(st.latency.len(), 50);
    assert_eq!(
        st.max(),
        Some(Duration::from_secs_f64(23.953669999997373 / 1e3))
    );
    assert!(!st.points_only(), "a whole distribution has intervals");
}

/// The synthesised histogram holds Locust's written value at each of Locust's ranks
/// (v[min(⌊N·p⌋, N−1)], locust-formats.md §4.2), and `quantile` reads the written figure.
#[test]
fn synthesised_histograms_reproduce_every_written_percentile() {
    let (rows, agg) = read::stats_rows(Path::new("s"), &text("degraded/run_stats.csv")).unwrap();
    for row in rows.iter().chain(agg.iter()) {
        let st = from_row(row);
        let points = row.percentiles.unwrap();
        let n = row.requests;
        assert_eq!(st.latency.len(), n, "{}", row.name);
        let sorted: Vec<u64> = st
            .latency
            .iter_recorded()
            .flat_map(|v| std::iter::repeat_n(v.value_iterated_to(), v.count_at_value() as usize))
            .collect();
        for (i, (q, label)) in PERCENTILES.iter().enumerate() {
            let rank = ((n as f64 * q) as u64).min(n - 1) as usize;
            assert!(
                st.latency.equivalent(sorted[rank], points[i] * 1000),
                "{} {label}: rank {rank} holds {} µs, Locust wrote {} ms",
                row.name,
                sorted[rank],
                points[i]
            );
            assert_eq!(st.quantile(*q), Some(ms(points[i])), "{} {label}", row.name);
        }
        assert!(st.points_only());
    }
    let analysis = rows.iter().find(|r| r.name == "/analysis/").unwrap();
    assert_eq!(from_row(analysis).quantile(0.99), Some(ms(2300)));
}

#[test]
fn a_degraded_run_summarises_and_fails_on_the_analysis_p99_without_an_interval() {
    let plan = medium();
    let files = read(Some(&fixture("degraded/run")), None).unwrap();
    check_budgets(&plan, &files).unwrap();
    let import = summarise(&plan, &files);
    let s = &import.summary;
    assert_eq!(import.users, Some(50));
    assert!(import.unseen.is_empty());
    // The user count reached 50 at the history's third row (t0 + 2 s); the last row is t0 + 19 s.
    assert_eq!(s.window.start, Duration::from_secs(2));
    assert_eq!(s.window.end, Duration::from_secs(19));
    let analysis = plan
        .endpoints
        .iter()
        .position(|e| e.name == "/analysis/")
        .unwrap();
    assert_eq!(s.endpoints[analysis].requests, 230);
    assert_eq!(s.total.requests, 1683);
    assert_eq!(s.total.failures, 12);
    // req/s over the window: (1683 − 152) requests in 17 s.
    assert!(
        (s.total.rps - 1531.0 / 17.0).abs() < 1e-9,
        "{}",
        s.total.rps
    );
    let optimize = plan
        .endpoints
        .iter()
        .position(|e| e.name == "/optimize/run")
        .unwrap();
    let kinds = &s.endpoints[optimize].failures_by_kind;
    assert_eq!(kinds.len(), 1);
    assert_eq!(
        (kinds[0].kind, kinds[0].count),
        (FailureKind::Status(503), 12)
    );
    assert!(
        kinds[0]
            .example
            .as_ref()
            .unwrap()
            .text
            .starts_with("HTTPError('503")
    );
    // The timeline's requests add up to Locust's total.
    let seconds: u64 = s.timeline.iter().map(|p| p.total.requests).sum();
    assert_eq!(seconds, 1683);

    let v = verdict::judge(&plan, s);
    assert!(
        v.invalid.is_empty(),
        "no generator data is no INVALID: {:?}",
        v.invalid
    );
    let check = |i: usize, metric: &str| {
        v.checks
            .iter()
            .find(|c| c.subject == Subject::Endpoint(i) && c.metric.to_string() == metric)
            .unwrap()
    };
    let p99 = check(analysis, "p99");
    assert_eq!(p99.status, Status::Fail);
    assert_eq!(p99.measured, Some(verdict::Value::Latency(ms(2300))));
    assert_eq!(p99.interval, None);
    assert!(
        p99.diagnostic.contains("as Locust wrote it"),
        "{}",
        p99.diagnostic
    );
    // 662 samples bound a p99: a pass on the written figure, no interval, never marginal.
    let health = plan
        .endpoints
        .iter()
        .position(|e| e.name == "/health/")
        .unwrap();
    let c = check(health, "p99");
    assert_eq!(
        (c.status, c.interval, c.marginal),
        (Status::Pass, None, false)
    );
    // 278 do not: INCONCLUSIVE, as for a run of slagate's own.
    let lmcache = plan
        .endpoints
        .iter()
        .position(|e| e.name == "/lmcache/status")
        .unwrap();
    assert_eq!(check(lmcache, "p99").status, Status::Inconclusive);
    let error_rate = v
        .checks
        .iter()
        .find(|c| c.metric == CheckMetric::MaxErrorRate)
        .unwrap();
    assert_eq!(error_rate.status, Status::Fail);
}

#[test]
fn with_the_json_every_percentile_has_an_interval() {
    let plan = medium();
    let files = read(
        Some(&fixture("degraded/run")),
        Some(&fixture("degraded/run.json")),
    )
    .unwrap();
    let import = summarise(&plan, &files);
    let v = verdict::judge(&plan, &import.summary);
    let health = plan
        .endpoints
        .iter()
        .position(|e| e.name == "/health/")
        .unwrap();
    let c = v
        .checks
        .iter()
        .find(|c| c.subject == Subject::Endpoint(health) && c.metric.to_string() == "p50")
        .unwrap();
    assert!(c.interval.is_some(), "{c:?}");
}

#[test]
fn a_budget_at_a_percentile_locust_does_not_write_is_refused_unless_the_json_is_given() {
    let mut plan = medium();
    plan.endpoints[0].budgets[0].metric =
        crate::plan::Metric::Percentile(crate::plan::Quantile::new(0.97).unwrap());
    let csv = read(Some(&fixture("degraded/run")), None).unwrap();
    let e = check_budgets(&plan, &csv).unwrap_err();
    assert!(e.to_string().contains("/health/ p97"), "{e}");
    let json = read(None, Some(&fixture("degraded/run.json"))).unwrap();
    check_budgets(&plan, &json).unwrap();
}

#[test]
fn an_endpoint_locust_never_named_is_unseen_and_a_stray_row_is_noted() {
    let plan = medium();
    let mut files = read(Some(&fixture("healthy/run")), None).unwrap();
    let row = files
        .stats
        .iter_mut()
        .find(|r| r.name == "/analysis/")
        .unwrap();
    row.name = "/analyse".into();
    let import = summarise(&plan, &files);
    let analysis = plan
        .endpoints
        .iter()
        .position(|e| e.name == "/analysis/")
        .unwrap();
    assert_eq!(import.unseen.len(), 1);
    assert_eq!(import.unseen[0].0, analysis);
    assert!(
        import.unseen[0].1.contains("POST /analyse"),
        "{:?}",
        import.unseen
    );
    assert!(
        import
            .notes
            .iter()
            .any(|n| n.contains("POST /analyse (252 requests)")),
        "{:?}",
        import.notes
    );
    let v = verdict::judge(&plan, &import.summary);
    let coverage = v
        .checks
        .iter()
        .find(|c| c.subject == Subject::Endpoint(analysis) && c.metric == CheckMetric::Coverage)
        .unwrap();
    assert_eq!(coverage.status, Status::Fail);
}

#[test]
fn without_a_history_the_window_is_the_whole_run() {
    let plan = medium();
    let mut files = read(Some(&fixture("healthy/run")), None).unwrap();
    files.history = None;
    let import = summarise(&plan, &files);
    assert_eq!(import.users, None);
    assert_eq!(import.summary.window.start, Duration::ZERO);
    // Locust's rate is N / (last request − start): the run's length is N / rate.
    let agg = files.aggregated.as_ref().unwrap();
    let expect = Duration::from_secs_f64(agg.requests as f64 / agg.rps);
    assert_eq!(import.summary.window.end, expect);
    assert!(import.notes.iter().any(|n| n.contains("whole run")));
}

#[test]
fn failure_kinds_from_locust_error_texts() {
    let cases = [
        (
            "HTTPError('503 Server Error: Service Unavailable for url: /x')",
            FailureKind::Status(503),
        ),
        (
            "BadStatusCode('http://h/x', code=429)",
            FailureKind::Status(429),
        ),
        (
            "ConnectionError(MaxRetryError(\"… [Errno 111] Connection refused\"))",
            FailureKind::ConnectRefused,
        ),
        (
            "ReadTimeout('… Read timed out. (read timeout=10)')",
            FailureKind::Timeout,
        ),
        (
            "ConnectionResetError(104, 'Connection reset by peer')",
            FailureKind::Reset,
        ),
        (
            "RemoteDisconnected('Remote end closed connection without response')",
            FailureKind::Closed,
        ),
        ("CatchResponseError('bad body')", FailureKind::Io),
    ];
    for (text, kind) in cases {
        assert_eq!(failure_kind(text), kind, "{text}");
    }
}

#[test]
fn bad_input_names_the_file_and_line() {
    let e = read::stats_rows(Path::new("x_stats.csv"), "Type,Name\r\nGET,/\r\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("x_stats.csv:1: no `Request Count` column"),
        "{e}"
    );
    let good = text("degraded/run_stats.csv");
    let bad = good.replacen(",662,", ",66x,", 1);
    let e = read::stats_rows(Path::new("s.csv"), &bad).unwrap_err();
    assert_eq!(
        e.to_string(),
        "s.csv:3: `Request Count` is \"66x\", not a number"
    );
    let e = read::json_entries(Path::new("j.json"), "{}").unwrap_err();
    assert!(e.to_string().starts_with("j.json:1: not the array"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.json"), "[]\n").unwrap();
    let e = read(None, Some(&dir.path().join("empty.json"))).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("empty.json:1: no entries: Locust's --json output is empty"),
        "{e}"
    );
    let e = read(Some(Path::new("/nonexistent/run")), None).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/run_stats.csv"), "{e}");
}

/// A judged Locust run as `slagate judge` reports it.
fn judged(prefix: &str, json: Option<&str>) -> crate::report::RunReport {
    let plan = medium();
    let files = read(Some(&fixture(prefix)), json.map(fixture).as_deref()).unwrap();
    let import = summarise(&plan, &files);
    let v = verdict::judge(&plan, &import.summary);
    let mut run =
        crate::report::RunReport::new(&plan, Default::default(), import.summary, v, false, false);
    run.imported = Some(crate::report::Imported {
        tool: "Locust".into(),
        users: import.users,
        notes: import.notes,
    });
    run
}

/// `slagate report RUN.json` re-renders a judged Locust run byte for byte: the written
/// figures and the notes travel in the JSON, which the committed schema accepts.
#[test]
fn a_judged_locust_run_round_trips_through_its_json_and_validates() {
    use crate::report::Reporter;
    use crate::report::json::{Json, load};
    use crate::report::markdown::Markdown;
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schemas/slagate.run.v4.schema.json")).unwrap();
    let validator = jsonschema::draft202012::options().build(&schema).unwrap();
    for run in [
        judged("degraded/run", None),
        judged("degraded/run", Some("degraded/run.json")),
        judged("healthy/run", None),
    ] {
        let bytes = Json.render(&run).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{}: {e}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let back = load(&bytes).unwrap();
        assert_eq!(back.imported, run.imported);
        assert_eq!(Json.render(&back).unwrap(), bytes);
        assert_eq!(
            crate::report::table::render(&back),
            crate::report::table::render(&run)
        );
        assert_eq!(
            Markdown.render(&back).unwrap(),
            Markdown.render(&run).unwrap()
        );
    }
}

#[test]
fn every_format_says_the_load_was_locusts_and_that_there_is_no_interval() {
    use crate::report::Reporter;
    let run = judged("degraded/run", None);
    let table = crate::report::table::render(&run);
    let markdown =
        String::from_utf8(crate::report::markdown::Markdown.render(&run).unwrap()).unwrap();
    let html = String::from_utf8(crate::report::html::Html.render(&run).unwrap()).unwrap();
    let junit = String::from_utf8(crate::report::junit::Junit.render(&run).unwrap()).unwrap();
    for (format, text) in [
        ("table", &table),
        ("markdown", &markdown),
        ("html", &html),
        ("junit", &junit),
    ] {
        assert!(
            text.contains("the load was made by Locust, with 50 users"),
            "{format}"
        );
        assert!(text.contains("No interval: Locust"), "{format}");
    }
}

/// `judge --csv PREFIX` writes Locust's own figures back: the percentile columns exactly, and
/// Average, Min and Max to the nanosecond (not the synthesised histogram's).
#[test]
fn the_csv_report_of_a_judged_run_gives_back_locusts_figures() {
    use crate::report::Reporter;
    let run = judged("degraded/run", None);
    let ours = String::from_utf8(crate::report::csv::CsvStats.render(&run).unwrap()).unwrap();
    let (theirs, _) = read::stats_rows(Path::new("s"), &text("degraded/run_stats.csv")).unwrap();
    let (back, agg) = read::stats_rows(Path::new("ours"), &ours).unwrap();
    assert_eq!(back.len(), theirs.len());
    for (a, b) in back.iter().zip(&theirs) {
        assert_eq!(
            (&a.method, &a.name, a.requests, a.failures),
            (&b.method, &b.name, b.requests, b.failures)
        );
        assert_eq!(a.percentiles, b.percentiles, "{}", a.name);
        for (x, y, what) in [
            (a.average_ms, b.average_ms, "average"),
            (a.min_ms, b.min_ms, "min"),
            (a.max_ms, b.max_ms, "max"),
        ] {
            assert!(
                (x - y).abs() < 1e-6,
                "{} {what}: {x} against Locust's {y}",
                a.name
            );
        }
    }
    assert_eq!(agg.unwrap().requests, 1683);
}

/// Locust's Error text and its row names are shown: the plan's secrets are masked in them.
#[test]
fn secrets_in_locust_texts_are_masked() {
    let mut plan = medium();
    plan.secrets.add_always("tok3n-s3cret");
    let mut files = read(Some(&fixture("degraded/run")), None).unwrap();
    files.failures[0].error =
        "HTTPError('503 Server Error: for url: /optimize/run?key=tok3n-s3cret')".into();
    files.stats[0].name = "/stray?key=tok3n-s3cret".into();
    let import = summarise(&plan, &files);
    let optimize = plan
        .endpoints
        .iter()
        .position(|e| e.name == "/optimize/run")
        .unwrap();
    let example = import.summary.endpoints[optimize].failures_by_kind[0]
        .example
        .as_ref()
        .unwrap();
    assert!(!example.text.contains("tok3n-s3cret"), "{}", example.text);
    assert!(example.text.contains(crate::plan::MASK), "{}", example.text);
    let notes = import.notes.join("\n");
    assert!(notes.contains("/stray?key=***"), "{notes}");
    assert!(!notes.contains("tok3n-s3cret"), "{notes}");
    assert!(
        import
            .unseen
            .iter()
            .all(|(_, t)| !t.contains("tok3n-s3cret"))
    );
}

/// slagate's INVALID rules judge its own generator; a Locust run has no such data, and no
/// profile (closed or open) makes them fire on its absence.
#[test]
fn no_profile_makes_a_locust_run_invalid_for_want_of_generator_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sla = config::load_sla(&root.join("sla.toml")).unwrap();
    for path in config::profile_paths(&root.join("sla.toml")).unwrap() {
        let profile = config::load_profile(&path).unwrap();
        let plan = plan::build(&sla, &profile, &Overrides::default()).unwrap();
        let files = read(Some(&fixture("healthy/run")), None).unwrap();
        let import = summarise(&plan, &files);
        let v = verdict::judge(&plan, &import.summary);
        assert!(v.invalid.is_empty(), "{}: {:?}", path.display(), v.invalid);
        let run = crate::report::RunReport::new(
            &plan,
            Default::default(),
            import.summary,
            v,
            false,
            false,
        );
        assert!(run.arrivals.is_none(), "{}", path.display());
    }
}
