//! Reading typed values out of the spanned TOML tree. Each reader either returns the value or
//! records a [`Problem`] at the value's span and returns `None`, so that a caller can read every
//! key of a table, keep going after a bad one, and have every mistake reported at once.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Problem, ProblemKind, Problems};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Longest duration accepted anywhere. Later stages add durations to `Instant`s, which panics
/// on overflow; a year is far beyond any sensible load test or budget and far below overflow.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// How a value is described in "found …" messages.
pub(crate) fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => {
            let mut shown: String = s.chars().take(40).collect();
            if shown.len() < s.len() {
                shown.push('…');
            }
            format!("string {shown:?}")
        }
        DeValue::Integer(i) => format!("integer `{i}`"),
        DeValue::Float(f) => format!("float `{f}`"),
        DeValue::Boolean(b) => format!("boolean `{b}`"),
        DeValue::Datetime(_) => "a date-time".to_string(),
        DeValue::Array(_) => "an array".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo: one edit
/// (a transposition counts as one) for short words, two for longer ones, ignoring case.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    let allowed = if word.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&word, &c.to_lowercase()), *c))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Reports every key of `table` not in `known`, with a suggestion for near misses.
pub(crate) fn check_keys(p: &mut Problems, table: &DeTable<'_>, known: &[&str], place: &str) {
    check_keys_hinted(p, table, known, place, |_| None);
}

/// `check_keys`, with a better help line from `hint` for keys that are known elsewhere (a key
/// of another table, written in the wrong one).
pub(crate) fn check_keys_hinted(
    p: &mut Problems,
    table: &DeTable<'_>,
    known: &[&str],
    place: &str,
    hint: impl Fn(&str) -> Option<String>,
) {
    for (key, _) in table.iter() {
        let name = key.get_ref().as_ref();
        if known.contains(&name) {
            continue;
        }
        let help = match (hint(name), did_you_mean(name, known)) {
            (Some(hint), _) => hint,
            (None, Some(suggestion)) => format!("did you mean `{suggestion}`?"),
            (None, None) => format!("the keys of {place} are: {}", known.join(", ")),
        };
        p.push(
            Problem::new(
                ProblemKind::UnknownKey,
                key.span(),
                format!("unknown key `{name}` in {place}"),
            )
            .label("unknown key")
            .help(help),
        );
    }
}

/// Reports a required key that is absent, pointing at the table that lacks it (for the
/// top level of a file, which has no header to point at, the start of the file). Stays quiet
/// when the table has an unknown key that is a typo of this one: that report already says
/// "did you mean", and a second one about the same line would only add noise.
pub(crate) fn missing(
    p: &mut Problems,
    table: &DeTable<'_>,
    table_span: Range<usize>,
    known: &[&str],
    key: &str,
    place: &str,
    help: impl Into<String>,
) {
    let misspelt = table.iter().any(|(k, _)| {
        let k = k.get_ref().as_ref();
        !known.contains(&k) && did_you_mean(k, &[key]).is_some()
    });
    if misspelt {
        return;
    }
    let label = if table_span.is_empty() {
        format!("no `{key}` in this file")
    } else {
        format!("this table has no `{key}`")
    };
    p.push(
        Problem::new(
            ProblemKind::MissingKey,
            table_span,
            format!("missing required key `{key}` in {place}"),
        )
        .label(label)
        .help(help),
    );
}

pub(crate) fn wrong_type(
    p: &mut Problems,
    key: &str,
    value: &Value<'_>,
    expected: &str,
    help: impl Into<String>,
) {
    p.push(
        Problem::new(
            ProblemKind::WrongType,
            value.span(),
            format!(
                "`{key}` expects {expected}, found {}",
                describe(value.get_ref())
            ),
        )
        .label(format!("expected {expected}"))
        .help(help),
    );
}

pub(crate) fn table<'a, 'i>(
    p: &mut Problems,
    key: &str,
    value: &'a Value<'i>,
    help: &str,
) -> Option<&'a DeTable<'i>> {
    match value.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => {
            wrong_type(p, key, value, "a table", help);
            None
        }
    }
}

pub(crate) fn string<'a>(
    p: &mut Problems,
    key: &str,
    value: &'a Value<'_>,
    example: &str,
) -> Option<&'a str> {
    match value.get_ref() {
        DeValue::String(s) => Some(s.as_ref()),
        _ => {
            wrong_type(
                p,
                key,
                value,
                "a string",
                format!("write it in double quotes: {key} = {example}"),
            );
            None
        }
    }
}

/// `true` or `false`.
pub(crate) fn boolean(p: &mut Problems, key: &str, value: &Value<'_>) -> Option<bool> {
    match value.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        DeValue::String(s) if matches!(s.trim(), "true" | "false") => {
            wrong_type(
                p,
                key,
                value,
                "a boolean",
                format!("remove the quotes: {key} = {}", s.trim()),
            );
            None
        }
        _ => {
            wrong_type(
                p,
                key,
                value,
                "a boolean",
                format!("write {key} = true or {key} = false"),
            );
            None
        }
    }
}

/// An integer as written. `None` (and a problem) for other types; integers beyond `i128`
/// cannot come out of TOML's 64-bit grammar, but are reported as out of range all the same.
pub(crate) fn integer(
    p: &mut Problems,
    key: &str,
    value: &Value<'_>,
    example: &str,
) -> Option<i128> {
    match value.get_ref() {
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Some(n),
            Err(_) => {
                p.push(
                    Problem::new(
                        ProblemKind::OutOfRange,
                        value.span(),
                        format!("`{key}` = {i} is too large"),
                    )
                    .label("too large")
                    .help(format!("write a smaller whole number: {key} = {example}")),
                );
                None
            }
        },
        DeValue::String(s) if s.trim().parse::<i64>().is_ok() => {
            wrong_type(
                p,
                key,
                value,
                "an integer",
                format!("remove the quotes: {key} = {}", s.trim()),
            );
            None
        }
        _ => {
            wrong_type(
                p,
                key,
                value,
                "an integer",
                format!("write a whole number: {key} = {example}"),
            );
            None
        }
    }
}

/// An integer or float, finite.
pub(crate) fn number(p: &mut Problems, key: &str, value: &Value<'_>, example: &str) -> Option<f64> {
    let parsed = match value.get_ref() {
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|n| n as f64),
        DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
        DeValue::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            wrong_type(
                p,
                key,
                value,
                "a number",
                format!("remove the quotes: {key} = {}", s.trim()),
            );
            return None;
        }
        _ => {
            wrong_type(
                p,
                key,
                value,
                "a number",
                format!("write a number: {key} = {example}"),
            );
            return None;
        }
    };
    match parsed {
        Some(n) if n.is_finite() => Some(n),
        _ => {
            p.push(
                Problem::new(
                    ProblemKind::OutOfRange,
                    value.span(),
                    format!("`{key}` must be a finite number"),
                )
                .label("not a finite number")
                .help(format!("write a number: {key} = {example}")),
            );
            None
        }
    }
}

/// A duration string ("20ms", "1.5s", "1m30s"), at most [`MAX_DURATION`].
pub(crate) fn duration(p: &mut Problems, key: &str, value: &Value<'_>) -> Option<Duration> {
    let text = match value.get_ref() {
        DeValue::String(s) => s.as_ref(),
        DeValue::Integer(_) | DeValue::Float(_) => {
            let n = value_text(value);
            wrong_type(
                p,
                key,
                value,
                "a duration string like \"20ms\"",
                format!("write a unit: {key} = \"{n}ms\" or \"{n}s\""),
            );
            return None;
        }
        _ => {
            wrong_type(
                p,
                key,
                value,
                "a duration string like \"20ms\"",
                format!("write a number and a unit: {key} = \"20ms\" (units: ms, s, m, h)"),
            );
            return None;
        }
    };
    match parse_duration(text) {
        Ok(d) if d > MAX_DURATION => {
            p.push(
                Problem::new(
                    ProblemKind::OutOfRange,
                    value.span(),
                    format!("`{key}` = \"{text}\" is too long"),
                )
                .label("longer than a year")
                .help("durations are limited to 365 days"),
            );
            None
        }
        Ok(d) => Some(d),
        Err((message, help)) => {
            p.push(
                Problem::new(
                    ProblemKind::InvalidDuration,
                    value.span(),
                    format!("`{key}` = \"{text}\" is not a duration: {message}"),
                )
                .label("not a duration")
                .help(help),
            );
            None
        }
    }
}

/// Parses a duration with humantime (which accepts "20ms", "1.5s", "1m30s", "2 min"), turning
/// its errors into a message and a help line. A bare number is refused: "20" could mean
/// seconds or milliseconds, and guessing wrong silently changes a budget a thousandfold.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, (String, String)> {
    const UNITS: &str =
        "units: ms, s, m, h (also us, min, sec, …); e.g. \"20ms\", \"1.5s\", \"1m30s\"";
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err((
            "it is empty".into(),
            format!("write a number and a unit; {UNITS}"),
        ));
    }
    if trimmed.parse::<f64>().is_ok() {
        return Err((
            "it has no unit".into(),
            format!("write a unit: \"{trimmed}ms\" or \"{trimmed}s\""),
        ));
    }
    humantime::parse_duration(trimmed).map_err(|e| match e {
        humantime::DurationError::UnknownUnit { unit, .. } if unit.is_empty() => (
            "a number has no unit".into(),
            format!("write a unit after every number; {UNITS}"),
        ),
        humantime::DurationError::UnknownUnit { unit, .. } => {
            let known = ["ms", "s", "m", "h", "us", "ns", "min", "sec", "d"];
            let help = match did_you_mean(&unit, &known) {
                Some(u) => format!("did you mean `{u}`? {UNITS}"),
                None => UNITS.to_string(),
            };
            (format!("unknown unit `{unit}`"), help)
        }
        humantime::DurationError::NumberOverflow => (
            "the number is too large".into(),
            "durations are limited to 365 days".into(),
        ),
        _ => (
            "expected a non-negative number followed by a unit".into(),
            UNITS.to_string(),
        ),
    })
}

/// A percentage string "0.5%" in 0–100 %, as a fraction 0.0..=1.0.
pub(crate) fn percentage(p: &mut Problems, key: &str, value: &Value<'_>) -> Option<f64> {
    let text = match value.get_ref() {
        DeValue::String(s) => s.as_ref(),
        DeValue::Integer(_) | DeValue::Float(_) => {
            // A bare number is refused: 0.5 could mean 0.5 % or 50 %.
            let n = value_text(value);
            wrong_type(
                p,
                key,
                value,
                "a percentage string like \"0.5%\"",
                format!(
                    "write it with a percent sign: {key} = \"{n}%\" (a bare number is ambiguous: \
                     0.5 could mean 0.5 % or 50 %)"
                ),
            );
            return None;
        }
        _ => {
            wrong_type(
                p,
                key,
                value,
                "a percentage string like \"0.5%\"",
                format!("write a percentage: {key} = \"0.5%\""),
            );
            return None;
        }
    };
    let Some(number) = text.trim().strip_suffix('%') else {
        p.push(
            Problem::new(
                ProblemKind::InvalidPercentage,
                value.span(),
                format!("`{key}` = \"{text}\" is not a percentage: it has no `%` sign"),
            )
            .label("not a percentage")
            .help(format!(
                "write a number and a percent sign: {key} = \"0.5%\""
            )),
        );
        return None;
    };
    match number.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && (0.0..=100.0).contains(&n) => Some(n / 100.0),
        Ok(n) if n.is_finite() => {
            p.push(
                Problem::new(
                    ProblemKind::OutOfRange,
                    value.span(),
                    format!("`{key}` = \"{text}\" is outside 0–100 %"),
                )
                .label("outside 0–100 %")
                .help(format!(
                    "write a percentage between \"0%\" and \"100%\": {key} = \"0.5%\""
                )),
            );
            None
        }
        _ => {
            p.push(
                Problem::new(
                    ProblemKind::InvalidPercentage,
                    value.span(),
                    format!("`{key}` = \"{text}\" is not a percentage"),
                )
                .label("not a percentage")
                .help(format!(
                    "write a number and a percent sign: {key} = \"0.5%\""
                )),
            );
            None
        }
    }
}

/// A number's text as written (for quoting it back in a help line).
pub(crate) fn value_text(value: &Value<'_>) -> String {
    match value.get_ref() {
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.to_string(),
        _ => String::new(),
    }
}

/// Converts a TOML value to JSON, for `json = …` request bodies.
pub(crate) fn to_json(p: &mut Problems, value: &Value<'_>) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    Some(match value.get_ref() {
        DeValue::String(s) => J::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => J::from(n),
            Err(_) => {
                p.push(
                    Problem::new(
                        ProblemKind::OutOfRange,
                        value.span(),
                        "integer out of range",
                    )
                    .label("does not fit in 64 bits")
                    .help("write a smaller number, or a string"),
                );
                return None;
            }
        },
        DeValue::Float(f) => match f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            Some(n) => J::Number(n),
            None => {
                p.push(
                    Problem::new(
                        ProblemKind::OutOfRange,
                        value.span(),
                        "JSON cannot represent inf or nan",
                    )
                    .label("not a JSON number")
                    .help("write a finite number, or a string"),
                );
                return None;
            }
        },
        DeValue::Boolean(b) => J::Bool(*b),
        DeValue::Datetime(d) => J::String(d.to_string()),
        DeValue::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                out.push(to_json(p, item));
            }
            J::Array(out.into_iter().collect::<Option<Vec<_>>>()?)
        }
        DeValue::Table(t) => {
            let mut out = serde_json::Map::new();
            let mut ok = true;
            for (k, v) in t.iter() {
                match to_json(p, v) {
                    Some(j) => {
                        out.insert(k.get_ref().to_string(), j);
                    }
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            J::Object(out)
        }
    })
}
