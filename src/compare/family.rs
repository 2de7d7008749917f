//! The family of a comparison's judged rows and its one false-alarm rate: weighted Bonferroni
//! (the "All endpoints" rows share `OMNIBUS_SHARE` of `FAMILY_ALPHA`, the other rows the
//! rest), each row's interval drawn at its share and judged against its tolerance.

use super::estimate::proportion_difference;
use super::significance::{normal_quantile, normal_sf, student_quantile, student_sf};
use super::{Change, FAMILY_ALPHA, OMNIBUS_SHARE, Pending, Row, RowVerdict};

/// How a row is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Test {
    /// A change on the log scale (latency, rps) with its variance and degrees of freedom
    /// (infinite: normal). `bound` is the tolerance on the log scale, in the worse direction:
    /// ln(1 + t) for latency (worse is up), ln(1 − t) for rps (worse is down).
    Log {
        value: f64,
        var: f64,
        df: f64,
        bound: f64,
        up: bool,
    },
    /// Failures and requests of base and head; `tolerance` in fraction points.
    Proportion {
        base: (u64, u64),
        head: (u64, u64),
        tolerance: f64,
    },
}

impl Test {
    pub fn log(value: f64, var: f64, df: f64, bound: f64, up: bool) -> Test {
        Test::Log {
            value,
            var,
            df,
            bound,
            up,
        }
    }

    /// Judge `row` at the one-sided level `alpha`: its change with interval, p-value and
    /// verdict.
    fn judge(self, row: &mut Row, alpha: f64) {
        row.alpha = Some(alpha);
        let (estimate, low, high, worse, better, p) = match self {
            Test::Log {
                value,
                var,
                df,
                bound,
                up,
            } => {
                let sd = var.sqrt();
                let half = student_quantile(alpha, df) * sd;
                let (low, high) = (value - half, value + half);
                let sf = |t: f64| {
                    if df.is_finite() {
                        student_sf(t, df)
                    } else {
                        normal_sf(t)
                    }
                };
                // The worsening this row catches 95 % of the time: its estimate would have to
                // land `half` beyond the bound, and does so 95 % of the time when the truth is
                // a further 1.645 standard errors out.
                if up {
                    let power = student_quantile(0.05, df) * sd;
                    row.detectable = Some((bound + half + power).exp_m1());
                }
                let (worse, better, p) = if up {
                    (low > bound, high < -bound, sf((value - bound) / sd))
                } else {
                    (high < bound, low > -bound, sf((bound - value) / sd))
                };
                (
                    value.exp_m1(),
                    low.exp_m1(),
                    high.exp_m1(),
                    worse,
                    better,
                    Some(p),
                )
            }
            Test::Proportion {
                base,
                head,
                tolerance,
            } => {
                let (d, low, high) = proportion_difference(base, head, normal_quantile(alpha));
                // The one-sided p-value: the level at which the interval's lower end reaches the
                // tolerance (it narrows as the level grows), when the estimate is beyond it.
                let p = (d > tolerance).then(|| {
                    let (mut lo, mut hi) = (0.0, 40.0);
                    for _ in 0..100 {
                        let z = (lo + hi) / 2.0;
                        if proportion_difference(base, head, z).1 > tolerance {
                            lo = z;
                        } else {
                            hi = z;
                        }
                    }
                    normal_sf((lo + hi) / 2.0)
                });
                (d, low, high, low > tolerance, high < -tolerance, p)
            }
        };
        row.change = Some(Change {
            estimate,
            interval: Some((low, high)),
        });
        row.p_value = p;
        row.verdict = if worse {
            RowVerdict::Regression
        } else if better {
            RowVerdict::Improvement
        } else {
            RowVerdict::Ok
        };
    }
}

/// Each judged row's share of the family's rate, (All endpoints, the others).
pub(crate) fn shares(omnibus: usize, others: usize) -> (f64, f64) {
    match (omnibus, others) {
        (0, 0) => (0.0, 0.0),
        (0, r) => (0.0, FAMILY_ALPHA / r as f64),
        (o, 0) => (FAMILY_ALPHA / o as f64, 0.0),
        (o, r) => (
            FAMILY_ALPHA * OMNIBUS_SHARE / o as f64,
            FAMILY_ALPHA * (1.0 - OMNIBUS_SHARE) / r as f64,
        ),
    }
}

/// Judge every row that has a test, at its share of the family's 5 %.
pub(crate) fn decide(rows: Vec<Pending>) -> Vec<Row> {
    let judged = |omnibus: bool| {
        rows.iter()
            .filter(|p| p.test.is_some() && p.omnibus == omnibus)
            .count()
    };
    let (omnibus, others) = shares(judged(true), judged(false));
    rows.into_iter()
        .map(|p| {
            let mut row = p.row;
            if let Some(test) = p.test {
                test.judge(&mut row, if p.omnibus { omnibus } else { others });
            }
            row
        })
        .collect()
}
