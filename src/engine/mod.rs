//! The load generator: Locust's closed model on raw hyper HTTP/1.1 connections.
//!
//! Users are spawned at `spawn_rate` per second and spread over one worker thread per core,
//! each running a single-threaded tokio runtime. A user owns one keep-alive connection; it
//! picks an endpoint by weight, sends, reads the whole body, records, thinks, repeats, and
//! reconnects after a connection error. Each worker records into its own `stats::Recorder`
//! (no locks, no messages per request); the calling thread collects one batch per worker per
//! second, samples the user count and the process's CPU time, reports progress, handles Ctrl-C
//! and applies the plan's `abort_when` rule.
//!
//! It also measures whether it delivered the profile (`stats::LoadHealth`): how late each user
//! started and each think-time sleep woke up (per worker, handed over when the worker ends),
//! and how busy the process was. The verdict decides what that evidence means.
//!
//! Owns: pacing, connections, failure classification. Knows no output format.

mod abort;
mod client;
mod flow;
mod health;
mod open;
mod pacer;
pub mod signals;
mod transport;
mod user;

use std::cell::RefCell;
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use http::HeaderValue;
use rand::Rng;
use rand::rngs::SmallRng;
use rustls::RootCertStore;
use tokio::sync::watch;

use crate::plan::{LoadModel, Plan, Schedule, Secrets, Shard, ThinkTime};
use crate::stats::{Abort, ConnectionRecorder, Connections, Recorder, Recording};
use crate::units;
use client::Template;
use health::{CpuMeter, ThreadClock, WorkerHealth};
pub use transport::Preflight;
use transport::{Connector, Protocol, Refusal};
use user::{Pool, Worker};

/// Why a run could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("target {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// The target answers TCP but its TLS cannot be used (the reason says which certificate
    /// and why, and what to do).
    #[error("target {url}: {reason}")]
    Tls { url: String, reason: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("could not start the load generator: {0}")]
    Start(std::io::Error),
    /// Ctrl-C or SIGTERM before the load started.
    #[error("interrupted before the load started")]
    Interrupted,
    /// `--wait-for-ready` gave up: the target never accepted a connection in time.
    #[error("target {url} did not answer within {waited}: {reason}")]
    NotReady {
        url: String,
        waited: String,
        reason: String,
    },
}

/// How the run is driven, beyond the plan.
#[derive(Debug, Clone)]
pub struct Options {
    /// Worker threads; 0 = one per available core.
    pub workers: usize,
    /// Seed for endpoint choice and think times (runs with the same seed make the same choices).
    pub seed: u64,
    /// Test-only: starve the generator on purpose. Every worker's runtime busy-loops for this
    /// long every [`STARVE_EVERY`], so timers fire late and CPU burns as they would on an
    /// overloaded machine. It exists so that tests can prove slagate notices when it did not
    /// deliver its own load; never set it for a real run. `Options::default()` takes it from
    /// [`STARVE_ENV`], so that tests (and a demonstration) can starve the binary too.
    #[doc(hidden)]
    pub starve: Option<Duration>,
}

/// How often a worker starves itself when [`Options::starve`] is set.
#[doc(hidden)]
pub const STARVE_EVERY: Duration = Duration::from_millis(100);

/// Test-only: `SLAGATE_TEST_STARVE=200ms` sets [`Options::starve`] for a run of the binary.
/// A value that is not a duration is ignored.
#[doc(hidden)]
pub const STARVE_ENV: &str = "SLAGATE_TEST_STARVE";

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 0,
            seed: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5eed),
            starve: std::env::var(STARVE_ENV)
                .ok()
                .and_then(|v| humantime::parse_duration(v.trim()).ok())
                .filter(|d| !d.is_zero()),
        }
    }
}

/// Live figures for the progress line, once per second.
#[derive(Debug, Clone)]
pub struct Progress {
    pub elapsed: Duration,
    pub run_time: Duration,
    /// Closed: users running; open: requests in flight.
    pub users: u32,
    /// Closed: the profile's users; open: `max_in_flight`.
    pub target_users: u32,
    /// Open model: the arrivals per second asked for and sent over the last complete seconds,
    /// and the arrivals dropped so far; `None` for a closed model.
    pub arrivals: Option<ArrivalProgress>,
    /// The p95 latency over the last few complete seconds, all endpoints.
    pub recent_p95: Option<Duration>,
    /// Per endpoint (plan order), the last few complete seconds: latencies, requests and
    /// failures, for a live view to read percentiles and budgets at risk off.
    pub recent: Vec<RecentEndpoint>,
    pub requests: u64,
    pub failures: u64,
    /// Requests per second over the last few complete seconds.
    pub recent_rps: f64,
    pub interrupted: bool,
    /// An `abort_when` rule stopped the run (the reason is in `Recording::aborted`).
    pub aborted: bool,
}

/// One endpoint's last few complete seconds (see [`Progress::recent`]).
#[derive(Debug, Clone)]
pub struct RecentEndpoint {
    pub latency: hdrhistogram::Histogram<u64>,
    pub requests: u64,
    pub failures: u64,
}

/// The open model's part of a progress line.
#[derive(Debug, Clone, Copy)]
pub struct ArrivalProgress {
    pub requested_rps: f64,
    pub achieved_rps: f64,
    pub dropped: u64,
}

/// The result of a run: every second of it, and whether it was cut short.
#[derive(Debug)]
pub struct Run {
    pub recording: Recording,
    pub interrupted: bool,
}

/// What the collector asks of the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Run,
    /// Start no new request; let those in flight finish (Ctrl-C, abort_when).
    Finish,
    /// Drop the requests in flight too (a second Ctrl-C).
    Abandon,
}

/// How long abandoned workers get to hand over what they measured.
const ABANDON_GRACE: Duration = Duration::from_secs(2);

struct Shared {
    plan_transport: crate::plan::Transport,
    preflight: Preflight,
    /// Trust roots, loaded once; each worker builds its own TLS configuration from them.
    roots: Arc<RootCertStore>,
    templates: Vec<Template>,
    /// Cumulative weights of the free endpoints and the flows, for a weighted pick with one
    /// random number; `choices[i]` is what pick `i` means.
    cumulative: Vec<u64>,
    choices: Vec<flow::Choice>,
    flows: Vec<flow::FlowSteps>,
    /// Endpoint names, for flow failure examples.
    names: Vec<String>,
    /// The plan's capture names.
    vars: Vec<String>,
    cookies: bool,
    /// Open model: flow sessions, all workers (this shard's part).
    sessions: u32,
    /// `--shard`: which of the profile's events this process makes.
    shard: Shard,
    think: ThinkTime,
    timeout: Duration,
    start: Instant,
    deadline: Instant,
    run_time: Duration,
    /// The measured window's first second.
    window_start: u32,
    /// The closed model's users and their spawn schedule; `None` for an open model.
    spawn: Option<pacer::Spawn>,
    /// The open model's arrival schedule and its cap on requests in flight.
    schedule: Option<(Schedule, u32)>,
    seed: u64,
    /// Closed model: users running (all workers).
    active: AtomicU32,
    /// Open model: requests in flight, one counter per worker (each on its own cache line,
    /// written only by its worker).
    in_flight: Vec<InFlight>,
    /// Set with every `Stop` other than `Run` (the watch channel wakes sleepers; this is what
    /// the per-request loop reads).
    stop_flag: std::sync::atomic::AtomicBool,
    starve: Option<Duration>,
    /// Failure examples are masked with these before they are stored (a target may echo the
    /// request's headers in its error body). Only the first failure of a kind per worker
    /// makes an example, so this is off the hot path.
    secrets: Secrets,
}

#[repr(align(64))]
#[derive(Default)]
struct InFlight(AtomicU32);

impl std::ops::Deref for InFlight {
    type Target = AtomicU32;
    fn deref(&self) -> &AtomicU32 {
        &self.0
    }
}

/// Resolve the target and make one real connection to it, TLS handshake included, so that a
/// typo, a service that isn't up or a certificate slagate cannot trust fails in milliseconds
/// instead of after a full run of identical errors.
pub fn preflight(plan: &Plan) -> Result<Preflight, EngineError> {
    let connect_timeout = plan
        .target
        .transport
        .connect_timeout
        .min(Duration::from_secs(5));
    transport::preflight(plan, connect_timeout).map_err(|r| match r {
        Refusal::Unreachable(reason) => EngineError::Unreachable {
            url: plan.target.base_url.to_string(),
            reason,
        },
        Refusal::Tls(reason) => EngineError::Tls {
            url: plan.target.base_url.to_string(),
            reason,
        },
    })
}

/// How often [`wait_ready`] knocks.
pub const READY_POLL: Duration = Duration::from_millis(250);

/// [`preflight`], retried every [`READY_POLL`] until the target accepts a TCP connection or
/// `timeout` has passed: a service started in the background a moment ago (CI's
/// `my-service &`) is given time to come up, and a name that does not resolve yet (a
/// container still starting) is retried too. A TCP connect is the readiness signal on
/// purpose: it is what the load needs, and an HTTP probe would have to guess which path and
/// status mean "ready"; the TLS handshake is the pre-flight's to check.
pub fn wait_ready(plan: &Plan, timeout: Duration) -> Result<SocketAddr, EngineError> {
    let start = Instant::now();
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        // A connect never outlasts the wait, nor blocks longer than the per-request timeout.
        let connect_timeout = plan
            .target
            .timeout
            .min(Duration::from_secs(5))
            .min(left.max(Duration::from_millis(1)));
        let reason = match probe(plan, connect_timeout) {
            Ok(addr) => return Ok(addr),
            Err(EngineError::Unreachable { reason, .. }) => reason,
            Err(e) => return Err(e),
        };
        if signals::interrupted() {
            return Err(EngineError::Interrupted);
        }
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(EngineError::NotReady {
                url: plan.target.base_url.to_string(),
                waited: units::length(timeout),
                reason,
            });
        }
        std::thread::sleep(READY_POLL.min(left));
    }
}

/// One attempt: resolve the base URL's host and open (then drop) a TCP connection.
fn probe(plan: &Plan, connect_timeout: Duration) -> Result<SocketAddr, EngineError> {
    let url = &plan.target.base_url;
    let unreachable = |reason: String| EngineError::Unreachable {
        url: url.to_string(),
        reason,
    };
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    // Brackets are kept by `host_str` for IPv6; resolution wants them off.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| unreachable(format!("{host} resolves to no address")))?;
    std::net::TcpStream::connect_timeout(&addr, connect_timeout).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::ConnectionRefused {
            " (is the service running on that port?)"
        } else {
            ""
        };
        unreachable(format!("{addr}: {e}{hint}"))
    })?;
    Ok(addr)
}

/// Drive the plan's profile against the target the pre-flight reached and return everything
/// measured.
pub fn run(
    plan: &Plan,
    preflight: &Preflight,
    opts: &Options,
    mut progress: impl FnMut(&Progress),
) -> Result<Run, EngineError> {
    let host = plan.target.base_url.host_str().unwrap_or_default();
    let authority = match plan.target.base_url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let host_header = HeaderValue::from_str(&authority)
        .map_err(|e| EngineError::Unsupported(format!("host {authority}: {e}")))?;
    let origin = format!("{}://{authority}", plan.target.base_url.scheme());
    let templates = plan
        .endpoints
        .iter()
        .map(|ep| Template::new(ep, &host_header, &origin, &plan.vars))
        .collect::<Result<Vec<_>, _>>()
        .map_err(EngineError::Unsupported)?;
    // Endpoints a flow names are sent only by their flows.
    let mut cumulative = Vec::with_capacity(plan.endpoints.len() + plan.flows.len());
    let mut choices = Vec::with_capacity(cumulative.capacity());
    let mut sum = 0u64;
    for (i, ep) in plan.endpoints.iter().enumerate() {
        if !ep.in_flow {
            sum += u64::from(ep.weight);
            cumulative.push(sum);
            choices.push(flow::Choice::Endpoint(i));
        }
    }
    for (f, fl) in plan.flows.iter().enumerate() {
        sum += u64::from(fl.weight);
        cumulative.push(sum);
        choices.push(flow::Choice::Flow(f));
    }

    let profile = &plan.profile;
    let shard = plan.shard();
    let _ = raise_fd_limit();
    // No more workers than this shard has users (or in-flight slots): an idle worker would
    // only dilute the CPU figure.
    let concurrency = match &profile.load {
        LoadModel::Closed(c) => u32::try_from(shard.share(u64::from(c.users))).unwrap_or(u32::MAX),
        LoadModel::Open(o) => shard.part(o.max_in_flight),
    };
    let workers = match opts.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, concurrency.max(1) as usize);
    // Each worker is single-threaded: with fewer workers than cores, the workers are all the
    // CPU the load can use.
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(workers);
    let cores = u32::try_from(cores).unwrap_or(u32::MAX);

    let start = Instant::now();
    let started_at = SystemTime::now();
    let roots = match preflight.server_name {
        Some(_) => Arc::new(transport::roots(&plan.target.transport)),
        None => Arc::new(RootCertStore::empty()),
    };
    let shared = Arc::new(Shared {
        plan_transport: plan.target.transport.clone(),
        preflight: preflight.clone(),
        roots,
        templates,
        cumulative,
        choices,
        flows: plan
            .flows
            .iter()
            .map(|f| flow::FlowSteps {
                once: f.once.clone(),
                steps: f.steps.clone(),
            })
            .collect(),
        names: plan.endpoints.iter().map(|e| e.name.clone()).collect(),
        vars: plan.vars.clone(),
        cookies: plan.target.cookies,
        sessions: shard.part(profile.sessions),
        shard,
        think: profile.closed().map_or(
            ThinkTime {
                min: Duration::ZERO,
                max: Duration::ZERO,
            },
            |c| c.think_time,
        ),
        timeout: plan.target.timeout,
        start,
        deadline: start + profile.run_time,
        run_time: profile.run_time,
        window_start: profile.window_start(),
        spawn: profile
            .closed()
            .map(|c| pacer::Spawn::of(c, profile.run_time)),
        schedule: profile.open().map(|o| {
            (
                Schedule::new(o, profile.run_time),
                shard.part(o.max_in_flight),
            )
        }),
        seed: opts.seed,
        active: AtomicU32::new(0),
        in_flight: (0..workers).map(|_| InFlight::default()).collect(),
        stop_flag: std::sync::atomic::AtomicBool::new(false),
        starve: opts.starve,
        secrets: plan.secrets.clone(),
    });
    let (stop_tx, stop_rx) = watch::channel(Stop::Run);
    let (batch_tx, batch_rx) = mpsc::channel();

    let mut handles = Vec::with_capacity(workers);
    for w in 0..workers {
        let shared = Arc::clone(&shared);
        let stop = stop_rx.clone();
        let sink = batch_tx.clone();
        let handle = std::thread::Builder::new()
            .name(format!("slagate-worker-{w}"))
            .spawn(move || worker(w, workers, shared, stop, sink))
            .map_err(EngineError::Start)?;
        handles.push(handle);
    }
    drop(batch_tx);

    let mut recording = Recording::new(plan.endpoints.len(), started_at, profile.run_time)
        .with_flows(plan.flows.len());
    // A login run once per user happens as the user starts: judge it on the whole run.
    recording.whole_run = (0..plan.endpoints.len())
        .filter(|&e| plan.once_only(e))
        .collect();
    recording.set_service_from(profile.window_start());
    let mut interrupted = false;
    let mut cpu = CpuMeter::new(handles.iter().filter_map(ThreadClock::of).collect(), start);
    let window_start = profile.window_start();
    let control = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(EngineError::Start)?;
    control.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_slot: Option<u32> = None;
        let (mut requests, mut failures) = (0u64, 0u64);
        let mut stopped = false;
        let mut abandoned: Option<Instant> = None;
        let mut judged_through = 0u32;
        loop {
            tick.tick().await;
            let signals = signals::count();
            if signals >= 1 && !interrupted {
                interrupted = true;
                if !stopped {
                    stopped = true;
                    recording.stopped_at = start.elapsed().min(profile.run_time);
                    shared.stop(&stop_tx, Stop::Finish);
                }
            }
            if signals >= 2 && abandoned.is_none() {
                // A second Ctrl-C: stop waiting for requests in flight. The workers drop them
                // and hand over what completed before, so nothing measured is lost.
                abandoned = Some(Instant::now());
                shared.stop(&stop_tx, Stop::Abandon);
            }
            for batch in batch_rx.try_iter() {
                // Flow rows (after the endpoints) count iterations, not requests.
                for ep in batch.endpoints.iter().take(plan.endpoints.len()) {
                    requests += ep.requests;
                    failures += ep.failures;
                }
                recording.add(batch);
            }
            let elapsed = start.elapsed();
            let slot = u32::try_from(elapsed.as_secs()).unwrap_or(u32::MAX);
            // Once per newly complete second, before the run time: should the run stop early?
            let complete = u32::try_from(elapsed.saturating_sub(abort::HANDOVER).as_secs())
                .unwrap_or(u32::MAX);
            if let Some(rule) = &plan.abort_when
                && !stopped
                && complete > judged_through
                && elapsed < profile.run_time
            {
                judged_through = complete;
                if let Some(reason) = abort::check(&recording, rule, window_start, complete) {
                    stopped = true;
                    // The same path as Ctrl-C: no new requests, those in flight finish.
                    recording.stopped_at = elapsed;
                    recording.aborted = Some(Abort {
                        at: elapsed,
                        reason,
                    });
                    shared.stop(&stop_tx, Stop::Finish);
                }
            }
            if last_slot != Some(slot) {
                cpu.sample(slot, Instant::now());
                let running = shared.running();
                if let Some(prev) = last_slot {
                    recording.set_users(prev, running);
                }
                last_slot = Some(slot);
                progress(&Progress {
                    elapsed,
                    run_time: profile.run_time,
                    users: running,
                    target_users: concurrency,
                    arrivals: shared
                        .schedule
                        .as_ref()
                        .map(|(schedule, _)| arrival_progress(&recording, schedule, shard, slot)),
                    recent_p95: recent_p95(&recording, slot),
                    recent: recent_endpoints(&recording, slot),
                    requests,
                    failures,
                    recent_rps: recent_rps(&recording, slot),
                    interrupted,
                    aborted: recording.aborted.is_some(),
                });
            }
            if handles.iter().all(|h| h.is_finished()) {
                break;
            }
            // Abandoned workers finish within a tick; one that does not (a bug, or a thread
            // starved by the machine) is given up on rather than waited for forever.
            if abandoned.is_some_and(|at| at.elapsed() > ABANDON_GRACE) {
                break;
            }
        }
    });
    let cpu = cpu.finish(Instant::now());
    let mut healths = Vec::with_capacity(handles.len());
    let mut connections = Connections {
        verified: preflight_verified(plan, preflight),
        ..Connections::default()
    };
    for h in handles {
        if h.is_finished() {
            // A worker that panicked would be a bug; its measurements are lost but the run's
            // report is still written from the rest.
            if let Ok((health, conns)) = h.join() {
                healths.push(health);
                connections.add(&conns);
            }
        }
    }
    recording.connections = connections;
    for batch in batch_rx.try_iter() {
        recording.add(batch);
    }
    recording.load = health::merge(healths, profile, shard, cores, cpu);
    recording.finished_at = start.elapsed();
    Ok(Run {
        recording,
        interrupted,
    })
}

impl Shared {
    /// A flow user's state, empty: no values, no cookies, no `once` step done.
    fn new_session(&self) -> flow::Session {
        flow::Session::new(
            self.vars.len(),
            self.flows.len(),
            self.templates.len(),
            self.cookies,
        )
    }

    /// What a weighted pick of `pick` (0..total weight) chose.
    fn choose(&self, pick: u64) -> flow::Choice {
        self.choices[self.cumulative.partition_point(|&c| c <= pick)]
    }

    /// Whether the run has been told to stop starting requests.
    fn stopping(&self) -> bool {
        self.stop_flag.load(Ordering::Relaxed)
    }

    fn stop(&self, tx: &watch::Sender<Stop>, how: Stop) {
        self.stop_flag.store(true, Ordering::Relaxed);
        let _ = tx.send(how);
    }

    /// Users running (closed) or requests in flight (open), all workers.
    fn running(&self) -> u32 {
        match self.schedule {
            None => self.active.load(Ordering::Relaxed),
            Some(_) => self
                .in_flight
                .iter()
                .map(|n| n.load(Ordering::Relaxed))
                .sum(),
        }
    }
}

/// The seconds the progress line looks back over: up to 5 complete ones, ending 2 s ago.
fn recent(rec: &Recording, now: u32) -> &[crate::stats::Slot] {
    let end = now.saturating_sub(1) as usize;
    let start = end.saturating_sub(5);
    &rec.slots[start.min(rec.slots.len())..end.min(rec.slots.len())]
}

fn recent_p95(rec: &Recording, now: u32) -> Option<Duration> {
    let mut hist = crate::stats::new_histogram();
    for se in recent(rec, now)
        .iter()
        .flat_map(|s| &s.endpoints[..rec.endpoints])
    {
        for part in &se.latencies {
            part.add_to(&mut hist);
        }
    }
    (!hist.is_empty()).then(|| Duration::from_micros(hist.value_at_quantile(0.95)))
}

fn recent_endpoints(rec: &Recording, now: u32) -> Vec<RecentEndpoint> {
    let seconds = recent(rec, now);
    (0..rec.endpoints)
        .map(|e| {
            let mut r = RecentEndpoint {
                latency: crate::stats::new_histogram(),
                requests: 0,
                failures: 0,
            };
            for se in seconds.iter().filter_map(|s| s.endpoints.get(e)) {
                for part in &se.latencies {
                    part.add_to(&mut r.latency);
                }
                r.requests += se.requests;
                r.failures += se.failures;
            }
            r
        })
        .collect()
}

fn arrival_progress(
    rec: &Recording,
    schedule: &Schedule,
    shard: Shard,
    now: u32,
) -> ArrivalProgress {
    let start = (now.saturating_sub(1) as usize).saturating_sub(5);
    let seconds = recent(rec, now);
    let n = seconds.len().max(1) as f64;
    let sent: u64 = seconds.iter().map(|s| s.arrivals).sum();
    let asked = shard.share_between(
        schedule.due_before(start as f64),
        schedule.due_before((start + seconds.len()) as f64),
    );
    ArrivalProgress {
        requested_rps: asked as f64 / n,
        achieved_rps: sent as f64 / n,
        dropped: rec.slots.iter().map(|s| s.dropped).sum(),
    }
}

/// Mean requests per second over up to 5 complete seconds, ending 2 s ago: the most recent
/// second may still be on its way from the workers, which hand over just after it ends.
fn recent_rps(rec: &Recording, now: u32) -> f64 {
    let seconds = recent(rec, now);
    if seconds.is_empty() {
        return 0.0;
    }
    let requests: u64 = seconds
        .iter()
        .flat_map(|s| &s.endpoints[..rec.endpoints])
        .map(|e| e.requests)
        .sum();
    requests as f64 / seconds.len() as f64
}

/// Whether certificates are verified this run: `None` for cleartext.
fn preflight_verified(plan: &Plan, preflight: &Preflight) -> Option<bool> {
    preflight
        .server_name
        .as_ref()
        .map(|_| !plan.target.transport.tls.insecure)
}

fn worker(
    index: usize,
    workers: usize,
    shared: Arc<Shared>,
    stop: watch::Receiver<Stop>,
    sink: mpsc::Sender<crate::stats::Batch>,
) -> (WorkerHealth, Connections) {
    // A worker that cannot start has no users; the run's load health says so (its users
    // never started).
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(_) => return (WorkerHealth::new(), Connections::default()),
    };
    // Its own TLS configuration, so the session cache is this core's, not a shared lock.
    let connector = match Connector::new(&shared.plan_transport, &shared.preflight, &shared.roots) {
        Ok(c) => c,
        Err(_) => return (WorkerHealth::new(), Connections::default()),
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let recorder = Rc::new(RefCell::new(Recorder::new(
            shared.templates.len() + shared.flows.len(),
            shared.start,
            shared.run_time,
            sink,
        )));
        recorder.borrow_mut().set_window_start(shared.window_start);
        let ticker = {
            let recorder = Rc::clone(&recorder);
            let start = shared.start;
            tokio::task::spawn_local(async move {
                // Wake just after each whole second so a quiet worker hands its second over.
                let mut next = 1u64;
                loop {
                    tokio::time::sleep_until(
                        (start + Duration::from_secs(next) + Duration::from_millis(5)).into(),
                    )
                    .await;
                    recorder.borrow_mut().tick(Instant::now());
                    next += 1;
                }
            })
        };
        let starve = shared.starve.map(|spin| {
            tokio::task::spawn_local(async move {
                loop {
                    tokio::time::sleep(STARVE_EVERY).await;
                    // Deliberately blocks the runtime: see `Options::starve`.
                    let until = Instant::now() + spin;
                    while Instant::now() < until {
                        std::hint::spin_loop();
                    }
                }
            })
        });
        let health = Rc::new(RefCell::new(WorkerHealth::new()));
        let verified = shared
            .preflight
            .server_name
            .as_ref()
            .map(|_| !shared.plan_transport.tls.insecure);
        let context = Rc::new(Worker {
            shared: Arc::clone(&shared),
            connector,
            recorder: Rc::clone(&recorder),
            health: Rc::clone(&health),
            connections: RefCell::new(ConnectionRecorder::new(verified)),
            pool: (shared.preflight.protocol == Protocol::Http2)
                .then(|| Pool::new(shared.plan_transport.max_streams)),
            stop: stop.clone(),
            index,
            templates: shared.templates.iter().map(Template::local_copy).collect(),
        });
        let mut abandon = stop.clone();
        let load = async {
            if let Some((schedule, max_in_flight)) = &shared.schedule {
                // This worker's share of the cap: the workers' shares add up to it.
                let cap = *max_in_flight as usize;
                let share = cap / workers + usize::from(index < cap % workers);
                let peak =
                    open::arrivals(Rc::clone(&context), schedule, index, workers, share).await;
                health.borrow_mut().peak_in_flight = peak;
                return;
            }
            let Some(spawn) = &shared.spawn else { return };
            let mut users = tokio::task::JoinSet::new();
            let mut stop_spawning = stop.clone();
            let mut k = 0usize;
            pacer::pace(
                spawn,
                pacer::Stripe::of(shared.shard, index, workers),
                shared.start,
                &mut stop_spawning,
                |user, at, _| {
                    users.spawn_local(user::user_loop(user, k, at, Rc::clone(&context)));
                    k += 1;
                },
            )
            .await;
            while users.join_next().await.is_some() {}
        };
        tokio::select! {
            _ = load => {}
            _ = abandon.wait_for(|s| *s == Stop::Abandon) => {
                // Requests in flight are dropped unrecorded (they never completed); what
                // completed is in the recorder, flushed below. Dropping the load's future
                // aborts its tasks.
            }
        }
        ticker.abort();
        if let Some(starve) = starve {
            starve.abort();
        }
        recorder.borrow_mut().flush();
        // Every user task has ended: hand the evidence over to the collector.
        let connections = context.connections.replace(ConnectionRecorder::default());
        (health.replace(WorkerHealth::new()), connections.finish())
    })
}

/// Each user holds a socket: lift the soft open-files limit to the hard one, as load tools do,
/// so a few hundred users don't hit a default of 1024 shared with everything else. Returns the
/// limit now in force (`None` where there is none to read).
fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max && {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0
        } {
            lim.rlim_cur = lim.rlim_max;
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
        return Some(lim.rlim_cur as u64);
    }
    #[allow(unreachable_code)]
    None
}

/// Descriptors the process needs besides one socket per user: stdio, the runtimes' event
/// queues and wakers, report files, an in-process simulator's listener.
const FD_HEADROOM: u64 = 64;

/// A warning, before any load, when the profile has more users than the open-files limit
/// allows sockets: their requests would fail on slagate's machine and make the run INVALID.
pub fn descriptor_warning(plan: &Plan) -> Option<String> {
    let limit = raise_fd_limit()?;
    let n = plan.profile.concurrency();
    let need = u64::from(n) + FD_HEADROOM;
    let what = match plan.profile.load {
        LoadModel::Closed(_) => format!("{n} users need"),
        LoadModel::Open(_) => format!("max_in_flight = {n} needs"),
    };
    (need > limit).then(|| {
        format!(
            "{what} about {need} open files (a socket each, plus {FD_HEADROOM}) but this \
             process may open only {limit}: some requests will fail on slagate's machine and \
             the run will be INVALID; raise the limit (ulimit -n {need}) or lower it"
        )
    })
}

fn think_time(rng: &mut SmallRng, think: ThinkTime) -> Duration {
    if think.max <= think.min {
        return think.min;
    }
    let lo = think.min.as_nanos() as u64;
    let hi = think.max.as_nanos() as u64;
    Duration::from_nanos(rng.random_range(lo..=hi))
}
