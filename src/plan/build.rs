//! placeholder: resolves config files and CLI overrides into a Plan.
use super::Plan;
use std::time::Duration;

/// Command-line values that override the profile and the sla file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub host: Option<String>,
    pub users: Option<u32>,
    pub spawn_rate: Option<f64>,
    pub run_time: Option<Duration>,
}

pub fn build() -> Option<Plan> {
    None
}
