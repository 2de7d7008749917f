//! Nothing leaked: a target that echoes the request's headers in its error body (the
//! `EchoHeaders` server) is loaded with a secret given through `${VAR}`, through `-H`, and as a
//! base URL's `user:password@`, with every output written; the secret must appear in none of
//! stdout, stderr or any file, while `***` stands where the echo put it. A `${VAR}` that is not
//! set, and a malformed `-H`, stop the run before anything is sent.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::server::{Behaviour, TestServer};
use crate::stderr;

const TOKEN_VAR: &str = "SLAGATE_TEST_TOKEN";
const TOKEN: &str = "slagate-test-token-3f9a1c7e";
const API_KEY: &str = "k3y-of-the-api-8d2b4e";
const PASSWORD: &str = "pa55word-0c1d";

const PROFILE: &str = "users = 1\nspawn_rate = 1\nrun_time = \"10s\"\n";

/// A scratch folder with an sla file (`[target]` extra lines given) and a profile.
fn setup(base_url: &str, target_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sla = format!(
        "[target]\nbase_url = \"{base_url}\"\n{target_extra}\n\
         [[endpoint]]\nname = \"/echo\"\nbudget = {{ p95 = \"1s\" }}\n"
    );
    std::fs::write(dir.path().join("sla.toml"), sla).unwrap();
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    std::fs::write(dir.path().join("profiles/quick.toml"), PROFILE).unwrap();
    dir
}

/// `slagate check` in `dir` with every output flag, as a GitHub Actions step would run it.
fn check(dir: &Path, extra: &[&str], token: Option<&str>) -> Output {
    let out = |name: &str| dir.join("out").join(name).to_string_lossy().into_owned();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slagate"));
    cmd.current_dir(dir)
        .args(["check", "--sla", "sla.toml", "-p", "quick"])
        .args(["-u", "2", "-r", "10", "-t", "3s"])
        .args(["--json", &out("run.json"), "--html", &out("report.html")])
        .args([
            "--junit",
            &out("junit.xml"),
            "--markdown",
            &out("summary.md"),
        ])
        .args(["--csv", &out("run")])
        .args(extra)
        .env("NO_COLOR", "1")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", dir)
        .env("GITHUB_STEP_SUMMARY", dir.join("step_summary.md"))
        .env_remove(TOKEN_VAR);
    if let Some(token) = token {
        cmd.env(TOKEN_VAR, token);
    }
    cmd.output().expect("run slagate")
}

/// Every file under `dir`, with its text.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                found.push((path, text));
            }
        }
    }
    found.sort();
    found
}

/// The run failed (every response is a 500), every output was written, no `secrets` appear
/// anywhere, and `echoed` (the masked echo, e.g. `authorization: ***`) is where the echo was.
fn assert_nothing_leaked(dir: &Path, out: &Output, secrets: &[&str], echoed: &str) {
    let (stdout, stderr) = (crate::stdout(out), stderr(out));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let written = files(dir);
    let names: Vec<String> = written
        .iter()
        .map(|(p, _)| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    for expected in [
        "out/run.json",
        "out/report.html",
        "out/junit.xml",
        "out/summary.md",
        "out/run_stats.csv",
        "out/run_failures.csv",
        "out/run_exceptions.csv",
        "out/run_stats_history.csv",
        "step_summary.md",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
    for secret in secrets {
        assert!(!stdout.contains(secret), "{secret} on stdout:\n{stdout}");
        assert!(!stderr.contains(secret), "{secret} on stderr:\n{stderr}");
        // Everything but the test's own input (the URL's credentials are written in sla.toml).
        for (path, text) in written.iter().filter(|(p, _)| !p.ends_with("sla.toml")) {
            assert!(!text.contains(secret), "{secret} in {}", path.display());
        }
    }
    // The echo did reach the reports (so a secret would have too), masked: the terminal's
    // diagnostic, the saved run and Locust's failures file show it.
    assert!(
        stdout.contains(echoed),
        "no {echoed:?} on stdout:\n{stdout}"
    );
    let escaped = echoed.replace('*', "\\*");
    for file in [
        "out/run.json",
        "out/run_failures.csv",
        "out/report.html",
        "out/junit.xml",
        "out/summary.md",
        "step_summary.md",
    ] {
        let (_, text) = &written[names.iter().position(|n| n == file).unwrap()];
        // Markdown writes the mask escaped (`\*\*\*`), which shows as `***`.
        assert!(
            text.contains(echoed) || text.contains(&escaped),
            "no {echoed:?} in {file}"
        );
    }
    // ::error annotations were printed (GITHUB_ACTIONS=true) and the step summary appended.
    assert!(stdout.contains("::error file="), "{stdout}");

    // Re-rendering the saved run has only masked data to render.
    let again = dir.join("again");
    let rerender = Command::new(env!("CARGO_BIN_EXE_slagate"))
        .current_dir(dir)
        .arg("report")
        .arg(dir.join("out/run.json"))
        .arg("--markdown")
        .arg(again.join("summary.md"))
        .arg("--html")
        .arg(again.join("report.html"))
        .output()
        .unwrap();
    assert_eq!(
        rerender.status.code(),
        Some(0),
        "{}",
        crate::stderr(&rerender)
    );
    let rendered = files(&again);
    assert_eq!(rendered.len(), 2);
    for (path, text) in &rendered {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {}", path.display());
        }
    }
    assert!(
        rendered[0].1.contains(echoed),
        "{} lost the mask",
        rendered[0].0.display()
    );
}

#[test]
fn a_secret_from_the_environment_is_masked_in_every_output() {
    let server = TestServer::start(Behaviour::EchoHeaders);
    let dir = setup(
        &server.url(),
        &format!("headers = {{ authorization = \"Bearer ${{{TOKEN_VAR}}}\" }}"),
    );
    let out = check(dir.path(), &[], Some(TOKEN));
    assert!(server.requests() > 0);
    assert_nothing_leaked(dir.path(), &out, &[TOKEN], "authorization: ***");
}

#[test]
fn a_secret_cut_off_by_the_body_excerpt_is_masked_too() {
    // Longer than the excerpt of the body that is kept (300 bytes): the excerpt ends inside it,
    // so only a beginning of the secret is there to be found.
    let token: String = "0123456789abcdef".repeat(25);
    let server = TestServer::start(Behaviour::EchoHeaders);
    let dir = setup(
        &server.url(),
        &format!("headers = {{ authorization = \"Bearer ${{{TOKEN_VAR}}}\" }}"),
    );
    let out = check(dir.path(), &[], Some(&token));
    assert!(server.requests() > 0);
    assert_nothing_leaked(dir.path(), &out, &[&token[..12]], "authorization: ***");
}

#[test]
fn a_dash_h_value_is_masked_in_every_output() {
    let server = TestServer::start(Behaviour::EchoHeaders);
    let dir = setup(&server.url(), "");
    let header = format!("x-api-key: {API_KEY}");
    let out = check(dir.path(), &["-H", &header], None);
    assert!(server.requests() > 0);
    assert_nothing_leaked(dir.path(), &out, &[API_KEY], "x-api-key: ***");
}

#[test]
fn url_credentials_are_sent_as_basic_auth_and_masked_in_every_output() {
    let server = TestServer::start(Behaviour::EchoHeaders);
    let url = server
        .url()
        .replace("http://", &format!("http://ci-bot:{PASSWORD}@"));
    let dir = setup(&url, "");
    let out = check(dir.path(), &[], None);
    let pair = format!("ci-bot:{PASSWORD}");
    // base64("ci-bot:pa55word-0c1d"), what the echo would show unmasked.
    let basic = "Y2ktYm90OnBhNTV3b3JkLTBjMWQ=";
    assert_nothing_leaked(
        dir.path(),
        &out,
        &[PASSWORD, &pair, basic, "ci-bot@"],
        "authorization: ***",
    );
}

#[test]
fn an_unset_variable_or_a_malformed_dash_h_stops_before_any_request() {
    let server = TestServer::start(Behaviour::EchoHeaders);
    let dir = setup(
        &server.url(),
        &format!("headers = {{ authorization = \"Bearer ${{{TOKEN_VAR}}}\" }}"),
    );
    let out = check(dir.path(), &[], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("environment variable `SLAGATE_TEST_TOKEN` is not set"),
        "{}",
        stderr(&out)
    );

    let bad = format!("x-api-key {API_KEY}");
    let out = check(dir.path(), &["-H", &bad], Some(TOKEN));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("-H has no `:`"), "{err}");
    assert!(!err.contains(API_KEY) && !err.contains(TOKEN), "{err}");
    assert_eq!(server.requests(), 0, "nothing may be sent");
}
