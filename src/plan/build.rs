//! Resolves a checked sla file, a checked profile and the command line's overrides into a
//! [`Plan`]: applies the overrides (validating them like the files), picks the profile's level,
//! joins paths onto the base URL, merges headers (the URL's credentials as Basic auth, then the
//! target's, the endpoint's, `-H`) and encodes bodies; resolves the transport with the TLS and
//! HTTP flags over the file (`transport.rs`); then collects the secrets and masks the plan's
//! display strings with them. Rules that need more than one file live here; rules about
//! one file live in `config`.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};

use super::secrets::{self, HeaderFlag};
use super::{
    AbortWhen, BaseUrl, Budget, Closed, DEFAULT_MAX_IN_FLIGHT, Endpoint, HttpVersion, Level,
    LevelLimit, LoadModel, Location, Metric, Open, Plan, Profile, Quantile, Stage, StatusSet,
    Target, ThinkTime,
};
use crate::config::{
    AbortWhenSpec, Body, BudgetMetric, BudgetSpec, ConfigError, EndpointSpec, LevelSpec, LoadSpec,
    Problem, ProblemKind, ProfileFile, SlaFile, SourceFile, parse_base_url,
};

/// Command-line values that override the profile and the sla file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub host: Option<String>,
    pub users: Option<u32>,
    pub spawn_rate: Option<f64>,
    /// `--rate N`: an open model at N arrivals per second, over the profile's model.
    pub rate: Option<f64>,
    pub run_time: Option<Duration>,
    /// `-H 'Name: value'`, in order: sent with every request, over every header of the sla
    /// file (the target's and each endpoint's); an empty value removes that header. Secrets.
    pub headers: Vec<String>,
    /// `--http2` / `--http1.1`: over `[target] http`.
    pub http: Option<HttpVersion>,
    /// `--cacert FILE`, in order (relative to the working directory): trusted besides the
    /// platform's roots, added to `tls.ca`.
    pub cacert: Vec<PathBuf>,
    /// `--cert FILE --key FILE` (each requires the other): the client identity, over
    /// `tls.cert` and `tls.key`.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// `-k/--insecure`: accept any certificate, over `tls.insecure` (and `tls.ca`).
    pub insecure: bool,
}

/// Same bound as for durations in the files: later stages add it to an `Instant`.
const MAX_RUN_TIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Builds the plan for one profile against one sla file.
pub fn build(
    sla: &SlaFile,
    profile: &ProfileFile,
    overrides: &Overrides,
) -> Result<Plan, ConfigError> {
    let (base_url, base_url_text) = match &overrides.host {
        Some(host) => {
            let url = parse_base_url(host).map_err(|(message, help)| {
                // The URL is quoted before it could be parsed: mask a password written in it.
                let hide = secrets::written_password(host);
                flag_error(
                    "--host",
                    &hide.redact(host),
                    ProblemKind::InvalidUrl,
                    hide.redact_owned(message),
                    hide.redact_owned(help),
                )
            })?;
            (url, host.as_str())
        }
        None => (
            sla.target.base_url.get_ref().clone(),
            sla.target.base_url_text.as_str(),
        ),
    };
    let flags = overrides
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| secrets::parse_header_flag(h, i + 1, overrides.headers.len()))
        .collect::<Result<Vec<HeaderFlag>, _>>()?;
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
    let load = load_model(profile, overrides, run_time)?;
    let transport =
        super::transport::resolve(sla, overrides, &base_url, sla.target.timeout, &sla.secrets)?;

    let level_spec = match &profile.level {
        Some(explicit) => match sla.level(explicit.get_ref()) {
            Some(level) => Some(level),
            None => return Err(unknown_level(sla, profile, explicit)),
        },
        // The implicit level (the file stem) may well not exist: that just means no
        // throughput checks for this profile.
        None => sla.level(&profile.name),
    };
    let mut level = level_spec.map(|level| level_of(sla, level));
    // The level's own rule wins over the file's; a profile without a level gets the file's.
    let abort_when = level_spec
        .and_then(|l| l.abort_when.as_ref())
        .or(sla.abort_when.as_ref())
        .map(|rule| abort_when_of(sla, rule));

    // Headers, lowest precedence first: the URL's credentials (as Basic auth, unless the
    // target sets an Authorization header), [target].headers, the endpoint's own, -H.
    let mut secrets = sla.secrets.clone();
    secrets.extend(&profile.secrets);
    let mut target_headers = sla.target.headers.clone();
    if let Some(basic) = secrets::basic_auth(&base_url, &mut secrets)
        && !target_headers.contains_key(AUTHORIZATION)
    {
        target_headers.insert(AUTHORIZATION, basic);
    }
    let base_path = base_url.path().trim_end_matches('/').to_string();
    let mut endpoints = sla
        .endpoints
        .iter()
        .map(|e| endpoint(sla, e, &base_path, &target_headers, &flags))
        .collect::<Result<Vec<_>, _>>()?;
    secrets::apply_flags(&mut target_headers, &flags);

    // Every secret is known once every header is: only then can display strings be masked.
    for value in flags.iter().filter_map(|f| f.value.as_ref()) {
        secrets.add(&String::from_utf8_lossy(value.as_bytes()));
    }
    let redact = &sla.target.redact;
    secrets::collect(&mut secrets, &mut target_headers, redact);
    for e in &mut endpoints {
        secrets::collect(&mut secrets, &mut e.headers, redact);
    }
    for e in &mut endpoints {
        e.name = secrets.redact_owned(std::mem::take(&mut e.name));
    }
    check_shown_names(sla, &endpoints)?;
    let (flows, vars) = flows(sla, &mut endpoints, &secrets)?;
    if let Some(level) = &mut level {
        level.name = secrets.redact_owned(std::mem::take(&mut level.name));
    }

    Ok(Plan {
        sla_path: sla.source.path.clone(),
        target: Target {
            base_url: BaseUrl::new(base_url, base_url_text, &secrets),
            timeout: sla.target.timeout,
            headers: target_headers,
            transport,
            cookies: sla.target.cookies,
        },
        endpoints,
        flows,
        vars,
        profile: Profile {
            name: profile.name.clone(),
            path: profile.source.path.clone(),
            description: secrets.redact(&profile.description).into_owned(),
            load,
            run_time,
            level_name: secrets.redact(profile.level_name()).into_owned(),
            sessions: profile.sessions.unwrap_or(super::DEFAULT_SESSIONS),
        },
        level,
        abort_when,
        secrets,
        shard: None,
    })
}

/// Endpoint names label every report (and match runs in a comparison): two that differ only in
/// a secret would read the same once it is masked.
fn check_shown_names(sla: &SlaFile, endpoints: &[Endpoint]) -> Result<(), ConfigError> {
    for (i, e) in endpoints.iter().enumerate() {
        let Some(first) = endpoints[..i].iter().position(|f| f.name == e.name) else {
            continue;
        };
        let span = |k: usize| sla.endpoints[k].name.span();
        let problem = Problem::new(
            ProblemKind::DuplicateEndpoint,
            span(i),
            format!(
                "endpoint name {:?} is used twice once secrets are masked",
                e.name
            ),
        )
        .label("second use")
        .also(span(first), "first use")
        .help(
            "names label every report and must stay unique with secrets hidden: name each \
             endpoint without the secret and keep the secret in `path`",
        );
        return Err(ConfigError::Invalid {
            summary: format!(
                "{} names two endpoints alike once secrets are masked",
                sla.source.path.display()
            ),
            src: sla.source.named_source(),
            problems: vec![problem],
        });
    }
    Ok(())
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

/// The profile's load model with the flags applied: `--users` and `--spawn-rate` adjust a
/// closed model; `--rate` makes any profile an open model at that constant rate (its stages and
/// think time are dropped; `max_in_flight` is kept when the profile has one).
fn load_model(
    profile: &ProfileFile,
    overrides: &Overrides,
    run_time: Duration,
) -> Result<LoadModel, ConfigError> {
    if let Some(rate) = overrides.rate
        && !(rate.is_finite() && rate > 0.0 && rate <= 10_000_000.0)
    {
        return Err(flag_error(
            "--rate",
            &rate.to_string(),
            ProblemKind::OutOfRange,
            "--rate must be a number above 0 (at most 10,000,000)".into(),
            "arrivals per second: --rate 50 (0.5 sends one every 2 s)".into(),
        ));
    }
    let closed_flag = match (overrides.users, overrides.spawn_rate) {
        (Some(_), _) => Some(("--users", overrides.users.unwrap_or(0).to_string())),
        (None, Some(r)) => Some(("--spawn-rate", r.to_string())),
        (None, None) => None,
    };
    let open_profile = matches!(profile.load, LoadSpec::Open { .. });
    if let Some((flag, value)) = &closed_flag
        && (overrides.rate.is_some() || open_profile)
    {
        let why = if overrides.rate.is_some() {
            "--rate makes the run an open model, which has no users"
        } else {
            "this profile is an open model (it sets `rate`), which has no users"
        };
        return Err(flag_error(
            flag,
            value,
            ProblemKind::Conflict,
            format!("{flag} sets a closed model's users, but {why}"),
            "use --rate N to change an open model's arrivals per second, or a closed profile \
             (users, spawn_rate) for --users and --spawn-rate"
                .into(),
        ));
    }
    let load = match (&profile.load, overrides.rate) {
        (LoadSpec::Open { max_in_flight, .. }, Some(rate)) => LoadModel::Open(Open::constant(
            rate,
            max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
        )),
        (LoadSpec::Closed { .. }, Some(rate)) => {
            LoadModel::Open(Open::constant(rate, DEFAULT_MAX_IN_FLIGHT))
        }
        (
            LoadSpec::Open {
                rate,
                stages,
                max_in_flight,
            },
            None,
        ) => {
            let max_in_flight = max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT);
            if stages.is_empty() {
                let rate = rate.as_ref().map_or(0.0, |r| *r.get_ref());
                LoadModel::Open(Open::constant(rate, max_in_flight))
            } else {
                LoadModel::Open(Open {
                    stages: stages
                        .iter()
                        .map(|s| Stage {
                            rate: *s.rate.get_ref(),
                            length: s.length,
                        })
                        .collect(),
                    max_in_flight,
                })
            }
        }
        (
            LoadSpec::Closed {
                users,
                spawn_rate,
                think_time,
            },
            None,
        ) => {
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
                None => *users,
            };
            let spawn_rate = match overrides.spawn_rate {
                Some(r) if !(r.is_finite() && r > 0.0) => {
                    return Err(flag_error(
                        "--spawn-rate",
                        &r.to_string(),
                        ProblemKind::OutOfRange,
                        "--spawn-rate must be a number above 0".into(),
                        "users started per second: --spawn-rate 2 (0.5 starts one user every 2 s)"
                            .into(),
                    ));
                }
                Some(r) => r,
                None => *spawn_rate,
            };
            LoadModel::Closed(Closed {
                users,
                spawn_rate,
                think_time: ThinkTime {
                    min: think_time.min,
                    max: think_time.max,
                },
            })
        }
    };
    check_ramp_up(profile, overrides, &load, run_time)?;
    Ok(load)
}

/// The SLA window starts when the ramp-up is over (the last user started, or the last stage
/// that changes the rate finished); if that is not before the end of the run, nothing would
/// be measured and every check would fail after a wasted run.
fn check_ramp_up(
    profile: &ProfileFile,
    overrides: &Overrides,
    load: &LoadModel,
    run_time: Duration,
) -> Result<(), ConfigError> {
    let origin = |overridden: bool, flag: &str| {
        if overridden {
            format!(" ({flag})")
        } else {
            String::new()
        }
    };
    let run = format!(
        "{}{}",
        humantime::format_duration(run_time),
        origin(overrides.run_time.is_some(), "--run-time")
    );
    match load {
        LoadModel::Closed(c) => {
            let (users, spawn_rate) = (c.users, c.spawn_rate);
            let ramp_up = f64::from(users.saturating_sub(1)) / spawn_rate;
            if ramp_up < run_time.as_secs_f64() {
                return Ok(());
            }
            Err(ConfigError::Inconsistent {
                message: format!(
                    "profile {}: the ramp-up outlasts the run: {users} users{} at {spawn_rate} per \
                     second{} take {ramp_up:.1} s to start, but run_time is {run}",
                    profile.name,
                    origin(overrides.users.is_some(), "--users"),
                    origin(overrides.spawn_rate.is_some(), "--spawn-rate"),
                ),
                help: "the SLA is measured after the last user has started: raise run_time or \
                       spawn_rate, or lower users"
                    .to_string(),
            })
        }
        LoadModel::Open(o) => {
            // The window starts on the first whole second after the ramp (at least 1 s in).
            let ramp_up = o.ramp_up();
            let starts = ramp_up.as_secs() + u64::from(ramp_up.subsec_nanos() > 0);
            if (starts.max(1) as f64) < run_time.as_secs_f64() {
                return Ok(());
            }
            let message = if o.stages.len() > 1 || !o.stages[0].length.is_zero() {
                format!(
                    "profile {}: the stages outlast the run: the rate stops changing at {}, but \
                     run_time is {run}",
                    profile.name,
                    crate::units::length(ramp_up),
                )
            } else {
                format!(
                    "profile {}: run_time is {run}, but an open run measures from its second \
                     second on",
                    profile.name
                )
            };
            Err(ConfigError::Inconsistent {
                message,
                help: "the SLA is measured once the rate is steady (after the last stage that \
                       changes it, and never in the first second): raise run_time past it, or \
                       end with a stage that holds the rate"
                    .to_string(),
            })
        }
    }
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
        // `level = "${NAME}"` is a secret like any value from the environment.
        format!(
            "no [level.{}] in the sla file",
            profile.secrets.redact(explicit.get_ref())
        ),
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
        judges: level.budgets.as_ref().map(|b| LevelLimit {
            value: b.get_ref().iter().filter_map(|&m| metric_of(m)).collect(),
            location: location(&sla.source, b.span().start),
        }),
    }
}

/// A budget key as the plan speaks it; `None` only for a quantile config has let through out
/// of range, which its checks rule out.
fn metric_of(m: BudgetMetric) -> Option<Metric> {
    match m {
        BudgetMetric::Max => Some(Metric::Max),
        BudgetMetric::Percentile { quantile } => Quantile::new(quantile).map(Metric::Percentile),
    }
}

fn abort_when_of(sla: &SlaFile, rule: &AbortWhenSpec) -> AbortWhen {
    AbortWhen {
        error_rate: *rule.error_rate.get_ref(),
        sustained: *rule.sustained.get_ref(),
        location: location(&sla.source, rule.span.start),
    }
}

fn endpoint(
    sla: &SlaFile,
    spec: &EndpointSpec,
    base_path: &str,
    target_headers: &HeaderMap,
    flags: &[HeaderFlag],
) -> Result<Endpoint, ConfigError> {
    // Endpoint headers replace same-named target headers rather than adding a second value.
    let mut headers = target_headers.clone();
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
    // -H wins over everything, as with curl.
    secrets::apply_flags(&mut headers, flags);
    let budgets = budgets_of(sla, &spec.budgets)?;
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
        captures: Vec::new(),
        in_flow: false,
        location: location(&sla.source, spec.span.start),
    })
}

/// The flows, by endpoint index, and every capture by the index of its name in `vars`
/// (config has checked that steps name endpoints and references are captured).
fn flows(
    sla: &SlaFile,
    endpoints: &mut [Endpoint],
    secrets: &super::Secrets,
) -> Result<(Vec<super::Flow>, Vec<String>), ConfigError> {
    let mut vars: Vec<String> = Vec::new();
    for (e, spec) in endpoints.iter_mut().zip(&sla.endpoints) {
        for c in &spec.captures {
            let name = c.name.get_ref();
            let var = match vars.iter().position(|v| v == name) {
                Some(i) => i,
                None => {
                    vars.push(name.clone());
                    vars.len() - 1
                }
            };
            e.captures.push(super::Capture {
                var,
                source: c.source.clone(),
            });
        }
    }
    let index = |name: &str| {
        sla.endpoints
            .iter()
            .position(|e| e.name.get_ref() == name)
            .ok_or_else(|| ConfigError::Inconsistent {
                message: format!("flow step `{name}` names no endpoint"),
                help: "this is a bug in slagate's config checks: please report it".into(),
            })
    };
    let mut flows = Vec::with_capacity(sla.flows.len());
    for f in &sla.flows {
        let once = f
            .once
            .iter()
            .map(|s| index(s.get_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let steps = f
            .steps
            .iter()
            .map(|s| index(s.get_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        for &i in once.iter().chain(&steps) {
            endpoints[i].in_flow = true;
        }
        flows.push(super::Flow {
            name: secrets.redact(f.name.get_ref()).into_owned(),
            weight: f.weight,
            once,
            steps,
            budgets: budgets_of(sla, &f.budgets)?,
            location: location(&sla.source, f.span.start),
        });
    }
    Ok((flows, vars))
}

/// Budgets as the plan speaks them, each located in the sla file (`budget`, `connect_budget`).
pub(super) fn budgets_of(sla: &SlaFile, specs: &[BudgetSpec]) -> Result<Vec<Budget>, ConfigError> {
    specs
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
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use proptest::prelude::*;

    use super::{Overrides, build};
    use crate::config::{
        ConfigError, load_profile, load_sla, parse_profile, parse_profile_with, parse_sla_with,
    };
    use crate::plan::{HttpVersion, Metric, Plan, StatusSet};

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
        assert_eq!(plan.profile.closed().unwrap().users, 50);
        assert_eq!(plan.profile.closed().unwrap().spawn_rate, 5.0);
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
        assert_eq!((min_rps.location.line, min_rps.location.column), (65, 11));
        let rate = level.max_error_rate.expect("max_error_rate");
        assert!((rate.value - 0.005).abs() < 1e-12);
        assert_eq!(rate.location.line, 66);
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
        assert_eq!(
            fixed.profile.closed().unwrap().think_time.min,
            Duration::from_millis(500)
        );
        assert_eq!(
            fixed.profile.closed().unwrap().think_time.max,
            Duration::from_millis(500)
        );
        assert_eq!(fixed.profile.ramp_up(), Duration::from_secs(4));

        // No [level.burst]: no min_rps, the default error ceiling, and no error.
        let burst = good("burst");
        assert_eq!(burst.profile.level_name, "burst");
        assert!(burst.level.is_none());
        assert_eq!(burst.profile.description, "");
        assert_eq!(
            burst.profile.closed().unwrap().think_time.max,
            Duration::ZERO
        );
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
            ..Overrides::default()
        };
        let plan = build_files("sla.toml", "profiles/medium.toml", &overrides).expect("builds");
        assert_eq!(plan.target.base_url.as_str(), "http://127.0.0.1:9000/api/");
        assert_eq!(plan.endpoints[0].path_and_query, "/api/health/");
        assert_eq!(
            (
                plan.profile.closed().unwrap().users,
                plan.profile.closed().unwrap().spawn_rate,
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

    // ---- Headers, -H and secrets ------------------------------------------------------------

    const HEADERS_SLA: &str = r#"
[target]
base_url = "http://127.0.0.1:9/"
headers = { accept = "text/plain", x-team = "perf", authorization = "Bearer file-token" }
redact = ["x-session"]

[[endpoint]]
name = "/own"
headers = { accept = "application/xml", x-session = "s" }
json = { a = 1 }
budget = { p95 = "1s" }

[[endpoint]]
name = "/plain"
budget = { p95 = "1s" }
"#;

    fn plan_of(sla: &str, vars: &'static [(&'static str, &'static str)], o: &Overrides) -> Plan {
        try_plan(sla, vars, o).expect("builds")
    }

    fn try_plan(
        sla: &str,
        vars: &'static [(&'static str, &'static str)],
        overrides: &Overrides,
    ) -> Result<Plan, ConfigError> {
        let env = move |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
                .ok_or(std::env::VarError::NotPresent)
        };
        let sla = parse_sla_with(Path::new("sla.toml"), sla.as_bytes(), &env).expect("sla");
        let profile =
            "description = \"for ${TEAM}\"\nusers = 1\nspawn_rate = 1\nrun_time = \"5s\"\n";
        let profile =
            parse_profile_with(Path::new("profiles/p.toml"), profile.as_bytes(), &env).expect("p");
        build(&sla, &profile, overrides)
    }

    const TEAM: &[(&str, &str)] = &[("TEAM", "payments")];

    fn with_headers(headers: &[&str]) -> Overrides {
        Overrides {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            ..Overrides::default()
        }
    }

    fn values<'a>(headers: &'a http::HeaderMap, name: &str) -> Vec<&'a str> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("ASCII"))
            .collect()
    }

    #[test]
    fn dash_h_wins_over_the_target_and_every_endpoint() {
        let plan = plan_of(
            HEADERS_SLA,
            TEAM,
            &with_headers(&[
                "Accept: application/json",
                "x-trace: one",
                "X-Trace:  two ",
                "x-team:",
                "content-type: application/vnd.api+json",
            ]),
        );
        let [own, plain] = &plan.endpoints[..] else {
            panic!("two endpoints");
        };
        for (e, h) in [(own, &own.headers), (plain, &plain.headers)] {
            // Over the endpoint's own `accept` too; names are case-insensitive; repeated -H are
            // all sent; an empty value removes the header; values are trimmed.
            assert_eq!(values(h, "accept"), ["application/json"], "{}", e.name);
            assert_eq!(values(h, "x-trace"), ["one", "two"], "{}", e.name);
            assert!(!h.contains_key("x-team"), "{}", e.name);
            assert_eq!(
                values(h, "content-type"),
                ["application/vnd.api+json"],
                "{}",
                e.name
            );
        }
        assert_eq!(values(&plan.target.headers, "accept"), ["application/json"]);

        // Without -H: the endpoint's headers over the target's, the rest inherited.
        let plan = plan_of(HEADERS_SLA, TEAM, &Overrides::default());
        let [own, plain] = &plan.endpoints[..] else {
            panic!("two endpoints");
        };
        assert_eq!(values(&own.headers, "accept"), ["application/xml"]);
        assert_eq!(values(&own.headers, "content-type"), ["application/json"]);
        assert_eq!(values(&plain.headers, "accept"), ["text/plain"]);
        assert_eq!(values(&plain.headers, "x-team"), ["perf"]);
    }

    #[test]
    fn a_malformed_dash_h_names_the_flag_and_never_shows_the_value() {
        let cases: &[(&[&str], &str, &str)] = &[
            (&["Bearer s3cret-value"], "[-H:1:1]", "-H has no `:`"),
            (
                &["x-ok: 1", "x api key: s3cret-value"],
                "[-H #2:1:1]",
                "`x api key` is not a valid header name",
            ),
            (
                &["x-api-key: s3cret-value\u{7}"],
                "[-H:1:12]",
                "invalid value for header `x-api-key`",
            ),
        ];
        for (headers, place, message) in cases {
            let e = try_plan(HEADERS_SLA, TEAM, &with_headers(headers)).expect_err(message);
            let rendered = render(&e);
            assert!(rendered.contains(place), "{rendered}");
            assert!(rendered.contains(message), "{rendered}");
            assert!(rendered.contains("help:"), "{rendered}");
            assert!(!rendered.contains("s3cret"), "{rendered}");
        }
        let e = try_plan(HEADERS_SLA, TEAM, &with_headers(&["x-api-key: bad\nvalue"]))
            .expect_err("line break");
        insta::assert_snapshot!("bad_header_flag", render(&e));
    }

    #[test]
    fn credentials_in_the_base_url_become_basic_auth_and_are_never_shown() {
        let sla = "[target]\nbase_url = \"http://al%40ice:pa%3Ass-w0rd@127.0.0.1:9/api\"\n\
                   [[endpoint]]\nname = \"/a\"\nbudget = { p95 = \"1s\" }\n\
                   [[endpoint]]\nname = \"/b\"\nheaders = { authorization = \"Bearer own\" }\n\
                   budget = { p95 = \"1s\" }\n";
        let plan = plan_of(sla, TEAM, &Overrides::default());
        // base64("al@ice:pa:ss-w0rd"): the user and password are percent-decoded.
        let basic = "Basic YWxAaWNlOnBhOnNzLXcwcmQ=";
        assert_eq!(values(&plan.endpoints[0].headers, "authorization"), [basic]);
        assert!(plan.endpoints[0].headers["authorization"].is_sensitive());
        // An endpoint's own Authorization wins over the URL's.
        assert_eq!(
            values(&plan.endpoints[1].headers, "authorization"),
            ["Bearer own"]
        );
        // The URL connected to and the URL shown have no credentials.
        assert_eq!(plan.target.base_url.as_str(), "http://127.0.0.1:9/api");
        assert_eq!(plan.target.base_url.to_string(), "http://127.0.0.1:9/api");
        assert_eq!(plan.endpoints[0].path_and_query, "/api/a");
        let s = &plan.secrets;
        for secret in [
            "pa:ss-w0rd",
            "pa%3Ass-w0rd",
            "al@ice:pa:ss-w0rd",
            "YWxAaWNlOnBhOnNzLXcwcmQ=",
            basic,
        ] {
            assert_eq!(s.redact(secret), "***", "{secret}");
        }
        assert_eq!(
            s.redact("al@ice"),
            "al@ice",
            "the user alone is not the secret"
        );

        // An explicit Authorization on the target, or -H, wins too.
        let explicit = sla.replace(
            "[[endpoint]]\nname = \"/a\"",
            "headers = { authorization = \"Bearer t\" }\n[[endpoint]]\nname = \"/a\"",
        );
        let plan = plan_of(&explicit, TEAM, &Overrides::default());
        assert_eq!(
            values(&plan.endpoints[0].headers, "authorization"),
            ["Bearer t"]
        );
        let plan = plan_of(sla, TEAM, &with_headers(&["authorization: Bearer flag"]));
        for e in &plan.endpoints {
            assert_eq!(values(&e.headers, "authorization"), ["Bearer flag"]);
        }

        // A user with no password is the token. --host credentials work the same way.
        let host = Overrides {
            host: Some("http://ghp_abc123@127.0.0.1:9".into()),
            ..Overrides::default()
        };
        let plan = plan_of(
            HEADERS_SLA
                .replace(", authorization = \"Bearer file-token\"", "")
                .as_str(),
            TEAM,
            &host,
        );
        assert_eq!(
            values(&plan.endpoints[1].headers, "authorization"),
            ["Basic Z2hwX2FiYzEyMzo="]
        );
        assert_eq!(plan.secrets.redact("ghp_abc123"), "***");
        assert_eq!(plan.target.base_url.to_string(), "http://127.0.0.1:9/");

        // A --host that does not parse is quoted in its diagnostic, its password masked.
        let bad = Overrides {
            host: Some("ftp://u:hunter22@h".into()),
            ..Overrides::default()
        };
        let rendered = render(&try_plan(HEADERS_SLA, TEAM, &bad).expect_err("ftp"));
        assert!(rendered.contains("ftp://u:***@h"), "{rendered}");
        assert!(!rendered.contains("hunter22"), "{rendered}");
    }

    #[test]
    fn secret_headers_are_masked_whatever_their_length_others_at_the_floor() {
        let sla = r#"
[target]
base_url = "http://${HOST}/v1"
headers = { cookie = "sid=abcdef123; lang=en", x-api-key = "k", x-team = "${TEAM}" }
redact = ["x-session"]

[[endpoint]]
name = "/orders/${TEAM}"
headers = { x-session = "s1", proxy-authorization = "Basic dTpwYXNzd29yZA==" }
budget = { p95 = "1s" }
"#;
        const VARS: &[(&str, &str)] = &[("HOST", "Api.Internal:8080"), ("TEAM", "payments")];
        let plan = plan_of(
            sla,
            VARS,
            &with_headers(&["x-debug: 1", "x-tenant: tenant-42"]),
        );
        let s = &plan.secrets;
        // Always secret, any length: whole values, and cookie values and Basic's decoded parts
        // at the floor ("en" is below it).
        for secret in [
            "sid=abcdef123; lang=en",
            "abcdef123",
            "k",
            "s1",
            "Basic dTpwYXNzd29yZA==",
            "dTpwYXNzd29yZA==",
            "u:password",
            "password",
            "payments",
            "tenant-42",
            "Api.Internal:8080",
        ] {
            assert_eq!(s.redact(secret), "***", "{secret}");
        }
        // -H values and values from the environment are secrets only at the floor.
        assert_eq!(s.redact("en 1"), "en 1");
        for name in ["cookie", "x-api-key", "x-session", "proxy-authorization"] {
            assert!(plan.endpoints[0].headers[name].is_sensitive(), "{name}");
        }
        assert!(!plan.endpoints[0].headers["x-team"].is_sensitive());

        // Display strings are masked in the plan; what is sent is not.
        assert_eq!(plan.endpoints[0].name, "/orders/***");
        assert_eq!(plan.endpoints[0].path_and_query, "/v1/orders/payments");
        assert_eq!(plan.profile.description, "for ***");
        // The host is lower-cased by the URL parser: the URL is shown as written, masked.
        assert_eq!(plan.target.base_url.as_str(), "http://api.internal:8080/v1");
        assert_eq!(plan.target.base_url.to_string(), "http://***/v1");
        assert_eq!(format!("{:?}", plan.target.base_url), "\"http://***/v1\"");
        assert!(!format!("{plan:?}").contains("abcdef123"));
    }

    #[test]
    fn names_that_differ_only_in_a_secret_are_refused() {
        let sla = "[target]\nbase_url = \"http://h\"\n\
                   [[endpoint]]\nname = \"/t/${A}\"\nbudget = { p95 = \"1s\" }\n\
                   [[endpoint]]\nname = \"/t/${B}\"\nbudget = { p95 = \"1s\" }\n";
        const AB: &[(&str, &str)] = &[("A", "tenant-a"), ("B", "tenant-b"), ("TEAM", "x")];
        let e = try_plan(sla, AB, &Overrides::default()).expect_err("alike");
        let rendered = render(&e);
        assert!(
            rendered.contains("endpoint name \"/t/***\" is used twice once secrets are masked"),
            "{rendered}"
        );
        assert!(rendered.contains("sla.toml:7:8]"), "{rendered}");
        assert!(!rendered.contains("tenant-"), "{rendered}");
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
            headers in proptest::collection::vec("[ -~\t\n]{0,24}", 0..3),
            http in proptest::option::of(prop_oneof![Just(HttpVersion::Http1), Just(HttpVersion::Http2)]),
            insecure in any::<bool>(),
            cacert in proptest::collection::vec("[a-z./]{0,8}", 0..2),
        ) {
            let sla = load_sla(Path::new("sla.toml")).expect("sla loads");
            let text = REAL_PROFILE
                .replace("users = 10", &format!("users = {profile_users}"))
                .replace("spawn_rate = 2", &format!("spawn_rate = {profile_rate:?}"));
            let cacert = cacert.into_iter().map(PathBuf::from).collect();
            let overrides = Overrides {
                host, users, spawn_rate, run_time, headers, http, insecure, cacert,
                ..Overrides::default()
            };
            let result = parse_profile(Path::new("profiles/light.toml"), text.as_bytes())
                .and_then(|profile| build(&sla, &profile, &overrides));
            match result {
                Ok(plan) => {
                    prop_assert!(plan.profile.ramp_up() < plan.profile.run_time);
                    prop_assert!(plan.profile.closed().unwrap().users >= 1 && plan.profile.closed().unwrap().spawn_rate > 0.0);
                }
                Err(e) => {
                    render(&e);
                }
            }
        }
    }

    mod open_model {
        use super::*;
        use crate::plan::{LoadModel, Open, Schedule};

        fn open_plan(profile: &str, overrides: &Overrides) -> Result<Plan, String> {
            let sla = load_sla(Path::new("sla.toml")).expect("sla loads");
            let profile = parse_profile(Path::new("profiles/o.toml"), profile.as_bytes())
                .expect("profile parses");
            build(&sla, &profile, overrides).map_err(|e| render(&e))
        }

        #[test]
        fn the_window_starts_after_the_last_stage_that_changes_the_rate() {
            let p = open_plan(
                "stages = [ { rate = 20, for = \"10s\" }, { rate = 20, for = \"5s\" }, \
                 { rate = 80, for = \"2.5s\" }, { rate = 80, for = \"30s\" } ]\nrun_time = \"1m\"\n",
                &Overrides::default(),
            )
            .expect("valid");
            assert_eq!(p.profile.ramp_up(), Duration::from_millis(17_500));
            assert_eq!(p.profile.window_start(), 18);
            // A constant rate: from the second second on.
            let p = open_plan("rate = 5\nrun_time = \"10s\"\n", &Overrides::default()).unwrap();
            assert_eq!(p.profile.window_start(), 1);
            assert_eq!(
                p.profile.load,
                LoadModel::Open(Open::constant(5.0, crate::plan::DEFAULT_MAX_IN_FLIGHT))
            );
        }

        #[test]
        fn stages_that_outlast_the_run_are_refused() {
            let e = open_plan(
                "stages = [ { rate = 20, for = \"20s\" }, { rate = 80, for = \"2m40s\" } ]\n\
                 run_time = \"3m\"\n",
                &Overrides::default(),
            )
            .expect_err("no window");
            assert!(e.contains("the stages outlast the run"), "{e}");
            let e =
                open_plan("rate = 5\nrun_time = \"1s\"\n", &Overrides::default()).expect_err("1 s");
            assert!(e.contains("measures from its second second on"), "{e}");
        }

        #[test]
        fn rate_replaces_the_stages_or_the_users_and_refuses_user_flags() {
            let stages =
                "stages = [ { rate = 20, for = \"10s\" } ]\nmax_in_flight = 7\nrun_time = \"1m\"\n";
            let with_rate = Overrides {
                rate: Some(250.0),
                ..Overrides::default()
            };
            let p = open_plan(stages, &with_rate).unwrap();
            assert_eq!(p.profile.load, LoadModel::Open(Open::constant(250.0, 7)));
            // A closed profile run with --rate is an open run at that rate.
            let p = build_files("sla.toml", "profiles/light.toml", &with_rate).unwrap();
            let o = p.profile.open().expect("open");
            assert_eq!(o.rate(), 250.0);
            let s = Schedule::new(o, p.profile.run_time);
            assert_eq!(s.due_between(10.0, 11.0), 250);

            for (o, flag) in [
                (
                    Overrides {
                        users: Some(3),
                        ..with_rate.clone()
                    },
                    "--users sets a closed model's users, but --rate makes",
                ),
                (
                    Overrides {
                        rate: Some(0.0),
                        ..Overrides::default()
                    },
                    "--rate must be a number above 0",
                ),
            ] {
                let e =
                    render(&build_files("sla.toml", "profiles/light.toml", &o).expect_err(flag));
                assert!(e.contains(flag), "{e}");
            }
            let e = open_plan(
                stages,
                &Overrides {
                    spawn_rate: Some(2.0),
                    ..Overrides::default()
                },
            )
            .expect_err("spawn rate on an open profile");
            assert!(e.contains("this profile is an open model"), "{e}");
        }
    }
}
