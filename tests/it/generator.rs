//! The generator judged on itself: a run it starved on purpose, and one with more users than
//! file descriptors, are INVALID with the cause named and the service cleared; an `abort_when`
//! rule stops a run whose target is failing, and the reports are still written in full.
//!
//! Starvation uses the engine's test-only hook (`Options::starve`, or `SLAGATE_TEST_STARVE` for
//! the binary): each worker's runtime busy-loops for a while every 100 ms, which is what an
//! overloaded load-generator machine does to its timers, but deterministic.

use std::path::Path;
use std::time::Duration;

use slagate::config;
use slagate::engine;
use slagate::fixture::{Fixture, Mode};
use slagate::plan::testing::{PlanBuilder, ms, p, secs};
use slagate::plan::{self, Plan};
use slagate::stats::{FailureKind, Summary};
use slagate::verdict::{self, CheckMetric, Judgement, Status, validity::validity};

use crate::server::{Behaviour, TestServer};
use crate::{check, repo_sla, stderr, stdout};

/// One endpoint with a generous budget; `users` all start at once and think `think` (fixed).
fn plan(url: &str, users: u32, run_time: Duration, think: Duration) -> Plan {
    PlanBuilder::new()
        .base_url(url)
        .timeout(secs(5))
        .endpoint("/", |e| e.budget(p(0.5), secs(1)))
        .profile("generator")
        .users(users)
        .spawn_rate(1000.0)
        .run_time(run_time)
        .think(think, think)
        .build()
}

fn run(plan: &Plan, starve: Option<Duration>) -> Summary {
    let addr = engine::preflight(plan).expect("target is up");
    let opts = engine::Options {
        starve,
        ..engine::Options::default()
    };
    let run = engine::run(plan, &addr, &opts, |_| {}).expect("run");
    assert!(!run.interrupted);
    Summary::new(&run.recording, plan.profile.window_start())
}

fn causes(plan: &Plan, summary: &Summary) -> Vec<&'static str> {
    validity(plan, summary).iter().map(|i| i.cause).collect()
}

/// The p99 of the run's think-time wake-up delays.
fn wake_p99(summary: &Summary) -> Duration {
    let mut h = slagate::stats::new_histogram();
    summary.load.wake_delay.add_to(&mut h);
    Duration::from_micros(h.value_at_quantile(0.99))
}

#[test]
fn a_starved_generator_is_invalid_and_the_service_is_not_blamed() {
    // 2 ms answers and a 500 ms think time: the allowed p99 wake-up delay is 50 ms.
    let server = TestServer::start(Behaviour::Fixed(ms(2)));
    let plan = plan(&server.url(), 40, Duration::from_secs(4), ms(500));

    // The control: the same run, not starved, delivers its profile. (CPU is left out here:
    // it is the whole test process's, shared with the tests running beside this one.)
    let fed = run(&plan, None);
    assert_eq!(fed.load.users_planned, 40);
    assert_eq!(fed.load.users_started, 40);
    assert!(
        fed.load.worst_spawn_delay < Duration::from_secs(1),
        "{:?}",
        fed.load.worst_spawn_delay
    );
    assert!(!fed.load.wake_delay.is_empty());
    assert!(!fed.load.cpu.is_empty() && fed.load.cpu.iter().all(|c| (0.0..=1.0).contains(c)));
    let fed_causes: Vec<_> = causes(&plan, &fed)
        .into_iter()
        .filter(|c| *c != "cpu")
        .collect();
    assert!(
        fed_causes.is_empty(),
        "{fed_causes:?}, wake p99 {:?}",
        wake_p99(&fed)
    );

    // Starved: each worker's runtime sleeps 100 ms, then is blocked for 200 ms, over and over.
    // A 500 ms think time is not a multiple of that 300 ms cycle, so the users settle into
    // waking inside a block and waiting out about 100 ms of it: far over the 50 ms allowed.
    let starved = run(&plan, Some(ms(200)));
    let found = validity(&plan, &starved);
    for i in &found {
        eprintln!("starved run: {}: {}\n  {}", i.cause, i.figure, i.message);
    }
    assert!(wake_p99(&starved) >= ms(60), "{:?}", wake_p99(&starved));
    let wake = found
        .iter()
        .find(|i| i.cause == "wake")
        .expect("late wake-ups found");
    assert!(wake.figure.contains("(limit 50 ms)"), "{}", wake.figure);
    for i in &found {
        assert!(
            i.message.contains("the service was not at fault"),
            "{}",
            i.message
        );
    }
    // The target answered every request in 2 ms: it is not what failed.
    assert_eq!(starved.total.failures, 0);

    let verdict = verdict::judge(&plan, &starved);
    assert_eq!(verdict.judgement(), Judgement::Invalid);
    assert_eq!(verdict.invalid, found);
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_starved_binary_run_exits_4_and_says_why() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let profile = write(
        dir.path(),
        "starved.toml",
        "users = 10\nspawn_rate = 100\nrun_time = \"4s\"\nthink_time = \"500ms\"\n\
         level = \"smoke\"\n",
    );
    let json = dir.path().join("run.json");
    let out = check(&profile)
        .sla(repo_sla())
        .host(&fixture.base_url())
        .arg("--json")
        .arg(&json)
        .env(engine::STARVE_ENV, "200ms")
        .run();
    let text = stdout(&out);
    eprintln!("{text}");
    assert_eq!(out.status.code(), Some(4), "{text}\n{}", stderr(&out));
    assert!(text.contains("INVALID"), "{text}");
    assert!(text.contains("the service was not at fault"), "{text}");
    assert!(text.contains("think time late"), "{text}");

    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let invalid = doc["invalid"]
        .as_array()
        .expect("invalid causes in the JSON");
    assert!(invalid.iter().any(|i| i["cause"] == "wake"), "{invalid:?}");
    assert_eq!(doc["exit_code"], 4);
}

#[test]
fn more_users_than_file_descriptors_is_invalid_for_local_resources() {
    // 200 users, each wanting a socket, in a process allowed 64 open files. `ulimit -n` in sh
    // sets the soft and the hard limit, so the engine cannot raise itself out of it.
    let server = TestServer::start(Behaviour::Fixed(ms(20)));
    let dir = tempfile::tempdir().unwrap();
    let sla = write(
        dir.path(),
        "sla.toml",
        &format!(
            "[target]\nbase_url = \"{}\"\n\n[[endpoint]]\nname = \"/\"\n\
             budget = {{ p95 = \"5s\" }}\n",
            server.url()
        ),
    );
    let profile = write(
        dir.path(),
        "crowd.toml",
        "users = 200\nspawn_rate = 1000\nrun_time = \"3s\"\nthink_time = \"50ms\"\n",
    );
    let json = dir.path().join("run.json");
    let out = check(&profile)
        .sla(&sla)
        .arg("--json")
        .arg(&json)
        .under_sh("ulimit -n 64")
        .run();
    let text = stdout(&out);
    eprintln!("{text}");

    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap())
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", stderr(&out)));
    let local = doc["endpoints"][0]["failures_by_kind"]
        .as_array()
        .expect("failures by kind")
        .iter()
        .find(|k| k["kind"] == FailureKind::LocalResource.id())
        .unwrap_or_else(|| panic!("no local resource failures: {doc:#}"));
    assert!(local["count"].as_u64().unwrap() > 0);
    let invalid = doc["invalid"].as_array().expect("invalid causes");
    assert!(
        invalid.iter().any(|i| i["cause"] == "local_resources"),
        "{invalid:?}"
    );
    assert_eq!(out.status.code(), Some(4), "{text}\n{}", stderr(&out));
    assert!(text.contains("ran out of resources"), "{text}");
    assert!(text.contains("the service was not at fault"), "{text}");
    // And it was said before any load was sent.
    let err = stderr(&out);
    let warned = err
        .find("200 users need about 264 open files")
        .unwrap_or_else(|| panic!("no open-files warning: {err}"));
    let started = err.find("slagate: profile").expect("the profile line");
    assert!(warned < started, "{err}");
}

/// The repository's sla.toml with a top-level rule: stop at 50 % errors for 2 s.
fn sla_with_abort(dir: &Path) -> String {
    let text = std::fs::read_to_string(repo_sla()).unwrap();
    write(
        dir,
        "sla.toml",
        &format!("{text}\n[abort_when]\nerror_rate = \"50%\"\nfor = \"2s\"\n"),
    )
}

/// 5 users without think time for up to 20 s, judged as level smoke.
const BURST_PROFILE: &str = "users = 5\nspawn_rate = 100\nrun_time = \"20s\"\nlevel = \"smoke\"\n";

#[test]
fn abort_when_stops_a_failing_run_with_the_reason() {
    // Every endpoint answers 503 from 4 s to 7 s after the fixture started: seconds 4 and 5
    // of the run are all errors, so the rule trips once second 5 is complete, at about 6 s.
    let fixture = Fixture::start(0, Mode::Burst).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sla = config::load_sla(Path::new(&sla_with_abort(dir.path()))).expect("sla");
    let profile = config::parse_profile(Path::new("burst.toml"), BURST_PROFILE.as_bytes()).unwrap();
    let overrides = plan::Overrides {
        host: Some(fixture.base_url()),
        ..plan::Overrides::default()
    };
    let plan = plan::build(&sla, &profile, &overrides).expect("plan");
    let rule = plan.abort_when.as_ref().expect("the file's rule");
    assert_eq!(
        (rule.error_rate, rule.sustained),
        (0.5, Duration::from_secs(2))
    );

    let addr = engine::preflight(&plan).unwrap();
    let run = engine::run(&plan, &addr, &engine::Options::default(), |_| {}).unwrap();
    assert!(!run.interrupted, "an abort is not an interruption");
    let rec = &run.recording;
    let abort = rec.aborted.as_ref().expect("the run was aborted");
    eprintln!("aborted at {:?}: {}", abort.at, abort.reason);
    assert!(
        (Duration::from_millis(5_500)..=Duration::from_millis(8_500)).contains(&abort.at),
        "{:?}",
        abort.at
    );
    assert_eq!(rec.stopped_at, abort.at);
    // In-flight requests finish quickly (the fixture answers within a second): far from 20 s.
    assert!(
        rec.finished_at < Duration::from_secs(11),
        "{:?}",
        rec.finished_at
    );
    assert!(
        abort
            .reason
            .ends_with("(abort_when error_rate = \"50%\", for = \"2s\")"),
        "{}",
        abort.reason
    );
    assert!(
        abort.reason.contains("in each of those 2 s"),
        "{}",
        abort.reason
    );

    let summary = Summary::new(rec, plan.profile.window_start());
    assert_eq!(
        summary.window.end, abort.at,
        "the measured window ends at the abort"
    );
    let verdict = verdict::judge(&plan, &summary);
    assert_eq!(verdict.judgement(), Judgement::Fail);
    let check = verdict
        .checks
        .iter()
        .find(|c| c.metric == CheckMetric::Abort)
        .expect("an abort check");
    assert_eq!(check.status, Status::Fail);
}

#[test]
fn an_aborted_check_exits_1_and_writes_every_report_for_what_was_measured() {
    let fixture = Fixture::start(0, Mode::Burst).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sla = sla_with_abort(dir.path());
    let profile = write(dir.path(), "burst.toml", BURST_PROFILE);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = check(&profile)
        .sla(&sla)
        .host(&fixture.base_url())
        .reports(&out_dir)
        .run();
    let text = stdout(&out);
    eprintln!("{text}");
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    for f in [
        "run.json",
        "run_stats.csv",
        "run_failures.csv",
        "run_stats_history.csv",
        "report.html",
        "junit.xml",
        "summary.md",
    ] {
        let len = std::fs::metadata(out_dir.join(f)).map_or(0, |m| m.len());
        assert!(len > 0, "{f} missing or empty");
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("run.json")).unwrap()).unwrap();
    let end = doc["measured_window"]["end"].as_f64().expect("window end");
    assert!(
        (5.5..=8.5).contains(&end),
        "window ends at {end} s, not at the abort"
    );
    let abort = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "abort")
        .unwrap_or_else(|| panic!("no abort check: {doc:#}"));
    assert_eq!(abort["status"], "fail");
    assert!(text.contains("abort_when"), "{text}");
}
