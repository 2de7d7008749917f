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

use std::borrow::Cow;

use super::client::{self, Failure, FailureDetail, Keep, Template, Unsent, exchange};
use super::flow::{Choice, Iteration, Next, Session};
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
/// Each pick is a free endpoint or one iteration of a flow; every request, flow steps included,
/// is followed by the profile's think time.
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
    // A user carries a session for its flows, and for its cookies when the jar is on.
    let mut session = (!shared.flows.is_empty() || shared.cookies).then(|| shared.new_session());
    let mut iteration: Option<Iteration> = None;
    loop {
        // An atomic load, not the watch channel's lock: this runs once per request. An
        // iteration the end of the run cuts short is not counted.
        if shared.stopping() || Instant::now() >= shared.deadline {
            break;
        }
        let (endpoint, flow_session) = match (iteration, session.as_mut()) {
            (Some(it), Some(s)) => (it.endpoint(&shared.flows), Some(s)),
            (_, s) => match shared.choose(rng.random_range(0..total_weight)) {
                Choice::Endpoint(e) => (e, s),
                Choice::Flow(f) => {
                    let s = s.expect("a session for every user when there are flows");
                    let it = Iteration::start(f, &shared.flows, s);
                    iteration = Some(it);
                    (it.endpoint(&shared.flows), Some(s))
                }
            },
        };
        let result = hit(
            &w,
            k,
            &mut conn,
            &mut had,
            &mut backoff,
            endpoint,
            None,
            flow_session,
        )
        .await;
        let done = Instant::now();
        if let (Some(it), Some(s)) = (iteration, session.as_mut()) {
            let captures = !w.templates[endpoint].captures.is_empty();
            iteration = match it.advance(&shared.flows, captures, result.failure, result.latency, s)
            {
                Next::Step(next) => Some(next),
                Next::Done(failure, latency) => {
                    record_iteration(&w, it.flow, latency, failure, done);
                    None
                }
            };
        }
        if result.back_off {
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

/// A finished iteration of `flow`, in its row after the endpoints': the steps' response times
/// added up, failed with the kind of the step that failed (an example names the step).
pub(super) fn record_iteration(
    w: &Worker,
    flow: usize,
    latency: Duration,
    failure: Option<(FailureKind, usize)>,
    done: Instant,
) {
    let row = w.templates.len() + flow;
    let mut rec = w.recorder.borrow_mut();
    let outcome = match failure {
        None => Outcome::Success,
        Some((kind, endpoint)) => {
            if rec.wants_example(row, kind, done) {
                let text = format!("at step `{}`: {kind}", w.shared.names[endpoint]);
                rec.add_example(row, kind, done, text);
            }
            Outcome::Failure(kind)
        }
    };
    rec.record(row, latency, outcome, 0, done);
}

/// What came of one request, for a flow to go on from.
pub(super) struct Hit {
    /// The target refused or broke the connection: wait before the next attempt.
    pub(super) back_off: bool,
    pub(super) failure: Option<FailureKind>,
    /// The response time, when there was one.
    pub(super) latency: Option<Duration>,
}

/// One request, the step both models share: an established connection first (its set-up is
/// recorded as set-up), then the exchange from its write to its last body byte, classified and
/// recorded. `intended`: the open model's intended send time, from which the latency counts
/// (the service time, from the write, is kept beside it); `None`: the closed model, whose
/// latency starts at the write. `session`: a flow's user, whose values and cookies the request
/// is built with and whose captures its answer fills.
#[allow(clippy::too_many_arguments)]
pub(super) async fn hit(
    w: &Rc<Worker>,
    k: usize,
    conn: &mut Option<Sender>,
    had: &mut bool,
    backoff: &mut Backoff,
    endpoint: usize,
    intended: Option<Instant>,
    mut session: Option<&mut Session>,
) -> Hit {
    let template = &w.templates[endpoint];
    let want = |status: u16| {
        !template.expect.accepts(status)
            && w.recorder.borrow().wants_example(
                endpoint,
                FailureKind::Status(status),
                Instant::now(),
            )
    };
    let headers = template.needs_headers || session.as_ref().is_some_and(|s| s.jar.is_some());

    let mut retried = false;
    let attempt = {
        let (built, body) = match session.as_deref_mut() {
            Some(s) => {
                let (built, body) = s.prepare(endpoint, template, Instant::now());
                (built, Some(body))
            }
            None => (None, None),
        };
        let mut body = body.filter(|_| template.needs_body);
        loop {
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
            let keep = Keep {
                body: body.as_deref_mut(),
                headers,
            };
            match tokio::time::timeout(
                w.shared.timeout,
                exchange(sender, template, built, want, keep),
            )
            .await
            {
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
        }
    };
    let done = Instant::now();
    record(w, endpoint, attempt, done, conn, intended, session)
}

/// Record one attempt; drop the connection when it cannot be trusted any more. Returns what
/// came of it, and whether the user should back off before its next attempt (the target
/// refused or broke the connection).
fn record(
    w: &Worker,
    endpoint: usize,
    attempt: Attempt,
    done: Instant,
    conn: &mut Option<Sender>,
    intended: Option<Instant>,
    mut session: Option<&mut Session>,
) -> Hit {
    let shared = &w.shared;
    let template = &w.templates[endpoint];
    let mut rec = w.recorder.borrow_mut();
    // Examples are masked with the static secrets and, for a flow's user, everything it holds
    // that may be secret (captured values, cookies): a target may echo them back.
    let secrets = |session: &Option<&mut Session>| match session {
        Some(s) => Cow::Owned(s.secrets(&shared.secrets)),
        None => Cow::Borrowed(&shared.secrets),
    };
    // Latency from the intended send time (open) or the write (closed); service time from
    // the write, kept only where the two differ.
    let times = |sent: Instant| match intended {
        Some(at) => (done - at.min(sent), Some(done - sent)),
        None => (done - sent, None),
    };
    let mut fail = |kind: FailureKind, sent: Instant, text: &dyn Fn() -> String| {
        if rec.wants_example(endpoint, kind, done) {
            let text = secrets(&session).redact_owned(text());
            rec.add_example(endpoint, kind, done, text);
        }
        let (latency, service) = times(sent);
        rec.record_timed(endpoint, latency, service, Outcome::Failure(kind), 0, done);
        Hit {
            back_off: false,
            failure: Some(kind),
            latency: kind.has_response_time().then_some(latency),
        }
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
            let mut hit = fail(kind, sent, &|| f.error.describe());
            hit.back_off = matches!(kind, FailureKind::Reset | FailureKind::Closed);
            return hit;
        }
        Attempt::TimedOut(sent) => {
            // The connection is mid-exchange: it cannot be reused.
            *conn = None;
            return fail(FailureKind::Timeout, sent, &|| {
                client::timeout_text(shared.timeout)
            });
        }
        Attempt::NoConnection(f) => {
            *conn = None;
            // Nothing was sent: no response time (the kind has none), whatever the model.
            let mut hit = fail(f.kind, done, &|| f.error.describe());
            hit.back_off = true;
            return hit;
        }
    };
    // Cookies are kept from every answer, whatever its status (a 302 to a login page sets
    // them too).
    if let (Some(s), Some(headers)) = (session.as_deref_mut(), &resp.headers) {
        s.store_cookies(endpoint, template, headers);
    }
    let outcome = if template.expect.accepts(resp.status) {
        match capture(template, &resp, session.as_deref_mut()) {
            Ok(()) => Outcome::Success,
            Err(missing) => {
                let kind = FailureKind::Capture;
                if rec.wants_example(endpoint, kind, done) {
                    let text = capture_text(shared, template, &resp, missing, &session);
                    let text = secrets(&session).redact_truncated(&text).into_owned();
                    rec.add_example(endpoint, kind, done, text);
                }
                Outcome::Failure(kind)
            }
        }
    } else {
        let kind = FailureKind::Status(resp.status);
        if resp.kept && rec.wants_example(endpoint, kind, done) {
            let text = client::example_text(&resp);
            let secrets = secrets(&session);
            // The excerpt may end inside a secret: mask a cut-off one too.
            let text = if resp.body_bytes > resp.excerpt.len() as u64 {
                secrets.redact_truncated(&text).into_owned()
            } else {
                secrets.redact_owned(text)
            };
            rec.add_example(endpoint, kind, done, text);
        }
        Outcome::Failure(kind)
    };
    let (latency, service) = times(sent);
    rec.record_timed(endpoint, latency, service, outcome, resp.body_bytes, done);
    rec.count_status(endpoint, resp.status);
    Hit {
        back_off: false,
        failure: match outcome {
            Outcome::Success => None,
            Outcome::Failure(kind) => Some(kind),
        },
        latency: Some(latency),
    }
}

/// Fill the user's values from a successful answer; `Err(i)`: capture `i` found nothing (the
/// values taken before it are kept, those after it are not looked for).
fn capture(
    template: &Template,
    resp: &client::Response,
    session: Option<&mut Session>,
) -> Result<(), usize> {
    if template.captures.is_empty() {
        return Ok(());
    }
    // A free endpoint without a session: its captures check the answer (and fail on it) but
    // keep nothing.
    let (mut values, body): (Option<&mut super::flow::Values>, &[u8]) = match session {
        Some(s) => (Some(&mut s.values), &s.body),
        None => (None, &[]),
    };
    let body: &[u8] = if template.needs_body { body } else { &[] };
    for (i, c) in template.captures.iter().enumerate() {
        let (mut digits, mut scratch) = ([0u8; 3], String::new());
        let found = super::flow::extract(
            &c.source,
            resp.status,
            resp.headers.as_ref(),
            body,
            &mut digits,
            &mut scratch,
        );
        match (found, values.as_deref_mut()) {
            (None, _) => return Err(i),
            (Some(v), Some(values)) => values.store(c.var, v),
            (Some(_), None) => {}
        }
    }
    Ok(())
}

/// Every string and number of a JSON document replaced with the mask.
fn mask_values(v: &mut serde_json::Value) {
    use serde_json::Value as J;
    match v {
        J::String(_) | J::Number(_) => *v = J::String(crate::plan::MASK.into()),
        J::Array(items) => items.iter_mut().for_each(mask_values),
        J::Object(map) => map.values_mut().for_each(mask_values),
        J::Null | J::Bool(_) => {}
    }
}

/// A capture failure's example: which capture, and the answer it looked in.
fn capture_text(
    shared: &super::Shared,
    template: &Template,
    resp: &client::Response,
    missing: usize,
    session: &Option<&mut Session>,
) -> String {
    let c = &template.captures[missing];
    let name = &shared.vars[c.var];
    let reason = http::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut text = format!(
        "capture `{name}` ({}) found nothing in HTTP {} {reason}",
        c.source.describe(),
        resp.status
    );
    if let Some(s) = session
        && template.needs_body
    {
        // A JSON answer is shown by its shape, every value masked: the keys show what the
        // path missed, and a token the path failed to take is still a secret.
        if let Ok(mut doc) = serde_json::from_slice::<serde_json::Value>(&s.body) {
            mask_values(&mut doc);
            let shape: String = doc.to_string().chars().take(300).collect();
            text.push_str(": ");
            text.push_str(&shape);
            return text;
        }
        let excerpt: String = String::from_utf8_lossy(&s.body[..s.body.len().min(300)])
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let excerpt = excerpt.trim();
        if !excerpt.is_empty() {
            text.push_str(": ");
            text.push_str(excerpt);
        }
    }
    text
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
