//! A programmable misbehaving HTTP server for ground-truth and fault tests.
//!
//! Each [`TestServer`] answers *every* path with one [`Behaviour`]: an exact delay, an error
//! status, a redirect, a torn connection, garbage bytes, a body that never ends in time, a crash
//! after a few answers… so a test can assert that slagate measures and classifies exactly what
//! happened. It runs on its own thread with its own single-threaded tokio runtime (the client
//! under test cannot starve it) and stops, joining that thread, on drop.
//!
//! The integration-test binary (tests/it) compiles this file with
//! `#[path = "../support/server.rs"] mod server;`. It uses external crates only (no
//! `slagate::`), so that what it sends does not depend on the code under test.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Sleep;

/// What the server does with every request (or connection, for the broken ones).
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// 200 after exactly this delay (tokio timers round up to the next millisecond, never down).
    Fixed(Duration),
    /// The n-th, 2n-th, … request received is answered after `slow`, every other after `fast`.
    EveryNth {
        n: u64,
        slow: Duration,
        fast: Duration,
    },
    /// This status at once, with a small JSON body.
    Status(u16),
    /// Read the request head, then abort the connection with a TCP RST (SO_LINGER 0) without
    /// answering: the client sees "connection reset".
    Reset,
    /// Close each connection at once with a FIN, before reading anything: the client sees the
    /// connection end without a single byte. Each accepted connection counts as a request.
    CloseImmediately,
    /// Read the request head, answer bytes that are not HTTP, then close.
    Garbage,
    /// Read the request, never answer (until the server is dropped).
    Hang,
    /// 200 with a body of exactly this many bytes (`x` repeated), streamed in 16 KiB chunks with
    /// a `content-length`.
    Huge(usize),
    /// 500 whose body holds `<script>alert(1)</script>` and whose `x-note` header is
    /// `<img src=x onerror=alert(1)>`: reports must escape what a target sends.
    Hostile,
    /// 200 with a body of `chunks` × [`SLOW_CHUNK`]: the head and the first chunk at once, then
    /// one chunk per `gap`. A complete response takes `(chunks - 1) × gap`, so a
    /// client that times only the headers is caught.
    SlowBody { chunks: usize, gap: Duration },
    /// 500 whose body echoes every request header as `name: value` lines, with a response
    /// header `x-echo-authorization` holding the request's authorization value (as a careless
    /// service's error page might): reports must not repeat the secrets it echoes.
    EchoHeaders,
    /// This 3xx status at once, with this `location` header and an empty body.
    Redirect { status: u16, location: String },
    /// Answers the first `answered` requests (on any connections, keep-alive included) with 200
    /// at once, then dies as a crashed service does: once the last of those answers is written,
    /// it stops listening (later connects are refused) and drops every open connection, idle or
    /// mid-request, unanswered. With `answered: 0` it dies at the first request. Each request
    /// received counts, answered or not.
    DieAfter { answered: u64 },
    /// A service that freezes periodically: 200 after `delay`, except that an answer due
    /// during a stall (the first `hold` of every `every`, counted from the server's start) is
    /// held until the stall ends. Arrivals at a steady rate see, at phase φ into a cycle,
    /// `delay + max(0, hold − φ)`: for 1 s in every 5 s, p90 ≈ 0.5 s and p95 ≈ 0.75 s.
    Stall {
        every: Duration,
        hold: Duration,
        delay: Duration,
    },
    /// A service that demands a login (see [`AUTH_PASSWORD`]): `POST /v1/session` with a JSON
    /// body holding the password answers `{"access_token":"tok-N"}` and sets the cookie
    /// `sid=N; Path=/v1` (N counts logins from 1); `GET /v1/profile` with
    /// `authorization: Bearer tok-N` answers `{"account_id":"acct-N"}`; `GET
    /// /v1/accounts/acct-N/orders` wants the same token and the cookie `sid=N`. Anything else
    /// is 401 (no or unknown token, wrong cookie) or 404 (another account), counted as refused,
    /// except `GET /v1/echo` with a token: a 500 whose body repeats the request's cookie and
    /// authorization.
    /// Each answer takes `delay`.
    Auth { delay: Duration },
}

/// The password [`Behaviour::Auth`] accepts.
pub const AUTH_PASSWORD: &str = "s3cret-pass";

/// The `x-note` header value of [`Behaviour::Hostile`].
pub const HOSTILE_NOTE: &str = "<img src=x onerror=alert(1)>";
/// The body of [`Behaviour::Hostile`].
pub const HOSTILE_BODY: &str =
    "<html><body><h1>Internal Server Error</h1><script>alert(1)</script></body></html>";
/// What [`Behaviour::Garbage`] sends instead of a response.
pub const GARBAGE: &[u8] = b"\x00\x01\x02 this is not HTTP at all \xff\xfe\r\n\r\n";
/// One chunk of [`Behaviour::SlowBody`].
pub const SLOW_CHUNK: &[u8] = b"slow body chunk\n";
/// What [`Behaviour::DieAfter`] answers while it lives: the same 200 as every other behaviour's.
const DIE_AFTER_OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
    content-length: 14\r\n\r\n{\"status\":200}";

/// How much of a request head the raw behaviours buffer before giving up looking for its end.
const MAX_HEAD: usize = 64 * 1024;
/// How long a raw behaviour waits for the client to close after the server did, before
/// dropping the socket anyway (see `close_gracefully`).
const LINGER: Duration = Duration::from_secs(2);

/// `Huge` bodies are slices of this one static buffer: no allocation per chunk or per byte.
static HUGE_CHUNK: [u8; 16 * 1024] = [b'x'; 16 * 1024];

/// A running test server on 127.0.0.1 with an ephemeral port.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts serving `behaviour` on `127.0.0.1:0`. Panics (test-only code) if the loopback
    /// interface cannot be bound or the behaviour is malformed (`Status` outside 100–999,
    /// `EveryNth` with `n` = 0, `Redirect` outside 300–399 or with a location that is no header
    /// value).
    pub fn start(behaviour: Behaviour) -> TestServer {
        match &behaviour {
            Behaviour::Status(code) => {
                StatusCode::from_u16(*code).expect("Behaviour::Status needs a valid status code");
            }
            Behaviour::EveryNth { n: 0, .. } => panic!("Behaviour::EveryNth needs n >= 1"),
            Behaviour::Redirect { status, location } => {
                assert!(
                    (300..400).contains(status),
                    "Behaviour::Redirect needs a 3xx status"
                );
                HeaderValue::from_str(location)
                    .expect("Behaviour::Redirect needs a location that is a header value");
            }
            _ => {}
        }
        let std_listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = std_listener.local_addr().expect("listener address");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("test server runtime");
        let listener = {
            let _context = runtime.enter();
            TcpListener::from_std(std_listener).expect("register listener")
        };
        let shared = Arc::new(Shared {
            behaviour,
            requests: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            died: watch::Sender::new(false),
            started: Instant::now(),
            logins: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("test-server-{}", addr.port()))
            .spawn({
                let shared = Arc::clone(&shared);
                move || runtime.block_on(accept_loop(listener, shared, stopped))
            })
            .expect("spawn test server thread");
        TestServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `"http://127.0.0.1:PORT"`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far: counted on arrival, before any delay, so a `Hang` request
    /// counts. For `CloseImmediately`, accepted connections.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// [`Behaviour::Auth`]: logins accepted so far.
    pub fn logins(&self) -> u64 {
        self.shared.logins.load(Ordering::SeqCst)
    }

    /// [`Behaviour::Auth`]: requests refused (401 or 404) so far.
    pub fn refused(&self) -> u64 {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let joined = thread.join();
            // Surface a server-side panic in the test that owns the server, unless that test is
            // already panicking (a second panic would abort the whole test binary).
            if joined.is_err() && !std::thread::panicking() {
                panic!("test server thread panicked");
            }
        }
    }
}

/// A URL on which nothing listens (for "target down" tests): an ephemeral port bound and
/// released at once. Another process could claim the port in between, but ephemeral ports are
/// handed out round-robin, so that is vanishingly unlikely within a test.
pub fn unused_port_url() -> String {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("listener address");
    drop(listener);
    format!("http://{addr}")
}

/// What every connection of one server shares.
struct Shared {
    behaviour: Behaviour,
    /// Requests received (see [`TestServer::requests`]).
    requests: AtomicU64,
    /// `DieAfter`: answers written in full (or abandoned by their client).
    answered: AtomicU64,
    /// `DieAfter`: set once the server is to die.
    died: watch::Sender<bool>,
    /// When the server started: `Stall`'s cycles count from here.
    started: Instant,
    /// `Auth`: logins accepted, and requests refused (401/404).
    logins: AtomicU64,
    refused: AtomicU64,
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    // Connections live in the set so that dropping the server aborts them too (a `Hang` would
    // otherwise keep its task and socket alive).
    let mut connections = JoinSet::new();
    let mut died = shared.died.subscribe();
    let mut dead = false;
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            _ = died.wait_for(|died| *died) => {
                dead = true;
                break;
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
                // Transient (e.g. the peer reset while queued): keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    // Stop listening before any connection goes: a client that sees its connection end can
    // count on its next connect being refused.
    drop(listener);
    connections.shutdown().await;
    if dead {
        // A crashed service stays down until the test is done with it.
        let _ = stopped.await;
    }
}

async fn connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let requests = &shared.requests;
    match shared.behaviour {
        Behaviour::Reset => {
            if read_head(&mut stream).await {
                requests.fetch_add(1, Ordering::SeqCst);
            }
            // Linger 0 turns the close into an RST; dropping right after is the abort.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Behaviour::CloseImmediately => {
            requests.fetch_add(1, Ordering::SeqCst);
            close_gracefully(stream).await;
        }
        Behaviour::Garbage => {
            if read_head(&mut stream).await {
                requests.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(GARBAGE).await;
            }
            close_gracefully(stream).await;
        }
        Behaviour::DieAfter { answered: quota } => {
            let mut buffer = Vec::with_capacity(1024);
            while read_request(&mut stream, &mut buffer).await {
                let nth = requests.fetch_add(1, Ordering::SeqCst) + 1;
                if nth <= quota {
                    let written = stream.write_all(DIE_AFTER_OK).await.is_ok();
                    // An answer counts once written (or once its client is gone), not on arrival,
                    // so that the quota's last answer cannot kill another connection's answer
                    // that is still being written.
                    let last = shared.answered.fetch_add(1, Ordering::SeqCst) + 1 == quota;
                    match (last, written) {
                        (false, true) => continue,
                        (false, false) => return,
                        (true, _) => {}
                    }
                } else if shared.answered.load(Ordering::SeqCst) < quota {
                    // Over quota while answers are still being written: the last one kills the
                    // server.
                    std::future::pending::<()>().await;
                }
                shared.died.send_replace(true);
                // The accept loop ends this connection with all the others, once it has stopped
                // listening.
                std::future::pending::<()>().await;
            }
        }
        _ => {
            let service = service_fn(move |req| respond(Arc::clone(&shared), req));
            // Client-side aborts end the connection with an error that is not the server's.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    }
}

/// Reads until the blank line that ends a request head. False if the client closed or erred
/// first, or sent more than [`MAX_HEAD`] bytes without one.
async fn read_head(stream: &mut TcpStream) -> bool {
    head_end(stream, &mut Vec::with_capacity(1024))
        .await
        .is_some()
}

/// Reads one request (its head, and a `content-length` body) off a keep-alive connection,
/// leaving in `buffer` whatever the client sent after it. False as for [`read_head`], or if the
/// connection ended inside the body.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let Some(head) = head_end(stream, buffer).await else {
        return false;
    };
    let length = head + content_length(&buffer[..head]);
    while buffer.len() < length {
        if !fill(stream, buffer).await {
            return false;
        }
    }
    buffer.drain(..length);
    true
}

/// Reads into `buffer` until it holds a whole request head; returns the head's length, blank
/// line included.
async fn head_end(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(at + 4);
        }
        if buffer.len() >= MAX_HEAD || !fill(stream, buffer).await {
            return None;
        }
    }
}

/// Appends what the client sent next; false if it closed or erred.
async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(read) => {
            buffer.extend_from_slice(&chunk[..read]);
            true
        }
    }
}

/// The `content-length` of a request head (0 without one).
fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

/// Sends FIN now, then discards whatever the client still sends until it closes too. Dropping a
/// socket with unread input makes the kernel send RST instead of FIN, which would turn "closed"
/// and "garbage" into "reset" on the client, depending on timing.
pub(crate) async fn close_gracefully(mut stream: TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async {
        while let Ok(read) = stream.read(&mut sink).await {
            if read == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

async fn respond(
    shared: Arc<Shared>,
    _req: Request<Incoming>,
) -> Result<Response<TestBody>, Infallible> {
    let nth = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let response = match shared.behaviour {
        Behaviour::Fixed(delay) => {
            tokio::time::sleep(delay).await;
            small(StatusCode::OK)
        }
        Behaviour::Stall { every, hold, delay } => {
            tokio::time::sleep(delay).await;
            let phase = Duration::from_nanos(
                (shared.started.elapsed().as_nanos() % every.as_nanos().max(1)) as u64,
            );
            if phase < hold {
                tokio::time::sleep(hold - phase).await;
            }
            small(StatusCode::OK)
        }
        Behaviour::EveryNth { n, slow, fast } => {
            tokio::time::sleep(if nth.is_multiple_of(n) { slow } else { fast }).await;
            small(StatusCode::OK)
        }
        Behaviour::Status(code) => {
            // Validated in `TestServer::start`.
            small(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Behaviour::Hang => std::future::pending().await,
        Behaviour::Huge(len) => Response::new(TestBody::Huge { remaining: len }),
        Behaviour::Hostile => {
            let mut response = Response::new(TestBody::full(HOSTILE_BODY.as_bytes()));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
            headers.insert("x-note", HeaderValue::from_static(HOSTILE_NOTE));
            response
        }
        Behaviour::SlowBody { chunks, gap } => Response::new(TestBody::Slow {
            remaining: chunks,
            gap,
            timer: None,
            first: true,
        }),
        Behaviour::EchoHeaders => echo_headers(&_req),
        Behaviour::Auth { delay } => {
            tokio::time::sleep(delay).await;
            auth(&shared, _req).await
        }
        Behaviour::Redirect {
            status,
            ref location,
        } => {
            let mut response = Response::new(TestBody::full(Bytes::new()));
            // Both validated in `TestServer::start`.
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
            if let Ok(location) = HeaderValue::from_str(location) {
                response.headers_mut().insert(LOCATION, location);
            }
            response
        }
        // Raw behaviours never reach hyper.
        Behaviour::Reset
        | Behaviour::CloseImmediately
        | Behaviour::Garbage
        | Behaviour::DieAfter { .. } => small(StatusCode::INTERNAL_SERVER_ERROR),
    };
    Ok(response)
}

/// [`Behaviour::Auth`]'s answer to `req`.
async fn auth(shared: &Shared, req: Request<Incoming>) -> Response<TestBody> {
    use http_body_util::BodyExt;
    let json = |status: StatusCode, body: String| {
        let mut r = Response::new(TestBody::full(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    };
    let refuse = |status: StatusCode| {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        json(status, format!("{{\"error\":{}}}", status.as_u16()))
    };
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    // The login number a token names, if the server gave it out.
    let token = header("authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer tok-")
                .and_then(|n| n.parse::<u64>().ok())
        })
        .filter(|n| (1..=shared.logins.load(Ordering::SeqCst)).contains(n));
    let path = req.uri().path().to_string();
    let cookie = header("cookie");
    if req.method() == hyper::Method::POST && path == "/v1/session" {
        let body = req.into_body().collect().await.map(|b| b.to_bytes());
        let ok = body.is_ok_and(|b| {
            serde_json::from_slice::<serde_json::Value>(&b)
                .is_ok_and(|v| v["password"] == AUTH_PASSWORD)
        });
        if !ok {
            return refuse(StatusCode::UNAUTHORIZED);
        }
        let n = shared.logins.fetch_add(1, Ordering::SeqCst) + 1;
        let mut r = json(
            StatusCode::OK,
            format!("{{\"access_token\":\"tok-{n}\",\"token_type\":\"bearer\"}}"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("sid={n}; Path=/v1; HttpOnly")) {
            r.headers_mut().insert(hyper::header::SET_COOKIE, v);
        }
        return r;
    }
    let Some(n) = token else {
        return refuse(StatusCode::UNAUTHORIZED);
    };
    if path == "/v1/echo" {
        // A careless error page that repeats the session it was sent.
        return json(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "{{\"error\":\"cookie {} authorization {}\"}}",
                cookie.as_deref().unwrap_or(""),
                header("authorization").unwrap_or_default()
            ),
        );
    }
    if path == "/v1/profile" {
        return json(StatusCode::OK, format!("{{\"account_id\":\"acct-{n}\"}}"));
    }
    if path == format!("/v1/accounts/acct-{n}/orders") {
        if cookie.as_deref() != Some(format!("sid={n}").as_str()) {
            return refuse(StatusCode::UNAUTHORIZED);
        }
        return json(StatusCode::OK, "{\"orders\":[]}".into());
    }
    refuse(StatusCode::NOT_FOUND)
}

/// [`Behaviour::EchoHeaders`]'s answer to `req`.
fn echo_headers(req: &Request<Incoming>) -> Response<TestBody> {
    let mut body = String::new();
    for (name, value) in req.headers() {
        body.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    let mut response = Response::new(TestBody::full(body.into_bytes()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if let Some(authorization) = req.headers().get("authorization") {
        headers.insert("x-echo-authorization", authorization.clone());
    }
    response
}

/// `status` with the small JSON body every behaviour answers with (`{"status":200}`); the TLS
/// and HTTP/2 servers of tls.rs answer with it too.
pub(crate) fn small(status: StatusCode) -> Response<TestBody> {
    let body = format!("{{\"status\":{}}}", status.as_u16());
    let mut response = Response::new(TestBody::full(body.into_bytes()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The bodies the server streams. Exact size hints make hyper send `content-length`, so a client
/// can tell a complete body from a truncated one.
pub enum TestBody {
    Full(Option<Bytes>),
    Huge {
        remaining: usize,
    },
    Slow {
        remaining: usize,
        gap: Duration,
        timer: Option<Pin<Box<Sleep>>>,
        /// The first chunk goes out with the head; every later one waits a `gap`.
        first: bool,
    },
}

impl TestBody {
    fn full(bytes: impl Into<Bytes>) -> TestBody {
        TestBody::Full(Some(bytes.into()))
    }
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        // Every field is Unpin (the timer is boxed), so the body can be handled by `&mut`.
        match self.get_mut() {
            TestBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            TestBody::Huge { remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let len = (*remaining).min(HUGE_CHUNK.len());
                *remaining -= len;
                let chunk = Bytes::from_static(&HUGE_CHUNK).slice(..len);
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            TestBody::Slow {
                remaining,
                gap,
                timer,
                first,
            } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                if !*first {
                    let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(*gap)));
                    if sleep.as_mut().poll(cx).is_pending() {
                        // hyper flushes what it has written whenever the body is pending, so
                        // each chunk reaches the client as it is produced.
                        return Poll::Pending;
                    }
                    *timer = None;
                }
                *first = false;
                *remaining -= 1;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(SLOW_CHUNK)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            TestBody::Full(bytes) => bytes.is_none(),
            TestBody::Huge { remaining } | TestBody::Slow { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        let len = match self {
            TestBody::Full(bytes) => bytes.as_ref().map_or(0, Bytes::len),
            TestBody::Huge { remaining } => *remaining,
            TestBody::Slow { remaining, .. } => remaining * SLOW_CHUNK.len(),
        };
        SizeHint::with_exact(len as u64)
    }
}
