//! The terminal rendering of a repeated run (`--repeat N`): a banner before each run's own
//! report, and the head of the combined section — each check's figure beside its spread across
//! the runs, and which checks were flaky. The combined run's full report, whose verdict line
//! gates, follows it as any run's would. Pure text; every file format renders the combined
//! `RunReport` as it would a single run.

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::RunReport;
use super::table::{budget_text, measured_text, value_text};
use crate::verdict::Status;
use crate::verdict::repeat::Spread;

/// The line above run `k` (1-based) of `n`: `━━ run 1 of 3 ━━`.
pub fn run_banner(k: usize, n: usize) -> String {
    format!("━━ run {k} of {n} ━━")
}

/// The head of the combined section: the banner, the spread table and the flaky count. The
/// combined run's own report (whose verdict line gates) follows it, rendered as any run's.
/// `spreads` is parallel to `run.verdict.checks`.
pub fn combined_header(run: &RunReport, spreads: &[Spread]) -> String {
    let n = spreads.first().map_or(0, |s| s.statuses.len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "━━ combined: {n} runs (histograms merged; windows laid end to end) ━━"
    );
    let _ = writeln!(out, "{}", spread_table(run, spreads));
    let flaky = spreads.iter().filter(|s| s.flaky).count();
    if flaky > 0 {
        let _ = writeln!(
            out,
            "{flaky} check{} flaky: the runs disagree on {}; the combined result below gates.\n",
            if flaky == 1 { " is" } else { "s are" },
            if flaky == 1 { "it" } else { "them" }
        );
    }
    out
}

/// Each check: its combined figure beside the lowest and highest the runs measured, and each
/// run's result.
pub fn spread_table(run: &RunReport, spreads: &[Spread]) -> String {
    let header = [
        "Endpoint",
        "Metric",
        "Budget",
        "Combined",
        "Runs min–max",
        "Per run",
        "Flaky",
    ];
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        // CI logs are not terminals: never wrap a row.
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    for i in 3..5 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for (c, s) in run.verdict.checks.iter().zip(spreads) {
        let range = match (s.low, s.high) {
            (Some(lo), Some(hi)) if lo == hi => value_text(lo),
            (Some(lo), Some(hi)) => format!("{} – {}", value_text(lo), value_text(hi)),
            _ => "—".into(),
        };
        let per_run: Vec<&str> = s
            .statuses
            .iter()
            .map(|st| match st {
                Some(Status::Pass) => "pass",
                Some(Status::Fail) => "FAIL",
                Some(Status::Inconclusive) => "inconcl.",
                Some(Status::NotJudged) => "—",
                None => "—",
            })
            .collect();
        t.add_row(vec![
            run.subject_name(&c.subject).to_string(),
            c.metric.to_string(),
            budget_text(c.metric, c.budget),
            measured_text(c),
            range,
            per_run.join(" "),
            if s.flaky { "FLAKY" } else { "" }.to_string(),
        ]);
    }
    format!("Across runs (each check's figure per run; a check is flaky when runs disagree)\n{t}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata;

    #[test]
    fn the_spread_table_shows_the_range_and_marks_the_flaky_check() {
        let run = testdata::sample_run();
        let spreads: Vec<Spread> = run
            .verdict
            .checks
            .iter()
            .enumerate()
            .map(|(i, c)| Spread {
                low: c.measured,
                high: c.measured,
                statuses: vec![Some(Status::Pass), Some(c.status), Some(Status::Pass)],
                flaky: i == 0,
            })
            .collect();
        let text = combined_header(&run, &spreads);
        assert!(text.starts_with("━━ combined: 3 runs"), "{text}");
        assert_eq!(text.matches("FLAKY").count(), 1, "{text}");
        assert!(text.contains("1 check is flaky"), "{text}");
        assert_eq!(run_banner(2, 3), "━━ run 2 of 3 ━━");
    }
}
