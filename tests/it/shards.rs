//! Scale-out (issue 13): N shard processes (`check --shard K/N --start-at +2s`) against one
//! test server, then `slagate merge`. The merged run must be the exact sum of the shards
//! (the server's request count, every histogram bucket for bucket, the closed model's users
//! per second adding up to the profile's ramp), judged as a single process's run of the same
//! profile is judged; shards that are not all of one run are refused with exit 2, and shards
//! that started too far apart make the run INVALID.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use hdrhistogram::Histogram;
use slagate::report::{RunOutcome, RunReport};

use crate::server::{Behaviour, TestServer};
use crate::{check, slagate, stderr, stdout};

/// Endpoints /a and /b against a server answering in a fixed 15 ms: /a's p50 < 10 ms fails
/// on every sample, its p95 < 100 ms passes; the level wants 20 req/s (the profile makes ≈ 70).
/// The closed profile ramps 5 users at 2.5/s (starts at 0, 0.4, 0.8, 1.2, 1.6 s: 200 ms from
/// any second's edge) over a 6 s run; the open one sends 120 arrivals/s for 4 s.
fn scratch(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sla.toml"),
        format!(
            "[target]\nbase_url = \"{url}\"\n\n\
             [[endpoint]]\nname = \"/a\"\nbudget = {{ p50 = \"10ms\", p95 = \"100ms\" }}\n\n\
             [[endpoint]]\nname = \"/b\"\nbudget = {{ max = \"5s\" }}\n\n\
             [level.ramp]\nmin_rps = 20\n\n[level.open]\nmin_rps = 20\n"
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("profiles")).unwrap();
    std::fs::write(
        dir.path().join("profiles/ramp.toml"),
        "users = 5\nspawn_rate = 2.5\nrun_time = \"6s\"\n\
         think_time = { min = \"50ms\", max = \"50ms\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("profiles/open.toml"),
        "rate = 120\nmax_in_flight = 40\nrun_time = \"4s\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("shards")).unwrap();
    dir
}

/// Start the N shards of `profile` at once, each its own process, and wait for them all.
/// `auto` gives them `--shard auto/N` with the Indexed Job's `JOB_COMPLETION_INDEX` instead.
fn run_shards(dir: &Path, profile: &str, n: u32, auto: bool) -> Vec<(PathBuf, Output)> {
    let children: Vec<_> = (1..=n)
        .map(|k| {
            let json = dir.join(format!("shards/shard-{k}-of-{n}.json"));
            let mut c = check(dir.join(format!("profiles/{profile}.toml")))
                .sla(dir.join("sla.toml"))
                .args(["--start-at", "+2s", "--run-id", "it-shards", "--seed", "11"])
                .args(["--progress-interval", "1s", "--json"])
                .arg(&json);
            c = if auto {
                c.args(["--shard", &format!("auto/{n}")])
                    .env("JOB_COMPLETION_INDEX", (k - 1).to_string())
            } else {
                c.args(["--shard", &format!("{k}/{n}")])
            };
            (json, c.spawn())
        })
        .collect();
    children
        .into_iter()
        .map(|(json, child)| {
            let out = child.wait_with_output().expect("a shard ends");
            assert_eq!(
                out.status.code(),
                Some(0),
                "a shard that ran exits 0:\n{}{}",
                stdout(&out),
                stderr(&out)
            );
            (json, out)
        })
        .collect()
}

fn load(path: &Path) -> RunReport {
    slagate::report::json::load(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn merge(dir: &Path, inputs: &[&Path]) -> Output {
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(inputs.iter().map(|p| p.to_string_lossy().into_owned()));
    for a in ["--sla", &dir.join("sla.toml").to_string_lossy()] {
        args.push(a.to_string());
    }
    let json = dir.join("merged.json");
    args.extend(["--json".to_string(), json.to_string_lossy().into_owned()]);
    let md = dir.join("merged.md");
    args.extend(["--markdown".to_string(), md.to_string_lossy().into_owned()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    slagate(&refs)
}

/// Every (value, count) a histogram holds.
fn buckets(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    h.iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

fn sum(hs: impl Iterator<Item = Histogram<u64>>) -> Histogram<u64> {
    let mut all = slagate::stats::new_histogram();
    for h in hs {
        all.add(&h).unwrap();
    }
    all
}

/// (subject, metric, status) of every check: what a verdict decided.
fn decisions(run: &RunReport) -> Vec<String> {
    run.verdict
        .checks
        .iter()
        .map(|c| {
            format!(
                "{} {} {:?}",
                run.subject_name(&c.subject),
                c.metric,
                c.status
            )
        })
        .collect()
}

/// The merged run of N shards is their exact sum, and is judged as one process's run.
fn shards_add_up(n: u32, auto: bool) {
    let server = TestServer::start(Behaviour::Fixed(Duration::from_millis(15)));
    let dir = scratch(&server.url());
    let shards = run_shards(dir.path(), "ramp", n, auto);
    for (k, (_, out)) in shards.iter().enumerate() {
        let err = stderr(out);
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("shard {}/{n} [0:0", k + 1))),
            "a shard's progress lines carry its id:\n{err}"
        );
        assert!(
            stdout(out).contains(&format!("SHARD {}/{n}: not judged", k + 1)),
            "{}",
            stdout(out)
        );
    }
    let out = merge(dir.path(), &[&dir.path().join("shards")]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the merged run fails /a p50 as one run would:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    let merged = load(&dir.path().join("merged.json"));
    let parts: Vec<RunReport> = shards.iter().map(|(p, _)| load(p)).collect();

    // Every request the server saw is in the merged run, and in exactly one shard.
    let seen = server.requests();
    let timeline = |r: &RunReport| r.timeline.iter().map(|p| p.total.requests).sum::<u64>();
    assert_eq!(timeline(&merged), seen, "merged requests = the server's");
    assert_eq!(parts.iter().map(timeline).sum::<u64>(), seen);
    // The window's figures and histograms are the shards' sums, bucket for bucket.
    for (e, ep) in merged.endpoints.iter().enumerate() {
        let theirs = sum(parts.iter().map(|p| p.endpoints[e].stats.latency.clone()));
        assert_eq!(buckets(&ep.stats.latency), buckets(&theirs), "{}", ep.name);
        assert!(!theirs.is_empty(), "{} was sent", ep.name);
        let requests: u64 = parts.iter().map(|p| p.endpoints[e].stats.requests).sum();
        assert_eq!(ep.stats.requests, requests, "{}", ep.name);
    }
    let total = sum(parts.iter().map(|p| p.total.latency.clone()));
    assert_eq!(buckets(&merged.total.latency), buckets(&total));
    // Each second's users add up to the profile's ramp: 3 users by 1 s, all 5 by 2 s.
    let users: Vec<u32> = merged.timeline.iter().take(5).map(|p| p.users).collect();
    assert_eq!(users, [3, 5, 5, 5, 5], "users per second");
    let mine: Vec<u32> = (0..n as usize)
        .map(|k| parts[k].timeline[0].users)
        .collect();
    assert_eq!(
        mine.iter().sum::<u32>(),
        3,
        "second 0 split between shards: {mine:?}"
    );
    let merged_info = merged.merged.as_ref().expect("a merged run says so");
    assert_eq!(merged_info.shards.len(), n as usize);
    assert!(
        merged_info.skew < Duration::from_millis(500),
        "{merged_info:?}"
    );
    let md = std::fs::read_to_string(dir.path().join("merged.md")).unwrap();
    assert!(
        md.contains(&format!("Merged from {n} shards of run it-shards")),
        "{md}"
    );

    // One process making the whole profile (same seed) decides every check the same way.
    let single_json = dir.path().join("single.json");
    let single = check(dir.path().join("profiles/ramp.toml"))
        .sla(dir.path().join("sla.toml"))
        .args(["--seed", "11", "--json"])
        .arg(&single_json)
        .run();
    assert_eq!(single.status.code(), Some(1), "{}", stdout(&single));
    let single = load(&single_json);
    assert_eq!(merged.outcome, RunOutcome::Fail);
    assert_eq!(decisions(&merged), decisions(&single));
    let (a, b) = (merged.total.requests as f64, single.total.requests as f64);
    assert!(
        (a - b).abs() <= 0.15 * b,
        "merged {a} and single {b} requests in the window"
    );
    let p50 = |r: &RunReport| r.endpoints[0].stats.quantile(0.5).unwrap().as_secs_f64();
    assert!(
        (p50(&merged) - p50(&single)).abs() <= 0.2 * p50(&single),
        "p50 {} against {}",
        p50(&merged),
        p50(&single)
    );
    let single_users: Vec<u32> = single.timeline.iter().take(5).map(|p| p.users).collect();
    assert_eq!(users, single_users, "the shards ramp as one process does");
}

#[test]
fn two_shards_merge_into_their_exact_sum() {
    shards_add_up(2, false);
}

#[test]
fn three_indexed_job_shards_merge_into_their_exact_sum() {
    shards_add_up(3, true);
}

#[test]
fn open_model_shards_keep_the_one_schedule() {
    let server = TestServer::start(Behaviour::Fixed(Duration::from_millis(15)));
    let dir = scratch(&server.url());
    let shards = run_shards(dir.path(), "open", 2, false);
    let out = merge(dir.path(), &[&shards[0].0, &shards[1].0]);
    let merged = load(&dir.path().join("merged.json"));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        merged.verdict.invalid.is_empty(),
        "{:?}",
        merged.verdict.invalid
    );
    let arrivals = merged.arrivals.as_ref().expect("an open run's arrivals");
    let d = arrivals.delivery;
    // The schedule asks 120/s of the whole: the shards together sent it.
    assert!(
        (d.sent + d.dropped) as f64 >= 0.99 * d.asked as f64 && d.asked >= 300,
        "{d:?}"
    );
    assert_eq!(
        arrivals.max_in_flight, 40,
        "the shards' caps add up to the profile's"
    );
    let timeline: u64 = merged.timeline.iter().map(|p| p.total.requests).sum();
    assert_eq!(timeline, server.requests());
    // Each shard made half of the arrivals, give or take the seconds' edges.
    for (path, _) in &shards {
        let part = load(path);
        let sent: u64 = part.timeline.iter().map(|p| p.arrivals).sum();
        let all: u64 = merged.timeline.iter().map(|p| p.arrivals).sum();
        assert!(sent.abs_diff(all / 2) <= 2, "{sent} of {all}");
    }
}

/// Rewrite one field of a saved shard (a JSON pointer) into a copy at `to`.
fn edited(from: &Path, to: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
    edit(&mut doc);
    std::fs::write(to, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    to.to_path_buf()
}

fn refused(out: &Output, says: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "refused:\n{err}{}", stdout(out));
    assert!(err.contains(says), "names why ({says}):\n{err}");
}

/// Shards that are not all of one run are refused, naming the shard; shards that ran, but
/// too far apart, make the merged run INVALID.
#[test]
fn shards_that_are_not_one_run_are_refused() {
    let server = TestServer::start(Behaviour::Fixed(Duration::from_millis(15)));
    let dir = scratch(&server.url());
    let shards = run_shards(dir.path(), "open", 3, false);
    let [s1, s2, s3] = [0, 1, 2].map(|i| shards[i].0.clone());
    let d = dir.path();

    refused(&merge(d, &[&s1, &s3]), "shard 2/3 of 3 is missing");
    refused(&merge(d, &[&s1, &s2, &s2, &s3]), "shard 2/3 is given twice");
    let other = edited(&s2, &d.join("other-profile.json"), |doc| {
        doc["provenance"]["profile_sha256"] = "0".repeat(64).into();
    });
    refused(&merge(d, &[&s1, &other, &s3]), "ran another profile");
    let other_run = edited(&s2, &d.join("other-run.json"), |doc| {
        doc["shard"]["run_id"] = "another".into();
    });
    refused(&merge(d, &[&s1, &other_run, &s3]), "of run id another");
    let later = edited(&s3, &d.join("later.json"), |doc| {
        for key in ["started_at", "finished_at"] {
            // An hour later: the same run id and profile, but not the same seconds.
            let t = doc[key].as_str().unwrap().to_string();
            let (date, time) = t.split_once('T').unwrap();
            let hour: u32 = time[..2].parse().unwrap();
            doc[key] = format!("{date}T{:02}{}", (hour + 1) % 24, &time[2..]).into();
        }
    });
    refused(&merge(d, &[&s1, &s2, &later]), "do not overlap");
    let out = merge(d, &[&s1, &s2, &s3]);
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    refused(&merge(d, &[&d.join("merged.json")]), "is not a shard");

    // Bad shard flags are exit 2 before any load.
    let profile = d.join("profiles/open.toml");
    let bad = |args: &[&str], says: &str| {
        let out = check(&profile)
            .sla(d.join("sla.toml"))
            .args(args)
            .env("JOB_COMPLETION_INDEX", "")
            .run();
        refused(&out, says);
    };
    bad(&["--shard", "1/2"], "needs --json");
    bad(
        &["--shard", "3/2", "--json", "x.json"],
        "K must be between 1 and N",
    );
    bad(
        &["--shard", "auto/2", "--json", "x.json"],
        "JOB_COMPLETION_INDEX",
    );
}

#[test]
fn shards_started_too_far_apart_make_the_run_invalid() {
    let server = TestServer::start(Behaviour::Fixed(Duration::from_millis(15)));
    let dir = scratch(&server.url());
    let d = dir.path();
    let children: Vec<_> = [(1, "+1s"), (2, "+3s")]
        .into_iter()
        .map(|(k, at)| {
            let json = d.join(format!("shards/shard-{k}.json"));
            let child = check(d.join("profiles/open.toml"))
                .sla(d.join("sla.toml"))
                .args(["--shard", &format!("{k}/2"), "--start-at", at])
                .args(["--run-id", "skewed", "--json"])
                .arg(&json)
                .spawn();
            (json, child)
        })
        .collect();
    let paths: Vec<PathBuf> = children
        .into_iter()
        .map(|(json, c)| {
            let out = c.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            json
        })
        .collect();
    let out = merge(d, &[&paths[0], &paths[1]]);
    assert_eq!(out.status.code(), Some(4), "INVALID:\n{}", stdout(&out));
    let merged = load(&d.join("merged.json"));
    let skew = merged
        .verdict
        .invalid
        .iter()
        .find(|i| i.cause == "skew")
        .unwrap_or_else(|| panic!("{:?}", merged.verdict.invalid));
    assert!(skew.figure.contains("apart"), "{}", skew.figure);
    assert!(stdout(&out).contains("RUN INVALID"), "{}", stdout(&out));
}
