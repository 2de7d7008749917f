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

use super::pacer::{self, Pacer};
use super::transport::Sender;
use super::user::{Backoff, Worker, hit};
use crate::stats::{FailureKind, Outcome};

/// One request slot of a worker: its job, when it has one, and how to wake it.
struct Lane {
    /// Lane number on this worker (HTTP/2: which shared connection it uses).
    k: usize,
    job: Cell<Option<Job>>,
    wake: Notify,
}

#[derive(Clone, Copy)]
struct Job {
    endpoint: usize,
    intended: Instant,
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
    let mut tasks = JoinSet::new();
    let mut rng =
        SmallRng::seed_from_u64(shared.seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let total_weight = *shared.cumulative.last().unwrap_or(&1);
    let mut stop = w.stop.clone();
    let in_flight = &shared.in_flight[index];
    pacer::pace(schedule, index, workers, shared.start, &mut stop, |_, intended, now| {
        let pick = rng.random_range(0..total_weight);
        let endpoint = shared.cumulative.partition_point(|&c| c <= pick);
        let lane = match lanes.idle.borrow_mut().pop() {
            Some(lane) => Some(lane),
            None if lanes.made.get() < lanes.cap => {
                let lane = Rc::new(Lane {
                    k: lanes.made.get(),
                    job: Cell::new(None),
                    wake: Notify::new(),
                });
                lanes.made.set(lanes.made.get() + 1);
                tasks.spawn_local(run_lane(Rc::clone(&w), Rc::clone(&lanes), Rc::clone(&lane)));
                Some(lane)
            }
            None => None,
        };
        let Some(lane) = lane else {
            // Counted twice over on purpose: as the generator's health (dropped arrivals) and
            // as a failed request of its endpoint, so that a service that holds every slot
            // fails its error ceiling rather than passing on the requests that got through.
            let mut rec = w.recorder.borrow_mut();
            rec.dropped(now);
            let kind = FailureKind::Dropped;
            if rec.wants_example(endpoint, kind, now) {
                let text = format!(
                    "an arrival due at {} was not sent: all {} requests this worker may have in \
                     flight were still waiting for the service",
                    crate::units::offset(intended.saturating_duration_since(shared.start)),
                    lanes.cap
                );
                rec.add_example(endpoint, kind, now, text);
            }
            rec.record(endpoint, Duration::ZERO, Outcome::Failure(kind), 0, now);
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
        lane.job.set(Some(Job { endpoint, intended }));
        lane.wake.notify_one();
    })
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

async fn run_lane(w: Rc<Worker>, lanes: Rc<Lanes>, lane: Rc<Lane>) {
    let mut conn: Option<Sender> = None;
    let mut had = false;
    // The open model does not back off: arrivals keep their schedule whatever the target
    // does, and a refused connect costs this lane one arrival, not a tight loop.
    let mut backoff = Backoff::new();
    loop {
        lane.wake.notified().await;
        let Some(job) = lane.job.take() else {
            return;
        };
        hit(
            &w,
            lane.k,
            &mut conn,
            &mut had,
            &mut backoff,
            job.endpoint,
            Some(job.intended),
        )
        .await;
        let busy = lanes.busy.get() - 1;
        lanes.busy.set(busy);
        w.shared.in_flight[w.index].store(busy as u32, Ordering::Relaxed);
        if lanes.closed.get() {
            return;
        }
        lanes.idle.borrow_mut().push(Rc::clone(&lane));
    }
}
