//! The comparison's statistics against tables and against runs synthesised from known
//! distributions: equal runs must stay within the stated false-positive rate, a 30 % slower
//! head must be caught.

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::significance::{normal_sf, sample, student_sf};
use super::{RowVerdict, compare, error_rate_row, latency_row, rps_row};
use crate::plan::{LatencyStat, Tolerances};
use crate::report::testdata::sample_run;
use crate::stats::{EndpointStats, new_histogram};

#[test]
fn the_distributions_match_published_tables() {
    // Normal: z = 1.645 → 0.05, 1.96 → 0.025, 0 → 0.5.
    assert!((normal_sf(1.644_854) - 0.05).abs() < 1e-6);
    assert!((normal_sf(1.959_964) - 0.025).abs() < 1e-6);
    assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
    assert!((normal_sf(-1.959_964) - 0.975).abs() < 1e-6);
    // Student's t critical values (one-sided 0.025): df 1 → 12.706, 5 → 2.571, 10 → 2.228,
    // 30 → 2.042; and 0.05 at df 10 → 1.812.
    for (t, df, p) in [
        (12.706_2, 1.0, 0.025),
        (2.570_58, 5.0, 0.025),
        (2.228_14, 10.0, 0.025),
        (2.042_27, 30.0, 0.025),
        (1.812_46, 10.0, 0.05),
    ] {
        let got = student_sf(t, df);
        assert!((got - p).abs() < 1e-5, "t = {t}, df = {df}: {got}");
        assert!((student_sf(-t, df) - (1.0 - p)).abs() < 1e-5);
    }
    assert!((student_sf(0.0, 7.0) - 0.5).abs() < 1e-12);
}

/// A log-normal latency in µs: median `median_us`, shape `sigma` (a typical service's skew).
fn draw(rng: &mut SmallRng, median_us: f64, sigma: f64) -> u64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (median_us * (sigma * z).exp()).max(1.0) as u64
}

fn histogram(rng: &mut SmallRng, n: usize, scale: f64) -> Histogram<u64> {
    let mut h = new_histogram();
    for _ in 0..n {
        h.record(draw(rng, 20_000.0 * scale, 0.5))
            .expect("in range");
    }
    h
}

fn endpoint(rng: &mut SmallRng, n: u64, error_rate: f64) -> EndpointStats {
    let mut s = EndpointStats::empty();
    s.requests = n;
    s.failures = (0..n).filter(|_| rng.random::<f64>() < error_rate).count() as u64;
    s
}

/// Per-second request counts of a closed-loop run: about `rate` a second, with noise.
fn seconds(rng: &mut SmallRng, len: usize, rate: f64) -> Vec<f64> {
    (0..len)
        .map(|_| (rate + rate.sqrt() * (draw(rng, 1000.0, 1.0) as f64 / 1000.0).ln()).round())
        .collect()
}

const STATS: [LatencyStat; 4] = [
    LatencyStat::Percentile(0.5),
    LatencyStat::Percentile(0.95),
    LatencyStat::Percentile(0.99),
    LatencyStat::Mean,
];

/// Every row's verdict over 20 pairs of runs drawn from one distribution (the head's latencies
/// scaled by `scale`), at one tolerance for every metric.
fn verdicts(seed: u64, scale: f64, tolerance: f64, n: usize) -> Vec<(String, RowVerdict)> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for _ in 0..20 {
        let (base, head) = (histogram(&mut rng, n, 1.0), histogram(&mut rng, n, scale));
        for stat in STATS {
            let row = latency_row("e", stat, &base, &head, tolerance);
            out.push((stat.to_string(), row.verdict));
        }
        let (b, h) = (endpoint(&mut rng, 600, 0.01), endpoint(&mut rng, 600, 0.01));
        out.push((
            "error".into(),
            error_rate_row("e", &b, &h, tolerance / 100.0).verdict,
        ));
        let (b, h) = (
            seconds(&mut rng, 30, 40.0),
            seconds(&mut rng, 30, 40.0 / scale),
        );
        out.push(("rps".into(), rps_row("e", &b, &h, tolerance).verdict));
    }
    out
}

fn regressions(rows: &[(String, RowVerdict)], metric: &str) -> usize {
    rows.iter()
        .filter(|(m, v)| m == metric && *v == RowVerdict::Regression)
        .count()
}

#[test]
fn equal_runs_stay_within_the_stated_false_positive_rate() {
    // At tolerance 0 every row is a bare significance test at ≤ 5 %: over 20 pairs × 6 metrics
    // (120 comparisons) at most 6 false regressions.
    let rows = verdicts(7, 1.0, 0.0, 600);
    assert_eq!(rows.len(), 120);
    let found: usize = ["p50", "p95", "p99", "mean", "error", "rps"]
        .iter()
        .map(|m| regressions(&rows, m))
        .sum();
    assert!(found <= 6, "{found} false regressions in 120: {rows:?}");
    // At the default tolerances (10 %; 0.1 pp) the latency rows show none at all (the
    // interval method is conservative); the error rate, whose 0.1 pp is small against a 1 %
    // rate on 600 requests, stays within its 2.5 %: at most one in 20.
    let rows = verdicts(7, 1.0, 0.1, 600);
    for metric in ["p50", "p95", "p99", "mean", "rps"] {
        assert_eq!(regressions(&rows, metric), 0, "{metric}: {rows:?}");
    }
    assert!(regressions(&rows, "error") <= 1, "{rows:?}");
}

#[test]
fn a_head_thirty_percent_slower_is_a_regression() {
    // 600 samples a run: the median, the mean and the throughput are caught every time or
    // nearly; p95's interval is too wide at that size to clear a 10 % tolerance reliably.
    let rows = verdicts(11, 1.3, 0.1, 600);
    for metric in ["p50", "mean", "rps"] {
        assert!(
            regressions(&rows, metric) >= 18,
            "{metric}: only {} of 20 pairs caught",
            regressions(&rows, metric)
        );
    }
    // And the comparison is one-sided: the base against a slower head is an improvement.
    let mut rng = SmallRng::seed_from_u64(3);
    let (slow, fast) = (histogram(&mut rng, 600, 1.3), histogram(&mut rng, 600, 1.0));
    let row = latency_row("e", LatencyStat::Percentile(0.5), &slow, &fast, 0.1);
    assert_eq!(row.verdict, RowVerdict::Improvement);
    assert_eq!(row.significant, Some(true));
}

#[test]
fn within_tolerance_is_significant_but_not_a_regression() {
    // 5 % slower on 20 000 samples: clearly different, but inside a 10 % tolerance.
    let mut rng = SmallRng::seed_from_u64(5);
    let (base, head) = (
        histogram(&mut rng, 20_000, 1.0),
        histogram(&mut rng, 20_000, 1.05),
    );
    let row = latency_row("e", LatencyStat::Percentile(0.5), &base, &head, 0.1);
    assert_eq!(row.significant, Some(true));
    assert_eq!(row.verdict, RowVerdict::Ok);
    // Within the tolerance on the point estimates too: the cells say why, no note.
    assert_eq!(super::render::why_ok(&row), None);
    let row = latency_row("e", LatencyStat::Percentile(0.5), &base, &head, 0.0);
    assert_eq!(row.verdict, RowVerdict::Regression);
    assert_eq!(super::render::why_ok(&row), None);
}

#[test]
fn too_few_samples_and_max_are_never_significant() {
    let mut rng = SmallRng::seed_from_u64(9);
    let (base, head) = (histogram(&mut rng, 40, 1.0), histogram(&mut rng, 40, 3.0));
    let row = latency_row("e", LatencyStat::Percentile(0.95), &base, &head, 0.1);
    assert_eq!((row.significant, row.verdict), (None, RowVerdict::Ok));
    let row = latency_row("e", LatencyStat::Max, &base, &head, 0.1);
    assert_eq!((row.significant, row.verdict), (None, RowVerdict::Ok));
}

#[test]
fn error_rate_tolerance_is_in_percentage_points() {
    let mk = |requests, failures| {
        let mut s = EndpointStats::empty();
        s.requests = requests;
        s.failures = failures;
        s
    };
    // 0 → 0.05 % on 10 000: below a 0.1 pp tolerance.
    let row = error_rate_row("e", &mk(10_000, 0), &mk(10_000, 5), 0.001);
    assert_eq!(row.verdict, RowVerdict::Ok);
    // 0 → 1 % on 10 000: far above it.
    let row = error_rate_row("e", &mk(10_000, 0), &mk(10_000, 100), 0.001);
    assert_eq!(row.verdict, RowVerdict::Regression);
    assert!((row.delta().expect("both have requests") - 0.01).abs() < 1e-12);
    // No failures on either side: nothing to say.
    let row = error_rate_row("e", &mk(100, 0), &mk(100, 0), 0.001);
    assert_eq!(
        (row.significant, row.verdict),
        (Some(false), RowVerdict::Ok)
    );
}

#[test]
fn rps_uses_the_per_second_spread() {
    // Steady 100/s against steady 80/s: a 20 % drop, beyond a 10 % tolerance.
    let row = rps_row(
        "e",
        &[100.0, 101.0, 99.0, 100.0],
        &[80.0, 81.0, 79.0, 80.0],
        0.1,
    );
    assert_eq!(row.verdict, RowVerdict::Regression);
    // The same means with wild seconds: not enough evidence.
    let row = rps_row(
        "e",
        &[10.0, 190.0, 100.0, 100.0],
        &[0.0, 160.0, 80.0, 80.0],
        0.1,
    );
    assert_eq!(row.verdict, RowVerdict::Ok);
    let m = sample(&[1.0, 2.0, 3.0]);
    assert_eq!((m.n, m.mean, m.var), (3.0, 2.0, 1.0));
}

#[test]
fn runs_of_another_shape_are_refused_with_the_difference_named() {
    let base = sample_run();
    let mut head = sample_run();
    head.profile.users += 5;
    head.profile.think_time.max += std::time::Duration::from_millis(100);
    let err = compare(&base, &head, &Tolerances::default()).expect_err("different shape");
    let text = err.to_string();
    assert!(text.contains("users differs (base 10, head 15)"), "{text}");
    assert!(text.contains("think time differs"), "{text}");
    assert_eq!(err.0.len(), 2, "{text}");

    let mut head = sample_run();
    head.endpoints.pop();
    let err = compare(&base, &head, &Tolerances::default()).expect_err("fewer endpoints");
    assert!(err.to_string().contains("endpoints differs"), "{err}");
}

#[test]
fn a_run_against_itself_has_no_regression_and_renders() {
    let base = sample_run();
    let mut head = sample_run();
    head.slagate_version = "0.0.1".into();
    let c = compare(&base, &head, &Tolerances::default()).expect("same shape");
    assert_eq!(c.regressions(), 0);
    assert!(c.rows.iter().all(|r| r.verdict == RowVerdict::Ok));
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("slagate 0.0.1"), "{:?}", c.warnings);
    // Another machine is named too: its speed is part of what a run measures.
    let mut elsewhere = sample_run();
    elsewhere.provenance.machine = Some("laptop (8 cores, macos aarch64)".into());
    let c2 = compare(&base, &elsewhere, &Tolerances::default()).expect("same shape");
    assert_eq!(c2.warnings.len(), 1, "{:?}", c2.warnings);
    assert!(
        c2.warnings[0].contains("the head on laptop (8 cores"),
        "{:?}",
        c2.warnings
    );
    // Per endpoint and the total: p50, p95, p99, error rate, rps.
    assert_eq!(c.rows.len(), (base.endpoints.len() + 1) * 5);
    let json: serde_json::Value =
        serde_json::from_slice(&super::json(&c)).expect("the document is JSON");
    assert_eq!(json["schema"], "slagate.compare/v1");
    assert_eq!(json["verdict"], "ok");
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(c.rows.len()));
    let md = super::markdown(&c);
    assert!(md.starts_with("### slagate baseline comparison: ✅ no regression"));
    let term = super::terminal(&c);
    assert!(
        term.contains("Warnings:\n  - the base was run by slagate"),
        "{term}"
    );
    assert!(
        term.contains("NO REGRESSION AGAINST THE BASELINE"),
        "{term}"
    );
}

#[test]
fn power_at_p95_grows_with_the_sample() {
    // Measured: p95 of a 30 % slower head is caught in 8 of 20 pairs at 600 samples a run,
    // 17 at 2 000, 20 at 3 000 (the README quotes this).
    let caught = |n| regressions(&verdicts(11, 1.3, 0.1, n), "p95");
    assert!(caught(3000) >= 18);
}

#[test]
fn the_json_writes_each_figure_in_its_unit_unrounded() {
    // A mean falls between whole nanoseconds: the document writes the histogram's µs as they
    // are, as it did when rows held bare numbers.
    let base = sample_run();
    let mut head = sample_run();
    head.total.latency = {
        let mut h = new_histogram();
        h.record_n(1000, 2).expect("in range");
        h.record(1001).expect("in range");
        h
    };
    let tolerances = Tolerances {
        latency: vec![
            (LatencyStat::Mean, 0.1),
            (LatencyStat::Percentile(0.5), 0.1),
        ],
        ..Tolerances::default()
    };
    let c = compare(&base, &head, &tolerances).expect("same shape");
    let doc: serde_json::Value = serde_json::from_slice(&super::json(&c)).expect("JSON");
    let row = |endpoint: &str, metric: &str| {
        doc["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["endpoint"] == endpoint && r["metric"] == metric)
            .expect("the row")
            .clone()
    };
    let mean = row("Aggregated", "mean");
    assert_eq!(mean["unit"], "us");
    assert_eq!(mean["head"].as_f64(), Some(head.total.latency.mean()));
    let us = mean["head"].as_f64().expect("a number");
    assert!((us - 3001.0 / 3.0).abs() < 1e-9 && us != 1000.333, "{us}");
    assert_eq!(mean["base"].as_f64(), Some(base.total.latency.mean()));
    let p50 = row("Aggregated", "p50");
    assert_eq!(p50["head"].as_f64(), Some(1000.0));
    let error = row("Aggregated", "error_rate");
    assert_eq!(
        (error["unit"].as_str(), error["base"].as_f64()),
        (Some("fraction"), Some(base.total.error_rate()))
    );
    let rps = row("Aggregated", "rps");
    assert_eq!(rps["unit"], "per_second");
    assert!(rps["base"].as_f64().expect("a rate") > 0.0);
}

#[test]
fn every_signed_figure_has_a_real_minus_sign() {
    // Fewer requests per second and fewer failures than the base: negative deltas, and each
    // tolerance signed the way it allows (down for rps, up for the error rate).
    let rows = [
        rps_row("e", &[100.0, 101.0, 99.0], &[80.0, 81.0, 79.0], 0.1),
        rps_row("e", &[100.0, 101.0, 99.0], &[100.0, 101.0, 99.0], 0.0),
        {
            let mk = |failures| {
                let mut s = EndpointStats::empty();
                s.requests = 1000;
                s.failures = failures;
                s
            };
            error_rate_row("e", &mk(20), &mk(5), 0.001)
        },
    ];
    let cells: Vec<[String; 8]> = rows.iter().map(|r| super::render::cells(r, None)).collect();
    let signed: Vec<(&str, &str)> = cells
        .iter()
        .map(|c| (c[4].as_str(), c[5].as_str()))
        .collect();
    assert_eq!(
        signed,
        [("−20%", "−10%"), ("0%", "0%"), ("−1.5 pp", "+0.1 pp")]
    );
}

#[test]
fn warnings_are_written_once_in_words() {
    let base = sample_run();
    let mut head = sample_run();
    head.outcome = crate::report::RunOutcome::Invalid;
    let mut cut = sample_run();
    cut.outcome = crate::report::RunOutcome::Interrupted;
    let c = compare(&cut, &head, &Tolerances::default()).expect("same shape");
    assert_eq!(
        c.warnings,
        [
            "the base run was INTERRUPTED before its run time was over, so its figures may not \
             show the service",
            "the head run was INVALID: the load generator did not deliver its profile, so its \
             figures may not show the service",
        ]
    );
    // The terminal shows each once, in its own section; the other renderings once each too.
    let term = super::terminal(&c);
    for w in &c.warnings {
        assert_eq!(term.matches(w.as_str()).count(), 1, "{term}");
        assert_eq!(super::markdown(&c).matches(w.as_str()).count(), 1);
    }
    assert!(
        !term.contains("Invalid") && !term.contains("Interrupted"),
        "{term}"
    );
    let table = term.find('┌').expect("a table");
    assert!(
        term.find("Warnings:\n").expect("a section") < table,
        "{term}"
    );
    // Runs with nothing to warn about have no section.
    let quiet = compare(&base, &base, &Tolerances::default()).expect("same shape");
    assert!(!super::terminal(&quiet).contains("Warnings"));
}

/// A comparison of one endpoint, `rows` as given, for testing the renderings.
fn comparison_of(rows: Vec<super::Row>) -> super::Comparison {
    let run = sample_run();
    let info = super::RunInfo {
        slagate_version: run.slagate_version.clone(),
        git_commit: None,
        started_at: run.started_at,
        profile: run.profile.name.clone(),
    };
    super::Comparison {
        base: info.clone(),
        head: info,
        tolerances: Tolerances::default(),
        rows,
        warnings: Vec::new(),
    }
}

#[test]
fn a_significant_row_within_tolerance_at_the_confidence_bound_says_why_it_is_ok() {
    // Two modes, as a cache gives: the base's median sits at the top of its fast mode, the
    // head's in its slow one. The point estimates are 70 % apart and the intervals do not
    // overlap, but the head's interval starts only ~5 % above the base's: within 10 %.
    let mut base = new_histogram();
    base.record_n(10_000, 520).expect("in range");
    base.record_n(11_000, 480).expect("in range");
    let mut head = new_histogram();
    head.record_n(11_500, 480).expect("in range");
    head.record_n(17_000, 520).expect("in range");
    let row = latency_row("/search", LatencyStat::Percentile(0.5), &base, &head, 0.1);
    assert_eq!((row.significant, row.verdict), (Some(true), RowVerdict::Ok));
    assert!(row.delta().expect("both sides") > 0.69, "{row:?}");

    let why = super::render::why_ok(&row).expect("a note");
    assert!(
        why.starts_with(
            "the runs differ, but at 95 % confidence the head is only shown to be +4.5% slower \
             (its p50 ≥ 11.5 ms, the base's ≤ 11 ms), within the +10% tolerance"
        ),
        "{why}"
    );
    let term = super::terminal(&comparison_of(vec![row.clone()]));
    assert!(term.contains("┆ ok [1]"), "{term}");
    assert!(
        term.contains(&format!(
            "Why the rows marked [n] are ok though beyond their tolerance:\n  [1] /search p50 \
             (+70%): {why}\n"
        )),
        "{term}"
    );
    let md = super::markdown(&comparison_of(vec![row]));
    assert!(md.contains("| ok [1] |"), "{md}");
    assert!(
        md.contains(&format!("- [1] `/search` p50 (+70%): {why}")),
        "{md}"
    );
}

#[test]
fn only_rows_the_table_cannot_explain_get_a_note() {
    // (Rows within the tolerance and regressions: see
    // within_tolerance_is_significant_but_not_a_regression.) A row that does not differ: its
    // Significant "no" says why.
    let mut rng = SmallRng::seed_from_u64(9);
    let few = (histogram(&mut rng, 40, 1.0), histogram(&mut rng, 40, 3.0));
    let why = |row: &super::Row| super::render::why_ok(row);
    let noisy = rps_row(
        "e",
        &[10.0, 190.0, 100.0, 100.0],
        &[0.0, 160.0, 80.0, 80.0],
        0.1,
    );
    assert_eq!((noisy.significant, why(&noisy)), (Some(false), None));
    // "n/a" beyond the tolerance: too few samples, or a maximum.
    let p95 = latency_row("e", LatencyStat::Percentile(0.95), &few.0, &few.1, 0.1);
    assert_eq!(
        why(&p95).as_deref(),
        Some("too few samples for a 95 % interval of p95 (it needs 59 in each run)")
    );
    let max = latency_row("e", LatencyStat::Max, &few.0, &few.1, 0.1);
    assert_eq!(
        why(&max).as_deref(),
        Some("a maximum is a single request: no evidence of a shift, whatever its size")
    );
    // A test row that differs but is not shown worse by more than the tolerance: its p-value.
    // 6 % slower means on 100 samples a run: clearly different, not clearly more than 5 %.
    let two_modes = |fast, slow| {
        let mut h = new_histogram();
        h.record_n(fast, 50).expect("in range");
        h.record_n(slow, 50).expect("in range");
        h
    };
    let (base, head) = (two_modes(10_000, 12_000), two_modes(10_600, 12_720));
    let mean = latency_row("e", LatencyStat::Mean, &base, &head, 0.05);
    assert_eq!(
        (mean.significant, mean.verdict),
        (Some(true), RowVerdict::Ok)
    );
    let text = why(&mean).expect("a note");
    let p = mean.p_value.expect("a z-test");
    assert!(
        text.starts_with(
            "the runs differ, but the head is not shown to be worse by more than the +5% \
             tolerance at 95 % confidence"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("(p = {p:.3}; a regression needs p < 0.025)")),
        "{text}"
    );
}
