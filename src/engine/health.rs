//! Whether the generator kept up with its own schedule: each worker's spawn and wake-up
//! lateness, kept on the worker (no lock, no message per request) and handed over once when the
//! worker ends, and the process's CPU time, sampled by the collector once per second.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::plan::{Profile, Shard};
use crate::stats::{LoadHealth, OpenHealth, Sparse, new_histogram};

/// One worker's evidence of how punctual it was. Owned by the worker thread; returned from it.
pub(crate) struct WorkerHealth {
    pub(crate) users_started: u32,
    /// The latest any of this worker's users started against its schedule.
    pub(crate) worst_spawn_delay: Duration,
    /// How late each think-time wake-up was, in µs.
    pub(crate) wake_delay: Histogram<u64>,
    /// Open model: how late each arrival was sent against its intended time, in µs.
    pub(crate) send_lag: Histogram<u64>,
    pub(crate) peak_in_flight: usize,
}

impl WorkerHealth {
    pub(crate) fn new() -> Self {
        WorkerHealth {
            users_started: 0,
            worst_spawn_delay: Duration::ZERO,
            wake_delay: new_histogram(),
            send_lag: new_histogram(),
            peak_in_flight: 0,
        }
    }

    /// An arrival went out `late` after its intended time.
    pub(crate) fn sent_late(&mut self, late: Duration) {
        let us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        self.send_lag.saturating_record(us);
    }

    /// A user began its first request `late` after its scheduled start.
    pub(crate) fn user_started(&mut self, late: Duration) {
        self.users_started += 1;
        self.worst_spawn_delay = self.worst_spawn_delay.max(late);
    }

    /// A think-time sleep ended `late` after its deadline. Pre-sized histogram: no allocation.
    pub(crate) fn woke(&mut self, late: Duration) {
        let us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        self.wake_delay.saturating_record(us);
    }
}

/// Adds the workers' evidence up into the run's `LoadHealth`.
pub(crate) fn merge(
    workers: impl IntoIterator<Item = WorkerHealth>,
    profile: &Profile,
    shard: Shard,
    cores: u32,
    cpu: Vec<f64>,
) -> LoadHealth {
    let mut wake = new_histogram();
    let mut lag = new_histogram();
    let mut users_started = 0;
    let mut worst_spawn_delay = Duration::ZERO;
    let mut peak = 0usize;
    for w in workers {
        users_started += w.users_started;
        worst_spawn_delay = worst_spawn_delay.max(w.worst_spawn_delay);
        // Same bounds on both sides, so adding cannot fail.
        let _ = wake.add(&w.wake_delay);
        let _ = lag.add(&w.send_lag);
        peak += w.peak_in_flight;
    }
    LoadHealth {
        // This shard's users; its part of the cap.
        users_planned: profile.closed().map_or(0, |c| {
            u32::try_from(shard.share(u64::from(c.users))).unwrap_or(u32::MAX)
        }),
        users_started,
        worst_spawn_delay,
        wake_delay: Sparse::from_histogram(&wake),
        cpu,
        cores,
        open: profile.open().map(|o| OpenHealth {
            send_lag: Sparse::from_histogram(&lag),
            max_in_flight: shard.part(o.max_in_flight),
            peak_in_flight: u32::try_from(peak).unwrap_or(u32::MAX),
        }),
    }
}

/// The CPU time of one worker thread, readable from the collector's thread.
pub(crate) struct ThreadClock {
    #[cfg(unix)]
    clock: libc::clockid_t,
}

impl ThreadClock {
    /// The clock of a running worker thread.
    #[cfg(unix)]
    pub(crate) fn of<T>(handle: &std::thread::JoinHandle<T>) -> Option<ThreadClock> {
        use std::os::unix::thread::JoinHandleExt as _;
        let mut clock: libc::clockid_t = 0;
        // SAFETY: the thread is alive (its JoinHandle is held); the call only writes `clock`.
        let ok = unsafe { libc::pthread_getcpuclockid(handle.as_pthread_t(), &mut clock) } == 0;
        ok.then_some(ThreadClock { clock })
    }

    #[cfg(not(unix))]
    pub(crate) fn of<T>(_: &std::thread::JoinHandle<T>) -> Option<ThreadClock> {
        None
    }

    /// The calling thread's own clock.
    #[cfg(all(test, unix))]
    pub(crate) fn current() -> ThreadClock {
        ThreadClock {
            clock: libc::CLOCK_THREAD_CPUTIME_ID,
        }
    }

    /// CPU time used so far; `None` once the thread has ended.
    fn read(&self) -> Option<Duration> {
        #[cfg(unix)]
        {
            // SAFETY: clock_gettime only writes the struct we pass.
            let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
            if unsafe { libc::clock_gettime(self.clock, &mut ts) } == 0 {
                return Some(
                    Duration::from_secs(u64::try_from(ts.tv_sec).unwrap_or(0))
                        + Duration::from_nanos(u64::try_from(ts.tv_nsec).unwrap_or(0)),
                );
            }
        }
        None
    }
}

/// The busiest worker thread's CPU time per second of the run, as a fraction of one core.
/// Sampled by the collector when it sees a new second begin; a collector that was itself held
/// up spreads the interval's average over the seconds it missed.
///
/// Only the workers are measured: they make the load, and each is single-threaded, so one
/// worker at 100 % of its core delays its users however idle the others are. The process as
/// a whole would also count threads that are not slagate's load (the simulator `slagate demo`
/// runs in-process, the collector itself) and call a busy target an overloaded generator.
pub(crate) struct CpuMeter {
    clocks: Vec<(ThreadClock, Duration)>,
    last_wall: Instant,
    /// The second the next sample belongs to (samples close the seconds before `slot`).
    last_slot: u32,
    per_second: Vec<f64>,
}

impl CpuMeter {
    pub(crate) fn new(clocks: Vec<ThreadClock>, start: Instant) -> Self {
        CpuMeter {
            clocks: clocks
                .into_iter()
                .map(|c| {
                    let used = c.read().unwrap_or_default();
                    (c, used)
                })
                .collect(),
            last_wall: start,
            last_slot: 0,
            per_second: Vec::new(),
        }
    }

    /// The collector has just seen second `slot` begin: close every second before it.
    pub(crate) fn sample(&mut self, slot: u32, now: Instant) {
        if slot <= self.last_slot {
            return;
        }
        let fraction = self.fraction_since_last(now);
        let end = slot as usize;
        if self.per_second.len() < end {
            self.per_second.resize(end, 0.0);
        }
        for s in self.last_slot as usize..end {
            self.per_second[s] = fraction;
        }
        self.last_slot = slot;
    }

    /// The run is over: keep the last, unfinished second only if most of it was seen.
    pub(crate) fn finish(mut self, now: Instant) -> Vec<f64> {
        if now.saturating_duration_since(self.last_wall) >= Duration::from_millis(500) {
            let fraction = self.fraction_since_last(now);
            let s = self.last_slot as usize;
            if self.per_second.len() <= s {
                self.per_second.resize(s + 1, 0.0);
            }
            self.per_second[s] = fraction;
        }
        self.per_second
    }

    fn fraction_since_last(&mut self, now: Instant) -> f64 {
        let wall = now.saturating_duration_since(self.last_wall).as_secs_f64();
        self.last_wall = now;
        let mut busiest = 0.0f64;
        for (clock, last) in &mut self.clocks {
            // A worker that has ended used nothing more.
            let Some(used) = clock.read() else { continue };
            let delta = used.saturating_sub(*last).as_secs_f64();
            *last = used;
            if wall > 0.0 {
                busiest = busiest.max(delta / wall);
            }
        }
        busiest.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_add_up_and_the_latest_spawn_wins() {
        let mut a = WorkerHealth::new();
        a.user_started(Duration::from_millis(3));
        a.user_started(Duration::from_millis(40));
        a.woke(Duration::from_micros(120));
        let mut b = WorkerHealth::new();
        b.user_started(Duration::from_millis(7));
        b.woke(Duration::from_millis(25));
        b.woke(Duration::ZERO);
        let profile = crate::plan::testing::PlanBuilder::new()
            .users(4)
            .build()
            .profile;
        let h = merge([a, b], &profile, Shard::WHOLE, 2, vec![0.5]);
        assert_eq!(h.users_planned, 4);
        assert_eq!(h.users_started, 3);
        assert_eq!(h.worst_spawn_delay, Duration::from_millis(40));
        let n: u64 = h.wake_delay.0.iter().map(|&(_, c)| u64::from(c)).sum();
        assert_eq!(n, 3);
        let max = h.wake_delay.0.iter().map(|&(v, _)| v).max().unwrap();
        assert!((24_900..=25_100).contains(&max), "{max}");
        assert_eq!(h.cores, 2);
    }

    #[test]
    fn cpu_of_a_busy_worker_is_measured_against_its_core() {
        let start = Instant::now();
        let mut meter = CpuMeter::new(vec![ThreadClock::current()], start);
        // Burn a known amount of CPU on this thread: at least 150 ms of it.
        let spin_until = Instant::now() + Duration::from_millis(150);
        while Instant::now() < spin_until {
            std::hint::spin_loop();
        }
        meter.sample(1, Instant::now());
        meter.sample(1, Instant::now()); // the same second again: ignored
        let cpu = meter.finish(Instant::now());
        assert_eq!(cpu.len(), 1);
        // Wall ≈ CPU here, unless the machine is very busy; either way it is a fraction.
        assert!(cpu[0] > 0.0 && cpu[0] <= 1.0, "{cpu:?}");
    }

    #[test]
    fn a_busy_thread_that_is_not_a_worker_is_not_counted() {
        // The worker idles while another thread of the process (an in-process simulator, as in
        // `slagate demo`) burns its core: the generator is not the one that is busy.
        let worker = std::thread::spawn(|| std::thread::sleep(Duration::from_millis(400)));
        let start = Instant::now();
        let mut meter = CpuMeter::new(ThreadClock::of(&worker).into_iter().collect(), start);
        std::thread::spawn(|| {
            let until = Instant::now() + Duration::from_millis(250);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        })
        .join()
        .unwrap();
        meter.sample(1, Instant::now());
        let cpu = meter.finish(Instant::now());
        assert!(cpu[0] < 0.2, "the spinning thread was counted: {cpu:?}");
        worker.join().unwrap();
    }

    #[test]
    fn a_late_sample_covers_every_second_it_missed() {
        let start = Instant::now();
        let mut meter = CpuMeter::new(Vec::new(), start);
        meter.sample(3, start + Duration::from_secs(3));
        let cpu = meter.finish(start + Duration::from_secs(3));
        assert_eq!(cpu.len(), 3);
        assert!(cpu.iter().all(|&f| f == cpu[0]));
    }
}
