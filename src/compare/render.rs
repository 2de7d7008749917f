//! The comparison as a terminal table, a `slagate.compare/v1` JSON document and a Markdown
//! table for a pull-request comment. Pure: bytes out, no I/O.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use serde::Serialize;

use crate::plan::LatencyStat;
use crate::units;
use crate::verdict::confidence;

use super::{ALPHA, Bounds, Comparison, Figure, Metric, Row, RowVerdict, SCHEMA};

/// A value as people read it.
fn value(v: Option<Figure>) -> String {
    match v {
        None => "—".to_string(),
        Some(Figure::Latency(us)) => units::duration(us.duration()),
        Some(Figure::Fraction(f)) => units::percent(f),
        Some(Figure::Rate(r)) => format!("{}/s", units::rate(r)),
    }
}

/// A signed change in the row's terms: relative, or in percentage points for the error rate.
fn signed(metric: Metric, change: f64) -> String {
    match metric {
        Metric::ErrorRate => units::signed_points(change),
        Metric::Latency(_) | Metric::Rps => units::signed_percent(change),
    }
}

fn delta(row: &Row) -> String {
    row.delta()
        .map_or_else(|| "—".to_string(), |d| signed(row.metric, d))
}

/// The allowed worsening, signed the way it is allowed: up for latency and the error rate,
/// down for rps.
fn tolerance(row: &Row) -> String {
    match row.metric {
        Metric::Rps => signed(row.metric, -row.tolerance),
        _ => signed(row.metric, row.tolerance),
    }
}

fn significant(row: &Row) -> &'static str {
    match row.significant {
        Some(true) => "yes",
        Some(false) => "no",
        None => "n/a",
    }
}

/// Why a row is ok though its delta is beyond the tolerance, in a sentence; `None` when its
/// cells say enough (not beyond, or "Significant: no"). The delta compares point estimates,
/// but a regression must hold at 95 % confidence: a row can differ significantly (the runs are
/// not alike) and still not be shown worse by more than the tolerance.
pub(super) fn why_ok(row: &Row) -> Option<String> {
    let delta = row.delta()?;
    let beyond = match row.metric {
        Metric::Rps => delta < -row.tolerance,
        Metric::Latency(_) | Metric::ErrorRate => delta > row.tolerance,
    };
    if row.verdict != RowVerdict::Ok || !beyond {
        return None;
    }
    let tolerance = tolerance(row);
    let why = match (row.significant, row.metric) {
        (Some(false), _) => return None,
        (Some(true), Metric::Latency(stat @ LatencyStat::Percentile(_))) => {
            // Both intervals exist (the row is significant) and the head's lies above.
            let (b, h) = (row.base_interval?, row.head_interval?);
            format!(
                "the runs differ, but at 95 % confidence the head is only shown to be {} slower \
                 (its {stat} ≥ {}, the base's ≤ {}), within the {tolerance} tolerance",
                signed(row.metric, h.low.0 / b.high.0 - 1.0),
                units::duration(h.low.duration()),
                units::duration(b.high.duration()),
            )
        }
        (Some(true), _) => format!(
            "the runs differ, but the head is not shown to be worse by more than the \
             {tolerance} tolerance at 95 % confidence (p = {:.3}; a regression needs p < {ALPHA})",
            row.p_value?
        ),
        (None, Metric::Latency(LatencyStat::Max)) => {
            "a maximum is a single request: no evidence of a shift, whatever its size".to_string()
        }
        (None, Metric::Latency(LatencyStat::Percentile(q))) => format!(
            "too few samples for a 95 % interval of {} (it needs {} in each run)",
            row.metric,
            confidence::samples_needed(q)
        ),
        (None, Metric::Rps) => {
            "fewer than two whole seconds in a run: no spread to test against".to_string()
        }
        (None, _) => "too few samples to test".to_string(),
    };
    Some(why)
}

/// A note on a row that is ok though beyond its tolerance.
pub(super) struct Note<'a> {
    /// From 1, in the comparison's order; the row's verdict cell shows it as "[n]".
    pub number: usize,
    pub row: &'a Row,
    pub why: String,
}

impl Note<'_> {
    /// "[1]", the endpoint aside: each rendering shows the endpoint its own way.
    pub fn mark(&self) -> String {
        format!("[{}]", self.number)
    }

    /// "p50 (+30%)".
    pub fn what(&self) -> String {
        format!("{} ({})", self.row.metric, delta(self.row))
    }
}

/// The notes (`why_ok`) and, row by row, the number of the row's note.
pub(super) fn notes(c: &Comparison) -> (Vec<Option<usize>>, Vec<Note<'_>>) {
    let mut notes = Vec::new();
    let numbers = c
        .rows
        .iter()
        .map(|row| {
            let why = why_ok(row)?;
            let number = notes.len() + 1;
            notes.push(Note { number, row, why });
            Some(number)
        })
        .collect();
    (numbers, notes)
}

pub(super) fn headline(c: &Comparison) -> String {
    let n = c.regressions();
    if n == 0 {
        "no regression against the baseline".to_string()
    } else {
        format!(
            "{n} regression{} against the baseline",
            if n == 1 { "" } else { "s" }
        )
    }
}

/// Above the notes in every rendering.
pub(super) const NOTES_TITLE: &str = "Why the rows marked [n] are ok though beyond their tolerance";

pub(super) const HEADER: [&str; 8] = [
    "Endpoint",
    "Metric",
    "Base",
    "Head",
    "Delta",
    "Tolerance",
    "Significant",
    "Verdict",
];

/// A row's cells; `note` is its number in `notes`, shown beside the verdict.
pub(super) fn cells(row: &Row, note: Option<usize>) -> [String; 8] {
    let verdict = match row.verdict {
        RowVerdict::Regression => "REGRESSION",
        v => v.label(),
    };
    [
        row.endpoint.clone(),
        row.metric.to_string(),
        value(row.base),
        value(row.head),
        delta(row),
        tolerance(row),
        significant(row).to_string(),
        match note {
            Some(n) => format!("{verdict} [{n}]"),
            None => verdict.to_string(),
        },
    ]
}

/// The table for the terminal: who is compared, the warnings (once, here: `app` prints none),
/// the table, the notes on rows that are ok though beyond their tolerance, and a headline.
pub fn terminal(c: &Comparison) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(HEADER);
    for i in 2..6 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let (numbers, notes) = notes(c);
    for (row, note) in c.rows.iter().zip(numbers) {
        t.add_row(cells(row, note));
    }
    let mut out = format!(
        "Baseline comparison: base {} against head {} (profile {})\n",
        who(&c.base),
        who(&c.head),
        c.head.profile
    );
    if !c.warnings.is_empty() {
        out.push_str("Warnings:\n");
        for w in &c.warnings {
            out.push_str(&format!("  - {w}\n"));
        }
    }
    out.push_str(&t.to_string());
    out.push('\n');
    if !notes.is_empty() {
        out.push_str(NOTES_TITLE);
        out.push_str(":\n");
        for n in &notes {
            let (mark, what, why) = (n.mark(), n.what(), &n.why);
            out.push_str(&format!("  {mark} {} {what}: {why}\n", n.row.endpoint));
        }
    }
    out.push_str(&format!(
        "{}: a regression is worse than the base by more than the tolerance at 95 % \
         confidence\n",
        headline(c).to_uppercase()
    ));
    out
}

pub(super) fn who(run: &super::RunInfo) -> String {
    let when = humantime::format_rfc3339_seconds(run.started_at);
    match &run.git_commit {
        Some(commit) => format!("{} ({when})", &commit[..commit.len().min(10)]),
        None => when.to_string(),
    }
}

/// A pull-request comment: headline, then the table (regressions and improvements first, so
/// they are what a reviewer sees without scrolling).
pub fn markdown(c: &Comparison) -> String {
    let mut out = format!(
        "### slagate baseline comparison: {}\n\n",
        if c.regressions() == 0 {
            "✅ ".to_string() + &headline(c)
        } else {
            "❌ ".to_string() + &headline(c)
        }
    );
    for w in &c.warnings {
        out.push_str(&format!("> ⚠️ {w}\n"));
    }
    if !c.warnings.is_empty() {
        out.push('\n');
    }
    out.push_str(&format!("| {} |\n", HEADER.join(" | ")));
    out.push_str("|---|---|--:|--:|--:|--:|---|---|\n");
    let (numbers, notes) = notes(c);
    let mut rows: Vec<(&Row, Option<usize>)> = c.rows.iter().zip(numbers).collect();
    rows.sort_by_key(|(r, _)| match r.verdict {
        RowVerdict::Regression => 0,
        RowVerdict::Improvement => 1,
        RowVerdict::Ok => 2,
    });
    for (row, note) in rows {
        let mut cells = cells(row, note);
        cells[0] = code(&cells[0]);
        if row.verdict == RowVerdict::Regression {
            cells[7] = "**❌ regression**".to_string();
        }
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if !notes.is_empty() {
        out.push_str(&format!("\n{NOTES_TITLE}:\n\n"));
        for n in &notes {
            let (mark, what, why) = (n.mark(), n.what(), &n.why);
            out.push_str(&format!(
                "- {mark} {} {what}: {why}\n",
                code(&n.row.endpoint)
            ));
        }
    }
    out.push_str(
        "\nRegression: worse than the base by more than the `[regression]` tolerance at 95 % \
         confidence (percentiles: order-statistic intervals; mean and error rate: z-tests; \
         rps: Welch t-test on per-second counts).\n",
    );
    out
}

/// An endpoint name as Markdown code, safe inside a table cell.
fn code(name: &str) -> String {
    format!("`{}`", name.replace('|', "\\|"))
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    verdict: &'static str,
    regressions: usize,
    base: RunDoc,
    head: RunDoc,
    warnings: &'a [String],
    rows: Vec<RowDoc>,
}

#[derive(Serialize)]
struct RunDoc {
    slagate_version: String,
    git_commit: Option<String>,
    started_at: String,
    profile: String,
}

#[derive(Serialize)]
struct RowDoc {
    endpoint: String,
    metric: String,
    /// "us", "fraction" or "per_second".
    unit: &'static str,
    base: Option<f64>,
    head: Option<f64>,
    delta: Option<f64>,
    tolerance: f64,
    significant: Option<bool>,
    p_value: Option<f64>,
    base_interval: Option<[f64; 2]>,
    head_interval: Option<[f64; 2]>,
    verdict: &'static str,
}

/// The `slagate.compare/v1` document, pretty-printed with a trailing newline.
pub fn json(c: &Comparison) -> Vec<u8> {
    let run = |r: &super::RunInfo| RunDoc {
        slagate_version: r.slagate_version.clone(),
        git_commit: r.git_commit.clone(),
        started_at: humantime::format_rfc3339(r.started_at).to_string(),
        profile: r.profile.clone(),
    };
    let pair = |b: Option<Bounds>| b.map(|b| [b.low.0, b.high.0]);
    let doc = Doc {
        schema: SCHEMA,
        verdict: if c.regressions() == 0 {
            "ok"
        } else {
            "regression"
        },
        regressions: c.regressions(),
        base: run(&c.base),
        head: run(&c.head),
        warnings: &c.warnings,
        rows: c
            .rows
            .iter()
            .map(|r| RowDoc {
                endpoint: r.endpoint.clone(),
                metric: match r.metric {
                    Metric::ErrorRate => "error_rate".to_string(),
                    m => m.to_string(),
                },
                unit: match r.metric {
                    Metric::Latency(_) => "us",
                    Metric::ErrorRate => "fraction",
                    Metric::Rps => "per_second",
                },
                base: r.base.map(Figure::number),
                head: r.head.map(Figure::number),
                delta: r.delta(),
                tolerance: r.tolerance,
                significant: r.significant,
                p_value: r.p_value,
                base_interval: pair(r.base_interval),
                head_interval: pair(r.head_interval),
                verdict: r.verdict.label(),
            })
            .collect(),
    };
    // Every field is a plain number, string or bool: serialising cannot fail, except for a
    // non-finite float, which serde_json writes as null.
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
