//! `abort_when`: the collector's once-per-second look at the last complete seconds, deciding
//! whether the run should stop early. Reads only what the collector has already merged, so it
//! costs the workers nothing.
//!
//! The rule trips when *every one* of the last `for` seconds (rounded up to whole seconds) had
//! an error rate at or above `error_rate` — "the error rate stayed that high for that long" —
//! counting only seconds of the measured window (the ramp-up is never judged) whose batches have
//! all arrived. A second in which no request completed does not count as failing: it breaks the
//! streak, so a hung target is left to the timeout and the checks rather than aborted on
//! silence.

use std::time::Duration;

use crate::plan::AbortWhen;
use crate::stats::Recording;
use crate::units;

/// How long after a second ends its batches are taken to have all arrived: workers hand over
/// 5 ms after each second; the rest is room for a worker that is busy.
pub(crate) const HANDOVER: Duration = Duration::from_millis(250);

/// Whole seconds the rule must hold for.
fn seconds(rule: &AbortWhen) -> u32 {
    let secs = rule.sustained.as_secs_f64().ceil();
    (secs as u32).max(1)
}

/// Whether `rule` trips given that seconds `0..complete` of `rec` are complete and the measured
/// window starts at second `window_start`; if so, why, in plain words with the figures.
pub(crate) fn check(
    rec: &Recording,
    rule: &AbortWhen,
    window_start: u32,
    complete: u32,
) -> Option<String> {
    let n = seconds(rule);
    let first = complete.checked_sub(n)?;
    if first < window_start {
        return None;
    }
    let (mut requests, mut failures) = (0u64, 0u64);
    for s in first..complete {
        let slot = rec.slots.get(s as usize)?;
        let r: u64 = slot.endpoints[..rec.endpoints]
            .iter()
            .map(|e| e.requests)
            .sum();
        let f: u64 = slot.endpoints[..rec.endpoints]
            .iter()
            .map(|e| e.failures)
            .sum();
        if r == 0 || (f as f64) < rule.error_rate * r as f64 {
            return None;
        }
        requests += r;
        failures += f;
    }
    Some(format!(
        "error rate {} ({failures} of {requests} requests failed) from {first} s to {complete} s \
         into the run: at or above {} in each of those {n} s (abort_when error_rate = \"{}\", \
         for = \"{}\")",
        units::percent(failures as f64 / requests as f64),
        units::percent(rule.error_rate),
        units::percent(rule.error_rate),
        humantime::format_duration(rule.sustained),
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Instant, SystemTime};

    use super::*;
    use crate::plan::Location;
    use crate::stats::{FailureKind, Outcome, Recorder};

    /// A recording of one endpoint with `(requests, failures)` per second.
    fn recording(seconds: &[(u64, u64)]) -> Recording {
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let run_time = Duration::from_secs(60);
        let mut r = Recorder::new(1, start, run_time, tx);
        for (s, &(requests, failures)) in seconds.iter().enumerate() {
            let at = start + Duration::from_millis(s as u64 * 1000 + 500);
            for i in 0..requests {
                let outcome = if i < failures {
                    Outcome::Failure(FailureKind::Status(503))
                } else {
                    Outcome::Success
                };
                r.record(0, Duration::from_millis(5), outcome, 0, at);
            }
        }
        r.flush();
        let mut rec = Recording::new(1, SystemTime::now(), run_time);
        for b in rx.try_iter() {
            rec.add(b);
        }
        rec
    }

    fn rule(rate: f64, secs: f64) -> AbortWhen {
        AbortWhen {
            error_rate: rate,
            sustained: Duration::from_secs_f64(secs),
            location: Location::default(),
        }
    }

    #[test]
    fn trips_only_when_every_second_of_the_span_is_at_or_above_the_rate() {
        // second:        0        1        2         3        4        5        6
        let rec = recording(&[
            (10, 10),
            (10, 0),
            (10, 2),
            (10, 5),
            (10, 9),
            (10, 10),
            (0, 0),
        ]);
        let r = rule(0.5, 2.0);
        let cases: &[(u32, u32, bool, &str)] = &[
            // (window_start, complete seconds, trips, why)
            (1, 2, false, "second 0 is all failures but it is ramp-up"),
            (0, 1, false, "one second is not two"),
            (0, 4, false, "seconds 2–3: 20% then 50%"),
            (
                0,
                5,
                true,
                "seconds 3–4: 50% (at the threshold counts) and 90%",
            ),
            (0, 6, true, "seconds 4–5: 90% and 100%"),
            (
                0,
                7,
                false,
                "second 6 had no request: silence breaks the streak",
            ),
            (5, 6, false, "second 4 is before the window"),
        ];
        for &(window_start, complete, trips, why) in cases {
            assert_eq!(
                check(&rec, &r, window_start, complete).is_some(),
                trips,
                "{why}"
            );
        }
    }

    #[test]
    fn the_reason_names_the_figures() {
        let rec = recording(&[(4, 0), (8, 8), (8, 6)]);
        let reason = check(&rec, &rule(0.5, 1.5), 0, 3).expect("trips");
        assert_eq!(
            reason,
            "error rate 87.5% (14 of 16 requests failed) from 1 s to 3 s into the run: at or \
             above 50% in each of those 2 s (abort_when error_rate = \"50%\", for = \"1s 500ms\")"
        );
    }
}
