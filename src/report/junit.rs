//! The JUnit XML report (`--junit FILE`), so that CI systems show each SLA check as a test:
//! one suite named `slagate`, one testcase per check (classname = profile, name = the check as
//! the sla file states it, e.g. `/health/ p95 < 20 ms`), failures carrying "measured X vs
//! budget Y" with the check's diagnostic and explanation lines as the body. XML escaping is
//! quick-junit's job; this file only decides what goes where.
//!
//! Issue 4's statuses, chosen for what CI test tabs (GitHub test reporters, GitLab, Jenkins)
//! show best:
//! - INCONCLUSIVE is a *skipped* testcase whose message says what it needs ("needs ≥ 299
//!   samples: about 4m10s …"): every CI tab shows skipped tests apart, in yellow, where a
//!   passing testcase's system-out would be invisible and a failure would be a lie. Under
//!   `--strict` it is a *failure* of type `inconclusive`, because it then fails the job and
//!   the tab should say why.
//! - A marginal pass is a passing testcase with the reason in its system-out.
//! - An INVALID run adds one *error* testcase per cause (`load generator: cpu`): JUnit's
//!   "error" means the test could not be carried out, which is exactly the case.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::table::{measured_text, verdict_line};
use super::{NotRun, RenderError, Reporter, RunOutcome, RunReport};
use crate::units;
use crate::verdict::{Check, CheckMetric, Invalidity, Status, Value};

/// Suite (and report) name: what CI dashboards group the checks under.
const SUITE: &str = "slagate";

pub struct Junit;

impl Reporter for Junit {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        let mut suite = TestSuite::new(SUITE);
        suite
            .set_timestamp(chrono::DateTime::<chrono::Utc>::from(run.started_at))
            .set_time(run.window.length());
        // What a reader of a CI test tab needs to tie these results to a run.
        let verdict = match run.outcome {
            RunOutcome::Pass => "pass",
            RunOutcome::Fail => "fail",
            RunOutcome::Inconclusive => "inconclusive",
            RunOutcome::Invalid => "invalid",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Shard => "shard",
        };
        let mut props = vec![
            ("verdict", verdict.to_string()),
            ("strict", run.strict.to_string()),
            ("profile", run.profile.name.clone()),
            ("load", run.profile.load.summary()),
            ("target", run.target.clone()),
            ("slagate_version", run.slagate_version.clone()),
            ("sla_sha256", run.provenance.sla_sha256.clone()),
            ("profile_sha256", run.provenance.profile_sha256.clone()),
        ];
        if let Some(level) = &run.profile.level {
            props.push(("level", level.clone()));
        }
        let c = &run.connections;
        if let Some((protocol, _)) = c.protocols.first() {
            props.push(("protocol", protocol.clone()));
        }
        if let Some((version, _)) = c.tls_versions.first() {
            props.push(("tls_version", version.clone()));
        }
        if let Some(verified) = c.verified {
            props.push(("tls_verified", verified.to_string()));
        }
        if let Some(commit) = &run.provenance.git_commit {
            props.push(("git_commit", commit.clone()));
        }
        suite.add_properties(props.into_iter().map(|(k, v)| Property::new(k, v)));
        // A flow's figures (its budget, if any, is a test case like an endpoint's).
        suite.add_properties(run.flows.iter().map(|f| {
            let s = &f.stats;
            let ms = |q: f64| super::table::ms(s.quantile(q));
            Property::new(
                format!("flow.{}", f.name),
                format!(
                    "{} iterations, {} failed, {:.2}/s; iteration time ms p50 {} p95 {} p99 {} \
                     max {}",
                    s.requests,
                    s.failures,
                    s.rps,
                    ms(0.5),
                    ms(0.95),
                    ms(0.99),
                    super::table::ms(s.max())
                ),
            )
        }));
        suite.add_test_cases(run.verdict.checks.iter().map(|c| test_case(run, c)));
        suite.add_test_cases(run.verdict.invalid.iter().map(|i| invalid_case(run, i)));
        if run.outcome == RunOutcome::Interrupted {
            suite.add_test_case(interrupted_case(run));
        }
        let mut out = verdict_line(run);
        if let Some(warning) = super::table::insecure_warning(run) {
            out = format!("{warning}\n{out}");
        }
        let origin = super::table::origin_lines(run);
        if !origin.is_empty() {
            out = format!("{}\n{out}", origin.join("\n"));
        }
        suite.set_system_out(out);

        let mut report = Report::new(SUITE);
        report
            .set_timestamp(chrono::DateTime::<chrono::Utc>::from(run.started_at))
            .set_time(run.window.length())
            .add_test_suite(suite);
        let mut out = Vec::new();
        report
            .serialize(&mut out)
            .map_err(|e| RenderError::Format(format!("JUnit XML: {e}")))?;
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        Ok(out)
    }
}

/// An interrupted run has no verdict: a CI tab must show it as a run that could not be carried
/// out (an *error*), never as green checks.
fn interrupted_case(run: &RunReport) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_type("interrupted").set_message(format!(
        "the run was interrupted at {} of its {}: the checks above judge only what was measured \
         until then, and the run has no verdict",
        units::offset(run.window.end),
        units::offset(run.profile.run_time)
    ));
    let mut case = TestCase::new("slagate run interrupted", status);
    case.set_classname(run.profile.name.clone());
    case
}

/// `/health/ p95 < 20 ms`, `all endpoints min_rps ≥ 40 req/s`, `/x coverage ≥ 1 success`.
fn case_name(run: &RunReport, c: &Check) -> String {
    format!(
        "{} {} {}",
        run.subject_name(&c.subject),
        c.metric,
        budget_text(c)
    )
}

/// The budget as the sla file states it: round numbers stay round ("40 req/s", not "40.0").
fn budget_text(c: &Check) -> String {
    match (c.metric, c.budget) {
        (CheckMetric::Coverage, Value::Count(n)) => {
            format!("≥ {n} success{}", if n == 1 { "" } else { "es" })
        }
        (_, Value::Latency(d)) => format!("< {}", units::duration(d)),
        (_, Value::Rate(r)) => format!("≥ {r} req/s"),
        (_, Value::Fraction(f)) => format!("≤ {}", units::percent(f)),
        (_, Value::Count(n)) => format!("≥ {n}"),
        (_, Value::Offset(d)) => format!("run to {}", units::offset(d)),
    }
}

/// The diagnostic, then each explanation line as a bullet.
fn body(c: &Check) -> String {
    let mut text = c.diagnostic.clone();
    for line in &c.explanation {
        text.push_str("\n- ");
        text.push_str(line);
    }
    text
}

fn test_case(run: &RunReport, c: &Check) -> TestCase {
    let measured = match c.measured {
        None => "nothing".to_string(),
        Some(_) => measured_text(c),
    };
    let status = match c.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let window = super::table::breached_window(c)
                .map_or_else(String::new, |w| format!(" (breached in window {w})"));
            s.set_message(format!(
                "measured {measured} vs budget {}{window}",
                budget_text(c)
            ))
            .set_type(c.metric.to_string())
            .set_description(body(c));
            s
        }
        Status::Inconclusive => {
            let needs = c
                .needs
                .map_or_else(String::new, |n| crate::verdict::needs_text(&n));
            let message = format!("INCONCLUSIVE: measured {measured} on too few samples; {needs}");
            let mut s = if run.strict {
                TestCaseStatus::non_success(NonSuccessKind::Failure)
            } else {
                TestCaseStatus::skipped()
            };
            s.set_message(message)
                .set_type("inconclusive")
                .set_description(body(c));
            s
        }
        // Skipped, as CI tabs show it apart: this run did not judge it, nor did it pass.
        Status::NotJudged => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(c.diagnostic.clone()).set_type("not-judged");
            s
        }
    };
    let mut case = TestCase::new(case_name(run, c), status);
    if c.status == Status::Pass && c.marginal {
        case.set_system_out(format!("marginal: {}", body(c)));
    }
    case.set_classname(run.profile.name.clone());
    // A check is judged over the whole window; CI tools sum testcase times, so give each
    // zero rather than multiplying the run's length by the number of checks.
    case.set_time(Duration::ZERO);
    case
}

/// One cause of an INVALID run as an errored testcase: the checks above it were measured, but
/// not against the load the profile describes.
fn invalid_case(run: &RunReport, i: &Invalidity) -> TestCase {
    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
    s.set_message(format!(
        "RUN INVALID: {} (the service was not at fault)",
        i.figure
    ))
    .set_type(format!("invalid.{}", i.cause))
    .set_description(i.message.clone());
    let mut case = TestCase::new(format!("load generator: {}", i.cause), s);
    case.set_classname(run.profile.name.clone());
    case.set_time(Duration::ZERO);
    case
}

/// The run could not be made: one suite with one *error* test case that says why, so that a
/// CI test tab shows a broken gate, never an empty (green) suite or an older run's results.
pub fn not_run(doc: &NotRun) -> Vec<u8> {
    let mut suite = TestSuite::new(SUITE);
    suite.set_timestamp(chrono::DateTime::<chrono::Utc>::from(doc.at));
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status
        .set_type("not-run")
        .set_message(format!("the run could not be made: {}", doc.reason));
    suite.add_test_case(TestCase::new("slagate run", status));
    let mut report = Report::new(SUITE);
    report.add_test_suite(suite);
    let mut out = report.to_string().unwrap_or_default().into_bytes();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{
        HOSTILE_503, honest_run, inconclusive_run, invalid_run, sample_run,
    };

    fn text(run: &RunReport) -> String {
        String::from_utf8(Junit.render(run).unwrap()).unwrap()
    }

    #[test]
    fn snapshot_of_the_sample_run() {
        insta::assert_snapshot!(text(&sample_run()));
    }

    #[test]
    fn one_case_per_check_named_as_the_sla_file_says() {
        let run = sample_run();
        let xml = text(&run);
        assert_eq!(xml.matches("<testcase ").count(), run.verdict.checks.len());
        for name in [
            "/health/ p95 &lt; 20 ms",
            "/orders/{id} p99 &lt; 400 ms",
            "/checkout max &lt; 3 s",
            "all endpoints min_rps ≥ 40 req/s",
            "all endpoints max_error_rate ≤ 0.5%",
            "/checkout coverage ≥ 1 success",
        ] {
            assert!(
                xml.contains(&format!("name=\"{name}\"")),
                "{name} in\n{xml}"
            );
        }
        assert!(xml.contains("classname=\"medium\""));
        assert!(xml.contains("failures=\"2\""), "two failing checks");
        assert!(xml.contains("timestamp=\"2026-11-29T10:56:52.000+00:00\""));
    }

    #[test]
    fn inconclusive_is_skipped_unless_strict_makes_it_a_failure() {
        let xml = text(&inconclusive_run(false));
        assert!(
            xml.contains("disabled=\"1\""),
            "quick-junit counts skipped cases as disabled: {xml}"
        );
        assert!(xml.contains("failures=\"0\""), "{xml}");
        assert!(
            xml.contains(
                "<skipped message=\"INCONCLUSIVE: measured 9 ms on too few samples; needs ≥ 2995 \
                 samples: about 1m20s at the observed 40 req/s\" type=\"inconclusive\">"
            ),
            "{xml}"
        );
        assert!(xml.contains("<property name=\"verdict\" value=\"inconclusive\"/>"));
        assert!(xml.contains("<property name=\"strict\" value=\"false\"/>"));

        let xml = text(&inconclusive_run(true));
        assert!(
            xml.contains("disabled=\"0\"") && !xml.contains("<skipped"),
            "{xml}"
        );
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(xml.contains("type=\"inconclusive\""), "{xml}");
        assert!(xml.contains("<property name=\"strict\" value=\"true\"/>"));
    }

    #[test]
    fn an_invalid_run_adds_an_errored_case_per_cause() {
        let run = invalid_run();
        let xml = text(&run);
        assert_eq!(
            xml.matches("<testcase ").count(),
            run.verdict.checks.len() + 2
        );
        assert!(xml.contains("errors=\"2\""), "{xml}");
        assert!(xml.contains("name=\"load generator: cpu\""), "{xml}");
        assert!(
            xml.contains(
                "<error message=\"RUN INVALID: 98% of 2 cores for 6 s (the service was not at \
                 fault)\" type=\"invalid.cpu\">"
            ),
            "{xml}"
        );
        assert!(xml.contains("<property name=\"verdict\" value=\"invalid\"/>"));
    }

    #[test]
    fn marginal_windows_explanations_and_abort_are_shown() {
        let xml = text(&honest_run());
        assert!(
            xml.contains("<system-out>marginal: p95 was 8.6 ms [8.1, 20.4]"),
            "{xml}"
        );
        assert!(
            xml.contains(
                "message=\"measured 197 ms [191 ms, 2 s] vs budget &lt; 300 ms (breached in \
                 window 0:07–0:12)\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"all endpoints abort run to 0:12\""),
            "{xml}"
        );
        assert!(
            xml.contains("message=\"measured stopped at 0:10 vs budget run to 0:12\""),
            "{xml}"
        );
        assert!(
            xml.contains(
                "\n- the 14 failures came 4, 8 and 2 in the first, middle and last thirds"
            ),
            "explanation lines: {xml}"
        );
    }

    #[test]
    fn hostile_text_is_escaped() {
        let xml = text(&sample_run());
        assert!(!xml.contains(HOSTILE_503));
        assert!(!xml.contains("<script>"));
        assert!(xml.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
