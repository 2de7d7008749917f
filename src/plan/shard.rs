//! One shard's part of a profile (`check --shard K/N`), k6's execution segments reduced to equal
//! stripes: the profile's events (user starts in the closed model, arrivals in the open one)
//! are numbered over the whole run, and shard K takes those whose number is K−1 modulo N. Each
//! event keeps its time, so the shards together make exactly the one profile: the users ramp
//! up as on one machine and the arrivals keep the one schedule, with no coordinator.

use std::fmt;

use super::{LoadModel, Plan, Schedule};

/// Shard `index + 1` of `count` (0-based inside, written 1-based as `K/N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

impl Shard {
    /// The whole profile: one shard of one.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `k` (1-based) of `n`; `None` unless 1 ≤ k ≤ n.
    pub fn new(k: u32, n: u32) -> Option<Shard> {
        if k >= 1 && k <= n {
            Some(Shard {
                index: k - 1,
                count: n,
            })
        } else {
            None
        }
    }

    /// Whether event `i` (over the whole run) is this shard's.
    pub fn owns(&self, i: u64) -> bool {
        i % u64::from(self.count) == u64::from(self.index)
    }

    /// How many of the events `0..n` are this shard's: the shares of all shards add up to `n`.
    pub fn share(&self, n: u64) -> u64 {
        let (k, c) = (u64::from(self.index), u64::from(self.count));
        if n <= k { 0 } else { (n - k - 1) / c + 1 }
    }

    /// How many of the events `from..to` are this shard's.
    pub fn share_between(&self, from: u64, to: u64) -> u64 {
        self.share(to).saturating_sub(self.share(from))
    }

    /// This shard's part of a limit that is split rather than striped (`max_in_flight`,
    /// `sessions`): the parts add up to the whole, the first shards taking the remainder.
    pub fn part(&self, whole: u32) -> u32 {
        whole / self.count + u32::from(self.index < whole % self.count)
    }

    /// Shard 1/1: not sharded at all.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

impl Plan {
    /// This plan's shard (the whole profile when not sharded).
    pub fn shard(&self) -> Shard {
        self.shard.unwrap_or(Shard::WHOLE)
    }

    /// Make only `shard`'s part of the profile. Refused (with the reason) when the part would
    /// be empty or could never hold a request: fewer users, in-flight slots or sessions than
    /// shards.
    pub fn with_shard(mut self, shard: Shard) -> Result<Plan, String> {
        let n = shard.count;
        match &self.profile.load {
            LoadModel::Closed(c) => {
                if shard.share(u64::from(c.users)) == 0 {
                    return Err(format!(
                        "shard {shard} would have no users: the profile has {} user{} for {n} \
                         shards (use at most {} shards, or more users)",
                        c.users,
                        if c.users == 1 { "" } else { "s" },
                        c.users
                    ));
                }
            }
            LoadModel::Open(o) => {
                if shard.part(o.max_in_flight) == 0 {
                    return Err(format!(
                        "shard {shard} would have no in-flight slot: max_in_flight {} is \
                         split between {n} shards (raise it to at least {n})",
                        o.max_in_flight
                    ));
                }
                if !self.flows.is_empty() && shard.part(self.profile.sessions) == 0 {
                    return Err(format!(
                        "shard {shard} would have no flow session: sessions {} is split \
                         between {n} shards (raise it to at least {n})",
                        self.profile.sessions
                    ));
                }
                let schedule = Schedule::new(o, self.profile.run_time);
                let all = schedule.due_between(0.0, self.profile.run_time.as_secs_f64());
                if shard.share(all) == 0 {
                    return Err(format!(
                        "shard {shard} would have no arrivals: the schedule has {all} for {n} \
                         shards"
                    ));
                }
            }
        }
        self.shard = (!shard.is_whole()).then_some(shard);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_stripe_the_events_and_their_shares_add_up() {
        for n in 1..=5u32 {
            for total in 0..40u64 {
                let mut sum = 0;
                for k in 1..=n {
                    let s = Shard::new(k, n).unwrap();
                    let owned = (0..total).filter(|&i| s.owns(i)).count() as u64;
                    assert_eq!(s.share(total), owned, "{s} of {total}");
                    sum += owned;
                    for from in 0..total {
                        let between = (from..total).filter(|&i| s.owns(i)).count() as u64;
                        assert_eq!(s.share_between(from, total), between);
                    }
                }
                assert_eq!(sum, total);
            }
            for whole in 0..20u32 {
                let parts: u32 = (1..=n).map(|k| Shard::new(k, n).unwrap().part(whole)).sum();
                assert_eq!(parts, whole);
            }
        }
        assert_eq!(Shard::new(0, 3), None);
        assert_eq!(Shard::new(4, 3), None);
        assert_eq!(Shard::new(2, 3).unwrap().to_string(), "2/3");
    }
}
