//! Repeated runs (`--repeat N`): N runs of one profile, back to back, combined into one
//! measured run and judged once. Owns how per-run `Summary`s are merged and how the per-run
//! verdicts are compared (spread, flaky); it never runs anything and renders nothing.
//!
//! The merged `Summary` is what the combined verdict is judged on, with the same
//! `verdict::judge` as a single run, so every budget means the same thing:
//! - per endpoint (and in total) the latency histograms are merged, counts are added and the
//!   rates are the requests over the summed measured windows (a window-weighted mean of the
//!   per-run rates): percentiles come from the merged histogram, never from averaging the
//!   per-run percentiles;
//! - the measured windows are laid end to end: the combined window starts where run 1's did
//!   and is as long as the sum of every run's window. The timeline is run 1's (ramp-up
//!   included) followed by the measured seconds of each later run, renumbered to follow on;
//!   their ramp-ups are left out, as they are out of each run's own window. Requests a run
//!   completed after its run time (its drain) are counted in its last measured second, except
//!   for the last run, whose drain stays the drain. Level `window` checks thus cut the
//!   combined seconds as they would one long run's;
//! - load health is not merged: the combined verdict is INVALID when any run was, with each
//!   run's own invalidities (labelled with the run) instead of a re-judged merged one;
//! - an `abort_when` stop (which ends the repetition) keeps its offset, moved into the
//!   combined timeline.
//!
//! Then each check of the combined verdict gets its spread: the lowest and highest figure the
//! runs measured for it, and each run's status. A check is *flaky* when at least one run failed
//! it and at least one did not (passed, or was within budget on too few samples); its
//! diagnostic says so. Flakiness is reported, not judged: the combined status gates.

use std::time::Duration;

use crate::plan::Plan;
use crate::stats::{
    Connections, EndpointStats, KindStats, LoadHealth, SecondStats, Summary, TimelinePoint, Window,
    new_histogram,
};

use super::{Check, Status, Value, Verdict, judge};

/// How one check of the combined verdict fared run by run.
#[derive(Debug, Clone, PartialEq)]
pub struct Spread {
    /// The lowest and highest figure measured for the check across the runs (`None` when no
    /// run measured it).
    pub low: Option<Value>,
    pub high: Option<Value>,
    /// Each run's status for this check, in run order; `None` where a run had no such check
    /// (an `abort` check exists only in the run that was stopped).
    pub statuses: Vec<Option<Status>>,
    /// Some runs failed the check and others did not.
    pub flaky: bool,
}

/// N runs judged as one.
#[derive(Debug, Clone)]
pub struct Combined {
    pub runs: usize,
    /// The merged measurements (see the module docs).
    pub summary: Summary,
    /// `judge` on `summary`, plus every run's invalidities; flaky checks say so in their
    /// diagnostic.
    pub verdict: Verdict,
    /// One per check of `verdict`, in the same order.
    pub spreads: Vec<Spread>,
}

/// Merge the runs and judge them as one. `runs` holds each run's summary and its own verdict,
/// in run order, and must not be empty.
pub fn combine(plan: &Plan, runs: &[(Summary, Verdict)]) -> Combined {
    let summaries: Vec<&Summary> = runs.iter().map(|(s, _)| s).collect();
    let summary = merge(&summaries);
    let mut verdict = judge(plan, &summary);
    verdict.invalid = runs
        .iter()
        .enumerate()
        .flat_map(|(k, (_, v))| {
            v.invalid.iter().map(move |inv| {
                let mut inv = inv.clone();
                inv.figure = format!("run {}: {}", k + 1, inv.figure);
                inv
            })
        })
        .collect();
    let verdicts: Vec<&Verdict> = runs.iter().map(|(_, v)| v).collect();
    let spreads: Vec<Spread> = verdict
        .checks
        .iter()
        .map(|c| spread(c, &verdicts))
        .collect();
    for (c, s) in verdict.checks.iter_mut().zip(&spreads) {
        if s.flaky {
            let failed = s
                .statuses
                .iter()
                .filter(|st| **st == Some(Status::Fail))
                .count();
            let note = format!(
                "flaky: failed in {failed} of {} runs",
                s.statuses.iter().flatten().count()
            );
            c.diagnostic = if c.diagnostic.is_empty() {
                note
            } else {
                format!("{}; {note}", c.diagnostic.trim_end_matches('.'))
            };
        }
    }
    Combined {
        runs: runs.len(),
        summary,
        verdict,
        spreads,
    }
}

/// The same check in each run's verdict (same subject and metric), and how they compare.
pub fn spread(check: &Check, runs: &[&Verdict]) -> Spread {
    let same: Vec<Option<&Check>> = runs
        .iter()
        .map(|v| {
            v.checks
                .iter()
                .find(|c| c.subject == check.subject && c.metric == check.metric)
        })
        .collect();
    let statuses: Vec<Option<Status>> = same.iter().map(|c| c.map(|c| c.status)).collect();
    let failed = statuses.contains(&Some(Status::Fail));
    let not_failed = statuses
        .iter()
        .any(|s| matches!(s, Some(Status::Pass | Status::Inconclusive)));
    let measured: Vec<Value> = same.iter().flatten().filter_map(|c| c.measured).collect();
    let pick = |better: fn(f64, f64) -> bool| {
        measured
            .iter()
            .copied()
            .reduce(|a, b| if better(order(b), order(a)) { b } else { a })
    };
    Spread {
        low: pick(|a, b| a < b),
        high: pick(|a, b| a > b),
        statuses,
        flaky: failed && not_failed,
    }
}

/// A value's position on its own scale, to order figures of one check (always one variant).
fn order(v: Value) -> f64 {
    match v {
        Value::Latency(d) | Value::Offset(d) => d.as_secs_f64(),
        Value::Rate(x) | Value::Fraction(x) => x,
        Value::Count(n) => n as f64,
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Merge run summaries, in run order, into one (see the module docs). `runs` must not be
/// empty.
pub fn merge(runs: &[&Summary]) -> Summary {
    let first = runs.first().expect("at least one run to merge");
    let start = first.window.start;
    let length: Duration = runs.iter().map(|s| s.window.length()).sum();
    let end = start + length;
    let last = runs.last().expect("at least one run");

    let n_endpoints = first.endpoints.len();
    let mut endpoints: Vec<EndpointStats> =
        (0..n_endpoints).map(|_| EndpointStats::empty()).collect();
    let mut flows: Vec<EndpointStats> = (0..first.flows.len())
        .map(|_| EndpointStats::empty())
        .collect();
    let mut total = EndpointStats::empty();
    let mut points: Vec<TimelinePoint> = Vec::new();
    let mut aborted = None;
    // The second at which the next run's measured seconds start in the combined timeline.
    let mut cursor = ceil_secs(first.window.end);
    for (k, run) in runs.iter().enumerate() {
        let ws = run.window.start.as_secs();
        let we = ceil_secs(run.window.end);
        let is_last = k + 1 == runs.len();
        // Where this run's second `s` lands: run 1 keeps its numbering.
        let (from, to) = if k == 0 { (0, 0) } else { (ws, cursor) };
        let shift =
            |d: Duration| (d + Duration::from_secs(to)).saturating_sub(Duration::from_secs(from));
        for (mine, theirs) in endpoints.iter_mut().zip(&run.endpoints) {
            add_stats(mine, theirs, run.window.length(), &shift);
        }
        for (mine, theirs) in flows.iter_mut().zip(&run.flows) {
            add_stats(mine, theirs, run.window.length(), &shift);
        }
        add_stats(&mut total, &run.total, run.window.length(), &shift);
        for p in &run.timeline {
            let s = u64::from(p.second);
            if k > 0 && s < ws {
                continue; // a later run's ramp-up: outside every window
            }
            // An earlier run's drain counts in its last measured second.
            let s = if !is_last && s >= we {
                we.saturating_sub(1).max(ws)
            } else {
                s
            };
            let mut p = p.clone();
            p.second = u32::try_from(s + to - from).unwrap_or(u32::MAX);
            match points.iter_mut().find(|q| q.second == p.second) {
                Some(q) => add_point(q, &p),
                None => points.push(p),
            }
        }
        if aborted.is_none()
            && let Some(a) = &run.aborted
        {
            let mut a = a.clone();
            a.at = shift(a.at);
            aborted = Some(a);
        }
        if k > 0 {
            cursor += we.saturating_sub(ws);
        }
    }
    points.sort_by_key(|p| p.second);
    for st in endpoints
        .iter_mut()
        .chain(flows.iter_mut())
        .chain(std::iter::once(&mut total))
    {
        finish(st, length);
    }
    Summary {
        started_at: first.started_at,
        run_time: end,
        stopped_at: end,
        finished_at: end + last.finished_at.saturating_sub(last.stopped_at),
        window: Window { start, end },
        endpoints,
        flows,
        total,
        timeline: points,
        // Not merged: each run's validity is judged on its own (see `combine`).
        load: LoadHealth::default(),
        connections: runs.iter().fold(Connections::default(), |mut all, s| {
            all.add(&s.connections);
            all
        }),
        aborted,
        reached: runs.iter().map(|s| s.reached).sum(),
    }
}

/// Add one run's figures to the running merge; rates are accumulated as rate × window seconds
/// (requests in the window) and divided by the combined window at the end.
pub(super) fn add_stats(
    into: &mut EndpointStats,
    run: &EndpointStats,
    window: Duration,
    shift: &dyn Fn(Duration) -> Duration,
) {
    into.requests += run.requests;
    into.failures += run.failures;
    into.body_bytes += run.body_bytes;
    into.latency
        .add(&run.latency)
        .expect("every histogram has slagate's bounds");
    into.service
        .add(&run.service)
        .expect("every histogram has slagate's bounds");
    for &(status, n) in &run.statuses {
        into.add_status(status, n);
    }
    into.rps += run.rps * window.as_secs_f64();
    into.failures_per_s += run.failures_per_s * window.as_secs_f64();
    for k in &run.failures_by_kind {
        let moved = KindStats {
            first_seen: shift(k.first_seen),
            last_seen: shift(k.last_seen),
            example: k.example.clone().map(|mut ex| {
                ex.at = shift(ex.at);
                ex
            }),
            ..k.clone()
        };
        match into.failures_by_kind.iter_mut().find(|t| t.kind == k.kind) {
            Some(t) => {
                t.count += moved.count;
                t.first_seen = t.first_seen.min(moved.first_seen);
                t.last_seen = t.last_seen.max(moved.last_seen);
                if t.example.is_none() {
                    t.example = moved.example;
                }
            }
            None => into.failures_by_kind.push(moved),
        }
    }
}

/// After every `add_stats`: the accumulated rate × window seconds back into rates over the
/// combined `window`, and the failure kinds most frequent first.
pub(super) fn finish(st: &mut EndpointStats, window: Duration) {
    let secs = window.as_secs_f64();
    st.rps = if secs > 0.0 { st.rps / secs } else { 0.0 };
    st.failures_per_s = if secs > 0.0 {
        st.failures_per_s / secs
    } else {
        0.0
    };
    st.failures_by_kind
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
}

/// Two points that landed on one second (a drain folded into a last second).
fn add_point(into: &mut TimelinePoint, other: &TimelinePoint) {
    into.arrivals += other.arrivals;
    into.dropped += other.dropped;
    for (a, b) in into.endpoints.iter_mut().zip(&other.endpoints) {
        *a = add_second(a, b);
    }
    into.total = add_second(&into.total, &other.total);
}

pub(super) fn add_second(a: &SecondStats, b: &SecondStats) -> SecondStats {
    let mut hist = new_histogram();
    a.latency.add_to(&mut hist);
    b.latency.add_to(&mut hist);
    SecondStats::new(
        &hist,
        a.requests + b.requests,
        a.failures + b.failures,
        a.body_bytes + b.body_bytes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Metric;
    use crate::plan::testing::{PlanBuilder, ms, secs};
    use crate::stats::Sparse;
    use crate::verdict::{CheckMetric, Subject};
    use std::time::SystemTime;

    /// One endpoint; window [1 s, 1 + `window` s); `latencies_ms` all completed in second 1.
    fn run(latencies_ms: &[u64], failures: u64, window: u64) -> Summary {
        let mut st = EndpointStats::empty();
        for &l in latencies_ms {
            st.latency.record(l * 1000).unwrap();
        }
        st.requests = latencies_ms.len() as u64;
        st.failures = failures;
        st.rps = st.requests as f64 / window as f64;
        let second = |s: u32, hist: &hdrhistogram::Histogram<u64>, n: u64| TimelinePoint {
            arrivals: 0,
            dropped: 0,
            second: s,
            users: 1,
            endpoints: vec![SecondStats::new(hist, n, 0, 0)],
            total: SecondStats::new(hist, n, 0, 0),
        };
        let mut timeline = vec![
            second(0, &new_histogram(), 0),
            second(1, &st.latency, st.requests),
        ];
        for s in 2..=window {
            timeline.push(second(s as u32, &new_histogram(), 0));
        }
        Summary {
            started_at: SystemTime::UNIX_EPOCH,
            flows: Vec::new(),
            run_time: secs(1 + window),
            stopped_at: secs(1 + window),
            finished_at: secs(1 + window),
            window: Window {
                start: secs(1),
                end: secs(1 + window),
            },
            total: st.clone(),
            endpoints: vec![st],
            timeline,
            load: LoadHealth::default(),
            connections: Default::default(),
            aborted: None,
            reached: latencies_ms.len() as u64,
        }
    }

    #[test]
    fn counts_add_and_percentiles_come_from_the_merged_histogram() {
        // Run 1: 90 fast requests; run 2: 10 slow ones. The merged p95 is a slow request;
        // the mean of the two runs' p95s (10 ms and 500 ms) would be 255 ms.
        let a = run(&[10; 90], 1, 2);
        let b = run(&[500; 10], 2, 3);
        let m = merge(&[&a, &b]);
        let e = &m.endpoints[0];
        assert_eq!(e.requests, 100);
        assert_eq!(e.failures, 3);
        assert_eq!(m.total.requests, 100);
        let p95 = e.quantile(0.95).unwrap();
        assert!(
            (Duration::from_millis(499)..=Duration::from_millis(501)).contains(&p95),
            "{p95:?}"
        );
        assert_eq!(e.quantile(0.5).unwrap().as_millis(), 10);
        // 100 requests over 2 s + 3 s of windows.
        assert!((e.rps - 20.0).abs() < 1e-9, "{}", e.rps);
        assert_eq!(m.window.length(), secs(5));
        assert_eq!(m.window.start, secs(1));
        // Run 1's seconds 0..3, then run 2's measured seconds 1..4 renumbered as 3..6.
        let seconds: Vec<u32> = m.timeline.iter().map(|p| p.second).collect();
        assert_eq!(seconds, [0, 1, 2, 3, 4, 5]);
        assert_eq!(m.timeline[3].total.requests, 10);
        let in_timeline: u64 = m.timeline.iter().map(|p| p.total.requests).sum();
        assert_eq!(in_timeline, 100);
    }

    #[test]
    fn an_earlier_runs_drain_lands_in_its_last_measured_second() {
        let mut a = run(&[10; 4], 0, 2);
        let mut drained = new_histogram();
        drained.record(900_000).unwrap();
        a.timeline.push(TimelinePoint {
            arrivals: 0,
            dropped: 0,
            second: 3,
            users: 0,
            endpoints: vec![SecondStats::new(&drained, 1, 0, 0)],
            total: SecondStats::new(&drained, 1, 0, 0),
        });
        let b = run(&[10; 4], 0, 2);
        let m = merge(&[&a, &b]);
        let seconds: Vec<u32> = m.timeline.iter().map(|p| p.second).collect();
        assert_eq!(seconds, [0, 1, 2, 3, 4]);
        assert_eq!(m.timeline[2].total.requests, 1);
        assert_eq!(m.timeline[2].total.p99_us, Some(drained.max()));
        assert!(!m.timeline[2].total.latency.is_empty());
        assert_ne!(m.timeline[2].total.latency, Sparse::default());
    }

    fn check(status: Status, measured_ms: u64) -> Check {
        let mut c = Check::new(
            Subject::Endpoint(0),
            CheckMetric::Latency(Metric::Max),
            Value::Latency(Duration::from_millis(100)),
            10,
            None,
        );
        c.status = status;
        c.measured = Some(Value::Latency(Duration::from_millis(measured_ms)));
        c
    }

    fn verdict(c: Check) -> Verdict {
        Verdict {
            checks: vec![c],
            invalid: vec![],
        }
    }

    #[test]
    fn runs_that_disagree_make_a_check_flaky() {
        let cases = [
            ([Status::Pass, Status::Fail, Status::Pass], true),
            ([Status::Fail, Status::Fail, Status::Fail], false),
            ([Status::Pass, Status::Pass, Status::Pass], false),
            ([Status::Inconclusive, Status::Fail, Status::Pass], true),
            ([Status::Inconclusive, Status::Pass, Status::Pass], false),
        ];
        for (statuses, flaky) in cases {
            let runs: Vec<Verdict> = statuses
                .iter()
                .zip([80, 120, 90])
                .map(|(s, ms)| verdict(check(*s, ms)))
                .collect();
            let refs: Vec<&Verdict> = runs.iter().collect();
            let s = spread(&check(Status::Pass, 95), &refs);
            assert_eq!(s.flaky, flaky, "{statuses:?}");
            assert_eq!(
                s.statuses,
                statuses.iter().map(|s| Some(*s)).collect::<Vec<_>>()
            );
            assert_eq!(s.low, Some(Value::Latency(Duration::from_millis(80))));
            assert_eq!(s.high, Some(Value::Latency(Duration::from_millis(120))));
        }
    }

    #[test]
    fn a_check_missing_from_a_run_is_neither_pass_nor_fail() {
        let other = Verdict {
            checks: vec![],
            invalid: vec![],
        };
        let failed = verdict(check(Status::Fail, 120));
        let s = spread(&check(Status::Fail, 120), &[&other, &failed]);
        assert_eq!(s.statuses, [None, Some(Status::Fail)]);
        assert!(!s.flaky);
    }

    /// One endpoint `/e0` with `max < 100 ms`, no level.
    fn max_plan() -> Plan {
        PlanBuilder::new()
            .endpoint("/e0", |e| e.budget(Metric::Max, ms(100)))
            .run_time(secs(3))
            .build()
    }

    #[test]
    fn combine_judges_the_merged_runs_and_marks_the_disagreement() {
        let plan = max_plan();
        let runs: Vec<(Summary, Verdict)> = [10, 500, 10]
            .iter()
            .map(|&ms| {
                let s = run(&[ms; 20], 0, 2);
                let v = judge(&plan, &s);
                (s, v)
            })
            .collect();
        assert_eq!(runs[1].1.checks[0].status, Status::Fail);
        assert_eq!(runs[0].1.checks[0].status, Status::Pass);
        let c = combine(&plan, &runs);
        assert_eq!(c.runs, 3);
        assert_eq!(c.summary.endpoints[0].requests, 60);
        let max = &c.verdict.checks[0];
        // The merged max is run 2's: the combination fails as a long run would.
        assert_eq!(max.status, Status::Fail);
        assert!(c.spreads[0].flaky);
        assert!(
            max.diagnostic.ends_with("; flaky: failed in 1 of 3 runs"),
            "{}",
            max.diagnostic
        );
        // Coverage passed in every run: not flaky, no note.
        assert!(!c.spreads[1].flaky);
        assert!(!c.verdict.checks[1].diagnostic.contains("flaky"));
        assert_eq!(c.spreads.len(), c.verdict.checks.len());
    }
}
