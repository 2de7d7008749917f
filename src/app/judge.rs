//! `judge`: a Locust run's files stand in for the load. Reads the configuration and checks
//! every destination, reads and checks the Locust files (every budget at a percentile they
//! hold), summarises them for the plan's endpoints, judges, and reports as `check` does.

use super::check::{Source, load_plan, report_run};
use super::{Stop, check_outputs, gate, report_files};
use crate::cli::JudgeArgs;
use crate::locust;
use crate::plan::Overrides;
use crate::report::{Imported, Outputs, RunReport};
use crate::units::Exit;
use crate::verdict::{self, CheckMetric, Subject};

pub(super) fn judge(args: JudgeArgs) -> Exit {
    let outputs = Outputs::for_run(&report_files(&args.reports));
    gate(&outputs, || {
        check_outputs(&outputs)?;
        let source = Source::Files {
            sla: &args.sla,
            profile: &args.profile,
        };
        let (plan, mut provenance) = load_plan(source, &Overrides::default())?;
        // This machine did not generate the load: Locust's did.
        provenance.machine = None;
        let files = locust::read(args.locust.as_deref(), args.locust_json.as_deref())
            .map_err(Stop::bad_input)?;
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
