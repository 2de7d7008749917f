//! Test servers for real transports: HTTPS (HTTP/1.1 or HTTP/2 by ALPN), cleartext HTTP/2 with
//! prior knowledge (h2c), and cleartext HTTP/1.1, with the certificates they need.
//!
//! [`TestPki`] makes every certificate a test needs inside the test (rcgen; no private key is
//! checked in): a trusted CA and its server certificate, an untrusted CA, a wrong-host and an
//! expired certificate, and a client CA with a client certificate for mutual TLS.
//! [`TlsServer`], [`H2cServer`] and [`Http1Server`] answer every request with the same 200 and
//! small JSON body as server.rs (optionally after a delay), may end connections as production
//! servers do ([`ServeOptions`]: GOAWAY after N requests, close when idle), and count what they
//! saw ([`Stats`]), so that a test can assert "HTTP/2 requests only", "reconnected", "resumed".
//! Like server.rs, each runs on its own thread with its own current-thread runtime (the client
//! under test cannot starve it) and stops, joining that thread, on drop.
//!
//! The integration-test binary (tests/it) compiles this file with
//! `#[path = "../support/tls.rs"] mod tls;` beside `mod server;`, whose response it reuses. It
//! uses external crates only (no `slagate::`), so that what it serves does not depend on the
//! code under test.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{HandshakeKind, ProtocolVersion, RootCertStore, ServerConfig, ServerConnection};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use crate::server::{close_gracefully, small};

// ---------------------------------------------------------------------------------------------
// Certificates

/// The names [`TestPki::server`], [`TestPki::untrusted_server`] and [`TestPki::expired`] are
/// valid for (DNS name, IPv4 and IPv6 address).
pub const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// The only name [`TestPki::wrong_host`] is valid for.
pub const WRONG_HOST: &str = "wrong.example";
/// The common name of [`TestPki::ca`].
pub const CA_NAME: &str = "slagate test CA";
/// The common name of [`TestPki::untrusted_ca`].
pub const UNTRUSTED_CA_NAME: &str = "slagate untrusted test CA";
/// The common name of [`TestPki::client_ca`].
pub const CLIENT_CA_NAME: &str = "slagate test client CA";

/// A certificate authority: its self-signed certificate (the trust anchor a client or server is
/// given), and its common name, which slagate's messages should repeat.
#[derive(Clone)]
pub struct Authority {
    name: &'static str,
    cert: CertificateDer<'static>,
    pem: String,
}

impl Authority {
    /// The authority's common name (e.g. [`CA_NAME`]).
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    /// A root store holding this authority alone.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.cert.clone())
            .expect("a generated CA certificate is a valid trust anchor");
        roots
    }
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Authority").field(&self.name).finish()
    }
}

/// An end-entity certificate (signed by one of the authorities, no intermediates) and its
/// private key (PKCS#8).
#[derive(Clone)]
pub struct Identity {
    cert: CertificateDer<'static>,
    cert_pem: String,
    key: Vec<u8>,
    key_pem: String,
}

impl Identity {
    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }

    /// The key as a PKCS#8 `PRIVATE KEY` PEM block.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

/// Every certificate the transport tests need, generated afresh (ECDSA P-256; a few
/// milliseconds). Everything is valid from 1975 to 4096 except [`TestPki::expired`].
pub struct TestPki {
    /// [`CA_NAME`]: the authority the tests trust.
    pub ca: Authority,
    /// [`UNTRUSTED_CA_NAME`]: an authority no test trusts unless it means to.
    pub untrusted_ca: Authority,
    /// [`CLIENT_CA_NAME`]: the authority a mutual-TLS server verifies client certificates with.
    pub client_ca: Authority,
    /// Server certificate for [`SERVER_NAMES`], signed by `ca`.
    pub server: Identity,
    /// Server certificate for [`SERVER_NAMES`], signed by `untrusted_ca`.
    pub untrusted_server: Identity,
    /// Server certificate for [`WRONG_HOST`] only, signed by `ca`.
    pub wrong_host: Identity,
    /// Server certificate for [`SERVER_NAMES`], signed by `ca`, valid only during the year 2000.
    pub expired: Identity,
    /// Client certificate (common name "slagate test client"), signed by `client_ca`.
    pub client: Identity,
    /// Client certificate signed by `untrusted_ca`: a mutual-TLS server rejects it.
    pub untrusted_client: Identity,
}

/// Where [`TestPki::write_to`] put each PEM file.
#[derive(Clone, Debug)]
pub struct PkiFiles {
    /// `ca.pem`: [`TestPki::ca`].
    pub ca: PathBuf,
    /// `untrusted-ca.pem`
    pub untrusted_ca: PathBuf,
    /// `client-ca.pem`
    pub client_ca: PathBuf,
    /// `server.pem` and `server.key`: [`TestPki::server`].
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// `client.pem` and `client.key`: [`TestPki::client`].
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// `untrusted-client.pem` and `untrusted-client.key`: [`TestPki::untrusted_client`].
    pub untrusted_client_cert: PathBuf,
    pub untrusted_client_key: PathBuf,
}

impl TestPki {
    /// Panics (test-only code) if rcgen cannot make a key or a certificate.
    pub fn generate() -> TestPki {
        let ca = authority(CA_NAME);
        let untrusted_ca = authority(UNTRUSTED_CA_NAME);
        let client_ca = authority(CLIENT_CA_NAME);
        let server = Leaf::Server(&SERVER_NAMES);
        TestPki {
            server: leaf(&ca, server, false),
            untrusted_server: leaf(&untrusted_ca, server, false),
            wrong_host: leaf(&ca, Leaf::Server(&[WRONG_HOST]), false),
            expired: leaf(&ca, server, true),
            client: leaf(&client_ca, Leaf::Client, false),
            untrusted_client: leaf(&untrusted_ca, Leaf::Client, false),
            ca: ca.authority,
            untrusted_ca: untrusted_ca.authority,
            client_ca: client_ca.authority,
        }
    }

    /// Writes the certificates (and the keys a client or a server needs) as PEM files into
    /// `dir`, for tests that hand them to the CLI. Panics if a file cannot be written.
    pub fn write_to(&self, dir: &Path) -> PkiFiles {
        let write = |name: &str, contents: &str| {
            let path = dir.join(name);
            std::fs::write(&path, contents)
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            path
        };
        PkiFiles {
            ca: write("ca.pem", self.ca.cert_pem()),
            untrusted_ca: write("untrusted-ca.pem", self.untrusted_ca.cert_pem()),
            client_ca: write("client-ca.pem", self.client_ca.cert_pem()),
            server_cert: write("server.pem", self.server.cert_pem()),
            server_key: write("server.key", self.server.key_pem()),
            client_cert: write("client.pem", self.client.cert_pem()),
            client_key: write("client.key", self.client.key_pem()),
            untrusted_client_cert: write("untrusted-client.pem", self.untrusted_client.cert_pem()),
            untrusted_client_key: write("untrusted-client.key", self.untrusted_client.key_pem()),
        }
    }
}

/// An authority while the PKI is being made: its certificate, and what signs with it.
struct Ca {
    authority: Authority,
    issuer: Issuer<'static, KeyPair>,
}

fn authority(name: &'static str) -> Ca {
    let mut params = CertificateParams::default();
    params.distinguished_name.remove(DnType::CommonName);
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "slagate tests");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("generate a CA key");
    let cert = params
        .self_signed(&key)
        .expect("self-sign a CA certificate");
    Ca {
        authority: Authority {
            name,
            pem: cert.pem(),
            cert: cert.der().clone(),
        },
        issuer: Issuer::new(params, key),
    }
}

#[derive(Clone, Copy)]
enum Leaf {
    Server(&'static [&'static str]),
    Client,
}

fn leaf(ca: &Ca, kind: Leaf, expired: bool) -> Identity {
    let (mut params, common_name, usage) = match kind {
        Leaf::Server(names) => (
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("valid subject alternative names"),
            names[0],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        Leaf::Client => (
            CertificateParams::default(),
            "slagate test client",
            ExtendedKeyUsagePurpose::ClientAuth,
        ),
    };
    params.distinguished_name.remove(DnType::CommonName);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let key = KeyPair::generate().expect("generate a key");
    let cert = params
        .signed_by(&key, &ca.issuer)
        .expect("sign a certificate");
    Identity {
        cert_pem: cert.pem(),
        cert: cert.der().clone(),
        key: key.serialize_der(),
        key_pem: key.serialize_pem(),
    }
}

// ---------------------------------------------------------------------------------------------
// Options

/// The ALPN name of HTTP/2.
pub const H2: &[u8] = b"h2";
/// The ALPN name of HTTP/1.1.
pub const HTTP_1_1: &[u8] = b"http/1.1";

/// The TLS versions a [`TlsServer`] accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersions {
    Tls12Only,
    Tls13Only,
    Both,
}

/// Whether a [`TlsServer`] asks for a client certificate, and which authority verifies it.
#[derive(Clone, Debug)]
pub enum ClientAuth {
    /// No certificate requested.
    None,
    /// Requested; a client without one is served, a client with one this authority did not sign
    /// is refused.
    Optional(Authority),
    /// Required and verified with this authority: a client without one (or with another
    /// authority's) fails the handshake.
    Required(Authority),
}

/// What each server does with requests and connections; the same for every server kind. The
/// default answers 200 at once and never ends a connection itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServeOptions {
    delay: Duration,
    goaway_after: Option<u64>,
    idle_timeout: Option<Duration>,
}

impl ServeOptions {
    pub fn new() -> ServeOptions {
        ServeOptions::default()
    }

    /// Answer each request after this delay (tokio timers round up, never down).
    pub fn delay(mut self, delay: Duration) -> ServeOptions {
        self.delay = delay;
        self
    }

    /// Once a connection has received this many requests, shut it down gracefully as a server
    /// with a per-connection request limit does (nginx's `keepalive_requests`): on HTTP/2 a
    /// GOAWAY, after which the streams already open are answered and the connection closes; on
    /// HTTP/1.1 the N-th answer carries `connection: close` and the server closes the
    /// connection after it. A
    /// client with more streams open at once than the limit sees them answered, so "at least
    /// `requests`" per connection. Panics if 0.
    pub fn goaway_after(mut self, requests: u64) -> ServeOptions {
        assert!(requests >= 1, "goaway_after needs at least one request");
        self.goaway_after = Some(requests);
        self
    }

    /// Shut down a connection that has had no request in progress for this long, as
    /// nginx's `keepalive_timeout` does: on HTTP/1.1 a close, on HTTP/2 a GOAWAY (and then a
    /// close). A request slower than `idle` is never cut off.
    pub fn idle_timeout(mut self, idle: Duration) -> ServeOptions {
        self.idle_timeout = Some(idle);
        self
    }
}

/// How a [`TlsServer`] is configured. [`TlsOptions::new`] offers ALPN `h2` then `http/1.1`,
/// accepts TLS 1.2 and 1.3, asks for no client certificate and answers 200 at once.
#[derive(Clone, Debug)]
pub struct TlsOptions {
    cert: Identity,
    alpn: Vec<Vec<u8>>,
    client_auth: ClientAuth,
    versions: TlsVersions,
    serve: ServeOptions,
}

impl TlsOptions {
    /// Present `cert` (e.g. `&pki.server`, `&pki.expired`).
    pub fn new(cert: &Identity) -> TlsOptions {
        TlsOptions {
            cert: cert.clone(),
            alpn: vec![H2.to_vec(), HTTP_1_1.to_vec()],
            client_auth: ClientAuth::None,
            versions: TlsVersions::Both,
            serve: ServeOptions::default(),
        }
    }

    /// The ALPN protocols offered, most preferred first; `&[]` for no ALPN at all. Whatever is
    /// negotiated, `h2` is served as HTTP/2 and anything else (no ALPN included) as HTTP/1.1.
    /// A client whose ALPN list shares nothing with a non-empty list fails the handshake
    /// (rustls sends `no_application_protocol`).
    pub fn alpn(mut self, protocols: &[&[u8]]) -> TlsOptions {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    pub fn client_auth(mut self, client_auth: ClientAuth) -> TlsOptions {
        self.client_auth = client_auth;
        self
    }

    pub fn versions(mut self, versions: TlsVersions) -> TlsOptions {
        self.versions = versions;
        self
    }

    pub fn serve(mut self, serve: ServeOptions) -> TlsOptions {
        self.serve = serve;
        self
    }
}

// ---------------------------------------------------------------------------------------------
// What the servers saw

/// A snapshot of a server's counters. Each is counted when it happens (a request on arrival,
/// before any delay), so a test asserting after a client-side event may have to poll for the
/// server's side of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Connections that have ended, by either side (failed handshakes included).
    pub closed: u64,
    /// TLS handshakes completed (always 0 on a cleartext server).
    pub handshakes: u64,
    /// TLS handshakes that failed: the client rejected the certificate or sent an alert, no
    /// common version or ALPN protocol, a missing or untrusted client certificate…
    pub handshake_failures: u64,
    /// Completed handshakes that resumed an earlier session (rustls' `HandshakeKind::Resumed`;
    /// the server keeps a session cache, and sends TLS 1.3 tickets, by default).
    pub resumed: u64,
    /// Completed handshakes on TLS 1.3 (the others were TLS 1.2).
    pub tls13: u64,
    /// Completed handshakes in which the client presented a certificate (verified by the
    /// server's client CA: an unverified one fails the handshake).
    pub client_certs: u64,
    /// Requests received as HTTP/1.0 or HTTP/1.1.
    pub http1_requests: u64,
    /// Requests received as HTTP/2.
    pub http2_requests: u64,
    /// Connections that reached [`ServeOptions::goaway_after`] requests (and were shut down).
    pub goaways: u64,
    /// Connections the server began to shut down for being idle
    /// ([`ServeOptions::idle_timeout`]).
    pub idle_closes: u64,
}

impl Stats {
    /// Requests received, of every HTTP version.
    pub fn requests(&self) -> u64 {
        self.http1_requests + self.http2_requests
    }
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    closed: AtomicU64,
    handshakes: AtomicU64,
    handshake_failures: AtomicU64,
    resumed: AtomicU64,
    tls13: AtomicU64,
    client_certs: AtomicU64,
    http1_requests: AtomicU64,
    http2_requests: AtomicU64,
    goaways: AtomicU64,
    idle_closes: AtomicU64,
    /// The SNI of each completed handshake, in order.
    server_names: Mutex<Vec<Option<String>>>,
}

impl Counters {
    fn snapshot(&self) -> Stats {
        let get = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        Stats {
            connections: get(&self.connections),
            closed: get(&self.closed),
            handshakes: get(&self.handshakes),
            handshake_failures: get(&self.handshake_failures),
            resumed: get(&self.resumed),
            tls13: get(&self.tls13),
            client_certs: get(&self.client_certs),
            http1_requests: get(&self.http1_requests),
            http2_requests: get(&self.http2_requests),
            goaways: get(&self.goaways),
            idle_closes: get(&self.idle_closes),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

// ---------------------------------------------------------------------------------------------
// The servers

/// An HTTPS server on 127.0.0.1 with an ephemeral port, serving HTTP/2 or HTTP/1.1 by ALPN.
pub struct TlsServer {
    running: Running,
}

impl TlsServer {
    /// Starts serving on `127.0.0.1:0`. Panics (test-only code) if the loopback interface cannot
    /// be bound or rustls refuses the configuration.
    pub fn start(options: TlsOptions) -> TlsServer {
        let acceptor = TlsAcceptor::from(Arc::new(server_config(&options)));
        TlsServer {
            running: Running::start("tls", Mode::Tls(acceptor), options.serve),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// `"https://127.0.0.1:PORT"`, without a trailing slash.
    pub fn url(&self) -> String {
        self.url_for("127.0.0.1")
    }

    /// `"https://HOST:PORT"` (brackets added to an IPv6 address): e.g. `localhost`, which may
    /// resolve to `::1` first although the server listens on 127.0.0.1 only.
    pub fn url_for(&self, host: &str) -> String {
        if host.contains(':') {
            format!("https://[{host}]:{}", self.addr().port())
        } else {
            format!("https://{host}:{}", self.addr().port())
        }
    }

    pub fn stats(&self) -> Stats {
        self.running.shared.counters.snapshot()
    }

    /// The server name (SNI) the client sent in each completed handshake, in order; `None`
    /// where it sent none (as clients do when connecting to an IP address).
    pub fn server_names(&self) -> Vec<Option<String>> {
        let names = self.running.shared.counters.server_names.lock();
        names.map(|names| names.to_vec()).unwrap_or_default()
    }
}

/// A cleartext HTTP/2 server (h2c with prior knowledge: no upgrade, no ALPN) on 127.0.0.1 with
/// an ephemeral port. An HTTP/1.1 request is not HTTP/2's preface: hyper ends the connection
/// and nothing is counted as a request.
pub struct H2cServer {
    running: Running,
}

impl H2cServer {
    pub fn start(serve: ServeOptions) -> H2cServer {
        H2cServer {
            running: Running::start("h2c", Mode::H2c, serve),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// `"http://127.0.0.1:PORT"`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    pub fn stats(&self) -> Stats {
        self.running.shared.counters.snapshot()
    }
}

/// A cleartext HTTP/1.1 server on 127.0.0.1 with an ephemeral port: server.rs's
/// `Behaviour::Fixed` with connection counters and [`ServeOptions`] (idle close, close after N).
pub struct Http1Server {
    running: Running,
}

impl Http1Server {
    pub fn start(serve: ServeOptions) -> Http1Server {
        Http1Server {
            running: Running::start("http1", Mode::Http1, serve),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    /// `"http://127.0.0.1:PORT"`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    pub fn stats(&self) -> Stats {
        self.running.shared.counters.snapshot()
    }
}

fn server_config(options: &TlsOptions) -> ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&'static rustls::SupportedProtocolVersion] = match options.versions {
        TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        TlsVersions::Tls13Only => &[&rustls::version::TLS13],
        TlsVersions::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .expect("ring supports TLS 1.2 and 1.3");
    let builder = match &options.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional(ca) => builder.with_client_cert_verifier(
            client_verifier(ca, &provider)
                .allow_unauthenticated()
                .build()
                .expect("client verifier"),
        ),
        ClientAuth::Required(ca) => builder.with_client_cert_verifier(
            client_verifier(ca, &provider)
                .build()
                .expect("client verifier"),
        ),
    };
    let mut config = builder
        .with_single_cert(vec![options.cert.cert_der()], options.cert.key_der())
        .expect("the server certificate and its key");
    config.alpn_protocols = options.alpn.clone();
    config
}

fn client_verifier(
    ca: &Authority,
    provider: &Arc<CryptoProvider>,
) -> rustls::server::ClientCertVerifierBuilder {
    WebPkiClientVerifier::builder_with_provider(Arc::new(ca.roots()), Arc::clone(provider))
}

/// What a server speaks on each accepted connection.
enum Mode {
    Http1,
    H2c,
    /// TLS, then HTTP/2 or HTTP/1.1 by ALPN.
    Tls(TlsAcceptor),
}

#[derive(Clone, Copy)]
enum Protocol {
    Http1,
    Http2,
}

/// What every connection of one server shares.
struct Shared {
    mode: Mode,
    serve: ServeOptions,
    counters: Counters,
}

/// The thread, runtime and listener behind each public server type (as server.rs's
/// `TestServer`).
struct Running {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(kind: &str, mode: Mode, serve: ServeOptions) -> Running {
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
            mode,
            serve,
            counters: Counters::default(),
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{kind}-server-{}", addr.port()))
            .spawn({
                let shared = Arc::clone(&shared);
                // The runtime is dropped when the thread ends, and with it every task still
                // running (HTTP/2 streams are tasks of their own, outside the accept loop's set).
                move || runtime.block_on(accept_loop(listener, shared, stopped))
            })
            .expect("spawn test server thread");
        Running {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let joined = thread.join();
            // As server.rs: surface a server-side panic unless the test is already panicking.
            if joined.is_err() && !std::thread::panicking() {
                panic!("test server thread panicked");
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    // Connections live in the set so that dropping the server aborts them too (an idle
    // keep-alive connection would otherwise keep its task and socket alive).
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    bump(&shared.counters.connections);
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
                // Transient (e.g. the peer reset while queued): keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let counters = &shared.counters;
    match &shared.mode {
        Mode::Http1 => serve(stream, Protocol::Http1, &shared).await,
        Mode::H2c => serve(stream, Protocol::Http2, &shared).await,
        // The handshake runs in the connection's task, so a slow or silent client holds up no
        // other connection.
        Mode::Tls(acceptor) => match acceptor.accept(stream).into_fallible().await {
            Ok(tls) => {
                let protocol = handshake_done(tls.get_ref().1, counters);
                serve(tls, protocol, &shared).await;
            }
            Err((_, stream)) => {
                bump(&counters.handshake_failures);
                // rustls has sent its alert. Closing at once would turn the close into an RST
                // if the client has sent more (on TLS 1.3 a client is done with its handshake
                // before the server has judged its certificate, and sends its request), and the
                // RST could destroy the alert before the client reads it.
                close_gracefully(stream).await;
            }
        },
    }
    bump(&counters.closed);
}

/// Counts a completed handshake and picks the protocol ALPN chose.
fn handshake_done(tls: &ServerConnection, counters: &Counters) -> Protocol {
    bump(&counters.handshakes);
    if tls.handshake_kind() == Some(HandshakeKind::Resumed) {
        bump(&counters.resumed);
    }
    if tls.protocol_version() == Some(ProtocolVersion::TLSv1_3) {
        bump(&counters.tls13);
    }
    if tls
        .peer_certificates()
        .is_some_and(|certs| !certs.is_empty())
    {
        bump(&counters.client_certs);
    }
    if let Ok(mut names) = counters.server_names.lock() {
        names.push(tls.server_name().map(str::to_owned));
    }
    if tls.alpn_protocol() == Some(H2) {
        Protocol::Http2
    } else {
        Protocol::Http1
    }
}

/// One connection's requests, for its shutdown policies.
#[derive(Default)]
struct ConnState {
    /// Requests received on this connection.
    requests: AtomicU64,
    /// Requests received and not yet answered (or abandoned).
    in_flight: AtomicU64,
    /// Woken whenever a request arrives or is answered.
    activity: Notify,
}

/// A request in progress on a connection: dropped when its answer is ready, or when hyper drops
/// the request (a client-side reset), so that `in_flight` never leaks.
struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.activity.notify_one();
    }
}

async fn serve<I>(io: I, protocol: Protocol, shared: &Arc<Shared>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let state = Arc::new(ConnState::default());
    let service = {
        let shared = Arc::clone(shared);
        let state = Arc::clone(&state);
        service_fn(move |req: Request<Incoming>| {
            // Counted here, when hyper hands the request over, not when the answer's future is
            // first polled (on HTTP/2, in a task of its own, later).
            let counter = match req.version() {
                Version::HTTP_2 => &shared.counters.http2_requests,
                _ => &shared.counters.http1_requests,
            };
            bump(counter);
            let nth = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
            if shared.serve.goaway_after == Some(nth) {
                // Counted here: on HTTP/1.1 hyper may close the connection (after the answer's
                // `connection: close`) before `drive` sees the limit.
                bump(&shared.counters.goaways);
            }
            // HTTP/1.1 has no GOAWAY: the last answer says so itself, as nginx's does.
            let last = req.version() != Version::HTTP_2
                && shared.serve.goaway_after.is_some_and(|n| nth >= n);
            state.in_flight.fetch_add(1, Ordering::SeqCst);
            state.activity.notify_one();
            let in_flight = InFlight(Arc::clone(&state));
            let delay = shared.serve.delay;
            async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                drop(in_flight);
                let mut response = small(StatusCode::OK);
                if last {
                    let close = HeaderValue::from_static("close");
                    response.headers_mut().insert(CONNECTION, close);
                }
                Ok::<_, Infallible>(response)
            }
        })
    };
    let io = TokioIo::new(io);
    // Errors end the connection; they are the client's doing (a reset, a wrong protocol), not
    // the server's.
    match protocol {
        Protocol::Http1 => {
            let connection = pin!(http1::Builder::new().serve_connection(io, service));
            drive(connection, |c| c.graceful_shutdown(), &state, shared).await;
        }
        Protocol::Http2 => {
            let builder = http2::Builder::new(TokioExecutor::new());
            let connection = pin!(builder.serve_connection(io, service));
            drive(connection, |c| c.graceful_shutdown(), &state, shared).await;
        }
    }
}

/// Polls a hyper server connection to its end, shutting it down gracefully (`shut_down`, i.e.
/// hyper's `graceful_shutdown`: GOAWAY on HTTP/2, keep-alive off on HTTP/1.1) when it reaches
/// `goaway_after` requests or has been idle for `idle_timeout`.
async fn drive<C: Future>(
    mut connection: Pin<&mut C>,
    shut_down: impl Fn(Pin<&mut C>),
    state: &ConnState,
    shared: &Shared,
) {
    let ServeOptions {
        goaway_after,
        idle_timeout,
        ..
    } = shared.serve;
    let mut idle_since = Instant::now();
    let mut closing = false;
    loop {
        let idle_at = match idle_timeout {
            Some(idle) if !closing && state.in_flight.load(Ordering::SeqCst) == 0 => {
                Some(idle_since + idle)
            }
            _ => None,
        };
        tokio::select! {
            // Activity first: the connection is not polled again (and so reads no request past
            // the limit) before a limit just reached has been acted on.
            biased;
            _ = state.activity.notified(), if !closing => {
                idle_since = Instant::now();
                if goaway_after.is_some_and(|n| state.requests.load(Ordering::SeqCst) >= n) {
                    closing = true;
                    shut_down(connection.as_mut());
                }
            }
            _ = tokio::time::sleep_until(idle_at.unwrap_or_else(Instant::now)), if idle_at.is_some() => {
                closing = true;
                bump(&shared.counters.idle_closes);
                shut_down(connection.as_mut());
            }
            _ = connection.as_mut() => return,
        }
    }
}
