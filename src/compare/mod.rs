//! Baseline comparison: is a head run worse than its base run, beyond a tolerance and beyond
//! what chance explains? A stage beside the pipeline: it takes two finished `RunReport`s (from
//! `report::json::load` or a fresh run) and returns a `Comparison`. Owns the statistics of that
//! question (`significance`) and the comparison's renderings: terminal table, `slagate.compare/v1`
//! JSON and Markdown for a pull-request comment (`render`), and an HTML page (`html`) with its
//! base-against-head charts (`charts`), built in the run report's page shell and chart frame.
//!
//! Imports plan, stats, verdict, report and units; nothing but `app` imports it. It never runs
//! load or writes files itself: `app` decides where the bytes go.
//!
//! # Method
//!
//! Every endpoint, and the total, is compared statistic by statistic, from the full latency
//! histograms and per-second counts of the two runs' measured windows (never from rounded
//! figures). A row is a **regression** when the head is worse than the base by more than the
//! tolerance of `[regression]` *and* the data show it at 95 % confidence; an **improvement**
//! when it is better by more than the tolerance at the same confidence; otherwise **ok**.
//! "Significant" in the table says whether the two runs differ at all (tolerance 0). The
//! delta compares point estimates, the verdict confidence bounds: a row that is ok though its
//! delta is beyond the tolerance carries a note saying why (the runs differ, but at 95 % the
//! head is not shown worse by more than the tolerance; too few samples; a maximum).
//!
//! - **Percentiles** (pN): the distribution-free 95 % confidence intervals of
//!   `verdict::confidence` (order statistics; no assumption about the latency distribution).
//!   Regression when the head's lower bound exceeds the base's upper bound × (1 + tolerance).
//!   If the head's true percentile is at most the base's × (1 + tolerance), this can only
//!   happen when the head's interval misses above or the base's misses below, so the chance of
//!   a false regression is at most the sum of those two tails: ≤ 5 % (≤ 7.5 % at the smallest
//!   samples, where the base's upper end is its largest sample). It is conservative: with equal
//!   runs both intervals must miss, in opposite directions, and by the tolerance. Too few
//!   samples for an interval (fewer than 59 for p95, 299 for p99) → the row is ok, "n/a".
//! - **Mean**: a one-sided Welch z-test (means and variances from the histograms; the sample
//!   sizes are hundreds) of H₀: μ_head ≤ μ_base × (1 + tolerance), rejected at p < 0.025.
//! - **Max**: shown, never significant: a single sample is no evidence of a shift.
//! - **Error rate**: a one-sided two-proportion z-test (unpooled, since H₀ is not equality) of
//!   H₀: p_head − p_base ≤ tolerance (in percentage points), rejected at p < 0.025.
//! - **Requests per second**: a one-sided Welch t-test on the requests completed in each whole
//!   second of the two measured windows, H₀: μ_head ≥ μ_base × (1 − tolerance), rejected at
//!   p < 0.025 (Student's t with Welch–Satterthwaite degrees of freedom).
//!
//! So every row has a false-positive rate of at most 5 % (2.5 % for the z- and t-tests). The
//! rows of one comparison are not corrected for multiplicity: with the default tolerances two
//! equal runs almost never show one (the tests measure 20 pairs of equal runs), but a run with
//! many endpoints gets many chances.
//!
//! Runs are comparable only when they ran the same profile with the same load shape (users,
//! spawn rate, run time, think time) against the same endpoints: anything else is refused with
//! the difference named. What may explain a surprise without making the runs incomparable is a
//! warning: a different slagate version, a different load generator machine (each run records
//! it, `Provenance::machine`; runs saved before it was recorded cannot be told apart), or a
//! base or head whose own verdict was INVALID or INTERRUPTED.

mod charts;
mod html;
mod render;
mod reporters;
mod significance;

#[cfg(test)]
mod tests;

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::plan::{LatencyStat, Plan, Tolerances};
use crate::report::{ProfileInfo, RunOutcome, RunReport};
use crate::stats::EndpointStats;
use crate::verdict::confidence;

pub use html::html;
pub use render::{json, markdown, terminal};
pub use reporters::{ComparisonReport, outputs};

/// The document version of `--json` output.
pub const SCHEMA: &str = "slagate.compare/v1";

/// The one-sided significance level of the z- and t-tests.
pub const ALPHA: f64 = 0.025;

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
}

impl RowVerdict {
    pub fn label(self) -> &'static str {
        match self {
            RowVerdict::Ok => "ok",
            RowVerdict::Regression => "regression",
            RowVerdict::Improvement => "improvement",
        }
    }
}

/// A latency in microseconds, as the histograms count it. Not a `Duration`: a mean falls
/// between whole nanoseconds, and the `slagate.compare/v1` document writes it unrounded.
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

/// A 95 % interval of a percentile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    pub low: Micros,
    pub high: Micros,
}

/// One endpoint's (or the total's) one statistic, base against head.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The endpoint's name, or "Aggregated".
    pub endpoint: String,
    pub metric: Metric,
    /// `None` without data.
    pub base: Option<Figure>,
    pub head: Option<Figure>,
    /// The allowed worsening: relative for latency and rps, absolute (a fraction of requests)
    /// for the error rate.
    pub tolerance: f64,
    /// Whether the two runs differ at 95 % (ignoring the tolerance); `None` when the sample
    /// cannot say (too few samples for an interval, or a max).
    pub significant: Option<bool>,
    /// The one-sided p-value of "worse by more than the tolerance", for the z- and t-tests.
    pub p_value: Option<f64>,
    /// The percentiles' 95 % intervals.
    pub base_interval: Option<Bounds>,
    pub head_interval: Option<Bounds>,
    pub verdict: RowVerdict,
}

impl Row {
    /// Head against base: relative for latency and rps, in percentage points (as a fraction)
    /// for the error rate.
    pub fn delta(&self) -> Option<f64> {
        let (b, h) = (self.base?.number(), self.head?.number());
        match self.metric {
            Metric::ErrorRate => Some(h - b),
            _ if b > 0.0 => Some(h / b - 1.0),
            _ => None,
        }
    }
}

/// Who made a run and when, for the comparison's header.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    pub slagate_version: String,
    pub git_commit: Option<String>,
    pub started_at: std::time::SystemTime,
    pub profile: String,
}

/// Two runs compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub base: RunInfo,
    pub head: RunInfo,
    pub tolerances: Tolerances,
    /// Endpoints in the base's order, the total last; within each, latency statistics in
    /// tolerance order, then error rate, then rps.
    pub rows: Vec<Row>,
    /// Things that do not stop the comparison but may explain a surprise (another version).
    pub warnings: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == RowVerdict::Regression)
            .count()
    }
}

/// Why two runs cannot be compared: every difference in what was run, one per line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the runs cannot be compared: {}\n  (a baseline must run the same profile with the same load shape against the same endpoints)",
    .0.join("; ")
)]
pub struct Mismatch(pub Vec<String>);

/// Compare `head` to `base` under `tolerances`; refuses runs of different shape.
pub fn compare(
    base: &RunReport,
    head: &RunReport,
    tolerances: &Tolerances,
) -> Result<Comparison, Mismatch> {
    let differences = shape_differences(base, head);
    if !differences.is_empty() {
        return Err(Mismatch(differences));
    }
    let mut warnings = Vec::new();
    if base.slagate_version != head.slagate_version {
        warnings.push(format!(
            "the base was run by slagate {} and the head by slagate {}: a change in the load \
             generator can look like a change in the service",
            base.slagate_version, head.slagate_version
        ));
    }
    if let (Some(b), Some(h)) = (&base.provenance.machine, &head.provenance.machine)
        && b != h
    {
        warnings.push(format!(
            "the base ran on {b} and the head on {h}: a different load generator machine can \
             look like a change in the service"
        ));
    }
    for (which, run) in [("base", base), ("head", head)] {
        let why = match run.outcome {
            RunOutcome::Pass | RunOutcome::Fail | RunOutcome::Inconclusive => continue,
            RunOutcome::Invalid => "was INVALID: the load generator did not deliver its profile",
            RunOutcome::Interrupted => "was INTERRUPTED before its run time was over",
        };
        warnings.push(format!(
            "the {which} run {why}, so its figures may not show the service"
        ));
    }
    let mut rows = Vec::new();
    let subjects = base
        .endpoints
        .iter()
        .zip(&head.endpoints)
        .enumerate()
        .map(|(i, (b, h))| (b.name.as_str(), &b.stats, &h.stats, Some(i)))
        .chain(std::iter::once((
            "Aggregated",
            &base.total,
            &head.total,
            None,
        )));
    for (name, b, h, index) in subjects {
        for &(stat, tol) in &tolerances.latency {
            rows.push(latency_row(name, stat, &b.latency, &h.latency, tol));
        }
        rows.push(error_rate_row(name, b, h, tolerances.error_rate));
        let base_counts = per_second(base, index);
        let head_counts = per_second(head, index);
        rows.push(rps_row(name, &base_counts, &head_counts, tolerances.rps));
    }
    let info = |run: &RunReport| RunInfo {
        slagate_version: run.slagate_version.clone(),
        git_commit: run.provenance.git_commit.clone(),
        started_at: run.started_at,
        profile: run.profile.name.clone(),
    };
    Ok(Comparison {
        base: info(base),
        head: info(head),
        tolerances: tolerances.clone(),
        rows,
        warnings,
    })
}

/// What must be equal for two runs to be comparable, as text for naming a difference.
struct Shape {
    profile: String,
    users: String,
    spawn_rate: String,
    run_time: String,
    think_time: String,
    endpoints: String,
}

impl Shape {
    /// A run's shape: its profile and its endpoints as `METHOD name`.
    fn of(p: &ProfileInfo, endpoints: impl Iterator<Item = String>) -> Shape {
        Shape {
            profile: p.name.clone(),
            users: p.users.to_string(),
            spawn_rate: p.spawn_rate.to_string(),
            run_time: humantime::format_duration(p.run_time).to_string(),
            think_time: format!(
                "{}–{}",
                humantime::format_duration(p.think_time.min),
                humantime::format_duration(p.think_time.max)
            ),
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
    for (what, x, y) in [
        ("profile", &b.profile, &h.profile),
        ("users", &b.users, &h.users),
        ("spawn rate", &b.spawn_rate, &h.spawn_rate),
        ("run time", &b.run_time, &h.run_time),
        ("think time", &b.think_time, &h.think_time),
        ("endpoints", &b.endpoints, &h.endpoints),
    ] {
        if x != y {
            out.push(format!("{what} differs (base {x}, head {y})"));
        }
    }
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

fn bounds(h: &Histogram<u64>, q: f64) -> Option<Bounds> {
    confidence::interval(h, q).map(|i| Bounds {
        low: Micros::of(i.low),
        high: Micros::of(i.high),
    })
}

/// One latency statistic, by the method of the module docs.
pub fn latency_row(
    endpoint: &str,
    stat: LatencyStat,
    base: &Histogram<u64>,
    head: &Histogram<u64>,
    tolerance: f64,
) -> Row {
    let mut row = Row {
        endpoint: endpoint.to_string(),
        metric: Metric::Latency(stat),
        base: None,
        head: None,
        tolerance,
        significant: None,
        p_value: None,
        base_interval: None,
        head_interval: None,
        verdict: RowVerdict::Ok,
    };
    if base.is_empty() || head.is_empty() {
        return row;
    }
    match stat {
        LatencyStat::Percentile(q) => {
            row.base = Some(latency(base.value_at_quantile(q) as f64));
            row.head = Some(latency(head.value_at_quantile(q) as f64));
            row.base_interval = bounds(base, q);
            row.head_interval = bounds(head, q);
            if let (Some(b), Some(h)) = (row.base_interval, row.head_interval) {
                let (b_low, b_high, h_low, h_high) = (b.low.0, b.high.0, h.low.0, h.high.0);
                row.significant = Some(h_low > b_high || h_high < b_low);
                row.verdict = if h_low > b_high * (1.0 + tolerance) {
                    RowVerdict::Regression
                } else if h_high * (1.0 + tolerance) < b_low {
                    RowVerdict::Improvement
                } else {
                    RowVerdict::Ok
                };
            }
        }
        LatencyStat::Max => {
            row.base = Some(latency(base.max() as f64));
            row.head = Some(latency(head.max() as f64));
        }
        LatencyStat::Mean => {
            let (b, h) = (moments(base), moments(head));
            row.base = Some(latency(b.mean));
            row.head = Some(latency(h.mean));
            // H₀: μh ≤ μb(1+t): z = (μh − (1+t)μb) / √(σh²/nh + (1+t)²σb²/nb).
            let worse = significance::welch_z(h, b, 1.0 + tolerance);
            let better = significance::welch_z(b, h, 1.0 + tolerance);
            let differ = significance::welch_z(h, b, 1.0).abs();
            row.p_value = Some(significance::normal_sf(worse));
            row.significant = Some(significance::normal_sf(differ) < ALPHA);
            row.verdict = verdict(
                significance::normal_sf(worse),
                significance::normal_sf(better),
            );
        }
    }
    row
}

fn latency(us: f64) -> Figure {
    Figure::Latency(Micros(us))
}

fn verdict(p_worse: f64, p_better: f64) -> RowVerdict {
    if p_worse < ALPHA {
        RowVerdict::Regression
    } else if p_better < ALPHA {
        RowVerdict::Improvement
    } else {
        RowVerdict::Ok
    }
}

/// Sample size, mean and variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    pub var: f64,
}

fn moments(h: &Histogram<u64>) -> Moments {
    let n = h.len() as f64;
    let sd = h.stdev();
    Moments {
        n,
        mean: h.mean(),
        // HdrHistogram's stdev divides by n; the unbiased variance divides by n − 1.
        var: if n > 1.0 {
            sd * sd * n / (n - 1.0)
        } else {
            0.0
        },
    }
}

/// The error rate, by a one-sided two-proportion z-test against the tolerance.
pub fn error_rate_row(
    endpoint: &str,
    base: &EndpointStats,
    head: &EndpointStats,
    tolerance: f64,
) -> Row {
    let mut row = Row {
        endpoint: endpoint.to_string(),
        metric: Metric::ErrorRate,
        base: (base.requests > 0).then(|| Figure::Fraction(base.error_rate())),
        head: (head.requests > 0).then(|| Figure::Fraction(head.error_rate())),
        tolerance,
        significant: None,
        p_value: None,
        base_interval: None,
        head_interval: None,
        verdict: RowVerdict::Ok,
    };
    if base.requests == 0 || head.requests == 0 {
        return row;
    }
    let (nb, nh) = (base.requests as f64, head.requests as f64);
    let (pb, ph) = (base.error_rate(), head.error_rate());
    let se = (pb * (1.0 - pb) / nb + ph * (1.0 - ph) / nh).sqrt();
    // With no variance at all (no failure in either run, or every request failing) the rates
    // are what they are: the difference is certain.
    let sf = |diff: f64| {
        if se > 0.0 {
            significance::normal_sf(diff / se)
        } else if diff > 0.0 {
            0.0
        } else {
            1.0
        }
    };
    let p_worse = sf(ph - pb - tolerance);
    let p_better = sf(pb - ph - tolerance);
    row.p_value = Some(p_worse);
    row.significant = Some(sf((ph - pb).abs()) < ALPHA && ph != pb);
    row.verdict = verdict(p_worse, p_better);
    row
}

/// Requests per second, by a one-sided Welch t-test on the per-second counts.
pub fn rps_row(endpoint: &str, base: &[f64], head: &[f64], tolerance: f64) -> Row {
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let mut row = Row {
        endpoint: endpoint.to_string(),
        metric: Metric::Rps,
        base: (!base.is_empty()).then(|| Figure::Rate(mean(base))),
        head: (!head.is_empty()).then(|| Figure::Rate(mean(head))),
        tolerance,
        significant: None,
        p_value: None,
        base_interval: None,
        head_interval: None,
        verdict: RowVerdict::Ok,
    };
    // A variance needs two seconds on each side.
    if base.len() < 2 || head.len() < 2 {
        return row;
    }
    let b = significance::sample(base);
    let h = significance::sample(head);
    // Worse = fewer requests: H₀: μh ≥ (1−t)μb; t-statistic of (1−t)μb − μh.
    let p_worse = significance::welch_t_sf(b, h, 1.0 - tolerance);
    // Better = more requests by more than the tolerance: (1−t)μh > μb.
    let p_better = significance::welch_t_sf(h, b, 1.0 - tolerance);
    let p_differ = significance::welch_t_sf(b, h, 1.0).min(significance::welch_t_sf(h, b, 1.0));
    row.p_value = Some(p_worse);
    row.significant = Some(p_differ < ALPHA);
    row.verdict = verdict(p_worse, p_better);
    row
}
