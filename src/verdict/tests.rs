//! Table-driven verdict tests on hand-built plans and recordings.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Method};

use super::*;
use crate::plan::{
    Budget, Endpoint, Level, LevelLimit, Profile, Quantile, StatusSet, Target, ThinkTime,
};
use crate::stats::{FailureKind, Outcome, Recorder, Recording};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn budget(metric: Metric, limit_ms: u64) -> Budget {
    Budget {
        metric,
        limit: ms(limit_ms),
        location: Location::default(),
    }
}

fn p(q: f64) -> Metric {
    Metric::Percentile(Quantile::new(q).unwrap())
}

fn plan(budgets: Vec<Vec<Budget>>, level: Option<Level>) -> Plan {
    Plan {
        sla_path: PathBuf::from("sla.toml"),
        target: Target {
            base_url: "http://127.0.0.1:1".parse().unwrap(),
            timeout: Duration::from_secs(1),
            headers: HeaderMap::new(),
        },
        endpoints: budgets
            .into_iter()
            .enumerate()
            .map(|(i, budgets)| Endpoint {
                name: format!("/e{i}"),
                method: Method::GET,
                path_and_query: format!("/e{i}"),
                headers: HeaderMap::new(),
                body: Bytes::new(),
                weight: 1,
                expect_status: StatusSet::Success,
                budgets,
                location: Location::default(),
            })
            .collect(),
        profile: Profile {
            name: "t".into(),
            path: PathBuf::from("profiles/t.toml"),
            description: String::new(),
            users: 1,
            spawn_rate: 1.0,
            run_time: Duration::from_secs(10),
            think_time: ThinkTime {
                min: Duration::ZERO,
                max: Duration::ZERO,
            },
            level_name: "t".into(),
        },
        level,
        abort_when: None,
    }
}

fn level(min_rps: Option<f64>, max_err: Option<f64>) -> Option<Level> {
    let limit = |value| LevelLimit {
        value,
        location: Location::default(),
    };
    Some(Level {
        name: "t".into(),
        min_rps: min_rps.map(limit),
        max_error_rate: max_err.map(limit),
        window: None,
    })
}

/// Samples: (endpoint, latency ms, failed?) spread evenly over a 10 s run.
fn summary(endpoints: usize, samples: &[(usize, u64, bool)]) -> Summary {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let mut r = Recorder::new(endpoints, start, Duration::from_secs(10), tx);
    let n = samples.len().max(1) as u64;
    for (i, &(e, lat, failed)) in samples.iter().enumerate() {
        let at = start + Duration::from_millis(i as u64 * 9_999 / n);
        let outcome = if failed {
            Outcome::Failure(FailureKind::Status(503))
        } else {
            Outcome::Success
        };
        r.record(e, ms(lat), outcome, 10, at);
    }
    r.flush();
    let mut rec = Recording::new(endpoints, SystemTime::now(), Duration::from_secs(10));
    for b in rx.try_iter() {
        rec.add(b);
    }
    Summary::new(&rec, 0)
}

fn statuses(v: &Verdict) -> Vec<(String, Status)> {
    v.checks
        .iter()
        .map(|c| {
            let who = match c.subject {
                Subject::Endpoint(i) => format!("e{i}"),
                Subject::All => "all".into(),
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
        (ten_fast_one_slow.clone(), p(0.99), 20, Pass), // 99th of 100 is still fast
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
        if expected == Fail {
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
            ("e0 p50".into(), Status::Pass),
            ("e0 coverage".into(), Status::Pass),
            ("e1 p50".into(), Status::Fail),
            ("e1 max".into(), Status::Fail),
            ("e1 coverage".into(), Status::Fail),
        ]
    );
    assert!(v.checks[2].diagnostic.contains("no response times"));
    assert!(!v.passed());
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
    // 100 requests over a 10 s window = 10 req/s; `fails` of them failed.
    let cases = [
        (Some(10.0), None, 0, vec![Pass]),
        (Some(10.5), None, 0, vec![Fail]),
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
fn formatting() {
    assert_eq!(fmt_duration(Duration::from_micros(842)), "842 µs");
    assert_eq!(fmt_duration(Duration::from_micros(4270)), "4.27 ms");
    assert_eq!(fmt_duration(ms(212)), "212 ms");
    assert_eq!(fmt_duration(ms(2610)), "2.61 s");
    assert_eq!(fmt_duration(ms(10)), "10 ms");
    assert_eq!(fmt_duration(ms(2500)), "2.5 s");
    assert_eq!(fmt_percent(0.0), "0%");
    assert_eq!(fmt_percent(0.0004), "0.04%");
    assert_eq!(fmt_percent(0.024), "2.4%");
    assert_eq!(fmt_offset(Duration::from_secs(92)), "1:32");
}
