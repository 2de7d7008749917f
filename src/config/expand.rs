//! `${NAME}` in string values, expanded from the environment as a file is loaded, before any
//! value is read: every reader sees the expanded text, and every value that came from the
//! environment is recorded as a secret.
//!
//! The rules: `${NAME}` (NAME: letters, digits and `_`, not starting with a digit) is replaced by
//! the variable's value, which is used as is (a `${` in it is not expanded again); `$${` is a
//! literal `${`; any other `$` is just a `$`. Only string values are expanded, never keys. A
//! variable that is unset, empty or not UTF-8, and a `${` that is not a well-formed reference,
//! is a problem pointing at the `${…}` inside the string. An empty variable is refused rather
//! than sent as nothing: that is what a CI secret the job cannot see expands to (a GitHub Actions
//! secret on a pull request from a fork), and a missing token should fail in milliseconds, not
//! as a run of 401s.

use std::env::VarError;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Problem, ProblemKind, Problems};
use super::secrets::Secrets;

/// Where `${NAME}` values come from: the process environment, or a fixed table in tests.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Result<String, VarError>;

/// The process environment.
pub(crate) fn process_env(name: &str) -> Result<String, VarError> {
    std::env::var(name)
}

const HELP_LITERAL: &str = "write $${ for a literal ${";

/// Expands every string value in `table` (recursively), recording problems and secrets. `text`
/// is the file, for finding each `${…}` inside its string.
pub(crate) fn expand_table(
    p: &mut Problems,
    table: &mut DeTable<'_>,
    text: &str,
    env: Lookup<'_>,
    secrets: &mut Secrets,
) {
    for (_, value) in table.iter_mut() {
        expand_value(p, value, text, env, secrets);
    }
}

fn expand_value(
    p: &mut Problems,
    value: &mut Spanned<DeValue<'_>>,
    text: &str,
    env: Lookup<'_>,
    secrets: &mut Secrets,
) {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) if s.contains('$') => {
            let raw = text.get(span.clone()).unwrap_or_default();
            let before = p.len();
            let expanded = expand(p, s, raw, span.start, env, secrets);
            if p.len() > before {
                p.unreliable(span);
            }
            *s = expanded.into();
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                expand_value(p, item, text, env, secrets);
            }
        }
        DeValue::Table(table) => expand_table(p, table, text, env, secrets),
        _ => {}
    }
}

/// One string's expansion. A reference that cannot be expanded is reported and expands to
/// nothing, so that later readers see a value that is at worst empty (their complaints about it
/// are dropped as noise: see `Problems::into_error`).
fn expand(
    p: &mut Problems,
    s: &str,
    raw: &str,
    raw_start: usize,
    env: Lookup<'_>,
    secrets: &mut Secrets,
) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(found) = s[i..].find('$') {
        let at = i + found;
        out.push_str(&s[i..at]);
        let rest = &s[at..];
        if rest.starts_with("$${") {
            out.push_str("${");
            i = at + 3;
            continue;
        }
        if !rest.starts_with("${") {
            out.push('$');
            i = at + 1;
            continue;
        }
        let Some(close) = rest.find('}') else {
            p.push(
                Problem::new(
                    ProblemKind::InvalidVariable,
                    locate(s, at, "${", raw, raw_start),
                    "`${` is never closed",
                )
                .label("no closing `}`")
                .help(format!(
                    "write ${{NAME}} to use an environment variable, or {HELP_LITERAL}"
                )),
            );
            return out;
        };
        let token = &rest[..=close];
        let name = &token[2..token.len() - 1];
        let span = locate(s, at, token, raw, raw_start);
        i = at + token.len();
        if !is_name(name) {
            p.push(
                Problem::new(
                    ProblemKind::InvalidVariable,
                    span,
                    format!("`{token}` is not a valid variable reference"),
                )
                .label(if name.is_empty() {
                    "no variable name"
                } else {
                    "not a variable name"
                })
                .help(format!(
                    "a variable name is letters, digits and _, not starting with a digit, e.g. \
                     ${{API_TOKEN}}; {HELP_LITERAL}"
                )),
            );
            continue;
        }
        let (message, label, help) = match env(name) {
            Ok(value) if !value.is_empty() => {
                secrets.add(&value);
                out.push_str(&value);
                continue;
            }
            Ok(_) => (
                format!("environment variable `{name}` is empty"),
                format!("`{name}` is set but empty"),
                format!(
                    "give {name} a value; a CI secret this job cannot see (a GitHub Actions \
                     secret on a pull request from a fork) is empty"
                ),
            ),
            Err(VarError::NotPresent) => (
                format!("environment variable `{name}` is not set"),
                format!("`{name}` is not set"),
                format!("set it before running slagate (export {name}=…), or {HELP_LITERAL}"),
            ),
            Err(VarError::NotUnicode(_)) => (
                format!("environment variable `{name}` is not valid UTF-8"),
                format!("`{name}` is not UTF-8"),
                format!("give {name} a UTF-8 value"),
            ),
        };
        p.push(
            Problem::new(ProblemKind::UnsetVariable, span, message)
                .label(label)
                .help(help),
        );
    }
    out.push_str(&s[i..]);
    out
}

/// A variable name: ASCII letters, digits and `_`, not starting with a digit.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The span in the file of `token`, found at byte `at` of the decoded string `s`: the same
/// occurrence of it in the string as written (`raw`, quotes included). A string whose escapes
/// make the two differ gets the whole string's span.
fn locate(s: &str, at: usize, token: &str, raw: &str, raw_start: usize) -> Range<usize> {
    let nth = s[..at].matches(token).count();
    match raw.match_indices(token).nth(nth) {
        Some((offset, _)) => raw_start + offset..raw_start + offset + token.len(),
        None => raw_start..raw_start + raw.len(),
    }
}
