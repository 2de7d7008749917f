//! The validated, resolved run: what `config` read, with every number in its unit and every
//! cross-file rule applied. Owns the `Plan` and the types the later stages agree on (`Quantile`,
//! `Metric`, `Location`). Knows nothing of TOML syntax (that is `config`) and nothing of how the
//! load is generated (that is `engine`).

mod build;
mod regression;
#[doc(hidden)]
pub mod testing;

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};

pub use build::{Overrides, build};
pub use regression::{LatencyStat, Tolerances, tolerances};

/// Everything needed to run and judge one profile against one target.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sla_path: PathBuf,
    pub target: Target,
    pub endpoints: Vec<Endpoint>,
    pub profile: Profile,
    /// The throughput level this profile is judged against; `None` means no throughput checks.
    pub level: Option<Level>,
    /// Stop the run early when this trips (the level's own rule, else the sla file's global one).
    pub abort_when: Option<AbortWhen>,
}

/// `abort_when = { error_rate = "50%", for = "10s" }`: stop the run when the error rate over
/// the last `for` stays above `error_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct AbortWhen {
    /// Fraction 0.0..=1.0.
    pub error_rate: f64,
    pub sustained: Duration,
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Target {
    /// Scheme, host, port and optional base path, e.g. `http://localhost:8003/api`.
    pub base_url: url::Url,
    /// Per-request timeout: connect + write + response + whole body.
    pub timeout: Duration,
    /// Sent with every request (endpoint headers override same-named ones).
    pub headers: HeaderMap,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Unique; the row label in every table.
    pub name: String,
    pub method: Method,
    /// Path and query as sent, already joined with the base URL's path.
    pub path_and_query: String,
    /// Target headers merged with the endpoint's own.
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Share of each user's requests (relative to the sum over endpoints); > 0.
    pub weight: u32,
    pub expect_status: StatusSet,
    /// In the order written; percentile limits are validated to be non-decreasing.
    pub budgets: Vec<Budget>,
    /// Where `[[endpoint]]` starts, for pointing at it.
    pub location: Location,
}

/// Which responses count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSet {
    /// Any 2xx or 3xx.
    Success,
    /// Exactly these codes.
    Exactly(Vec<u16>),
}

impl StatusSet {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusSet::Success => (200..400).contains(&status),
            StatusSet::Exactly(codes) => codes.contains(&status),
        }
    }
}

/// A latency metric that can carry a budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    Percentile(Quantile),
    Max,
}

impl Metric {
    /// The quantile this metric reads off a histogram (max = 1.0).
    pub fn quantile(self) -> f64 {
        match self {
            Metric::Percentile(q) => q.get(),
            Metric::Max => 1.0,
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Metric::Percentile(q) => write!(f, "p{}", q.percent_label()),
            Metric::Max => f.write_str("max"),
        }
    }
}

/// A quantile strictly between 0 and 1 (p50 = 0.5, p99.9 = 0.999).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Quantile(f64);

impl Quantile {
    pub fn new(q: f64) -> Option<Quantile> {
        (q > 0.0 && q < 1.0).then_some(Quantile(q))
    }
    pub fn get(self) -> f64 {
        self.0
    }
    /// `50`, `99.9`: the number after the `p`, without float noise.
    pub fn percent_label(self) -> String {
        let pct = self.0 * 100.0;
        // Round to 6 decimals to shed binary noise (0.999 * 100 = 99.9000000001).
        let s = format!("{:.6}", pct);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub metric: Metric,
    /// The response time must stay strictly below this ("P95 < 20ms").
    pub limit: Duration,
    /// Where the budget's value is written, for annotations and diagnostics.
    pub location: Location,
}

#[derive(Debug, Clone)]
pub struct Profile {
    /// The file stem (`medium`) or the name given.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub users: u32,
    /// Users started per second; > 0.
    pub spawn_rate: f64,
    /// Counted from the start of the run, ramp-up included (as Locust does).
    pub run_time: Duration,
    pub think_time: ThinkTime,
    /// The `[level.NAME]` this profile is judged against (default: the profile's name).
    pub level_name: String,
}

impl Profile {
    /// When the last user starts: user i starts at i / spawn_rate.
    pub fn ramp_up(&self) -> Duration {
        Duration::from_secs_f64((self.users.saturating_sub(1)) as f64 / self.spawn_rate)
    }

    /// The first second of the measured window: the first whole second after the last user
    /// started (the ramp-up is excluded, as Locust's `--reset-stats` does).
    pub fn window_start(&self) -> u32 {
        let ramp_up = self.ramp_up();
        let secs = ramp_up.as_secs() + u64::from(ramp_up.subsec_nanos() > 0);
        u32::try_from(secs).unwrap_or(u32::MAX)
    }
}

/// Uniform think time between `min` and `max` (equal for a fixed pause).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThinkTime {
    pub min: Duration,
    pub max: Duration,
}

impl ThinkTime {
    pub fn mean(&self) -> Duration {
        (self.min + self.max) / 2
    }
}

#[derive(Debug, Clone)]
pub struct Level {
    pub name: String,
    /// Requests per second the measured window must reach.
    pub min_rps: Option<LevelLimit<f64>>,
    /// Failed / total requests, as a fraction 0.0..=1.0.
    pub max_error_rate: Option<LevelLimit<f64>>,
    /// Also judge latency budgets and the error rate on each consecutive window of this length
    /// (`window = "30s"`): a breach in any window fails the check.
    pub window: Option<LevelLimit<Duration>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LevelLimit<T> {
    pub value: T,
    pub location: Location,
}

/// A place in a config file: 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}
