//! Where a run came from: hashes of the exact files it used, the commit it ran at and the
//! machine that generated the load, so that a report can be tied to them months later and a
//! baseline from another machine is noticed. The one place in `report` that asks the system
//! (git, the host name); reporters only read the result.

use sha2::Digest as _;

use super::Provenance;
use crate::plan::Plan;

/// The provenance of a run of `plan`, whose sla file and profile had these texts.
pub fn collect(sla_text: &str, plan: &Plan, profile_text: &str) -> Provenance {
    Provenance {
        sla_file: plan.sla_path.display().to_string(),
        sla_sha256: sha256(sla_text),
        profile_file: plan.profile.path.display().to_string(),
        profile_sha256: sha256(profile_text),
        git_commit: git_commit(),
        machine: Some(machine()),
    }
}

fn sha256(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `git rev-parse HEAD` of the working directory, when it is a repository.
fn git_commit() -> Option<String> {
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
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
