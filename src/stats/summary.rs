//! The whole run kept per second (`Recording`), and what a window of it adds up to (`Summary`).

use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use super::recorder::{Batch, SlotEndpoint, drain_slot};
use super::{Abort, Connections, FailureKind, LoadHealth, Sparse, new_histogram};

/// One failure, kept as an example of its kind: when it happened and what was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureExample {
    pub kind: FailureKind,
    /// Offset from the start of the run.
    pub at: Duration,
    /// What the target said or did: status line and body excerpt, or the transport error.
    pub text: String,
}

/// One second of the run (slot i covers [i s, i+1 s) from the start; the slot after the run
/// time holds requests that were in flight when it passed).
#[derive(Debug, Clone, Default)]
pub struct Slot {
    /// Users running at the end of this second (open model: requests in flight).
    pub users: u32,
    /// Open model: arrivals sent, and dropped, in this second.
    pub arrivals: u64,
    pub dropped: u64,
    pub endpoints: Vec<SlotEndpoint>,
}

/// Everything measured, per second, for the whole run (ramp-up included).
#[derive(Debug, Clone)]
pub struct Recording {
    pub endpoints: usize,
    /// Rows after the endpoints' in each slot: one per flow, its iterations recorded as
    /// requests (iteration time as latency, a failed iteration as a failure of the kind that
    /// ended it). Not in any total.
    pub flows: usize,
    /// Rows summarised over the whole run rather than the measured window: endpoints sent
    /// only as a flow's `once` steps (a login), which happen when each user starts, in the
    /// ramp-up the window leaves out.
    pub whole_run: Vec<usize>,
    pub slots: Vec<Slot>,
    pub started_at: SystemTime,
    /// The run time that was planned.
    pub run_time: Duration,
    /// When the load stopped starting requests: the run time, or earlier if interrupted or
    /// aborted (then the measured window ends here).
    pub stopped_at: Duration,
    /// When the last request in flight finished.
    pub finished_at: Duration,
    /// How well the generator kept up (filled by the engine).
    pub load: LoadHealth,
    /// How the connections were made (filled by the engine).
    pub connections: Connections,
    /// Set when an `abort_when` rule stopped the run early.
    pub aborted: Option<Abort>,
    /// Open model: the service time of every request completed from `service_from` on, per
    /// endpoint, kept whole rather than per second (no report shows it per second, and a
    /// second of a broad distribution costs as much again as its latencies).
    service: Vec<Option<Histogram<u64>>>,
    service_from: u32,
}

impl Recording {
    pub fn new(endpoints: usize, started_at: SystemTime, run_time: Duration) -> Self {
        Recording {
            endpoints,
            flows: 0,
            whole_run: Vec::new(),
            slots: Vec::new(),
            started_at,
            run_time,
            stopped_at: run_time,
            finished_at: run_time,
            load: LoadHealth::default(),
            connections: Connections::default(),
            aborted: None,
            service: vec![None; endpoints],
            service_from: 0,
        }
    }

    /// Rows for `flows` flows after the endpoints; before anything is added.
    pub fn with_flows(mut self, flows: usize) -> Self {
        self.flows = flows;
        self.service = vec![None; self.endpoints + flows];
        self
    }

    /// Endpoints and flows: the rows of every slot.
    pub fn rows(&self) -> usize {
        self.endpoints + self.flows
    }

    /// Keep service times from this second on (the measured window's first second).
    pub fn set_service_from(&mut self, slot: u32) {
        self.service_from = slot;
    }

    fn slot_mut(&mut self, slot: u32) -> &mut Slot {
        let i = slot as usize;
        if self.slots.len() <= i {
            let endpoints = self.rows();
            self.slots.resize_with(i + 1, || Slot {
                users: 0,
                arrivals: 0,
                dropped: 0,
                endpoints: vec![SlotEndpoint::default(); endpoints],
            });
        }
        &mut self.slots[i]
    }

    pub fn add(&mut self, mut batch: Batch) {
        let measured = batch.slot >= self.service_from;
        for (row, (into, se)) in self
            .service
            .iter_mut()
            .zip(&mut batch.endpoints)
            .enumerate()
        {
            if measured || self.whole_run.contains(&row) {
                for part in se.service.drain(..) {
                    part.add_to(into.get_or_insert_with(new_histogram));
                }
            } else {
                se.service.clear();
            }
        }
        let slot = self.slot_mut(batch.slot);
        slot.arrivals += batch.arrivals;
        slot.dropped += batch.dropped;
        for (mine, theirs) in slot.endpoints.iter_mut().zip(batch.endpoints) {
            mine.merge(theirs);
        }
    }

    pub fn set_users(&mut self, slot: u32, users: u32) {
        self.slot_mut(slot).users = users;
    }

    /// The slot that holds completions after the planned run time.
    pub fn drain_slot(&self) -> u32 {
        drain_slot(self.run_time)
    }
}

/// A failure kind's share of an endpoint's failures in a window.
#[derive(Debug, Clone, PartialEq)]
pub struct KindStats {
    pub kind: FailureKind,
    pub count: u64,
    /// Start of the first and last second in which this kind was seen.
    pub first_seen: Duration,
    pub last_seen: Duration,
    pub example: Option<FailureExample>,
}

/// One endpoint (or all of them) over a window.
#[derive(Debug, Clone)]
pub struct EndpointStats {
    pub requests: u64,
    pub failures: u64,
    pub body_bytes: u64,
    /// Response time of every request completed in the window that got an answer (whatever
    /// its status) or timed out, in µs. Requests that failed before any answer (refused,
    /// reset, closed) have no response time and are not in it.
    pub latency: Histogram<u64>,
    /// Open model: the same requests' service time, from the actual write (µs); empty for a
    /// closed model, whose latency is its service time.
    pub service: Histogram<u64>,
    /// Most frequent first.
    pub failures_by_kind: Vec<KindStats>,
    /// Requests completed inside the window (the drain after the run time excluded) per
    /// second of window.
    pub rps: f64,
    pub failures_per_s: f64,
    /// Answers by HTTP status code, ascending, accepted or not.
    pub statuses: Vec<(u16, u64)>,
    /// Figures another tool wrote (`slagate judge` of a Locust run), which win over the
    /// histogram's; `None` for a run slagate measured.
    pub written: Option<Written>,
}

/// An imported run's own figures, exact as the tool wrote them. With `percentiles` (Locust's
/// CSV) latency is percentile points only: `latency` is then a histogram synthesised from
/// them for the charts, and must never be read for a confidence interval. With none (Locust's
/// `--json`), `latency` is the tool's whole distribution at its resolution.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Written {
    /// (quantile, value), ascending: Locust's 50% … 100% columns.
    pub percentiles: Vec<(f64, Duration)>,
    pub min: Option<Duration>,
    pub max: Option<Duration>,
    pub mean: Option<Duration>,
}

impl Written {
    /// The written value at quantile `q`, if `q` is one the tool wrote.
    pub fn at(&self, q: f64) -> Option<Duration> {
        self.percentiles
            .iter()
            .find(|(p, _)| (p - q).abs() < 1e-9)
            .map(|&(_, d)| d)
    }

    /// Latency is percentile points only: no interval can be had from it.
    pub fn points_only(&self) -> bool {
        !self.percentiles.is_empty()
    }
}

impl EndpointStats {
    /// No requests: the zero state every window starts from.
    pub fn empty() -> Self {
        EndpointStats {
            requests: 0,
            failures: 0,
            body_bytes: 0,
            latency: new_histogram(),
            service: new_histogram(),
            failures_by_kind: Vec::new(),
            rps: 0.0,
            failures_per_s: 0.0,
            statuses: Vec::new(),
            written: None,
        }
    }

    /// Latency is an imported tool's percentile points only (Locust's CSV): no percentile of
    /// it has a confidence interval.
    pub fn points_only(&self) -> bool {
        self.written.as_ref().is_some_and(Written::points_only)
    }

    /// Requests that got no answer at all (refused, reset, closed, timed out, …).
    pub fn unanswered(&self) -> u64 {
        self.failures_by_kind
            .iter()
            .filter(|k| !k.kind.is_answer())
            .map(|k| k.count)
            .sum()
    }

    /// Add `n` answers of `status`, keeping the list ascending.
    pub fn add_status(&mut self, status: u16, n: u64) {
        match self.statuses.binary_search_by_key(&status, |&(s, _)| s) {
            Ok(i) => self.statuses[i].1 += n,
            Err(i) => self.statuses.insert(i, (status, n)),
        }
    }

    pub fn successes(&self) -> u64 {
        self.requests - self.failures
    }

    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failures as f64 / self.requests as f64
        }
    }

    /// Latency at quantile `q` (0..=1); `None` without samples.
    /// A written figure (imported run) wins at the quantiles the tool wrote.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if let Some(d) = self.written.as_ref().and_then(|w| w.at(q)) {
            return Some(d);
        }
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.value_at_quantile(q)))
    }

    pub fn max(&self) -> Option<Duration> {
        if let Some(d) = self.written.as_ref().and_then(|w| w.max) {
            return Some(d);
        }
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.max()))
    }

    pub fn min(&self) -> Option<Duration> {
        if let Some(d) = self.written.as_ref().and_then(|w| w.min) {
            return Some(d);
        }
        (!self.latency.is_empty()).then(|| Duration::from_micros(self.latency.min()))
    }

    /// Service time at quantile `q` (open model); `None` without samples.
    pub fn service_quantile(&self, q: f64) -> Option<Duration> {
        (!self.service.is_empty()).then(|| Duration::from_micros(self.service.value_at_quantile(q)))
    }

    pub fn mean(&self) -> Option<Duration> {
        if let Some(d) = self.written.as_ref().and_then(|w| w.mean) {
            return Some(d);
        }
        (!self.latency.is_empty()).then(|| Duration::from_secs_f64(self.latency.mean() / 1e6))
    }

    /// Requests that took at least `limit`.
    pub fn count_at_or_above(&self, limit: Duration) -> u64 {
        let us = u64::try_from(limit.as_micros()).unwrap_or(u64::MAX);
        if self.latency.is_empty() {
            return 0;
        }
        // count_between is inclusive of the bucket that holds `us`, which may also hold values
        // just below it; use the next distinct bucket when `us` is not its lowest value.
        let low = if self.latency.lowest_equivalent(us) == us {
            us
        } else {
            self.latency.next_non_equivalent(us)
        };
        self.latency.count_between(low, u64::MAX)
    }
}

/// The measured window: offsets from the start of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start: Duration,
    pub end: Duration,
}

impl Window {
    pub fn length(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// One point of the timeline: one second, one endpoint or the total.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecondStats {
    pub requests: u64,
    pub failures: u64,
    pub body_bytes: u64,
    /// Every latency of this second (µs), so later reports can merge any run of seconds
    /// exactly (cumulative CSV history, windows) instead of averaging percentiles.
    pub latency: Sparse,
    /// Latency percentiles of the requests completed in this second, µs.
    pub p50_us: Option<u64>,
    pub p95_us: Option<u64>,
    pub p99_us: Option<u64>,
}

impl SecondStats {
    /// A second's figures from its latency histogram (µs).
    pub fn new(hist: &Histogram<u64>, requests: u64, failures: u64, body_bytes: u64) -> Self {
        let q = |q: f64| (!hist.is_empty()).then(|| hist.value_at_quantile(q));
        SecondStats {
            requests,
            failures,
            body_bytes,
            latency: Sparse::from_histogram(hist),
            p50_us: q(0.5),
            p95_us: q(0.95),
            p99_us: q(0.99),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePoint {
    /// Seconds since the start (the drain slot is the last point, if anything landed there).
    pub second: u32,
    /// Users running at the end of the second (open model: requests in flight).
    pub users: u32,
    /// Open model: arrivals sent, and dropped, in this second (0 for a closed model).
    pub arrivals: u64,
    pub dropped: u64,
    pub endpoints: Vec<SecondStats>,
    pub total: SecondStats,
}

pub type Timeline = Vec<TimelinePoint>;

/// What the measured window adds up to, plus the whole run per second.
#[derive(Debug, Clone)]
pub struct Summary {
    pub started_at: SystemTime,
    pub run_time: Duration,
    pub stopped_at: Duration,
    pub finished_at: Duration,
    pub window: Window,
    pub endpoints: Vec<EndpointStats>,
    /// One per flow: iterations as requests, iteration time as latency (see
    /// `Recording::flows`); in no total and not in the timeline.
    pub flows: Vec<EndpointStats>,
    pub total: EndpointStats,
    pub timeline: Timeline,
    pub load: LoadHealth,
    pub connections: Connections,
    pub aborted: Option<Abort>,
    /// Requests of the whole run (ramp-up and drain included) that reached the target: its
    /// connection was accepted, whatever came of it then (an answer, a timeout, a reset). Zero
    /// means nothing ever listened there: the run could not be made.
    pub reached: u64,
}

impl Summary {
    /// Summarise the window that starts at second `window_start` (the first whole second after
    /// ramp-up) and ends when the load stopped.
    pub fn new(rec: &Recording, window_start: u32) -> Summary {
        let drain = rec.drain_slot();
        let window = Window {
            start: Duration::from_secs(u64::from(window_start)),
            end: rec.stopped_at,
        };
        let secs = window.length().as_secs_f64();
        let mut endpoints: Vec<EndpointStats> =
            (0..rec.rows()).map(|_| EndpointStats::empty()).collect();
        let mut in_window = vec![(0u64, 0u64); rec.rows()];
        for (i, slot) in rec.slots.iter().enumerate() {
            let second = Duration::from_secs(i as u64);
            let before = (i as u32) < window_start;
            for (e, se) in slot.endpoints.iter().enumerate() {
                if before && !rec.whole_run.contains(&e) {
                    continue;
                }
                let st = &mut endpoints[e];
                for part in &se.latencies {
                    part.add_to(&mut st.latency);
                }
                st.requests += se.requests;
                st.failures += se.failures;
                st.body_bytes += se.body_bytes;
                for &(status, n) in &se.statuses {
                    st.add_status(status, n);
                }
                if (i as u32) < drain {
                    in_window[e].0 += se.requests;
                    in_window[e].1 += se.failures;
                }
                for &(kind, n) in &se.failures_by_kind {
                    match st.failures_by_kind.iter_mut().find(|k| k.kind == kind) {
                        Some(k) => {
                            k.count += n;
                            k.last_seen = second;
                        }
                        None => st.failures_by_kind.push(KindStats {
                            kind,
                            count: n,
                            first_seen: second,
                            last_seen: second,
                            example: None,
                        }),
                    }
                }
            }
        }
        let mut reached = 0u64;
        for se in rec
            .slots
            .iter()
            .flat_map(|slot| &slot.endpoints[..rec.endpoints])
        {
            let unconnected: u64 = se
                .failures_by_kind
                .iter()
                .filter(|(kind, _)| kind.is_connect())
                .map(|(_, n)| n)
                .sum();
            reached += se.requests.saturating_sub(unconnected);
        }
        // An example is of the window it describes when one is there (workers take examples
        // afresh when the window starts); a kind seen in the window whose only example came
        // from the ramp-up keeps that one rather than none.
        let of_window = |ex: &FailureExample| ex.at >= window.start;
        for pass in [true, false] {
            for slot in &rec.slots {
                for (e, se) in slot.endpoints.iter().enumerate() {
                    for ex in se.examples.iter().filter(|ex| of_window(ex) == pass) {
                        if let Some(k) = endpoints[e]
                            .failures_by_kind
                            .iter_mut()
                            .find(|k| k.kind == ex.kind && k.example.is_none())
                        {
                            k.example = Some(ex.clone());
                        }
                    }
                }
            }
        }
        let rate = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        for (st, service) in endpoints.iter_mut().zip(&rec.service) {
            if let Some(h) = service {
                st.service.add(h).expect("same bounds");
            }
        }
        for (st, &(reqs, fails)) in endpoints.iter_mut().zip(&in_window) {
            st.rps = rate(reqs);
            st.failures_per_s = rate(fails);
            st.failures_by_kind
                .sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
        }
        let flows = endpoints.split_off(rec.endpoints);
        let in_window = &in_window[..rec.endpoints];
        let mut total = EndpointStats::empty();
        for st in &endpoints {
            total.requests += st.requests;
            total.failures += st.failures;
            total.body_bytes += st.body_bytes;
            total.latency.add(&st.latency).expect("same bounds");
            total.service.add(&st.service).expect("same bounds");
            for &(status, n) in &st.statuses {
                total.add_status(status, n);
            }
            for k in &st.failures_by_kind {
                match total.failures_by_kind.iter_mut().find(|t| t.kind == k.kind) {
                    Some(t) => {
                        t.count += k.count;
                        t.first_seen = t.first_seen.min(k.first_seen);
                        t.last_seen = t.last_seen.max(k.last_seen);
                        if t.example.is_none() {
                            t.example = k.example.clone();
                        }
                    }
                    None => total.failures_by_kind.push(k.clone()),
                }
            }
        }
        total.rps = rate(in_window.iter().map(|x| x.0).sum());
        total.failures_per_s = rate(in_window.iter().map(|x| x.1).sum());
        total
            .failures_by_kind
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));

        Summary {
            started_at: rec.started_at,
            run_time: rec.run_time,
            stopped_at: rec.stopped_at,
            finished_at: rec.finished_at,
            window,
            endpoints,
            flows,
            total,
            timeline: timeline(rec),
            load: rec.load.clone(),
            connections: rec.connections.clone(),
            aborted: rec.aborted.clone(),
            reached,
        }
    }
}

fn timeline(rec: &Recording) -> Timeline {
    let mut per_endpoint = new_histogram();
    let mut total = new_histogram();
    rec.slots
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            total.reset();
            let endpoints = slot.endpoints[..rec.endpoints]
                .iter()
                .map(|se| {
                    per_endpoint.reset();
                    for part in &se.latencies {
                        part.add_to(&mut per_endpoint);
                        part.add_to(&mut total);
                    }
                    SecondStats::new(&per_endpoint, se.requests, se.failures, se.body_bytes)
                })
                .collect::<Vec<_>>();
            let requests = endpoints.iter().map(|p| p.requests).sum();
            let failures = endpoints.iter().map(|p| p.failures).sum();
            let body_bytes = endpoints.iter().map(|p| p.body_bytes).sum();
            TimelinePoint {
                second: i as u32,
                users: slot.users,
                arrivals: slot.arrivals,
                dropped: slot.dropped,
                endpoints,
                total: SecondStats::new(&total, requests, failures, body_bytes),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Outcome, Recorder};
    use std::sync::mpsc;
    use std::time::Instant;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn window_excludes_ramp_up_and_rate_excludes_the_drain() {
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let mut r = Recorder::new(1, start, Duration::from_secs(4), tx);
        // second 0 (ramp-up): 3 requests; seconds 1..4: 2 each; drain: 1 (slow)
        for _ in 0..3 {
            r.record(0, ms(10), Outcome::Success, 5, start + ms(500));
        }
        for s in 1..4 {
            r.record(0, ms(20), Outcome::Success, 5, start + ms(s * 1000 + 10));
            r.record(
                0,
                ms(30),
                Outcome::Failure(FailureKind::Status(500)),
                5,
                start + ms(s * 1000 + 20),
            );
        }
        r.record(0, ms(900), Outcome::Success, 5, start + ms(4100));
        r.flush();
        let mut rec = Recording::new(1, SystemTime::now(), Duration::from_secs(4));
        for b in rx.try_iter() {
            rec.add(b);
        }
        let s = Summary::new(&rec, 1);
        let e = &s.endpoints[0];
        assert_eq!(e.requests, 7, "3 seconds × 2 + the drained request");
        assert_eq!(e.failures, 3);
        assert!((e.rps - 2.0).abs() < 1e-9, "6 requests in a 3 s window");
        assert!((e.failures_per_s - 1.0).abs() < 1e-9);
        assert_eq!(e.max().unwrap().as_millis(), 900);
        assert_eq!(e.failures_by_kind[0].first_seen, Duration::from_secs(1));
        assert_eq!(e.failures_by_kind[0].last_seen, Duration::from_secs(3));
        assert_eq!(s.total.requests, 7);
        assert_eq!(s.timeline.len(), 5);
        assert_eq!(s.timeline[0].total.requests, 3);
        assert_eq!(e.count_at_or_above(ms(30)), 4);
    }

    #[test]
    fn service_time_is_kept_whole_from_the_window_and_not_per_second() {
        let (tx, rx) = mpsc::channel();
        let start = Instant::now();
        let mut r = Recorder::new(1, start, Duration::from_secs(3), tx);
        // Ramp-up second: a slow one, out of the window.
        r.record_timed(
            0,
            ms(900),
            Some(ms(800)),
            Outcome::Success,
            1,
            start + ms(500),
        );
        for s in 1..3 {
            r.record_timed(
                0,
                ms(40),
                Some(ms(10)),
                Outcome::Success,
                1,
                start + ms(s * 1000 + 5),
            );
        }
        r.flush();
        let mut rec = Recording::new(1, SystemTime::now(), Duration::from_secs(3));
        rec.set_service_from(1);
        for b in rx.try_iter() {
            rec.add(b);
        }
        assert!(rec.slots.iter().all(|s| s.endpoints[0].service.is_empty()));
        let s = Summary::new(&rec, 1);
        let e = &s.endpoints[0];
        assert_eq!(e.service.len(), 2);
        assert_eq!(e.service_quantile(1.0).map(|d| d.as_millis()), Some(10));
        assert_eq!(e.quantile(1.0).map(|d| d.as_millis()), Some(40));
        assert_eq!(s.total.service.len(), 2);
    }
}
