//! Resolves a checked sla file, a checked profile and the command line's overrides into a
//! [`Plan`]: applies the overrides (validating them like the files), picks the profile's level,
//! joins paths onto the base URL, merges headers and encodes bodies. Rules that need more than
//! one file live here; rules about one file live in `config`.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http::header::CONTENT_TYPE;

use super::{
    AbortWhen, Budget, Endpoint, Level, LevelLimit, Location, Metric, Plan, Profile, Quantile,
    StatusSet, Target, ThinkTime,
};
use crate::config::{
    AbortWhenSpec, Body, BudgetMetric, ConfigError, EndpointSpec, LevelSpec, Problem, ProblemKind,
    ProfileFile, SlaFile, SourceFile, parse_base_url,
};

/// Command-line values that override the profile and the sla file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub host: Option<String>,
    pub users: Option<u32>,
    pub spawn_rate: Option<f64>,
    pub run_time: Option<Duration>,
}

/// Same bound as for durations in the files: later stages add it to an `Instant`.
const MAX_RUN_TIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Builds the plan for one profile against one sla file.
pub fn build(
    sla: &SlaFile,
    profile: &ProfileFile,
    overrides: &Overrides,
) -> Result<Plan, ConfigError> {
    let base_url = match &overrides.host {
        Some(host) => parse_base_url(host).map_err(|(message, help)| {
            flag_error("--host", host, ProblemKind::InvalidUrl, message, help)
        })?,
        None => sla.target.base_url.get_ref().clone(),
    };
    let users = match overrides.users {
        Some(0) => {
            return Err(flag_error(
                "--users",
                "0",
                ProblemKind::OutOfRange,
                "--users must be at least 1".into(),
                "simulate at least one user: --users 1".into(),
            ));
        }
        Some(n) => n,
        None => profile.users,
    };
    let spawn_rate = match overrides.spawn_rate {
        Some(r) if !(r.is_finite() && r > 0.0) => {
            return Err(flag_error(
                "--spawn-rate",
                &r.to_string(),
                ProblemKind::OutOfRange,
                "--spawn-rate must be a number above 0".into(),
                "users started per second: --spawn-rate 2 (0.5 starts one user every 2 s)".into(),
            ));
        }
        Some(r) => r,
        None => profile.spawn_rate,
    };
    let run_time = match overrides.run_time {
        Some(t) if t.is_zero() || t > MAX_RUN_TIME => {
            return Err(flag_error(
                "--run-time",
                &humantime::format_duration(t).to_string(),
                ProblemKind::OutOfRange,
                "--run-time must be above 0 and at most 365 days".into(),
                "give the run's length, ramp-up included: --run-time 5m".into(),
            ));
        }
        Some(t) => t,
        None => profile.run_time,
    };
    check_ramp_up(profile, overrides, users, spawn_rate, run_time)?;

    let level_spec = match &profile.level {
        Some(explicit) => match sla.level(explicit.get_ref()) {
            Some(level) => Some(level),
            None => return Err(unknown_level(sla, profile, explicit)),
        },
        // The implicit level (the file stem) may well not exist: that just means no
        // throughput checks for this profile.
        None => sla.level(&profile.name),
    };
    let level = level_spec.map(|level| level_of(sla, level));
    // The level's own rule wins over the file's; a profile without a level gets the file's.
    let abort_when = level_spec
        .and_then(|l| l.abort_when.as_ref())
        .or(sla.abort_when.as_ref())
        .map(|rule| abort_when_of(sla, rule));

    let base_path = base_url.path().trim_end_matches('/').to_string();
    let endpoints = sla
        .endpoints
        .iter()
        .map(|e| endpoint(sla, e, &base_path))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Plan {
        sla_path: sla.source.path.clone(),
        target: Target {
            base_url,
            timeout: sla.target.timeout,
            headers: sla.target.headers.clone(),
        },
        endpoints,
        profile: Profile {
            name: profile.name.clone(),
            path: profile.source.path.clone(),
            description: profile.description.clone(),
            users,
            spawn_rate,
            run_time,
            think_time: ThinkTime {
                min: profile.think_time.min,
                max: profile.think_time.max,
            },
            level_name: profile.level_name().to_string(),
        },
        level,
        abort_when,
    })
}

fn flag_error(
    flag: &str,
    value: &str,
    kind: ProblemKind,
    message: String,
    help: String,
) -> ConfigError {
    let problem = Problem::new(kind, 0..value.len(), message)
        .label("invalid value")
        .help(help);
    ConfigError::flag(flag, value, problem)
}

/// The SLA window starts when the last user has started; if that is not before the end of
/// the run, nothing would be measured and every check would fail after a wasted run.
fn check_ramp_up(
    profile: &ProfileFile,
    overrides: &Overrides,
    users: u32,
    spawn_rate: f64,
    run_time: Duration,
) -> Result<(), ConfigError> {
    let ramp_up = f64::from(users.saturating_sub(1)) / spawn_rate;
    if ramp_up < run_time.as_secs_f64() {
        return Ok(());
    }
    let origin = |overridden: bool, flag: &str| {
        if overridden {
            format!(" ({flag})")
        } else {
            String::new()
        }
    };
    Err(ConfigError::Inconsistent {
        message: format!(
            "profile {}: the ramp-up outlasts the run: {users} users{} at {spawn_rate} per second{} \
             take {ramp_up:.1} s to start, but run_time is {}{}",
            profile.name,
            origin(overrides.users.is_some(), "--users"),
            origin(overrides.spawn_rate.is_some(), "--spawn-rate"),
            humantime::format_duration(run_time),
            origin(overrides.run_time.is_some(), "--run-time"),
        ),
        help: "the SLA is measured after the last user has started: raise run_time or \
               spawn_rate, or lower users"
            .to_string(),
    })
}

fn unknown_level(
    sla: &SlaFile,
    profile: &ProfileFile,
    explicit: &toml::Spanned<String>,
) -> ConfigError {
    let names: Vec<&str> = sla
        .levels
        .iter()
        .map(|l| l.name.get_ref().as_str())
        .collect();
    let list = if names.is_empty() {
        format!("{} has no [level.NAME] tables", sla.source.path.display())
    } else {
        format!(
            "levels in {}: {}",
            sla.source.path.display(),
            names.join(", ")
        )
    };
    let help = match crate::config::did_you_mean(explicit.get_ref(), &names) {
        Some(s) => format!("did you mean `{s}`? {list}"),
        None => format!("{list}; remove `level` to skip throughput checks"),
    };
    let problem = Problem::new(
        ProblemKind::UnknownLevel,
        explicit.span(),
        format!("no [level.{}] in the sla file", explicit.get_ref()),
    )
    .label("unknown level")
    .help(help);
    ConfigError::Invalid {
        summary: format!(
            "{} names a level the sla file does not define",
            profile.source.path.display()
        ),
        src: profile.source.named_source(),
        problems: vec![problem],
    }
}

fn location(source: &SourceFile, offset: usize) -> Location {
    let (line, column) = source.line_column(offset);
    Location {
        file: source.path.clone(),
        line,
        column,
    }
}

fn level_of(sla: &SlaFile, level: &LevelSpec) -> Level {
    let limit = |spanned: &toml::Spanned<f64>| LevelLimit {
        value: *spanned.get_ref(),
        location: location(&sla.source, spanned.span().start),
    };
    Level {
        name: level.name.get_ref().clone(),
        min_rps: level.min_rps.as_ref().map(limit),
        max_error_rate: level.max_error_rate.as_ref().map(limit),
        window: level.window.as_ref().map(|w| LevelLimit {
            value: *w.get_ref(),
            location: location(&sla.source, w.span().start),
        }),
    }
}

fn abort_when_of(sla: &SlaFile, rule: &AbortWhenSpec) -> AbortWhen {
    AbortWhen {
        error_rate: *rule.error_rate.get_ref(),
        sustained: *rule.sustained.get_ref(),
        location: location(&sla.source, rule.span.start),
    }
}

fn endpoint(sla: &SlaFile, spec: &EndpointSpec, base_path: &str) -> Result<Endpoint, ConfigError> {
    // Endpoint headers replace same-named target headers rather than adding a second value.
    let mut headers = sla.target.headers.clone();
    for name in spec.headers.keys() {
        headers.remove(name);
    }
    for (name, value) in &spec.headers {
        headers.append(name, value.clone());
    }
    let body = match &spec.body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text.clone()),
        Body::Json(value) => {
            if !spec.headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Bytes::from(value.to_string())
        }
    };
    let budgets = spec
        .budgets
        .iter()
        .map(|b| {
            let metric = match b.metric {
                BudgetMetric::Max => Metric::Max,
                BudgetMetric::Percentile { quantile } => {
                    Metric::Percentile(Quantile::new(quantile).ok_or_else(|| {
                        ConfigError::Inconsistent {
                            message: format!("budget quantile {quantile} is not between 0 and 1"),
                            help: "this is a bug in slagate's config checks: please report it"
                                .to_string(),
                        }
                    })?)
                }
            };
            Ok(Budget {
                metric,
                limit: *b.limit.get_ref(),
                location: location(&sla.source, b.limit.span().start),
            })
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    Ok(Endpoint {
        name: spec.name.get_ref().clone(),
        method: spec.method.clone(),
        path_and_query: format!("{base_path}{}", spec.path),
        headers,
        body,
        weight: spec.weight,
        expect_status: match &spec.expect_status {
            None => StatusSet::Success,
            Some(codes) => StatusSet::Exactly(codes.clone()),
        },
        budgets,
        location: location(&sla.source, spec.span.start),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use proptest::prelude::*;

    use super::{Overrides, build};
    use crate::config::{ConfigError, load_profile, load_sla, parse_profile};
    use crate::plan::{Metric, Plan, StatusSet};

    fn render(e: &ConfigError) -> String {
        let mut out = String::new();
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .render_report(&mut out, e)
            .expect("a diagnostic renders");
        out
    }

    fn build_files(sla: &str, profile: &str, overrides: &Overrides) -> Result<Plan, ConfigError> {
        let sla = load_sla(Path::new(sla)).expect("sla loads");
        let profile = load_profile(Path::new(profile)).expect("profile loads");
        build(&sla, &profile, overrides)
    }

    fn good(profile: &str) -> Plan {
        build_files(
            "fixtures/config/good/sla.toml",
            &format!("fixtures/config/good/profiles/{profile}.toml"),
            &Overrides::default(),
        )
        .expect("builds")
    }

    #[test]
    fn the_repo_config_builds_for_every_profile() {
        for name in ["smoke", "light", "medium", "heavy", "stress"] {
            let plan = build_files(
                "sla.toml",
                &format!("profiles/{name}.toml"),
                &Overrides::default(),
            )
            .expect("builds");
            assert_eq!(plan.endpoints.len(), 5);
            let level = plan.level.expect("every guide profile has its level");
            assert_eq!(level.name, name);
            assert!(plan.profile.ramp_up() < plan.profile.run_time);
        }

        let plan =
            build_files("sla.toml", "profiles/medium.toml", &Overrides::default()).expect("builds");
        assert_eq!(plan.sla_path, Path::new("sla.toml"));
        assert_eq!(plan.target.base_url.as_str(), "http://localhost:8003/");
        assert_eq!(plan.target.timeout, Duration::from_secs(10));
        assert_eq!(plan.profile.name, "medium");
        assert_eq!(plan.profile.users, 50);
        assert_eq!(plan.profile.spawn_rate, 5.0);
        assert_eq!(plan.profile.run_time, Duration::from_secs(300));
        assert_eq!(plan.profile.level_name, "medium");

        let health = &plan.endpoints[0];
        assert_eq!(health.name, "/health/");
        assert_eq!(health.path_and_query, "/health/");
        assert_eq!(health.weight, 5);
        assert_eq!(health.headers["accept"], "application/json");
        assert!(health.body.is_empty());
        assert_eq!(health.expect_status, StatusSet::Success);
        assert_eq!(health.location.line, 15);
        let labels: Vec<String> = health
            .budgets
            .iter()
            .map(|b| b.metric.to_string())
            .collect();
        assert_eq!(labels, ["p50", "p95", "p99", "max"]);
        let p95 = &health.budgets[1];
        assert_eq!(p95.limit, Duration::from_millis(20));
        assert_eq!((p95.location.line, p95.location.column), (19, 32));
        assert_eq!(p95.location.file, Path::new("sla.toml"));

        let analysis = &plan.endpoints[2];
        assert_eq!(analysis.method, http::Method::POST);
        assert_eq!(&analysis.body[..], br#"{"window":"5m"}"#);
        assert_eq!(analysis.headers["content-type"], "application/json");

        let level = plan.level.expect("level medium");
        let min_rps = level.min_rps.expect("min_rps");
        assert_eq!(min_rps.value, 40.0);
        assert_eq!((min_rps.location.line, min_rps.location.column), (59, 11));
        let rate = level.max_error_rate.expect("max_error_rate");
        assert!((rate.value - 0.005).abs() < 1e-12);
        assert_eq!(rate.location.line, 60);
    }

    #[test]
    fn paths_headers_and_bodies_are_resolved() {
        let plan = good("fixed");
        assert_eq!(plan.target.timeout, Duration::from_millis(1500));
        let [health, orders, upload, echo] = &plan.endpoints[..] else {
            panic!("four endpoints");
        };
        // The base URL's path, without its trailing slash, prefixes each endpoint's path.
        assert_eq!(health.path_and_query, "/v2/health?verbose=1");
        assert_eq!(orders.path_and_query, "/v2/orders");
        assert_eq!(health.method, http::Method::HEAD);
        assert_eq!(health.budgets[0].metric.to_string(), "p99.9");
        assert_eq!(health.budgets[1].metric, Metric::Max);
        assert_eq!(health.budgets[1].limit, Duration::from_secs(90));

        // Endpoint headers replace the target's; the rest are inherited.
        assert_eq!(orders.headers.get_all("accept").iter().count(), 1);
        assert_eq!(orders.headers["accept"], "text/plain");
        assert_eq!(orders.headers["x-team"], "perf");
        assert_eq!(orders.headers["content-type"], "application/json");
        assert_eq!(orders.weight, 3);
        assert_eq!(orders.expect_status, StatusSet::Exactly(vec![201, 202]));
        let body: serde_json::Value = serde_json::from_slice(&orders.body).expect("JSON body");
        assert_eq!(
            body,
            serde_json::json!({ "item": "book", "qty": 2, "gift": false, "tags": ["a", "b"] })
        );

        // A json body keeps the endpoint's own content type.
        assert_eq!(upload.headers["content-type"], "application/x-ndjson");
        assert_eq!(&upload.body[..], b"[1,2]");

        assert_eq!(&echo.body[..], b"hello");
        assert!(!echo.headers.contains_key("content-type"));
        assert_eq!(echo.budgets[0].metric.to_string(), "p75");
    }

    #[test]
    fn a_level_abort_rule_overrides_the_files_and_windows_keep_their_place() {
        let sla = "[target]\nbase_url = \"http://h\"\n[[endpoint]]\nname = \"/a\"\n\
                   budget = { p95 = \"1s\" }\n\
                   [abort_when]\nerror_rate = \"50%\"\nfor = \"10s\"\n\
                   [level.light]\nwindow = \"30s\"\n\
                   [level.heavy]\nabort_when = { error_rate = \"20%\", for = \"5s\" }\n";
        let sla = crate::config::parse_sla(Path::new("sla.toml"), sla.as_bytes()).expect("sla");
        let plan_for = |name: &str| {
            let text = "users = 2\nspawn_rate = 2\nrun_time = \"10s\"\n";
            let path = format!("profiles/{name}.toml");
            let profile = parse_profile(Path::new(&path), text.as_bytes()).expect("profile");
            build(&sla, &profile, &Overrides::default()).expect("builds")
        };

        let light = plan_for("light");
        let window = light
            .level
            .as_ref()
            .and_then(|l| l.window.clone())
            .expect("window");
        assert_eq!(window.value, Duration::from_secs(30));
        assert_eq!((window.location.line, window.location.column), (10, 10));
        let rule = light.abort_when.expect("the file's rule");
        assert_eq!(
            (rule.error_rate, rule.sustained),
            (0.5, Duration::from_secs(10))
        );
        assert_eq!(rule.location.line, 6, "points at the [abort_when] table");

        let heavy = plan_for("heavy").abort_when.expect("the level's rule");
        assert_eq!(
            (heavy.error_rate, heavy.sustained),
            (0.2, Duration::from_secs(5))
        );
        assert_eq!(heavy.location.line, 12);

        // No such level: the file's rule still applies.
        let other = plan_for("other");
        assert!(other.level.is_none());
        assert_eq!(other.abort_when.map(|r| r.error_rate), Some(0.5));

        assert!(good("fixed").abort_when.is_none(), "no rule anywhere: none");
    }

    #[test]
    fn the_level_is_explicit_or_the_file_stem_or_none() {
        let fixed = good("fixed");
        assert_eq!(fixed.profile.level_name, "busy");
        let level = fixed.level.expect("explicit level busy");
        assert_eq!(level.name, "busy");
        assert!(level.min_rps.is_none());
        assert_eq!(level.max_error_rate.map(|l| l.value), Some(0.125));
        assert_eq!(fixed.profile.think_time.min, Duration::from_millis(500));
        assert_eq!(fixed.profile.think_time.max, Duration::from_millis(500));
        assert_eq!(fixed.profile.ramp_up(), Duration::from_secs(4));

        // No [level.burst]: no throughput checks, and no error.
        let burst = good("burst");
        assert_eq!(burst.profile.level_name, "burst");
        assert!(burst.level.is_none());
        assert_eq!(burst.profile.description, "");
        assert_eq!(burst.profile.think_time.max, Duration::ZERO);
    }

    #[test]
    fn an_explicit_level_must_exist() {
        let e = build_files(
            "sla.toml",
            "fixtures/config/plan/level_typo.toml",
            &Overrides::default(),
        )
        .expect_err("typo");
        let rendered = render(&e);
        assert!(rendered.contains("level_typo.toml:5:9]"), "{rendered}");
        assert!(
            rendered.contains("no [level.meduim] in the sla file"),
            "{rendered}"
        );
        assert!(rendered.contains("did you mean `medium`?"), "{rendered}");
        insta::assert_snapshot!("level_typo", rendered);
    }

    #[test]
    fn overrides_replace_and_are_checked() {
        let overrides = Overrides {
            host: Some("http://127.0.0.1:9000/api/".into()),
            users: Some(7),
            spawn_rate: Some(3.5),
            run_time: Some(Duration::from_secs(10)),
        };
        let plan = build_files("sla.toml", "profiles/medium.toml", &overrides).expect("builds");
        assert_eq!(plan.target.base_url.as_str(), "http://127.0.0.1:9000/api/");
        assert_eq!(plan.endpoints[0].path_and_query, "/api/health/");
        assert_eq!(
            (
                plan.profile.users,
                plan.profile.spawn_rate,
                plan.profile.run_time
            ),
            (7, 3.5, Duration::from_secs(10))
        );

        let bad_host = Overrides {
            host: Some("localhost:9000".into()),
            ..Overrides::default()
        };
        let e = build_files("sla.toml", "profiles/medium.toml", &bad_host).expect_err("no scheme");
        let rendered = render(&e);
        assert!(rendered.contains("[--host:1:1]"), "{rendered}");
        assert!(
            rendered.contains("write the scheme: \"http://localhost:9000\""),
            "{rendered}"
        );
        insta::assert_snapshot!("bad_host", rendered);

        let bad = [
            Overrides {
                users: Some(0),
                ..Overrides::default()
            },
            Overrides {
                spawn_rate: Some(0.0),
                ..Overrides::default()
            },
            Overrides {
                spawn_rate: Some(f64::NAN),
                ..Overrides::default()
            },
            Overrides {
                run_time: Some(Duration::ZERO),
                ..Overrides::default()
            },
            Overrides {
                run_time: Some(Duration::MAX),
                ..Overrides::default()
            },
            Overrides {
                host: Some("ftp://x".into()),
                ..Overrides::default()
            },
        ];
        for overrides in bad {
            let e =
                build_files("sla.toml", "profiles/medium.toml", &overrides).expect_err("invalid");
            let rendered = render(&e);
            assert!(rendered.contains("help:"), "{overrides:?}: {rendered}");
            assert!(
                rendered.contains("[--"),
                "{overrides:?} names no flag: {rendered}"
            );
        }
    }

    #[test]
    fn a_ramp_up_longer_than_the_run_is_refused() {
        let overrides = Overrides {
            run_time: Some(Duration::from_secs(5)),
            ..Overrides::default()
        };
        // heavy: 100 users at 10/s take 9.9 s to start.
        let e = build_files("sla.toml", "profiles/heavy.toml", &overrides).expect_err("ramp");
        let rendered = render(&e);
        assert!(rendered.contains("take 9.9 s to start"), "{rendered}");
        assert!(
            rendered.contains("run_time is 5s (--run-time)"),
            "{rendered}"
        );
        assert!(
            rendered.contains("raise run_time or spawn_rate"),
            "{rendered}"
        );
        insta::assert_snapshot!("ramp_up_outlasts_run", rendered);
    }

    const REAL_PROFILE: &str = include_str!("../../profiles/light.toml");

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Whatever a profile and the flags say, build either succeeds with a plan whose
        /// derived values are computable, or returns an error that renders.
        #[test]
        fn build_never_panics(
            users in proptest::option::of(any::<u32>()),
            spawn_rate in proptest::option::of(prop_oneof![
                any::<f64>(),
                Just(f64::MIN_POSITIVE),
                Just(1e-300),
                0.0..1000.0f64,
            ]),
            run_time in proptest::option::of((any::<u64>(), 0u32..1_000_000_000)
                .prop_map(|(s, n)| Duration::new(s % (400 * 24 * 3600), n))),
            host in proptest::option::of("[a-z:/.0-9\\[\\]@?#%]{0,30}"),
            profile_users in any::<i64>(),
            profile_rate in prop_oneof![any::<f64>(), 0.0..100.0f64],
        ) {
            let sla = load_sla(Path::new("sla.toml")).expect("sla loads");
            let text = REAL_PROFILE
                .replace("users = 10", &format!("users = {profile_users}"))
                .replace("spawn_rate = 2", &format!("spawn_rate = {profile_rate:?}"));
            let overrides = Overrides { host, users, spawn_rate, run_time };
            let result = parse_profile(Path::new("profiles/light.toml"), text.as_bytes())
                .and_then(|profile| build(&sla, &profile, &overrides));
            match result {
                Ok(plan) => {
                    prop_assert!(plan.profile.ramp_up() < plan.profile.run_time);
                    prop_assert!(plan.profile.users >= 1 && plan.profile.spawn_rate > 0.0);
                }
                Err(e) => {
                    render(&e);
                }
            }
        }
    }
}
