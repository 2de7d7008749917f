//! Hand-built, deterministic `RunReport`s for the reporters' tests (shared by every format:
//! keep additions additive). No clock, no randomness: the same bytes every run, so snapshots
//! are stable.
//!
//! `sample_run()`: profile `medium`, 10 users, a 12-second timeline whose window is 2 s–12 s,
//! three endpoints with real histograms:
//! - `GET /health/`: fast (1–9 ms), no failures; every check passes;
//! - `GET /orders/{id}`: slow with a tail above 400 ms, so its `p99 < 400 ms` fails;
//! - `POST /checkout`: 12 × HTTP 503 (example text with `<script>alert(1)</script>` and a
//!   `"quoted, comma"`) and 2 timeouts, which make the level's max error rate fail.
//!
//! Every percentile check carries its real 95 % confidence interval; `/health/ p99.9` (400
//! samples, 2 995 needed) is therefore INCONCLUSIVE. The two failing checks carry explanation
//! lines (one with the hostile 503 text).
//!
//! `empty_run()`: the same configuration where no request completed (empty histograms, zero
//! rates, failing checks without measurements).
//!
//! Variants for issue 4's findings, made by editing the sample's verdict (their figures are
//! not re-derived from the data; renderers only need them to be shown):
//! - `honest_run()`: also a marginal pass, a check failed only in one window, and an `abort`
//!   check;
//! - `inconclusive_run(strict)`: the failing checks passed, so the run is INCONCLUSIVE;
//! - `invalid_run()`: two invalidity causes, so the run is INVALID.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use super::{EndpointReport, ProfileInfo, Provenance, RunOutcome, RunReport};
use crate::plan::{Location, Metric, Quantile, ThinkTime};
use crate::stats::{
    EndpointStats, FailureExample, FailureKind, KindStats, SecondStats, TimelinePoint, Window,
    new_histogram,
};
use crate::verdict::confidence;
use crate::verdict::{
    Check, CheckMetric, Invalidity, Needs, Status, Subject, Value, Verdict, WindowBreach, Windowed,
    fmt_duration, fmt_estimate, needs_text,
};

/// 2026-11-29T10:56:52Z: fixed so timestamps in snapshots never move.
pub const STARTED_AT_SECS: u64 = 1_795_949_812;

/// The example text of the sample's HTTP 503s: hostile on purpose (markup, quotes, a comma).
pub const HOSTILE_503: &str = "HTTP/1.1 503 Service Unavailable: \
     <script>alert(1)</script> \"quoted, comma\"";

const SECONDS: u32 = 12;
const WINDOW_START: u32 = 2;

/// Tiny deterministic generator (an LCG) so the sample needs no `rand` seed plumbing.
struct Lcg(u64);

impl Lcg {
    fn next_unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Microseconds uniformly in [lo_ms, hi_ms).
    fn between_ms(&mut self, lo_ms: f64, hi_ms: f64) -> u64 {
        ((lo_ms + (hi_ms - lo_ms) * self.next_unit()) * 1000.0) as u64
    }
}

fn loc(line: u32, column: u32) -> Option<Location> {
    Some(Location {
        file: PathBuf::from("sla.toml"),
        line,
        column,
    })
}

fn pct(q: f64) -> Metric {
    Metric::Percentile(Quantile::new(q).expect("valid quantile"))
}

fn profile() -> ProfileInfo {
    ProfileInfo {
        name: "medium".into(),
        description: "Weekday peak: 10 users browsing and checking out".into(),
        users: 10,
        spawn_rate: 5.0,
        run_time: Duration::from_secs(u64::from(SECONDS)),
        think_time: ThinkTime {
            min: Duration::from_millis(500),
            max: Duration::from_millis(1500),
        },
        level: Some("medium".into()),
    }
}

fn provenance() -> Provenance {
    Provenance {
        sla_file: "sla.toml".into(),
        sla_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        profile_file: "profiles/medium.toml".into(),
        profile_sha256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752".into(),
        git_commit: Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".into()),
        machine: Some("ci-runner (2 cores, linux x86_64)".into()),
    }
}

const NAMES: [(&str, &str); 3] = [
    ("GET", "/health/"),
    ("GET", "/orders/{id}"),
    ("POST", "/checkout"),
];

/// Requests completed per second by each endpoint once all users run (half during ramp-up).
const PER_SECOND: [u64; 3] = [40, 20, 10];

fn latency_us(endpoint: usize, rng: &mut Lcg, k: u64) -> u64 {
    match endpoint {
        0 => rng.between_ms(1.0, 9.0),
        // One request in 25 lands in a 420–700 ms tail: p99 above a 400 ms budget.
        1 if k % 25 == 7 => rng.between_ms(420.0, 700.0),
        1 => rng.between_ms(80.0, 300.0),
        _ => rng.between_ms(30.0, 200.0),
    }
}

/// The failure (if any) of the `i`-th request of second `s` of endpoint `e`: 4 × 503 in each
/// of seconds 5–7, 2 timeouts in second 9, all on /checkout.
fn failure(e: usize, s: u32, i: u64) -> Option<FailureKind> {
    match (e, s, i) {
        (2, 5..=7, 0..4) => Some(FailureKind::Status(503)),
        (2, 9, 0..2) => Some(FailureKind::Timeout),
        _ => None,
    }
}

fn add_kind(st: &mut EndpointStats, kind: FailureKind, second: Duration, ex: &FailureExample) {
    match st.failures_by_kind.iter_mut().find(|k| k.kind == kind) {
        Some(k) => {
            k.count += 1;
            k.last_seen = second;
        }
        None => st.failures_by_kind.push(KindStats {
            kind,
            count: 1,
            first_seen: second,
            last_seen: second,
            example: Some(ex.clone()),
        }),
    }
}

fn checks(endpoints: &[EndpointReport], total: &EndpointStats, window: Duration) -> Vec<Check> {
    let mut checks = Vec::new();
    let budgets: [&[(Metric, u64, u32)]; 3] = [
        &[
            (pct(0.95), 20, 9),
            (pct(0.99), 50, 10),
            (pct(0.999), 100, 11),
        ],
        &[(pct(0.95), 500, 17), (pct(0.99), 400, 18)],
        &[(pct(0.95), 300, 25), (Metric::Max, 3000, 26)],
    ];
    for (i, (ep, budgets)) in endpoints.iter().zip(budgets).enumerate() {
        let st = &ep.stats;
        for &(metric, limit_ms, line) in budgets {
            let limit = Duration::from_millis(limit_ms);
            let m = match metric {
                Metric::Max => st.max(),
                Metric::Percentile(q) => st.quantile(q.get()),
            };
            let interval = match metric {
                Metric::Max => None,
                Metric::Percentile(q) => confidence::interval(&st.latency, q.get()),
            };
            let mut needs = None;
            let mut marginal = false;
            let (status, headroom, diagnostic) = match m {
                None => (
                    Status::Fail,
                    None,
                    format!(
                        "no response times were measured (0 requests in the window), so \
                         {metric} < {} cannot be shown to hold",
                        fmt_duration(limit)
                    ),
                ),
                Some(m) => {
                    let h = 1.0 - m.as_secs_f64() / limit.as_secs_f64();
                    if m < limit && interval.is_none() && metric != Metric::Max {
                        let n =
                            Needs::at_rate(confidence::samples_needed(metric.quantile()), st.rps);
                        needs = Some(n);
                        (
                            Status::Inconclusive,
                            Some(h),
                            format!(
                                "{metric} was {} against a budget of < {}, but {} samples \
                                 cannot bound a {metric} at 95% confidence: {}.",
                                fmt_duration(m),
                                fmt_duration(limit),
                                st.latency.len(),
                                needs_text(&n)
                            ),
                        )
                    } else if m < limit {
                        marginal = interval.is_some_and(|i| i.high >= limit);
                        let diagnostic = if marginal {
                            format!(
                                "{metric} was {} against a budget of < {}: within it, but the \
                                 budget lies inside the 95% confidence interval, so a longer run \
                                 could go either way.",
                                fmt_estimate(m, interval),
                                fmt_duration(limit)
                            )
                        } else {
                            String::new()
                        };
                        (Status::Pass, Some(h), diagnostic)
                    } else {
                        (
                            Status::Fail,
                            Some(h),
                            format!(
                                "{metric} was {} against a budget of < {}; {} of {} requests \
                                 took {} or longer.",
                                fmt_duration(m),
                                fmt_duration(limit),
                                st.count_at_or_above(limit),
                                st.latency.len(),
                                fmt_duration(limit),
                            ),
                        )
                    }
                }
            };
            let explanation = if status == Status::Fail && m.is_some() {
                vec![
                    "the slowest requests came at 0:03, 0:07 and 0:11: spread through the \
                     window, not a burst"
                        .to_string(),
                    "hint: a slow tail on one endpoint is often one slow dependency; profile \
                     its slowest requests"
                        .to_string(),
                ]
            } else {
                Vec::new()
            };
            checks.push(Check {
                subject: Subject::Endpoint(i),
                metric: CheckMetric::Latency(metric),
                budget: Value::Latency(limit),
                measured: m.map(Value::Latency),
                interval,
                headroom,
                samples: st.latency.len(),
                status,
                marginal,
                needs,
                windows: None,
                diagnostic,
                explanation,
                location: loc(line, 1),
            });
        }
        let ok = st.successes();
        checks.push(Check {
            subject: Subject::Endpoint(i),
            metric: CheckMetric::Coverage,
            budget: Value::Count(1),
            measured: Some(Value::Count(ok)),
            interval: None,
            headroom: None,
            samples: st.requests,
            marginal: false,
            needs: None,
            windows: None,
            explanation: Vec::new(),
            status: if ok >= 1 { Status::Pass } else { Status::Fail },
            diagnostic: if ok >= 1 {
                String::new()
            } else {
                format!("{} received no requests in the measured window", ep.name)
            },
            location: loc(8 + 8 * i as u32, 1),
        });
    }

    let min_rps = 40.0;
    let (rps_measured, rps_headroom, rps_status, rps_diag) = if window.is_zero() || total.rps == 0.0
    {
        (
            None,
            None,
            Status::Fail,
            "the measured window is empty".to_string(),
        )
    } else {
        let h = total.rps / min_rps - 1.0;
        let pass = total.rps >= min_rps;
        (
            Some(Value::Rate(total.rps)),
            Some(h),
            if pass { Status::Pass } else { Status::Fail },
            if pass {
                String::new()
            } else {
                format!("{:.1} requests/s against a minimum of {min_rps}", total.rps)
            },
        )
    };
    checks.push(Check {
        subject: Subject::All,
        metric: CheckMetric::MinRps,
        budget: Value::Rate(min_rps),
        measured: rps_measured,
        interval: None,
        headroom: rps_headroom,
        samples: total.requests,
        status: rps_status,
        marginal: false,
        needs: None,
        windows: None,
        diagnostic: rps_diag,
        explanation: Vec::new(),
        location: loc(40, 11),
    });

    let max = 0.005;
    let measured = (total.requests > 0).then(|| total.error_rate());
    let (status, diagnostic) = match measured {
        None => (
            Status::Fail,
            "no requests completed in the measured window, so the error rate cannot be shown \
             to hold"
                .to_string(),
        ),
        Some(m) if m <= max => (Status::Pass, String::new()),
        Some(_) => (
            Status::Fail,
            format!(
                "{} of {} requests failed against a maximum of 0.5%. /checkout: 12 × HTTP 503 \
                 Service Unavailable, 2 × timeout. Example at 0:05: {HOSTILE_503}",
                total.failures, total.requests
            ),
        ),
    };
    let explanation = if status == Status::Fail && measured.is_some() {
        vec![
            "3 s of errors from 0:05: 12 × HTTP 503 Service Unavailable on /checkout".to_string(),
            format!("HTTP 503 Service Unavailable × 12, first 0:05, last 0:07: {HOSTILE_503}"),
        ]
    } else {
        Vec::new()
    };
    checks.push(Check {
        subject: Subject::All,
        metric: CheckMetric::MaxErrorRate,
        budget: Value::Fraction(max),
        measured: measured.map(Value::Fraction),
        interval: None,
        headroom: measured.map(|m| 1.0 - m / max),
        samples: total.requests,
        status,
        marginal: false,
        needs: None,
        windows: None,
        diagnostic,
        explanation,
        location: loc(41, 18),
    });
    checks
}

fn build(with_requests: bool) -> RunReport {
    let mut rng = Lcg(0x5eed_51a6_a7e0_0001);
    let started_at = UNIX_EPOCH + Duration::from_secs(STARTED_AT_SECS);
    let window = Window {
        start: Duration::from_secs(u64::from(WINDOW_START)),
        end: Duration::from_secs(u64::from(SECONDS)),
    };
    let mut stats: Vec<EndpointStats> = (0..3).map(|_| EndpointStats::empty()).collect();
    let mut timeline = Vec::new();
    let mut counters = [0u64; 3];
    let mut second_hist = new_histogram();
    let mut second_total = new_histogram();
    for s in 0..SECONDS {
        let users = (5 * (s + 1)).min(10);
        let second = Duration::from_secs(u64::from(s));
        second_total.reset();
        let mut points = Vec::new();
        for (e, st) in stats.iter_mut().enumerate() {
            second_hist.reset();
            let n = if !with_requests {
                0
            } else if s < WINDOW_START {
                PER_SECOND[e] / 2
            } else {
                PER_SECOND[e]
            };
            let mut fails = 0;
            let mut second_bytes = 0;
            for i in 0..n {
                let kind = failure(e, s, i);
                let us = match kind {
                    // A timeout is recorded at the per-request timeout.
                    Some(FailureKind::Timeout) => 2_000_000,
                    _ => latency_us(e, &mut rng, counters[e]),
                };
                counters[e] += 1;
                second_hist.saturating_record(us);
                second_total.saturating_record(us);
                if kind.is_some() {
                    fails += 1;
                }
                let size = match e {
                    0 => 17,
                    1 => 1_234,
                    _ => 96,
                };
                second_bytes += size;
                if s < WINDOW_START {
                    continue;
                }
                st.latency.saturating_record(us);
                st.requests += 1;
                st.body_bytes += size;
                if let Some(kind) = kind {
                    st.failures += 1;
                    let ex = FailureExample {
                        kind,
                        at: second + Duration::from_millis(200 + 10 * i),
                        text: match kind {
                            FailureKind::Status(_) => HOSTILE_503.to_string(),
                            _ => "no complete response within 2 s".to_string(),
                        },
                    };
                    add_kind(st, kind, second, &ex);
                }
            }
            points.push(SecondStats::new(&second_hist, n, fails, second_bytes));
        }
        let requests = points.iter().map(|p| p.requests).sum();
        let failures = points.iter().map(|p| p.failures).sum();
        let bytes = points.iter().map(|p| p.body_bytes).sum();
        timeline.push(TimelinePoint {
            second: s,
            users,
            endpoints: points,
            total: SecondStats::new(&second_total, requests, failures, bytes),
        });
    }
    let secs = window.length().as_secs_f64();
    let mut total = EndpointStats::empty();
    for st in &mut stats {
        st.rps = st.requests as f64 / secs;
        st.failures_per_s = st.failures as f64 / secs;
        st.failures_by_kind
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
        total.requests += st.requests;
        total.failures += st.failures;
        total.body_bytes += st.body_bytes;
        total.latency.add(&st.latency).expect("same bounds");
        total
            .failures_by_kind
            .extend(st.failures_by_kind.iter().cloned());
    }
    total.rps = total.requests as f64 / secs;
    total.failures_per_s = total.failures as f64 / secs;

    let endpoints: Vec<EndpointReport> = NAMES
        .iter()
        .zip(stats)
        .map(|(&(method, name), stats)| EndpointReport {
            name: name.into(),
            method: method.into(),
            stats,
        })
        .collect();
    let verdict = Verdict {
        checks: checks(&endpoints, &total, window.length()),
        invalid: Vec::new(),
    };
    let outcome = RunOutcome::of(&verdict, false);
    RunReport {
        slagate_version: "0.1.0".into(),
        profile: profile(),
        target: "http://127.0.0.1:8080/".into(),
        provenance: provenance(),
        started_at,
        finished_at: started_at + Duration::from_millis(12_340),
        window,
        endpoints,
        total,
        timeline,
        verdict,
        outcome,
        strict: false,
    }
}

/// The realistic run: three endpoints, passing and failing checks, hostile failure text.
pub fn sample_run() -> RunReport {
    build(true)
}

/// A run in which nothing completed: empty histograms, zero rates, no measurements.
pub fn empty_run() -> RunReport {
    build(false)
}

fn check_mut<'a>(run: &'a mut RunReport, who: &str, metric: &str) -> &'a mut Check {
    let i = run
        .verdict
        .checks
        .iter()
        .position(|c| {
            let name = match c.subject {
                Subject::Endpoint(i) => NAMES[i].1,
                Subject::All => "all endpoints",
            };
            name == who && c.metric.to_string() == metric
        })
        .unwrap_or_else(|| panic!("no check {who} {metric}"));
    &mut run.verdict.checks[i]
}

/// The sample, plus a marginal pass (`/health/ p95`), a check that failed only in one 5 s
/// window (`/checkout p95`), the error rate judged per window too, and an `abort` check.
pub fn honest_run() -> RunReport {
    let mut run = sample_run();
    let five = Duration::from_secs(5);
    let c = check_mut(&mut run, "/health/", "p95");
    c.marginal = true;
    c.interval = Some(crate::verdict::Interval {
        low: Duration::from_micros(8_100),
        high: Duration::from_micros(20_400),
    });
    c.diagnostic = "p95 was 8.6 ms [8.1, 20.4] against a budget of < 20 ms: within it, but the \
                    budget lies inside the 95% confidence interval, so a longer run could go \
                    either way."
        .into();
    c.explanation = vec!["the five slowest requests all came in the last second".into()];
    let c = check_mut(&mut run, "/checkout", "p95");
    let worst = WindowBreach {
        start: Duration::from_secs(7),
        end: Duration::from_secs(12),
        measured: Value::Latency(Duration::from_millis(341)),
        samples: 50,
    };
    c.windows = Some(Windowed {
        length: five,
        judged: 2,
        breached: 1,
        worst: Some(worst),
        decisive: true,
    });
    c.status = Status::Fail;
    c.marginal = false;
    c.diagnostic = "p95 was 341 ms in window 0:07–0:12 (50 requests) against a budget of < 300 \
                    ms, though 190 ms over the whole measured window; over the limit in 1 of 2 \
                    windows of 5 s."
        .into();
    c.explanation = vec!["p95 rose from 160 ms to 341 ms while load was constant".into()];
    let c = check_mut(&mut run, "all endpoints", "max_error_rate");
    c.windows = Some(Windowed {
        length: five,
        judged: 2,
        breached: 1,
        worst: Some(WindowBreach {
            start: Duration::from_secs(2),
            end: Duration::from_secs(7),
            measured: Value::Fraction(12.0 / 350.0),
            samples: 350,
        }),
        decisive: false,
    });
    run.verdict.checks.push(Check {
        subject: Subject::All,
        metric: CheckMetric::Abort,
        budget: Value::Offset(Duration::from_secs(12)),
        measured: Some(Value::Offset(Duration::from_secs(10))),
        interval: None,
        headroom: None,
        samples: run.total.requests,
        status: Status::Fail,
        marginal: false,
        needs: None,
        windows: None,
        diagnostic: "error rate 62% over the last 2 s (≥ 50%): abort_when stopped the run at \
                     0:10 of its 0:12; everything measured until then is reported."
            .into(),
        explanation: Vec::new(),
        location: loc(44, 14),
    });
    run.outcome = RunOutcome::of(&run.verdict, false);
    run
}

/// The sample with its two failing checks passing: only `/health/ p99.9` is left undecided.
pub fn inconclusive_run(strict: bool) -> RunReport {
    let mut run = sample_run();
    for c in &mut run.verdict.checks {
        if c.status == Status::Fail {
            c.status = Status::Pass;
            c.headroom = Some(0.1);
            c.diagnostic.clear();
            c.explanation.clear();
        }
    }
    run.strict = strict;
    run.outcome = RunOutcome::of(&run.verdict, false);
    run
}

/// The sample, invalid: slagate's own CPU saturated and its think-time wake-ups were late.
pub fn invalid_run() -> RunReport {
    let mut run = sample_run();
    run.verdict.invalid = vec![
        Invalidity {
            cause: "cpu",
            figure: "98% of 2 cores for 6 s".into(),
            message: "slagate's own CPU was saturated (98% of 2 cores for 6 s of the measured \
                      window); the load was not delivered and the service was not at fault"
                .into(),
        },
        Invalidity {
            cause: "wake",
            figure: "p99 wake-up 140 ms late (tolerance 100 ms)".into(),
            message: "think-time wake-ups were 140 ms late at p99; the load was not delivered \
                      and the service was not at fault"
                .into(),
        },
    ];
    run.outcome = RunOutcome::of(&run.verdict, false);
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_what_its_doc_says() {
        let run = sample_run();
        assert_eq!(run.endpoints.len(), 3);
        assert_eq!(run.timeline.len(), 12);
        assert_eq!(run.outcome, RunOutcome::Fail);
        let failing: Vec<String> = run
            .verdict
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .map(|c| format!("{} {}", run.subject_name(&c.subject), c.metric))
            .collect();
        assert_eq!(
            failing,
            ["/orders/{id} p99", "all endpoints max_error_rate"],
            "exactly the two intended failures"
        );
        let checkout = &run.endpoints[2].stats;
        assert_eq!(checkout.failures, 14);
        assert_eq!(checkout.failures_by_kind[0].count, 12);
        assert!(
            checkout.failures_by_kind[0]
                .example
                .as_ref()
                .unwrap()
                .text
                .contains("<script>")
        );
        assert_eq!(run.total.latency.len(), run.total.requests);
        assert_eq!(
            sample_run().total.latency,
            run.total.latency,
            "deterministic"
        );
    }

    #[test]
    fn empty_run_has_no_samples() {
        let run = empty_run();
        assert_eq!(run.total.requests, 0);
        assert_eq!(run.total.latency.len(), 0);
        assert!(run.timeline.iter().all(|p| p.total.p50_us.is_none()));
        assert!(run.verdict.checks.iter().all(|c| c.status == Status::Fail));
    }
}
