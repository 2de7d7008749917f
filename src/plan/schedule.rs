//! The open model's arrival schedule as arithmetic: the rate at each instant is piecewise
//! linear (each stage ramps from the previous stage's rate, 0 before the first, to its own over
//! its length; the last rate is held), the arrivals due by time t are its integral A(t), and
//! arrival i is intended at the t where A(t) = i. Pure: the engine paces by it, the verdict
//! counts the arrivals each second asked for by it, and neither ever re-bases it on a clock.

use std::time::Duration;

use super::Open;

/// One ramp of the schedule, in seconds and arrivals.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: f64,
    length: f64,
    /// Arrivals due before the segment (A at its start).
    before: f64,
    from: f64,
    to: f64,
}

impl Segment {
    fn arrivals(&self, tau: f64) -> f64 {
        self.from * tau + (self.to - self.from) * tau * tau / (2.0 * self.length)
    }
}

/// Rounding allowance when a count of arrivals is compared with A(t).
fn slack(a: f64) -> f64 {
    1e-9 * a.abs().max(1.0)
}

/// [`Open`]'s stages, ready to answer "when is arrival i due" and "how many are due by t".
#[derive(Debug, Clone)]
pub struct Schedule {
    segments: Vec<Segment>,
    /// Where the held rate begins, and the arrivals due by then.
    tail_start: f64,
    tail_before: f64,
    tail_rate: f64,
    /// Nothing is due at or after this (the run time).
    end: f64,
}

impl Schedule {
    pub fn new(open: &Open, run_time: Duration) -> Schedule {
        let mut segments = Vec::with_capacity(open.stages.len());
        let (mut at, mut before, mut rate) = (0.0, 0.0, 0.0);
        for stage in &open.stages {
            let length = stage.length.as_secs_f64();
            if length > 0.0 {
                let seg = Segment {
                    start: at,
                    length,
                    before,
                    from: rate,
                    to: stage.rate,
                };
                before += seg.arrivals(length);
                at += length;
                segments.push(seg);
            }
            rate = stage.rate;
        }
        Schedule {
            segments,
            tail_start: at,
            tail_before: before,
            tail_rate: rate,
            end: run_time.as_secs_f64(),
        }
    }

    /// A(t): arrivals due in [0, t], as a real number (the count due is its floor + 1 for
    /// t ≥ 0, arrival 0 being due at 0).
    pub fn arrivals_by(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, self.end);
        for s in &self.segments {
            if t < s.start + s.length {
                return s.before + s.arrivals(t - s.start);
            }
        }
        self.tail_before + self.tail_rate * (t - self.tail_start)
    }

    /// Arrivals whose intended time falls in [from, to) seconds, before the run time.
    pub fn due_between(&self, from: f64, to: f64) -> u64 {
        self.due_before(to).saturating_sub(self.due_before(from))
    }

    /// Arrivals intended strictly before `t` (and before the run time): arrivals
    /// `0..due_before(t)` of the whole run.
    pub fn due_before(&self, t: f64) -> u64 {
        if t <= 0.0 {
            return 0;
        }
        let a = self.arrivals_by(t.min(self.end));
        // Arrival i is due at A⁻¹(i); those before t are i < A(t) (i = 0, 1, …). A(t) that
        // is a whole number up to rounding (80/s × 10 s = 800.0000001) counts as one.
        (a - slack(a)).ceil().max(0.0) as u64
    }

    /// When arrival `i` (0-based, over the whole run) is intended, from the start of the run;
    /// `None` when it falls at or after the run time (or the rate is 0 from then on).
    pub fn intended(&self, i: u64) -> Option<Duration> {
        let i = i as f64;
        let t = self.invert(i)?;
        (t < self.end).then(|| Duration::from_secs_f64(t))
    }

    fn invert(&self, i: f64) -> Option<f64> {
        for s in &self.segments {
            let after = s.before + s.arrivals(s.length);
            if i < after - slack(after) {
                let c = i - s.before;
                let a = (s.to - s.from) / (2.0 * s.length);
                let b = s.from;
                // τ solves a τ² + b τ = c; this form is stable for a of either sign and a → 0.
                let root = (b * b + 4.0 * a * c).max(0.0).sqrt();
                let tau = if b + root > 0.0 {
                    2.0 * c / (b + root)
                } else {
                    0.0
                };
                return Some(s.start + tau.clamp(0.0, s.length));
            }
        }
        if self.tail_rate <= 0.0 {
            return None;
        }
        Some(self.tail_start + (i - self.tail_before) / self.tail_rate)
    }

    /// The rate asked for at time t, arrivals per second.
    pub fn rate_at(&self, t: f64) -> f64 {
        for s in &self.segments {
            if t < s.start + s.length {
                return s.from + (s.to - s.from) * (t - s.start) / s.length;
            }
        }
        self.tail_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Stage;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn open(stages: &[(f64, f64)]) -> Open {
        Open {
            stages: stages
                .iter()
                .map(|&(rate, length)| Stage {
                    rate,
                    length: secs(length),
                })
                .collect(),
            max_in_flight: 100,
        }
    }

    #[test]
    fn a_constant_rate_is_evenly_spaced_from_zero_and_never_rebased() {
        let s = Schedule::new(&Open::constant(80.0, 100), secs(10.0));
        assert_eq!(s.intended(0), Some(Duration::ZERO));
        assert_eq!(s.intended(1), Some(secs(1.0 / 80.0)));
        // Arrival 799 at 9.9875 s, arrival 800 at exactly 10 s is past the run.
        assert_eq!(s.intended(799), Some(secs(799.0 / 80.0)));
        assert_eq!(s.intended(800), None);
        assert_eq!(s.due_between(0.0, 1.0), 80);
        assert_eq!(s.due_between(3.0, 4.0), 80);
        assert_eq!(s.due_between(0.0, 10.0), 800);
    }

    #[test]
    fn a_fractional_rate_still_sums_exactly() {
        let s = Schedule::new(&Open::constant(2.5, 100), secs(4.0));
        let per_second: Vec<u64> = (0..4)
            .map(|k| s.due_between(k as f64, k as f64 + 1.0))
            .collect();
        assert_eq!(per_second, [3, 2, 3, 2]); // at 0, 0.4, 0.8 | 1.2, 1.6 | 2.0, 2.4, 2.8 | …
        assert_eq!(per_second.iter().sum::<u64>(), 10);
    }

    #[test]
    fn a_ramp_integrates_linearly_then_holds() {
        // 0 → 20/s over 10 s (100 arrivals), then 20/s held.
        let s = Schedule::new(&open(&[(20.0, 10.0)]), secs(20.0));
        assert!((s.arrivals_by(10.0) - 100.0).abs() < 1e-9);
        assert!((s.arrivals_by(5.0) - 25.0).abs() < 1e-9);
        assert_eq!(s.due_between(0.0, 10.0), 100);
        assert_eq!(s.due_between(10.0, 20.0), 200);
        // Each second of the ramp asks for 2k+1 arrivals: 1, 3, 5, … 19.
        let ramp: Vec<u64> = (0..10)
            .map(|k| s.due_between(k as f64, k as f64 + 1.0))
            .collect();
        assert_eq!(ramp, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
        // A(t) = t² on the ramp: arrival 25 is intended at 5 s.
        let t = s.intended(25).unwrap().as_secs_f64();
        assert!((t - 5.0).abs() < 1e-9, "{t}");
        assert!((s.rate_at(5.0) - 10.0).abs() < 1e-9);
        assert_eq!(s.rate_at(15.0), 20.0);
    }

    #[test]
    fn intended_times_are_increasing_and_invert_the_integral() {
        let s = Schedule::new(
            &open(&[(50.0, 3.0), (50.0, 2.0), (10.0, 4.0), (0.0, 1.0)]),
            secs(12.0),
        );
        let mut last = -1.0;
        let mut i = 0;
        while let Some(t) = s.intended(i) {
            let t = t.as_secs_f64();
            assert!(t >= last, "arrival {i} at {t} before {last}");
            assert!((s.arrivals_by(t) - i as f64).abs() < 1e-6, "A({t}) ≠ {i}");
            last = t;
            i += 1;
        }
        // 75 + 100 + 120 + 5 arrivals; the rate is 0 from 10 s on, so nothing after.
        assert_eq!(i, 300);
        assert_eq!(s.due_between(0.0, 12.0), 300);
    }

    #[test]
    fn ramping_down_to_zero_ends_the_schedule() {
        let s = Schedule::new(&open(&[(10.0, 0.0), (0.0, 2.0)]), secs(5.0));
        // 10/s falling to 0 over 2 s: 10 arrivals, the last intended before 2 s.
        assert_eq!(s.due_between(0.0, 5.0), 10);
        assert!(s.intended(9).unwrap() < secs(2.0));
        assert_eq!(s.intended(10), None);
    }
}
