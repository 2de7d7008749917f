//! Checks of the transport test servers of `tests/support/tls.rs` (HTTPS with ALPN, mutual TLS,
//! h2c, GOAWAY after N requests, idle close) and of the certificates they present, driven by a
//! raw client: tokio-rustls and hyper's own client connections, no pool and no retry, so that
//! what is asserted is what the server did. Where the wire itself is the point (GOAWAY), a few
//! HTTP/2 frames are written and read by hand.
//!
//! Every test runs its client on a current-thread runtime under one 20 s bound, and waits for
//! the server's side of an event by polling its counters against a deadline, never by sleeping
//! for a guessed time. Timings are asserted only as lower bounds the server guarantees.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, ClientConfig, HandshakeKind, ProtocolVersion};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::tls::{
    Authority, CA_NAME, ClientAuth, H2, H2cServer, HTTP_1_1, Http1Server, Identity, SERVER_NAMES,
    ServeOptions, Stats, TestPki, TlsOptions, TlsServer, TlsVersions, WRONG_HOST,
};

type BoxError = Box<dyn StdError + Send + Sync>;
/// A list of ALPN protocol names.
type Alpn<'a> = &'a [&'a [u8]];
/// Whether a certificate error is the one a case expects.
type IsExpected = fn(&CertificateError) -> bool;

// ---------------------------------------------------------------------------------------------
// A raw client

/// Runs a test's client side on a current-thread runtime, bounded: a server that stops
/// answering fails the test, never hangs it.
fn run<F: Future>(test: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), test)
            .await
            .expect("test still running after 20 s")
    })
}

/// Polls `condition` until it holds, for at most 10 s: for the server's side of something the
/// client has already seen (a failed handshake, a close).
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A rustls client trusting `trust` alone, offering `alpn`, on `versions`, presenting `cert`
/// when asked for one. Its session cache is the config's: connections made with one config
/// may resume each other's sessions.
fn client_config(
    trust: &Authority,
    alpn: &[&[u8]],
    versions: TlsVersions,
    cert: Option<&Identity>,
) -> Arc<ClientConfig> {
    let versions: &[&'static rustls::SupportedProtocolVersion] = match versions {
        TlsVersions::Tls12Only => &[&rustls::version::TLS12],
        TlsVersions::Tls13Only => &[&rustls::version::TLS13],
        TlsVersions::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(trust.roots());
    let mut config = match cert {
        None => builder.with_no_client_auth(),
        Some(cert) => builder
            .with_client_auth_cert(vec![cert.cert_der()], cert.key_der())
            .unwrap(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// The default client of these tests: trusts the test CA, offers h2 and http/1.1.
fn trusting(pki: &TestPki) -> Arc<ClientConfig> {
    client_config(&pki.ca, &[H2, HTTP_1_1], TlsVersions::Both, None)
}

async fn tls_connect(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    name: &str,
) -> io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_owned()).expect("a server name");
    TlsConnector::from(Arc::clone(config))
        .connect(name, tcp)
        .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    H1,
    H2,
}

/// The protocol ALPN chose on `tls`: h2, or HTTP/1.1 for anything else (none included).
fn negotiated(tls: &TlsStream<TcpStream>) -> Proto {
    if tls.get_ref().1.alpn_protocol() == Some(H2) {
        Proto::H2
    } else {
        Proto::H1
    }
}

/// One hyper client connection and the task that drives it.
struct Http {
    sender: Sender,
    driver: JoinHandle<Result<(), hyper::Error>>,
}

enum Sender {
    H1(http1::SendRequest<Empty<Bytes>>),
    H2(http2::SendRequest<Empty<Bytes>>),
}

impl Http {
    async fn open<I>(io: I, proto: Proto) -> Result<Http, hyper::Error>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        Ok(match proto {
            Proto::H1 => {
                let (sender, connection) = http1::handshake(io).await?;
                Http {
                    sender: Sender::H1(sender),
                    driver: tokio::spawn(connection),
                }
            }
            Proto::H2 => {
                let (sender, connection) = http2::handshake(TokioExecutor::new(), io).await?;
                Http {
                    sender: Sender::H2(sender),
                    driver: tokio::spawn(connection),
                }
            }
        })
    }

    /// `GET /` and its whole body.
    async fn get(&mut self) -> Result<Response<Bytes>, hyper::Error> {
        let response = match &mut self.sender {
            Sender::H1(sender) => {
                sender.ready().await?;
                let request = Request::get("/").header("host", "localhost");
                sender
                    .send_request(request.body(Empty::new()).unwrap())
                    .await?
            }
            Sender::H2(sender) => {
                sender.ready().await?;
                let request = Request::get("http://localhost/");
                sender
                    .send_request(request.body(Empty::new()).unwrap())
                    .await?
            }
        };
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Response::from_parts(parts, body))
    }

    /// Waits, at most 10 s, for the server to end the connection (the client keeps its side
    /// open: dropping a sender would make hyper close it), and returns how the driver ended.
    async fn server_ends_it(self) -> Result<(), hyper::Error> {
        let Http { sender, driver } = self;
        let ended = tokio::time::timeout(Duration::from_secs(10), driver)
            .await
            .expect("the server left the connection open for 10 s")
            .expect("client connection task");
        drop(sender);
        ended
    }
}

/// Asserts the answer every server gives.
fn assert_ok(response: &Response<Bytes>) {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(&response.body()[..], br#"{"status":200}"#);
}

/// Connects, handshakes, and sends one `GET /` in the protocol ALPN chose: every way a first
/// request over TLS can fail, in one error.
async fn fetch_once(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    name: &str,
) -> Result<Response<Bytes>, BoxError> {
    let tls = tls_connect(addr, config, name).await?;
    let proto = negotiated(&tls);
    let mut http = Http::open(tls, proto).await?;
    Ok(http.get().await?)
}

/// The rustls error somewhere in `err`'s chain (an io::Error hides its inner error from
/// `source()`, so that is looked into too).
fn rustls_error<'e>(err: &'e (dyn StdError + 'static)) -> Option<&'e rustls::Error> {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = err
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .map(|inner| inner as &(dyn StdError + 'static));
        next = inner.or_else(|| err.source());
    }
    None
}

/// Every error in `err`'s chain, as text, one per line.
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(err) = next {
        text.push_str(&format!("\n{err}"));
        next = err.source();
    }
    text
}

fn rustls_error_of(err: &BoxError) -> &rustls::Error {
    rustls_error(err.as_ref()).unwrap_or_else(|| panic!("no rustls error in {err:?}"))
}

// ---------------------------------------------------------------------------------------------
// HTTPS: trust, names, ALPN, versions

#[test]
fn alpn_picks_h2_or_http_1_1_as_the_server_offers_and_the_server_counts_that_protocol() {
    let pki = TestPki::generate();
    let both: Alpn = &[H2, HTTP_1_1];
    // (the server offers, the client asks for, ALPN's choice)
    let cases: [(Alpn, Alpn, Option<&[u8]>); 6] = [
        (both, both, Some(H2)),
        (&[HTTP_1_1], both, Some(HTTP_1_1)),
        (&[H2], both, Some(H2)),
        (both, &[HTTP_1_1], Some(HTTP_1_1)),
        // No ALPN on either side: HTTP/1.1, as before ALPN existed.
        (&[], both, None),
        (both, &[], None),
    ];
    run(async {
        for (offered, asked, expected) in cases {
            let server = TlsServer::start(TlsOptions::new(&pki.server).alpn(offered));
            let config = client_config(&pki.ca, asked, TlsVersions::Both, None);
            let tls = tls_connect(server.addr(), &config, "localhost")
                .await
                .unwrap();
            assert_eq!(
                tls.get_ref().1.alpn_protocol(),
                expected,
                "server {offered:?}, client {asked:?}"
            );
            let proto = negotiated(&tls);
            let mut http = Http::open(tls, proto).await.unwrap();
            for _ in 0..2 {
                assert_ok(&http.get().await.unwrap());
            }
            let (http1, http2) = if proto == Proto::H2 { (0, 2) } else { (2, 0) };
            assert_eq!(
                server.stats(),
                Stats {
                    connections: 1,
                    handshakes: 1,
                    tls13: 1,
                    http1_requests: http1,
                    http2_requests: http2,
                    ..Stats::default()
                },
                "server {offered:?}, client {asked:?}"
            );
        }
    });
}

#[test]
fn an_h2_only_server_refuses_a_client_that_offers_only_http_1_1() {
    // The pitfall of an h2-only ALPN list, from the other side: no common protocol, no
    // connection (rustls will not fall back to "no ALPN" once both sides sent a list).
    let pki = TestPki::generate();
    let server = TlsServer::start(TlsOptions::new(&pki.server).alpn(&[H2]));
    let config = client_config(&pki.ca, &[HTTP_1_1], TlsVersions::Both, None);
    run(async {
        let err = fetch_once(server.addr(), &config, "localhost")
            .await
            .unwrap_err();
        assert_eq!(
            rustls_error_of(&err),
            &rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol)
        );
        eventually("the server's failed handshake", || {
            server.stats().handshake_failures == 1
        })
        .await;
    });
    assert_eq!(server.stats().handshakes, 0);
}

#[test]
fn the_server_certificate_is_valid_for_localhost_and_both_loopback_addresses() {
    let pki = TestPki::generate();
    let server = TlsServer::start(TlsOptions::new(&pki.server));
    let config = trusting(&pki);
    run(async {
        // ::1 is verified as a name only: the TCP connection goes to 127.0.0.1, where the
        // server listens.
        for name in SERVER_NAMES {
            let response = fetch_once(server.addr(), &config, name).await;
            assert_ok(&response.unwrap_or_else(|e| panic!("{name}: {e}")));
        }
    });
    // A client sends SNI for a host name, never for an address.
    assert_eq!(
        server.server_names(),
        vec![Some("localhost".to_string()), None, None]
    );
    assert_eq!(server.stats().handshakes, 3);
    assert_eq!(
        server.url_for("localhost"),
        format!("https://localhost:{}", server.addr().port())
    );
    assert_eq!(server.url(), format!("https://{}", server.addr()));
    assert_eq!(
        server.url_for("::1"),
        format!("https://[::1]:{}", server.addr().port())
    );
}

#[test]
fn untrusted_wrong_host_and_expired_certificates_fail_verification_with_their_rustls_error() {
    let pki = TestPki::generate();
    let config = trusting(&pki);
    let cases: [(&str, &Identity, IsExpected); 3] = [
        ("untrusted", &pki.untrusted_server, |e| {
            matches!(e, CertificateError::UnknownIssuer)
        }),
        ("wrong host", &pki.wrong_host, |e| {
            matches!(
                e,
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        }),
        ("expired", &pki.expired, |e| {
            matches!(
                e,
                CertificateError::Expired | CertificateError::ExpiredContext { .. }
            )
        }),
    ];
    run(async {
        for (what, cert, expected) in cases {
            let server = TlsServer::start(TlsOptions::new(cert));
            let err = fetch_once(server.addr(), &config, "localhost")
                .await
                .unwrap_err();
            match rustls_error_of(&err) {
                rustls::Error::InvalidCertificate(e) if expected(e) => {}
                other => panic!("{what}: {other:?}"),
            }
            // The client said why in its alert, and the server saw the handshake fail.
            eventually(what, || server.stats().handshake_failures == 1).await;
            let stats = server.stats();
            assert_eq!((stats.handshakes, stats.requests()), (0, 0), "{what}");
        }
    });
}

#[test]
fn each_bad_certificate_has_only_its_one_defect() {
    // The verification failures above are for the stated reason: with the right trust, name or
    // clock, each certificate verifies. (The verifier is asked directly, so the clock can be
    // set to the year 2000.)
    let pki = TestPki::generate();
    let verify = |trust: &Authority, cert: &Identity, name: &str, now: UnixTime| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(trust.roots()), provider)
                .build()
                .unwrap();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier
            .verify_server_cert(&cert.cert_der(), &[], &name, &[], now)
            .map(|_| ())
    };
    let now = UnixTime::now();
    let in_2000 = UnixTime::since_unix_epoch(Duration::from_secs(959_817_600)); // 2000-06-01
    assert_eq!(verify(&pki.ca, &pki.server, "localhost", now), Ok(()));
    assert_eq!(
        verify(&pki.untrusted_ca, &pki.untrusted_server, "localhost", now),
        Ok(())
    );
    assert_eq!(verify(&pki.ca, &pki.wrong_host, WRONG_HOST, now), Ok(()));
    assert_eq!(verify(&pki.ca, &pki.expired, "localhost", in_2000), Ok(()));
    // And the negative cases, asked the same way, fail as over the wire.
    assert!(matches!(
        verify(&pki.ca, &pki.expired, "localhost", now),
        Err(rustls::Error::InvalidCertificate(
            CertificateError::ExpiredContext { .. }
        ))
    ));
    assert_eq!(
        verify(&pki.ca, &pki.untrusted_server, "localhost", now),
        Err(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer
        ))
    );
}

#[test]
fn tls_versions_are_what_the_server_allows() {
    let pki = TestPki::generate();
    let cases = [
        (
            TlsVersions::Both,
            TlsVersions::Both,
            ProtocolVersion::TLSv1_3,
        ),
        (
            TlsVersions::Tls12Only,
            TlsVersions::Both,
            ProtocolVersion::TLSv1_2,
        ),
        (
            TlsVersions::Tls13Only,
            TlsVersions::Both,
            ProtocolVersion::TLSv1_3,
        ),
        (
            TlsVersions::Both,
            TlsVersions::Tls12Only,
            ProtocolVersion::TLSv1_2,
        ),
    ];
    run(async {
        for (allowed, offered, expected) in cases {
            let server = TlsServer::start(TlsOptions::new(&pki.server).versions(allowed));
            let config = client_config(&pki.ca, &[HTTP_1_1], offered, None);
            let tls = tls_connect(server.addr(), &config, "localhost")
                .await
                .unwrap();
            assert_eq!(
                tls.get_ref().1.protocol_version(),
                Some(expected),
                "server {allowed:?}, client {offered:?}"
            );
            let mut http = Http::open(tls, Proto::H1).await.unwrap();
            assert_ok(&http.get().await.unwrap());
            let tls13 = u64::from(expected == ProtocolVersion::TLSv1_3);
            assert_eq!(
                (server.stats().handshakes, server.stats().tls13),
                (1, tls13)
            );
        }
        // No version in common: the server refuses with a protocol_version alert.
        for (allowed, offered) in [
            (TlsVersions::Tls12Only, TlsVersions::Tls13Only),
            (TlsVersions::Tls13Only, TlsVersions::Tls12Only),
        ] {
            let server = TlsServer::start(TlsOptions::new(&pki.server).versions(allowed));
            let config = client_config(&pki.ca, &[HTTP_1_1], offered, None);
            let err = fetch_once(server.addr(), &config, "localhost")
                .await
                .unwrap_err();
            assert_eq!(
                rustls_error_of(&err),
                &rustls::Error::AlertReceived(AlertDescription::ProtocolVersion),
                "server {allowed:?}, client {offered:?}"
            );
            eventually("the failed handshake", || {
                server.stats().handshake_failures == 1
            })
            .await;
        }
    });
}

#[test]
fn a_reconnecting_client_resumes_its_session_and_the_server_counts_it() {
    let pki = TestPki::generate();
    run(async {
        for versions in [TlsVersions::Tls12Only, TlsVersions::Tls13Only] {
            let server = TlsServer::start(TlsOptions::new(&pki.server).versions(versions));
            let config = client_config(&pki.ca, &[HTTP_1_1], TlsVersions::Both, None);
            let mut kinds = Vec::new();
            for _ in 0..2 {
                let tls = tls_connect(server.addr(), &config, "localhost")
                    .await
                    .unwrap();
                kinds.push(tls.get_ref().1.handshake_kind());
                // A whole exchange, so that the client has read TLS 1.3's session tickets
                // (they arrive after the handshake).
                let mut http = Http::open(tls, Proto::H1).await.unwrap();
                assert_ok(&http.get().await.unwrap());
            }
            assert_eq!(
                kinds,
                [Some(HandshakeKind::Full), Some(HandshakeKind::Resumed)],
                "{versions:?}"
            );
            // A client with a fresh session cache has nothing to resume.
            let fresh = client_config(&pki.ca, &[HTTP_1_1], TlsVersions::Both, None);
            assert_ok(
                &fetch_once(server.addr(), &fresh, "localhost")
                    .await
                    .unwrap(),
            );
            let stats = server.stats();
            assert_eq!(
                (stats.connections, stats.handshakes, stats.resumed),
                (3, 3, 1),
                "{versions:?}"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Mutual TLS

#[test]
fn mtls_required_refuses_a_client_without_a_trusted_certificate_and_serves_one_with() {
    let pki = TestPki::generate();
    run(async {
        for (versions, alpn) in [
            (TlsVersions::Tls12Only, HTTP_1_1),
            (TlsVersions::Tls13Only, HTTP_1_1),
            (TlsVersions::Tls12Only, H2),
            (TlsVersions::Tls13Only, H2),
        ] {
            let case = format!("{versions:?} {}", String::from_utf8_lossy(alpn));
            let server = TlsServer::start(
                TlsOptions::new(&pki.server)
                    .versions(versions)
                    .client_auth(ClientAuth::Required(pki.client_ca.clone())),
            );
            let attempt = |cert: Option<&Identity>| {
                let config = client_config(&pki.ca, &[alpn], TlsVersions::Both, cert);
                let addr = server.addr();
                async move { fetch_once(addr, &config, "localhost").await }
            };
            // (rustls says certificate_required on TLS 1.2 too, where the RFC has no such alert.)
            for (cert, alert) in [
                (None, AlertDescription::CertificateRequired),
                (Some(&pki.untrusted_client), AlertDescription::UnknownCA),
            ] {
                let err = attempt(cert).await.unwrap_err();
                // On TLS 1.3 the client's handshake is over before the server has judged its
                // certificate, so the refusal arrives on the first request; HTTP/2 (the h2
                // crate) then keeps only the text of the io error, not the rustls error.
                if versions == TlsVersions::Tls13Only && alpn == H2 {
                    let text = chain_text(err.as_ref());
                    assert!(text.contains(&format!("{alert:?}")), "{case}: {text}");
                } else {
                    assert_eq!(
                        rustls_error_of(&err),
                        &rustls::Error::AlertReceived(alert),
                        "{case}"
                    );
                }
            }
            eventually("two failed handshakes", || {
                server.stats().handshake_failures == 2
            })
            .await;
            assert_eq!(server.stats().client_certs, 0);

            // With the client certificate.
            assert_ok(&attempt(Some(&pki.client)).await.unwrap());
            let stats = server.stats();
            assert_eq!(
                (stats.handshakes, stats.client_certs, stats.requests()),
                (1, 1, 1),
                "{case}"
            );
        }
    });
}

#[test]
fn mtls_optional_serves_clients_with_and_without_a_certificate_and_says_which() {
    let pki = TestPki::generate();
    let server = TlsServer::start(
        TlsOptions::new(&pki.server).client_auth(ClientAuth::Optional(pki.client_ca.clone())),
    );
    run(async {
        assert_ok(
            &fetch_once(server.addr(), &trusting(&pki), "localhost")
                .await
                .unwrap(),
        );
        assert_eq!(server.stats().client_certs, 0);
        let config = client_config(&pki.ca, &[H2], TlsVersions::Both, Some(&pki.client));
        assert_ok(
            &fetch_once(server.addr(), &config, "localhost")
                .await
                .unwrap(),
        );
        assert_eq!(server.stats().client_certs, 1);
    });
    assert_eq!(server.stats().handshakes, 2);
}

#[test]
fn the_pem_files_written_for_the_cli_are_the_pki_and_work_for_mutual_tls() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let files = pki.write_to(dir.path());
    for (path, name) in [
        (&files.ca, "ca.pem"),
        (&files.client_cert, "client.pem"),
        (&files.client_key, "client.key"),
        (&files.untrusted_ca, "untrusted-ca.pem"),
    ] {
        assert_eq!(path, &dir.path().join(name));
    }
    let cert = |path| CertificateDer::from_pem_file(path).unwrap();
    assert_eq!(cert(&files.ca), pki.ca.cert_der());
    assert_eq!(cert(&files.untrusted_ca), pki.untrusted_ca.cert_der());
    assert_eq!(cert(&files.client_ca), pki.client_ca.cert_der());
    assert_eq!(cert(&files.server_cert), pki.server.cert_der());
    assert_eq!(cert(&files.client_cert), pki.client.cert_der());
    assert_eq!(
        cert(&files.untrusted_client_cert),
        pki.untrusted_client.cert_der()
    );
    let key = |path| PrivateKeyDer::from_pem_file(path).unwrap();
    for (path, identity) in [
        (&files.server_key, &pki.server),
        (&files.client_key, &pki.client),
        (&files.untrusted_client_key, &pki.untrusted_client),
    ] {
        assert_eq!(key(path).secret_der(), identity.key_der().secret_der());
    }
    // The CA's name is in its certificate, for slagate's messages to repeat.
    let ca = cert(&files.ca);
    let (_, parsed) = x509_parser::parse_x509_certificate(&ca).unwrap();
    let common_name = parsed.subject().iter_common_name().next().unwrap();
    assert_eq!(common_name.as_str().unwrap(), CA_NAME);
    assert_eq!(pki.ca.name(), CA_NAME);

    // A client made from the files alone passes a server that requires a client certificate.
    let server = TlsServer::start(
        TlsOptions::new(&pki.server).client_auth(ClientAuth::Required(pki.client_ca.clone())),
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert(&files.ca)).unwrap();
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(vec![cert(&files.client_cert)], key(&files.client_key))
            .unwrap();
    run(async {
        assert_ok(
            &fetch_once(server.addr(), &Arc::new(config), "localhost")
                .await
                .unwrap(),
        );
    });
    assert_eq!(server.stats().client_certs, 1);
}

// ---------------------------------------------------------------------------------------------
// h2c

#[test]
fn h2c_serves_http2_with_prior_knowledge_and_only_http2() {
    let server = H2cServer::start(ServeOptions::new());
    assert_eq!(server.url(), format!("http://{}", server.addr()));
    run(async {
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let mut http = Http::open(tcp, Proto::H2).await.unwrap();
        for _ in 0..3 {
            assert_ok(&http.get().await.unwrap());
        }
        assert_eq!(
            server.stats(),
            Stats {
                connections: 1,
                http2_requests: 3,
                ..Stats::default()
            }
        );
        // HTTP/1.1 is not HTTP/2's preface: no answer, and nothing counted as a request.
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let mut http = Http::open(tcp, Proto::H1).await.unwrap();
        assert!(http.get().await.is_err());
        eventually("the HTTP/1.1 connection closed", || {
            server.stats().closed == 1
        })
        .await;
    });
    let stats = server.stats();
    assert_eq!((stats.connections, stats.http1_requests), (2, 0));
}

// ---------------------------------------------------------------------------------------------
// GOAWAY after N requests

/// A few HTTP/2 frames by hand (RFC 9113 §4): what the server sent, not what a client library
/// made of it.
mod frames {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const SETTINGS: u8 = 0x4;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;

    #[derive(Debug)]
    pub struct Frame {
        pub kind: u8,
        pub flags: u8,
        pub stream: u32,
        pub payload: Vec<u8>,
    }

    pub async fn write(tcp: &mut TcpStream, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let mut frame = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        frame.extend([kind, flags]);
        frame.extend(stream.to_be_bytes());
        frame.extend(payload);
        tcp.write_all(&frame).await.unwrap();
    }

    /// The next frame; `None` once the server has closed the connection.
    pub async fn read(tcp: &mut TcpStream) -> Option<Frame> {
        let mut head = [0u8; 9];
        match tcp.read_exact(&mut head).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return None,
            Err(e) => panic!("reading a frame: {e}"),
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        tcp.read_exact(&mut payload).await.unwrap();
        Some(Frame {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff,
            payload,
        })
    }

    /// `GET http://localhost/` in HPACK: :method GET, :scheme http, :path / (static table
    /// entries 2, 6 and 4), :authority localhost (a literal without indexing, name entry 1).
    pub fn get_request() -> Vec<u8> {
        let mut block = vec![0x82, 0x86, 0x84, 0x01, 9];
        block.extend(b"localhost");
        block
    }
}

#[test]
fn goaway_after_n_requests_arrives_on_the_wire_once_the_nth_request_is_in() {
    use frames::*;
    const N: u32 = 3;
    let server = H2cServer::start(ServeOptions::new().goaway_after(u64::from(N)));
    run(async {
        let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
        tcp.write_all(PREFACE).await.unwrap();
        write(&mut tcp, SETTINGS, 0, 0, &[]).await;

        // (last stream id, error code) of each GOAWAY, and which request had been sent by then.
        let mut goaways: Vec<(u32, u32, u32)> = Vec::new();
        let mut statuses = Vec::new();
        let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); N as usize];
        let mut sent = 0;
        let mut done = 0;
        loop {
            // One request at a time: the next goes once the previous one's answer has ended.
            if sent == done && sent < N {
                sent += 1;
                let block = get_request();
                write(
                    &mut tcp,
                    HEADERS,
                    END_STREAM | END_HEADERS,
                    2 * sent - 1,
                    &block,
                )
                .await;
            }
            let Some(frame) = read(&mut tcp).await else {
                break;
            };
            match frame.kind {
                SETTINGS if frame.flags & ACK == 0 => write(&mut tcp, SETTINGS, ACK, 0, &[]).await,
                // hyper's graceful shutdown pings, and sends its final GOAWAY on the answer.
                PING if frame.flags & ACK == 0 => {
                    write(&mut tcp, PING, ACK, 0, &frame.payload).await
                }
                GOAWAY => {
                    let word = |at: usize| {
                        u32::from_be_bytes(frame.payload[at..at + 4].try_into().unwrap())
                    };
                    goaways.push((word(0) & 0x7fff_ffff, word(4), sent));
                }
                HEADERS | DATA if frame.stream > 0 => {
                    let index = (frame.stream as usize - 1) / 2;
                    if frame.kind == HEADERS {
                        statuses.push(frame.payload.first().copied());
                    } else {
                        bodies[index].extend(&frame.payload);
                    }
                    if frame.flags & END_STREAM != 0 {
                        done += 1;
                    }
                }
                _ => {}
            }
        }
        // Every request was answered: 200 (static table entry 8) and the JSON body.
        assert_eq!((sent, done), (N, N));
        assert_eq!(statuses, vec![Some(0x88); N as usize]);
        assert!(
            bodies.iter().all(|b| b == br#"{"status":200}"#),
            "{bodies:?}"
        );
        // No GOAWAY before the N-th request; the last one names the N-th stream as the last the
        // server handles, with no error (hyper first announces with the largest stream id).
        assert!(
            !goaways.is_empty(),
            "no GOAWAY before the connection closed"
        );
        assert!(goaways.iter().all(|&(_, _, sent)| sent == N), "{goaways:?}");
        assert_eq!(goaways.last().map(|g| (g.0, g.1)), Some((2 * N - 1, 0)));
    });
    let stats = server.stats();
    assert_eq!((stats.goaways, stats.http2_requests), (1, u64::from(N)));
}

#[test]
fn goaway_after_n_requests_makes_a_client_move_to_a_new_connection_over_tls() {
    let pki = TestPki::generate();
    run(async {
        for alpn in [H2, HTTP_1_1] {
            let server = TlsServer::start(
                TlsOptions::new(&pki.server)
                    .alpn(&[alpn])
                    .serve(ServeOptions::new().goaway_after(3)),
            );
            let config = trusting(&pki);
            let connect = || async {
                let tls = tls_connect(server.addr(), &config, "localhost")
                    .await
                    .unwrap();
                let proto = negotiated(&tls);
                Http::open(tls, proto).await.unwrap()
            };
            let mut http = connect().await;
            let mut last = None;
            for _ in 0..3 {
                let response = http.get().await.unwrap();
                assert_ok(&response);
                last = Some(response);
            }
            if alpn == HTTP_1_1 {
                // HTTP/1.1 has no GOAWAY: the last answer says the connection closes.
                let close = last.as_ref().and_then(|r| r.headers().get("connection"));
                assert_eq!(close.map(|v| v.as_bytes()), Some(&b"close"[..]));
            }
            // The server ends the connection; it was a graceful end, not an error.
            let ended = http.server_ends_it().await;
            assert!(
                ended.is_ok(),
                "{:?}: {ended:?}",
                String::from_utf8_lossy(alpn)
            );

            let mut http = connect().await;
            assert_ok(&http.get().await.unwrap());
            let stats = server.stats();
            assert_eq!(
                (stats.connections, stats.goaways, stats.requests()),
                (2, 1, 4),
                "{:?}",
                String::from_utf8_lossy(alpn)
            );
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Idle keep-alive connections

#[test]
fn an_idle_connection_is_closed_after_the_idle_time_and_the_next_one_is_served() {
    let idle = Duration::from_secs(1);
    let http1 = Http1Server::start(ServeOptions::new().idle_timeout(idle));
    let h2c = H2cServer::start(ServeOptions::new().idle_timeout(idle));
    assert_eq!(http1.url(), format!("http://{}", http1.addr()));
    run(async {
        closed_when_idle(Proto::H1, http1.addr(), idle, || http1.stats()).await;
        closed_when_idle(Proto::H2, h2c.addr(), idle, || h2c.stats()).await;
    });
}

/// One request on a connection to `addr`, which the server must close once idle for `idle`;
/// then one on a new connection.
async fn closed_when_idle(
    proto: Proto,
    addr: SocketAddr,
    idle: Duration,
    stats: impl Fn() -> Stats,
) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut http = Http::open(tcp, proto).await.unwrap();
    let sent = Instant::now();
    assert_ok(&http.get().await.unwrap());
    assert!(http.server_ends_it().await.is_ok(), "{proto:?}");
    // Never before the idle time: it runs from the answer, which came after `sent`.
    assert!(sent.elapsed() >= idle, "{proto:?}: {:?}", sent.elapsed());
    assert_eq!(stats().idle_closes, 1, "{proto:?}");

    // A client that finds its connection closed connects again and is served.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut http = Http::open(tcp, proto).await.unwrap();
    assert_ok(&http.get().await.unwrap());
    let stats = stats();
    assert_eq!((stats.connections, stats.requests()), (2, 2), "{proto:?}");
}

#[test]
fn a_request_slower_than_the_idle_time_is_not_idleness() {
    // The idle clock runs only while no request is in progress: the close comes an idle time
    // after the slow answer, not during it (hyper's graceful shutdown would let the answer
    // finish, so the tell is the close coming right after it).
    let idle = Duration::from_millis(300);
    let delay = Duration::from_millis(900);
    let server = Http1Server::start(ServeOptions::new().idle_timeout(idle).delay(delay));
    run(async {
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let mut http = Http::open(tcp, Proto::H1).await.unwrap();
        let sent = Instant::now();
        let response = http.get().await.unwrap();
        assert_ok(&response);
        assert!(sent.elapsed() >= delay);
        assert_eq!(response.headers().get("connection"), None);
        assert!(http.server_ends_it().await.is_ok());
        assert!(sent.elapsed() >= delay + idle, "{:?}", sent.elapsed());
    });
    let stats = server.stats();
    assert_eq!((stats.idle_closes, stats.connections), (1, 1));
}

// ---------------------------------------------------------------------------------------------
// Shutting down

#[test]
fn a_dropped_tls_server_stops_at_once_even_with_an_idle_http2_connection() {
    let pki = TestPki::generate();
    let server = TlsServer::start(TlsOptions::new(&pki.server));
    let addr = server.addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = trusting(&pki);
    let http = runtime.block_on(async {
        let tls = tls_connect(addr, &config, "localhost").await.unwrap();
        assert_eq!(negotiated(&tls), Proto::H2);
        let mut http = Http::open(tls, Proto::H2).await.unwrap();
        assert_ok(&http.get().await.unwrap());
        http
    });
    let dropping = std::time::Instant::now();
    drop(server);
    assert!(dropping.elapsed() < Duration::from_secs(5));
    runtime.block_on(async {
        // The idle connection ended with the server, and nothing listens any more.
        let ended = tokio::time::timeout(Duration::from_secs(10), http.driver).await;
        assert!(ended.is_ok(), "the connection outlived its server");
        let refused = TcpStream::connect(addr).await.map(|_| ()).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    });
    drop(http.sender);
}
