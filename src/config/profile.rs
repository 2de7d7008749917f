//! The profile schema (`profiles/NAME.toml`): one load shape, walked key by key like sla.toml.
//!
//! Two models, told apart by their keys: the closed model (`users`, `spawn_rate`,
//! `think_time`: Locust's, a user waits for its answer before it sends again) and the open
//! model (`rate`, `stages`, `max_in_flight`: arrivals on a schedule, whatever the answers do).
//! A profile that mixes them is a diagnostic at every key of the other model.

use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Problem, ProblemKind, Problems};
use super::sla::positive_duration;
use super::walk::{self, Value};
use super::{LoadSpec, StageSpec, ThinkTimeSpec};

const PROFILE_KEYS: &[&str] = &[
    "description",
    "users",
    "spawn_rate",
    "run_time",
    "think_time",
    "rate",
    "stages",
    "max_in_flight",
    "sessions",
    "level",
];

const CLOSED_KEYS: &[&str] = &["users", "spawn_rate", "think_time"];

pub(crate) struct Profile {
    pub(crate) description: String,
    pub(crate) load: LoadSpec,
    pub(crate) run_time: Duration,
    pub(crate) level: Option<Spanned<String>>,
    pub(crate) sessions: Option<u32>,
}

pub(crate) fn read(p: &mut Problems, root: &DeTable<'_>) -> Option<Profile> {
    walk::check_keys(p, root, PROFILE_KEYS, "a profile");

    let description = match root.get("description") {
        None => Some(String::new()),
        Some(v) => {
            walk::string(p, "description", v, "\"Normal production load\"").map(str::to_string)
        }
    };
    let open = root.contains_key("rate") || root.contains_key("stages");
    let load = if open {
        let mut mixed = false;
        for key in CLOSED_KEYS {
            if let Some((k, _)) = root.get_key_value(*key) {
                mixed = true;
                p.push(
                    Problem::new(
                        ProblemKind::Conflict,
                        k.span(),
                        format!(
                            "`{key}` is a closed-model key, but this profile sets an arrival rate"
                        ),
                    )
                    .label("closed model")
                    .help(
                        "a profile is either open (rate, stages, max_in_flight: arrivals on a \
                         schedule, whatever the answers do) or closed (users, spawn_rate, \
                         think_time: each user waits for its answer); remove one set",
                    ),
                );
            }
        }
        let load = read_open(p, root);
        if mixed { None } else { load }
    } else {
        if let Some((k, _)) = root.get_key_value("max_in_flight") {
            p.push(
                Problem::new(
                    ProblemKind::Conflict,
                    k.span(),
                    "`max_in_flight` caps an open model, but this profile sets no `rate`",
                )
                .label("open-model key")
                .help(
                    "set rate = N (arrivals per second) for the open model, or remove \
                     max_in_flight: a closed model has exactly `users` requests in flight",
                ),
            );
        }
        read_closed(p, root)
    };
    let run_time = match root.get("run_time") {
        None => {
            walk::missing(
                p,
                root,
                0..0,
                PROFILE_KEYS,
                "run_time",
                "the profile",
                "say how long the run lasts, ramp-up included: run_time = \"5m\"",
            );
            None
        }
        Some(v) => positive_duration(p, "run_time", v, "\"5m\""),
    };
    let level = match root.get("level") {
        None => Some(None),
        Some(v) => match walk::string(p, "level", v, "\"medium\"") {
            Some("") => {
                p.push(
                    Problem::new(ProblemKind::OutOfRange, v.span(), "`level` is empty")
                        .label("empty level name")
                        .help("name a [level.NAME] table of the sla file, or remove the key to use the file's name"),
                );
                None
            }
            Some(name) => Some(Some(Spanned::new(v.span(), name.to_string()))),
            None => None,
        },
    };

    let sessions = match root.get_key_value("sessions") {
        None => Some(None),
        Some((k, _)) if !open => {
            p.push(
                Problem::new(
                    ProblemKind::Conflict,
                    k.span(),
                    "`sessions` is the open model's pool of logged-in flow users, but this \
                     profile sets no `rate`",
                )
                .label("open-model key")
                .help(
                    "a closed model's users each carry their own session; remove `sessions`, \
                     or set rate = N for an open model",
                ),
            );
            None
        }
        Some((_, v)) => count(
            p,
            "sessions",
            v,
            "100",
            "how many logged-in sessions the open model's flow arrivals draw from: sessions = 100",
        )
        .map(Some),
    };

    Some(Profile {
        description: description?,
        load: load?,
        run_time: run_time?,
        level: level?,
        sessions: sessions?,
    })
}

fn read_closed(p: &mut Problems, root: &DeTable<'_>) -> Option<LoadSpec> {
    let place = "the profile";
    let users = match root.get("users") {
        None => {
            walk::missing(
                p,
                root,
                0..0,
                PROFILE_KEYS,
                "users",
                place,
                "say how many users to simulate (closed model): users = 10, or how many \
                 arrivals per second (open model): rate = 50",
            );
            None
        }
        Some(v) => walk::integer(p, "users", v, "10").and_then(|n| check_users(p, v, n)),
    };
    let spawn_rate = match root.get("spawn_rate") {
        None => {
            walk::missing(
                p,
                root,
                0..0,
                PROFILE_KEYS,
                "spawn_rate",
                place,
                "say how many users to start per second: spawn_rate = 2",
            );
            None
        }
        Some(v) => walk::number(p, "spawn_rate", v, "2").and_then(|n| {
            if n > 0.0 {
                Some(n)
            } else {
                p.push(
                    Problem::new(
                        ProblemKind::OutOfRange,
                        v.span(),
                        format!("`spawn_rate` = {n} is not above 0"),
                    )
                    .label("must be > 0")
                    .help("users started per second must be above 0: spawn_rate = 2 (0.5 starts one user every 2 s)"),
                );
                None
            }
        }),
    };
    let think_time = match root.get("think_time") {
        None => Some(ThinkTimeSpec {
            min: Duration::ZERO,
            max: Duration::ZERO,
        }),
        Some(v) => read_think_time(p, v),
    };
    Some(LoadSpec::Closed {
        users: users?,
        spawn_rate: spawn_rate?,
        think_time: think_time?,
    })
}

/// Arrivals per second: finite, and above zero (`at_least_zero`: a stage may ramp down to 0).
fn read_rate(p: &mut Problems, key: &str, v: &Value<'_>, at_least_zero: bool) -> Option<f64> {
    let n = walk::number(p, key, v, "50")?;
    let ok = if at_least_zero { n >= 0.0 } else { n > 0.0 };
    if ok && n <= MAX_RATE {
        return Some(n);
    }
    let (label, help) = if n > MAX_RATE {
        (
            "too high",
            format!("one process sends at most {MAX_RATE} arrivals per second; shard the load"),
        )
    } else if at_least_zero {
        (
            "must be ≥ 0",
            "a stage's rate is arrivals per second, 0 or more: { rate = 20, for = \"30s\" }"
                .to_string(),
        )
    } else {
        (
            "must be > 0",
            "arrivals per second must be above 0: rate = 50 (0.5 sends one every 2 s)".to_string(),
        )
    };
    p.push(
        Problem::new(
            ProblemKind::OutOfRange,
            v.span(),
            format!("`{key}` = {n} is out of range"),
        )
        .label(label)
        .help(help),
    );
    None
}

/// Far beyond what one process can send; keeps the schedule's arithmetic in range.
const MAX_RATE: f64 = 10_000_000.0;

fn read_open(p: &mut Problems, root: &DeTable<'_>) -> Option<LoadSpec> {
    let rate = match root.get("rate") {
        None => Some(None),
        Some(v) => read_rate(p, "rate", v, false).map(|r| Some(Spanned::new(v.span(), r))),
    };
    let stages = match root.get("stages") {
        None => Some(Vec::new()),
        Some(v) => read_stages(p, v),
    };
    let max_in_flight = match root.get("max_in_flight") {
        None => Some(None),
        Some(v) => count(
            p,
            "max_in_flight",
            v,
            "1000",
            "the most requests in flight at once (each holds a connection): max_in_flight = 1000",
        )
        .map(Some),
    };
    let (rate, stages, max_in_flight) = (rate?, stages?, max_in_flight?);
    if let (Some(rate), Some(last)) = (&rate, stages.last())
        && *rate.get_ref() != *last.rate.get_ref()
    {
        p.push(
            Problem::new(
                ProblemKind::Conflict,
                rate.span(),
                format!(
                    "`rate` = {} but the last stage ends at {} arrivals per second",
                    rate.get_ref(),
                    last.rate.get_ref()
                ),
            )
            .label("rate held after the stages")
            .also(last.rate.span(), "last stage")
            .help(
                "after its stages the schedule holds the last stage's rate: make `rate` equal \
                 to it, or remove `rate`",
            ),
        );
        return None;
    }
    Some(LoadSpec::Open {
        rate,
        stages,
        max_in_flight,
    })
}

/// A whole number from 1 to [`MAX_IN_FLIGHT`] (`max_in_flight`, `sessions`).
fn count(p: &mut Problems, key: &str, v: &Value<'_>, example: &str, help: &str) -> Option<u32> {
    let n = walk::integer(p, key, v, example)?;
    match u32::try_from(n) {
        Ok(m) if (1..=MAX_IN_FLIGHT).contains(&m) => Some(m),
        _ => {
            p.push(
                Problem::new(
                    ProblemKind::OutOfRange,
                    v.span(),
                    format!("`{key}` = {n} is out of range"),
                )
                .label(format!("must be 1 to {MAX_IN_FLIGHT}"))
                .help(help.to_string()),
            );
            None
        }
    }
}

/// At most this many requests in flight per process (each holds a socket).
pub(crate) const MAX_IN_FLIGHT: u32 = 1_000_000;

/// `stages = [ { rate = 20, for = "20s" }, … ]`: at least one, each a table of both keys.
fn read_stages(p: &mut Problems, value: &Value<'_>) -> Option<Vec<StageSpec>> {
    let example = "stages = [ { rate = 20, for = \"20s\" }, { rate = 80, for = \"1m\" } ]";
    let DeValue::Array(items) = value.get_ref() else {
        walk::wrong_type(p, "stages", value, "a list of stages", example);
        return None;
    };
    if items.is_empty() {
        p.push(
            Problem::new(ProblemKind::OutOfRange, value.span(), "`stages` is empty")
                .label("no stages")
                .help(format!(
                    "list at least one stage, or remove `stages` for a constant rate: {example}"
                )),
        );
        return None;
    }
    let mut stages = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items.iter() {
        let Some(table) = walk::table(p, "stages", item, example) else {
            complete = false;
            continue;
        };
        walk::check_keys(p, table, &["rate", "for"], "a stage");
        let mut get = |key: &str| {
            let v = table.get(key);
            if v.is_none() {
                walk::missing(
                    p,
                    table,
                    item.span(),
                    &["rate", "for"],
                    key,
                    "a stage",
                    "each stage ramps linearly to its rate over its duration: { rate = 80, for = \"30s\" }",
                );
            }
            v
        };
        let (rate, length) = (get("rate"), get("for"));
        let rate =
            rate.and_then(|v| read_rate(p, "rate", v, true).map(|r| Spanned::new(v.span(), r)));
        let length = length.and_then(|v| positive_duration(p, "for", v, "\"30s\""));
        match (rate, length) {
            (Some(rate), Some(length)) => stages.push(StageSpec { rate, length }),
            _ => complete = false,
        }
    }
    complete.then_some(stages)
}

fn check_users(p: &mut Problems, value: &Value<'_>, n: i128) -> Option<u32> {
    match u32::try_from(n) {
        Ok(users) if users >= 1 => Some(users),
        _ => {
            let (label, help) = if n < 1 {
                (
                    "must be at least 1",
                    "simulate at least one user: users = 1".to_string(),
                )
            } else {
                (
                    "too many users",
                    format!("users can be at most {}", u32::MAX),
                )
            };
            p.push(
                Problem::new(
                    ProblemKind::OutOfRange,
                    value.span(),
                    format!("`users` = {n} is out of range"),
                )
                .label(label)
                .help(help),
            );
            None
        }
    }
}

/// A fixed pause ("500ms") or a uniform range ({ min = "200ms", max = "800ms" }).
fn read_think_time(p: &mut Problems, value: &Value<'_>) -> Option<ThinkTimeSpec> {
    let DeValue::Table(table) = value.get_ref() else {
        let d = walk::duration(p, "think_time", value)?;
        return Some(ThinkTimeSpec { min: d, max: d });
    };
    walk::check_keys(p, table, &["min", "max"], "`think_time`");
    let mut bound = |key: &str| match table.get(key) {
        None => {
            walk::missing(
                p,
                table,
                value.span(),
                &["min", "max"],
                key,
                "`think_time`",
                "give both bounds: think_time = { min = \"200ms\", max = \"800ms\" }, or one duration for a fixed pause",
            );
            None
        }
        Some(v) => walk::duration(p, key, v).map(|d| Spanned::new(v.span(), d)),
    };
    let (min, max) = (bound("min"), bound("max"));
    let (min, max) = (min?, max?);
    if min.get_ref() > max.get_ref() {
        p.push(
            Problem::new(
                ProblemKind::OutOfRange,
                min.span(),
                "`think_time` min is above its max",
            )
            .label("min")
            .also(max.span(), "max")
            .help("swap them: min is the shortest pause, max the longest"),
        );
        return None;
    }
    Some(ThinkTimeSpec {
        min: *min.get_ref(),
        max: *max.get_ref(),
    })
}
