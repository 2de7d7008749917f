//! The terminal report: Locust's request and percentile tables, the SLA table, a diagnostic per
//! failing check, and the verdict line.

use std::fmt::Write as _;
use std::time::Duration;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::{RenderError, Reporter, RunOutcome, RunReport};
use crate::stats::EndpointStats;
use crate::verdict::{CheckMetric, Status, Value, fmt_duration, fmt_offset, fmt_percent};

/// Locust's percentile columns.
pub const LOCUST_PERCENTILES: [(f64, &str); 11] = [
    (0.50, "50%"),
    (0.66, "66%"),
    (0.75, "75%"),
    (0.80, "80%"),
    (0.90, "90%"),
    (0.95, "95%"),
    (0.98, "98%"),
    (0.99, "99%"),
    (0.999, "99.9%"),
    (0.9999, "99.99%"),
    (1.0, "100%"),
];

pub struct Terminal;

impl Reporter for Terminal {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        Ok(render(run).into_bytes())
    }
}

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
    row.push(s.requests.to_string());
    row
}

pub fn render(run: &RunReport) -> String {
    let mut out = String::new();
    let w = run.window;
    let _ = writeln!(
        out,
        "Request statistics — measured window {}–{} ({}, ramp-up excluded), times in ms",
        fmt_offset(w.start),
        fmt_offset(w.end),
        fmt_length(w.length())
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
    let _ = writeln!(out, "{t}\n");

    let _ = writeln!(out, "Response time percentiles (ms)");
    let mut header = vec!["Type", "Name"];
    header.extend(LOCUST_PERCENTILES.iter().map(|(_, l)| *l));
    header.push("# reqs");
    let mut t = new_table(header, 2);
    for e in &run.endpoints {
        t.add_row(percentile_row(&e.method, &e.name, &e.stats));
    }
    t.add_row(percentile_row("", "Aggregated", &run.total));
    let _ = writeln!(out, "{t}\n");

    let _ = writeln!(out, "{}", sla_title(run));
    let mut t = new_table(
        vec![
            "Endpoint", "Metric", "Budget", "Measured", "Headroom", "Samples", "Result",
        ],
        2,
    );
    for c in &run.verdict.checks {
        t.add_row(vec![
            run.subject_name(&c.subject).to_string(),
            c.metric.to_string(),
            budget_text(c.metric, c.budget),
            c.measured.map_or_else(|| "—".into(), value_text),
            c.headroom
                .map_or_else(|| "—".into(), |h| format!("{:+.0}%", h * 100.0)),
            c.samples.to_string(),
            match c.status {
                Status::Pass => "PASS".into(),
                Status::Fail => "FAIL".into(),
            },
        ]);
    }
    let _ = writeln!(out, "{t}");

    let failing: Vec<_> = run
        .verdict
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(out, "\nWhy it failed:");
        for c in failing {
            let _ = writeln!(
                out,
                "  ✗ {} {}: {}",
                run.subject_name(&c.subject),
                c.metric,
                c.diagnostic
            );
        }
    }
    let _ = writeln!(out, "\n{}", verdict_line(run));
    out
}

pub fn sla_title(run: &RunReport) -> String {
    match &run.profile.level {
        Some(level) => format!("SLA checks — profile {}, level {level}", run.profile.name),
        None => format!(
            "SLA checks — profile {} (no [level.{}] in the sla file: no throughput checks)",
            run.profile.name, run.profile.name
        ),
    }
}

pub fn budget_text(metric: CheckMetric, budget: Value) -> String {
    match (metric, budget) {
        (CheckMetric::Coverage, _) => "≥ 1 success".into(),
        (CheckMetric::MinRps, v) => format!("≥ {}", value_text(v)),
        (_, Value::Latency(d)) => format!("< {}", fmt_duration(d)),
        (_, v) => format!("≤ {}", value_text(v)),
    }
}

pub fn value_text(v: Value) -> String {
    match v {
        Value::Latency(d) => fmt_duration(d),
        Value::Rate(r) => format!("{r:.1} req/s"),
        Value::Fraction(f) => fmt_percent(f),
        Value::Count(n) => format!("{n} ok"),
    }
}

/// "200–800 ms", "500 ms–1.5 s", "1 s".
pub fn fmt_range(min: Duration, max: Duration) -> String {
    let (lo, hi) = (fmt_duration(min), fmt_duration(max));
    if min == max {
        return lo;
    }
    match (lo.split_once(' '), hi.split_once(' ')) {
        (Some((a, u1)), Some((b, u2))) if u1 == u2 => format!("{a}–{b} {u1}"),
        _ => format!("{lo}–{hi}"),
    }
}

/// "4m50s", "58s", "1h2m0s".
pub fn fmt_length(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s:02}s"),
        _ => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// The one line a CI log reader looks for.
pub fn verdict_line(run: &RunReport) -> String {
    let n = run.verdict.checks.len();
    let failed = run.verdict.failed_count();
    let context = format!(
        "profile {}, {} user{}, {} measured",
        run.profile.name,
        run.profile.users,
        if run.profile.users == 1 { "" } else { "s" },
        fmt_length(run.window.length())
    );
    match run.outcome {
        RunOutcome::Pass => format!("SLA PASSED: {n}/{n} checks ({context})"),
        RunOutcome::Fail => format!("SLA FAILED: {failed} of {n} checks ({context})"),
        RunOutcome::Interrupted => format!(
            "RUN INTERRUPTED: no verdict; {failed} of {n} checks were failing on what was \
             measured ({context})"
        ),
    }
}

/// `slagate profiles`: each profile's load shape and the level it is judged against.
pub fn profiles(plans: &[crate::plan::Plan]) -> String {
    let mut t = new_table(
        vec![
            "Profile",
            "Users",
            "Spawn rate",
            "Run time",
            "Think time",
            "Level",
            "Min RPS",
            "Max errors",
            "Description",
        ],
        1,
    );
    for plan in plans {
        let p = &plan.profile;
        let think = fmt_range(p.think_time.min, p.think_time.max);
        let (level, min_rps, max_err) = match &plan.level {
            Some(l) => (
                l.name.clone(),
                l.min_rps
                    .as_ref()
                    .map_or_else(|| "—".into(), |m| format!("{}", m.value)),
                l.max_error_rate
                    .as_ref()
                    .map_or_else(|| "—".into(), |m| fmt_percent(m.value)),
            ),
            None => ("(none)".into(), "—".into(), "—".into()),
        };
        t.add_row(vec![
            p.name.clone(),
            p.users.to_string(),
            format!("{}/s", p.spawn_rate),
            fmt_length(p.run_time),
            think,
            level,
            min_rps,
            max_err,
            p.description.clone(),
        ]);
    }
    if let Some(c) = t.column_mut(8) {
        c.set_cell_alignment(CellAlignment::Left);
    }
    format!("{t}\n")
}
