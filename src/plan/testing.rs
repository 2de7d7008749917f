//! Test support: a `Plan` built in one expression instead of a 30-line literal, for the unit
//! tests of every stage and for the integration tests (hence `pub`, hidden from the docs).
//!
//! ```
//! use slagate::plan::Metric;
//! use slagate::plan::testing::{PlanBuilder, ms, p, secs};
//!
//! let plan = PlanBuilder::new()
//!     .endpoint("/a", |e| e.weight(2).budget(p(0.95), ms(20)).budget(Metric::Max, ms(200)))
//!     .users(10)
//!     .spawn_rate(5.0)
//!     .run_time(secs(10))
//!     .think(ms(100), ms(300))
//!     .level(|l| l.max_error_rate(0.01))
//!     .build();
//! assert_eq!(plan.endpoints[0].budgets.len(), 2);
//! assert_eq!(plan.profile.ramp_up(), ms(1800));
//! ```
//!
//! Every default is written once, in `PlanBuilder::new`, `PlanBuilder::endpoint` and
//! `LevelBuilder::new`: a new `Plan` field costs one edit here, not one per test. The defaults:
//! target `http://127.0.0.1:1` with a 1 s timeout, no endpoints, profile `t` (one user, one per
//! second, 10 s, no think time), no level, no `abort_when`; an endpoint is a `GET` of its own
//! name, weight 1, any 2xx or 3xx, no budgets. Locations default to line 0 of nowhere; pass
//! `loc(line, column)` where a test shows them.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};

use super::{
    Budget, Closed, Endpoint, Level, LevelLimit, LoadModel, Location, Metric, Open, Plan, Profile,
    Quantile, Stage, StatusSet, Target, ThinkTime,
};

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The percentile metric `q` (`p(0.95)` is p95). Panics outside 0 < q < 1.
pub fn p(q: f64) -> Metric {
    Metric::Percentile(Quantile::new(q).expect("a quantile strictly between 0 and 1"))
}

/// Line `line`, column `column` of `sla.toml`.
pub fn loc(line: u32, column: u32) -> Location {
    Location {
        file: PathBuf::from("sla.toml"),
        line,
        column,
    }
}

/// `metric < limit`, written nowhere in particular.
pub fn budget(metric: Metric, limit: Duration) -> Budget {
    Budget {
        metric,
        limit,
        location: Location::default(),
    }
}

/// Builds a [`Plan`]; see the module docs for the defaults.
#[derive(Debug, Clone)]
pub struct PlanBuilder {
    plan: Plan,
}

impl Default for PlanBuilder {
    fn default() -> Self {
        PlanBuilder::new()
    }
}

impl PlanBuilder {
    pub fn new() -> PlanBuilder {
        PlanBuilder {
            plan: Plan {
                sla_path: PathBuf::from("sla.toml"),
                target: Target {
                    base_url: "http://127.0.0.1:1".parse().expect("a valid URL"),
                    timeout: Duration::from_secs(1),
                    headers: HeaderMap::new(),
                    transport: super::Transport::with_timeout(Duration::from_secs(1)),
                    cookies: false,
                },
                endpoints: Vec::new(),
                flows: Vec::new(),
                vars: Vec::new(),
                profile: Profile {
                    name: "t".into(),
                    path: PathBuf::from("profiles/t.toml"),
                    description: String::new(),
                    load: LoadModel::Closed(Closed {
                        users: 1,
                        spawn_rate: 1.0,
                        think_time: ThinkTime {
                            min: Duration::ZERO,
                            max: Duration::ZERO,
                        },
                    }),
                    run_time: Duration::from_secs(10),
                    level_name: "t".into(),
                    sessions: super::DEFAULT_SESSIONS,
                },
                level: None,
                abort_when: None,
                secrets: Default::default(),
                shard: None,
            },
        }
    }

    /// The target's base URL (`http://127.0.0.1:PORT` of a test server). Panics if invalid.
    pub fn base_url(mut self, url: &str) -> PlanBuilder {
        self.plan.target.base_url = url
            .parse()
            .unwrap_or_else(|e| panic!("base URL {url:?}: {e}"));
        self
    }

    /// The request timeout, and the connect timeout with it (as config defaults it).
    pub fn timeout(mut self, timeout: Duration) -> PlanBuilder {
        self.plan.target.timeout = timeout;
        self.plan.target.transport.connect_timeout = timeout;
        self
    }

    /// Adds the endpoint `name` (a `GET` of that path), shaped by `f`.
    pub fn endpoint(
        mut self,
        name: &str,
        f: impl FnOnce(EndpointBuilder) -> EndpointBuilder,
    ) -> PlanBuilder {
        let endpoint = EndpointBuilder {
            endpoint: Endpoint {
                name: name.into(),
                method: Method::GET,
                path_and_query: name.into(),
                headers: HeaderMap::new(),
                body: Bytes::new(),
                weight: 1,
                expect_status: StatusSet::Success,
                budgets: Vec::new(),
                captures: Vec::new(),
                in_flow: false,
                location: Location::default(),
            },
        };
        self.plan.endpoints.push(f(endpoint).endpoint);
        self
    }

    /// Adds one endpoint per list of budgets, named `/e0`, `/e1`, … in order (the table-driven
    /// verdict tests' shape).
    pub fn endpoints(mut self, budgets: impl IntoIterator<Item = Vec<Budget>>) -> PlanBuilder {
        for budgets in budgets {
            let name = format!("/e{}", self.plan.endpoints.len());
            self = self.endpoint(&name, |e| e.budgets(budgets));
        }
        self
    }

    /// Names the profile and the level it is judged against (`profiles/NAME.toml`).
    pub fn profile(mut self, name: &str) -> PlanBuilder {
        let profile = &mut self.plan.profile;
        profile.name = name.into();
        profile.path = PathBuf::from(format!("profiles/{name}.toml"));
        profile.level_name = name.into();
        self
    }

    pub fn description(mut self, description: &str) -> PlanBuilder {
        self.plan.profile.description = description.into();
        self
    }

    /// The closed model's users (a closed model is the default).
    pub fn users(mut self, users: u32) -> PlanBuilder {
        self.closed().users = users;
        self
    }

    pub fn spawn_rate(mut self, per_second: f64) -> PlanBuilder {
        self.closed().spawn_rate = per_second;
        self
    }

    /// An open model at a constant `rate` with at most `max_in_flight` requests in flight.
    pub fn rate(mut self, rate: f64, max_in_flight: u32) -> PlanBuilder {
        self.plan.profile.load = LoadModel::Open(Open::constant(rate, max_in_flight));
        self
    }

    /// An open model of these stages (rate, length).
    pub fn stages(mut self, stages: &[(f64, Duration)], max_in_flight: u32) -> PlanBuilder {
        self.plan.profile.load = LoadModel::Open(Open {
            stages: stages
                .iter()
                .map(|&(rate, length)| Stage { rate, length })
                .collect(),
            max_in_flight,
        });
        self
    }

    /// The closed model, made one if it was open.
    fn closed(&mut self) -> &mut Closed {
        if !matches!(self.plan.profile.load, LoadModel::Closed(_)) {
            self.plan.profile.load = LoadModel::Closed(Closed {
                users: 1,
                spawn_rate: 1.0,
                think_time: ThinkTime {
                    min: Duration::ZERO,
                    max: Duration::ZERO,
                },
            });
        }
        match &mut self.plan.profile.load {
            LoadModel::Closed(c) => c,
            LoadModel::Open(_) => unreachable!("made closed above"),
        }
    }

    pub fn run_time(mut self, run_time: Duration) -> PlanBuilder {
        self.plan.profile.run_time = run_time;
        self
    }

    /// Think time uniform between `min` and `max` (equal for a fixed pause).
    pub fn think(mut self, min: Duration, max: Duration) -> PlanBuilder {
        self.closed().think_time = ThinkTime { min, max };
        self
    }

    /// Judges the run against a level named after the profile's (so call `profile` first),
    /// shaped by `f`.
    pub fn level(mut self, f: impl FnOnce(LevelBuilder) -> LevelBuilder) -> PlanBuilder {
        self.plan.level = Some(f(LevelBuilder::new(&self.plan.profile.level_name)).build());
        self
    }

    pub fn build(self) -> Plan {
        self.plan
    }
}

/// Shapes one endpoint of a [`PlanBuilder`].
#[derive(Debug, Clone)]
pub struct EndpointBuilder {
    endpoint: Endpoint,
}

impl EndpointBuilder {
    pub fn method(mut self, method: Method) -> EndpointBuilder {
        self.endpoint.method = method;
        self
    }

    pub fn weight(mut self, weight: u32) -> EndpointBuilder {
        self.endpoint.weight = weight;
        self
    }

    /// Adds the budget `metric < limit`.
    pub fn budget(self, metric: Metric, limit: Duration) -> EndpointBuilder {
        self.budgets([budget(metric, limit)])
    }

    /// Adds the budget `metric < limit`, written at `location`.
    pub fn budget_at(
        mut self,
        metric: Metric,
        limit: Duration,
        location: Location,
    ) -> EndpointBuilder {
        self.endpoint.budgets.push(Budget {
            metric,
            limit,
            location,
        });
        self
    }

    /// Adds these budgets, in order.
    pub fn budgets(mut self, budgets: impl IntoIterator<Item = Budget>) -> EndpointBuilder {
        self.endpoint.budgets.extend(budgets);
        self
    }

    /// Where the endpoint's `[[endpoint]]` starts.
    pub fn at(mut self, location: Location) -> EndpointBuilder {
        self.endpoint.location = location;
        self
    }
}

/// Builds a [`Level`]: on its own (`LevelBuilder::new("t").window(secs(5)).build()`) or
/// through [`PlanBuilder::level`]. Each limit takes a value or an `Option` (`None`: not set).
#[derive(Debug, Clone)]
pub struct LevelBuilder {
    level: Level,
}

impl From<Level> for LevelBuilder {
    /// Starts from an existing level, to change some of its limits.
    fn from(level: Level) -> LevelBuilder {
        LevelBuilder { level }
    }
}

impl LevelBuilder {
    /// A level without limits.
    pub fn new(name: &str) -> LevelBuilder {
        LevelBuilder {
            level: Level {
                name: name.into(),
                min_rps: None,
                max_error_rate: None,
                window: None,
                judges: None,
            },
        }
    }

    pub fn min_rps(mut self, per_second: impl Into<Option<f64>>) -> LevelBuilder {
        self.level.min_rps = per_second.into().map(anywhere);
        self
    }

    /// A fraction 0.0..=1.0.
    pub fn max_error_rate(mut self, fraction: impl Into<Option<f64>>) -> LevelBuilder {
        self.level.max_error_rate = fraction.into().map(anywhere);
        self
    }

    pub fn window(mut self, length: impl Into<Option<Duration>>) -> LevelBuilder {
        self.level.window = length.into().map(anywhere);
        self
    }

    /// `budgets = [...]`: the only budget keys the level judges.
    pub fn judges(mut self, metrics: impl Into<Option<Vec<Metric>>>) -> LevelBuilder {
        self.level.judges = metrics.into().map(anywhere);
        self
    }

    pub fn min_rps_at(mut self, per_second: f64, location: Location) -> LevelBuilder {
        self.level.min_rps = Some(LevelLimit {
            value: per_second,
            location,
        });
        self
    }

    pub fn max_error_rate_at(mut self, fraction: f64, location: Location) -> LevelBuilder {
        self.level.max_error_rate = Some(LevelLimit {
            value: fraction,
            location,
        });
        self
    }

    pub fn build(self) -> Level {
        self.level
    }
}

fn anywhere<T>(value: T) -> LevelLimit<T> {
    LevelLimit {
        value,
        location: Location::default(),
    }
}
