//! What became of one request. Failures are counted by kind (and status code), never by message.

use std::fmt;

/// The result of one request, as the engine classified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response whose status the endpoint accepts.
    Success,
    Failure(FailureKind),
}

impl Outcome {
    /// Whether the request has a response time: it got an answer (whatever its status), or it
    /// timed out (it took the whole timeout). A request refused, reset or closed before an
    /// answer has none.
    pub fn has_response_time(self) -> bool {
        match self {
            Outcome::Success => true,
            Outcome::Failure(kind) => kind.has_response_time(),
        }
    }
}

/// Why a request failed. `Status` is a whole response with an unexpected code; the rest are
/// transport failures, where no (complete) response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// A complete response with a status outside `expect_status`.
    Status(u16),
    /// The target refused the TCP connection (nothing listening).
    ConnectRefused,
    /// Any other failure to connect (unreachable, DNS, connect timeout).
    Connect,
    /// No complete response within the per-request timeout.
    Timeout,
    /// The connection was reset by the peer.
    Reset,
    /// The peer closed the connection before the response was complete.
    Closed,
    /// The response was not valid HTTP (or broke the HTTP/2 protocol).
    Protocol,
    /// The TLS handshake or a TLS record failed (certificate refused mid-run, bad record).
    Tls,
    /// The HTTP/2 connection was ended by the server's GOAWAY with this stream on it.
    GoAway,
    /// The server reset this HTTP/2 stream (RST_STREAM).
    StreamReset,
    /// The server refused this HTTP/2 stream unprocessed (REFUSED_STREAM).
    StreamRefused,
    /// Any other I/O error.
    Io,
    /// The load generator's own machine ran out of something (file descriptors, ephemeral
    /// ports): the target is not to blame.
    LocalResource,
    /// Open model: the arrival was due but every one of `max_in_flight` requests was still
    /// held by the service, so it was never sent (a real client would have waited or failed).
    Dropped,
    /// A successful answer that lacked a value a capture takes from it (`capture = {…}`): the
    /// user's flow could not go on with it.
    Capture,
}

impl FailureKind {
    /// Every kind but `Status`: the transport failures, where no complete response arrived,
    /// and the capture failure (an answer without a value the flow needs).
    pub const TRANSPORT: [FailureKind; 14] = [
        FailureKind::ConnectRefused,
        FailureKind::Connect,
        FailureKind::Timeout,
        FailureKind::Reset,
        FailureKind::Closed,
        FailureKind::Protocol,
        FailureKind::Tls,
        FailureKind::GoAway,
        FailureKind::StreamReset,
        FailureKind::StreamRefused,
        FailureKind::Io,
        FailureKind::LocalResource,
        FailureKind::Dropped,
        FailureKind::Capture,
    ];

    /// Stable identifier for machine formats (`status_503`, `connect_refused`, …).
    pub fn id(self) -> String {
        match self {
            FailureKind::Status(code) => format!("status_{code}"),
            other => other.transport_id().to_string(),
        }
    }

    fn transport_id(self) -> &'static str {
        match self {
            FailureKind::Status(_) => "status",
            FailureKind::ConnectRefused => "connect_refused",
            FailureKind::Connect => "connect_error",
            FailureKind::Timeout => "timeout",
            FailureKind::Reset => "connection_reset",
            FailureKind::Closed => "connection_closed",
            FailureKind::Protocol => "protocol_error",
            FailureKind::Tls => "tls_error",
            FailureKind::GoAway => "goaway",
            FailureKind::StreamReset => "stream_reset",
            FailureKind::StreamRefused => "stream_refused",
            FailureKind::Io => "io_error",
            FailureKind::LocalResource => "local_resource_exhausted",
            FailureKind::Dropped => "dropped",
            FailureKind::Capture => "capture",
        }
    }

    /// An unexpected status or a failed capture (an answer) or a timeout: see
    /// `Outcome::has_response_time`.
    pub fn has_response_time(self) -> bool {
        matches!(
            self,
            FailureKind::Status(_) | FailureKind::Timeout | FailureKind::Capture
        )
    }

    /// A complete answer came (an unexpected status, or one a capture found nothing in).
    pub fn is_answer(self) -> bool {
        matches!(self, FailureKind::Status(_) | FailureKind::Capture)
    }

    /// The connection to the target was never made (refused, unreachable): the request did
    /// not reach it at all.
    pub fn is_connect(self) -> bool {
        matches!(self, FailureKind::ConnectRefused | FailureKind::Connect)
    }

    /// True for failures of the load generator's machine rather than of the target.
    pub fn is_local(self) -> bool {
        matches!(self, FailureKind::LocalResource)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::Status(code) => match http::StatusCode::from_u16(*code)
                .ok()
                .and_then(|s| s.canonical_reason())
            {
                Some(reason) => write!(f, "HTTP {code} {reason}"),
                None => write!(f, "HTTP {code}"),
            },
            FailureKind::ConnectRefused => f.write_str("connection refused"),
            FailureKind::Connect => f.write_str("connect error"),
            FailureKind::Timeout => f.write_str("timeout"),
            FailureKind::Reset => f.write_str("connection reset"),
            FailureKind::Closed => f.write_str("connection closed early"),
            FailureKind::Protocol => f.write_str("invalid HTTP response"),
            FailureKind::Tls => f.write_str("TLS error"),
            FailureKind::GoAway => f.write_str("HTTP/2 GOAWAY"),
            FailureKind::StreamReset => f.write_str("HTTP/2 stream reset"),
            FailureKind::StreamRefused => f.write_str("HTTP/2 stream refused"),
            FailureKind::Io => f.write_str("I/O error"),
            FailureKind::LocalResource => f.write_str("load generator out of resources"),
            FailureKind::Dropped => f.write_str("not sent: max_in_flight all held"),
            FailureKind::Capture => f.write_str("capture found nothing"),
        }
    }
}
