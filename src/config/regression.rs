//! The `[regression]` table of sla.toml: how much worse a head run may be than its baseline
//! before `slagate compare` (or `check --baseline`) calls it a regression.
//!
//! ```toml
//! [regression]
//! shift = "+5%"        # the centre: the head's typical request may be up to 5 % slower
//! p95 = "+10%"         # any pN, max or mean: the head may be up to 10 % slower
//! error_rate = "+0.1%" # percentage points: 0.2 % → 0.3 % is still within
//! rps = "-10%"         # the head may deliver up to 10 % fewer requests per second
//! ```
//!
//! The sign is the direction that is worse; it may be left out ("10%"), but the other sign is
//! refused, since `p95 = "-10%"` would demand the head be faster. Defaults are `plan`'s.

use toml::Spanned;
use toml::de::DeValue;

use super::error::{Problem, ProblemKind, Problems};
use super::walk::{self, Value};
use super::{RegressionKey, RegressionSpec};

const EXAMPLE: &str = "[regression]\np95 = \"+10%\"\nerror_rate = \"+0.1%\"\nrps = \"-10%\"";

/// Reads the `[regression]` value; every mistake is recorded and the table is dropped.
pub(crate) fn read(p: &mut Problems, value: &Value<'_>) -> Option<RegressionSpec> {
    let table = walk::table(
        p,
        "regression",
        value,
        &format!("write a table:\n{EXAMPLE}"),
    )?;
    let before = p.len();
    let mut spec = RegressionSpec {
        latency: Vec::new(),
        error_rate: None,
        rps: None,
    };
    for (key, v) in table.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "error_rate" => spec.error_rate = signed(p, name, v, '+', 100.0),
            "rps" => spec.rps = signed(p, name, v, '-', 100.0),
            _ => match latency_key(name) {
                Some(metric) => {
                    if let Some(t) = signed(p, name, v, '+', f64::INFINITY) {
                        spec.latency.push((metric, t));
                    }
                }
                None => {
                    let help = match walk::did_you_mean(
                        name,
                        &[
                            "shift",
                            "p50",
                            "p95",
                            "p99",
                            "max",
                            "mean",
                            "error_rate",
                            "rps",
                        ],
                    ) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "the keys of [regression] are shift, pN (e.g. p95), max, \
                                 mean, error_rate and rps"
                            .to_string(),
                    };
                    p.push(
                        Problem::new(
                            ProblemKind::UnknownKey,
                            key.span(),
                            format!("unknown key `{name}` in [regression]"),
                        )
                        .label("unknown key")
                        .help(help),
                    );
                }
            },
        }
    }
    (p.len() == before).then_some(spec)
}

/// `pN` (0 < N < 100), `max`, `mean` or `shift`.
fn latency_key(key: &str) -> Option<RegressionKey> {
    match key {
        "max" => return Some(RegressionKey::Max),
        "mean" => return Some(RegressionKey::Mean),
        "shift" => return Some(RegressionKey::Shift),
        _ => {}
    }
    let number = key.strip_prefix('p')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ok = match number.split_once('.') {
        Some((w, f)) => digits(w) && digits(f),
        None => digits(number),
    };
    let percent: f64 = number.parse().ok().filter(|_| ok)?;
    (percent > 0.0 && percent < 100.0).then_some(RegressionKey::Percentile {
        quantile: percent / 100.0,
    })
}

/// A percentage with an optional sign that must be `worse` ('+' or '-'); returns its size as a
/// fraction (10 % → 0.1), at most `max_percent`.
fn signed(
    p: &mut Problems,
    key: &str,
    value: &Value<'_>,
    worse: char,
    max_percent: f64,
) -> Option<Spanned<f64>> {
    let typical = if key == "error_rate" { "0.1" } else { "10" };
    let example = format!("{key} = \"{worse}{typical}%\"");
    let DeValue::String(text) = value.get_ref() else {
        walk::wrong_type(
            p,
            key,
            value,
            "a signed percentage like \"+10%\"",
            format!("write a percentage with a percent sign: {example}"),
        );
        return None;
    };
    let text = text.trim();
    let bad = |p: &mut Problems, message: String, label: &str, help: String| {
        p.push(
            Problem::new(ProblemKind::InvalidPercentage, value.span(), message)
                .label(label.to_string())
                .help(help),
        );
    };
    let Some(number) = text.strip_suffix('%') else {
        bad(
            p,
            format!("`{key}` = \"{text}\" is not a percentage: it has no `%` sign"),
            "not a percentage",
            format!("write a number and a percent sign: {example}"),
        );
        return None;
    };
    let (sign, digits) = match number.chars().next() {
        Some(c @ ('+' | '-')) => (Some(c), &number[1..]),
        _ => (None, number),
    };
    if sign.is_some_and(|s| s != worse) {
        let direction = if worse == '+' { "higher" } else { "lower" };
        bad(
            p,
            format!("`{key}` = \"{text}\" points the wrong way"),
            "wrong sign",
            format!(
                "the tolerance is how much {direction} the head may be than its baseline: \
                 {example}"
            ),
        );
        return None;
    }
    match digits.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 && n <= max_percent => {
            Some(Spanned::new(value.span(), n / 100.0))
        }
        Ok(n) if n.is_finite() => {
            p.push(
                Problem::new(
                    ProblemKind::OutOfRange,
                    value.span(),
                    format!("`{key}` = \"{text}\" is outside 0–{max_percent} %"),
                )
                .label("out of range")
                .help(format!("write a smaller percentage: {example}")),
            );
            None
        }
        _ => {
            bad(
                p,
                format!("`{key}` = \"{text}\" is not a percentage"),
                "not a percentage",
                format!("write a number and a percent sign: {example}"),
            );
            None
        }
    }
}
