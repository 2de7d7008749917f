//! `[target]`'s transport keys: `http`, `max_streams`, `connect_timeout`, `tls` (inline or a
//! `[target.tls]` table) and `connect_budget`. The PEM files `tls` names are read here, relative
//! to the sla file's folder, and checked (see `pem.rs`), so that an unreadable file or a key
//! that does not match its certificate is reported with the file's other mistakes.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use rustls::pki_types::ServerName;
use toml::de::{DeTable, DeValue};

use super::error::{Problem, ProblemKind, Problems};
use super::pem::{self, PemError};
use super::sla::{positive_duration, read_budget};
use super::walk::{self, Value};
use super::{BudgetSpec, HttpSpec, IdentitySpec, TlsSpec};

const TLS_KEYS: &[&str] = &["ca", "cert", "key", "insecure", "server_name"];
const TLS_PLACE: &str = "[target] tls";
const TLS_EXAMPLE: &str = "tls = { ca = \"certs/ca.pem\" }";
const HTTP_VALUES: &[&str] = &["1.1", "2", "auto"];

/// Most HTTP/2 streams per connection: far above what servers allow (commonly 100 to 1000),
/// and low enough that a typo of a few zeros is caught.
const MAX_STREAMS: u32 = 10_000;

pub(super) struct Transport {
    pub(super) http: HttpSpec,
    pub(super) max_streams: Option<u32>,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) tls: Option<TlsSpec>,
    pub(super) connect_budgets: Vec<BudgetSpec>,
}

/// Reads the transport keys of the `[target]` table. `base_url` is the parsed base URL and its
/// span, when it parsed: TLS settings on an http:// URL are refused. `dir` is the sla file's
/// folder, which the paths in `tls` are relative to.
pub(super) fn read(
    p: &mut Problems,
    target: &DeTable<'_>,
    base_url: Option<(&url::Url, Range<usize>)>,
    dir: &Path,
) -> Option<Transport> {
    let http = match target.get("http") {
        None => Some(HttpSpec::Auto),
        Some(v) => read_http(p, v),
    };
    let max_streams = match target.get("max_streams") {
        None => Some(None),
        Some(v) => read_max_streams(p, v).map(Some),
    };
    let connect_timeout = match target.get("connect_timeout") {
        None => Some(None),
        Some(v) => positive_duration(p, "connect_timeout", v, "\"3s\"").map(Some),
    };
    let tls = match target.get_key_value("tls") {
        None => Some(None),
        Some((key, v)) => {
            if let Some((url, url_span)) = &base_url
                && url.scheme() == "http"
            {
                p.push(
                    Problem::new(
                        ProblemKind::Conflict,
                        key.span(),
                        "`tls` is set, but the base URL is http://",
                    )
                    .label("TLS settings")
                    .also(url_span.clone(), "an http:// target")
                    .help(
                        "TLS applies to https:// targets only: write base_url = \"https://…\", \
                         or remove `tls` (over http://, `http = \"2\"` speaks h2c without TLS)",
                    ),
                );
            }
            read_tls(p, v, dir).map(Some)
        }
    };
    let connect_budgets = match target.get("connect_budget") {
        None => Some(Vec::new()),
        Some(v) => read_budget(
            p,
            "connect_budget",
            v,
            "connect_budget = { p99 = \"50ms\", max = \"200ms\" }",
        ),
    };
    Some(Transport {
        http: http?,
        max_streams: max_streams?,
        connect_timeout: connect_timeout?,
        tls: tls?,
        connect_budgets: connect_budgets?,
    })
}

/// `http = "1.1" | "2" | "auto"`.
fn read_http(p: &mut Problems, value: &Value<'_>) -> Option<HttpSpec> {
    let text = match value.get_ref() {
        DeValue::String(s) => s.as_ref(),
        DeValue::Integer(_) | DeValue::Float(_) => {
            let written = walk::value_text(value);
            let quoted = http_alias(&written).unwrap_or("2");
            walk::wrong_type(
                p,
                "http",
                value,
                "a string",
                format!("write the version in quotes: http = \"{quoted}\""),
            );
            return None;
        }
        _ => {
            walk::wrong_type(
                p,
                "http",
                value,
                "a string",
                "write http = \"1.1\", \"2\" or \"auto\"",
            );
            return None;
        }
    };
    match text {
        "auto" => return Some(HttpSpec::Auto),
        "1.1" => return Some(HttpSpec::Http1),
        "2" => return Some(HttpSpec::Http2),
        _ => {}
    }
    let choices = "\"2\" is HTTP/2 only (by ALPN over TLS, h2c on http://), \"1.1\" is \
                   HTTP/1.1 only, \"auto\" (the default) offers both over TLS and lets the \
                   server choose";
    let help = match http_alias(text).or_else(|| walk::did_you_mean(text, HTTP_VALUES)) {
        Some(s) => format!("did you mean http = \"{s}\"? {choices}"),
        None => format!("write http = \"1.1\", \"2\" or \"auto\": {choices}"),
    };
    p.push(
        Problem::new(
            ProblemKind::InvalidHttpVersion,
            value.span(),
            format!("`http` = \"{text}\" is not one of \"1.1\", \"2\", \"auto\""),
        )
        .label("unknown HTTP version")
        .help(help),
    );
    None
}

/// The value meant by a common other spelling of an HTTP version (`h2`, `HTTP/1.1`, `1.0`).
fn http_alias(text: &str) -> Option<&'static str> {
    let lower = text.trim().to_ascii_lowercase();
    let bare = lower
        .strip_prefix("http/")
        .or_else(|| lower.strip_prefix("http"))
        .unwrap_or(&lower);
    match bare {
        "auto" => Some("auto"),
        "2" | "2.0" | "h2" | "h2c" => Some("2"),
        "1" | "1.0" | "1.1" | "h1" | "11" => Some("1.1"),
        _ => None,
    }
}

fn read_max_streams(p: &mut Problems, value: &Value<'_>) -> Option<u32> {
    let n = walk::integer(p, "max_streams", value, "100")?;
    if let Ok(streams) = u32::try_from(n)
        && (1..=MAX_STREAMS).contains(&streams)
    {
        return Some(streams);
    }
    p.push(
        Problem::new(
            ProblemKind::OutOfRange,
            value.span(),
            format!("`max_streams` = {n} is out of range"),
        )
        .label(if n < 1 {
            "must be at least 1"
        } else {
            "too large"
        })
        .help(format!(
            "the most HTTP/2 streams (users) one connection carries: a whole number from 1 to \
             {MAX_STREAMS}; servers commonly allow 100, the default"
        )),
    );
    None
}

/// The `tls` table, its files read and checked.
fn read_tls(p: &mut Problems, value: &Value<'_>, dir: &Path) -> Option<TlsSpec> {
    let table = walk::table(
        p,
        "tls",
        value,
        &format!("write {TLS_EXAMPLE}, or a [target.tls] table"),
    )?;
    let before = p.len();
    walk::check_keys(p, table, TLS_KEYS, TLS_PLACE);

    let mut ca = Vec::new();
    if let Some(v) = table.get("ca") {
        for item in paths(p, "ca", v) {
            let Some((written, span)) = item else {
                continue;
            };
            if let Some(mut certificates) =
                place(p, span, pem::read_certificates(&dir.join(written), "ca"))
            {
                ca.append(&mut certificates);
            }
        }
    }
    let cert = table.get("cert").and_then(|v| {
        let written = walk::string(p, "cert", v, "\"certs/client.pem\"")?;
        let path = dir.join(written);
        let chain = place(p, v.span(), pem::read_certificates(&path, "cert"))?;
        Some((chain, path, v.span()))
    });
    let key = table.get("key").and_then(|v| {
        let written = walk::string(p, "key", v, "\"certs/client.key\"")?;
        let path = dir.join(written);
        let key = place(p, v.span(), pem::read_private_key(&path))?;
        Some((key, path, v.span()))
    });
    let insecure = match table.get("insecure") {
        None => false,
        Some(v) => walk::boolean(p, "insecure", v).unwrap_or(false),
    };
    let server_name = table
        .get("server_name")
        .and_then(|v| read_server_name(p, v));

    match (table.get("cert"), table.get("key")) {
        (Some(cert), None) => {
            p.push(
                Problem::new(
                    ProblemKind::MissingKey,
                    cert.span(),
                    "`tls` has a `cert` but no `key`",
                )
                .label("a certificate without its key")
                .help(
                    "a client certificate is presented with its private key: add \
                     key = \"certs/client.key\", or remove `cert`",
                ),
            );
        }
        (None, Some(key)) => {
            p.push(
                Problem::new(
                    ProblemKind::MissingKey,
                    key.span(),
                    "`tls` has a `key` but no `cert`",
                )
                .label("a key without its certificate")
                .help(
                    "a private key is presented with its certificate: add \
                     cert = \"certs/client.pem\", or remove `key`",
                ),
            );
        }
        _ => {}
    }
    let identity = match (cert, key) {
        (Some((chain, cert_path, cert_span)), Some((key, key_path, key_span))) => {
            match pem::check_key_matches(&chain, &key, &cert_path, &key_path) {
                Ok(()) => Some(IdentitySpec {
                    chain,
                    key,
                    cert_path,
                }),
                Err(e) => {
                    p.push(problem(key_span, e).also(cert_span, "`cert` here"));
                    None
                }
            }
        }
        _ => None,
    };
    if insecure
        && let (Some((_, v)), Some((_, ca_value))) =
            (table.get_key_value("insecure"), table.get_key_value("ca"))
    {
        p.push(
            Problem::new(
                ProblemKind::Conflict,
                v.span(),
                "`insecure = true` and `ca` contradict each other",
            )
            .label("accepts any certificate")
            .also(ca_value.span(), "so `ca` would never be used")
            .help(
                "remove `insecure` to verify the server against `ca`, or remove `ca` to accept \
                 any certificate (every report then says the certificate was not verified)",
            ),
        );
    }
    (p.len() == before).then_some(TlsSpec {
        ca,
        identity,
        insecure,
        server_name,
    })
}

/// `ca`: one path or a list of paths, each with its span (`None` for an item that is not a
/// string, already reported).
fn paths<'a>(
    p: &mut Problems,
    key: &str,
    value: &'a Value<'_>,
) -> Vec<Option<(&'a str, Range<usize>)>> {
    let example = "\"certs/ca.pem\"";
    match value.get_ref() {
        DeValue::String(s) => vec![Some((s.as_ref(), value.span()))],
        DeValue::Array(items) if items.is_empty() => {
            p.push(
                Problem::new(
                    ProblemKind::OutOfRange,
                    value.span(),
                    format!("`{key}` is an empty list"),
                )
                .label("no files")
                .help(format!(
                    "name the PEM files of the authorities to trust: {key} = [{example}], or \
                     remove `{key}` to trust the platform's roots only"
                )),
            );
            Vec::new()
        }
        DeValue::Array(items) => items
            .iter()
            .map(|item| walk::string(p, key, item, example).map(|s| (s, item.span())))
            .collect(),
        _ => {
            walk::wrong_type(
                p,
                key,
                value,
                "a path or a list of paths",
                format!("write {key} = {example} or {key} = [{example}, \"certs/other.pem\"]"),
            );
            Vec::new()
        }
    }
}

fn read_server_name(p: &mut Problems, value: &Value<'_>) -> Option<String> {
    let text = walk::string(p, "server_name", value, "\"api.internal\"")?;
    if ServerName::try_from(text).is_ok() {
        return Some(text.to_string());
    }
    // A URL where a name belongs: suggest its host.
    let host = url::Url::parse(text)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .filter(|h| ServerName::try_from(h.as_str()).is_ok());
    let help = match host {
        Some(host) => format!("write the host alone: server_name = \"{host}\""),
        None => "write the name the server's certificate is issued for, without scheme, port \
                 or path: server_name = \"api.internal\""
            .to_string(),
    };
    p.push(
        Problem::new(
            ProblemKind::InvalidServerName,
            value.span(),
            format!("`server_name` = \"{text}\" is not a DNS name or an IP address"),
        )
        .label("not a server name")
        .help(help),
    );
    None
}

/// The value of a PEM read, or its error recorded at `span`.
fn place<T>(p: &mut Problems, span: Range<usize>, read: Result<T, PemError>) -> Option<T> {
    read.map_err(|e| p.push(problem(span, e))).ok()
}

fn problem(span: Range<usize>, e: PemError) -> Problem {
    Problem::new(e.kind, span, e.message)
        .label(e.label)
        .help(e.help)
}
