//! The only place that calls every stage in order: config → plan → engine → stats → verdict →
//! report. Maps each way a command can end to its exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::cli::{
    CheckArgs, Cli, Command, CompareArgs, DemoArgs, LoadArgs, RegressionMode, ReportArgs,
};
use crate::fixture::{Fixture, Mode};
use crate::plan::{Overrides, Plan};
use crate::report::{Destination, Provenance, Reporter, RunReport};
use crate::stats::{FailureKind, Summary};
use crate::units::{self, Exit};
use crate::{compare, config, engine, plan, report, verdict};

pub fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Validate { sla } => validate(&sla),
        Command::Profiles { sla } => profiles(&sla),
        Command::Fixture { port, mode } => fixture(port, mode),
        Command::Demo(args) => demo(args),
        Command::Report { run, reports } => rerender(&run, &reports),
        Command::Compare(args) => compare_runs(args),
    }
}

/// One report file to write: the format's name, its reporter, the path.
struct Output {
    format: &'static str,
    reporter: &'static dyn Reporter,
    path: PathBuf,
}

fn outputs(args: &ReportArgs) -> Vec<Output> {
    let mut out = Vec::new();
    let mut add = |format, reporter, path: &Option<PathBuf>| {
        if let Some(path) = path {
            out.push(Output {
                format,
                reporter,
                path: path.clone(),
            });
        }
    };
    add("json", &report::json::Json, &args.json);
    add("html", &report::html::Html, &args.html);
    add("junit", &report::junit::Junit, &args.junit);
    add("markdown", &report::markdown::Markdown, &args.markdown);
    if let Some(prefix) = &args.csv {
        for (suffix, reporter) in report::csv::FILES {
            out.push(Output {
                format: "csv",
                reporter,
                path: report::csv::path(prefix, suffix),
            });
        }
    }
    out
}

/// Fail in milliseconds, not after a five-minute run, when a report cannot be written: create
/// missing parent folders (as Locust does) and open each file for writing.
fn check_writable(outputs: &[Output]) -> Result<(), Exit> {
    for o in outputs {
        let result = o
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&o.path)
                    .map(drop)
            })
            .and_then(|_| {
                if o.path.is_dir() {
                    Err(std::io::Error::other("it is a directory"))
                } else {
                    Ok(())
                }
            });
        if let Err(e) = result {
            eprintln!(
                "slagate: cannot write the {} report to {}: {e}",
                o.format,
                o.path.display()
            );
            return Err(Exit::BadInput);
        }
    }
    Ok(())
}

/// Write every requested report; a failure is reported and turns the exit code to 3, but the
/// other reports are still written.
fn write_outputs(run: &RunReport, outputs: &[Output]) -> Result<(), Exit> {
    let mut result = Ok(());
    for o in outputs {
        if let Err(e) = report::write(o.format, o.reporter, run, Destination::File(&o.path)) {
            eprintln!("slagate: {e}");
            result = Err(Exit::NotRun);
        }
    }
    result
}

fn rerender(run_path: &Path, args: &ReportArgs) -> Exit {
    let outputs = outputs(args);
    if let Err(code) = check_writable(&outputs) {
        return code;
    }
    let bytes = match std::fs::read(run_path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("slagate: cannot read {}: {e}", run_path.display());
            return Exit::BadInput;
        }
    };
    let run = match report::json::load(&bytes) {
        Ok(run) => run,
        Err(e) => {
            print_diagnostic(e);
            return Exit::BadInput;
        }
    };
    if outputs.is_empty()
        && let Err(e) = report::write("terminal", &terminal(), &run, Destination::Stdout)
    {
        eprintln!("slagate: {e}");
        return Exit::NotRun;
    }
    match write_outputs(&run, &outputs) {
        Ok(()) => Exit::Pass,
        Err(code) => code,
    }
}

fn print_diagnostic(err: impl miette::Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(err));
}

/// A configuration that is valid but cannot do what it says (a profile that cannot reach its
/// level's min_rps even against an instant server): warned about, never an error.
fn print_capacity_warning(plan: &Plan) {
    if let Some(text) = verdict::explain::capacity_warning(plan) {
        let warning = miette::MietteDiagnostic::new(text).with_severity(miette::Severity::Warning);
        print_diagnostic(warning);
    }
}

/// The terminal reporter, coloured only for a terminal and when `NO_COLOR` is not set.
fn terminal() -> report::table::Terminal {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    report::table::Terminal {
        color: std::io::stdout().is_terminal() && !no_color,
    }
}

fn overrides(host: Option<String>, load: &LoadArgs) -> Overrides {
    Overrides {
        host,
        users: load.users,
        spawn_rate: load.spawn_rate,
        run_time: load.run_time,
    }
}

/// Where a check's configuration comes from.
enum Source<'a> {
    /// An sla file on disk and a profile name or path beside it.
    Files { sla: &'a Path, profile: &'a str },
    /// The Resource Agent SLA and profiles compiled into the binary (`slagate demo` outside a
    /// checkout).
    BuiltIn { profile: &'a str },
}

const BUILTIN_SLA: &[u8] = include_bytes!("../sla.toml");
const BUILTIN_PROFILES: [(&str, &[u8]); 5] = [
    ("smoke", include_bytes!("../profiles/smoke.toml")),
    ("light", include_bytes!("../profiles/light.toml")),
    ("medium", include_bytes!("../profiles/medium.toml")),
    ("heavy", include_bytes!("../profiles/heavy.toml")),
    ("stress", include_bytes!("../profiles/stress.toml")),
];

/// Read and validate everything a check needs; on any mistake, print every diagnostic.
fn load_plan(source: Source<'_>, overrides: &Overrides) -> Result<(Plan, Provenance), Exit> {
    let bad = |e: config::ConfigError| {
        print_diagnostic(e);
        Exit::BadInput
    };
    let (sla, profile) = match source {
        Source::Files { sla, profile } => {
            let sla_file = config::load_sla(sla).map_err(bad)?;
            let path = config::resolve_profile(sla, profile).map_err(bad)?;
            (sla_file, config::load_profile(&path).map_err(bad)?)
        }
        Source::BuiltIn { profile } => {
            let Some((name, bytes)) = BUILTIN_PROFILES.iter().find(|(n, _)| *n == profile) else {
                let names: Vec<&str> = BUILTIN_PROFILES.iter().map(|(n, _)| *n).collect();
                eprintln!(
                    "slagate: no built-in profile `{profile}`; the built-in ones are {}",
                    names.join(", ")
                );
                return Err(Exit::BadInput);
            };
            let sla =
                config::parse_sla(Path::new("sla.toml (built-in)"), BUILTIN_SLA).map_err(bad)?;
            let path = PathBuf::from(format!("profiles/{name}.toml"));
            (sla, config::parse_profile(&path, bytes).map_err(bad)?)
        }
    };
    let plan = plan::build(&sla, &profile, overrides).map_err(bad)?;
    let provenance = provenance(&sla.source.text, &plan, &profile.source.text);
    Ok((plan, provenance))
}

fn check(args: CheckArgs) -> Exit {
    let source = Source::Files {
        sla: &args.sla,
        profile: &args.profile,
    };
    let outputs = outputs(&args.reports);
    if let Err(code) = check_writable(&outputs) {
        return code;
    }
    match load_plan(source, &overrides(args.host, &args.load)) {
        Ok((plan, provenance)) => {
            let baseline = match &args.baseline {
                Some(path) => match load_baseline(path, &args.sla, args.regression, &plan) {
                    Ok(b) => Some(b),
                    Err(code) => return code,
                },
                None => None,
            };
            // Last before the load: every input mistake is reported before any waiting.
            if let Some(timeout) = args.wait_for_ready
                && let Err(code) = wait_ready(&plan, timeout)
            {
                return code;
            }
            execute(
                &plan,
                provenance,
                &outputs,
                args.strict,
                args.repeat,
                baseline.as_ref(),
            )
        }
        Err(code) => code,
    }
}

/// `--wait-for-ready`: poll until the target accepts a connection; one line either way.
fn wait_ready(plan: &Plan, timeout: std::time::Duration) -> Result<(), Exit> {
    eprintln!(
        "slagate: waiting up to {} for {} to answer",
        units::length(timeout),
        plan.target.base_url
    );
    match engine::wait_ready(plan, timeout) {
        Ok(_) => Ok(()),
        Err(e) => {
            eprintln!("slagate: {e}");
            Err(match e {
                engine::EngineError::Unsupported(_) => Exit::BadInput,
                _ => Exit::NotRun,
            })
        }
    }
}

/// Run a validated plan and report it.
fn execute(
    plan: &Plan,
    provenance: Provenance,
    outputs: &[Output],
    strict: bool,
    repeat: u32,
    baseline: Option<&Baseline>,
) -> Exit {
    print_capacity_warning(plan);
    let addr = match engine::preflight(plan) {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("slagate: {e}");
            return match e {
                engine::EngineError::Unsupported(_) => Exit::BadInput,
                _ => Exit::NotRun,
            };
        }
    };
    let p = &plan.profile;
    eprintln!(
        "slagate: profile {} — {} user{}, {}/s spawn rate, {} run time, think {} — against {}{}",
        p.name,
        p.users,
        if p.users == 1 { "" } else { "s" },
        p.spawn_rate,
        units::length(p.run_time),
        units::range(p.think_time.min, p.think_time.max),
        plan.target.base_url,
        plan.level
            .as_ref()
            .map(|l| format!(" (level {})", l.name))
            .unwrap_or_default()
    );
    let (summary, verdict, interrupted) =
        match measure(plan, addr, repeat, &provenance, outputs, strict) {
            Ok(measured) => measured,
            Err(code) => return code,
        };
    let run_report = RunReport::new(plan, provenance, summary, verdict, interrupted, strict);
    // Files first: an interrupted or failing run must still leave its reports behind.
    let written = write_outputs(&run_report, outputs);
    match report::markdown::append_step_summary(&run_report) {
        Ok(_) => {}
        Err(e) => eprintln!("slagate: could not append to $GITHUB_STEP_SUMMARY: {e}"),
    }
    if let Err(e) = report::write("terminal", &terminal(), &run_report, Destination::Stdout) {
        eprintln!("slagate: {e}");
        return Exit::NotRun;
    }
    // In a GitHub Actions step, each failing budget also becomes an annotation on its line.
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        let annotations = report::annotations::Annotations {
            workspace: std::env::var_os("GITHUB_WORKSPACE").map(PathBuf::from),
        };
        if let Err(e) = report::write(
            "annotations",
            &annotations,
            &run_report,
            Destination::Stdout,
        ) {
            eprintln!("slagate: {e}");
        }
    }
    // The baseline is judged after the run's own verdict, and gates only a run that passed:
    // a failed budget or an unusable run says more than a regression does.
    let regression = baseline.map_or(Exit::Pass, |b| judge_baseline(b, &run_report));
    match written {
        Ok(()) if run_report.exit_code() == Exit::Pass => regression,
        Ok(()) => run_report.exit_code(),
        Err(code) => code,
    }
}

/// One run of the plan: its summary and whether it was interrupted. `Err` is the exit code.
fn run_once(plan: &Plan, addr: std::net::SocketAddr) -> Result<(Summary, bool), Exit> {
    let p = &plan.profile;
    let tty = std::io::stderr().is_terminal();
    let run = match engine::run(plan, addr, &engine::Options::default(), |pr| {
        progress_line(pr, tty)
    }) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("slagate: {e}");
            return Err(Exit::NotRun);
        }
    };
    if tty {
        eprintln!();
    }
    // The window starts at the first whole second after the last user started.
    let window_start = p.ramp_up().as_secs() + u64::from(p.ramp_up().subsec_nanos() > 0);
    let summary = Summary::new(
        &run.recording,
        u32::try_from(window_start).unwrap_or(u32::MAX),
    );
    if let Some(reason) = never_connected(&summary) {
        eprintln!(
            "slagate: target {} never answered: {reason}",
            plan.target.base_url
        );
        return Err(Exit::NotRun);
    }
    Ok((summary, run.interrupted))
}

/// Run the plan `repeat` times back to back and return what gates: the one run, or the runs
/// combined (`verdict::repeat`). With `--repeat N` > 1 each run's terminal report is printed
/// under a `run K of N` banner and, with `--json FILE`, written to `FILE-runK` beside the
/// combined FILE; then the head of the combined section (spread, flaky checks) is printed, and
/// the caller reports the combined run as it reports a single one. An interrupted or aborted
/// run ends the repetition: the runs so far are combined.
fn measure(
    plan: &Plan,
    addr: std::net::SocketAddr,
    repeat: u32,
    provenance: &Provenance,
    outputs: &[Output],
    strict: bool,
) -> Result<(Summary, verdict::Verdict, bool), Exit> {
    if repeat <= 1 {
        let (summary, interrupted) = run_once(plan, addr)?;
        let verdict = verdict::judge(plan, &summary);
        return Ok((summary, verdict, interrupted));
    }
    let per_run_json = |k: u32| -> Vec<Output> {
        outputs
            .iter()
            .filter(|o| o.format == "json")
            .map(|o| Output {
                format: "json",
                reporter: o.reporter,
                path: run_path(&o.path, k),
            })
            .collect()
    };
    // Before any load: every per-run file must be writable too.
    for k in 1..=repeat {
        check_writable(&per_run_json(k))?;
    }
    let n = repeat as usize;
    let mut runs = Vec::with_capacity(n);
    let mut interrupted = false;
    for k in 1..=repeat {
        eprintln!("slagate: run {k} of {repeat}");
        let (summary, run_interrupted) = run_once(plan, addr)?;
        let verdict = verdict::judge(plan, &summary);
        let stop = run_interrupted || summary.aborted.is_some();
        let run_report = RunReport::new(
            plan,
            provenance.clone(),
            summary.clone(),
            verdict.clone(),
            run_interrupted,
            strict,
        );
        let _ = write_outputs(&run_report, &per_run_json(k));
        println!("{}", report::repeat::run_banner(k as usize, n));
        if let Err(e) = report::write("terminal", &terminal(), &run_report, Destination::Stdout) {
            eprintln!("slagate: {e}");
        }
        println!();
        runs.push((summary, verdict));
        if stop {
            interrupted = run_interrupted;
            eprintln!(
                "slagate: run {k} of {repeat} was {}: no further runs; combining the {k} made",
                if run_interrupted {
                    "interrupted"
                } else {
                    "aborted"
                }
            );
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
        strict,
    );
    print!(
        "{}",
        report::repeat::combined_header(&head, &combined.spreads)
    );
    Ok((combined.summary, combined.verdict, interrupted))
}

/// `report.json` → `report-run2.json`: where run K of a repeated run is saved.
fn run_path(path: &Path, k: u32) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-run{k}.{}", ext.to_string_lossy()),
        None => format!("{stem}-run{k}"),
    };
    path.with_file_name(name)
}

/// "host (2 cores, linux x86_64)": enough to tell two machines apart when comparing runs.
fn machine() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown host".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "{host} ({cores} core{}, {} {})",
        if cores == 1 { "" } else { "s" },
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Hashes of the configuration the run used, and the commit it ran at.
fn provenance(sla_text: &str, plan: &Plan, profile_text: &str) -> Provenance {
    let hash = |text: &str| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(text.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let git_commit = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Provenance {
        sla_file: plan.sla_path.display().to_string(),
        sla_sha256: hash(sla_text),
        profile_file: plan.profile.path.display().to_string(),
        profile_sha256: hash(profile_text),
        git_commit,
        machine: Some(machine()),
    }
}

/// When every request of the run failed to even connect, there is nothing to judge: the
/// target went away after the pre-flight check.
fn never_connected(summary: &Summary) -> Option<String> {
    let t = &summary.total;
    let connect_failures: u64 = t
        .failures_by_kind
        .iter()
        .filter(|k| matches!(k.kind, FailureKind::ConnectRefused | FailureKind::Connect))
        .map(|k| k.count)
        .sum();
    (t.requests > 0 && connect_failures == t.requests).then(|| {
        let k = &t.failures_by_kind[0];
        match &k.example {
            Some(ex) => format!("{} × {} ({})", k.count, k.kind, ex.text),
            None => format!("{} × {}", k.count, k.kind),
        }
    })
}

fn progress_line(p: &engine::Progress, tty: bool) {
    let secs = p.elapsed.as_secs();
    // A terminal gets a live line; a CI log gets one line every 10 s.
    if !tty && !secs.is_multiple_of(10) {
        return;
    }
    let line = format!(
        "[{} / {}] {}/{} users · {} requests ({:.0}/s) · {} failures{}",
        units::offset(p.elapsed),
        units::offset(p.run_time),
        p.users,
        p.target_users,
        p.requests,
        p.recent_rps,
        p.failures,
        if p.interrupted {
            " · interrupted: finishing requests in flight (Ctrl-C again to stop now)"
        } else {
            ""
        }
    );
    if tty {
        eprint!("\r\x1b[2K{line}");
    } else {
        eprintln!("{line}");
    }
}

fn validate(sla_path: &Path) -> Exit {
    let mut code = Exit::Pass;
    let sla = match config::load_sla(sla_path) {
        Ok(sla) => Some(sla),
        Err(e) => {
            print_diagnostic(e);
            code = Exit::BadInput;
            None
        }
    };
    let paths = match config::profile_paths(sla_path) {
        Ok(p) => p,
        Err(e) => {
            print_diagnostic(e);
            return Exit::BadInput;
        }
    };
    let mut ok_profiles = 0;
    for path in &paths {
        match config::load_profile(path) {
            Ok(profile) => {
                if let Some(sla) = &sla {
                    match plan::build(sla, &profile, &Overrides::default()) {
                        Ok(plan) => {
                            print_capacity_warning(&plan);
                            ok_profiles += 1;
                        }
                        Err(e) => {
                            print_diagnostic(e);
                            code = Exit::BadInput;
                        }
                    }
                } else {
                    ok_profiles += 1;
                }
            }
            Err(e) => {
                print_diagnostic(e);
                code = Exit::BadInput;
            }
        }
    }
    if code == Exit::Pass {
        eprintln!(
            "slagate: {} and {} profile(s) are valid",
            sla_path.display(),
            ok_profiles
        );
    }
    code
}

fn profiles(sla_path: &Path) -> Exit {
    let sla = match config::load_sla(sla_path) {
        Ok(sla) => sla,
        Err(e) => {
            print_diagnostic(e);
            return Exit::BadInput;
        }
    };
    let paths = match config::profile_paths(sla_path) {
        Ok(p) => p,
        Err(e) => {
            print_diagnostic(e);
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
                print_diagnostic(e);
                code = Exit::BadInput;
            }
        }
    }
    print!("{}", report::table::profiles(&plans));
    code
}

fn fixture(port: u16, mode: Mode) -> Exit {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("slagate: {e}");
            return Exit::NotRun;
        }
    };
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("slagate: cannot listen on 127.0.0.1:{port}: {e}");
                return Exit::BadInput;
            }
        };
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        eprintln!("slagate: Resource Agent simulator ({mode:?}) on http://{addr} — Ctrl-C to stop");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match crate::fixture::serve(listener, mode, shutdown).await {
            Ok(()) => Exit::Pass,
            Err(e) => {
                eprintln!("slagate: fixture stopped: {e}");
                Exit::NotRun
            }
        }
    })
}

fn demo(args: DemoArgs) -> Exit {
    let outputs = outputs(&args.reports);
    if let Err(code) = check_writable(&outputs) {
        return code;
    }
    let fixture = match Fixture::start(0, args.mode) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("slagate: could not start the simulator: {e}");
            return Exit::NotRun;
        }
    };
    eprintln!(
        "slagate: demo — Resource Agent simulator ({:?}) on {}",
        args.mode,
        fixture.base_url()
    );
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
    let (plan, provenance) =
        match load_plan(source, &overrides(Some(fixture.base_url()), &args.load)) {
            Ok(loaded) => loaded,
            Err(code) => return code,
        };
    let code = execute(&plan, provenance, &outputs, args.strict, args.repeat, None);
    drop(fixture);
    code
}

/// Reads a saved run for a comparison; a problem is printed and is exit 2.
fn load_run(path: &Path) -> Result<RunReport, Exit> {
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("slagate: cannot read {}: {e}", path.display());
        Exit::BadInput
    })?;
    report::json::load(&bytes).map_err(|e| {
        eprintln!("slagate: {}:", path.display());
        print_diagnostic(e);
        Exit::BadInput
    })
}

/// The tolerances of `--sla FILE`, else of ./sla.toml if there is one, else the defaults.
fn tolerances(sla: Option<&Path>) -> Result<plan::Tolerances, Exit> {
    let local = Path::new("sla.toml");
    let path = sla.or_else(|| local.exists().then_some(local));
    match path {
        None => Ok(plan::Tolerances::default()),
        Some(path) => match config::load_sla(path) {
            Ok(sla) => Ok(plan::tolerances(&sla)),
            Err(e) => {
                print_diagnostic(e);
                Err(Exit::BadInput)
            }
        },
    }
}

/// The exit code of a comparison that was made: 1 for a regression unless only warned about.
fn regression_code(c: &compare::Comparison, mode: RegressionMode) -> Exit {
    if c.regressions() > 0 && mode == RegressionMode::Fail {
        Exit::SlaFailed
    } else {
        Exit::Pass
    }
}

fn compare_runs(args: CompareArgs) -> Exit {
    let files: Vec<(&'static str, PathBuf)> = [
        ("json", &args.json),
        ("markdown", &args.markdown),
        ("html", &args.html),
    ]
    .into_iter()
    .filter_map(|(f, p)| p.clone().map(|p| (f, p)))
    .collect();
    let writable: Vec<Output> = files
        .iter()
        .map(|(format, path)| Output {
            format,
            reporter: &report::json::Json,
            path: path.clone(),
        })
        .collect();
    if let Err(code) = check_writable(&writable) {
        return code;
    }
    let tolerances = match tolerances(args.sla.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (base, head) = match (load_run(&args.base), load_run(&args.head)) {
        (Ok(b), Ok(h)) => (b, h),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let comparison = match compare::compare(&base, &head, &tolerances) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("slagate: {e}");
            return Exit::BadInput;
        }
    };
    print!("{}", compare::terminal(&comparison));
    for (format, path) in &files {
        let bytes = match *format {
            "json" => compare::json(&comparison),
            "html" => match compare::html(&comparison, &base, &head) {
                Ok(page) => page.into_bytes(),
                Err(e) => {
                    eprintln!("slagate: cannot render the html comparison: {e}");
                    return Exit::NotRun;
                }
            },
            _ => compare::markdown(&comparison).into_bytes(),
        };
        if let Err(e) = std::fs::write(path, bytes) {
            eprintln!(
                "slagate: cannot write the {format} comparison to {}: {e}",
                path.display()
            );
            return Exit::NotRun;
        }
    }
    regression_code(&comparison, args.regression)
}

/// `check --baseline`: the saved base run and what a regression does, loaded and checked
/// against the plan before any load is sent.
struct Baseline {
    run: RunReport,
    tolerances: plan::Tolerances,
    mode: RegressionMode,
}

fn load_baseline(
    path: &Path,
    sla: &Path,
    mode: RegressionMode,
    plan: &Plan,
) -> Result<Baseline, Exit> {
    let run = load_run(path)?;
    if let Err(e) = compare::comparable(&run, plan) {
        eprintln!("slagate: --baseline {}: {e}", path.display());
        return Err(Exit::BadInput);
    }
    Ok(Baseline {
        run,
        tolerances: tolerances(Some(sla))?,
        mode,
    })
}

/// Compare a fresh run with its baseline and print the table; the exit code the comparison
/// adds (0 or 1), which only matters when the run itself passed.
fn judge_baseline(baseline: &Baseline, head: &RunReport) -> Exit {
    let comparison = match compare::compare(&baseline.run, head, &baseline.tolerances) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("slagate: {e}");
            return Exit::BadInput;
        }
    };
    println!();
    print!("{}", compare::terminal(&comparison));
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        use std::io::Write as _;
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "\n{}", compare::markdown(&comparison)));
        if let Err(e) = appended {
            eprintln!("slagate: could not append to $GITHUB_STEP_SUMMARY: {e}");
        }
    }
    regression_code(&comparison, baseline.mode)
}
