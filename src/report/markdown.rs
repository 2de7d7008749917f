//! The Markdown summary (`--markdown FILE`, and GitHub's job summary): the verdict and the SLA
//! table for a pull-request comment (failing checks first, then inconclusive ones, each
//! percentile with its 95 % confidence interval), why an INVALID run is invalid, the
//! INCONCLUSIVE warning, and the diagnostics with their explanation lines folded away in
//! `<details>` blocks. Everything that came from the config or the target (names, URLs, error
//! bodies inside diagnostics) is escaped, so a server answering `<script>` or `|` cannot break
//! the table or inject markup into the page it is pasted into.
//!
//! GitHub's step summary (`$GITHUB_STEP_SUMMARY`) gets this rendering too; appending it is
//! `outputs::append_step_summary`'s job.

use std::fmt::Write as _;

use super::table::{
    INVALID_TITLE, MEASURED_HEADER, budget_text, headroom_text, inconclusive_warning,
    insecure_warning, measured_text, result_text, verdict_line,
};
use super::{NotRun, RenderError, Reporter, RunOutcome, RunReport};
use crate::units;
use crate::verdict::{Check, Status};

pub struct Markdown;

impl Reporter for Markdown {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        Ok(render(run).into_bytes())
    }
}

/// Text made inert for GitHub Markdown, in a table cell or a line: HTML-significant characters
/// become entities, Markdown punctuation is backslash-escaped (`\|` keeps a cell a cell), and
/// line breaks become `<br>` so a multi-line error body stays inside its row.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '|' | '*' | '_' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn heading_mark(outcome: &RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Pass => "✅",
        RunOutcome::Fail => "❌",
        // No verdict, or not enough of one: neither a pass nor an SLA failure.
        RunOutcome::Inconclusive | RunOutcome::Interrupted | RunOutcome::Shard => "⚠️",
        RunOutcome::Invalid => "⛔",
    }
}

fn row(run: &RunReport, c: &Check) -> String {
    let cells = [
        escape(run.subject_name(&c.subject)),
        // Metric names are slagate's own (`max_error_rate`): nothing to escape.
        c.metric.to_string(),
        escape(&budget_text(c.metric, c.budget)),
        escape(&measured_text(c)),
        headroom_text(c),
        c.samples.to_string(),
        format!(
            "{} {}",
            match c.status {
                Status::Pass => "✅",
                Status::Fail => "❌",
                Status::Inconclusive => "⚠️",
                Status::NotJudged => "➖",
            },
            result_text(c)
        ),
    ];
    format!("| {} |", cells.join(" | "))
}

/// The summary as Markdown text.
pub fn render(run: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {} {}\n",
        heading_mark(&run.outcome),
        escape(&verdict_line(run))
    );

    let p = &run.profile;
    let level = p
        .level
        .as_ref()
        .map_or_else(String::new, |l| format!(" (level {})", escape(l)));
    let w = run.window;
    let _ = writeln!(
        out,
        "Profile **{}**{level} · {} · target {} · measured {}–{} ({}, ramp-up excluded) · \
         slagate {}\n",
        escape(&p.name),
        escape(&p.load.short()),
        escape(&run.target),
        units::offset(w.start),
        units::offset(w.end),
        units::length(w.length()),
        escape(&run.slagate_version),
    );
    let origin = super::table::origin_lines(run);
    for line in &origin {
        let _ = writeln!(out, "> {}  ", escape(line));
    }
    if !origin.is_empty() {
        let _ = writeln!(out);
    }
    let arrivals = super::table::arrival_lines(run);
    if !arrivals.is_empty() {
        for line in &arrivals {
            let _ = writeln!(out, "{}  ", escape(line));
        }
        let _ = writeln!(out);
    }

    if !run.verdict.invalid.is_empty() {
        let _ = writeln!(out, "> ⛔ **{}**\n>", escape(INVALID_TITLE));
        for i in &run.verdict.invalid {
            let _ = writeln!(
                out,
                "> - **{}** ({}): {}",
                escape(i.cause),
                escape(&i.figure),
                escape(&i.message)
            );
        }
        let _ = writeln!(out);
    }
    if let Some(warning) = inconclusive_warning(run) {
        let _ = writeln!(out, "> {}\n", escape(&warning));
    }
    if let Some(warning) = insecure_warning(run) {
        let _ = writeln!(out, "> {}\n", escape(&warning));
    }

    let _ = writeln!(
        out,
        "| Endpoint | Metric | Budget | {} | Headroom | Samples | Result |\n\
         |---|---|--:|--:|--:|--:|---|",
        escape(MEASURED_HEADER)
    );
    let of = |status: Status| -> Vec<&Check> {
        run.verdict
            .checks
            .iter()
            .filter(|c| c.status == status)
            .collect()
    };
    let (failing, inconclusive, passing) =
        (of(Status::Fail), of(Status::Inconclusive), of(Status::Pass));
    // Last, greyed by their result: budgets left to longer profiles are shown, never hidden.
    let not_judged = of(Status::NotJudged);
    for c in failing
        .iter()
        .chain(&inconclusive)
        .chain(&passing)
        .chain(&not_judged)
    {
        let _ = writeln!(out, "{}", row(run, c));
    }

    let marginal: Vec<&Check> = passing.into_iter().filter(|c| c.marginal).collect();
    for (checks, what) in [
        (&failing, "failed"),
        (&marginal, "marginal"),
        (&inconclusive, "inconclusive"),
    ] {
        if checks.is_empty() {
            continue;
        }
        let n = checks.len();
        let summary = match what {
            "failed" => format!("Why {n} check{} failed", if n == 1 { "" } else { "s" }),
            "marginal" => format!(
                "{n} marginal pass{}: the budget lies inside the 95% confidence interval",
                if n == 1 { "" } else { "es" }
            ),
            _ => format!(
                "{n} inconclusive check{}: too few samples",
                if n == 1 { "" } else { "s" }
            ),
        };
        let _ = writeln!(out, "\n<details>\n<summary>{summary}</summary>\n");
        for c in checks {
            let _ = writeln!(
                out,
                "- **{} {}**: {}",
                escape(run.subject_name(&c.subject)),
                c.metric,
                escape(&c.diagnostic)
            );
            for line in &c.explanation {
                let _ = writeln!(out, "  - {}", escape(line));
            }
        }
        let _ = writeln!(out, "\n</details>");
    }
    if !run.flows.is_empty() {
        let _ = writeln!(out, "\n{}\n", escape(super::table::FLOWS_TITLE));
        if let Some(note) = super::table::once_note(run) {
            let _ = writeln!(out, "{}\n", escape(&note));
        }
        let header = super::table::FLOW_HEADER;
        let _ = writeln!(
            out,
            "| {} |\n|---|---|{}",
            header.map(escape).join(" | "),
            "--:|".repeat(header.len() - 2)
        );
        for f in &run.flows {
            let cells: Vec<String> = super::table::flow_row(f)
                .iter()
                .map(|c| escape(c))
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    out
}

/// The summary left when the run could not be made.
pub fn not_run(doc: &NotRun) -> String {
    format!(
        "## ⛔ SLA NOT RUN\n\n{}\n\nNo load was measured (exit code {}).\n",
        escape(&doc.reason),
        doc.exit_code
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{
        HOSTILE_503, empty_run, honest_run, inconclusive_run, invalid_run, sample_run,
    };

    #[test]
    fn snapshot_of_the_sample_run() {
        insta::assert_snapshot!(render(&sample_run()));
    }

    #[test]
    fn snapshot_of_an_empty_run() {
        insta::assert_snapshot!(render(&empty_run()));
    }

    #[test]
    fn failing_rows_come_first_then_inconclusive_ones() {
        let md = render(&sample_run());
        let results: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| Endpoint"))
            .map(|l| l.rsplit(" | ").next().unwrap().trim_end_matches(" |"))
            .collect();
        assert_eq!(results.len(), sample_run().verdict.checks.len());
        assert_eq!(
            &results[..3],
            ["❌ FAIL", "❌ FAIL", "⚠️ INCONCLUSIVE"],
            "{results:?}"
        );
        assert!(
            results[3..].iter().all(|r| r.starts_with("✅ PASS")),
            "{results:?}"
        );
        assert_eq!(
            results
                .iter()
                .filter(|r| **r == "✅ PASS (marginal)")
                .count(),
            2
        );
    }

    #[test]
    fn every_finding_is_in_the_summary() {
        let md = render(&honest_run());
        for expected in [
            "| Measured \\[95% CI\\] |",
            "297 ms \\[289, 623\\]",
            "❌ FAIL (window 0:07–0:12)",
            "| all endpoints | abort | run to 0:12 | stopped at 0:10 |",
            "<summary>Why 4 checks failed</summary>",
            "<summary>2 marginal passes: the budget lies inside the 95% confidence interval</summary>",
            "<summary>1 inconclusive check: too few samples</summary>",
            "needs ≥ 2995 samples: about 1m20s at the observed 40 req/s",
            "  - the 14 failures came 4, 8 and 2 in the first, middle and last thirds",
            "  - the five slowest requests all came in the last second",
        ] {
            assert!(md.contains(expected), "missing {expected:?} in\n{md}");
        }
        // Explanation lines are escaped like everything else that came from the target.
        assert!(!md.contains("<script>"), "{md}");
    }

    #[test]
    fn inconclusive_and_invalid_runs_say_so_up_front() {
        let md = render(&inconclusive_run(false));
        assert!(
            md.starts_with("## ⚠️ SLA INCONCLUSIVE: 11 passed, 1 inconclusive"),
            "{md}"
        );
        assert!(md.contains("> ⚠ WARNING: 1 check is INCONCLUSIVE"), "{md}");
        assert!(md.contains("pass --strict"), "{md}");
        let strict = render(&inconclusive_run(true));
        assert!(
            strict.contains("--strict is set: this run exits 4"),
            "{strict}"
        );

        let md = render(&invalid_run());
        assert!(
            md.starts_with("## ⛔ RUN INVALID: the load generator did not deliver the profile"),
            "{md}"
        );
        assert!(md.contains("the service was not at fault"), "{md}");
        assert!(
            md.contains("> - **cpu** (98% of 2 cores for 6 s): "),
            "{md}"
        );
        assert!(
            md.contains("> - **wake** (p99 wake-up 140 ms late (tolerance 100 ms)): "),
            "{md}"
        );
    }

    #[test]
    fn hostile_text_cannot_break_the_table_or_inject_html() {
        let md = render(&sample_run());
        assert!(!md.contains(HOSTILE_503));
        assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

        let mut run = sample_run();
        let hostile = "a|b `c` <img src=x onerror=alert(1)>\nd\\|e";
        run.endpoints[1].name = hostile.into();
        run.verdict.checks[5].diagnostic = hostile.into();
        run.target = "http://x/<b>|".into();
        let md = render(&run);
        let escaped = "a\\|b \\`c\\` &lt;img src=x onerror=alert(1)&gt;<br>d\\\\\\|e";
        assert_eq!(escape(hostile), escaped);
        assert!(md.contains(escaped));
        assert!(!md.contains("<img") && !md.contains("<b>"));
        // Every table row still has exactly its 8 unescaped delimiters (7 cells).
        for line in md.lines().filter(|l| l.starts_with("| ")) {
            let unescaped = line
                .char_indices()
                .filter(|&(i, c)| {
                    let backslashes = line[..i].chars().rev().take_while(|&b| b == '\\').count();
                    c == '|' && backslashes % 2 == 0
                })
                .count();
            assert_eq!(unescaped, 8, "{line}");
        }
        // The only raw HTML is the markup this file writes itself.
        let tags: std::collections::BTreeSet<&str> = md
            .match_indices('<')
            .map(|(i, _)| md[i..].split('>').next().unwrap())
            .collect();
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            ["</details", "</summary", "<br", "<details", "<summary"]
        );
    }
}
