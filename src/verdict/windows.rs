//! Judging on consecutive windows of the measured period (`window = "30s"` on a level): a
//! latency budget or the level's error rate that holds over the whole window can still be
//! breached for thirty seconds in the middle of it, and a gate should say so.
//!
//! Owns how the measured period is cut into windows and what each window measured; `verdict`
//! decides what a breach does to a check. Reads only the per-second timeline of `Summary`,
//! merging each window's per-second `Sparse` histograms exactly (no averaging of percentiles).
//!
//! Cutting: windows are whole seconds (the length rounded to the nearest second, at least 1 s)
//! laid end to end from the start of the measured window. The last one may be partial: it is
//! judged when it is at least half a window long, and otherwise left out (its requests are
//! still in the whole-window checks). Requests completed after the measured window ended (in
//! flight at the run time) belong to the window that contains its end.

use std::time::Duration;

use crate::plan::{Metric, Plan};
use crate::stats::{Summary, new_histogram};

use super::{Value, WindowBreach};

/// One window: whole seconds [start, end) from the start of the run; `last` takes the seconds
/// after the measured window too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: u64,
    pub end: u64,
    pub last: bool,
}

/// The windows judged over the measured period of `summary`.
pub(crate) fn spans(summary: &Summary, length: Duration) -> Vec<Span> {
    let w = (length.as_secs_f64().round() as u64).max(1);
    let ws = summary.window.start.as_secs();
    let end = summary.window.end;
    let we = end.as_secs() + u64::from(end.subsec_nanos() > 0);
    let mut out = Vec::new();
    let mut start = ws;
    while start < we {
        let stop = (start + w).min(we);
        // A partial last window counts when it is at least half a window long.
        if (stop - start) * 2 >= w {
            out.push(Span {
                start,
                end: stop,
                last: stop == we,
            });
        }
        start = stop;
    }
    out
}

/// What the windows showed: every breach of every windowed budget.
#[derive(Debug, Clone, Default)]
pub(crate) struct Findings {
    /// Windows judged.
    pub windows: u32,
    /// `latency[endpoint][budget]`: the windows in which that budget (in `Plan` order) was
    /// breached; always empty for `max` budgets (a window's max breaching means the whole
    /// window's does).
    pub latency: Vec<Vec<Vec<WindowBreach>>>,
    /// The windows whose error rate exceeded the level's maximum.
    pub error_rate: Vec<WindowBreach>,
}

/// Judge every percentile budget, and `max_error_rate` if given, on each window.
pub(crate) fn evaluate(
    plan: &Plan,
    summary: &Summary,
    length: Duration,
    max_error_rate: Option<f64>,
) -> Findings {
    let spans = spans(summary, length);
    let mut findings = Findings {
        windows: spans.len() as u32,
        latency: plan
            .endpoints
            .iter()
            .map(|ep| vec![Vec::new(); ep.budgets.len()])
            .collect(),
        error_rate: Vec::new(),
    };
    let mut hist = new_histogram();
    for span in spans {
        let points: Vec<_> = summary
            .timeline
            .iter()
            .filter(|p| {
                let s = u64::from(p.second);
                s >= span.start && (s < span.end || span.last)
            })
            .collect();
        let (start, end) = (
            Duration::from_secs(span.start),
            Duration::from_secs(span.end),
        );
        for (e, ep) in plan.endpoints.iter().enumerate() {
            hist.reset();
            for p in &points {
                if let Some(second) = p.endpoints.get(e) {
                    second.latency.add_to(&mut hist);
                }
            }
            if hist.is_empty() {
                continue;
            }
            for (b, budget) in ep.budgets.iter().enumerate() {
                let Metric::Percentile(q) = budget.metric else {
                    continue;
                };
                let measured = Duration::from_micros(hist.value_at_quantile(q.get()));
                if measured >= budget.limit {
                    findings.latency[e][b].push(WindowBreach {
                        start,
                        end,
                        measured: Value::Latency(measured),
                        samples: hist.len(),
                    });
                }
            }
        }
        if let Some(max) = max_error_rate {
            let requests: u64 = points.iter().map(|p| p.total.requests).sum();
            let failures: u64 = points.iter().map(|p| p.total.failures).sum();
            if requests > 0 {
                let rate = failures as f64 / requests as f64;
                if rate > max {
                    findings.error_rate.push(WindowBreach {
                        start,
                        end,
                        measured: Value::Fraction(rate),
                        samples: requests,
                    });
                }
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{LoadHealth, Window};
    use std::time::SystemTime;

    fn summary(start: u64, end: Duration) -> Summary {
        let empty = crate::stats::EndpointStats::empty;
        Summary {
            started_at: SystemTime::UNIX_EPOCH,
            flows: Vec::new(),
            run_time: end,
            stopped_at: end,
            finished_at: end,
            window: Window {
                start: Duration::from_secs(start),
                end,
            },
            endpoints: vec![],
            total: empty(),
            timeline: vec![],
            load: LoadHealth::default(),
            connections: Default::default(),
            aborted: None,
            reached: 0,
        }
    }

    fn cut(start: u64, end_ms: u64, w: u64) -> Vec<(u64, u64)> {
        spans(
            &summary(start, Duration::from_millis(end_ms)),
            Duration::from_secs(w),
        )
        .into_iter()
        .map(|s| (s.start, s.end))
        .collect()
    }

    #[test]
    fn windows_are_laid_end_to_end_and_a_short_tail_is_left_out() {
        assert_eq!(cut(10, 70_000, 30), [(10, 40), (40, 70)]);
        // 15 s left of a 30 s window: half a window, judged.
        assert_eq!(cut(5, 80_000, 30), [(5, 35), (35, 65), (65, 80)]);
        // 14 s left: less than half, left out.
        assert_eq!(cut(5, 79_000, 30), [(5, 35), (35, 65)]);
        // A fractional end (an interrupted run) ends in the second that holds it.
        assert_eq!(cut(0, 59_500, 30), [(0, 30), (30, 60)]);
        // A window longer than the measured period: one partial window if it is half of it.
        assert_eq!(cut(0, 20_000, 30), [(0, 20)]);
        assert_eq!(cut(0, 10_000, 30), Vec::<(u64, u64)>::new());
        let last = spans(
            &summary(0, Duration::from_secs(60)),
            Duration::from_secs(30),
        );
        assert_eq!(
            last.iter().map(|s| s.last).collect::<Vec<_>>(),
            [false, true]
        );
    }
}
