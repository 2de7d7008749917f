//! Test support: a run recorded by hand, through the same `Recorder` → `Recording` hand-over
//! the engine uses, so a test's `Summary` is made exactly as a real run's is. Times are offsets
//! from the run's start; no clock is read except to anchor them.

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime};

use super::{Batch, FailureKind, Outcome, Recorder, Recording};

/// One engine worker's recording of a run of `run_time`, fed request by request.
pub struct RecordedRun {
    start: Instant,
    run_time: Duration,
    endpoints: usize,
    recorder: Recorder,
    batches: Receiver<Batch>,
}

impl RecordedRun {
    pub fn new(endpoints: usize, run_time: Duration) -> RecordedRun {
        let (sink, batches) = mpsc::channel();
        let start = Instant::now();
        RecordedRun {
            start,
            run_time,
            endpoints,
            recorder: Recorder::new(endpoints, start, run_time, sink),
            batches,
        }
    }

    /// One request to `endpoint` that completed `at` into the run. Record in time order, as a
    /// worker does (out of order still adds up, in more batches).
    pub fn record(
        &mut self,
        endpoint: usize,
        latency: Duration,
        outcome: Outcome,
        body_bytes: u64,
        at: Duration,
    ) {
        self.recorder
            .record(endpoint, latency, outcome, body_bytes, self.start + at);
    }

    /// An open-model request: `latency` from its intended send time, `service` from its write.
    pub fn record_open(
        &mut self,
        endpoint: usize,
        latency: Duration,
        service: Duration,
        at: Duration,
    ) {
        self.recorder.record_timed(
            endpoint,
            latency,
            Some(service),
            Outcome::Success,
            0,
            self.start + at,
        );
    }

    /// Open model: an arrival sent (`dropped`: dropped) `at` into the run.
    pub fn arrival(&mut self, dropped: bool, at: Duration) {
        if dropped {
            self.recorder.dropped(self.start + at);
        } else {
            self.recorder.arrived(self.start + at);
        }
    }

    /// What a failure of `kind` looked like, `at` into the run (kept if it is the first of its
    /// kind on this endpoint).
    pub fn example(&mut self, endpoint: usize, kind: FailureKind, at: Duration, text: String) {
        self.recorder
            .add_example(endpoint, kind, self.start + at, text);
    }

    /// Everything handed over to the collector: the run as `Recording`, started now.
    pub fn finish(mut self) -> Recording {
        self.recorder.flush();
        let mut recording = Recording::new(self.endpoints, SystemTime::now(), self.run_time);
        for batch in self.batches.try_iter() {
            recording.add(batch);
        }
        recording
    }
}
