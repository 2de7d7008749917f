//! State a flow carries from one request to the next: a user's (open model: a session's)
//! captured values and cookie jar, and the requests built from them.
//!
//! Templates are split once, when the run starts (`Pieces`). A user's values live in buffers
//! it owns; a capture that finds the value it already holds changes nothing, and a request is
//! rebuilt only when a value it uses (or the cookie jar) changed since it was last built, so a
//! flow whose token stays the same sends without allocating for it.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

use crate::plan::{CaptureSource, Piece, Secrets, split_template};

/// What a path value may hold unescaped: RFC 3986's unreserved characters.
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How long a request built with cookies is reused before the jar is read again, so that a
/// cookie that expires is no longer sent (within this).
const COOKIE_REREAD: Duration = Duration::from_secs(1);

/// A string with `{{name}}` references, split once.
#[derive(Debug, Clone)]
pub(crate) struct Pieces(Vec<Part>);

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Var(usize),
}

/// Where a value goes, which decides how it is written there.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Context {
    /// Percent-encoded, so an id with a `/` or a space stays one path segment.
    Path,
    /// Control characters dropped (they cannot be in a header value).
    Header,
    /// Inside a JSON string: escaped as JSON.
    Json,
    /// As it is.
    Raw,
}

impl Pieces {
    /// `None` when the text has no reference. `vars` are the plan's capture names.
    pub(crate) fn split(text: &str, vars: &[String]) -> Result<Option<Pieces>, String> {
        let pieces = split_template(text)?;
        if !pieces.iter().any(|p| matches!(p, Piece::Var(_))) {
            return Ok(None);
        }
        let parts = pieces
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => Ok(Part::Text(t.to_string())),
                Piece::Var(name) => vars
                    .iter()
                    .position(|v| v == name)
                    .map(Part::Var)
                    .ok_or_else(|| format!("`{{{{{name}}}}}` is captured by no endpoint")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Pieces(parts)))
    }

    fn render(&self, values: &Values, cx: Context, out: &mut Vec<u8>) {
        for part in &self.0 {
            match part {
                Part::Text(t) => out.extend_from_slice(t.as_bytes()),
                Part::Var(i) => {
                    let v = values.get(*i);
                    match cx {
                        Context::Path => {
                            for chunk in percent_encode(v, PATH_VALUE) {
                                out.extend_from_slice(chunk.as_bytes());
                            }
                        }
                        Context::Header => {
                            out.extend(v.iter().filter(|b| **b == b'\t' || !b.is_ascii_control()))
                        }
                        Context::Json => {
                            let text = String::from_utf8_lossy(v);
                            // A JSON string always serialises with its two quotes.
                            let quoted = serde_json::to_string(text.as_ref())
                                .unwrap_or_else(|_| "\"\"".into());
                            out.extend_from_slice(&quoted.as_bytes()[1..quoted.len() - 1]);
                        }
                        Context::Raw => out.extend_from_slice(v),
                    }
                }
            }
        }
    }
}

/// The parts of an endpoint's request that hold references.
#[derive(Debug, Clone, Default)]
pub(crate) struct Templated {
    pub(crate) path: Option<Pieces>,
    pub(crate) headers: Vec<(HeaderName, Pieces, bool)>,
    pub(crate) body: Option<(Pieces, Context)>,
}

impl Templated {
    pub(crate) fn is_empty(&self) -> bool {
        self.path.is_none() && self.headers.is_empty() && self.body.is_none()
    }
}

/// A user's captured values: one buffer per capture name of the plan.
#[derive(Debug, Default)]
pub(crate) struct Values {
    values: Vec<Vec<u8>>,
    set: Vec<bool>,
    /// Bumped whenever a value changes (or all are cleared): a built request is current while
    /// its generation is.
    generation: u64,
}

impl Values {
    pub(crate) fn new(vars: usize) -> Values {
        Values {
            values: vec![Vec::new(); vars],
            set: vec![false; vars],
            generation: 1,
        }
    }

    fn get(&self, i: usize) -> &[u8] {
        self.values.get(i).map_or(&[], |v| v.as_slice())
    }

    /// Store `value` for `var`; a value equal to the one held changes nothing.
    pub(crate) fn store(&mut self, var: usize, value: &[u8]) {
        let Some(slot) = self.values.get_mut(var) else {
            return;
        };
        if self.set[var] && slot.as_slice() == value {
            return;
        }
        slot.clear();
        slot.extend_from_slice(value);
        self.set[var] = true;
        self.generation += 1;
    }

    pub(crate) fn clear(&mut self) {
        for (v, set) in self.values.iter_mut().zip(&mut self.set) {
            v.clear();
            *set = false;
        }
        self.generation += 1;
    }

    /// `secrets` with every value held added (values of four characters or more: a status
    /// code or a small id is not hidden everywhere it appears).
    fn add_to(&self, secrets: &mut Secrets) {
        for (v, set) in self.values.iter().zip(&self.set) {
            if *set {
                secrets.add(&String::from_utf8_lossy(v));
            }
        }
    }
}

/// An endpoint's request as built for one user: current while `generation` is the user's.
pub(crate) struct Built {
    pub(crate) uri_h1: Uri,
    pub(crate) uri_h2: Uri,
    pub(crate) headers_h1: HeaderMap,
    pub(crate) headers_h2: HeaderMap,
    pub(crate) body: Bytes,
    /// The URL the cookie jar matches (scheme, host, path).
    pub(crate) url: url::Url,
    generation: (u64, u64),
    at: Instant,
}

/// What a flow's user carries: captured values, cookies, whether its `once` steps are done
/// (per flow), and the requests built from them (per endpoint).
pub(crate) struct Session {
    pub(crate) values: Values,
    pub(crate) jar: Option<Jar>,
    /// Per flow: its `once` steps have succeeded for this user.
    pub(crate) ready: Vec<bool>,
    built: Vec<Option<Built>>,
    /// The body of the last answer a capture reads (reused, so it is allocated once).
    pub(crate) body: Vec<u8>,
}

impl Session {
    pub(crate) fn new(vars: usize, flows: usize, endpoints: usize, cookies: bool) -> Session {
        Session {
            values: Values::new(vars),
            jar: cookies.then(Jar::default),
            ready: vec![false; flows],
            built: (0..endpoints).map(|_| None).collect(),
            body: Vec::new(),
        }
    }

    /// Start over: the user's values and cookies are forgotten, and every flow's `once` steps
    /// run again (the values are the user's, shared by its flows).
    pub(crate) fn reset(&mut self) {
        self.ready.iter_mut().for_each(|r| *r = false);
        self.values.clear();
        if let Some(jar) = &mut self.jar {
            jar.clear();
        }
    }

    /// The request for endpoint `i` as this user sends it, built again only if what it is
    /// made of changed (`None`: the endpoint's template is sent as it is), and the buffer a
    /// capture reads the answer's body into.
    pub(crate) fn prepare(
        &mut self,
        i: usize,
        template: &super::client::Template,
        now: Instant,
    ) -> (Option<&Built>, &mut Vec<u8>) {
        let jar_generation = self.jar.as_ref().map(|j| j.generation);
        if template.templated.is_empty() && jar_generation.is_none() {
            return (None, &mut self.body);
        }
        let generation = (self.values.generation, jar_generation.unwrap_or(0));
        let stale = match &self.built[i] {
            None => true,
            Some(b) => {
                b.generation != generation
                    || (jar_generation.is_some() && now.duration_since(b.at) >= COOKIE_REREAD)
            }
        };
        if stale {
            let built = template.build(&self.values, self.jar.as_ref(), generation, now);
            self.built[i] = Some(built);
        }
        (self.built[i].as_ref(), &mut self.body)
    }

    /// Keep the `Set-Cookie`s of an answer to endpoint `i`, matched against the URL this user
    /// last sent it to.
    pub(crate) fn store_cookies(
        &mut self,
        i: usize,
        template: &super::client::Template,
        headers: &HeaderMap,
    ) {
        let Some(jar) = &mut self.jar else {
            return;
        };
        let url = self
            .built
            .get(i)
            .and_then(Option::as_ref)
            .map_or(&template.url, |b| &b.url);
        jar.store(headers, url);
    }

    /// `secrets` and everything this user holds that may be secret: its captured values and
    /// its cookies' values.
    pub(crate) fn secrets(&self, secrets: &Secrets) -> Secrets {
        let mut s = secrets.clone();
        self.values.add_to(&mut s);
        if let Some(jar) = &self.jar {
            for c in jar.store.iter_any() {
                s.add_always(c.value());
            }
        }
        s
    }
}

/// What a user's weighted pick chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Choice {
    /// An endpoint no flow names, by index.
    Endpoint(usize),
    /// A flow, by index: one iteration of it.
    Flow(usize),
}

/// A flow's endpoints, by index.
#[derive(Debug, Clone)]
pub(crate) struct FlowSteps {
    pub(crate) once: Vec<usize>,
    pub(crate) steps: Vec<usize>,
}

/// Where a user is in one iteration of a flow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Iteration {
    pub(crate) flow: usize,
    once: bool,
    pos: usize,
    /// The response times of the steps sent so far, added up.
    pub(crate) latency: Duration,
}

/// What came of a step.
pub(crate) enum Next {
    Step(Iteration),
    /// The iteration is over: passed, or failed at endpoint `.1` with kind `.0`.
    Done(Option<(crate::stats::FailureKind, usize)>, Duration),
}

impl Iteration {
    /// A new iteration of `flow`: its `once` steps first when this user has not done them.
    pub(crate) fn start(flow: usize, flows: &[FlowSteps], session: &Session) -> Iteration {
        let once = !session.ready[flow] && !flows[flow].once.is_empty();
        Iteration {
            flow,
            once,
            pos: 0,
            latency: Duration::ZERO,
        }
    }

    /// The endpoint this step sends.
    pub(crate) fn endpoint(&self, flows: &[FlowSteps]) -> usize {
        let f = &flows[self.flow];
        if self.once {
            f.once[self.pos]
        } else {
            f.steps[self.pos]
        }
    }

    /// Move on after a step that took `latency` and failed with `failure` (if it did). A
    /// failure ends the iteration; when it may have left the user without what later steps
    /// need (a `once` step failed, a capture found nothing, or a step that captures failed),
    /// the user's values are forgotten and its next iteration starts from `once`.
    pub(crate) fn advance(
        mut self,
        flows: &[FlowSteps],
        captures: bool,
        failure: Option<crate::stats::FailureKind>,
        latency: Option<Duration>,
        session: &mut Session,
    ) -> Next {
        let endpoint = self.endpoint(flows);
        self.latency += latency.unwrap_or_default();
        if let Some(kind) = failure {
            if self.once || captures || kind == crate::stats::FailureKind::Capture {
                session.reset();
            }
            return Next::Done(Some((kind, endpoint)), self.latency);
        }
        let f = &flows[self.flow];
        self.pos += 1;
        if self.once && self.pos == f.once.len() {
            session.ready[self.flow] = true;
            self.once = false;
            self.pos = 0;
        }
        if !self.once && self.pos == f.steps.len() {
            return Next::Done(None, self.latency);
        }
        Next::Step(self)
    }
}

/// A user's cookies (RFC 6265 through `cookie_store`: domain, path, expiry, Max-Age).
#[derive(Default)]
pub(crate) struct Jar {
    store: cookie_store::CookieStore,
    generation: u64,
}

impl Jar {
    /// Keep the `Set-Cookie`s of an answer to a request for `url`.
    pub(crate) fn store(&mut self, headers: &HeaderMap, url: &url::Url) {
        let mut any = false;
        let cookies = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| cookie_store::RawCookie::parse(v.to_string()).ok())
            .inspect(|_| any = true);
        self.store.store_response_cookies(cookies, url);
        if any {
            self.generation += 1;
        }
    }

    fn clear(&mut self) {
        self.store.clear();
        self.generation += 1;
    }

    /// The `Cookie` header for a request to `url`, if any cookie matches.
    pub(crate) fn header(&self, url: &url::Url) -> Option<HeaderValue> {
        let mut text = String::new();
        for (name, value) in self.store.get_request_values(url) {
            if !text.is_empty() {
                text.push_str("; ");
            }
            text.push_str(name);
            text.push('=');
            text.push_str(value);
        }
        if text.is_empty() {
            return None;
        }
        let mut v = HeaderValue::from_str(&text).ok()?;
        v.set_sensitive(true);
        Some(v)
    }
}

/// The value a capture takes from an answer; `None`: nothing found. A JSON string is its text,
/// any other JSON value its JSON; `null` is nothing.
pub(crate) fn extract<'a>(
    source: &CaptureSource,
    status: u16,
    headers: Option<&'a HeaderMap>,
    body: &'a [u8],
    digits: &'a mut [u8; 3],
    scratch: &'a mut String,
) -> Option<&'a [u8]> {
    match source {
        CaptureSource::Json { path, .. } => {
            let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
            let node = path.query(&doc).first()?;
            *scratch = match node {
                serde_json::Value::Null => return None,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(scratch.as_bytes())
        }
        CaptureSource::Header(name) => headers?.get(name).map(|v| v.as_bytes()),
        CaptureSource::Regex(re) => {
            let caps = re.captures(body)?;
            caps.get(1).or_else(|| caps.get(0)).map(|m| m.as_bytes())
        }
        CaptureSource::Status => {
            let s = status.min(999);
            *digits = [
                b'0' + (s / 100) as u8,
                b'0' + (s / 10 % 10) as u8,
                b'0' + (s % 10) as u8,
            ];
            Some(&digits[..])
        }
    }
}

/// What a capture's source needs kept of an answer.
pub(crate) fn needs_body(source: &CaptureSource) -> bool {
    matches!(source, CaptureSource::Json { .. } | CaptureSource::Regex(_))
}

impl super::client::Template {
    /// This endpoint's request with `values` written in and the jar's cookies added.
    pub(crate) fn build(
        &self,
        values: &Values,
        jar: Option<&Jar>,
        generation: (u64, u64),
        now: Instant,
    ) -> Built {
        let mut buf = Vec::new();
        let path = match &self.templated.path {
            Some(p) => {
                p.render(values, Context::Path, &mut buf);
                String::from_utf8_lossy(&buf).into_owned()
            }
            None => self.uri_h1.to_string(),
        };
        let uri_h1: Uri = path.parse().unwrap_or_else(|_| self.uri_h1.clone());
        let uri_h2: Uri = format!("{}{path}", self.origin)
            .parse()
            .unwrap_or_else(|_| self.uri_h2.clone());
        let url =
            url::Url::parse(&format!("{}{path}", self.origin)).unwrap_or_else(|_| self.url.clone());
        let mut headers_h1 = self.headers_h1.clone();
        let mut headers_h2 = self.headers_h2.clone();
        for (name, pieces, sensitive) in &self.templated.headers {
            buf.clear();
            pieces.render(values, Context::Header, &mut buf);
            if let Ok(mut v) = HeaderValue::from_bytes(&buf) {
                v.set_sensitive(*sensitive);
                headers_h1.insert(name.clone(), v.clone());
                headers_h2.insert(name.clone(), v);
            }
        }
        let body = match &self.templated.body {
            Some((pieces, cx)) => {
                buf.clear();
                pieces.render(values, *cx, &mut buf);
                let body = Bytes::from(buf);
                let len = HeaderValue::from(body.len());
                headers_h1.insert(header::CONTENT_LENGTH, len.clone());
                headers_h2.insert(header::CONTENT_LENGTH, len);
                body
            }
            None => self.body.clone(),
        };
        if let Some(cookie) = jar.and_then(|j| j.header(&url)) {
            headers_h1.insert(header::COOKIE, cookie.clone());
            headers_h2.insert(header::COOKIE, cookie);
        }
        Built {
            uri_h1,
            uri_h2,
            headers_h1,
            headers_h2,
            body,
            url,
            generation,
            at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vec<String> {
        vec!["token".into(), "id".into()]
    }

    #[test]
    fn values_render_in_their_context() {
        let p = Pieces::split("/a/{{id}}/{{token}}", &vars())
            .unwrap()
            .unwrap();
        let mut v = Values::new(2);
        v.store(0, b"t\"k");
        v.store(1, b"4 2/x");
        let mut out = Vec::new();
        p.render(&v, Context::Path, &mut out);
        assert_eq!(out, b"/a/4%202%2Fx/t%22k");
        out.clear();
        p.render(&v, Context::Json, &mut out);
        assert_eq!(out, b"/a/4 2/x/t\\\"k");
        assert!(Pieces::split("/plain", &vars()).unwrap().is_none());
        assert!(Pieces::split("{{nope}}", &vars()).is_err());
    }

    #[test]
    fn storing_the_same_value_keeps_the_generation() {
        let mut v = Values::new(2);
        v.store(0, b"abc");
        let g = v.generation;
        v.store(0, b"abc");
        assert_eq!(v.generation, g, "an unchanged value rebuilds nothing");
        v.store(0, b"abd");
        assert_ne!(v.generation, g);
    }

    fn endpoint(path: &str, auth: &str) -> crate::plan::Endpoint {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        crate::plan::Endpoint {
            name: "e".into(),
            method: http::Method::GET,
            path_and_query: path.into(),
            headers,
            body: Bytes::new(),
            weight: 1,
            expect_status: crate::plan::StatusSet::Success,
            budgets: Vec::new(),
            captures: Vec::new(),
            in_flow: true,
            location: crate::plan::Location::default(),
        }
    }

    #[test]
    fn a_request_is_rebuilt_only_when_a_value_it_uses_changes() {
        let host = HeaderValue::from_static("h");
        let ep = endpoint("/a/{{id}}", "Bearer {{token}}");
        let t = super::super::client::Template::new(&ep, &host, "http://h", &vars()).unwrap();
        let mut s = Session::new(2, 1, 1, false);
        s.values.store(0, b"tok");
        s.values.store(1, b"7");
        let now = Instant::now();
        let first = s.prepare(0, &t, now).0.map(|b| b as *const Built).unwrap();
        s.values.store(0, b"tok"); // the same token captured again
        let again = s.prepare(0, &t, now).0.unwrap();
        assert!(
            std::ptr::eq(first, again),
            "an unchanged value rebuilds nothing"
        );
        assert_eq!(again.uri_h1.to_string(), "/a/7");
        assert_eq!(again.headers_h1[header::AUTHORIZATION], "Bearer tok");
        s.values.store(1, b"8");
        let rebuilt = s.prepare(0, &t, now).0.unwrap();
        assert_eq!(rebuilt.uri_h1.to_string(), "/a/8");
        assert_eq!(rebuilt.uri_h2.to_string(), "http://h/a/8");
        // An endpoint without references and no jar is sent from its template as it is.
        let plain = endpoint("/plain", "Bearer x");
        let t = super::super::client::Template::new(&plain, &host, "http://h", &vars()).unwrap();
        assert!(s.prepare(0, &t, now).0.is_none());
    }

    #[test]
    fn captures_take_json_header_regex_and_status() {
        let body = br#"{"access_token":"tok-1","n":42,"gone":null,"items":[{"id":"a"}]}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("rid-9"));
        let json = |path: &str| CaptureSource::Json {
            path: serde_json_path::JsonPath::parse(path).unwrap(),
            written: path.into(),
        };
        let run = |source: &CaptureSource| {
            let (mut d, mut s) = ([0u8; 3], String::new());
            extract(source, 201, Some(&headers), body, &mut d, &mut s).map(<[u8]>::to_vec)
        };
        assert_eq!(run(&json("$.access_token")).unwrap(), b"tok-1");
        assert_eq!(run(&json("$.n")).unwrap(), b"42");
        assert_eq!(run(&json("$.items[0].id")).unwrap(), b"a");
        assert_eq!(run(&json("$.gone")), None, "null is nothing found");
        assert_eq!(run(&json("$.acess_token")), None);
        let header = CaptureSource::Header(HeaderName::from_static("x-request-id"));
        assert_eq!(run(&header).unwrap(), b"rid-9");
        let re = CaptureSource::Regex(regex::bytes::Regex::new(r#""n":(\d+)"#).unwrap());
        assert_eq!(run(&re).unwrap(), b"42");
        assert_eq!(run(&CaptureSource::Status).unwrap(), b"201");
    }

    #[test]
    fn the_jar_keeps_path_scoped_cookies_and_forgets_expired_ones() {
        let mut jar = Jar::default();
        let url = url::Url::parse("http://127.0.0.1:8080/v1/session").unwrap();
        let mut h = HeaderMap::new();
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("sid=abc; Path=/v1"),
        );
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("admin=1; Path=/admin"),
        );
        h.append(
            header::SET_COOKIE,
            HeaderValue::from_static("old=x; Max-Age=0"),
        );
        jar.store(&h, &url);
        let at = |p: &str| {
            jar.header(&url::Url::parse(&format!("http://127.0.0.1:8080{p}")).unwrap())
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(at("/v1/profile").as_deref(), Some("sid=abc"));
        assert_eq!(at("/other"), None, "path-scoped");
        assert!(at("/admin/x").unwrap().contains("admin=1"));
        let other_host = url::Url::parse("http://example.com/v1/x").unwrap();
        assert_eq!(jar.header(&other_host), None, "host-only cookie");
    }
}
