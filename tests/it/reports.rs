//! Reports from real runs: every format written, `slagate report` reproducing them byte for
//! byte from the JSON, the JSON valid against the committed schema, hostile targets escaped,
//! and output paths checked before any load.

use std::path::Path;
use std::time::{Duration, Instant};

use slagate::fixture::{Fixture, Mode};

use crate::server::{Behaviour, HOSTILE_BODY, TestServer};
use crate::{check, repo, repo_sla, report_flags, slagate, stderr, stdout};

fn schema_errors(doc: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo().join("schemas/slagate.run.v4.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::options().build(&schema).unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

#[test]
fn a_real_run_writes_every_format_and_report_reproduces_them() {
    let fixture = Fixture::start(0, Mode::Degraded).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // 20 users for 5 s: ~25 /optimize/run requests, so the degraded fixture's every 10th 503
    // lands in the window even on a slow machine.
    let out = check("smoke")
        .sla(repo_sla())
        .host(&fixture.base_url())
        .users(20)
        .spawn_rate(100)
        .run_time("5s")
        .reports(dir.path())
        .run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    let files = [
        "run.json",
        "run_stats.csv",
        "run_failures.csv",
        "run_stats_history.csv",
        "run_exceptions.csv",
        "report.html",
        "junit.xml",
        "summary.md",
    ];
    for f in files {
        let meta = std::fs::metadata(dir.path().join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(meta.len() > 0, "{f} is empty");
    }

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(schema_errors(&json), Vec::<String>::new());
    assert_eq!(json["schema"], "slagate.run/v4");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["exit_code"], 1);
    let failing: Vec<String> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| {
            format!(
                "{} {}",
                c["endpoint"].as_str().unwrap(),
                c["metric"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        failing.contains(&"all endpoints max_error_rate".to_string()),
        "{failing:?}"
    );

    // Re-render from the JSON alone, into another folder: byte-identical files.
    let again = tempfile::tempdir().unwrap();
    let run_json = dir.path().join("run.json");
    let mut args = vec![
        "report".to_string(),
        run_json.to_string_lossy().into_owned(),
    ];
    args.extend(report_flags(again.path()).into_iter().skip(2)); // all but --json
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = slagate(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for f in files.iter().filter(|f| **f != "run.json") {
        let a = std::fs::read(dir.path().join(f)).unwrap();
        let b = std::fs::read(again.path().join(f)).unwrap();
        assert!(a == b, "{f} differs after slagate report");
    }

    // Locust consumers: the stats header is Locust's, byte for byte, with CRLF.
    let stats = std::fs::read_to_string(dir.path().join("run_stats.csv")).unwrap();
    let locust = std::fs::read_to_string(repo().join("fixtures/locust-2.47/ex_stats.csv")).unwrap();
    assert_eq!(stats.split("\r\n").next(), locust.split("\r\n").next());
    assert!(stats.contains("\r\n,Aggregated,"));

    // The terminal table is the same from the saved run.
    let out = slagate(&["report", run_json.to_str().unwrap()]);
    assert!(stdout(&out).contains("SLA FAILED:"), "{}", stdout(&out));
}

fn hostile_config(dir: &Path, url: &str) -> (String, String) {
    let sla = dir.join("sla.toml");
    std::fs::write(
        &sla,
        format!(
            "[target]\nbase_url = \"{url}\"\n\n[[endpoint]]\nname = \"/<b>bold</b>\"\npath = \"/x\"\n\
             budget = {{ p95 = \"1s\" }}\n\n[level.hostile]\nmax_error_rate = \"1%\"\n"
        ),
    )
    .unwrap();
    let profile = dir.join("hostile.toml");
    std::fs::write(&profile, "users = 2\nspawn_rate = 100\nrun_time = \"2s\"\n").unwrap();
    (
        sla.to_string_lossy().into_owned(),
        profile.to_string_lossy().into_owned(),
    )
}

#[test]
fn a_hostile_target_cannot_inject_markup() {
    let server = TestServer::start(Behaviour::Hostile);
    let dir = tempfile::tempdir().unwrap();
    let (sla, profile) = hostile_config(dir.path(), &server.url());
    let out = check(&profile).sla(&sla).reports(dir.path()).run();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(!html.contains("<script"), "raw script tag in the page");
    assert!(
        !html.contains("<b>bold"),
        "raw markup from the config in the page"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the body is shown as text"
    );
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(!md.contains("<script"), "{md}");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(!junit.contains("<script"), "{junit}");
    // The failure example really carries the target's body (so the escaping was exercised).
    let json = std::fs::read_to_string(dir.path().join("run.json")).unwrap();
    assert!(json.contains(&HOSTILE_BODY[..30]), "{json}");
}

#[test]
fn unwritable_outputs_fail_before_any_load() {
    // The target is down too: exit 2 (bad output path), not 3, proves the paths are checked
    // first, and it must happen at once rather than after the run time.
    let url = crate::server::unused_port_url();
    let readme = repo().join("README.md");
    let bad = readme.join("run.json");
    let started = Instant::now();
    let out = check("smoke")
        .host(&url)
        .run_time("30s")
        .arg("--json")
        .arg(&bad)
        .run();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot write the json report"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn an_interrupted_run_exits_3_and_still_writes_its_reports() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let child = check("smoke")
        .sla(repo_sla())
        .host(&fixture.base_url())
        .users(5)
        .spawn_rate(100)
        .run_time("60s")
        .reports(dir.path())
        .spawn();
    // Wait until it is really loading, then send what CI sends on cancel.
    let deadline = Instant::now() + Duration::from_secs(20);
    // ~3 s of a 5-user load: well past the first second (ramp-up, excluded from the window).
    while fixture.requests_served() < 60 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).contains("RUN INTERRUPTED"), "{}", stdout(&out));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "interrupted");
    assert_eq!(json["exit_code"], 3);
    let timeline_requests: u64 = json["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["requests"].as_u64().unwrap())
        .sum();
    assert!(
        timeline_requests >= 60,
        "what was measured is kept: {timeline_requests}"
    );
    assert!(
        json["total"]["requests"].as_u64().unwrap() > 0,
        "the window has data"
    );
    assert!(dir.path().join("run_stats.csv").exists());
    assert!(dir.path().join("report.html").exists());
}

/// An open run's reports: the JSON carries the model, the arrivals and the service times, is
/// valid against the schema, and every format re-renders from it byte for byte.
#[test]
fn an_open_run_writes_every_format_and_report_reproduces_them() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = check("smoke")
        .sla(repo_sla())
        .host(&fixture.base_url())
        .arg("--rate")
        .arg("40")
        .run_time("4s")
        .reports(dir.path())
        .run();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.json")).unwrap()).unwrap();
    assert_eq!(schema_errors(&json), Vec::<String>::new());
    assert_eq!(json["profile"]["model"], "open");
    assert_eq!(json["profile"]["rate"], 40.0);
    assert_eq!(json["profile"]["users"], serde_json::Value::Null);
    assert_eq!(json["arrivals"]["requested"], 120, "{}", json["arrivals"]);
    assert!(json["total"]["service_time"]["50"].as_f64().unwrap() > 0.0);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("Service time percentiles"));
    assert!(html.contains("Send lag"));

    let again = tempfile::tempdir().unwrap();
    let run_json = dir.path().join("run.json");
    let mut args = vec![
        "report".to_string(),
        run_json.to_string_lossy().into_owned(),
    ];
    args.extend(report_flags(again.path()).into_iter().skip(2));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = slagate(&args);
    assert_eq!(
        out.status.code().map(|c| c <= 1),
        Some(true),
        "{}",
        stderr(&out)
    );
    for f in ["report.html", "junit.xml", "summary.md", "run_stats.csv"] {
        let a = std::fs::read(dir.path().join(f)).unwrap();
        let b = std::fs::read(again.path().join(f)).unwrap();
        assert!(a == b, "{f} differs after slagate report");
    }
    let out = slagate(&["report", run_json.to_str().unwrap()]);
    assert!(
        stdout(&out).contains("Arrivals (open model): "),
        "{}",
        stdout(&out)
    );
}
