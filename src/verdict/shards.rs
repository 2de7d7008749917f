//! Sharded runs (`check --shard K/N`, then `slagate merge`): N processes each made a disjoint
//! part of one profile over the same seconds; added together they are the one run, judged
//! once with the same `judge` as a single process. Owns how shard `Summary`s are laid over
//! each other and how each shard's delivery is judged; it reads no file and renders nothing.
//!
//! - Second s of every shard is second s of the run (the shards started together, within the
//!   skew the merge allows), so per second and per endpoint the histograms are added, counts
//!   and users summed: the merged p99 is the p99 of every request, not a mean of p99s. The
//!   rates are the shards' requests over the merged window (their sum when the windows are
//!   equal).
//! - Delivery is judged shard by shard, each against its own part of the plan (its users, its
//!   arrivals, its share of `max_in_flight`), as `check` would have judged it: the merged
//!   verdict is INVALID when any shard's load was not its part of the profile, naming the
//!   shard, or when the shards started too far apart to be one run.
//! - An `abort_when` stop of one shard stops only that shard; the merged run keeps the first
//!   one (and so fails its abort check), labelled with its shard.

use std::time::Duration;

use crate::plan::{Plan, Shard};
use crate::stats::{
    Connections, EndpointStats, LoadHealth, OpenHealth, Sparse, Summary, TimelinePoint, Window,
    new_histogram,
};
use crate::units;

use super::repeat::{add_second, add_stats, finish};
use super::validity::{Invalidity, validity};
use super::{Verdict, judge};

/// One shard, as the merge reads it back.
pub struct ShardRun<'a> {
    pub shard: Shard,
    pub summary: &'a Summary,
    /// It was interrupted (Ctrl-C, a killed pod) before its run time was over.
    pub interrupted: bool,
}

/// Lay the shards' summaries over each other, second by second. `shards` must not be empty.
pub fn overlay(shards: &[&Summary]) -> Summary {
    let first = shards.first().expect("at least one shard");
    let end = shards
        .iter()
        .map(|s| s.window.end)
        .max()
        .unwrap_or_default();
    let window = Window {
        start: first.window.start,
        end,
    };
    let mut endpoints: Vec<EndpointStats> = (0..first.endpoints.len())
        .map(|_| EndpointStats::empty())
        .collect();
    let mut flows: Vec<EndpointStats> = (0..first.flows.len())
        .map(|_| EndpointStats::empty())
        .collect();
    let mut total = EndpointStats::empty();
    let same = |d: Duration| d;
    for s in shards {
        let length = s.window.length();
        for (mine, theirs) in endpoints.iter_mut().zip(&s.endpoints) {
            add_stats(mine, theirs, length, &same);
        }
        for (mine, theirs) in flows.iter_mut().zip(&s.flows) {
            add_stats(mine, theirs, length, &same);
        }
        add_stats(&mut total, &s.total, length, &same);
    }
    for st in endpoints
        .iter_mut()
        .chain(flows.iter_mut())
        .chain(std::iter::once(&mut total))
    {
        finish(st, window.length());
    }
    let seconds = shards.iter().map(|s| s.timeline.len()).max().unwrap_or(0);
    let mut timeline: Vec<TimelinePoint> = Vec::with_capacity(seconds);
    for s in shards {
        for p in &s.timeline {
            match timeline.iter_mut().find(|q| q.second == p.second) {
                Some(q) => {
                    q.users += p.users;
                    q.arrivals += p.arrivals;
                    q.dropped += p.dropped;
                    for (a, b) in q.endpoints.iter_mut().zip(&p.endpoints) {
                        *a = add_second(a, b);
                    }
                    q.total = add_second(&q.total, &p.total);
                }
                None => timeline.push(p.clone()),
            }
        }
    }
    timeline.sort_by_key(|p| p.second);
    let mut connections = Connections::default();
    for s in shards {
        connections.add(&s.connections);
    }
    let aborted = shards
        .iter()
        .filter_map(|s| s.aborted.as_ref())
        .min_by_key(|a| a.at)
        .cloned();
    Summary {
        started_at: shards
            .iter()
            .map(|s| s.started_at)
            .min()
            .unwrap_or(first.started_at),
        run_time: shards.iter().map(|s| s.run_time).max().unwrap_or_default(),
        stopped_at: shards
            .iter()
            .map(|s| s.stopped_at)
            .max()
            .unwrap_or_default(),
        finished_at: shards
            .iter()
            .map(|s| s.finished_at)
            .max()
            .unwrap_or_default(),
        window,
        endpoints,
        flows,
        total,
        timeline,
        load: combined_load(shards.iter().map(|s| &s.load)),
        connections,
        aborted,
        reached: shards.iter().map(|s| s.reached).sum(),
    }
}

/// The shards' load health side by side, for the reports (users and caps summed, lateness
/// histograms added, each second's CPU the busiest shard's). Never judged: each shard's own
/// is (see [`judge_shards`]).
fn combined_load<'a>(loads: impl Iterator<Item = &'a LoadHealth>) -> LoadHealth {
    let mut all = LoadHealth::default();
    let mut wake = new_histogram();
    let mut lag = new_histogram();
    for l in loads {
        all.users_planned += l.users_planned;
        all.users_started += l.users_started;
        all.worst_spawn_delay = all.worst_spawn_delay.max(l.worst_spawn_delay);
        l.wake_delay.add_to(&mut wake);
        if all.cpu.len() < l.cpu.len() {
            all.cpu.resize(l.cpu.len(), 0.0);
        }
        for (a, &b) in all.cpu.iter_mut().zip(&l.cpu) {
            *a = a.max(b);
        }
        all.cores = all.cores.max(l.cores);
        if let Some(o) = &l.open {
            o.send_lag.add_to(&mut lag);
            let open = all.open.get_or_insert_with(OpenHealth::default);
            open.max_in_flight += o.max_in_flight;
            open.peak_in_flight += o.peak_in_flight;
        }
    }
    all.wake_delay = Sparse::from_histogram(&wake);
    if let Some(open) = &mut all.open {
        open.send_lag = Sparse::from_histogram(&lag);
    }
    all
}

/// Judge the shards as one run of `plan` (the whole profile): the overlaid summary judged as
/// `check` judges, and delivery judged per shard. `skew` is how far apart the shards started;
/// beyond `max_skew` their seconds are not the same seconds and the run is INVALID.
pub fn judge_shards(
    plan: &Plan,
    shards: &[ShardRun<'_>],
    skew: Duration,
    max_skew: Duration,
) -> (Summary, Verdict) {
    let summaries: Vec<&Summary> = shards.iter().map(|s| s.summary).collect();
    let summary = overlay(&summaries);
    let mut verdict = judge(plan, &summary);
    let mut invalid = Vec::new();
    for s in shards {
        invalid.extend(shard_validity(plan, s));
    }
    if skew > max_skew {
        let figure = format!(
            "the shards started {} apart (at most {} allowed)",
            units::duration(skew),
            units::duration(max_skew)
        );
        invalid.push(Invalidity {
            cause: "skew",
            message: format!(
                "the shards did not run the same seconds: {figure}, so their sum is not the \
                 profile's load at any moment; the load was not delivered and the service was \
                 not at fault — give every shard the same --start-at, a little after the last \
                 one can have started"
            ),
            figure,
        });
    }
    verdict.invalid = invalid;
    (summary, verdict)
}

/// One shard's delivery, judged against its own part of the plan, each reason labelled with
/// the shard.
pub fn shard_validity(plan: &Plan, s: &ShardRun<'_>) -> Vec<Invalidity> {
    let mut part = plan.clone();
    part.shard = (!s.shard.is_whole()).then_some(s.shard);
    let mut found = validity(&part, s.summary);
    if s.interrupted {
        let figure = format!(
            "stopped at {} of {}",
            units::duration(s.summary.stopped_at),
            units::duration(s.summary.run_time)
        );
        found.push(Invalidity {
            cause: "interrupted",
            message: format!(
                "this shard was interrupted ({figure}), so its part of the load was not made to \
                 the end; the load was not delivered and the service was not at fault — run the \
                 shards again"
            ),
            figure,
        });
    }
    for inv in &mut found {
        inv.figure = format!("shard {}: {}", s.shard, inv.figure);
        inv.message = format!("shard {}: {}", s.shard, inv.message);
    }
    found
}
