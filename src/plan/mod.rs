//! The validated, resolved run: what `config` read, with every number in its unit and every
//! cross-file rule applied. Owns the `Plan` and the types the later stages agree on (`Quantile`,
//! `Metric`, `Location`). Knows nothing of TOML syntax (that is `config`) and nothing of how the
//! load is generated (that is `engine`).
//!
//! It also decides what is secret (`secrets.rs`) and carries every secret value in
//! [`Plan::secrets`]; what the plan shows (endpoint names, the description, the target URL) is
//! masked here, once, so that no later stage can print a secret it was handed.

mod build;
mod regression;
mod schedule;
mod secrets;
mod shard;
#[doc(hidden)]
pub mod testing;
mod transport;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};

pub use crate::config::{CaptureSource, MASK, Piece, Secrets, blank_references, split_template};
pub use build::{Overrides, build};
pub use regression::{LatencyStat, Tolerances, tolerances};
pub use schedule::Schedule;
pub use secrets::is_always_secret;
pub use shard::Shard;

/// Everything needed to run and judge one profile against one target.
#[derive(Debug, Clone)]
pub struct Plan {
    pub sla_path: PathBuf,
    pub target: Target,
    pub endpoints: Vec<Endpoint>,
    /// `[[flow]]`s: sequences of endpoints a user runs, carrying captured values.
    pub flows: Vec<Flow>,
    /// The names every capture writes, indexed by `Capture::var`: a user's values are a
    /// vector of this length.
    pub vars: Vec<String>,
    pub profile: Profile,
    /// The throughput level this profile is judged against; `None`: no min_rps, and the default error ceiling (see `error_ceiling`).
    pub level: Option<Level>,
    /// Stop the run early when this trips (the level's own rule, else the sla file's global one).
    pub abort_when: Option<AbortWhen>,
    /// Every value that must not be shown: `${NAME}` values, secret headers' values, `-H` values,
    /// URL credentials. The plan's display strings (endpoint names, the profile's description,
    /// the target URL) are already masked; what the run produces (failure examples) is masked
    /// with this before it is stored.
    pub secrets: Secrets,
    /// `check --shard K/N`: make only that shard's part of the profile (`None`: all of it).
    pub shard: Option<Shard>,
}

/// The error rate every run is judged against: the level's `max_error_rate`, or
/// [`DEFAULT_MAX_ERROR_RATE`] when the profile's level has none (or there is no such level).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCeiling {
    /// Fraction 0.0..=1.0.
    pub value: f64,
    /// Where it is written; `None` for the default.
    pub location: Option<Location>,
}

/// The error ceiling of a level that sets none: nothing may pass on a service that fails
/// requests just because a profile has no `[level.NAME]` table. A level that tolerates errors
/// says so with its own `max_error_rate`.
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.0;

impl Plan {
    /// The budgets' p50, weighted by how often each endpoint is chosen: what a healthy service
    /// takes per request, for Little's law. `None` when no endpoint has a p50 budget.
    pub fn healthy_p50(&self) -> Option<Duration> {
        let (mut sum, mut weights) = (0.0, 0.0);
        for e in &self.endpoints {
            // Endpoints without a p50 budget are left out of the estimate.
            let Some(p50) = e
                .budgets
                .iter()
                .find(|b| b.metric == Metric::Percentile(Quantile(0.5)))
            else {
                continue;
            };
            sum += p50.limit.as_secs_f64() * f64::from(e.weight);
            weights += f64::from(e.weight);
        }
        (weights > 0.0).then(|| Duration::from_secs_f64(sum / weights))
    }

    /// Whether endpoint `i` is sent only as a flow's `once` step (a login): once per user, as
    /// the user starts, so it is measured over the whole run rather than the window.
    pub fn once_only(&self, i: usize) -> bool {
        self.flows.iter().any(|f| f.once.contains(&i))
            && !self.flows.iter().any(|f| f.steps.contains(&i))
    }

    /// The error ceiling this run is judged against (see [`ErrorCeiling`]).
    pub fn error_ceiling(&self) -> ErrorCeiling {
        match self.level.as_ref().and_then(|l| l.max_error_rate.as_ref()) {
            Some(limit) => ErrorCeiling {
                value: limit.value,
                location: Some(limit.location.clone()),
            },
            None => ErrorCeiling {
                value: DEFAULT_MAX_ERROR_RATE,
                location: None,
            },
        }
    }
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
    /// Scheme, host, port and optional base path, e.g. `http://localhost:8003/api`; never
    /// credentials (those are sent as an Authorization header).
    pub base_url: BaseUrl,
    /// Per-request timeout: connect + write + response + whole body.
    pub timeout: Duration,
    /// Sent with every request: the URL's credentials as Basic auth, `[target].headers`, `-H`
    /// (endpoint headers override same-named ones, and `-H` overrides those).
    pub headers: HeaderMap,
    /// How the connection is made and spoken over.
    pub transport: Transport,
    /// `cookies = true`: a cookie jar per user (open model: per session).
    pub cookies: bool,
}

/// `[target]`'s transport: protocol, connection sharing, connect timeout, TLS, and the budgets
/// on connection set-up. Resolved: files read, PEM parsed, keys matched to certificates.
#[derive(Debug, Clone)]
pub struct Transport {
    /// `http = "1.1" | "2" | "auto"` (or `--http1.1`, `--http2`).
    pub http: HttpVersion,
    /// HTTP/2: users share connections, at most this many streams (users) on each.
    pub max_streams: u32,
    /// TCP connect (and TLS handshake) limit; default: the request timeout.
    pub connect_timeout: Duration,
    /// For `https://` targets; ignored (and refused by config when set) for `http://`.
    pub tls: Tls,
    /// `connect_budget = { p99 = "50ms" }`: budgets on connection set-up (TCP connect plus TLS
    /// handshake), judged like latency budgets.
    pub connect_budgets: Vec<Budget>,
}

impl Transport {
    /// `http = "auto"`, 100 streams, connect timeout = `timeout`, default TLS, no connect
    /// budgets: what `[target]` means when it sets none of them.
    pub fn with_timeout(timeout: Duration) -> Transport {
        Transport {
            http: HttpVersion::Auto,
            max_streams: DEFAULT_MAX_STREAMS,
            connect_timeout: timeout,
            tls: Tls::default(),
            connect_budgets: Vec::new(),
        }
    }
}

/// HTTP/2 streams per connection when `max_streams` is not set (what servers commonly allow).
pub const DEFAULT_MAX_STREAMS: u32 = 100;

/// Which HTTP the engine speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// On https, ALPN offers h2 and http/1.1 and the server chooses; on http, HTTP/1.1.
    Auto,
    /// HTTP/1.1 only (ALPN offers only http/1.1).
    Http1,
    /// HTTP/2 only: over TLS by ALPN, on http:// as h2c with prior knowledge.
    Http2,
}

/// TLS settings, resolved. The engine adds `ca` to the platform's roots.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Extra trusted certificates (DER), from `tls.ca` and `--cacert`.
    pub ca: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The client certificate chain and its key (mTLS), from `tls.cert`/`tls.key` or
    /// `--cert`/`--key`; the key is known to match the chain's first certificate.
    pub identity: Option<ClientIdentity>,
    /// Accept any certificate (`insecure = true`, `-k`): every report says so.
    pub insecure: bool,
    /// The name sent as SNI and verified; default: the URL's host.
    pub server_name: Option<String>,
}

/// A client certificate chain and its private key.
#[derive(Debug)]
pub struct ClientIdentity {
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub key: rustls::pki_types::PrivateKeyDer<'static>,
    /// Where they came from, for messages ("certs/client.pem").
    pub source: String,
}

impl Clone for ClientIdentity {
    fn clone(&self) -> Self {
        ClientIdentity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            source: self.source.clone(),
        }
    }
}

/// The target's base URL. It dereferences to the [`url::Url`] that is connected to, and it
/// displays (and so `to_string`s) as it may be shown: without credentials, every secret masked.
/// That makes every message and report built from it safe by construction, whoever writes it.
#[derive(Clone)]
pub struct BaseUrl {
    url: url::Url,
    /// Fixed when built: changing the URL through `DerefMut` does not change it.
    shown: String,
}

impl BaseUrl {
    /// `url` without its credentials; shown as `written` (the text it was parsed from) with
    /// credentials removed and `secrets` masked when that text holds a secret (the parser
    /// lowercases hosts and percent-encodes paths, which could hide a secret from masking),
    /// else as the normalized URL.
    pub fn new(mut url: url::Url, written: &str, secrets: &Secrets) -> BaseUrl {
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let written = secrets::without_userinfo(written);
        let shown = if secrets.is_clean(&written) {
            secrets.redact(url.as_str()).into_owned()
        } else {
            secrets.redact(&written).into_owned()
        };
        BaseUrl { url, shown }
    }

    /// The URL as shown in messages and reports.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl std::ops::Deref for BaseUrl {
    type Target = url::Url;
    fn deref(&self) -> &url::Url {
        &self.url
    }
}

impl std::ops::DerefMut for BaseUrl {
    fn deref_mut(&mut self) -> &mut url::Url {
        &mut self.url
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.shown, f)
    }
}

/// A URL with no secrets (tests and hand-built plans).
impl std::str::FromStr for BaseUrl {
    type Err = url::ParseError;
    fn from_str(s: &str) -> Result<BaseUrl, url::ParseError> {
        Ok(BaseUrl::new(s.parse()?, s, &Secrets::default()))
    }
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
    /// What to take from a successful answer, in the order written.
    pub captures: Vec<Capture>,
    /// A flow names it: it is sent only by its flows, never chosen on its own.
    pub in_flow: bool,
    /// Where `[[endpoint]]` starts, for pointing at it.
    pub location: Location,
}

/// One value an endpoint's answer gives its user, for `{{name}}` in later requests.
#[derive(Debug, Clone)]
pub struct Capture {
    /// Index into `Plan::vars` (and a user's values).
    pub var: usize,
    pub source: CaptureSource,
}

/// `[[flow]]`: what a user chosen for it sends. Its rows in the reports are its iterations: one
/// pass of `steps`, timed as the steps' response times added up (think time left out).
#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    /// Share of the users' choices beside the free endpoints' weights; > 0.
    pub weight: u32,
    /// Endpoint indices run once per user first, and again after a failure that may have
    /// left the user without what they capture.
    pub once: Vec<usize>,
    /// Endpoint indices run in order, repeatedly; at least one.
    pub steps: Vec<usize>,
    /// Budgets on the iteration time; may be empty.
    pub budgets: Vec<Budget>,
    pub location: Location,
}

/// Which responses count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusSet {
    /// Any 2xx. A 3xx is not followed and is a failure unless listed: an endpoint that
    /// redirects (to a login page, say) is not the endpoint whose budget was written.
    Success,
    /// Exactly these codes.
    Exactly(Vec<u16>),
}

impl StatusSet {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            StatusSet::Success => (200..300).contains(&status),
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
    /// How the load is made.
    pub load: LoadModel,
    /// Counted from the start of the run, ramp-up included (as Locust does).
    pub run_time: Duration,
    /// The `[level.NAME]` this profile is judged against (default: the profile's name).
    pub level_name: String,
    /// Open model: flow arrivals draw a logged-in session from a pool of this many.
    pub sessions: u32,
}

/// `sessions` when an open profile sets none.
pub const DEFAULT_SESSIONS: u32 = 100;

/// The two ways a profile makes load. Everything after the plan reads the model from here.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    /// Locust's: each user sends, waits for the whole answer, thinks, sends again. The load
    /// follows the service: a stall stalls the users (coordinated omission).
    Closed(Closed),
    /// Arrivals on a fixed schedule, whatever the answers do; latency counts from each
    /// arrival's intended send time.
    Open(Open),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Closed {
    pub users: u32,
    /// Users started per second; > 0.
    pub spawn_rate: f64,
    pub think_time: ThinkTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    /// Linear ramps from 0 arrivals per second, in order; the last stage's rate is held to the
    /// end of the run. A constant rate is one stage of zero length.
    pub stages: Vec<Stage>,
    /// Requests in flight at most; an arrival that finds them all busy is dropped (and the
    /// run is INVALID: the schedule was not kept).
    pub max_in_flight: u32,
}

/// Ramp linearly from the previous stage's rate (0 before the first) to `rate` over `length`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// Arrivals per second, ≥ 0.
    pub rate: f64,
    pub length: Duration,
}

impl LoadModel {
    /// One line, as every report shows the load: "10 users, 2/s spawn rate, think 200–800 ms"
    /// or "80 arrivals/s (stages 0→20/s in 20s, →80/s in 2m40s), at most 2000 in flight".
    pub fn summary(&self) -> String {
        use crate::units;
        match self {
            LoadModel::Closed(c) => format!(
                "{} user{}, {}/s spawn rate, think {}",
                c.users,
                if c.users == 1 { "" } else { "s" },
                units::number(c.spawn_rate),
                units::range(c.think_time.min, c.think_time.max)
            ),
            LoadModel::Open(o) => {
                let ramps: Vec<String> = o
                    .stages
                    .iter()
                    .filter(|s| !s.length.is_zero())
                    .enumerate()
                    .map(|(i, s)| {
                        format!(
                            "{}{}/s in {}",
                            if i == 0 { "0→" } else { "→" },
                            units::number(s.rate),
                            units::length(s.length)
                        )
                    })
                    .collect();
                let stages = if ramps.is_empty() {
                    String::new()
                } else {
                    format!(" (stages {})", ramps.join(", "))
                };
                format!(
                    "{} arrivals/s{stages}, at most {} in flight",
                    units::number(o.rate()),
                    o.max_in_flight
                )
            }
        }
    }
}

impl LoadModel {
    /// A few words: "10 users" or "80 arrivals/s".
    pub fn short(&self) -> String {
        match self {
            LoadModel::Closed(c) => crate::units::plural(u64::from(c.users), "user", "users"),
            LoadModel::Open(o) => format!("{} arrivals/s", crate::units::number(o.rate())),
        }
    }
}

/// `max_in_flight` when a profile sets none.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 1000;

impl Open {
    /// A constant rate from the first instant.
    pub fn constant(rate: f64, max_in_flight: u32) -> Open {
        Open {
            stages: vec![Stage {
                rate,
                length: Duration::ZERO,
            }],
            max_in_flight,
        }
    }

    /// The rate held after the stages.
    pub fn rate(&self) -> f64 {
        self.stages.last().map_or(0.0, |s| s.rate)
    }

    /// The highest rate of the schedule.
    pub fn peak(&self) -> f64 {
        self.stages.iter().map(|s| s.rate).fold(0.0, f64::max)
    }

    /// When the last stage that changes the rate has finished: the rate is steady after.
    pub fn ramp_up(&self) -> Duration {
        let mut at = Duration::ZERO;
        let mut steady = Duration::ZERO;
        let mut prev = 0.0;
        for s in &self.stages {
            at += s.length;
            if s.rate != prev {
                steady = at;
            }
            prev = s.rate;
        }
        steady
    }
}

impl Profile {
    /// Closed: when the last user starts (user i starts at i / spawn_rate). Open: when the
    /// last stage that changes the rate has finished ramping.
    pub fn ramp_up(&self) -> Duration {
        match &self.load {
            LoadModel::Closed(c) => {
                Duration::from_secs_f64((c.users.saturating_sub(1)) as f64 / c.spawn_rate)
            }
            LoadModel::Open(o) => o.ramp_up(),
        }
    }

    /// The first second of the measured window: the first whole second after the ramp-up
    /// (excluded, as Locust's `--reset-stats` does). An open model at a constant rate starts
    /// after its first whole second, when connections are made and the schedule is steady.
    pub fn window_start(&self) -> u32 {
        let ramp_up = self.ramp_up();
        let secs = ramp_up.as_secs() + u64::from(ramp_up.subsec_nanos() > 0);
        let secs = match &self.load {
            LoadModel::Open(_) => secs.max(1),
            LoadModel::Closed(_) => secs,
        };
        u32::try_from(secs).unwrap_or(u32::MAX)
    }

    pub fn closed(&self) -> Option<&Closed> {
        match &self.load {
            LoadModel::Closed(c) => Some(c),
            LoadModel::Open(_) => None,
        }
    }

    pub fn open(&self) -> Option<&Open> {
        match &self.load {
            LoadModel::Open(o) => Some(o),
            LoadModel::Closed(_) => None,
        }
    }

    /// `"closed"` or `"open"`, as reports spell it.
    pub fn model_name(&self) -> &'static str {
        match &self.load {
            LoadModel::Closed(_) => "closed",
            LoadModel::Open(_) => "open",
        }
    }

    /// Most requests in flight at once: the users, or `max_in_flight`.
    pub fn concurrency(&self) -> u32 {
        match &self.load {
            LoadModel::Closed(c) => c.users,
            LoadModel::Open(o) => o.max_in_flight,
        }
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
    /// `budgets = ["p50", "max"]`: the only budget keys this level judges; the others are
    /// shown as left to longer profiles. `None`: every budget is judged.
    pub judges: Option<LevelLimit<Vec<Metric>>>,
}

impl Level {
    /// Whether this level judges budgets of `metric`.
    pub fn judges(&self, metric: Metric) -> bool {
        self.judges
            .as_ref()
            .is_none_or(|j| j.value.contains(&metric))
    }
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
