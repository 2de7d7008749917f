//! The commands that load a target: `check` and `demo`. Each reads its configuration, checks
//! every destination and input, waits for the target if asked, runs the profile (once or
//! `--repeat` times), and reports the run, judging it against a baseline if one was given.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{
    Stop, check_outputs, gate, load_runs, regression_exit, report_files, show, step_summary,
    stop_if_interrupted, terminal, tolerances,
};
use crate::cli::{
    CheckArgs, DemoArgs, LoadArgs, RegressionMode, ShardArgs, ShardSpec, TransportArgs,
};
use crate::engine::signals;
use crate::fixture::Fixture;
use crate::plan::{Overrides, Plan, Shard};
use crate::report::{Outputs, Provenance, RunOutcome, RunReport, ShardInfo, term};
use crate::stats::Summary;
use crate::units::{self, Exit};
use crate::{compare, config, engine, plan, report, verdict};

fn overrides(
    host: Option<String>,
    load: &LoadArgs,
    headers: &[String],
    transport: &TransportArgs,
) -> Overrides {
    let http = match (transport.http2, transport.http1_1) {
        (true, _) => Some(plan::HttpVersion::Http2),
        (_, true) => Some(plan::HttpVersion::Http1),
        _ => None,
    };
    Overrides {
        host,
        users: load.users,
        spawn_rate: load.spawn_rate,
        rate: load.rate,
        run_time: load.run_time,
        headers: headers.to_vec(),
        http,
        cacert: transport.cacert.clone(),
        cert: transport.cert.clone(),
        key: transport.key.clone(),
        insecure: transport.insecure,
    }
}

/// Where a check's configuration comes from.
pub(super) enum Source<'a> {
    /// An sla file on disk and a profile name or path beside it.
    Files { sla: &'a Path, profile: &'a str },
    /// The Resource Agent SLA and profiles compiled into the binary.
    BuiltIn { profile: &'a str },
}

/// Read and validate everything a check needs; on any mistake, print every diagnostic.
pub(super) fn load_plan(
    source: Source<'_>,
    overrides: &Overrides,
) -> Result<(Plan, Provenance), Stop> {
    let (sla, profile) = match source {
        Source::Files { sla, profile } => {
            let sla_file = config::load_sla(sla).map_err(Stop::bad_input)?;
            let path = config::resolve_profile(sla, profile).map_err(Stop::bad_input)?;
            (
                sla_file,
                config::load_profile(&path).map_err(Stop::bad_input)?,
            )
        }
        Source::BuiltIn { profile } => config::load_builtin(profile).map_err(Stop::bad_input)?,
    };
    let plan = plan::build(&sla, &profile, overrides).map_err(Stop::bad_input)?;
    let provenance = report::provenance::collect(&sla.source.text, &plan, &profile.source.text);
    Ok((plan, provenance))
}

/// How a check runs, beyond its plan.
#[derive(Default)]
struct RunOptions {
    strict: bool,
    repeat: u32,
    /// `--progress-interval` (zero: no live view).
    progress_interval: Duration,
    /// `--seed` (`None`: from the clock).
    seed: Option<u64>,
    /// `--start-at`: the load starts on this instant.
    start_at: Option<SystemTime>,
    /// `--shard`: the run is one shard, saved for `slagate merge` rather than judged.
    run_id: Option<String>,
}

/// The env var a Kubernetes Indexed Job sets to each pod's index (0-based).
pub const JOB_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";

/// `--shard`: K/N as given, or `auto/N` with K from the Indexed Job's index.
fn shard_of(spec: ShardSpec) -> Result<Shard, Stop> {
    let (k, n) = match spec {
        ShardSpec::Fixed { k, n } => (k, n),
        ShardSpec::Auto { n } => {
            let raw = std::env::var(JOB_COMPLETION_INDEX).map_err(|_| {
                Stop::said(
                    Exit::BadInput,
                    format!(
                        "--shard auto/{n} takes the shard from ${JOB_COMPLETION_INDEX} (set by a \
                         Kubernetes Indexed Job), which is not set: give --shard K/{n}"
                    ),
                )
            })?;
            let index: u32 = raw.trim().parse().map_err(|_| {
                Stop::said(
                    Exit::BadInput,
                    format!("${JOB_COMPLETION_INDEX} is {raw:?}, not a whole number"),
                )
            })?;
            (index.saturating_add(1), n)
        }
    };
    Shard::new(k, n).ok_or_else(|| {
        Stop::said(
            Exit::BadInput,
            format!(
                "shard {k} of {n} does not exist (${JOB_COMPLETION_INDEX} is 0-based: the Job's \
                 completions must equal N = {n})"
            ),
        )
    })
}

/// `--run-id`, else `$SLAGATE_RUN_ID`, else the GitHub Actions run and attempt.
fn run_id(args: &ShardArgs) -> Option<String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    args.run_id
        .clone()
        .or_else(|| env("SLAGATE_RUN_ID"))
        .or_else(|| {
            env("GITHUB_RUN_ID")
                .map(|id| format!("{id}-{}", env("GITHUB_RUN_ATTEMPT").unwrap_or("1".into())))
        })
}

pub(super) fn check(args: CheckArgs) -> Exit {
    signals::install();
    let outputs = Outputs::for_run(&report_files(&args.reports));
    gate(&outputs, || {
        check_outputs(&outputs)?;
        let source = Source::Files {
            sla: &args.sla,
            profile: &args.profile,
        };
        let given = overrides(args.host, &args.load, &args.headers, &args.transport);
        let (mut plan, provenance) = load_plan(source, &given)?;
        if let Some(spec) = args.shard.shard {
            let shard = shard_of(spec)?;
            // A shard's figures are only worth what the merge can read of them.
            if args.reports.json.is_none() {
                return Err(Stop::said(
                    Exit::BadInput,
                    format!(
                        "--shard {shard} needs --json FILE: `slagate merge` judges the shards \
                         from their saved runs"
                    ),
                ));
            }
            if args.repeat > 1 || !args.baseline.is_empty() {
                return Err(Stop::said(
                    Exit::BadInput,
                    "--shard makes one part of a run, judged by `slagate merge`: --repeat and \
                     --baseline apply to the merged run, not to a shard",
                ));
            }
            plan = plan
                .with_shard(shard)
                .map_err(|e| Stop::said(Exit::BadInput, e))?;
        }
        let baseline = if args.baseline.is_empty() {
            None
        } else {
            Some(load_baseline(
                &args.baseline,
                args.history,
                &args.sla,
                args.regression,
                &plan,
            )?)
        };
        stop_if_interrupted()?;
        // Last before the load: every input mistake is reported before any waiting.
        if let Some(timeout) = args.wait_for_ready {
            term::note(format!(
                "waiting up to {} for {} to answer",
                units::length(timeout),
                plan.target.base_url
            ));
            engine::wait_ready(&plan, timeout).map_err(Stop::engine)?;
        }
        let options = RunOptions {
            strict: args.strict,
            repeat: args.repeat,
            progress_interval: args.live.progress_interval,
            seed: args.shard.seed,
            start_at: args.shard.start_at,
            run_id: run_id(&args.shard),
        };
        execute(&plan, provenance, &outputs, &options, baseline.as_ref())
    })
}

pub(super) fn demo(args: DemoArgs) -> Exit {
    signals::install();
    let outputs = Outputs::for_run(&report_files(&args.reports));
    let mode = super::simulator(args.mode);
    gate(&outputs, || {
        check_outputs(&outputs)?;
        let fixture = Fixture::start(0, mode)
            .map_err(|e| Stop::said(Exit::NotRun, format!("could not start the simulator: {e}")))?;
        term::note(format!(
            "demo — Resource Agent simulator ({mode}) on {}",
            fixture.base_url()
        ));
        let local = PathBuf::from("sla.toml");
        let sla = args.sla.or_else(|| local.exists().then_some(local));
        let source = match &sla {
            Some(sla) => Source::Files {
                sla,
                profile: &args.profile,
            },
            None => Source::BuiltIn {
                profile: &args.profile,
            },
        };
        let (plan, provenance) = load_plan(
            source,
            &overrides(
                Some(fixture.base_url()),
                &args.load,
                &args.headers,
                &args.transport,
            ),
        )?;
        let options = RunOptions {
            strict: args.strict,
            repeat: args.repeat,
            progress_interval: args.live.progress_interval,
            ..RunOptions::default()
        };
        execute(&plan, provenance, &outputs, &options, None)
    })
}

/// Run a validated plan and report it.
fn execute(
    plan: &Plan,
    provenance: Provenance,
    outputs: &Outputs,
    options: &RunOptions,
    baseline: Option<&Baseline>,
) -> Result<Exit, Stop> {
    if let Some(text) = verdict::explain::capacity_warning(plan) {
        term::warning_diagnostic(text);
    }
    if let Some(text) = engine::descriptor_warning(plan) {
        term::warning_diagnostic(text);
    }
    let reached = engine::preflight(plan).map_err(Stop::engine)?;
    stop_if_interrupted()?;
    term::note(format!("{} — {}", profile_line(plan), reached.describe()));
    if let Some(at) = options.start_at {
        wait_until(plan, at)?;
    }
    let (summary, verdict, interrupted, runs) =
        measure(plan, &reached, options, &provenance, outputs)?;
    let shard = plan.shard.map(|shard| ShardInfo {
        shard,
        run_id: options.run_id.clone(),
        start_at: options.start_at,
        load: summary.load.clone(),
        reached: summary.reached,
        aborted: summary.aborted.clone(),
    });
    if let (Some(info), Some(at)) = (&shard, options.start_at) {
        let late = summary.started_at.duration_since(at).unwrap_or_default();
        if late > Duration::from_millis(100) {
            term::warning_diagnostic(format!(
                "shard {} started {} after --start-at: `slagate merge` calls the run INVALID \
                 when its shards started more than --max-skew (default 1 s) apart",
                info.shard,
                units::duration(late)
            ));
        }
    }
    let mut run = RunReport::new(
        plan,
        provenance,
        summary,
        verdict,
        interrupted,
        options.strict,
    );
    if shard.is_some() {
        if !interrupted {
            run.outcome = RunOutcome::Shard;
        }
        run.shard = shard;
    }
    Ok(report_run(&run, &runs, outputs, baseline))
}

/// `--start-at`: wait for the instant (Ctrl-C ends the wait, exit 3); an instant already past
/// starts at once, and the shard's report says how late it was.
fn wait_until(plan: &Plan, at: SystemTime) -> Result<(), Stop> {
    let who = plan
        .shard
        .map(|s| format!("shard {s}"))
        .unwrap_or_else(|| "the load".to_string());
    let Ok(wait) = at.duration_since(SystemTime::now()) else {
        return Ok(());
    };
    term::note(format!(
        "{who} starts at {} (in {})",
        humantime::format_rfc3339_millis(at),
        units::length(wait)
    ));
    while let Ok(left) = at.duration_since(SystemTime::now()) {
        stop_if_interrupted()?;
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
    stop_if_interrupted()
}

/// "profile smoke — 1 user, 1/s spawn rate, think 100–300 ms, 1m run time — against URL".
fn profile_line(plan: &Plan) -> String {
    let p = &plan.profile;
    format!(
        "profile {} — {}, {} run time — against {}{}",
        p.name,
        p.load.summary(),
        units::length(p.run_time),
        plan.target.base_url,
        plan.level
            .as_ref()
            .map(|l| format!(" (level {})", l.name))
            .unwrap_or_default()
    )
}

/// Files first (an interrupted or failing run must still leave its reports behind), then the
/// step summary, the terminal, the annotations and the baseline (against `runs`, each run of
/// a `--repeat`, or the run itself when empty). The exit code.
pub(super) fn report_run(
    run: &RunReport,
    runs: &[RunReport],
    outputs: &Outputs,
    baseline: Option<&Baseline>,
) -> Exit {
    let failed = outputs.write(run);
    for e in &failed {
        term::note(e.to_string());
    }
    step_summary(&report::markdown::render(run));
    show(&terminal(), run);
    // In a GitHub Actions step, each failing budget also becomes an annotation on its line.
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let workspace = std::env::var_os("GITHUB_WORKSPACE").map(PathBuf::from);
        term::out(report::annotations::render(run, workspace.as_deref()));
    }
    // The baseline is judged after the run's own verdict, and gates only a run that passed:
    // a failed budget or an unusable run says more than a regression does.
    let heads = if runs.is_empty() {
        std::slice::from_ref(run)
    } else {
        runs
    };
    let regression = baseline.map_or(Exit::Pass, |b| judge_baseline(b, heads));
    match run.exit_code() {
        _ if !failed.is_empty() => Exit::NotRun,
        Exit::Pass => regression,
        code => code,
    }
}

/// One run of the plan: its summary, whether it was interrupted, and why nothing of it can be
/// judged, if so (no request of the whole run reached the target: it went away after the
/// pre-flight check).
fn run_once(
    plan: &Plan,
    reached: &engine::Preflight,
    options: &RunOptions,
) -> Result<(Summary, bool, Option<String>), Stop> {
    let mut live = super::live::Live::new(options.progress_interval, term::stderr_is_terminal());
    let mut engine_options = engine::Options::default();
    if let Some(seed) = options.seed {
        engine_options.seed = seed;
    }
    let run = engine::run(plan, reached, &engine_options, |p| live.show(plan, p))
        .map_err(Stop::engine)?;
    let summary = Summary::new(&run.recording, plan.profile.window_start());
    let never = verdict::never_reached(&summary).map(|why| {
        format!(
            "target {} stopped accepting connections: {why}",
            plan.target.base_url
        )
    });
    Ok((summary, run.interrupted, never))
}

/// Run the plan `repeat` times back to back and return what gates: the one run, or the runs
/// combined (`verdict::repeat`). With `--repeat N` > 1 each run is printed under a `run K of N`
/// banner and its JSON written to `FILE-runK` as it ends; then the combined section's head.
/// An interrupted or aborted run, or one in which no request reached the target, ends the
/// repetition and the runs made so far (that one included) are combined.
fn measure(
    plan: &Plan,
    reached: &engine::Preflight,
    options: &RunOptions,
    provenance: &Provenance,
    outputs: &Outputs,
) -> Result<(Summary, verdict::Verdict, bool, Vec<RunReport>), Stop> {
    let n = options.repeat.max(1) as usize;
    let mut runs = Vec::with_capacity(n);
    let mut reports = Vec::with_capacity(n);
    let mut interrupted = false;
    for k in 1..=n {
        if n > 1 {
            term::note(format!("run {k} of {n}"));
        }
        let (summary, run_interrupted, never) = run_once(plan, reached, options)?;
        match never {
            // Nothing was measured in the only run, or the first: there is nothing to judge.
            Some(reason) if runs.is_empty() => return Err(Stop::said(Exit::NotRun, reason)),
            Some(reason) => term::note(reason),
            None => {}
        }
        // A shard is not judged (the merge judges the shards together); only its delivery is,
        // so that its report says at once when its part of the load was not made.
        let verdict = if plan.shard.is_some() {
            verdict::Verdict {
                checks: Vec::new(),
                invalid: verdict::validity::validity(plan, &summary),
            }
        } else {
            verdict::judge(plan, &summary)
        };
        if n == 1 {
            return Ok((summary, verdict, run_interrupted, Vec::new()));
        }
        let run = RunReport::new(
            plan,
            provenance.clone(),
            summary.clone(),
            verdict.clone(),
            run_interrupted,
            options.strict,
        );
        for e in outputs.per_run(k).write(&run) {
            term::note(e.to_string());
        }
        term::outln(report::repeat::run_banner(k, n));
        show(&terminal(), &run);
        term::outln("");
        let why = if run_interrupted {
            Some("was interrupted")
        } else if summary.aborted.is_some() {
            Some("was aborted")
        } else {
            verdict::never_reached(&summary).map(|_| "reached no target")
        };
        runs.push((summary, verdict));
        reports.push(run);
        if let Some(why) = why {
            interrupted = run_interrupted;
            term::note(format!(
                "run {k} of {n} {why}: no further runs; combining the {k} made"
            ));
            break;
        }
    }
    let combined = verdict::repeat::combine(plan, &runs);
    let head = RunReport::new(
        plan,
        provenance.clone(),
        combined.summary.clone(),
        combined.verdict.clone(),
        interrupted,
        options.strict,
    );
    term::out(report::repeat::combined_header(&head, &combined.spreads));
    Ok((combined.summary, combined.verdict, interrupted, reports))
}

/// `check --baseline`: the saved base runs and what a regression does, loaded and checked
/// against the plan before any load is sent.
pub(super) struct Baseline {
    runs: Vec<RunReport>,
    tolerances: plan::Tolerances,
    mode: RegressionMode,
}

fn load_baseline(
    paths: &[PathBuf],
    history: Option<usize>,
    sla: &Path,
    mode: RegressionMode,
    plan: &Plan,
) -> Result<Baseline, Stop> {
    let runs = load_runs(paths, history)?;
    for run in &runs {
        compare::comparable(run, plan).map_err(|e| {
            Stop::said(
                Exit::BadInput,
                format!(
                    "--baseline (the run of {}): {e}",
                    humantime::format_rfc3339_seconds(run.started_at)
                ),
            )
        })?;
    }
    Ok(Baseline {
        runs,
        tolerances: tolerances(Some(sla))?,
        mode,
    })
}

/// Compare a fresh run with its baseline and print the table; the exit code the comparison
/// adds (0 or 1), which only matters when the run itself passed.
fn judge_baseline(baseline: &Baseline, heads: &[RunReport]) -> Exit {
    let comparison = match compare::compare(&baseline.runs, heads, &baseline.tolerances) {
        Ok(c) => c,
        Err(e) => {
            term::note(e.to_string());
            return Exit::BadInput;
        }
    };
    term::outln("");
    term::out(compare::terminal(&comparison));
    step_summary(&compare::markdown(&comparison));
    regression_exit(&comparison, baseline.mode)
}
