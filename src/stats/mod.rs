//! Measurements: what happened to each request, per second and per endpoint, and the summary of
//! a window of seconds. Owns the HdrHistogram recorders, the once-per-second hand-over from the
//! engine's workers, the per-second timeline and `Summary`. Imports nothing of ours: endpoints
//! are indices, times are offsets from the run's start.
//!
//! Hot-path contract: `Recorder::record` touches only the worker's own, pre-sized histograms and
//! counters. Once per second (per worker) the second's data is compacted and sent to the
//! `Collector`; that is the only message and the only allocation that the request rate drives.

mod connections;
mod health;
mod outcome;
mod recorder;
mod summary;
#[doc(hidden)]
pub mod testing;

pub use connections::{ConnectionRecorder, Connections, Opened};
pub use health::{Abort, LoadHealth, OpenHealth};
pub use outcome::{FailureKind, Outcome};
pub use recorder::{Batch, Recorder, SlotEndpoint};
pub use summary::{
    EndpointStats, FailureExample, KindStats, Recording, SecondStats, Slot, Summary, Timeline,
    TimelinePoint, Window, Written,
};

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, from 1 µs to 1 hour, 3 significant digits.
pub const LOWEST_US: u64 = 1;
pub const HIGHEST_US: u64 = 3_600_000_000;
pub const SIGFIG: u8 = 3;

/// Locust's percentile columns (`PERCENTILES_TO_REPORT`), as quantiles and as headers: what
/// every Locust-shaped table and file shows, and all that Locust's CSV holds.
pub const LOCUST_PERCENTILES: [(f64, &str); 11] = [
    (0.50, "50%"),
    (0.66, "66%"),
    (0.75, "75%"),
    (0.80, "80%"),
    (0.90, "90%"),
    (0.95, "95%"),
    (0.98, "98%"),
    (0.99, "99%"),
    (0.999, "99.9%"),
    (0.9999, "99.99%"),
    (1.0, "100%"),
];

/// A histogram with slagate's bounds. Values above one hour saturate at the top bucket.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG)
        .expect("constant histogram bounds are valid")
}

/// A histogram as (value, count) pairs of its non-empty buckets: what a second of one endpoint
/// costs to keep (a few hundred pairs at most) instead of a full 200 KB counts array. Pairs are
/// 32-bit: every value fits (the highest is an hour in µs, below 2³²), and so does any count
/// a bucket reaches in a second; a whole-run count beyond 2³² − 1 saturates, as the histogram
/// does. Half the size of 64-bit pairs, for the structure a long run keeps per second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sparse(pub Vec<(u32, u32)>);

impl Sparse {
    pub fn from_histogram(h: &Histogram<u64>) -> Sparse {
        let narrow = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        Sparse(
            h.iter_recorded()
                .map(|v| (narrow(v.value_iterated_to()), narrow(v.count_at_value())))
                .collect(),
        )
    }

    pub fn add_to(&self, h: &mut Histogram<u64>) {
        for &(value, count) in &self.0 {
            h.saturating_record_n(u64::from(value), u64::from(count));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds `other`'s counts, keeping the pairs sorted by value with one pair per value: what
    /// the workers' halves of one second cost to keep is then one second's distinct buckets,
    /// not the sum of theirs.
    pub fn merge(&mut self, other: &Sparse) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            self.0.extend_from_slice(&other.0);
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(va, ca)), Some(&&(vb, cb))) => {
                    if va == vb {
                        a.next();
                        b.next();
                        (va, ca.saturating_add(cb))
                    } else if va < vb {
                        a.next();
                        (va, ca)
                    } else {
                        b.next();
                        (vb, cb)
                    }
                }
                (Some(_), None) => *a.next().expect("peeked"),
                (None, Some(_)) => *b.next().expect("peeked"),
                (None, None) => break,
            };
            out.push(next);
        }
        self.0 = out;
    }
}

/// Merges `parts` into `into`, leaving at most one sorted part.
pub(crate) fn merge_parts(into: &mut Vec<Sparse>, parts: Vec<Sparse>) {
    for part in parts {
        match into.first_mut() {
            Some(first) => first.merge(&part),
            None => into.push(part),
        }
    }
}
