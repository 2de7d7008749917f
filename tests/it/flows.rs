//! Flows against a server that demands a login (issue 12): each user logs in once, carries the
//! token, the account id and the session cookie into its later requests, and is never refused;
//! a capture that finds nothing is a failure of its own kind that FAILs the run, and the user
//! starts its flow over rather than sending what it lacks. Both load models.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::server::{AUTH_PASSWORD, Behaviour, TestServer};
use crate::{check, stderr, stdout};

/// The issue's shopper flow against `url`, with `token_path` as the login's JSONPath.
fn sla(url: &str, token_path: &str) -> String {
    format!(
        r#"[target]
base_url = "{url}"
timeout = "5s"
cookies = true

[[endpoint]]
name = "login"
method = "POST"
path = "/v1/session"
json = {{ user = "load-test", password = "${{LOAD_PASSWORD}}" }}
capture = {{ token = {{ json = "{token_path}" }} }}
budget = {{ p95 = "300ms" }}

[[endpoint]]
name = "profile"
path = "/v1/profile"
headers = {{ authorization = "Bearer {{{{token}}}}" }}
capture = {{ account = {{ json = "$.account_id" }} }}
budget = {{ p95 = "100ms" }}

[[endpoint]]
name = "orders"
path = "/v1/accounts/{{{{account}}}}/orders"
headers = {{ authorization = "Bearer {{{{token}}}}" }}
budget = {{ p95 = "150ms" }}

[[flow]]
name = "shopper"
once = ["login"]
steps = ["profile", "orders"]
budget = {{ p95 = "1s" }}

[level.flow]
max_error_rate = "0%"
"#
    )
}

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(sla: &str, profile: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sla.toml"), sla).unwrap();
        std::fs::create_dir(dir.path().join("profiles")).unwrap();
        std::fs::write(dir.path().join("profiles/flow.toml"), profile).unwrap();
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the profile; returns the exit code, stdout + stderr, and the JSON report.
    fn run(&self) -> (Option<i32>, String, Value) {
        let json = self.path("run.json");
        let out = check(self.path("profiles/flow.toml"))
            .sla(self.path("sla.toml"))
            .env("LOAD_PASSWORD", AUTH_PASSWORD)
            .arg("--json")
            .arg(&json)
            .arg("--markdown")
            .arg(self.path("run.md"))
            .arg("--junit")
            .arg(self.path("run.xml"))
            .arg("--html")
            .arg(self.path("run.html"))
            .run();
        let text = format!("{}\n{}", stdout(&out), stderr(&out));
        let bytes = std::fs::read(&json).unwrap_or_else(|e| panic!("no report ({e}):\n{text}"));
        (
            out.status.code(),
            text,
            serde_json::from_slice(&bytes).unwrap(),
        )
    }
}

fn endpoint<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no endpoint {name}"))
}

const CLOSED: &str = "users = 6\nspawn_rate = 20\nrun_time = \"4s\"\nlevel = \"flow\"\n";

#[test]
fn each_user_logs_in_once_and_carries_its_token_id_and_cookie() {
    let server = TestServer::start(Behaviour::Auth {
        delay: Duration::from_millis(2),
    });
    let scratch = Scratch::new(&sla(&server.url(), "$.access_token"), CLOSED);
    let (code, text, run) = scratch.run();
    assert_eq!(code, Some(0), "a flow that works passes:\n{text}");
    assert_eq!(
        server.logins(),
        6,
        "every user logs in exactly once:\n{text}"
    );
    assert_eq!(server.refused(), 0, "no request was refused:\n{text}");
    let (login, profile, orders) = (
        endpoint(&run, "login"),
        endpoint(&run, "profile"),
        endpoint(&run, "orders"),
    );
    // The logins happened in the first second, before the measured window.
    assert_eq!(login["failures"], 0);
    assert!(profile["requests"].as_u64().unwrap() > 100, "{profile}");
    assert_eq!(profile["failures"], 0);
    assert_eq!(orders["failures"], 0);
    let flow = &run["flows"][0];
    assert_eq!(flow["name"], "shopper");
    assert_eq!(
        flow["steps"],
        serde_json::json!(["login", "profile", "orders"])
    );
    let iterations = &flow["iterations"];
    assert!(
        iterations["requests"].as_u64().unwrap() > 50,
        "{iterations}"
    );
    assert_eq!(iterations["failures"], 0);
    // An iteration is two requests of at least 2 ms each.
    assert!(
        iterations["percentiles"]["50"].as_f64().unwrap() >= 4.0,
        "{iterations}"
    );
    let flow_check = run["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["endpoint"] == "flow shopper")
        .expect("the flow's budget is judged");
    assert_eq!(flow_check["status"], "pass");
    // Every report has the flow's row.
    assert!(text.contains("Flows —"), "{text}");
    let md = std::fs::read_to_string(scratch.path("run.md")).unwrap();
    let junit = std::fs::read_to_string(scratch.path("run.xml")).unwrap();
    assert!(
        junit.contains("<property name=\"flow.shopper\" value=\""),
        "{junit}"
    );
    assert!(
        junit.contains("flow shopper p95"),
        "the flow's budget is a test case: {junit}"
    );
    let html = std::fs::read_to_string(scratch.path("run.html")).unwrap();
    assert!(
        html.contains("once: login · then: profile → orders"),
        "the HTML has the flow"
    );
    assert!(
        md.contains("| shopper | once: login · then: profile → orders |"),
        "{md}"
    );
    // The password came from the environment; the tokens and cookies from the service.
    for secret in [AUTH_PASSWORD, "tok-1", "sid=1"] {
        assert!(
            !text.contains(secret) && !md.contains(secret),
            "{secret} shown"
        );
    }
}

#[test]
fn a_capture_that_finds_nothing_fails_the_run_and_never_sends_what_needs_it() {
    let server = TestServer::start(Behaviour::Auth {
        delay: Duration::from_millis(2),
    });
    // A typo in the JSONPath: the login answers, the capture finds nothing.
    let scratch = Scratch::new(&sla(&server.url(), "$.acess_token"), CLOSED);
    let (code, text, run) = scratch.run();
    assert_eq!(code, Some(1), "a broken capture FAILs:\n{text}");
    let login = endpoint(&run, "login");
    let kinds = login["failures_by_kind"].as_array().unwrap();
    assert_eq!(kinds[0]["kind"], "capture", "{login}");
    let example = kinds[0]["example"]["text"].as_str().unwrap();
    assert!(
        example.contains("capture `token` (json $.acess_token) found nothing in HTTP 200"),
        "{example}"
    );
    assert!(
        !example.contains("tok-"),
        "the answer's token is masked: {example}"
    );
    // The user starts over from `login` and never sends a request without its token.
    assert_eq!(endpoint(&run, "profile")["requests"], 0);
    assert_eq!(server.refused(), 0, "nothing was sent without a token");
    assert!(server.logins() > 6, "the users logged in again and again");
    assert!(text.contains("capture found nothing"), "{text}");
    let iterations = &run["flows"][0]["iterations"];
    assert_eq!(
        iterations["failures"], iterations["requests"],
        "{iterations}"
    );
}

#[test]
fn open_model_arrivals_draw_logged_in_sessions_from_a_pool() {
    let server = TestServer::start(Behaviour::Auth {
        delay: Duration::from_millis(2),
    });
    let profile = "rate = 100\nrun_time = \"4s\"\nsessions = 5\nlevel = \"flow\"\n";
    let scratch = Scratch::new(&sla(&server.url(), "$.access_token"), profile);
    let (code, text, run) = scratch.run();
    assert_eq!(code, Some(0), "{text}");
    assert!(
        server.logins() <= 5,
        "at most one login per session: {}",
        server.logins()
    );
    assert_eq!(server.refused(), 0, "{text}");
    let iterations = &run["flows"][0]["iterations"];
    assert!(
        iterations["requests"].as_u64().unwrap() >= 250,
        "{iterations}"
    );
    assert_eq!(iterations["failures"], 0, "{iterations}");
}

#[test]
fn captured_tokens_and_cookies_a_target_echoes_back_are_masked() {
    let server = TestServer::start(Behaviour::Auth {
        delay: Duration::from_millis(2),
    });
    let sla = sla(&server.url(), "$.access_token").replace(
        "steps = [\"profile\", \"orders\"]",
        "steps = [\"profile\", \"orders\", \"echo\"]",
    ) + "\n[[endpoint]]\nname = \"echo\"\npath = \"/v1/echo\"\n\
         headers = { authorization = \"Bearer {{token}}\" }\nbudget = { p95 = \"100ms\" }\n";
    let scratch = Scratch::new(&sla, CLOSED);
    let (code, text, run) = scratch.run();
    assert_eq!(code, Some(1), "the echo answers 500:\n{text}");
    let echo = endpoint(&run, "echo");
    let example = echo["failures_by_kind"][0]["example"]["text"]
        .as_str()
        .unwrap();
    assert!(example.contains("HTTP 500"), "{example}");
    // The cookie's name may show; its value and the token may not.
    assert!(
        example.contains("cookie sid=*** authorization Bearer ***"),
        "the cookie and the captured token are masked: {example}"
    );
    let md = std::fs::read_to_string(scratch.path("run.md")).unwrap();
    for out in [&text, &md] {
        assert!(!out.contains("tok-") && !out.contains("sid=1"), "{out}");
    }
}
