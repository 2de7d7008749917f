//! Table-driven verdict tests on hand-built plans and recordings.

use std::time::Duration;

use super::*;
use crate::plan::testing::{LevelBuilder, PlanBuilder, budget as budget_of, ms, p};
use crate::plan::{Budget, Level};
use crate::stats::testing::RecordedRun;
use crate::stats::{Abort, FailureKind, Outcome};

fn budget(metric: Metric, limit_ms: u64) -> Budget {
    budget_of(metric, ms(limit_ms))
}

/// One endpoint `/e{i}` per list of budgets; one user for 10 s, no think time.
fn plan(budgets: Vec<Vec<Budget>>, level: Option<Level>) -> Plan {
    Plan {
        level,
        ..PlanBuilder::new().endpoints(budgets).build()
    }
}

fn level(min_rps: Option<f64>, max_err: Option<f64>) -> Option<Level> {
    Some(
        LevelBuilder::new("t")
            .min_rps(min_rps)
            .max_error_rate(max_err)
            .build(),
    )
}

/// Samples: (endpoint, completed at ms, latency ms, failed?) over a run of `secs` seconds,
/// judged from second 0.
fn summary_at(endpoints: usize, secs: u64, samples: &[(usize, u64, u64, bool)]) -> Summary {
    let mut run = RecordedRun::new(endpoints, Duration::from_secs(secs));
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.1);
    for (e, at, lat, failed) in sorted {
        let outcome = if failed {
            Outcome::Failure(FailureKind::Status(503))
        } else {
            Outcome::Success
        };
        run.record(e, ms(lat), outcome, 10, ms(at));
    }
    Summary::new(&run.finish(), 0)
}

/// Samples: (endpoint, latency ms, failed?) spread evenly over a 10 s run.
fn summary(endpoints: usize, samples: &[(usize, u64, bool)]) -> Summary {
    let n = samples.len().max(1) as u64;
    let timed: Vec<_> = samples
        .iter()
        .enumerate()
        .map(|(i, &(e, lat, failed))| (e, i as u64 * 9_999 / n, lat, failed))
        .collect();
    summary_at(endpoints, 10, &timed)
}

fn statuses(v: &Verdict) -> Vec<(String, Status)> {
    v.checks
        .iter()
        .map(|c| {
            let who = match c.subject {
                Subject::Endpoint(i) => format!("e{i}"),
                Subject::All => "all".into(),
                Subject::Connections => "connections".into(),
                Subject::Flow(f) => format!("flow{f}"),
            };
            (format!("{who} {}", c.metric), c.status)
        })
        .collect()
}

#[test]
fn latency_budgets_table() {
    use Status::*;
    // (latencies in ms, budget metric, limit ms, expected)
    let ten_fast_one_slow: Vec<u64> = (0..99).map(|_| 10).chain([500]).collect();
    let cases: Vec<(Vec<u64>, Metric, u64, Status)> = vec![
        (vec![10; 100], p(0.5), 20, Pass),
        (vec![10; 100], p(0.5), 10, Fail), // budgets are strict: 10 ms is not < 10 ms
        (vec![25; 100], p(0.95), 20, Fail),
        (ten_fast_one_slow.clone(), p(0.95), 20, Pass),
        // The 99th of 100 is still fast, but 100 samples cannot bound a p99 (299 can).
        (ten_fast_one_slow.clone(), p(0.99), 20, Inconclusive),
        (ten_fast_one_slow.clone(), p(0.999), 20, Fail),
        (ten_fast_one_slow.clone(), Metric::Max, 400, Fail),
        (ten_fast_one_slow, Metric::Max, 600, Pass),
    ];
    for (lats, metric, limit, expected) in cases {
        let samples: Vec<_> = lats.iter().map(|&l| (0, l, false)).collect();
        let v = judge(
            &plan(vec![vec![budget(metric, limit)]], None),
            &summary(1, &samples),
        );
        assert_eq!(
            v.checks[0].status, expected,
            "{metric} < {limit} ms over {lats:?}"
        );
        if expected != Pass {
            assert!(!v.checks[0].diagnostic.is_empty());
        }
    }
}

#[test]
fn an_endpoint_without_samples_fails_every_check() {
    let v = judge(
        &plan(
            vec![
                vec![budget(p(0.5), 100)],
                vec![budget(p(0.5), 100), budget(Metric::Max, 200)],
            ],
            None,
        ),
        &summary(2, &[(0, 5, false), (0, 6, false)]),
    );
    assert_eq!(
        statuses(&v),
        vec![
            // Two samples cannot bound a median (five can): within budget, undecided.
            ("e0 p50".into(), Status::Inconclusive),
            ("e0 coverage".into(), Status::Pass),
            ("e1 p50".into(), Status::Fail),
            ("e1 max".into(), Status::Fail),
            ("e1 coverage".into(), Status::Fail),
            // No level: the default error ceiling (0%) is judged all the same.
            ("all max_error_rate".into(), Status::Pass),
        ]
    );
    assert!(
        v.checks[2]
            .diagnostic
            .contains("no requests completed in the measured window")
    );
    assert_eq!(v.judgement(), Judgement::Fail);
    assert_eq!(v.failed_count(), 3);
}

#[test]
fn coverage_needs_a_success_not_just_a_response() {
    let v = judge(
        &plan(vec![vec![]], None),
        &summary(1, &[(0, 5, true), (0, 6, true)]),
    );
    assert_eq!(v.checks[0].status, Status::Fail);
    assert!(v.checks[0].diagnostic.contains("none of the 2 requests"));
    assert!(v.checks[0].diagnostic.contains("HTTP 503"));
}

#[test]
fn level_checks_table() {
    use Status::*;
    // 100 requests over a 10 s window = 10 req/s; `fails` of them failed. A level without a
    // max_error_rate is judged against the default ceiling of 0%.
    let cases = [
        (Some(10.0), None, 0, vec![Pass, Pass]),
        (Some(10.5), None, 0, vec![Fail, Pass]),
        (Some(10.0), None, 1, vec![Pass, Fail]),
        (None, None, 1, vec![Fail]),
        (None, Some(0.0), 0, vec![Pass]),
        (None, Some(0.0), 1, vec![Fail]),  // a zero-tolerance level
        (None, Some(0.01), 1, vec![Pass]), // exactly at the limit passes
        (None, Some(0.01), 2, vec![Fail]),
        (Some(5.0), Some(0.05), 3, vec![Pass, Pass]),
    ];
    for (min_rps, max_err, fails, expected) in cases {
        let samples: Vec<_> = (0..100).map(|i| (0, 5, i < fails)).collect();
        let v = judge(
            &plan(vec![vec![]], level(min_rps, max_err)),
            &summary(1, &samples),
        );
        let got: Vec<Status> = v.checks[1..].iter().map(|c| c.status).collect();
        assert_eq!(
            got, expected,
            "min_rps {min_rps:?} max_err {max_err:?} fails {fails}"
        );
    }
}

#[test]
fn error_rate_diagnostic_names_the_endpoint_and_kind() {
    let samples: Vec<_> = (0..100).map(|i| (i % 2, 5, i % 10 == 1)).collect();
    let v = judge(
        &plan(vec![vec![], vec![]], level(None, Some(0.01))),
        &summary(2, &samples),
    );
    let c = v.checks.last().unwrap();
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.diagnostic.contains("10% of requests failed (10 of 100)"),
        "{}",
        c.diagnostic
    );
    assert!(
        c.diagnostic.contains("/e1: 10 of its 50 requests failed"),
        "{}",
        c.diagnostic
    );
    assert!(
        c.diagnostic.contains("HTTP 503 Service Unavailable"),
        "{}",
        c.diagnostic
    );
}

#[test]
fn headroom_is_signed_fraction_of_budget() {
    let v = judge(
        &plan(vec![vec![budget(p(0.5), 20)]], None),
        &summary(1, &[(0, 15, false)]),
    );
    let h = v.checks[0].headroom.unwrap();
    assert!((h - 0.25).abs() < 0.01, "{h}");
}

#[test]
fn too_few_samples_is_inconclusive_and_says_how_long_a_run_would_decide() {
    // 100 fast samples in a 10 s window: 10 req/s; a p99 needs 299 samples, about 30 s.
    let fast: Vec<_> = (0..100).map(|_| (0, 5, false)).collect();
    let v = judge(
        &plan(vec![vec![budget(p(0.99), 50), budget(p(0.5), 50)]], None),
        &summary(1, &fast),
    );
    let c = &v.checks[0];
    assert_eq!(c.status, Status::Inconclusive);
    assert_eq!(c.interval, None);
    let needs = c.needs.expect("an inconclusive check says what it needs");
    assert_eq!(needs.samples, 299);
    assert!((needs.rps - 10.0).abs() < 1e-9, "{needs:?}");
    assert_eq!(needs.window, Some(Duration::from_secs(30)));
    assert!(
        c.diagnostic
            .contains("needs ≥ 299 samples: about 30s at the observed 10 req/s"),
        "{}",
        c.diagnostic
    );
    // The p50 of the same 100 samples is bounded: a plain pass with its interval.
    assert_eq!(v.checks[1].status, Status::Pass);
    assert!(v.checks[1].interval.is_some());
    assert_eq!(v.judgement(), Judgement::Inconclusive);
    assert_eq!(v.count(Status::Inconclusive), 1);

    // 299 samples bound it: the same check passes.
    let enough: Vec<_> = (0..299).map(|_| (0, 5, false)).collect();
    let v = judge(
        &plan(vec![vec![budget(p(0.99), 50)]], None),
        &summary(1, &enough),
    );
    assert_eq!(v.checks[0].status, Status::Pass);
    assert_eq!(v.judgement(), Judgement::Pass);
}

#[test]
fn a_point_estimate_over_budget_fails_however_few_the_samples() {
    let slow: Vec<_> = (0..10).map(|_| (0, 80, false)).collect();
    let v = judge(
        &plan(vec![vec![budget(p(0.99), 50)]], None),
        &summary(1, &slow),
    );
    assert_eq!(v.checks[0].status, Status::Fail);
    assert_eq!(v.checks[0].needs, None);
}

#[test]
fn the_run_is_failed_before_inconclusive_and_invalid_before_all() {
    // e0 p99 inconclusive (100 samples), e1 p50 failing.
    let samples: Vec<_> = (0..200)
        .map(|i| (i % 2, 5 + 100 * (i % 2) as u64, false))
        .collect();
    let budgets = vec![vec![budget(p(0.99), 50)], vec![budget(p(0.5), 50)]];
    let mut v = judge(&plan(budgets, None), &summary(2, &samples));
    assert_eq!(v.checks[0].status, Status::Inconclusive);
    assert_eq!(v.checks[2].status, Status::Fail);
    assert_eq!(v.judgement(), Judgement::Fail);
    v.invalid.push(Invalidity {
        cause: "cpu",
        figure: "98%".into(),
        message: "busy".into(),
    });
    assert_eq!(v.judgement(), Judgement::Invalid);
}

#[test]
fn local_resource_failures_make_the_run_invalid() {
    let mut run = RecordedRun::new(1, Duration::from_secs(2));
    for i in 0..20 {
        let outcome = if i == 3 {
            Outcome::Failure(FailureKind::LocalResource)
        } else {
            Outcome::Success
        };
        run.record(0, ms(5), outcome, 10, ms(i * 90));
    }
    let v = judge(
        &plan(vec![vec![budget(p(0.5), 50)]], None),
        &Summary::new(&run.finish(), 0),
    );
    assert_eq!(v.invalid.len(), 1, "{:?}", v.invalid);
    assert_eq!(v.invalid[0].cause, "local_resources");
    assert_eq!(v.judgement(), Judgement::Invalid);
}

#[test]
fn a_pass_whose_interval_reaches_the_budget_is_marginal() {
    // 1..=100 ms: p50 = 50 ms, its 95 % interval X(40)..X(61) = [40, 61] ms.
    let samples: Vec<_> = (1..=100).map(|l| (0, l, false)).collect();
    for (limit, marginal) in [(55, true), (61, true), (62, false), (70, false)] {
        let v = judge(
            &plan(vec![vec![budget(p(0.5), limit)]], None),
            &summary(1, &samples),
        );
        let c = &v.checks[0];
        assert_eq!(c.status, Status::Pass, "p50 < {limit} ms");
        assert_eq!(c.marginal, marginal, "p50 < {limit} ms: {:?}", c.interval);
        let i = c.interval.unwrap();
        assert_eq!((i.low.as_millis(), i.high.as_millis()), (40, 61));
        if marginal {
            assert!(c.diagnostic.contains("50 ms [40, 61]"), "{}", c.diagnostic);
            assert_eq!(v.marginal_count(), 1);
        } else {
            assert!(c.diagnostic.is_empty());
        }
    }
}

/// The plan with its level (a bare one named `t` if it has none) also judged per `secs` window.
fn windowed(mut plan: Plan, secs: u64) -> Plan {
    let level = plan
        .level
        .take()
        .map_or_else(|| LevelBuilder::new("t"), LevelBuilder::from);
    plan.level = Some(level.window(Duration::from_secs(secs)).build());
    plan
}

#[test]
fn a_breach_confined_to_one_window_fails_the_check_and_names_the_window() {
    // 20 s at 20 req/s, 10 ms each, except that one request in ten between 0:10 and 0:15 takes
    // 200 ms: that window's p95 is 200 ms, the whole run's 10 ms (2.5% slow).
    let samples: Vec<_> = (0..400u64)
        .map(|i| {
            let at = i * 50 + 10;
            let slow = (10_000..15_000).contains(&at) && i % 10 == 0;
            (0, at, if slow { 200 } else { 10 }, false)
        })
        .collect();
    let s = summary_at(1, 20, &samples);
    let budgets = vec![vec![budget(p(0.95), 100), budget(Metric::Max, 500)]];
    let v = judge(&windowed(plan(budgets.clone(), None), 5), &s);
    let c = &v.checks[0];
    assert_eq!(c.status, Status::Fail, "{}", c.diagnostic);
    assert!(
        c.headroom.unwrap() > 0.8,
        "the whole window is well within budget"
    );
    assert!(
        c.diagnostic
            .starts_with("p95 was 200 ms in window 0:10–0:15 (100 requests)"),
        "{}",
        c.diagnostic
    );
    assert!(
        c.diagnostic.contains("1 of 4 windows of 5 s"),
        "{}",
        c.diagnostic
    );
    let w = c.windows.unwrap();
    assert_eq!((w.judged, w.breached, w.decisive), (4, 1, true));
    assert_eq!(w.worst.unwrap().start, Duration::from_secs(10));
    // The max budget is not judged per window (the whole run's max is every window's max).
    assert_eq!(v.checks[1].windows, None);
    assert_eq!(v.checks[1].status, Status::Pass);
    assert_eq!(v.judgement(), Judgement::Fail);

    // Without a window the same run passes.
    let v = judge(&plan(budgets, None), &s);
    assert_eq!(v.checks[0].status, Status::Pass);
    assert_eq!(v.checks[0].windows, None);
}

#[test]
fn a_burst_of_errors_in_one_window_fails_the_error_rate() {
    // 1% of 400 requests fail overall (within 2%), but all four in 0:05–0:10 (4%).
    let samples: Vec<_> = (0..400u64)
        .map(|i| {
            let at = i * 50 + 10;
            (0, at, 10, (5_000..10_000).contains(&at) && i % 25 == 0)
        })
        .collect();
    let s = summary_at(1, 20, &samples);
    let mut pl = windowed(plan(vec![vec![]], level(None, Some(0.02))), 5);
    let v = judge(&pl, &s);
    let c = v.checks.last().unwrap();
    assert_eq!(c.metric, CheckMetric::MaxErrorRate);
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.diagnostic
            .starts_with("4% of requests failed in window 0:05–0:10 (4 of 100)"),
        "{}",
        c.diagnostic
    );
    pl.level.as_mut().unwrap().window = None;
    assert_eq!(judge(&pl, &s).checks.last().unwrap().status, Status::Pass);
}

#[test]
fn an_aborted_run_fails_with_the_reason() {
    let mut s = summary(1, &[(0, 5, false), (0, 5, false), (0, 5, false)]);
    let reason = "error rate 62% over the last 10 s (≥ 50%)";
    s.aborted = Some(Abort {
        at: Duration::from_secs(6),
        reason: reason.into(),
    });
    let v = judge(&plan(vec![vec![budget(p(0.5), 50)]], None), &s);
    let c = v.checks.last().unwrap();
    assert_eq!(c.metric, CheckMetric::Abort);
    assert_eq!(c.subject, Subject::All);
    assert_eq!(c.status, Status::Fail);
    assert!(c.diagnostic.starts_with(reason), "{}", c.diagnostic);
    assert!(c.diagnostic.contains("0:06"), "{}", c.diagnostic);
    assert_eq!(c.measured, Some(Value::Offset(Duration::from_secs(6))));
    assert_eq!(v.judgement(), Judgement::Fail);
}

#[test]
fn failing_and_marginal_checks_carry_the_explanation() {
    let samples: Vec<_> = (1..=100).map(|l| (0, l, false)).collect();
    let pl = plan(
        vec![vec![
            budget(p(0.5), 20),
            budget(p(0.5), 55),
            budget(p(0.5), 90),
        ]],
        None,
    );
    let s = summary(1, &samples);
    let v = judge(&pl, &s);
    for c in &v.checks[..2] {
        let mut bare = c.clone();
        bare.explanation.clear();
        assert_eq!(c.explanation, explain::explain(&pl, &s, &bare), "{c:?}");
    }
    assert!(
        v.checks[2].explanation.is_empty(),
        "a clean pass is not explained"
    );
}

#[test]
fn waits_are_rounded_for_planning() {
    let wait = |samples, rps| Needs::at_rate(samples, rps).window;
    assert_eq!(wait(299, 1.2), Some(Duration::from_secs(250)));
    assert_eq!(units::length(Duration::from_secs(250)), "4m10s");
    assert_eq!(wait(299, 100.0), Some(Duration::from_secs(10)));
    assert_eq!(
        wait(2995, 4.0),
        Some(Duration::from_secs(780)),
        "minutes past ten"
    );
    assert_eq!(units::length(Duration::from_secs(780)), "13m");
    assert_eq!(units::length(Duration::from_secs(3900)), "1h05m");
    assert_eq!(units::length(Duration::from_secs(50)), "50s");
    assert_eq!(units::length(Duration::from_secs(60)), "1m");
    assert_eq!(wait(299, 0.0), None);
    assert!(needs_text(&Needs::at_rate(299, 0.0)).contains("none completed"));
}

#[test]
fn estimates_print_their_interval_once_in_one_unit() {
    let i = |lo, hi| {
        Some(Interval {
            low: ms(lo),
            high: ms(hi),
        })
    };
    assert_eq!(fmt_estimate(ms(212), i(198, 231)), "212 ms [198, 231]");
    assert_eq!(
        fmt_estimate(ms(980), i(912, 1030)),
        "980 ms [912 ms, 1.03 s]"
    );
    assert_eq!(fmt_estimate(ms(212), None), "212 ms");
}

#[test]
fn formatting() {
    assert_eq!(units::duration(Duration::from_micros(842)), "842 µs");
    assert_eq!(units::duration(Duration::from_micros(4270)), "4.27 ms");
    assert_eq!(units::duration(ms(212)), "212 ms");
    assert_eq!(units::duration(ms(2610)), "2.61 s");
    assert_eq!(units::duration(ms(10)), "10 ms");
    assert_eq!(units::duration(ms(2500)), "2.5 s");
    assert_eq!(units::percent(0.0), "0%");
    assert_eq!(units::percent(0.0004), "0.04%");
    assert_eq!(units::percent(0.024), "2.4%");
    assert_eq!(units::offset(Duration::from_secs(92)), "1:32");
}

#[test]
fn a_level_that_judges_some_budgets_shows_the_others_without_passing_them() {
    // /e0: p50 well inside, p95 far over its budget; the level judges p50 only.
    let level = LevelBuilder::new("t")
        .max_error_rate(0.0)
        .judges(vec![p(0.5)])
        .build();
    let plan = plan(
        vec![vec![budget(p(0.5), 100), budget(p(0.95), 20)]],
        Some(level),
    );
    let samples: Vec<_> = (0..100)
        .map(|i| (0, if i < 90 { 5 } else { 50 }, false))
        .collect();
    let v = judge(&plan, &summary(1, &samples));
    assert_eq!(
        statuses(&v),
        vec![
            ("e0 p50".into(), Status::Pass),
            ("e0 p95".into(), Status::NotJudged),
            ("e0 coverage".into(), Status::Pass),
            ("all max_error_rate".into(), Status::Pass),
        ]
    );
    let p95 = &v.checks[1];
    // The figure is kept, for information; it neither passes nor fails the run.
    assert!(matches!(p95.measured, Some(Value::Latency(d)) if d >= ms(20)));
    assert!(p95.headroom.is_none());
    assert!(
        p95.diagnostic.contains("level `t` judges only p50"),
        "{}",
        p95.diagnostic
    );
    assert_eq!(v.judgement(), Judgement::Pass);
    assert_eq!((v.judged_count(), v.not_judged_count()), (3, 1));
}

#[test]
fn a_run_is_unmade_only_when_no_request_reached_the_target() {
    let summary_of = |kinds: &[Option<FailureKind>]| {
        let mut run = RecordedRun::new(1, Duration::from_secs(3));
        for (i, kind) in kinds.iter().enumerate() {
            let outcome = kind.map_or(Outcome::Success, Outcome::Failure);
            run.record(0, ms(1), outcome, 0, ms(1500 + i as u64));
        }
        Summary::new(&run.finish(), 1)
    };
    let refused = Some(FailureKind::ConnectRefused);
    let gone = summary_of(&[refused, refused, Some(FailureKind::Connect)]);
    let why = never_reached(&gone).expect("nothing was ever there");
    assert!(why.starts_with("3 requests, none connected"), "{why}");
    // Reached, then failed: a dead service is judged (FAIL), not a run that was not made.
    for reached in [
        Some(FailureKind::Reset),
        Some(FailureKind::Timeout),
        Some(FailureKind::Status(503)),
        None,
    ] {
        assert_eq!(
            never_reached(&summary_of(&[refused, reached])),
            None,
            "{reached:?}"
        );
    }
    // Nothing at all sent is not "never reached" either: it is an empty window, judged.
    assert_eq!(never_reached(&summary_of(&[])), None);
}

#[test]
fn connect_budgets_judge_every_connection_set_up() {
    use crate::stats::{ConnectionRecorder, Opened};
    let mut plan = plan(vec![vec![]], None);
    plan.target.transport.connect_budgets = vec![
        budget_of(p(0.5), ms(50)),
        budget_of(crate::plan::Metric::Max, ms(100)),
    ];
    let mut s = summary(1, &[(0, 5, false)]);
    let mut conns = ConnectionRecorder::new(Some(true));
    for tcp in [2, 3, 4, 5, 150] {
        conns.opened(Opened {
            tcp: ms(tcp),
            tls: Some(ms(10)),
            resumed: false,
            reconnect: false,
            protocol: "HTTP/1.1",
            tls_version: Some("TLSv1.3"),
            cipher: None,
        });
    }
    s.connections = conns.finish();
    let v = judge(&plan, &s);
    let set_up: Vec<(String, Status)> = statuses(&v)
        .into_iter()
        .filter(|(who, _)| who.starts_with("connections"))
        .collect();
    // Median 14 ms is within 50 ms; the slowest set-up (160 ms) breaks the 100 ms max.
    assert_eq!(
        set_up,
        [
            ("connections p50".to_string(), Status::Pass),
            ("connections max".to_string(), Status::Fail),
        ]
    );
    let max = v
        .checks
        .iter()
        .find(|c| c.subject == Subject::Connections && c.status == Status::Fail)
        .unwrap();
    assert_eq!(max.samples, 5);
}

/// Percentile points only (Locust's CSV, `stats::Written`): judged on the written figure, with
/// no interval ever; INCONCLUSIVE below the samples that would bound the percentile, never
/// marginal above them. The histogram beside the points is deliberately wrong (all 1 ms): a
/// check that read it would pass everything.
#[test]
fn percentile_points_only_table() {
    use Status::*;
    // (samples, metric, written value ms, limit ms, expected)
    let cases: Vec<(u64, Metric, u64, u64, Status)> = vec![
        (299, p(0.99), 40, 50, Pass),
        (298, p(0.99), 40, 50, Inconclusive),
        (10, p(0.99), 60, 50, Fail),
        (59, p(0.95), 49, 50, Pass),
        (58, p(0.95), 49, 50, Inconclusive),
        (5, p(0.5), 20, 50, Pass),
        (4, p(0.5), 20, 50, Inconclusive),
        // At the limit is over it (budgets are strict), interval or not.
        (1000, p(0.99), 50, 50, Fail),
    ];
    for (n, metric, value, limit, expected) in cases {
        let plan = plan(vec![vec![budget(metric, limit)]], None);
        let mut s = summary(1, &vec![(0, 1, false); n as usize]);
        let Metric::Percentile(q) = metric else {
            unreachable!()
        };
        s.endpoints[0].written = Some(crate::stats::Written {
            percentiles: vec![(q.get(), ms(value))],
            min: Some(ms(1)),
            max: Some(ms(value)),
            mean: Some(ms(value)),
        });
        let v = judge(&plan, &s);
        let c = &v.checks[0];
        assert_eq!(
            c.status, expected,
            "n={n} {metric} {value} ms < {limit} ms: {c:?}"
        );
        assert_eq!(c.interval, None, "n={n} {metric}");
        assert!(!c.marginal, "n={n} {metric}");
        assert_eq!(c.measured, Some(Value::Latency(ms(value))));
    }
}
