//! Regression tolerances resolved from `[regression]`, with the defaults filled in.

use crate::config::{RegressionKey, SlaFile};

/// The latency statistic a tolerance applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatencyStat {
    /// The quantile, strictly between 0 and 1.
    Percentile(f64),
    Max,
    Mean,
    /// The centre of the distribution, as the Hodges–Lehmann shift between two runs (the
    /// median of every head/base latency ratio): a statistic of a pair of runs, not of one.
    Shift,
}

impl std::fmt::Display for LatencyStat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Rounded so that 0.999 prints as p99.9, not p99.90000000000001.
            LatencyStat::Percentile(q) => write!(f, "p{}", (q * 1e5).round() / 1e3),
            LatencyStat::Max => f.write_str("max"),
            LatencyStat::Mean => f.write_str("mean"),
            LatencyStat::Shift => f.write_str("shift"),
        }
    }
}

/// How much worse than its baseline a head run may be before it is a regression.
#[derive(Debug, Clone, PartialEq)]
pub struct Tolerances {
    /// Relative increase allowed per latency statistic (0.1 = 10 %), in the order compared.
    pub latency: Vec<(LatencyStat, f64)>,
    /// Rise in error rate allowed, as a fraction of requests (0.001 = 0.1 percentage points).
    pub error_rate: f64,
    /// Relative drop in requests per second allowed (0.1 = 10 %).
    pub rps: f64,
}

impl Default for Tolerances {
    /// The shift +5 % (the centre: more precise than p50, which it replaces by default); p95
    /// and p99 each +10 %; error rate +0.1 percentage points; rps −10 %.
    fn default() -> Self {
        Tolerances {
            latency: vec![
                (LatencyStat::Shift, 0.05),
                (LatencyStat::Percentile(0.95), 0.1),
                (LatencyStat::Percentile(0.99), 0.1),
            ],
            error_rate: 0.001,
            rps: 0.1,
        }
    }
}

/// The tolerances of an sla file: a `[regression]` table that names any latency statistic
/// replaces the default set (p50, p95, p99) with the ones it names, so a team can stop
/// comparing p99; `error_rate` and `rps` each keep their default unless written.
pub fn tolerances(sla: &SlaFile) -> Tolerances {
    let mut t = Tolerances::default();
    let Some(spec) = &sla.regression else {
        return t;
    };
    if !spec.latency.is_empty() {
        t.latency = spec
            .latency
            .iter()
            .map(|(key, tol)| {
                let stat = match *key {
                    RegressionKey::Percentile { quantile } => LatencyStat::Percentile(quantile),
                    RegressionKey::Max => LatencyStat::Max,
                    RegressionKey::Mean => LatencyStat::Mean,
                    RegressionKey::Shift => LatencyStat::Shift,
                };
                (stat, *tol.get_ref())
            })
            .collect();
    }
    if let Some(e) = &spec.error_rate {
        t.error_rate = *e.get_ref();
    }
    if let Some(r) = &spec.rps {
        t.rps = *r.get_ref();
    }
    t
}
