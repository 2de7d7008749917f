//! The terminal report: Locust's request and percentile tables, the SLA table (each percentile
//! with its 95 % confidence interval), a miette-rendered diagnostic per failing, marginal and
//! inconclusive check with its explanation lines, why a run is INVALID, a loud warning for an
//! INCONCLUSIVE run, and the verdict line. Also the cell texts every other format reuses, so
//! that all of them show the same words and numbers.

use std::fmt::Write as _;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, Severity};

use super::{RenderError, Reporter, RunOutcome, RunReport};
use crate::plan::LoadModel;
use crate::stats::EndpointStats;
use crate::units;
use crate::verdict::{Check, CheckMetric, Invalidity, Status, Value, fmt_estimate};

/// Locust's percentile columns.
pub use crate::stats::LOCUST_PERCENTILES;

/// The terminal format. `color` is the caller's decision (a terminal, and `NO_COLOR` unset):
/// the reporter itself reads no environment.
pub struct Terminal {
    pub color: bool,
}

impl Reporter for Terminal {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        Ok(render_with(run, self.color).into_bytes())
    }
}

/// Diagnostics wrap at this width: CI logs are wider than 80 columns, and a fixed width keeps
/// the output the same wherever it is rendered.
const DIAGNOSTIC_WIDTH: usize = 100;

fn new_table(header: Vec<&str>, right_from: usize) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        // CI logs are not terminals: never wrap a row into an unreadable staircase.
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.clone());
    for i in right_from..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// Milliseconds as Locust shows them, with a decimal below 10 ms where integers would hide
/// everything.
pub fn ms(d: Option<Duration>) -> String {
    match d {
        None => "—".into(),
        Some(d) => {
            let ms = d.as_secs_f64() * 1000.0;
            if ms < 10.0 {
                format!("{ms:.1}")
            } else {
                format!("{ms:.0}")
            }
        }
    }
}

pub fn request_row(kind: &str, name: &str, s: &EndpointStats) -> Vec<String> {
    let fail_pct = if s.requests == 0 {
        0.0
    } else {
        s.failures as f64 * 100.0 / s.requests as f64
    };
    vec![
        kind.to_string(),
        name.to_string(),
        s.requests.to_string(),
        format!("{} ({:.2}%)", s.failures, fail_pct),
        ms(s.mean()),
        ms(s.min()),
        ms(s.max()),
        ms(s.quantile(0.5)),
        format!("{:.2}", s.rps),
        format!("{:.2}", s.failures_per_s),
    ]
}

pub fn percentile_row(kind: &str, name: &str, s: &EndpointStats) -> Vec<String> {
    let mut row = vec![kind.to_string(), name.to_string()];
    row.extend(LOCUST_PERCENTILES.iter().map(|(q, _)| ms(s.quantile(*q))));
    row.push(s.latency.len().to_string());
    row
}

/// The header of the percentile tables' count column: the requests that have a response
/// time (an answer, or a timeout), which is what the percentiles are of.
pub const TIMED_HEADER: &str = "# timed";

/// "200 × 1432 · 302 × 4": an endpoint's answers by status code; "—" without any.
pub fn statuses_text(s: &EndpointStats) -> String {
    if s.statuses.is_empty() {
        return "—".into();
    }
    s.statuses
        .iter()
        .map(|(status, n)| format!("{status} × {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Name, answers by status, and requests that got no answer at all.
pub fn answers_row(kind: &str, name: &str, s: &EndpointStats) -> Vec<String> {
    vec![
        kind.to_string(),
        name.to_string(),
        statuses_text(s),
        s.unanswered().to_string(),
    ]
}

/// The answers table's header.
pub const ANSWERS_HEADER: [&str; 4] = ["Type", "Name", "Answers by status code", "No answer"];

/// The terminal report without colour (what tests and `slagate report` compare).
pub fn render(run: &RunReport) -> String {
    render_with(run, false)
}

pub fn render_with(run: &RunReport, color: bool) -> String {
    let mut out = String::new();
    let origin = origin_lines(run);
    if !origin.is_empty() {
        let _ = writeln!(out, "{}\n", origin.join("\n"));
    }
    let w = run.window;
    let _ = writeln!(
        out,
        "Request statistics — measured window {}–{} ({}, ramp-up excluded), times in ms",
        units::offset(w.start),
        units::offset(w.end),
        units::length(w.length())
    );
    let mut t = new_table(
        vec![
            "Type",
            "Name",
            "# reqs",
            "# fails",
            "Avg",
            "Min",
            "Max",
            "Med",
            "req/s",
            "failures/s",
        ],
        2,
    );
    for e in &run.endpoints {
        t.add_row(request_row(&e.method, &e.name, &e.stats));
    }
    t.add_row(request_row("", "Aggregated", &run.total));
    let _ = writeln!(out, "{t}");
    if let Some(note) = once_note(run) {
        let _ = writeln!(out, "{note}");
    }
    let _ = writeln!(out);

    // Every answer by its status, accepted or not: a 302 to a login page or a 204 where a
    // body was expected is visible here, not only in the failure counts.
    let _ = writeln!(out, "Answers by status code (redirects are not followed)");
    let mut t = new_table(ANSWERS_HEADER.to_vec(), 2);
    for e in &run.endpoints {
        t.add_row(answers_row(&e.method, &e.name, &e.stats));
    }
    t.add_row(answers_row("", "Aggregated", &run.total));
    let _ = writeln!(out, "{t}\n");
    let connections = connection_lines(run);
    if !connections.is_empty() {
        let _ = writeln!(out, "{}\n", connections.join("\n"));
    }

    let _ = writeln!(
        out,
        "Response time percentiles (ms) of requests that got an answer or timed out"
    );
    let mut header = vec!["Type", "Name"];
    header.extend(LOCUST_PERCENTILES.iter().map(|(_, l)| *l));
    header.push(TIMED_HEADER);
    let mut t = new_table(header, 2);
    for e in &run.endpoints {
        t.add_row(percentile_row(&e.method, &e.name, &e.stats));
    }
    t.add_row(percentile_row("", "Aggregated", &run.total));
    let _ = writeln!(out, "{t}\n");
    if run.arrivals.is_some() {
        let _ = writeln!(
            out,
            "Service time percentiles (ms): the same requests from their actual write (the \
             latency above counts from each arrival's intended send time)"
        );
        let mut header = vec!["Type", "Name"];
        header.extend(LOCUST_PERCENTILES.iter().map(|(_, l)| *l));
        let mut t = new_table(header, 2);
        for e in &run.endpoints {
            t.add_row(service_row(&e.method, &e.name, &e.stats));
        }
        t.add_row(service_row("", "Aggregated", &run.total));
        let _ = writeln!(out, "{t}\n");
    }
    let arrivals = arrival_lines(run);
    if !arrivals.is_empty() {
        let _ = writeln!(out, "{}\n", arrivals.join("\n"));
    }
    if !run.flows.is_empty() {
        let _ = writeln!(out, "{FLOWS_TITLE}");
        let mut t = new_table(FLOW_HEADER.to_vec(), 2);
        for f in &run.flows {
            t.add_row(flow_row(f));
        }
        let _ = writeln!(out, "{t}\n");
    }

    // A shard has no checks (the merge judges): no empty table, only its verdict line below.
    if run.outcome != RunOutcome::Shard {
        let _ = writeln!(out, "{}", sla_title(run));
        let _ = writeln!(out, "{}", checks_table(run));
    }

    let handler = GraphicalReportHandler::new_themed(if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    })
    .with_width(DIAGNOSTIC_WIDTH)
    // miette's wrapping breaks words at `/` and `-`, tearing endpoint paths apart; the text is
    // wrapped here, at spaces only.
    .with_wrap_lines(false);
    let sections = [
        (Status::Fail, false, "Why it failed:", Severity::Error),
        (
            Status::Pass,
            true,
            "Marginal (within budget, but the budget lies inside the 95% confidence interval):",
            Severity::Advice,
        ),
        (
            Status::Inconclusive,
            false,
            "Too few samples to decide (INCONCLUSIVE):",
            Severity::Warning,
        ),
    ];
    for (status, marginal, title, severity) in sections {
        let checks: Vec<&Check> = run
            .verdict
            .checks
            .iter()
            .filter(|c| c.status == status && (c.marginal || !marginal))
            .collect();
        if checks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        for c in checks {
            let d = CheckDiagnostic::new(
                &format!("{}: {}", check_name(run, c), c.diagnostic),
                severity,
                &c.explanation,
            );
            render_diagnostic(&handler, &d, &mut out);
        }
    }
    if !run.verdict.invalid.is_empty() {
        let _ = writeln!(out, "\n{INVALID_TITLE}");
        for inv in &run.verdict.invalid {
            let figure = [format!("{}: {}", inv.cause, inv.figure)];
            let d = CheckDiagnostic::new(&inv.message, Severity::Error, &figure);
            render_diagnostic(&handler, &d, &mut out);
        }
    }
    if let Some(warning) = inconclusive_warning(run) {
        let _ = writeln!(out, "\n{warning}");
    }
    if let Some(warning) = insecure_warning(run) {
        let _ = writeln!(out, "\n{warning}");
    }
    let _ = writeln!(out, "\n{}", verdict_line(run));
    out
}

/// Endpoints sent only as a flow's `once` steps are counted over the whole run (see
/// `stats::Recording::whole_run`): say so under the request table.
pub fn once_note(run: &RunReport) -> Option<String> {
    let mut once: Vec<&str> = Vec::new();
    for f in &run.flows {
        for name in &f.steps[..f.once.min(f.steps.len())] {
            let repeated = run
                .flows
                .iter()
                .any(|g| g.steps[g.once.min(g.steps.len())..].contains(name));
            if !repeated && !once.contains(&name.as_str()) {
                once.push(name);
            }
        }
    }
    (!once.is_empty()).then(|| {
        format!(
            "{}: a flow's `once` step{}, counted over the whole run (ramp-up included), when              each user runs {}",
            once.join(", "),
            if once.len() == 1 { "" } else { "s" },
            if once.len() == 1 { "it" } else { "them" }
        )
    })
}

/// The flows table's title, in every format that has one.
pub const FLOWS_TITLE: &str = "Flows — one iteration is one pass of the steps (with the `once` \
     steps when it ran them); its time is the steps' response times added up, think time left \
     out; times in ms";

/// The flows table's header.
pub const FLOW_HEADER: [&str; 10] = [
    "Flow",
    "Steps",
    "# iterations",
    "# failed",
    "iterations/s",
    "Med",
    "95%",
    "99%",
    "Max",
    TIMED_HEADER,
];

/// "once: login · then: profile → orders".
pub fn flow_steps_text(f: &crate::report::FlowReport) -> String {
    let (once, steps) = f.steps.split_at(f.once.min(f.steps.len()));
    let steps = steps.join(" → ");
    if once.is_empty() {
        steps
    } else {
        format!("once: {} · then: {steps}", once.join(", "))
    }
}

/// One flow's row of the flows table.
pub fn flow_row(f: &crate::report::FlowReport) -> Vec<String> {
    let s = &f.stats;
    let fail_pct = if s.requests == 0 {
        0.0
    } else {
        s.failures as f64 * 100.0 / s.requests as f64
    };
    vec![
        f.name.clone(),
        flow_steps_text(f),
        s.requests.to_string(),
        format!("{} ({:.2}%)", s.failures, fail_pct),
        format!("{:.2}", s.rps),
        ms(s.quantile(0.5)),
        ms(s.quantile(0.95)),
        ms(s.quantile(0.99)),
        ms(s.max()),
        s.latency.len().to_string(),
    ]
}

/// One row of the service-time table (open model).
pub fn service_row(kind: &str, name: &str, s: &EndpointStats) -> Vec<String> {
    let mut row = vec![kind.to_string(), name.to_string()];
    row.extend(
        LOCUST_PERCENTILES
            .iter()
            .map(|&(q, _)| ms(s.service_quantile(q))),
    );
    row
}

/// An open run's delivery in two plain lines (empty for a closed run): what the schedule
/// asked for in the measured window against what was sent and dropped, and how late arrivals
/// went out. Shared by every format.
pub fn arrival_lines(run: &RunReport) -> Vec<String> {
    let Some(a) = &run.arrivals else {
        return Vec::new();
    };
    let d = &a.delivery;
    let lag = |q: f64| a.send_lag(q).map_or_else(|| "—".into(), units::duration);
    vec![
        format!(
            "Arrivals (open model): {} of {} sent in the measured window ({}/s asked for, {}/s \
             sent), {} dropped; at most {} in flight (max_in_flight {})",
            d.sent,
            d.asked,
            units::rate(a.requested_rps()),
            units::rate(a.achieved_rps()),
            d.dropped,
            a.peak_in_flight,
            a.max_in_flight
        ),
        format!(
            "Send lag (actual − intended send time): p50 {}, p99 {}, max {}",
            lag(0.5),
            lag(0.99),
            lag(1.0)
        ),
    ]
}

/// The run's connections in three plain lines (empty when no connection was attempted):
/// counts, what was negotiated, and what set-up took. Shared by every format.
pub fn connection_lines(run: &RunReport) -> Vec<String> {
    let c = &run.connections;
    if c.opened == 0 && c.failed == 0 {
        return Vec::new();
    }
    let mut counts = format!(
        "{} opened ({})",
        c.opened,
        units::plural(c.reconnects, "reconnect", "reconnects")
    );
    // Only what happened: a clean run's line stays short.
    let events = [
        (c.failed, "failed attempt", "failed attempts", ""),
        (c.resumed, "resumed TLS session", "resumed TLS sessions", ""),
        (
            c.retried,
            "request written",
            "requests written",
            " again on a new connection after the server closed the idle one",
        ),
        (
            c.goaways,
            "HTTP/2 connection",
            "HTTP/2 connections",
            " ended by the server (GOAWAY)",
        ),
    ];
    for (n, one, many, rest) in events {
        if n > 0 {
            counts.push_str(&format!(", {}{rest}", units::plural(n, one, many)));
        }
    }
    let listed = |list: &[(String, u64)]| {
        list.iter()
            .map(|(name, n)| format!("{name} × {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut negotiated = listed(&c.protocols);
    match c.verified {
        None => negotiated.push_str(", cleartext"),
        Some(verified) => {
            negotiated.push_str(&format!(" over {}", listed(&c.tls_versions)));
            if !c.ciphers.is_empty() {
                negotiated.push_str(&format!(" ({})", listed(&c.ciphers)));
            }
            negotiated.push_str(if verified {
                ", certificates verified"
            } else {
                ", certificates NOT verified (--insecure)"
            });
        }
    }
    let summary = |s: &crate::stats::Sparse| {
        let mut h = crate::stats::new_histogram();
        s.add_to(&mut h);
        (!h.is_empty()).then(|| {
            let at = |q: f64| units::duration(Duration::from_micros(h.value_at_quantile(q)));
            format!("p50 {} · p99 {} · max {}", at(0.5), at(0.99), at(1.0))
        })
    };
    let mut setup = match summary(&c.setup) {
        Some(s) => format!("set-up {s}"),
        None => "no connection was set up".to_string(),
    };
    if let (Some(tcp), Some(tls)) = (summary(&c.tcp), summary(&c.tls)) {
        setup.push_str(&format!(" (TCP {tcp}; TLS {tls})"));
    }
    vec![
        format!("Connections: {counts}"),
        format!("Protocol: {negotiated}"),
        format!("Connection {setup}; not in any request's latency"),
    ]
}

/// What every format says first about where a run's load came from, when not from one
/// slagate process: another tool's (`slagate judge`), one shard's part, or the shards'
/// together (`slagate merge`).
pub fn origin_lines(run: &RunReport) -> Vec<String> {
    let mut lines = imported_lines(run);
    if let Some(s) = &run.shard {
        let (k, n) = (s.shard.index + 1, s.shard.count);
        let every = format!("{k}, {}, {}, …", k + n, k + 2 * n);
        let part = match &run.profile.load {
            LoadModel::Closed(c) => format!(
                "its part is users {every} ({} of {})",
                s.shard.share(u64::from(c.users)),
                c.users
            ),
            LoadModel::Open(_) => format!("its part is arrivals {every} of the one schedule"),
        };
        lines.push(format!(
            "ⓘ Shard {}{} ({part}): not judged on its own; `slagate merge` judges the shards \
             together.",
            s.shard,
            s.run_id
                .as_ref()
                .map(|id| format!(" of run {id}"))
                .unwrap_or_default()
        ));
    }
    if let Some(m) = &run.merged {
        let shards: Vec<String> = m
            .shards
            .iter()
            .map(|s| {
                format!(
                    "{} {} ({})",
                    s.shard,
                    units::plural(s.requests, "request", "requests"),
                    humantime::format_rfc3339_millis(s.started_at)
                )
            })
            .collect();
        lines.push(format!(
            "ⓘ Merged from {} shards{}, started within {} (INVALID beyond {}): {}.",
            m.shards.len(),
            m.run_id
                .as_ref()
                .map(|id| format!(" of run {id}"))
                .unwrap_or_default(),
            units::duration(m.skew),
            units::duration(m.max_skew),
            shards.join(", ")
        ));
    }
    lines
}

/// Who made an imported run's load, with how many users, and what that tool's files could
/// not give.
fn imported_lines(run: &RunReport) -> Vec<String> {
    let Some(i) = &run.imported else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "ⓘ Judged from a {} run: the load was made by {}, with {}; the profile's load shape \
         ({}) was not what drove it.",
        i.tool,
        i.tool,
        match i.users {
            Some(u) => units::plural(u64::from(u), "user", "users"),
            None => "an unknown number of users".to_string(),
        },
        run.profile.load.short()
    )];
    lines.extend(i.notes.iter().map(|n| format!("ⓘ {n}")));
    lines
}

/// The warning every format carries when certificates were not verified.
pub fn insecure_warning(run: &RunReport) -> Option<String> {
    (run.connections.verified == Some(false)).then(|| {
        "⚠ WARNING: TLS certificates were NOT verified (--insecure / tls.insecure): the run \
         cannot tell the service from anything else answering at that address; do not sign a \
         release off on it"
            .to_string()
    })
}

/// The SLA table's measurement column: the bracket is the 95 % confidence interval.
pub const MEASURED_HEADER: &str = "Measured [95% CI]";

/// Heading of the INVALID section, in every format.
pub const INVALID_TITLE: &str = "The run is INVALID: the load generator did not deliver the \
     profile, so these results say nothing about the service (it was not at fault):";

fn render_diagnostic(handler: &GraphicalReportHandler, d: &CheckDiagnostic, out: &mut String) {
    let mut text = String::new();
    if handler.render_report(&mut text, d).is_err() {
        // Rendering into a String cannot fail; keep the words if it somehow does.
        text = format!("  {d}\n");
    }
    out.push_str(text.trim_end());
    out.push('\n');
}

/// A check (or an invalidity) as a miette diagnostic: the message, then each explanation line
/// as a link of the source chain, which the graphical handler draws as `├─▶` bullets.
#[derive(Debug)]
struct CheckDiagnostic {
    message: String,
    severity: Severity,
    lines: Option<Box<Chain>>,
}

impl CheckDiagnostic {
    fn new(message: &str, severity: Severity, lines: &[String]) -> CheckDiagnostic {
        // "  × " before the message, "  ├─▶ " before each line.
        let lines: Vec<String> = lines
            .iter()
            .map(|l| wrap(l, DIAGNOSTIC_WIDTH - 6))
            .collect();
        CheckDiagnostic {
            message: wrap(message, DIAGNOSTIC_WIDTH - 4),
            severity,
            lines: Chain::new(&lines),
        }
    }
}

/// Greedy wrapping at spaces only: a word longer than the width keeps its own line whole.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let mut column = 0;
        for word in line.split(' ') {
            let len = word.chars().count();
            if column > 0 && column + 1 + len > width {
                out.push('\n');
                column = 0;
            } else if column > 0 {
                out.push(' ');
                column += 1;
            }
            out.push_str(word);
            column += len;
        }
    }
    out
}

impl std::fmt::Display for CheckDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CheckDiagnostic {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.lines.as_deref().map(|c| c as _)
    }
}

impl Diagnostic for CheckDiagnostic {
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
}

/// One explanation line and the ones after it.
#[derive(Debug)]
struct Chain {
    line: String,
    next: Option<Box<Chain>>,
}

impl Chain {
    fn new(lines: &[String]) -> Option<Box<Chain>> {
        lines.iter().rev().fold(None, |next, line| {
            Some(Box::new(Chain {
                line: line.clone(),
                next,
            }))
        })
    }
}

impl std::fmt::Display for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

impl std::error::Error for Chain {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.next.as_deref().map(|c| c as _)
    }
}

/// `/health/ p95 < 20 ms`: the check as the sla file states it.
pub fn check_name(run: &RunReport, c: &Check) -> String {
    format!(
        "{} {} {}",
        run.subject_name(&c.subject),
        c.metric,
        budget_text(c.metric, c.budget)
    )
}

/// The measurement with its 95 % interval: `212 ms [198, 231]`; `stopped at 0:42`; `—`.
pub fn measured_text(c: &Check) -> String {
    match (c.metric, c.measured) {
        (_, None) => "—".into(),
        (CheckMetric::Abort, Some(Value::Offset(at))) => {
            format!("stopped at {}", units::offset(at))
        }
        (_, Some(Value::Latency(d))) => fmt_estimate(d, c.interval),
        (_, Some(v)) => value_text(v),
    }
}

pub fn headroom_text(c: &Check) -> String {
    c.headroom
        .map_or_else(|| "—".into(), |h| format!("{:+.0}%", h * 100.0))
}

/// `PASS`, `PASS (marginal)`, `FAIL`, `FAIL (window 2:00–2:30)`, `INCONCLUSIVE`.
pub fn result_text(c: &Check) -> String {
    match c.status {
        Status::Pass if c.marginal => "PASS (marginal)".into(),
        Status::Pass => "PASS".into(),
        Status::Inconclusive => "INCONCLUSIVE".into(),
        Status::NotJudged => "not judged".into(),
        Status::Fail => match breached_window(c) {
            Some(span) => format!("FAIL (window {span})"),
            None => "FAIL".into(),
        },
    }
}

/// The worst window of a check that failed only per window (its whole measured window was
/// within the limit): `2:00–2:30`.
pub fn breached_window(c: &Check) -> Option<String> {
    let w = c.windows.filter(|w| w.decisive)?.worst?;
    Some(format!(
        "{}–{}",
        units::offset(w.start),
        units::offset(w.end)
    ))
}

/// The loud warning an INCONCLUSIVE run prints above its verdict line.
pub fn inconclusive_warning(run: &RunReport) -> Option<String> {
    if run.outcome != RunOutcome::Inconclusive {
        return None;
    }
    let n = run.verdict.count(Status::Inconclusive);
    let longest = run
        .verdict
        .checks
        .iter()
        .filter_map(|c| c.needs.and_then(|n| n.window))
        .max();
    let run_longer = match longest {
        Some(w) => format!(
            "a measured window of about {} would decide {}",
            units::length(w),
            if n == 1 { "it" } else { "all of them" }
        ),
        None => "run longer or with more users".into(),
    };
    let consequence = if run.strict {
        "--strict is set: this run exits 4"
    } else {
        "This run exits 0; pass --strict (for release sign-off) to make it exit 4"
    };
    Some(format!(
        "⚠ WARNING: {n} check{} INCONCLUSIVE: within budget on too few samples to show it at \
         95% confidence. This run does not prove {}; {run_longer}. {consequence}.",
        if n == 1 { " is" } else { "s are" },
        if n == 1 {
            "that budget"
        } else {
            "those budgets"
        },
    ))
}

/// The SLA checks table.
fn checks_table(run: &RunReport) -> Table {
    let mut t = new_table(
        vec![
            "Endpoint",
            "Metric",
            "Budget",
            MEASURED_HEADER,
            "Headroom",
            "Samples",
            "Result",
        ],
        2,
    );
    for c in &run.verdict.checks {
        t.add_row(vec![
            run.subject_name(&c.subject).to_string(),
            c.metric.to_string(),
            budget_text(c.metric, c.budget),
            measured_text(c),
            headroom_text(c),
            c.samples.to_string(),
            result_text(c),
        ]);
    }
    t
}

pub fn sla_title(run: &RunReport) -> String {
    match &run.profile.level {
        Some(level) => format!("SLA checks — profile {}, level {level}", run.profile.name),
        None => format!(
            "SLA checks — profile {} (no [level.{}] in the sla file: no min_rps, the default \
             error ceiling)",
            run.profile.name, run.profile.name
        ),
    }
}

pub fn budget_text(metric: CheckMetric, budget: Value) -> String {
    match (metric, budget) {
        (CheckMetric::Coverage, _) => "≥ 1 success".into(),
        (CheckMetric::Abort, Value::Offset(d)) => format!("run to {}", units::offset(d)),
        (CheckMetric::MinRps, v) => format!("≥ {}", value_text(v)),
        (_, Value::Latency(d)) => format!("< {}", units::duration(d)),
        (_, v) => format!("≤ {}", value_text(v)),
    }
}

pub fn value_text(v: Value) -> String {
    match v {
        Value::Latency(d) => units::duration(d),
        Value::Rate(r) => format!("{r:.1} req/s"),
        Value::Fraction(f) => units::percent(f),
        Value::Count(n) => format!("{n} ok"),
        Value::Offset(d) => units::offset(d),
    }
}

/// The one line a CI log reader looks for.
pub fn verdict_line(run: &RunReport) -> String {
    let v = &run.verdict;
    let n = v.judged_count();
    let failed = v.failed_count();
    let inconclusive = v.count(Status::Inconclusive);
    let marginal = v.marginal_count();
    // An imported run's load was the other tool's, not the profile's shape.
    let load = match &run.imported {
        None => run.profile.load.short(),
        Some(i) => match i.users {
            Some(u) => format!(
                "{} by {}",
                units::plural(u64::from(u), "user", "users"),
                i.tool
            ),
            None => format!("load by {}", i.tool),
        },
    };
    let mut context = format!(
        "profile {}, {load}, {} measured",
        run.profile.name,
        units::length(run.window.length())
    );
    // What the verdict rests on, when it is less than every budget and a ceiling written down.
    let not_judged = v.not_judged_count();
    if not_judged > 0 {
        let _ = write!(
            context,
            "; {not_judged} budget{} left to longer profiles",
            if not_judged == 1 { "" } else { "s" }
        );
    }
    if let Some(c) = v
        .checks
        .iter()
        .find(|c| c.metric == CheckMetric::MaxErrorRate && c.location.is_none())
    {
        let _ = write!(
            context,
            "; default error ceiling {}",
            budget_text(c.metric, c.budget)
        );
    }
    let also = |n: usize, what: &str| {
        if n == 0 {
            String::new()
        } else {
            format!(", {n} {what}")
        }
    };
    match run.outcome {
        RunOutcome::Pass => format!(
            "SLA PASSED: {n}/{n} checks{} ({context})",
            also(marginal, "marginal")
        ),
        RunOutcome::Fail => format!(
            "SLA FAILED: {failed} of {n} checks{} ({context})",
            also(inconclusive, "inconclusive")
        ),
        RunOutcome::Inconclusive => format!(
            "SLA INCONCLUSIVE: {} passed, {inconclusive} inconclusive (too few samples) of {n} \
             checks{} ({context})",
            n - inconclusive,
            also(marginal, "marginal")
        ),
        RunOutcome::Invalid => format!(
            "RUN INVALID: the load generator did not deliver the profile ({}): the service was \
             not at fault ({context})",
            invalid_causes(&v.invalid)
        ),
        RunOutcome::Interrupted => format!(
            "RUN INTERRUPTED: no verdict; {failed} of {n} checks were failing on what was \
             measured ({context})"
        ),
        RunOutcome::Shard => {
            let shard = run
                .shard
                .as_ref()
                .map(|s| format!(" {}", s.shard))
                .unwrap_or_default();
            let delivery = if v.invalid.is_empty() {
                String::new()
            } else {
                format!(
                    "; its load was not the plan's ({}), so the merged run will be INVALID",
                    invalid_causes(&v.invalid)
                )
            };
            format!(
                "SHARD{shard}: not judged on its own — judge the shards together with `slagate \
                 merge`{delivery} ({context})"
            )
        }
    }
}

/// `cpu: 100% of 2 cores for 14 s; wake: …`.
pub fn invalid_causes(invalid: &[Invalidity]) -> String {
    invalid
        .iter()
        .map(|i| format!("{}: {}", i.cause, i.figure))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `slagate profiles`: each profile's load shape and the level it is judged against.
pub fn profiles(plans: &[crate::plan::Plan]) -> String {
    let mut t = new_table(
        vec![
            "Profile",
            "Model",
            "Load",
            "Run time",
            "Level",
            "Min RPS",
            "Max errors",
            "Description",
        ],
        1,
    );
    for plan in plans {
        let p = &plan.profile;
        let (level, min_rps, max_err) = match &plan.level {
            Some(l) => (
                l.name.clone(),
                l.min_rps
                    .as_ref()
                    .map_or_else(|| "—".into(), |m| format!("{}", m.value)),
                l.max_error_rate
                    .as_ref()
                    .map_or_else(|| "—".into(), |m| units::percent(m.value)),
            ),
            None => ("(none)".into(), "—".into(), "—".into()),
        };
        t.add_row(vec![
            p.name.clone(),
            p.model_name().to_string(),
            p.load.summary(),
            units::length(p.run_time),
            level,
            min_rps,
            max_err,
            p.description.clone(),
        ]);
    }
    if let Some(c) = t.column_mut(7) {
        c.set_cell_alignment(CellAlignment::Left);
    }
    let mut out = format!("{t}\n");
    for plan in plans {
        if let Some(line) = littles_law_line(plan) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// For an open profile: what its rate needs in flight from a healthy service, by Little's law
/// (in flight = arrival rate × time in the system) at the budgets' p50, against its cap.
pub fn littles_law_line(plan: &crate::plan::Plan) -> Option<String> {
    let open = plan.profile.open()?;
    let rate = open.peak();
    Some(match plan.healthy_p50() {
        Some(p50) => {
            let need = rate * p50.as_secs_f64();
            let verdict = if need * 2.0 <= f64::from(open.max_in_flight) {
                "room to spare"
            } else if need < f64::from(open.max_in_flight) {
                "little headroom: a service 2× slower than its p50 budgets would fill it, and \
                 arrivals would be dropped (INVALID); raise max_in_flight"
            } else {
                "too few: a healthy service already needs more; arrivals will be dropped \
                 (INVALID); raise max_in_flight"
            };
            format!(
                "{}: at {} arrivals/s and the budgets' p50 of {} (weighted over endpoints), a \
                 healthy service holds ≈ {} requests in flight (Little's law); max_in_flight \
                 {}: {verdict}",
                plan.profile.name,
                units::number(rate),
                units::duration(p50),
                units::number((need * 10.0).round() / 10.0),
                open.max_in_flight
            )
        }
        None => format!(
            "{}: open model at up to {} arrivals/s with max_in_flight {}; no endpoint has a \
             p50 budget, so the requests a healthy service holds in flight cannot be estimated \
             (Little's law: rate × time in the system)",
            plan.profile.name,
            units::number(rate),
            open.max_in_flight
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{
        empty_run, honest_run, inconclusive_run, invalid_run, sample_run,
    };

    #[test]
    fn snapshot_of_the_sample_run() {
        insta::assert_snapshot!(render(&sample_run()));
    }

    #[test]
    fn snapshot_of_every_finding() {
        insta::assert_snapshot!(render(&honest_run()));
    }

    #[test]
    fn snapshot_of_an_inconclusive_run() {
        insta::assert_snapshot!(render(&inconclusive_run(false)));
    }

    #[test]
    fn snapshot_of_an_invalid_run() {
        insta::assert_snapshot!(render(&invalid_run()));
    }

    #[test]
    fn diagnostics_wrap_at_spaces_only() {
        assert_eq!(
            wrap("a bb ccc /endpoint/path dd", 8),
            "a bb ccc\n/endpoint/path\ndd"
        );
        assert_eq!(wrap("one\ntwo three", 5), "one\ntwo\nthree");
        let text = render(&sample_run());
        assert!(
            text.contains("/checkout: 14 of its 100 requests failed"),
            "{text}"
        );
        let diagnostic_lines = text.lines().filter(|l| {
            ["  × ", "  │ ", "  ├─▶ ", "  ╰─▶ ", "  ☞ ", "  ⚠ ", "      "]
                .iter()
                .any(|p| l.starts_with(p))
        });
        for line in diagnostic_lines {
            assert!(line.chars().count() <= DIAGNOSTIC_WIDTH, "{line}");
        }
    }

    #[test]
    fn an_empty_run_renders() {
        let text = render(&empty_run());
        assert!(text.contains("SLA FAILED: 12 of 12 checks"), "{text}");
    }

    #[test]
    fn budgets_left_to_longer_profiles_are_shown_in_every_format_and_never_pass() {
        use crate::report::testdata::partly_judged_run;
        use crate::report::{Reporter, html, json, junit, markdown};
        let run = partly_judged_run();
        let not_judged = run.verdict.not_judged_count();
        assert!(not_judged > 0, "the level leaves some budgets");
        let table = render(&run);
        assert_eq!(table.matches("not judged").count(), not_judged, "{table}");
        assert!(
            verdict_line(&run).contains(&format!("{not_judged} budget")),
            "{}",
            verdict_line(&run)
        );
        let md = markdown::render(&run);
        assert_eq!(md.matches("➖ not judged").count(), not_judged, "{md}");
        let page = html::render(&run).unwrap();
        assert_eq!(page.matches("badge not-judged").count(), not_judged);
        let xml = String::from_utf8(junit::Junit.render(&run).unwrap()).unwrap();
        assert_eq!(
            xml.matches("type=\"not-judged\"").count(),
            not_judged,
            "{xml}"
        );
        let doc: serde_json::Value =
            serde_json::from_slice(&json::Json.render(&run).unwrap()).unwrap();
        let statuses: Vec<&str> = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == "not_judged").count(),
            not_judged
        );
    }

    #[test]
    fn an_unverified_tls_run_says_so_in_every_format() {
        use crate::report::testdata::sample_run;
        use crate::report::{Reporter, html, junit, markdown};
        use crate::stats::{ConnectionRecorder, Opened};
        let mut run = sample_run();
        let mut conns = ConnectionRecorder::new(Some(false));
        conns.opened(Opened {
            tcp: Duration::from_micros(300),
            tls: Some(Duration::from_millis(4)),
            resumed: true,
            reconnect: false,
            protocol: "HTTP/2",
            tls_version: Some("TLSv1.3"),
            cipher: Some("TLS13_AES_128_GCM_SHA256"),
        });
        run.connections = conns.finish();
        let lines = connection_lines(&run);
        assert_eq!(
            lines[1],
            "Protocol: HTTP/2 × 1 over TLSv1.3 × 1 (TLS13_AES_128_GCM_SHA256 × 1), certificates \
             NOT verified (--insecure)"
        );
        assert!(lines[0].contains("1 resumed TLS session"), "{}", lines[0]);
        assert!(lines[2].contains("(TCP p50 300 µs"), "{}", lines[2]);
        let warning = "TLS certificates were NOT verified";
        assert!(render(&run).contains(warning));
        assert!(html::render(&run).unwrap().contains(warning));
        assert!(markdown::render(&run).contains(warning));
        let xml = String::from_utf8(junit::Junit.render(&run).unwrap()).unwrap();
        assert!(xml.contains(warning) && xml.contains(r#"name="tls_verified" value="false""#));
        run.connections.verified = Some(true);
        assert!(!render(&run).contains(warning));
    }
}
