//! The only place that calls every stage in order: config → plan → engine → stats → verdict →
//! report, with compare beside it. This file is the table of contents: each subcommand is a
//! short sequence of stage calls, in `check` (a load: `check`, `demo`), `judge` (a Locust run's
//! files in place of the load: locust → stats → verdict → report) and `saved` (what reads
//! files and sends nothing: `validate`, `profiles`, `report`, `compare`, and the `fixture`
//! server). The stages own their work (files: `report::Outputs`; text: `report::term`;
//! signals: `engine::signals`). Maps each way a command can end to its `Exit`.
//!
//! A command that ends before anything was measured ends in a [`Stop`]: its reason is printed
//! once and left in every requested report file, so that no file shows an older run's verdict.

mod check;
mod judge;
mod live;
mod merge;
mod saved;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, RegressionMode, ReportArgs, SimulatorMode};
use crate::engine::signals;
use crate::report::{Format, Outputs, Reporter, RunReport, outputs, term};
use crate::units::Exit;
use crate::{compare, config, engine, plan, report};

pub fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Check(args) => check::check(args),
        Command::Demo(args) => check::demo(args),
        Command::Judge(args) => judge::judge(args),
        Command::Validate { sla } => saved::validate(&sla),
        Command::Profiles { sla } => saved::profiles(&sla),
        Command::Fixture { port, mode } => saved::fixture(port, simulator(mode)),
        Command::Report { run, reports } => saved::rerender(&run, &reports),
        Command::Compare(args) => saved::compare_runs(args),
        Command::Merge(args) => merge::merge(args),
    }
}

/// A command that ended before it measured anything: why (already printed), and its exit.
pub(super) struct Stop {
    pub(super) exit: Exit,
    pub(super) reason: String,
}

impl Stop {
    /// Print `reason` and stop with `exit`.
    pub(super) fn said(exit: Exit, reason: impl Into<String>) -> Stop {
        let reason = reason.into();
        term::note(&reason);
        Stop { exit, reason }
    }

    /// Print a diagnostic and stop with exit 2.
    pub(super) fn bad_input(d: impl miette::Diagnostic + Send + Sync + 'static) -> Stop {
        let reason = d.to_string();
        term::diagnostic(d);
        Stop {
            exit: Exit::BadInput,
            reason,
        }
    }

    pub(super) fn engine(e: engine::EngineError) -> Stop {
        let exit = match e {
            engine::EngineError::Unsupported(_) => Exit::BadInput,
            _ => Exit::NotRun,
        };
        Stop::said(exit, e.to_string())
    }
}

/// A Ctrl-C or SIGTERM before the load started ends the command as documented (exit 3).
pub(super) fn stop_if_interrupted() -> Result<(), Stop> {
    if signals::interrupted() {
        return Err(Stop::said(
            Exit::NotRun,
            "interrupted before the load started",
        ));
    }
    Ok(())
}

/// Run `body`; when it stops before measuring anything, leave the reason in every report.
pub(super) fn gate<T>(outputs: &Outputs<T>, body: impl FnOnce() -> Result<Exit, Stop>) -> Exit {
    let stop = match body() {
        Ok(exit) => return exit,
        Err(stop) => stop,
    };
    let doc = outputs::not_run(&stop.reason, stop.exit.code());
    for e in outputs.write_not_run(&doc) {
        term::note(e.to_string());
    }
    step_summary(&report::markdown::not_run(&doc));
    stop.exit
}

/// Every destination checked before anything else is done: exit 2 at once.
pub(super) fn check_outputs<T>(outputs: &Outputs<T>) -> Result<(), Stop> {
    match outputs
        .check()
        .into_iter()
        .map(|e| e.to_string())
        .reduce(|a, b| a + "; " + &b)
    {
        None => Ok(()),
        Some(reasons) => Err(Stop::said(Exit::BadInput, reasons)),
    }
}

pub(super) fn report_files(args: &ReportArgs) -> Vec<(Format, PathBuf)> {
    [
        (Format::Json, &args.json),
        (Format::Csv, &args.csv),
        (Format::Html, &args.html),
        (Format::Junit, &args.junit),
        (Format::Markdown, &args.markdown),
    ]
    .into_iter()
    .filter_map(|(format, path)| path.clone().map(|p| (format, p)))
    .collect()
}

/// Append to `$GITHUB_STEP_SUMMARY` when it is set.
pub(super) fn step_summary(markdown: &str) {
    if let Some(path) = outputs::step_summary_path()
        && let Err(e) = outputs::append_step_summary(&path, markdown)
    {
        term::note(format!("could not append to $GITHUB_STEP_SUMMARY: {e}"));
    }
}

/// Render to stdout; a rendering error is reported, never fatal.
pub(super) fn show<T>(reporter: &dyn Reporter<T>, doc: &T) {
    match reporter.render(doc) {
        Ok(bytes) => term::out(bytes),
        Err(e) => term::note(format!("could not render the terminal report: {e}")),
    }
}

pub(super) fn terminal() -> report::table::Terminal {
    report::table::Terminal {
        color: term::color(),
    }
}

/// Reads a saved run; a problem is exit 2.
pub(super) fn load_run(path: &Path) -> Result<RunReport, Stop> {
    let bytes = std::fs::read(path).map_err(|e| {
        Stop::said(
            Exit::BadInput,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    report::json::load(&bytes).map_err(|e| {
        let reason = format!("{}: {e}", path.display());
        term::errln(format!("{}:", path.display()));
        term::diagnostic(e);
        Stop {
            exit: Exit::BadInput,
            reason,
        }
    })
}

/// Base runs from paths that are runs or folders of runs (every `*.json` directly inside,
/// by name; a file in a folder that is not a run is skipped with a note), oldest first by
/// start time; with `history`, only that many of the most recent.
pub(super) fn load_runs(paths: &[PathBuf], history: Option<usize>) -> Result<Vec<RunReport>, Stop> {
    let mut runs = Vec::new();
    for path in paths {
        if !path.is_dir() {
            runs.push(load_run(path)?);
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|e| {
            Stop::said(
                Exit::BadInput,
                format!("cannot read the folder {}: {e}", path.display()),
            )
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let before = runs.len();
        for file in files {
            let loaded = std::fs::read(&file)
                .map_err(|e| e.to_string())
                .and_then(|bytes| report::json::load(&bytes).map_err(|e| e.to_string()));
            match loaded {
                Ok(run) => runs.push(run),
                Err(e) => term::note(format!("{}: not a run, skipped ({e})", file.display())),
            }
        }
        if runs.len() == before {
            return Err(Stop::said(
                Exit::BadInput,
                format!("{}: the folder holds no saved run (*.json)", path.display()),
            ));
        }
    }
    runs.sort_by_key(|r| r.started_at);
    if let Some(n) = history {
        if n == 0 {
            return Err(Stop::said(Exit::BadInput, "--history must be at least 1"));
        }
        let skip = runs.len().saturating_sub(n);
        runs.drain(..skip);
    }
    Ok(runs)
}

/// The tolerances of `--sla FILE`, else of ./sla.toml if there is one, else the defaults.
pub(super) fn tolerances(sla: Option<&Path>) -> Result<plan::Tolerances, Stop> {
    let local = Path::new("sla.toml");
    match sla.or_else(|| local.exists().then_some(local)) {
        None => Ok(plan::Tolerances::default()),
        Some(path) => Ok(plan::tolerances(
            &config::load_sla(path).map_err(Stop::bad_input)?,
        )),
    }
}

/// The exit code of a comparison that was made: 1 for a regression unless only warned about.
pub(super) fn regression_exit(c: &compare::Comparison, mode: RegressionMode) -> Exit {
    if c.regressions() > 0 && mode == RegressionMode::Fail {
        Exit::SlaFailed
    } else {
        Exit::Pass
    }
}

/// The simulator's behaviour as the command line names it (the simulator knows no clap).
pub(super) fn simulator(mode: SimulatorMode) -> crate::fixture::Mode {
    use crate::fixture::Mode;
    match mode {
        SimulatorMode::Healthy => Mode::Healthy,
        SimulatorMode::Degraded => Mode::Degraded,
        SimulatorMode::Slower => Mode::Slower,
        SimulatorMode::SlightlySlower => Mode::SlightlySlower,
        SimulatorMode::Creeping => Mode::Creeping,
        SimulatorMode::Burst => Mode::Burst,
    }
}
