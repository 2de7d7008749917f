//! Judging: (Plan, Summary) → Verdict. Pure: no I/O, no clock, no formatting of tables.
//!
//! Checks, in order: every endpoint × every budget key; every endpoint's coverage (at least one
//! successful response); then the level's min RPS and max error rate over all endpoints; last,
//! when an `abort_when` rule stopped the run, a failing `abort` check. Nothing passes
//! vacuously: a latency budget without samples fails, and so does a throughput check over an
//! empty window.
//!
//! Honesty about the evidence (issue 4):
//! - every percentile carries a distribution-free 95 % confidence interval (`confidence`); a
//!   percentile within budget on too few samples to bound it is INCONCLUSIVE, not a pass, and
//!   a pass whose interval reaches the budget is marked marginal;
//! - with a level `window`, percentile budgets and the error rate are also judged on each
//!   consecutive window (`windows`), and a breach in any window fails the check;
//! - failing and marginal checks get plain-words explanation lines (`explain`);
//! - a run whose load generator did not deliver the profile is INVALID (`validity`), whatever
//!   its checks say.
//!
//! The run's judgement: INVALID if the generator failed; else FAIL if any check failed; else
//! INCONCLUSIVE if any check is; else PASS.

use std::fmt::Write as _;
use std::time::Duration;

use crate::plan::{ErrorCeiling, Location, Metric, Plan};
use crate::stats::{Abort, EndpointStats, Summary};
use crate::units;

pub mod confidence;
// pub, not pub(crate): the integration tests drive explain in-process against the fixture.
pub mod explain;
pub mod repeat;
pub mod shards;
pub mod validity;
mod windows;

pub use confidence::Interval;
pub use validity::{Delivery, Invalidity};

/// What a check is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The endpoint at this index of `Plan::endpoints`.
    Endpoint(usize),
    /// All endpoints together (level checks).
    All,
    /// Connection set-up, TCP connect plus TLS handshake (`connect_budget`).
    Connections,
    /// The flow at this index of `Plan::flows`: its iteration time (`[[flow]] budget`).
    Flow(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CheckMetric {
    Latency(Metric),
    MinRps,
    MaxErrorRate,
    Coverage,
    /// The run was stopped early by an `abort_when` rule (always a failing check).
    Abort,
}

impl std::fmt::Display for CheckMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckMetric::Latency(m) => m.fmt(f),
            CheckMetric::MinRps => f.write_str("min_rps"),
            CheckMetric::MaxErrorRate => f.write_str("max_error_rate"),
            CheckMetric::Coverage => f.write_str("coverage"),
            CheckMetric::Abort => f.write_str("abort"),
        }
    }
}

/// A measured or budgeted quantity, in its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Latency(Duration),
    /// Requests per second.
    Rate(f64),
    /// 0.0..=1.0
    Fraction(f64),
    /// Successful responses.
    Count(u64),
    /// An offset from the start of the run (the abort check: planned run time vs when it
    /// stopped).
    Offset(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Within budget, but on too few samples to bound the percentile at 95 % confidence.
    Inconclusive,
    /// A budget the profile's level leaves to longer profiles (`budgets = [...]`): measured
    /// and shown, never counted as a pass.
    NotJudged,
}

/// What an INCONCLUSIVE check needs before it can be decided.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Needs {
    /// Samples before a 95 % interval of the percentile exists (299 for p99).
    pub samples: u64,
    /// The endpoint's observed rate in the measured window, requests/s.
    pub rps: f64,
    /// The measured window that collects `samples` at `rps`, rounded up (to 10 s below ten
    /// minutes, to the minute above); `None` when nothing was observed to extrapolate from.
    pub window: Option<Duration>,
}

/// One window of the measured period in which a check's limit was breached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowBreach {
    /// Offsets from the start of the run.
    pub start: Duration,
    pub end: Duration,
    /// The window's own figure (a latency, or a failed fraction).
    pub measured: Value,
    /// Requests in the window.
    pub samples: u64,
}

/// How a check fared on the level's consecutive windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Windowed {
    pub length: Duration,
    /// Windows judged.
    pub judged: u32,
    /// Windows in which the limit was breached.
    pub breached: u32,
    /// The window with the worst figure, if any breached.
    pub worst: Option<WindowBreach>,
    /// The check passed (or was inconclusive) over the whole measured window and failed only
    /// because of a window.
    pub decisive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub subject: Subject,
    pub metric: CheckMetric,
    /// The limit: latency and error rate are upper bounds (latency strict), RPS and coverage
    /// lower bounds; for `abort`, the planned run time.
    pub budget: Value,
    /// `None` when there was nothing to measure.
    pub measured: Option<Value>,
    /// The 95 % confidence interval of a percentile's `measured` (see `confidence`); `None`
    /// for other metrics and when the sample is too small to bound the percentile.
    pub interval: Option<Interval>,
    /// How far inside the budget the measurement is, as a fraction of the budget (negative:
    /// over it). `None` when undefined (no measurement, or a zero budget).
    pub headroom: Option<f64>,
    /// Requests the measurement is based on.
    pub samples: u64,
    pub status: Status,
    /// A pass whose confidence interval reaches the budget: a longer run could go either way.
    pub marginal: bool,
    /// Set for INCONCLUSIVE checks.
    pub needs: Option<Needs>,
    /// Set for the checks judged per window (percentile budgets and the error rate, when the
    /// level has a `window`).
    pub windows: Option<Windowed>,
    /// Why it failed, why it is marginal or why it is inconclusive, in plain words; empty for
    /// a clean pass.
    pub diagnostic: String,
    /// For failing and marginal checks: plain-words lines on what happened and what to do
    /// (`explain::explain`).
    pub explanation: Vec<String>,
    /// Where the budget is written.
    pub location: Option<Location>,
}

impl Check {
    /// A check with every optional finding empty.
    fn new(
        subject: Subject,
        metric: CheckMetric,
        budget: Value,
        samples: u64,
        location: Option<Location>,
    ) -> Check {
        Check {
            subject,
            metric,
            budget,
            measured: None,
            interval: None,
            headroom: None,
            samples,
            status: Status::Pass,
            marginal: false,
            needs: None,
            windows: None,
            diagnostic: String::new(),
            explanation: Vec::new(),
            location,
        }
    }
}

/// The run's overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    Pass,
    Fail,
    Inconclusive,
    /// The load generator did not deliver the profile: nothing can be concluded about the
    /// service.
    Invalid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub checks: Vec<Check>,
    /// Why the run is invalid; empty for a valid run.
    pub invalid: Vec<Invalidity>,
}

impl Verdict {
    pub fn judgement(&self) -> Judgement {
        if !self.invalid.is_empty() {
            Judgement::Invalid
        } else if self.count(Status::Fail) > 0 {
            Judgement::Fail
        } else if self.count(Status::Inconclusive) > 0 {
            Judgement::Inconclusive
        } else {
            Judgement::Pass
        }
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    pub fn failed_count(&self) -> usize {
        self.count(Status::Fail)
    }

    /// Budgets the level leaves to longer profiles.
    pub fn not_judged_count(&self) -> usize {
        self.count(Status::NotJudged)
    }

    /// Checks that were judged (every check but those left to longer profiles).
    pub fn judged_count(&self) -> usize {
        self.checks.len() - self.not_judged_count()
    }

    /// Passing checks marked marginal.
    pub fn marginal_count(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Pass && c.marginal)
            .count()
    }
}

/// Judge the measured window of a run against the plan's budgets.
pub fn judge(plan: &Plan, summary: &Summary) -> Verdict {
    let level = plan.level.as_ref();
    let ceiling = plan.error_ceiling();
    let windowed = level.and_then(|l| l.window.as_ref()).map(|w| {
        (
            w.value,
            windows::evaluate(plan, summary, w.value, Some(ceiling.value)),
        )
    });
    let mut checks = Vec::new();
    for (i, (ep, st)) in plan.endpoints.iter().zip(&summary.endpoints).enumerate() {
        let once_only = plan.once_only(i);
        for (b, budget) in ep.budgets.iter().enumerate() {
            let subject = Subject::Endpoint(i);
            let mut c = latency_check(subject, budget.metric, budget.limit, st, &budget.location);
            if once_only && c.status == Status::Inconclusive {
                // More time gives a login no more samples: it runs once per user.
                c.diagnostic.push_str(&format!(
                    "; but `{}` is a flow's `once` step, sent once per user (judged over the \
                     whole run, ramp-up included): more users give it more samples, a longer \
                     run does not",
                    ep.name
                ));
            }
            match level.and_then(|l| l.judges.as_ref().filter(|_| !l.judges(budget.metric))) {
                Some(judged) => leave_to_longer_profiles(&mut c, plan, &judged.value),
                None => {
                    if let (Some((length, found)), Metric::Percentile(_)) =
                        (&windowed, budget.metric)
                    {
                        apply_windows(&mut c, *length, found.windows, &found.latency[i][b]);
                    }
                }
            }
            checks.push(c);
        }
        checks.push(coverage_check(i, &ep.name, st, &ep.location));
    }
    // A flow's budgets judge its iteration time, as an endpoint's judge its response time
    // (on the whole measured window; per-window figures are kept for endpoints only).
    for (f, (flow, st)) in plan.flows.iter().zip(&summary.flows).enumerate() {
        for budget in &flow.budgets {
            let mut c = latency_check(
                Subject::Flow(f),
                budget.metric,
                budget.limit,
                st,
                &budget.location,
            );
            if let Some(judged) =
                level.and_then(|l| l.judges.as_ref().filter(|_| !l.judges(budget.metric)))
            {
                leave_to_longer_profiles(&mut c, plan, &judged.value);
            }
            checks.push(c);
        }
    }
    // Connection set-up, judged over every connection of the run (most are made during the
    // ramp-up, which the measured window leaves out).
    if !plan.target.transport.connect_budgets.is_empty() {
        let setup = EndpointStats {
            requests: summary.connections.opened,
            latency: summary.connections.setup_histogram(),
            ..EndpointStats::empty()
        };
        for budget in &plan.target.transport.connect_budgets {
            checks.push(latency_check(
                Subject::Connections,
                budget.metric,
                budget.limit,
                &setup,
                &budget.location,
            ));
        }
    }
    if let Some(min) = level.and_then(|l| l.min_rps.as_ref()) {
        checks.push(rps_check(
            min.value,
            summary,
            summary.window.length(),
            &min.location,
        ));
    }
    // Every run judges an error ceiling, a level's own or the default.
    let mut c = error_rate_check(plan, &ceiling, summary);
    if let Some((length, found)) = &windowed {
        apply_windows(&mut c, *length, found.windows, &found.error_rate);
    }
    checks.push(c);
    if let Some(abort) = &summary.aborted {
        checks.push(abort_check(plan, summary, abort));
    }
    for c in &mut checks {
        if c.status == Status::Fail || c.marginal {
            c.explanation = explain::explain(plan, summary, c);
        }
    }
    Verdict {
        checks,
        invalid: validity::validity(plan, summary),
    }
}

/// Why nothing of the run can be judged: not one request of the whole run (ramp-up included)
/// reached the target (every connection was refused or failed), so it went away after the
/// pre-flight check. `None` when any request reached it: then the run is measured and judged.
/// A service that answered during the ramp-up and then died FAILs, and so does one that
/// accepts connections and then resets them or never answers: a dead service is a failing
/// service, not a run that could not be made.
pub fn never_reached(summary: &Summary) -> Option<String> {
    let requests: u64 = summary.timeline.iter().map(|p| p.total.requests).sum();
    if summary.reached > 0 || requests == 0 {
        return None;
    }
    let t = &summary.total;
    Some(match t.failures_by_kind.first() {
        Some(k) => {
            let example = k
                .example
                .as_ref()
                .map(|ex| format!(" ({})", ex.text))
                .unwrap_or_default();
            format!(
                "{requests} requests, none connected; {} × {}{example}",
                k.count, k.kind
            )
        }
        None => format!("{requests} requests, none connected"),
    })
}

/// What a run of `plan` will judge, in one line: for `slagate validate`, so that nobody finds
/// out from a green run that a profile judged less than they thought.
pub fn judged(plan: &Plan) -> String {
    let all = plan.endpoints.iter().flat_map(|e| &e.budgets);
    let budgets = all
        .clone()
        .filter(|b| plan.level.as_ref().is_none_or(|l| l.judges(b.metric)))
        .count();
    let left = all.count() - budgets;
    let ceiling = plan.error_ceiling();
    let level = match &plan.level {
        Some(l) => format!("level {}", l.name),
        None => format!("no [level.{}] in the sla file", plan.profile.level_name),
    };
    let mut parts = vec![
        format!(
            "{budgets} latency budget{}{} and coverage on {} endpoint{}",
            if budgets == 1 { "" } else { "s" },
            if left > 0 {
                format!(" ({left} more left to longer profiles)")
            } else {
                String::new()
            },
            plan.endpoints.len(),
            if plan.endpoints.len() == 1 { "" } else { "s" }
        ),
        match ceiling.location {
            Some(_) => format!("max_error_rate {}", units::percent(ceiling.value)),
            None => format!(
                "max_error_rate {} (the default: the level sets none)",
                units::percent(ceiling.value)
            ),
        },
    ];
    match plan.level.as_ref().and_then(|l| l.min_rps.as_ref()) {
        Some(min) => parts.push(format!("min_rps {}", units::number(min.value))),
        None => parts.push("no min_rps".into()),
    }
    if !plan.flows.is_empty() {
        let budgets: usize = plan.flows.iter().map(|f| f.budgets.len()).sum();
        parts.push(format!(
            "{} flow{} ({} with an iteration budget: {budgets} budget{})",
            plan.flows.len(),
            if plan.flows.len() == 1 { "" } else { "s" },
            plan.flows.iter().filter(|f| !f.budgets.is_empty()).count(),
            if budgets == 1 { "" } else { "s" }
        ));
    }
    let connect = &plan.target.transport.connect_budgets;
    if !connect.is_empty() {
        parts.push(format!(
            "connection set-up {}",
            connect
                .iter()
                .map(|b| format!("{} < {}", b.metric, units::duration(b.limit)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    format!(
        "profile {} ({level}) judges {}",
        plan.profile.name,
        parts.join(", ")
    )
}

/// "212 ms [198, 231]": a measurement with its 95 % interval, the unit written once when all
/// three share it.
pub fn fmt_estimate(measured: Duration, interval: Option<Interval>) -> String {
    let m = units::duration(measured);
    let Some(i) = interval else {
        return m;
    };
    let (lo, hi) = (units::duration(i.low), units::duration(i.high));
    let unit = |s: &str| s.split_once(' ').map(|(_, u)| u.to_string());
    if unit(&m) == unit(&lo) && unit(&m) == unit(&hi) {
        let num = |s: &str| {
            s.split_once(' ')
                .map_or(s.to_string(), |(n, _)| n.to_string())
        };
        format!("{m} [{}, {}]", num(&lo), num(&hi))
    } else {
        format!("{m} [{lo}, {hi}]")
    }
}

fn latency_check(
    subject: Subject,
    metric: Metric,
    limit: Duration,
    st: &EndpointStats,
    location: &Location,
) -> Check {
    let samples = st.latency.len();
    let mut c = Check::new(
        subject,
        CheckMetric::Latency(metric),
        Value::Latency(limit),
        samples,
        Some(location.clone()),
    );
    let measured = match metric {
        Metric::Max => st.max(),
        Metric::Percentile(q) => st.quantile(q.get()),
    };
    // Percentile points another tool wrote (Locust's CSV) are figures without a sample
    // behind them: no interval is computed from the histogram synthesised for the charts.
    let points_only = st.points_only();
    if let Metric::Percentile(q) = metric
        && !points_only
    {
        c.interval = confidence::interval(&st.latency, q.get());
    }
    c.measured = measured.map(Value::Latency);
    let Some(m) = measured else {
        c.status = Status::Fail;
        c.diagnostic = if st.requests == 0 {
            format!(
                "no requests completed in the measured window, so {metric} < {} cannot be \
                 shown to hold",
                units::duration(limit)
            )
        } else {
            // Connection failures have no response time: they are not fast answers.
            let mut d = format!(
                "none of the {} requests in the measured window got an answer, so there is no \
                 response time to show {metric} < {}.",
                st.requests,
                units::duration(limit)
            );
            append_failures(&mut d, st);
            d
        };
        return c;
    };
    let headroom = 1.0 - m.as_secs_f64() / limit.as_secs_f64();
    c.headroom = Some(headroom);
    let estimate = fmt_estimate(m, c.interval);
    if m >= limit && points_only {
        let mut d = format!(
            "{metric} was {estimate} against a budget of < {} ({:.0}% over), as Locust wrote \
             it (its CSV gives percentiles only: no interval, and no count of the requests \
             over the budget); the slowest took {}.",
            units::duration(limit),
            -headroom * 100.0,
            st.max().map_or_else(|| "—".into(), units::duration),
        );
        append_failures(&mut d, st);
        c.status = Status::Fail;
        c.diagnostic = d;
        return c;
    }
    if m >= limit {
        let over = st.count_at_or_above(limit);
        let mut d = format!(
            "{metric} was {estimate} against a budget of < {} ({:.0}% over); {over} of {samples} \
             requests ({}) took {} or longer; the slowest took {}.",
            units::duration(limit),
            -headroom * 100.0,
            units::percent(over as f64 / samples as f64),
            units::duration(limit),
            st.max().map_or_else(|| "—".into(), units::duration),
        );
        append_service_time(&mut d, metric, m, st);
        append_failures(&mut d, st);
        c.status = Status::Fail;
        c.diagnostic = d;
        return c;
    }
    match (metric, c.interval) {
        // Enough requests that an interval would exist, but Locust kept only the point: a
        // pass on the written figure, never marginal (there is no interval to reach the
        // budget); the reports say that it has no interval.
        (Metric::Percentile(q), None)
            if points_only && samples >= confidence::samples_needed(q.get()) => {}
        (Metric::Percentile(q), None) => {
            let needs = Needs::at_rate(confidence::samples_needed(q.get()), st.rps);
            c.status = Status::Inconclusive;
            c.diagnostic = format!(
                "{metric} was {} against a budget of < {}, but {samples} sample{} cannot bound \
                 a {metric} at 95% confidence: {}.",
                units::duration(m),
                units::duration(limit),
                if samples == 1 { "" } else { "s" },
                needs_text(&needs)
            );
            c.needs = Some(needs);
        }
        (_, Some(i)) if i.high >= limit => {
            c.marginal = true;
            c.diagnostic = format!(
                "{metric} was {estimate} against a budget of < {}: within it, but the budget \
                 lies inside the 95% confidence interval, so a longer run could go either way.",
                units::duration(limit)
            );
        }
        _ => {}
    }
    c
}

/// Open model: latency counts from the intended send time, so say how much of it the service
/// itself took (from the actual write): whether the wait was the service's or happened before
/// the request was written.
fn append_service_time(d: &mut String, metric: Metric, latency: Duration, st: &EndpointStats) {
    let service = match metric {
        Metric::Max => st.service_quantile(1.0),
        Metric::Percentile(q) => st.service_quantile(q.get()),
    };
    let Some(service) = service else { return };
    let _ = if service.as_secs_f64() >= 0.8 * latency.as_secs_f64() {
        write!(
            d,
            " Service time (from the actual write) at {metric}: {}: the requests were written \
             on time and the service held them.",
            units::duration(service)
        )
    } else {
        write!(
            d,
            " Service time (from the actual write) at {metric}: {}: most of the {} passed \
             before the request was written (waiting for a connection to be made, or for the \
             generator: see its send lag).",
            units::duration(service),
            units::duration(latency)
        )
    };
}

impl Needs {
    /// What an inconclusive percentile needs, extrapolated from the endpoint's observed rate.
    pub fn at_rate(samples: u64, rps: f64) -> Needs {
        let window = (rps > 0.0 && rps.is_finite()).then(|| {
            let secs = (samples as f64 / rps).ceil() as u64;
            // Nobody plans a run to the second: round up to 10 s, or to the minute from ten
            // minutes on.
            let step = if secs < 600 { 10 } else { 60 };
            Duration::from_secs(secs.div_ceil(step).max(1) * step)
        });
        Needs {
            samples,
            rps,
            window,
        }
    }
}

/// "needs ≥ 299 samples: about 4m10s at the observed 1.2 req/s".
pub fn needs_text(n: &Needs) -> String {
    match n.window {
        Some(w) => format!(
            "needs ≥ {} samples: about {} at the observed {} req/s",
            n.samples,
            units::length(w),
            units::rate(n.rps)
        ),
        None => format!(
            "needs ≥ {} samples, and none completed inside the measured window to estimate \
             how long that takes",
            n.samples
        ),
    }
}

/// Fold the per-window findings into a check: a breach in any window fails it.
fn apply_windows(c: &mut Check, length: Duration, judged: u32, breaches: &[WindowBreach]) {
    let key = |b: &WindowBreach| match b.measured {
        Value::Latency(d) | Value::Offset(d) => d.as_secs_f64(),
        Value::Rate(x) | Value::Fraction(x) => x,
        Value::Count(n) => n as f64,
    };
    let worst = breaches
        .iter()
        .copied()
        .max_by(|a, b| key(a).total_cmp(&key(b)));
    c.windows = Some(Windowed {
        length,
        judged,
        breached: breaches.len() as u32,
        worst,
        decisive: worst.is_some() && c.status != Status::Fail,
    });
    let Some(w) = worst else {
        return;
    };
    let span = format!("{}–{}", units::offset(w.start), units::offset(w.end));
    let tally = format!(
        "over the limit in {} of {judged} windows of {}",
        breaches.len(),
        units::duration(length)
    );
    if c.status == Status::Fail {
        let worst = match w.measured {
            Value::Latency(d) => units::duration(d),
            Value::Fraction(f) => format!("{} failed", units::percent(f)),
            other => format!("{other:?}"),
        };
        let _ = write!(
            c.diagnostic,
            " Per window: {tally}, worst {span} ({worst})."
        );
        return;
    }
    let whole = match c.measured {
        Some(Value::Latency(d)) => units::duration(d),
        Some(Value::Fraction(f)) => units::percent(f),
        _ => "—".into(),
    };
    c.diagnostic = match (c.metric, w.measured, c.budget) {
        (CheckMetric::Latency(metric), Value::Latency(d), Value::Latency(limit)) => format!(
            "{metric} was {} in window {span} ({} requests) against a budget of < {}, though \
             {whole} over the whole measured window; {tally}.",
            units::duration(d),
            w.samples,
            units::duration(limit)
        ),
        (_, Value::Fraction(f), Value::Fraction(max)) => format!(
            "{} of requests failed in window {span} ({} of {}) against a maximum of {}, \
             though {whole} over the whole measured window; {tally}.",
            units::percent(f),
            (f * w.samples as f64).round() as u64,
            w.samples,
            units::percent(max)
        ),
        _ => format!("the limit was breached in window {span}; {tally}."),
    };
    c.status = Status::Fail;
    c.marginal = false;
    c.needs = None;
}

/// A budget the level does not judge: its figure stays, for information; it is neither a pass
/// nor a failure, and says which budgets the level does judge.
fn leave_to_longer_profiles(c: &mut Check, plan: &Plan, judged: &[Metric]) {
    let level = plan.level.as_ref().map_or("", |l| l.name.as_str());
    let keys: Vec<String> = judged.iter().map(|m| m.to_string()).collect();
    let judges = match keys.len() {
        0 => "no latency budget".to_string(),
        1 => format!("only {}", keys[0]),
        _ => format!(
            "only {} and {}",
            keys[..keys.len() - 1].join(", "),
            keys[keys.len() - 1]
        ),
    };
    c.status = Status::NotJudged;
    c.headroom = None;
    c.marginal = false;
    c.needs = None;
    c.windows = None;
    c.diagnostic = format!(
        "not judged: level `{level}` judges {judges} (budgets = […]); {} is left to longer \
         profiles.",
        c.metric
    );
}

/// The run stopped early: a failing check whose diagnostic is the rule's reason.
fn abort_check(plan: &Plan, summary: &Summary, abort: &Abort) -> Check {
    let mut c = Check::new(
        Subject::All,
        CheckMetric::Abort,
        Value::Offset(summary.run_time),
        summary.total.requests,
        plan.abort_when.as_ref().map(|a| a.location.clone()),
    );
    c.measured = Some(Value::Offset(abort.at));
    c.status = Status::Fail;
    c.diagnostic = format!(
        "{}: abort_when stopped the run at {} of its {}; everything measured until then is \
         reported.",
        abort.reason,
        units::offset(abort.at),
        units::offset(summary.run_time)
    );
    c
}

fn coverage_check(endpoint: usize, name: &str, st: &EndpointStats, location: &Location) -> Check {
    let ok = st.successes();
    let (status, diagnostic) = if ok >= 1 {
        (Status::Pass, String::new())
    } else if st.requests == 0 {
        (
            Status::Fail,
            format!(
                "{name} received no requests in the measured window: raise its weight or the \
                 run time, or check that the window is not empty"
            ),
        )
    } else {
        let mut d = format!("none of the {} requests to {name} succeeded.", st.requests);
        append_failures(&mut d, st);
        (Status::Fail, d)
    };
    Check {
        measured: Some(Value::Count(ok)),
        status,
        diagnostic,
        ..Check::new(
            Subject::Endpoint(endpoint),
            CheckMetric::Coverage,
            Value::Count(1),
            st.requests,
            Some(location.clone()),
        )
    }
}

fn rps_check(min: f64, summary: &Summary, window: Duration, location: &Location) -> Check {
    let total = &summary.total;
    if window.is_zero() {
        return Check {
            status: Status::Fail,
            diagnostic: "the measured window is empty: the run ended before every user had \
                         started (run_time ≤ ramp-up); lengthen run_time or raise spawn_rate"
                .into(),
            ..Check::new(
                Subject::All,
                CheckMetric::MinRps,
                Value::Rate(min),
                0,
                Some(location.clone()),
            )
        };
    }
    let rps = total.rps;
    let headroom = rps / min - 1.0;
    let (status, diagnostic) = if rps >= min {
        (Status::Pass, String::new())
    } else {
        let mut d = format!(
            "{:.1} requests/s over the {} window against a minimum of {min} ({:.0}% short).",
            rps,
            units::duration(window),
            -headroom * 100.0
        );
        if total.failures > 0 {
            let _ = write!(
                d,
                " {} of the requests failed.",
                units::percent(total.error_rate())
            );
        }
        (Status::Fail, d)
    };
    Check {
        measured: Some(Value::Rate(rps)),
        headroom: Some(headroom),
        status,
        diagnostic,
        ..Check::new(
            Subject::All,
            CheckMetric::MinRps,
            Value::Rate(min),
            total.requests,
            Some(location.clone()),
        )
    }
}

fn error_rate_check(plan: &Plan, ceiling: &ErrorCeiling, summary: &Summary) -> Check {
    let max = ceiling.value;
    let total = &summary.total;
    let measured = (total.requests > 0).then(|| total.error_rate());
    let headroom = match measured {
        Some(m) if max > 0.0 => Some(1.0 - m / max),
        _ => None,
    };
    let (status, diagnostic) = match measured {
        None => (
            Status::Fail,
            "no requests completed in the measured window, so the error rate cannot be shown \
             to hold"
                .to_string(),
        ),
        Some(m) if m <= max => (Status::Pass, String::new()),
        Some(m) => {
            let mut d = format!(
                "{} of requests failed ({} of {}) against a maximum of {}.",
                units::percent(m),
                total.failures,
                total.requests,
                units::percent(max)
            );
            // Say where the failures are: an aggregate hides the endpoint that broke.
            let mut by_endpoint: Vec<(usize, &EndpointStats)> = summary
                .endpoints
                .iter()
                .enumerate()
                .filter(|(_, s)| s.failures > 0)
                .collect();
            by_endpoint.sort_by_key(|(_, s)| std::cmp::Reverse(s.failures));
            for (i, st) in by_endpoint.iter().take(3) {
                let _ = write!(
                    d,
                    " {}: {} of its {} requests failed",
                    plan.endpoints[*i].name, st.failures, st.requests
                );
                let _ = write!(d, " ({}).", top_kinds(st));
            }
            append_example(&mut d, total);
            if ceiling.location.is_none() {
                let _ = write!(
                    d,
                    " (The default ceiling: level `{}` sets no max_error_rate.)",
                    plan.profile.level_name
                );
            }
            (Status::Fail, d)
        }
    };
    Check {
        measured: measured.map(Value::Fraction),
        headroom,
        status,
        diagnostic,
        ..Check::new(
            Subject::All,
            CheckMetric::MaxErrorRate,
            Value::Fraction(max),
            total.requests,
            ceiling.location.clone(),
        )
    }
}

/// "Failures: 4 × HTTP 503 … (e.g. at 0:12: …)": the top kinds, with one example.
fn append_failures(d: &mut String, st: &EndpointStats) {
    if st.failures_by_kind.is_empty() {
        return;
    }
    let _ = write!(
        d,
        " {} of its requests failed: {}.",
        st.failures,
        top_kinds(st)
    );
    append_example(d, st);
}

/// "4 × HTTP 503 Service Unavailable, 2 × timeout": the three most frequent kinds.
fn top_kinds(st: &EndpointStats) -> String {
    st.failures_by_kind
        .iter()
        .take(3)
        .map(|k| format!("{} × {}", k.count, k.kind))
        .collect::<Vec<_>>()
        .join(", ")
}

/// " Example at 0:12: …": what the most frequent kind looked like, when one was kept.
fn append_example(d: &mut String, st: &EndpointStats) {
    if let Some(ex) = st.failures_by_kind.first().and_then(|k| k.example.as_ref()) {
        let _ = write!(d, " Example at {}: {}", units::offset(ex.at), ex.text);
    }
}

#[cfg(test)]
mod tests;
