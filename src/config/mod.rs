//! The config files as written: `sla.toml` and `profiles/NAME.toml`. Owns reading them, the
//! schema, and every check that concerns one file (syntax, keys, types, units, ranges, budget
//! order, duplicate endpoints), reported all at once as a miette diagnostic that points into
//! the file. Values come out typed (`Duration`, fractions, `Url`, `HeaderMap`) with the byte
//! spans needed to point at them later. Rules that span files or involve the command line
//! (a profile's level, `--host`) belong to `plan::build`. Imports nothing of ours.
//!
//! Choices a user will notice:
//! - Durations are strings with a unit ("20ms", "1.5s", "1m30s"); a bare number is refused,
//!   because `20` could be seconds or milliseconds. Durations are at most 365 days.
//! - `max_error_rate` is a string with a percent sign ("0.5%"); a bare number is refused,
//!   because `0.5` could mean 0.5 % or 50 %.
//! - Decimal percentiles are quoted keys: `"p99.9" = "80ms"`. Unquoted, TOML reads `p99.9` as
//!   key `9` of a table `p99`; that mistake gets its own diagnostic with the fix.
//! - `method` is one of GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH and, as in HTTP,
//!   case-sensitive: `"get"` is refused with a hint to write `"GET"`. Extension methods are
//!   refused too, so that a typo such as `"GTE"` is caught rather than sent.
//! - A json body gets `content-type: application/json` unless the endpoint's own headers set a
//!   content type.
//! - `abort_when = { error_rate = "50%", for = "10s" }` may sit in a `[level.NAME]` (that level's
//!   rule) or, for every level, in a top-level `[abort_when]` table. The table form is the one
//!   documented: a top-level inline `abort_when = {…}` is the same to TOML but must come before
//!   the first `[table]` header, and written after one it silently belongs to that table. Its
//!   `error_rate` must be above 0 % (0 % would stop every run), `for` above zero.
//! - `[regression]` (read by `regression.rs`) holds signed percentages: `p95 = "+10%"`,
//!   `error_rate = "+0.1%"` (percentage points), `rps = "-10%"`; the sign, if written, must be
//!   the direction that is worse.
//! - `${NAME}` in any string value (never a key) expands from the environment when the file is
//!   loaded; `$${` is a literal `${`. An unset or empty variable is a problem at the `${NAME}`
//!   (see `expand.rs`). Every expanded value is a secret ([`Secrets`]): no diagnostic quotes one.
//! - `[target] redact = ["x-session"]` names more headers whose values are secrets, besides
//!   authorization, proxy-authorization, cookie and x-api-key (applied by `plan::build`).
//! - `[target]`'s transport (`transport.rs`): `http = "1.1" | "2" | "auto"`, `max_streams`,
//!   `connect_timeout`, `connect_budget` (a `budget` on connection set-up) and `tls`. The PEM files
//!   `tls` names are relative to the sla file's folder and are read and checked (with rustls,
//!   `pem.rs`) as the file is loaded, so that a missing file or a key that is not its
//!   certificate's is reported with the file's other mistakes; loading an sla file reads them.

mod builtin;
mod error;
mod expand;
mod flow;
mod pem;
mod profile;
mod regression;
mod secrets;
mod sla;
mod transport;
mod walk;

#[cfg(test)]
pub(crate) mod test_pki;
#[cfg(test)]
mod tests;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderMap, Method};
use miette::NamedSource;
use toml::Spanned;
use toml::de::DeTable;

pub use builtin::load_builtin;
pub(crate) use error::Problems;
pub use error::{ConfigError, Problem, ProblemKind};
pub(crate) use expand::Lookup;
pub use flow::{
    CaptureSource, CaptureSpec, FlowSpec, Piece, blank_references, is_name, split_template,
};
pub(crate) use pem::{PemError, check_key_matches, read_certificates, read_private_key};
pub use secrets::{MASK, Secrets};
pub(crate) use sla::parse_base_url;
pub(crate) use walk::did_you_mean;

/// A config file's path and text, kept to point into it after loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column (in characters) of a byte offset, as editors count them.
    pub fn line_column(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        // A byte-order mark is invisible in editors, so it takes no column.
        let column = before[line_start..]
            .trim_start_matches('\u{FEFF}')
            .chars()
            .count()
            + 1;
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        (clamp(line), clamp(column))
    }

    /// The text as a miette source named by the path, for pointing at a span of it.
    pub(crate) fn named_source(&self) -> NamedSource<String> {
        NamedSource::new(self.path.display().to_string(), self.text.clone())
    }
}

/// A loaded and checked sla.toml.
#[derive(Debug, Clone)]
pub struct SlaFile {
    pub source: SourceFile,
    pub target: TargetSpec,
    /// In file order; at least one; names unique.
    pub endpoints: Vec<EndpointSpec>,
    /// `[[flow]]` tables, in file order; steps name endpoints, references are captured.
    pub flows: Vec<FlowSpec>,
    /// The `[level.NAME]` tables, in file order.
    pub levels: Vec<LevelSpec>,
    /// The top-level `[abort_when]` rule, for every level that has none of its own.
    pub abort_when: Option<AbortWhenSpec>,
    /// The `[regression]` tolerances, if written (defaults are `plan::Tolerances`).
    pub regression: Option<RegressionSpec>,
    /// The values `${NAME}` expanded to (at or above the floor).
    pub secrets: Secrets,
}

/// `[regression]`: how much worse than its baseline a head run may be. Each tolerance is a
/// non-negative fraction (`"+10%"` → 0.1) spanned at its value.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionSpec {
    /// Relative tolerances on latency statistics, in file order.
    pub latency: Vec<(RegressionKey, Spanned<f64>)>,
    /// Percentage points the error rate may rise (`"+0.1%"` → 0.001).
    pub error_rate: Option<Spanned<f64>>,
    /// Relative drop in requests per second allowed (`"-10%"` → 0.1).
    pub rps: Option<Spanned<f64>>,
}

/// A latency statistic a regression tolerance applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RegressionKey {
    /// `pN`: the quantile N / 100, strictly between 0 and 1.
    Percentile {
        quantile: f64,
    },
    Max,
    Mean,
    /// The Hodges–Lehmann shift: how much slower the typical request is.
    Shift,
}

impl SlaFile {
    /// The `[level.NAME]` table of that name.
    pub fn level(&self, name: &str) -> Option<&LevelSpec> {
        self.levels.iter().find(|l| l.name.get_ref() == name)
    }
}

#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// http or https, with a host, no query or fragment; may carry a base path.
    pub base_url: Spanned<url::Url>,
    /// `base_url` as written (with `${NAME}` expanded), before the URL parser normalized it:
    /// where a secret is still spelt as it was given, for masking it.
    pub base_url_text: String,
    /// Per request; above zero; default 10 s.
    pub timeout: Duration,
    pub headers: HeaderMap,
    /// `redact = [...]`: more header names whose values are secrets, wherever they are set.
    pub redact: Vec<http::HeaderName>,
    /// `http = "1.1" | "2" | "auto"`; default auto.
    pub http: HttpSpec,
    /// HTTP/2 streams per shared connection, 1 ..= 10 000; `None` when not written.
    pub max_streams: Option<u32>,
    /// TCP connect and TLS handshake limit; above zero; `None` when not written.
    pub connect_timeout: Option<Duration>,
    /// `tls = {…}` or `[target.tls]`, files read and checked; only with an https base URL.
    pub tls: Option<TlsSpec>,
    /// `connect_budget = { p99 = "50ms" }`: limits on connection set-up, with `budget`'s keys
    /// and rules (non-decreasing); empty when not written.
    pub connect_budgets: Vec<BudgetSpec>,
    /// `cookies = true`: each user (open model: each session) keeps a cookie jar.
    pub cookies: bool,
}

/// `http = "…"` in `[target]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpSpec {
    /// `"auto"`: over TLS, ALPN offers h2 and http/1.1; on http://, HTTP/1.1.
    Auto,
    /// `"1.1"`.
    Http1,
    /// `"2"`: by ALPN over TLS, h2c (prior knowledge) on http://.
    Http2,
}

/// `[target] tls`, with its PEM files read, parsed and checked. Paths are resolved against the
/// sla file's folder.
#[derive(Debug, Clone, Default)]
pub struct TlsSpec {
    /// Every certificate of every `ca` file, in order (DER).
    pub ca: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// `cert` and `key`, the key known to match the chain's first certificate.
    pub identity: Option<IdentitySpec>,
    /// `insecure = true` (never together with `ca`).
    pub insecure: bool,
    /// A valid DNS name or IP address.
    pub server_name: Option<String>,
}

/// `tls.cert` and `tls.key`: a client certificate chain and its private key. Its `Debug` shows
/// no key material (rustls' key types print none).
#[derive(Debug)]
pub struct IdentitySpec {
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub key: rustls::pki_types::PrivateKeyDer<'static>,
    /// The certificate file, as resolved (the sla file's folder joined with `cert`).
    pub cert_path: PathBuf,
}

impl Clone for IdentitySpec {
    fn clone(&self) -> Self {
        IdentitySpec {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            cert_path: self.cert_path.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EndpointSpec {
    pub name: Spanned<String>,
    /// Default GET.
    pub method: Method,
    /// Starts with `/`; may carry a query. Default: the name.
    pub path: String,
    /// 1 ..= 1 000 000; default 1.
    pub weight: u32,
    /// Non-empty, in the order written, ordered by value as the metric rises.
    pub budgets: Vec<BudgetSpec>,
    /// `None`: any 2xx or 3xx succeeds. Each code in 100..=599.
    pub expect_status: Option<Vec<u16>>,
    /// The endpoint's own headers (not merged with the target's).
    pub headers: HeaderMap,
    pub body: Body,
    /// `capture = {…}`, in the order written.
    pub captures: Vec<CaptureSpec>,
    /// The `[[endpoint]]` header (or inline table).
    pub span: Range<usize>,
}

/// A request body as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Empty,
    /// From `json = …`: sent serialized, as application/json.
    Json(serde_json::Value),
    /// From `body = "…"`: sent as written.
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BudgetMetric {
    /// `pN`: the quantile N / 100, strictly between 0 and 1.
    Percentile {
        quantile: f64,
    },
    Max,
}

#[derive(Debug, Clone)]
pub struct BudgetSpec {
    pub metric: BudgetMetric,
    /// Above zero; the span is the value's.
    pub limit: Spanned<Duration>,
}

#[derive(Debug, Clone)]
pub struct LevelSpec {
    /// The `NAME` of `[level.NAME]`, spanned at the key.
    pub name: Spanned<String>,
    /// Requests per second; above zero.
    pub min_rps: Option<Spanned<f64>>,
    /// A fraction 0.0 ..= 1.0 (written as a percentage).
    pub max_error_rate: Option<Spanned<f64>>,
    /// Judge budgets on each consecutive window of this length too; above zero.
    pub window: Option<Spanned<Duration>>,
    /// This level's early-abort rule (overrides the top-level one).
    pub abort_when: Option<AbortWhenSpec>,
    /// `budgets = ["p50", "max"]`: the only budget keys this level judges; `None`: all.
    pub budgets: Option<Spanned<Vec<BudgetMetric>>>,
}

/// `abort_when = { error_rate = "50%", for = "10s" }`: stop the run once the error rate has
/// stayed at or above `error_rate` for `for`.
#[derive(Debug, Clone)]
pub struct AbortWhenSpec {
    /// A fraction above 0.0, at most 1.0 (written as a percentage).
    pub error_rate: Spanned<f64>,
    /// `for`; above zero.
    pub sustained: Spanned<Duration>,
    /// The whole `abort_when` value (the table, or the `[abort_when]` header's table).
    pub span: Range<usize>,
}

/// A loaded and checked profile.
#[derive(Debug, Clone)]
pub struct ProfileFile {
    pub source: SourceFile,
    /// The file stem: `medium` for `profiles/medium.toml`.
    pub name: String,
    /// Empty if not given.
    pub description: String,
    /// The load model and its keys.
    pub load: LoadSpec,
    /// Above zero.
    pub run_time: Duration,
    /// `level = "…"` if written; otherwise the level is the file stem.
    pub level: Option<Spanned<String>>,
    /// Open model: `sessions = N`, the pool of flow sessions arrivals draw from.
    pub sessions: Option<u32>,
    /// The values `${NAME}` expanded to (at or above the floor).
    pub secrets: Secrets,
}

impl ProfileFile {
    /// The `[level.NAME]` this profile is judged against: explicit, or the file stem.
    pub fn level_name(&self) -> &str {
        self.level.as_ref().map_or(&self.name, |l| l.get_ref())
    }
}

/// How a profile makes its load.
#[derive(Debug, Clone)]
pub enum LoadSpec {
    /// Locust's: `users` each send, wait for the answer, think, send again.
    Closed {
        /// At least 1.
        users: u32,
        /// Users started per second; finite and above zero.
        spawn_rate: f64,
        /// Default: no pause.
        think_time: ThinkTimeSpec,
    },
    /// Arrivals on a schedule, independent of the answers.
    Open {
        /// Arrivals per second held after the stages (equal to the last stage's when both
        /// are written); `None` with stages only.
        rate: Option<Spanned<f64>>,
        /// Linear ramps, in order; empty for a constant `rate`.
        stages: Vec<StageSpec>,
        /// Default: [`crate::plan::DEFAULT_MAX_IN_FLIGHT`].
        max_in_flight: Option<u32>,
    },
}

/// `{ rate = 80, for = "30s" }`: ramp linearly to `rate` over `length`.
#[derive(Debug, Clone)]
pub struct StageSpec {
    /// Arrivals per second, ≥ 0.
    pub rate: Spanned<f64>,
    pub length: Duration,
}

/// Uniform pause between `min` and `max` (equal for a fixed pause); `min <= max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThinkTimeSpec {
    pub min: Duration,
    pub max: Duration,
}

/// Reads and checks an sla file.
pub fn load_sla(path: &Path) -> Result<SlaFile, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::io(path, e))?;
    parse_sla(path, &bytes)
}

/// Reads and checks a profile file.
pub fn load_profile(path: &Path) -> Result<ProfileFile, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::io(path, e))?;
    parse_profile(path, &bytes)
}

/// Checks the bytes of an sla file; `path` names it in diagnostics. `${NAME}` expands from the
/// process environment.
pub fn parse_sla(path: &Path, bytes: &[u8]) -> Result<SlaFile, ConfigError> {
    parse_sla_with(path, bytes, &expand::process_env)
}

/// [`parse_sla`] with `${NAME}` looked up in `env`.
pub(crate) fn parse_sla_with(
    path: &Path,
    bytes: &[u8],
    env: Lookup<'_>,
) -> Result<SlaFile, ConfigError> {
    let kind = FileKind {
        what: "sla file",
        needs: "an sla.toml needs [target] and at least one [[endpoint]]",
        start: "start with:\n[target]\nbase_url = \"http://localhost:8003\"\n\n[[endpoint]]\n\
                name = \"/health\"\nbudget = { p95 = \"200ms\" }",
    };
    // Paths in the file (the PEM files of `tls`) are relative to its folder.
    let dir = path.parent().unwrap_or(Path::new(""));
    let (source, sla, secrets) = parse(path, bytes, &kind, env, |p, root| sla::read(p, root, dir))?;
    Ok(SlaFile {
        source,
        target: sla.target,
        endpoints: sla.endpoints,
        flows: sla.flows,
        levels: sla.levels,
        abort_when: sla.abort_when,
        regression: sla.regression,
        secrets,
    })
}

/// Checks the bytes of a profile; `path` names it in diagnostics, and its stem names the profile.
/// `${NAME}` expands from the process environment.
pub fn parse_profile(path: &Path, bytes: &[u8]) -> Result<ProfileFile, ConfigError> {
    parse_profile_with(path, bytes, &expand::process_env)
}

/// [`parse_profile`] with `${NAME}` looked up in `env`.
pub(crate) fn parse_profile_with(
    path: &Path,
    bytes: &[u8],
    env: Lookup<'_>,
) -> Result<ProfileFile, ConfigError> {
    let kind = FileKind {
        what: "profile",
        needs: "a profile needs run_time and either users and spawn_rate (closed model) or rate (open model)",
        start: "start with:\nusers = 10\nspawn_rate = 2\nrun_time = \"5m\"\n\nor, for arrivals at a fixed rate:\nrate = 50\nrun_time = \"5m\"",
    };
    let (source, profile, secrets) = parse(path, bytes, &kind, env, profile::read)?;
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    Ok(ProfileFile {
        source,
        name,
        description: profile.description,
        load: profile.load,
        run_time: profile.run_time,
        level: profile.level,
        sessions: profile.sessions,
        secrets,
    })
}

/// What to call a kind of file in diagnostics, and what to tell someone whose file is empty.
struct FileKind {
    what: &'static str,
    needs: &'static str,
    start: &'static str,
}

/// Decodes, parses, expands `${NAME}` in and walks one file with `read`, collecting every
/// problem on the way. The diagnostics never quote an expanded value: they are redacted with
/// the secrets the expansion found, which are returned with the file.
fn parse<T>(
    path: &Path,
    bytes: &[u8],
    kind: &FileKind,
    env: Lookup<'_>,
    read: impl FnOnce(&mut Problems, &DeTable<'_>) -> Option<T>,
) -> Result<(SourceFile, T, Secrets), ConfigError> {
    let text = decode(path, bytes, kind.what)?;
    let mut p = Problems::default();
    let (root, errors) = DeTable::parse_recoverable(text);
    syntax_problems(&mut p, &errors, text);
    let mut root = root.into_inner();
    let mut secrets = Secrets::default();
    expand::expand_table(&mut p, &mut root, text, env, &mut secrets);
    let read = if root.is_empty() {
        empty_file(&mut p, text, kind.needs, kind.start);
        None
    } else {
        read(&mut p, &root)
    };
    let source = SourceFile {
        path: path.to_path_buf(),
        text: text.to_string(),
    };
    p.redact(&secrets);
    match (p.into_error(kind.what, path, text), read) {
        (Some(e), _) => Err(e),
        (None, Some(read)) => Ok((source, read, secrets)),
        // Every reader that returns None records why; reaching this is a bug in the walker,
        // but it must still be an error rather than a panic.
        (None, None) => Err(ConfigError::Inconsistent {
            message: format!("{} could not be read", path.display()),
            help: "this is a bug in slagate: please report it with the file".to_string(),
        }),
    }
}

fn decode<'a>(path: &Path, bytes: &'a [u8], what: &str) -> Result<&'a str, ConfigError> {
    let e = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let offset = e.valid_up_to();
    // The lossy text is identical up to the first bad byte, which becomes U+FFFD: that is
    // where the span goes.
    let text = String::from_utf8_lossy(bytes).into_owned();
    let byte = bytes.get(offset).copied().unwrap_or_default();
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    let help = if utf16 {
        "this looks like UTF-16: save the file as UTF-8 (TOML files must be UTF-8)"
    } else {
        "save the file as UTF-8 (TOML files must be UTF-8)"
    };
    let mut p = Problems::default();
    p.push(
        Problem::new(
            ProblemKind::NotUtf8,
            offset..offset + char::REPLACEMENT_CHARACTER.len_utf8(),
            format!("the file is not UTF-8: byte 0x{byte:02X} at byte offset {offset} is not valid UTF-8"),
        )
        .label(format!("invalid byte 0x{byte:02X}"))
        .help(help),
    );
    Err(p
        .into_error(what, path, &text)
        .unwrap_or_else(|| ConfigError::Inconsistent {
            message: format!("{} is not UTF-8", path.display()),
            help: help.to_string(),
        }))
}

fn empty_file(p: &mut Problems, text: &str, needs: &str, help: &str) {
    // Only comments and blank lines count as empty too: point at the end, where content goes.
    let kind = if text.trim().is_empty() {
        "the file is empty"
    } else {
        "the file has only comments"
    };
    p.push(
        Problem::new(
            ProblemKind::Empty,
            text.len()..text.len(),
            format!("{kind}: {needs}"),
        )
        .label("nothing here")
        .help(help),
    );
}

fn syntax_problems(p: &mut Problems, errors: &[toml::de::Error], text: &str) {
    for e in errors {
        let span = e.span().unwrap_or(text.len()..text.len());
        // toml's messages read "what went wrong, expected what": the second half labels the span.
        let (message, mut label) = match e.message().split_once(", expected ") {
            Some((m, expected)) => (m.to_string(), format!("expected {expected}")),
            None => (e.message().to_string(), "here".to_string()),
        };
        if message.starts_with("string values must be quoted") {
            label = "text without quotes".to_string();
        }
        let written = text.get(span.clone()).unwrap_or_default();
        let help = match quoted_percentile_fix(text, span.clone()) {
            Some(fix) => {
                label = format!("`{written}` is both a limit and a table here");
                fix
            }
            None => syntax_help(&message, written),
        };
        p.push(
            Problem::new(ProblemKind::Syntax, span, format!("TOML syntax: {message}"))
                .label(label)
                .help(help),
        );
    }
}

/// Unquoted `p99.9` makes `p99` a table, so `p99 = "…"` beside it is a duplicate key to
/// TOML: when a syntax error sits on such a key, the fix is to quote the decimal one.
fn quoted_percentile_fix(text: &str, span: Range<usize>) -> Option<String> {
    let key = text.get(span)?;
    let digits = key.strip_prefix('p')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let dotted = format!("{key}.");
    let decimal = text.match_indices(&dotted).find_map(|(i, _)| {
        let rest = &text[i + dotted.len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        (end > 0).then(|| format!("{dotted}{}", &rest[..end]))
    })?;
    Some(format!(
        "quote decimal percentiles: \"{decimal}\" = \"…\"; unquoted, TOML reads {decimal} as a \
         key inside a table {key}, which clashes with {key} = \"…\""
    ))
}

/// A fix for the common TOML mistakes; a pointer to the spec for the rest.
fn syntax_help(message: &str, written: &str) -> String {
    let help = if message.starts_with("string values must be quoted") {
        if !written.is_empty() && written.len() <= 40 && !written.contains(['"', '\n']) {
            return format!("put text in double quotes: \"{written}\"");
        }
        "put text in double quotes: timeout = \"10s\""
    } else if message.starts_with("duplicate key") {
        "each key may appear once per table: remove or rename one (use [[endpoint]] once per endpoint)"
    } else if message.starts_with("unclosed") {
        "close what was opened: ] for a table header or array, } for an inline table, \" for a string"
    } else if message.contains("inline table") {
        "an inline table is { key = value, key = value } on one line, with no trailing comma"
    } else if message.contains("missing value") || message.contains("key with no value") {
        "give the key a value: key = \"value\""
    } else if message.contains("comma") {
        "separate elements with one comma: [200, 201]"
    } else {
        "check the TOML syntax at this spot (https://toml.io/en/v1.0.0)"
    };
    help.to_string()
}

/// Finds the profile `--profile` names: a value ending in `.toml` or containing a path
/// separator is a path (as given, relative to the working directory); anything else is a
/// name, looked up as `profiles/NAME.toml` beside the sla file.
pub fn resolve_profile(sla_path: &Path, name_or_path: &str) -> Result<PathBuf, ConfigError> {
    let is_path = name_or_path.ends_with(".toml")
        || name_or_path.contains('/')
        || name_or_path.contains(std::path::MAIN_SEPARATOR);
    if is_path {
        return Ok(PathBuf::from(name_or_path));
    }
    let dir = profiles_dir(sla_path);
    let candidate = dir.join(format!("{name_or_path}.toml"));
    if !name_or_path.is_empty() && candidate.is_file() {
        return Ok(candidate);
    }
    let available: Vec<String> = profile_paths(sla_path)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let help = if available.is_empty() {
        format!(
            "there are no profiles in {}: create {}, or pass a path to a .toml file",
            dir.display(),
            candidate.display()
        )
    } else {
        let names: Vec<&str> = available.iter().map(String::as_str).collect();
        let list = format!("available profiles: {}", names.join(", "));
        match walk::did_you_mean(name_or_path, &names) {
            Some(s) => format!("did you mean `{s}`? {list}"),
            None => list,
        }
    };
    Err(ConfigError::UnknownProfile {
        name: name_or_path.to_string(),
        dir,
        available,
        help,
    })
}

/// Every `profiles/*.toml` beside the sla file, lightest first: by users ascending, then name
/// (smoke, light, medium, heavy, stress). A profile that does not load sorts last, so that
/// `validate` still reaches it and reports why. No profiles directory means no profiles.
pub fn profile_paths(sla_path: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let dir = profiles_dir(sla_path);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ConfigError::io(&dir, e)),
    };
    let mut found: Vec<(Option<u32>, PathBuf)> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| ConfigError::io(&dir, e))?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            // Closed profiles by users, open ones after them (by the same None as unreadable).
            let users = load_profile(&path).ok().and_then(|p| match p.load {
                LoadSpec::Closed { users, .. } => Some(users),
                LoadSpec::Open { .. } => None,
            });
            found.push((users, path));
        }
    }
    // None sorts after every Some once mapped to (is_none, users).
    found.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
    Ok(found.into_iter().map(|(_, path)| path).collect())
}

fn profiles_dir(sla_path: &Path) -> PathBuf {
    match sla_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("profiles"),
        _ => PathBuf::from("profiles"),
    }
}
