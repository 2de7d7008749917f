//! The only place that calls every stage in order: config → plan → engine → stats → verdict →
//! report. Maps each way a command can end to its exit code.

use std::io::IsTerminal;
use std::path::Path;

use crate::cli::{CheckArgs, Cli, Command, DemoArgs, LoadArgs};
use crate::fixture::{Fixture, Mode};
use crate::plan::{Overrides, Plan};
use crate::report::{Destination, Provenance, RunReport};
use crate::stats::{FailureKind, Summary};
use crate::{config, engine, plan, report, verdict};

/// Exit codes, as documented in `--help` and the README.
pub mod exit {
    pub const PASS: u8 = 0;
    pub const SLA_FAILED: u8 = 1;
    pub const BAD_INPUT: u8 = 2;
    pub const NOT_RUN: u8 = 3;
}

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Validate { sla } => validate(&sla),
        Command::Profiles { sla } => profiles(&sla),
        Command::Fixture { port, mode } => fixture(port, mode),
        Command::Demo(args) => demo(args),
    }
}

fn print_diagnostic(err: impl miette::Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(err));
}

fn overrides(host: Option<String>, load: &LoadArgs) -> Overrides {
    Overrides {
        host,
        users: load.users,
        spawn_rate: load.spawn_rate,
        run_time: load.run_time,
    }
}

/// Read and validate everything a check needs; on any mistake, print every diagnostic.
fn load_plan(sla_path: &Path, profile: &str, overrides: &Overrides) -> Result<Plan, u8> {
    let sla = config::load_sla(sla_path).map_err(|e| {
        print_diagnostic(e);
        exit::BAD_INPUT
    })?;
    let profile_path = config::resolve_profile(sla_path, profile).map_err(|e| {
        print_diagnostic(e);
        exit::BAD_INPUT
    })?;
    let profile = config::load_profile(&profile_path).map_err(|e| {
        print_diagnostic(e);
        exit::BAD_INPUT
    })?;
    plan::build(&sla, &profile, overrides).map_err(|e| {
        print_diagnostic(e);
        exit::BAD_INPUT
    })
}

fn check(args: CheckArgs) -> u8 {
    match load_plan(&args.sla, &args.profile, &overrides(args.host, &args.load)) {
        Ok(plan) => execute(&plan),
        Err(code) => code,
    }
}

/// Run a validated plan and report it.
fn execute(plan: &Plan) -> u8 {
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
        "slagate: profile {} — {} users, {}/s spawn rate, {} run time, think {}–{} — against {}{}",
        p.name,
        p.users,
        p.spawn_rate,
        report::table::fmt_length(p.run_time),
        verdict::fmt_duration(p.think_time.min),
        verdict::fmt_duration(p.think_time.max),
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
    let run_report = RunReport::new(plan, provenance(plan), summary, verdict, run.interrupted);
    if let Err(e) = report::write(
        "terminal",
        &report::table::Terminal,
        &run_report,
        Destination::Stdout,
    ) {
        eprintln!("slagate: {e}");
        return exit::NOT_RUN;
    }
    run_report.outcome.exit_code()
}

/// Hashes of the files the run was configured from, and the commit it ran at.
fn provenance(plan: &Plan) -> Provenance {
    let hash = |path: &Path| {
        std::fs::read(path)
            .map(|bytes| {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(&bytes);
                digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
            })
            .unwrap_or_default()
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
        sla_sha256: hash(&plan.sla_path),
        profile_file: plan.profile.path.display().to_string(),
        profile_sha256: hash(&plan.profile.path),
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
    if !tty && secs % 10 != 0 {
        return;
    }
    let line = format!(
        "[{} / {}] {}/{} users · {} requests ({}/s) · {} failures{}",
        verdict::fmt_offset(p.elapsed),
        verdict::fmt_offset(p.run_time),
        p.users,
        p.target_users,
        p.requests,
        p.last_second,
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
                        Ok(_) => ok_profiles += 1,
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
        match config::load_profile(path)
            .and_then(|p| plan::build(&sla, &p, &Overrides::default()))
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
        let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
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
    let sla = args
        .sla
        .unwrap_or_else(|| std::path::PathBuf::from("sla.toml"));
    let plan = match load_plan(
        &sla,
        &args.profile,
        &overrides(Some(fixture.base_url()), &args.load),
    ) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    let code = execute(&plan);
    drop(fixture);
    code
}
