//! The sla.toml schema: walks the parsed tree key by key, turning each value into its typed
//! form and recording every mistake (see `walk` for the readers).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::error::{Problem, ProblemKind, Problems};
use super::transport;
use super::walk::{self, Value};
use super::{AbortWhenSpec, Body, BudgetMetric, BudgetSpec, EndpointSpec, LevelSpec, TargetSpec};

const TOP_KEYS: &[&str] = &[
    "target",
    "endpoint",
    "flow",
    "level",
    "abort_when",
    "regression",
];
const TARGET_KEYS: &[&str] = &[
    "base_url",
    "timeout",
    "headers",
    "redact",
    "http",
    "max_streams",
    "connect_timeout",
    "tls",
    "connect_budget",
    "cookies",
];
const ENDPOINT_KEYS: &[&str] = &[
    "name",
    "method",
    "path",
    "weight",
    "budget",
    "expect_status",
    "headers",
    "json",
    "body",
    "capture",
];
const LEVEL_KEYS: &[&str] = &[
    "min_rps",
    "max_error_rate",
    "window",
    "abort_when",
    "budgets",
];
const ABORT_KEYS: &[&str] = &["error_rate", "for"];
const ABORT_EXAMPLE: &str = "abort_when = { error_rate = \"50%\", for = \"10s\" }";

/// The methods an endpoint may use: the standard ones except CONNECT, which opens a tunnel
/// rather than making a request that can be timed. Extension methods are refused, because a
/// typo (`GTE`) is a valid token and would otherwise be sent as written.
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
];

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest `weight`: weights are relative shares, and keeping each small keeps their sum far
/// from overflowing in the engine's weighted pick.
pub(super) const MAX_WEIGHT: i128 = 1_000_000;

pub(crate) struct Sla {
    pub(crate) target: TargetSpec,
    pub(crate) endpoints: Vec<EndpointSpec>,
    pub(crate) flows: Vec<super::FlowSpec>,
    pub(crate) levels: Vec<LevelSpec>,
    pub(crate) abort_when: Option<AbortWhenSpec>,
    pub(crate) regression: Option<super::RegressionSpec>,
}

/// Reads an sla file's tree; `dir` is the file's folder, which paths in it are relative to.
pub(crate) fn read(p: &mut Problems, root: &DeTable<'_>, dir: &Path) -> Option<Sla> {
    walk::check_keys(p, root, TOP_KEYS, "the sla file");
    let target = read_target(p, root, dir);
    let endpoints = read_endpoints(p, root);
    let flows = super::flow::read_flows(p, root);
    if let (Some(endpoints), Some(flows)) = (&endpoints, &flows) {
        super::flow::check(p, endpoints, flows);
    }
    let levels = read_levels(p, root);
    let abort_when = match root.get("abort_when") {
        None => Some(None),
        Some(v) => read_abort_when(p, v, "[abort_when]").map(Some),
    };
    let regression = match root.get("regression") {
        None => Some(None),
        Some(v) => super::regression::read(p, v).map(Some),
    };
    Some(Sla {
        target: target?,
        endpoints: endpoints?,
        flows: flows?,
        levels: levels?,
        abort_when: abort_when?,
        regression: regression?,
    })
}

/// A level-only key written in another table: most likely meant for a level, or written after
/// a `[table]` header that it then silently joined.
fn misplaced(key: &str) -> Option<String> {
    match key {
        "abort_when" => Some(format!(
            "`abort_when` goes in a [level.NAME] table, or in a top-level [abort_when] table \
             for every level: {ABORT_EXAMPLE} (a key written below a [table] header belongs to \
             that table)"
        )),
        "window" | "min_rps" | "max_error_rate" => Some(format!(
            "`{key}` goes in a [level.NAME] table, e.g.\n[level.medium]\n{key} = …"
        )),
        _ => None,
    }
}

fn read_target(p: &mut Problems, root: &DeTable<'_>, dir: &Path) -> Option<TargetSpec> {
    let Some(value) = root.get("target") else {
        walk::missing(
            p,
            root,
            0..0,
            TOP_KEYS,
            "target",
            "the sla file",
            "add a [target] table with the service's address: base_url = \"http://localhost:8003\"",
        );
        return None;
    };
    let table = walk::table(
        p,
        "target",
        value,
        "write a [target] table with base_url = \"http://localhost:8003\"",
    )?;
    walk::check_keys_hinted(p, table, TARGET_KEYS, "[target]", misplaced);

    let base_url = match table.get("base_url") {
        None => {
            walk::missing(
                p,
                table,
                value.span(),
                TARGET_KEYS,
                "base_url",
                "[target]",
                "add the service's address: base_url = \"http://localhost:8003\"",
            );
            None
        }
        Some(v) => walk::string(p, "base_url", v, "\"http://localhost:8003\"").and_then(|text| {
            match parse_base_url(text) {
                Ok(url) => Some((Spanned::new(v.span(), url), text.to_string())),
                Err((message, help)) => {
                    p.push(
                        Problem::new(ProblemKind::InvalidUrl, v.span(), message)
                            .label("not a usable base URL")
                            .help(help),
                    );
                    None
                }
            }
        }),
    };
    let timeout = match table.get("timeout") {
        None => Some(DEFAULT_TIMEOUT),
        Some(v) => positive_duration(p, "timeout", v, "\"10s\""),
    };
    let headers = match table.get("headers") {
        None => Some(HeaderMap::new()),
        Some(v) => read_headers(p, v),
    };
    let redact = match table.get("redact") {
        None => Some(Vec::new()),
        Some(v) => read_redact(p, v),
    };
    let cookies = match table.get("cookies") {
        None => Some(false),
        Some(v) => walk::boolean(p, "cookies", v),
    };
    let url = base_url
        .as_ref()
        .map(|(url, _)| (url.get_ref(), url.span()));
    let transport = transport::read(p, table, url, dir);
    let (base_url, base_url_text) = base_url?;
    let transport = transport?;
    Some(TargetSpec {
        base_url,
        base_url_text,
        timeout: timeout?,
        headers: headers?,
        redact: redact?,
        http: transport.http,
        max_streams: transport.max_streams,
        connect_timeout: transport.connect_timeout,
        tls: transport.tls,
        connect_budgets: transport.connect_budgets,
        cookies: cookies?,
    })
}

/// `redact = ["x-session", …]`: header names (case-insensitive) whose values are secrets.
fn read_redact(p: &mut Problems, value: &Value<'_>) -> Option<Vec<HeaderName>> {
    let example = "redact = [\"x-session\"]";
    let DeValue::Array(items) = value.get_ref() else {
        walk::wrong_type(
            p,
            "redact",
            value,
            "a list of header names",
            format!("write a list: {example}"),
        );
        return None;
    };
    let mut names = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items.iter() {
        let Some(text) = walk::string(p, "redact", item, "[\"x-session\"]") else {
            complete = false;
            continue;
        };
        match HeaderName::from_bytes(text.as_bytes()) {
            Ok(name) => names.push(name),
            Err(_) => {
                p.push(
                    Problem::new(
                        ProblemKind::InvalidHeader,
                        item.span(),
                        format!("`{text}` is not a valid header name"),
                    )
                    .label("invalid header name")
                    .help(format!(
                        "`redact` lists the names of headers whose values are secrets, e.g. \
                         {example}"
                    )),
                );
                complete = false;
            }
        }
    }
    complete.then_some(names)
}

/// Checks a base URL: http or https, a host, no query or fragment (they would be silently
/// dropped when endpoint paths are joined on). Also used for `--host`.
pub(crate) fn parse_base_url(text: &str) -> Result<url::Url, (String, String)> {
    let example = "\"http://localhost:8003\"";
    if !text.contains("://") {
        return Err((
            format!("`{text}` has no scheme"),
            format!(
                "write the scheme: \"http://{}\"",
                text.trim_start_matches('/')
            ),
        ));
    }
    let url = url::Url::parse(text).map_err(|e| {
        (
            format!("`{text}` is not a valid URL: {e}"),
            format!("write a URL with a scheme and a host, e.g. {example}"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((
            format!("unsupported scheme `{}` in `{text}`", url.scheme()),
            format!("use http:// or https://, e.g. {example}"),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err((
            format!("`{text}` has no host"),
            format!("write a host after the scheme, e.g. {example}"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err((
            format!("`{text}` has a query or fragment"),
            "remove it from base_url; put query strings in each endpoint's `path`".to_string(),
        ));
    }
    Ok(url)
}

fn read_endpoints(p: &mut Problems, root: &DeTable<'_>) -> Option<Vec<EndpointSpec>> {
    let example = "[[endpoint]]\nname = \"/health\"\nbudget = { p95 = \"200ms\" }";
    let Some(value) = root.get("endpoint") else {
        walk::missing(
            p,
            root,
            0..0,
            TOP_KEYS,
            "endpoint",
            "the sla file",
            format!("add at least one endpoint:\n{example}"),
        );
        return None;
    };
    let items = match value.get_ref() {
        DeValue::Array(items) => items,
        DeValue::Table(_) => {
            walk::wrong_type(
                p,
                "endpoint",
                value,
                "an array of tables",
                "write [[endpoint]] with double brackets, once per endpoint",
            );
            return None;
        }
        _ => {
            walk::wrong_type(
                p,
                "endpoint",
                value,
                "an array of tables",
                format!("write one table per endpoint:\n{example}"),
            );
            return None;
        }
    };
    if items.is_empty() {
        p.push(
            Problem::new(
                ProblemKind::MissingKey,
                value.span(),
                "there are no endpoints to test",
            )
            .label("empty")
            .help(format!("add at least one endpoint:\n{example}")),
        );
        return None;
    }

    let mut endpoints = Vec::with_capacity(items.len());
    let mut first_seen: HashMap<&str, Range<usize>> = HashMap::new();
    let mut complete = true;
    for item in items.iter() {
        // Duplicates are looked for before the endpoint is read, so that a mistake elsewhere
        // in either endpoint does not hide them.
        if let Some((name, span)) = plain_name(item) {
            match first_seen.get(name) {
                Some(first) => {
                    p.push(
                        Problem::new(
                            ProblemKind::DuplicateEndpoint,
                            span,
                            format!("endpoint name {name:?} is used twice"),
                        )
                        .label("second use")
                        .also(first.clone(), "first use")
                        .help(
                            "names label the result rows and must be unique: rename one, and \
                             set `path` if both test the same URL",
                        ),
                    );
                    complete = false;
                }
                None => {
                    first_seen.insert(name, span);
                }
            }
        }
        match read_endpoint(p, item) {
            Some(endpoint) => endpoints.push(endpoint),
            None => complete = false,
        }
    }
    complete.then_some(endpoints)
}

/// An endpoint's name if it is written as a string (`read_endpoint` reports it otherwise).
fn plain_name<'a>(item: &'a Value<'_>) -> Option<(&'a str, Range<usize>)> {
    let DeValue::Table(table) = item.get_ref() else {
        return None;
    };
    let value = table.get("name")?;
    match value.get_ref() {
        DeValue::String(s) => Some((s.as_ref(), value.span())),
        _ => None,
    }
}

fn read_endpoint(p: &mut Problems, item: &Value<'_>) -> Option<EndpointSpec> {
    let table = walk::table(
        p,
        "endpoint",
        item,
        "write each endpoint as an [[endpoint]] table",
    )?;
    let place = "[[endpoint]]";
    walk::check_keys_hinted(p, table, ENDPOINT_KEYS, place, misplaced);

    let name = match table.get("name") {
        None => {
            walk::missing(
                p,
                table,
                item.span(),
                ENDPOINT_KEYS,
                "name",
                place,
                "give the endpoint a unique name, e.g. its path: name = \"/health\"",
            );
            None
        }
        Some(v) => match walk::string(p, "name", v, "\"/health\"") {
            Some("") => {
                p.push(
                    Problem::new(ProblemKind::OutOfRange, v.span(), "`name` is empty")
                        .label("empty name")
                        .help("give the endpoint a unique name, e.g. its path: name = \"/health\""),
                );
                None
            }
            Some(s) => Some(Spanned::new(v.span(), s.to_string())),
            None => None,
        },
    };
    let method = match table.get("method") {
        None => Some(Method::GET),
        Some(v) => {
            walk::string(p, "method", v, "\"GET\"").and_then(|text| match parse_method(text) {
                Ok(m) => Some(m),
                Err((message, help)) => {
                    p.push(
                        Problem::new(ProblemKind::InvalidMethod, v.span(), message)
                            .label("not a valid method")
                            .help(help),
                    );
                    None
                }
            })
        }
    };
    let path = match (table.get("path"), &name) {
        (Some(v), _) => walk::string(p, "path", v, "\"/health\"")
            .and_then(|text| check_path(p, text, v.span(), false)),
        (None, Some(name)) => check_path(p, name.get_ref(), name.span(), true),
        (None, None) => None,
    };
    let weight =
        match table.get("weight") {
            None => Some(1),
            Some(v) => {
                walk::integer(p, "weight", v, "1").and_then(|n| {
                    if (1..=MAX_WEIGHT).contains(&n) {
                        u32::try_from(n).ok()
                    } else {
                        p.push(
                    Problem::new(
                        ProblemKind::OutOfRange,
                        v.span(),
                        format!("`weight` = {n} is out of range"),
                    )
                    .label(if n < 1 { "must be at least 1" } else { "too large" })
                    .help(format!(
                        "weights are relative shares: a whole number from 1 to {MAX_WEIGHT}; \
                         remove the endpoint to stop testing it"
                    )),
                );
                        None
                    }
                })
            }
        };
    let budgets = match table.get("budget") {
        None => {
            walk::missing(
                p,
                table,
                item.span(),
                ENDPOINT_KEYS,
                "budget",
                place,
                "every endpoint needs a latency budget, e.g. budget = { p95 = \"200ms\", max = \"1s\" }",
            );
            None
        }
        Some(v) => read_budget(
            p,
            "budget",
            v,
            "budget = { p50 = \"100ms\", p95 = \"200ms\", max = \"1s\" }",
        ),
    };
    let expect_status = match table.get("expect_status") {
        None => Some(None),
        Some(v) => read_statuses(p, v).map(Some),
    };
    let headers = match table.get("headers") {
        None => Some(HeaderMap::new()),
        Some(v) => read_headers(p, v),
    };
    let body = match (table.get_key_value("json"), table.get_key_value("body")) {
        (Some((json_key, json)), Some((body_key, _))) => {
            p.push(
                Problem::new(
                    ProblemKind::Conflict,
                    body_key.span(),
                    "an endpoint can have `json` or `body`, not both",
                )
                .label("`body` here")
                .also(json_key.span(), "`json` here")
                .help("keep `json` for a JSON body, or `body` for raw text, and remove the other"),
            );
            walk::to_json(p, json);
            None
        }
        (Some((_, json)), None) => walk::to_json(p, json).map(Body::Json),
        (None, Some((_, text))) => {
            walk::string(p, "body", text, "\"raw text\"").map(|s| Body::Text(s.to_string()))
        }
        (None, None) => Some(Body::Empty),
    };
    let captures = match table.get("capture") {
        None => Some(Vec::new()),
        Some(v) => super::flow::read_captures(p, v),
    };

    Some(EndpointSpec {
        name: name?,
        method: method?,
        path: path?,
        weight: weight?,
        budgets: budgets?,
        expect_status: expect_status?,
        headers: headers?,
        body: body?,
        captures: captures?,
        span: item.span(),
    })
}

fn parse_method(text: &str) -> Result<Method, (String, String)> {
    let methods = METHODS.join(", ");
    if METHODS.contains(&text) {
        return Method::from_bytes(text.as_bytes()).map_err(|_| {
            (
                format!("`{text}` is not an HTTP method"),
                format!("use one of {methods}"),
            )
        });
    }
    let upper = text.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        return Err((
            format!("method `{text}` is not upper case"),
            format!("HTTP methods are case-sensitive: write method = \"{upper}\""),
        ));
    }
    let help = match walk::did_you_mean(text, METHODS) {
        Some(m) => format!("did you mean `{m}`? slagate sends {methods}"),
        None => format!("slagate sends {methods}"),
    };
    Err((format!("`{text}` is not a method slagate can send"), help))
}

/// An endpoint path (with an optional query): starts with `/`, and is valid in a request line.
/// `from_name` says the path was defaulted from `name`, which changes what to suggest.
fn check_path(p: &mut Problems, text: &str, span: Range<usize>, from_name: bool) -> Option<String> {
    let problem = if !text.starts_with('/') {
        Some((
            format!("path `{text}` does not start with `/`"),
            if from_name {
                format!(
                    "the path defaults to the name; set it: path = \"/{}\"",
                    text.trim_start_matches('/')
                )
            } else {
                format!("write path = \"/{text}\"")
            },
        ))
    } else if let Err(message) = super::flow::split_template(text) {
        p.push(
            Problem::new(ProblemKind::InvalidTemplate, span, message)
                .label("in this path")
                .help(
                    "a captured value is written {{name}}, with the name of a capture of an \
                     earlier step of the flow",
                ),
        );
        return None;
    } else if text.contains('#')
        || http::uri::PathAndQuery::from_str(&super::flow::blank_references(text)).is_err()
    {
        Some((
            format!("path `{text}` is not valid in a request"),
            "percent-encode spaces and special characters (a space is %20), and leave out any \
             #fragment"
                .to_string(),
        ))
    } else {
        None
    };
    match problem {
        None => Some(text.to_string()),
        Some((message, help)) => {
            p.push(
                Problem::new(ProblemKind::InvalidPath, span, message)
                    .label("not a request path")
                    .help(help),
            );
            None
        }
    }
}

/// A table of latency limits (`budget`, `connect_budget`): `max` and `pN` keys, each a duration
/// above zero, non-decreasing as the metric rises. `example` is a whole `key = {…}` line.
pub(super) fn read_budget(
    p: &mut Problems,
    key: &str,
    value: &Value<'_>,
    example: &str,
) -> Option<Vec<BudgetSpec>> {
    let table = walk::table(p, key, value, format!("write {example}").as_str())?;
    if table.is_empty() {
        p.push(
            Problem::new(
                ProblemKind::MissingKey,
                value.span(),
                format!("`{key}` has no limits"),
            )
            .label("empty budget")
            .help(format!("give at least one limit: {example}")),
        );
        return None;
    }
    let mut entries: Vec<BudgetEntry> = Vec::new();
    let mut complete = true;
    for (key, v) in table.iter() {
        let key_text = key.get_ref().as_ref();
        if let DeValue::Table(decimals) = v.get_ref()
            && unquoted_decimal(p, key, decimals)
        {
            complete = false;
            continue;
        }
        let metric = match parse_budget_key(key_text) {
            Ok(m) => Some(m),
            Err((message, label, help)) => {
                p.push(
                    Problem::new(ProblemKind::InvalidBudgetKey, key.span(), message)
                        .label(label)
                        .help(help),
                );
                None
            }
        };
        let limit = positive_duration(p, key_text, v, "\"200ms\"");
        match (metric, limit) {
            (Some(metric), Some(limit)) => entries.push(BudgetEntry {
                metric,
                key: key_text.to_string(),
                limit: Spanned::new(v.span(), limit),
                written: match v.get_ref() {
                    DeValue::String(s) => s.trim().to_string(),
                    _ => String::new(),
                },
            }),
            _ => complete = false,
        }
    }
    complete &= check_budget_order(p, &entries);
    complete.then(|| {
        entries
            .into_iter()
            .map(|e| BudgetSpec {
                metric: e.metric,
                limit: e.limit,
            })
            .collect()
    })
}

/// `p99.9 = "…"` unquoted is, to TOML, key `9` in a table `p99`. Reports each such key with
/// the fix (quotes) and returns whether this was that mistake.
fn unquoted_decimal(p: &mut Problems, key: &Spanned<DeString<'_>>, decimals: &DeTable<'_>) -> bool {
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let whole = key.get_ref().as_ref();
    let looks_decimal = whole.strip_prefix('p').is_some_and(is_digits)
        && !decimals.is_empty()
        && decimals.iter().all(|(k, _)| is_digits(k.get_ref()));
    if !looks_decimal {
        return false;
    }
    for (fraction, v) in decimals.iter() {
        let written = format!("{whole}.{}", fraction.get_ref());
        let value = match v.get_ref() {
            DeValue::String(s) => format!("\"{s}\""),
            _ => "\"100ms\"".to_string(),
        };
        p.push(
            Problem::new(
                ProblemKind::InvalidBudgetKey,
                key.span().start..fraction.span().end,
                format!("budget key `{written}` must be quoted"),
            )
            .label(format!(
                "TOML reads this as key `{}` of a table `{whole}`",
                fraction.get_ref()
            ))
            .help(format!("write the key in quotes: \"{written}\" = {value}")),
        );
    }
    true
}

/// One well-formed budget entry, with the texts needed to talk about it.
struct BudgetEntry {
    metric: BudgetMetric,
    key: String,
    limit: Spanned<Duration>,
    written: String,
}

impl BudgetEntry {
    /// Where the metric sits among the others: its quantile, max counting as 1.
    fn rank(&self) -> f64 {
        match self.metric {
            BudgetMetric::Percentile { quantile } => quantile,
            BudgetMetric::Max => 1.0,
        }
    }
}

/// `max`, or `pN` with 0 < N < 100 written as digits with an optional decimal part.
fn parse_budget_key(key: &str) -> Result<BudgetMetric, (String, String, String)> {
    let general = "budget keys are `max` and `pN` with 0 < N < 100, e.g. `p50`, `p95`, `p99.9`";
    if key == "max" {
        return Ok(BudgetMetric::Max);
    }
    let not_a_key = |help: String| {
        (
            format!("`{key}` is not a budget key"),
            "unknown budget key".to_string(),
            help,
        )
    };
    let Some(number) = key.strip_prefix('p').or_else(|| key.strip_prefix('P')) else {
        let help = match walk::did_you_mean(key, &["max", "p50", "p90", "p95", "p99"]) {
            Some(s) => format!("did you mean `{s}`? {general}"),
            None => general.to_string(),
        };
        return Err(not_a_key(help));
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (number, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(not_a_key(general.to_string()));
    }
    if key.starts_with('P') {
        return Err(not_a_key(format!("write it in lower case: `p{number}`")));
    }
    let percent: f64 = number.parse().map_err(|_| not_a_key(general.to_string()))?;
    let quantile = percent / 100.0;
    if percent >= 100.0 {
        return Err((
            format!("budget key `{key}` is out of range"),
            "percentile out of range".to_string(),
            "percentiles are pN with 0 < N < 100; for the slowest response write `max`".to_string(),
        ));
    }
    // Checking the quantile too catches a percent so small that dividing it by 100 gives 0.
    if percent <= 0.0 || quantile <= 0.0 {
        return Err((
            format!("budget key `{key}` is out of range"),
            "percentile out of range".to_string(),
            "percentiles are pN with 0 < N < 100, e.g. `p50` for the median".to_string(),
        ));
    }
    Ok(BudgetMetric::Percentile { quantile })
}

/// Limits must not fall as the percentile rises (max counting as the highest), and no
/// percentile may appear twice (`p99` and `p99.0`). Returns whether all is well.
fn check_budget_order(p: &mut Problems, entries: &[BudgetEntry]) -> bool {
    let mut sorted: Vec<&BudgetEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.rank().total_cmp(&b.rank()));
    let mut ok = true;
    for pair in sorted.windows(2) {
        let [lo, hi] = pair else {
            continue;
        };
        let (lo_key, hi_key) = (&lo.key, &hi.key);
        if lo.rank() == hi.rank() {
            p.push(
                Problem::new(
                    ProblemKind::DuplicateKey,
                    hi.limit.span(),
                    format!("`{lo_key}` and `{hi_key}` are the same percentile"),
                )
                .label(format!("{hi_key} here"))
                .also(lo.limit.span(), format!("{lo_key} here"))
                .help("keep one limit per percentile"),
            );
            ok = false;
        } else if hi.limit.get_ref() < lo.limit.get_ref() {
            let why = if matches!(hi.metric, BudgetMetric::Max) {
                format!("the slowest response cannot be faster than {lo_key}")
            } else {
                "a higher percentile cannot be faster than a lower one".to_string()
            };
            let (lo_text, hi_text) = (&lo.written, &hi.written);
            p.push(
                Problem::new(
                    ProblemKind::BudgetOrder,
                    hi.limit.span(),
                    format!(
                        "budget `{hi_key}` = \"{hi_text}\" is below `{lo_key}` = \"{lo_text}\""
                    ),
                )
                .label(format!("{hi_key} is {hi_text}"))
                .also(lo.limit.span(), format!("{lo_key} is {lo_text}"))
                .help(format!(
                    "{why}: raise `{hi_key}` to at least {lo_text}, or lower `{lo_key}`"
                )),
            );
            ok = false;
        }
    }
    ok
}

fn read_statuses(p: &mut Problems, value: &Value<'_>) -> Option<Vec<u16>> {
    let DeValue::Array(items) = value.get_ref() else {
        let help = match value.get_ref() {
            DeValue::Integer(i) => format!("write a list: expect_status = [{i}]"),
            _ => "write a list of status codes: expect_status = [200, 201]".to_string(),
        };
        walk::wrong_type(p, "expect_status", value, "a list of status codes", help);
        return None;
    };
    if items.is_empty() {
        p.push(
            Problem::new(
                ProblemKind::OutOfRange,
                value.span(),
                "`expect_status` is empty, so no response could succeed",
            )
            .label("empty list")
            .help("list the codes that count as success, or remove the key to accept any 2xx"),
        );
        return None;
    }
    let mut codes = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items.iter() {
        match walk::integer(p, "expect_status", item, "200") {
            Some(n) if (100..=599).contains(&n) => codes.extend(u16::try_from(n).ok()),
            Some(n) => {
                p.push(
                    Problem::new(
                        ProblemKind::InvalidStatus,
                        item.span(),
                        format!("{n} is not an HTTP status code"),
                    )
                    .label("not in 100..=599")
                    .help("status codes run from 100 to 599, e.g. 200, 201, 204"),
                );
                complete = false;
            }
            None => complete = false,
        }
    }
    complete.then_some(codes)
}

/// A table of header name → string value; names are case-insensitive, so `Accept` and
/// `accept` in one table are the same header given twice.
pub(crate) fn read_headers(p: &mut Problems, value: &Value<'_>) -> Option<HeaderMap> {
    let table = walk::table(
        p,
        "headers",
        value,
        "write headers = { accept = \"application/json\" }",
    )?;
    let mut map = HeaderMap::new();
    let mut seen: HashMap<HeaderName, Range<usize>> = HashMap::new();
    let mut complete = true;
    for (key, v) in table.iter() {
        let name = match HeaderName::from_bytes(key.get_ref().as_bytes()) {
            Ok(name) => Some(name),
            Err(_) => {
                p.push(
                    Problem::new(
                        ProblemKind::InvalidHeader,
                        key.span(),
                        format!("`{}` is not a valid header name", key.get_ref()),
                    )
                    .label("invalid header name")
                    .help(
                        "header names are letters, digits and - (no spaces or colons), \
                         e.g. \"x-request-id\"",
                    ),
                );
                None
            }
        };
        let header_value = walk::string(p, key.get_ref(), v, "\"value\"").and_then(|text| {
            match HeaderValue::from_str(text) {
                Ok(hv) => Some(hv),
                Err(_) => {
                    p.push(
                        Problem::new(
                            ProblemKind::InvalidHeader,
                            v.span(),
                            format!("invalid value for header `{}`", key.get_ref()),
                        )
                        .label("invalid header value")
                        .help("header values are visible ASCII text: no line breaks or control characters"),
                    );
                    None
                }
            }
        });
        let (Some(name), Some(header_value)) = (name, header_value) else {
            complete = false;
            continue;
        };
        if let Some(first) = seen.get(&name) {
            p.push(
                Problem::new(
                    ProblemKind::DuplicateKey,
                    key.span(),
                    format!("header `{name}` is set twice"),
                )
                .label("second")
                .also(first.clone(), "first")
                .help("header names are case-insensitive: keep one of them"),
            );
            complete = false;
            continue;
        }
        seen.insert(name.clone(), key.span());
        map.insert(name, header_value);
    }
    complete.then_some(map)
}

fn read_levels(p: &mut Problems, root: &DeTable<'_>) -> Option<Vec<LevelSpec>> {
    let example = "[level.medium]\nmin_rps = 40\nmax_error_rate = \"0.5%\"";
    let Some(value) = root.get("level") else {
        return Some(Vec::new());
    };
    let table = walk::table(
        p,
        "level",
        value,
        &format!("write one table per load level:\n{example}"),
    )?;
    let mut levels = Vec::with_capacity(table.len());
    let mut complete = true;
    for (name, v) in table.iter() {
        let place = format!("[level.{}]", name.get_ref());
        let Some(limits) = walk::table(
            p,
            &place,
            v,
            &format!("write the level as a table:\n{example}"),
        ) else {
            complete = false;
            continue;
        };
        walk::check_keys(p, limits, LEVEL_KEYS, &place);
        let min_rps = match limits.get("min_rps") {
            None => Some(None),
            Some(v) => walk::number(p, "min_rps", v, "40").and_then(|n| {
                if n > 0.0 {
                    Some(Some(Spanned::new(v.span(), n)))
                } else {
                    p.push(
                        Problem::new(
                            ProblemKind::OutOfRange,
                            v.span(),
                            format!("`min_rps` = {n} is not above 0"),
                        )
                        .label("must be > 0")
                        .help("write the requests per second the level must reach, e.g. min_rps = 40; remove the key for no throughput check"),
                    );
                    None
                }
            }),
        };
        let max_error_rate = match limits.get("max_error_rate") {
            None => Some(None),
            Some(v) => {
                walk::percentage(p, "max_error_rate", v).map(|f| Some(Spanned::new(v.span(), f)))
            }
        };
        let window = match limits.get("window") {
            None => Some(None),
            Some(v) => positive_duration(p, "window", v, "\"30s\"")
                .map(|d| Some(Spanned::new(v.span(), d))),
        };
        let abort_when = match limits.get("abort_when") {
            None => Some(None),
            Some(v) => read_abort_when(p, v, &format!("abort_when of {place}")).map(Some),
        };
        let budgets = match limits.get("budgets") {
            None => Some(None),
            Some(v) => read_level_budgets(p, v).map(|b| Some(Spanned::new(v.span(), b))),
        };
        match (min_rps, max_error_rate, window, abort_when, budgets) {
            (
                Some(min_rps),
                Some(max_error_rate),
                Some(window),
                Some(abort_when),
                Some(budgets),
            ) => levels.push(LevelSpec {
                name: Spanned::new(name.span(), name.get_ref().to_string()),
                min_rps,
                max_error_rate,
                window,
                abort_when,
                budgets,
            }),
            _ => complete = false,
        }
    }
    complete.then_some(levels)
}

/// `budgets = ["p50", "max"]`: the budget keys a level judges (the others are left to longer
/// profiles). Each is a budget key as in `budget = { … }`; an empty list judges none.
fn read_level_budgets(p: &mut Problems, value: &Value<'_>) -> Option<Vec<BudgetMetric>> {
    let DeValue::Array(items) = value.get_ref() else {
        walk::wrong_type(
            p,
            "budgets",
            value,
            "a list of budget keys",
            "write the budget keys this level judges: budgets = [\"p50\", \"max\"]".to_string(),
        );
        return None;
    };
    let mut metrics = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items.iter() {
        let DeValue::String(key) = item.get_ref() else {
            walk::wrong_type(
                p,
                "budgets",
                item,
                "a budget key",
                "write each budget key in double quotes: budgets = [\"p50\", \"max\"]",
            );
            complete = false;
            continue;
        };
        match parse_budget_key(key) {
            Ok(m) => metrics.push(m),
            Err((message, label, help)) => {
                p.push(
                    Problem::new(ProblemKind::InvalidBudgetKey, item.span(), message)
                        .label(label)
                        .help(help),
                );
                complete = false;
            }
        }
    }
    complete.then_some(metrics)
}

/// `{ error_rate = "50%", for = "10s" }`, both required; `place` names it in messages.
fn read_abort_when(p: &mut Problems, value: &Value<'_>, place: &str) -> Option<AbortWhenSpec> {
    let table = walk::table(
        p,
        "abort_when",
        value,
        &format!("write the rule as a table: {ABORT_EXAMPLE}"),
    )?;
    walk::check_keys(p, table, ABORT_KEYS, place);
    let error_rate = match table.get("error_rate") {
        None => {
            walk::missing(
                p,
                table,
                value.span(),
                ABORT_KEYS,
                "error_rate",
                place,
                format!("say which error rate stops the run: {ABORT_EXAMPLE}"),
            );
            None
        }
        Some(v) => walk::percentage(p, "error_rate", v).and_then(|f| {
            if f > 0.0 {
                Some(Spanned::new(v.span(), f))
            } else {
                p.push(
                    Problem::new(
                        ProblemKind::OutOfRange,
                        v.span(),
                        "`error_rate` = 0% would stop every run",
                    )
                    .label("must be above 0%")
                    .help(format!(
                        "any error rate is at or above 0%: write the rate at which the run is \
                         not worth finishing, e.g. {ABORT_EXAMPLE}; remove abort_when to always \
                         run to the end"
                    )),
                );
                None
            }
        }),
    };
    let sustained = match table.get("for") {
        None => {
            walk::missing(
                p,
                table,
                value.span(),
                ABORT_KEYS,
                "for",
                place,
                format!("say how long the error rate must last: {ABORT_EXAMPLE}"),
            );
            None
        }
        Some(v) => positive_duration(p, "for", v, "\"10s\"").map(|d| Spanned::new(v.span(), d)),
    };
    Some(AbortWhenSpec {
        error_rate: error_rate?,
        sustained: sustained?,
        span: value.span(),
    })
}

/// A duration that must be above zero (a zero timeout or budget can never be met).
pub(crate) fn positive_duration(
    p: &mut Problems,
    key: &str,
    value: &Value<'_>,
    example: &str,
) -> Option<Duration> {
    let d = walk::duration(p, key, value)?;
    if d.is_zero() {
        p.push(
            Problem::new(
                ProblemKind::OutOfRange,
                value.span(),
                format!("`{key}` is zero"),
            )
            .label("must be above 0")
            .help(format!(
                "a zero duration can never be met: write {key} = {example}"
            )),
        );
        return None;
    }
    Some(d)
}
