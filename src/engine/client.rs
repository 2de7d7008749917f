//! One user's HTTP/1.1 connection and one request on it, with failures classified by kind.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::plan::{Endpoint, StatusSet};
use crate::stats::FailureKind;

pub(crate) type Sender = SendRequest<Full<Bytes>>;

/// An endpoint's request, built once; each request clones the parts (reference-counted `Bytes`
/// and `Uri`; the `HeaderMap` clone is the one allocation hyper's by-value API forces on us).
pub(crate) struct Template {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    pub(crate) expect: StatusSet,
}

impl Template {
    pub(crate) fn new(ep: &Endpoint, host_header: &HeaderValue) -> Result<Template, String> {
        let uri: Uri = ep
            .path_and_query
            .parse()
            .map_err(|e| format!("endpoint `{}`: bad path: {e}", ep.name))?;
        let mut headers = ep.headers.clone();
        // hyper's low-level client sends exactly the headers it is given: HTTP/1.1 requires Host.
        headers
            .entry(header::HOST)
            .or_insert_with(|| host_header.clone());
        if !ep.body.is_empty() || ep.method == Method::POST || ep.method == Method::PUT {
            headers
                .entry(header::CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(ep.body.len()));
        }
        Ok(Template {
            method: ep.method.clone(),
            uri,
            headers,
            body: ep.body.clone(),
            expect: ep.expect_status.clone(),
        })
    }

    fn request(&self) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
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
}

impl FailureDetail {
    pub(crate) fn describe(&self) -> String {
        let mut text = match self {
            FailureDetail::Io(e) => e.to_string(),
            FailureDetail::Hyper(e) => e.to_string(),
        };
        let mut source = match self {
            FailureDetail::Io(e) => std::error::Error::source(e),
            FailureDetail::Hyper(e) => std::error::Error::source(e),
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
}

const EXCERPT_BYTES: usize = 300;

pub(crate) async fn connect(addr: SocketAddr) -> Result<Sender, Failure> {
    let stream = TcpStream::connect(addr).await.map_err(|e| Failure {
        kind: classify_connect(&e),
        error: FailureDetail::Io(e),
    })?;
    // Requests are small and latency is what we measure: never let Nagle hold them back.
    stream.set_nodelay(true).map_err(|e| Failure {
        kind: FailureKind::Connect,
        error: FailureDetail::Io(e),
    })?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Failure {
            kind: classify_hyper(&e),
            error: FailureDetail::Hyper(e),
        })?;
    // The connection task ends when the sender is dropped or the peer closes; its error, if
    // any, surfaces on the request in flight, where it is counted.
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Send one request on the user's connection (connecting first if it has none) and read the
/// whole body. `want_excerpt` says whether to keep the body's first bytes for a given status.
pub(crate) async fn exchange(
    conn: &mut Option<Sender>,
    addr: SocketAddr,
    template: &Template,
    want_excerpt: impl Fn(u16) -> bool,
) -> Result<Response, Failure> {
    let sender = match conn {
        Some(s) if !s.is_closed() => s,
        _ => conn.insert(connect(addr).await?),
    };
    if sender.ready().await.is_err() {
        // The server closed the idle keep-alive connection: that is not a failed request,
        // just a reconnect.
        let fresh = conn.insert(connect(addr).await?);
        fresh.ready().await.map_err(hyper_failure)?;
    }
    let sender = conn.as_mut().expect("connected above");
    let resp = sender
        .send_request(template.request())
        .await
        .map_err(hyper_failure)?;
    let status = resp.status().as_u16();
    let keep = want_excerpt(status);
    let location = keep
        .then(|| resp.headers().get(header::LOCATION))
        .flatten()
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(EXCERPT_BYTES)
                .collect()
        });
    let mut body = resp.into_body();
    let mut body_bytes = 0u64;
    let mut excerpt = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(hyper_failure)?;
        if let Some(data) = frame.data_ref() {
            body_bytes += data.len() as u64;
            if keep && excerpt.len() < EXCERPT_BYTES {
                let take = (EXCERPT_BYTES - excerpt.len()).min(data.len());
                excerpt.extend_from_slice(&data[..take]);
            }
        }
    }
    Ok(Response {
        status,
        body_bytes,
        excerpt,
        location,
        kept: keep,
    })
}

fn hyper_failure(e: hyper::Error) -> Failure {
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
    // An I/O error underneath says most precisely what happened.
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
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
