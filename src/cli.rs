//! The command line. The doc comments here are `--help`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::fixture::Mode;

const EXIT_CODES: &str = "\
Exit codes:
  0  every SLA check passed (or some were INCONCLUSIVE, with a warning, without --strict)
  1  an SLA check failed, or an abort_when rule stopped the run
  2  bad configuration or usage (nothing was sent)
  3  the run could not be made: target unreachable before any response, a report could not
     be written, or the run was interrupted (what was measured is still reported)
  4  INCONCLUSIVE under --strict (too few samples to decide a percentile), or the run is
     INVALID: the load generator did not deliver the profile (the service was not at fault)";

/// Declarative SLA gatekeeper for HTTP services: load a target with a profile from
/// `profiles/`, judge it against the budgets in `sla.toml`, and exit with a code that gates CI.
#[derive(Debug, Parser)]
#[command(name = "slagate", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load profile against the target and judge it against the SLA.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Check sla.toml and every profile beside it; exit 0 if all are valid, 2 if not.
    Validate {
        /// The SLA file; profiles are read from `profiles/` beside it.
        #[arg(long, default_value = "sla.toml", value_name = "FILE")]
        sla: PathBuf,
    },
    /// List the profiles beside the SLA file with their load shape and level.
    Profiles {
        #[arg(long, default_value = "sla.toml", value_name = "FILE")]
        sla: PathBuf,
    },
    /// Serve the embedded Resource Agent simulator on 127.0.0.1 until interrupted.
    Fixture {
        #[arg(long, default_value_t = 8003)]
        port: u16,
        #[arg(long, value_enum, default_value_t = Mode::Healthy)]
        mode: Mode,
    },
    /// Start the embedded simulator on an ephemeral port and run `check` against it.
    #[command(after_help = EXIT_CODES)]
    Demo(DemoArgs),
    /// Re-render reports from a saved `--json` run, without sending any load.
    Report {
        /// A file written by `slagate check --json FILE`.
        #[arg(value_name = "RUN.json")]
        run: PathBuf,
        #[command(flatten)]
        reports: ReportArgs,
    },
}

/// Report files, named as Locust names its flags where it has one. Every path is checked
/// writable before any load is sent.
#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// The complete run as versioned JSON (schema slagate.run/v2): re-render any format from
    /// it later with `slagate report`.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Locust-compatible CSV: PREFIX_stats.csv, PREFIX_failures.csv, PREFIX_stats_history.csv
    /// (and PREFIX_exceptions.csv).
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<PathBuf>,
    /// A self-contained HTML sign-off page with charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// JUnit XML, one test case per SLA check.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// A Markdown summary for a pull-request comment (also appended to $GITHUB_STEP_SUMMARY
    /// when that is set).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Load-shape overrides, named as Locust names them so the guide's commands translate 1:1.
#[derive(Debug, Args, Clone, Default)]
pub struct LoadArgs {
    /// Override the profile's number of users.
    #[arg(short = 'u', long, value_name = "N")]
    pub users: Option<u32>,
    /// Override the profile's spawn rate (users started per second).
    #[arg(short = 'r', long, value_name = "N")]
    pub spawn_rate: Option<f64>,
    /// Override the profile's run time (e.g. 30s, 5m, 1h30m), ramp-up included.
    #[arg(short = 't', long, value_name = "DURATION", value_parser = parse_duration)]
    pub run_time: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A profile name (profiles/NAME.toml beside the SLA file) or a path to a .toml file.
    #[arg(short = 'p', long, value_name = "NAME|PATH")]
    pub profile: String,
    /// The SLA file.
    #[arg(long, default_value = "sla.toml", value_name = "FILE")]
    pub sla: PathBuf,
    /// Target base URL, overriding [target].base_url (e.g. http://127.0.0.1:8003).
    #[arg(long, value_name = "URL")]
    pub host: Option<String>,
    /// Release sign-off: exit 4, not 0, when a check is INCONCLUSIVE (a percentile within
    /// budget on too few samples to show it at 95% confidence).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The profile to run against the simulator.
    #[arg(short = 'p', long, default_value = "smoke", value_name = "NAME|PATH")]
    pub profile: String,
    /// How the simulator behaves: healthy passes every check, degraded fails some.
    #[arg(long, value_enum, default_value_t = Mode::Healthy)]
    pub mode: Mode,
    /// The SLA file (default: ./sla.toml if present, else the built-in Resource Agent SLA).
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,
    /// Release sign-off: exit 4, not 0, when a check is INCONCLUSIVE (a percentile within
    /// budget on too few samples to show it at 95% confidence).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e} (write a number with a unit: 30s, 5m, 1h30m)"))?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}
