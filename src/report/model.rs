//! `RunReport`: one finished run, self-contained, the single input of every reporter.

use std::time::{Duration, SystemTime};

use crate::plan::{LoadModel, Plan, Shard};
use crate::stats::{
    Abort, Connections, EndpointStats, LoadHealth, Sparse, Summary, Timeline, Window,
};
use crate::units::Exit;
use crate::verdict::validity::delivery;
use crate::verdict::{Delivery, Judgement, Verdict};

/// The subject name of `connect_budget` checks in every format.
pub const CONNECTIONS: &str = "connection set-up";

/// How the run ended, which decides the exit code.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Every check passed (exit 0).
    Pass,
    /// At least one SLA check failed (exit 1).
    Fail,
    /// No check failed, but some could not be decided on this sample (exit 0 with a warning;
    /// 4 under `--strict`).
    Inconclusive,
    /// The load generator did not deliver the profile, so nothing is concluded about the
    /// service (exit 4, whatever the checks say).
    Invalid,
    /// The run was cut short (exit 3); what was measured is still reported.
    Interrupted,
    /// One shard of a sharded run (`check --shard K/N`): not judged on its own, `slagate
    /// merge` judges the shards together (exit 0: it ran).
    Shard,
}

impl RunOutcome {
    /// The exit code; `strict` (`--strict`, for release sign-off) makes INCONCLUSIVE exit 4.
    pub fn exit_code(&self, strict: bool) -> Exit {
        match self {
            RunOutcome::Pass => Exit::Pass,
            RunOutcome::Fail => Exit::SlaFailed,
            RunOutcome::Inconclusive if strict => Exit::Undecided,
            RunOutcome::Inconclusive => Exit::Pass,
            RunOutcome::Invalid => Exit::Undecided,
            RunOutcome::Interrupted => Exit::NotRun,
            RunOutcome::Shard => Exit::Pass,
        }
    }

    /// Interrupted wins over everything (the user stopped the run: there is no verdict, and
    /// a half-spawned profile is no evidence against the generator); then INVALID; then the
    /// checks' own judgement.
    pub fn of(verdict: &Verdict, interrupted: bool) -> RunOutcome {
        if interrupted {
            return RunOutcome::Interrupted;
        }
        match verdict.judgement() {
            Judgement::Invalid => RunOutcome::Invalid,
            Judgement::Fail => RunOutcome::Fail,
            Judgement::Inconclusive => RunOutcome::Inconclusive,
            Judgement::Pass => RunOutcome::Pass,
        }
    }
}

/// A run that could not be made: what every report destination says instead of a verdict, so
/// that none of them shows an older run's.
#[derive(Debug, Clone, PartialEq)]
pub struct NotRun {
    /// Why, in plain words (already printed on stderr).
    pub reason: String,
    /// The exit code the command ended with (2 or 3).
    pub exit_code: u8,
    /// When it was decided.
    pub at: SystemTime,
    pub slagate_version: String,
}

impl ProfileInfo {
    /// The profile a run of `plan` reports.
    pub fn of(plan: &Plan) -> ProfileInfo {
        let p = &plan.profile;
        ProfileInfo {
            name: p.name.clone(),
            description: p.description.clone(),
            load: p.load.clone(),
            run_time: p.run_time,
            level: plan.level.as_ref().map(|l| l.name.clone()),
        }
    }
}

impl ProfileInfo {
    /// Users (closed) or `max_in_flight` (open): the most requests in flight at once.
    pub fn load_concurrency(&self) -> u32 {
        match &self.load {
            LoadModel::Closed(c) => c.users,
            LoadModel::Open(o) => o.max_in_flight,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileInfo {
    pub name: String,
    pub description: String,
    pub load: LoadModel,
    pub run_time: Duration,
    /// The level judged, if the sla file defines it.
    pub level: Option<String>,
}

/// Where the run's configuration came from, so a report can be tied to the exact files.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provenance {
    pub sla_file: String,
    /// Hex SHA-256 of the sla file's bytes.
    pub sla_sha256: String,
    pub profile_file: String,
    pub profile_sha256: String,
    /// `git rev-parse HEAD` of the working directory, when run inside a repository.
    pub git_commit: Option<String>,
    /// The machine that generated the load ("host (2 cores, linux x86_64)"): a baseline from
    /// another machine measures the machine as much as the service.
    pub machine: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EndpointReport {
    pub name: String,
    pub method: String,
    pub stats: EndpointStats,
}

/// A flow's row: its iterations as requests, iteration time as latency.
#[derive(Debug, Clone)]
pub struct FlowReport {
    pub name: String,
    /// Its endpoints in order, `once` steps first.
    pub steps: Vec<String>,
    /// How many of `steps` are `once` steps.
    pub once: usize,
    pub stats: EndpointStats,
    /// `flow NAME`: what checks on it are labelled.
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    pub slagate_version: String,
    pub profile: ProfileInfo,
    /// The base URL with any credentials removed.
    pub target: String,
    pub provenance: Provenance,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub window: Window,
    pub endpoints: Vec<EndpointReport>,
    /// One per `[[flow]]`.
    pub flows: Vec<FlowReport>,
    pub total: EndpointStats,
    pub timeline: Timeline,
    /// How the connections were made: set-up times, reconnects, what was negotiated.
    pub connections: Connections,
    /// Open model: the schedule asked of the generator and how it kept it.
    pub arrivals: Option<Arrivals>,
    pub verdict: Verdict,
    pub outcome: RunOutcome,
    /// Run with `--strict`: an INCONCLUSIVE verdict exits 4 instead of 0.
    pub strict: bool,
    /// Set when another tool made the load (`slagate judge` of a Locust run): every format
    /// says so, with what that tool's files could not give.
    pub imported: Option<Imported>,
    /// Set for one shard of a sharded run (`check --shard K/N`): what `slagate merge` needs
    /// beyond the figures.
    pub shard: Option<ShardInfo>,
    /// Set for the run `slagate merge` made of its shards.
    pub merged: Option<Merged>,
}

/// One shard's identity and its generator's evidence, saved so that the merge can tell which
/// shards belong together and judge each one's delivery as `check` would have.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardInfo {
    pub shard: Shard,
    /// `--run-id` (or the CI's run id): shards of one run share it.
    pub run_id: Option<String>,
    /// `--start-at`: the instant every shard was asked to start on.
    pub start_at: Option<SystemTime>,
    /// How well this shard's generator delivered its part (the `INVALID` evidence).
    pub load: LoadHealth,
    /// Requests of the whole run that reached the target.
    pub reached: u64,
    /// Why an `abort_when` rule stopped this shard, if one did.
    pub aborted: Option<Abort>,
}

/// What a merged run was made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub run_id: Option<String>,
    /// In shard order, 1..N.
    pub shards: Vec<MergedShard>,
    /// Latest start minus earliest: how far the shards' seconds are apart at most.
    pub skew: Duration,
    /// The skew the merge allowed before calling the run INVALID.
    pub max_skew: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergedShard {
    pub shard: Shard,
    pub started_at: SystemTime,
    /// The machine that made it (from its provenance).
    pub machine: Option<String>,
    pub requests: u64,
    /// Its own verdict on delivery: why this shard's load was not the plan's, if it was not.
    pub invalid: Vec<String>,
}

/// A run whose load another tool made, judged from that tool's files.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// "Locust".
    pub tool: String,
    /// The tool's user count when its run ended, when its files say.
    pub users: Option<u32>,
    /// Plain words: where the figures came from and what is missing (intervals, windows).
    pub notes: Vec<String>,
}

/// An open run's delivery: arrivals asked for and sent in the measured window, and how late
/// they went out.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrivals {
    pub delivery: Delivery,
    /// Every arrival's send lag (actual − intended send time), µs.
    pub send_lag: Sparse,
    pub max_in_flight: u32,
    pub peak_in_flight: u32,
}

impl Arrivals {
    pub fn requested_rps(&self) -> f64 {
        self.delivery.asked as f64 / self.delivery.seconds.max(f64::MIN_POSITIVE)
    }

    pub fn achieved_rps(&self) -> f64 {
        self.delivery.sent as f64 / self.delivery.seconds.max(f64::MIN_POSITIVE)
    }

    /// Send lag at quantile q.
    pub fn send_lag(&self, q: f64) -> Option<Duration> {
        let mut h = crate::stats::new_histogram();
        self.send_lag.add_to(&mut h);
        (!h.is_empty()).then(|| Duration::from_micros(h.value_at_quantile(q)))
    }
}

impl RunReport {
    pub fn new(
        plan: &Plan,
        provenance: Provenance,
        summary: Summary,
        verdict: Verdict,
        interrupted: bool,
        strict: bool,
    ) -> RunReport {
        let outcome = RunOutcome::of(&verdict, interrupted);
        let arrivals = match (delivery(plan, &summary), &summary.load.open) {
            (Some(delivery), Some(open)) => Some(Arrivals {
                delivery,
                send_lag: open.send_lag.clone(),
                max_in_flight: open.max_in_flight,
                peak_in_flight: open.peak_in_flight,
            }),
            _ => None,
        };
        let mut target = plan.target.base_url.clone();
        // Credentials in a URL are secrets; reports get passed around.
        let _ = target.set_username("");
        let _ = target.set_password(None);
        RunReport {
            slagate_version: env!("CARGO_PKG_VERSION").to_string(),
            profile: ProfileInfo::of(plan),
            target: target.to_string(),
            provenance,
            started_at: summary.started_at,
            finished_at: summary.started_at + summary.finished_at,
            window: summary.window,
            endpoints: plan
                .endpoints
                .iter()
                .zip(summary.endpoints)
                .map(|(ep, stats)| EndpointReport {
                    name: ep.name.clone(),
                    method: ep.method.to_string(),
                    stats,
                })
                .collect(),
            flows: plan
                .flows
                .iter()
                .zip(summary.flows)
                .map(|(f, stats)| FlowReport {
                    name: f.name.clone(),
                    steps: f
                        .once
                        .iter()
                        .chain(&f.steps)
                        .map(|&e| plan.endpoints[e].name.clone())
                        .collect(),
                    once: f.once.len(),
                    stats,
                    label: format!("flow {}", f.name),
                })
                .collect(),
            total: summary.total,
            timeline: summary.timeline,
            connections: summary.connections,
            arrivals,
            verdict,
            outcome,
            strict,
            imported: None,
            shard: None,
            merged: None,
        }
    }

    /// The process exit code for this run.
    pub fn exit_code(&self) -> Exit {
        self.outcome.exit_code(self.strict)
    }

    /// The label of a check's subject: an endpoint's name, or "all endpoints".
    pub fn subject_name(&self, subject: &crate::verdict::Subject) -> &str {
        match subject {
            crate::verdict::Subject::Endpoint(i) => {
                self.endpoints.get(*i).map_or("?", |e| e.name.as_str())
            }
            crate::verdict::Subject::All => "all endpoints",
            crate::verdict::Subject::Connections => CONNECTIONS,
            crate::verdict::Subject::Flow(i) => {
                self.flows.get(*i).map_or("?", |f| f.label.as_str())
            }
        }
    }
}
