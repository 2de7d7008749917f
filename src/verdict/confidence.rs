//! Distribution-free 95 % confidence intervals for percentiles, from order statistics.
//!
//! Owns the rank rule and reading ranks off a latency histogram; knows nothing of budgets or
//! statuses (that is `verdict`).
//!
//! # The rule
//!
//! Sort the n samples: X₍₁₎ ≤ … ≤ X₍ₙ₎. The number B of samples at or below the true quantile
//! ξ_q is Binomial(n, q), so for ranks l < u the interval [X₍ₗ₎, X₍ᵤ₎] holds ξ_q with probability
//! P(l ≤ B ≤ u−1) = F(u−1) − F(l−1), F the binomial CDF (for continuous latencies; this needs no
//! assumption about their distribution). With 5 % to spend on the two tails:
//!
//! 1. Both tails get 2.5 % when they can (the textbook rule, e.g. Conover, *Practical
//!    Nonparametric Statistics*, §3.2): l = the largest rank with F(l−1) ≤ 0.025,
//!    u = the smallest rank with F(u−1) ≥ 0.975. n = 100, q = 0.5 gives X₍₄₀₎ and X₍₆₁₎.
//! 2. When no rank is high enough for the upper tail (F(n−1) = 1 − qⁿ < 0.975) but 1 − qⁿ is
//!    still ≥ 0.95, the upper end is the largest sample, X₍ₙ₎, whose tail is qⁿ, and the lower
//!    tail gets what is left: l = the largest rank with F(l−1) ≤ 0.05 − qⁿ.
//! 3. When no rank ≥ 1 fits the lower tail, the lower end is 0 (a latency cannot be negative).
//! 4. When 1 − qⁿ < 0.95, no interval with a finite upper end reaches 95 %: even
//!    [0, X₍ₙ₎] covers ξ_q with probability only 1 − qⁿ. The sample is too small to bound that
//!    percentile at all; the check is INCONCLUSIVE.
//!
//! Every interval therefore covers ≥ 95 %, is symmetric whenever the sample allows, and exists
//! exactly when n ≥ ⌈ln 0.05 / ln q⌉: 299 for p99, 59 for p95, 5 for p50 — the thresholds
//! issue 4 states. (The pure 2.5 %-per-tail rule of step 1 alone would demand n ≥ 368, 72 and
//! 6; the issue's figures are those of step 4, i.e. of the largest sample being a one-sided
//! 95 % upper confidence bound for ξ_q, which is the question a latency budget asks.)
//!
//! Histograms: the value at rank k is the highest value equivalent to the bucket that holds
//! the k-th sample, as HdrHistogram reports percentiles, so the point estimate always lies
//! inside its interval.

use std::time::Duration;

use hdrhistogram::Histogram;

/// The confidence level of every interval.
pub const LEVEL: f64 = 0.95;

/// A 95 % confidence interval for a percentile, in the measurement's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: Duration,
    pub high: Duration,
}

/// 1-based ranks into the sorted sample; `lower == 0` means "no lower rank": the lower end is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranks {
    pub lower: u64,
    pub upper: u64,
}

/// The binomial CDF of Binomial(n, q) over the ranks where it is neither ~0 nor ~1.
///
/// Built by walking the pmf out from the mode with its ratio recurrence and normalising, which
/// needs no log-gamma and is exact to rounding for any n: terms below 1e-20 of the mode's are
/// dropped, far below the 0.025 the rule compares against.
struct Cdf {
    /// `cdf[i]` = P(B ≤ first + i).
    first: u64,
    cdf: Vec<f64>,
}

impl Cdf {
    fn new(n: u64, q: f64) -> Cdf {
        const NEGLIGIBLE: f64 = 1e-20;
        let odds = q / (1.0 - q);
        let mode = (((n + 1) as f64 * q).floor() as u64).min(n);
        // pmf(k+1) / pmf(k) = (n−k)/(k+1) · q/(1−q)
        let mut above = Vec::new();
        let (mut k, mut w) = (mode, 1.0f64);
        while k < n {
            w *= (n - k) as f64 / (k + 1) as f64 * odds;
            k += 1;
            if w < NEGLIGIBLE {
                break;
            }
            above.push(w);
        }
        let mut below = Vec::new();
        let (mut k, mut w) = (mode, 1.0f64);
        while k > 0 {
            w *= k as f64 / (n - k + 1) as f64 / odds;
            k -= 1;
            if w < NEGLIGIBLE {
                break;
            }
            below.push(w);
        }
        let first = mode - below.len() as u64;
        let pmf: Vec<f64> = below
            .into_iter()
            .rev()
            .chain(std::iter::once(1.0))
            .chain(above)
            .collect();
        let sum: f64 = pmf.iter().sum();
        let mut acc = 0.0;
        let cdf = pmf
            .iter()
            .map(|p| {
                acc += p / sum;
                acc
            })
            .collect();
        Cdf { first, cdf }
    }

    /// P(B ≤ k); k = −1 is allowed (0).
    fn at(&self, k: i128) -> f64 {
        if k < i128::from(self.first) {
            0.0
        } else {
            let i = (k - i128::from(self.first)) as usize;
            self.cdf.get(i).copied().unwrap_or(1.0)
        }
    }

    /// The smallest k ≥ −1 with P(B ≤ k) ≥ p (the CDF reaches 1 at n).
    fn first_at_least(&self, p: f64) -> i128 {
        if p <= 0.0 {
            return -1;
        }
        let i = self.cdf.partition_point(|&c| c < p);
        i128::from(self.first) + i as i128
    }

    /// The largest k ≥ −1 with P(B ≤ k) ≤ p.
    fn last_at_most(&self, p: f64) -> i128 {
        let i = self.cdf.partition_point(|&c| c <= p);
        i128::from(self.first) + i as i128 - 1
    }
}

/// The smallest sample count for which a 95 % interval of quantile `q` exists (rule step 4):
/// the smallest n with qⁿ ≤ 0.05. 299 for p99, 59 for p95, 5 for p50.
pub fn samples_needed(q: f64) -> u64 {
    debug_assert!(q > 0.0 && q < 1.0, "a quantile strictly between 0 and 1");
    let tail = |n: u64| (n as f64 * q.ln()).exp();
    let mut n = ((1.0 - LEVEL).ln() / q.ln()).ceil().max(1.0) as u64;
    // The logarithms may round across the boundary; settle it with the definition itself.
    while tail(n) > 1.0 - LEVEL {
        n += 1;
    }
    while n > 1 && tail(n - 1) <= 1.0 - LEVEL {
        n -= 1;
    }
    n
}

/// Whether `over` of `n` samples lying above a limit show, at 95 % confidence, that the
/// q-quantile itself is above that limit: were it at or below, each sample would be above with
/// probability at most 1 − q, and `over` or more of them would happen less than 2.5 % of the
/// time. The one-sided test that matches the lower end of `interval`, usable at any n.
pub fn exceeds(n: u64, over: u64, q: f64) -> bool {
    if n == 0 || over == 0 || over > n {
        return false;
    }
    let cdf = Cdf::new(n, 1.0 - q);
    1.0 - cdf.at(i128::from(over) - 1) < (1.0 - LEVEL) / 2.0
}

/// The ranks of the 95 % interval of quantile `q` (0 < q < 1) from `n` samples, by the rule in
/// the module docs; `None` when n is too small to bound that quantile at all.
pub fn ranks(n: u64, q: f64) -> Option<Ranks> {
    if n == 0 || n < samples_needed(q) {
        return None;
    }
    let alpha = (1.0 - LEVEL) / 2.0;
    let cdf = Cdf::new(n, q);
    let top = cdf.at(i128::from(n) - 1);
    let (upper, lower_tail) = if top >= 1.0 - alpha {
        // F(u−1) ≥ 0.975 → u − 1 = the first such k.
        let u = cdf.first_at_least(1.0 - alpha) + 1;
        (u as u64, alpha)
    } else {
        (n, (top - LEVEL).max(0.0))
    };
    // F(l−1) ≤ tail → l − 1 = the last such k (−1 when even F(0) exceeds it: no lower rank).
    let lower = (cdf.last_at_most(lower_tail) + 1).max(0) as u64;
    Some(Ranks { lower, upper })
}

/// The value of the k-th smallest sample (1-based) of a histogram of µs; 0 for rank 0.
fn value_at_rank(h: &Histogram<u64>, k: u64) -> Duration {
    if k == 0 {
        return Duration::ZERO;
    }
    let mut seen = 0;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        if seen >= k {
            return Duration::from_micros(h.highest_equivalent(v.value_iterated_to()));
        }
    }
    Duration::from_micros(h.max())
}

/// The 95 % interval of quantile `q` over a histogram of µs latencies; `None` when it has too
/// few samples (see [`samples_needed`]).
pub fn interval(h: &Histogram<u64>, q: f64) -> Option<Interval> {
    let r = ranks(h.len(), q)?;
    Some(Interval {
        low: value_at_rank(h, r.lower),
        high: value_at_rank(h, r.upper),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn exceeds_needs_more_late_samples_than_the_quantile_allows() {
        use super::exceeds;
        // p99 over 100 samples: one or two late ones are what a p99 at the limit produces.
        assert!(!exceeds(100, 1, 0.99));
        assert!(!exceeds(100, 2, 0.99));
        // P(Bin(100, 0.01) >= 5) = 0.0034 < 0.025; P(>= 4) = 0.0184 < 0.025; P(>= 3) = 0.079.
        assert!(!exceeds(100, 3, 0.99));
        assert!(exceeds(100, 4, 0.99));
        // Six of six late: certain, however few.
        assert!(exceeds(6, 6, 0.99));
        assert!(!exceeds(6, 0, 0.99));
    }

    use super::*;
    use crate::stats::new_histogram;

    /// Binomial CDFs by Pascal's rule (P_n(k) = q·P_{n−1}(k−1) + (1−q)·P_{n−1}(k)), built up
    /// one n at a time: nothing shared with `Cdf`, no recurrence ratios, no normalisation.
    /// Calls `each(n, cdf)` for every n in 1..=max_n.
    fn brute_cdfs(max_n: u64, q: f64, mut each: impl FnMut(u64, &[f64])) {
        let mut p = vec![1.0f64];
        let mut cdf = Vec::new();
        for n in 1..=max_n {
            let mut next = vec![0.0; p.len() + 1];
            for (k, &x) in p.iter().enumerate() {
                next[k] += x * (1.0 - q);
                next[k + 1] += x * q;
            }
            p = next;
            cdf.clear();
            let mut acc = 0.0;
            cdf.extend(p.iter().map(|x| {
                acc += x;
                acc
            }));
            each(n, &cdf);
        }
    }

    /// The rule of the module docs, straight from its wording, over a brute-force CDF of n.
    fn brute_ranks(n: u64, cdf: &[f64]) -> Option<Ranks> {
        let f = |k: i64| if k < 0 { 0.0 } else { cdf[k as usize] };
        let n_i = n as i64;
        if f(n_i - 1) < 0.95 {
            return None;
        }
        let (upper, tail) = match (1..=n_i).find(|&u| f(u - 1) >= 0.975) {
            Some(u) => (u, 0.025),
            None => (n_i, f(n_i - 1) - 0.95),
        };
        let lower = (1..=n_i).rev().find(|&l| f(l - 1) <= tail).unwrap_or(0);
        Some(Ranks {
            lower: lower as u64,
            upper: upper as u64,
        })
    }

    /// Exact rational binomial CDF for q = 1/2: Σ C(n, i) / 2ⁿ, in integers.
    fn exact_half_cdf(n: u32, k: u32) -> (u128, u128) {
        let mut c: u128 = 1;
        let mut sum: u128 = 0;
        for i in 0..=k {
            sum += c;
            c = c * u128::from(n - i) / u128::from(i + 1);
        }
        (sum, 1u128 << n)
    }

    #[test]
    fn known_answers_for_the_median() {
        // Published 95 % order-statistic intervals for the median (e.g. Conover's table A3,
        // and any nonparametric text): n = 10 → X(2), X(9); n = 20 → X(6), X(15);
        // n = 100 → X(40), X(61).
        for (n, l, u) in [(10u32, 2u64, 9u64), (20, 6, 15), (100, 40, 61)] {
            assert_eq!(
                ranks(u64::from(n), 0.5),
                Some(Ranks { lower: l, upper: u }),
                "n = {n}"
            );
            // And they satisfy the rule exactly, in rationals: F(l−1) ≤ 1/40 < F(l),
            // F(u−2) < 39/40 ≤ F(u−1).
            let le = |k: u64, num: u128, den: u128| {
                let (s, d) = exact_half_cdf(n, k as u32);
                s * den <= num * d
            };
            let ge = |k: u64, num: u128, den: u128| {
                let (s, d) = exact_half_cdf(n, k as u32);
                s * den >= num * d
            };
            assert!(le(l - 1, 1, 40) && !le(l, 1, 40), "n = {n}: lower rank");
            assert!(
                ge(u - 1, 39, 40) && !ge(u - 2, 39, 40),
                "n = {n}: upper rank"
            );
        }
    }

    #[test]
    fn ranks_match_a_brute_force_of_the_rule() {
        // Every n up to 400 (all the small-sample edge cases, and the p99 threshold), then a
        // few large ones; p99.9 up past its threshold of 2995.
        let big = [1000, 2000, 2994, 2995, 3000];
        for q in [0.01, 0.1, 0.25, 0.5, 0.66, 0.9, 0.95, 0.99, 0.999] {
            let max = if q == 0.999 { 3000 } else { 1000 };
            brute_cdfs(max, q, |n, cdf| {
                if n <= 400 || big.contains(&n) {
                    assert_eq!(ranks(n, q), brute_ranks(n, cdf), "n = {n}, q = {q}");
                }
            });
        }
    }

    #[test]
    fn large_samples_agree_with_the_normal_approximation() {
        // n = 10⁶, q = 0.99: ranks ≈ nq ± 1.96 √(nq(1−q)) ≈ 990 000 ± 195.
        let r = ranks(1_000_000, 0.99).unwrap();
        assert!((989_800..989_810).contains(&r.lower), "{r:?}");
        assert!((990_190..990_200).contains(&r.upper), "{r:?}");
    }

    #[test]
    fn the_issues_thresholds_fall_out_of_the_rule() {
        for (q, n) in [(0.99, 299), (0.95, 59), (0.5, 5), (0.999, 2995)] {
            assert_eq!(samples_needed(q), n, "q = {q}");
            assert!(ranks(n, q).is_some(), "q = {q}, n = {n}");
            assert!(ranks(n - 1, q).is_none(), "q = {q}, n = {}", n - 1);
            // At the threshold the only interval is the largest sample on top.
            assert_eq!(ranks(n, q).unwrap().upper, n);
        }
        // The symmetric 2.5 %-per-tail rule alone (upper rank u ≤ n with F(u−1) ≥ 0.975, i.e.
        // 1 − qⁿ ≥ 0.975) would need more; at those sizes both tails get their 2.5 %.
        for (q, n) in [(0.99f64, 368u64), (0.95, 72), (0.5, 6)] {
            let symmetric = |n: u64| 1.0 - q.powi(n as i32) >= 0.975;
            assert!(symmetric(n) && !symmetric(n - 1), "q = {q}");
            assert_eq!(ranks(n, q).unwrap().upper, n, "q = {q}: the largest sample");
        }
    }

    #[test]
    fn every_interval_covers_at_least_95_percent() {
        for q in [0.05, 0.5, 0.9, 0.95, 0.99] {
            brute_cdfs(400, q, |n, cdf| {
                if let Some(r) = ranks(n, q) {
                    let f = |k: i64| if k < 0 { 0.0 } else { cdf[k as usize] };
                    let coverage = f(r.upper as i64 - 1) - f(r.lower as i64 - 1);
                    assert!(coverage >= 0.95 - 1e-12, "n {n} q {q} {r:?}: {coverage}");
                    assert!(r.lower < r.upper && r.upper <= n);
                }
            });
        }
    }

    #[test]
    fn order_statistics_are_read_off_the_histogram() {
        // 1..=100 ms: the k-th smallest is k ms (within the histogram's 3 significant digits).
        let mut h = new_histogram();
        for ms in 1..=100u64 {
            h.record(ms * 1000).unwrap();
        }
        let i = interval(&h, 0.5).unwrap();
        let near = |d: Duration, ms: u64| (d.as_micros() as i64 - (ms * 1000) as i64).abs() < 100;
        assert!(near(i.low, 40), "{i:?}");
        assert!(near(i.high, 61), "{i:?}");
        let point = Duration::from_micros(h.value_at_quantile(0.5));
        assert!(i.low <= point && point <= i.high);
        assert!(
            interval(&h, 0.99).is_none(),
            "100 samples cannot bound a p99"
        );
        assert_eq!(value_at_rank(&h, 0), Duration::ZERO);
    }

    proptest::proptest! {
        /// The point estimate HdrHistogram reports always lies inside its interval.
        #[test]
        fn the_point_estimate_is_inside(
            lat in proptest::collection::vec(1u64..5_000_000, 1..700),
            q in proptest::sample::select(vec![0.5, 0.9, 0.95, 0.99]),
        ) {
            let mut h = new_histogram();
            for us in &lat {
                h.record(*us).unwrap();
            }
            if let Some(i) = interval(&h, q) {
                let point = Duration::from_micros(h.value_at_quantile(q));
                proptest::prop_assert!(i.low <= point && point <= i.high, "{:?} {:?}", i, point);
            }
        }
    }
}
