//! `merge`: the shards of one sharded check (`check --shard K/N --json FILE`) added into one
//! run and judged. Reads and checks every destination, reads the shards and checks that they
//! are exactly the N parts of one run, builds the plan of the whole profile from the SLA
//! file, lays the shards over each other (`verdict::shards`), judges, and reports as `check`
//! does: the same tables, files and exit codes.

use std::path::PathBuf;
use std::time::Duration;

use super::check::{Source, load_plan, report_run};
use super::{Stop, check_outputs, gate, load_run, report_files};
use crate::cli::MergeArgs;
use crate::config;
use crate::plan::{Overrides, Plan};
use crate::report::{
    Merged, MergedShard, Outputs, Provenance, RunOutcome, RunReport, ShardInfo, term,
};
use crate::stats::Summary;
use crate::units::{self, Exit};
use crate::verdict::shards::{ShardRun, judge_shards, shard_validity};

/// A shard as read: where from, the run, and its shard section.
struct Loaded {
    path: PathBuf,
    run: RunReport,
    info: ShardInfo,
}

pub(super) fn merge(args: MergeArgs) -> Exit {
    let outputs = Outputs::for_run(&report_files(&args.reports));
    gate(&outputs, || {
        check_outputs(&outputs)?;
        let shards = load_shards(&args.shards)?;
        let shards = together(shards, args.max_skew)?;
        let first = &shards[0];
        let (plan, mut provenance) = whole_plan(&args, &first.run)?;
        let summaries: Vec<Summary> = shards.iter().map(summary_of).collect();
        let skew = skew(&shards)?;
        let runs: Vec<ShardRun<'_>> = shards
            .iter()
            .zip(&summaries)
            .map(|(s, summary)| ShardRun {
                shard: s.info.shard,
                summary,
                interrupted: s.run.outcome == RunOutcome::Interrupted,
            })
            .collect();
        let merged = Merged {
            run_id: first.info.run_id.clone(),
            shards: shards
                .iter()
                .zip(&runs)
                .map(|(s, r)| MergedShard {
                    shard: s.info.shard,
                    started_at: s.run.started_at,
                    machine: s.run.provenance.machine.clone(),
                    requests: s.run.total.requests,
                    invalid: shard_validity(&plan, r)
                        .into_iter()
                        .map(|i| i.figure)
                        .collect(),
                })
                .collect(),
            skew,
            max_skew: args.max_skew,
        };
        let (summary, verdict) = judge_shards(&plan, &runs, skew, args.max_skew);
        // The code and machines that made the load, not the merging machine's.
        provenance.git_commit = first.run.provenance.git_commit.clone();
        provenance.machine = Some(machines(&shards));
        let mut run = RunReport::new(&plan, provenance, summary, verdict, false, args.strict);
        // As the shards named it (a --host given to the shards is not in the sla file).
        run.target = first.run.target.clone();
        run.merged = Some(merged);
        term::note(format!(
            "merged {} shards of profile {}{}: {} requests, started within {}",
            shards.len(),
            plan.profile.name,
            first
                .info
                .run_id
                .as_ref()
                .map(|id| format!(" (run {id})"))
                .unwrap_or_default(),
            run.total.requests,
            units::duration(skew)
        ));
        Ok(report_run(&run, &[], &outputs, None))
    })
}

/// Every shard given: files as named, folders by their `*.json` (a merged run there, such as
/// this command's own earlier output, is skipped). Anything else is exit 2, naming the file.
fn load_shards(paths: &[PathBuf]) -> Result<Vec<Loaded>, Stop> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(|e| {
                Stop::said(
                    Exit::BadInput,
                    format!("cannot read the folder {}: {e}", path.display()),
                )
            })?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
                .collect();
            if found.is_empty() {
                return Err(Stop::said(
                    Exit::BadInput,
                    format!("{}: the folder holds no shard (*.json)", path.display()),
                ));
            }
            found.sort();
            files.extend(found.into_iter().map(|f| (f, true)));
        } else {
            files.push((path.clone(), false));
        }
    }
    let mut shards = Vec::new();
    for (path, in_folder) in files {
        let run = load_run(&path)?;
        match run.shard.clone() {
            Some(info) => shards.push(Loaded { path, run, info }),
            None if in_folder && run.merged.is_some() => {
                term::note(format!("{}: a merged run, skipped", path.display()));
            }
            None => {
                return Err(Stop::said(
                    Exit::BadInput,
                    format!(
                        "{} is not a shard: it was not made by `slagate check --shard K/N`{}",
                        path.display(),
                        if run.merged.is_some() {
                            " (it is a merged run)"
                        } else {
                            ""
                        }
                    ),
                ));
            }
        }
    }
    Ok(shards)
}

/// The shards in order 1..N, when they are exactly the N parts of one run: exit 2 naming the
/// shard that is missing, given twice, or of another run.
fn together(mut shards: Vec<Loaded>, max_skew: Duration) -> Result<Vec<Loaded>, Stop> {
    let refuse = |why: String| Stop::said(Exit::BadInput, why);
    let first = shards
        .first()
        .ok_or_else(|| refuse("no shard to merge".to_string()))?;
    let n = first.info.shard.count;
    let (name0, path0) = (first.run.profile.clone(), first.path.display().to_string());
    for s in &shards[1..] {
        let path = s.path.display();
        if s.info.shard.count != n {
            return Err(refuse(format!(
                "{path} is shard {} but {path0} is shard {}: shards of one run share N",
                s.info.shard, first.info.shard
            )));
        }
        if s.info.run_id != first.info.run_id {
            let id = |id: &Option<String>| id.clone().unwrap_or_else(|| "none".into());
            return Err(refuse(format!(
                "{path} is of run id {} but {path0} of run id {}: they are not shards of one run",
                id(&s.info.run_id),
                id(&first.info.run_id)
            )));
        }
        if s.run.provenance.profile_sha256 != first.run.provenance.profile_sha256
            || s.run.profile != name0
        {
            return Err(refuse(format!(
                "{path} ran another profile than {path0} ({} against {}, profile files sha256 \
                 {} and {}): shards of one run run one profile",
                s.run.profile.name,
                name0.name,
                short(&s.run.provenance.profile_sha256),
                short(&first.run.provenance.profile_sha256)
            )));
        }
        if s.run.provenance.sla_sha256 != first.run.provenance.sla_sha256
            || endpoints(&s.run) != endpoints(&first.run)
        {
            return Err(refuse(format!(
                "{path} ran another sla file than {path0} (sha256 {} and {}): shards of one \
                 run send the same requests",
                short(&s.run.provenance.sla_sha256),
                short(&first.run.provenance.sla_sha256)
            )));
        }
        // Without a run id, the instant they were asked to start on is what ties them
        // together (`+30s` is relative to each process, so within the skew allowed).
        if first.info.run_id.is_none() {
            let apart = match (s.info.start_at, first.info.start_at) {
                (Some(a), Some(b)) => Some(
                    a.duration_since(b)
                        .or_else(|_| b.duration_since(a))
                        .unwrap_or_default(),
                ),
                _ => None,
            };
            if apart.is_none_or(|d| d > max_skew) {
                let at = |t: Option<std::time::SystemTime>| {
                    t.map_or("none".to_string(), |t| {
                        humantime::format_rfc3339_millis(t).to_string()
                    })
                };
                return Err(refuse(format!(
                    "{path} was asked to start at {} and {path0} at {}, and they have no run \
                     id: shards of one run share a --run-id, or else a --start-at",
                    at(s.info.start_at),
                    at(first.info.start_at)
                )));
            }
        }
    }
    shards.sort_by_key(|s| s.info.shard.index);
    for pair in shards.windows(2) {
        if pair[0].info.shard == pair[1].info.shard {
            return Err(refuse(format!(
                "shard {} is given twice: {} and {}",
                pair[0].info.shard,
                pair[0].path.display(),
                pair[1].path.display()
            )));
        }
    }
    let have: Vec<u32> = shards.iter().map(|s| s.info.shard.index).collect();
    let missing: Vec<String> = (0..n)
        .filter(|k| !have.contains(k))
        .map(|k| format!("{}/{n}", k + 1))
        .collect();
    if !missing.is_empty() {
        let given: Vec<String> = shards
            .iter()
            .map(|s| format!("{} ({})", s.info.shard, s.path.display()))
            .collect();
        return Err(refuse(format!(
            "shard{} {} of {n} {} missing (given: {}): a merged run of fewer shards would judge \
             part of the load as if it were all of it",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            given.join(", ")
        )));
    }
    Ok(shards)
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn endpoints(run: &RunReport) -> Vec<(&str, &str)> {
    run.endpoints
        .iter()
        .map(|e| (e.name.as_str(), e.method.as_str()))
        .chain(run.flows.iter().map(|f| (f.name.as_str(), "flow")))
        .collect()
}

/// How far apart the shards started; exit 2 when their measured windows do not even overlap
/// (then they are not one run at all, whatever their ids say).
fn skew(shards: &[Loaded]) -> Result<Duration, Stop> {
    let starts = shards.iter().map(|s| s.run.started_at);
    let (Some(earliest), Some(latest)) = (starts.clone().min(), starts.max()) else {
        return Ok(Duration::ZERO);
    };
    let skew = latest.duration_since(earliest).unwrap_or_default();
    let window = |s: &Loaded| {
        (
            s.run.started_at + s.run.window.start,
            s.run.started_at + s.run.window.end,
        )
    };
    let open = shards.iter().map(|s| window(s).0).max();
    let close = shards.iter().map(|s| window(s).1).min();
    if let (Some(open), Some(close)) = (open, close)
        && open >= close
    {
        let at = |s: &Loaded| humantime::format_rfc3339_millis(s.run.started_at).to_string();
        let (a, b) = (
            shards.iter().min_by_key(|s| s.run.started_at),
            shards.iter().max_by_key(|s| s.run.started_at),
        );
        let (a, b) = (a.expect("shards"), b.expect("shards"));
        return Err(Stop::said(
            Exit::BadInput,
            format!(
                "the shards' measured windows do not overlap: shard {} ({}) started at {} and \
                 shard {} ({}) at {}, {} later; they did not run together (give every shard \
                 the same --start-at)",
                a.info.shard,
                a.path.display(),
                at(a),
                b.info.shard,
                b.path.display(),
                at(b),
                units::duration(skew)
            ),
        ));
    }
    Ok(skew)
}

/// Where the plan comes from: `--profile`, else the profile the shards name beside `--sla`,
/// else the path they recorded.
fn source<'a>(args: &'a MergeArgs, run: &'a RunReport) -> Result<Source<'a>, Stop> {
    let profile: &str = match &args.profile {
        Some(p) => p,
        None if config::resolve_profile(&args.sla, &run.profile.name).is_ok() => &run.profile.name,
        None => &run.provenance.profile_file,
    };
    Ok(Source::Files {
        sla: &args.sla,
        profile,
    })
}

/// The whole profile's plan, as the shards ran it: the SLA file's budgets, and the load the
/// shards recorded (which carries any -u, -t or --rate they were given).
fn whole_plan(args: &MergeArgs, run: &RunReport) -> Result<(Plan, Provenance), Stop> {
    let (mut plan, provenance) = load_plan(source(args, run)?, &Overrides::default())?;
    if provenance.profile_sha256 != run.provenance.profile_sha256 {
        return Err(Stop::said(
            Exit::BadInput,
            format!(
                "{} is not the profile the shards ran (sha256 {} against their {}): merge with \
                 the file they ran (--profile PATH)",
                plan.profile.path.display(),
                short(&provenance.profile_sha256),
                short(&run.provenance.profile_sha256)
            ),
        ));
    }
    if provenance.sla_sha256 != run.provenance.sla_sha256 {
        term::note(format!(
            "{} differs from the sla file the shards ran (sha256 {} against {}): judging with \
             its budgets",
            args.sla.display(),
            short(&provenance.sla_sha256),
            short(&run.provenance.sla_sha256)
        ));
    }
    plan.profile.load = run.profile.load.clone();
    plan.profile.run_time = run.profile.run_time;
    let planned: Vec<(&str, String)> = plan
        .endpoints
        .iter()
        .map(|e| (e.name.as_str(), e.method.to_string()))
        .collect();
    let ran: Vec<(&str, String)> = run
        .endpoints
        .iter()
        .map(|e| (e.name.as_str(), e.method.clone()))
        .collect();
    if planned != ran {
        return Err(Stop::said(
            Exit::BadInput,
            format!(
                "{} has other endpoints than the shards ran ({} against {}): judge them with \
                 the sla file they ran",
                args.sla.display(),
                names(&planned),
                names(&ran)
            ),
        ));
    }
    Ok((plan, provenance))
}

fn names(eps: &[(&str, String)]) -> String {
    eps.iter()
        .map(|(n, m)| format!("{m} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "3 shards: host-a (2 cores, linux x86_64) ×2, host-b (…)".
fn machines(shards: &[Loaded]) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for s in shards {
        let m = s
            .run
            .provenance
            .machine
            .clone()
            .unwrap_or_else(|| "unknown".into());
        match seen.iter_mut().find(|(x, _)| *x == m) {
            Some((_, n)) => *n += 1,
            None => seen.push((m, 1)),
        }
    }
    let list: Vec<String> = seen
        .into_iter()
        .map(|(m, n)| if n == 1 { m } else { format!("{m} ×{n}") })
        .collect();
    format!("{} shards: {}", shards.len(), list.join(", "))
}

/// A shard's run as the summary it was reported from.
fn summary_of(s: &Loaded) -> Summary {
    let run = &s.run;
    Summary {
        started_at: run.started_at,
        run_time: run.profile.run_time,
        stopped_at: run.window.end,
        finished_at: run
            .finished_at
            .duration_since(run.started_at)
            .unwrap_or_default(),
        window: run.window,
        endpoints: run.endpoints.iter().map(|e| e.stats.clone()).collect(),
        flows: run.flows.iter().map(|f| f.stats.clone()).collect(),
        total: run.total.clone(),
        timeline: run.timeline.clone(),
        load: s.info.load.clone(),
        connections: run.connections.clone(),
        aborted: s.info.aborted.clone(),
        reached: s.info.reached,
    }
}
