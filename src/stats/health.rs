//! How well the load generator delivered the profile: the evidence that decides whether a run
//! is valid at all, kept apart from what the target did.

use std::time::Duration;

use super::Sparse;

/// Measured by the engine alongside the requests. The verdict turns it into INVALID causes
/// (not every user spawned on schedule, slagate's own CPU saturated, think-time wake-ups late,
/// local resource errors).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadHealth {
    pub users_planned: u32,
    /// Users that actually started before the run ended.
    pub users_started: u32,
    /// How late the latest user started against its schedule (i / spawn_rate).
    pub worst_spawn_delay: Duration,
    /// How late each think-time wake-up was against its deadline, in µs (every user, every
    /// pause): the generator's own scheduling latency.
    pub wake_delay: Sparse,
    /// Process CPU time used in each second of the run, as a fraction of the cores slagate may
    /// use (0.0..=1.0; index = second).
    pub cpu: Vec<f64>,
    /// Cores slagate may use: its CPU affinity, or fewer when it runs fewer worker threads
    /// (one per core, at most one per user), because each worker is single-threaded and one
    /// saturated worker on a machine of many cores is still a saturated generator.
    pub cores: u32,
    /// Open model only: how punctually the arrivals were sent.
    pub open: Option<OpenHealth>,
}

/// The open model's evidence: whether each arrival went out when the schedule said.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OpenHealth {
    /// How late each arrival was sent against its intended time, in µs (every arrival).
    pub send_lag: Sparse,
    /// The cap on requests in flight the run had.
    pub max_in_flight: u32,
    /// The most requests in flight at once (summed over workers' own peaks: an upper bound).
    pub peak_in_flight: u32,
}

/// Why the run stopped before its run time because of an `abort_when` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Abort {
    /// Offset from the start of the run.
    pub at: Duration,
    /// Plain words, with the figures: "error rate 62% over the last 10 s (≥ 50%)".
    pub reason: String,
}
