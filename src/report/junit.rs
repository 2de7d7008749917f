//! The JUnit XML report (`--junit FILE`), so that CI systems show each SLA check as a test:
//! one suite named `slagate`, one testcase per check (classname = profile, name = the check as
//! the sla file states it, e.g. `/health/ p95 < 20 ms`), failures carrying "measured X vs
//! budget Y" with the check's diagnostic as the body. XML escaping is quick-junit's job; this
//! file only decides what goes where.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::table::{value_text, verdict_line};
use super::{RenderError, Reporter, RunOutcome, RunReport};
use crate::verdict::{Check, CheckMetric, Status, Value, fmt_duration, fmt_percent};

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
            RunOutcome::Interrupted => "interrupted",
        };
        let mut props = vec![
            ("verdict", verdict.to_string()),
            ("profile", run.profile.name.clone()),
            ("users", run.profile.users.to_string()),
            ("target", run.target.clone()),
            ("slagate_version", run.slagate_version.clone()),
            ("sla_sha256", run.provenance.sla_sha256.clone()),
            ("profile_sha256", run.provenance.profile_sha256.clone()),
        ];
        if let Some(level) = &run.profile.level {
            props.push(("level", level.clone()));
        }
        if let Some(commit) = &run.provenance.git_commit {
            props.push(("git_commit", commit.clone()));
        }
        suite.add_properties(props.into_iter().map(|(k, v)| Property::new(k, v)));
        suite.add_test_cases(run.verdict.checks.iter().map(|c| test_case(run, c)));
        suite.set_system_out(verdict_line(run));

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
        (_, Value::Latency(d)) => format!("< {}", fmt_duration(d)),
        (_, Value::Rate(r)) => format!("≥ {r} req/s"),
        (_, Value::Fraction(f)) => format!("≤ {}", fmt_percent(f)),
        (_, Value::Count(n)) => format!("≥ {n}"),
    }
}

fn test_case(run: &RunReport, c: &Check) -> TestCase {
    let status = match c.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let measured = c.measured.map_or_else(|| "nothing".to_string(), value_text);
            s.set_message(format!("measured {measured} vs budget {}", budget_text(c)))
                .set_type(c.metric.to_string())
                .set_description(c.diagnostic.clone());
            s
        }
    };
    let mut case = TestCase::new(case_name(run, c), status);
    case.set_classname(run.profile.name.clone());
    // A check is judged over the whole window; CI tools sum testcase times, so give each
    // zero rather than multiplying the run's length by the number of checks.
    case.set_time(Duration::ZERO);
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::{HOSTILE_503, sample_run};

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
    fn hostile_text_is_escaped() {
        let xml = text(&sample_run());
        assert!(!xml.contains(HOSTILE_503));
        assert!(!xml.contains("<script>"));
        assert!(xml.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
