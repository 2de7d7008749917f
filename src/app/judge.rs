//! `judge`: a Locust run's files stand in for the load. Reads the configuration and checks
//! every destination, reads and checks the Locust files (every budget at a percentile they
//! hold), summarises them for the plan's endpoints, judges, and reports as `check` does.

use std::path::Path;

use super::check::{Source, load_plan, report_run};
use super::{Stop, check_outputs, gate, report_files};
use crate::cli::JudgeArgs;
use crate::locust::{self, Files};
use crate::plan::{LoadModel, Overrides};
use crate::report::term;
use crate::report::{Imported, Outputs, RunReport};
use crate::units::Exit;
use crate::verdict::{self, CheckMetric, Subject};
use crate::{config, plan};

pub(super) fn judge(args: JudgeArgs) -> Exit {
    let outputs = Outputs::for_run(&report_files(&args.reports));
    gate(&outputs, || {
        check_outputs(&outputs)?;
        let files = locust::read(args.locust.as_deref(), args.locust_json.as_deref())
            .map_err(Stop::bad_input)?;
        let profile = match &args.profile {
            Some(p) => p.clone(),
            None => matching_profile(&args.sla, &files)?,
        };
        let source = Source::Files {
            sla: &args.sla,
            profile: &profile,
        };
        let (plan, mut provenance) = load_plan(source, &Overrides::default())?;
        // This machine did not generate the load: Locust's did.
        provenance.machine = None;
        locust::check_budgets(&plan, &files).map_err(Stop::bad_input)?;
        let import = locust::summarise(&plan, &files);
        let mut verdict = verdict::judge(&plan, &import.summary);
        // An endpoint Locust never named: say which names it did write.
        for (i, text) in &import.unseen {
            for c in verdict
                .checks
                .iter_mut()
                .filter(|c| c.subject == Subject::Endpoint(*i) && c.metric == CheckMetric::Coverage)
            {
                c.diagnostic = format!("{} ({text})", c.diagnostic);
            }
        }
        let mut run = RunReport::new(
            &plan,
            provenance,
            import.summary,
            verdict,
            false,
            args.strict,
        );
        run.imported = Some(Imported {
            tool: "Locust".to_string(),
            users: import.users,
            notes: import.notes,
        });
        Ok(report_run(&run, &[], &outputs, None))
    })
}

/// Without `--profile`: the one profile beside the SLA file whose (closed-model) users are
/// Locust's final user count; anything else is exit 2 with what was found.
fn matching_profile(sla: &Path, files: &Files) -> Result<String, Stop> {
    let Some(users) = locust::final_users(files) else {
        return Err(Stop::said(
            Exit::BadInput,
            "no --profile, and Locust's files do not say how many users it ran (no \
             PREFIX_stats_history.csv): pass --profile NAME to choose the level judged",
        ));
    };
    let sla_file = config::load_sla(sla).map_err(Stop::bad_input)?;
    let mut found = Vec::new();
    let mut all = Vec::new();
    for path in config::profile_paths(sla).map_err(Stop::bad_input)? {
        let Ok(plan) = config::load_profile(&path)
            .and_then(|p| plan::build(&sla_file, &p, &Overrides::default()))
        else {
            continue;
        };
        if let LoadModel::Closed(c) = &plan.profile.load {
            all.push(format!("{} {}", plan.profile.name, c.users));
            if c.users == users {
                found.push((plan.profile.name.clone(), path));
            }
        }
    }
    match found.as_slice() {
        [(name, path)] => {
            term::note(format!(
                "no --profile: judging profile {name}, whose {users} users are Locust's"
            ));
            Ok(path.to_string_lossy().into_owned())
        }
        [] => Err(Stop::said(
            Exit::BadInput,
            format!(
                "no --profile, and no profile has Locust's {users} users ({}): pass --profile \
                 NAME to choose the level judged",
                all.join(", ")
            ),
        )),
        several => Err(Stop::said(
            Exit::BadInput,
            format!(
                "no --profile, and several profiles have Locust's {users} users ({}): pass \
                 --profile NAME",
                several
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}
