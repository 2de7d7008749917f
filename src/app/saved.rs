//! The commands that send no load: `validate` and `profiles` read the configuration, `report`
//! re-renders a saved run, `compare` judges two saved runs, and `fixture` serves the embedded
//! simulator until interrupted.

use std::path::Path;
use std::time::Duration;

use super::{
    Stop, check_outputs, gate, load_run, load_runs, regression_exit, report_files, show, terminal,
    tolerances,
};
use crate::cli::{CompareArgs, ReportArgs};
use crate::compare::ComparisonReport;
use crate::engine::signals;
use crate::fixture::Fixture;
use crate::plan::Overrides;
use crate::report::{Format, Outputs, term};
use crate::units::Exit;
use crate::{compare, config, plan, report, verdict};

pub(super) fn validate(sla_path: &Path) -> Exit {
    let sla = config::load_sla(sla_path).map_err(term::diagnostic).ok();
    let paths = match config::profile_paths(sla_path) {
        Ok(p) => p,
        Err(e) => {
            term::diagnostic(e);
            return Exit::BadInput;
        }
    };
    let mut valid = sla.is_some();
    let mut plans = Vec::new();
    for path in &paths {
        let built = config::load_profile(path).and_then(|profile| match &sla {
            Some(sla) => plan::build(sla, &profile, &Overrides::default()).map(Some),
            None => Ok(None),
        });
        match built {
            Ok(plan) => plans.extend(plan),
            Err(e) => {
                term::diagnostic(e);
                valid = false;
            }
        }
    }
    for plan in &plans {
        if let Some(text) = verdict::explain::capacity_warning(plan) {
            term::warning_diagnostic(text);
        }
        term::note(verdict::judged(plan));
        if let Some(line) = report::table::littles_law_line(plan) {
            term::note(line);
        }
    }
    if !valid {
        return Exit::BadInput;
    }
    term::note(format!(
        "{} and {} profile(s) are valid",
        sla_path.display(),
        paths.len()
    ));
    Exit::Pass
}

pub(super) fn profiles(sla_path: &Path) -> Exit {
    let sla = match config::load_sla(sla_path) {
        Ok(sla) => sla,
        Err(e) => {
            term::diagnostic(e);
            return Exit::BadInput;
        }
    };
    let paths = match config::profile_paths(sla_path) {
        Ok(p) => p,
        Err(e) => {
            term::diagnostic(e);
            return Exit::BadInput;
        }
    };
    let mut plans = Vec::new();
    let mut code = Exit::Pass;
    for path in &paths {
        match config::load_profile(path).and_then(|p| plan::build(&sla, &p, &Overrides::default()))
        {
            Ok(plan) => plans.push(plan),
            Err(e) => {
                term::diagnostic(e);
                code = Exit::BadInput;
            }
        }
    }
    term::out(report::table::profiles(&plans));
    code
}

pub(super) fn fixture(port: u16, mode: crate::fixture::Mode) -> Exit {
    let fixture = match Fixture::start(port, mode) {
        Ok(f) => f,
        Err(e) => {
            term::note(format!("cannot listen on 127.0.0.1:{port}: {e}"));
            return Exit::BadInput;
        }
    };
    term::note(format!(
        "Resource Agent simulator ({mode}) on {} — Ctrl-C to stop",
        fixture.base_url()
    ));
    signals::install();
    while !signals::interrupted() {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(fixture);
    Exit::Pass
}

pub(super) fn rerender(run_path: &Path, args: &ReportArgs) -> Exit {
    let outputs = Outputs::for_run(&report_files(args));
    gate(&outputs, || {
        check_outputs(&outputs)?;
        let run = load_run(run_path)?;
        if outputs.is_empty() {
            show(&terminal(), &run);
            return Ok(Exit::Pass);
        }
        let failed = outputs.write(&run);
        for e in &failed {
            term::note(e.to_string());
        }
        Ok(if failed.is_empty() {
            Exit::Pass
        } else {
            Exit::NotRun
        })
    })
}

pub(super) fn compare_runs(args: CompareArgs) -> Exit {
    let outputs = compare::outputs(
        &[
            (Format::Json, &args.json),
            (Format::Markdown, &args.markdown),
            (Format::Html, &args.html),
        ]
        .into_iter()
        .filter_map(|(format, path)| path.clone().map(|p| (format, p)))
        .collect::<Vec<_>>(),
    );
    gate(&outputs, || {
        check_outputs(&outputs)?;
        let tolerances = tolerances(args.sla.as_deref())?;
        if args.heads == 0 || args.heads >= args.runs.len() {
            return Err(Stop::said(
                Exit::BadInput,
                format!(
                    "--heads {} leaves no base run among the {} runs given",
                    args.heads,
                    args.runs.len()
                ),
            ));
        }
        let (bases, heads) = args.runs.split_at(args.runs.len() - args.heads);
        let bases = load_runs(bases, args.history)?;
        let heads = heads
            .iter()
            .map(|h| load_run(h))
            .collect::<Result<Vec<_>, Stop>>()?;
        let comparison = compare::compare(&bases, &heads, &tolerances)
            .map_err(|e| Stop::said(Exit::BadInput, e.to_string()))?;
        // The page charts the most recent base run against the first head run.
        let base = bases
            .into_iter()
            .next_back()
            .expect("load_runs returns at least one");
        let head = heads.into_iter().next().expect("at least one head run");
        term::out(compare::terminal(&comparison));
        let exit = regression_exit(&comparison, args.regression);
        let doc = ComparisonReport {
            comparison,
            base,
            head,
        };
        let failed = outputs.write(&doc);
        for e in &failed {
            term::note(e.to_string());
        }
        Ok(if failed.is_empty() {
            exit
        } else {
            Exit::NotRun
        })
    })
}
