//! The command line. The doc comments here are `--help`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  every SLA check passed (or some were INCONCLUSIVE, with a warning, without --strict)
  1  an SLA check failed, or an abort_when rule stopped the run, or (with --baseline) a
     regression against the baseline, unless --regression warn
  2  bad configuration, flags or paths, including a report path that cannot be written
     (checked before anything is sent)
  3  the run could not be made (target unreachable, or it stopped accepting connections
     before a single request reached it; interrupted before or during the load: what was
     measured is still reported), or a report could not be written after the run
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
        /// The port to listen on (0: any free port, printed at start).
        #[arg(long, default_value_t = 8003)]
        port: u16,
        /// How the simulator behaves.
        #[arg(long, value_enum, default_value_t = SimulatorMode::Healthy)]
        mode: SimulatorMode,
    },
    /// Start the embedded simulator on an ephemeral port and run `check` against it.
    #[command(after_help = EXIT_CODES)]
    Demo(DemoArgs),
    /// Judge an existing Locust run against the SLA, without sending any load: what `locust
    /// --csv PREFIX` wrote (PREFIX_stats.csv; PREFIX_stats_history.csv and
    /// PREFIX_failures.csv when present) and/or what `locust --json` printed. The same checks,
    /// reports and exit codes as `check`; the profile chooses the level judged.
    #[command(after_help = EXIT_CODES)]
    Judge(JudgeArgs),
    /// Re-render reports from a saved `--json` run, without sending any load.
    Report {
        /// A file written by `slagate check --json FILE`.
        #[arg(value_name = "RUN.json")]
        run: PathBuf,
        #[command(flatten)]
        reports: ReportArgs,
    },
    /// Compare two saved runs (`check --json`) endpoint by endpoint and percentile by
    /// percentile; a regression is a head worse than the base by more than the sla file's
    /// [regression] tolerance at 95 % confidence.
    #[command(after_help = COMPARE_EXIT_CODES)]
    Compare(CompareArgs),
    /// Add the saved runs of a sharded check (`check --shard K/N --json FILE`, one per shard)
    /// into one run, exactly (histograms added, second by second), and judge it against the
    /// SLA as `check` judges one process's run: the same checks, reports and exit codes.
    /// Refuses (exit 2) shards that are not all of one run: one missing or given twice, of
    /// another run id or profile, or whose windows do not overlap.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' saved runs; a folder means every *.json directly inside it (a merged run
    /// found there is skipped).
    #[arg(value_name = "SHARD.json|DIR", num_args = 1.., required = true)]
    pub shards: Vec<PathBuf>,
    /// The SLA file whose budgets judge the merged run.
    #[arg(long, default_value = "sla.toml", value_name = "FILE")]
    pub sla: PathBuf,
    /// The profile the shards ran (default: the one they name, profiles/NAME.toml beside the
    /// SLA file, else the path they recorded). It must be the file they ran, byte for byte.
    #[arg(short = 'p', long, value_name = "NAME|PATH")]
    pub profile: Option<String>,
    /// Release sign-off: exit 4, not 0, when a check is INCONCLUSIVE.
    #[arg(long)]
    pub strict: bool,
    /// Shards that started further apart than this did not run the same seconds: the merged
    /// run is INVALID (exit 4).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub max_skew: Duration,
    #[command(flatten)]
    pub reports: ReportArgs,
}

const COMPARE_EXIT_CODES: &str = "\
Exit codes:
  0  no regression (or regressions under --regression warn)
  1  a regression
  2  the runs cannot be compared (another profile or load shape), or a file is unreadable
  3  a comparison report could not be written";

/// How the embedded simulator behaves (`slagate fixture`, `slagate demo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulatorMode {
    /// Every endpoint well inside every budget of sla.toml, max included; no errors.
    Healthy,
    /// A slow /analysis/ tail that breaks its p99 budget, and every 10th /optimize/run a 503.
    Degraded,
    /// Every latency 1.3× healthy: a 30 % regression that still meets every budget.
    Slower,
    /// Every latency 1.15× healthy: the smaller regression the gate's power is measured at.
    SlightlySlower,
    /// Latency grows from 1× at start to 8× at 30 s, then stays there; no errors.
    Creeping,
    /// Healthy, except every endpoint answers 503 from 4 s to 7 s after the server started.
    Burst,
}

/// What a regression against the baseline does to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RegressionMode {
    /// Exit 1.
    #[default]
    Fail,
    /// Report it, exit as if there were none.
    Warn,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The base runs (e.g. of the main branch, written by `slagate check --json FILE`), then
    /// the head run to judge against them, last. A base may be a folder of runs. With two or
    /// more base runs the comparison also estimates how much runs vary between themselves
    /// (a head is a regression only beyond that and the tolerance).
    #[arg(value_name = "BASE.json... HEAD.json", num_args = 2.., required = true)]
    pub runs: Vec<PathBuf>,
    /// Of the base runs given, use only the N most recent (by start time).
    #[arg(long, value_name = "N")]
    pub history: Option<usize>,
    /// The last N runs given are the head's (e.g. the FILE-runK files of `check --repeat N`),
    /// so the spread between the head's runs is estimated too.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub heads: usize,
    /// The sla file whose [regression] table sets the tolerances (default: ./sla.toml if
    /// present, else shift +5 %, p95/p99 +10 %, error rate +0.1 pp, rps −10 %).
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,
    /// fail: a regression exits 1; warn: it is reported and exits 0.
    #[arg(long, value_enum, default_value_t = RegressionMode::Fail)]
    pub regression: RegressionMode,
    /// The comparison as JSON (schema slagate.compare/v2).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The comparison as a Markdown table for a pull-request comment.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// The comparison as a self-contained HTML page with base-against-head charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Report files, named as Locust names its flags where it has one. Every path is checked
/// writable before any load is sent.
#[derive(Debug, Args, Clone, Default)]
pub struct ReportArgs {
    /// The complete run as versioned JSON (schema slagate.run/v4): re-render any format from
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

/// What the run shows while it goes, on stderr (stdout keeps the tables).
#[derive(Debug, Args, Clone)]
pub struct LiveArgs {
    /// Off a terminal (a CI log), print one plain status line this often (0: none); on a
    /// terminal a status block is redrawn every second (0: none).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_interval)]
    pub progress_interval: Duration,
}

impl Default for LiveArgs {
    fn default() -> Self {
        LiveArgs {
            progress_interval: Duration::from_secs(10),
        }
    }
}

/// `--progress-interval`: a duration, or 0 for none.
fn parse_interval(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{e} (write a duration such as 10s or 1m, or 0 for none)"))
}

/// Load-shape overrides, named as Locust names them so the guide's commands translate 1:1.
#[derive(Debug, Args, Clone, Default)]
pub struct LoadArgs {
    /// Override the profile's number of users (at least 1).
    #[arg(short = 'u', long, value_name = "N", value_parser = parse_users)]
    pub users: Option<u32>,
    /// Override the profile's spawn rate (users started per second, above 0: 0.5 starts one
    /// user every 2 s).
    #[arg(short = 'r', long, value_name = "N", allow_negative_numbers = true)]
    pub spawn_rate: Option<f64>,
    /// Run the open model at N arrivals per second (above 0), over the profile's model: a
    /// constant rate from the start, replacing its stages (or its users and think time).
    /// Latency then counts from each arrival's intended send time.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Override the profile's run time (e.g. 30s, 5m, 1h30m), ramp-up included.
    #[arg(short = 't', long, value_name = "DURATION", value_parser = parse_duration)]
    pub run_time: Option<Duration>,
}

/// How to connect: TLS and HTTP version, over `[target]` in the sla file. Files are PEM,
/// relative to the current directory, and checked before any load is sent.
#[derive(Debug, Args, Clone, Default)]
pub struct TransportArgs {
    /// Trust the certificate authorities in this PEM file besides the platform's roots (added
    /// to [target] tls.ca). Repeatable.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Vec<PathBuf>,
    /// Present this client certificate (PEM; the client's own first, then any intermediates)
    /// for mutual TLS, over [target] tls.cert. Needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert (PEM, unencrypted), over [target] tls.key. Needs --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Accept any server certificate, unverified (every report says so).
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Speak HTTP/2 only (by ALPN over TLS, h2c on http://), as [target] http = "2".
    #[arg(long = "http2", conflicts_with = "http1_1")]
    pub http2: bool,
    /// Speak HTTP/1.1 only, as [target] http = "1.1".
    #[arg(long = "http1.1")]
    pub http1_1: bool,
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
    /// Send this header with every request, over any header of that name in the sla file (the
    /// target's and each endpoint's), as curl does: -H 'Authorization: Bearer …'. Repeatable;
    /// an empty value ('Name:') removes the header. Its value is a secret: it is masked as ***
    /// wherever it would be shown.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Release sign-off: exit 4, not 0, when a check is INCONCLUSIVE (a percentile within
    /// budget on too few samples to show it at 95% confidence).
    #[arg(long)]
    pub strict: bool,
    /// Before the load starts, retry connecting to the target every 250 ms for up to this
    /// long (e.g. 60s), for a service started in the background a moment ago. Readiness is
    /// a TCP connect to the host and port of the target; exit 3 if it never answers.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_for_ready: Option<Duration>,
    /// Run the profile N times back to back (3–5 on a noisy CI runner) and gate on the
    /// combined verdict: histograms merged, windows laid end to end. Each run is reported,
    /// then each check's spread across the runs; a check is flaky when runs disagree on it.
    /// With --json FILE each run is also saved as FILE-runK.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_repeat)]
    pub repeat: u32,
    /// After judging, compare the run with these saved runs of the base branch (`check
    /// --json`) as `slagate compare` does; a regression exits 1 even when every budget passes.
    /// Each value is a run or a folder of runs; give several (a history of the base branch)
    /// and the comparison also estimates how much runs on this machine vary, and with
    /// --repeat N so does the head. Tolerances come from the [regression] table of --sla.
    #[arg(long, value_name = "BASE.json", num_args = 1..)]
    pub baseline: Vec<PathBuf>,
    /// With --baseline: of the base runs given, use only the N most recent (by start time).
    #[arg(long, value_name = "N", requires = "baseline")]
    pub history: Option<usize>,
    /// With --baseline: fail (exit 1) or only warn on a regression.
    #[arg(long, value_enum, default_value_t = RegressionMode::Fail)]
    pub regression: RegressionMode,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// Scale-out: one process (a pod, a CI leg) makes one shard of the profile; `slagate merge`
/// judges the shards' saved runs as one.
#[derive(Debug, Args, Clone, Default)]
pub struct ShardArgs {
    /// Make shard K of N of the profile (1 ≤ K ≤ N): closed model, every N-th user from the
    /// K-th, each at its own spawn time; open model, every N-th arrival of the one schedule.
    /// `auto/N` takes K from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's, 0-based). A
    /// shard judges nothing: it exits 0 when it ran (3 when it could not) and its --json is
    /// for `slagate merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<ShardSpec>,
    /// Wait, then start the load on this wall-clock instant, so that shards started apart
    /// line up second by second: RFC 3339 (2026-12-02T18:30:00Z) or +DURATION from now (+30s).
    #[arg(long, value_name = "TIME", value_parser = parse_start_at)]
    pub start_at: Option<SystemTime>,
    /// Name the run the shards belong to, so `slagate merge` refuses a shard of another
    /// (default: $SLAGATE_RUN_ID, else $GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT in GitHub Actions).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Seed the choice of endpoints and think times, so a run (or each shard) makes the same
    /// choices again (default: from the clock).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// `--shard K/N`, or `auto/N` for the index of a Kubernetes Indexed Job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    Fixed { k: u32, n: u32 },
    Auto { n: u32 },
}

/// The most shards of one run: beyond it a typo (`--shard 1/40000`) is more likely than a fleet.
pub const MAX_SHARDS: u32 = 1000;

fn parse_shard(s: &str) -> Result<ShardSpec, String> {
    let usage =
        "write K/N with 1 ≤ K ≤ N, e.g. 2/4, or auto/N to take K from $JOB_COMPLETION_INDEX";
    let (k, n) = s.trim().split_once('/').ok_or_else(|| usage.to_string())?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("N must be a whole number: {usage}"))?;
    if !(1..=MAX_SHARDS).contains(&n) {
        return Err(format!("N must be between 1 and {MAX_SHARDS}"));
    }
    if k.trim() == "auto" {
        return Ok(ShardSpec::Auto { n });
    }
    let k: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("K must be a whole number or auto: {usage}"))?;
    if !(1..=n).contains(&k) {
        return Err(format!("K must be between 1 and N ({n}): {usage}"));
    }
    Ok(ShardSpec::Fixed { k, n })
}

/// `--start-at`: RFC 3339, or `+DURATION` from now.
fn parse_start_at(s: &str) -> Result<SystemTime, String> {
    let s = s.trim();
    if let Some(after) = s.strip_prefix('+') {
        let d = humantime::parse_duration(after.trim())
            .map_err(|e| format!("{e} (write +30s, +2m, or an RFC 3339 time)"))?;
        return Ok(SystemTime::now() + d);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(SystemTime::from)
        .map_err(|e| {
            format!("{e}: write an RFC 3339 time such as 2026-12-02T18:30:00Z, or +30s from now")
        })
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// The PREFIX given to `locust --csv PREFIX`: reads PREFIX_stats.csv (required), and
    /// PREFIX_stats_history.csv (the time series and the measured window: from when the user
    /// count reached its final value) and PREFIX_failures.csv when present. Rows are matched
    /// to SLA endpoints by Locust's Name (the endpoint's name or path) and Type (its method).
    #[arg(long, value_name = "PREFIX", required_unless_present = "locust_json")]
    pub locust: Option<PathBuf>,
    /// What `locust --json` printed: every endpoint's whole response-time distribution (at
    /// Locust's bucketing), so any percentile and its 95% interval can be judged. Alone, or
    /// with --locust PREFIX (whose history and failures are then still read).
    #[arg(long, value_name = "FILE")]
    pub locust_json: Option<PathBuf>,
    /// The profile whose level is judged (min_rps, max_error_rate, windows): a name
    /// (profiles/NAME.toml beside the SLA file) or a path. Its load shape did not drive Locust.
    /// Without it, the one profile beside the SLA file whose users match the user count of
    /// Locust's history (exit 2 if none or several do, or there is no history).
    #[arg(short = 'p', long, value_name = "NAME|PATH")]
    pub profile: Option<String>,
    /// The SLA file.
    #[arg(long, default_value = "sla.toml", value_name = "FILE")]
    pub sla: PathBuf,
    /// Release sign-off: exit 4, not 0, when a check is INCONCLUSIVE.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub reports: ReportArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The profile to run against the simulator.
    #[arg(short = 'p', long, default_value = "smoke", value_name = "NAME|PATH")]
    pub profile: String,
    /// How the simulator behaves: healthy passes every check, degraded fails some.
    #[arg(long, value_enum, default_value_t = SimulatorMode::Healthy)]
    pub mode: SimulatorMode,
    /// The SLA file (default: ./sla.toml if present, else the built-in Resource Agent SLA).
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,
    /// Send this header with every request, over any header of that name in the sla file (the
    /// target's and each endpoint's), as curl does: -H 'Authorization: Bearer …'. Repeatable;
    /// an empty value ('Name:') removes the header. Its value is a secret: it is masked as ***
    /// wherever it would be shown.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Release sign-off: exit 4, not 0, when a check is INCONCLUSIVE (a percentile within
    /// budget on too few samples to show it at 95% confidence).
    #[arg(long)]
    pub strict: bool,
    /// Run the profile N times back to back (3–5 on a noisy CI runner) and gate on the
    /// combined verdict: histograms merged, windows laid end to end. Each run is reported,
    /// then each check's spread across the runs; a check is flaky when runs disagree on it.
    /// With --json FILE each run is also saved as FILE-runK.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = parse_repeat)]
    pub repeat: u32,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub live: LiveArgs,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{e} (write a number with a unit: 30s, 5m, 1h30m)"))?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

/// At most this many back-to-back runs: enough for any noisy runner, and a typo such as
/// `--repeat 4000000000` is refused rather than attempted.
pub const MAX_REPEAT: u32 = 100;

fn parse_repeat(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if (1..=i64::from(MAX_REPEAT)).contains(&n) => Ok(n as u32),
        Ok(_) => Err(format!("must be between 1 and {MAX_REPEAT}")),
        Err(_) => Err(format!("must be a whole number between 1 and {MAX_REPEAT}")),
    }
}

fn parse_users(s: &str) -> Result<u32, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n >= 1 && n <= i64::from(u32::MAX) => Ok(n as u32),
        Ok(n) if n < 1 => Err("must be at least 1".into()),
        _ => Err("must be a whole number of users, at least 1".into()),
    }
}
