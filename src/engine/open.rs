//! The open model on one worker: arrivals on the plan's schedule (its share of it, see
//! `pacer`), each handed to an idle lane of this worker's pool. A lane is a long-lived task
//! that owns a connection (HTTP/1.1) or a stream slot on a shared one (HTTP/2) and runs one
//! request at a time through `user::hit`, the step the closed model's users run too. Lanes are
//! made as the load needs them, up to the worker's share of `max_in_flight`; an arrival that
//! finds every lane busy is dropped and counted, never queued (a queue would hide the lateness
//! the intended-time latency is there to show, and grow without bound against a stalled
//! service).
//!
//! Hot path: a dispatch is a pop from the idle stack, a `Cell` write and a `Notify` wake-up on
//! this thread; no allocation (lanes are made once), no lock shared with another thread.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::flow::{Choice, Iteration, Next, Session};
use super::pacer::{self, Pacer};
use super::transport::Sender;
use super::user::{Backoff, Worker, hit, record_iteration};
use crate::stats::{FailureKind, Outcome};

/// One request slot of a worker: its job, when it has one, and how to wake it.
struct Lane {
    /// Lane number on this worker (HTTP/2: which shared connection it uses).
    k: usize,
    job: RefCell<Option<Job>>,
    wake: Notify,
}

struct Job {
    what: Work,
    intended: Instant,
}

/// What an arrival sends: one request, or one iteration of a flow for a session.
enum Work {
    Endpoint(usize),
    Flow(usize, Session),
}

/// A worker's pool of flow sessions: an arrival for a flow takes an idle one (made as needed,
/// up to the worker's share of `sessions`) and gives it back when its iteration is over, so
/// sessions stay logged in across arrivals.
struct Sessions {
    idle: RefCell<Vec<Session>>,
    made: Cell<usize>,
    cap: usize,
}

/// A worker's lanes.
struct Lanes {
    idle: RefCell<Vec<Rc<Lane>>>,
    made: Cell<usize>,
    cap: usize,
    busy: Cell<usize>,
    peak: Cell<usize>,
    /// The schedule has ended: lanes finish their request and end.
    closed: Cell<bool>,
}

/// Worker `index` of `workers`: its share of the schedule, with at most `cap` requests in
/// flight. Returns the most it had in flight at once.
pub(super) async fn arrivals(
    w: Rc<Worker>,
    schedule: &impl Pacer,
    index: usize,
    workers: usize,
    cap: usize,
) -> usize {
    let shared = Arc::clone(&w.shared);
    let lanes = Rc::new(Lanes {
        idle: RefCell::new(Vec::with_capacity(cap.min(4096))),
        made: Cell::new(0),
        cap,
        busy: Cell::new(0),
        peak: Cell::new(0),
        closed: Cell::new(false),
    });
    let sessions = Rc::new(Sessions {
        idle: RefCell::new(Vec::new()),
        made: Cell::new(0),
        cap: {
            let all = shared.sessions as usize;
            all / workers + usize::from(index < all % workers)
        }
        .max(1),
    });
    let mut tasks = JoinSet::new();
    // Each shard's workers draw their own sequence: shards of one seed do not repeat each
    // other's choices (shard 1/1 draws what an unsharded run does).
    let stream = u64::from(shared.shard.index) * workers as u64 + index as u64;
    let mut rng = SmallRng::seed_from_u64(shared.seed ^ stream.wrapping_mul(0xA24B_AED4_963E_E407));
    let total_weight = *shared.cumulative.last().unwrap_or(&1);
    let mut stop = w.stop.clone();
    let in_flight = &shared.in_flight[index];
    pacer::pace(
        schedule,
        pacer::Stripe::of(shared.shard, index, workers),
        shared.start,
        &mut stop,
        |_, intended, now| {
            let choice = shared.choose(rng.random_range(0..total_weight));
            // A flow's arrival needs a session as well as a lane.
            let session = match choice {
                Choice::Endpoint(_) => None,
                Choice::Flow(_) => match sessions.idle.borrow_mut().pop() {
                    Some(s) => Some(Some(s)),
                    None if sessions.made.get() < sessions.cap => {
                        sessions.made.set(sessions.made.get() + 1);
                        Some(Some(shared.new_session()))
                    }
                    None => Some(None),
                },
            };
            // Popped before the match: a RefCell borrow in the scrutinee would last through it.
            let idle = lanes.idle.borrow_mut().pop();
            let lane = match (&session, idle) {
                (Some(None), lane) => {
                    // No session free: the lane, if one was taken, goes back.
                    if let Some(lane) = lane {
                        lanes.idle.borrow_mut().push(lane);
                    }
                    None
                }
                (_, Some(lane)) => Some(lane),
                (_, None) if lanes.made.get() < lanes.cap => {
                    let lane = Rc::new(Lane {
                        k: lanes.made.get(),
                        job: RefCell::new(None),
                        wake: Notify::new(),
                    });
                    lanes.made.set(lanes.made.get() + 1);
                    tasks.spawn_local(run_lane(
                        Rc::clone(&w),
                        Rc::clone(&lanes),
                        Rc::clone(&lane),
                        Rc::clone(&sessions),
                    ));
                    Some(lane)
                }
                (_, None) => None,
            };
            let (endpoint, what) = match (choice, session) {
                (Choice::Endpoint(e), _) => (e, lane.is_some().then_some(Work::Endpoint(e))),
                (Choice::Flow(f), Some(Some(s))) => {
                    let e = Iteration::start(f, &shared.flows, &s).endpoint(&shared.flows);
                    match &lane {
                        Some(_) => (e, Some(Work::Flow(f, s))),
                        None => {
                            // No lane: the session goes back unused.
                            sessions.idle.borrow_mut().push(s);
                            (e, None)
                        }
                    }
                }
                (Choice::Flow(f), _) => (shared.flows[f].steps[0], None),
            };
            let (Some(lane), Some(what)) = (lane, what) else {
                // Counted twice over on purpose: as the generator's health (dropped arrivals) and
                // as a failed request of its endpoint, so that a service that holds every slot
                // fails its error ceiling rather than passing on the requests that got through.
                let mut rec = w.recorder.borrow_mut();
                rec.dropped(now);
                let kind = FailureKind::Dropped;
                if rec.wants_example(endpoint, kind, now) {
                    let held = match choice {
                        Choice::Flow(_) => format!(
                            "all {} requests or {} sessions this worker may have in flight",
                            lanes.cap, sessions.cap
                        ),
                        Choice::Endpoint(_) => {
                            format!("all {} requests this worker may have in flight", lanes.cap)
                        }
                    };
                    let text = format!(
                        "an arrival due at {} was not sent: {held} were still waiting for the \
                     service",
                        crate::units::offset(intended.saturating_duration_since(shared.start)),
                    );
                    rec.add_example(endpoint, kind, now, text);
                }
                rec.record(endpoint, Duration::ZERO, Outcome::Failure(kind), 0, now);
                drop(rec);
                if let Choice::Flow(f) = choice {
                    record_iteration(&w, f, Duration::ZERO, Some((kind, endpoint)), now);
                }
                return;
            };
            w.recorder.borrow_mut().arrived(now);
            w.health
                .borrow_mut()
                .sent_late(now.saturating_duration_since(intended));
            let busy = lanes.busy.get() + 1;
            lanes.busy.set(busy);
            lanes.peak.set(lanes.peak.get().max(busy));
            in_flight.store(busy as u32, Ordering::Relaxed);
            *lane.job.borrow_mut() = Some(Job { what, intended });
            lane.wake.notify_one();
        },
    )
    .await;
    // The schedule is over (or the run was stopped): idle lanes end now, busy ones after
    // their request. A second Ctrl-C aborts them from the worker.
    lanes.closed.set(true);
    for lane in lanes.idle.borrow_mut().drain(..) {
        lane.wake.notify_one();
    }
    while tasks.join_next().await.is_some() {}
    in_flight.store(0, Ordering::Relaxed);
    lanes.peak.get()
}

async fn run_lane(w: Rc<Worker>, lanes: Rc<Lanes>, lane: Rc<Lane>, sessions: Rc<Sessions>) {
    let mut conn: Option<Sender> = None;
    let mut had = false;
    // The open model does not back off: arrivals keep their schedule whatever the target
    // does, and a refused connect costs this lane one arrival, not a tight loop.
    let mut backoff = Backoff::new();
    loop {
        lane.wake.notified().await;
        let Some(job) = lane.job.borrow_mut().take() else {
            return;
        };
        match job.what {
            Work::Endpoint(endpoint) => {
                hit(
                    &w,
                    lane.k,
                    &mut conn,
                    &mut had,
                    &mut backoff,
                    endpoint,
                    Some(job.intended),
                    None,
                )
                .await;
            }
            Work::Flow(flow, mut session) => {
                // The steps go back to back; the first counts from the arrival's intended
                // time, the others from their writes. An iteration the end of the run cuts
                // short is not counted.
                let shared = &w.shared;
                let mut it = Iteration::start(flow, &shared.flows, &session);
                let mut intended = Some(job.intended);
                loop {
                    let endpoint = it.endpoint(&shared.flows);
                    let result = hit(
                        &w,
                        lane.k,
                        &mut conn,
                        &mut had,
                        &mut backoff,
                        endpoint,
                        intended.take(),
                        Some(&mut session),
                    )
                    .await;
                    let captures = !w.templates[endpoint].captures.is_empty();
                    match it.advance(
                        &shared.flows,
                        captures,
                        result.failure,
                        result.latency,
                        &mut session,
                    ) {
                        Next::Step(next) => it = next,
                        Next::Done(failure, latency) => {
                            record_iteration(&w, flow, latency, failure, Instant::now());
                            break;
                        }
                    }
                    if shared.stopping() || Instant::now() >= shared.deadline {
                        break;
                    }
                }
                sessions.idle.borrow_mut().push(session);
            }
        }
        let busy = lanes.busy.get() - 1;
        lanes.busy.set(busy);
        w.shared.in_flight[w.index].store(busy as u32, Ordering::Relaxed);
        if lanes.closed.get() {
            return;
        }
        lanes.idle.borrow_mut().push(Rc::clone(&lane));
    }
}
