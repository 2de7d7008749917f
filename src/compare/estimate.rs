//! The estimators behind every row: each statistic of a run (or of a pair of runs, for the
//! shift) on the log scale, with its standard error from the run's own samples. Latencies are
//! compared as ratios, so logs make a change symmetric (×1.3 and ÷1.3 are ±0.262) and the
//! tolerance one number; the standard errors are distribution-free where the statistic allows.

use hdrhistogram::Histogram;

use crate::verdict::confidence;

/// A statistic (on the log scale for latencies and rates; as a fraction for error rates) and
/// the standard error of its sampling noise within the run(s) it was computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimate {
    pub value: f64,
    pub se: f64,
}

/// The 95 % two-sided normal quantile: standard errors are read off 95 % intervals.
const Z95: f64 = 1.959_963_984_540_054;

/// The smallest standard error a latency statistic is given: HdrHistogram buckets are 0.1 %
/// wide (3 significant digits), so two runs whose samples all fall in one bucket still differ
/// by that much at most, not by nothing.
const RESOLUTION: f64 = 1e-3;

/// The samples of a histogram as sorted (ln µs, count) pairs of its non-empty buckets.
pub(crate) struct LogSample {
    points: Vec<(f64, f64)>,
    n: f64,
}

impl LogSample {
    pub fn of(h: &Histogram<u64>) -> LogSample {
        let points: Vec<(f64, f64)> = h
            .iter_recorded()
            .map(|v| {
                let us = h.median_equivalent(v.value_iterated_to()).max(1);
                ((us as f64).ln(), v.count_at_value() as f64)
            })
            .collect();
        let n = points.iter().map(|p| p.1).sum();
        LogSample { points, n }
    }

    pub fn len(&self) -> u64 {
        self.n as u64
    }

    /// The Mann–Whitney count of `head − d` against `self`: pairs (base x, head y) with
    /// y − d > x, ties counted as a half. Non-increasing in `d`; one merge of the two sorted
    /// bucket lists, so a run of a million requests costs its few thousand buckets.
    fn mann_whitney(&self, head: &LogSample, d: f64) -> f64 {
        let (mut below, mut i, mut u) = (0.0, 0, 0.0);
        for &(y, w) in &head.points {
            let y = y - d;
            while i < self.points.len() && self.points[i].0 < y {
                below += self.points[i].1;
                i += 1;
            }
            let tied = self.points.get(i).filter(|p| p.0 == y).map_or(0.0, |p| p.1);
            u += w * (below + tied / 2.0);
        }
        u
    }

    /// The shift `d` at which the Mann–Whitney count falls to `target`, by bisection over the
    /// range of possible differences (U is a step function: this finds its crossing).
    fn shift_where(&self, head: &LogSample, target: f64) -> f64 {
        let (Some(x0), Some(x1), Some(y0), Some(y1)) = (
            self.points.first(),
            self.points.last(),
            head.points.first(),
            head.points.last(),
        ) else {
            return 0.0;
        };
        let (mut lo, mut hi) = (y0.0 - x1.0 - 1.0, y1.0 - x0.0 + 1.0);
        for _ in 0..80 {
            let mid = (lo + hi) / 2.0;
            if self.mann_whitney(head, mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (lo + hi) / 2.0
    }
}

/// The fewest samples in each run for the shift's normal approximation of Mann–Whitney.
pub(crate) const SHIFT_SAMPLES: u64 = 10;

/// The Hodges–Lehmann shift of `head` against `base` on the log scale (the median of every
/// ln(head/base) latency ratio: how much slower the typical request is), with the standard
/// error read off its 95 % Mann–Whitney interval. Distribution-free and, for a log-normal
/// service, 95 % as efficient as the mean of the logs, far more than a median (64 %).
pub(crate) fn shift(base: &LogSample, head: &LogSample) -> Option<Estimate> {
    if base.len() < SHIFT_SAMPLES || head.len() < SHIFT_SAMPLES {
        return None;
    }
    let (n, m) = (base.n, head.n);
    let centre = n * m / 2.0;
    let sd = (n * m * (n + m + 1.0) / 12.0).sqrt();
    let value = base.shift_where(head, centre);
    let low = base.shift_where(head, centre + Z95 * sd);
    let high = base.shift_where(head, centre - Z95 * sd);
    Some(Estimate {
        value,
        se: ((high - low) / (2.0 * Z95)).max(RESOLUTION),
    })
}

/// The fewest samples for a percentile row: enough for its distribution-free interval, at
/// least five expected beyond the percentile (below that the interval's upper end is the run's
/// maximum, a single request) and at least ten.
pub(crate) fn percentile_samples(q: f64) -> u64 {
    let tail = (5.0 / (1.0 - q).min(q)).ceil() as u64;
    confidence::samples_needed(q).max(tail).max(10)
}

/// ln of the q-quantile, with the standard error read off its distribution-free 95 % interval
/// (order statistics, as Price and Bonett do for a ratio of medians).
pub(crate) fn log_quantile(h: &Histogram<u64>, q: f64) -> Option<Estimate> {
    if h.len() < percentile_samples(q) {
        return None;
    }
    let i = confidence::interval(h, q)?;
    let (low, high) = (i.low.as_secs_f64() * 1e6, i.high.as_secs_f64() * 1e6);
    let value = h.value_at_quantile(q).max(1) as f64;
    if low <= 0.0 {
        return None;
    }
    Some(Estimate {
        value: value.ln(),
        se: ((high.ln() - low.ln()) / (2.0 * Z95)).max(RESOLUTION),
    })
}

/// ln of the mean latency, its standard error by the delta method (sd / (√n · mean)).
pub(crate) fn log_mean(h: &Histogram<u64>) -> Option<Estimate> {
    let n = h.len() as f64;
    if n < SHIFT_SAMPLES as f64 || h.mean() <= 0.0 {
        return None;
    }
    let sd = h.stdev() * (n / (n - 1.0)).sqrt();
    Some(Estimate {
        value: h.mean().ln(),
        se: (sd / (n.sqrt() * h.mean())).max(RESOLUTION),
    })
}

/// ln of the mean requests per second over whole seconds, its standard error from their
/// spread (sd / (√k · mean)); `None` below two seconds or with no request at all.
pub(crate) fn log_rate(per_second: &[f64]) -> Option<Estimate> {
    let k = per_second.len() as f64;
    if per_second.len() < 2 {
        return None;
    }
    let mean = per_second.iter().sum::<f64>() / k;
    if mean <= 0.0 {
        return None;
    }
    let var = per_second.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k - 1.0);
    Some(Estimate {
        value: mean.ln(),
        se: (var.sqrt() / (k.sqrt() * mean)).max(RESOLUTION),
    })
}

/// The Wilson score interval of `x` successes in `n` at normal quantile `z`.
fn wilson(x: f64, n: f64, z: f64) -> (f64, f64) {
    let p = x / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Newcombe's hybrid score interval (his method 10) for the difference of two proportions,
/// head minus base, at normal quantile `z`: good coverage at the rates a healthy service has
/// (a few failures in hundreds), where the plain z-interval is far too narrow.
pub(crate) fn proportion_difference(base: (u64, u64), head: (u64, u64), z: f64) -> (f64, f64, f64) {
    let (xb, nb) = (base.0 as f64, base.1 as f64);
    let (xh, nh) = (head.0 as f64, head.1 as f64);
    let (pb, ph) = (xb / nb, xh / nh);
    let (lb, ub) = wilson(xb, nb, z);
    let (lh, uh) = wilson(xh, nh, z);
    let d = ph - pb;
    let low = d - ((ph - lh).powi(2) + (ub - pb).powi(2)).sqrt();
    let high = d + ((uh - ph).powi(2) + (pb - lb).powi(2)).sqrt();
    (d, low, high)
}
