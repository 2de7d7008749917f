//! Deterministic `RunReport`s for the reporters' tests (shared by every format: keep additions
//! additive). The same bytes every run, so snapshots are stable: no randomness, and times are
//! offsets fixed here.
//!
//! The sample is made the way `slagate check` makes a report: its requests are recorded
//! through the engine's `Recorder` into a `Recording`, summarised by `Summary::new` and judged
//! by `verdict::judge` against a `Plan`, then assembled by `RunReport::new`. Its diagnostics and
//! explanations are therefore the judge's own words, and a snapshot changes when they do.
//!
//! `sample_run()`: profile `medium`, 10 users, a 12-second timeline whose window is 2 s–12 s,
//! three endpoints with real histograms:
//! - `GET /health/`: fast (1–9 ms), no failures; every check passes;
//! - `GET /orders/{id}`: slow with a tail above 400 ms, so its `p99 < 400 ms` fails;
//! - `POST /checkout`: 12 × HTTP 503 (example text with `<script>alert(1)</script>` and a
//!   `"quoted, comma"`) and 2 timeouts, which make the level's max error rate fail.
//!
//! Every percentile check carries its real 95 % confidence interval; `/health/ p99.9` (400
//! samples, 2 995 needed) is therefore INCONCLUSIVE, and the `p95`s of `/orders/{id}` and
//! `/checkout` are marginal passes. The failing and marginal checks carry explanation lines
//! (some with the hostile 503 text).
//!
//! `empty_run()`: the same configuration where no request completed (empty histograms, zero
//! rates, failing checks).
//!
//! Variants for issue 4's findings, made by editing the sample's verdict (their figures are
//! not re-derived from the data; renderers only need them to be shown):
//! - `honest_run()`: also a marginal pass, a check failed only in one window, and an `abort`
//!   check;
//! - `inconclusive_run(strict)`: the failing checks passed, so the run is INCONCLUSIVE;
//! - `invalid_run()`: two invalidity causes, so the run is INVALID.

use std::time::{Duration, UNIX_EPOCH};

use http::Method;

use super::{Provenance, RunOutcome, RunReport};
use crate::plan::testing::{PlanBuilder, loc, ms, p, secs};
use crate::plan::{Metric, Plan};
use crate::stats::testing::RecordedRun;
use crate::stats::{FailureKind, Outcome, Recording, Summary};
use crate::verdict::{
    self, Check, CheckMetric, Invalidity, Status, Subject, Value, WindowBreach, Windowed,
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

const NAMES: [(Method, &str); 3] = [
    (Method::GET, "/health/"),
    (Method::GET, "/orders/{id}"),
    (Method::POST, "/checkout"),
];

/// Each endpoint's budgets: (metric, limit in ms, the line of sla.toml it is written on).
fn budgets() -> [Vec<(Metric, u64, u32)>; 3] {
    [
        vec![(p(0.95), 20, 9), (p(0.99), 50, 10), (p(0.999), 100, 11)],
        vec![(p(0.95), 500, 17), (p(0.99), 400, 18)],
        vec![(p(0.95), 300, 25), (Metric::Max, 3000, 26)],
    ]
}

/// What the sample was judged against: profile `medium` and its level (at least 40 req/s, at
/// most 0.5 % errors), the three endpoints and their budgets, each where sla.toml writes it.
fn plan() -> Plan {
    let mut plan = PlanBuilder::new()
        .base_url("http://127.0.0.1:8080/")
        .profile("medium")
        .description("Weekday peak: 10 users browsing and checking out")
        .users(10)
        .spawn_rate(5.0)
        .run_time(secs(u64::from(SECONDS)))
        .think(ms(500), ms(1500))
        .level(|l| {
            l.min_rps_at(40.0, loc(40, 11))
                .max_error_rate_at(0.005, loc(41, 18))
        });
    for (i, ((method, name), budgets)) in NAMES.into_iter().zip(budgets()).enumerate() {
        plan = plan.endpoint(name, |mut e| {
            e = e.method(method).at(loc(8 + 8 * i as u32, 1));
            for (metric, limit_ms, line) in budgets {
                e = e.budget_at(metric, ms(limit_ms), loc(line, 1));
            }
            e
        });
    }
    plan.build()
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

/// The run as the engine would have recorded it (one worker): request `i` of a second
/// completes `200 + 10 × i` ms into it; users ramp up 5 a second to 10.
fn recording(with_requests: bool) -> Recording {
    let mut rng = Lcg(0x5eed_51a6_a7e0_0001);
    let mut run = RecordedRun::new(NAMES.len(), secs(u64::from(SECONDS)));
    let mut counters = [0u64; 3];
    for s in 0..SECONDS {
        let second = secs(u64::from(s));
        for (e, count) in counters.iter_mut().enumerate() {
            let n = if !with_requests {
                0
            } else if s < WINDOW_START {
                PER_SECOND[e] / 2
            } else {
                PER_SECOND[e]
            };
            for i in 0..n {
                let kind = failure(e, s, i);
                let us = match kind {
                    // A timeout is recorded at the per-request timeout.
                    Some(FailureKind::Timeout) => 2_000_000,
                    _ => latency_us(e, &mut rng, *count),
                };
                *count += 1;
                let size = match e {
                    0 => 17,
                    1 => 1_234,
                    _ => 96,
                };
                let at = second + ms(200 + 10 * i);
                let outcome = match kind {
                    Some(kind) => {
                        let text = match kind {
                            FailureKind::Status(_) => HOSTILE_503.to_string(),
                            _ => "no complete response within 2 s".to_string(),
                        };
                        run.example(e, kind, at, text);
                        Outcome::Failure(kind)
                    }
                    None => Outcome::Success,
                };
                run.record(e, Duration::from_micros(us), outcome, size, at);
            }
        }
    }
    let mut rec = run.finish();
    for s in 0..SECONDS {
        rec.set_users(s, (5 * (s + 1)).min(10));
    }
    rec.started_at = UNIX_EPOCH + secs(STARTED_AT_SECS);
    rec.finished_at = ms(12_340);
    rec
}

/// Recorded, summarised from the first second after ramp-up, judged and reported exactly as
/// `slagate check` does it: the verdict's wording is the judge's own, so a snapshot shows any
/// change to it.
fn build(with_requests: bool) -> RunReport {
    build_for(plan(), with_requests)
}

/// The sample's connections: one per user over cleartext HTTP/1.1, and one reconnect after
/// the server let an idle connection go (whose request was written again).
fn connections(with_requests: bool) -> crate::stats::Connections {
    let mut conns = crate::stats::ConnectionRecorder::new(None);
    if with_requests {
        for user in 0..11u64 {
            conns.opened(crate::stats::Opened {
                tcp: Duration::from_micros(180 + 40 * user),
                tls: None,
                resumed: false,
                reconnect: user == 10,
                protocol: "HTTP/1.1",
                tls_version: None,
                cipher: None,
            });
        }
        conns.retried();
    }
    conns.finish()
}

fn build_for(plan: Plan, with_requests: bool) -> RunReport {
    let mut summary = Summary::new(&recording(with_requests), WINDOW_START);
    summary.connections = connections(with_requests);
    let verdict = verdict::judge(&plan, &summary);
    let mut run = RunReport::new(&plan, provenance(), summary, verdict, false, false);
    // Pinned, so that a version bump does not churn every snapshot.
    run.slagate_version = "0.1.0".into();
    run
}

/// The realistic run: three endpoints, passing and failing checks, hostile failure text.
pub fn sample_run() -> RunReport {
    build(true)
}

/// The sample judged by a level that judges only p50 and max (`budgets = ["p50", "max"]`):
/// the other budgets are shown as left to longer profiles.
pub fn partly_judged_run() -> RunReport {
    let mut plan = plan();
    if let Some(level) = plan.level.take() {
        let level = crate::plan::testing::LevelBuilder::from(level)
            .judges(vec![p(0.5), crate::plan::Metric::Max])
            .build();
        plan.level = Some(level);
    }
    build_for(plan, true)
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
                Subject::Connections => crate::report::model::CONNECTIONS,
                Subject::Flow(_) => "flow",
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
    c.interval = Some(verdict::Interval {
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
        location: Some(loc(44, 14)),
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
        let named = |keep: fn(&Check) -> bool| -> Vec<String> {
            run.verdict
                .checks
                .iter()
                .filter(|c| keep(c))
                .map(|c| format!("{} {}", run.subject_name(&c.subject), c.metric))
                .collect()
        };
        assert_eq!(
            named(|c| c.status == Status::Fail),
            ["/orders/{id} p99", "all endpoints max_error_rate"],
            "exactly the two intended failures"
        );
        assert_eq!(
            named(|c| c.status == Status::Pass && c.marginal),
            ["/orders/{id} p95", "/checkout p95"]
        );
        assert_eq!(
            named(|c| c.status == Status::Inconclusive),
            ["/health/ p99.9"]
        );
        assert!(
            named(|c| !c.explanation.is_empty())
                == named(|c| c.status == Status::Fail || c.marginal),
            "the judge explains exactly the failing and marginal checks"
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
