//! How a connection to the target is made: every resolved address in turn, TCP with its own
//! connect timeout, TLS (rustls on ring, trust roots from the platform or Mozilla's list, plus
//! `tls.ca`), ALPN built explicitly, then an HTTP/1.1 or HTTP/2 handshake. Each phase is timed
//! on its own, so that set-up is reported as what it is and never counted in a request's
//! latency.
//!
//! Also the pre-flight check: a real connection, TLS handshake included, before any load, so
//! an untrusted, expired or wrong-host certificate fails in milliseconds with a message that
//! says which, instead of a run full of identical errors.

use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::TokioIo;
use rustls::HandshakeKind;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::plan::{HttpVersion, Plan, Transport};
use crate::stats::FailureKind;
use crate::units;

use super::client::{Failure, FailureDetail, classify_connect};

/// A request sender on an established connection, HTTP/1.1 (one user's own) or HTTP/2
/// (shared by up to `max_streams` users).
pub(crate) enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }
}

/// What was negotiated, for one connection or (from the pre-flight) for the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    Http1,
    Http2,
}

impl Protocol {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "HTTP/1.1",
            Protocol::Http2 => "HTTP/2",
        }
    }
}

/// A connection just made: its sender and what making it took.
pub(crate) struct Connected {
    pub(crate) sender: Sender,
    pub(crate) protocol: Protocol,
    pub(crate) tcp: Duration,
    pub(crate) tls: Option<Duration>,
    pub(crate) resumed: bool,
    pub(crate) tls_version: Option<&'static str>,
    pub(crate) cipher: Option<&'static str>,
    /// Resolves when hyper's connection task ends: `true` when the server ended it while it
    /// was in use (an HTTP/2 GOAWAY, an HTTP/1.1 close).
    pub(crate) ended: tokio::sync::oneshot::Receiver<()>,
}

/// hyper's HTTP/2 client spawns its connection tasks; the workers run `LocalSet`s, whose
/// tasks need not be `Send` (hyper-util's executor would require it).
#[derive(Clone, Copy)]
pub(crate) struct LocalExec;

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: Future + 'static,
{
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// HTTP/2 flow-control windows: large, as nghttp2 and oha set them, so that the client never
/// throttles a response body it is timing.
const H2_WINDOW: u32 = (1 << 30) - 1;

/// How this process connects to the target; one per worker (its TLS session cache is the
/// worker's own, not a lock shared across cores).
pub(crate) struct Connector {
    /// Every resolved address, the one the pre-flight reached first.
    addrs: Vec<SocketAddr>,
    connect_timeout: Duration,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    /// HTTP/2 on a cleartext connection (prior knowledge), or after ALPN chose it.
    h2c: bool,
}

impl Connector {
    pub(crate) fn new(
        transport: &Transport,
        preflight: &Preflight,
        roots: &Arc<RootCertStore>,
    ) -> Result<Connector, String> {
        let tls = match &preflight.server_name {
            Some(name) => {
                let config = client_config(transport, roots, None)?;
                Some((TlsConnector::from(Arc::new(config)), name.clone()))
            }
            None => None,
        };
        Ok(Connector {
            addrs: preflight.addrs.clone(),
            connect_timeout: transport.connect_timeout,
            tls,
            h2c: transport.http == HttpVersion::Http2,
        })
    }

    /// Connect, handshake and hand the connection task to the worker's `LocalSet`.
    pub(crate) async fn connect(&self) -> Result<Connected, Failure> {
        let (stream, tcp) = tcp_connect(&self.addrs, self.connect_timeout).await?;
        let Some((connector, name)) = &self.tls else {
            let protocol = if self.h2c {
                Protocol::Http2
            } else {
                Protocol::Http1
            };
            let (sender, ended) = http_handshake(TokioIo::new(stream), protocol).await?;
            return Ok(Connected {
                sender,
                protocol,
                tcp,
                tls: None,
                resumed: false,
                tls_version: None,
                cipher: None,
                ended,
            });
        };
        let left = self.connect_timeout.saturating_sub(tcp);
        let started = Instant::now();
        let tls = tokio::time::timeout(left, connector.connect(name.clone(), stream))
            .await
            .map_err(|_| Failure {
                kind: FailureKind::Connect,
                error: FailureDetail::Text(format!(
                    "no TLS handshake within the connect timeout ({})",
                    units::length(self.connect_timeout)
                )),
            })?
            .map_err(|e| Failure {
                kind: FailureKind::Tls,
                error: FailureDetail::Io(e),
            })?;
        let handshake = started.elapsed();
        let (_, session) = tls.get_ref();
        let protocol = match session.alpn_protocol() {
            Some(b"h2") => Protocol::Http2,
            _ => Protocol::Http1,
        };
        let resumed = session.handshake_kind() == Some(HandshakeKind::Resumed);
        let tls_version = session.protocol_version().map(version_name);
        let cipher = session.negotiated_cipher_suite().map(cipher_name);
        let (sender, ended) = http_handshake(TokioIo::new(tls), protocol).await?;
        Ok(Connected {
            sender,
            protocol,
            tcp,
            tls: Some(handshake),
            resumed,
            tls_version,
            cipher,
            ended,
        })
    }
}

/// TCP to the first address that answers, within `timeout` in all.
async fn tcp_connect(
    addrs: &[SocketAddr],
    timeout: Duration,
) -> Result<(TcpStream, Duration), Failure> {
    let started = Instant::now();
    let mut last = None;
    for addr in addrs {
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                // Requests are small and latency is what we measure: never let Nagle hold
                // them back.
                stream.set_nodelay(true).map_err(|e| Failure {
                    kind: FailureKind::Connect,
                    error: FailureDetail::Io(e),
                })?;
                return Ok((stream, started.elapsed()));
            }
            Ok(Err(e)) => {
                last = Some(Failure {
                    kind: classify_connect(&e),
                    error: FailureDetail::Io(e),
                })
            }
            Err(_) => break,
        }
    }
    Err(last.unwrap_or_else(|| Failure {
        kind: FailureKind::Connect,
        error: FailureDetail::Text(format!(
            "no connection within the connect timeout ({})",
            units::length(timeout)
        )),
    }))
}

async fn http_handshake<I>(
    io: TokioIo<I>,
    protocol: Protocol,
) -> Result<(Sender, tokio::sync::oneshot::Receiver<()>), Failure>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let hyper_failure = |e: hyper::Error| Failure {
        kind: super::client::classify_hyper(&e),
        error: FailureDetail::Hyper(e),
    };
    let sender = match protocol {
        Protocol::Http1 => {
            let (sender, conn) = http1::handshake(io).await.map_err(hyper_failure)?;
            // The connection task ends when the sender is dropped or the peer closes; an
            // error, if any, surfaces on the request in flight, where it is counted.
            tokio::task::spawn_local(async move {
                let _ = conn.await;
                let _ = tx.send(());
            });
            Sender::H1(sender)
        }
        Protocol::Http2 => {
            let (sender, conn) = http2::Builder::new(LocalExec)
                .initial_stream_window_size(H2_WINDOW)
                .initial_connection_window_size(H2_WINDOW)
                .handshake(io)
                .await
                .map_err(hyper_failure)?;
            tokio::task::spawn_local(async move {
                let _ = conn.await;
                let _ = tx.send(());
            });
            Sender::H2(sender)
        }
    };
    Ok((sender, rx))
}

fn version_name(v: rustls::ProtocolVersion) -> &'static str {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "TLS (other)",
    }
}

fn cipher_name(s: rustls::SupportedCipherSuite) -> &'static str {
    s.suite().as_str().unwrap_or("unknown")
}

/// The crypto the engine uses: ring (it builds with a C compiler alone).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The roots a certificate is verified against: the platform's store, or Mozilla's list where
/// the platform has none, plus `tls.ca` / `--cacert`. Loaded once per run.
pub(crate) fn roots(transport: &Transport) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots.add_parsable_certificates(transport.tls.ca.iter().cloned());
    roots
}

/// The ALPN list, written out: an empty or h2-only list is a known pitfall.
fn alpn(http: HttpVersion) -> Vec<Vec<u8>> {
    match http {
        HttpVersion::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
        HttpVersion::Http2 => vec![b"h2".to_vec()],
    }
}

/// A client configuration for the plan's TLS settings; `explain` keeps the certificate a
/// failed verification was about (the pre-flight's).
fn client_config(
    transport: &Transport,
    roots: &Arc<RootCertStore>,
    explain: Option<Arc<Explaining>>,
) -> Result<ClientConfig, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?;
    let verifier: Arc<dyn ServerCertVerifier> = if transport.tls.insecure {
        Arc::new(AcceptAny(Arc::clone(&provider)))
    } else {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::clone(roots), provider)
            .build()
            .map_err(|e| format!("TLS roots: {e}"))?;
        match explain {
            Some(explain) => {
                *explain.inner.lock().unwrap_or_else(|e| e.into_inner()) = Some(inner);
                explain
            }
            None => inner,
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &transport.tls.identity {
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| format!("client certificate {}: {e}", id.source))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn(transport.http);
    Ok(config)
}

/// `-k`: any certificate is accepted, but the handshake's signatures are still checked (the
/// server must hold the key of the certificate it sent).
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The standard verifier, keeping what the certificate said when it was refused, to name its
/// issuer, its names or its dates in the pre-flight's message.
#[derive(Debug, Default)]
struct Explaining {
    inner: Mutex<Option<Arc<WebPkiServerVerifier>>>,
    refused: Mutex<Option<Certificate>>,
}

impl Explaining {
    fn inner(&self) -> Arc<WebPkiServerVerifier> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .expect("set before the verifier is used")
    }
}

impl ServerCertVerifier for Explaining {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result =
            self.inner()
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if result.is_err() {
            *self.refused.lock().unwrap_or_else(|e| e.into_inner()) =
                Certificate::parse(end_entity);
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner().supported_verify_schemes()
    }
}

/// What a refused certificate said about itself.
#[derive(Debug, Clone)]
struct Certificate {
    subject: String,
    issuer: String,
    names: Vec<String>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl Certificate {
    fn parse(der: &CertificateDer<'_>) -> Option<Certificate> {
        use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};
        let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
        let name = |n: &X509Name<'_>| {
            n.iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map_or_else(|| n.to_string(), str::to_string)
        };
        let names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|g| match g {
                        GeneralName::DNSName(d) => Some(d.to_string()),
                        GeneralName::IPAddress(ip) => match ip.len() {
                            4 => Some(
                                std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).ok()?)
                                    .to_string(),
                            ),
                            16 => Some(
                                std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).ok()?)
                                    .to_string(),
                            ),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let time =
            |t: i64| SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
        let validity = cert.validity();
        Some(Certificate {
            subject: name(cert.subject()),
            issuer: name(cert.issuer()),
            names,
            not_before: time(validity.not_before.timestamp()),
            not_after: time(validity.not_after.timestamp()),
        })
    }
}

/// What the pre-flight found: where the target answers and how it speaks.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// Every address the host resolves to, the one that answered first.
    pub(crate) addrs: Vec<SocketAddr>,
    /// The name sent as SNI and verified; `None` for cleartext.
    pub(crate) server_name: Option<ServerName<'static>>,
    /// What the server chose (ALPN), or what was asked for on cleartext.
    pub(crate) protocol: Protocol,
    /// TLS version and cipher suite of the pre-flight handshake.
    pub tls: Option<(String, String)>,
}

impl Preflight {
    /// "HTTP/2 over TLSv1.3 (TLS13_AES_128_GCM_SHA256)", "HTTP/1.1 (cleartext)".
    pub fn describe(&self) -> String {
        match &self.tls {
            Some((version, cipher)) => {
                format!("{} over {version} ({cipher})", self.protocol.name())
            }
            None => format!("{} (cleartext)", self.protocol.name()),
        }
    }
}

/// Why the target cannot be used at all.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// Nothing to connect to: the reason.
    Unreachable(String),
    /// TCP connected, TLS did not: the reason in plain words.
    Tls(String),
}

/// Resolve the target and make one real connection, TLS handshake included.
pub(crate) fn preflight(plan: &Plan, connect_timeout: Duration) -> Result<Preflight, Refusal> {
    let url = &plan.target.base_url;
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    // Brackets are kept by `host_str` for IPv6; resolution wants them off.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Refusal::Unreachable(format!("cannot resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Refusal::Unreachable(format!(
            "{host} resolves to no address"
        )));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Refusal::Unreachable(format!("could not start: {e}")))?;
    let local = tokio::task::LocalSet::new();
    let transport = &plan.target.transport;
    let https = url.scheme() == "https";
    let server_name = if https {
        Some(server_name(plan).map_err(Refusal::Tls)?)
    } else {
        None
    };
    local.block_on(&rt, async {
        // Every address, in the resolver's order, until one accepts (a `localhost` that
        // resolves to ::1 first must not fail a service listening on 127.0.0.1 only).
        let mut reached = None;
        let mut reasons = Vec::new();
        for (i, addr) in addrs.iter().enumerate() {
            match tokio::time::timeout(connect_timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => {
                    reached = Some((i, stream));
                    break;
                }
                Ok(Err(e)) => {
                    let hint = if e.kind() == std::io::ErrorKind::ConnectionRefused {
                        " (is the service running on that port?)"
                    } else {
                        ""
                    };
                    reasons.push(format!("{addr}: {e}{hint}"));
                }
                Err(_) => reasons.push(format!(
                    "{addr}: no connection within {}",
                    units::length(connect_timeout)
                )),
            }
        }
        let Some((i, stream)) = reached else {
            return Err(Refusal::Unreachable(reasons.join("; ")));
        };
        addrs.swap(0, i);
        let Some(name) = server_name else {
            let protocol = if transport.http == HttpVersion::Http2 {
                Protocol::Http2
            } else {
                Protocol::Http1
            };
            return Ok(Preflight {
                addrs,
                server_name: None,
                protocol,
                tls: None,
            });
        };
        let explain = Arc::new(Explaining::default());
        let roots = Arc::new(roots(transport));
        let config =
            client_config(transport, &roots, Some(Arc::clone(&explain))).map_err(Refusal::Tls)?;
        let connector = TlsConnector::from(Arc::new(config));
        let handshake =
            tokio::time::timeout(connect_timeout, connector.connect(name.clone(), stream));
        let mut tls = match handshake.await {
            Err(_) => {
                return Err(Refusal::Tls(format!(
                    "no TLS handshake with {} within {}",
                    host_of(&name),
                    units::length(connect_timeout)
                )));
            }
            Ok(Err(e)) => return Err(Refusal::Tls(explain_failure(&e, &name, &explain, plan))),
            Ok(Ok(tls)) => tls,
        };
        // A server that wants a client certificate says so after the handshake under TLS 1.3
        // (in an alert on the first read): wait briefly for it, or for the server's first
        // bytes (an HTTP/2 server's SETTINGS), whichever comes.
        let mut buf = [0u8; 64];
        if let Ok(Err(e)) =
            tokio::time::timeout(Duration::from_millis(300), tls.read(&mut buf)).await
        {
            return Err(Refusal::Tls(explain_failure(&e, &name, &explain, plan)));
        }
        let (_, session) = tls.get_ref();
        let protocol = match session.alpn_protocol() {
            Some(b"h2") => Protocol::Http2,
            Some(_) => Protocol::Http1,
            None if transport.http == HttpVersion::Http2 => {
                return Err(Refusal::Tls(format!(
                    "{} did not agree to HTTP/2 (ALPN h2): use http = \"auto\" or \"1.1\"",
                    host_of(&name)
                )));
            }
            None => Protocol::Http1,
        };
        let tls_info = session.protocol_version().map(version_name).map(|v| {
            let cipher = session
                .negotiated_cipher_suite()
                .map_or("unknown", cipher_name);
            (v.to_string(), cipher.to_string())
        });
        Ok(Preflight {
            addrs,
            server_name: Some(name),
            protocol,
            tls: tls_info,
        })
    })
}

/// The name sent as SNI and verified: `tls.server_name`, else the URL's host.
fn server_name(plan: &Plan) -> Result<ServerName<'static>, String> {
    let host = match &plan.target.transport.tls.server_name {
        Some(name) => name.clone(),
        None => {
            let host = plan.target.base_url.host_str().unwrap_or_default();
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        }
    };
    ServerName::try_from(host.clone())
        .map_err(|_| format!("{host:?} is not a name a TLS certificate can be checked against"))
}

fn host_of(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// A failed handshake in plain words: which certificate, why, and what to do.
fn explain_failure(
    e: &std::io::Error,
    name: &ServerName<'_>,
    explain: &Explaining,
    plan: &Plan,
) -> String {
    let host = host_of(name);
    let cert = explain
        .refused
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let date = |t: SystemTime| humantime::format_rfc3339_seconds(t).to_string();
    match (rustls_error, cert) {
        (Some(rustls::Error::InvalidCertificate(err)), Some(c)) => match err {
            CertificateError::UnknownIssuer => format!(
                "certificate of {host} issued by an unknown authority \"{}\"; pass --cacert FILE \
                 or set [target] tls.ca",
                c.issuer
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "certificate \"{}\" is for {}, not {host}; connect to a name it covers, or set \
                     [target] tls.server_name",
                    c.subject,
                    if c.names.is_empty() {
                        "no host name".to_string()
                    } else {
                        c.names.join(", ")
                    }
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                "certificate \"{}\" of {host} expired at {}",
                c.subject,
                date(c.not_after)
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!(
                    "certificate \"{}\" of {host} is not valid before {}",
                    c.subject,
                    date(c.not_before)
                )
            }
            other => format!(
                "certificate \"{}\" of {host} was refused: {other:?}",
                c.subject
            ),
        },
        (Some(rustls::Error::AlertReceived(alert)), _)
            if plan.target.transport.tls.identity.is_none()
                && matches!(
                    alert,
                    rustls::AlertDescription::CertificateRequired
                        | rustls::AlertDescription::HandshakeFailure
                        | rustls::AlertDescription::BadCertificate
                ) =>
        {
            format!(
                "{host} requires a client certificate (TLS alert {alert:?}); pass --cert FILE \
                 --key FILE or set [target] tls.cert and tls.key"
            )
        }
        (Some(rustls::Error::AlertReceived(alert)), _) => {
            format!("{host} refused the TLS handshake (alert {alert:?})")
        }
        (Some(other), _) => format!("TLS handshake with {host} failed: {other}"),
        (None, _) => format!("TLS handshake with {host} failed: {e}"),
    }
}
