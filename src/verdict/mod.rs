//! Judging: (Plan, Summary) → Verdict. Pure: no I/O, no clock, no formatting of tables.
//!
//! Checks, in order: every endpoint × every budget key; every endpoint's coverage (at least one
//! successful response); then the level's min RPS and max error rate over all endpoints.
//! Nothing passes vacuously: a latency budget without samples fails, and so does a throughput
//! check over an empty window.

use std::fmt::Write as _;
use std::time::Duration;

use crate::plan::{Location, Metric, Plan};
use crate::stats::{EndpointStats, Summary};

/// What a check is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// The endpoint at this index of `Plan::endpoints`.
    Endpoint(usize),
    /// All endpoints together (level checks).
    All,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CheckMetric {
    Latency(Metric),
    MinRps,
    MaxErrorRate,
    Coverage,
}

impl std::fmt::Display for CheckMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckMetric::Latency(m) => m.fmt(f),
            CheckMetric::MinRps => f.write_str("min_rps"),
            CheckMetric::MaxErrorRate => f.write_str("max_error_rate"),
            CheckMetric::Coverage => f.write_str("coverage"),
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub subject: Subject,
    pub metric: CheckMetric,
    /// The limit: latency and error rate are upper bounds (latency strict), RPS and coverage
    /// lower bounds.
    pub budget: Value,
    /// `None` when there was nothing to measure.
    pub measured: Option<Value>,
    /// How far inside the budget the measurement is, as a fraction of the budget (negative:
    /// over it). `None` when undefined (no measurement, or a zero budget).
    pub headroom: Option<f64>,
    /// Requests the measurement is based on.
    pub samples: u64,
    pub status: Status,
    /// Why it failed, in plain words; empty for a pass.
    pub diagnostic: String,
    /// Where the budget is written.
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub checks: Vec<Check>,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status == Status::Pass)
    }

    pub fn failed_count(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count()
    }
}

/// Judge the measured window of a run against the plan's budgets.
pub fn judge(plan: &Plan, summary: &Summary) -> Verdict {
    let mut checks = Vec::new();
    for (i, (ep, st)) in plan.endpoints.iter().zip(&summary.endpoints).enumerate() {
        for budget in &ep.budgets {
            checks.push(latency_check(
                i,
                budget.metric,
                budget.limit,
                st,
                &budget.location,
            ));
        }
        checks.push(coverage_check(i, &ep.name, st, &ep.location));
    }
    if let Some(level) = &plan.level {
        let window = summary.window.length();
        if let Some(min) = &level.min_rps {
            checks.push(rps_check(min.value, summary, window, &min.location));
        }
        if let Some(max) = &level.max_error_rate {
            checks.push(error_rate_check(plan, max.value, summary, &max.location));
        }
    }
    Verdict { checks }
}

fn latency_check(
    endpoint: usize,
    metric: Metric,
    limit: Duration,
    st: &EndpointStats,
    location: &Location,
) -> Check {
    let measured = match metric {
        Metric::Max => st.max(),
        Metric::Percentile(q) => st.quantile(q.get()),
    };
    let samples = st.latency.len();
    let (status, headroom, diagnostic) = match measured {
        None => (
            Status::Fail,
            None,
            format!(
                "no response times were measured ({} requests in the window), so {metric} < {} \
                 cannot be shown to hold",
                st.requests,
                fmt_duration(limit)
            ),
        ),
        Some(m) => {
            let headroom = 1.0 - m.as_secs_f64() / limit.as_secs_f64();
            if m < limit {
                (Status::Pass, Some(headroom), String::new())
            } else {
                let over = st.count_at_or_above(limit);
                let mut d = format!(
                    "{metric} was {} against a budget of < {} ({:.0}% over); {over} of {samples} \
                     requests ({}) took {} or longer; the slowest took {}.",
                    fmt_duration(m),
                    fmt_duration(limit),
                    -headroom * 100.0,
                    fmt_percent(over as f64 / samples as f64),
                    fmt_duration(limit),
                    st.max().map_or_else(|| "—".into(), fmt_duration),
                );
                append_failures(&mut d, st);
                (Status::Fail, Some(headroom), d)
            }
        }
    };
    Check {
        subject: Subject::Endpoint(endpoint),
        metric: CheckMetric::Latency(metric),
        budget: Value::Latency(limit),
        measured: measured.map(Value::Latency),
        headroom,
        samples,
        status,
        diagnostic,
        location: Some(location.clone()),
    }
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
        subject: Subject::Endpoint(endpoint),
        metric: CheckMetric::Coverage,
        budget: Value::Count(1),
        measured: Some(Value::Count(ok)),
        headroom: None,
        samples: st.requests,
        status,
        diagnostic,
        location: Some(location.clone()),
    }
}

fn rps_check(min: f64, summary: &Summary, window: Duration, location: &Location) -> Check {
    let total = &summary.total;
    if window.is_zero() {
        return Check {
            subject: Subject::All,
            metric: CheckMetric::MinRps,
            budget: Value::Rate(min),
            measured: None,
            headroom: None,
            samples: 0,
            status: Status::Fail,
            diagnostic: "the measured window is empty: the run ended before every user had \
                         started (run_time ≤ ramp-up); lengthen run_time or raise spawn_rate"
                .into(),
            location: Some(location.clone()),
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
            fmt_duration(window),
            -headroom * 100.0
        );
        if total.failures > 0 {
            let _ = write!(
                d,
                " {} of the requests failed.",
                fmt_percent(total.error_rate())
            );
        }
        (Status::Fail, d)
    };
    Check {
        subject: Subject::All,
        metric: CheckMetric::MinRps,
        budget: Value::Rate(min),
        measured: Some(Value::Rate(rps)),
        headroom: Some(headroom),
        samples: total.requests,
        status,
        diagnostic,
        location: Some(location.clone()),
    }
}

fn error_rate_check(plan: &Plan, max: f64, summary: &Summary, location: &Location) -> Check {
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
                fmt_percent(m),
                total.failures,
                total.requests,
                fmt_percent(max)
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
                let kinds: Vec<String> = st
                    .failures_by_kind
                    .iter()
                    .take(3)
                    .map(|k| format!("{} × {}", k.count, k.kind))
                    .collect();
                let _ = write!(d, " ({}).", kinds.join(", "));
            }
            if let Some(ex) = total
                .failures_by_kind
                .first()
                .and_then(|k| k.example.as_ref())
            {
                let _ = write!(d, " Example at {}: {}", fmt_offset(ex.at), ex.text);
            }
            (Status::Fail, d)
        }
    };
    Check {
        subject: Subject::All,
        metric: CheckMetric::MaxErrorRate,
        budget: Value::Fraction(max),
        measured: measured.map(Value::Fraction),
        headroom,
        samples: total.requests,
        status,
        diagnostic,
        location: Some(location.clone()),
    }
}

/// "Failures: 4 × HTTP 503 … (e.g. at 0:12: …)": the top kinds, with one example.
fn append_failures(d: &mut String, st: &EndpointStats) {
    if st.failures_by_kind.is_empty() {
        return;
    }
    let kinds: Vec<String> = st
        .failures_by_kind
        .iter()
        .take(3)
        .map(|k| format!("{} × {}", k.count, k.kind))
        .collect();
    let _ = write!(
        d,
        " {} of its requests failed: {}.",
        st.failures,
        kinds.join(", ")
    );
    if let Some(ex) = st.failures_by_kind.first().and_then(|k| k.example.as_ref()) {
        let _ = write!(d, " Example at {}: {}", fmt_offset(ex.at), ex.text);
    }
}

/// A latency for people: "842 µs", "4.27 ms", "212 ms", "2.61 s".
pub fn fmt_duration(d: Duration) -> String {
    let text = fmt_duration_fixed(d);
    // "10.0 ms" → "10 ms", "2.50 s" → "2.5 s": budgets are written round, show them so.
    match text.split_once(' ') {
        Some((num, unit)) if num.contains('.') => {
            format!("{} {unit}", num.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => text,
    }
}

fn fmt_duration_fixed(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us < 100_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us < 1_000_000.0 {
        format!("{:.0} ms", us / 1000.0)
    } else if us < 60_000_000.0 {
        format!("{:.2} s", us / 1e6)
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}

/// A fraction as a percentage with the precision it needs: "0%", "0.04%", "2.4%", "31%".
pub fn fmt_percent(f: f64) -> String {
    let p = f * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 0.1 {
        format!("{p:.2}%")
    } else if p < 10.0 {
        // "1.0%" → "1%": levels are written round.
        let s = format!("{p:.1}");
        format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{p:.0}%")
    }
}

/// An offset into the run as m:ss.
pub fn fmt_offset(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests;
