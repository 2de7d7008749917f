//! The profile schema (`profiles/NAME.toml`): one load shape, walked key by key like sla.toml.

use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::ThinkTimeSpec;
use super::error::{Problem, ProblemKind, Problems};
use super::sla::positive_duration;
use super::walk::{self, Value};

const PROFILE_KEYS: &[&str] = &[
    "description",
    "users",
    "spawn_rate",
    "run_time",
    "think_time",
    "level",
];

pub(crate) struct Profile {
    pub(crate) description: String,
    pub(crate) users: u32,
    pub(crate) spawn_rate: f64,
    pub(crate) run_time: Duration,
    pub(crate) think_time: ThinkTimeSpec,
    pub(crate) level: Option<Spanned<String>>,
}

pub(crate) fn read(p: &mut Problems, root: &DeTable<'_>) -> Option<Profile> {
    walk::check_keys(p, root, PROFILE_KEYS, "a profile");
    let place = "the profile";

    let description = match root.get("description") {
        None => Some(String::new()),
        Some(v) => {
            walk::string(p, "description", v, "\"Normal production load\"").map(str::to_string)
        }
    };
    let users = match root.get("users") {
        None => {
            walk::missing(
                p,
                root,
                0..0,
                PROFILE_KEYS,
                "users",
                place,
                "say how many users to simulate: users = 10",
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
    let run_time = match root.get("run_time") {
        None => {
            walk::missing(
                p,
                root,
                0..0,
                PROFILE_KEYS,
                "run_time",
                place,
                "say how long the run lasts, ramp-up included: run_time = \"5m\"",
            );
            None
        }
        Some(v) => positive_duration(p, "run_time", v, "\"5m\""),
    };
    let think_time = match root.get("think_time") {
        None => Some(ThinkTimeSpec {
            min: Duration::ZERO,
            max: Duration::ZERO,
        }),
        Some(v) => read_think_time(p, v),
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

    Some(Profile {
        description: description?,
        users: users?,
        spawn_rate: spawn_rate?,
        run_time: run_time?,
        think_time: think_time?,
        level: level?,
    })
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
