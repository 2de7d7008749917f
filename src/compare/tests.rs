//! The comparison's statistics against tables and against runs synthesised from known
//! distributions, over many deterministic seeds: equal builds must fail the gate in at most
//! 5 % of comparisons (within the binomial margin of the number of seeds), a slower build must
//! be caught, the family correction must matter, and a history of base runs must absorb
//! run-to-run noise that a single base run cannot. No timing, no sockets.

use std::time::Duration;

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::estimate::{LogSample, shift};
use super::significance::{normal_quantile, normal_sf, student_quantile, student_sf};
use super::{AGGREGATED, ALL_ENDPOINTS, Metric, Noise, RowVerdict, compare};
use crate::plan::{LatencyStat, LoadModel, Tolerances};
use crate::report::RunReport;
use crate::report::testdata::sample_run;
use crate::stats::{SecondStats, TimelinePoint, new_histogram};

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
        assert!(
            (student_quantile(p, df) - t).abs() < 1e-3,
            "quantile at df {df}"
        );
    }
    assert!((student_sf(0.0, 7.0) - 0.5).abs() < 1e-12);
    // The quantiles invert: 1.96 at 0.025, 3.090 at 0.001, 2.394 at 0.05 / 6.
    assert!((normal_quantile(0.025) - 1.959_964).abs() < 1e-5);
    assert!((normal_quantile(0.001) - 3.090_232).abs() < 1e-5);
    assert!((normal_quantile(0.05 / 6.0) - 2.393_980).abs() < 1e-4);
}

/// A log-normal latency in µs: median `median_us`, shape `sigma` (a typical service's skew).
fn draw(rng: &mut SmallRng, median_us: f64, sigma: f64) -> u64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (median_us * (sigma * z).exp()).max(1.0) as u64
}

fn histogram(rng: &mut SmallRng, n: usize, median_us: f64, scale: f64) -> Histogram<u64> {
    let mut h = new_histogram();
    for _ in 0..n {
        h.record(draw(rng, median_us * scale, 0.5))
            .expect("in range");
    }
    h
}

/// The embedded simulator's five endpoints at the `light` profile's 20 s: (median µs, samples
/// in a window), as a run measures them.
const LIGHT: [(f64, usize); 5] = [
    (2_000.0, 130),
    (25_000.0, 75),
    (120_000.0, 55),
    (10_000.0, 50),
    (250_000.0, 25),
];

/// One synthetic run of `shape` (median, samples per endpoint): each endpoint's latencies
/// log-normal, scaled by `scale` and by the run's own `run_effect` (a machine that is slower
/// that day), with `error_rate` of requests failed; a 20 s window of per-second counts.
fn run(
    rng: &mut SmallRng,
    shape: &[(f64, usize)],
    scale: f64,
    run_effect: f64,
    error_rate: f64,
) -> RunReport {
    // Built once: the sample run is judged from a plan, which costs more than a comparison.
    static SAMPLE: std::sync::OnceLock<RunReport> = std::sync::OnceLock::new();
    let mut r = SAMPLE.get_or_init(sample_run).clone();
    let template = r.endpoints[0].clone();
    r.endpoints = shape
        .iter()
        .enumerate()
        .map(|(i, &(median, n))| {
            let mut e = template.clone();
            e.name = format!("/e{i}");
            e.stats.latency = histogram(rng, n, median, scale * run_effect);
            e.stats.requests = n as u64;
            e.stats.failures = (0..n).filter(|_| rng.random::<f64>() < error_rate).count() as u64;
            e
        })
        .collect();
    let mut total = r.endpoints[0].stats.clone();
    for e in &r.endpoints[1..] {
        total.latency.add(&e.stats.latency).expect("same bounds");
        total.requests += e.stats.requests;
        total.failures += e.stats.failures;
    }
    r.total = total;
    r.window = crate::stats::Window {
        start: Duration::from_secs(1),
        end: Duration::from_secs(21),
    };
    let second = |requests: u64| SecondStats {
        requests,
        ..SecondStats::new(&new_histogram(), 0, 0, 0)
    };
    r.timeline = (1..21)
        .map(|s| {
            let endpoints: Vec<SecondStats> = shape
                .iter()
                .map(|&(_, n)| {
                    let mean = n as f64 / 20.0 / scale;
                    second((mean + mean.sqrt() * (rng.random::<f64>() - 0.5) * 3.4).round() as u64)
                })
                .collect();
            let total = endpoints.iter().map(|e| e.requests).sum();
            TimelinePoint {
                arrivals: 0,
                dropped: 0,
                second: s,
                users: 10,
                endpoints,
                total: second(total),
            }
        })
        .collect();
    r
}

/// Tolerance 0 on the shift, p50, p95, the error rate and rps: every judged row a bare test.
fn zero_tolerances() -> Tolerances {
    Tolerances {
        latency: vec![
            (LatencyStat::Shift, 0.0),
            (LatencyStat::Percentile(0.5), 0.0),
            (LatencyStat::Percentile(0.95), 0.0),
        ],
        error_rate: 0.0,
        rps: 0.0,
    }
}

fn shift_5() -> Tolerances {
    Tolerances {
        latency: vec![(LatencyStat::Shift, 0.05)],
        ..Tolerances::default()
    }
}

/// A 99.9 % upper bound of Binomial(n, p): the most a rate of `p` produces in `n` tries but
/// one time in a thousand, so a test that asserts it fails only on a real excess.
fn binomial_ceiling(n: u64, p: f64) -> u64 {
    let (mut k, mut below) = (0u64, 0.0);
    let mut term = (1.0 - p).powi(n as i32);
    loop {
        below += term;
        if below >= 0.999 {
            return k;
        }
        term *= (n - k) as f64 / (k + 1) as f64 * p / (1.0 - p);
        k += 1;
    }
}

/// How many of `seeds` comparisons of fresh runs are a regression: `base_runs` base and
/// `head_runs` head runs, the head's latencies × `scale`, every run × its own machine effect
/// of relative spread `machine`.
fn caught(
    seeds: u64,
    scale: f64,
    machine: f64,
    base_runs: usize,
    head_runs: usize,
    tolerances: &Tolerances,
) -> u64 {
    (0..seeds)
        .filter(|&seed| {
            let mut rng = SmallRng::seed_from_u64(seed);
            let effect =
                |rng: &mut SmallRng| (machine * (draw(rng, 1e6, 1.0) as f64 / 1e6).ln()).exp();
            let bases: Vec<RunReport> = (0..base_runs)
                .map(|_| {
                    let e = effect(&mut rng);
                    run(&mut rng, &LIGHT, 1.0, e, 0.0)
                })
                .collect();
            let heads: Vec<RunReport> = (0..head_runs)
                .map(|_| {
                    let e = effect(&mut rng);
                    run(&mut rng, &LIGHT, scale, e, 0.0)
                })
                .collect();
            compare(&bases, &heads, tolerances)
                .expect("same shape")
                .regressions()
                > 0
        })
        .count() as u64
}

#[test]
fn the_shift_finds_a_known_ratio_inside_its_interval() {
    let mut rng = SmallRng::seed_from_u64(1);
    let base = histogram(&mut rng, 2_000, 20_000.0, 1.0);
    let head = histogram(&mut rng, 2_000, 20_000.0, 1.3);
    let s = shift(&LogSample::of(&base), &LogSample::of(&head)).expect("enough samples");
    // ln 1.3 = 0.262; the standard error of a log-normal σ = 0.5 shift on 2 000 + 2 000 is
    // ≈ 0.5 · √(2/2000) · 1.02 ≈ 0.016.
    assert!((s.value - 1.3f64.ln()).abs() < 3.0 * s.se, "{s:?}");
    assert!(s.se > 0.012 && s.se < 0.020, "{s:?}");
    // Against itself: exactly nothing.
    let same = shift(&LogSample::of(&base), &LogSample::of(&base)).expect("enough samples");
    assert!(same.value.abs() < 1e-9, "{same:?}");
    // Too few samples: none.
    let few = histogram(&mut rng, 5, 20_000.0, 1.0);
    assert_eq!(shift(&LogSample::of(&few), &LogSample::of(&head)), None);
}

#[test]
fn equal_builds_fail_the_gate_in_at_most_five_percent_of_comparisons() {
    // At tolerance 0 every judged row is a bare test, and the family (5 endpoints, all
    // endpoints, error rates, total rps) shares one 5 %: over 200 pairs, at most what a 5 %
    // rate gives but one time in a thousand.
    let zero = zero_tolerances();
    let false_alarms = caught(200, 1.0, 0.0, 1, 1, &zero);
    assert!(
        false_alarms <= binomial_ceiling(200, 0.05),
        "{false_alarms} of 200 equal pairs were a regression"
    );
    // At the default tolerances, essentially never.
    let at_defaults = caught(200, 1.0, 0.0, 1, 1, &Tolerances::default());
    assert!(
        at_defaults <= 2,
        "{at_defaults} of 200 at the default tolerances"
    );
}

#[test]
fn a_family_of_thirty_rows_keeps_its_five_percent_where_rows_alone_would_not() {
    // Ten endpoints with 600 samples each, three statistics: 30 latency rows, plus "All
    // endpoints", error rates and rps. Each row on its own at a one-sided 2.5 % would make a
    // comparison show some "regression" far more often than 5 %.
    let shape: Vec<(f64, usize)> = (0..10).map(|i| (10_000.0 * (1 + i) as f64, 600)).collect();
    let zero = zero_tolerances();
    let (mut family, mut alone) = (0, 0);
    for seed in 0..200 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let base = run(&mut rng, &shape, 1.0, 1.0, 0.0);
        let head = run(&mut rng, &shape, 1.0, 1.0, 0.0);
        let c = compare(&[base], &[head], &zero).expect("same shape");
        let judged: Vec<_> = c.rows.iter().filter(|r| r.alpha.is_some()).collect();
        assert!(judged.len() >= 30, "{} judged rows", judged.len());
        if c.regressions() > 0 {
            family += 1;
        }
        if judged.iter().any(|r| r.p_value.is_some_and(|p| p < 0.025)) {
            alone += 1;
        }
    }
    assert!(
        family <= binomial_ceiling(200, 0.05),
        "{family} of 200 with the family"
    );
    assert!(alone >= 60, "uncorrected rows alone: only {alone} of 200");
}

#[test]
fn a_build_thirty_percent_slower_everywhere_is_caught_across_endpoints() {
    // The light profile's samples: no single endpoint shows a 30 % shift for sure, all of them
    // together do, in (nearly) every comparison.
    let found = caught(100, 1.3, 0.0, 1, 1, &Tolerances::default());
    assert!(found >= 95, "30 % slower caught in {found} of 100");
    let found = caught(100, 1.15, 0.0, 1, 1, &Tolerances::default());
    assert!(found >= 50, "15 % slower caught in {found} of 100");
    // And a faster head is an improvement, never a regression.
    let mut rng = SmallRng::seed_from_u64(3);
    let slow = run(&mut rng, &LIGHT, 1.3, 1.0, 0.0);
    let fast = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    let c = compare(&[slow], &[fast], &shift_5()).expect("same shape");
    assert_eq!(c.regressions(), 0);
    let all = c
        .rows
        .iter()
        .find(|r| r.endpoint == ALL_ENDPOINTS)
        .expect("an all-endpoints row");
    assert_eq!(all.verdict, RowVerdict::Improvement, "{all:?}");
}

#[test]
fn a_heavy_tail_alone_is_caught_at_p99_and_not_at_the_shift() {
    // 4 % of the head's requests take 6× as long: the typical request is unchanged, p99 is
    // not.
    let mut rng = SmallRng::seed_from_u64(8);
    let mut found = 0;
    for _ in 0..20 {
        let shape = [(20_000.0, 5_000), (40_000.0, 5_000)];
        let base = run(&mut rng, &shape, 1.0, 1.0, 0.0);
        let mut head = run(&mut rng, &shape, 1.0, 1.0, 0.0);
        for e in &mut head.endpoints {
            let mut h = new_histogram();
            for v in e.stats.latency.iter_recorded() {
                for _ in 0..v.count_at_value() {
                    let factor = if rng.random::<f64>() < 0.04 { 6 } else { 1 };
                    h.record(v.value_iterated_to() * factor).expect("in range");
                }
            }
            e.stats.latency = h;
        }
        let tolerances = Tolerances {
            latency: vec![
                (LatencyStat::Shift, 0.05),
                (LatencyStat::Percentile(0.99), 0.1),
            ],
            ..Tolerances::default()
        };
        let c = compare(&[base], &[head], &tolerances).expect("same shape");
        for r in &c.rows {
            if r.metric == Metric::Latency(LatencyStat::Shift) {
                assert_ne!(r.verdict, RowVerdict::Regression, "{r:?}");
            }
        }
        if c.rows.iter().any(|r| {
            r.metric == Metric::Latency(LatencyStat::Percentile(0.99))
                && r.verdict == RowVerdict::Regression
        }) {
            found += 1;
        }
    }
    assert!(found >= 18, "the p99 tail caught in {found} of 20");
}

#[test]
fn a_history_of_base_runs_absorbs_run_to_run_noise_one_base_run_cannot() {
    // Every run ± 10 % (the machine that day), far more than a run's own sampling noise
    // across all endpoints (≈ 3 %). With one base and one head run nothing can tell the two
    // apart: equal builds fail often. With three base runs and three head runs the spread is
    // estimated and the gate keeps its 5 %.
    let single = caught(100, 1.0, 0.1, 1, 1, &Tolerances::default());
    assert!(
        single >= 15,
        "one base run: only {single} of 100 false alarms"
    );
    let history = caught(100, 1.0, 0.1, 3, 3, &Tolerances::default());
    assert!(
        history <= binomial_ceiling(100, 0.05),
        "three base runs: {history} of 100 false alarms"
    );
    // A real 40 % slowdown still shows through that noise most of the time.
    let power = caught(100, 1.4, 0.1, 3, 3, &Tolerances::default());
    assert!(
        power >= 60,
        "40 % slower through ±10 % noise: {power} of 100"
    );
    // And the report says which noise model decided.
    let mut rng = SmallRng::seed_from_u64(4);
    let bases: Vec<RunReport> = (0..3)
        .map(|_| run(&mut rng, &LIGHT, 1.0, 1.0, 0.0))
        .collect();
    let head = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    let c = compare(&bases, &[head], &shift_5()).expect("same shape");
    assert!(matches!(
        c.noise(),
        Noise::BetweenRuns {
            base_runs: 3,
            head_runs: 1,
            ..
        }
    ));
    assert!(super::explanation(&c).contains("3 base runs, 1 head run; noise between runs"));
}

#[test]
fn under_the_closed_model_only_the_total_rate_is_judged() {
    let mut rng = SmallRng::seed_from_u64(2);
    let base = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    let mut head = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    // Half of one endpoint's requests gone: a change in the mix, not of the service's rate.
    for p in &mut head.timeline {
        p.endpoints[4].requests /= 2;
    }
    let c = compare(&[base], &[head], &Tolerances::default()).expect("same shape");
    for r in c.rows.iter().filter(|r| r.metric == Metric::Rps) {
        if r.endpoint == AGGREGATED {
            assert!(r.alpha.is_some(), "the total is judged: {r:?}");
        } else {
            assert_eq!((r.verdict, r.alpha), (RowVerdict::Info, None), "{r:?}");
        }
    }
}

#[test]
fn error_rates_are_compared_in_percentage_points() {
    let base = sample_run();
    let with = |failures: u64, requests: u64| {
        let mut r = sample_run();
        r.endpoints[0].stats.failures = failures;
        r.endpoints[0].stats.requests = requests;
        r
    };
    let row_of = |c: &super::Comparison| {
        c.rows
            .iter()
            .find(|r| r.endpoint == base.endpoints[0].name && r.metric == Metric::ErrorRate)
            .expect("the row")
            .clone()
    };
    // 0 → 0.05 % of 10 000: below a 0.1 pp tolerance.
    let c = compare(
        &[with(0, 10_000)],
        &[with(5, 10_000)],
        &Tolerances::default(),
    )
    .expect("ok");
    assert_eq!(row_of(&c).verdict, RowVerdict::Ok);
    // 0 → 3 % of 10 000: far above it, with its interval in points.
    let c = compare(
        &[with(0, 10_000)],
        &[with(300, 10_000)],
        &Tolerances::default(),
    )
    .expect("ok");
    let row = row_of(&c);
    assert_eq!(row.verdict, RowVerdict::Regression);
    let change = row.change.expect("judged");
    assert!((change.estimate - 0.03).abs() < 1e-12);
    let (low, high) = change.interval.expect("an interval");
    assert!(low > 0.02 && high < 0.04, "{change:?}");
    // No failure in either run: not counted in the family.
    let c = compare(&[with(0, 100)], &[with(0, 100)], &Tolerances::default()).expect("ok");
    assert_eq!(
        (row_of(&c).verdict, row_of(&c).alpha),
        (RowVerdict::Ok, None)
    );
}

#[test]
fn runs_of_another_shape_are_refused_with_the_difference_named() {
    let base = sample_run();
    let mut head = sample_run();
    let LoadModel::Closed(c) = &mut head.profile.load else {
        panic!("the sample run is closed")
    };
    c.users += 5;
    c.think_time.max += Duration::from_millis(100);
    let err =
        compare(std::slice::from_ref(&base), &[head], &Tolerances::default()).expect_err("shape");
    let text = err.to_string();
    assert!(text.contains("users differs (base 10, head 15)"), "{text}");
    assert!(text.contains("think time differs"), "{text}");
    assert_eq!(err.0.len(), 2, "{text}");

    let mut head = sample_run();
    head.endpoints.pop();
    let err = compare(
        std::slice::from_ref(&base),
        std::slice::from_ref(&head),
        &Tolerances::default(),
    )
    .expect_err("fewer endpoints");
    assert!(err.to_string().contains("endpoints differs"), "{err}");
    // Open against closed: refused, saying why the two cannot be compared.
    let mut head = sample_run();
    head.profile.load = LoadModel::Open(crate::plan::Open::constant(20.0, 100));
    let err = compare(
        std::slice::from_ref(&base),
        &[head.clone()],
        &Tolerances::default(),
    )
    .expect_err("open against closed");
    let text = err.to_string();
    assert!(
        text.contains("load model differs (base closed, head open)"),
        "{text}"
    );
    assert_eq!(err.0.len(), 1, "only the model is named: {text}");
    // Among several base runs the one that differs is named.
    let err = compare(&[base.clone(), head], &[base], &Tolerances::default())
        .expect_err("one base differs");
    assert!(
        err.to_string().contains("base run 2 against head run 1"),
        "{err}"
    );
}

#[test]
fn a_run_against_itself_has_no_regression_and_renders() {
    let base = sample_run();
    let mut head = sample_run();
    head.slagate_version = "0.0.1".into();
    let c =
        compare(std::slice::from_ref(&base), &[head], &Tolerances::default()).expect("same shape");
    assert_eq!(c.regressions(), 0);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(c.warnings[0].contains("slagate 0.0.1"), "{:?}", c.warnings);
    // Another machine is named too: its speed is part of what a run measures.
    let mut elsewhere = sample_run();
    elsewhere.provenance.machine = Some("laptop (8 cores, macos aarch64)".into());
    let c2 = compare(
        std::slice::from_ref(&base),
        &[elsewhere],
        &Tolerances::default(),
    )
    .expect("shape");
    assert_eq!(c2.warnings.len(), 1, "{:?}", c2.warnings);
    assert!(
        c2.warnings[0].contains("the head on laptop (8 cores"),
        "{:?}",
        c2.warnings
    );
    // Per endpoint: shift, p50? no: the defaults (shift, p95, p99), error rate, rps; then
    // All endpoints (shift, p95, p99); then Aggregated error rate and rps.
    let stats = Tolerances::default().latency.len();
    assert_eq!(c.rows.len(), base.endpoints.len() * (stats + 2) + stats + 2);
    let json: serde_json::Value =
        serde_json::from_slice(&super::json(&c)).expect("the document is JSON");
    assert_eq!(json["schema"], "slagate.compare/v2");
    assert_eq!(json["verdict"], "ok");
    assert_eq!(json["noise"]["model"], "within_run");
    assert_eq!(json["family"]["alpha"], 0.05);
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(c.rows.len()));
    assert!(
        json["headline"]
            .as_str()
            .is_some_and(|h| h.starts_with("NO REGRESSION"))
    );
    let md = super::markdown(&c);
    assert!(
        md.starts_with("### slagate baseline comparison: ✅ no regression"),
        "{md}"
    );
    let term = super::terminal(&c);
    assert!(
        term.contains("Warnings:\n  - the base was run by slagate"),
        "{term}"
    );
    assert!(term.contains("NO REGRESSION: no row is worse"), "{term}");
}

#[test]
fn a_regression_is_explained_in_one_line_with_its_interval() {
    let mut rng = SmallRng::seed_from_u64(12);
    let base = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    let head = run(&mut rng, &LIGHT, 1.3, 1.0, 0.0);
    let c = compare(&[base], &[head], &shift_5()).expect("same shape");
    let line = super::explanation(&c);
    assert!(
        line.starts_with("REGRESSION: the service is ") && line.contains("slower at shift ["),
        "{line}"
    );
    assert!(line.contains("across all endpoints"), "{line}");
    assert!(
        line.ends_with("(1 base run, 1 head run; noise within runs only; 95 % per comparison)"),
        "{line}"
    );
    // The same figures in every rendering.
    let all = c
        .rows
        .iter()
        .find(|r| r.endpoint == ALL_ENDPOINTS)
        .expect("row");
    let cell = super::render::change(all);
    assert!(super::terminal(&c).contains(&cell), "{cell}");
    assert!(super::markdown(&c).contains(&cell), "{cell}");
    let doc: serde_json::Value = serde_json::from_slice(&super::json(&c)).expect("JSON");
    assert_eq!(doc["headline"], line);
    // No regression: the smallest slowdown that would have been caught.
    let mut rng = SmallRng::seed_from_u64(13);
    let (b, h) = (
        run(&mut rng, &LIGHT, 1.0, 1.0, 0.0),
        run(&mut rng, &LIGHT, 1.0, 1.0, 0.0),
    );
    let c = compare(&[b], &[h], &shift_5()).expect("same shape");
    let line = super::explanation(&c);
    assert!(
        line.contains("would have been caught (95 % of the time)")
            && line.contains("at shift across all endpoints"),
        "{line}"
    );
}

#[test]
fn every_signed_figure_has_a_real_minus_sign() {
    let mut rng = SmallRng::seed_from_u64(21);
    let base = run(&mut rng, &LIGHT, 1.3, 1.0, 0.02);
    let head = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    let c = compare(&[base], &[head], &shift_5()).expect("same shape");
    let term = super::terminal(&c);
    assert!(!term.contains(" -"), "an ASCII minus: {term}");
    assert!(term.contains("−10%"), "rps tolerance: {term}");
    assert!(term.contains("+0.1 pp"), "error tolerance: {term}");
    let all = c
        .rows
        .iter()
        .find(|r| r.endpoint == ALL_ENDPOINTS)
        .expect("row");
    assert!(super::render::change(all).starts_with('−'), "{all:?}");
}

#[test]
fn warnings_are_written_once_in_words() {
    let base = sample_run();
    let mut head = sample_run();
    head.outcome = crate::report::RunOutcome::Invalid;
    let mut cut = sample_run();
    cut.outcome = crate::report::RunOutcome::Interrupted;
    let c = compare(&[cut], &[head], &Tolerances::default()).expect("same shape");
    assert_eq!(
        c.warnings,
        [
            "the base run was INTERRUPTED before its run time was over, so its figures may not \
             show the service",
            "the head run was INVALID: the load generator did not deliver its profile, so its \
             figures may not show the service",
        ]
    );
    let term = super::terminal(&c);
    for w in &c.warnings {
        assert_eq!(term.matches(w.as_str()).count(), 1, "{term}");
        assert_eq!(super::markdown(&c).matches(w.as_str()).count(), 1);
    }
    let table = term.find('┌').expect("a table");
    assert!(
        term.find("Warnings:\n").expect("a section") < table,
        "{term}"
    );
    let quiet = compare(
        std::slice::from_ref(&base),
        std::slice::from_ref(&base),
        &Tolerances::default(),
    )
    .expect("same shape");
    assert!(!super::terminal(&quiet).contains("Warnings"));
}

#[test]
fn rows_that_cannot_decide_say_what_would() {
    let mut rng = SmallRng::seed_from_u64(5);
    let base = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    let head = run(&mut rng, &LIGHT, 1.0, 1.0, 0.0);
    let c = compare(&[base], &[head], &Tolerances::default()).expect("same shape");
    let p99 = c
        .rows
        .iter()
        .find(|r| r.endpoint == "/e0" && r.metric == Metric::Latency(LatencyStat::Percentile(0.99)))
        .expect("row");
    assert_eq!(p99.verdict, RowVerdict::Undecided);
    assert_eq!(
        p99.reason.as_deref(),
        Some("p99 needs ≥ 500 samples in each run's window (base 130, head 130)")
    );
    let term = super::terminal(&c);
    assert!(term.contains("n/a ["), "{term}");
    assert!(term.contains("/e0 p99: p99 needs ≥ 500 samples"), "{term}");
    // A maximum is shown, never judged.
    let max = Tolerances {
        latency: vec![(LatencyStat::Max, 0.1)],
        ..Tolerances::default()
    };
    let mut rng = SmallRng::seed_from_u64(6);
    let (b, h) = (
        run(&mut rng, &LIGHT, 1.0, 1.0, 0.0),
        run(&mut rng, &LIGHT, 3.0, 1.0, 0.0),
    );
    let c = compare(&[b], &[h], &max).expect("same shape");
    for r in c
        .rows
        .iter()
        .filter(|r| r.metric == Metric::Latency(LatencyStat::Max))
    {
        assert_eq!((r.verdict, r.alpha), (RowVerdict::Info, None), "{r:?}");
    }
}
