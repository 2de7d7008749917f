//! Every class of config mistake as a file under fixtures/config/bad, with its rendered
//! diagnostic snapshotted; the repo's own config; and a property test that no input panics.

use std::env::VarError;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;

use super::{
    BudgetMetric, ConfigError, LoadSpec, ProblemKind, load_profile, load_sla, parse_profile,
    parse_profile_with, parse_sla, parse_sla_with, profile_paths, resolve_profile, walk,
};

/// The rendering users see, without colour and at a fixed width so snapshots are stable.
fn render(e: &ConfigError) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, e)
        .expect("a diagnostic renders");
    out
}

fn bad(name: &str) -> PathBuf {
    Path::new("fixtures/config/bad").join(name)
}

/// Each bad file, and what its rendering must contain: the `file:line:column` of every problem
/// and the substance of its help, so the test fails if a diagnostic becomes vague or moves.
const BAD_FILES: &[(&str, &[&str])] = &[
    (
        "flow_captures.toml",
        &[
            "flow_captures.toml:8:30]",
            "is not a JSONPath",
            "capture `id` takes its value from two places",
            "`status = false` captures nothing",
            "is not a regular expression",
            "`bad name` cannot be a capture name",
            "`steps` is empty",
        ],
    ),
    (
        "flow_steps.toml",
        &[
            "flow `shopper` names no endpoint `logn`",
            "did you mean `login`?",
            "`profile` sends {{tokn}}, but no earlier step of flow `shopper` captures `tokn`",
            "`orders` sends {{account}}, but no earlier step of flow `shopper` captures `account`",
            "is not a reference",
            "endpoint `free` sends {{account}} but is in no flow",
        ],
    ),
    (
        "regression_tolerance.toml",
        &[
            "regression_tolerance.toml:10:7]",
            "`p95` = \"-10%\" points the wrong way",
            "how much higher the head may be than its baseline: p95 = \"+10%\"",
            "regression_tolerance.toml:11:14]",
            "write a percentage with a percent sign: error_rate = \"+0.1%\"",
            "regression_tolerance.toml:12:1]",
            "did you mean `rps`?",
        ],
    ),
    (
        "syntax.toml",
        &[
            "syntax.toml:4:11]",
            "string values must be quoted",
            "put text in double quotes: \"10s\"",
        ],
    ),
    (
        "duplicate_key.toml",
        &[
            "duplicate_key.toml:8:1]",
            "duplicate key",
            "each key may appear once",
        ],
    ),
    (
        "unknown_key.toml",
        &[
            "unknown_key.toml:7:1]",
            "unknown key `wieght`",
            "did you mean `weight`?",
        ],
    ),
    (
        "wrong_type.toml",
        &[
            "wrong_type.toml:4:11]",
            "expects a duration string like \"20ms\", found integer `10`",
            "write a unit: timeout = \"10ms\" or \"10s\"",
            "wrong_type.toml:8:10]",
            "remove the quotes: weight = 5",
        ],
    ),
    (
        "bad_duration.toml",
        &[
            "bad_duration.toml:7:18]",
            "unknown unit `mili`",
            "bad_duration.toml:7:35]",
            "it has no unit",
            "write a unit: \"20ms\" or \"20s\"",
            "bad_duration.toml:7:47]",
            "units: ms, s, m, h",
        ],
    ),
    (
        "zero_duration.toml",
        &[
            "zero_duration.toml:7:18]",
            "`p95` is zero",
            "can never be met",
        ],
    ),
    (
        "bad_percentage.toml",
        &[
            "bad_percentage.toml:10:18]",
            "it has no `%` sign",
            "bad_percentage.toml:13:18]",
            "max_error_rate = \"0.005%\"",
            "ambiguous",
        ],
    ),
    (
        "error_rate_range.toml",
        &[
            "error_rate_range.toml:10:18]",
            "outside 0–100 %",
            "between \"0%\" and \"100%\"",
        ],
    ),
    (
        "min_rps_zero.toml",
        &[
            "min_rps_zero.toml:10:11]",
            "`min_rps` = 0 is not above 0",
            "min_rps = 40",
        ],
    ),
    (
        "budget_order.toml",
        &[
            "budget_order.toml:7:46]",
            "budget `p99` = \"15ms\" is below `p95` = \"20ms\"",
            "p95 is 20ms",
            "raise `p99` to at least 20ms",
        ],
    ),
    (
        "budget_max_order.toml",
        &[
            "budget_max_order.toml:7:33]",
            "budget `max` = \"200ms\" is below `p99` = \"500ms\"",
            "raise `max` to at least 500ms",
        ],
    ),
    (
        "budget_key.toml",
        &[
            "budget_key.toml:7:12]",
            "budget key `p100` is out of range",
            "for the slowest response write `max`",
            "budget_key.toml:7:25]",
            "did you mean `max`?",
            "budget_key.toml:7:36]",
            "`avg` is not a budget key",
        ],
    ),
    (
        "budget_decimal_unquoted.toml",
        &[
            "budget_decimal_unquoted.toml:7:26]",
            "budget key `p99.9` must be quoted",
            "write the key in quotes: \"p99.9\" = \"80ms\"",
        ],
    ),
    (
        "budget_decimal_clash.toml",
        &[
            "budget_decimal_clash.toml:7:26]",
            "quote decimal percentiles: \"p99.9\"",
        ],
    ),
    (
        "budget_empty.toml",
        &[
            "budget_empty.toml:7:10]",
            "`budget` has no limits",
            "give at least one limit",
        ],
    ),
    (
        "weight_zero.toml",
        &[
            "weight_zero.toml:7:10]",
            "must be at least 1",
            "a whole number from 1",
        ],
    ),
    (
        "base_url_scheme.toml",
        &[
            "base_url_scheme.toml:3:12]",
            "has no scheme",
            "write the scheme: \"http://localhost:8003\"",
        ],
    ),
    (
        "base_url_ftp.toml",
        &[
            "base_url_ftp.toml:3:12]",
            "unsupported scheme `ftp`",
            "use http:// or https://",
        ],
    ),
    (
        "base_url_no_host.toml",
        &[
            "base_url_no_host.toml:3:12]",
            "empty host",
            "a scheme and a host",
        ],
    ),
    (
        "bad_method.toml",
        &[
            "bad_method.toml:7:10]",
            "`GTE` is not a method",
            "did you mean `GET`?",
        ],
    ),
    (
        "method_lowercase.toml",
        &[
            "method_lowercase.toml:7:10]",
            "not upper case",
            "write method = \"POST\"",
        ],
    ),
    (
        "duplicate_endpoint.toml",
        &[
            "duplicate_endpoint.toml:6:8]",
            "duplicate_endpoint.toml:14:8]",
            "first use",
            "second use",
            "must be unique",
        ],
    ),
    (
        "missing_target.toml",
        &[
            "missing_target.toml:1:1]",
            "missing required key `target`",
            "add a [target] table",
        ],
    ),
    (
        "missing_keys.toml",
        &[
            "missing_keys.toml:2:1]",
            "this table has no `base_url`",
            "missing_keys.toml:5:1]",
            "this table has no `name`",
            "missing_keys.toml:9:1]",
            "this table has no `budget`",
            "budget = { p95 = \"200ms\"",
        ],
    ),
    (
        "endpoint_table.toml",
        &[
            "endpoint_table.toml:5:1]",
            "expects an array of tables",
            "write [[endpoint]] with double brackets",
        ],
    ),
    (
        "path_no_slash.toml",
        &[
            "path_no_slash.toml:6:8]",
            "does not start with `/`",
            "the path defaults to the name",
        ],
    ),
    (
        "json_and_body.toml",
        &[
            "json_and_body.toml:9:1]",
            "`json` or `body`, not both",
            "`json` here",
            "remove the other",
        ],
    ),
    (
        "bad_header.toml",
        &[
            "bad_header.toml:4:13]",
            "not a valid header name",
            "bad_header.toml:8:22]",
            "no line breaks",
        ],
    ),
    (
        "bad_status.toml",
        &[
            "bad_status.toml:7:23]",
            "2000 is not an HTTP status code",
            "bad_status.toml:12:17]",
            "write a list: expect_status = [200]",
        ],
    ),
    (
        "empty.toml",
        &[
            "empty.toml:1:1]",
            "the file is empty: an sla.toml needs [target] and at least one [[endpoint]]",
            "start with:",
        ],
    ),
    (
        "comments_only.toml",
        &[
            "comments_only.toml:3:1]",
            "the file has only comments",
            "start with:",
        ],
    ),
    (
        "many_mistakes.toml",
        &[
            "9 problems",
            "many_mistakes.toml:3:12]",
            "many_mistakes.toml:4:11]",
            "many_mistakes.toml:8:10]",
            "did you mean `GET`?",
            "many_mistakes.toml:9:1]",
            "did you mean `weight`?",
            "many_mistakes.toml:10:32]",
            "many_mistakes.toml:13:8]",
            "many_mistakes.toml:14:10]",
            "many_mistakes.toml:15:18]",
            "many_mistakes.toml:19:18]",
        ],
    ),
    (
        "abort_when_unknown_key.toml",
        &[
            "1 problem",
            "abort_when_unknown_key.toml:11:1]",
            "unknown key `four` in [abort_when]",
            "did you mean `for`?",
        ],
    ),
    (
        "abort_when_values.toml",
        &[
            "6 problems",
            "abort_when_values.toml:10:14]",
            "error_rate = \"0.5%\" (a bare number is",
            "abort_when_values.toml:11:7]",
            "write a unit: for = \"10ms\" or \"10s\"",
            "abort_when_values.toml:15:29]",
            "`error_rate` = 0% would stop every run",
            "abort_when_values.toml:15:41]",
            "`for` is zero",
            "abort_when_values.toml:18:14]",
            "missing required key `for` in abort_when of [level.heavy]",
            "abort_when_values.toml:21:14]",
            "`abort_when` expects a table",
        ],
    ),
    (
        "abort_when_misplaced.toml",
        &[
            "2 problems",
            "abort_when_misplaced.toml:8:1]",
            "unknown key `abort_when` in [[endpoint]]",
            "or in a top-level [abort_when] table",
            "abort_when_misplaced.toml:9:1]",
            "`window` goes in a [level.NAME] table",
        ],
    ),
    (
        "level_budgets.toml",
        &[
            "3 problems",
            "level_budgets.toml:10:19]",
            "budget key `p955` is out of range",
            "level_budgets.toml:10:27]",
            "`budgets` expects a budget key, found integer `99`",
            "level_budgets.toml:13:11]",
            "budgets = [\"p50\", \"max\"]",
        ],
    ),
    (
        "level_window.toml",
        &[
            "3 problems",
            "level_window.toml:10:10]",
            "`window` = \"30\" is not a duration: it has no unit",
            "level_window.toml:13:10]",
            "`window` is zero",
            "level_window.toml:16:1]",
            "did you mean `window`?",
        ],
    ),
    (
        "env_unset.toml",
        &[
            "2 problems",
            "env_unset.toml:5:37]",
            "environment variable `SLAGATE_FIXTURE_NEVER_SET` is not set",
            "export SLAGATE_FIXTURE_NEVER_SET=…",
            "or write $${ for a",
            "env_unset.toml:9:18]",
            "unknown unit `mili`",
        ],
    ),
    (
        "env_malformed.toml",
        &[
            "3 problems",
            "env_malformed.toml:6:17]",
            "`${ORDER ID}` is not a valid variable reference",
            "letters, digits and _",
            "env_malformed.toml:8:25]",
            "`${}` is not a valid variable reference",
            "env_malformed.toml:9:16]",
            "`${` is never closed",
        ],
    ),
    (
        "transport_values.toml",
        &[
            "7 problems",
            "transport_values.toml:4:8]",
            "`http` = \"h2\" is not one of \"1.1\", \"2\", \"auto\"",
            "did you mean http = \"2\"?",
            "transport_values.toml:5:15]",
            "a whole number from 1 to 10000",
            "transport_values.toml:6:19]",
            "`connect_timeout` = \"3\" is not a duration",
            "transport_values.toml:7:40]",
            "budget `p99` = \"50ms\" is below `p50` = \"80ms\"",
            "transport_values.toml:8:23]",
            "server_name = \"api.internal\"",
            "transport_values.toml:8:58]",
            "`insecure` expects a boolean",
            "transport_values.toml:8:65]",
            "unknown key `verify` in [target] tls",
        ],
    ),
    (
        "transport_types.toml",
        &[
            "4 problems",
            "transport_types.toml:4:8]",
            "write the version in quotes: http = \"1.1\"",
            "transport_types.toml:5:15]",
            "`max_streams` = 20000 is out of range",
            "transport_types.toml:6:18]",
            "`connect_budget` has no limits",
            "transport_types.toml:7:7]",
            "or a [target.tls] table",
        ],
    ),
    (
        "tls_on_http.toml",
        &[
            "1 problem",
            "tls_on_http.toml:6:9]",
            "`tls` is set, but the base URL is http://",
            "an http:// target",
            "TLS applies to https:// targets only",
        ],
    ),
    (
        "tls_unreadable.toml",
        &[
            "3 problems",
            "tls_unreadable.toml:4:15]",
            "cannot read fixtures/config/bad/certs/missing-ca.pem: no such file",
            "tls_unreadable.toml:4:47]",
            "cannot read fixtures/config/bad/certs/missing.pem",
            "tls_unreadable.toml:4:74]",
            "cannot read fixtures/config/bad/certs/missing.key",
            "relative to the sla file's folder",
        ],
    ),
    (
        "profile_users_zero.toml",
        &[
            "profile_users_zero.toml:2:9]",
            "must be at least 1",
            "users = 1",
        ],
    ),
    (
        "profile_users_huge.toml",
        &[
            "profile_users_huge.toml:2:9]",
            "`users` = 99999999999999 is out of range",
            "at most 4294967295",
        ],
    ),
    (
        "profile_spawn_rate_zero.toml",
        &[
            "profile_spawn_rate_zero.toml:3:14]",
            "`spawn_rate` = 0 is not above 0",
            "spawn_rate = 2",
        ],
    ),
    (
        "profile_run_time_zero.toml",
        &[
            "profile_run_time_zero.toml:4:12]",
            "`run_time` is zero",
            "run_time = \"5m\"",
        ],
    ),
    (
        "profile_run_time_number.toml",
        &[
            "profile_run_time_number.toml:4:12]",
            "found integer `300`",
            "write a unit: run_time = \"300ms\" or \"300s\"",
        ],
    ),
    (
        "profile_think_time_order.toml",
        &[
            "profile_think_time_order.toml:5:22]",
            "min is above its max",
            "swap them",
        ],
    ),
    (
        "profile_unknown_key.toml",
        &[
            "2 problems",
            "profile_unknown_key.toml:3:1]",
            "did you mean `spawn_rate`?",
            "profile_unknown_key.toml:4:1]",
            "did you mean `run_time`?",
        ],
    ),
    (
        "profile_missing.toml",
        &[
            "profile_missing.toml:1:1]",
            "missing required key `users`",
            "missing required key `spawn_rate`",
            "missing required key `run_time`",
            "run_time = \"5m\"",
        ],
    ),
    (
        "profile_empty.toml",
        &[
            "profile_empty.toml:1:1]",
            "the file is empty: a profile needs run_time and either users and spawn_rate",
        ],
    ),
    (
        "profile_many_mistakes.toml",
        &[
            "6 problems",
            "profile_many_mistakes.toml:2:15]",
            "profile_many_mistakes.toml:3:9]",
            "profile_many_mistakes.toml:4:14]",
            "profile_many_mistakes.toml:5:12]",
            "profile_many_mistakes.toml:6:14]",
            "profile_many_mistakes.toml:7:1]",
            "did you mean `level`?",
        ],
    ),
];

#[test]
fn every_bad_file_is_rejected_with_a_pointed_diagnostic() {
    for (name, expected) in BAD_FILES {
        let path = bad(name);
        let result = if name.starts_with("profile_") {
            load_profile(&path).map(|_| ())
        } else {
            load_sla(&path).map(|_| ())
        };
        let Err(e) = result else {
            panic!("{name} was accepted");
        };
        assert!(
            matches!(e, ConfigError::Invalid { .. }),
            "{name}: expected Invalid, got {e:?}"
        );
        let rendered = render(&e);
        for needle in *expected {
            assert!(
                rendered.contains(needle),
                "{name}: rendering lacks {needle:?}:\n{rendered}"
            );
        }
        // Every problem must say how to fix it.
        let helps = rendered.matches("help:").count();
        assert_eq!(
            helps,
            e.problems().len(),
            "{name}: a problem without help:\n{rendered}"
        );
        let snapshot = name.trim_end_matches(".toml");
        insta::assert_snapshot!(snapshot, rendered);
    }
}

#[test]
fn every_bad_fixture_is_covered() {
    let mut on_disk: Vec<String> = std::fs::read_dir("fixtures/config/bad")
        .expect("fixtures/config/bad exists")
        .map(|e| {
            e.expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = BAD_FILES.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn not_utf8_reports_the_byte_offset() {
    let mut bytes = b"[target]\nbase_url = \"http://localhost:8003\"\n# caf".to_vec();
    bytes.push(0xE9); // Latin-1 é
    bytes.extend_from_slice(b"\n");
    let e = parse_sla(Path::new("latin1.toml"), &bytes).expect_err("not UTF-8");
    assert_eq!(e.problems()[0].kind(), ProblemKind::NotUtf8);
    let rendered = render(&e);
    assert!(rendered.contains("latin1.toml:3:6]"), "{rendered}");
    assert!(
        rendered.contains("byte 0xE9 at byte offset 49"),
        "{rendered}"
    );
    assert!(rendered.contains("save the file as UTF-8"), "{rendered}");
    insta::assert_snapshot!("not_utf8", rendered);

    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("users = 1".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let e = parse_profile(Path::new("utf16.toml"), &utf16).expect_err("UTF-16");
    assert!(render(&e).contains("this looks like UTF-16"));
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let e = load_sla(Path::new("fixtures/config/no-such.toml")).expect_err("missing");
    let rendered = render(&e);
    assert!(matches!(e, ConfigError::Io { .. }));
    assert!(
        rendered.contains("cannot read fixtures/config/no-such.toml"),
        "{rendered}"
    );
    assert!(rendered.contains("check the path"), "{rendered}");
}

#[test]
fn syntax_errors_hide_the_noise_they_cause() {
    // `base_url` does not parse; reporting it missing as well would send the user hunting.
    let text =
        "[target]\nbase_url = http://x\n\n[[endpoint]]\nname = \"/a\"\nbudget = { p95 = \"1s\" }\n";
    let e = parse_sla(Path::new("s.toml"), text.as_bytes()).expect_err("syntax");
    let kinds: Vec<ProblemKind> = e.problems().iter().map(|p| p.kind()).collect();
    assert!(kinds.iter().all(|k| *k == ProblemKind::Syntax), "{kinds:?}");
}

#[test]
fn the_repo_sla_file_loads() {
    let sla = load_sla(Path::new("sla.toml")).expect("sla.toml is valid");
    assert_eq!(
        sla.target.base_url.get_ref().as_str(),
        "http://localhost:8003/"
    );
    assert_eq!(sla.target.timeout, Duration::from_secs(10));
    assert_eq!(sla.target.headers["accept"], "application/json");
    let names: Vec<&str> = sla
        .endpoints
        .iter()
        .map(|e| e.name.get_ref().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "/health/",
            "/system/metrics",
            "/analysis/",
            "/lmcache/status",
            "/optimize/run"
        ]
    );
    let health = &sla.endpoints[0];
    assert_eq!(health.weight, 5);
    assert_eq!(health.path, "/health/");
    let p95 = health
        .budgets
        .iter()
        .find(|b| b.metric == BudgetMetric::Percentile { quantile: 0.95 })
        .expect("p95");
    assert_eq!(*p95.limit.get_ref(), Duration::from_millis(20));
    assert_eq!(&sla.source.text[p95.limit.span()], "\"20ms\"");
    let metrics: Vec<BudgetMetric> = health.budgets.iter().map(|b| b.metric).collect();
    assert_eq!(metrics.last(), Some(&BudgetMetric::Max));
    assert_eq!(sla.endpoints[2].method, http::Method::POST);
    assert_eq!(
        sla.endpoints[2].body,
        super::Body::Json(serde_json::json!({ "window": "5m" }))
    );

    let level_names: Vec<&str> = sla
        .levels
        .iter()
        .map(|l| l.name.get_ref().as_str())
        .collect();
    assert_eq!(level_names, ["smoke", "light", "medium", "heavy", "stress"]);
    let medium = sla.level("medium").expect("level medium");
    assert_eq!(medium.min_rps.as_ref().map(|r| *r.get_ref()), Some(40.0));
    let rate = *medium.max_error_rate.as_ref().expect("rate").get_ref();
    assert!((rate - 0.005).abs() < 1e-12, "{rate}");
    let smoke = sla.level("smoke").expect("level smoke");
    assert!(smoke.min_rps.is_none());
    assert_eq!(
        smoke.max_error_rate.as_ref().map(|r| *r.get_ref()),
        Some(0.0)
    );
}

#[test]
fn windows_and_abort_rules_are_read_at_the_top_and_per_level() {
    let text = r#"
[target]
base_url = "http://h"

[[endpoint]]
name = "/a"
budget = { p95 = "1s" }

[abort_when]
error_rate = "50%"
for = "10s"

[level.light]
window = "30s"

[level.heavy]
window = "1m"
abort_when = { error_rate = "12.5%", for = "1.5s" }
"#;
    let sla = parse_sla(Path::new("w.toml"), text.as_bytes()).expect("valid");
    let top = sla.abort_when.as_ref().expect("top-level rule");
    assert_eq!(*top.error_rate.get_ref(), 0.5);
    assert_eq!(*top.sustained.get_ref(), Duration::from_secs(10));
    assert_eq!(
        &sla.source.text[top.sustained.span()],
        "\"10s\"",
        "spans point at the values"
    );
    let light = sla.level("light").expect("light");
    assert_eq!(
        light.window.as_ref().map(|w| *w.get_ref()),
        Some(Duration::from_secs(30))
    );
    assert!(
        light.abort_when.is_none(),
        "the top-level rule is not copied in"
    );
    let heavy = sla.level("heavy").expect("heavy");
    assert_eq!(
        heavy.window.as_ref().map(|w| *w.get_ref()),
        Some(Duration::from_secs(60))
    );
    let rule = heavy.abort_when.as_ref().expect("heavy's own rule");
    assert_eq!(*rule.error_rate.get_ref(), 0.125);
    assert_eq!(*rule.sustained.get_ref(), Duration::from_millis(1500));
    assert!(sla.source.text[rule.span.clone()].starts_with("{ error_rate"));

    // The same rule written inline at the top (before any table) is the same to TOML.
    let inline = "abort_when = { error_rate = \"100%\", for = \"2s\" }\n[target]\n\
                  base_url = \"http://h\"\n[[endpoint]]\nname = \"/a\"\nbudget = { p95 = \"1s\" }\n";
    let sla = parse_sla(Path::new("i.toml"), inline.as_bytes()).expect("valid");
    assert_eq!(sla.abort_when.map(|r| *r.error_rate.get_ref()), Some(1.0));
}

#[test]
fn the_repo_profiles_load_lightest_first() {
    let paths = profile_paths(Path::new("sla.toml")).expect("profiles/ is readable");
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // Closed profiles by users, then the open ones.
    assert_eq!(
        names,
        ["smoke", "light", "medium", "heavy", "stress", "peak-open"]
    );
    let users: Vec<u32> = paths
        .iter()
        .filter_map(|p| match load_profile(p).expect("profile is valid").load {
            LoadSpec::Closed { users, .. } => Some(users),
            LoadSpec::Open { .. } => None,
        })
        .collect();
    assert_eq!(users, [1, 10, 50, 100, 200]);

    let medium = load_profile(Path::new("profiles/medium.toml")).expect("medium");
    assert_eq!(medium.name, "medium");
    assert_eq!(medium.level_name(), "medium");
    let LoadSpec::Closed {
        spawn_rate,
        think_time,
        ..
    } = medium.load
    else {
        panic!("medium is a closed profile")
    };
    assert_eq!(spawn_rate, 5.0);
    assert_eq!(medium.run_time, Duration::from_secs(300));
    assert_eq!(think_time.min, Duration::from_millis(200));
    assert_eq!(think_time.max, Duration::from_millis(800));
    assert_eq!(medium.description, "Normal production load");
}

#[test]
fn a_broken_profile_sorts_last_instead_of_hiding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profiles = dir.path().join("profiles");
    std::fs::create_dir(&profiles).expect("mkdir");
    let write = |name: &str, text: &str| {
        std::fs::write(profiles.join(name), text).expect("write");
    };
    write("b.toml", "users = 5\nspawn_rate = 1\nrun_time = \"1m\"\n");
    write("a.toml", "users = 5\nspawn_rate = 1\nrun_time = \"1m\"\n");
    write("broken.toml", "users = \n");
    write("one.toml", "users = 1\nspawn_rate = 1\nrun_time = \"1m\"\n");
    write("notes.txt", "not a profile");
    let sla = dir.path().join("sla.toml");
    let names: Vec<String> = profile_paths(&sla)
        .expect("readable")
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, ["one.toml", "a.toml", "b.toml", "broken.toml"]);

    let none = tempfile::tempdir().expect("tempdir");
    assert!(
        profile_paths(&none.path().join("sla.toml"))
            .expect("ok")
            .is_empty()
    );
}

#[test]
fn profiles_resolve_by_name_or_path() {
    let sla = Path::new("sla.toml");
    assert_eq!(
        resolve_profile(sla, "medium").expect("medium"),
        Path::new("profiles/medium.toml")
    );
    assert_eq!(
        resolve_profile(Path::new("/etc/x/sla.toml"), "elsewhere/p.toml").expect("path"),
        Path::new("elsewhere/p.toml")
    );
    assert_eq!(
        resolve_profile(sla, "custom.toml").expect("path"),
        Path::new("custom.toml")
    );

    let e = resolve_profile(sla, "meduim").expect_err("typo");
    let rendered = render(&e);
    assert!(
        rendered.contains("no profile named `meduim` in profiles"),
        "{rendered}"
    );
    assert!(rendered.contains("did you mean `medium`?"), "{rendered}");
    assert!(
        rendered.contains("available profiles: smoke, light, medium, heavy, stress"),
        "{rendered}"
    );
    insta::assert_snapshot!("unknown_profile", rendered);

    let e = resolve_profile(Path::new("fixtures/config/sla.toml"), "smoke").expect_err("none");
    assert!(render(&e).contains("there are no profiles in fixtures/config/profiles"));
}

#[test]
fn durations_need_a_unit() {
    let ok = [
        ("20ms", Duration::from_millis(20)),
        ("1s", Duration::from_secs(1)),
        ("1.5s", Duration::from_millis(1500)),
        ("1m30s", Duration::from_secs(90)),
        (" 2 min ", Duration::from_secs(120)),
        ("250us", Duration::from_micros(250)),
    ];
    for (text, expected) in ok {
        assert_eq!(walk::parse_duration(text), Ok(expected), "{text}");
    }
    for text in [
        "",
        "20",
        "1.5",
        "-1s",
        "20xs",
        "1e3ms",
        "fast",
        "99999999999999999999h",
    ] {
        assert!(walk::parse_duration(text).is_err(), "{text} was accepted");
    }
}

#[test]
fn budget_keys_accept_decimal_percentiles() {
    let text = "[target]\nbase_url = \"http://h\"\n[[endpoint]]\nname = \"/a\"\n\
                budget = { p50 = \"1ms\", \"p99.9\" = \"2ms\", \"p99.99\" = \"3ms\", max = \"4ms\" }\n";
    let sla = parse_sla(Path::new("k.toml"), text.as_bytes()).expect("valid");
    let quantiles: Vec<f64> = sla.endpoints[0]
        .budgets
        .iter()
        .map(|b| match b.metric {
            BudgetMetric::Percentile { quantile } => quantile,
            BudgetMetric::Max => 1.0,
        })
        .collect();
    assert_eq!(quantiles.len(), 4);
    assert!((quantiles[1] - 0.999).abs() < 1e-12 && (quantiles[2] - 0.9999).abs() < 1e-12);

    for key in [
        "p0", "p100", "p-5", "p", "p.5", "p5.", "P95", "p1e2", "pinf", "p99.9.9",
    ] {
        let text = format!(
            "[target]\nbase_url = \"http://h\"\n[[endpoint]]\nname = \"/a\"\nbudget = {{ \"{key}\" = \"1ms\" }}\n"
        );
        let e = parse_sla(Path::new("k.toml"), text.as_bytes()).expect_err(key);
        assert_eq!(
            e.problems()[0].kind(),
            ProblemKind::InvalidBudgetKey,
            "{key}"
        );
    }
    // The same percentile twice, spelt differently.
    let text = "[target]\nbase_url = \"http://h\"\n[[endpoint]]\nname = \"/a\"\n\
                budget = { p99 = \"1ms\", \"p99.0\" = \"2ms\" }\n";
    let e = parse_sla(Path::new("k.toml"), text.as_bytes()).expect_err("twice");
    assert_eq!(e.problems()[0].kind(), ProblemKind::DuplicateKey);
}

#[test]
fn line_and_column_count_characters() {
    let source = super::SourceFile {
        path: PathBuf::from("x.toml"),
        text: "a = 1\n# é\nb = \"é\"\n".to_string(),
    };
    assert_eq!(source.line_column(0), (1, 1));
    assert_eq!(source.line_column(6), (2, 1));
    let b = source.text.find('b').expect("b");
    assert_eq!(source.line_column(b), (3, 1));
    let quote = source.text.rfind('"').expect("quote");
    assert_eq!(source.line_column(quote), (3, 7));
    // Offsets inside a character or past the end clamp rather than panic.
    assert_eq!(source.line_column(9), (2, 3));
    assert_eq!(source.line_column(10_000), (4, 1));

    let bom = super::SourceFile {
        path: PathBuf::from("bom.toml"),
        text: "\u{FEFF}a = 1\r\nb = 2\r\n".to_string(),
    };
    assert_eq!(bom.line_column(3), (1, 1));
    assert_eq!(bom.line_column(bom.text.find('b').expect("b")), (2, 1));
}

// ---- No input panics ------------------------------------------------------------------------

const REAL_SLA: &str = include_str!("../../sla.toml");
const REAL_PROFILE: &str = include_str!("../../profiles/heavy.toml");

/// Values that probe the edges of each reader when swapped in for a real one.
const NASTY_VALUES: &[&str] = &[
    "0",
    "-1",
    "99999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "0x7fffffffffffffff",
    "1e400",
    "-0.0",
    "nan",
    "inf",
    "\"\"",
    "\"0s\"",
    "\"1.5s\"",
    "\"18446744073709551616s\"",
    "\"9999999999h\"",
    "\"0.000000001ns\"",
    "\"150%\"",
    "\"-0%\"",
    "\"nan%\"",
    "\"%\"",
    "\"é\"",
    "\"p99.9\"",
    "[]",
    "[[]]",
    "{}",
    "{ min = \"2s\", max = \"1s\" }",
    "true",
    "1979-05-27T07:32:00Z",
    "\"http://[::1]:80/a/\"",
    "\"http://\"",
    "\"get\"",
    "\"\\u0000\"",
    "\"${SLAGATE_FUZZ_UNSET}\"",
    "\"${\"",
    "\"$${}\"",
    "\"a${}b${\"",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteBytes { at: usize, len: usize },
    InsertBytes { at: usize, bytes: Vec<u8> },
    ReplaceByte { at: usize, byte: u8 },
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceValue { line: usize, value: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..8).prop_map(|(at, len)| Mutation::DeleteBytes { at, len }),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(at, bytes)| Mutation::InsertBytes { at, bytes }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::ReplaceByte { at, byte }),
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<usize>())
            .prop_map(|(line, value)| Mutation::ReplaceValue { line, value }),
    ]
}

fn apply(text: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.to_vec();
    for m in mutations {
        let n = bytes.len().max(1);
        let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
        let nl = lines.len();
        match m {
            Mutation::DeleteBytes { at, len } => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::InsertBytes { at, bytes: new } => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, new.iter().copied());
            }
            Mutation::ReplaceByte { at, byte } => {
                if let Some(b) = bytes.get_mut(at % n) {
                    *b = *byte;
                }
            }
            Mutation::DeleteLine(i) => {
                lines.remove(i % nl);
                bytes = lines.join(&b'\n');
            }
            Mutation::DuplicateLine(i) => {
                let line = lines[i % nl].clone();
                lines.insert(i % nl, line);
                bytes = lines.join(&b'\n');
            }
            Mutation::SwapLines(a, b) => {
                lines.swap(a % nl, b % nl);
                bytes = lines.join(&b'\n');
            }
            Mutation::ReplaceValue { line, value } => {
                let line = &mut lines[line % nl];
                if let Some(eq) = line.iter().position(|b| *b == b'=') {
                    line.truncate(eq + 1);
                    line.push(b' ');
                    line.extend_from_slice(NASTY_VALUES[value % NASTY_VALUES.len()].as_bytes());
                }
                bytes = lines.join(&b'\n');
            }
        }
    }
    bytes
}

/// Parses as both kinds of file; every error must render.
fn check_no_panic(bytes: &[u8]) {
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    if let Err(e) = parse_sla(Path::new("fuzz.toml"), bytes) {
        handler.render_report(&mut out, &e).expect("renders");
        assert!(!e.problems().is_empty() || !matches!(e, ConfigError::Invalid { .. }));
    }
    if let Err(e) = parse_profile(Path::new("fuzz.toml"), bytes) {
        handler.render_report(&mut out, &e).expect("renders");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_no_panic(&bytes);
    }

    #[test]
    fn toml_like_text_never_panics(text in "[\\[\\]{}a-z_.=\"'0-9%, \n#-]{0,300}") {
        check_no_panic(text.as_bytes());
    }

    #[test]
    fn mutated_sla_never_panics(mutations in proptest::collection::vec(mutation(), 1..6)) {
        check_no_panic(&apply(REAL_SLA.as_bytes(), &mutations));
    }

    #[test]
    fn mutated_profile_never_panics(mutations in proptest::collection::vec(mutation(), 1..6)) {
        check_no_panic(&apply(REAL_PROFILE.as_bytes(), &mutations));
    }
}

// ---- ${NAME} from the environment -----------------------------------------------------------

/// An environment of fixed values, so tests never touch (or depend on) the process's.
fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Result<String, VarError> {
    move |name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .ok_or(VarError::NotPresent)
    }
}

const VARS: &[(&str, &str)] = &[
    ("HOST", "api.internal:8080"),
    ("TOKEN", "tok-3f9a1c"),
    ("TENANT", "acme-corp"),
    ("QTY", "42"),
    ("NOTE", "from ${TOKEN}"),
    ("EMPTY", ""),
];

#[test]
fn variables_expand_in_every_string_and_are_secrets() {
    let text = r#"
[target]
base_url = "http://${HOST}/v1"
headers = { authorization = "Bearer ${TOKEN}", x-tenant = "${TENANT}" }

[[endpoint]]
name = "/orders for ${TENANT}"
path = "/orders?tenant=${TENANT}"
json = { qty = "${QTY}", items = [{ note = "${NOTE}" }], price = "$5", literal = "$${TOKEN}" }
budget = { p95 = "20ms" }

[[endpoint]]
name = "/raw"
body = "t=${TOKEN};$$"
budget = { p95 = "20ms" }
"#;
    let sla = parse_sla_with(Path::new("e.toml"), text.as_bytes(), &env(VARS)).expect("valid");
    assert_eq!(
        sla.target.base_url.get_ref().as_str(),
        "http://api.internal:8080/v1"
    );
    assert_eq!(sla.target.headers["authorization"], "Bearer tok-3f9a1c");
    assert_eq!(sla.target.headers["x-tenant"], "acme-corp");
    let [orders, raw] = &sla.endpoints[..] else {
        panic!("two endpoints");
    };
    assert_eq!(orders.name.get_ref(), "/orders for acme-corp");
    assert_eq!(orders.path, "/orders?tenant=acme-corp");
    // Strings inside a json body expand; a value is used as is (its `${TOKEN}` stays); `$` alone
    // and `$${` (a literal `${`) are not references.
    assert_eq!(
        orders.body,
        super::Body::Json(serde_json::json!({
            "qty": "42",
            "items": [{ "note": "from ${TOKEN}" }],
            "price": "$5",
            "literal": "${TOKEN}",
        }))
    );
    assert_eq!(raw.body, super::Body::Text("t=tok-3f9a1c;$$".into()));
    // The source keeps what was written; the values that came from the environment are secrets
    // (QTY is under the floor).
    assert!(sla.source.text.contains("Bearer ${TOKEN}"));
    let s = &sla.secrets;
    for value in [
        "api.internal:8080",
        "tok-3f9a1c",
        "acme-corp",
        "from ${TOKEN}",
    ] {
        assert_eq!(s.redact(value), super::MASK, "{value}");
    }
    assert_eq!(s.redact("42"), "42");

    let profile = "description = \"nightly for ${TENANT}\"\nusers = 1\nspawn_rate = 1\n\
                   run_time = \"1m\"\n";
    let profile =
        parse_profile_with(Path::new("p.toml"), profile.as_bytes(), &env(VARS)).expect("valid");
    assert_eq!(profile.description, "nightly for acme-corp");
    assert_eq!(
        profile.secrets.redact(&profile.description),
        "nightly for ***"
    );
}

#[test]
fn an_unset_or_empty_variable_points_at_its_reference_and_no_value_is_quoted() {
    let text = "[target]\nbase_url = \"http://localhost:8003\"\n\
                headers = { x-a = \"${MISSING}\", x-b = \"pre ${EMPTY} ${TOKEN}\" }\n\
                timeout = \"${TENANT}\"\n\
                [[endpoint]]\nname = \"/a\"\nbudget = { p95 = \"${TOKEN}\" }\n";
    let e = parse_sla_with(Path::new("u.toml"), text.as_bytes(), &env(VARS)).expect_err("bad");
    let kinds: Vec<ProblemKind> = e.problems().iter().map(|p| p.kind()).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::UnsetVariable,
            ProblemKind::UnsetVariable,
            ProblemKind::InvalidDuration,
            ProblemKind::InvalidDuration,
        ]
    );
    // The span is the reference inside the string, not the whole string.
    let spans: Vec<&str> = e.problems().iter().map(|p| &text[p.span()]).collect();
    assert_eq!(
        spans,
        ["${MISSING}", "${EMPTY}", "\"${TENANT}\"", "\"${TOKEN}\""]
    );
    let rendered = render(&e);
    assert!(
        rendered.contains("environment variable `MISSING` is not set"),
        "{rendered}"
    );
    assert!(
        rendered.contains("environment variable `EMPTY` is empty"),
        "{rendered}"
    );
    // The durations' messages would quote the expanded values: they are masked.
    assert!(rendered.contains("`timeout` = \"***\""), "{rendered}");
    for secret in ["acme-corp", "tok-3f9a1c"] {
        assert!(!rendered.contains(secret), "{secret} in:\n{rendered}");
    }

    // A "found string …" message quotes 40 characters of a value: a longer secret is cut off
    // there, and what is left of it is masked too.
    let text = "[target]\nbase_url = \"http://h\"\n[[endpoint]]\nname = \"/a\"\n\
                weight = \"${LONG}\"\nbudget = { p95 = \"1s\" }\n";
    const LONG: &[(&str, &str)] = &[("LONG", "0123456789abcdefghij0123456789abcdefghij-and-more")];
    let e = parse_sla_with(Path::new("l.toml"), text.as_bytes(), &env(LONG)).expect_err("type");
    let rendered = render(&e);
    assert!(rendered.contains("found string \"***…\""), "{rendered}");
    assert!(!rendered.contains("0123456789"), "{rendered}");
}

#[test]
fn a_failed_reference_hides_the_complaints_it_causes() {
    // Expanded to nothing, base_url would be "no scheme" and the name "empty": noise.
    let text = "[target]\nbase_url = \"${URL}\"\n[[endpoint]]\nname = \"${NAME}\"\n\
                budget = { p95 = \"1s\" }\n";
    let e = parse_sla_with(Path::new("n.toml"), text.as_bytes(), &env(VARS)).expect_err("bad");
    let kinds: Vec<ProblemKind> = e.problems().iter().map(|p| p.kind()).collect();
    assert_eq!(
        kinds,
        [ProblemKind::UnsetVariable, ProblemKind::UnsetVariable]
    );
}

#[test]
fn redact_lists_header_names() {
    let text = "[target]\nbase_url = \"http://h\"\nredact = [\"X-Session\", \"x-csrf\"]\n\
                [[endpoint]]\nname = \"/a\"\nbudget = { p95 = \"1s\" }\n";
    let sla = parse_sla(Path::new("r.toml"), text.as_bytes()).expect("valid");
    let names: Vec<&str> = sla.target.redact.iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["x-session", "x-csrf"]);

    for (value, kind) in [
        ("[\"x session\"]", ProblemKind::InvalidHeader),
        ("\"x-session\"", ProblemKind::WrongType),
        ("[1]", ProblemKind::WrongType),
    ] {
        let text = format!(
            "[target]\nbase_url = \"http://h\"\nredact = {value}\n\
             [[endpoint]]\nname = \"/a\"\nbudget = {{ p95 = \"1s\" }}\n"
        );
        let e = parse_sla(Path::new("r.toml"), text.as_bytes()).expect_err(value);
        assert_eq!(e.problems()[0].kind(), kind, "{value}");
        assert!(render(&e).contains("help:"), "{value}");
    }
}

// ---- [target]'s transport and TLS -----------------------------------------------------------

use super::HttpSpec;
use super::test_pki::Pki;

/// Loads `pki`'s sla.toml with this `[target]` body and renders its diagnostic (see
/// [`Pki::render`]).
fn tls_error(pki: &Pki, target: &str) -> (ConfigError, String) {
    let e = load_sla(&pki.sla(target)).expect_err("refused");
    let rendered = pki.render(&e);
    assert_eq!(
        rendered.matches("help:").count(),
        e.problems().len(),
        "a problem without help:\n{rendered}"
    );
    (e, rendered)
}

const HTTPS: &str = "base_url = \"https://staging.example.com\"";

#[test]
fn transport_keys_default_and_resolve() {
    let sla = load_sla(Path::new("sla.toml")).expect("sla.toml is valid");
    assert_eq!(sla.target.http, HttpSpec::Auto);
    assert_eq!(sla.target.max_streams, None);
    assert_eq!(sla.target.connect_timeout, None);
    assert!(sla.target.tls.is_none());
    assert!(sla.target.connect_budgets.is_empty());

    for (written, http) in [
        ("\"1.1\"", HttpSpec::Http1),
        ("\"2\"", HttpSpec::Http2),
        ("\"auto\"", HttpSpec::Auto),
    ] {
        let text = format!(
            "[target]\nbase_url = \"http://h\"\nhttp = {written}\nmax_streams = 250\n\
             connect_timeout = \"3s\"\nconnect_budget = {{ p50 = \"10ms\", p99 = \"50ms\" }}\n\
             [[endpoint]]\nname = \"/a\"\nbudget = {{ p95 = \"1s\" }}\n"
        );
        // `http = "2"` on http:// is h2c: fine.
        let sla = parse_sla(Path::new("t.toml"), text.as_bytes()).expect("valid");
        assert_eq!(sla.target.http, http);
        assert_eq!(sla.target.max_streams, Some(250));
        assert_eq!(sla.target.connect_timeout, Some(Duration::from_secs(3)));
        let budgets = &sla.target.connect_budgets;
        assert_eq!(budgets.len(), 2);
        assert_eq!(
            budgets[1].metric,
            BudgetMetric::Percentile { quantile: 0.99 }
        );
        assert_eq!(*budgets[1].limit.get_ref(), Duration::from_millis(50));
        assert_eq!(&sla.source.text[budgets[1].limit.span()], "\"50ms\"");
    }
}

#[test]
fn tls_files_are_read_relative_to_the_sla_file() {
    let pki = Pki::new();
    // The working directory is the crate's root: `certs/` only exists beside the sla file.
    assert!(!Path::new("certs/ca.pem").exists());
    let sla = load_sla(&pki.sla(&format!(
        "{HTTPS}\ntls = {{ ca = \"certs/ca.pem\", cert = \"certs/client.pem\", \
         key = \"certs/client.key\", server_name = \"api.internal\" }}"
    )))
    .expect("valid");
    let tls = sla.target.tls.as_ref().expect("tls");
    assert_eq!(tls.ca, std::slice::from_ref(&pki.ca));
    assert!(!tls.insecure);
    assert_eq!(tls.server_name.as_deref(), Some("api.internal"));
    let identity = tls.identity.as_ref().expect("identity");
    // The chain as written: the client's certificate, then its CA.
    assert_eq!(identity.chain, [pki.client.clone(), pki.ca.clone()]);
    assert_eq!(identity.key.secret_der(), &pki.client_key[..]);
    assert_eq!(identity.cert_path, pki.file("certs/client.pem"));
    // Nothing prints the key.
    assert!(!format!("{sla:?}").contains(&format!("{:?}", &pki.client_key[..8])));

    // A list of files, one with two certificates, in order; a [target.tls] table; an IP.
    let sla = load_sla(&pki.sla(&format!(
        "{HTTPS}\n[target.tls]\nca = [\"certs/cas.pem\", \"certs/ca.pem\"]\nserver_name = \"10.0.0.7\""
    )))
    .expect("valid");
    let tls = sla.target.tls.expect("tls");
    assert_eq!(
        tls.ca,
        [pki.other_ca.clone(), pki.ca.clone(), pki.ca.clone()]
    );
    assert!(tls.identity.is_none());
    assert_eq!(tls.server_name.as_deref(), Some("10.0.0.7"));

    // insecure without ca is fine.
    let sla = load_sla(&pki.sla(&format!("{HTTPS}\ntls = {{ insecure = true }}"))).expect("valid");
    assert!(sla.target.tls.expect("tls").insecure);
}

#[test]
fn tls_paths_may_come_from_the_environment_and_are_then_masked() {
    let pki = Pki::new();
    let path = pki.sla(&format!(
        "{HTTPS}\ntls = {{ ca = \"${{CA_FILE}}\", cert = \"certs/${{CERT_NAME}}\", key = \"certs/client.key\" }}"
    ));
    let text = std::fs::read(&path).expect("written");
    const PATHS: &[(&str, &str)] = &[("CA_FILE", "certs/ca.pem"), ("CERT_NAME", "client.pem")];
    let sla = parse_sla_with(&path, &text, &env(PATHS)).expect("valid");
    assert_eq!(
        sla.target.tls.expect("tls").ca,
        std::slice::from_ref(&pki.ca)
    );

    const MISSING: &[(&str, &str)] = &[("CA_FILE", "certs/nope.pem"), ("CERT_NAME", "client.pem")];
    let e = parse_sla_with(&path, &text, &env(MISSING)).expect_err("missing");
    let rendered = pki.render(&e);
    assert!(
        rendered.contains("cannot read [dir]/***: no such file"),
        "{rendered}"
    );
    assert!(!rendered.contains("nope"), "{rendered}");
}

#[test]
fn bad_pem_files_are_each_reported_at_their_value() {
    let pki = Pki::new();
    let (e, rendered) = tls_error(
        &pki,
        &format!(
            "{HTTPS}\n[target.tls]\nca = [\"certs/client.key\", \"certs/truncated.pem\", \
             \"certs/not-a-cert.pem\"]\ncert = \"certs/client.pem\"\nkey = \"certs/ca.pem\""
        ),
    );
    let kinds: Vec<ProblemKind> = e.problems().iter().map(|p| p.kind()).collect();
    assert_eq!(kinds, [ProblemKind::InvalidPem; 4], "{rendered}");
    for needle in [
        "sla.toml:4:7]",
        "[dir]/certs/client.key holds no certificate",
        "this file holds a private key: `ca` takes certificates",
        "sla.toml:4:27]",
        "[dir]/certs/truncated.pem is not valid PEM: a -----BEGIN CERTIFICATE----- block has no \
         -----END CERTIFICATE----- line",
        "sla.toml:4:50]",
        "certificate 1 of 1 in [dir]/certs/not-a-cert.pem is not a valid X.509 certificate",
        "sla.toml:6:7]",
        "[dir]/certs/ca.pem holds no private key",
        "`key` takes the private key",
    ] {
        assert!(rendered.contains(needle), "lacks {needle:?}:\n{rendered}");
    }
    insta::assert_snapshot!("tls_bad_pem", rendered);

    let (_, rendered) = tls_error(
        &pki,
        &format!("{HTTPS}\ntls = {{ cert = \"certs/client.pem\", key = \"certs/encrypted.key\" }}"),
    );
    assert!(rendered.contains("the key is encrypted"), "{rendered}");
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused() {
    let pki = Pki::new();
    let (e, rendered) = tls_error(
        &pki,
        &format!("{HTTPS}\ntls = {{ cert = \"certs/client.pem\", key = \"certs/other.key\" }}"),
    );
    assert_eq!(e.problems()[0].kind(), ProblemKind::KeyMismatch);
    assert!(
        rendered.contains(
            "the private key in [dir]/certs/other.key does not match the certificate in \
             [dir]/certs/client.pem"
        ),
        "{rendered}"
    );
    assert!(rendered.contains("`cert` here"), "{rendered}");
    insta::assert_snapshot!("tls_key_mismatch", rendered);
}

#[test]
fn cert_and_key_come_together_and_insecure_refuses_ca() {
    let pki = Pki::new();
    let (_, rendered) = tls_error(
        &pki,
        &format!("{HTTPS}\ntls = {{ cert = \"certs/client.pem\" }}"),
    );
    assert!(
        rendered.contains("`tls` has a `cert` but no `key`"),
        "{rendered}"
    );
    assert!(rendered.contains("sla.toml:3:16]"), "{rendered}");
    insta::assert_snapshot!("tls_cert_without_key", rendered);

    let (_, rendered) = tls_error(
        &pki,
        &format!("{HTTPS}\n[target.tls]\nkey = \"certs/client.key\""),
    );
    assert!(
        rendered.contains("`tls` has a `key` but no `cert`"),
        "{rendered}"
    );
    assert!(
        rendered.contains("add cert = \"certs/client.pem\""),
        "{rendered}"
    );

    let (e, rendered) = tls_error(
        &pki,
        &format!("{HTTPS}\ntls = {{ ca = \"certs/ca.pem\", insecure = true }}"),
    );
    assert_eq!(e.problems()[0].kind(), ProblemKind::Conflict);
    assert!(
        rendered.contains("`insecure = true` and `ca` contradict each other"),
        "{rendered}"
    );
    insta::assert_snapshot!("tls_insecure_with_ca", rendered);
}

mod open_model {
    use super::*;

    fn profile(text: &str) -> Result<super::super::ProfileFile, String> {
        parse_profile(Path::new("open.toml"), text.as_bytes()).map_err(|e| render(&e))
    }

    #[test]
    fn a_rate_makes_an_open_profile_with_its_stages_and_cap() {
        let p = profile(
            "rate = 80\nrun_time = \"3m\"\nmax_in_flight = 2000\n\
             stages = [ { rate = 20, for = \"20s\" }, { rate = 80, for = \"40s\" } ]\n",
        )
        .expect("valid");
        let LoadSpec::Open {
            rate,
            stages,
            max_in_flight,
        } = p.load
        else {
            panic!("open")
        };
        assert_eq!(rate.map(|r| *r.get_ref()), Some(80.0));
        assert_eq!(max_in_flight, Some(2000));
        let stages: Vec<(f64, Duration)> = stages
            .iter()
            .map(|s| (*s.rate.get_ref(), s.length))
            .collect();
        assert_eq!(
            stages,
            [
                (20.0, Duration::from_secs(20)),
                (80.0, Duration::from_secs(40))
            ]
        );
        // Stages alone are an open profile too.
        let p = profile("run_time = \"1m\"\nstages = [ { rate = 5, for = \"10s\" } ]\n")
            .expect("valid");
        assert!(matches!(p.load, LoadSpec::Open { rate: None, .. }));
    }

    #[test]
    fn mixing_the_models_names_every_key_of_the_other() {
        let e = profile("rate = 10\nusers = 5\nthink_time = \"1s\"\nrun_time = \"1m\"\n")
            .expect_err("mixed");
        assert!(e.contains("`users` is a closed-model key"), "{e}");
        assert!(e.contains("`think_time` is a closed-model key"), "{e}");
        assert!(e.contains("remove one set"), "{e}");
        let e = profile("users = 5\nspawn_rate = 1\nmax_in_flight = 10\nrun_time = \"1m\"\n")
            .expect_err("cap on a closed model");
        assert!(e.contains("`max_in_flight` caps an open model"), "{e}");
    }

    #[test]
    fn bad_rates_stages_and_caps_are_pointed_at() {
        for (text, expected) in [
            (
                "rate = 0\nrun_time = \"1m\"\n",
                "`rate` = 0 is out of range",
            ),
            ("rate = -3\nrun_time = \"1m\"\n", "must be > 0"),
            (
                "rate = \"80\"\nrun_time = \"1m\"\n",
                "remove the quotes: rate = 80",
            ),
            ("stages = []\nrun_time = \"1m\"\n", "`stages` is empty"),
            (
                "stages = [ { rate = 5 } ]\nrun_time = \"1m\"\n",
                "missing required key `for` in a stage",
            ),
            (
                "stages = [ { rate = 5, for = \"1s\", hold = true } ]\nrun_time = \"1m\"\n",
                "hold",
            ),
            (
                "rate = 80\nstages = [ { rate = 60, for = \"10s\" } ]\nrun_time = \"1m\"\n",
                "`rate` = 80 but the last stage ends at 60",
            ),
            (
                "rate = 10\nmax_in_flight = 0\nrun_time = \"1m\"\n",
                "`max_in_flight` = 0 is out of range",
            ),
        ] {
            let e = profile(text).expect_err(text);
            assert!(e.contains(expected), "{text}: {e}");
        }
    }
}

#[test]
fn sessions_belong_to_the_open_model() {
    let open = parse_profile(
        Path::new("profiles/o.toml"),
        b"rate = 10\nrun_time = \"1m\"\nsessions = 20\n",
    )
    .unwrap();
    assert_eq!(open.sessions, Some(20));
    let Err(e) = parse_profile(
        Path::new("profiles/c.toml"),
        b"users = 2\nspawn_rate = 1\nrun_time = \"1m\"\nsessions = 20\n",
    ) else {
        panic!("sessions on a closed profile was accepted");
    };
    let rendered = render(&e);
    assert!(
        rendered.contains("`sessions` is the open model's pool"),
        "{rendered}"
    );
    let Err(e) = parse_profile(
        Path::new("profiles/o.toml"),
        b"rate = 10\nrun_time = \"1m\"\nsessions = 0\n",
    ) else {
        panic!("sessions = 0 was accepted");
    };
    assert!(render(&e).contains("`sessions` = 0 is out of range"));
}
