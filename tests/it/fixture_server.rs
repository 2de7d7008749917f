//! End-to-end checks of the two servers slagate's tests load: the embedded Resource Agent
//! simulator (`slagate::fixture`) and the programmable misbehaving server of
//! `tests/support/server.rs`. Both are driven by a deliberately dumb blocking HTTP/1.1 client
//! written here on `std::net::TcpStream`, so that what is asserted is what went over the wire,
//! not what another HTTP library made of it.
//!
//! The mode logic itself is unit-tested exhaustively and without sleeping in
//! `src/fixture/model.rs`; here each mode gets one short end-to-end run. Latency assertions are
//! ground truth with generous bounds (the server was told the delay), never benchmarks.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use slagate::fixture::{self, Fixture, Mode};

use crate::server::{self, Behaviour, TestServer};

// ---------------------------------------------------------------------------------------------
// A tiny client

/// One response as it arrived.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// From writing the request to having read the whole head.
    head_after: Duration,
    /// From writing the request to having read the whole body.
    elapsed: Duration,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One keep-alive connection.
struct Conn {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_nodelay(true)?;
        // A bound on every test: a server that stops answering fails the test, never hangs it.
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            addr,
            reader: BufReader::new(stream),
        })
    }

    fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.reader.get_ref().set_read_timeout(Some(timeout))
    }

    fn send(&mut self, method: &str, path: &str, body: Option<&str>) -> io::Result<Reply> {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\naccept: application/json\r\n",
            self.addr
        );
        if let Some(body) = body {
            request.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body.unwrap_or(""));

        let start = Instant::now();
        self.reader.get_mut().write_all(request.as_bytes())?;

        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "closed before a response",
            ));
        }
        let status = line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| {
                io::Error::new(ErrorKind::InvalidData, format!("status line {line:?}"))
            })?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(io::Error::new(ErrorKind::UnexpectedEof, "closed in head"));
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').ok_or_else(|| {
                io::Error::new(ErrorKind::InvalidData, format!("header {line:?}"))
            })?;
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
        let head_after = start.elapsed();

        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse::<usize>())
            .transpose()
            .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
        let mut body = Vec::new();
        match length {
            Some(length) => {
                body.resize(length, 0);
                self.reader.read_exact(&mut body)?;
            }
            None => {
                self.reader.read_to_end(&mut body)?;
            }
        }
        Ok(Reply {
            status,
            headers,
            body,
            head_after,
            elapsed: start.elapsed(),
        })
    }
}

/// One request on a fresh connection.
fn send(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> io::Result<Reply> {
    Conn::open(addr)?.send(method, path, body)
}

/// The five endpoints of `sla.toml`, with the bodies it sends.
const ENDPOINTS: [(&str, &str, Option<&str>); 5] = [
    ("GET", "/health/", None),
    ("GET", "/system/metrics", None),
    ("POST", "/analysis/", Some(r#"{"window":"5m"}"#)),
    ("GET", "/lmcache/status", None),
    ("POST", "/optimize/run", Some(r#"{"dry_run":true}"#)),
];

fn start(mode: Mode) -> Fixture {
    Fixture::start(0, mode).expect("start fixture on 127.0.0.1:0")
}

/// Sends `count` requests at once, each on its own connection, and returns their statuses.
fn concurrently(
    addr: SocketAddr,
    count: usize,
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
) -> Vec<u16> {
    let handles: Vec<_> = (0..count)
        .map(|_| thread::spawn(move || send(addr, method, path, body).map(|r| r.status)))
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("client thread").expect("request"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The Resource Agent simulator

#[test]
fn healthy_every_endpoint_answers_200_with_realistic_json() {
    let fixture = start(Mode::Healthy);
    assert_eq!(
        fixture.base_url(),
        format!("http://127.0.0.1:{}", fixture.addr().port())
    );
    for (method, path, body) in ENDPOINTS {
        let reply = send(fixture.addr(), method, path, body).unwrap();
        assert_eq!(reply.status, 200, "{method} {path}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(
            (150..2_000).contains(&reply.body.len()),
            "{path}: {} bytes",
            reply.body.len()
        );
        let doc = reply.json();
        match path {
            "/health/" => assert_eq!(doc["status"], "healthy"),
            "/system/metrics" => {
                assert!(doc["cpu"]["percent"].is_number());
                assert!(doc["memory"]["used_gb"].is_number());
                assert!(!doc["gpu"].as_array().unwrap().is_empty());
            }
            "/analysis/" => {
                assert_eq!(doc["window"], "5m", "echoes the window it was given");
                assert!(!doc["recommendations"].as_array().unwrap().is_empty());
            }
            "/lmcache/status" => assert!(doc["hit_rate"].is_number()),
            "/optimize/run" => assert_eq!(doc["dry_run"], true),
            _ => unreachable!(),
        }
    }
    assert_eq!(fixture.requests_served(), ENDPOINTS.len() as u64);
}

#[test]
fn analysis_echoes_another_window_and_rejects_a_bad_one() {
    let fixture = start(Mode::Healthy);
    let reply = send(
        fixture.addr(),
        "POST",
        "/analysis/",
        Some(r#"{"window":"1h"}"#),
    )
    .unwrap();
    assert_eq!(reply.json()["window"], "1h");
    let reply = send(fixture.addr(), "POST", "/analysis/", Some("{oops")).unwrap();
    assert_eq!(reply.status, 422);
    assert!(reply.json()["detail"].is_string());
}

#[test]
fn unknown_path_is_404_and_wrong_method_is_405_both_json() {
    let fixture = start(Mode::Healthy);
    let reply = send(fixture.addr(), "GET", "/nope", None).unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["detail"], "Not Found");

    let reply = send(fixture.addr(), "POST", "/health/", Some("{}")).unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET"));
    assert!(reply.json()["detail"].is_string());

    let reply = send(fixture.addr(), "GET", "/optimize/run", None).unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("POST"));
    assert_eq!(fixture.requests_served(), 3);
}

#[test]
fn healthy_health_answers_inside_its_budget_on_a_keep_alive_connection() {
    let fixture = start(Mode::Healthy);
    let mut conn = Conn::open(fixture.addr()).unwrap();
    let mut elapsed = Vec::new();
    for _ in 0..20 {
        // Twenty requests on one connection also prove keep-alive works.
        let reply = conn.send("GET", "/health/", None).unwrap();
        assert_eq!(reply.status, 200);
        elapsed.push(reply.elapsed);
    }
    // Ground truth with a generous bound (a busy CI machine adds scheduling delay to single
    // requests): the median sits far below the 10 ms p50 budget's scale, and nothing reaches the
    // 100 ms max budget.
    elapsed.sort();
    assert!(elapsed[10] < Duration::from_millis(30), "{elapsed:?}");
    assert!(elapsed[19] < Duration::from_millis(100), "{elapsed:?}");
}

#[test]
fn degraded_tenth_optimize_run_is_503() {
    let fixture = start(Mode::Degraded);
    let first_nine = concurrently(
        fixture.addr(),
        9,
        "POST",
        "/optimize/run",
        Some(r#"{"dry_run":true}"#),
    );
    assert_eq!(first_nine, vec![200; 9]);
    let tenth = send(
        fixture.addr(),
        "POST",
        "/optimize/run",
        Some(r#"{"dry_run":true}"#),
    )
    .unwrap();
    assert_eq!(tenth.status, 503);
    assert!(tenth.json()["detail"].is_string());
    let eleventh = send(fixture.addr(), "POST", "/optimize/run", Some("{}")).unwrap();
    assert_eq!(eleventh.status, 200);
}

#[test]
fn degraded_fourth_analysis_takes_at_least_2_2_seconds_and_the_fifth_does_not() {
    let fixture = start(Mode::Degraded);
    let body = Some(r#"{"window":"5m"}"#);
    assert_eq!(
        concurrently(fixture.addr(), 3, "POST", "/analysis/", body),
        vec![200; 3]
    );
    let fourth = send(fixture.addr(), "POST", "/analysis/", body).unwrap();
    assert_eq!(fourth.status, 200, "slow, not failed");
    assert!(
        (Duration::from_millis(2_200)..Duration::from_millis(3_800)).contains(&fourth.elapsed),
        "{:?}",
        fourth.elapsed
    );
    let fifth = send(fixture.addr(), "POST", "/analysis/", body).unwrap();
    assert!(
        fifth.elapsed < Duration::from_millis(2_200),
        "{:?}",
        fifth.elapsed
    );
}

#[test]
fn slower_and_creeping_answer_every_endpoint_with_200() {
    for mode in [Mode::Slower, Mode::Creeping] {
        let fixture = start(mode);
        for (method, path, body) in ENDPOINTS {
            let reply = send(fixture.addr(), method, path, body).unwrap();
            assert_eq!(reply.status, 200, "{mode:?} {path}");
            reply.json();
        }
    }
}

#[test]
fn burst_answers_503_from_four_seconds_on_its_own_clock() {
    // Which statuses fall where in the 4–7 s window is unit-tested without a clock in
    // src/fixture/model.rs; this is the wiring: the fixture's clock drives it, and its 503s are
    // JSON. Each endpoint is asked until it answers 503 (it must within the window, which lasts
    // 3 s), and never before 4 s: the fixture's clock started after `before_start`.
    let before_start = Instant::now();
    let fixture = start(Mode::Burst);
    let deadline = before_start + Duration::from_secs(30);
    for (method, path, body) in [ENDPOINTS[0], ENDPOINTS[3]] {
        let outage = loop {
            let reply = send(fixture.addr(), method, path, body).unwrap();
            if reply.status != 200 {
                break reply;
            }
            assert!(Instant::now() < deadline, "{path}: no 503 within 30 s");
            thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(outage.status, 503, "{path}");
        assert!(
            before_start.elapsed() >= Duration::from_secs(4),
            "{path}: a 503 after {:?}",
            before_start.elapsed()
        );
        assert!(outage.json()["detail"].is_string());
    }
}

#[test]
fn keeps_up_with_200_concurrent_keep_alive_connections() {
    let fixture = start(Mode::Healthy);
    let addr = fixture.addr();
    let clients: Vec<_> = (0..200)
        .map(|_| {
            thread::spawn(move || {
                let mut conn = Conn::open(addr)?;
                (0..5)
                    .map(|_| conn.send("GET", "/lmcache/status", None).map(|r| r.status))
                    .collect::<io::Result<Vec<u16>>>()
            })
        })
        .collect();
    for client in clients {
        assert_eq!(client.join().unwrap().unwrap(), vec![200; 5]);
    }
    assert_eq!(fixture.requests_served(), 1_000);
}

#[test]
fn a_resetting_client_does_not_hurt_the_server() {
    let fixture = start(Mode::Healthy);
    for partial in [
        &b"GET /health/ HTTP/1.1\r\nhost: x\r\n"[..],
        b"POST /analysis/ HTTP/1.1\r\ncontent-length: 1000\r\n\r\n{\"win",
        b"\x16\x03\x01 not http",
    ] {
        let mut stream = TcpStream::connect(fixture.addr()).unwrap();
        stream.write_all(partial).unwrap();
        // Dropping with linger 0 is what a crashed client looks like: an RST mid-request.
        socket_reset(stream);
    }
    let reply = send(fixture.addr(), "GET", "/health/", None).unwrap();
    assert_eq!(reply.status, 200);
}

/// Aborts a connection with an RST, using only std: shut down reading and writing, then drop.
/// (std has no SO_LINGER setter; a tokio stream does.)
fn socket_reset(stream: TcpStream) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _context = runtime.enter();
    stream.set_nonblocking(true).unwrap();
    let stream = tokio::net::TcpStream::from_std(stream).unwrap();
    stream.set_zero_linger().unwrap();
    drop(stream);
}

#[test]
fn a_port_in_use_is_an_error_and_a_dropped_fixture_stops_listening() {
    let fixture = start(Mode::Healthy);
    let addr = fixture.addr();
    let clash = Fixture::start(addr.port(), Mode::Healthy);
    assert_eq!(clash.err().map(|e| e.kind()), Some(ErrorKind::AddrInUse));

    // An idle keep-alive connection must not keep the server (or its thread) alive.
    let mut idle = Conn::open(addr).unwrap();
    assert_eq!(idle.send("GET", "/health/", None).unwrap().status, 200);
    let dropping = Instant::now();
    drop(fixture);
    assert!(dropping.elapsed() < Duration::from_secs(2));
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionRefused)
    );
}

#[test]
fn serve_stops_when_shutdown_resolves_even_with_an_idle_connection() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(fixture::serve(listener, Mode::Healthy, async {
        let _ = stopped.await;
    }));

    let mut idle = Conn::open(addr).unwrap();
    assert_eq!(idle.send("GET", "/health/", None).unwrap().status, 200);
    stop.send(()).unwrap();
    // The timeout is built inside `block_on`: a tokio timer needs the runtime's context.
    let finished =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(2), server).await });
    assert!(
        matches!(finished, Ok(Ok(Ok(())))),
        "serve did not return: {finished:?}"
    );
    // The idle connection was closed by the server: end of stream, or a reset.
    let mut byte = [0u8; 1];
    match idle.reader.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("connection still open after serve returned: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The programmable test server

#[test]
fn fixed_delay_is_honoured() {
    let server = TestServer::start(Behaviour::Fixed(Duration::from_millis(150)));
    let mut conn = Conn::open(server.addr()).unwrap();
    for _ in 0..3 {
        let reply = conn.send("GET", "/any/path", None).unwrap();
        assert_eq!(reply.status, 200);
        assert!(
            reply.elapsed >= Duration::from_millis(150),
            "{:?}",
            reply.elapsed
        );
        assert!(
            reply.elapsed < Duration::from_millis(650),
            "{:?}",
            reply.elapsed
        );
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(server.url(), format!("http://{}", server.addr()));
}

#[test]
fn every_nth_request_is_slow() {
    let slow = Duration::from_millis(200);
    let server = TestServer::start(Behaviour::EveryNth {
        n: 3,
        slow,
        fast: Duration::ZERO,
    });
    let mut conn = Conn::open(server.addr()).unwrap();
    for i in 1..=6 {
        let reply = conn.send("GET", "/", None).unwrap();
        assert_eq!(reply.status, 200);
        if i % 3 == 0 {
            assert!(reply.elapsed >= slow, "request {i}: {:?}", reply.elapsed);
        } else {
            assert!(reply.elapsed < slow, "request {i}: {:?}", reply.elapsed);
        }
    }
}

#[test]
fn status_answers_that_status() {
    let server = TestServer::start(Behaviour::Status(429));
    let reply = send(server.addr(), "POST", "/x", Some("{}")).unwrap();
    assert_eq!(reply.status, 429);
    assert_eq!(reply.json()["status"], 429);
}

#[test]
fn reset_gives_the_client_a_connection_reset() {
    let server = TestServer::start(Behaviour::Reset);
    let err = send(server.addr(), "GET", "/", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    assert_eq!(
        server.requests(),
        1,
        "the request was read before the reset"
    );
}

#[test]
fn close_immediately_ends_the_connection_without_a_byte() {
    let server = TestServer::start(Behaviour::CloseImmediately);
    let err = send(server.addr(), "GET", "/", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn garbage_is_not_http() {
    let server = TestServer::start(Behaviour::Garbage);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    stream.read_to_end(&mut received).unwrap();
    assert_eq!(received, server::GARBAGE);
    assert!(!received.starts_with(b"HTTP/"));
    // And the tiny client, like any HTTP client, refuses it.
    let err = send(server.addr(), "GET", "/", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
}

#[test]
fn hang_reads_the_request_and_never_answers() {
    let server = TestServer::start(Behaviour::Hang);
    let mut conn = Conn::open(server.addr()).unwrap();
    conn.set_read_timeout(Duration::from_millis(300)).unwrap();
    let started = Instant::now();
    let err = conn.send("GET", "/", None).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.requests(), 1);
    // Dropping the server must not wait for the hanging request.
    let dropping = Instant::now();
    drop(server);
    assert!(dropping.elapsed() < Duration::from_secs(2));
}

#[test]
fn huge_sends_exactly_n_bytes() {
    let len = 3_000_017; // not a multiple of the chunk size
    let server = TestServer::start(Behaviour::Huge(len));
    let reply = send(server.addr(), "GET", "/", None).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("3000017"));
    assert_eq!(reply.body.len(), len);
    assert!(reply.body.iter().all(|b| *b == b'x'));
}

#[test]
fn hostile_sends_markup_in_body_and_header() {
    let server = TestServer::start(Behaviour::Hostile);
    let reply = send(server.addr(), "GET", "/", None).unwrap();
    assert_eq!(reply.status, 500);
    assert_eq!(reply.header("x-note"), Some("<img src=x onerror=alert(1)>"));
    let body = String::from_utf8(reply.body).unwrap();
    assert!(body.contains("<script>alert(1)</script>"), "{body}");
}

#[test]
fn slow_body_latency_includes_the_whole_body() {
    let gap = Duration::from_millis(100);
    let server = TestServer::start(Behaviour::SlowBody { chunks: 5, gap });
    let reply = send(server.addr(), "GET", "/", None).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, server::SLOW_CHUNK.repeat(5));
    assert!(reply.elapsed >= gap * 4, "4 gaps: {:?}", reply.elapsed);
    // The head came long before the body was complete: a client timing only the head would
    // be wrong by most of the response.
    assert!(
        reply.head_after < Duration::from_millis(250),
        "{:?}",
        reply.head_after
    );
}

#[test]
fn redirect_answers_its_status_and_location_with_an_empty_body() {
    for status in [301, 307] {
        let server = TestServer::start(Behaviour::Redirect {
            status,
            location: "/moved/here?x=1".into(),
        });
        let reply = send(server.addr(), "POST", "/from", Some("{}")).unwrap();
        assert_eq!(reply.status, status);
        assert_eq!(reply.header("location"), Some("/moved/here?x=1"));
        assert_eq!(reply.header("content-length"), Some("0"));
        assert!(reply.body.is_empty(), "{:?}", reply.body);
        assert_eq!(server.requests(), 1);
    }
}

#[test]
fn die_after_answers_its_quota_then_refuses_and_drops_every_connection() {
    let server = TestServer::start(Behaviour::DieAfter { answered: 3 });
    let addr = server.addr();
    // Two keep-alive connections share the quota; one will be idle when the server dies.
    let mut idle = Conn::open(addr).unwrap();
    assert_eq!(idle.send("GET", "/", None).unwrap().status, 200);
    let mut conn = Conn::open(addr).unwrap();
    // A body is read past, so the next request on the connection is parsed from its start.
    let second = conn.send("POST", "/x", Some(r#"{"k":1}"#)).unwrap();
    assert_eq!(second.status, 200);
    let third = conn.send("GET", "/y", None).unwrap();
    assert_eq!(
        (third.status, third.json()["status"].as_u64()),
        (200, Some(200))
    );
    assert_eq!(server.requests(), 3);

    // Dead: neither connection gets another answer. The server drops them only after it has
    // stopped listening, so once one has ended, connecting must be refused.
    for conn in [&mut conn, &mut idle] {
        let err = conn.send("GET", "/", None).unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "{err}"
        );
    }
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionRefused)
    );

    // With no quota it dies at the first request, unanswered.
    let server = TestServer::start(Behaviour::DieAfter { answered: 0 });
    let err = send(server.addr(), "GET", "/", None).unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
        ),
        "{err}"
    );
    assert_eq!(server.requests(), 1);
    let refused = TcpStream::connect_timeout(&server.addr(), Duration::from_secs(1));
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionRefused)
    );
}

#[test]
fn unused_port_refuses_connections() {
    let url = server::unused_port_url();
    let addr: SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    let refused = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
    assert_eq!(
        refused.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionRefused)
    );
}
