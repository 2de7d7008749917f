//! GitHub Actions workflow-command annotations: each failing check becomes
//! `::error file=sla.toml,line=N,col=C,title=…::measured vs budget`, pointing at the line of
//! the budget that failed, and each inconclusive or marginal check a `::warning`; an INVALID
//! run adds one `::error` per cause (those have no line to point at). GitHub shows them on the
//! pull request's diff and in the run summary.
//!
//! Owns the workflow-command syntax and its escaping, nothing else: the app decides when to
//! print (only when `GITHUB_ACTIONS=true`) and passes `GITHUB_WORKSPACE` in, so this stays pure.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use super::table::{budget_text, check_name, measured_text};
use super::{RenderError, Reporter, RunReport};
use crate::verdict::{Check, Status};

/// The annotations reporter.
#[derive(Debug, Clone, Default)]
pub struct Annotations {
    /// `GITHUB_WORKSPACE`: an absolute sla path inside it is made relative, because GitHub
    /// resolves an annotation's `file` against the repository root.
    pub workspace: Option<PathBuf>,
}

impl Reporter for Annotations {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        Ok(render(run, self.workspace.as_deref()).into_bytes())
    }
}

/// `error` or `warning`, for a check worth annotating.
fn level(c: &Check) -> Option<(&'static str, &'static str)> {
    match c.status {
        Status::Fail => Some(("error", "SLA FAIL")),
        Status::Inconclusive => Some(("warning", "SLA INCONCLUSIVE")),
        Status::Pass if c.marginal => Some(("warning", "SLA marginal pass")),
        Status::Pass | Status::NotJudged => None,
    }
}

/// Every annotation of the run, one workflow command per line.
pub fn render(run: &RunReport, workspace: Option<&Path>) -> String {
    let mut out = String::new();
    for c in &run.verdict.checks {
        let Some((command, label)) = level(c) else {
            continue;
        };
        let mut props = Vec::new();
        if let Some(loc) = &c.location {
            props.push(("file", file_for_github(&loc.file, workspace)));
            props.push(("line", loc.line.to_string()));
            props.push(("col", loc.column.to_string()));
        }
        props.push(("title", format!("{label}: {}", check_name(run, c))));
        let mut message = format!(
            "{} vs budget {}",
            measured_text(c),
            budget_text(c.metric, c.budget)
        );
        for line in std::iter::once(&c.diagnostic)
            .filter(|d| !d.is_empty())
            .chain(&c.explanation)
        {
            message.push('\n');
            message.push_str(line);
        }
        out.push_str(&command_line(command, &props, &message));
    }
    for i in &run.verdict.invalid {
        let props = [("title", format!("INVALID run: {}", i.cause))];
        let message = format!("{}\n{}", i.figure, i.message);
        out.push_str(&command_line("error", &props, &message));
    }
    out
}

/// `::command k=v,k=v::message\n`, escaped as the runner unescapes.
fn command_line(command: &str, props: &[(&str, String)], message: &str) -> String {
    let mut line = format!("::{command}");
    for (i, (key, value)) in props.iter().enumerate() {
        let sep = if i == 0 { ' ' } else { ',' };
        let _ = write!(line, "{sep}{key}={}", escape_property(value));
    }
    let _ = writeln!(line, "::{}", escape_data(message));
    line
}

/// The message part: `%`, CR and LF (GitHub's runner `escapeData`). `%` first, so the escapes
/// themselves are not escaped again.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: also `:` and `,`, which would otherwise end the property list or the
/// value (GitHub's runner `escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The sla file's path as GitHub wants it: relative to the repository root, `/`-separated,
/// without a leading `./`.
fn file_for_github(file: &Path, workspace: Option<&Path>) -> String {
    let relative = workspace
        .and_then(|w| file.strip_prefix(w).ok())
        .unwrap_or(file);
    let parts: Vec<String> = relative
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{honest_run, invalid_run, sample_run};

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_data("a: b, c"), "a: b, c");
        assert_eq!(escape_property("a: b, c%\n"), "a%3A b%2C c%25%0A");
        // Already-escaped-looking text is escaped again, not passed through.
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn one_error_per_failing_check_at_its_budget_line() {
        let run = sample_run();
        let text = render(&run, None);
        let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
        let failing: Vec<&Check> = run
            .verdict
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .collect();
        assert_eq!(errors.len(), failing.len(), "{text}");
        assert!(failing.len() >= 2, "the sample has two failures");
        for (line, c) in errors.iter().zip(&failing) {
            let loc = c
                .location
                .as_ref()
                .expect("every sample check has a location");
            let props = format!(
                "::error file=sla.toml,line={},col={},",
                loc.line, loc.column
            );
            assert!(line.starts_with(&props), "{line}");
            // The title names the check, with `:` and `,` escaped so the property survives.
            assert!(line.contains(",title=SLA FAIL%3A "), "{line}");
            assert!(line.contains(" vs budget "), "{line}");
            // One command per line: a diagnostic's newlines are escaped.
            assert!(!line[2..].contains("\n"));
        }
        // The `/orders/{id}` p99 budget, and the hostile 503 text escaped in the message.
        assert!(
            text.contains("title=SLA FAIL%3A /orders/{id} p99 < 400 ms::"),
            "{text}"
        );
    }

    #[test]
    fn inconclusive_and_marginal_checks_are_warnings() {
        let run = honest_run();
        let text = render(&run, None);
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("::warning "))
            .collect();
        let expected = run
            .verdict
            .checks
            .iter()
            .filter(|c| {
                c.status == Status::Inconclusive || (c.status == Status::Pass && c.marginal)
            })
            .count();
        assert_eq!(warnings.len(), expected, "{text}");
        assert!(
            warnings
                .iter()
                .any(|l| l.contains("title=SLA INCONCLUSIVE%3A /health/ p99.9")),
            "{text}"
        );
        assert!(
            warnings
                .iter()
                .any(|l| l.contains("title=SLA marginal pass%3A /health/ p95")),
            "{text}"
        );
        // Passing checks that are not marginal say nothing.
        assert!(!text.contains("/health/ p50"), "{text}");
    }

    #[test]
    fn an_invalid_run_has_one_error_per_cause() {
        let run = invalid_run();
        let text = render(&run, None);
        let invalid = text
            .lines()
            .filter(|l| l.starts_with("::error title=INVALID run%3A "))
            .count();
        assert_eq!(invalid, run.verdict.invalid.len(), "{text}");
        assert!(invalid > 0);
    }

    #[test]
    fn paths_are_made_relative_to_the_workspace() {
        let ws = Path::new("/home/runner/work/app/app");
        let cases = [
            ("/home/runner/work/app/app/sla.toml", "sla.toml"),
            ("/home/runner/work/app/app/perf/sla.toml", "perf/sla.toml"),
            ("./perf/sla.toml", "perf/sla.toml"),
            ("sla.toml", "sla.toml"),
            ("/elsewhere/sla.toml", "/elsewhere/sla.toml"),
        ];
        for (file, want) in cases {
            assert_eq!(file_for_github(Path::new(file), Some(ws)), want, "{file}");
        }
    }
}
