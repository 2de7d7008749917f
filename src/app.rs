//! The only place that calls every stage in order: config → plan → engine → stats → verdict →
//! report. Maps each way a command can end to its exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::cli::{CheckArgs, Cli, Command, DemoArgs, LoadArgs, ReportArgs};
use crate::fixture::{Fixture, Mode};
use crate::plan::{Overrides, Plan};
use crate::report::{Destination, Provenance, Reporter, RunReport};
use crate::stats::{FailureKind, Summary};
use crate::{config, engine, plan, report, verdict};

/// Exit codes, as documented in `--help` and the README.
pub mod exit {
    pub const PASS: u8 = 0;
    pub const SLA_FAILED: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const NOT_RUN: u8 = 3;
    /// INCONCLUSIVE under `--strict`, or an INVALID run.
    pub const UNDECIDED: u8 = 4;
}

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Validate { sla } => validate(&sla),
        Command::Profiles { sla } => profiles(&sla),
        Command::Fixture { port, mode } => fixture(port, mode),
        Command::Demo(args) => demo(args),
        Command::Report { run, reports } => rerender(&run, &reports),
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
fn check_writable(outputs: &[Output]) -> Result<(), u8> {
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
            return Err(exit::BAD_INPUT);
        }
    }
    Ok(())
}

/// Write every requested report; a failure is reported and turns the exit code to 3, but the
/// other reports are still written.
fn write_outputs(run: &RunReport, outputs: &[Output]) -> Result<(), u8> {
    let mut result = Ok(());
    for o in outputs {
        if let Err(e) = report::write(o.format, o.reporter, run, Destination::File(&o.path)) {
            eprintln!("slagate: {e}");
            result = Err(exit::NOT_RUN);
        }
    }
    result
}

fn rerender(run_path: &Path, args: &ReportArgs) -> u8 {
    let outputs = outputs(args);
    if let Err(code) = check_writable(&outputs) {
        return code;
    }
    let bytes = match std::fs::read(run_path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("slagate: cannot read {}: {e}", run_path.display());
            return exit::BAD_INPUT;
        }
    };
    let run = match report::json::load(&bytes) {
        Ok(run) => run,
        Err(e) => {
            print_diagnostic(e);
            return exit::BAD_INPUT;
        }
    };
    if outputs.is_empty()
        && let Err(e) = report::write("terminal", &terminal(), &run, Destination::Stdout)
    {
        eprintln!("slagate: {e}");
        return exit::NOT_RUN;
    }
    match write_outputs(&run, &outputs) {
        Ok(()) => exit::PASS,
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
fn load_plan(source: Source<'_>, overrides: &Overrides) -> Result<(Plan, Provenance), u8> {
    let bad = |e: config::ConfigError| {
        print_diagnostic(e);
        exit::BAD_INPUT
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
                return Err(exit::BAD_INPUT);
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

fn check(args: CheckArgs) -> u8 {
    let source = Source::Files {
        sla: &args.sla,
        profile: &args.profile,
    };
    let outputs = outputs(&args.reports);
    if let Err(code) = check_writable(&outputs) {
        return code;
    }
    match load_plan(source, &overrides(args.host, &args.load)) {
        Ok((plan, provenance)) => execute(&plan, provenance, &outputs, args.strict),
        Err(code) => code,
    }
}

/// Run a validated plan and report it.
fn execute(plan: &Plan, provenance: Provenance, outputs: &[Output], strict: bool) -> u8 {
    print_capacity_warning(plan);
    let addr = match engine::preflight(plan) {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("slagate: {e}");
            return match e {
                engine::EngineError::Unsupported(_) => exit::BAD_INPUT,
                _ => exit::NOT_RUN,
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
        report::table::fmt_length(p.run_time),
        report::table::fmt_range(p.think_time.min, p.think_time.max),
        plan.target.base_url,
        plan.level
            .as_ref()
            .map(|l| format!(" (level {})", l.name))
            .unwrap_or_default()
    );
    let tty = std::io::stderr().is_terminal();
    let run = match engine::run(plan, addr, &engine::Options::default(), |pr| {
        progress_line(pr, tty)
    }) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("slagate: {e}");
            return exit::NOT_RUN;
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
        return exit::NOT_RUN;
    }
    let verdict = verdict::judge(plan, &summary);
    let run_report = RunReport::new(plan, provenance, summary, verdict, run.interrupted, strict);
    // Files first: an interrupted or failing run must still leave its reports behind.
    let written = write_outputs(&run_report, outputs);
    match report::markdown::append_step_summary(&run_report) {
        Ok(_) => {}
        Err(e) => eprintln!("slagate: could not append to $GITHUB_STEP_SUMMARY: {e}"),
    }
    if let Err(e) = report::write("terminal", &terminal(), &run_report, Destination::Stdout) {
        eprintln!("slagate: {e}");
        return exit::NOT_RUN;
    }
    match written {
        Ok(()) => run_report.exit_code(),
        Err(code) => code,
    }
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
        verdict::fmt_offset(p.elapsed),
        verdict::fmt_offset(p.run_time),
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

fn validate(sla_path: &Path) -> u8 {
    let mut code = exit::PASS;
    let sla = match config::load_sla(sla_path) {
        Ok(sla) => Some(sla),
        Err(e) => {
            print_diagnostic(e);
            code = exit::BAD_INPUT;
            None
        }
    };
    let paths = match config::profile_paths(sla_path) {
        Ok(p) => p,
        Err(e) => {
            print_diagnostic(e);
            return exit::BAD_INPUT;
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
                            code = exit::BAD_INPUT;
                        }
                    }
                } else {
                    ok_profiles += 1;
                }
            }
            Err(e) => {
                print_diagnostic(e);
                code = exit::BAD_INPUT;
            }
        }
    }
    if code == exit::PASS {
        eprintln!(
            "slagate: {} and {} profile(s) are valid",
            sla_path.display(),
            ok_profiles
        );
    }
    code
}

fn profiles(sla_path: &Path) -> u8 {
    let sla = match config::load_sla(sla_path) {
        Ok(sla) => sla,
        Err(e) => {
            print_diagnostic(e);
            return exit::BAD_INPUT;
        }
    };
    let paths = match config::profile_paths(sla_path) {
        Ok(p) => p,
        Err(e) => {
            print_diagnostic(e);
            return exit::BAD_INPUT;
        }
    };
    let mut plans = Vec::new();
    let mut code = exit::PASS;
    for path in &paths {
        match config::load_profile(path).and_then(|p| plan::build(&sla, &p, &Overrides::default()))
        {
            Ok(plan) => plans.push(plan),
            Err(e) => {
                print_diagnostic(e);
                code = exit::BAD_INPUT;
            }
        }
    }
    print!("{}", report::table::profiles(&plans));
    code
}

fn fixture(port: u16, mode: Mode) -> u8 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("slagate: {e}");
            return exit::NOT_RUN;
        }
    };
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("slagate: cannot listen on 127.0.0.1:{port}: {e}");
                return exit::BAD_INPUT;
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
            Ok(()) => exit::PASS,
            Err(e) => {
                eprintln!("slagate: fixture stopped: {e}");
                exit::NOT_RUN
            }
        }
    })
}

fn demo(args: DemoArgs) -> u8 {
    let outputs = outputs(&args.reports);
    if let Err(code) = check_writable(&outputs) {
        return code;
    }
    let fixture = match Fixture::start(0, args.mode) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("slagate: could not start the simulator: {e}");
            return exit::NOT_RUN;
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
    let code = execute(&plan, provenance, &outputs, args.strict);
    drop(fixture);
    code
}
