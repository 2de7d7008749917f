//! Explanations on hand-built plans and real summaries (recorded through `Recorder` and
//! `Recording`, summarised by `Summary::new`): each line fires on its evidence and stays silent
//! without it.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{
    Burst, Evidence, Hint, capacity_warning, closed_model_ceiling, explain, find_bursts, pick_hint,
};
use crate::plan::testing::{LevelBuilder, PlanBuilder, budget, ms, p, secs};
use crate::plan::{Budget, Plan};
use crate::stats::testing::RecordedRun;
use crate::stats::{FailureKind, Outcome, Recording, Summary};
use crate::verdict::{Check, CheckMetric, Subject, judge};

/// A plan with one endpoint per budget list, `users` users thinking `think` (min, max).
fn plan(budgets: Vec<Vec<Budget>>, users: u32, think: (Duration, Duration)) -> Plan {
    PlanBuilder::new()
        .endpoints(budgets)
        .users(users)
        .spawn_rate(1000.0)
        .run_time(secs(60))
        .think(think.0, think.1)
        .build()
}

fn with_level(mut plan: Plan, min_rps: Option<f64>, max_error_rate: Option<f64>) -> Plan {
    let level = LevelBuilder::new("t")
        .min_rps(min_rps)
        .max_error_rate(max_error_rate);
    plan.level = Some(level.build());
    plan
}

/// One request: completed `at` ms into the run, to `endpoint`, taking `latency`.
struct Req {
    at: u64,
    endpoint: usize,
    latency: Duration,
    outcome: Outcome,
}

fn ok(at: u64, endpoint: usize, latency: Duration) -> Req {
    Req {
        at,
        endpoint,
        latency,
        outcome: Outcome::Success,
    }
}

fn failed(at: u64, endpoint: usize, latency: Duration, kind: FailureKind) -> Req {
    Req {
        at,
        endpoint,
        latency,
        outcome: Outcome::Failure(kind),
    }
}

/// Record `reqs` as the engine would (one worker) in a run of `run_time`; with `examples`, the
/// first failure of each kind is kept as its example.
fn record(endpoints: usize, run_time: Duration, mut reqs: Vec<Req>, examples: bool) -> Recording {
    reqs.sort_by_key(|r| r.at);
    let mut run = RecordedRun::new(endpoints, run_time);
    for q in reqs {
        run.record(q.endpoint, q.latency, q.outcome, 10, ms(q.at));
        if examples && let Outcome::Failure(kind) = q.outcome {
            run.example(
                q.endpoint,
                kind,
                ms(q.at),
                format!("what {kind} looked like"),
            );
        }
    }
    run.finish()
}

/// Record `reqs` with examples, with `users` running every second, and summarise the whole
/// `secs`-second run as the window.
fn summarise(endpoints: usize, secs: u64, users: u32, reqs: Vec<Req>) -> Summary {
    let mut rec = record(endpoints, Duration::from_secs(secs), reqs, true);
    for s in 0..secs {
        rec.set_users(s as u32, users);
    }
    Summary::new(&rec, 0)
}

/// `per_second` requests in each second of `secs`, evenly spaced, latency from `latency(i, s)`.
fn steady(
    secs: u64,
    per_second: u64,
    mut make: impl FnMut(u64, u64) -> Req, // (second, index in second)
) -> Vec<Req> {
    (0..secs)
        .flat_map(|s| (0..per_second).map(move |i| (s, i)))
        .map(|(s, i)| make(s, i))
        .collect()
}

fn at(s: u64, i: u64, per_second: u64) -> u64 {
    s * 1000 + i * 1000 / per_second
}

fn check(checks: &[Check], subject: Subject, metric: CheckMetric) -> &Check {
    checks
        .iter()
        .find(|c| c.subject == subject && c.metric == metric)
        .unwrap_or_else(|| panic!("no {metric} check for {subject:?}"))
}

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

/// The lines for one check of a judged run.
fn lines_for(plan: &Plan, s: &Summary, subject: Subject, metric: CheckMetric) -> Vec<String> {
    let v = judge(plan, s);
    explain(plan, s, check(&v.checks, subject, metric))
}

/// The check's own diagnostic: the headline its explanation lines must not repeat.
fn diagnostic_of(plan: &Plan, s: &Summary, subject: Subject, metric: CheckMetric) -> String {
    let v = judge(plan, s);
    check(&v.checks, subject, metric).diagnostic.clone()
}

#[test]
fn measured_line_gives_headroom_share_over_budget_and_the_slowest_seconds() {
    // 150 s at 10 req/s: 95 % at 50 ms, every 20th at 300 ms (5 %, so p95 breaks a 100 ms
    // budget), plus three stragglers at known seconds.
    let mut reqs = steady(150, 10, |s, i| {
        let slow = (s * 10 + i) % 20 == 0;
        ok(at(s, i, 10), 0, if slow { ms(300) } else { ms(50) })
    });
    reqs.push(ok(41_500, 0, ms(2780)));
    reqs.push(ok(92_500, 0, ms(2710)));
    reqs.push(ok(130_500, 0, ms(2650)));
    let plan = plan(vec![vec![budget(p(0.95), ms(100))]], 10, (ms(0), ms(0)));
    let s = summarise(1, 150, 10, reqs);
    let subject = Subject::Endpoint(0);
    let metric = CheckMetric::Latency(p(0.95));
    let lines = lines_for(&plan, &s, subject.clone(), metric);
    // The headline (the diagnostic) gives measured against budget and the share over it; the
    // first explanation line adds only when the slowest came, never the headline again.
    let headline = diagnostic_of(&plan, &s, subject, metric);
    assert!(
        headline.starts_with("p95 was 300 ms")
            && headline.contains("against a budget of < 100 ms (200% over)")
            && headline.contains("78 of 1503 requests (5.2%) took 100 ms or longer"),
        "{headline}"
    );
    assert_eq!(
        lines[0],
        "slowest of /e0: 2.78 s at 0:41, 2.71 s at 1:32, 2.65 s at 2:10"
    );
    assert!(!has(&lines, "against a budget"), "{lines:#?}");
    // Slow but steady, no failures: no trend, no burst, no kinds; a plain-slowness hint.
    assert!(
        !has(&lines, "rose from") && !has(&lines, "fell from"),
        "{lines:#?}"
    );
    assert!(
        !has(&lines, "of errors from") && !has(&lines, " × "),
        "{lines:#?}"
    );
    assert_eq!(
        lines.last().unwrap(),
        Hint::HighResponseTimes.line(),
        "{lines:#?}"
    );
}

#[test]
fn a_check_within_budget_is_neither_restated_nor_blamed() {
    let reqs = steady(30, 10, |s, i| ok(at(s, i, 10), 0, ms(95)));
    let plan = plan(vec![vec![budget(p(0.5), ms(100))]], 5, (ms(0), ms(0)));
    let s = summarise(1, 30, 5, reqs);
    let subject = Subject::Endpoint(0);
    let metric = CheckMetric::Latency(p(0.5));
    let lines = lines_for(&plan, &s, subject.clone(), metric);
    // 95 ms every time: a clean pass (its headroom is the table's Headroom column).
    assert_eq!(diagnostic_of(&plan, &s, subject, metric), "");
    assert!(!has(&lines, "against a budget"), "{lines:#?}");
    // Inside its budget: no hint blames the service.
    assert!(!has(&lines, "hint"), "{lines:#?}");
}

#[test]
fn latency_climbing_at_constant_load_is_called_saturation() {
    // 30 s at 20 req/s, 10 users: latency grows linearly from 20 ms to 320 ms.
    let reqs = steady(30, 20, |s, i| {
        ok(at(s, i, 20), 0, ms(20 + (s * 20 + i) * 300 / 600))
    });
    let plan = plan(vec![vec![budget(p(0.95), ms(150))]], 10, (ms(0), ms(0)));
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.95)),
    );
    let trend = lines
        .iter()
        .find(|l| l.contains("rose from"))
        .unwrap_or_else(|| panic!("no trend line: {lines:#?}"));
    // Request k takes 20 + ⌊k / 2⌋ ms. First third: seconds 0..10, k = 0..200, whose p95 is the
    // 190th value (k = 189): 114 ms; last third: k = 400..600, the 190th is k = 589: 314 ms.
    assert!(
        trend.starts_with(
            "p95 rose from 114 ms in the first third of the window to 314 ms in the last"
        ),
        "{trend}"
    );
    assert!(
        trend.ends_with("while load was constant (10 users, 20 → 20 req/s): saturation or a leak"),
        "{trend}"
    );
    assert_eq!(lines.last().unwrap(), Hint::Saturation.line());
}

#[test]
fn constant_latency_produces_no_trend_even_with_noise() {
    // Log-normal-ish noise around a constant median, well over budget: the line says
    // "throughout", never "rose" or "fell".
    let mut rng = SmallRng::seed_from_u64(7);
    let reqs = steady(60, 20, |s, i| {
        let jitter: f64 = rng.random_range(0.6..1.6);
        ok(at(s, i, 20), 0, Duration::from_secs_f64(0.2 * jitter))
    });
    let plan = plan(vec![vec![budget(p(0.95), ms(100))]], 10, (ms(0), ms(0)));
    let s = summarise(1, 60, 10, reqs);
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.95)),
    );
    assert!(
        !has(&lines, "rose from") && !has(&lines, "fell from"),
        "{lines:#?}"
    );
    assert!(has(&lines, "p95 was over budget throughout"), "{lines:#?}");
    assert_eq!(lines.last().unwrap(), Hint::HighResponseTimes.line());
}

#[test]
fn a_slow_start_is_called_a_warm_up_not_saturation() {
    let reqs = steady(30, 20, |s, i| {
        ok(at(s, i, 20), 0, if s < 10 { ms(400) } else { ms(40) })
    });
    let plan = plan(vec![vec![budget(p(0.95), ms(100))]], 10, (ms(0), ms(0)));
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.95)),
    );
    assert!(has(&lines, "p95 fell from 400 ms"), "{lines:#?}");
    assert!(has(&lines, "warm-up"), "{lines:#?}");
    assert!(!has(&lines, "saturation"), "{lines:#?}");
}

#[test]
fn thin_thirds_compare_no_percentiles() {
    // 2 requests a second: 20 per third is not enough for a p99, however steep the climb (only
    // the count of slow requests per third is given).
    let reqs = steady(30, 2, |s, i| ok(at(s, i, 2), 0, ms(10 + s * 30)));
    let plan = plan(vec![vec![budget(p(0.99), ms(100))]], 1, (ms(0), ms(0)));
    let s = summarise(1, 30, 1, reqs);
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.99)),
    );
    assert!(
        !has(&lines, "rose from") && !has(&lines, "over budget throughout"),
        "{lines:#?}"
    );
    assert!(has(
        &lines,
        "the 52 requests of 100 ms or longer came 12, 20 and 20"
    ));
    // The same climb judged at p50 has 20 samples a third: enough.
    let plan50 = {
        let mut p2 = plan.clone();
        p2.endpoints[0].budgets = vec![budget(p(0.5), ms(100))];
        p2
    };
    let lines = lines_for(
        &plan50,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.5)),
    );
    assert!(has(&lines, "p50 rose from"), "{lines:#?}");
}

#[test]
fn a_burst_of_errors_is_named_with_its_time_span_and_kind() {
    // 40 s at 20 req/s; every request from 0:12 to 0:15 answers 503.
    let reqs = steady(40, 20, |s, i| {
        if (12..16).contains(&s) {
            failed(at(s, i, 20), 0, ms(2), FailureKind::Status(503))
        } else {
            ok(at(s, i, 20), 0, ms(20))
        }
    });
    let plan = with_level(plan(vec![vec![]], 10, (ms(100), ms(300))), None, Some(0.01));
    let s = summarise(1, 40, 10, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MaxErrorRate);
    let headline = diagnostic_of(&plan, &s, Subject::All, CheckMetric::MaxErrorRate);
    assert!(
        headline.starts_with("10% of requests failed (80 of 800) against a maximum of 1%."),
        "{headline}"
    );
    assert!(!has(&lines, "against a maximum"), "{lines:#?}");
    assert_eq!(
        lines[0],
        "4 s of errors from 0:12 (0:12–0:15): 80 × HTTP 503 Service Unavailable, 100% of the 80 \
         requests to all endpoints in those seconds"
    );
    assert_eq!(
        lines[1],
        "80 × HTTP 503 Service Unavailable, first at 0:12, last at 0:15; e.g. at 0:12: what HTTP \
         503 Service Unavailable looked like"
    );
    assert_eq!(lines[2], Hint::RateLimited.line());
    assert_eq!(lines.len(), 3, "{lines:#?}");
}

#[test]
fn a_uniform_trickle_of_errors_is_never_a_burst() {
    // 1 % of requests fail at random, 100 req/s for 5 minutes, 20 seeds: a few seconds will hold
    // 4 or 5 failures by chance, and none of that may be called a burst.
    for seed in 0..20 {
        let mut rng = SmallRng::seed_from_u64(seed);
        let reqs = steady(300, 100, |s, i| {
            if rng.random_bool(0.01) {
                failed(at(s, i, 100), 0, ms(5), FailureKind::Status(500))
            } else {
                ok(at(s, i, 100), 0, ms(5))
            }
        });
        let plan = with_level(plan(vec![vec![]], 10, (ms(0), ms(0))), None, Some(0.001));
        let s = summarise(1, 300, 10, reqs);
        let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MaxErrorRate);
        assert!(!has(&lines, "of errors from"), "seed {seed}: {lines:#?}");
        assert!(
            has(
                &lines,
                "in the first, middle and last thirds of the window: spread through the run \
                 rather than gathered in one part"
            ),
            "seed {seed}: {lines:#?}"
        );
        assert_eq!(lines.last().unwrap(), Hint::ServerErrors.line());
    }
}

#[test]
fn burst_detection_table() {
    let b = |start, end, requests, failures| Burst {
        start,
        end,
        requests,
        failures,
    };
    // (requests, failures) per second from second 0.
    type Case = (&'static str, Vec<(u64, u64)>, Vec<Burst>);
    let cases: Vec<Case> = vec![
        ("nothing failed", vec![(20, 0); 30], vec![]),
        (
            "one hot second is not a burst",
            [vec![(20, 0); 10], vec![(20, 20)], vec![(20, 0); 10]].concat(),
            vec![],
        ),
        (
            "three seconds of 503s",
            [vec![(20, 0); 10], vec![(20, 20); 3], vec![(20, 0); 10]].concat(),
            vec![b(10, 12, 60, 60)],
        ),
        (
            "a one-second gap is bridged",
            [
                vec![(20, 0); 10],
                vec![(20, 15), (20, 0), (20, 15)],
                vec![(20, 0); 10],
            ]
            .concat(),
            vec![b(10, 12, 60, 30)],
        ),
        (
            "two quiet seconds split it",
            [
                vec![(20, 0); 10],
                vec![(20, 15), (20, 15), (20, 0), (20, 0), (20, 15), (20, 15)],
                vec![(20, 0); 10],
            ]
            .concat(),
            vec![b(10, 11, 40, 30), b(14, 15, 40, 30)],
        ),
        (
            "5× the median counts as hot below half the requests",
            [vec![(100, 1); 20], vec![(100, 30); 3], vec![(100, 1); 20]].concat(),
            vec![b(20, 22, 300, 90)],
        ),
        (
            "errors all the time are the steady state, not a burst",
            vec![(20, 20); 30],
            vec![],
        ),
        (
            "too few failures to matter",
            [vec![(2, 0); 10], vec![(2, 2); 2], vec![(2, 0); 10]].concat(),
            vec![],
        ),
    ];
    for (name, per_second, expected) in cases {
        let counts: Vec<(u32, u64, u64)> = per_second
            .iter()
            .enumerate()
            .map(|(s, &(r, f))| (s as u32, r, f))
            .collect();
        assert_eq!(find_bursts(&counts), expected, "{name}");
    }
}

#[test]
fn failures_by_kind_lists_the_top_five_with_times_and_examples() {
    // Seven kinds with counts 7, 6, … 1, each in its own seconds.
    let kinds = [
        FailureKind::Status(503),
        FailureKind::Timeout,
        FailureKind::Reset,
        FailureKind::ConnectRefused,
        FailureKind::Status(500),
        FailureKind::Closed,
        FailureKind::Status(404),
    ];
    let mut reqs = steady(30, 10, |s, i| ok(at(s, i, 10), 0, ms(5)));
    for (k, kind) in kinds.iter().enumerate() {
        let n = 7 - k as u64;
        for j in 0..n {
            // kind k fails at seconds k+1 .. k+1+n-1 (one a second)
            reqs.push(failed((k as u64 + 1 + j) * 1000 + 500, 0, ms(5), *kind));
        }
    }
    let plan = plan(vec![vec![]], 10, (ms(0), ms(0)));
    let plan = with_level(plan, None, Some(0.0));
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MaxErrorRate);
    let kind_lines: Vec<&String> = lines.iter().filter(|l| l.contains(" × ")).collect();
    assert_eq!(kind_lines.len(), 5, "{lines:#?}");
    assert_eq!(
        kind_lines[0],
        "7 × HTTP 503 Service Unavailable, first at 0:01, last at 0:07; e.g. at 0:01: what HTTP \
         503 Service Unavailable looked like"
    );
    assert!(kind_lines[1].starts_with("6 × timeout, first at 0:02, last at 0:07"));
    assert!(kind_lines[2].starts_with("5 × connection reset, first at 0:03, last at 0:07"));
    assert!(kind_lines[3].starts_with("4 × connection refused, first at 0:04, last at 0:07"));
    assert!(kind_lines[4].starts_with("3 × HTTP 500 Internal Server Error, first at 0:05"));
    assert!(has(&lines, "and 2 more kinds (3 failures)"), "{lines:#?}");
    // The most frequent kind leads the hint.
    assert_eq!(lines.last().unwrap(), Hint::RateLimited.line());
}

#[test]
fn a_kind_seen_in_one_second_says_so() {
    let mut reqs = steady(10, 10, |s, i| ok(at(s, i, 10), 0, ms(5)));
    reqs.push(failed(4_200, 0, ms(5), FailureKind::Reset));
    reqs.push(failed(4_700, 0, ms(5), FailureKind::Reset));
    let plan = with_level(plan(vec![vec![]], 10, (ms(0), ms(0))), None, Some(0.0));
    let s = summarise(1, 10, 10, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MaxErrorRate);
    assert!(
        has(&lines, "2 × connection reset, all at 0:04; e.g. at 0:04"),
        "{lines:#?}"
    );
    assert_eq!(lines.last().unwrap(), Hint::ConnectionLimits.line());
}

#[test]
fn coverage_with_refused_connections_points_at_connection_limits() {
    let reqs = steady(10, 5, |s, i| {
        failed(at(s, i, 5), 0, ms(1), FailureKind::ConnectRefused)
    });
    let plan = plan(vec![vec![]], 5, (ms(0), ms(0)));
    let s = summarise(1, 10, 5, reqs);
    let lines = lines_for(&plan, &s, Subject::Endpoint(0), CheckMetric::Coverage);
    assert!(
        !has(&lines, "succeeded"),
        "the headline says so: {lines:#?}"
    );
    assert!(has(&lines, "50 × connection refused"), "{lines:#?}");
    assert_eq!(lines.last().unwrap(), Hint::ConnectionLimits.line());
}

#[test]
fn little_law_arithmetic_is_exact() {
    assert_eq!(
        closed_model_ceiling(50, ms(1200), ms(500)),
        50.0 / 1.7,
        "U / (L + Z)"
    );
    assert_eq!(
        closed_model_ceiling(50, Duration::ZERO, ms(1500)),
        50.0 / 1.5
    );
    assert_eq!(closed_model_ceiling(10, ms(250), ms(250)), 20.0);
    assert!(closed_model_ceiling(3, Duration::ZERO, Duration::ZERO).is_infinite());
}

/// 50 users, fixed think time `think`, every request taking `latency`, at the rate the closed
/// model gives, over 30 s.
fn closed_run(users: u32, latency: Duration, think: Duration, min_rps: f64) -> (Plan, Summary) {
    let rate = closed_model_ceiling(users, latency, think).floor() as u64;
    let reqs = steady(30, rate, |s, i| ok(at(s, i, rate), 0, latency));
    let plan = with_level(
        plan(vec![vec![]], users, (think, think)),
        Some(min_rps),
        None,
    );
    let s = summarise(1, 30, users, reqs);
    (plan, s)
}

#[test]
fn low_throughput_blamed_on_latency_with_the_figures() {
    // 50 users, 1.2 s responses, 0.5 s think: at most 29.4 req/s against a minimum of 40.
    let (plan, s) = closed_run(50, ms(1200), ms(500), 40.0);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MinRps);
    assert!(!has(&lines, "against a minimum"), "{lines:#?}");
    let little = lines
        .iter()
        .find(|l| l.contains("measured mean latency"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(
        little,
        "at the measured mean latency of 1.2 s the 50 users can make at most 29.4 req/s (50 / \
         (1.2 s + 500 ms think time)); 40 req/s needs a mean latency under 750 ms: the shortfall \
         is the service's latency"
    );
    assert_eq!(lines.last().unwrap(), Hint::LowThroughput.line());
}

#[test]
fn low_throughput_blamed_on_the_profile_when_even_an_instant_server_cannot_help() {
    // 50 users thinking 1–2 s (mean 1.5 s) cannot make 40 req/s: at most 33.
    let mut plan = with_level(
        plan(vec![vec![]], 50, (ms(1000), ms(2000))),
        Some(40.0),
        None,
    );
    plan.profile.name = "medium".into();
    plan.level.as_mut().unwrap().name = "medium".into();
    let reqs = steady(30, 32, |s, i| ok(at(s, i, 32), 0, ms(10)));
    let s = summarise(1, 30, 50, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MinRps);
    assert!(
        has(
            &lines,
            "this profile cannot reach 40 req/s even against an instant server: at most 33.3 req/s \
             with 50 users and 1.5 s mean think time (users ÷ think time); raise users or lower \
             think_time"
        ),
        "{lines:#?}"
    );
    assert!(
        !has(&lines, "hint"),
        "a config mistake gets no service hint: {lines:#?}"
    );
    assert_eq!(
        capacity_warning(&plan).as_deref(),
        Some(
            "profile `medium` cannot reach level `medium`'s min_rps of 40 req/s even against an \
             instant server: 50 users with a mean think time of 1.5 s make at most 33.3 req/s \
             (users ÷ think time, Little's law); raise users to at least 60 or lower think_time \
             to at most 1.25 s"
        )
    );
}

#[test]
fn low_throughput_from_timeouts_is_blamed_on_errors() {
    // 10 users, no think time, 1 s timeout; 80 % of requests time out: the time went there.
    let reqs = steady(30, 4, |s, i| {
        if i == 0 {
            ok(at(s, i, 4), 0, ms(50))
        } else {
            failed(at(s, i, 4), 0, ms(1000), FailureKind::Timeout)
        }
    });
    let plan = with_level(plan(vec![vec![]], 4, (ms(0), ms(0))), Some(10.0), None);
    let s = summarise(1, 30, 4, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MinRps);
    assert!(
        has(&lines, "90 timeouts of 1 s each make") && has(&lines, "the service's errors"),
        "{lines:#?}"
    );
    assert_eq!(lines.last().unwrap(), Hint::Timeouts.line());
}

#[test]
fn no_throughput_line_for_other_checks() {
    let (plan, s) = closed_run(10, ms(100), ms(400), 10.0);
    let plan = {
        let mut p2 = plan;
        p2.endpoints[0].budgets = vec![budget(p(0.5), ms(50))];
        p2
    };
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.5)),
    );
    assert!(!has(&lines, "mean latency of"), "{lines:#?}");
}

#[test]
fn capacity_warning_only_when_the_profile_cannot_reach_its_level() {
    let base = plan(vec![vec![]], 50, (ms(200), ms(800)));
    // No level, or a level without min_rps: nothing to reach.
    assert_eq!(capacity_warning(&base), None);
    assert_eq!(
        capacity_warning(&with_level(base.clone(), None, Some(0.01))),
        None
    );
    // 50 / 0.5 s = 100 req/s: reaches 40 and exactly 100, not 101.
    assert_eq!(
        capacity_warning(&with_level(base.clone(), Some(40.0), None)),
        None
    );
    assert_eq!(
        capacity_warning(&with_level(base.clone(), Some(100.0), None)),
        None
    );
    let w = capacity_warning(&with_level(base.clone(), Some(101.0), None)).unwrap();
    assert!(w.contains("at most 100 req/s"), "{w}");
    // No think time: only the service bounds the rate, never warn.
    let no_think = plan(vec![vec![]], 1, (ms(0), ms(0)));
    assert_eq!(
        capacity_warning(&with_level(no_think, Some(1e6), None)),
        None
    );
}

#[test]
fn hint_selection_table() {
    let e = Evidence::default;
    let fail = |kind| Evidence {
        failure: Some(kind),
        ..e()
    };
    let cases: Vec<(&str, Evidence, Option<Hint>)> = vec![
        ("nothing to go on", e(), None),
        (
            "reset",
            fail(FailureKind::Reset),
            Some(Hint::ConnectionLimits),
        ),
        (
            "closed early",
            fail(FailureKind::Closed),
            Some(Hint::ConnectionLimits),
        ),
        (
            "refused",
            fail(FailureKind::ConnectRefused),
            Some(Hint::ConnectionLimits),
        ),
        ("timeout", fail(FailureKind::Timeout), Some(Hint::Timeouts)),
        (
            "503",
            fail(FailureKind::Status(503)),
            Some(Hint::RateLimited),
        ),
        (
            "429",
            fail(FailureKind::Status(429)),
            Some(Hint::RateLimited),
        ),
        (
            "500",
            fail(FailureKind::Status(500)),
            Some(Hint::ServerErrors),
        ),
        (
            "502",
            fail(FailureKind::Status(502)),
            Some(Hint::ServerErrors),
        ),
        (
            "404: the request is wrong, the guide has no row",
            fail(FailureKind::Status(404)),
            None,
        ),
        (
            "slagate's own machine",
            fail(FailureKind::LocalResource),
            None,
        ),
        (
            "climbing at constant load",
            Evidence {
                latency_rising: true,
                latency_over_budget: true,
                ..e()
            },
            Some(Hint::Saturation),
        ),
        (
            "failures outrank a climb",
            Evidence {
                failure: Some(FailureKind::Timeout),
                latency_rising: true,
                ..e()
            },
            Some(Hint::Timeouts),
        ),
        (
            "latency-bound throughput",
            Evidence {
                latency_bound_throughput: true,
                ..e()
            },
            Some(Hint::LowThroughput),
        ),
        (
            "plain slowness",
            Evidence {
                latency_over_budget: true,
                ..e()
            },
            Some(Hint::HighResponseTimes),
        ),
        (
            "a profile that cannot reach its level is a config mistake",
            Evidence {
                profile_shape: true,
                latency_bound_throughput: true,
                ..e()
            },
            None,
        ),
    ];
    for (name, evidence, expected) in cases {
        assert_eq!(pick_hint(&evidence), expected, "{name}");
    }
}

#[test]
fn hints_quote_the_guide() {
    // Each hint names its Troubleshooting heading and uses the guide's own solution wording.
    let guide = [
        (
            Hint::ConnectionLimits,
            "High Error Rate",
            "increase connection limits",
        ),
        (Hint::Timeouts, "High Error Rate", "optimize slow endpoints"),
        (Hint::RateLimited, "High Error Rate", "rate limiting"),
        (Hint::ServerErrors, "High Error Rate", "add error handling"),
        (Hint::Saturation, "High Response Times", "add caching"),
        (
            Hint::LowThroughput,
            "Low Throughput",
            "add connection pooling",
        ),
        (
            Hint::HighResponseTimes,
            "High Response Times",
            "scale horizontally",
        ),
    ];
    for (hint, heading, words) in guide {
        let line = hint.line();
        assert!(line.starts_with("hint (guide, "), "{line}");
        assert!(line.contains(heading) && line.contains(words), "{line}");
    }
}

#[test]
fn a_timeout_heavy_latency_breach_is_put_on_the_timeouts() {
    // p95 breaks because 10 % of requests time out at 1 s, not because responses are slow.
    let reqs = steady(30, 10, |s, i| {
        if i == 0 {
            failed(at(s, i, 10), 0, ms(1000), FailureKind::Timeout)
        } else {
            ok(at(s, i, 10), 0, ms(20))
        }
    });
    let plan = plan(vec![vec![budget(p(0.95), ms(500))]], 10, (ms(0), ms(0)));
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.95)),
    );
    assert!(has(&lines, "30 × timeout"), "{lines:#?}");
    assert_eq!(lines.last().unwrap(), Hint::Timeouts.line());
}

#[test]
fn fast_failures_do_not_explain_a_latency_breach() {
    // Slow successes and a few fast 503s: the hint is about slowness, not rate limiting.
    let reqs = steady(30, 10, |s, i| {
        if i == 0 {
            failed(at(s, i, 10), 0, ms(1), FailureKind::Status(503))
        } else {
            ok(at(s, i, 10), 0, ms(300))
        }
    });
    let plan = plan(vec![vec![budget(p(0.5), ms(100))]], 10, (ms(0), ms(0)));
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.5)),
    );
    assert!(
        has(&lines, "30 × HTTP 503"),
        "the kinds are still listed: {lines:#?}"
    );
    assert_eq!(lines.last().unwrap(), Hint::HighResponseTimes.line());
}

#[test]
fn an_empty_window_or_unknown_subject_explains_nothing_rather_than_panicking() {
    let plan = plan(vec![vec![budget(p(0.5), ms(100))]], 1, (ms(0), ms(0)));
    let s = summarise(1, 5, 1, Vec::new());
    let v = judge(&plan, &s);
    for c in &v.checks {
        let _ = explain(&plan, &s, c);
    }
    let mut stray = v.checks[0].clone();
    stray.subject = Subject::Endpoint(9);
    assert!(explain(&plan, &s, &stray).is_empty());
}

#[test]
fn a_rising_error_rate_is_reported_and_two_stray_failures_are_not() {
    // 30 s at 20 req/s: no failures in the first 10 s, 1 in 4 from 0:10 on (a steady fault that
    // started, not a burst: it lasts two thirds of the window).
    let reqs = steady(30, 20, |s, i| {
        if s >= 10 && i % 4 == 0 {
            failed(at(s, i, 20), 0, ms(5), FailureKind::Status(500))
        } else {
            ok(at(s, i, 20), 0, ms(5))
        }
    });
    let level = with_level(plan(vec![vec![]], 10, (ms(0), ms(0))), None, Some(0.01));
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(&level, &s, Subject::All, CheckMetric::MaxErrorRate);
    assert!(
        has(
            &lines,
            "the error rate rose from 0% in the first third of the window to 25% in the last, \
             while load was constant (10 users, 20 → 20 req/s)"
        ),
        "{lines:#?}"
    );
    assert!(!has(&lines, "of errors from"), "{lines:#?}");

    // Two failures in 600 requests, both late: neither a rise, a burst nor a pattern by third;
    // only when they came, called isolated.
    let reqs = steady(30, 20, |s, i| {
        if (s, i) == (25, 0) || (s, i) == (27, 0) {
            failed(at(s, i, 20), 0, ms(5), FailureKind::Status(500))
        } else {
            ok(at(s, i, 20), 0, ms(5))
        }
    });
    let strict = with_level(plan(vec![vec![]], 10, (ms(0), ms(0))), None, Some(0.0));
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(&strict, &s, Subject::All, CheckMetric::MaxErrorRate);
    assert!(
        !has(&lines, "rose") && !has(&lines, "of errors from") && !has(&lines, "gathered"),
        "{lines:#?}"
    );
    assert!(
        has(
            &lines,
            "the 2 failures came at 0:25 (last third) and 0:27 (last third): too few to show a \
             trend, isolated rather than a climb"
        ),
        "{lines:#?}"
    );
    assert!(has(
        &lines,
        "2 × HTTP 500 Internal Server Error, first at 0:25, last at 0:27"
    ));
}

#[test]
fn the_last_second_user_count_is_not_taken_for_a_drop_in_load() {
    // Users leave as the run ends, so the count sampled at the end of the last second is low;
    // that is not load falling.
    let reqs = steady(30, 20, |s, i| {
        ok(at(s, i, 20), 0, ms(20 + (s * 20 + i) * 300 / 600))
    });
    let mut rec = record(1, secs(30), reqs, false);
    for s in 0..30 {
        rec.set_users(s, if s == 29 { 3 } else { 10 });
    }
    let s = Summary::new(&rec, 0);
    let plan = plan(vec![vec![budget(p(0.95), ms(150))]], 10, (ms(0), ms(0)));
    let lines = lines_for(
        &plan,
        &s,
        Subject::Endpoint(0),
        CheckMetric::Latency(p(0.95)),
    );
    assert!(
        has(
            &lines,
            "while load was constant (10 users, 20 → 20 req/s): saturation"
        ),
        "{lines:#?}"
    );
}

#[test]
fn a_few_slow_requests_are_placed_in_time_by_third() {
    // 60 s at 5 req/s, p99 breaks, far too few samples per third to compare p99s: the line
    // counts the slow requests by third instead. `slow_at`: the seconds whose first request
    // takes 2.5 s; `late`: requests still in flight when the run ended.
    let plan = plan(vec![vec![budget(p(0.99), ms(2000))]], 2, (ms(0), ms(0)));
    let explained = |slow_at: &[u64], late: Vec<Req>| {
        let mut reqs = steady(60, 5, |s, i| {
            let slow = i == 0 && slow_at.contains(&s);
            ok(at(s, i, 5), 0, if slow { ms(2500) } else { ms(100) })
        });
        reqs.extend(late);
        let s = summarise(1, 60, 2, reqs);
        let p99 = CheckMetric::Latency(p(0.99));
        lines_for(&plan, &s, Subject::Endpoint(0), p99)
    };

    let lines = explained(&[5, 25, 45], vec![]);
    assert_eq!(
        lines[1],
        "the 3 requests of 2 s or longer came 1, 1 and 1 in the first, middle and last thirds of \
         the window: spread through the run rather than gathered in one part"
    );

    // The same, but 8 slow requests of which 7 in the last 20 s: they gathered late.
    let lines = explained(&[5, 41, 44, 47, 50, 53, 56, 59], vec![]);
    assert_eq!(
        lines[1],
        "7 of the 8 requests of 2 s or longer came in the last third of the window (1, 0 and 7 \
         by third): they gathered late"
    );
    // Gathering late among the same users reads as a climb.
    assert_eq!(lines.last().unwrap(), Hint::Saturation.line());

    // A slow request still in flight when the run ended counts in the last third, so the
    // counts add up to the measured line's.
    let lines = explained(&[5, 25, 45], vec![ok(61_000, 0, ms(2900))]);
    assert!(
        lines[0].starts_with("slowest of /e0: 2.9 s at 1:00"),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("the 4 requests of 2 s or longer came 1, 1 and 2 in the first"),
        "{lines:#?}"
    );

    // Two slow requests: no pattern by third, but each is placed in time.
    let lines = explained(&[5, 45], vec![]);
    assert!(
        !has(&lines, "gathered") && !has(&lines, "1, 0 and 1"),
        "{lines:#?}"
    );
    assert!(
        has(
            &lines,
            "the 2 requests of 2 s or longer came at 0:05 (first third) and 0:45 (last third)"
        ),
        "{lines:#?}"
    );
}

#[test]
fn fast_failures_are_not_counted_as_throughput_served() {
    // 50 users, 0.5 s think; 4 in 5 requests take 1.5 s, 1 in 5 fails fast: mean ≈ 1.2 s.
    let reqs = steady(30, 29, |s, i| {
        if i % 5 == 0 {
            failed(at(s, i, 29), 0, ms(1), FailureKind::Status(503))
        } else {
            ok(at(s, i, 29), 0, ms(1500))
        }
    });
    let plan = with_level(plan(vec![vec![]], 50, (ms(500), ms(500))), Some(40.0), None);
    let s = summarise(1, 30, 50, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MinRps);
    let little = lines
        .iter()
        .find(|l| l.contains("measured mean latency"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        little.ends_with(
            "the shortfall is the service's latency (20.7% of the requests failed: only 23 req/s \
             succeeded)"
        ),
        "{little}"
    );
    assert_eq!(lines.last().unwrap(), Hint::LowThroughput.line());
}

#[test]
fn a_rate_below_what_the_users_could_make_names_why() {
    // 10 users, 100 ms responses, 0.5 s think: up to 16.7 req/s; min 15; only 8 made.
    let reqs = steady(30, 8, |s, i| ok(at(s, i, 8), 0, ms(100)));
    let plan = with_level(plan(vec![vec![]], 10, (ms(500), ms(500))), Some(15.0), None);
    // Half the users were running.
    let s = summarise(1, 30, 5, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MinRps);
    assert!(
        has(
            &lines,
            "at the measured mean latency of 100 ms the 10 users could make up to 16.7 req/s (10 / \
             (100 ms + 500 ms think time)), yet made 8: only 5 of the 10 users were running on \
             average"
        ),
        "{lines:#?}"
    );
    assert!(!has(&lines, "hint"), "not the service's doing: {lines:#?}");

    // All users running, but connections were refused: the time went into failed connects.
    let reqs = steady(30, 8, |s, i| {
        if i % 4 == 0 {
            failed(at(s, i, 8), 0, ms(1), FailureKind::ConnectRefused)
        } else {
            ok(at(s, i, 8), 0, ms(100))
        }
    });
    let s = summarise(1, 30, 10, reqs);
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::MinRps);
    assert!(
        has(
            &lines,
            "yet made 8: 25% of the requests failed (connection refused)"
        ),
        "{lines:#?}"
    );
    assert_eq!(lines.last().unwrap(), Hint::ConnectionLimits.line());
}

#[test]
fn an_aborted_run_is_explained_by_its_burst_kind_and_hint() {
    // Planned 30 s; from 0:10 every connection is reset; abort_when stopped the run at 0:20.
    let reqs = steady(20, 20, |s, i| {
        if s >= 10 {
            failed(at(s, i, 20), 0, ms(1), FailureKind::Reset)
        } else {
            ok(at(s, i, 20), 0, ms(10))
        }
    });
    let mut rec = record(1, secs(30), reqs, false);
    for s in 0..20 {
        rec.set_users(s, 10);
    }
    rec.stopped_at = Duration::from_secs(20);
    rec.aborted = Some(crate::stats::Abort {
        at: Duration::from_secs(20),
        reason: "error rate 100% over the last 10 s (≥ 50%)".into(),
    });
    let s = Summary::new(&rec, 0);
    let plan = plan(vec![vec![]], 10, (ms(0), ms(0)));
    let lines = lines_for(&plan, &s, Subject::All, CheckMetric::Abort);
    assert_eq!(
        lines,
        [
            "10 s of errors from 0:10 (0:10–0:19): 200 × connection reset, 100% of the 200 \
             requests to all endpoints in those seconds",
            "200 × connection reset, first at 0:10, last at 0:19",
            Hint::ConnectionLimits.line(),
        ],
        "{lines:#?}"
    );
}
