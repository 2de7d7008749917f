//! One user of the closed model, and the worker-local context its users share: the
//! connector, the recorders, and (for HTTP/2) the connections users share up to `max_streams`.
//!
//! A user loops: an established connection first (made outside the request's time: set-up is
//! recorded as set-up), then the request from its write to its last body byte, then its think
//! time. A connection that could not be made is a failed request of its kind, followed by a
//! back-off (10 ms doubling to 1 s) so that a dead target is not a tight connect loop. A
//! request that could not be written because the server had closed the connection (an idle
//! keep-alive close, a GOAWAY) is written once more on a new connection and counted as a
//! retry, not as a failure.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use super::client::{self, Failure, FailureDetail, Unsent, exchange};
use super::health::WorkerHealth;
use super::transport::{Connected, Connector, Protocol, Sender};
use super::{Shared, Stop, think_time};
use crate::stats::{ConnectionRecorder, FailureKind, Opened, Outcome, Recorder};

/// What one worker's users share (single-threaded: `Rc`, `RefCell`).
pub(super) struct Worker {
    pub(super) shared: Arc<Shared>,
    pub(super) connector: Connector,
    pub(super) recorder: Rc<RefCell<Recorder>>,
    pub(super) health: Rc<RefCell<WorkerHealth>>,
    pub(super) connections: RefCell<ConnectionRecorder>,
    /// HTTP/2: connections shared by `max_streams` users each; `None` for HTTP/1.1, where each
    /// user holds its own.
    pub(super) pool: Option<Pool>,
    pub(super) stop: watch::Receiver<Stop>,
    /// This worker's number (its slot in `Shared::in_flight`).
    pub(super) index: usize,
    /// This worker's own copy of the requests (see `Template::local_copy`).
    pub(super) templates: Vec<super::client::Template>,
}

/// Shared HTTP/2 connections: user `k` of a worker uses slot `k / max_streams`.
pub(super) struct Pool {
    max_streams: usize,
    slots: RefCell<Vec<Rc<tokio::sync::Mutex<Slot>>>>,
}

#[derive(Default)]
struct Slot {
    sender: Option<hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>>,
    /// A connection was made for this slot before: the next one is a reconnect.
    opened: bool,
}

impl Pool {
    pub(super) fn new(max_streams: u32) -> Pool {
        Pool {
            max_streams: usize::try_from(max_streams.max(1)).unwrap_or(usize::MAX),
            slots: RefCell::new(Vec::new()),
        }
    }

    fn slot(&self, user: usize) -> Rc<tokio::sync::Mutex<Slot>> {
        let i = user / self.max_streams;
        let mut slots = self.slots.borrow_mut();
        while slots.len() <= i {
            slots.push(Rc::default());
        }
        Rc::clone(&slots[i])
    }
}

impl Worker {
    /// Whether the run is still on (the server ending a connection now is news).
    fn running(&self) -> bool {
        Instant::now() < self.shared.deadline && !self.shared.stopping()
    }

    /// Make a connection and record what it took. `reconnect`: it replaces an earlier one.
    async fn open(self: &Rc<Self>, reconnect: bool) -> Result<Connected, Failure> {
        match self.connector.connect().await {
            Ok(mut c) => {
                self.connections.borrow_mut().opened(Opened {
                    tcp: c.tcp,
                    tls: c.tls,
                    resumed: c.resumed,
                    reconnect,
                    protocol: c.protocol.name(),
                    tls_version: c.tls_version,
                    cipher: c.cipher,
                });
                if c.protocol == Protocol::Http2 {
                    // An HTTP/2 connection the server ends while the run goes on was ended
                    // by GOAWAY (or broke): count it; its users move to a new one.
                    let ended = std::mem::replace(&mut c.ended, tokio::sync::oneshot::channel().1);
                    let worker = Rc::clone(self);
                    tokio::task::spawn_local(async move {
                        if ended.await.is_ok() && worker.running() {
                            worker.connections.borrow_mut().goaway();
                        }
                    });
                }
                Ok(c)
            }
            Err(f) => {
                self.connections.borrow_mut().failed();
                Err(f)
            }
        }
    }

    /// An established connection for user `k`: its own (HTTP/1.1), or its slot's shared one
    /// (HTTP/2), made if there is none or it closed.
    async fn connection(self: &Rc<Self>, user: usize, had: &mut bool) -> Result<Sender, Failure> {
        let Some(pool) = &self.pool else {
            let c = self.open(*had).await?;
            *had = true;
            return Ok(c.sender);
        };
        let slot = pool.slot(user);
        // Held while connecting: the slot's other users wait for the same connection rather
        // than each opening one.
        let mut slot = slot.lock().await;
        if let Some(s) = &slot.sender
            && !s.is_closed()
        {
            return Ok(Sender::H2(s.clone()));
        }
        let c = self.open(slot.opened).await?;
        slot.opened = true;
        match &c.sender {
            Sender::H2(s) => slot.sender = Some(s.clone()),
            // The server chose HTTP/1.1 on this connection after all: it is this user's alone.
            Sender::H1(_) => slot.sender = None,
        }
        Ok(c.sender)
    }
}

/// How long a user waits after a connection failed before trying again.
pub(super) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(10);
    const MAX: Duration = Duration::from_secs(1);

    pub(super) fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    fn reset(&mut self) {
        self.next = Self::FIRST;
    }

    /// The wait before the next attempt; doubles up to `MAX`.
    fn step(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        wait
    }
}

/// What came of one request.
enum Attempt {
    Answered(client::Response, Instant),
    Failed(Failure, Instant),
    TimedOut(Instant),
    /// No connection could be made: nothing was sent.
    NoConnection(Failure),
}

/// User `id` (the worker's `k`-th), started `scheduled`, until the run ends or is stopped.
pub(super) async fn user_loop(id: u64, k: usize, scheduled: Instant, w: Rc<Worker>) {
    let shared = Arc::clone(&w.shared);
    let mut stop = w.stop.clone();
    shared.active.fetch_add(1, Ordering::Relaxed);
    w.health
        .borrow_mut()
        .user_started(Instant::now().saturating_duration_since(scheduled));
    let mut rng = SmallRng::seed_from_u64(shared.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let total_weight = *shared.cumulative.last().unwrap_or(&1);
    let mut conn: Option<Sender> = None;
    let mut had = false;
    let mut backoff = Backoff::new();
    loop {
        // An atomic load, not the watch channel's lock: this runs once per request.
        if shared.stopping() || Instant::now() >= shared.deadline {
            break;
        }
        let pick = rng.random_range(0..total_weight);
        let endpoint = shared.cumulative.partition_point(|&c| c <= pick);
        let back_off = hit(&w, k, &mut conn, &mut had, &mut backoff, endpoint, None).await;
        let done = Instant::now();
        if back_off {
            let wait = backoff.step();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => break,
            }
            continue;
        }

        let think = think_time(&mut rng, shared.think);
        if !think.is_zero() {
            let wake = done + think;
            if wake >= shared.deadline {
                // The next request would start after the run time: the user stays until the
                // end (it still counts as running) but its wake-up is not the generator's to
                // answer for. Timing it against the deadline would measure the service: a
                // response that came after the deadline would count as a late wake-up.
                tokio::select! {
                    _ = tokio::time::sleep_until(shared.deadline.into()) => {}
                    _ = stop.changed() => {}
                }
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {
                    // The generator's own scheduling latency: how late the timer let us go.
                    w.health
                        .borrow_mut()
                        .woke(Instant::now().saturating_duration_since(wake));
                }
                _ = stop.changed() => break,
            }
        }
    }
    shared.active.fetch_sub(1, Ordering::Relaxed);
}

/// One request, the step both models share: an established connection first (its set-up is
/// recorded as set-up), then the exchange from its write to its last body byte, classified and
/// recorded. `intended`: the open model's intended send time, from which the latency counts
/// (the service time, from the write, is kept beside it); `None`: the closed model, whose
/// latency starts at the write. Returns whether the caller should back off before its next
/// attempt (the target refused or broke the connection).
pub(super) async fn hit(
    w: &Rc<Worker>,
    k: usize,
    conn: &mut Option<Sender>,
    had: &mut bool,
    backoff: &mut Backoff,
    endpoint: usize,
    intended: Option<Instant>,
) -> bool {
    let template = &w.templates[endpoint];
    let want = |status: u16| {
        !template.expect.accepts(status)
            && w.recorder.borrow().wants_example(
                endpoint,
                FailureKind::Status(status),
                Instant::now(),
            )
    };

    let mut retried = false;
    let attempt = loop {
        if conn.as_ref().is_none_or(Sender::is_closed) {
            match w.connection(k, had).await {
                Ok(s) => {
                    *conn = Some(s);
                    backoff.reset();
                }
                Err(f) => break Attempt::NoConnection(f),
            }
        }
        let sender = conn.as_mut().expect("connected above");
        let sent = Instant::now();
        match tokio::time::timeout(w.shared.timeout, exchange(sender, template, want)).await {
            Ok(Ok(resp)) => break Attempt::Answered(resp, sent),
            Ok(Err(Unsent::Closed)) if !retried => {
                // Never written: the server had closed the connection. Once more, on a
                // new one; its set-up is not this request's time.
                *conn = None;
                retried = true;
                w.connections.borrow_mut().retried();
            }
            Ok(Err(Unsent::Closed)) => {
                break Attempt::Failed(
                    Failure {
                        kind: FailureKind::Closed,
                        error: FailureDetail::Text(
                            "the connection closed before the request could be written, \
                             twice in a row"
                                .into(),
                        ),
                    },
                    sent,
                );
            }
            Ok(Err(Unsent::Failed(f))) => break Attempt::Failed(f, sent),
            Err(_elapsed) => break Attempt::TimedOut(sent),
        }
    };
    let done = Instant::now();
    record(w, endpoint, attempt, done, conn, intended)
}

/// Record one attempt; drop the connection when it cannot be trusted any more. Returns
/// whether the user should back off before its next attempt (the target refused or broke the
/// connection).
fn record(
    w: &Worker,
    endpoint: usize,
    attempt: Attempt,
    done: Instant,
    conn: &mut Option<Sender>,
    intended: Option<Instant>,
) -> bool {
    let shared = &w.shared;
    let template = &w.templates[endpoint];
    let mut rec = w.recorder.borrow_mut();
    // Latency from the intended send time (open) or the write (closed); service time from
    // the write, kept only where the two differ.
    let times = |sent: Instant| match intended {
        Some(at) => (done - at.min(sent), Some(done - sent)),
        None => (done - sent, None),
    };
    let mut fail = |kind: FailureKind, sent: Instant, text: &dyn Fn() -> String| {
        if rec.wants_example(endpoint, kind, done) {
            let text = shared.secrets.redact_owned(text());
            rec.add_example(endpoint, kind, done, text);
        }
        let (latency, service) = times(sent);
        rec.record_timed(endpoint, latency, service, Outcome::Failure(kind), 0, done);
    };
    let (resp, sent) = match attempt {
        Attempt::Answered(resp, sent) => (resp, sent),
        Attempt::Failed(f, sent) => {
            // A stream refused or reset leaves its HTTP/2 connection usable; anything else
            // leaves the connection in an unknown state.
            let stream_only = matches!(
                f.kind,
                FailureKind::StreamReset | FailureKind::StreamRefused
            );
            if !stream_only {
                *conn = None;
            }
            let kind = f.kind;
            fail(kind, sent, &|| f.error.describe());
            return matches!(kind, FailureKind::Reset | FailureKind::Closed);
        }
        Attempt::TimedOut(sent) => {
            // The connection is mid-exchange: it cannot be reused.
            *conn = None;
            fail(FailureKind::Timeout, sent, &|| {
                client::timeout_text(shared.timeout)
            });
            return false;
        }
        Attempt::NoConnection(f) => {
            *conn = None;
            // Nothing was sent: no response time (the kind has none), whatever the model.
            fail(f.kind, done, &|| f.error.describe());
            return true;
        }
    };
    let outcome = if template.expect.accepts(resp.status) {
        Outcome::Success
    } else {
        let kind = FailureKind::Status(resp.status);
        if resp.kept && rec.wants_example(endpoint, kind, done) {
            let text = client::example_text(&resp);
            // The excerpt may end inside a secret: mask a cut-off one too.
            let text = if resp.body_bytes > resp.excerpt.len() as u64 {
                shared.secrets.redact_truncated(&text).into_owned()
            } else {
                shared.secrets.redact_owned(text)
            };
            rec.add_example(endpoint, kind, done, text);
        }
        Outcome::Failure(kind)
    };
    let (latency, service) = times(sent);
    rec.record_timed(endpoint, latency, service, outcome, resp.body_bytes, done);
    rec.count_status(endpoint, resp.status);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_second_and_starts_over_after_a_success() {
        let mut b = Backoff::new();
        let waits: Vec<u64> = (0..9).map(|_| b.step().as_millis() as u64).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.step(), Duration::from_millis(10));
    }

    #[test]
    fn users_share_a_slot_up_to_max_streams() {
        let pool = Pool::new(3);
        let (a, b, c, d) = (pool.slot(0), pool.slot(2), pool.slot(3), pool.slot(5));
        assert!(Rc::ptr_eq(&a, &b));
        assert!(Rc::ptr_eq(&c, &d));
        assert!(!Rc::ptr_eq(&a, &c));
    }
}
