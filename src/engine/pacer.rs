//! The pacing seam: when the i-th event of a worker's share is due. A pacer is a pure function
//! of the event's index (vegeta's `Pacer`, and wrk2's fixed schedule): it never looks at the
//! clock, so a late wake-up does not move any later event, and the arithmetic is tested apart
//! from the engine. The closed model's events are user starts (user i at i / spawn_rate); the
//! open model's are arrivals (the `plan::Schedule`). Shard k of N (`--shard`, 0-based k)
//! takes the events ≡ k (mod N), and its worker w of W every W-th of those: events k + N·w,
//! k + N·(w+W), … So the workers together keep the shard's part, and the shards the one
//! schedule.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Stop;
use crate::plan::{Closed, Schedule, Shard};

pub(super) trait Pacer {
    /// When event `i` (over the whole run, all workers) is due from the start; `None` once the
    /// schedule has nothing more before the run time.
    fn at(&self, i: u64) -> Option<Duration>;
}

/// The closed model's ramp-up: user i starts at i / spawn_rate.
pub(super) struct Spawn {
    pub(super) users: u32,
    pub(super) spawn_rate: f64,
    pub(super) run_time: Duration,
}

impl Spawn {
    pub(super) fn of(c: &Closed, run_time: Duration) -> Spawn {
        Spawn {
            users: c.users,
            spawn_rate: c.spawn_rate,
            run_time,
        }
    }
}

impl Pacer for Spawn {
    fn at(&self, i: u64) -> Option<Duration> {
        if i >= u64::from(self.users) {
            return None;
        }
        let at = Duration::from_secs_f64(i as f64 / self.spawn_rate);
        (at < self.run_time).then_some(at)
    }
}

impl Pacer for Schedule {
    fn at(&self, i: u64) -> Option<Duration> {
        self.intended(i)
    }
}

/// Which events of the whole run one worker makes: `first`, `first + step`, …
#[derive(Debug, Clone, Copy)]
pub(super) struct Stripe {
    first: u64,
    step: u64,
}

impl Stripe {
    /// Worker `index` of `workers` of `shard`.
    pub(super) fn of(shard: Shard, index: usize, workers: usize) -> Stripe {
        let n = u64::from(shard.count);
        Stripe {
            first: u64::from(shard.index) + n * index as u64,
            step: n * workers.max(1) as u64,
        }
    }
}

/// Runs one worker's stripe of `pacer`'s events from `start`: sleeps until the next is due,
/// then hands `due(i, intended, now)` every event whose time has come (tokio's timers tick at
/// 1 ms, so one wake-up may owe several). Ends when the schedule does, or when the run stops.
pub(super) async fn pace(
    pacer: &impl Pacer,
    stripe: Stripe,
    start: Instant,
    stop: &mut watch::Receiver<Stop>,
    mut due: impl FnMut(u64, Instant, Instant),
) {
    let step = stripe.step;
    let mut i = stripe.first;
    while let Some(at) = pacer.at(i) {
        let intended = start + at;
        if intended > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(intended.into()) => {}
                _ = stop.changed() => {}
            }
        }
        if *stop.borrow() != Stop::Run {
            return;
        }
        let now = Instant::now();
        due(i, intended, now);
        i += step;
        // Everything else already due goes out on this wake-up, each against its own time.
        while let Some(at) = pacer.at(i) {
            let intended = start + at;
            if intended > now {
                break;
            }
            due(i, intended, now);
            i += step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Open, ThinkTime};

    #[test]
    fn users_start_on_the_spawn_schedule_and_none_after_the_run() {
        let c = Closed {
            users: 5,
            spawn_rate: 2.0,
            think_time: ThinkTime {
                min: Duration::ZERO,
                max: Duration::ZERO,
            },
        };
        let s = Spawn::of(&c, Duration::from_secs(2));
        let at: Vec<Option<Duration>> = (0..6).map(|i| s.at(i)).collect();
        let ms = |n| Some(Duration::from_millis(n));
        // User 4 would start at 2 s, the end of the run; there is no user 5.
        assert_eq!(at, [ms(0), ms(500), ms(1000), ms(1500), None, None]);
    }

    /// Striped over workers, the pacer's events are the whole schedule, each exactly once.
    #[tokio::test]
    async fn workers_share_the_schedule_and_late_wakeups_keep_their_intended_times() {
        let schedule = Schedule::new(&Open::constant(1000.0, 10), Duration::from_millis(50));
        let start = Instant::now();
        let (_tx, rx) = watch::channel(Stop::Run);
        let mut seen = Vec::new();
        for w in 0..3 {
            let mut stop = rx.clone();
            pace(
                &schedule,
                Stripe::of(Shard::WHOLE, w, 3),
                start,
                &mut stop,
                |i, intended, _now| {
                    seen.push((i, intended - start));
                },
            )
            .await;
        }
        seen.sort();
        assert_eq!(seen.len(), 50);
        for (k, (i, at)) in seen.iter().enumerate() {
            assert_eq!(*i, k as u64);
            assert_eq!(*at, Duration::from_millis(k as u64));
        }
    }

    /// Shards' workers together make every event once, each at its own time.
    #[tokio::test]
    async fn shards_and_their_workers_share_the_schedule() {
        let schedule = Schedule::new(&Open::constant(1000.0, 10), Duration::from_millis(40));
        let start = Instant::now();
        let (_tx, rx) = watch::channel(Stop::Run);
        let mut seen = Vec::new();
        for k in 1..=3 {
            let shard = Shard::new(k, 3).unwrap();
            for w in 0..2 {
                let mut stop = rx.clone();
                pace(
                    &schedule,
                    Stripe::of(shard, w, 2),
                    start,
                    &mut stop,
                    |i, intended, _| {
                        assert!(shard.owns(i), "{i} is not shard {shard}'s");
                        seen.push((i, intended - start));
                    },
                )
                .await;
            }
        }
        seen.sort();
        assert_eq!(seen.len(), 40);
        for (k, (i, at)) in seen.iter().enumerate() {
            assert_eq!(*i, k as u64);
            assert_eq!(*at, Duration::from_millis(k as u64));
        }
    }

    #[tokio::test]
    async fn a_stop_ends_the_schedule() {
        let schedule = Schedule::new(&Open::constant(10.0, 10), Duration::from_secs(10));
        let start = Instant::now();
        let (tx, mut rx) = watch::channel(Stop::Run);
        let mut n = 0;
        tx.send(Stop::Finish).unwrap();
        pace(
            &schedule,
            Stripe::of(Shard::WHOLE, 0, 1),
            start,
            &mut rx,
            |_, _, _| n += 1,
        )
        .await;
        // Arrival 0 is due at once, but the run had already stopped.
        assert_eq!(n, 0);
    }
}
