//! A worker's own recorder: per-endpoint histograms and counters for the current second, handed
//! to the collector as one `Batch` when the second changes.

use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::summary::FailureExample;
use super::{FailureKind, Outcome, Sparse, merge_parts, new_histogram};

/// One worker's measurements for one second of the run.
#[derive(Debug, Clone)]
pub struct Batch {
    pub slot: u32,
    pub endpoints: Vec<SlotEndpoint>,
    /// Open model: arrivals sent in this second, and arrivals dropped (no free slot).
    pub arrivals: u64,
    pub dropped: u64,
}

/// One endpoint's measurements in one second (from one worker, or merged).
#[derive(Debug, Clone, Default)]
pub struct SlotEndpoint {
    /// Latency of every request that completed in this second, in µs.
    pub latencies: Vec<Sparse>,
    /// Open model: the same requests' service time (from the actual write, not the intended
    /// send time), in µs; empty for a closed model, where the two are the same.
    pub service: Vec<Sparse>,
    pub requests: u64,
    pub failures: u64,
    pub failures_by_kind: Vec<(FailureKind, u64)>,
    pub body_bytes: u64,
    /// Answers by HTTP status code, accepted or not (`count_status`).
    pub statuses: Vec<(u16, u64)>,
    /// The first example of each failure kind this worker saw (sent once per kind per worker).
    pub examples: Vec<FailureExample>,
}

impl SlotEndpoint {
    pub(crate) fn merge(&mut self, other: SlotEndpoint) {
        // One sorted part per second: merged on arrival, so a second's memory is its distinct
        // buckets, whatever the number of workers.
        merge_parts(&mut self.latencies, other.latencies);
        merge_parts(&mut self.service, other.service);
        self.requests += other.requests;
        self.failures += other.failures;
        self.body_bytes += other.body_bytes;
        for (kind, n) in other.failures_by_kind {
            add_kind(&mut self.failures_by_kind, kind, n);
        }
        for (status, n) in other.statuses {
            add_status(&mut self.statuses, status, n);
        }
        self.examples.extend(other.examples);
    }
}

pub(crate) fn add_kind(kinds: &mut Vec<(FailureKind, u64)>, kind: FailureKind, n: u64) {
    match kinds.iter_mut().find(|(k, _)| *k == kind) {
        Some((_, count)) => *count += n,
        None => kinds.push((kind, n)),
    }
}

pub(crate) fn add_status(statuses: &mut Vec<(u16, u64)>, status: u16, n: u64) {
    match statuses.iter_mut().find(|(s, _)| *s == status) {
        Some((_, count)) => *count += n,
        None => statuses.push((status, n)),
    }
}

struct Current {
    hist: Histogram<u64>,
    /// Made on the first open-model request (once per endpoint per worker).
    service: Option<Histogram<u64>>,
    requests: u64,
    failures: u64,
    failures_by_kind: Vec<(FailureKind, u64)>,
    body_bytes: u64,
    statuses: Vec<(u16, u64)>,
    examples: Vec<FailureExample>,
}

/// Records one worker's requests. Not shared: each worker thread owns one.
pub struct Recorder {
    start: Instant,
    deadline: Instant,
    /// Requests that complete after the deadline (in flight when it passed) are counted in this
    /// slot, so they are measured but never inflate the window's requests per second.
    drain_slot: u32,
    slot: u32,
    /// The first slot of the measured window: examples are taken afresh from it, so that a
    /// failure kept as an example is one of the window it describes, not of the ramp-up.
    window_slot: u32,
    current: Vec<Current>,
    arrivals: u64,
    dropped: u64,
    /// (endpoint, kind) pairs this worker has already sent an example for (since the window
    /// started, once it has).
    exampled: Vec<(usize, FailureKind)>,
    sink: Sender<Batch>,
}

impl Recorder {
    pub fn new(endpoints: usize, start: Instant, run_time: Duration, sink: Sender<Batch>) -> Self {
        let current = (0..endpoints)
            .map(|_| Current {
                hist: new_histogram(),
                service: None,
                requests: 0,
                failures: 0,
                failures_by_kind: Vec::with_capacity(4),
                body_bytes: 0,
                statuses: Vec::with_capacity(4),
                examples: Vec::new(),
            })
            .collect();
        Recorder {
            start,
            deadline: start + run_time,
            drain_slot: drain_slot(run_time),
            slot: 0,
            window_slot: 0,
            current,
            arrivals: 0,
            dropped: 0,
            exampled: Vec::new(),
            sink,
        }
    }

    /// The measured window starts at this second (the ramp-up is not measured): take new
    /// examples from it on.
    pub fn set_window_start(&mut self, slot: u32) {
        self.window_slot = slot;
    }

    fn slot_of(&self, now: Instant) -> u32 {
        if now >= self.deadline {
            self.drain_slot
        } else {
            u32::try_from(now.saturating_duration_since(self.start).as_secs()).unwrap_or(u32::MAX)
        }
    }

    /// Record one finished request. `completed` is when its body was fully read (or it failed).
    ///
    /// Its latency goes into the histogram only if it got an answer, or timed out (the time
    /// the user waited): a request refused, reset or closed before any answer has no response
    /// time, and counting its microseconds would make a failing service look fast. It is
    /// still counted, by kind, as a request and a failure.
    pub fn record(
        &mut self,
        endpoint: usize,
        latency: Duration,
        outcome: Outcome,
        body_bytes: u64,
        completed: Instant,
    ) {
        self.record_timed(endpoint, latency, None, outcome, body_bytes, completed);
    }

    /// [`Recorder::record`] for the open model: `latency` counts from the intended send time,
    /// `service` from the actual write (both only for requests that have a response time).
    pub fn record_timed(
        &mut self,
        endpoint: usize,
        latency: Duration,
        service: Option<Duration>,
        outcome: Outcome,
        body_bytes: u64,
        completed: Instant,
    ) {
        self.advance(completed);
        let c = &mut self.current[endpoint];
        if outcome.has_response_time() {
            c.hist.saturating_record(micros(latency));
            if let Some(service) = service {
                c.service
                    .get_or_insert_with(new_histogram)
                    .saturating_record(micros(service));
            }
        }
        c.requests += 1;
        c.body_bytes += body_bytes;
        if let Outcome::Failure(kind) = outcome {
            c.failures += 1;
            add_kind(&mut c.failures_by_kind, kind, 1);
        }
    }

    /// An open-model arrival was sent at `now` (whatever came of it).
    pub fn arrived(&mut self, now: Instant) {
        self.advance(now);
        self.arrivals += 1;
    }

    /// An open-model arrival due at `now` found every slot busy and was not sent.
    pub fn dropped(&mut self, now: Instant) {
        self.advance(now);
        self.dropped += 1;
    }

    /// Count an answer's status code (accepted or not), for the per-endpoint breakdown. Called
    /// with `record` for every request that got an answer.
    pub fn count_status(&mut self, endpoint: usize, status: u16) {
        add_status(&mut self.current[endpoint].statuses, status, 1);
    }

    /// Whether the engine should build an example message for this failure, completing at
    /// `now` (the first of its kind on this worker, in the ramp-up or in the measured window):
    /// keeps message formatting off the hot path.
    pub fn wants_example(&self, endpoint: usize, kind: FailureKind, now: Instant) -> bool {
        // The first request of the window may be asked about before its second is recorded.
        let window_begins = self.slot < self.window_slot && self.slot_of(now) >= self.window_slot;
        window_begins || !self.exampled.contains(&(endpoint, kind))
    }

    pub fn add_example(&mut self, endpoint: usize, kind: FailureKind, at: Instant, text: String) {
        self.advance(at);
        if !self.wants_example(endpoint, kind, at) {
            return;
        }
        self.exampled.push((endpoint, kind));
        self.current[endpoint].examples.push(FailureExample {
            kind,
            at: at.saturating_duration_since(self.start),
            text,
        });
    }

    /// Called by the worker's once-a-second timer, so a quiet worker still hands over.
    pub fn tick(&mut self, now: Instant) {
        self.advance(now);
    }

    fn advance(&mut self, now: Instant) {
        let slot = self.slot_of(now);
        if slot != self.slot {
            self.flush();
            if self.slot < self.window_slot && slot >= self.window_slot {
                self.exampled.clear();
            }
            self.slot = slot;
        }
    }

    /// Hand the current second over (if anything happened in it) and start afresh.
    pub fn flush(&mut self) {
        if self.arrivals == 0
            && self.dropped == 0
            && self
                .current
                .iter()
                .all(|c| c.requests == 0 && c.examples.is_empty())
        {
            return;
        }
        let endpoints = self
            .current
            .iter_mut()
            .map(|c| {
                let out = SlotEndpoint {
                    latencies: if !c.hist.is_empty() {
                        vec![Sparse::from_histogram(&c.hist)]
                    } else {
                        Vec::new()
                    },
                    service: match &mut c.service {
                        Some(h) if !h.is_empty() => {
                            let out = vec![Sparse::from_histogram(h)];
                            h.reset();
                            out
                        }
                        _ => Vec::new(),
                    },
                    requests: c.requests,
                    failures: c.failures,
                    failures_by_kind: std::mem::take(&mut c.failures_by_kind),
                    body_bytes: c.body_bytes,
                    statuses: c.statuses.clone(),
                    examples: std::mem::take(&mut c.examples),
                };
                c.statuses.clear();
                c.hist.reset();
                c.requests = 0;
                c.failures = 0;
                c.body_bytes = 0;
                out
            })
            .collect();
        // The collector outlives every worker; if it is gone the run is being torn down anyway.
        let _ = self.sink.send(Batch {
            slot: self.slot,
            endpoints,
            arrivals: std::mem::take(&mut self.arrivals),
            dropped: std::mem::take(&mut self.dropped),
        });
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// The slot index that holds requests completed after the run time.
pub(crate) fn drain_slot(run_time: Duration) -> u32 {
    u32::try_from(run_time.as_secs() + u64::from(run_time.subsec_nanos() > 0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_second_from_two_workers_is_one_sorted_part_with_every_count() {
        let mut a = SlotEndpoint {
            latencies: vec![Sparse(vec![(10, 1), (30, 2), (50, 1)])],
            ..SlotEndpoint::default()
        };
        let b = SlotEndpoint {
            latencies: vec![Sparse(vec![(5, 4), (30, 1), (70, 2)])],
            ..SlotEndpoint::default()
        };
        a.merge(b);
        assert_eq!(
            a.latencies,
            [Sparse(vec![(5, 4), (10, 1), (30, 3), (50, 1), (70, 2)])]
        );
        a.merge(SlotEndpoint::default());
        assert_eq!(a.latencies.len(), 1);
    }

    #[test]
    fn requests_land_in_the_second_they_complete_and_late_ones_in_the_drain_slot() {
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let mut rec = Recorder::new(2, start, Duration::from_millis(2500), tx);
        let ms = Duration::from_millis;
        rec.record(0, ms(5), Outcome::Success, 10, start + ms(100));
        rec.record(1, ms(7), Outcome::Success, 10, start + ms(900));
        rec.record(
            0,
            ms(9),
            Outcome::Failure(FailureKind::Status(503)),
            3,
            start + ms(1100),
        );
        rec.record(0, ms(40), Outcome::Success, 1, start + ms(2600)); // after the deadline
        rec.flush();
        let batches: Vec<Batch> = rx.try_iter().collect();
        assert_eq!(
            batches.iter().map(|b| b.slot).collect::<Vec<_>>(),
            [0, 1, 3]
        );
        assert_eq!(batches[0].endpoints[0].requests, 1);
        assert_eq!(batches[0].endpoints[1].requests, 1);
        assert_eq!(batches[1].endpoints[0].failures, 1);
        assert_eq!(
            batches[1].endpoints[0].failures_by_kind,
            [(FailureKind::Status(503), 1)]
        );
        assert_eq!(batches[2].endpoints[0].requests, 1);
        assert_eq!(drain_slot(Duration::from_secs(10)), 10);
    }

    #[test]
    fn an_example_is_kept_once_per_kind() {
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let mut rec = Recorder::new(1, start, Duration::from_secs(5), tx);
        assert!(rec.wants_example(0, FailureKind::Timeout, start));
        rec.add_example(0, FailureKind::Timeout, start, "first".into());
        assert!(!rec.wants_example(0, FailureKind::Timeout, start));
        rec.add_example(0, FailureKind::Timeout, start, "second".into());
        rec.flush();
        let b = rx.recv().unwrap();
        assert_eq!(b.endpoints[0].examples.len(), 1);
        assert_eq!(b.endpoints[0].examples[0].text, "first");
    }

    #[test]
    fn the_window_gets_examples_of_its_own() {
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut rec = Recorder::new(1, start, Duration::from_secs(5), tx);
        rec.set_window_start(2);
        let kind = FailureKind::Status(503);
        rec.record(0, ms(5), Outcome::Failure(kind), 0, start + ms(100));
        rec.add_example(0, kind, start + ms(100), "ramp-up".into());
        rec.record(0, ms(5), Outcome::Failure(kind), 0, start + ms(1100));
        assert!(
            !rec.wants_example(0, kind, start + ms(1100)),
            "one per kind before the window"
        );
        // The window starts at 2 s: the same kind is wanted again, once, even for the first
        // request of the window, asked about before it is recorded.
        assert!(rec.wants_example(0, kind, start + ms(2100)));
        rec.add_example(0, kind, start + ms(2100), "window".into());
        rec.record(0, ms(5), Outcome::Failure(kind), 0, start + ms(2100));
        assert!(!rec.wants_example(0, kind, start + ms(2200)));
        rec.flush();
        let texts: Vec<String> = rx
            .try_iter()
            .flat_map(|b| b.endpoints.into_iter().flat_map(|e| e.examples))
            .map(|ex| ex.text)
            .collect();
        assert_eq!(texts, ["ramp-up", "window"]);
    }
}
