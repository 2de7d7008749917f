//! Whether the run is valid at all: did the load generator deliver the profile? A run in which
//! slagate itself fell behind measures slagate, not the service, so its verdict would blame the
//! wrong party. Pure: reads the engine's `LoadHealth` and the failures counted in the `Summary`.
//!
//! Rules (each names its figure, and says the service was not at fault):
//!
//! - **spawn**: every user due before the load stopped must have started, and none more than
//!   max(1 s, 2 / spawn_rate) behind its schedule (user i at i / spawn_rate). A second is below
//!   what any report resolves (the measured window starts on a whole second); two spawn
//!   intervals is where a ramp-up visibly bunches up rather than jitters.
//! - **cpu**: the CPU time of slagate's busiest worker thread at or above 90 % of its core for
//!   3 consecutive seconds of the measured window, or on average over the whole window. One or
//!   two busy seconds (a burst of reconnects) do not delay a closed model measurably; three in
//!   a row, or a window that is saturated throughout, do.
//! - **wake**: with a think time, the p99 of how late think-time sleeps woke up (over the whole
//!   run) above max(10 ms, 10 % of the mean think time), shown at 95 % confidence (enough late
//!   wake-ups that a p99 at the limit would rarely produce them). Below 10 ms, timer resolution and a
//!   busy but healthy machine dominate; beyond a tenth of the think time, the users' pacing
//!   (and so the offered load) is no longer the profile's.
//! - **drops** (open model): arrivals were dropped (every one of `max_in_flight` requests was
//!   in flight) and the cap is below what the service's own service time needs at the
//!   schedule's peak rate by Little's law (rate × service-time p50): the cap, not the service,
//!   limited the load. When the cap would have held a service working at its measured service
//!   time and slagate's busiest worker stayed below [`DROPS_CPU`] of its core throughout the
//!   window, the drops are the service holding requests (a stall): they are counted as failed
//!   requests of kind `dropped` and the run is judged (FAIL on the error ceiling), not INVALID.
//! - **rate** (open model): the arrivals the generator got to in the measured window (sent, or
//!   dropped for want of a free slot: the drops rule judges those) fall short of those the
//!   schedule asked for by more than [`RATE_SHORTFALL`] (and at least 2 arrivals, which the
//!   seconds' edges can shift): its pacing could not keep up.
//! - **send_lag** (open model): the p99 of how late arrivals went out against their intended
//!   time above [`SEND_LAG_P99`], at 95 % confidence. Past a few milliseconds the generator,
//!   not the service, is adding the latency measured from the intended time.
//! - **local_resources**: any request of the measured window that failed because slagate's
//!   machine ran out of something (file descriptors, ephemeral ports, buffers).
//!
//! A summary without load measurements (`users_planned` = 0, e.g. one built by hand or loaded
//! from an older report) is judged on local resource failures only.

use std::time::Duration;

use super::confidence;
use crate::plan::{Closed, LoadModel, Open, Plan, Schedule};
use crate::stats::{FailureKind, LoadHealth, OpenHealth, Sparse, Summary, new_histogram};
use crate::units;

/// One reason the run did not measure the service.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalidity {
    /// `"spawn"`, `"cpu"`, `"wake"`, `"drops"`, `"rate"`, `"send_lag"` or `"local_resources"`.
    pub cause: &'static str,
    /// The measurement that shows it, short: "the busiest of its 2 workers at 98% of a core for 14 s".
    pub figure: String,
    /// Plain words: what happened, with the figure, that the service was not at fault, and
    /// what to do.
    pub message: String,
}

/// CPU at or above this fraction of the workers' cores counts as saturated.
pub const CPU_SATURATED: f64 = 0.90;
/// Consecutive saturated seconds that make a run invalid.
pub const CPU_SECONDS: usize = 3;
/// Wake-ups may be this late at p99 whatever the think time.
pub const WAKE_FLOOR: Duration = Duration::from_millis(10);
/// … or this share of the mean think time, if larger.
pub const WAKE_SHARE: f64 = 0.10;
/// Users may start this late whatever the spawn rate …
pub const SPAWN_FLOOR: Duration = Duration::from_secs(1);
/// … or this many spawn intervals, if longer.
pub const SPAWN_INTERVALS: f64 = 2.0;

const NOT_AT_FAULT: &str = "the load was not delivered and the service was not at fault";
const SCALE_OUT: &str = "run with fewer users, on a bigger or less busy machine, or distributed";

/// An open run may send this share fewer arrivals than its schedule asked for.
pub const RATE_SHORTFALL: f64 = 0.01;
/// Drops are the service's doing only while slagate's busiest worker stayed below this share
/// of its core in every second of the window (below the saturation mark on purpose: this
/// decides whom a verdict blames).
pub const DROPS_CPU: f64 = 0.80;
/// The open model's send lag may reach this at p99. tokio's timers tick at 1 ms and a worker
/// sends everything due on each wake-up, so an idle generator is within ~1–2 ms; the bound is
/// the closed model's wake-up floor ([`WAKE_FLOOR`]) for the same reason: below it a busy but
/// healthy machine (a CI runner with other jobs) dominates, and at 5 ms such runs read INVALID.
pub const SEND_LAG_P99: Duration = WAKE_FLOOR;

/// Every reason the run is invalid; empty when the generator delivered the profile.
pub fn validity(plan: &Plan, summary: &Summary) -> Vec<Invalidity> {
    let load = &summary.load;
    let mut found = Vec::new();
    match &plan.profile.load {
        LoadModel::Closed(c) => {
            if load.users_planned > 0 {
                found.extend(spawn(plan, c, summary));
                found.extend(cpu(summary));
                found.extend(wake(c, load));
            }
        }
        LoadModel::Open(o) => {
            if let Some(open) = &load.open {
                found.extend(drops(plan, o, summary));
                found.extend(rate(plan, summary));
                found.extend(send_lag(open));
                found.extend(cpu(summary));
            }
        }
    }
    found.extend(local_resources(summary));
    found
}

const RAISE_CAP: &str = "raise max_in_flight (Little's law: in flight = arrivals per second × \
                         time in the system), free a core, or run on a bigger machine";

fn drops(plan: &Plan, open: &Open, summary: &Summary) -> Option<Invalidity> {
    // The measured window's drops, as everything else is judged on it (the first second's,
    // while connections are being made, are not).
    let dropped = delivery(plan, summary)?.dropped;
    if dropped == 0 {
        return None;
    }
    // This shard's part of the peak rate and of the cap (the whole of both unsharded).
    let shard = plan.shard();
    let rate = open.peak() / f64::from(shard.count);
    let max_in_flight = shard.part(open.max_in_flight);
    let cap = f64::from(max_in_flight);
    // The service's own time per request, free of any wait for a slot.
    let service_p50 = summary.total.service_quantile(0.5);
    let need = service_p50.map(|p50| rate * p50.as_secs_f64());
    // The service filled the cap only if slagate was not busy itself: a worker near its
    // core's limit reads answers late, which inflates the service time it measures and holds
    // slots for its own sake. Without a single answer there is no service time, and then the
    // cap cannot be cleared either.
    let window = summary.window.start.as_secs() as usize..summary.window.end.as_secs() as usize;
    let busiest = summary
        .load
        .cpu
        .get(window.start.min(summary.load.cpu.len())..window.end.min(summary.load.cpu.len()))
        .map_or(0.0, |w| w.iter().copied().fold(0.0, f64::max));
    let generator_busy = busiest >= DROPS_CPU;
    if need.is_some_and(|need| need <= cap) && !generator_busy {
        return None;
    }
    let figure = format!(
        "{dropped} arrival{} dropped at max_in_flight {max_in_flight}",
        if dropped == 1 { "" } else { "s" },
    );
    let why = match (need, service_p50) {
        _ if generator_busy => format!(
            "slagate's busiest worker reached {} of a core in the measured window, so the \
             slots may have been held by slagate reading answers late rather than by the \
             service",
            units::percent(busiest)
        ),
        (Some(need), Some(p50)) => format!(
            "at {} arrivals/s a service answering in its measured {} (service-time p50) holds \
             ≈ {} requests at once, more than the {max_in_flight} allowed",
            units::number(rate),
            units::duration(p50),
            units::number(need.ceil()),
        ),
        _ => "no request was answered, so the cap cannot be shown to have sufficed".to_string(),
    };
    Some(Invalidity {
        cause: "drops",
        message: format!(
            "slagate dropped arrivals because every slot was busy: {figure}; {why}, so the load \
             asked for was not sent; {NOT_AT_FAULT} — {RAISE_CAP}"
        ),
        figure,
    })
}

/// What an open run's measured window asked for and what was sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delivery {
    /// Arrivals the schedule had due in the window.
    pub asked: u64,
    /// Arrivals sent from the window's first second on (an arrival due just before the end
    /// and sent just after it lands in the drain second, and counts).
    pub sent: u64,
    /// Arrivals dropped in the same seconds.
    pub dropped: u64,
    pub seconds: f64,
}

/// [`Delivery`] for an open plan (of its shard's arrivals, when sharded); `None` for a closed
/// one or an empty window.
pub fn delivery(plan: &Plan, summary: &Summary) -> Option<Delivery> {
    let open = plan.profile.open()?;
    let schedule = Schedule::new(open, plan.profile.run_time);
    let (start, end) = (summary.window.start, summary.window.end);
    if end <= start {
        return None;
    }
    let first = start.as_secs() as usize;
    let seconds = summary
        .timeline
        .iter()
        .filter(|p| p.second as usize >= first);
    Some(Delivery {
        asked: plan.shard().share_between(
            schedule.due_before(start.as_secs_f64()),
            schedule.due_before(end.as_secs_f64()),
        ),
        sent: seconds.clone().map(|p| p.arrivals).sum(),
        dropped: seconds.map(|p| p.dropped).sum(),
        seconds: (end - start).as_secs_f64(),
    })
}

fn rate(plan: &Plan, summary: &Summary) -> Option<Invalidity> {
    let Delivery {
        asked,
        sent,
        dropped,
        seconds: secs,
    } = delivery(plan, summary)?;
    let short = asked.saturating_sub(sent + dropped);
    if short < 2 || (short as f64) <= RATE_SHORTFALL * asked as f64 {
        return None;
    }
    let figure = format!(
        "{} of {asked} arrivals sent or dropped ({}/s of the {}/s asked for)",
        sent + dropped,
        units::rate((sent + dropped) as f64 / secs),
        units::rate(asked as f64 / secs)
    );
    Some(Invalidity {
        cause: "rate",
        message: format!(
            "slagate did not send the arrivals its schedule asked for: {figure} in the measured \
             window, short by {} (more than the {} allowed); {NOT_AT_FAULT} — {RAISE_CAP}",
            units::percent(short as f64 / asked as f64),
            units::percent(RATE_SHORTFALL)
        ),
        figure,
    })
}

/// The p99 of a lateness histogram (µs), when it is over `limit` by the verdict's own rule for
/// thin data: a handful of late events on a busy machine is no proof that the p99 is over the
/// limit; only enough late ones to be 95 % sure make the run invalid.
fn p99_late(lateness: &Sparse, limit: Duration) -> Option<Duration> {
    if lateness.is_empty() {
        return None;
    }
    let mut hist = new_histogram();
    lateness.add_to(&mut hist);
    let p99 = Duration::from_micros(hist.value_at_quantile(0.99));
    let limit_us = u64::try_from(limit.as_micros()).unwrap_or(u64::MAX);
    let late = hist.count_between(hist.next_non_equivalent(limit_us), u64::MAX);
    (p99 > limit && confidence::exceeds(hist.len(), late, 0.99)).then_some(p99)
}

fn send_lag(open: &OpenHealth) -> Option<Invalidity> {
    p99_late(&open.send_lag, SEND_LAG_P99).map(|p99| {
        let figure = format!(
            "p99 send lag {} (limit {})",
            units::duration(p99),
            units::duration(SEND_LAG_P99)
        );
        Invalidity {
            cause: "send_lag",
            message: format!(
                "slagate sent arrivals late against their schedule: p99 {} after the intended \
                 time, over the {} allowed, and latency counts from the intended time, so the \
                 generator's own lateness is in it; {NOT_AT_FAULT} — free a core, lower the rate, \
                 or run on a bigger machine (or several: issue the load from more processes)",
                units::duration(p99),
                units::duration(SEND_LAG_P99)
            ),
            figure,
        }
    })
}

fn spawn(plan: &Plan, closed: &Closed, summary: &Summary) -> Option<Invalidity> {
    let load = &summary.load;
    let profile = closed;
    // Users whose turn came before the load stopped (an abort or Ctrl-C ends spawning), of
    // the whole profile, then this shard's of them.
    let due = (summary.stopped_at.as_secs_f64() * profile.spawn_rate).ceil();
    let due = due.min(f64::from(profile.users)) as u64;
    let due = (u32::try_from(plan.shard().share(due)).unwrap_or(u32::MAX)).max(1);
    if load.users_started < due {
        let figure = format!("{} of {due} users started", load.users_started);
        return Some(Invalidity {
            cause: "spawn",
            message: format!(
                "slagate could not start every user: only {} of the {due} users due had started \
                 when the load stopped; {NOT_AT_FAULT} — {SCALE_OUT}",
                load.users_started
            ),
            figure,
        });
    }
    let tolerance = SPAWN_FLOOR.max(Duration::from_secs_f64(
        SPAWN_INTERVALS / profile.spawn_rate,
    ));
    (load.worst_spawn_delay > tolerance).then(|| Invalidity {
        cause: "spawn",
        figure: format!(
            "a user started {} late (tolerance {})",
            units::duration(load.worst_spawn_delay),
            units::duration(tolerance)
        ),
        message: format!(
            "slagate started users behind schedule: one started {} after its time, more than the \
             {} allowed (the longer of {} and {SPAWN_INTERVALS} spawn intervals at {}/s), so the \
             ramp-up was not the profile's; {NOT_AT_FAULT} — {SCALE_OUT}",
            units::duration(load.worst_spawn_delay),
            units::duration(tolerance),
            units::duration(SPAWN_FLOOR),
            profile.spawn_rate
        ),
    })
}

fn cpu(summary: &Summary) -> Option<Invalidity> {
    let load = &summary.load;
    // Whole seconds of the measured window that have a sample.
    let first = summary.window.start.as_secs() as usize;
    let end = (summary.window.end.as_secs() as usize).min(load.cpu.len());
    let window = load.cpu.get(first..end).filter(|w| !w.is_empty())?;

    // The longest run of saturated seconds, and its mean.
    let (mut best_len, mut best_sum) = (0usize, 0.0);
    let (mut len, mut sum) = (0usize, 0.0);
    for &f in window {
        if f >= CPU_SATURATED {
            len += 1;
            sum += f;
            if len > best_len {
                (best_len, best_sum) = (len, sum);
            }
        } else {
            (len, sum) = (0, 0.0);
        }
    }
    let mean = window.iter().sum::<f64>() / window.len() as f64;
    let workers = match load.cores {
        0 | 1 => "its worker".to_string(),
        n => format!("the busiest of its {n} workers"),
    };
    let figure = if best_len >= CPU_SECONDS {
        format!(
            "{workers} at {} of a core for {best_len} s",
            units::percent(best_sum / best_len as f64)
        )
    } else if mean >= CPU_SATURATED {
        format!(
            "{workers} at {} of a core on average over {} s",
            units::percent(mean),
            window.len()
        )
    } else {
        return None;
    };
    Some(Invalidity {
        cause: "cpu",
        message: format!("slagate's own CPU was saturated: {figure}; {NOT_AT_FAULT} — {SCALE_OUT}"),
        figure,
    })
}

fn wake(closed: &Closed, load: &LoadHealth) -> Option<Invalidity> {
    let think = closed.think_time.mean();
    if think.is_zero() {
        return None;
    }
    let limit = WAKE_FLOOR.max(think.mul_f64(WAKE_SHARE));
    p99_late(&load.wake_delay, limit).map(|p99| {
        let figure = format!(
            "p99 wake-up delay {} (limit {})",
            units::duration(p99),
            units::duration(limit)
        );
        Invalidity {
            cause: "wake",
            message: format!(
                "slagate's users woke from their think time late: p99 {} behind schedule, over \
                 the {} allowed (the larger of {} and {} of the {} mean think time), so the \
                 users did not keep the profile's pace; {NOT_AT_FAULT} — {SCALE_OUT}",
                units::duration(p99),
                units::duration(limit),
                units::duration(WAKE_FLOOR),
                units::percent(WAKE_SHARE),
                units::duration(think)
            ),
            figure,
        }
    })
}

fn local_resources(summary: &Summary) -> Option<Invalidity> {
    let kind = summary
        .total
        .failures_by_kind
        .iter()
        .find(|k| k.kind == FailureKind::LocalResource && k.count > 0)?;
    let example = kind
        .example
        .as_ref()
        .map(|ex| format!(" (e.g. \"{}\")", ex.text))
        .unwrap_or_default();
    let requests = if kind.count == 1 {
        "request"
    } else {
        "requests"
    };
    Some(Invalidity {
        cause: "local_resources",
        figure: format!("{} {requests} failed on slagate's machine", kind.count),
        message: format!(
            "slagate's machine ran out of resources (file descriptors or ephemeral ports): {} \
             {requests} failed before reaching the service{example}; {NOT_AT_FAULT} — raise the \
             open-files limit (ulimit -n), widen the ephemeral port range, or run fewer users \
             per machine",
            kind.count
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::{PlanBuilder, ms, secs};
    use crate::stats::testing::RecordedRun;
    use crate::stats::{Outcome, Sparse};

    /// 10 users at 5/s for 10 s (ramp-up 1.8 s, window from 2 s), thinking `think_ms` on
    /// average.
    fn plan(think_ms: u64) -> Plan {
        PlanBuilder::new()
            .endpoint("/e", |e| e)
            .users(10)
            .spawn_rate(5.0)
            .run_time(secs(10))
            .think(ms(think_ms / 2), ms(think_ms + think_ms / 2))
            .build()
    }

    /// A healthy generator's evidence: every user on time, wake-ups within a millisecond, CPU
    /// at 30 %.
    fn healthy() -> LoadHealth {
        LoadHealth {
            users_planned: 10,
            users_started: 10,
            worst_spawn_delay: ms(3),
            wake_delay: Sparse(vec![(300, 900), (1_000, 100)]),
            open: None,
            cpu: vec![0.3; 10],
            cores: 2,
        }
    }

    /// A summary of a 10 s run with one successful request per second, `local` requests that
    /// failed for want of a file descriptor, and `load`.
    fn summary(load: LoadHealth, local: u64, stopped_at: Duration) -> Summary {
        let mut run = RecordedRun::new(1, secs(10));
        for s in 0..10 {
            run.record(0, ms(5), Outcome::Success, 10, ms(s * 1000 + 500));
        }
        for i in 0..local {
            let at = ms(3000 + i);
            run.example(
                0,
                FailureKind::LocalResource,
                at,
                "Too many open files (os error 24)".into(),
            );
            let failed = Outcome::Failure(FailureKind::LocalResource);
            run.record(0, ms(1), failed, 0, at);
        }
        let mut rec = run.finish();
        rec.load = load;
        rec.stopped_at = stopped_at;
        Summary::new(&rec, 2)
    }

    struct Case {
        name: &'static str,
        think_ms: u64,
        load: LoadHealth,
        local: u64,
        stopped_at: Duration,
        /// Each expected cause and its figure.
        expect: &'static [(&'static str, &'static str)],
    }

    fn case(name: &'static str, load: LoadHealth, expect: &'static [(&str, &str)]) -> Case {
        Case {
            name,
            think_ms: 200,
            load,
            local: 0,
            stopped_at: Duration::from_secs(10),
            expect,
        }
    }

    #[test]
    fn each_rule_fires_on_its_evidence_and_only_then() {
        let cases = vec![
            case("healthy", healthy(), &[]),
            case(
                "a user never started",
                LoadHealth {
                    users_started: 9,
                    ..healthy()
                },
                &[("spawn", "9 of 10 users started")],
            ),
            Case {
                stopped_at: ms(1_100),
                ..case(
                    "users not yet due when the run was stopped are not missing",
                    LoadHealth {
                        users_started: 6,
                        ..healthy()
                    },
                    &[],
                )
            },
            case(
                "started 1 s late: at the tolerance (max(1 s, 2 / 5 per s))",
                LoadHealth {
                    worst_spawn_delay: ms(1_000),
                    ..healthy()
                },
                &[],
            ),
            case(
                "started 2.5 s late",
                LoadHealth {
                    worst_spawn_delay: ms(2_500),
                    ..healthy()
                },
                &[("spawn", "a user started 2.5 s late (tolerance 1 s)")],
            ),
            case(
                "two saturated seconds are not enough",
                LoadHealth {
                    cpu: vec![0.3, 0.3, 0.3, 0.95, 0.95, 0.5, 0.3, 0.3, 0.3, 0.3],
                    ..healthy()
                },
                &[],
            ),
            case(
                "three saturated seconds in the window",
                LoadHealth {
                    cpu: vec![0.3, 0.3, 0.3, 0.95, 0.97, 0.99, 0.3, 0.3, 0.3, 0.3],
                    ..healthy()
                },
                &[(
                    "cpu",
                    "the busiest of its 2 workers at 97% of a core for 3 s",
                )],
            ),
            case(
                "saturated during ramp-up only",
                LoadHealth {
                    cpu: vec![1.0, 1.0, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3],
                    ..healthy()
                },
                &[],
            ),
            case(
                "saturated on average, never three seconds in a row",
                LoadHealth {
                    cpu: vec![0.3, 0.3, 0.99, 0.99, 0.88, 0.99, 0.99, 0.88, 0.99, 0.99],
                    cores: 1,
                    ..healthy()
                },
                &[("cpu", "its worker at 96.2% of a core on average over 8 s")],
            ),
            Case {
                think_ms: 50,
                ..case(
                    "50 ms think: 12 ms late at p99 is over the 10 ms floor",
                    LoadHealth {
                        wake_delay: Sparse(vec![(300, 900), (12_000, 100)]),
                        ..healthy()
                    },
                    &[("wake", "p99 wake-up delay 12 ms (limit 10 ms)")],
                )
            },
            case(
                "200 ms think: 12 ms late is within 10 % of it (20 ms)",
                LoadHealth {
                    wake_delay: Sparse(vec![(300, 900), (12_000, 100)]),
                    ..healthy()
                },
                &[],
            ),
            Case {
                think_ms: 1_000,
                ..case(
                    "12 ms is within 10 % of a 1 s think time",
                    LoadHealth {
                        wake_delay: Sparse(vec![(300, 900), (12_000, 100)]),
                        ..healthy()
                    },
                    &[],
                )
            },
            Case {
                think_ms: 0,
                ..case(
                    "no think time: wake-ups are not judged",
                    LoadHealth {
                        wake_delay: Sparse(vec![(500_000, 100)]),
                        ..healthy()
                    },
                    &[],
                )
            },
            Case {
                local: 3,
                ..case(
                    "local resource failures",
                    healthy(),
                    &[("local_resources", "3 requests failed on slagate's machine")],
                )
            },
            Case {
                local: 2,
                ..case(
                    "no load measurements: only local failures are judged",
                    LoadHealth::default(),
                    &[("local_resources", "2 requests failed on slagate's machine")],
                )
            },
            case(
                "everything at once, in rule order",
                LoadHealth {
                    users_started: 4,
                    cpu: vec![1.0; 10],
                    wake_delay: Sparse(vec![(250_000, 100)]),
                    ..healthy()
                },
                &[
                    ("spawn", "4 of 10 users started"),
                    (
                        "cpu",
                        "the busiest of its 2 workers at 100% of a core for 8 s",
                    ),
                    ("wake", "p99 wake-up delay 250 ms (limit 20 ms)"),
                ],
            ),
        ];
        for c in cases {
            let s = summary(c.load, c.local, c.stopped_at);
            let got: Vec<(&str, String)> = validity(&plan(c.think_ms), &s)
                .into_iter()
                .map(|i| (i.cause, i.figure))
                .collect();
            let want: Vec<(&str, String)> = c
                .expect
                .iter()
                .map(|&(cause, figure)| (cause, figure.to_string()))
                .collect();
            assert_eq!(got, want, "{}", c.name);
        }
    }

    #[test]
    fn every_message_names_its_figure_and_clears_the_service() {
        let load = LoadHealth {
            users_started: 4,
            cpu: vec![0.98; 10],
            wake_delay: Sparse(vec![(250_000, 100)]),
            ..healthy()
        };
        let found = validity(&plan(200), &summary(load, 5, Duration::from_secs(10)));
        assert_eq!(found.len(), 4);
        for i in &found {
            assert!(
                i.message.contains("the service was not at fault"),
                "{}",
                i.message
            );
        }
        assert_eq!(
            found[1].message,
            "slagate's own CPU was saturated: the busiest of its 2 workers at 98% of a core for 8 s; the load was not \
             delivered and the service was not at fault — run with fewer users, on a bigger or \
             less busy machine, or distributed"
        );
        assert!(found[2].message.contains("p99 250 ms behind schedule"));
        assert!(
            found[2]
                .message
                .contains("10% of the 200 ms mean think time")
        );
        assert!(
            found[3]
                .message
                .contains("(e.g. \"Too many open files (os error 24)\")"),
            "{}",
            found[3].message
        );
        assert!(found[3].message.contains("ulimit -n"));
    }

    mod open_model {
        use super::*;
        use crate::stats::OpenHealth;

        /// 100 arrivals/s for 10 s (window from 1 s), cap `cap`; each second sends `sent` and
        /// drops `dropped` of them, each sent one answered in `service`; the busiest worker
        /// at `cpu` of its core throughout; send lag `lag_us` for every arrival.
        fn judge(
            cap: u32,
            sent: u64,
            dropped: u64,
            service: Duration,
            cpu: f64,
            lag_us: u32,
        ) -> Vec<String> {
            let plan = PlanBuilder::new()
                .endpoint("/e", |e| e)
                .rate(100.0, cap)
                .run_time(secs(10))
                .build();
            let mut run = RecordedRun::new(1, secs(10));
            for s in 0..10u64 {
                for k in 0..sent {
                    let at = ms(s * 1000 + k * 900 / sent.max(1));
                    run.arrival(false, at);
                    run.record_open(0, service, service, at + service);
                }
                for k in 0..dropped {
                    run.arrival(true, ms(s * 1000 + 950 + k % 40));
                }
            }
            let mut rec = run.finish();
            rec.load = LoadHealth {
                cpu: vec![cpu; 10],
                cores: 1,
                open: Some(OpenHealth {
                    send_lag: Sparse(vec![(lag_us, 1000)]),
                    max_in_flight: cap,
                    peak_in_flight: cap,
                }),
                ..LoadHealth::default()
            };
            let summary = Summary::new(&rec, 1);
            validity(&plan, &summary)
                .into_iter()
                .map(|i| format!("{}: {}", i.cause, i.figure))
                .collect()
        }

        #[test]
        fn a_delivered_schedule_is_valid() {
            assert_eq!(judge(50, 100, 0, ms(5), 0.3, 300), Vec::<String>::new());
        }

        #[test]
        fn drops_blame_the_cap_the_busy_generator_or_else_the_service() {
            // 100/s × 50 ms = 5 in flight > cap 2: the cap limited the load.
            let found = judge(2, 90, 10, ms(50), 0.3, 300);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(
                found[0].starts_with("drops: 90 arrivals dropped at max_in_flight 2"),
                "{found:?}"
            );
            // The cap fits 100/s × 5 ms easily and slagate was idle: the service held the
            // slots (a stall). Not INVALID; the drops are failures the verdict judges.
            assert_eq!(judge(50, 90, 10, ms(5), 0.3, 300), Vec::<String>::new());
            // Same, but slagate ran at 85 % of its core: not provably the service's doing.
            let found = judge(50, 90, 10, ms(5), 0.85, 300);
            assert!(found.iter().any(|f| f.starts_with("drops:")), "{found:?}");
        }

        #[test]
        fn a_short_schedule_or_a_late_one_is_invalid() {
            let found = judge(50, 95, 0, ms(5), 0.3, 300);
            assert_eq!(
                found,
                ["rate: 855 of 900 arrivals sent or dropped (95/s of the 100/s asked for)"]
            );
            assert_eq!(judge(50, 100, 0, ms(5), 0.3, 8_000), Vec::<String>::new());
            let found = judge(50, 100, 0, ms(5), 0.3, 15_000);
            assert_eq!(found, ["send_lag: p99 send lag 15 ms (limit 10 ms)"]);
        }
    }
}
