//! How much a statistic varies between runs of the same build on the same machine, beyond the
//! sampling noise within each run: the random-effects part of the comparison. A run's value
//! of a statistic is its build's true value, plus a run effect (the machine that day: its
//! load, its frequency, its neighbours; variance τ²), plus its own sampling noise (variance
//! s², which each run's estimate knows). With several runs of a side, their spread estimates
//! τ² + s²; take away the runs' mean s² and what is left is the run-to-run variation.
//!
//! One run's few values cannot estimate a variance well, so the spread is pooled: over every
//! endpoint's runs of the statistic (the same machine moves every endpoint alike, in ratio),
//! and over both sides (the head ran on the same runner). The "All endpoints" rows estimate
//! it from each run's own all-endpoints value instead: their sampling noise is far smaller
//! than any one endpoint's, so only their own runs can show a spread that small.

use super::estimate::Estimate;

/// The run-to-run variance of one statistic on the log scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Between {
    /// τ²: the variance between runs beyond their sampling noise (never below zero).
    pub tau2: f64,
    /// The runs' typical sampling variance s² (precision-weighted: df / C).
    pub s2: f64,
    /// The degrees of freedom the spread was estimated with: runs less one, per group,
    /// summed.
    pub df: f64,
}

impl Between {
    /// The mean square between runs, τ² + s², whose uncertainty (2·ms²/df) sets the
    /// interval's degrees of freedom.
    pub fn ms(&self) -> f64 {
        self.tau2 + self.s2
    }
}

/// The spread between runs from groups of runs' values (per endpoint: the base runs and the
/// head runs), by DerSimonian and Laird's moment estimator pooled over the groups: each run
/// weighted by its precision (1/se²), so a run whose statistic is barely measured does not
/// swamp the estimate; `None` when no group has two runs, so nothing that varies between
/// runs could be seen.
pub(crate) fn between_runs(groups: &[[Vec<Estimate>; 2]]) -> Option<Between> {
    let (mut q, mut c, mut df) = (0.0, 0.0, 0.0);
    for side in groups.iter().flatten().filter(|runs| runs.len() >= 2) {
        let w: Vec<f64> = side.iter().map(|e| 1.0 / (e.se * e.se)).collect();
        let sw: f64 = w.iter().sum();
        let mean = side.iter().zip(&w).map(|(e, w)| w * e.value).sum::<f64>() / sw;
        q += side
            .iter()
            .zip(&w)
            .map(|(e, w)| w * (e.value - mean).powi(2))
            .sum::<f64>();
        c += sw - w.iter().map(|w| w * w).sum::<f64>() / sw;
        df += side.len() as f64 - 1.0;
    }
    if df == 0.0 || c <= 0.0 {
        return None;
    }
    Some(Between {
        tau2: ((q - df) / c).max(0.0),
        s2: df / c,
        df,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(value: f64, se: f64) -> Estimate {
        Estimate { value, se }
    }

    #[test]
    fn the_spread_is_what_the_runs_vary_by_beyond_their_own_noise() {
        // Three runs at 0, 0.1 and 0.2 (variance 0.01) with sampling se 0.05 (s² 0.0025):
        // Q = 400 · 0.02 = 8, C = 1200 − 400 = 800: τ² = (8 − 2) / 800 = 0.0075 on 2
        // degrees of freedom, as the plain moment estimate gives with equal precision.
        let b = between_runs(&[[vec![e(0.0, 0.05), e(0.1, 0.05), e(0.2, 0.05)], vec![]]])
            .expect("three runs");
        assert!((b.tau2 - 0.0075).abs() < 1e-12, "{b:?}");
        assert!((b.s2 - 0.0025).abs() < 1e-12);
        assert_eq!(b.df, 2.0);
        // Runs that agree better than their sampling noise: no spread, never a negative one.
        let b = between_runs(&[[
            vec![e(0.0, 0.1), e(0.01, 0.1)],
            vec![e(0.5, 0.1), e(0.5, 0.1)],
        ]])
        .expect("two sides of two runs");
        assert_eq!(b.tau2, 0.0);
        assert_eq!(b.df, 2.0, "one degree of freedom per side");
        // A barely measured run counts for little: two precise runs that agree and one
        // imprecise one far off show almost no spread.
        let b = between_runs(&[[vec![e(0.0, 0.01), e(0.0, 0.01), e(1.0, 1.0)], vec![]]])
            .expect("three runs");
        assert!(b.tau2 < 0.01, "{b:?}");
        // One run a side: nothing to see.
        assert_eq!(
            between_runs(&[[vec![e(0.0, 0.1)], vec![e(1.0, 0.1)]]]),
            None
        );
    }
}
