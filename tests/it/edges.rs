//! The edges a CI gate must hold (issue 8): misbehaving services are judged, never excused;
//! nothing measured is lost to a closed pipe, a stale file or a signal. Each test starts its own
//! server on 127.0.0.1:0 and a short, bounded run of the real binary.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use slagate::fixture::{Fixture, Mode};

use crate::server::{Behaviour, TestServer, unused_port_url};
use crate::{check, failing_rows, repo_sla, slagate, stderr, stdout};

/// A scratch folder: an sla file with one endpoint `/x` (p50 < 200 ms, p95 < 500 ms) and the
/// given `[level.edge]` lines (none: the profile's level is not in the file), and a profile
/// `edge` of these lines.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(base_url: &str, timeout: &str, level: Option<&str>, profile: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let level = level.map_or(String::new(), |l| format!("[level.edge]\n{l}\n"));
        let sla = format!(
            "[target]\nbase_url = \"{base_url}\"\ntimeout = \"{timeout}\"\n\n\
             [[endpoint]]\nname = \"/x\"\nbudget = {{ p50 = \"200ms\", p95 = \"500ms\" }}\n\n\
             {level}"
        );
        std::fs::write(dir.path().join("sla.toml"), sla).unwrap();
        std::fs::create_dir(dir.path().join("profiles")).unwrap();
        std::fs::write(dir.path().join("profiles/edge.toml"), profile).unwrap();
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn check(&self) -> crate::Check {
        check(self.path("profiles/edge.toml")).sla(self.path("sla.toml"))
    }

    fn json(&self, name: &str) -> serde_json::Value {
        let bytes = std::fs::read(self.path(name))
            .unwrap_or_else(|e| panic!("{name} was not written: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
    }
}

/// Every request the saved run holds, ramp-up and drain included.
fn timeline_requests(run: &serde_json::Value) -> u64 {
    run["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["requests"].as_u64().unwrap())
        .sum()
}

/// Read `child`'s stderr until a line containing `needle` (or the deadline); the rest of the
/// stream is drained on a thread so the child never blocks on a full pipe.
fn wait_for_stderr(child: &mut Child, needle: &str) -> String {
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(err);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = tx.send(std::mem::take(&mut line));
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push_str(&line);
            if line.contains(needle) {
                return seen;
            }
        }
    }
    panic!("no {needle:?} on stderr within 30 s:\n{seen}");
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, sig) };
}

/// Item 1: a slow service, with several users and a think time, is a slow service (FAIL), not
/// a generator that woke up late (INVALID): the last responses come after the run time, and
/// the wait for them is the service's, not slagate's.
#[test]
fn a_slow_or_hanging_service_is_fail_never_invalid() {
    let slow = TestServer::start(Behaviour::Fixed(Duration::from_millis(1500)));
    let hang = TestServer::start(Behaviour::Hang);
    for (server, timeout) in [(&slow, "10s"), (&hang, "1s")] {
        let s = Scratch::new(
            &server.url(),
            timeout,
            None,
            "users = 5\nspawn_rate = 100\nrun_time = \"4s\"\nthink_time = \"100ms\"\n",
        );
        let out = s.check().run();
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
        assert!(!text.contains("RUN INVALID"), "{text}");
        assert!(!text.contains("not at fault"), "{text}");
        assert!(
            failing_rows(&text).contains(&"/x p50".to_string()),
            "{text}"
        );
    }
}

/// Item 2: a profile whose level is not in the sla file still judges an error ceiling (0% by
/// default): a service refusing most requests after a few answers cannot pass, and both the
/// verdict line and `validate` say which ceiling applies.
#[test]
fn without_a_level_the_default_error_ceiling_is_judged() {
    let dying = TestServer::start(Behaviour::DieAfter { answered: 40 });
    let s = Scratch::new(
        &dying.url(),
        "2s",
        None,
        "users = 2\nspawn_rate = 100\nrun_time = \"3s\"\nthink_time = \"50ms\"\n",
    );
    let out = s.check().run();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(
        failing_rows(&text).contains(&"all endpoints max_error_rate".to_string()),
        "{text}"
    );
    assert!(text.contains("default error ceiling ≤ 0%"), "{text}");
    assert!(
        text.contains("The default ceiling: level `edge` sets no max_error_rate"),
        "{text}"
    );

    let sla = s.path("sla.toml");
    let out = slagate(&["validate", "--sla", sla.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "profile edge (no [level.edge] in the sla file) judges 2 latency budgets and \
             coverage on 1 endpoint, max_error_rate 0% (the default: the level sets none), no \
             min_rps"
        ),
        "{}",
        stderr(&out)
    );
}

/// Item 3: a request refused or reset before any answer has no response time. A service that
/// resets every connection fails its latency budgets for want of an answer instead of passing
/// them on microsecond failures.
#[test]
fn connection_failures_are_not_fast_answers() {
    let reset = TestServer::start(Behaviour::Reset);
    let s = Scratch::new(
        &reset.url(),
        "2s",
        Some("max_error_rate = \"100%\""),
        "users = 2\nspawn_rate = 100\nrun_time = \"2s\"\nthink_time = \"20ms\"\n",
    );
    let json = s.path("run.json");
    let out = s.check().arg("--json").arg(&json).run();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    let failing = failing_rows(&text);
    for row in ["/x p50", "/x p95", "/x coverage"] {
        assert!(failing.contains(&row.to_string()), "{row}: {text}");
    }
    let run = s.json("run.json");
    let p50 = &run["checks"][0];
    assert_eq!(p50["metric"], "p50");
    assert!(
        p50["diagnostic"]
            .as_str()
            .unwrap()
            .contains("got an answer, so there is no response time to show p50 < 200 ms"),
        "{p50}"
    );
    let x = &run["endpoints"][0];
    assert!(x["requests"].as_u64().unwrap() > 0);
    assert_eq!(x["failures"], x["requests"]);
    assert!(x["percentiles"]["50"].is_null(), "{}", x["percentiles"]);
    assert_eq!(x["statuses"], serde_json::json!({}));
}

/// Item 4: a service that answered during the ramp-up and then died was measured: it is
/// judged (FAIL) and every report is written. Under `--repeat`, a later run in which no
/// request reached the target at all is combined with the runs already made.
#[test]
fn a_service_that_dies_after_answering_is_judged_and_reported() {
    let dying = TestServer::start(Behaviour::DieAfter { answered: 30 });
    let s = Scratch::new(
        &dying.url(),
        "2s",
        None,
        "users = 2\nspawn_rate = 1\nrun_time = \"3s\"\n",
    );
    let out = s.check().reports(s.dir.path()).run();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(
        !stderr(&out).contains("stopped accepting connections"),
        "{}",
        stderr(&out)
    );
    let run = s.json("run.json");
    assert_eq!(run["verdict"], "fail");
    assert!(timeline_requests(&run) > 30);
    for name in ["report.html", "junit.xml", "summary.md", "run_stats.csv"] {
        assert!(s.path(name).exists(), "{name}");
    }

    let dying = TestServer::start(Behaviour::DieAfter { answered: 30 });
    let s = Scratch::new(
        &dying.url(),
        "2s",
        None,
        "users = 2\nspawn_rate = 1\nrun_time = \"3s\"\n",
    );
    let json = s.path("repeat.json");
    let out = s
        .check()
        .args(["--repeat", "3"])
        .arg("--json")
        .arg(&json)
        .run();
    let (text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}\n{err}");
    assert!(
        err.contains("run 2 of 3 reached no target: no further runs; combining the 2 made"),
        "{err}"
    );
    assert!(text.contains("━━ combined: 2 runs"), "{text}");
    assert_eq!(s.json("repeat-run1.json")["verdict"], "fail");
    assert_eq!(s.json("repeat-run2.json")["verdict"], "fail");
    assert!(!s.path("repeat-run3.json").exists());
    assert_eq!(s.json("repeat.json")["verdict"], "fail");
}

/// Item 5: redirects are not followed: a 302 to a login page is a failure, and every output
/// shows each endpoint's answers by status code.
#[test]
fn a_redirect_is_a_failure_and_every_answer_is_shown_by_status() {
    let login = TestServer::start(Behaviour::Redirect {
        status: 302,
        location: "/login".into(),
    });
    let s = Scratch::new(
        &login.url(),
        "2s",
        Some("max_error_rate = \"1%\""),
        "users = 2\nspawn_rate = 100\nrun_time = \"2s\"\nthink_time = \"20ms\"\n",
    );
    let out = s.check().reports(s.dir.path()).run();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert!(text.contains("Answers by status code"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("/x") && l.contains("302 × "))
        .unwrap_or_else(|| panic!("no 302 in the answers table:\n{text}"));
    assert!(row.contains("302 × "), "{row}");
    assert!(text.contains("HTTP 302 Found → /login"), "{text}");
    let run = s.json("run.json");
    let statuses = run["endpoints"][0]["statuses"].as_object().unwrap();
    assert_eq!(statuses.keys().collect::<Vec<_>>(), ["302"]);
    assert_eq!(
        statuses["302"].as_u64(),
        run["endpoints"][0]["requests"].as_u64()
    );
    let html = std::fs::read_to_string(s.path("report.html")).unwrap();
    assert!(html.contains("Answers by status code"), "html");
    assert!(html.contains("302 × "), "html");
}

/// Item 6: the shipped smoke profile gives a healthy service a real PASS in about a minute,
/// and its table says which budgets it leaves to longer profiles.
#[test]
fn the_smoke_profile_passes_a_healthy_service_in_a_minute() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let out = check("smoke")
        .sla(repo_sla())
        .host(&fixture.base_url())
        .run();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let verdict = text
        .lines()
        .rev()
        .find(|l| l.starts_with("SLA "))
        .unwrap_or_else(|| panic!("no verdict line:\n{text}"));
    assert!(verdict.starts_with("SLA PASSED: 11/11 checks"), "{verdict}");
    assert!(
        verdict.contains("15 budgets left to longer profiles"),
        "{verdict}"
    );
    let not_judged = text.lines().filter(|l| l.contains("not judged")).count();
    assert_eq!(not_judged, 15, "{text}");
}

/// Item 7: a closed stdout (`slagate check … | head -1`) ends the printing, not the run: the
/// process exits with the verdict's code and writes every report.
#[test]
fn a_closed_pipe_stops_the_printing_not_the_run() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = check(crate::quick_profile())
        .sla(repo_sla())
        .host(&fixture.base_url())
        .users(4)
        .spawn_rate(100)
        .run_time("2s")
        .reports(dir.path())
        .spawn();
    // Both ends closed before slagate prints its first line, as `| head -0` would.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "a verdict's exit code, not a panic: {status:?}"
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.json")).unwrap()).unwrap();
    assert!(run["total"]["requests"].as_u64().unwrap() > 0);
    assert!(dir.path().join("junit.xml").exists());
}

/// Item 8: checking report paths leaves nothing at them; a run that could not be made (bad
/// configuration: exit 2; target unreachable: exit 3) replaces every older report with a
/// not-run document, and removes stale CSV files, so no file shows an older verdict as fresh.
#[test]
fn a_run_not_made_leaves_no_stale_or_empty_report() {
    let s = Scratch::new(
        &unused_port_url(),
        "1s",
        None,
        "users = 1\nspawn_rate = 1\n",
    );
    let stale = |s: &Scratch| {
        for name in [
            "run.json",
            "junit.xml",
            "summary.md",
            "report.html",
            "run_stats.csv",
        ] {
            std::fs::write(s.path(name), "an older run's report").unwrap();
        }
    };
    // Exit 2: the profile has no run_time.
    stale(&s);
    let out = s.check().reports(s.dir.path()).run();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let not_run = |s: &Scratch, code: u64| {
        let json = s.json("run.json");
        assert_eq!(json["verdict"], "not-run", "{json}");
        assert_eq!(json["schema"], "slagate.not-run/v1");
        assert_eq!(json["exit_code"], code);
        let junit = std::fs::read_to_string(s.path("junit.xml")).unwrap();
        assert!(
            junit.contains("<error") && junit.contains("not-run"),
            "{junit}"
        );
        for name in ["summary.md", "report.html"] {
            let text = std::fs::read_to_string(s.path(name)).unwrap();
            assert!(text.contains("NOT RUN"), "{name}: {text}");
        }
        assert!(!s.path("run_stats.csv").exists(), "a stale CSV is removed");
        json["reason"].as_str().unwrap().to_string()
    };
    let reason = not_run(&s, 2);
    assert!(reason.contains("not a valid profile"), "{reason}");
    // A not-run document is refused by name where a run is expected.
    let out = slagate(&["report", s.path("run.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("this file records a run that was not made"),
        "{}",
        stderr(&out)
    );

    // Exit 3: nothing listens at the target.
    std::fs::write(
        s.path("profiles/edge.toml"),
        "users = 1\nspawn_rate = 1\nrun_time = \"2s\"\n",
    )
    .unwrap();
    stale(&s);
    let out = s.check().reports(s.dir.path()).run();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let reason = not_run(&s, 3);
    assert!(reason.contains("unreachable"), "{reason}");
}

/// Item 8, the first half: while a run is under way nothing has been created at its report
/// paths (no empty placeholder a reader could take for a report).
#[test]
fn report_paths_are_checked_without_placeholders() {
    let hang = TestServer::start(Behaviour::Hang);
    let s = Scratch::new(
        &hang.url(),
        "1s",
        None,
        "users = 1\nspawn_rate = 1\nrun_time = \"2s\"\n",
    );
    let mut child = s.check().reports(&s.path("out")).spawn();
    wait_for_stderr(&mut child, "slagate: profile edge");
    let placed: Vec<String> = std::fs::read_dir(s.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        placed.is_empty(),
        "created before the run ended: {placed:?}"
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(s.path("out/run.json").exists());
}

/// Items 9 and 10: a second Ctrl-C abandons the requests in flight but keeps every request that
/// completed before it, and the interrupted run is an error in JUnit, not a green suite.
#[test]
fn a_second_interrupt_keeps_what_completed_and_junit_says_interrupted() {
    // Every 5th request hangs (past the run): within moments every user waits on one.
    let server = TestServer::start(Behaviour::EveryNth {
        n: 5,
        slow: Duration::from_secs(60),
        fast: Duration::from_millis(1),
    });
    let users = 4u64;
    let s = Scratch::new(
        &server.url(),
        "30s",
        None,
        "users = 4\nspawn_rate = 100\nrun_time = \"30s\"\n",
    );
    let mut child = s.check().reports(s.dir.path()).spawn();
    wait_for_stderr(&mut child, "slagate: profile edge");
    // Both signals inside the first second, before any worker has handed a second over.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.requests() < users * 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGINT);
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "abandoned, not waited for"
    );
    let run = s.json("run.json");
    assert_eq!(run["verdict"], "interrupted");
    let received = server.requests();
    let reported = timeline_requests(&run);
    // Every request the server received completed, except at most one in flight per user.
    assert!(
        reported + users >= received && reported <= received,
        "{reported} reported of {received} received"
    );
    assert!(reported >= users * 4, "{reported}");
    let junit = std::fs::read_to_string(s.path("junit.xml")).unwrap();
    assert!(
        junit.contains("slagate run interrupted") && junit.contains("type=\"interrupted\""),
        "{junit}"
    );
    assert!(junit.contains("errors=\"1\""), "{junit}");
}

/// Item 11: a signal before the load starts (here during `--wait-for-ready`) ends the command
/// as documented, exit 3, with its reports saying why; not 143 with nothing written.
#[test]
fn a_signal_before_the_load_exits_3_with_not_run_reports() {
    let s = Scratch::new(
        &unused_port_url(),
        "1s",
        None,
        "users = 1\nspawn_rate = 1\nrun_time = \"2s\"\n",
    );
    let json = s.path("run.json");
    let mut child = s
        .check()
        .args(["--wait-for-ready", "60s"])
        .arg("--json")
        .arg(&json)
        .spawn();
    wait_for_stderr(&mut child, "waiting up to");
    signal(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    let doc = s.json("run.json");
    assert_eq!(doc["verdict"], "not-run");
    assert!(
        doc["reason"].as_str().unwrap().contains("interrupted"),
        "{doc}"
    );
}

/// Item 12: `--repeat` is bounded (a typo is refused, not attempted), and per-run files appear
/// as runs end, not all up front.
#[test]
fn repeat_is_bounded_and_writes_each_run_as_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let s = Scratch::new(
        &unused_port_url(),
        "1s",
        None,
        "users = 1\nspawn_rate = 1\nrun_time = \"2s\"\n",
    );
    let out = s
        .check()
        .args(["--repeat", "4000000000"])
        .arg("--json")
        .arg(&json)
        .run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("must be between 1 and 100"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let mut child = check(crate::quick_profile())
        .sla(repo_sla())
        .host(&fixture.base_url())
        .users(2)
        .spawn_rate(100)
        .run_time("2s")
        .args(["--repeat", "3"])
        .arg("--json")
        .arg(&json)
        .spawn();
    wait_for_stderr(&mut child, "slagate: run 2 of 3");
    assert!(dir.path().join("run-run1.json").exists());
    assert!(
        !dir.path().join("run-run3.json").exists(),
        "run 3's file before run 3"
    );
    let mut rest = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
    assert!(dir.path().join("run-run3.json").exists());
}

/// Smaller things users hit: `slagate report` names what it was given instead of a type, once;
/// a stored verdict that contradicts the stored checks is refused; `-r -1` says what it needs.
#[test]
fn bad_saved_files_and_flags_say_what_is_wrong_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let report = |p: &Path| slagate(&["report", p.to_str().unwrap()]);

    std::fs::write(path("array.json"), "[]").unwrap();
    let out = report(&path("array.json"));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("the file holds an array, not a JSON object"),
        "{err}"
    );
    assert!(!err.contains("Probe") && !err.contains("struct"), "{err}");
    assert_eq!(err.matches("not a slagate run report").count(), 1, "{err}");

    std::fs::write(
        path("compare.json"),
        r#"{"schema": "slagate.compare/v1", "rows": []}"#,
    )
    .unwrap();
    let out = report(&path("compare.json"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("this is a comparison (slagate.compare/v1), not a run report"),
        "{}",
        stderr(&out)
    );

    // A saved failing run, edited to say it passed.
    let server = TestServer::start(Behaviour::Status(503));
    let s = Scratch::new(
        &server.url(),
        "1s",
        None,
        "users = 1\nspawn_rate = 100\nrun_time = \"1s\"\nthink_time = \"50ms\"\n",
    );
    let saved = s.path("run.json");
    let out = s.check().arg("--json").arg(&saved).run();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&saved).unwrap();
    let edited = text.replacen("\"verdict\": \"fail\"", "\"verdict\": \"pass\"", 1);
    assert_ne!(text, edited);
    std::fs::write(&saved, edited).unwrap();
    let out = report(&saved);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("its verdict \"pass\" contradicts its own checks"),
        "{}",
        stderr(&out)
    );

    let out = check("smoke").args(["-r", "-1"]).run();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--spawn-rate must be a number above 0"),
        "{}",
        stderr(&out)
    );
}
