//! An existing Locust run as the pipeline's input (`slagate judge`): a new input stage beside
//! `config`, which stands in for `engine` by producing the `stats::Summary` that `verdict`
//! judges. Owns reading Locust 2.x's `--csv` files and `--json` output (`read`), matching its
//! rows to the plan's endpoints, and saying plainly what those files cannot give (intervals,
//! per-window percentiles, the generator's health). Knows no output format and judges nothing.
//!
//! Who may import it and whom it imports (a row of STYLE.md's table):
//!
//! | module  | may import  |
//! |---------|-------------|
//! | locust  | stats, plan (and `units`, which anyone may import) |
//!
//! Matching: a Locust row (`Type`, `Name`) is an SLA endpoint's when its Name is the endpoint's
//! `name` or its path (`path_and_query`, with or without the base URL's path), and its Type is
//! the endpoint's method (case-insensitively). Rows that match no endpoint are listed in a note
//! (they are still in Locust's Aggregated row); an endpoint without a row fails its coverage
//! check, and the diagnostic names the rows Locust wrote.
//!
//! Latency: from the CSV alone, the figures are Locust's written percentiles (50 … 100 %),
//! exact, without a confidence interval (`stats::Written`); a histogram is synthesised from
//! them for the charts (it reproduces Locust's figures at Locust's ranks, and is never read for
//! an interval). With `--json`, each endpoint's whole bucketed distribution becomes a real
//! histogram (µs), so any percentile and its interval are available at Locust's resolution.

pub mod read;

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::Histogram;
use miette::{NamedSource, SourceSpan};

use crate::plan::{Endpoint, Metric, Plan};
use crate::stats::{
    EndpointStats, FailureExample, FailureKind, KindStats, LoadHealth, SecondStats, Summary,
    TimelinePoint, Window, Written, new_histogram,
};
use crate::units;
pub use read::{Files, PERCENTILES, read, with_suffix};
use read::{JsonEntry, StatsRow};

/// Why a Locust run cannot be read or judged: exit 2, before anything is judged.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LocustError {
    #[error("cannot read {path}: {reason}")]
    #[diagnostic(
        code(slagate::locust::read),
        help(
            "give the PREFIX passed to `locust --csv PREFIX` (slagate reads PREFIX_stats.csv, \
             and PREFIX_stats_history.csv and PREFIX_failures.csv when present), or the file \
             `locust --json` printed to"
        )
    )]
    Read { path: String, reason: String },
    /// Boxed: the source text it carries would make every `Result` of the reader large.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Format(Box<FormatError>),
    #[error("Locust's CSV has no {}", budgets.join(", "))]
    #[diagnostic(
        code(slagate::locust::percentile),
        help(
            "Locust's CSV holds only the percentiles {available}; budget one of those, or pass \
             `--locust-json FILE` (what `locust --json` printed), whose full distribution gives \
             any percentile"
        )
    )]
    Percentile {
        /// "/analysis/ p97 (sla.toml:30:12)".
        budgets: Vec<String>,
        available: String,
    },
    #[error("a Locust run has no flow iterations to judge {}", budgets.join(", "))]
    #[diagnostic(
        code(slagate::locust::flow),
        help(
            "Locust's files time requests, not slagate's [[flow]]s: its steps' own budgets are \
             judged; remove the flow's `budget` to judge this run, or measure the flow with \
             `slagate check`"
        )
    )]
    FlowBudget {
        /// "flow shopper p95 (sla.toml:40:12)".
        budgets: Vec<String>,
    },
}

/// A file that is not what Locust writes, with its line labelled.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{path}:{line}: {message}")]
#[diagnostic(code(slagate::locust::format))]
pub struct FormatError {
    pub path: String,
    pub line: u64,
    pub message: String,
    #[help]
    pub help: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("here")]
    pub span: SourceSpan,
}

/// A Locust run, summarised as a run of slagate's own for `verdict::judge`, with what the
/// reports must say about where it came from.
#[derive(Debug, Clone)]
pub struct Import {
    pub summary: Summary,
    /// Locust's user count when its run ended (history), `None` when unknown.
    pub users: Option<u32>,
    /// Plain-words notes for every report: where the figures came from, what is missing.
    pub notes: Vec<String>,
    /// Plan endpoints that no Locust row matched, with the sentence their coverage check adds.
    pub unseen: Vec<(usize, String)>,
}

/// The percentiles Locust's CSV holds, as budget keys: "p50, p66, …, p99.99".
fn available() -> String {
    PERCENTILES
        .iter()
        .filter(|(q, _)| *q < 1.0)
        .map(|(_, l)| format!("p{}", l.trim_end_matches('%')))
        .collect::<Vec<_>>()
        .join(", ")
        + " (and max)"
}

/// Every budget must be at a percentile Locust wrote, unless its full distribution was given;
/// and no flow may have a budget (Locust's files hold no iterations to judge it on, and a
/// budget on nothing would either pass vacuously or fail for want of data).
pub fn check_budgets(plan: &Plan, files: &Files) -> Result<(), LocustError> {
    let flow_budgets: Vec<String> = plan
        .flows
        .iter()
        .flat_map(|f| f.budgets.iter().map(move |b| (f, b)))
        .map(|(f, b)| {
            format!(
                "flow {} {} ({}:{}:{})",
                f.name,
                b.metric,
                b.location.file.display(),
                b.location.line,
                b.location.column
            )
        })
        .collect();
    if !flow_budgets.is_empty() {
        return Err(LocustError::FlowBudget {
            budgets: flow_budgets,
        });
    }
    if files.json.is_some() {
        return Ok(());
    }
    let budgets: Vec<String> = plan
        .endpoints
        .iter()
        .flat_map(|ep| ep.budgets.iter().map(move |b| (ep, b)))
        .filter(|(_, b)| match b.metric {
            Metric::Max => false,
            Metric::Percentile(q) => !PERCENTILES.iter().any(|(p, _)| (p - q.get()).abs() < 1e-9),
        })
        .map(|(ep, b)| {
            format!(
                "{} {} ({}:{}:{})",
                ep.name,
                b.metric,
                b.location.file.display(),
                b.location.line,
                b.location.column
            )
        })
        .collect();
    if budgets.is_empty() {
        Ok(())
    } else {
        Err(LocustError::Percentile {
            budgets,
            available: available(),
        })
    }
}

/// Locust's user count when its run ended: the last non-zero count of its history's
/// Aggregated rows; `None` without a history.
pub fn final_users(files: &Files) -> Option<u32> {
    files
        .history
        .iter()
        .flatten()
        .filter(|r| r.method.is_empty() && r.name == "Aggregated")
        .map(|r| r.users)
        .rfind(|&u| u > 0)
}

/// Whether a Locust row (Type, Name) is this endpoint's.
fn matches(ep: &Endpoint, base_path: &str, method: &str, name: &str) -> bool {
    let path = ep.path_and_query.as_str();
    let relative = path
        .strip_prefix(base_path.trim_end_matches('/'))
        .unwrap_or(path);
    method.eq_ignore_ascii_case(ep.method.as_str())
        && (name == ep.name || name == path || name == relative)
}

fn ms(x: f64) -> Duration {
    if x.is_finite() && x > 0.0 {
        Duration::from_secs_f64(x / 1e3)
    } else {
        Duration::ZERO
    }
}

/// A histogram that reproduces Locust's written percentiles at Locust's ranks: the sorted
/// sample v with v[min(⌊N·p⌋, N−1)] = the p column (locust-formats.md §4.2), every rank up to
/// a percentile's filled with its value. For the charts only: never read for an interval.
fn synthesised(requests: u64, points: &[u64; 11]) -> Histogram<u64> {
    let mut h = new_histogram();
    if requests == 0 {
        return h;
    }
    let mut filled = 0u64; // ranks 0..filled hold a value
    for (i, (q, _)) in PERCENTILES.iter().enumerate() {
        let rank = ((requests as f64 * q) as u64).min(requests - 1);
        if rank + 1 > filled {
            h.saturating_record_n(points[i] * 1000, rank + 1 - filled);
            filled = rank + 1;
        }
    }
    h
}

/// One row of PREFIX_stats.csv as an endpoint's figures (points only).
fn from_row(row: &StatsRow) -> EndpointStats {
    let any = row.requests > 0;
    let written = Written {
        percentiles: row.percentiles.map_or_else(Vec::new, |p| {
            PERCENTILES
                .iter()
                .zip(p)
                .map(|(&(q, _), v)| (q, Duration::from_millis(v)))
                .collect()
        }),
        min: any.then(|| ms(row.min_ms)),
        max: any.then(|| ms(row.max_ms)),
        mean: any.then(|| ms(row.average_ms)),
    };
    EndpointStats {
        requests: row.requests,
        failures: row.failures,
        body_bytes: (row.average_size * row.requests as f64).round() as u64,
        latency: row
            .percentiles
            .map_or_else(new_histogram, |p| synthesised(row.requests, &p)),
        rps: row.rps,
        failures_per_s: row.failures_per_s,
        written: Some(written),
        ..EndpointStats::empty()
    }
}

/// One `--json` entry as an endpoint's figures: its whole bucketed distribution, in µs.
fn from_json(e: &JsonEntry) -> EndpointStats {
    let mut latency = new_histogram();
    for (bucket, &n) in &e.response_times {
        if let Ok(v) = bucket.parse::<f64>()
            && v.is_finite()
            && v >= 0.0
        {
            latency.saturating_record_n((v * 1000.0).round() as u64, n);
        }
    }
    let timed = e.num_requests.saturating_sub(e.num_none_requests);
    let span = e
        .last_request_timestamp
        .map_or(0.0, |last| (last - e.start_time).max(0.0));
    let rate = |n: u64| if span > 0.0 { n as f64 / span } else { 0.0 };
    EndpointStats {
        requests: e.num_requests,
        failures: e.num_failures,
        body_bytes: e.total_content_length,
        latency,
        rps: rate(e.num_requests),
        failures_per_s: rate(e.num_failures),
        written: Some(Written {
            percentiles: Vec::new(),
            min: e.min_response_time.map(ms),
            max: (timed > 0).then(|| ms(e.max_response_time)),
            mean: (timed > 0).then(|| ms(e.total_response_time / timed as f64)),
        }),
        ..EndpointStats::empty()
    }
}

/// What a Locust Error text says went wrong, as slagate counts failures.
pub fn failure_kind(error: &str) -> FailureKind {
    let status = |s: &str| {
        s.get(..3)
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|c| (100..=999).contains(c))
    };
    // HttpUser: HTTPError('503 Server Error: …'); FastHttpUser: BadStatusCode('…', code=503).
    if let Some(code) = error.strip_prefix("HTTPError('").and_then(status) {
        return FailureKind::Status(code);
    }
    if let Some(code) = error.split("code=").nth(1).and_then(status) {
        return FailureKind::Status(code);
    }
    let e = error.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| e.contains(w));
    if has(&["connectionrefused", "connection refused", "errno 111"]) {
        FailureKind::ConnectRefused
    } else if has(&["timeout", "timed out"]) {
        FailureKind::Timeout
    } else if has(&["reset by peer", "connectionreseterror"]) {
        FailureKind::Reset
    } else if has(&["remotedisconnected", "connection aborted", "closed"]) {
        FailureKind::Closed
    } else if has(&["ssl", "certificate"]) {
        FailureKind::Tls
    } else if has(&[
        "newconnectionerror",
        "name resolution",
        "max retries",
        "unreachable",
    ]) {
        FailureKind::Connect
    } else {
        FailureKind::Io
    }
}

/// Adds PREFIX_failures.csv's rows of one endpoint (or of all, for the total) as kinds with
/// an example each (Locust's Error text, redacted).
fn add_failures<'a>(
    st: &mut EndpointStats,
    rows: impl Iterator<Item = &'a read::FailureRow>,
    t0: u64,
    plan: &Plan,
) {
    for r in rows {
        let kind = failure_kind(&r.error);
        let at = |t: Option<u64>| Duration::from_secs(t.map_or(0, |t| t.saturating_sub(t0)));
        let (first, last) = (at(r.first_seen), at(r.last_seen.or(r.first_seen)));
        let text = plan.secrets.redact(&r.error).into_owned();
        match st.failures_by_kind.iter_mut().find(|k| k.kind == kind) {
            Some(k) => {
                k.count += r.occurrences;
                k.first_seen = k.first_seen.min(first);
                k.last_seen = k.last_seen.max(last);
            }
            None => st.failures_by_kind.push(KindStats {
                kind,
                count: r.occurrences,
                first_seen: first,
                last_seen: last,
                example: Some(FailureExample {
                    kind,
                    at: first,
                    text,
                }),
            }),
        }
        if let FailureKind::Status(code) = kind {
            st.add_status(code, r.occurrences);
        }
    }
    st.failures_by_kind
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
}

/// The Locust run as a `Summary` of `plan`'s endpoints, and the notes every report carries.
pub fn summarise(plan: &Plan, files: &Files) -> Import {
    let base_path = plan.target.base_url.path().to_string();
    let n = plan.endpoints.len();
    let mut notes = Vec::new();
    let find = |method: &str, name: &str| {
        plan.endpoints
            .iter()
            .position(|ep| matches(ep, &base_path, method, name))
    };

    // Endpoints: from --json when given (the final figures; the CSV's last snapshot is up to
    // a second older), else from PREFIX_stats.csv.
    let mut endpoints: Vec<Option<EndpointStats>> = vec![None; n];
    let mut unmatched = Vec::new();
    let mut seen = Vec::new();
    let mut take = |i: Option<usize>, method: &str, name: &str, requests: u64, st| {
        // Names are shown in notes and diagnostics: masked like everything else shown.
        let shown = plan
            .secrets
            .redact(&format!("{method} {name}"))
            .into_owned();
        match i {
            Some(i) if endpoints[i].is_none() => endpoints[i] = Some(st),
            _ => unmatched.push(format!("{shown} ({requests} requests)")),
        }
        seen.push(shown);
    };
    if let Some(json) = &files.json {
        for e in json {
            take(
                find(&e.method, &e.name),
                &e.method,
                &e.name,
                e.num_requests,
                from_json(e),
            );
        }
    } else {
        for row in &files.stats {
            take(
                find(&row.method, &row.name),
                &row.method,
                &row.name,
                row.requests,
                from_row(row),
            );
        }
    }

    // The time base: the history's first row (the process start), else the JSON's start.
    let history = files.history.as_deref().unwrap_or(&[]);
    let aggregated_history: Vec<&read::HistoryRow> = history
        .iter()
        .filter(|r| r.method.is_empty() && r.name == "Aggregated")
        .collect();
    let json_start = files.json.as_ref().and_then(|j| {
        j.iter()
            .map(|e| e.start_time)
            .filter(|t| t.is_finite() && *t > 0.0)
            .reduce(f64::min)
    });
    let t0 = aggregated_history
        .first()
        .map(|r| r.timestamp)
        .or(json_start.map(|t| t.floor() as u64))
        .unwrap_or(0);

    // Failures: PREFIX_failures.csv, by (method, name).
    for (i, st) in endpoints.iter_mut().enumerate() {
        if let Some(st) = st {
            let rows = files
                .failures
                .iter()
                .filter(|r| find(&r.method, &r.name) == Some(i));
            add_failures(st, rows, t0, plan);
        }
    }

    // The timeline, one point a second from t0.
    let mut timeline: Vec<TimelinePoint> = Vec::new();
    let point = |timeline: &mut Vec<TimelinePoint>, second: u64| -> usize {
        let s = second as usize;
        while timeline.len() <= s {
            timeline.push(TimelinePoint {
                second: timeline.len() as u32,
                users: 0,
                arrivals: 0,
                dropped: 0,
                endpoints: vec![SecondStats::default(); n],
                total: SecondStats::default(),
            });
        }
        s
    };
    let us = |ms: u64| Some(ms * 1000);
    // A history row at T counts the requests up to T: its deltas are the second that ends at
    // T, slot T − t0 − 1 (slot i covers [i s, i+1 s), as in a run of slagate's own, and as
    // --json's per-second counts, keyed by each request's whole second).
    let slot = |t: u64| t.saturating_sub(t0).saturating_sub(1);
    let mut prev = (0u64, 0u64);
    for r in &aggregated_history {
        let s = point(&mut timeline, slot(r.timestamp));
        let p = &mut timeline[s];
        p.users = r.users;
        p.total.requests += r.total_requests.saturating_sub(prev.0);
        p.total.failures += r.total_failures.saturating_sub(prev.1);
        if let Some(pc) = r.percentiles {
            (p.total.p50_us, p.total.p95_us, p.total.p99_us) = (us(pc[0]), us(pc[5]), us(pc[7]));
        }
        prev = (r.total_requests, r.total_failures);
    }
    // Per endpoint: the --json per-second counts, else the full history's rows.
    if let Some(json) = &files.json {
        for e in json {
            let Some(i) = find(&e.method, &e.name) else {
                continue;
            };
            for (per, fail) in [(&e.num_reqs_per_sec, false), (&e.num_fail_per_sec, true)] {
                for (sec, &count) in per {
                    let Ok(t) = sec.parse::<u64>() else { continue };
                    let s = point(&mut timeline, t.saturating_sub(t0));
                    let second = &mut timeline[s].endpoints[i];
                    if fail {
                        second.failures += count;
                    } else {
                        second.requests += count;
                    }
                }
            }
        }
        if aggregated_history.is_empty() {
            for p in &mut timeline {
                p.total.requests = p.endpoints.iter().map(|e| e.requests).sum();
                p.total.failures = p.endpoints.iter().map(|e| e.failures).sum();
            }
        }
    } else {
        let mut prev: Vec<(u64, u64)> = vec![(0, 0); n];
        for r in history.iter().filter(|r| !r.method.is_empty()) {
            let Some(i) = find(&r.method, &r.name) else {
                continue;
            };
            let s = point(&mut timeline, slot(r.timestamp));
            let second = &mut timeline[s].endpoints[i];
            second.requests += r.total_requests.saturating_sub(prev[i].0);
            second.failures += r.total_failures.saturating_sub(prev[i].1);
            if let Some(pc) = r.percentiles {
                (second.p50_us, second.p95_us, second.p99_us) = (us(pc[0]), us(pc[5]), us(pc[7]));
            }
            prev[i] = (r.total_requests, r.total_failures);
        }
    }

    // The total: Locust's Aggregated row (CSV), or every --json entry merged.
    let mut total = match (&files.json, &files.aggregated) {
        (None, Some(row)) => from_row(row),
        _ => {
            let mut t = EndpointStats::empty();
            let mut written = Written::default();
            let mut sum_ms = 0.0;
            for e in files.json.iter().flatten() {
                let st = from_json(e);
                t.requests += st.requests;
                t.failures += st.failures;
                t.body_bytes += st.body_bytes;
                t.rps += st.rps;
                t.failures_per_s += st.failures_per_s;
                t.latency.add(&st.latency).expect("same bounds");
                let w = st.written.unwrap_or_default();
                written.min = [written.min, w.min].into_iter().flatten().min();
                written.max = [written.max, w.max].into_iter().flatten().max();
                sum_ms += e.total_response_time;
            }
            let timed = t.latency.len();
            written.mean = (timed > 0).then(|| ms(sum_ms / timed as f64));
            t.written = Some(written);
            t
        }
    };
    add_failures(&mut total, files.failures.iter(), t0, plan);

    // The measured window: from when the user count reached its final value.
    let duration = |files: &Files| -> Duration {
        if let Some(a) = &files.aggregated
            && a.rps > 0.0
        {
            return Duration::from_secs_f64(a.requests as f64 / a.rps);
        }
        let last = files
            .json
            .iter()
            .flatten()
            .filter_map(|e| e.last_request_timestamp)
            .reduce(f64::max);
        match (last, json_start) {
            (Some(l), Some(s)) if l > s => Duration::from_secs_f64(l - s),
            _ => Duration::ZERO,
        }
    };
    let users = final_users(files);
    let window = match (aggregated_history.first(), aggregated_history.last(), users) {
        (Some(_), Some(last), Some(final_users)) => {
            let from = aggregated_history
                .iter()
                .find(|r| r.users == final_users)
                .expect("the final count is in the history");
            let secs = last.timestamp.saturating_sub(from.timestamp);
            let requests = last.total_requests.saturating_sub(from.total_requests);
            let failures = last.total_failures.saturating_sub(from.total_failures);
            if secs > 0 {
                total.rps = requests as f64 / secs as f64;
                total.failures_per_s = failures as f64 / secs as f64;
            }
            let window = Window {
                start: Duration::from_secs(from.timestamp - t0),
                end: Duration::from_secs(last.timestamp - t0),
            };
            notes.push(format!(
                "Measured window {}–{}: from when Locust's user count reached its final {} \
                 (its history file) to its last row; req/s is over that window ({} requests \
                 in {} s). Latency percentiles and the error rate are Locust's whole-run \
                 figures, ramp-up included: its files hold no per-window percentiles.",
                units::offset(window.start),
                units::offset(window.end),
                final_users,
                requests,
                secs
            ));
            window
        }
        _ => {
            let end = duration(files);
            notes.push(
                "No Locust history file (PREFIX_stats_history.csv): the measured window is the \
                 whole run, ramp-up included, and the user count is unknown."
                    .to_string(),
            );
            Window {
                start: Duration::ZERO,
                end,
            }
        }
    };

    let source = files
        .read
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    notes.insert(
        0,
        format!(
            "Read from {source}. slagate's generator checks (INVALID: spawn, CPU, wake-up, \
             send lag) do not apply to a load slagate did not make and were not judged; the \
             profile chose only the level judged."
        ),
    );
    notes.push(if files.json.is_some() {
        "Latency from Locust's --json distribution, at its resolution (1 ms below 100 ms, \
         10 ms to 1 s, 100 ms to 10 s, 1 s above): percentiles and their 95% intervals are \
         read from it; min, max and mean are Locust's exact figures."
            .to_string()
    } else {
        "No interval: Locust's CSV gives percentiles only. Each percentile check is judged on \
         the figure Locust wrote (50% … 100%), is INCONCLUSIVE on fewer samples than would \
         bound it (299 for p99), and is never marginal; pass --locust-json for intervals."
            .to_string()
    });
    notes.push(
        "Locust does not count answers by status code: only failed requests' statuses are \
         shown."
            .to_string(),
    );
    if plan.level.as_ref().is_some_and(|l| l.window.is_some()) {
        notes.push(
            "Per-window latency checks need per-second latencies, which Locust's files do not \
             hold: only the error rate is judged per window."
                .to_string(),
        );
    }
    if !unmatched.is_empty() {
        notes.push(format!(
            "Locust rows that match no SLA endpoint (in Locust's Aggregated figures only): {}.",
            unmatched.join(", ")
        ));
    }
    let mut unseen = Vec::new();
    let endpoints: Vec<EndpointStats> = endpoints
        .into_iter()
        .enumerate()
        .map(|(i, st)| {
            st.unwrap_or_else(|| {
                let ep = &plan.endpoints[i];
                let mut text = format!(
                    "no Locust row is named {} (or its path {}) with method {}",
                    ep.name, ep.path_and_query, ep.method
                );
                let _ = write!(
                    text,
                    "; Locust's rows: {}",
                    if seen.is_empty() {
                        "none".to_string()
                    } else {
                        seen.join(", ")
                    }
                );
                unseen.push((i, text));
                EndpointStats::empty()
            })
        })
        .collect();
    let end = window.end;
    Import {
        summary: Summary {
            started_at: UNIX_EPOCH + Duration::from_secs(t0),
            run_time: end,
            stopped_at: end,
            finished_at: end,
            window,
            reached: total.requests,
            endpoints,
            // Locust's files hold requests, not flow iterations: flows have no rows (and no
            // budgets, see `check_budgets`).
            flows: Vec::new(),
            total,
            timeline,
            load: LoadHealth::default(),
            connections: Default::default(),
            aborted: None,
        },
        users,
        notes,
        unseen,
    }
}

#[cfg(test)]
mod tests;
