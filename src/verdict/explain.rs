//! Diagnostics that explain: for a failing or marginal check, plain-words lines that say what was
//! measured against what, when it happened, how requests failed, whether the profile could have
//! produced the throughput at all (Little's law), and one hint from the load-testing guide's
//! Troubleshooting section that matches the evidence. Pure: reads the plan, the summary and the
//! check; no I/O, no clock. Owns no verdict: whether a check passes is `judge`'s business.
//!
//! Every line is evidence-gated: a line is only written when the figures support it, so a
//! constant-latency run says nothing about a trend and a uniform trickle of errors is not called
//! a burst.

use std::fmt::Write as _;
use std::time::Duration;

use crate::plan::{LoadModel, Metric, Plan};
use crate::stats::{
    EndpointStats, FailureKind, SecondStats, Summary, TimelinePoint, new_histogram,
};
use crate::units;
use crate::verdict::{Check, CheckMetric, Subject, Value};

/// A trend between the first and last thirds of the window is reported only when the later
/// third differs from the earlier by at least this factor: smaller drifts are within what a
/// healthy service's percentiles wander by over a few minutes.
const TREND_RATIO: f64 = 1.5;
/// … and by at least this share of the budget, so 2 ms → 3 ms against a 1 s budget is not news.
const TREND_MIN_SHARE_OF_BUDGET: f64 = 0.1;
/// Fewest samples in each third for a percentile to be compared at all (more for high
/// percentiles: see `min_third_samples`).
const MIN_THIRD_SAMPLES: u64 = 20;
/// A second is part of an error burst when at least half its requests failed, or its failures
/// are this many times the run's typical (median, at least 1) failures per second.
const BURST_FACTOR: f64 = 5.0;
/// Hot seconds this close (a gap of at most one quiet second) belong to the same burst.
const BURST_MERGE_GAP: u32 = 1;
/// A burst is at least this long and holds at least this many failures: one unlucky second of a
/// steady trickle is not a burst.
const BURST_MIN_SECONDS: u32 = 2;
const BURST_MIN_FAILURES: u64 = 5;
/// Fewest bad requests whose spread over the window is worth a line, and fewest for calling them
/// gathered in one third (2 of 3 in one third is chance).
const SPREAD_MIN_EVENTS: u64 = 3;
const SPREAD_MIN_GATHERED: u64 = 5;
/// Failure kinds listed one by one; the rest are summed up.
const TOP_KINDS: usize = 5;
/// Slowest seconds named in the first line.
const SLOWEST: usize = 3;
/// Example texts are cut here: a line must stay a line.
const EXAMPLE_CHARS: usize = 100;

/// Plain-words lines for a failing or marginal check, in this order, each only when the evidence
/// supports it: measured against budget; when it happened (a trend between the first and last
/// thirds of the window, or a burst of failures); failures by kind; for throughput, Little's law;
/// one hint from the guide's Troubleshooting section.
pub fn explain(plan: &Plan, summary: &Summary, check: &Check) -> Vec<String> {
    if let Subject::Flow(f) = check.subject {
        return flow_lines(plan, summary, f, check);
    }
    let Some(view) = View::new(plan, summary, check) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    lines.extend(view.measured_line());
    let burst = view.burst();
    let mut trend = view.trend(burst.is_some());
    if trend.is_none() && burst.is_none() {
        // Too little data for a trend, or none: still say when the bad requests came.
        trend = view.spread();
    }
    lines.extend(trend.as_ref().map(|t| t.line.clone()));
    lines.extend(burst.as_ref().map(|b| view.burst_line(b)));
    lines.extend(view.kind_lines());
    let throughput = view.throughput();
    lines.extend(throughput.as_ref().map(|t| t.line.clone()));
    let evidence = view.evidence(trend.as_ref(), throughput.as_ref());
    lines.extend(pick_hint(&evidence).map(|h| h.line().to_string()));
    lines
}

/// A flow's iteration time is its steps' response times added up: say what each step took at
/// the check's percentile, slowest first, and how many iterations failed and where.
fn flow_lines(plan: &Plan, summary: &Summary, f: usize, check: &Check) -> Vec<String> {
    let (Some(flow), Some(st)) = (plan.flows.get(f), summary.flows.get(f)) else {
        return Vec::new();
    };
    let CheckMetric::Latency(metric) = check.metric else {
        return Vec::new();
    };
    let mut unique: Vec<usize> = Vec::new();
    for &e in flow.once.iter().chain(&flow.steps) {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    let mut steps: Vec<(usize, Duration)> = unique
        .into_iter()
        .filter_map(|e| Some((e, summary.endpoints.get(e)?.quantile(metric.quantile())?)))
        .collect();
    steps.sort_by_key(|s| std::cmp::Reverse(s.1));
    let mut lines = Vec::new();
    if !steps.is_empty() {
        let parts: Vec<String> = steps
            .iter()
            .map(|(e, q)| format!("{} {}", plan.endpoints[*e].name, units::duration(*q)))
            .collect();
        lines.push(format!(
            "its steps' own {metric}, slowest first: {} (an iteration adds up its steps' times)",
            parts.join(", ")
        ));
    }
    if st.failures > 0 {
        let kinds: Vec<String> = st
            .failures_by_kind
            .iter()
            .map(|k| match &k.example {
                Some(ex) => format!("{} × {} ({})", k.count, k.kind, ex.text),
                None => format!("{} × {}", k.count, k.kind),
            })
            .collect();
        lines.push(format!(
            "{} of {} iterations failed: {}",
            st.failures,
            st.requests,
            kinds.join("; ")
        ));
    }
    lines
}

/// Little's law warning for `slagate validate` and `check`: with U users and mean think time Z, a
/// closed model cannot exceed U / Z requests per second even against an instant server. `None`
/// when the level has no min RPS, or when there is no think time (then only the service's
/// latency bounds the rate).
pub fn capacity_warning(plan: &Plan) -> Option<String> {
    let min = plan.level.as_ref()?.min_rps.as_ref()?.value;
    let p = &plan.profile;
    let c = match &p.load {
        LoadModel::Closed(c) => c,
        LoadModel::Open(o) => {
            // An open model completes at most the rate it sends.
            let rate = o.rate();
            return (rate < min).then(|| {
                format!(
                    "profile `{}` cannot reach level `{}`'s min_rps of {} req/s: it sends {} \
                     arrivals per second once its stages are done, and an open model completes \
                     no more than it sends; raise rate (or the last stage's) to at least {}",
                    p.name,
                    plan.level.as_ref().map_or("", |l| l.name.as_str()),
                    units::number(min),
                    units::number(rate),
                    units::number(min),
                )
            });
        }
    };
    let z = c.think_time.mean();
    if z.is_zero() {
        return None;
    }
    let ceiling = f64::from(c.users) / z.as_secs_f64();
    (ceiling < min).then(|| {
        format!(
            "profile `{}` cannot reach level `{}`'s min_rps of {} req/s even against an instant \
             server: {} user{} with a mean think time of {} make at most {} req/s (users ÷ think \
             time, Little's law); raise users to at least {} or lower think_time to at most {}",
            p.name,
            plan.level.as_ref().map_or("", |l| l.name.as_str()),
            units::number(min),
            c.users,
            if c.users == 1 { "" } else { "s" },
            units::duration(z),
            units::rate(ceiling),
            (min * z.as_secs_f64()).ceil() as u64,
            units::duration(Duration::from_secs_f64(f64::from(c.users) / min)),
        )
    })
}

/// The most requests per second a closed model of `users` users can make when each request
/// takes `latency` and each user then thinks for `think` (Little's law: U / (L + Z)). Infinite
/// when both are zero.
pub fn closed_model_ceiling(users: u32, latency: Duration, think: Duration) -> f64 {
    let cycle = (latency + think).as_secs_f64();
    if cycle == 0.0 {
        f64::INFINITY
    } else {
        f64::from(users) / cycle
    }
}

/// One second of the measured window: the check's subject and the whole service.
struct Second<'a> {
    second: u32,
    /// Users running at the end of this second; `None` for a second that ends when the load
    /// stops (users are already leaving then, so the count says nothing about the load).
    users: Option<u32>,
    subject: Option<&'a SecondStats>,
    total: Option<&'a SecondStats>,
}

impl Second<'_> {
    fn requests(&self) -> u64 {
        self.subject.map_or(0, |s| s.requests)
    }
    fn failures(&self) -> u64 {
        self.subject.map_or(0, |s| s.failures)
    }
}

/// What a check is about, gathered once.
struct View<'a> {
    plan: &'a Plan,
    summary: &'a Summary,
    check: &'a Check,
    /// The endpoint's stats, or the total for level checks.
    stats: &'a EndpointStats,
    /// `/health/` or "all endpoints".
    name: String,
    /// `None` for level checks.
    endpoint: Option<usize>,
    /// Every second of the measured window, in order, gaps filled.
    seconds: Vec<Second<'a>>,
    /// The subject's seconds after the window: requests in flight when the load stopped.
    after: Vec<&'a SecondStats>,
}

impl<'a> View<'a> {
    fn new(plan: &'a Plan, summary: &'a Summary, check: &'a Check) -> Option<View<'a>> {
        let (stats, name, endpoint) = match check.subject {
            Subject::Endpoint(i) => (
                summary.endpoints.get(i)?,
                plan.endpoints.get(i)?.name.clone(),
                Some(i),
            ),
            Subject::All => (&summary.total, "all endpoints".to_string(), None),
            // Set-up times have no timeline to explain them by: the headline says it all.
            Subject::Connections => return None,
            Subject::Flow(_) => return None,
        };
        let start = summary.window.start.as_secs();
        // The drain slot (completions after the run time) is not a second of the window.
        let drain = summary.run_time.as_secs() + u64::from(summary.run_time.subsec_nanos() > 0);
        let end = (summary.window.end.as_secs() + u64::from(summary.window.end.subsec_nanos() > 0))
            .min(drain);
        // The timeline holds one point per second from 0; look there first, search if not.
        let point = |s: u64| {
            summary
                .timeline
                .get(s as usize)
                .filter(|p| u64::from(p.second) == s)
                .or_else(|| summary.timeline.iter().find(|p| u64::from(p.second) == s))
        };
        let seconds = (start..end)
            .map(|s| {
                let p: Option<&TimelinePoint> = point(s);
                Second {
                    second: s as u32,
                    users: p
                        .filter(|_| Duration::from_secs(s + 1) < summary.window.end)
                        .map(|p| p.users),
                    subject: p.and_then(|p| match endpoint {
                        Some(i) => p.endpoints.get(i),
                        None => Some(&p.total),
                    }),
                    total: p.map(|p| &p.total),
                }
            })
            .collect();
        let after = summary
            .timeline
            .iter()
            .filter(|p| u64::from(p.second) >= end)
            .filter_map(|p| match endpoint {
                Some(i) => p.endpoints.get(i),
                None => Some(&p.total),
            })
            .collect();
        Some(View {
            plan,
            summary,
            check,
            stats,
            name,
            endpoint,
            seconds,
            after,
        })
    }

    fn subject_of<'p>(&self, p: &'p TimelinePoint) -> Option<&'p SecondStats> {
        match self.endpoint {
            Some(i) => p.endpoints.get(i),
            None => Some(&p.total),
        }
    }

    /// For a latency check, the slowest requests and when they came. Nothing else: the check's
    /// own diagnostic (its headline in every format) already states measured against budget,
    /// headroom and the share over budget, and a first explanation line that said it again
    /// would only make the reader read it twice.
    fn measured_line(&self) -> Option<String> {
        if !matches!(self.check.metric, CheckMetric::Latency(_)) {
            return None;
        }
        let slowest = self.slowest();
        if slowest.is_empty() {
            return None;
        }
        let list: Vec<String> = slowest
            .iter()
            .map(|(us, s)| {
                format!(
                    "{} at {}",
                    units::duration(Duration::from_micros(*us)),
                    units::offset(Duration::from_secs(u64::from(*s)))
                )
            })
            .collect();
        Some(format!("slowest of {}: {}", self.name, list.join(", ")))
    }

    /// The seconds (from the run's start) holding the slowest responses: the slowest of each
    /// second, slowest first, one entry per second so the list also says *when*.
    fn slowest(&self) -> Vec<(u64, u32)> {
        let start = self.summary.window.start.as_secs();
        let mut per_second: Vec<(u64, u32)> = self
            .summary
            .timeline
            .iter()
            .filter(|p| u64::from(p.second) >= start)
            .filter_map(|p| {
                let max = self
                    .subject_of(p)?
                    .latency
                    .0
                    .iter()
                    .map(|&(v, _)| u64::from(v))
                    .max()?;
                Some((max, p.second))
            })
            .collect();
        per_second.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        per_second.truncate(SLOWEST);
        per_second
    }

    /// The first and last thirds of the window; `None` when the window is under 3 s.
    fn thirds(&self) -> Option<(&[Second<'a>], &[Second<'a>])> {
        let k = self.seconds.len() / 3;
        (k > 0).then(|| (&self.seconds[..k], &self.seconds[self.seconds.len() - k..]))
    }

    /// How the checked metric moved between the first and last thirds of the window.
    fn trend(&self, burst_found: bool) -> Option<Trend> {
        let (first, last) = self.thirds()?;
        let load = Load::of(first, last);
        match self.check.metric {
            CheckMetric::Latency(metric) => {
                let Value::Latency(limit) = self.check.budget else {
                    return None;
                };
                let a = third_latency(first, metric)?;
                let b = third_latency(last, metric)?;
                latency_trend(&metric.to_string(), a, b, limit, &load, true)
            }
            CheckMetric::MinRps => {
                // Throughput follows latency in a closed model: say how the mean moved.
                let a = third_mean(first)?;
                let b = third_mean(last)?;
                // No latency budget here: a change is material against the window's mean.
                let scale = self.summary.total.mean().unwrap_or(a.max(b));
                latency_trend("mean latency", a, b, scale, &load, false)
            }
            CheckMetric::MaxErrorRate | CheckMetric::Coverage | CheckMetric::Abort
                if !burst_found =>
            {
                let counts = |secs: &[Second]| {
                    let (r, f) = secs
                        .iter()
                        .fold((0, 0), |(r, f), s| (r + s.requests(), f + s.failures()));
                    (r >= MIN_THIRD_SAMPLES).then_some((r, f))
                };
                error_trend(counts(first)?, counts(last)?, &load)
            }
            _ => None,
        }
    }

    /// The largest burst of failures in the window, if any second-by-second evidence shows one.
    fn burst(&self) -> Option<Burst> {
        let counts: Vec<(u32, u64, u64)> = self
            .seconds
            .iter()
            .map(|s| (s.second, s.requests(), s.failures()))
            .collect();
        find_bursts(&counts).into_iter().max_by_key(|b| b.failures)
    }

    fn burst_line(&self, b: &Burst) -> String {
        let secs = b.end - b.start + 1;
        let at = |s: u32| units::offset(Duration::from_secs(u64::from(s)));
        // The timeline counts failures per second but not their kinds: name the kinds whose
        // first..last seen overlaps the burst, and only claim the count for one when it is alone.
        let kinds: Vec<FailureKind> = self
            .stats
            .failures_by_kind
            .iter()
            .filter(|k| {
                k.first_seen.as_secs() <= u64::from(b.end)
                    && k.last_seen.as_secs() >= u64::from(b.start)
            })
            .map(|k| k.kind)
            .collect();
        let what = match kinds.as_slice() {
            [one] => format!("{} × {one}", b.failures),
            [] => format!("{} failures", b.failures),
            many => format!(
                "{} failures ({})",
                b.failures,
                many.iter()
                    .take(TOP_KINDS)
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(
            "{} of errors from {} ({}–{}): {what}, {} of the {} requests to {} in those seconds",
            units::duration(Duration::from_secs(u64::from(secs))),
            at(b.start),
            at(b.start),
            at(b.end),
            units::percent(b.failures as f64 / b.requests.max(1) as f64),
            b.requests,
            self.name
        )
    }

    /// When the bad requests (over the latency budget, or failed) came, counted by third of the
    /// window: works on a handful of events, where percentiles per third would be noise.
    fn spread(&self) -> Option<Trend> {
        let (events, after, what, one): (Vec<u64>, u64, String, String) =
            match (self.check.metric, self.check.budget) {
                (CheckMetric::Latency(_), Value::Latency(limit)) => {
                    let us = u64::try_from(limit.as_micros()).unwrap_or(u64::MAX);
                    // Count a bucket as over the limit exactly when `count_at_or_above` does: when
                    // its lowest value is at or above the limit.
                    let h = new_histogram();
                    let over = |st: &SecondStats| {
                        st.latency
                            .0
                            .iter()
                            .filter(|&&(v, _)| h.lowest_equivalent(u64::from(v)) >= us)
                            .map(|&(_, n)| u64::from(n))
                            .sum::<u64>()
                    };
                    (
                        self.seconds
                            .iter()
                            .map(|s| s.subject.map_or(0, over))
                            .collect(),
                        self.after.iter().map(|st| over(st)).sum(),
                        format!("requests of {} or longer", units::duration(limit)),
                        format!("request of {} or longer", units::duration(limit)),
                    )
                }
                (CheckMetric::MaxErrorRate | CheckMetric::Coverage | CheckMetric::Abort, _) => (
                    self.seconds.iter().map(Second::failures).collect(),
                    self.after.iter().map(|st| st.failures).sum(),
                    "failures".to_string(),
                    "failure".to_string(),
                ),
                _ => return None,
            };
        let n = events.len();
        let mut by_third = [0u64; 3];
        for (i, e) in events.iter().enumerate() {
            by_third[i * 3 / n.max(1)] += e;
        }
        // Requests that completed after the load stopped belong to the end of the run (and
        // keep the total equal to the measured line's).
        by_third[2] += after;
        let total: u64 = by_third.iter().sum();
        if total == 0 {
            return None;
        }
        if total < SPREAD_MIN_EVENTS {
            // Too few for a pattern, but when they came is still evidence: an isolated outlier
            // reads differently from a climb.
            let names = ["first", "middle", "last"];
            let at: Vec<String> = events
                .iter()
                .enumerate()
                .filter(|(_, e)| **e > 0)
                .map(|(i, _)| {
                    let second = self.seconds[i].second;
                    format!(
                        "{} ({} third)",
                        units::offset(Duration::from_secs(u64::from(second))),
                        names[i * 3 / n.max(1)]
                    )
                })
                .chain((after > 0).then(|| "the end of the run".to_string()))
                .collect();
            let subject = if total == 1 {
                format!("the one {one}")
            } else {
                format!("the {total} {what}")
            };
            return Some(Trend {
                line: format!(
                    "{subject} came at {}: too few to show a trend, isolated rather than a climb",
                    at.join(" and ")
                ),
                rising_at_constant_load: false,
            });
        }
        let [a, b, c] = by_third;
        let counts = format!("{a}, {b} and {c}");
        let names = ["first", "middle", "last"];
        let gathered = ["early", "mid-run", "late"];
        if let Some(i) = (0..3).find(|&i| by_third[i] * 3 >= total * 2)
            && total >= SPREAD_MIN_GATHERED
        {
            // Slow requests gathering late while the users stayed the same is a climb seen
            // through few samples.
            let late_at_constant_load = i == 2
                && matches!(self.check.metric, CheckMetric::Latency(_))
                && self
                    .thirds()
                    .is_some_and(|(a, b)| Load::of(a, b).constant());
            return Some(Trend {
                line: format!(
                    "{} of the {total} {what} came in the {} third of the window ({counts} by \
                     third): they gathered {}",
                    by_third[i], names[i], gathered[i]
                ),
                rising_at_constant_load: late_at_constant_load,
            });
        }
        let (least, most) = (
            by_third.iter().min().copied().unwrap_or(0),
            by_third.iter().max().copied().unwrap_or(0),
        );
        let tail = if least > 0 && least * 3 >= most {
            // Only what the counts show: they do not rule out a slow climb underneath.
            ": spread through the run rather than gathered in one part"
        } else {
            ""
        };
        Some(Trend {
            line: format!(
                "the {total} {what} came {counts} in the first, middle and last thirds of the \
                 window{tail}"
            ),
            rising_at_constant_load: false,
        })
    }

    /// One line per failure kind (top 5): count, first and last seen, one example.
    fn kind_lines(&self) -> Vec<String> {
        let kinds = &self.stats.failures_by_kind;
        let mut lines: Vec<String> = kinds
            .iter()
            .take(TOP_KINDS)
            .map(|k| {
                let first = units::offset(k.first_seen);
                let last = units::offset(k.last_seen);
                let mut line = if first == last {
                    format!("{} × {}, all at {first}", k.count, k.kind)
                } else {
                    format!("{} × {}, first at {first}, last at {last}", k.count, k.kind)
                };
                if let Some(ex) = &k.example {
                    let _ = write!(
                        line,
                        "; e.g. at {}: {}",
                        units::offset(ex.at),
                        excerpt(&ex.text)
                    );
                }
                line
            })
            .collect();
        if kinds.len() > TOP_KINDS {
            let rest = &kinds[TOP_KINDS..];
            lines.push(format!(
                "and {} more kind{} ({} failures)",
                rest.len(),
                if rest.len() == 1 { "" } else { "s" },
                rest.iter().map(|k| k.count).sum::<u64>()
            ));
        }
        lines
    }

    /// For a min RPS check: what a closed model of these users could produce, and why it fell
    /// short.
    fn throughput(&self) -> Option<Throughput> {
        if self.check.metric != CheckMetric::MinRps {
            return None;
        }
        let Value::Rate(min) = self.check.budget else {
            return None;
        };
        let p = &self.plan.profile;
        let total = &self.summary.total;
        let measured = total.rps;
        let c = match &p.load {
            LoadModel::Closed(c) => c,
            LoadModel::Open(o) => {
                // The schedule was kept (else the run is INVALID, not FAIL): completions fell
                // behind arrivals because the service held requests (Little's law: in flight
                // = rate × time in the system), or the rate asked for is below the minimum.
                let rate = o.rate();
                let line = if rate < min {
                    format!(
                        "this profile sends {} arrivals/s, below the {} req/s asked for: an \
                         open model completes no more than it sends; raise rate",
                        units::number(rate),
                        units::number(min)
                    )
                } else {
                    format!(
                        "{} arrivals/s were sent on schedule but only {} req/s completed in the \
                         window: the service held the rest (by Little's law, in flight = rate × \
                         time in the system{})",
                        units::number(rate),
                        units::rate(measured),
                        total
                            .mean()
                            .map(|l| format!(
                                ": {} × {} ≈ {} in flight",
                                units::number(rate),
                                units::duration(l),
                                units::number((rate * l.as_secs_f64()).round())
                            ))
                            .unwrap_or_default()
                    )
                };
                return Some(Throughput {
                    cause: if rate < min {
                        Shortfall::Profile
                    } else {
                        Shortfall::Latency
                    },
                    line,
                });
            }
        };
        let u = c.users;
        let z = c.think_time.mean();
        let instant = closed_model_ceiling(u, Duration::ZERO, z);
        let users = |u: u32| format!("{u} user{}", if u == 1 { "" } else { "s" });
        if instant < min {
            return Some(Throughput {
                cause: Shortfall::Profile,
                line: format!(
                    "this profile cannot reach {} req/s even against an instant server: at most \
                     {} req/s with {} and {} mean think time (users ÷ think time); raise users or \
                     lower think_time",
                    units::number(min),
                    units::rate(instant),
                    users(u),
                    units::duration(z)
                ),
            });
        }
        let l = total.mean()?;
        let ceiling = closed_model_ceiling(u, l, z);
        // Fast failures make a closed model faster, not better: say what succeeded.
        let mut succeeded = if total.error_rate() >= 0.01 {
            format!(
                " ({} of the requests failed: only {} req/s succeeded)",
                units::percent(total.error_rate()),
                units::rate(measured * (1.0 - total.error_rate()))
            )
        } else {
            String::new()
        };
        let formula = format!(
            "{u} / ({} + {} think time)",
            units::duration(l),
            units::duration(z)
        );
        if ceiling < min {
            // The latency is what capped the rate; see whether timeouts made most of it, since a
            // timed-out request holds its user for the whole timeout.
            let timeouts = total
                .failures_by_kind
                .iter()
                .find(|k| k.kind == FailureKind::Timeout)
                .map_or(0, |k| k.count);
            let waited = l.as_secs_f64() * total.latency.len() as f64;
            let in_timeouts = timeouts as f64 * self.plan.target.timeout.as_secs_f64();
            let need = f64::from(u) / min - z.as_secs_f64();
            let mut line = format!(
                "at the measured mean latency of {} the {} can make at most {} req/s ({formula}); \
                 {} req/s needs a mean latency under {}",
                units::duration(l),
                users(u),
                units::rate(ceiling),
                units::number(min),
                units::duration(Duration::from_secs_f64(need.max(0.0)))
            );
            let cause = if waited > 0.0 && in_timeouts * 2.0 >= waited {
                let _ = write!(
                    line,
                    ": {timeouts} timeouts of {} each make {:.0}% of that waiting, so the \
                     shortfall is the service's errors",
                    units::duration(self.plan.target.timeout),
                    (in_timeouts / waited * 100.0).min(100.0)
                );
                Shortfall::Errors
            } else {
                line.push_str(": the shortfall is the service's latency");
                Shortfall::Latency
            };
            line.push_str(&succeeded);
            return Some(Throughput { cause, line });
        }
        let mut line = format!(
            "at the measured mean latency of {} the {} could make up to {} req/s ({formula})",
            units::duration(l),
            users(u),
            units::rate(ceiling)
        );
        if measured >= min {
            line.push_str(&succeeded);
            return Some(Throughput {
                cause: Shortfall::None,
                line,
            });
        }
        let _ = write!(line, ", yet made {}", units::rate(measured));
        let running = self.mean_users();
        let cause = if running.is_some_and(|r| r + 0.5 < f64::from(u)) {
            let _ = write!(
                line,
                ": only {:.0} of the {} users were running on average",
                running.unwrap_or_default(),
                u
            );
            Shortfall::Generator
        } else if total.failures > 0 {
            // This line already gives the failure share.
            succeeded.clear();
            let _ = write!(
                line,
                ": {} of the requests failed ({}), and failed connections cost time that no \
                 latency figure shows",
                units::percent(total.error_rate()),
                total
                    .failures_by_kind
                    .first()
                    .map_or_else(String::new, |k| k.kind.to_string())
            );
            Shortfall::Errors
        } else {
            line.push_str(
                ": the users spent time outside requests, so check whether the load generator \
                 kept up",
            );
            Shortfall::Generator
        };
        line.push_str(&succeeded);
        Some(Throughput { cause, line })
    }

    /// Mean users over the window's seconds; `None` when the timeline does not say.
    fn mean_users(&self) -> Option<f64> {
        let known: Vec<u32> = self.seconds.iter().filter_map(|s| s.users).collect();
        (!known.is_empty() && known.iter().any(|&u| u > 0))
            .then(|| known.iter().map(|&u| f64::from(u)).sum::<f64>() / known.len() as f64)
    }

    /// What the hint is chosen from.
    fn evidence(&self, trend: Option<&Trend>, throughput: Option<&Throughput>) -> Evidence {
        let dominant = self
            .stats
            .failures_by_kind
            .iter()
            .find(|k| !k.kind.is_local())
            .map(|k| k.kind);
        let failures_lead = match self.check.metric {
            CheckMetric::MaxErrorRate | CheckMetric::Coverage => self.stats.failures > 0,
            CheckMetric::Latency(_) => {
                // Only timeouts make a request slow by failing; fast 503s do not explain a
                // latency breach.
                let Value::Latency(limit) = self.check.budget else {
                    return Evidence::default();
                };
                let timeouts = self
                    .stats
                    .failures_by_kind
                    .iter()
                    .find(|k| k.kind == FailureKind::Timeout)
                    .map_or(0, |k| k.count);
                timeouts > 0 && timeouts * 2 >= self.stats.count_at_or_above(limit)
            }
            CheckMetric::MinRps => throughput.is_some_and(|t| t.cause == Shortfall::Errors),
            // An abort is an error-rate rule that tripped.
            CheckMetric::Abort => self.stats.failures > 0,
        };
        let over_budget = match (self.check.budget, self.check.measured) {
            (Value::Latency(limit), Some(Value::Latency(m))) => m >= limit,
            _ => false,
        };
        Evidence {
            failure: if failures_lead { dominant } else { None },
            latency_rising: trend.is_some_and(|t| t.rising_at_constant_load),
            latency_bound_throughput: throughput.is_some_and(|t| t.cause == Shortfall::Latency),
            latency_over_budget: over_budget,
            profile_shape: throughput.is_some_and(|t| t.cause == Shortfall::Profile),
        }
    }
}

/// The checked latency metric of the check's subject over a run of seconds; `None` with too
/// few samples to say.
fn third_latency(secs: &[Second], metric: Metric) -> Option<Duration> {
    let mut h = new_histogram();
    for st in secs.iter().filter_map(|s| s.subject) {
        st.latency.add_to(&mut h);
    }
    if h.len() < min_third_samples(metric) {
        return None;
    }
    let us = match metric {
        Metric::Max => h.max(),
        Metric::Percentile(q) => h.value_at_quantile(q.get()),
    };
    Some(Duration::from_micros(us))
}

/// Mean latency of every request (all endpoints) over a run of seconds.
fn third_mean(secs: &[Second]) -> Option<Duration> {
    let mut h = new_histogram();
    for st in secs.iter().filter_map(|s| s.total) {
        st.latency.add_to(&mut h);
    }
    (h.len() >= MIN_THIRD_SAMPLES).then(|| Duration::from_secs_f64(h.mean() / 1e6))
}

/// A percentile over a third is only compared when the third holds enough samples that the
/// percentile is not simply its maximum: twice 1 / (1 − q), and never fewer than 20.
fn min_third_samples(metric: Metric) -> u64 {
    match metric {
        Metric::Max => MIN_THIRD_SAMPLES,
        Metric::Percentile(q) => ((2.0 / (1.0 - q.get())).ceil() as u64).max(MIN_THIRD_SAMPLES),
    }
}

/// The load on the service in the first and last thirds: users and requests per second.
struct Load {
    users: Option<(f64, f64)>,
    rps: (f64, f64),
}

impl Load {
    fn of(first: &[Second], last: &[Second]) -> Load {
        let users = |secs: &[Second]| {
            let known: Vec<f64> = secs.iter().filter_map(|s| s.users).map(f64::from).collect();
            known.iter().sum::<f64>() / known.len().max(1) as f64
        };
        let rps = |secs: &[Second]| {
            secs.iter()
                .map(|s| s.total.map_or(0, |t| t.requests))
                .sum::<u64>() as f64
                / secs.len().max(1) as f64
        };
        let (ua, ub) = (users(first), users(last));
        Load {
            // Hand-built recordings (and interrupted seconds) may not know the user count.
            users: (ua > 0.0 && ub > 0.0).then_some((ua, ub)),
            rps: (rps(first), rps(last)),
        }
    }

    fn constant(&self) -> bool {
        self.users
            .is_none_or(|(a, b)| (a - b).abs() <= (0.05 * a.max(b)).max(1.0))
    }

    /// "at constant load (50 users, 91 → 90 req/s)" or "while users went from 20 to 50 (…)".
    fn describe(&self) -> String {
        let rps = format!(
            "{} → {} req/s",
            units::rate(self.rps.0),
            units::rate(self.rps.1)
        );
        match self.users {
            Some((a, _)) if self.constant() => {
                let users = format!("{a:.0}");
                let noun = if users == "1" { "user" } else { "users" };
                format!("while load was constant ({users} {noun}, {rps})")
            }
            Some((a, b)) => format!("while users went from {a:.0} to {b:.0} ({rps})"),
            // Hand-built recordings may not know the user count: give the rate alone.
            None => format!("at {rps}"),
        }
    }
}

/// A trend line and what it shows.
struct Trend {
    line: String,
    rising_at_constant_load: bool,
}

/// `budget` scales what counts as a material change; with `has_budget` a metric over it in both
/// thirds is reported as a steady fault.
fn latency_trend(
    what: &str,
    first: Duration,
    last: Duration,
    budget: Duration,
    load: &Load,
    has_budget: bool,
) -> Option<Trend> {
    let (a, b) = (first.as_secs_f64(), last.as_secs_f64());
    let material = (b - a).abs() >= TREND_MIN_SHARE_OF_BUDGET * budget.as_secs_f64();
    let phrase = |verb: &str| {
        format!(
            "{what} {verb} from {} in the first third of the window to {} in the last, {}",
            units::duration(first),
            units::duration(last),
            load.describe()
        )
    };
    if material && b >= a * TREND_RATIO {
        let (tail, rising_at_constant_load) = if load.constant() {
            (": saturation or a leak", true)
        } else if load.users.is_some_and(|(ua, ub)| ub > ua) {
            (": the service slows as load grows (saturation)", false)
        } else {
            (": the service slowed although load fell", false)
        };
        return Some(Trend {
            line: format!("{}{tail}", phrase("rose")),
            rising_at_constant_load,
        });
    }
    if material && a >= b * TREND_RATIO {
        return Some(Trend {
            line: format!(
                "{}: the slow part was early in the window (a warm-up: cold caches, connection \
                 pools filling?)",
                phrase("fell")
            ),
            rising_at_constant_load: false,
        });
    }
    // Over budget in both thirds and steady: a constant fault, not a drift.
    if has_budget && first >= budget && last >= budget {
        return Some(Trend {
            line: format!(
                "{what} was over budget throughout: {} in the first third of the window, {} in \
                 the last, {}",
                units::duration(first),
                units::duration(last),
                load.describe()
            ),
            rising_at_constant_load: false,
        });
    }
    None
}

/// How the error rate moved between two thirds, given each third's (requests, failures).
fn error_trend(first: (u64, u64), last: (u64, u64), load: &Load) -> Option<Trend> {
    let ((r1, f1), (r2, f2)) = (first, last);
    let (p1, p2) = (f1 as f64 / r1 as f64, f2 as f64 / r2 as f64);
    // A change is reported when it is material (at least 1 percentage point and a doubling)
    // and beyond chance: three standard errors of the difference of two proportions, so two
    // stray failures in a short run do not make a "rise".
    let pooled = (f1 + f2) as f64 / (r1 + r2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / r1 as f64 + 1.0 / r2 as f64)).sqrt();
    let significant = (p2 - p1).abs() >= 0.01 && (p2 - p1).abs() >= 3.0 * se;
    let moved = |verb: &str| {
        format!(
            "the error rate {verb} from {} in the first third of the window to {} in the last, {}",
            units::percent(p1),
            units::percent(p2),
            load.describe()
        )
    };
    let line = if significant && p2 >= 2.0 * p1 {
        moved("rose")
    } else if significant && p1 >= 2.0 * p2 {
        moved("fell")
    } else {
        return None;
    };
    Some(Trend {
        line,
        rising_at_constant_load: false,
    })
}

/// Contiguous seconds (inclusive) where failures crowded together.
#[derive(Debug, Clone, PartialEq)]
struct Burst {
    start: u32,
    end: u32,
    requests: u64,
    failures: u64,
}

/// Bursts of failures in per-second counts `(second, requests, failures)` of a window.
///
/// A second is hot when at least half its requests failed, or when its failures are 5× the
/// window's median failures per second (at least 1). Hot seconds at most one quiet second apart
/// are merged. A burst counts when it lasts at least 2 s, holds at least 5 failures, covers less
/// than two thirds of the window (else the errors are the steady state, not a burst), and fails
/// at least 5× as often per second as the rest of the window.
fn find_bursts(counts: &[(u32, u64, u64)]) -> Vec<Burst> {
    if counts.is_empty() {
        return Vec::new();
    }
    let mut fails: Vec<u64> = counts.iter().map(|c| c.2).collect();
    fails.sort_unstable();
    let median = fails[fails.len() / 2].max(1) as f64;
    let hot = |r: u64, f: u64| f >= 2 && (f * 2 >= r || f as f64 >= BURST_FACTOR * median);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (i, &(_, r, f)) in counts.iter().enumerate() {
        if !hot(r, f) {
            continue;
        }
        match spans.last_mut() {
            Some((_, end)) if counts[i].0.saturating_sub(counts[*end].0) <= BURST_MERGE_GAP + 1 => {
                *end = i
            }
            _ => spans.push((i, i)),
        }
    }
    let total_secs = counts.len() as f64;
    let total_failures: u64 = counts.iter().map(|c| c.2).sum();
    spans
        .into_iter()
        .filter_map(|(a, b)| {
            let inside = &counts[a..=b];
            let burst = Burst {
                start: counts[a].0,
                end: counts[b].0,
                requests: inside.iter().map(|c| c.1).sum(),
                failures: inside.iter().map(|c| c.2).sum(),
            };
            let secs = (burst.end - burst.start + 1) as f64;
            let outside_secs = total_secs - secs;
            let outside_rate = if outside_secs > 0.0 {
                (total_failures - burst.failures) as f64 / outside_secs
            } else {
                f64::INFINITY
            };
            let ok = burst.end - burst.start + 1 >= BURST_MIN_SECONDS
                && burst.failures >= BURST_MIN_FAILURES
                && secs * 3.0 < total_secs * 2.0
                && burst.failures as f64 / secs >= BURST_FACTOR * outside_rate;
            ok.then_some(burst)
        })
        .collect()
}

/// Why a min RPS check came out as it did.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shortfall {
    /// No shortfall (a marginal pass).
    None,
    /// The profile cannot reach the level even against an instant server.
    Profile,
    /// The service's latency caps the closed model below the level.
    Latency,
    /// Failures (timeouts, failed connections) ate the users' time.
    Errors,
    /// The users did not produce what the model allows: fewer ran, or the generator lagged.
    Generator,
}

struct Throughput {
    cause: Shortfall,
    line: String,
}

/// The evidence a hint is picked from.
#[derive(Debug, Clone, Default, PartialEq)]
struct Evidence {
    /// The most frequent failure kind, when failures are what the check is about.
    failure: Option<FailureKind>,
    /// Latency rose between the first and last thirds at constant load.
    latency_rising: bool,
    /// Little's law puts the min RPS shortfall on the service's latency.
    latency_bound_throughput: bool,
    latency_over_budget: bool,
    /// The profile cannot reach its level at all: a config mistake, not the service's.
    profile_shape: bool,
}

/// One row of the load-testing guide's Troubleshooting section, matched to evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Hint {
    ConnectionLimits,
    Timeouts,
    RateLimited,
    ServerErrors,
    Saturation,
    LowThroughput,
    HighResponseTimes,
}

impl Hint {
    /// The guide's wording (its Troubleshooting section), adapted to what was seen.
    fn line(self) -> &'static str {
        match self {
            Hint::ConnectionLimits => {
                "hint (guide, High Error Rate): connections were reset, closed or refused, which \
                 points at connection limits or resource exhaustion — check server logs, \
                 increase connection limits"
            }
            Hint::Timeouts => {
                "hint (guide, High Error Rate: connection timeouts): the server is overloaded or \
                 stuck on database slow queries — check server logs, optimize slow endpoints, \
                 increase server resources"
            }
            Hint::RateLimited => {
                "hint (guide, High Error Rate): HTTP 503/429 answers mean rate limiting or \
                 resource exhaustion (overload) — check server logs and the service's rate \
                 limits, or scale horizontally (more instances)"
            }
            Hint::ServerErrors => {
                "hint (guide, High Error Rate): server errors point at server crashes or \
                 resource exhaustion — check server logs, fix memory leaks, add error handling"
            }
            Hint::Saturation => {
                "hint (guide, High Response Times): latency climbing at constant load is \
                 saturation (server overloaded, insufficient resources) — scale horizontally \
                 (more instances), add caching, optimize slow endpoints; if it never levels off, \
                 fix memory leaks"
            }
            Hint::LowThroughput => {
                "hint (guide, Low Throughput): slow endpoints or blocking operations cap \
                 throughput — use async operations, increase worker processes, add connection \
                 pooling"
            }
            Hint::HighResponseTimes => {
                "hint (guide, High Response Times): server overloaded, database slow queries or \
                 insufficient resources — optimize slow endpoints, add caching, scale \
                 horizontally (more instances)"
            }
        }
    }
}

/// The best-matching hint: failures first (they are the most specific evidence), then a climb at
/// constant load, then a latency-bound throughput, then plain slowness. None for a profile that
/// cannot reach its level (the throughput line already says what to change) or for failures the
/// guide has nothing to say about (4xx: the request is wrong; local resources: slagate's
/// machine).
fn pick_hint(e: &Evidence) -> Option<Hint> {
    if e.profile_shape {
        return None;
    }
    if let Some(kind) = e.failure {
        return match kind {
            FailureKind::Reset
            | FailureKind::Closed
            | FailureKind::ConnectRefused
            | FailureKind::Connect
            | FailureKind::GoAway
            | FailureKind::StreamRefused => Some(Hint::ConnectionLimits),
            FailureKind::Timeout => Some(Hint::Timeouts),
            // Every slot was held: the service answered too slowly for the arrivals.
            FailureKind::Dropped => Some(Hint::HighResponseTimes),
            FailureKind::Status(429 | 503) => Some(Hint::RateLimited),
            FailureKind::Status(500..=599)
            | FailureKind::Protocol
            | FailureKind::Io
            | FailureKind::StreamReset => Some(Hint::ServerErrors),
            // The guide has no TLS row: the failure's own line says what was refused.
            // The answer lacked what the flow captures: the capture's own line says which.
            FailureKind::Status(_)
            | FailureKind::LocalResource
            | FailureKind::Tls
            | FailureKind::Capture => None,
        };
    }
    if e.latency_rising {
        return Some(Hint::Saturation);
    }
    if e.latency_bound_throughput {
        return Some(Hint::LowThroughput);
    }
    e.latency_over_budget.then_some(Hint::HighResponseTimes)
}

/// An example's text on one line, cut to a readable length.
fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= EXAMPLE_CHARS {
        flat
    } else {
        let cut: String = flat.chars().take(EXAMPLE_CHARS).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests;
