//! The live view: what a run shows while it goes, on stderr (stdout keeps the tables). On a
//! terminal, a status block redrawn every second: elapsed and total, the load (users, or the
//! achieved against the requested arrival rate), requests/s, the error rate, each endpoint's
//! recent p50/p95/p99, and the budgets the recent seconds breach. Off a terminal (a CI log),
//! the same figures as one plain line per `--progress-interval`, never an escape sequence, so
//! that a log shows the run as it goes and no CI kills a job for being silent.

use std::time::Duration;

use crate::engine::Progress;
use crate::plan::Plan;
use crate::report::term;
use crate::units;

pub(super) struct Live {
    tty: bool,
    /// Zero: show nothing.
    interval: Duration,
    /// Lines of the block drawn last (a terminal redraws over them).
    drawn: usize,
}

impl Live {
    pub(super) fn new(interval: Duration, tty: bool) -> Live {
        Live {
            tty,
            interval,
            drawn: 0,
        }
    }

    /// Called once a second by the engine.
    pub(super) fn show(&mut self, plan: &Plan, p: &Progress) {
        if self.interval.is_zero() {
            return;
        }
        if self.tty {
            let lines = block(plan, p);
            let mut out = String::new();
            if self.drawn > 0 {
                // Back to the block's first line, and clear from there down.
                out.push_str(&format!("\x1b[{}F\x1b[J", self.drawn));
            }
            for line in &lines {
                out.push_str(line);
                out.push('\n');
            }
            self.drawn = lines.len();
            term::err(out);
            return;
        }
        let every = self.interval.as_secs().max(1);
        if p.elapsed.as_secs().is_multiple_of(every) {
            term::errln(line(plan, p));
        }
    }
}

/// The figures both forms show, in words.
struct Figures {
    /// "[0:12 / 1:00] 10/10 users · 412 requests (41/s) · 0.2% errors"
    head: String,
    /// Per endpoint with recent answers: its name and "p50 2.1 ms · p95 3.4 ms · p99 5 ms".
    endpoints: Vec<(String, String)>,
    /// "/analysis/ p99 2.4 s (budget < 2 s)"
    at_risk: Vec<String>,
}

fn figures(plan: &Plan, p: &Progress) -> Figures {
    let load = match &p.arrivals {
        // Open model: the schedule against what went out, what the service holds, what was
        // dropped.
        Some(a) => format!(
            "{}/{} arrivals/s · {} in flight (max {}) · {} dropped",
            units::rate(a.achieved_rps),
            units::rate(a.requested_rps),
            p.users,
            p.target_users,
            a.dropped
        ),
        None => format!("{}/{} users", p.users, p.target_users),
    };
    let (requests, failures) = p
        .recent
        .iter()
        .fold((0, 0), |(r, f), e| (r + e.requests, f + e.failures));
    let errors = if requests == 0 {
        String::new()
    } else {
        format!(
            " · {} errors",
            units::percent(failures as f64 / requests as f64)
        )
    };
    // A shard says which it is: its figures are its part, and a log of several shards (or one
    // pod's) must tell them apart.
    let shard = plan
        .shard
        .map(|s| format!("shard {s} "))
        .unwrap_or_default();
    let head = format!(
        "{shard}[{} / {}] {load} · {} requests ({}/s) · {} failures{errors}{}",
        units::offset(p.elapsed),
        units::offset(p.run_time),
        p.requests,
        units::rate(p.recent_rps),
        p.failures,
        if p.interrupted {
            " · interrupted: finishing requests in flight (Ctrl-C again to stop now)"
        } else {
            ""
        }
    );
    let mut endpoints = Vec::new();
    let mut at_risk = Vec::new();
    for (ep, recent) in plan.endpoints.iter().zip(&p.recent) {
        let h = &recent.latency;
        if h.is_empty() {
            continue;
        }
        let at = |q: f64| Duration::from_micros(h.value_at_quantile(q));
        endpoints.push((
            ep.name.clone(),
            format!(
                "p50 {} · p95 {} · p99 {}",
                units::duration(at(0.5)),
                units::duration(at(0.95)),
                units::duration(at(0.99))
            ),
        ));
        // Only what the level judges: a budget left to longer profiles is not at risk here.
        let judged = ep
            .budgets
            .iter()
            .filter(|b| plan.level.as_ref().is_none_or(|l| l.judges(b.metric)));
        for b in judged {
            let value = at(b.metric.quantile());
            if value >= b.limit {
                at_risk.push(format!(
                    "{} {} {} (budget < {})",
                    ep.name,
                    b.metric,
                    units::duration(value),
                    units::duration(b.limit)
                ));
            }
        }
    }
    Figures {
        head,
        endpoints,
        at_risk,
    }
}

/// The terminal's block: the head, a line per endpoint, the budgets at risk.
fn block(plan: &Plan, p: &Progress) -> Vec<String> {
    let f = figures(plan, p);
    let width = f
        .endpoints
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = vec![f.head];
    for (name, figures) in &f.endpoints {
        lines.push(format!("  {name:<width$}  {figures}"));
    }
    if f.endpoints.is_empty() {
        lines.push("  (no answers in the last seconds yet)".into());
    }
    lines.push(if f.at_risk.is_empty() {
        "  budgets at risk: none in the last seconds".into()
    } else {
        format!("  budgets at risk: {}", f.at_risk.join(" · "))
    });
    lines
}

/// A CI log's line: the same figures on one line.
fn line(plan: &Plan, p: &Progress) -> String {
    let f = figures(plan, p);
    let mut line = f.head;
    for (name, figures) in &f.endpoints {
        line.push_str(&format!(" | {name} {figures}"));
    }
    if !f.at_risk.is_empty() {
        line.push_str(&format!(" | at risk: {}", f.at_risk.join(", ")));
    }
    line
}
