//! Baseline comparison: is a head run worse than its base, beyond a tolerance and beyond what
//! chance and the machine's run-to-run noise explain? A stage beside the pipeline: it takes
//! finished `RunReport`s (one or more base runs, one or more head runs, from
//! `report::json::load` or fresh) and returns a `Comparison`. Owns the statistics of that
//! question (`estimate`, `noise`, `family`, `significance`) and the comparison's renderings:
//! terminal table, `slagate.compare/v2` JSON and Markdown for a pull-request comment
//! (`render`), and an HTML page (`html`) with its base-against-head charts (`charts`).
//!
//! Imports plan, stats, verdict, report and units; nothing but `app` imports it. It never runs
//! load or writes files itself: `app` decides where the bytes go.
//!
//! # Method
//!
//! Every row estimates one change, head against base, with an interval, from the full
//! latency histograms and per-second counts of the runs' measured windows (never from rounded
//! figures). A row is a **regression** when its whole interval lies beyond the tolerance of
//! `[regression]` in the worse direction, an **improvement** when it lies beyond it in the
//! better one, otherwise **ok**; "n/a" when the runs have too few samples to say, with the
//! count that would.
//!
//! - **Latency** rows compare on the log scale, so a change is a ratio: `p95 +28 % [+19, +37]`
//!   means the head's p95 is 1.28× the base's. Percentiles (pN): the difference of the two
//!   runs' log quantiles, each with the standard error read off its distribution-free
//!   order-statistic interval (`verdict::confidence`; Price and Bonett's method for a ratio of
//!   medians). **shift**: the Hodges–Lehmann estimate (the median of every head/base latency
//!   ratio: how much slower the typical request is) with its Mann–Whitney interval, computed
//!   exactly over the histograms' buckets; distribution-free and, for a log-normal service,
//!   about 1.5× as efficient as comparing medians. **mean**: the ratio of means (delta
//!   method). **max**: shown, never judged: a single request is no evidence of a shift.
//! - **One row per statistic for the whole service** ("All endpoints"): the endpoints' changes
//!   combined with inverse-variance weights, stratified by endpoint (each endpoint is compared
//!   with itself, so a change in the mix or a heavy endpoint's level does not move it). It
//!   catches "slower everywhere" when no single endpoint has the samples to show it.
//! - **Error rate**: per endpoint and in total, the difference of the two failure rates in
//!   percentage points with Newcombe's hybrid score interval (good at a few failures in
//!   hundreds, where a z-interval is far too narrow). A row with no failure in either run
//!   cannot show a regression and is not counted (Tarone's rule for discrete tests).
//! - **Requests per second**: under the closed model an endpoint's rate follows from the
//!   weights and the total, so only the total is judged (log ratio of the mean per-second
//!   counts); per-endpoint rates are shown as information.
//!
//! **One false-alarm rate per comparison.** The rows that can be judged form one family, and
//! its error rate is controlled by weighted Bonferroni: half of 5 % is shared by the
//! "All endpoints" rows, half by the others (per endpoint, error rates, total rps), so the
//! chance that an unchanged build shows *any* regression is at most 5 %. Each interval is drawn
//! at its row's share (`alpha` in the JSON): the intervals hold simultaneously with 95 %
//! confidence ("95 % per comparison"). For the gate (any regression or none) Holm's step-down
//! procedure would decide exactly the same: its first step is this one.
//!
//! **Noise across runs** (`noise`). With one base and one head run only the sampling noise
//! within each run is known ("within-run"): a machine that is a few percent slower on another
//! day is absorbed by the tolerance, not by the test. With two or more base runs (a history of
//! the base branch), or a head made with `--repeat`, the spread of each statistic between runs
//! is estimated (pooled over endpoints, beyond what the runs' own sampling noise explains: a
//! random-effects model) and added to every row's variance, with Student's t at the
//! Welch–Satterthwaite degrees of freedom, so a head is a regression only when it lies beyond
//! that variation plus the tolerance ("between runs"). The "All endpoints" rows take the spread
//! as shared by every endpoint (a slow machine slows them all), the conservative choice.
//!
//! Runs are comparable only when they ran the same profile with the same load shape (users,
//! spawn rate, run time, think time) against the same endpoints: anything else is refused with
//! the difference named. What may explain a surprise without making the runs incomparable is a
//! warning: a different slagate version, a different load generator machine (each run records
//! it, `Provenance::machine`; runs saved before it was recorded cannot be told apart), or a
//! run whose own verdict was INVALID or INTERRUPTED.

mod charts;
mod estimate;
mod family;
mod html;
mod noise;
mod render;
mod reporters;
mod significance;

#[cfg(test)]
mod tests;

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::plan::{LatencyStat, LoadModel, Plan, Tolerances};
use crate::report::{ProfileInfo, RunOutcome, RunReport};
use crate::stats::EndpointStats;

use self::estimate::{Estimate, LogSample};
use self::family::Test;
use self::noise::Between;

pub use html::html;
pub use render::{explanation, json, markdown, terminal};
pub use reporters::{ComparisonReport, outputs};

/// The document version of `--json` output.
pub const SCHEMA: &str = "slagate.compare/v2";

/// The chance, per comparison, that an unchanged build shows a regression (or an improvement).
pub const FAMILY_ALPHA: f64 = 0.05;

/// The share of [`FAMILY_ALPHA`] the "All endpoints" rows divide among them; the other rows
/// share the rest.
pub const OMNIBUS_SHARE: f64 = 0.5;

/// The endpoint name of the rows that combine every endpoint (stratified).
pub const ALL_ENDPOINTS: &str = "All endpoints";
/// The endpoint name of the rows over every request pooled (error rate, rps), as Locust names
/// its total.
pub const AGGREGATED: &str = "Aggregated";

/// What one row measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    Latency(LatencyStat),
    ErrorRate,
    Rps,
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Latency(s) => s.fmt(f),
            Metric::ErrorRate => f.write_str("error rate"),
            Metric::Rps => f.write_str("rps"),
        }
    }
}

/// A row's conclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowVerdict {
    Ok,
    Regression,
    Improvement,
    /// Too few samples to judge (the row's `reason` says how many would do).
    Undecided,
    /// Shown, never judged (a maximum, a per-endpoint rate).
    Info,
}

impl RowVerdict {
    pub fn label(self) -> &'static str {
        match self {
            RowVerdict::Ok => "ok",
            RowVerdict::Regression => "regression",
            RowVerdict::Improvement => "improvement",
            RowVerdict::Undecided => "n/a",
            RowVerdict::Info => "info",
        }
    }
}

/// A latency in microseconds, as the histograms count it. Not a `Duration`: a mean falls
/// between whole nanoseconds, and the `slagate.compare/v2` document writes it unrounded.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Micros(pub f64);

impl Micros {
    pub fn of(d: Duration) -> Micros {
        Micros(d.as_secs_f64() * 1e6)
    }

    /// To the nearest nanosecond, for people.
    pub fn duration(self) -> Duration {
        Duration::from_secs_f64(self.0.max(0.0) / 1e6)
    }
}

/// One side's value of a row, in the unit of its metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    /// A latency statistic (`Metric::Latency`).
    Latency(Micros),
    /// A share of the requests, 0 to 1 (`Metric::ErrorRate`).
    Fraction(f64),
    /// Requests per second (`Metric::Rps`).
    Rate(f64),
}

impl Figure {
    /// The bare number in the figure's unit (µs, a fraction, per second), as the JSON
    /// document writes it.
    pub fn number(self) -> f64 {
        match self {
            Figure::Latency(Micros(us)) => us,
            Figure::Fraction(f) => f,
            Figure::Rate(r) => r,
        }
    }
}

/// Head against base: relative for latency and rps (0.28 = 28 % more), in percentage points
/// as a fraction for the error rate; with the row's interval when it was judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub estimate: f64,
    /// The interval at the row's share of the family's 5 %; `None` for rows shown only.
    pub interval: Option<(f64, f64)>,
}

/// Which noise a row's interval accounts for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// The sampling noise within each run, nothing between runs (one base and one head run),
    /// or pooled counts (error rates).
    WithinRun,
    /// The sampling noise plus the spread between runs estimated from them.
    BetweenRuns {
        base_runs: usize,
        head_runs: usize,
        /// The estimated spread of the statistic between runs, as a relative standard
        /// deviation (0.04 = runs differ by about ±4 % beyond their sampling noise).
        spread: f64,
        /// The degrees of freedom of the interval (Welch–Satterthwaite).
        df: f64,
    },
}

/// One endpoint's (or all endpoints', or the total's) one statistic, base against head.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The endpoint's name, [`ALL_ENDPOINTS`] or [`AGGREGATED`].
    pub endpoint: String,
    pub metric: Metric,
    /// Over the runs of each side pooled; `None` without data, and for statistics of the pair
    /// (the shift, the "All endpoints" rows).
    pub base: Option<Figure>,
    pub head: Option<Figure>,
    /// The allowed worsening: relative for latency and rps, absolute (a fraction of requests)
    /// for the error rate.
    pub tolerance: f64,
    pub change: Option<Change>,
    /// The one-sided p-value of "worse by more than the tolerance" (unadjusted: compare it
    /// with `alpha`).
    pub p_value: Option<f64>,
    /// The row's share of the family's false-alarm rate; `None` for rows not judged.
    pub alpha: Option<f64>,
    /// For latency rows: the smallest worsening (relative) that this row would catch 95 % of
    /// the time with samples like these: what "no regression" can vouch for.
    pub detectable: Option<f64>,
    pub noise: Noise,
    pub verdict: RowVerdict,
    /// Why a row is n/a, info or not counted, in a sentence.
    pub reason: Option<String>,
}

/// Who made a run and when, for the comparison's header.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub slagate_version: String,
    pub git_commit: Option<String>,
    pub started_at: std::time::SystemTime,
    pub profile: String,
}

/// Runs compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The base runs, oldest first as given; at least one.
    pub base: Vec<RunInfo>,
    /// The head runs (several with `check --repeat`); at least one.
    pub head: Vec<RunInfo>,
    pub tolerances: Tolerances,
    /// Endpoints in the base's order, each with its latency statistics in tolerance order,
    /// error rate and rps; then "All endpoints" (latency); then "Aggregated" (error rate,
    /// rps).
    pub rows: Vec<Row>,
    /// Things that do not stop the comparison but may explain a surprise (another version).
    pub warnings: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.count(RowVerdict::Regression)
    }

    pub fn count(&self, verdict: RowVerdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == verdict).count()
    }

    /// How many rows were judged together (the family the 5 % is shared by).
    pub fn judged(&self) -> usize {
        self.rows.iter().filter(|r| r.alpha.is_some()).count()
    }

    /// The noise model of the comparison: between runs when any row had it.
    pub fn noise(&self) -> Noise {
        self.rows
            .iter()
            .map(|r| r.noise)
            .find(|n| matches!(n, Noise::BetweenRuns { .. }))
            .unwrap_or(Noise::WithinRun)
    }
}

/// Why runs cannot be compared: every difference in what was run, one per line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the runs cannot be compared: {}\n  (a baseline must run the same profile with the same load shape against the same endpoints)",
    .0.join("; ")
)]
pub struct Mismatch(pub Vec<String>);

/// Compare the `head` runs to the `base` runs under `tolerances`; refuses runs of different
/// shape. Both slices must hold at least one run.
pub fn compare(
    base: &[RunReport],
    head: &[RunReport],
    tolerances: &Tolerances,
) -> Result<Comparison, Mismatch> {
    let (Some(first), Some(_)) = (base.first(), head.first()) else {
        return Err(Mismatch(vec!["no base or no head run".to_string()]));
    };
    let mut differences = Vec::new();
    let several = base.len() > 1 || head.len() > 1;
    for (b, run) in base.iter().enumerate() {
        for (h, other) in head.iter().enumerate() {
            for d in shape_differences(run, other) {
                differences.push(if several {
                    format!("base run {} against head run {}: {d}", b + 1, h + 1)
                } else {
                    d
                });
            }
        }
    }
    if !differences.is_empty() {
        differences.dedup();
        return Err(Mismatch(differences));
    }
    let warnings = warnings(base, head);
    let sides = Sides::of(base, head);
    let mut rows: Vec<Pending> = Vec::new();
    let mut all_endpoints: Vec<Pending> = Vec::new();
    let names: Vec<&str> = first.endpoints.iter().map(|e| e.name.as_str()).collect();
    let mut per_endpoint: Vec<Vec<Pending>> = names.iter().map(|_| Vec::new()).collect();
    // The shift is measured once: it gives the run effect and, when compared, its own rows.
    let shift_tolerance = tolerances
        .latency
        .iter()
        .find(|(stat, _)| *stat == LatencyStat::Shift)
        .map_or(0.0, |&(_, tol)| tol);
    let mut shift = Some(measure(&sides, &names, LatencyStat::Shift, shift_tolerance));
    let effect = run_effect(shift.as_ref().expect("just measured"));
    for &(stat, tol) in &tolerances.latency {
        let measured = match stat {
            LatencyStat::Shift if tol == shift_tolerance => shift.take(),
            _ => None,
        }
        .unwrap_or_else(|| measure(&sides, &names, stat, tol));
        let (endpoint_rows, omnibus) = latency_rows(&sides, measured, stat, tol, effect);
        for (list, row) in per_endpoint.iter_mut().zip(endpoint_rows) {
            list.push(row);
        }
        if let Some(o) = omnibus {
            all_endpoints.push(o);
        }
    }
    for (i, list) in per_endpoint.iter_mut().enumerate() {
        list.push(error_rate_row(
            names[i],
            sides.errors(Some(i)),
            tolerances.error_rate,
        ));
        list.push(endpoint_rps_row(names[i], &sides, i, tolerances.rps));
    }
    for list in per_endpoint {
        rows.extend(list);
    }
    rows.extend(all_endpoints);
    rows.push(error_rate_row(
        AGGREGATED,
        sides.errors(None),
        tolerances.error_rate,
    ));
    rows.push(total_rps_row(&sides, tolerances.rps));
    let rows = family::decide(rows);
    let info = |run: &RunReport| RunInfo {
        slagate_version: run.slagate_version.clone(),
        git_commit: run.provenance.git_commit.clone(),
        started_at: run.started_at,
        profile: run.profile.name.clone(),
    };
    Ok(Comparison {
        base: base.iter().map(info).collect(),
        head: head.iter().map(info).collect(),
        tolerances: tolerances.clone(),
        rows,
        warnings,
    })
}

/// Another version or machine, or a run that did not show the service: said, not refused.
fn warnings(base: &[RunReport], head: &[RunReport]) -> Vec<String> {
    let mut warnings = Vec::new();
    let versions = |runs: &[RunReport]| {
        let mut v: Vec<&str> = runs.iter().map(|r| r.slagate_version.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v.join(", ")
    };
    let (bv, hv) = (versions(base), versions(head));
    if bv != hv {
        warnings.push(format!(
            "the base was run by slagate {bv} and the head by slagate {hv}: a change in the load \
             generator can look like a change in the service"
        ));
    }
    fn machines(runs: &[RunReport]) -> Vec<&str> {
        let mut m: Vec<&str> = runs
            .iter()
            .filter_map(|r| r.provenance.machine.as_deref())
            .collect();
        m.sort_unstable();
        m.dedup();
        m
    }
    let (bm, hm) = (machines(base), machines(head));
    if !bm.is_empty() && !hm.is_empty() && bm != hm {
        warnings.push(format!(
            "the base ran on {} and the head on {}: a different load generator machine can look \
             like a change in the service",
            bm.join(", "),
            hm.join(", ")
        ));
    }
    for (which, runs) in [("base", base), ("head", head)] {
        for (k, run) in runs.iter().enumerate() {
            let why = match run.outcome {
                RunOutcome::Pass | RunOutcome::Fail | RunOutcome::Inconclusive => continue,
                RunOutcome::Invalid => {
                    "was INVALID: the load generator did not deliver its profile"
                }
                RunOutcome::Interrupted => "was INTERRUPTED before its run time was over",
                RunOutcome::Shard => "is one shard of a sharded run (merge the shards first)",
            };
            let name = if runs.len() > 1 {
                format!("{which} run {}", k + 1)
            } else {
                format!("{which} run")
            };
            warnings.push(format!(
                "the {name} {why}, so its figures may not show the service"
            ));
        }
    }
    warnings
}

/// The runs of one side: each run's figures, and all of them pooled.
struct Side<'a> {
    runs: &'a [RunReport],
    /// Per endpoint, the runs' histograms added up.
    pooled: Vec<Histogram<u64>>,
}

impl<'a> Side<'a> {
    fn of(runs: &'a [RunReport]) -> Side<'a> {
        let endpoints = runs[0].endpoints.len();
        let pooled = (0..endpoints)
            .map(|i| {
                let mut h = runs[0].endpoints[i].stats.latency.clone();
                for run in &runs[1..] {
                    // Same histogram bounds in every run (`stats::new_histogram`): cannot fail.
                    let _ = h.add(&run.endpoints[i].stats.latency);
                }
                h
            })
            .collect();
        Side { runs, pooled }
    }

    fn latency(&self, run: usize, endpoint: usize) -> &Histogram<u64> {
        &self.runs[run].endpoints[endpoint].stats.latency
    }

    /// Failures and requests of an endpoint (`None`: all), over every run.
    fn errors(&self, endpoint: Option<usize>) -> (u64, u64) {
        self.runs.iter().fold((0, 0), |(f, n), run| {
            let s: &EndpointStats = match endpoint {
                Some(i) => &run.endpoints[i].stats,
                None => &run.total,
            };
            (f + s.failures, n + s.requests)
        })
    }

    /// Whole seconds' request counts of every run, one after another.
    fn seconds(&self, endpoint: Option<usize>) -> Vec<f64> {
        self.runs
            .iter()
            .flat_map(|run| per_second(run, endpoint))
            .collect()
    }
}

struct Sides<'a> {
    base: Side<'a>,
    head: Side<'a>,
}

impl<'a> Sides<'a> {
    fn of(base: &'a [RunReport], head: &'a [RunReport]) -> Sides<'a> {
        Sides {
            base: Side::of(base),
            head: Side::of(head),
        }
    }

    fn errors(&self, endpoint: Option<usize>) -> ((u64, u64), (u64, u64)) {
        (self.base.errors(endpoint), self.head.errors(endpoint))
    }

    /// 1/k + 1/m: how much of the between-run spread the difference of the two sides' means
    /// carries.
    fn run_weight(&self) -> f64 {
        1.0 / self.base.runs.len() as f64 + 1.0 / self.head.runs.len() as f64
    }

    fn noise(&self, between: Option<Between>, within_var: f64) -> (Noise, f64, f64) {
        match between {
            None => (Noise::WithinRun, within_var, f64::INFINITY),
            Some(b) => {
                let c = self.run_weight();
                let var = within_var + c * b.tau2;
                let df = b.df * var * var / (c * b.ms()).powi(2);
                (
                    Noise::BetweenRuns {
                        base_runs: self.base.runs.len(),
                        head_runs: self.head.runs.len(),
                        spread: b.tau2.sqrt().exp_m1(),
                        df,
                    },
                    var,
                    df,
                )
            }
        }
    }
}

/// A row before the family is decided: its figures, and the test that will judge it (`None`
/// for rows shown only, n/a, or unable to show a regression).
pub(crate) struct Pending {
    pub row: Row,
    pub test: Option<Test>,
    /// One of the "All endpoints" rows, which share their own part of the family's 5 %.
    pub omnibus: bool,
}

fn blank(endpoint: &str, metric: Metric, tolerance: f64) -> Row {
    Row {
        endpoint: endpoint.to_string(),
        metric,
        base: None,
        head: None,
        tolerance,
        change: None,
        p_value: None,
        alpha: None,
        detectable: None,
        noise: Noise::WithinRun,
        verdict: RowVerdict::Ok,
        reason: None,
    }
}

fn latency(us: f64) -> Figure {
    Figure::Latency(Micros(us))
}

/// The statistic of one run's histogram on the log scale, for percentiles and the mean.
fn per_run(stat: LatencyStat, h: &Histogram<u64>) -> Option<Estimate> {
    match stat {
        LatencyStat::Percentile(q) => estimate::log_quantile(h, q),
        LatencyStat::Mean => estimate::log_mean(h),
        LatencyStat::Max | LatencyStat::Shift => None,
    }
}

/// How many samples each run needs for `stat`.
fn samples_needed(stat: LatencyStat) -> u64 {
    match stat {
        LatencyStat::Percentile(q) => estimate::percentile_samples(q),
        LatencyStat::Mean | LatencyStat::Shift | LatencyStat::Max => estimate::SHIFT_SAMPLES,
    }
}

/// One latency statistic measured on every endpoint: the rows' figures, the pairs' estimates
/// (head − base on the log scale, `None` where the samples are too few) and each run's own
/// value for the spread between runs.
struct Measured {
    rows: Vec<Row>,
    pairs: Vec<Option<Estimate>>,
    spreads: Vec<PerRun>,
}

/// How much runs vary on this machine, beyond their sampling noise: per endpoint (pooled) and
/// for the "All endpoints" rows (from each run's own all-endpoints value).
#[derive(Clone, Copy)]
struct RunEffect {
    endpoint: Option<Between>,
    all: Option<Between>,
}

/// The inverse-variance weights of the "All endpoints" rows: the endpoints whose pair could
/// be estimated, with their weights and the weights' total; `None` below two endpoints.
fn weights(pairs: &[Option<Estimate>]) -> Option<(Vec<(usize, f64)>, f64)> {
    let w: Vec<(usize, f64)> = pairs
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, 1.0 / (p.se * p.se))))
        .collect();
    let total = w.iter().map(|x| x.1).sum();
    (w.len() >= 2).then_some((w, total))
}

/// The run effect, estimated from the shift: the centre of a run's latencies is measured far
/// better than its tail (a run's p99 rests on a handful of requests), and a slower machine
/// moves the whole distribution, so the one spread serves every latency row.
fn run_effect(m: &Measured) -> RunEffect {
    let groups: Vec<[Vec<Estimate>; 2]> = m
        .spreads
        .iter()
        .map(|[b, h]| {
            [
                b.iter().flatten().copied().collect(),
                h.iter().flatten().copied().collect(),
            ]
        })
        .collect();
    let endpoint = noise::between_runs(&groups);
    let all = weights(&m.pairs).and_then(|(w, total)| {
        let combined = |k: usize| -> Vec<Estimate> {
            let runs = m.spreads[w[0].0][k].len();
            (0..runs)
                .filter_map(|r| {
                    let each: Option<Vec<(f64, Estimate)>> = w
                        .iter()
                        .map(|&(i, wi)| Some((wi, m.spreads[i][k].get(r).copied().flatten()?)))
                        .collect();
                    let each = each?;
                    Some(Estimate {
                        value: each.iter().map(|(w, e)| w * e.value).sum::<f64>() / total,
                        se: each
                            .iter()
                            .map(|(w, e)| (w * e.se).powi(2))
                            .sum::<f64>()
                            .sqrt()
                            / total,
                    })
                })
                .collect()
        };
        noise::between_runs(&[[combined(0), combined(1)]])
    });
    RunEffect {
        endpoint,
        all: all.or(endpoint),
    }
}

fn measure(sides: &Sides<'_>, names: &[&str], stat: LatencyStat, tol: f64) -> Measured {
    let metric = Metric::Latency(stat);
    // Per endpoint: the pair's estimate (head − base on the log scale) with its within-run
    // variance, and each run's own value (by run, on each side with two runs or more) for the
    // between-run spread.
    let mut pairs: Vec<Option<Estimate>> = Vec::new();
    let mut spreads: Vec<PerRun> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (b, h) = (&sides.base.pooled[i], &sides.head.pooled[i]);
        let mut row = blank(name, metric, tol);
        let figure = |h: &Histogram<u64>| match stat {
            _ if h.is_empty() => None,
            LatencyStat::Percentile(q) => Some(latency(h.value_at_quantile(q) as f64)),
            LatencyStat::Mean => Some(latency(h.mean())),
            LatencyStat::Max => Some(latency(h.max() as f64)),
            LatencyStat::Shift => None,
        };
        row.base = figure(b);
        row.head = figure(h);
        let base_sample = LogSample::of(b);
        // A run's own value of the statistic: for the shift, against the pooled base.
        let of_run = |h: &Histogram<u64>| match stat {
            LatencyStat::Shift => estimate::shift(&base_sample, &LogSample::of(h)),
            _ => per_run(stat, h),
        };
        let mut runs: PerRun = [Vec::new(), Vec::new()];
        if stat != LatencyStat::Max {
            for (k, side) in [&sides.base, &sides.head].into_iter().enumerate() {
                if side.runs.len() > 1 {
                    runs[k] = (0..side.runs.len())
                        .map(|r| of_run(side.latency(r, i)))
                        .collect();
                }
            }
        }
        spreads.push(runs);
        let pair = match stat {
            LatencyStat::Max => {
                row.verdict = RowVerdict::Info;
                row.reason = Some("a maximum is a single request: shown, never judged".to_string());
                if let (Some(Figure::Latency(b)), Some(Figure::Latency(h))) = (row.base, row.head)
                    && b.0 > 0.0
                {
                    row.change = Some(Change {
                        estimate: h.0 / b.0 - 1.0,
                        interval: None,
                    });
                }
                None
            }
            LatencyStat::Shift => estimate::shift(&base_sample, &LogSample::of(h)),
            LatencyStat::Percentile(_) | LatencyStat::Mean => {
                match (per_run(stat, b), per_run(stat, h)) {
                    (Some(b), Some(h)) => Some(Estimate {
                        value: h.value - b.value,
                        se: (b.se * b.se + h.se * h.se).sqrt(),
                    }),
                    _ => None,
                }
            }
        };
        if pair.is_none() && stat != LatencyStat::Max {
            row.verdict = RowVerdict::Undecided;
            row.reason = Some(format!(
                "{stat} needs ≥ {} samples in each run's window (base {}, head {})",
                samples_needed(stat),
                b.len(),
                h.len()
            ));
        }
        pairs.push(pair);
        rows.push(row);
    }
    Measured {
        rows,
        pairs,
        spreads,
    }
}

/// One latency statistic of every endpoint, judged with the run effect, and its "All
/// endpoints" row.
fn latency_rows(
    sides: &Sides<'_>,
    m: Measured,
    stat: LatencyStat,
    tol: f64,
    effect: RunEffect,
) -> (Vec<Pending>, Option<Pending>) {
    let Measured { rows, pairs, .. } = m;
    if stat == LatencyStat::Max {
        let pending = rows
            .into_iter()
            .map(|row| Pending {
                row,
                test: None,
                omnibus: false,
            })
            .collect();
        return (pending, None);
    }
    let bound = tol.ln_1p();
    let pending: Vec<Pending> = rows
        .into_iter()
        .zip(&pairs)
        .map(|(mut row, pair)| {
            let test = pair.map(|p| {
                let (noise, var, df) = sides.noise(effect.endpoint, p.se * p.se);
                row.noise = noise;
                Test::log(p.value, var, df, bound, true)
            });
            Pending {
                row,
                test,
                omnibus: false,
            }
        })
        .collect();
    // All endpoints: inverse-variance weights on the within-run noise. The between-run spread
    // is taken as shared by every endpoint (a slow machine slows them all), so it is added
    // once, not averaged away.
    let mut row = blank(ALL_ENDPOINTS, Metric::Latency(stat), tol);
    let test = match weights(&pairs) {
        Some((w, total)) => {
            let value = w
                .iter()
                .map(|&(i, wi)| wi * pairs[i].map_or(0.0, |p| p.value))
                .sum::<f64>()
                / total;
            let (noise, var, df) = sides.noise(effect.all, 1.0 / total);
            row.noise = noise;
            Some(Test::log(value, var, df, bound, true))
        }
        None => {
            let usable = pairs.iter().flatten().count();
            row.verdict = RowVerdict::Undecided;
            row.reason = Some(format!(
                "{stat} across endpoints needs two endpoints with ≥ {} samples in each run's \
                 window ({usable} {})",
                samples_needed(stat),
                if usable == 1 { "has" } else { "have" }
            ));
            None
        }
    };
    (
        pending,
        Some(Pending {
            row,
            test,
            omnibus: true,
        }),
    )
}

/// Each run's own value of a statistic, by run: the base runs and the head runs (empty for a
/// side of one run, which shows nothing about the spread between runs).
type PerRun = [Vec<Option<Estimate>>; 2];

/// The error rate of an endpoint or the total: failures and requests of base and head.
fn error_rate_row(name: &str, (b, h): ((u64, u64), (u64, u64)), tol: f64) -> Pending {
    let mut row = blank(name, Metric::ErrorRate, tol);
    let rate = |(f, n): (u64, u64)| (n > 0).then(|| f as f64 / n as f64);
    row.base = rate(b).map(Figure::Fraction);
    row.head = rate(h).map(Figure::Fraction);
    let test = match (rate(b), rate(h)) {
        (None, _) | (_, None) => {
            row.verdict = RowVerdict::Undecided;
            row.reason = Some("no requests in the base or the head window".to_string());
            None
        }
        (Some(pb), Some(ph)) if b.0 + h.0 == 0 => {
            row.change = Some(Change {
                estimate: ph - pb,
                interval: None,
            });
            row.reason = Some(
                "no failure in either run: nothing that could show a regression, so not counted"
                    .to_string(),
            );
            None
        }
        _ => Some(Test::Proportion {
            base: b,
            head: h,
            tolerance: tol,
        }),
    };
    Pending {
        row,
        test,
        omnibus: false,
    }
}

fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// An endpoint's requests per second: shown, not judged (closed model: it follows from the
/// weights and the total).
fn endpoint_rps_row(name: &str, sides: &Sides<'_>, i: usize, tol: f64) -> Pending {
    let mut row = blank(name, Metric::Rps, tol);
    let (b, h) = (
        mean(&sides.base.seconds(Some(i))),
        mean(&sides.head.seconds(Some(i))),
    );
    row.base = b.map(Figure::Rate);
    row.head = h.map(Figure::Rate);
    if let (Some(b), Some(h)) = (b, h)
        && b > 0.0
    {
        row.change = Some(Change {
            estimate: h / b - 1.0,
            interval: None,
        });
    }
    row.verdict = RowVerdict::Info;
    row.reason = Some(
        "an endpoint's rate follows from its weight and the total rate (closed model): shown, \
         the total is judged"
            .to_string(),
    );
    Pending {
        row,
        test: None,
        omnibus: false,
    }
}

/// The total requests per second: the log ratio of the mean per-second counts.
fn total_rps_row(sides: &Sides<'_>, tol: f64) -> Pending {
    let mut row = blank(AGGREGATED, Metric::Rps, tol);
    let (bs, hs) = (sides.base.seconds(None), sides.head.seconds(None));
    row.base = mean(&bs).map(Figure::Rate);
    row.head = mean(&hs).map(Figure::Rate);
    let runs = |side: &Side<'_>| -> Vec<Estimate> {
        if side.runs.len() < 2 {
            return Vec::new();
        }
        side.runs
            .iter()
            .filter_map(|r| estimate::log_rate(&per_second(r, None)))
            .collect()
    };
    let between = noise::between_runs(&[[runs(&sides.base), runs(&sides.head)]]);
    let test = match (estimate::log_rate(&bs), estimate::log_rate(&hs)) {
        (Some(b), Some(h)) => {
            let (noise, var, df) = sides.noise(between, b.se * b.se + h.se * h.se);
            row.noise = noise;
            Some(Test::log(h.value - b.value, var, df, (-tol).ln_1p(), false))
        }
        _ => {
            row.verdict = RowVerdict::Undecided;
            row.reason = Some(
                "fewer than two whole seconds with requests in a window: no spread to test \
                 against"
                    .to_string(),
            );
            None
        }
    };
    Pending {
        row,
        test,
        omnibus: false,
    }
}

/// What must be equal for two runs to be comparable, as text for naming a difference.
struct Shape {
    profile: String,
    model: &'static str,
    /// The model's own keys, (what, value), in the order shown.
    load: Vec<(&'static str, String)>,
    run_time: String,
    endpoints: String,
}

impl Shape {
    /// A run's shape: its profile and its endpoints as `METHOD name`.
    fn of(p: &ProfileInfo, endpoints: impl Iterator<Item = String>) -> Shape {
        let d = |d: Duration| humantime::format_duration(d).to_string();
        let (model, load) = match &p.load {
            LoadModel::Closed(c) => (
                "closed",
                vec![
                    ("users", c.users.to_string()),
                    ("spawn rate", c.spawn_rate.to_string()),
                    (
                        "think time",
                        format!("{}–{}", d(c.think_time.min), d(c.think_time.max)),
                    ),
                ],
            ),
            LoadModel::Open(o) => (
                "open",
                vec![
                    ("rate", o.rate().to_string()),
                    (
                        "stages",
                        o.stages
                            .iter()
                            .map(|s| format!("{}/s in {}", s.rate, d(s.length)))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    ("max_in_flight", o.max_in_flight.to_string()),
                ],
            ),
        };
        Shape {
            profile: p.name.clone(),
            model,
            load,
            run_time: d(p.run_time),
            endpoints: endpoints.collect::<Vec<_>>().join(", "),
        }
    }

    fn of_run(run: &RunReport) -> Shape {
        let endpoints = run.endpoints.iter();
        Shape::of(
            &run.profile,
            endpoints.map(|e| format!("{} {}", e.method, e.name)),
        )
    }

    /// The shape a run of `plan` will have (for `check --baseline`, before the run).
    fn of_plan(plan: &Plan) -> Shape {
        let endpoints = plan.endpoints.iter();
        Shape::of(
            &ProfileInfo::of(plan),
            endpoints.map(|e| format!("{} {}", e.method, e.name)),
        )
    }
}

/// Every way the two shapes differ.
fn differences(b: &Shape, h: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    let differ = |out: &mut Vec<String>, what: &str, x: &str, y: &str| {
        if x != y {
            out.push(format!("{what} differs (base {x}, head {y})"));
        }
    };
    differ(&mut out, "profile", &b.profile, &h.profile);
    if b.model != h.model {
        out.push(format!(
            "load model differs (base {}, head {}): a closed run's latency starts when a \
             request is written, an open run's when it was due, so a stall shows in one and \
             hides in the other; compare runs of one model",
            b.model, h.model
        ));
    } else {
        for ((what, x), (_, y)) in b.load.iter().zip(&h.load) {
            differ(&mut out, what, x, y);
        }
    }
    differ(&mut out, "run time", &b.run_time, &h.run_time);
    differ(&mut out, "endpoints", &b.endpoints, &h.endpoints);
    out
}

/// Every way the two runs differ in what was asked of the generator.
fn shape_differences(base: &RunReport, head: &RunReport) -> Vec<String> {
    differences(&Shape::of_run(base), &Shape::of_run(head))
}

/// Before a `check --baseline` run: refuse at once (not after the load) a plan that cannot be
/// compared with its baseline.
pub fn comparable(base: &RunReport, plan: &Plan) -> Result<(), Mismatch> {
    let d = differences(&Shape::of_run(base), &Shape::of_plan(plan));
    if d.is_empty() {
        Ok(())
    } else {
        Err(Mismatch(d))
    }
}

/// Requests completed in each whole second of the measured window, for one endpoint (`Some`)
/// or the total; seconds without a timeline point count as zero.
fn per_second(run: &RunReport, endpoint: Option<usize>) -> Vec<f64> {
    let start = run.window.start.as_secs();
    // Only whole seconds: the last partial second (and the drain after the run time) would
    // read as a drop in throughput.
    let end = run.window.end.as_secs();
    (start..end)
        .map(|s| {
            run.timeline
                .iter()
                .find(|p| u64::from(p.second) == s)
                .map_or(0.0, |p| {
                    let stats = match endpoint {
                        Some(i) => p.endpoints.get(i).map_or(0, |e| e.requests),
                        None => p.total.requests,
                    };
                    stats as f64
                })
        })
        .collect()
}
