//! How the run's connections were made, apart from the requests sent on them: TCP connect and
//! TLS handshake times, reconnects, failed attempts, resumed sessions, and what was negotiated
//! (HTTP version, TLS version, cipher suite). A request's latency runs from its write on an
//! established connection; what it cost to establish that connection is here, so that a
//! reconnect never inflates a response time and a user who wants the cold-connection cost can
//! budget it (`connect_budget`).
//!
//! Each worker keeps its own `ConnectionRecorder` (pre-sized histograms, no lock) and hands it
//! over once, when it ends; connections open far less often than requests are sent.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::{Sparse, new_histogram};

/// The run's connections, added up over every worker.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Connections {
    /// TCP connect time of every connection opened, µs.
    pub tcp: Sparse,
    /// TLS handshake time of every TLS connection opened, µs.
    pub tls: Sparse,
    /// Set-up time (TCP connect + TLS handshake) of every connection opened, µs: what
    /// `connect_budget` judges.
    pub setup: Sparse,
    /// Connections established.
    pub opened: u64,
    /// Of those, connections opened to replace one that was closed or failed.
    pub reconnects: u64,
    /// Connection attempts that failed (refused, unreachable, timed out, TLS refused).
    pub failed: u64,
    /// TLS handshakes that resumed an earlier session (much cheaper than a full one).
    pub resumed: u64,
    /// Requests written again on a new connection because the server had closed the idle
    /// keep-alive connection before the request could be written: not failures.
    pub retried: u64,
    /// HTTP/2 connections the server ended with GOAWAY (their users moved to a new one).
    pub goaways: u64,
    /// Connections per negotiated protocol ("HTTP/1.1", "HTTP/2"), most first.
    pub protocols: Vec<(String, u64)>,
    /// TLS connections per version ("TLSv1.3").
    pub tls_versions: Vec<(String, u64)>,
    /// TLS connections per cipher suite.
    pub ciphers: Vec<(String, u64)>,
    /// Whether server certificates were verified: `Some(false)` under `--insecure`, `None`
    /// for cleartext targets.
    pub verified: Option<bool>,
}

impl Connections {
    /// The set-up times as a histogram.
    pub fn setup_histogram(&self) -> Histogram<u64> {
        let mut h = new_histogram();
        self.setup.add_to(&mut h);
        h
    }

    /// Add another worker's (or run's) connections to these.
    pub fn add(&mut self, other: &Connections) {
        let merge = |mine: &mut Sparse, theirs: &Sparse| {
            let mut h = new_histogram();
            mine.add_to(&mut h);
            theirs.add_to(&mut h);
            *mine = Sparse::from_histogram(&h);
        };
        merge(&mut self.tcp, &other.tcp);
        merge(&mut self.tls, &other.tls);
        merge(&mut self.setup, &other.setup);
        self.opened += other.opened;
        self.reconnects += other.reconnects;
        self.failed += other.failed;
        self.resumed += other.resumed;
        self.retried += other.retried;
        self.goaways += other.goaways;
        for (mine, theirs) in [
            (&mut self.protocols, &other.protocols),
            (&mut self.tls_versions, &other.tls_versions),
            (&mut self.ciphers, &other.ciphers),
        ] {
            for (name, n) in theirs {
                count(mine, name, *n);
            }
        }
        self.verified = match (self.verified, other.verified) {
            (Some(a), Some(b)) => Some(a && b),
            (a, b) => a.or(b),
        };
    }
}

fn count(list: &mut Vec<(String, u64)>, name: &str, n: u64) {
    match list.iter_mut().find(|(k, _)| k == name) {
        Some((_, c)) => *c += n,
        None => list.push((name.to_string(), n)),
    }
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

/// What one established connection was.
#[derive(Debug, Clone, Copy)]
pub struct Opened {
    pub tcp: Duration,
    /// `None` for cleartext.
    pub tls: Option<Duration>,
    pub resumed: bool,
    /// It replaced an earlier connection of the same user (or shared slot).
    pub reconnect: bool,
    pub protocol: &'static str,
    pub tls_version: Option<&'static str>,
    pub cipher: Option<&'static str>,
}

/// One worker's connection evidence. Owned by the worker; handed over when it ends.
pub struct ConnectionRecorder {
    tcp: Histogram<u64>,
    tls: Histogram<u64>,
    setup: Histogram<u64>,
    totals: Connections,
}

impl Default for ConnectionRecorder {
    fn default() -> Self {
        ConnectionRecorder::new(None)
    }
}

impl ConnectionRecorder {
    /// `verified`: whether certificates are checked (`None` for cleartext).
    pub fn new(verified: Option<bool>) -> Self {
        ConnectionRecorder {
            tcp: new_histogram(),
            tls: new_histogram(),
            setup: new_histogram(),
            totals: Connections {
                verified,
                ..Connections::default()
            },
        }
    }

    pub fn opened(&mut self, c: Opened) {
        let us = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.tcp.saturating_record(us(c.tcp));
        let mut setup = c.tcp;
        if let Some(tls) = c.tls {
            self.tls.saturating_record(us(tls));
            setup += tls;
        }
        self.setup.saturating_record(us(setup));
        let t = &mut self.totals;
        t.opened += 1;
        t.reconnects += u64::from(c.reconnect);
        t.resumed += u64::from(c.resumed);
        count(&mut t.protocols, c.protocol, 1);
        if let Some(v) = c.tls_version {
            count(&mut t.tls_versions, v, 1);
        }
        if let Some(s) = c.cipher {
            count(&mut t.ciphers, s, 1);
        }
    }

    pub fn failed(&mut self) {
        self.totals.failed += 1;
    }

    pub fn retried(&mut self) {
        self.totals.retried += 1;
    }

    pub fn goaway(&mut self) {
        self.totals.goaways += 1;
    }

    /// Everything recorded, as the run's (or to be added to it).
    pub fn finish(mut self) -> Connections {
        self.totals.tcp = Sparse::from_histogram(&self.tcp);
        self.totals.tls = Sparse::from_histogram(&self.tls);
        self.totals.setup = Sparse::from_histogram(&self.setup);
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn set_up_is_tcp_plus_tls_and_workers_add_up() {
        let opened = |tcp: u64, tls: Option<u64>, reconnect: bool| Opened {
            tcp: ms(tcp),
            tls: tls.map(ms),
            resumed: tls == Some(1),
            reconnect,
            protocol: "HTTP/2",
            tls_version: Some("TLSv1.3"),
            cipher: Some("TLS13_AES_128_GCM_SHA256"),
        };
        let mut a = ConnectionRecorder::new(Some(true));
        a.opened(opened(2, Some(10), false));
        a.opened(opened(3, Some(1), true));
        a.failed();
        let mut b = ConnectionRecorder::new(Some(true));
        b.opened(Opened {
            protocol: "HTTP/1.1",
            ..opened(5, Some(20), false)
        });
        b.retried();
        let mut run = a.finish();
        run.add(&b.finish());
        assert_eq!((run.opened, run.reconnects, run.failed), (3, 1, 1));
        assert_eq!((run.resumed, run.retried), (1, 1));
        assert_eq!(
            run.protocols,
            [("HTTP/2".to_string(), 2), ("HTTP/1.1".to_string(), 1)]
        );
        assert_eq!(run.tls_versions, [("TLSv1.3".to_string(), 3)]);
        let setup = run.setup_histogram();
        assert_eq!(setup.len(), 3);
        // 2 + 10, 3 + 1, 5 + 20 ms: set-up is the sum of both phases.
        assert!(setup.equivalent(setup.max(), 25_000), "{}", setup.max());
        assert!(setup.equivalent(setup.min(), 4_000), "{}", setup.min());
        assert_eq!(run.verified, Some(true));
        let mut insecure = Connections {
            verified: Some(false),
            ..Connections::default()
        };
        insecure.add(&run);
        assert_eq!(
            insecure.verified,
            Some(false),
            "one unverified worker taints the run"
        );
    }
}
