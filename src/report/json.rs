//! The JSON report (`--json FILE`): the complete run as a versioned document,
//! `"schema": "slagate.run/v4"`, described by `schemas/slagate.run.v4.schema.json` — and its
//! inverse, [`load`], which rebuilds the `RunReport` so that `slagate report RUN.json` renders
//! every other format byte for byte as the run itself did.
//!
//! Owns the document's shape: private serde DTOs mirror the JSON, so the domain types stay free
//! of serde and a rename in Rust can never silently change the published format. Exactness is
//! the contract of `load`: floats go through serde_json's `float_roundtrip` parser; histograms
//! travel as HdrHistogram V2 + DEFLATE (base64), restoring every bucket; durations are written
//! as decimal seconds or milliseconds of their integer nanoseconds, which round back to the same
//! nanosecond for anything shorter than 2^51 ns (26 days; a longer run may come back a
//! nanosecond off, below what any format prints).
//! Values derived from others (percentiles, min/mean/max, `exit_code`, window `seconds`, kind
//! labels) are written for readers and ignored on load; they are recomputed from the originals.
//!
//! Versions: v2 (issue 4) added the INCONCLUSIVE and INVALID verdicts, `strict`, `invalid`,
//! and per check its confidence `interval`, `marginal`, `needs`, `windows` and `explanation`,
//! the `abort` metric and the `s` unit. v3 (issue 8) added each endpoint's `statuses` (answers
//! by status code), and its histogram holds only requests that got an answer or timed out
//! (connection failures have no response time). v4 (issue 11) added the open load model: the
//! profile's `model`, `rate`, `stages` and `max_in_flight` (its closed-model keys null), each
//! endpoint's `service_time` and `service_histogram`, each second's `arrivals` and `dropped`,
//! the run's `arrivals` (asked, sent, dropped, send lag), the `dropped` failure kind and the
//! `drops`, `rate` and `send_lag` invalidity causes. This build writes v4 and reads v4, v3 (a
//! closed run, as v4 without the open model's fields) and v2 (a v2 run has no status breakdown, and its histograms also hold connection failures, as that
//! version measured them); a v1 file is refused with the version it has. When a run could not
//! be made, `not_run` writes a `slagate.not-run/v1` document instead
//! (`schemas/slagate.not-run.v1.schema.json`), which `load` recognises and refuses by name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Serialize};

use super::table::LOCUST_PERCENTILES;
use super::{
    Arrivals, EndpointReport, FlowReport, Imported, Merged, MergedShard, NotRun, ProfileInfo,
    Provenance, RenderError, Reporter, RunOutcome, RunReport, ShardInfo,
};
use crate::plan::{Closed, LoadModel, Location, Metric, Open, Quantile, Shard, Stage, ThinkTime};
use crate::stats::{
    Abort, Connections, EndpointStats, FailureExample, FailureKind, KindStats, LoadHealth,
    OpenHealth, SecondStats, Sparse, TimelinePoint, Window, Written, new_histogram,
};
use crate::units;
use crate::verdict::{
    Check, CheckMetric, Delivery, Interval, Invalidity, Needs, Status, Subject, Value, Verdict,
    WindowBreach, Windowed,
};

/// The document version this build writes and reads.
pub const SCHEMA: &str = "slagate.run/v4";

/// Earlier versions, still read (see the module docs): a v3 or v2 document is a closed-model
/// run with no service times.
const SCHEMA_V3: &str = "slagate.run/v3";
const SCHEMA_V2: &str = "slagate.run/v2";

/// `Invalidity::cause`'s closed set, as the validity interface defines it (and the schema
/// lists it).
const INVALIDITY_CAUSES: [&str; 9] = [
    "spawn",
    "cpu",
    "wake",
    "drops",
    "rate",
    "send_lag",
    "local_resources",
    "skew",
    "interrupted",
];

/// The row label of the total, as Locust names it.
const AGGREGATED: &str = "Aggregated";

/// Renders the run as pretty-printed JSON with a trailing newline.
pub struct Json;

impl Reporter for Json {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        let doc = RunDoc::from_run(run)?;
        let mut bytes = serde_json::to_vec_pretty(&doc)
            .map_err(|e| RenderError::Format(format!("JSON: {e}")))?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

/// Why a saved run could not be read back.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("not a slagate run report: {0}")]
    #[diagnostic(
        code(slagate::report::not_json),
        help("pass a file written by `slagate check --json FILE`")
    )]
    Json(#[from] serde_json::Error),

    #[error("not a slagate run report: the file holds {0}, not a JSON object")]
    #[diagnostic(
        code(slagate::report::not_an_object),
        help("pass a file written by `slagate check --json FILE`")
    )]
    NotAnObject(&'static str),

    #[error("this file records a run that was not made: {reason}")]
    #[diagnostic(
        code(slagate::report::not_run),
        help(
            "the command that wrote it failed before any load was measured; fix that and run it again"
        )
    )]
    NotRun { reason: String },

    #[error("this is a comparison ({found}), not a run report")]
    #[diagnostic(
        code(slagate::report::comparison),
        help(
            "pass a file written by `slagate check --json FILE`; `slagate compare --json` writes comparisons"
        )
    )]
    Comparison { found: String },

    #[error("not a slagate run report: it has no \"schema\" field")]
    #[diagnostic(
        code(slagate::report::no_schema),
        help(
            "pass a file written by `slagate check --json FILE`; its first field is \"schema\": \"slagate.run/v4\""
        )
    )]
    NoSchema,

    #[error("this run report is schema {found}, but this build of slagate reads {SCHEMA}")]
    #[diagnostic(code(slagate::report::schema_version))]
    Version {
        found: String,
        #[help]
        help: String,
    },

    #[error("the run report is damaged: {0}")]
    #[diagnostic(
        code(slagate::report::damaged),
        help(
            "the file was edited or truncated after slagate wrote it; use the original file or run the load again"
        )
    )]
    Invalid(String),
}

/// Rebuilds a run from its JSON report. Every format rendered from the result is byte-identical
/// to the same format rendered from the run that wrote the JSON.
pub fn load(bytes: &[u8]) -> Result<RunReport, LoadError> {
    // Read the version first, so that a future or foreign document is reported as such rather
    // than as whichever of its fields this build happens not to understand.
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    let Some(object) = value.as_object() else {
        return Err(LoadError::NotAnObject(json_kind(&value)));
    };
    let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_string);
    match text("schema").as_deref() {
        None => return Err(LoadError::NoSchema),
        Some(SCHEMA | SCHEMA_V3 | SCHEMA_V2) => {}
        Some(NOT_RUN_SCHEMA) => {
            return Err(LoadError::NotRun {
                reason: text("reason").unwrap_or_else(|| "no reason recorded".into()),
            });
        }
        Some(found) if found.starts_with("slagate.compare/") => {
            return Err(LoadError::Comparison {
                found: found.to_string(),
            });
        }
        Some(found) => {
            let writer = text("slagate_version")
                .map_or_else(|| "another program".to_string(), |v| format!("slagate {v}"));
            return Err(LoadError::Version {
                found: found.to_string(),
                help: format!(
                    "it was written by {writer}; re-render it with that version, or run the \
                     load again with this one (slagate {})",
                    env!("CARGO_PKG_VERSION")
                ),
            });
        }
    }
    let doc: RunDoc = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    let stored = doc.verdict;
    let run = doc.into_run()?;
    // A verdict is derived from the checks, never trusted on its own: an edited file must not
    // re-render a FAIL as a PASS.
    let interrupted = run.outcome == RunOutcome::Interrupted;
    let derived = if run.shard.is_some() && !interrupted {
        // A shard is not judged: its verdict is always "shard", and only a shard's is.
        RunOutcome::Shard
    } else {
        RunOutcome::of(&run.verdict, interrupted)
    };
    if derived != run.outcome {
        return Err(invalid(format!(
            "its verdict \"{}\" contradicts its own checks, which make it \"{}\"",
            stored.name(),
            VerdictDoc::of(&derived).name()
        )));
    }
    Ok(run)
}

/// What a JSON value is, in a user's words.
fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The schema of the document left when a run could not be made.
pub const NOT_RUN_SCHEMA: &str = "slagate.not-run/v1";

/// The not-run document: the reason, and enough to tell it from an older run's report.
pub fn not_run(doc: &NotRun) -> Vec<u8> {
    #[derive(Serialize)]
    struct NotRunDoc<'a> {
        schema: &'static str,
        verdict: &'static str,
        exit_code: u8,
        reason: &'a str,
        at: String,
        slagate_version: &'a str,
    }
    let doc = NotRunDoc {
        schema: NOT_RUN_SCHEMA,
        verdict: "not-run",
        exit_code: doc.exit_code,
        reason: &doc.reason,
        at: timestamp(doc.at),
        slagate_version: &doc.slagate_version,
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

// ---------------------------------------------------------------------------------------------
// The document. Field order here is the order in the file.

#[derive(Serialize, Deserialize)]
struct RunDoc {
    schema: String,
    verdict: VerdictDoc,
    #[serde(skip_deserializing)]
    exit_code: u8,
    strict: bool,
    invalid: Vec<InvalidityDoc>,
    slagate_version: String,
    started_at: String,
    finished_at: String,
    measured_window: WindowDoc,
    profile: ProfileDoc,
    target: TargetDoc,
    /// Absent in v2 documents (which measured no connections).
    #[serde(default)]
    connections: ConnectionsDoc,
    /// Open model only (v4): the schedule asked of the generator and how it kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arrivals: Option<ArrivalsDoc>,
    /// `slagate judge`: the load was made by another tool (Locust), judged from its files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    imported: Option<ImportedDoc>,
    /// `check --shard K/N`: this run is one shard, saved for `slagate merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard: Option<ShardDoc>,
    /// `slagate merge`: this run is its shards added together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merged: Option<MergedDoc>,
    provenance: ProvenanceDoc,
    checks: Vec<CheckDoc>,
    endpoints: Vec<EndpointDoc>,
    /// `[[flow]]`s (absent when there are none): their iterations in an endpoint's shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    flows: Vec<FlowDoc>,
    total: EndpointDoc,
    timeline: Vec<PointDoc>,
}

/// One shard's identity and its generator's evidence (`LoadHealth`), exact: what `slagate
/// merge` needs to tell shards of one run apart from others and to judge each one's delivery.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardDoc {
    /// 1-based, as written on the command line.
    index: u32,
    count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run_id: Option<String>,
    /// `--start-at`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_at: Option<String>,
    /// Requests of the whole run that reached the target.
    reached: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aborted: Option<AbortDoc>,
    load: LoadDoc,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct AbortDoc {
    at_s: f64,
    reason: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadDoc {
    users_planned: u32,
    users_started: u32,
    worst_spawn_delay_us: u64,
    /// Every think-time wake-up's lateness, µs.
    wake_delay_histogram: String,
    /// CPU of the busiest worker per second, as a fraction of its core.
    cpu: Vec<f64>,
    cores: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open: Option<OpenLoadDoc>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenLoadDoc {
    send_lag_histogram: String,
    max_in_flight: u32,
    peak_in_flight: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergedDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run_id: Option<String>,
    skew_ms: f64,
    max_skew_ms: f64,
    shards: Vec<MergedShardDoc>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MergedShardDoc {
    /// `K/N`.
    shard: String,
    started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    machine: Option<String>,
    requests: u64,
    /// Why its load was not the plan's (empty: it was).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    invalid: Vec<String>,
}

impl ShardDoc {
    fn of(s: &ShardInfo) -> Result<ShardDoc, RenderError> {
        let l = &s.load;
        let sparse = |x: &Sparse| {
            let mut h = new_histogram();
            x.add_to(&mut h);
            encode_histogram(&h)
        };
        Ok(ShardDoc {
            index: s.shard.index + 1,
            count: s.shard.count,
            run_id: s.run_id.clone(),
            start_at: s.start_at.map(timestamp),
            reached: s.reached,
            aborted: s.aborted.as_ref().map(|a| AbortDoc {
                at_s: secs(a.at),
                reason: a.reason.clone(),
            }),
            load: LoadDoc {
                users_planned: l.users_planned,
                users_started: l.users_started,
                worst_spawn_delay_us: u64::try_from(l.worst_spawn_delay.as_micros())
                    .unwrap_or(u64::MAX),
                wake_delay_histogram: sparse(&l.wake_delay)?,
                cpu: l
                    .cpu
                    .iter()
                    .map(|&f| finite(f, "cpu"))
                    .collect::<Result<_, _>>()?,
                cores: l.cores,
                open: l
                    .open
                    .as_ref()
                    .map(|o| {
                        Ok::<_, RenderError>(OpenLoadDoc {
                            send_lag_histogram: sparse(&o.send_lag)?,
                            max_in_flight: o.max_in_flight,
                            peak_in_flight: o.peak_in_flight,
                        })
                    })
                    .transpose()?,
            },
        })
    }

    fn into_shard(self) -> Result<ShardInfo, LoadError> {
        let shard = Shard::new(self.index, self.count).ok_or_else(|| {
            invalid(format!(
                "shard {}/{}: K must be between 1 and N",
                self.index, self.count
            ))
        })?;
        let sparse = |text: &str, what: &str| {
            Ok::<_, LoadError>(Sparse::from_histogram(&decode_histogram(text, what)?))
        };
        let l = self.load;
        if let Some(f) = l.cpu.iter().find(|f| !(0.0..=64.0).contains(*f)) {
            return Err(invalid(format!(
                "shard load cpu {f} is not a fraction of a core"
            )));
        }
        Ok(ShardInfo {
            shard,
            run_id: self.run_id,
            start_at: self
                .start_at
                .map(|t| parse_timestamp(&t, "shard start_at"))
                .transpose()?,
            reached: self.reached,
            aborted: self
                .aborted
                .map(|a| {
                    Ok::<_, LoadError>(Abort {
                        at: from_secs(a.at_s, "shard aborted at")?,
                        reason: a.reason,
                    })
                })
                .transpose()?,
            load: LoadHealth {
                users_planned: l.users_planned,
                users_started: l.users_started,
                worst_spawn_delay: Duration::from_micros(l.worst_spawn_delay_us),
                wake_delay: sparse(&l.wake_delay_histogram, "shard wake delay")?,
                cpu: l.cpu,
                cores: l.cores,
                open: l
                    .open
                    .map(|o| {
                        Ok::<_, LoadError>(OpenHealth {
                            send_lag: sparse(&o.send_lag_histogram, "shard send lag")?,
                            max_in_flight: o.max_in_flight,
                            peak_in_flight: o.peak_in_flight,
                        })
                    })
                    .transpose()?,
            },
        })
    }
}

impl MergedDoc {
    fn of(m: &Merged) -> Result<MergedDoc, RenderError> {
        Ok(MergedDoc {
            run_id: m.run_id.clone(),
            skew_ms: finite(units::ms(m.skew), "skew")?,
            max_skew_ms: finite(units::ms(m.max_skew), "max skew")?,
            shards: m
                .shards
                .iter()
                .map(|s| MergedShardDoc {
                    shard: s.shard.to_string(),
                    started_at: timestamp(s.started_at),
                    machine: s.machine.clone(),
                    requests: s.requests,
                    invalid: s.invalid.clone(),
                })
                .collect(),
        })
    }

    fn into_merged(self) -> Result<Merged, LoadError> {
        Ok(Merged {
            run_id: self.run_id,
            skew: from_millis(self.skew_ms, "merged skew_ms")?,
            max_skew: from_millis(self.max_skew_ms, "merged max_skew_ms")?,
            shards: self
                .shards
                .into_iter()
                .map(|s| {
                    let shard = s
                        .shard
                        .split_once('/')
                        .and_then(|(k, n)| Shard::new(k.parse().ok()?, n.parse().ok()?))
                        .ok_or_else(|| invalid(format!("merged shard {:?} is not K/N", s.shard)))?;
                    Ok(MergedShard {
                        shard,
                        started_at: parse_timestamp(&s.started_at, "merged shard started_at")?,
                        machine: s.machine,
                        requests: s.requests,
                        invalid: s.invalid,
                    })
                })
                .collect::<Result<_, LoadError>>()?,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowDoc {
    name: String,
    /// Its endpoints in order, the `once` ones first.
    steps: Vec<String>,
    once: usize,
    /// Iterations as requests, iteration time as latency, failed iterations as failures.
    iterations: EndpointDoc,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum VerdictDoc {
    Pass,
    Fail,
    Inconclusive,
    Invalid,
    Interrupted,
    /// One shard of a sharded run: not judged (`slagate merge` judges the shards).
    Shard,
}

impl VerdictDoc {
    fn of(outcome: &RunOutcome) -> VerdictDoc {
        match outcome {
            RunOutcome::Pass => VerdictDoc::Pass,
            RunOutcome::Fail => VerdictDoc::Fail,
            RunOutcome::Inconclusive => VerdictDoc::Inconclusive,
            RunOutcome::Invalid => VerdictDoc::Invalid,
            RunOutcome::Interrupted => VerdictDoc::Interrupted,
            RunOutcome::Shard => VerdictDoc::Shard,
        }
    }

    /// As the file spells it.
    fn name(&self) -> &'static str {
        match self {
            VerdictDoc::Pass => "pass",
            VerdictDoc::Fail => "fail",
            VerdictDoc::Inconclusive => "inconclusive",
            VerdictDoc::Invalid => "invalid",
            VerdictDoc::Interrupted => "interrupted",
            VerdictDoc::Shard => "shard",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct InvalidityDoc {
    cause: String,
    figure: String,
    message: String,
}

#[derive(Serialize, Deserialize)]
struct WindowDoc {
    /// Seconds from the start of the run.
    start: f64,
    end: f64,
    #[serde(skip_deserializing)]
    seconds: f64,
}

#[derive(Serialize, Deserialize)]
struct ProfileDoc {
    name: String,
    description: String,
    /// `"closed"` or `"open"`; absent before v4 (closed).
    #[serde(default = "closed_model")]
    model: String,
    /// Closed model: users, spawn rate and think time; null for an open model.
    users: Option<u32>,
    spawn_rate: Option<f64>,
    /// Seconds.
    run_time: f64,
    think_time: Option<ThinkTimeDoc>,
    /// Open model: the rate held after the stages, the stages, and the in-flight cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stages: Option<Vec<StageDoc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_in_flight: Option<u32>,
    level: Option<String>,
}

fn closed_model() -> String {
    "closed".into()
}

#[derive(Serialize, Deserialize)]
struct StageDoc {
    rate: f64,
    /// Seconds.
    #[serde(rename = "for")]
    length: f64,
}

/// `RunReport::arrivals`.
#[derive(Serialize, Deserialize)]
struct ArrivalsDoc {
    /// Arrivals the schedule had due in the measured window, sent, and dropped.
    requested: u64,
    sent: u64,
    dropped: u64,
    window_s: f64,
    #[serde(skip_deserializing)]
    requested_rps: f64,
    #[serde(skip_deserializing)]
    achieved_rps: f64,
    max_in_flight: u32,
    peak_in_flight: u32,
    /// Send lag (actual − intended send time) in ms: p50, p99, max (derived from the
    /// histogram, ignored on load).
    #[serde(skip_deserializing)]
    send_lag_ms: SetupSummary,
    send_lag_histogram: String,
}

#[derive(Serialize, Deserialize)]
struct ThinkTimeDoc {
    min: f64,
    max: f64,
}

#[derive(Serialize, Deserialize)]
struct TargetDoc {
    base_url: String,
}

/// How the run's connections were made (`stats::Connections`).
#[derive(Serialize, Deserialize, Default)]
struct ConnectionsDoc {
    opened: u64,
    reconnects: u64,
    failed: u64,
    resumed: u64,
    retried: u64,
    goaways: u64,
    /// Connections per negotiated protocol, most first.
    protocols: Vec<NamedCount>,
    tls_versions: Vec<NamedCount>,
    ciphers: Vec<NamedCount>,
    /// Whether server certificates were verified (false under --insecure); null for cleartext.
    verified: Option<bool>,
    /// TCP connect, TLS handshake and their sum per connection, in ms: p50, p99, max (derived
    /// from the histograms below, ignored on load).
    #[serde(skip_deserializing)]
    summary_ms: BTreeMap<&'static str, SetupSummary>,
    tcp_histogram: String,
    tls_histogram: String,
    setup_histogram: String,
}

#[derive(Serialize, Deserialize, Clone)]
struct NamedCount {
    name: String,
    count: u64,
}

#[derive(Serialize, Default)]
struct SetupSummary {
    p50: Option<f64>,
    p99: Option<f64>,
    max: Option<f64>,
}

impl ConnectionsDoc {
    fn of(c: &Connections) -> Result<ConnectionsDoc, RenderError> {
        let named = |list: &[(String, u64)]| {
            list.iter()
                .map(|(name, count)| NamedCount {
                    name: name.clone(),
                    count: *count,
                })
                .collect()
        };
        let mut summary_ms = BTreeMap::new();
        let mut encoded = Vec::new();
        for (name, sparse) in [("tcp", &c.tcp), ("tls", &c.tls), ("setup", &c.setup)] {
            let mut h = new_histogram();
            sparse.add_to(&mut h);
            let q = |q: f64| (!h.is_empty()).then(|| units::us_to_ms(h.value_at_quantile(q)));
            summary_ms.insert(
                name,
                SetupSummary {
                    p50: q(0.5),
                    p99: q(0.99),
                    max: q(1.0),
                },
            );
            encoded.push(encode_histogram(&h)?);
        }
        let [tcp, tls, setup]: [String; 3] = encoded.try_into().expect("three histograms");
        Ok(ConnectionsDoc {
            opened: c.opened,
            reconnects: c.reconnects,
            failed: c.failed,
            resumed: c.resumed,
            retried: c.retried,
            goaways: c.goaways,
            protocols: named(&c.protocols),
            tls_versions: named(&c.tls_versions),
            ciphers: named(&c.ciphers),
            verified: c.verified,
            summary_ms,
            tcp_histogram: tcp,
            tls_histogram: tls,
            setup_histogram: setup,
        })
    }

    fn into_connections(self) -> Result<Connections, LoadError> {
        let sparse = |text: &str, what: &str| -> Result<Sparse, LoadError> {
            if text.is_empty() {
                return Ok(Sparse::default());
            }
            Ok(Sparse::from_histogram(&decode_histogram(text, what)?))
        };
        let named = |list: Vec<NamedCount>| list.into_iter().map(|n| (n.name, n.count)).collect();
        Ok(Connections {
            tcp: sparse(&self.tcp_histogram, "connections tcp")?,
            tls: sparse(&self.tls_histogram, "connections tls")?,
            setup: sparse(&self.setup_histogram, "connections setup")?,
            opened: self.opened,
            reconnects: self.reconnects,
            failed: self.failed,
            resumed: self.resumed,
            retried: self.retried,
            goaways: self.goaways,
            protocols: named(self.protocols),
            tls_versions: named(self.tls_versions),
            ciphers: named(self.ciphers),
            verified: self.verified,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct ProvenanceDoc {
    sla_file: String,
    sla_sha256: String,
    profile_file: String,
    profile_sha256: String,
    git_commit: Option<String>,
    #[serde(default)]
    machine: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct CheckDoc {
    endpoint: String,
    metric: String,
    /// The exact quantile of a `pNN` metric (the label alone may not parse back to the same
    /// float).
    quantile: Option<f64>,
    budget: serde_json::Number,
    measured: Option<serde_json::Number>,
    unit: UnitDoc,
    /// 95 % confidence interval of a percentile, in `unit`.
    interval: Option<IntervalDoc>,
    headroom: Option<f64>,
    samples: u64,
    status: StatusDoc,
    marginal: bool,
    needs: Option<NeedsDoc>,
    windows: Option<WindowsDoc>,
    diagnostic: String,
    explanation: Vec<String>,
    location: Option<LocationDoc>,
}

#[derive(Serialize, Deserialize)]
struct IntervalDoc {
    low: f64,
    high: f64,
}

#[derive(Serialize, Deserialize)]
struct NeedsDoc {
    samples: u64,
    rps: f64,
    window_s: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct WindowsDoc {
    length_s: f64,
    judged: u32,
    breached: u32,
    decisive: bool,
    worst: Option<BreachDoc>,
}

#[derive(Serialize, Deserialize)]
struct BreachDoc {
    start_s: f64,
    end_s: f64,
    /// In the check's `unit`.
    measured: serde_json::Number,
    samples: u64,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq)]
enum UnitDoc {
    #[serde(rename = "ms")]
    Ms,
    #[serde(rename = "req/s")]
    ReqPerS,
    #[serde(rename = "ratio")]
    Ratio,
    #[serde(rename = "responses")]
    Responses,
    #[serde(rename = "s")]
    S,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum StatusDoc {
    Pass,
    Fail,
    Inconclusive,
    NotJudged,
}

#[derive(Serialize, Deserialize)]
struct LocationDoc {
    file: String,
    line: u32,
    column: u32,
}

#[derive(Serialize, Deserialize)]
struct EndpointDoc {
    name: String,
    method: String,
    requests: u64,
    failures: u64,
    failures_by_kind: Vec<KindDoc>,
    rps: f64,
    failures_per_s: f64,
    body_bytes: u64,
    /// Answers by status code ("200": 1432); absent in v2 documents.
    #[serde(default)]
    statuses: BTreeMap<String, u64>,
    #[serde(skip_deserializing)]
    min: Option<f64>,
    #[serde(skip_deserializing)]
    mean: Option<f64>,
    #[serde(skip_deserializing)]
    max: Option<f64>,
    #[serde(skip_deserializing)]
    percentiles: Percentiles,
    /// Latencies in µs: HdrHistogram V2 + DEFLATE, base64 (standard alphabet, padded).
    histogram: String,
    /// Open model (v4): service time (from the actual write) at the same percentiles, ms, and
    /// its histogram; absent for a closed model, whose latency is its service time.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    service_time: Option<Percentiles>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    service_histogram: String,
    /// `slagate judge`: the figures the tool wrote, which the percentiles above show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    written: Option<WrittenDoc>,
}

#[derive(Serialize, Deserialize)]
struct ImportedDoc {
    tool: String,
    users: Option<u32>,
    notes: Vec<String>,
}

/// An imported run's own figures (`stats::Written`), ms: `percentiles` as [quantile, ms]
/// pairs, empty when the histogram is the tool's whole distribution.
#[derive(Serialize, Deserialize)]
struct WrittenDoc {
    percentiles: Vec<(f64, f64)>,
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
}

impl WrittenDoc {
    fn of(w: &Written) -> WrittenDoc {
        WrittenDoc {
            percentiles: w
                .percentiles
                .iter()
                .map(|&(q, d)| (q, units::ms(d)))
                .collect(),
            min: w.min.map(units::ms),
            max: w.max.map(units::ms),
            mean: w.mean.map(units::ms),
        }
    }

    fn into_written(self, what: &str) -> Result<Written, LoadError> {
        let d = |x: Option<f64>| x.map(|x| from_millis(x, what)).transpose();
        Ok(Written {
            percentiles: self
                .percentiles
                .into_iter()
                .map(|(q, x)| Ok((q, from_millis(x, what)?)))
                .collect::<Result<_, LoadError>>()?,
            min: d(self.min)?,
            max: d(self.max)?,
            mean: d(self.mean)?,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct KindDoc {
    kind: String,
    #[serde(skip_deserializing)]
    label: String,
    count: u64,
    first_seen_s: f64,
    last_seen_s: f64,
    example: Option<ExampleDoc>,
}

#[derive(Serialize, Deserialize)]
struct ExampleDoc {
    at_s: f64,
    text: String,
}

#[derive(Serialize, Deserialize)]
struct PointDoc {
    second: u32,
    users: u32,
    /// Open model (v4): arrivals sent and dropped in this second.
    #[serde(default, skip_serializing_if = "is_zero")]
    arrivals: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    dropped: u64,
    /// The second over all endpoints, its fields inline (as the schema has them).
    #[serde(flatten)]
    total: SecondDoc,
    endpoints: Vec<SecondDoc>,
}

#[derive(Serialize, Deserialize)]
struct SecondDoc {
    requests: u64,
    failures: u64,
    body_bytes: u64,
    p50: Option<f64>,
    p95: Option<f64>,
    p99: Option<f64>,
    /// This second's latencies (HdrHistogram V2 + DEFLATE, base64): any run of seconds can be
    /// merged exactly later.
    histogram: String,
}

/// Locust's percentile set as an ordered object, `{"50": ms, …, "100": ms}` (a map type would
/// sort "100" before "50").
#[derive(Default)]
struct Percentiles(Vec<(&'static str, Option<f64>)>);

impl Serialize for Percentiles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Units. Durations go through integer nanoseconds so that they come back exactly.

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn secs(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e9
}

/// JSON has no NaN or infinity (serde_json would quietly write `null`, which loads back as
/// "no value"): refuse rather than write a report that reads back differently.
fn finite(x: f64, what: &str) -> Result<f64, RenderError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(RenderError::Format(format!(
            "{what} is {x}, which JSON cannot represent"
        )))
    }
}

fn number(x: f64, what: &str) -> Result<serde_json::Number, RenderError> {
    serde_json::Number::from_f64(x)
        .ok_or_else(|| RenderError::Format(format!("{what} is {x}, which JSON cannot represent")))
}

fn invalid(what: impl Into<String>) -> LoadError {
    LoadError::Invalid(what.into())
}

/// Whole nanoseconds from a decimal number of `unit_ns`-nanosecond units.
fn from_units(x: f64, unit_ns: f64, what: &str) -> Result<Duration, LoadError> {
    let ns = (x * unit_ns).round();
    // NaN is outside every range.
    if !(0.0..u64::MAX as f64).contains(&ns) {
        return Err(invalid(format!("{what} = {x} is not a duration")));
    }
    Ok(Duration::from_nanos(ns as u64))
}

fn from_secs(x: f64, what: &str) -> Result<Duration, LoadError> {
    from_units(x, 1e9, what)
}

fn from_millis(x: f64, what: &str) -> Result<Duration, LoadError> {
    from_units(x, 1e6, what)
}

fn ms_to_us(x: Option<f64>, what: &str) -> Result<Option<u64>, LoadError> {
    x.map(|ms| {
        let us = (ms * 1e3).round();
        if (0.0..u64::MAX as f64).contains(&us) {
            Ok(us as u64)
        } else {
            Err(invalid(format!("{what} = {ms} is not a latency")))
        }
    })
    .transpose()
}

fn timestamp(t: SystemTime) -> String {
    // Smart precision: whole seconds print without a fraction, anything else with all nine
    // digits, so the instant parses back exactly.
    humantime::format_rfc3339(t).to_string()
}

fn parse_timestamp(s: &str, what: &str) -> Result<SystemTime, LoadError> {
    humantime::parse_rfc3339(s)
        .map_err(|e| invalid(format!("{what} = {s:?} is not an RFC 3339 UTC time: {e}")))
}

fn encode_histogram(h: &Histogram<u64>) -> Result<String, RenderError> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut buf)
        .map_err(|e| RenderError::Format(format!("histogram: {e:?}")))?;
    Ok(BASE64.encode(buf))
}

fn decode_histogram(text: &str, what: &str) -> Result<Histogram<u64>, LoadError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|e| invalid(format!("{what}: the histogram is not base64: {e}")))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| invalid(format!("{what}: the histogram does not decode: {e}")))
}

/// The inverse of `FailureKind::id`.
fn kind_from_id(id: &str) -> Option<FailureKind> {
    if let Some(code) = id.strip_prefix("status_") {
        return code.parse().ok().map(FailureKind::Status);
    }
    // A kind added to `FailureKind::TRANSPORT` must be added to the schema's `kind` pattern.
    FailureKind::TRANSPORT.into_iter().find(|k| k.id() == id)
}

// ---------------------------------------------------------------------------------------------
// RunReport → document

impl RunDoc {
    fn from_run(run: &RunReport) -> Result<RunDoc, RenderError> {
        let p = &run.profile;
        Ok(RunDoc {
            schema: SCHEMA.to_string(),
            verdict: VerdictDoc::of(&run.outcome),
            exit_code: run.exit_code().code(),
            strict: run.strict,
            invalid: run
                .verdict
                .invalid
                .iter()
                .map(|i| InvalidityDoc {
                    cause: i.cause.to_string(),
                    figure: i.figure.clone(),
                    message: i.message.clone(),
                })
                .collect(),
            slagate_version: run.slagate_version.clone(),
            started_at: timestamp(run.started_at),
            finished_at: timestamp(run.finished_at),
            measured_window: WindowDoc {
                start: secs(run.window.start),
                end: secs(run.window.end),
                seconds: secs(run.window.length()),
            },
            profile: ProfileDoc::of(p)?,
            arrivals: run.arrivals.as_ref().map(ArrivalsDoc::of).transpose()?,
            imported: run.imported.as_ref().map(|i| ImportedDoc {
                tool: i.tool.clone(),
                users: i.users,
                notes: i.notes.clone(),
            }),
            shard: run.shard.as_ref().map(ShardDoc::of).transpose()?,
            merged: run.merged.as_ref().map(MergedDoc::of).transpose()?,
            target: TargetDoc {
                base_url: run.target.clone(),
            },
            connections: ConnectionsDoc::of(&run.connections)?,
            provenance: ProvenanceDoc {
                sla_file: run.provenance.sla_file.clone(),
                sla_sha256: run.provenance.sla_sha256.clone(),
                profile_file: run.provenance.profile_file.clone(),
                profile_sha256: run.provenance.profile_sha256.clone(),
                git_commit: run.provenance.git_commit.clone(),
                machine: run.provenance.machine.clone(),
            },
            checks: run
                .verdict
                .checks
                .iter()
                .map(|c| CheckDoc::from_check(run, c))
                .collect::<Result<_, _>>()?,
            endpoints: run
                .endpoints
                .iter()
                .map(|e| EndpointDoc::from_stats(&e.name, &e.method, &e.stats))
                .collect::<Result<_, _>>()?,
            flows: run
                .flows
                .iter()
                .map(|f| {
                    Ok::<_, RenderError>(FlowDoc {
                        name: f.name.clone(),
                        steps: f.steps.clone(),
                        once: f.once,
                        iterations: EndpointDoc::from_stats(&f.name, "", &f.stats)?,
                    })
                })
                .collect::<Result<_, _>>()?,
            total: EndpointDoc::from_stats(AGGREGATED, "", &run.total)?,
            timeline: run
                .timeline
                .iter()
                .map(PointDoc::from_point)
                .collect::<Result<_, _>>()?,
        })
    }
}

fn value_doc(v: Value, what: &str) -> Result<(serde_json::Number, UnitDoc), RenderError> {
    Ok(match v {
        Value::Latency(d) => (number(units::ms(d), what)?, UnitDoc::Ms),
        Value::Rate(r) => (number(r, what)?, UnitDoc::ReqPerS),
        Value::Fraction(f) => (number(f, what)?, UnitDoc::Ratio),
        Value::Count(n) => (n.into(), UnitDoc::Responses),
        Value::Offset(d) => (number(secs(d), what)?, UnitDoc::S),
    })
}

impl CheckDoc {
    fn from_check(run: &RunReport, c: &Check) -> Result<CheckDoc, RenderError> {
        let endpoint = run.subject_name(&c.subject).to_string();
        let what = format!("{endpoint} {} budget", c.metric);
        let (budget, unit) = value_doc(c.budget, &what)?;
        let measured = match c.measured {
            None => None,
            Some(v) => {
                let (n, u) = value_doc(v, &what)?;
                // One `unit` field serves both numbers.
                if u != unit {
                    return Err(RenderError::Format(format!(
                        "{what}: the measurement and the budget are in different units"
                    )));
                }
                Some(n)
            }
        };
        Ok(CheckDoc {
            metric: c.metric.to_string(),
            quantile: match c.metric {
                CheckMetric::Latency(Metric::Percentile(q)) => Some(q.get()),
                _ => None,
            },
            budget,
            measured,
            unit,
            interval: c.interval.map(|i| IntervalDoc {
                low: units::ms(i.low),
                high: units::ms(i.high),
            }),
            headroom: c.headroom.map(|h| finite(h, &what)).transpose()?,
            samples: c.samples,
            status: match c.status {
                Status::Pass => StatusDoc::Pass,
                Status::Fail => StatusDoc::Fail,
                Status::Inconclusive => StatusDoc::Inconclusive,
                Status::NotJudged => StatusDoc::NotJudged,
            },
            marginal: c.marginal,
            needs: c
                .needs
                .map(|n| {
                    Ok::<_, RenderError>(NeedsDoc {
                        samples: n.samples,
                        rps: finite(n.rps, &what)?,
                        window_s: n.window.map(secs),
                    })
                })
                .transpose()?,
            windows: c
                .windows
                .map(|w| {
                    Ok::<_, RenderError>(WindowsDoc {
                        length_s: secs(w.length),
                        judged: w.judged,
                        breached: w.breached,
                        decisive: w.decisive,
                        worst: w
                            .worst
                            .map(|b| {
                                let (measured, u) = value_doc(b.measured, &what)?;
                                if u != unit {
                                    return Err(RenderError::Format(format!(
                                        "{what}: a window's figure is in another unit"
                                    )));
                                }
                                Ok(BreachDoc {
                                    start_s: secs(b.start),
                                    end_s: secs(b.end),
                                    measured,
                                    samples: b.samples,
                                })
                            })
                            .transpose()?,
                    })
                })
                .transpose()?,
            diagnostic: c.diagnostic.clone(),
            explanation: c.explanation.clone(),
            location: c.location.as_ref().map(|l| LocationDoc {
                file: l.file.to_string_lossy().into_owned(),
                line: l.line,
                column: l.column,
            }),
            endpoint,
        })
    }
}

impl ProfileDoc {
    fn of(p: &ProfileInfo) -> Result<ProfileDoc, RenderError> {
        let mut doc = ProfileDoc {
            name: p.name.clone(),
            description: p.description.clone(),
            model: String::new(),
            users: None,
            spawn_rate: None,
            run_time: secs(p.run_time),
            think_time: None,
            rate: None,
            stages: None,
            max_in_flight: None,
            level: p.level.clone(),
        };
        match &p.load {
            LoadModel::Closed(c) => {
                doc.model = "closed".into();
                doc.users = Some(c.users);
                doc.spawn_rate = Some(finite(c.spawn_rate, "spawn_rate")?);
                doc.think_time = Some(ThinkTimeDoc {
                    min: secs(c.think_time.min),
                    max: secs(c.think_time.max),
                });
            }
            LoadModel::Open(o) => {
                doc.model = "open".into();
                doc.rate = Some(finite(o.rate(), "rate")?);
                doc.stages = Some(
                    o.stages
                        .iter()
                        .map(|s| {
                            Ok(StageDoc {
                                rate: finite(s.rate, "stage rate")?,
                                length: secs(s.length),
                            })
                        })
                        .collect::<Result<_, RenderError>>()?,
                );
                doc.max_in_flight = Some(o.max_in_flight);
            }
        }
        Ok(doc)
    }

    fn into_load(self) -> Result<(String, String, Duration, LoadModel, Option<String>), LoadError> {
        let run_time = from_secs(self.run_time, "profile.run_time")?;
        let load = match self.model.as_str() {
            "closed" => {
                let missing = |k: &str| invalid(format!("a closed-model profile has no {k}"));
                let think = self.think_time.ok_or_else(|| missing("think_time"))?;
                LoadModel::Closed(Closed {
                    users: self.users.ok_or_else(|| missing("users"))?,
                    spawn_rate: self.spawn_rate.ok_or_else(|| missing("spawn_rate"))?,
                    think_time: ThinkTime {
                        min: from_secs(think.min, "profile.think_time.min")?,
                        max: from_secs(think.max, "profile.think_time.max")?,
                    },
                })
            }
            "open" => {
                let stages = self
                    .stages
                    .ok_or_else(|| invalid("an open-model profile has no stages"))?
                    .into_iter()
                    .map(|s| {
                        Ok(Stage {
                            rate: s.rate,
                            length: from_secs(s.length, "profile.stages.for")?,
                        })
                    })
                    .collect::<Result<Vec<_>, LoadError>>()?;
                if stages.is_empty() {
                    return Err(invalid("an open-model profile has no stages"));
                }
                LoadModel::Open(Open {
                    stages,
                    max_in_flight: self
                        .max_in_flight
                        .ok_or_else(|| invalid("an open-model profile has no max_in_flight"))?,
                })
            }
            other => return Err(invalid(format!("unknown load model {other:?}"))),
        };
        Ok((self.name, self.description, run_time, load, self.level))
    }
}

impl ArrivalsDoc {
    fn of(a: &Arrivals) -> Result<ArrivalsDoc, RenderError> {
        let mut h = new_histogram();
        a.send_lag.add_to(&mut h);
        let q = |q: f64| (!h.is_empty()).then(|| units::us_to_ms(h.value_at_quantile(q)));
        Ok(ArrivalsDoc {
            requested: a.delivery.asked,
            sent: a.delivery.sent,
            dropped: a.delivery.dropped,
            window_s: finite(a.delivery.seconds, "arrivals window")?,
            requested_rps: finite(a.requested_rps(), "requested rps")?,
            achieved_rps: finite(a.achieved_rps(), "achieved rps")?,
            max_in_flight: a.max_in_flight,
            peak_in_flight: a.peak_in_flight,
            send_lag_ms: SetupSummary {
                p50: q(0.5),
                p99: q(0.99),
                max: q(1.0),
            },
            send_lag_histogram: encode_histogram(&h)?,
        })
    }

    fn into_arrivals(self) -> Result<Arrivals, LoadError> {
        let lag = if self.send_lag_histogram.is_empty() {
            Sparse::default()
        } else {
            Sparse::from_histogram(&decode_histogram(&self.send_lag_histogram, "send lag")?)
        };
        Ok(Arrivals {
            delivery: Delivery {
                asked: self.requested,
                sent: self.sent,
                dropped: self.dropped,
                seconds: self.window_s,
            },
            send_lag: lag,
            max_in_flight: self.max_in_flight,
            peak_in_flight: self.peak_in_flight,
        })
    }
}

impl EndpointDoc {
    fn from_stats(name: &str, method: &str, s: &EndpointStats) -> Result<EndpointDoc, RenderError> {
        Ok(EndpointDoc {
            name: name.to_string(),
            method: method.to_string(),
            requests: s.requests,
            failures: s.failures,
            failures_by_kind: s
                .failures_by_kind
                .iter()
                .map(|k| KindDoc {
                    kind: k.kind.id(),
                    label: k.kind.to_string(),
                    count: k.count,
                    first_seen_s: secs(k.first_seen),
                    last_seen_s: secs(k.last_seen),
                    example: k.example.as_ref().map(|ex| ExampleDoc {
                        at_s: secs(ex.at),
                        text: ex.text.clone(),
                    }),
                })
                .collect(),
            rps: finite(s.rps, &format!("{name} rps"))?,
            failures_per_s: finite(s.failures_per_s, &format!("{name} failures_per_s"))?,
            body_bytes: s.body_bytes,
            statuses: s
                .statuses
                .iter()
                .map(|&(status, n)| (status.to_string(), n))
                .collect(),
            min: s.min().map(units::ms),
            mean: s.mean().map(units::ms),
            max: s.max().map(units::ms),
            percentiles: Percentiles(
                LOCUST_PERCENTILES
                    .iter()
                    .map(|&(q, label)| (label.trim_end_matches('%'), s.quantile(q).map(units::ms)))
                    .collect(),
            ),
            histogram: encode_histogram(&s.latency)?,
            service_time: (!s.service.is_empty()).then(|| {
                Percentiles(
                    LOCUST_PERCENTILES
                        .iter()
                        .map(|&(q, label)| {
                            (
                                label.trim_end_matches('%'),
                                s.service_quantile(q).map(units::ms),
                            )
                        })
                        .collect(),
                )
            }),
            service_histogram: if s.service.is_empty() {
                String::new()
            } else {
                encode_histogram(&s.service)?
            },
            written: s.written.as_ref().map(WrittenDoc::of),
        })
    }
}

impl SecondDoc {
    fn from_second(s: &SecondStats) -> Result<SecondDoc, RenderError> {
        let mut hist = new_histogram();
        s.latency.add_to(&mut hist);
        Ok(SecondDoc {
            requests: s.requests,
            failures: s.failures,
            body_bytes: s.body_bytes,
            p50: s.p50_us.map(units::us_to_ms),
            p95: s.p95_us.map(units::us_to_ms),
            p99: s.p99_us.map(units::us_to_ms),
            histogram: encode_histogram(&hist)?,
        })
    }
}

impl PointDoc {
    fn from_point(p: &TimelinePoint) -> Result<PointDoc, RenderError> {
        Ok(PointDoc {
            second: p.second,
            users: p.users,
            arrivals: p.arrivals,
            dropped: p.dropped,
            total: SecondDoc::from_second(&p.total)?,
            endpoints: p
                .endpoints
                .iter()
                .map(SecondDoc::from_second)
                .collect::<Result<_, _>>()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// document → RunReport

impl RunDoc {
    fn into_run(self) -> Result<RunReport, LoadError> {
        let (name, description, run_time, load, level) = self.profile.into_load()?;
        let endpoints: Vec<EndpointReport> = self
            .endpoints
            .into_iter()
            .map(|e| {
                let name = e.name.clone();
                let method = e.method.clone();
                Ok(EndpointReport {
                    stats: e.into_stats()?,
                    name,
                    method,
                })
            })
            .collect::<Result<_, LoadError>>()?;
        let flows = self
            .flows
            .into_iter()
            .map(|f| {
                if f.once > f.steps.len() {
                    return Err(invalid(format!(
                        "flow {}: once = {} but it has {} steps",
                        f.name,
                        f.once,
                        f.steps.len()
                    )));
                }
                Ok(FlowReport {
                    label: format!("flow {}", f.name),
                    name: f.name,
                    steps: f.steps,
                    once: f.once,
                    stats: f.iterations.into_stats()?,
                })
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        let checks = self
            .checks
            .into_iter()
            .map(|c| c.into_check(&endpoints, &flows))
            .collect::<Result<_, _>>()?;
        Ok(RunReport {
            slagate_version: self.slagate_version,
            profile: ProfileInfo {
                name,
                description,
                load,
                run_time,
                level,
            },
            arrivals: self.arrivals.map(ArrivalsDoc::into_arrivals).transpose()?,
            target: self.target.base_url,
            connections: self.connections.into_connections()?,
            provenance: Provenance {
                sla_file: self.provenance.sla_file,
                sla_sha256: self.provenance.sla_sha256,
                profile_file: self.provenance.profile_file,
                profile_sha256: self.provenance.profile_sha256,
                git_commit: self.provenance.git_commit,
                machine: self.provenance.machine,
            },
            started_at: parse_timestamp(&self.started_at, "started_at")?,
            finished_at: parse_timestamp(&self.finished_at, "finished_at")?,
            window: Window {
                start: from_secs(self.measured_window.start, "measured_window.start")?,
                end: from_secs(self.measured_window.end, "measured_window.end")?,
            },
            endpoints,
            flows,
            total: self.total.into_stats()?,
            timeline: self
                .timeline
                .into_iter()
                .map(PointDoc::into_point)
                .collect::<Result<_, _>>()?,
            verdict: Verdict {
                checks,
                invalid: self
                    .invalid
                    .into_iter()
                    .map(InvalidityDoc::into_invalidity)
                    .collect::<Result<_, _>>()?,
            },
            outcome: match self.verdict {
                VerdictDoc::Pass => RunOutcome::Pass,
                VerdictDoc::Fail => RunOutcome::Fail,
                VerdictDoc::Inconclusive => RunOutcome::Inconclusive,
                VerdictDoc::Invalid => RunOutcome::Invalid,
                VerdictDoc::Interrupted => RunOutcome::Interrupted,
                VerdictDoc::Shard => RunOutcome::Shard,
            },
            strict: self.strict,
            imported: self.imported.map(|i| Imported {
                tool: i.tool,
                users: i.users,
                notes: i.notes,
            }),
            shard: self.shard.map(ShardDoc::into_shard).transpose()?,
            merged: self.merged.map(MergedDoc::into_merged).transpose()?,
        })
    }
}

impl EndpointDoc {
    fn into_stats(self) -> Result<EndpointStats, LoadError> {
        let name = self.name;
        let written = self.written;
        let failures_by_kind = self
            .failures_by_kind
            .into_iter()
            .map(|k| {
                let what = format!("{name} failures_by_kind {}", k.kind);
                let kind = kind_from_id(&k.kind)
                    .ok_or_else(|| invalid(format!("unknown failure kind {:?}", k.kind)))?;
                Ok(KindStats {
                    kind,
                    count: k.count,
                    first_seen: from_secs(k.first_seen_s, &what)?,
                    last_seen: from_secs(k.last_seen_s, &what)?,
                    example: k
                        .example
                        .map(|ex| {
                            Ok::<_, LoadError>(FailureExample {
                                kind,
                                at: from_secs(ex.at_s, &what)?,
                                text: ex.text,
                            })
                        })
                        .transpose()?,
                })
            })
            .collect::<Result<_, LoadError>>()?;
        Ok(EndpointStats {
            requests: self.requests,
            failures: self.failures,
            body_bytes: self.body_bytes,
            latency: decode_histogram(&self.histogram, &name)?,
            service: if self.service_histogram.is_empty() {
                new_histogram()
            } else {
                decode_histogram(&self.service_histogram, &format!("{name} service time"))?
            },
            failures_by_kind,
            rps: self.rps,
            failures_per_s: self.failures_per_s,
            statuses: self
                .statuses
                .into_iter()
                .map(|(code, n)| {
                    code.parse::<u16>()
                        .ok()
                        .filter(|c| (100..=999).contains(c))
                        .map(|c| (c, n))
                        .ok_or_else(|| invalid(format!("{name}: {code:?} is not a status code")))
                })
                .collect::<Result<_, _>>()?,
            written: written.map(|w| w.into_written(&name)).transpose()?,
        })
    }
}

impl SecondDoc {
    fn into_second(self, what: &str) -> Result<SecondStats, LoadError> {
        Ok(SecondStats {
            requests: self.requests,
            failures: self.failures,
            body_bytes: self.body_bytes,
            latency: Sparse::from_histogram(&decode_histogram(&self.histogram, what)?),
            p50_us: ms_to_us(self.p50, what)?,
            p95_us: ms_to_us(self.p95, what)?,
            p99_us: ms_to_us(self.p99, what)?,
        })
    }
}

impl PointDoc {
    fn into_point(self) -> Result<TimelinePoint, LoadError> {
        let what = format!("timeline second {}", self.second);
        let total = self.total;
        Ok(TimelinePoint {
            second: self.second,
            users: self.users,
            arrivals: self.arrivals,
            dropped: self.dropped,
            endpoints: self
                .endpoints
                .into_iter()
                .map(|e| e.into_second(&what))
                .collect::<Result<_, _>>()?,
            total: total.into_second(&what)?,
        })
    }
}

impl InvalidityDoc {
    /// Causes are a closed set (`&'static str` in the domain): an unknown one is damage.
    fn into_invalidity(self) -> Result<Invalidity, LoadError> {
        let cause = INVALIDITY_CAUSES
            .iter()
            .copied()
            .find(|c| *c == self.cause)
            .ok_or_else(|| invalid(format!("unknown invalidity cause {:?}", self.cause)))?;
        Ok(Invalidity {
            cause,
            figure: self.figure,
            message: self.message,
        })
    }
}

impl CheckDoc {
    fn into_check(
        self,
        endpoints: &[EndpointReport],
        flows: &[FlowReport],
    ) -> Result<Check, LoadError> {
        let what = format!("check {} {}", self.endpoint, self.metric);
        let metric = match self.metric.as_str() {
            "min_rps" => CheckMetric::MinRps,
            "max_error_rate" => CheckMetric::MaxErrorRate,
            "coverage" => CheckMetric::Coverage,
            "abort" => CheckMetric::Abort,
            "max" => CheckMetric::Latency(Metric::Max),
            m if m.starts_with('p') => {
                let q = self
                    .quantile
                    .and_then(Quantile::new)
                    .ok_or_else(|| invalid(format!("{what}: no valid \"quantile\"")))?;
                CheckMetric::Latency(Metric::Percentile(q))
            }
            m => return Err(invalid(format!("{what}: unknown metric {m:?}"))),
        };
        // Level checks are about all endpoints, whatever an endpoint happens to be called.
        let subject = match metric {
            CheckMetric::MinRps | CheckMetric::MaxErrorRate | CheckMetric::Abort => Subject::All,
            _ => match endpoints.iter().position(|e| e.name == self.endpoint) {
                Some(i) => Subject::Endpoint(i),
                None if self.endpoint == super::model::CONNECTIONS => Subject::Connections,
                None => match flows.iter().position(|f| f.label == self.endpoint) {
                    Some(f) => Subject::Flow(f),
                    None => return Err(invalid(format!("{what}: no endpoint of that name"))),
                },
            },
        };
        let value =
            |n: &serde_json::Number| -> Result<Value, LoadError> {
                let float = || {
                    n.as_f64()
                        .ok_or_else(|| invalid(format!("{what}: {n} is not a number")))
                };
                Ok(match self.unit {
                    UnitDoc::Ms => Value::Latency(from_millis(float()?, &what)?),
                    UnitDoc::ReqPerS => Value::Rate(float()?),
                    UnitDoc::Ratio => Value::Fraction(float()?),
                    UnitDoc::Responses => Value::Count(n.as_u64().ok_or_else(|| {
                        invalid(format!("{what}: {n} is not a count of responses"))
                    })?),
                    UnitDoc::S => Value::Offset(from_secs(float()?, &what)?),
                })
            };
        Ok(Check {
            subject,
            metric,
            budget: value(&self.budget)?,
            measured: self.measured.as_ref().map(value).transpose()?,
            interval: self
                .interval
                .map(|i| {
                    Ok::<_, LoadError>(Interval {
                        low: from_millis(i.low, &what)?,
                        high: from_millis(i.high, &what)?,
                    })
                })
                .transpose()?,
            headroom: self.headroom,
            samples: self.samples,
            status: match self.status {
                StatusDoc::Pass => Status::Pass,
                StatusDoc::Fail => Status::Fail,
                StatusDoc::Inconclusive => Status::Inconclusive,
                StatusDoc::NotJudged => Status::NotJudged,
            },
            marginal: self.marginal,
            needs: self
                .needs
                .map(|n| {
                    Ok::<_, LoadError>(Needs {
                        samples: n.samples,
                        rps: n.rps,
                        window: n.window_s.map(|w| from_secs(w, &what)).transpose()?,
                    })
                })
                .transpose()?,
            windows: self
                .windows
                .map(|w| {
                    Ok::<_, LoadError>(Windowed {
                        length: from_secs(w.length_s, &what)?,
                        judged: w.judged,
                        breached: w.breached,
                        decisive: w.decisive,
                        worst: w
                            .worst
                            .map(|b| {
                                Ok::<_, LoadError>(WindowBreach {
                                    start: from_secs(b.start_s, &what)?,
                                    end: from_secs(b.end_s, &what)?,
                                    measured: value(&b.measured)?,
                                    samples: b.samples,
                                })
                            })
                            .transpose()?,
                    })
                })
                .transpose()?,
            diagnostic: self.diagnostic,
            explanation: self.explanation,
            location: self.location.map(|l| Location {
                file: PathBuf::from(l.file),
                line: l.line,
                column: l.column,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::junit::Junit;
    use crate::report::markdown::Markdown;
    use crate::report::table;
    use crate::report::testdata::{
        empty_run, honest_run, inconclusive_run, invalid_run, partly_judged_run, sample_run,
    };

    fn render(run: &RunReport) -> Vec<u8> {
        Json.render(run).expect("renders")
    }

    fn text(run: &RunReport) -> String {
        String::from_utf8(render(run)).expect("UTF-8")
    }

    /// Every field of the domain value, histograms compared bucket by bucket.
    fn assert_same_run(a: &RunReport, b: &RunReport) {
        assert_eq!(a.slagate_version, b.slagate_version);
        assert_eq!(a.profile, b.profile);
        assert_eq!(a.target, b.target);
        assert_eq!(a.provenance, b.provenance);
        assert_eq!(a.started_at, b.started_at);
        assert_eq!(a.finished_at, b.finished_at);
        assert_eq!(a.window, b.window);
        assert_eq!(a.timeline, b.timeline);
        assert_eq!(a.verdict, b.verdict);
        assert_eq!(a.outcome, b.outcome);
        assert_eq!(a.endpoints.len(), b.endpoints.len());
        for (ea, eb) in a.endpoints.iter().zip(&b.endpoints) {
            assert_eq!((&ea.name, &ea.method), (&eb.name, &eb.method));
            assert_same_stats(&ea.name, &ea.stats, &eb.stats);
        }
        assert_same_stats(AGGREGATED, &a.total, &b.total);
        assert_eq!(a.flows.len(), b.flows.len());
        for (fa, fb) in a.flows.iter().zip(&b.flows) {
            assert_eq!(
                (&fa.name, &fa.steps, fa.once, &fa.label),
                (&fb.name, &fb.steps, fb.once, &fb.label)
            );
            assert_same_stats(&fa.name, &fa.stats, &fb.stats);
        }
    }

    /// Shard 2/3 of the sample run: no checks, its load health kept whole (an open model's,
    /// so every optional part is there), and an abort.
    fn shard_run() -> RunReport {
        use crate::stats::{Abort, LoadHealth, OpenHealth, Sparse};
        let mut run = sample_run();
        run.verdict.checks.clear();
        run.verdict.invalid.clear();
        run.outcome = RunOutcome::Shard;
        run.shard = Some(ShardInfo {
            shard: Shard::new(2, 3).unwrap(),
            run_id: Some("github-123-1".into()),
            start_at: Some(run.started_at - Duration::new(0, 4_000_123)),
            load: LoadHealth {
                users_planned: 4,
                users_started: 4,
                worst_spawn_delay: Duration::from_micros(1_234),
                wake_delay: Sparse(vec![(3, 10), (1_000, 2)]),
                cpu: vec![0.1, 1.0 / 3.0, 0.95],
                cores: 2,
                open: Some(OpenHealth {
                    send_lag: Sparse(vec![(200, 7)]),
                    max_in_flight: 34,
                    peak_in_flight: 9,
                }),
            },
            reached: 1_234,
            aborted: Some(Abort {
                at: Duration::from_millis(12_500),
                reason: "error rate 62% over the last 10 s (≥ 50%)".into(),
            }),
        });
        run
    }

    /// The sample run as `slagate merge` reports three shards of it.
    fn merged_run() -> RunReport {
        use crate::report::{Merged, MergedShard};
        let mut run = sample_run();
        run.merged = Some(Merged {
            run_id: None,
            shards: (1..=3)
                .map(|k| MergedShard {
                    shard: Shard::new(k, 3).unwrap(),
                    started_at: run.started_at + Duration::from_millis(u64::from(k)),
                    machine: (k != 2).then(|| "host (2 cores, linux x86_64)".into()),
                    requests: 100 * u64::from(k),
                    invalid: if k == 3 {
                        vec!["shard 3/3: cpu: its worker at 97% of a core for 4 s".into()]
                    } else {
                        Vec::new()
                    },
                })
                .collect(),
            skew: Duration::from_micros(2_500),
            max_skew: Duration::from_secs(1),
        });
        run
    }

    #[test]
    fn a_shard_says_so_and_is_never_read_as_judged() {
        let shard = shard_run();
        let text = text(&shard);
        assert!(text.contains("\"verdict\": \"shard\""), "{text}");
        // A file that claims to be a shard's verdict without its shard section, or a shard
        // that claims a verdict, contradicts itself.
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut unsharded = doc.clone();
        unsharded.as_object_mut().unwrap().remove("shard");
        assert!(load(&serde_json::to_vec(&unsharded).unwrap()).is_err());
        let mut judged = doc.clone();
        judged["verdict"] = "pass".into();
        assert!(load(&serde_json::to_vec(&judged).unwrap()).is_err());
        let mut foreign = doc;
        foreign["shard"]["index"] = 4.into();
        assert!(
            load(&serde_json::to_vec(&foreign).unwrap()).is_err(),
            "shard 4/3"
        );
    }

    /// The sample run with a flow over its first two endpoints, its iterations failed by a
    /// capture, and a failing budget on it.
    fn flow_run() -> RunReport {
        use crate::report::FlowReport;
        use crate::stats::{FailureKind, KindStats};
        use crate::verdict::Subject;
        let mut run = sample_run();
        let mut stats = run.endpoints[0].stats.clone();
        stats.failures_by_kind.push(KindStats {
            kind: FailureKind::Capture,
            count: 1,
            first_seen: Duration::from_secs(3),
            last_seen: Duration::from_secs(3),
            example: None,
        });
        stats.failures += 1;
        run.flows.push(FlowReport {
            name: "shopper".into(),
            steps: vec![run.endpoints[0].name.clone(), run.endpoints[1].name.clone()],
            once: 1,
            stats,
            label: "flow shopper".into(),
        });
        let mut check = run
            .verdict
            .checks
            .iter()
            .find(|c| matches!(c.metric, CheckMetric::Latency(_)))
            .expect("a latency check")
            .clone();
        check.subject = Subject::Flow(0);
        run.verdict.checks.push(check);
        run
    }

    fn assert_same_stats(name: &str, a: &EndpointStats, b: &EndpointStats) {
        assert_eq!(a.requests, b.requests, "{name}");
        assert_eq!(a.failures, b.failures, "{name}");
        assert_eq!(a.body_bytes, b.body_bytes, "{name}");
        assert_eq!(a.rps.to_bits(), b.rps.to_bits(), "{name}");
        assert_eq!(
            a.failures_per_s.to_bits(),
            b.failures_per_s.to_bits(),
            "{name}"
        );
        assert_eq!(a.failures_by_kind, b.failures_by_kind, "{name}");
        assert_eq!(a.latency, b.latency, "{name}: histogram");
        assert_eq!(a.min(), b.min(), "{name}");
        assert_eq!(a.max(), b.max(), "{name}");
        assert_eq!(a.mean(), b.mean(), "{name}");
    }

    #[test]
    fn snapshot_of_the_sample_run() {
        insta::assert_snapshot!(text(&sample_run()));
    }

    #[test]
    fn load_rebuilds_the_run_exactly() {
        for run in [
            sample_run(),
            partly_judged_run(),
            empty_run(),
            honest_run(),
            inconclusive_run(false),
            inconclusive_run(true),
            invalid_run(),
            flow_run(),
            shard_run(),
            merged_run(),
        ] {
            let bytes = render(&run);
            if run.shard.is_some() || run.merged.is_some() {
                assert_eq!(load(&bytes).unwrap().shard, run.shard);
                assert_eq!(load(&bytes).unwrap().merged, run.merged);
            }
            let loaded = load(&bytes).expect("loads");
            assert_same_run(&run, &loaded);
            assert_eq!(
                render(&loaded),
                bytes,
                "JSON re-rendered from the loaded run"
            );
            assert_eq!(
                table::render(&loaded),
                table::render(&run),
                "terminal report from the loaded run"
            );
            for (format, reporter) in [("junit", &Junit as &dyn Reporter), ("markdown", &Markdown)]
            {
                assert_eq!(
                    reporter.render(&loaded).unwrap(),
                    reporter.render(&run).unwrap(),
                    "{format} from the loaded run"
                );
            }
        }
    }

    #[test]
    fn awkward_values_survive_the_round_trip() {
        let mut run = sample_run();
        // Sub-second instants and durations, floats with no short decimal form, a
        // non-percentile budget, an interrupted run and an unusual failure kind.
        run.started_at += Duration::new(0, 123_456_789);
        run.finished_at += Duration::new(0, 987_654_321);
        run.window.start = Duration::new(2, 345_678_901);
        run.window.end = Duration::new(3 * 86_400, 1);
        if let LoadModel::Closed(c) = &mut run.profile.load {
            c.spawn_rate = 1.0 / 3.0;
        }
        run.profile.run_time = Duration::new(7, 999_999_999);
        run.profile.level = None;
        run.provenance.git_commit = None;
        run.outcome = RunOutcome::Interrupted;
        run.endpoints[0].stats.rps = 0.1 + 0.2;
        run.total.failures_per_s = std::f64::consts::PI;
        run.endpoints[2].stats.failures_by_kind[1].kind = FailureKind::LocalResource;
        run.endpoints[2].stats.failures_by_kind[1].example = None;
        let c = &mut run.verdict.checks[0];
        c.headroom = Some(-1.0 / 7.0);
        c.budget = Value::Latency(Duration::from_nanos(20_000_001));
        c.metric = CheckMetric::Latency(Metric::Percentile(Quantile::new(0.123_456_7).unwrap()));
        c.location = None;
        let bytes = render(&run);
        let loaded = load(&bytes).expect("loads");
        assert_same_run(&run, &loaded);
        assert_eq!(render(&loaded), bytes);
        assert_eq!(table::render(&loaded), table::render(&run));
    }

    proptest::proptest! {
        /// The promise in the module doc: below 2^51 ns, seconds and milliseconds written from
        /// whole nanoseconds read back as the same nanosecond.
        #[test]
        fn durations_round_trip(ns in 0u64..(1u64 << 51)) {
            let d = Duration::from_nanos(ns);
            proptest::prop_assert_eq!(from_secs(secs(d), "d").unwrap(), d);
            proptest::prop_assert_eq!(from_millis(units::ms(d), "d").unwrap(), d);
        }

        #[test]
        fn floats_round_trip_through_the_text(x in proptest::num::f64::NORMAL) {
            let text = serde_json::to_string(&x).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(back.to_bits(), x.to_bits());
        }
    }

    #[test]
    fn non_finite_numbers_are_refused_not_nulled() {
        let mut run = sample_run();
        run.verdict.checks[0].headroom = Some(f64::INFINITY);
        let err = Json.render(&run).unwrap_err();
        assert!(err.to_string().contains("inf"), "{err}");
    }

    #[test]
    fn another_schema_version_is_named_in_the_error() {
        let doc = text(&sample_run())
            .replacen(SCHEMA, "slagate.run/v1", 1)
            .replacen(
                "\"slagate_version\": \"0.1.0\"",
                "\"slagate_version\": \"9.9.0\"",
                1,
            );
        let err = load(doc.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this run report is schema slagate.run/v1, but this build of slagate reads \
             slagate.run/v4"
        );
        let help = miette::Diagnostic::help(&err)
            .expect("has help")
            .to_string();
        assert!(help.contains("slagate 9.9.0"), "{help}");
    }

    #[test]
    fn the_verdict_and_exit_code_follow_strict() {
        let doc =
            |run: &RunReport| serde_json::from_slice::<serde_json::Value>(&render(run)).unwrap();
        let lax = doc(&inconclusive_run(false));
        assert_eq!(
            (&lax["verdict"], &lax["exit_code"], &lax["strict"]),
            (&"inconclusive".into(), &0.into(), &false.into())
        );
        let strict = doc(&inconclusive_run(true));
        assert_eq!(
            (&strict["exit_code"], &strict["strict"]),
            (&4.into(), &true.into())
        );
        let invalid = doc(&invalid_run());
        assert_eq!(
            (&invalid["verdict"], &invalid["exit_code"]),
            (&"invalid".into(), &4.into())
        );
        assert_eq!(invalid["invalid"][0]["cause"], "cpu");
        let honest = doc(&honest_run());
        let check = |endpoint: &str, metric: &str| {
            honest["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["endpoint"] == endpoint && c["metric"] == metric)
                .unwrap()
                .clone()
        };
        assert_eq!(
            check("/orders/{id}", "p95")["interval"],
            serde_json::json!({"low": 289.279, "high": 622.591})
        );
        assert_eq!(
            check("/health/", "p99.9")["needs"],
            serde_json::json!({"samples": 2995, "rps": 40.0, "window_s": 80.0})
        );
        assert_eq!(
            check("/checkout", "p95")["windows"]["worst"]["start_s"],
            7.0
        );
        assert_eq!(check("all endpoints", "abort")["unit"], "s");
        assert_eq!(check("all endpoints", "abort")["measured"], 10.0);
        assert!(
            check("all endpoints", "max_error_rate")["explanation"][0]
                .as_str()
                .unwrap()
                .starts_with("the 14 failures came 4, 8 and 2")
        );
    }

    #[test]
    fn other_json_is_not_a_run_report() {
        assert!(matches!(load(b"{\"a\": 1}"), Err(LoadError::NoSchema)));
        assert!(matches!(load(b"[1, 2"), Err(LoadError::Json(_))));
        let damaged = text(&sample_run()).replacen("\"histogram\": \"", "\"histogram\": \"!", 1);
        match load(damaged.as_bytes()) {
            Err(LoadError::Invalid(what)) => assert!(what.contains("/health/"), "{what}"),
            other => panic!("expected Invalid, got {:?}", other.map(|_| ())),
        }
        let unknown = text(&sample_run()).replacen("\"timeout\"", "\"teleported\"", 1);
        assert!(matches!(
            load(unknown.as_bytes()),
            Err(LoadError::Invalid(_))
        ));
    }

    #[test]
    fn every_failure_kind_id_parses_back() {
        for kind in std::iter::once(FailureKind::Status(503)).chain(FailureKind::TRANSPORT) {
            assert_eq!(kind_from_id(&kind.id()), Some(kind));
        }
    }

    mod schema {
        use super::*;

        fn validator() -> jsonschema::Validator {
            let schema: serde_json::Value =
                serde_json::from_str(include_str!("../../schemas/slagate.run.v4.schema.json"))
                    .expect("the schema is JSON");
            jsonschema::meta::validate(&schema).expect("the schema is a valid JSON Schema");
            jsonschema::draft202012::options()
                .build(&schema)
                .expect("the schema compiles")
        }

        fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
            v.iter_errors(doc)
                .map(|e| format!("{}: {e}", e.instance_path))
                .collect()
        }

        #[test]
        fn rendered_runs_validate_against_the_committed_schema() {
            let v = validator();
            let mut interrupted = sample_run();
            interrupted.outcome = RunOutcome::Interrupted;
            interrupted.profile.level = None;
            interrupted.provenance.git_commit = None;
            for run in [
                sample_run(),
                empty_run(),
                interrupted,
                honest_run(),
                inconclusive_run(true),
                invalid_run(),
                super::flow_run(),
                super::shard_run(),
                super::merged_run(),
            ] {
                let doc: serde_json::Value = serde_json::from_slice(&render(&run)).unwrap();
                let errs = errors(&v, &doc);
                assert!(errs.is_empty(), "{errs:#?}");
            }
        }

        #[test]
        fn the_schema_rejects_what_it_should() {
            let v = validator();
            let good: serde_json::Value = serde_json::from_slice(&render(&sample_run())).unwrap();
            let broken = |f: &dyn Fn(&mut serde_json::Value)| {
                let mut doc = good.clone();
                f(&mut doc);
                errors(&v, &doc)
            };
            let missing_checks = broken(&|d| {
                d.as_object_mut().unwrap().remove("checks");
            });
            assert!(
                missing_checks.iter().any(|e| e.contains("checks")),
                "{missing_checks:?}"
            );
            assert!(!broken(&|d| d["verdict"] = "maybe".into()).is_empty());
            assert!(!broken(&|d| d["schema"] = "slagate.run/v1".into()).is_empty());
            assert!(!broken(&|d| d["checks"][0]["metric"] = "p".into()).is_empty());
            assert!(!broken(&|d| d["checks"][0]["status"] = "PASS".into()).is_empty());
            assert!(!broken(&|d| d["endpoints"][0]["extra"] = 1.into()).is_empty());
            assert!(!broken(&|d| d["checks"][0]["status"] = "marginal".into()).is_empty());
            assert!(
                !broken(&|d| d["checks"][0]["interval"] = serde_json::json!({"low": 1})).is_empty()
            );
            assert!(
                !broken(&|d| d["invalid"] =
                    serde_json::json!([{"cause": "moon", "figure": "", "message": ""}]))
                .is_empty()
            );
            assert!(!broken(&|d| d["exit_code"] = 2.into()).is_empty());
            let abort =
                serde_json::from_slice::<serde_json::Value>(&render(&honest_run())).unwrap();
            let last = abort["checks"].as_array().unwrap().len() - 1;
            let mut passing_abort = abort.clone();
            passing_abort["checks"][last]["status"] = "pass".into();
            assert!(errors(&v, &abort).is_empty());
            assert!(
                !errors(&v, &passing_abort).is_empty(),
                "an abort check always fails"
            );
        }
    }
}
