//! `RunReport`: one finished run, self-contained, the single input of every reporter.

use std::time::{Duration, SystemTime};

use crate::plan::{Plan, ThinkTime};
use crate::stats::{EndpointStats, Summary, Timeline, Window};
use crate::verdict::Verdict;

/// How the run ended, which decides the exit code.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// Every check passed (exit 0).
    Pass,
    /// At least one SLA check failed (exit 1).
    Fail,
    /// The run was cut short (exit 3); what was measured is still reported.
    Interrupted,
}

impl RunOutcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunOutcome::Pass => 0,
            RunOutcome::Fail => 1,
            RunOutcome::Interrupted => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileInfo {
    pub name: String,
    pub description: String,
    pub users: u32,
    pub spawn_rate: f64,
    pub run_time: Duration,
    pub think_time: ThinkTime,
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
}

#[derive(Debug, Clone)]
pub struct EndpointReport {
    pub name: String,
    pub method: String,
    pub stats: EndpointStats,
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
    pub total: EndpointStats,
    pub timeline: Timeline,
    pub verdict: Verdict,
    pub outcome: RunOutcome,
}

impl RunReport {
    pub fn new(
        plan: &Plan,
        provenance: Provenance,
        summary: Summary,
        verdict: Verdict,
        interrupted: bool,
    ) -> RunReport {
        let outcome = if interrupted {
            RunOutcome::Interrupted
        } else if verdict.passed() {
            RunOutcome::Pass
        } else {
            RunOutcome::Fail
        };
        let mut target = plan.target.base_url.clone();
        // Credentials in a URL are secrets; reports get passed around.
        let _ = target.set_username("");
        let _ = target.set_password(None);
        let p = &plan.profile;
        RunReport {
            slagate_version: env!("CARGO_PKG_VERSION").to_string(),
            profile: ProfileInfo {
                name: p.name.clone(),
                description: p.description.clone(),
                users: p.users,
                spawn_rate: p.spawn_rate,
                run_time: p.run_time,
                think_time: p.think_time,
                level: plan.level.as_ref().map(|l| l.name.clone()),
            },
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
            total: summary.total,
            timeline: summary.timeline,
            verdict,
            outcome,
        }
    }

    /// The label of a check's subject: an endpoint's name, or "all endpoints".
    pub fn subject_name(&self, subject: &crate::verdict::Subject) -> &str {
        match subject {
            crate::verdict::Subject::Endpoint(i) => {
                self.endpoints.get(*i).map_or("?", |e| e.name.as_str())
            }
            crate::verdict::Subject::All => "all endpoints",
        }
    }
}
