//! The comparison as a terminal table, a `slagate.compare/v2` JSON document and a Markdown
//! table for a pull-request comment, and the one line that explains the verdict in each. Pure:
//! bytes out, no I/O.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};
use serde::Serialize;

use crate::units;

use super::{
    AGGREGATED, ALL_ENDPOINTS, Comparison, FAMILY_ALPHA, Figure, Metric, Noise, OMNIBUS_SHARE, Row,
    RowVerdict, RunInfo, SCHEMA,
};

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

/// An interval's end, without its unit and to the precision an interval deserves: "+19",
/// "−4.1", "+0.25".
fn bare(metric: Metric, change: f64) -> String {
    let percent = change * 100.0;
    let text = if percent.abs() >= 10.0 {
        format!("{:.0}", percent.abs())
    } else if percent.abs() >= 1.0 || metric != Metric::ErrorRate {
        format!("{:.1}", percent.abs())
    } else {
        format!("{:.2}", percent.abs())
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    match text.as_str() {
        "0" => "0".to_string(),
        _ if change > 0.0 => format!("+{text}"),
        _ => format!("−{text}"),
    }
}

/// "+28% [+19, +37]", "+0.5 pp [+0.1, +0.9]", "+3%" (shown only), "—".
pub(super) fn change(row: &Row) -> String {
    match row.change {
        None => "—".to_string(),
        Some(c) => match c.interval {
            None => signed(row.metric, c.estimate),
            Some((low, high)) => format!(
                "{} [{}, {}]",
                signed(row.metric, c.estimate),
                bare(row.metric, low),
                bare(row.metric, high)
            ),
        },
    }
}

/// The allowed worsening, signed the way it is allowed: up for latency and the error rate,
/// down for rps.
fn tolerance(row: &Row) -> String {
    match row.metric {
        Metric::Rps => signed(row.metric, -row.tolerance),
        _ => signed(row.metric, row.tolerance),
    }
}

/// Which noise decided a judged row: "within run", or "3+1 runs ±4%".
fn noise(row: &Row) -> String {
    if row.alpha.is_none() {
        return "—".to_string();
    }
    match row.noise {
        Noise::WithinRun => "within run".to_string(),
        Noise::BetweenRuns {
            base_runs,
            head_runs,
            spread,
            ..
        } => format!("{base_runs}+{head_runs} runs ±{}", units::percent(spread)),
    }
}

/// Why a row is ok though its estimate is beyond the tolerance, or why it is n/a, in a
/// sentence; `None` when its cells say enough.
pub(super) fn why(row: &Row) -> Option<String> {
    match row.verdict {
        RowVerdict::Undecided => return row.reason.clone(),
        RowVerdict::Ok => {}
        _ => return None,
    }
    let c = row.change?;
    let (low, high) = c.interval?;
    let beyond = match row.metric {
        Metric::Rps => c.estimate < -row.tolerance,
        Metric::Latency(_) | Metric::ErrorRate => c.estimate > row.tolerance,
    };
    if !beyond {
        return None;
    }
    let reach = match row.metric {
        Metric::Rps => high,
        _ => low,
    };
    Some(format!(
        "the estimate is beyond the {} tolerance, but its interval reaches {}: at 95 % per \
         comparison the head is not shown to be worse by more than the tolerance",
        tolerance(row),
        signed(row.metric, reach)
    ))
}

/// A note on a row: n/a, or ok though its estimate is beyond its tolerance.
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
        match self.row.change {
            Some(c) => format!(
                "{} ({})",
                self.row.metric,
                signed(self.row.metric, c.estimate)
            ),
            None => self.row.metric.to_string(),
        }
    }
}

/// The notes (`why`) and, row by row, the number of the row's note.
pub(super) fn notes(c: &Comparison) -> (Vec<Option<usize>>, Vec<Note<'_>>) {
    let mut notes = Vec::new();
    let numbers = c
        .rows
        .iter()
        .map(|row| {
            let why = why(row)?;
            let number = notes.len() + 1;
            notes.push(Note { number, row, why });
            Some(number)
        })
        .collect();
    (numbers, notes)
}

/// "regression" or "no regression", with the count.
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

/// "3 base runs, 1 head run" and the noise model.
fn runs(c: &Comparison) -> String {
    let count = |n: usize, what: &str| format!("{n} {what} run{}", if n == 1 { "" } else { "s" });
    let model = match c.noise() {
        Noise::WithinRun => "noise within runs only".to_string(),
        Noise::BetweenRuns { .. } => "noise between runs estimated from them".to_string(),
    };
    format!(
        "{}, {}; {model}; 95 % per comparison",
        count(c.base.len(), "base"),
        count(c.head.len(), "head")
    )
}

/// One row's change in words: "27% slower at p50 [+21, +33]".
fn in_words(row: &Row) -> String {
    let Some(c) = row.change else {
        return row.metric.to_string();
    };
    let interval = c
        .interval
        .map(|(l, h)| format!(" [{}, {}]", bare(row.metric, l), bare(row.metric, h)))
        .unwrap_or_default();
    let size = units::percent(c.estimate.abs());
    match row.metric {
        Metric::Latency(stat) => {
            let how = if c.estimate >= 0.0 {
                "slower"
            } else {
                "faster"
            };
            format!("{size} {how} at {stat}{interval}")
        }
        Metric::ErrorRate => {
            let how = if c.estimate >= 0.0 { "more" } else { "fewer" };
            format!(
                "{} {how} failures{interval}",
                units::signed_points(c.estimate).trim_start_matches(['+', '−'])
            )
        }
        Metric::Rps => {
            let how = if c.estimate >= 0.0 { "more" } else { "fewer" };
            format!("{size} {how} requests per second{interval}")
        }
    }
}

/// The verdict explained in one line, the same in every rendering: what regressed and by how
/// much (across all endpoints first), or, when nothing did, the smallest slowdown the
/// comparison would have caught.
pub fn explanation(c: &Comparison) -> String {
    let regressions: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.verdict == RowVerdict::Regression)
        .collect();
    if regressions.is_empty() {
        let caught = c
            .rows
            .iter()
            .filter(|r| r.endpoint == ALL_ENDPOINTS)
            .chain(c.rows.iter().filter(|r| r.endpoint != ALL_ENDPOINTS))
            .filter_map(|r| Some((r.detectable?, r)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let caught = match caught {
            Some((d, r)) => format!(
                "; a slowdown of {} at {} {} would have been caught (95 % of the time)",
                units::signed_percent(d),
                r.metric,
                if r.endpoint == ALL_ENDPOINTS {
                    "across all endpoints".to_string()
                } else {
                    format!("on {}", r.endpoint)
                }
            ),
            None => "; no latency row had the samples to be judged".to_string(),
        };
        let improvements = c.count(RowVerdict::Improvement);
        let better = if improvements > 0 {
            format!(
                " ({improvements} improvement{})",
                if improvements == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        return format!(
            "NO REGRESSION{better}: no row is worse than its tolerance ({}){caught}",
            runs(c)
        );
    }
    // "All endpoints" rows together, then the others endpoint by endpoint.
    let mut parts = Vec::new();
    let all: Vec<&&Row> = regressions
        .iter()
        .filter(|r| r.endpoint == ALL_ENDPOINTS || r.endpoint == AGGREGATED)
        .collect();
    if !all.is_empty() {
        let words: Vec<String> = all.iter().map(|r| in_words(r)).collect();
        parts.push(format!(
            "the service is {} across all endpoints",
            join(&words)
        ));
    }
    let mut names: Vec<&str> = Vec::new();
    for r in &regressions {
        if r.endpoint != ALL_ENDPOINTS
            && r.endpoint != AGGREGATED
            && !names.contains(&r.endpoint.as_str())
        {
            names.push(&r.endpoint);
        }
    }
    for name in &names {
        let words: Vec<String> = regressions
            .iter()
            .filter(|r| r.endpoint == *name)
            .map(|r| in_words(r))
            .collect();
        parts.push(format!("{name} is {}", join(&words)));
    }
    let shown = 3;
    let mut text = parts[..parts.len().min(shown)].join("; ");
    if parts.len() > shown {
        text.push_str(&format!("; and {} more", parts.len() - shown));
    }
    format!("REGRESSION: {text} ({})", runs(c))
}

/// "a", "a and b", "a, b and c".
fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Above the notes in every rendering.
pub(super) const NOTES_TITLE: &str = "Notes on the rows marked [n]";

pub(super) const HEADER: [&str; 8] = [
    "Endpoint",
    "Metric",
    "Base",
    "Head",
    "Change [interval]",
    "Tolerance",
    "Noise",
    "Verdict",
];

/// The method in one paragraph, under every rendering's table.
pub(super) fn method(c: &Comparison) -> String {
    format!(
        "A row is a regression when its whole interval lies beyond its tolerance. The {} judged \
         rows share one false-alarm rate of {} (weighted Bonferroni: {} to the \"{ALL_ENDPOINTS}\" \
         rows, the rest to the others), so an unchanged build fails the gate at most 5 % of the \
         time. Latency changes are ratios (percentiles: order-statistic intervals; shift: \
         Hodges–Lehmann with its Mann–Whitney interval; {ALL_ENDPOINTS}: stratified by \
         endpoint); error rates: Newcombe's interval in percentage points; rps: the total only. \
         Max and per-endpoint rps are shown, not judged.",
        c.judged(),
        units::percent(FAMILY_ALPHA),
        units::percent(OMNIBUS_SHARE),
    )
}

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
        change(row),
        tolerance(row),
        noise(row),
        match note {
            Some(n) => format!("{verdict} [{n}]"),
            None => verdict.to_string(),
        },
    ]
}

/// The table for the terminal: who is compared, the warnings (once, here: `app` prints none),
/// the table, the notes, the method and the one-line explanation.
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
        who_all(&c.base),
        who_all(&c.head),
        profile(c)
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
    out.push_str(&method(c));
    out.push('\n');
    out.push_str(&explanation(c));
    out.push('\n');
    out
}

pub(super) fn profile(c: &Comparison) -> &str {
    c.head.first().map_or("", |r| r.profile.as_str())
}

pub(super) fn who(run: &RunInfo) -> String {
    let when = humantime::format_rfc3339_seconds(run.started_at);
    match &run.git_commit {
        Some(commit) => format!("{} ({when})", &commit[..commit.len().min(10)]),
        None => when.to_string(),
    }
}

/// One run as `who` says it, or "3 runs (first … to last …)".
pub(super) fn who_all(runs: &[RunInfo]) -> String {
    match runs {
        [] => "—".to_string(),
        [one] => who(one),
        [first, .., last] => format!("{} runs ({} to {})", runs.len(), who(first), who(last)),
    }
}

/// A pull-request comment: the explanation, then the table (regressions and improvements
/// first, so they are what a reviewer sees without scrolling).
pub fn markdown(c: &Comparison) -> String {
    let mut out = format!(
        "### slagate baseline comparison: {} {}\n\n{}\n\n",
        if c.regressions() == 0 { "✅" } else { "❌" },
        headline(c),
        explanation(c)
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
        RowVerdict::Undecided => 3,
        RowVerdict::Info => 4,
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
    out.push_str(&format!("\n{}\n", method(c)));
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
    improvements: usize,
    /// The one-line explanation.
    headline: String,
    family: FamilyDoc,
    noise: NoiseDoc,
    base: Vec<RunDoc>,
    head: Vec<RunDoc>,
    warnings: &'a [String],
    rows: Vec<RowDoc>,
}

#[derive(Serialize)]
struct FamilyDoc {
    /// The false-alarm rate of the whole comparison.
    alpha: f64,
    /// The share of it the "All endpoints" rows divide among them.
    omnibus_share: f64,
    /// How many rows were judged.
    judged: usize,
    method: &'static str,
}

#[derive(Serialize)]
struct NoiseDoc {
    /// "within_run" or "between_runs".
    model: &'static str,
    base_runs: usize,
    head_runs: usize,
    /// Between runs: the relative run-to-run spread beyond sampling noise.
    #[serde(skip_serializing_if = "Option::is_none")]
    spread: Option<f64>,
    /// Between runs: the degrees of freedom of the row's interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    df: Option<f64>,
}

fn noise_doc(n: Noise, base: usize, head: usize) -> NoiseDoc {
    match n {
        Noise::WithinRun => NoiseDoc {
            model: "within_run",
            base_runs: base,
            head_runs: head,
            spread: None,
            df: None,
        },
        Noise::BetweenRuns {
            base_runs,
            head_runs,
            spread,
            df,
        } => NoiseDoc {
            model: "between_runs",
            base_runs,
            head_runs,
            spread: Some(spread),
            df: Some(df),
        },
    }
}

#[derive(Serialize)]
struct RunDoc {
    slagate_version: String,
    git_commit: Option<String>,
    started_at: String,
    profile: String,
}

#[derive(Serialize)]
struct ChangeDoc {
    /// Relative (0.28 = +28 %) for latency and rps; a difference of fractions for the error
    /// rate.
    estimate: f64,
    low: Option<f64>,
    high: Option<f64>,
}

#[derive(Serialize)]
struct RowDoc {
    endpoint: String,
    metric: String,
    /// "us", "fraction" or "per_second".
    unit: &'static str,
    base: Option<f64>,
    head: Option<f64>,
    change: Option<ChangeDoc>,
    tolerance: f64,
    /// The row's share of the family's rate; null when not judged.
    alpha: Option<f64>,
    p_value: Option<f64>,
    /// The smallest worsening this row catches 95 % of the time (latency rows).
    detectable: Option<f64>,
    noise: Option<NoiseDoc>,
    verdict: &'static str,
    reason: Option<String>,
}

/// The `slagate.compare/v2` document, pretty-printed with a trailing newline.
pub fn json(c: &Comparison) -> Vec<u8> {
    let run = |r: &RunInfo| RunDoc {
        slagate_version: r.slagate_version.clone(),
        git_commit: r.git_commit.clone(),
        started_at: humantime::format_rfc3339(r.started_at).to_string(),
        profile: r.profile.clone(),
    };
    let (nb, nh) = (c.base.len(), c.head.len());
    let doc = Doc {
        schema: SCHEMA,
        verdict: if c.regressions() == 0 {
            "ok"
        } else {
            "regression"
        },
        regressions: c.regressions(),
        improvements: c.count(RowVerdict::Improvement),
        headline: explanation(c),
        family: FamilyDoc {
            alpha: FAMILY_ALPHA,
            omnibus_share: OMNIBUS_SHARE,
            judged: c.judged(),
            method: "weighted Bonferroni",
        },
        noise: noise_doc(c.noise(), nb, nh),
        base: c.base.iter().map(run).collect(),
        head: c.head.iter().map(run).collect(),
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
                change: r.change.map(|ch| ChangeDoc {
                    estimate: ch.estimate,
                    low: ch.interval.map(|i| i.0),
                    high: ch.interval.map(|i| i.1),
                }),
                tolerance: r.tolerance,
                alpha: r.alpha,
                p_value: r.p_value,
                detectable: r.detectable,
                noise: r.alpha.map(|_| noise_doc(r.noise, nb, nh)),
                verdict: r.verdict.label(),
                reason: r.reason.clone(),
            })
            .collect(),
    };
    // Every field is a plain number, string or bool: serialising cannot fail, except for a
    // non-finite float, which serde_json writes as null.
    let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
