//! Integration tests: one binary, a module per area. Every server is on 127.0.0.1 with an
//! ephemeral port, and every run is bounded to a few seconds.

#[path = "../support/server.rs"]
mod server;
#[path = "../support/tls.rs"]
mod tls;

mod action;
mod cli;
mod compare;
mod deploy;
mod e2e;
mod edges;
mod explain;
mod fixture_server;
mod flows;
mod generator;
mod ground_truth;
mod honesty;
mod html_browser;
mod live;
mod locust;
mod open_model;
mod repeat;
mod reports;
mod secrets;
mod shards;
mod tls_server;
mod transport;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The repository root (where sla.toml and profiles/ live).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn repo_sla() -> PathBuf {
    repo().join("sla.toml")
}

const SLAGATE: &str = env!("CARGO_BIN_EXE_slagate");

/// `cmd`, run from the repository root without colour and outside GitHub Actions (a test run
/// under CI must not write workflow annotations or a step summary of its own unless it asks
/// to, with `Check::env`).
fn in_repo(mut cmd: Command) -> Command {
    cmd.current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

/// Run the slagate binary with these arguments, from the repository root.
pub fn slagate(args: &[&str]) -> Output {
    in_repo(Command::new(SLAGATE))
        .args(args)
        .output()
        .expect("run slagate")
}

/// `slagate check --profile PROFILE`, built up the way a test reads it (as just's test support
/// builds its commands):
///
/// `check("smoke").sla(&sla).host(&url).users(10).spawn_rate(100).run_time("6s").run()`
///
/// `run` waits for the output; `spawn` starts it with piped output, for tests that signal or
/// read the child while it runs.
/// A profile of the smoke shape that judges every budget of the repo's sla.toml (smoke itself
/// judges only p50): for short runs whose tests look at every percentile.
pub fn quick_profile() -> PathBuf {
    repo().join("fixtures/profiles/quick.toml")
}

pub fn check(profile: impl AsRef<OsStr>) -> Check {
    Check {
        args: vec!["check".into(), "--profile".into(), profile.as_ref().into()],
        env: Vec::new(),
        shell: None,
    }
}

pub struct Check {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    /// `sh -c` commands to run before exec'ing slagate (see `under_sh`).
    shell: Option<String>,
}

impl Check {
    pub fn sla(self, path: impl AsRef<OsStr>) -> Check {
        self.arg("--sla").arg(path)
    }

    pub fn host(self, url: &str) -> Check {
        self.arg("--host").arg(url)
    }

    pub fn users(self, users: u32) -> Check {
        self.arg("-u").arg(users.to_string())
    }

    pub fn spawn_rate(self, per_second: u32) -> Check {
        self.arg("-r").arg(per_second.to_string())
    }

    pub fn run_time(self, run_time: &str) -> Check {
        self.arg("-t").arg(run_time)
    }

    /// Writes every report format into `dir` (see `report_flags`).
    pub fn reports(self, dir: &Path) -> Check {
        self.args(report_flags(dir))
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Check {
        self.args.push(arg.as_ref().into());
        self
    }

    pub fn args(mut self, args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Check {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Check {
        self.env.push((key.as_ref().into(), value.as_ref().into()));
        self
    }

    /// Runs slagate as `sh -c 'SCRIPT && exec slagate …'`: for limits such as `ulimit -n` that
    /// the process must not be able to raise again.
    pub fn under_sh(mut self, script: &str) -> Check {
        self.shell = Some(script.to_string());
        self
    }

    fn command(self) -> Command {
        let mut cmd = match &self.shell {
            None => in_repo(Command::new(SLAGATE)),
            Some(script) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("{script} && exec \"$0\" \"$@\""))
                    .arg(SLAGATE);
                in_repo(sh)
            }
        };
        cmd.args(self.args).envs(self.env);
        cmd
    }

    pub fn run(self) -> Output {
        self.command().output().expect("run slagate check")
    }

    pub fn spawn(self) -> Child {
        self.command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start slagate check")
    }
}

/// Every report format, written into `dir`: `run.json`, `run_*.csv`, `report.html`,
/// `junit.xml` and `summary.md`.
pub fn report_flags(dir: &Path) -> Vec<String> {
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    vec![
        "--json".into(),
        p("run.json"),
        "--csv".into(),
        p("run"),
        "--html".into(),
        p("report.html"),
        "--junit".into(),
        p("junit.xml"),
        "--markdown".into(),
        p("summary.md"),
    ]
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The rows of the SLA table that failed, as "endpoint metric".
pub fn failing_rows(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains("FAIL") && l.contains('┆'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('│').split('┆').map(str::trim).collect();
            format!("{} {}", cells[0], cells[1])
        })
        .collect()
}
