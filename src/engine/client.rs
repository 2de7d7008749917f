//! One request on an established connection (HTTP/1.1 or HTTP/2), with failures classified by
//! kind. Connections are made in `transport`; this module never connects.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};

use super::flow::{Built, Context, Pieces, Templated, needs_body};
use super::transport::Sender;
use crate::plan::{Capture, Endpoint, StatusSet};
use crate::stats::FailureKind;

/// An endpoint's request, built once in both forms: HTTP/1.1 (path and a `Host` header) and
/// HTTP/2 (an absolute URI, whose authority hyper sends as `:authority`; no `Host`). Each
/// request clones the parts (reference-counted `Bytes` and `Uri`; the `HeaderMap` clone is the
/// one allocation hyper's by-value API forces on us).
pub(crate) struct Template {
    method: Method,
    pub(super) uri_h1: Uri,
    pub(super) headers_h1: HeaderMap,
    pub(super) uri_h2: Uri,
    pub(super) headers_h2: HeaderMap,
    pub(super) body: Bytes,
    pub(crate) expect: StatusSet,
    /// `scheme://authority` of the target.
    pub(super) origin: String,
    /// The request's URL, for the cookie jar.
    pub(super) url: url::Url,
    /// The parts with `{{name}}` references (empty for most endpoints).
    pub(super) templated: Templated,
    pub(super) captures: Vec<Capture>,
    /// A capture reads the body (json, regex).
    pub(super) needs_body: bool,
    /// A capture reads a response header.
    pub(super) needs_headers: bool,
}

impl Template {
    /// `origin` is `scheme://authority` of the target.
    pub(crate) fn new(
        ep: &Endpoint,
        host_header: &HeaderValue,
        origin: &str,
        vars: &[String],
    ) -> Result<Template, String> {
        let bad = |e: http::uri::InvalidUri| format!("endpoint `{}`: bad path: {e}", ep.name);
        let split = |text: &str| {
            Pieces::split(text, vars).map_err(|e| format!("endpoint `{}`: {e}", ep.name))
        };
        let path = split(&ep.path_and_query)?;
        // A templated path is checked with its references blank; what is sent is built per user.
        let literal = match &path {
            Some(_) => crate::plan::blank_references(&ep.path_and_query),
            None => ep.path_and_query.clone(),
        };
        let uri_h1: Uri = literal.parse().map_err(bad)?;
        let uri_h2: Uri = format!("{origin}{literal}").parse().map_err(bad)?;
        let url = url::Url::parse(&format!("{origin}{literal}"))
            .map_err(|e| format!("endpoint `{}`: bad URL: {e}", ep.name))?;
        let mut templated = Templated {
            path,
            ..Templated::default()
        };
        for (name, value) in &ep.headers {
            if let Some(p) = split(&String::from_utf8_lossy(value.as_bytes()))? {
                templated
                    .headers
                    .push((name.clone(), p, value.is_sensitive()));
            }
        }
        if let Some(p) = split(&String::from_utf8_lossy(&ep.body))? {
            let json = ep.headers.get(header::CONTENT_TYPE).is_some_and(|v| {
                v.as_bytes()
                    .windows(4)
                    .any(|w| w.eq_ignore_ascii_case(b"json"))
            });
            templated.body = Some((p, if json { Context::Json } else { Context::Raw }));
        }
        let mut headers = ep.headers.clone();
        if !ep.body.is_empty() || ep.method == Method::POST || ep.method == Method::PUT {
            headers
                .entry(header::CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(ep.body.len()));
        }
        // HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2): drop them there.
        let mut headers_h2 = headers.clone();
        for name in [
            header::HOST,
            header::CONNECTION,
            header::TRANSFER_ENCODING,
            header::UPGRADE,
            header::HeaderName::from_static("keep-alive"),
            header::HeaderName::from_static("proxy-connection"),
        ] {
            headers_h2.remove(name);
        }
        // hyper's low-level HTTP/1.1 client sends exactly the headers it is given: it requires
        // Host.
        headers
            .entry(header::HOST)
            .or_insert_with(|| host_header.clone());
        Ok(Template {
            method: ep.method.clone(),
            uri_h1,
            headers_h1: headers,
            uri_h2,
            headers_h2,
            body: ep.body.clone(),
            expect: ep.expect_status.clone(),
            origin: origin.to_string(),
            url,
            templated,
            needs_body: ep.captures.iter().any(|c| needs_body(&c.source)),
            needs_headers: ep
                .captures
                .iter()
                .any(|c| matches!(c.source, crate::plan::CaptureSource::Header(_))),
            captures: ep.captures.clone(),
        })
    }

    /// A copy that shares no reference count with this one: each worker thread clones its
    /// own copy's parts per request, so no atomic count is written by two cores (a cache line
    /// bouncing between them on every request).
    pub(crate) fn local_copy(&self) -> Template {
        let uri = |u: &Uri| u.to_string().parse::<Uri>().unwrap_or_else(|_| u.clone());
        let headers = |h: &HeaderMap| {
            let mut out = HeaderMap::with_capacity(h.len());
            for (name, value) in h {
                let name = header::HeaderName::from_bytes(name.as_str().as_bytes())
                    .unwrap_or_else(|_| name.clone());
                let mut copy =
                    HeaderValue::from_bytes(value.as_bytes()).unwrap_or_else(|_| value.clone());
                copy.set_sensitive(value.is_sensitive());
                out.append(name, copy);
            }
            out
        };
        Template {
            method: self.method.clone(),
            uri_h1: uri(&self.uri_h1),
            headers_h1: headers(&self.headers_h1),
            uri_h2: uri(&self.uri_h2),
            headers_h2: headers(&self.headers_h2),
            body: Bytes::copy_from_slice(&self.body),
            expect: self.expect.clone(),
            origin: self.origin.clone(),
            url: self.url.clone(),
            templated: self.templated.clone(),
            captures: self.captures.clone(),
            needs_body: self.needs_body,
            needs_headers: self.needs_headers,
        }
    }

    /// The request as sent: this template's parts, or those `built` for a user.
    fn request(&self, h2: bool, built: Option<&Built>) -> Request<Full<Bytes>> {
        let (uri_h1, uri_h2, headers_h1, headers_h2, body) = match built {
            Some(b) => (&b.uri_h1, &b.uri_h2, &b.headers_h1, &b.headers_h2, &b.body),
            None => (
                &self.uri_h1,
                &self.uri_h2,
                &self.headers_h1,
                &self.headers_h2,
                &self.body,
            ),
        };
        let mut req = Request::new(Full::new(body.clone()));
        *req.method_mut() = self.method.clone();
        if h2 {
            *req.uri_mut() = uri_h2.clone();
            *req.headers_mut() = headers_h2.clone();
        } else {
            *req.uri_mut() = uri_h1.clone();
            *req.headers_mut() = headers_h1.clone();
        }
        req
    }
}

/// A failed request: its kind, and the error for building an example message (only
/// formatted when the recorder asks for one).
pub(crate) struct Failure {
    pub(crate) kind: FailureKind,
    pub(crate) error: FailureDetail,
}

pub(crate) enum FailureDetail {
    Io(io::Error),
    Hyper(hyper::Error),
    /// Said in slagate's own words (a connect timeout).
    Text(String),
}

impl FailureDetail {
    pub(crate) fn describe(&self) -> String {
        let mut text = match self {
            FailureDetail::Io(e) => e.to_string(),
            FailureDetail::Hyper(e) => e.to_string(),
            FailureDetail::Text(t) => return t.clone(),
        };
        let mut source = match self {
            FailureDetail::Io(e) => std::error::Error::source(e),
            FailureDetail::Hyper(e) => std::error::Error::source(e),
            FailureDetail::Text(_) => None,
        };
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}

/// What a completed exchange produced.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body_bytes: u64,
    /// The first bytes of the body, kept only when asked (for a failure example).
    pub(crate) excerpt: Vec<u8>,
    /// Where a redirect points, kept only when asked: a 302 to a login page must say so.
    pub(crate) location: Option<String>,
    /// Whether the excerpt and location were asked for: an example is only made of a response
    /// whose body was kept for it.
    pub(crate) kept: bool,
    /// The response's headers, kept only when asked (a header capture, the cookie jar).
    pub(crate) headers: Option<HeaderMap>,
}

/// What a flow keeps of an answer besides its status and size.
#[derive(Default)]
pub(crate) struct Keep<'a> {
    /// The body, up to [`KEPT_BODY`] bytes (what a capture reads).
    pub(crate) body: Option<&'a mut Vec<u8>>,
    pub(crate) headers: bool,
}

/// The most of a body kept for a capture: a capture reads an answer that says who the user is,
/// not a download.
pub(crate) const KEPT_BODY: usize = 1 << 20;

const EXCERPT_BYTES: usize = 300;

/// Why an exchange ended before its response.
pub(crate) enum Unsent {
    /// The request was never written: the connection had closed (an idle keep-alive
    /// connection the server let go, a GOAWAY). Safe to send again on a new connection; not a
    /// failure of the service.
    Closed,
    /// It failed after it was written (or could have been): a failure of the request.
    Failed(Failure),
}

/// Send one request on an established connection and read the whole body. `want_excerpt`
/// says whether to keep the body's first bytes for a given status.
pub(crate) async fn exchange(
    sender: &mut Sender,
    template: &Template,
    built: Option<&Built>,
    want_excerpt: impl Fn(u16) -> bool,
    keep: Keep<'_>,
) -> Result<Response, Unsent> {
    let resp = match sender {
        Sender::H1(s) => {
            s.ready().await.map_err(|_| Unsent::Closed)?;
            match s.try_send_request(template.request(false, built)).await {
                Ok(resp) => resp,
                Err(e) => return Err(unsent(e)),
            }
        }
        Sender::H2(s) => {
            s.ready().await.map_err(|_| Unsent::Closed)?;
            match s.try_send_request(template.request(true, built)).await {
                Ok(resp) => resp,
                Err(e) => return Err(unsent(e)),
            }
        }
    };
    let status = resp.status().as_u16();
    let keep_excerpt = want_excerpt(status);
    let location = keep_excerpt
        .then(|| resp.headers().get(header::LOCATION))
        .flatten()
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(EXCERPT_BYTES)
                .collect()
        });
    let (parts, mut body) = resp.into_parts();
    let headers = keep.headers.then_some(parts.headers);
    let mut kept_body = keep.body;
    if let Some(b) = kept_body.as_deref_mut() {
        b.clear();
    }
    let mut body_bytes = 0u64;
    let mut excerpt = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Unsent::Failed(hyper_failure(e)))?;
        if let Some(data) = frame.data_ref() {
            body_bytes += data.len() as u64;
            if keep_excerpt && excerpt.len() < EXCERPT_BYTES {
                let take = (EXCERPT_BYTES - excerpt.len()).min(data.len());
                excerpt.extend_from_slice(&data[..take]);
            }
            if let Some(b) = kept_body.as_deref_mut()
                && b.len() < KEPT_BODY
            {
                let take = (KEPT_BODY - b.len()).min(data.len());
                b.extend_from_slice(&data[..take]);
            }
        }
    }
    Ok(Response {
        status,
        body_bytes,
        excerpt,
        location,
        kept: keep_excerpt,
        headers,
    })
}

/// A request hyper gave back was never written; one it did not was.
fn unsent<T>(mut e: hyper::client::conn::TrySendError<T>) -> Unsent {
    if e.take_message().is_some() {
        Unsent::Closed
    } else {
        Unsent::Failed(hyper_failure(e.into_error()))
    }
}

pub(crate) fn hyper_failure(e: hyper::Error) -> Failure {
    Failure {
        kind: classify_hyper(&e),
        error: FailureDetail::Hyper(e),
    }
}

pub(crate) fn classify_connect(e: &io::Error) -> FailureKind {
    if is_local_exhaustion(e) {
        return FailureKind::LocalResource;
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => FailureKind::ConnectRefused,
        io::ErrorKind::ConnectionReset => FailureKind::Reset,
        _ => FailureKind::Connect,
    }
}

/// Out of file descriptors or ephemeral ports: the generator's machine, not the target.
fn is_local_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::EADDRNOTAVAIL) | Some(libc::ENOBUFS)
    )
}

fn classify_io(e: &io::Error) -> FailureKind {
    if is_local_exhaustion(e) {
        return FailureKind::LocalResource;
    }
    if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        return FailureKind::Tls;
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => FailureKind::Reset,
        io::ErrorKind::UnexpectedEof => FailureKind::Closed,
        io::ErrorKind::TimedOut => FailureKind::Timeout,
        _ => FailureKind::Io,
    }
}

pub(crate) fn classify_hyper(e: &hyper::Error) -> FailureKind {
    // What lies underneath says most precisely what happened: an HTTP/2 frame, or I/O.
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(kind) = s.downcast_ref::<h2::Error>().and_then(classify_h2) {
            return kind;
        }
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return classify_io(io);
        }
        source = s.source();
    }
    if e.is_parse() || e.is_parse_status() || e.is_parse_too_large() {
        FailureKind::Protocol
    } else if e.is_timeout() {
        FailureKind::Timeout
    } else if e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
        FailureKind::Closed
    } else {
        FailureKind::Io
    }
}

/// An HTTP/2 stream or connection error by its frame: GOAWAY (the connection ended), a refused
/// stream (not processed: the server was at its stream limit or going away), RST_STREAM (the
/// stream was cancelled). `None` for I/O underneath, classified as I/O.
fn classify_h2(e: &h2::Error) -> Option<FailureKind> {
    if e.is_io() {
        return None;
    }
    if e.is_go_away() {
        return Some(FailureKind::GoAway);
    }
    if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        return Some(FailureKind::StreamRefused);
    }
    if e.is_reset() {
        return Some(FailureKind::StreamReset);
    }
    Some(FailureKind::Protocol)
}

/// Keep a failure example short and on one line: excerpts of bodies are shown in tables. A
/// redirect says where it points ("HTTP 302 Found → /login"): slagate does not follow it.
pub(crate) fn example_text(resp: &Response) -> String {
    let status = resp.status;
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let one_line = |text: &str| -> String {
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_string()
    };
    let mut text = format!("HTTP {status} {reason}").trim_end().to_string();
    if let Some(location) = &resp.location {
        text.push_str(&format!(" → {}", one_line(location)));
    }
    let body = one_line(&String::from_utf8_lossy(&resp.excerpt));
    if !body.is_empty() {
        text.push_str(": ");
        text.push_str(&body);
    }
    text
}

pub(crate) fn timeout_text(timeout: Duration) -> String {
    format!(
        "no complete response within {}",
        humantime::format_duration(timeout)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_descriptors_ports_or_buffers_is_the_generators_fault() {
        // What socket() and connect() report when the generator's machine runs out: the error
        // of creating the socket reaches `classify_connect` as it is (tokio's connect creates
        // the socket for us), so the same table covers socket creation and connecting.
        let cases = [
            (libc::EMFILE, FailureKind::LocalResource),
            (libc::ENFILE, FailureKind::LocalResource),
            (libc::EADDRNOTAVAIL, FailureKind::LocalResource),
            (libc::ENOBUFS, FailureKind::LocalResource),
            (libc::ECONNREFUSED, FailureKind::ConnectRefused),
            (libc::ECONNRESET, FailureKind::Reset),
            (libc::EHOSTUNREACH, FailureKind::Connect),
        ];
        for (errno, kind) in cases {
            let e = io::Error::from_raw_os_error(errno);
            assert_eq!(classify_connect(&e), kind, "{e}");
        }
        // The same exhaustion mid-exchange (a reconnect inside hyper) is local too.
        let e = io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(classify_io(&e), FailureKind::LocalResource);
    }
}
