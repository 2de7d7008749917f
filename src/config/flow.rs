//! Flows (`[[flow]]`), captures (`capture = { token = { json = "$.access_token" } }`) and the
//! `{{name}}` references that carry a captured value into a later request. Everything that can
//! be checked without sending is checked here: JSONPath and regex syntax, header names, that
//! each step names an endpoint, and that every `{{name}}` is captured by an earlier step of
//! every flow that sends it.

use std::collections::HashMap;
use std::ops::Range;

use http::HeaderName;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Problem, ProblemKind, Problems};
use super::walk::{self, Value};
use super::{Body, BudgetSpec, EndpointSpec};

const FLOW_KEYS: &[&str] = &["name", "weight", "once", "steps", "budget"];
const CAPTURE_KINDS: &[&str] = &["json", "header", "regex", "status"];
const CAPTURE_EXAMPLE: &str = "capture = { token = { json = \"$.access_token\" } }";
const FLOW_EXAMPLE: &str =
    "[[flow]]\nname = \"shopper\"\nonce = [\"login\"]\nsteps = [\"profile\", \"orders\"]";

/// `[[flow]]`: a user's sequence of endpoints.
#[derive(Debug, Clone)]
pub struct FlowSpec {
    pub name: Spanned<String>,
    /// Share of the users' choices, beside the free endpoints' weights; default 1.
    pub weight: u32,
    /// Endpoint names run once per user (again after a failure), before the steps.
    pub once: Vec<Spanned<String>>,
    /// Endpoint names repeated in order; at least one.
    pub steps: Vec<Spanned<String>>,
    /// Budgets on the iteration time (the steps' response times added up); may be empty.
    pub budgets: Vec<BudgetSpec>,
    pub span: Range<usize>,
}

/// One `name = { json = "…" }` of an endpoint's `capture`.
#[derive(Debug, Clone)]
pub struct CaptureSpec {
    /// What `{{name}}` refers to.
    pub name: Spanned<String>,
    pub source: CaptureSource,
}

/// Where a captured value is taken from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// The first node a JSONPath query selects in the JSON body (a string as its text, any
    /// other value as its JSON); `null` and no node are "nothing found".
    Json {
        path: serde_json_path::JsonPath,
        written: String,
    },
    /// The first value of a response header.
    Header(HeaderName),
    /// The first group of the first match in the body (the whole match when it has no group).
    Regex(regex::bytes::Regex),
    /// The response's status code, as digits.
    Status,
}

impl CaptureSource {
    /// How the capture is written, for messages: `json $.access_token`.
    pub fn describe(&self) -> String {
        match self {
            CaptureSource::Json { written, .. } => format!("json {written}"),
            CaptureSource::Header(h) => format!("header {h}"),
            CaptureSource::Regex(r) => format!("regex {}", r.as_str()),
            CaptureSource::Status => "status".into(),
        }
    }
}

/// A piece of a string that may hold `{{name}}` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Var(&'a str),
}

/// Splits `text` at its `{{name}}` references (spaces inside the braces are allowed). A `{{`
/// that does not open a well-formed reference is an error naming it.
pub fn split_template(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(format!("`{{{{` without a closing `}}}}` in {text:?}"));
        };
        let name = after[..close].trim();
        if !is_name(name) {
            return Err(format!(
                "`{{{{{}}}}}` is not a reference: a name is letters, digits, `_` and `-`, \
                 starting with a letter or `_`",
                &after[..close]
            ));
        }
        pieces.push(Piece::Var(name));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// `text` with every `{{name}}` written as `x`: what is around the references, to check as a
/// path. A text with a malformed reference comes back as it is (the reference is reported on
/// its own).
pub fn blank_references(text: &str) -> String {
    match split_template(text) {
        Ok(pieces) => pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => *t,
                Piece::Var(_) => "x",
            })
            .collect(),
        Err(_) => text.to_string(),
    }
}

/// Capture names: what `{{name}}` may hold.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Every string of an endpoint's request that may hold references: the path, each header
/// value, the body.
pub(crate) fn request_texts(e: &EndpointSpec) -> Vec<String> {
    let mut texts = vec![e.path.clone()];
    for value in e.headers.values() {
        texts.push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    match &e.body {
        Body::Empty => {}
        Body::Json(v) => texts.push(v.to_string()),
        Body::Text(t) => texts.push(t.clone()),
    }
    texts
}

/// The names an endpoint's request refers to, in order, each once; malformed references are
/// reported at the endpoint.
fn references(p: &mut Problems, e: &EndpointSpec) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for text in request_texts(e) {
        match split_template(&text) {
            Ok(pieces) => {
                for piece in pieces {
                    if let Piece::Var(n) = piece
                        && !names.iter().any(|m| m == n)
                    {
                        names.push(n.to_string());
                    }
                }
            }
            Err(message) => p.push(
                Problem::new(ProblemKind::InvalidTemplate, e.span.clone(), message)
                    .label("in this endpoint")
                    .help(
                        "a captured value is written {{name}}, with the name of a capture of an \
                         earlier step of the flow",
                    ),
            ),
        }
    }
    names
}

/// `capture = { NAME = { json = "$.x" } | { header = "h" } | { regex = "id=(\\d+)" } |
/// { status = true }, … }`.
pub(crate) fn read_captures(p: &mut Problems, value: &Value<'_>) -> Option<Vec<CaptureSpec>> {
    let table = walk::table(p, "capture", value, &format!("write {CAPTURE_EXAMPLE}"))?;
    let mut captures = Vec::with_capacity(table.len());
    let mut complete = true;
    for (key, v) in table.iter() {
        let name = key.get_ref().to_string();
        if !is_name(&name) {
            p.push(
                Problem::new(
                    ProblemKind::InvalidTemplate,
                    key.span(),
                    format!("`{name}` cannot be a capture name"),
                )
                .label("not a name")
                .help("capture names are letters, digits, `_` and `-`, starting with a letter"),
            );
            complete = false;
            continue;
        }
        match read_capture(p, &name, v) {
            Some(source) => captures.push(CaptureSpec {
                name: Spanned::new(key.span(), name),
                source,
            }),
            None => complete = false,
        }
    }
    complete.then_some(captures)
}

fn read_capture(p: &mut Problems, name: &str, value: &Value<'_>) -> Option<CaptureSource> {
    let example = format!("{name} = {{ json = \"$.{name}\" }}");
    let table = walk::table(p, name, value, &format!("write {example}"))?;
    walk::check_keys(p, table, CAPTURE_KINDS, &format!("capture `{name}`"));
    let given: Vec<_> = table
        .iter()
        .filter(|(k, _)| CAPTURE_KINDS.contains(&k.get_ref().as_ref()))
        .collect();
    let (key, v) = match given.as_slice() {
        [one] => *one,
        [] => {
            p.push(
                Problem::new(
                    ProblemKind::MissingKey,
                    value.span(),
                    format!("capture `{name}` says nowhere to take the value from"),
                )
                .label("empty capture")
                .help(format!(
                    "give one of json, header, regex or status: {example}"
                )),
            );
            return None;
        }
        [first, second, ..] => {
            p.push(
                Problem::new(
                    ProblemKind::Conflict,
                    second.0.span(),
                    format!("capture `{name}` takes its value from two places"),
                )
                .label("second source")
                .also(first.0.span(), "first source")
                .help("a capture has one of json, header, regex or status; keep one"),
            );
            return None;
        }
    };
    let bad = |p: &mut Problems, message: String, help: &str| {
        p.push(
            Problem::new(ProblemKind::InvalidCapture, v.span(), message)
                .label("not usable")
                .help(help.to_string()),
        );
    };
    match key.get_ref().as_ref() {
        "json" => {
            let text = walk::string(p, "json", v, "\"$.access_token\"")?;
            match serde_json_path::JsonPath::parse(text) {
                Ok(path) => Some(CaptureSource::Json {
                    path,
                    written: text.to_string(),
                }),
                Err(e) => {
                    bad(
                        p,
                        format!("`{text}` is not a JSONPath: {e}"),
                        "JSONPath as in RFC 9535, starting at the root `$`: \"$.access_token\", \
                         \"$.items[0].id\", \"$['key with spaces']\"",
                    );
                    None
                }
            }
        }
        "header" => {
            let text = walk::string(p, "header", v, "\"x-request-id\"")?;
            match HeaderName::from_bytes(text.as_bytes()) {
                Ok(h) => Some(CaptureSource::Header(h)),
                Err(_) => {
                    bad(
                        p,
                        format!("`{text}` is not a header name"),
                        "name the response header: header = \"x-request-id\"",
                    );
                    None
                }
            }
        }
        "regex" => {
            let text = walk::string(p, "regex", v, "\"id=(\\\\d+)\"")?;
            match regex::bytes::Regex::new(text) {
                Ok(r) => Some(CaptureSource::Regex(r)),
                Err(e) => {
                    bad(
                        p,
                        format!("`{text}` is not a regular expression: {e}"),
                        "the first group of the first match is captured: regex = \"id=(\\\\d+)\"",
                    );
                    None
                }
            }
        }
        _ => match walk::boolean(p, "status", v)? {
            true => Some(CaptureSource::Status),
            false => {
                bad(
                    p,
                    "`status = false` captures nothing".into(),
                    "write status = true to capture the status code, or remove the capture",
                );
                None
            }
        },
    }
}

/// `[[flow]]` tables, each read on its own; names unique.
pub(crate) fn read_flows(p: &mut Problems, root: &DeTable<'_>) -> Option<Vec<FlowSpec>> {
    let Some(value) = root.get("flow") else {
        return Some(Vec::new());
    };
    let DeValue::Array(items) = value.get_ref() else {
        walk::wrong_type(
            p,
            "flow",
            value,
            "an array of tables",
            format!("write one [[flow]] table per flow:\n{FLOW_EXAMPLE}"),
        );
        return None;
    };
    let mut flows: Vec<FlowSpec> = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items.iter() {
        match read_flow(p, item) {
            Some(flow) => {
                if let Some(first) = flows
                    .iter()
                    .find(|f| f.name.get_ref() == flow.name.get_ref())
                {
                    p.push(
                        Problem::new(
                            ProblemKind::DuplicateEndpoint,
                            flow.name.span(),
                            format!("flow name {:?} is used twice", flow.name.get_ref()),
                        )
                        .label("second use")
                        .also(first.name.span(), "first use")
                        .help("flow names label their result rows and must be unique"),
                    );
                    complete = false;
                }
                flows.push(flow);
            }
            None => complete = false,
        }
    }
    complete.then_some(flows)
}

fn read_flow(p: &mut Problems, item: &Value<'_>) -> Option<FlowSpec> {
    let table = walk::table(p, "flow", item, "write each flow as a [[flow]] table")?;
    let place = "[[flow]]";
    walk::check_keys(p, table, FLOW_KEYS, place);
    let name = match table.get("name") {
        None => {
            walk::missing(
                p,
                table,
                item.span(),
                FLOW_KEYS,
                "name",
                place,
                "give the flow a unique name: name = \"shopper\"",
            );
            None
        }
        Some(v) => match walk::string(p, "name", v, "\"shopper\"") {
            Some("") | None => {
                if matches!(v.get_ref(), DeValue::String(_)) {
                    p.push(
                        Problem::new(ProblemKind::OutOfRange, v.span(), "`name` is empty")
                            .label("empty name")
                            .help("give the flow a unique name: name = \"shopper\""),
                    );
                }
                None
            }
            Some(s) => Some(Spanned::new(v.span(), s.to_string())),
        },
    };
    let weight = match table.get("weight") {
        None => Some(1),
        Some(v) => walk::integer(p, "weight", v, "1").and_then(|n| {
            if (1..=super::sla::MAX_WEIGHT).contains(&n) {
                u32::try_from(n).ok()
            } else {
                p.push(
                    Problem::new(
                        ProblemKind::OutOfRange,
                        v.span(),
                        format!("`weight` = {n} is out of range"),
                    )
                    .label("must be 1 to 1000000")
                    .help("weights are relative shares, beside the free endpoints' weights"),
                );
                None
            }
        }),
    };
    let once = match table.get("once") {
        None => Some(Vec::new()),
        Some(v) => names(p, "once", v),
    };
    let steps = match table.get("steps") {
        None => {
            walk::missing(
                p,
                table,
                item.span(),
                FLOW_KEYS,
                "steps",
                place,
                "list the endpoints the flow repeats, in order: steps = [\"profile\", \"orders\"]",
            );
            None
        }
        Some(v) => names(p, "steps", v).and_then(|s| {
            if s.is_empty() {
                p.push(
                    Problem::new(ProblemKind::MissingKey, v.span(), "`steps` is empty")
                        .label("no steps")
                        .help(
                            "a flow repeats at least one endpoint: steps = [\"profile\"] (`once` \
                             steps run only at the start)",
                        ),
                );
                None
            } else {
                Some(s)
            }
        }),
    };
    let budgets = match table.get("budget") {
        None => Some(Vec::new()),
        Some(v) => super::sla::read_budget(p, "budget", v, "budget = { p95 = \"1s\" }"),
    };
    Some(FlowSpec {
        name: name?,
        weight: weight?,
        once: once?,
        steps: steps?,
        budgets: budgets?,
        span: item.span(),
    })
}

fn names(p: &mut Problems, key: &str, value: &Value<'_>) -> Option<Vec<Spanned<String>>> {
    let example = "[\"login\"]";
    let DeValue::Array(items) = value.get_ref() else {
        walk::wrong_type(
            p,
            key,
            value,
            "a list of endpoint names",
            format!("write {key} = {example}"),
        );
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut complete = true;
    for item in items.iter() {
        match walk::string(p, key, item, "\"login\"") {
            Some(s) => out.push(Spanned::new(item.span(), s.to_string())),
            None => complete = false,
        }
    }
    complete.then_some(out)
}

/// The rules between flows and endpoints: every step names an endpoint; every `{{name}}` an
/// endpoint sends is captured by an earlier step of each flow that sends it (a free endpoint,
/// which no flow sends, can use none); a capture name is not given by two steps of one flow
/// under different meanings (the later one simply replaces the value, which is allowed).
pub(crate) fn check(p: &mut Problems, endpoints: &[EndpointSpec], flows: &[FlowSpec]) {
    let by_name: HashMap<&str, &EndpointSpec> = endpoints
        .iter()
        .map(|e| (e.name.get_ref().as_str(), e))
        .collect();
    let mut refs: HashMap<&str, Vec<String>> = HashMap::new();
    for e in endpoints {
        refs.insert(e.name.get_ref().as_str(), references(p, e));
    }
    let endpoint_names: Vec<&str> = endpoints
        .iter()
        .map(|e| e.name.get_ref().as_str())
        .collect();
    let all_captures: Vec<&str> = endpoints
        .iter()
        .flat_map(|e| e.captures.iter().map(|c| c.name.get_ref().as_str()))
        .collect();
    let mut in_a_flow: Vec<&str> = Vec::new();
    for flow in flows {
        let mut captured: Vec<&str> = Vec::new();
        for step in flow.once.iter().chain(&flow.steps) {
            let Some(e) = by_name.get(step.get_ref().as_str()) else {
                let help = match walk::did_you_mean(step.get_ref(), &endpoint_names) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!(
                        "a step is the `name` of an [[endpoint]]: {}",
                        endpoint_names.join(", ")
                    ),
                };
                p.push(
                    Problem::new(
                        ProblemKind::UnknownStep,
                        step.span(),
                        format!(
                            "flow `{}` names no endpoint `{}`",
                            flow.name.get_ref(),
                            step.get_ref()
                        ),
                    )
                    .label("no such endpoint")
                    .help(help),
                );
                continue;
            };
            in_a_flow.push(e.name.get_ref());
            for name in &refs[e.name.get_ref().as_str()] {
                if !captured.contains(&name.as_str()) {
                    p.push(
                        Problem::new(
                            ProblemKind::UncapturedReference,
                            step.span(),
                            format!(
                                "`{}` sends {{{{{name}}}}}, but no earlier step of flow `{}` \
                                 captures `{name}`",
                                step.get_ref(),
                                flow.name.get_ref()
                            ),
                        )
                        .label("sent here")
                        .also(e.span.clone(), "the endpoint that uses it")
                        .help(match walk::did_you_mean(name, &all_captures) {
                            Some(m) if m != name => format!(
                                "did you mean {{{{{m}}}}}? (captured by another endpoint)"
                            ),
                            _ => format!(
                                "capture it in a step before this one, e.g. capture = {{ {name} \
                                 = {{ json = \"$.{name}\" }} }}, and list that step first (in \
                                 `once` for a value taken once per user)"
                            ),
                        }),
                    );
                }
            }
            for c in &e.captures {
                captured.push(c.name.get_ref());
            }
        }
    }
    for e in endpoints {
        let name = e.name.get_ref().as_str();
        if in_a_flow.contains(&name) {
            continue;
        }
        if let Some(first) = refs[name].first() {
            p.push(
                Problem::new(
                    ProblemKind::UncapturedReference,
                    e.span.clone(),
                    format!(
                        "endpoint `{name}` sends {{{{{first}}}}} but is in no flow, so nothing \
                         captures `{first}` for it"
                    ),
                )
                .label("a free endpoint")
                .help(format!(
                    "list `{name}` in a [[flow]]'s steps after the step that captures `{first}`:\n\
                     {FLOW_EXAMPLE}"
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_at_references_and_refuse_malformed_ones() {
        assert_eq!(
            split_template("/a/{{ id }}/b{{x}}").unwrap(),
            [
                Piece::Text("/a/"),
                Piece::Var("id"),
                Piece::Text("/b"),
                Piece::Var("x")
            ]
        );
        assert_eq!(split_template("plain").unwrap(), [Piece::Text("plain")]);
        assert_eq!(split_template("").unwrap(), []);
        assert!(split_template("Bearer {{token").is_err());
        assert!(split_template("{{1abc}}").is_err());
        assert!(split_template("{{a b}}").is_err());
    }
}
