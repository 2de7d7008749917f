//! Explanations of real runs against the embedded simulator, in-process (engine → Summary →
//! judge → explain), and the capacity warning on the repository's own profiles.
//!
//! Ground truth is the fixture's design, not timing: `creeping` multiplies every latency by
//! 1 + 7·t/30, so the last third of a short run is about twice as slow as the first; `burst`
//! answers 503 to everything from 4 s to 7 s after the server started. Bounds are generous (a
//! busy machine shifts a second boundary or adds a millisecond), never tight timings.

use std::path::Path;
use std::time::Duration;

use slagate::fixture::{Fixture, Mode};
use slagate::plan::{Budget, Location, Metric, Overrides, Plan, Quantile};
use slagate::stats::Summary;
use slagate::verdict::explain::{capacity_warning, explain};
use slagate::verdict::{Check, CheckMetric, Status, Subject, judge};
use slagate::{config, engine, plan};

use crate::repo_sla;

/// The repository's sla.toml and a profile, aimed at `url` with these overrides.
fn repo_plan(profile: &str, url: &str, users: u32, run_time: Duration) -> Plan {
    let sla_path = repo_sla();
    let sla = config::load_sla(&sla_path).unwrap();
    let path = config::resolve_profile(&sla_path, profile).unwrap();
    let profile = config::load_profile(&path).unwrap();
    plan::build(
        &sla,
        &profile,
        &Overrides {
            host: Some(url.to_string()),
            users: Some(users),
            spawn_rate: Some(100.0),
            run_time: Some(run_time),
            ..Overrides::default()
        },
    )
    .unwrap()
}

/// Run the plan against its target and summarise the measured window as `slagate check` does.
fn run(plan: &Plan) -> Summary {
    let addr = engine::preflight(plan).expect("the fixture is up");
    let run = engine::run(plan, &addr, &engine::Options::default(), |_| {}).expect("run");
    let ramp_up = plan.profile.ramp_up();
    let window_start = ramp_up.as_secs() + u64::from(ramp_up.subsec_nanos() > 0);
    Summary::new(&run.recording, window_start as u32)
}

fn endpoint(plan: &Plan, name: &str) -> usize {
    plan.endpoints.iter().position(|e| e.name == name).unwrap()
}

fn find(checks: &[Check], subject: Subject, metric: CheckMetric) -> &Check {
    checks
        .iter()
        .find(|c| c.subject == subject && c.metric == metric)
        .unwrap_or_else(|| panic!("no {metric} check for {subject:?}"))
}

/// The explanation of one check, printed so `--nocapture` shows what a user would read.
fn explained(plan: &Plan, summary: &Summary, check: &Check) -> Vec<String> {
    let lines = explain(plan, summary, check);
    eprintln!("{:?} {} ({:?}):", check.subject, check.metric, check.status);
    for l in &lines {
        eprintln!("  {l}");
    }
    lines
}

/// "m:ss" → seconds.
fn secs(mss: &str) -> u64 {
    let (m, s) = mss.split_once(':').unwrap();
    m.parse::<u64>().unwrap() * 60 + s.parse::<u64>().unwrap()
}

#[test]
fn creeping_latency_is_explained_as_a_rise_at_constant_load() {
    let fixture = Fixture::start(0, Mode::Creeping).unwrap();
    let mut plan = repo_plan("smoke", &fixture.base_url(), 20, Duration::from_secs(12));
    // In 12 s the creep reaches 3.8×, short of breaking sla.toml's budgets (that takes ~20 s);
    // a p50 budget of 40 ms on /system/metrics (healthy median 25 ms) breaks at 1.6×, which
    // the window's p50 (≈ 2–2.5×: the run is busier early) is well past; the first third's
    // (≈ 1.2–2×) and the last third's (≈ 2.9–3.8×) p50s are about 2× apart.
    let metrics = endpoint(&plan, "/system/metrics");
    let p50 = Metric::Percentile(Quantile::new(0.5).unwrap());
    plan.endpoints[metrics].budgets = vec![Budget {
        metric: p50,
        limit: Duration::from_millis(40),
        location: Location::default(),
    }];
    let summary = run(&plan);
    let verdict = judge(&plan, &summary);
    let check = find(
        &verdict.checks,
        Subject::Endpoint(metrics),
        CheckMetric::Latency(p50),
    );
    assert_eq!(check.status, Status::Fail, "{check:#?}");
    let lines = explained(&plan, &summary, check);
    assert!(
        check.diagnostic.starts_with("p50 was ")
            && check.diagnostic.contains("against a budget of < 40 ms"),
        "{}",
        check.diagnostic
    );
    assert!(
        lines[0].starts_with("slowest of /system/metrics: "),
        "{lines:#?}"
    );
    let rise = lines
        .iter()
        .find(|l| l.starts_with("p50 rose from "))
        .unwrap_or_else(|| panic!("no over-time line: {lines:#?}"));
    assert!(
        rise.contains("in the first third of the window to ")
            && rise.contains("while load was constant (20 users, ")
            && rise.ends_with(": saturation or a leak"),
        "{rise}"
    );
    // No failures in this mode: no burst, no kinds; the hint is the guide's saturation row.
    assert!(!lines.iter().any(|l| l.contains(" × ")), "{lines:#?}");
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("hint (guide, High Response Times): latency climbing"),
        "{lines:#?}"
    );
}

#[test]
fn a_burst_of_503s_is_named_with_its_time() {
    let fixture = Fixture::start(0, Mode::Burst).unwrap();
    let plan = repo_plan("smoke", &fixture.base_url(), 10, Duration::from_secs(9));
    let summary = run(&plan);
    let verdict = judge(&plan, &summary);
    // Level smoke tolerates no failed request.
    let check = find(&verdict.checks, Subject::All, CheckMetric::MaxErrorRate);
    assert_eq!(check.status, Status::Fail, "{check:#?}");
    let lines = explained(&plan, &summary, check);
    let burst = lines
        .iter()
        .find(|l| l.contains(" of errors from "))
        .unwrap_or_else(|| panic!("no burst line: {lines:#?}"));
    // "3 s of errors from 0:04 (0:04–0:06): 95 × HTTP 503 Service Unavailable, …"
    let span = burst
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(span, _)| span)
        .unwrap();
    let (from, to) = span.split_once('–').unwrap();
    assert!(
        (3..=4).contains(&secs(from)),
        "the burst starts 4 s after the server: {burst}"
    );
    assert!((6..=7).contains(&secs(to)), "and ends 7 s after: {burst}");
    assert!(burst.contains(" × HTTP 503 Service Unavailable"), "{burst}");
    let kind = lines
        .iter()
        .find(|l| l.contains(" × HTTP 503 Service Unavailable, first at "))
        .unwrap_or_else(|| panic!("no kinds line: {lines:#?}"));
    assert!(kind.contains("; e.g. at "), "{kind}");
    assert!(!lines.iter().any(|l| l.contains("rose from")), "{lines:#?}");
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("hint (guide, High Error Rate): HTTP 503/429"),
        "{lines:#?}"
    );
}

#[test]
fn degraded_failures_are_explained_by_kind_and_hint() {
    let fixture = Fixture::start(0, Mode::Degraded).unwrap();
    let plan = repo_plan("smoke", &fixture.base_url(), 10, Duration::from_secs(8));
    let summary = run(&plan);
    let verdict = judge(&plan, &summary);
    let errors = find(&verdict.checks, Subject::All, CheckMetric::MaxErrorRate);
    assert_eq!(errors.status, Status::Fail);
    let lines = explained(&plan, &summary, errors);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(|c: char| c.is_ascii_digit())
                && l.contains(" × HTTP 503 Service Unavailable, ")
                && l.contains("; e.g. at ")),
        "{lines:#?}"
    );
    // Every 10th /optimize/run fails: spread evenly, never a burst.
    assert!(
        !lines.iter().any(|l| l.contains(" of errors from ")),
        "{lines:#?}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("hint (guide, High Error Rate)"),
        "{lines:#?}"
    );
    // Every 50th /analysis/ takes 2.2–2.8 s: the slowest are named with their times.
    let analysis = endpoint(&plan, "/analysis/");
    for c in verdict
        .checks
        .iter()
        .filter(|c| c.subject == Subject::Endpoint(analysis) && c.status == Status::Fail)
    {
        let lines = explained(&plan, &summary, c);
        assert!(lines[0].contains("; slowest: 2."), "{lines:#?}");
        assert!(
            lines
                .last()
                .unwrap()
                .starts_with("hint (guide, High Response Times)"),
            "{lines:#?}"
        );
    }
}

#[test]
fn the_repository_profiles_can_all_reach_their_levels() {
    let sla_path = repo_sla();
    let sla = config::load_sla(&sla_path).unwrap();
    let paths = config::profile_paths(&sla_path).unwrap();
    assert_eq!(paths.len(), 6, "{paths:?}");
    for path in paths {
        let profile = config::load_profile(&path).unwrap();
        let plan = plan::build(&sla, &profile, &Overrides::default()).unwrap();
        assert_eq!(capacity_warning(&plan), None, "{}", path.display());
    }
}

#[test]
fn a_profile_that_cannot_reach_min_rps_is_warned_about() {
    // Level medium needs 40 req/s; 50 users thinking 1–2 s make at most 33 even against an
    // instant server.
    let dir = tempfile::tempdir().unwrap();
    let sla_path = dir.path().join("sla.toml");
    std::fs::copy(repo_sla(), &sla_path).unwrap();
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    let profile_path = dir.path().join("profiles/medium.toml");
    std::fs::write(
        &profile_path,
        "users = 50\nspawn_rate = 5\nrun_time = \"5m\"\nthink_time = { min = \"1s\", max = \"2s\" }\n",
    )
    .unwrap();
    let sla = config::load_sla(&sla_path).unwrap();
    let profile = config::load_profile(Path::new(&profile_path)).unwrap();
    let plan = plan::build(&sla, &profile, &Overrides::default()).unwrap();
    let warning = capacity_warning(&plan).expect("a warning");
    eprintln!("{warning}");
    assert!(
        warning.contains("cannot reach level `medium`'s min_rps of 40 req/s")
            && warning.contains("at most 33.3 req/s"),
        "{warning}"
    );
}
