//! The GitHub Action (`action.yml`), the workflows, workflow annotations and
//! `--wait-for-ready`.
//!
//! The YAML is parsed and cross-checked (inputs, outputs, steps, exit-code propagation). Then
//! the action's `run` steps are executed as the runner would run them (`bash --noprofile
//! --norc -eo pipefail`, with `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and the `${{ }}`
//! expressions substituted by a tiny evaluator below) against the fixture started in-process.
//! What needs GitHub is skipped and said so: the `uses:` steps (cache, artifact upload), and
//! `cargo install`, which a stub on PATH replaces with a copy of the binary under test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_yaml_ng::Value;
use slagate::fixture::{Fixture, Mode};

use crate::{check, repo, repo_sla, stderr, stdout};

fn yaml(file: &str) -> Value {
    let text = std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn steps(action: &Value) -> &Vec<Value> {
    action["runs"]["steps"].as_sequence().expect("runs.steps")
}

/// The steps of a workflow's first job.
fn job_steps(workflow: &Value) -> &Vec<Value> {
    let job = workflow["jobs"]
        .as_mapping()
        .and_then(|jobs| jobs.values().next())
        .expect("a job");
    job["steps"].as_sequence().expect("jobs.*.steps")
}

fn step<'a>(action: &'a Value, id: &str) -> &'a Value {
    steps(action)
        .iter()
        .find(|s| str_of(s, "id") == Some(id))
        .unwrap_or_else(|| panic!("no step `{id}`"))
}

/// Every `${{ … }}` expression in a string.
fn expressions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let end = rest[start..].find("}}").expect("unterminated ${{") + start;
        out.push(rest[start + 3..end].trim().to_string());
        rest = &rest[end + 2..];
    }
    out
}

/// Every string anywhere under a YAML value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(seq) => seq.iter().for_each(|x| strings(x, out)),
        Value::Mapping(m) => m.iter().for_each(|(k, x)| {
            strings(k, out);
            strings(x, out);
        }),
        _ => {}
    }
}

/// The names `prefix.NAME` used in expressions (and `if:` conditions, which are expressions
/// without the braces).
fn references(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices(prefix) {
        let name: String = text[i + prefix.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        out.push(name);
    }
    out
}

#[test]
fn action_inputs_outputs_and_steps_are_consistent() {
    let action = yaml("action.yml");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let inputs = action["inputs"].as_mapping().expect("inputs");
    let input_names: Vec<&str> = inputs.keys().filter_map(Value::as_str).collect();
    for name in [
        "profile", "sla", "host", "strict", "baseline", "repeat", "args", "version",
    ] {
        assert!(input_names.contains(&name), "input {name} missing");
    }
    assert_eq!(
        action["inputs"]["profile"]["required"].as_bool(),
        Some(true)
    );
    assert_eq!(
        str_of(&action["inputs"]["sla"], "default"),
        Some("sla.toml")
    );

    let mut all = Vec::new();
    strings(&action["runs"], &mut all);
    let text = all.join("\n");
    // Every input is used, and every input used exists.
    for name in &input_names {
        assert!(
            references(&text, "inputs.").contains(&name.to_string()),
            "input {name} is never used"
        );
    }
    for used in references(&text, "inputs.") {
        assert!(
            input_names.contains(&used.as_str()),
            "inputs.{used} is not declared"
        );
    }
    // Inputs reach scripts through env only: a `${{ }}` inside `run:` would paste a value
    // into shell code.
    for s in steps(&action) {
        if let Some(run) = str_of(s, "run") {
            assert!(expressions(run).is_empty(), "expression in a script: {run}");
            assert_eq!(
                str_of(s, "shell"),
                Some("bash"),
                "composite run steps need a shell"
            );
        }
    }

    // Every step referred to exists before the step that refers to it; every output read is
    // written by that step's script.
    let ids: Vec<&str> = steps(&action)
        .iter()
        .filter_map(|s| str_of(s, "id"))
        .collect();
    let written = |id: &str, output: &str| {
        str_of(step(&action, id), "run")
            .is_some_and(|run| run.contains(&format!("echo \"{output}=")))
    };
    for (i, s) in steps(&action).iter().enumerate() {
        let mut here = Vec::new();
        strings(s, &mut here);
        for r in references(&here.join("\n"), "steps.") {
            let pos = ids
                .iter()
                .position(|id| *id == r)
                .unwrap_or_else(|| panic!("no step {r}"));
            let defined_at = steps(&action)
                .iter()
                .position(|x| str_of(x, "id") == Some(ids[pos]))
                .unwrap();
            assert!(defined_at < i, "step {i} refers to the later step {r}");
        }
    }
    let outputs = action["outputs"].as_mapping().expect("outputs");
    for name in ["verdict", "report-json", "report-html"] {
        let value = str_of(&action["outputs"][name], "value").unwrap_or_else(|| panic!("{name}"));
        let expr = expressions(value);
        assert_eq!(expr.len(), 1, "{value}");
        let parts: Vec<&str> = expr[0].split('.').collect();
        assert!(matches!(parts[..], ["steps", _, "outputs", _]), "{value}");
        assert!(
            ids.contains(&parts[1]),
            "output {name}: no step {}",
            parts[1]
        );
        assert!(
            written(parts[1], parts[3]),
            "output {name}: step {} never writes {}",
            parts[1],
            parts[3]
        );
    }
    assert!(outputs.len() >= 3);

    // The exit code: recorded under `set +e`, reports uploaded whatever it was, then raised.
    let check = str_of(step(&action, "check"), "run").unwrap();
    let run_at = check.find("\"${cmd[@]}\"").expect("runs slagate");
    assert!(
        check[..run_at].lines().any(|l| l.trim() == "set +e"),
        "{check}"
    );
    assert!(check[run_at..].contains("code=$?"), "{check}");
    assert!(written("check", "exit-code"), "{check}");
    for flag in ["--json", "--html", "--junit", "--markdown"] {
        assert!(check.contains(flag), "{flag}");
    }
    let upload = steps(&action)
        .iter()
        .position(|s| {
            str_of(s, "uses").is_some_and(|u| u.starts_with("actions/upload-artifact@v4"))
        })
        .expect("an upload step");
    assert!(
        str_of(&steps(&action)[upload], "if")
            .unwrap()
            .contains("always()")
    );
    let gate = steps(&action)
        .iter()
        .position(|s| str_of(s, "id") == Some("gate"))
        .unwrap();
    assert!(gate > upload, "the step must fail only after the upload");
    let g = &steps(&action)[gate];
    assert!(str_of(g, "if").unwrap().contains("always()"));
    assert_eq!(
        str_of(&g["env"], "CODE"),
        Some("${{ steps.check.outputs.exit-code }}")
    );
    assert!(str_of(g, "run").unwrap().contains("exit \"$CODE\""));
    // The build is cached.
    assert!(
        steps(&action)
            .iter()
            .any(|s| str_of(s, "uses").is_some_and(|u| u.starts_with("actions/cache@")))
    );
}

#[test]
fn workflows_run_ci_and_gate_an_example_service_with_this_action() {
    let ci = yaml(".github/workflows/ci.yml");
    let mut ci_text = Vec::new();
    strings(&ci["jobs"], &mut ci_text);
    assert!(ci_text.iter().any(|s| s.contains(".ci/run")));
    let script = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    for gate in ["cargo fmt", "cargo clippy", "cargo test"] {
        assert!(script.contains(gate), "{gate}");
    }

    let example = yaml(".github/workflows/pre-merge-example.yml");
    assert!(
        example["on"].get("pull_request").is_some(),
        "runs on pull requests"
    );
    let steps = job_steps(&example);
    let start = steps
        .iter()
        .position(|s| {
            str_of(s, "run")
                .is_some_and(|r| r.contains("slagate fixture --port 8003") && r.contains('&'))
        })
        .expect("a step starts the fixture in the background");
    let gate = steps
        .iter()
        .position(|s| str_of(s, "uses") == Some("./"))
        .expect("a step uses this repository's action");
    assert!(start < gate);
    let with = &steps[gate]["with"];
    assert_eq!(str_of(with, "profile"), Some("smoke"));
    assert_eq!(str_of(with, "host"), Some("http://127.0.0.1:8003"));
    assert!(
        str_of(with, "args")
            .unwrap()
            .contains("--wait-for-ready 60s")
    );
    // Every input the workflow passes is one the action declares.
    let action = yaml("action.yml");
    for key in with.as_mapping().unwrap().keys() {
        let key = key.as_str().unwrap();
        assert!(
            action["inputs"].get(key).is_some(),
            "the action has no input {key}"
        );
    }
}

#[test]
fn the_readme_snippet_is_a_workflow_that_uses_the_action_correctly() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let section = &readme[readme
        .find("## Use it in a pull request")
        .expect("the section")..];
    let start = section.find("```yaml\n").expect("a yaml snippet") + "```yaml\n".len();
    let snippet = &section[start..start + section[start..].find("```").unwrap()];
    let workflow: Value = serde_yaml_ng::from_str(snippet).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(workflow["on"].as_str(), Some("pull_request"));
    let steps = job_steps(&workflow);
    let gate = steps
        .iter()
        .find(|s| str_of(s, "uses").is_some_and(|u| u.ends_with("/slagate@v1")))
        .expect("uses OWNER/slagate@v1");
    let action = yaml("action.yml");
    for key in gate["with"].as_mapping().unwrap().keys() {
        let key = key.as_str().unwrap();
        assert!(action["inputs"].get(key).is_some(), "no input {key}");
    }
    assert!(
        str_of(&gate["with"], "args")
            .unwrap()
            .contains("--wait-for-ready 60s")
    );
    // The service is started in the background before the gate.
    assert!(
        steps
            .iter()
            .any(|s| str_of(s, "run").is_some_and(|r| r.contains("&\n")))
    );
}

/// A run of the action's steps, outside GitHub.
struct ActionRun {
    /// Each step's outputs, by step id.
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// The action's own outputs (`outputs.*.value` evaluated).
    action_outputs: BTreeMap<String, String>,
    /// Exit status of each step that ran, by id or `uses:`; skipped ones are absent.
    statuses: Vec<(String, Option<i32>)>,
    stdout: String,
    summary: String,
    cargo_calls: String,
    /// The JSON report's bytes (its file goes with the temp dir).
    json: Vec<u8>,
}

struct Context {
    inputs: BTreeMap<String, String>,
    temp: PathBuf,
}

impl Context {
    /// One operand: `inputs.x`, `steps.id.outputs.y`, `github.*`, `runner.*`, or `'literal'`.
    fn operand(&self, e: &str, outputs: &BTreeMap<String, BTreeMap<String, String>>) -> String {
        let e = e.trim();
        if let Some(lit) = e.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return lit.to_string();
        }
        let parts: Vec<&str> = e.split('.').collect();
        match parts[..] {
            ["inputs", name] => self.inputs.get(name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => outputs
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default(),
            ["github", "action_path"] => repo().display().to_string(),
            ["github", "action_repository"] => String::new(),
            ["github", "repository"] => "example/slagate".into(),
            ["github", "server_url"] => "https://github.com".into(),
            ["github", "job"] => "sla-gate".into(),
            ["runner", "temp"] => self.temp.display().to_string(),
            ["runner", "os"] => "Linux".into(),
            _ => panic!("the test's evaluator does not know `{e}`: extend it"),
        }
    }

    /// `a || b || …`: the first non-empty operand, as GitHub's `||` on strings.
    fn eval(&self, e: &str, outputs: &BTreeMap<String, BTreeMap<String, String>>) -> String {
        e.split("||")
            .map(|o| self.operand(o, outputs))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    }

    fn substitute(
        &self,
        text: &str,
        outputs: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> String {
        let mut out = text.to_string();
        for e in expressions(text) {
            let value = self.eval(&e, outputs);
            // The expression as written, whatever its inner spacing.
            let start = out.find("${{").unwrap();
            let end = out[start..].find("}}").unwrap() + start + 2;
            out.replace_range(start..end, &value);
        }
        out
    }

    /// An `if:` of `always()` and `steps.id.outputs.x != ''` terms joined by `&&`.
    fn condition(
        &self,
        cond: &str,
        failed: bool,
        outputs: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> bool {
        let mut always = false;
        let mut ok = true;
        for term in cond.split("&&").map(str::trim) {
            if term == "always()" {
                always = true;
            } else if let Some(lhs) = term.strip_suffix("!= ''") {
                ok &= !self.operand(lhs, outputs).is_empty();
            } else {
                panic!("the test's evaluator does not know the condition `{term}`");
            }
        }
        ok && (always || !failed)
    }
}

/// Run every step of action.yml with these inputs (the action's defaults filled in).
fn run_action(with: &[(&str, &str)]) -> ActionRun {
    let action = yaml("action.yml");
    let temp = tempfile::tempdir().unwrap();
    let mut inputs = BTreeMap::new();
    for (k, v) in action["inputs"].as_mapping().unwrap() {
        let default = str_of(v, "default").unwrap_or_default();
        inputs.insert(k.as_str().unwrap().to_string(), default.to_string());
    }
    for (k, v) in with {
        assert!(inputs.contains_key(*k), "no input {k}");
        inputs.insert(k.to_string(), v.to_string());
    }
    let ctx = Context {
        inputs,
        temp: temp.path().to_path_buf(),
    };

    // `cargo install` is replaced by a stub that logs its arguments and copies the binary
    // under test into `--root`/bin.
    let stubs = temp.path().join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let cargo_log = temp.path().join("cargo.log");
    let stub = format!(
        "#!/usr/bin/env bash\necho \"$*\" >> '{log}'\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --root ]; then root=$2; fi\n  shift\ndone\nmkdir -p \"$root/bin\"\ncp '{bin}' \"$root/bin/slagate\"\n",
        log = cargo_log.display(),
        bin = env!("CARGO_BIN_EXE_slagate"),
    );
    let cargo = stubs.join("cargo");
    std::fs::write(&cargo, stub).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_slagate")).parent().unwrap();
    let path = format!(
        "{}:{}:{}",
        stubs.display(),
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let summary = temp.path().join("step_summary.md");

    let mut run = ActionRun {
        outputs: BTreeMap::new(),
        action_outputs: BTreeMap::new(),
        statuses: Vec::new(),
        stdout: String::new(),
        summary: String::new(),
        cargo_calls: String::new(),
        json: Vec::new(),
    };
    let mut failed = false;
    for (i, s) in steps(&action).iter().enumerate() {
        let name = str_of(s, "id")
            .or_else(|| str_of(s, "uses"))
            .unwrap_or("?")
            .to_string();
        let should_run = match str_of(s, "if") {
            Some(cond) => ctx.condition(cond, failed, &run.outputs),
            None => !failed,
        };
        let Some(script) = str_of(s, "run").filter(|_| should_run) else {
            // A `uses:` step needs GitHub (the cache and artifact services): skipped.
            run.statuses.push((name, None));
            continue;
        };
        let script_file = temp.path().join(format!("step{i}.sh"));
        std::fs::write(&script_file, ctx.substitute(script, &run.outputs)).unwrap();
        let output_file = temp.path().join(format!("output{i}"));
        std::fs::write(&output_file, "").unwrap();
        let mut cmd = Command::new("bash");
        // What GitHub runs for `shell: bash`.
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(repo())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", repo())
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_PATH", temp.path().join("github_path"))
            .env("RUNNER_TEMP", temp.path())
            .stdin(Stdio::null());
        if let Some(env) = s.get("env").and_then(Value::as_mapping) {
            for (k, v) in env {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => serde_yaml_ng::to_string(other).unwrap().trim().to_string(),
                };
                cmd.env(k.as_str().unwrap(), ctx.substitute(&v, &run.outputs));
            }
        }
        let out = cmd.output().unwrap();
        run.stdout.push_str(&String::from_utf8_lossy(&out.stdout));
        let mut outputs = BTreeMap::new();
        for line in std::fs::read_to_string(&output_file).unwrap().lines() {
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("bad output line {line}"));
            outputs.insert(k.to_string(), v.to_string());
        }
        if let Some(id) = str_of(s, "id") {
            run.outputs.insert(id.to_string(), outputs);
        }
        assert!(
            out.status.success() || str_of(s, "id") == Some("gate"),
            "step {name} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        failed |= !out.status.success();
        run.statuses.push((name, out.status.code()));
    }
    for (k, v) in action["outputs"].as_mapping().unwrap() {
        let value = ctx.substitute(str_of(v, "value").unwrap(), &run.outputs);
        run.action_outputs
            .insert(k.as_str().unwrap().to_string(), value);
    }
    run.summary = std::fs::read_to_string(&summary).unwrap_or_default();
    run.cargo_calls = std::fs::read_to_string(&cargo_log).unwrap_or_default();
    // The reports live in the temp dir: check them before it goes.
    for key in ["report-json", "report-html"] {
        if let Some(p) = run.action_outputs.get(key).filter(|p| !p.is_empty()) {
            let len = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            assert!(len > 0, "{key} {p} is missing or empty");
        }
    }
    if let Some(p) = run
        .action_outputs
        .get("report-json")
        .filter(|p| !p.is_empty())
    {
        run.json = std::fs::read(p).unwrap();
    }
    let junit = temp.path().join("slagate-reports/junit.xml");
    if run.action_outputs["verdict"] != "not-run" {
        assert!(
            std::fs::metadata(junit).is_ok_and(|m| m.len() > 0),
            "no JUnit report"
        );
    }
    run
}

/// The example workflow's `with:` for the gate step, pointed at `url` and kept short (`-t
/// 20s` → 4 s with 10 users, as busy as the e2e suite's smoke run, so that every endpoint is
/// sampled): the test proves the steps work, not how long they take.
fn example_inputs(url: &str) -> Vec<(String, String)> {
    let example = yaml(".github/workflows/pre-merge-example.yml");
    let job = example["jobs"]
        .as_mapping()
        .unwrap()
        .values()
        .next()
        .unwrap();
    let gate = job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| str_of(s, "uses") == Some("./"))
        .unwrap();
    gate["with"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let k = k.as_str().unwrap().to_string();
            let v = v.as_str().unwrap().to_string();
            let v = match k.as_str() {
                "host" => url.to_string(),
                "args" => v.replace("-t 20s", "-u 10 -r 100 -t 4s"),
                _ => v,
            };
            (k, v)
        })
        .collect()
}

fn with_refs(inputs: &[(String, String)]) -> Vec<(&str, &str)> {
    inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn the_example_workflow_gates_a_healthy_fixture_locally() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let inputs = example_inputs(&fixture.base_url());
    assert!(
        inputs
            .iter()
            .any(|(k, v)| k == "args" && v.contains("--wait-for-ready 60s -u 10 -r 100 -t 4s")),
        "{inputs:?}"
    );
    let run = run_action(&with_refs(&inputs));

    // The install step built from the action's own checkout, once.
    assert_eq!(run.cargo_calls.lines().count(), 1, "{}", run.cargo_calls);
    assert!(
        run.cargo_calls.contains("install --locked --force --root")
            && run
                .cargo_calls
                .contains(&format!("--path {}", repo().display())),
        "{}",
        run.cargo_calls
    );
    let check = &run.outputs["check"];
    assert_eq!(check["exit-code"], "0", "{}", run.stdout);
    // A 4 s smoke run can leave some percentiles undecided: without --strict that passes.
    let verdict = &run.action_outputs["verdict"];
    assert!(verdict == "pass" || verdict == "inconclusive", "{verdict}");
    assert!(run.action_outputs["report-json"].ends_with("report.json"));
    assert!(run.action_outputs["report-html"].ends_with("report.html"));
    assert_eq!(run.action_outputs["exit-code"], "0");
    assert_eq!(check["artifact"], "slagate-sla-gate-smoke");
    assert!(run.stdout.contains("slagate: verdict "), "{}", run.stdout);
    // slagate wrote the step summary itself.
    assert!(run.summary.contains("smoke"), "{}", run.summary);
    // The uses: steps were skipped, every run step ran, the gate passed.
    let ran: Vec<(&str, Option<i32>)> =
        run.statuses.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    assert_eq!(
        ran,
        [
            ("key", Some(0)),
            ("actions/cache@v4", None),
            ("install", Some(0)),
            ("check", Some(0)),
            ("actions/upload-artifact@v4", None),
            ("gate", Some(0)),
        ]
    );
    assert!(fixture.requests_served() > 0);
}

#[test]
fn a_failing_check_fails_the_gate_with_exit_1_after_the_reports() {
    let fixture = Fixture::start(0, Mode::Degraded).unwrap();
    let url = fixture.base_url();
    // The e2e suite's busy smoke run, which the degraded fixture fails.
    let run = run_action(&[
        ("profile", "smoke"),
        ("host", &url),
        ("args", "--wait-for-ready 10s -u 10 -r 100 -t 6s"),
        ("artifact-name", "reports/degraded: run"),
    ]);
    assert_eq!(run.action_outputs["verdict"], "fail", "{}", run.stdout);
    assert_eq!(run.action_outputs["exit-code"], "1");
    assert_eq!(run.statuses.last().unwrap(), &("gate".to_string(), Some(1)));
    assert!(
        run.stdout
            .contains("the SLA gate failed (verdict fail, exit code 1)")
    );
    // Annotations were printed for the runner to pick up.
    assert!(
        run.stdout.contains("::error file=sla.toml,line="),
        "{}",
        run.stdout
    );
    assert_eq!(run.outputs["check"]["artifact"], "reports-degraded--run");
}

#[test]
fn baseline_and_repeat_are_passed_through_when_set() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let url = fixture.base_url();
    let args = "-u 10 -r 100 -t 2s";
    let base = run_action(&[("profile", "smoke"), ("host", &url), ("args", args)]);
    assert!(!base.stdout.contains("--baseline"), "{}", base.stdout);
    assert!(!base.stdout.contains("--repeat"), "{}", base.stdout);
    let dir = tempfile::tempdir().unwrap();
    let base_json = dir.path().join("base.json");
    std::fs::write(&base_json, &base.json).unwrap();
    let head = run_action(&[
        ("profile", "smoke"),
        ("host", &url),
        ("args", args),
        ("baseline", base_json.to_str().unwrap()),
        ("repeat", "2"),
    ]);
    let command = head
        .stdout
        .lines()
        .find(|l| l.starts_with("+ "))
        .expect("the command is echoed");
    assert!(
        command.contains(&format!("--baseline {} --repeat 2", base_json.display())),
        "{command}"
    );
    // slagate accepted both (2 would be a usage error) and made the run.
    let code = &head.action_outputs["exit-code"];
    assert_ne!(code, "2", "{}", head.stdout);
    assert_ne!(head.action_outputs["verdict"], "not-run", "{}", head.stdout);
}

#[test]
fn an_unreachable_target_is_not_run_and_exits_3() {
    let url = crate::server::unused_port_url();
    let run = run_action(&[
        ("profile", "smoke"),
        ("host", &url),
        ("args", "--wait-for-ready 1s"),
        ("strict", "true"),
    ]);
    assert_eq!(run.action_outputs["verdict"], "not-run");
    assert_eq!(run.action_outputs["report-json"], "");
    assert_eq!(run.action_outputs["exit-code"], "3");
    assert_eq!(run.statuses.last().unwrap(), &("gate".to_string(), Some(3)));
}

#[test]
fn a_cached_build_is_not_rebuilt() {
    // The install step on a runner.temp restored from the cache: with the binary and its key
    // it calls no cargo; with another key (new sources) it rebuilds. Here cargo is a stub
    // that records the call and fails, so only its absence lets the step pass.
    let action = yaml("action.yml");
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("slagate-root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_slagate"), root.join("bin/slagate")).unwrap();
    std::fs::write(root.join(".key"), "slagate-Linux-abc\n").unwrap();
    let stubs = temp.path().join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let called = temp.path().join("cargo-called");
    let cargo = stubs.join("cargo");
    std::fs::write(
        &cargo,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", called.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let install = str_of(step(&action, "install"), "run").unwrap();
    let run = |key: &str| {
        Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", install])
            .env("ROOT", &root)
            .env("KEY", key)
            .env("VERSION", "")
            .env("ACTION_PATH", repo())
            .env("GITHUB_OUTPUT", temp.path().join("out"))
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let out = run("slagate-Linux-abc");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("using the cached build"),
        "{}",
        stdout(&out)
    );
    assert!(!called.exists());
    let out = run("slagate-Linux-def");
    assert!(!out.status.success());
    assert!(called.exists(), "a new key must rebuild");
}

/// The line of sla.toml holding the `/analysis/` budget.
fn analysis_budget_line() -> usize {
    let text = std::fs::read_to_string(repo_sla()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let name = lines
        .iter()
        .position(|l| l.trim() == "name = \"/analysis/\"")
        .expect("/analysis/ in sla.toml");
    name + lines[name..]
        .iter()
        .position(|l| l.starts_with("budget = {") && l.contains("p99"))
        .unwrap()
        + 1
}

#[test]
fn failing_budgets_are_annotated_at_their_line_in_github_actions() {
    let line = analysis_budget_line();
    assert_eq!(
        line, 32,
        "sla.toml moved: update the README's example annotation"
    );
    let fixture = Fixture::start(0, Mode::Degraded).unwrap();
    let url = fixture.base_url();
    let smoke = || {
        check(crate::quick_profile())
            .host(&url)
            .users(10)
            .spawn_rate(100)
            .run_time("6s")
    };
    let out = smoke()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", repo())
        .run();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    let p99 = format!("::error file=sla.toml,line={line},");
    let annotation = text
        .lines()
        .find(|l| l.starts_with(&p99) && l.contains("title=SLA FAIL%3A /analysis/ p99 < 2 s::"))
        .unwrap_or_else(|| panic!("no {p99}… for /analysis/ p99:\n{text}"));
    // col points at the p99 value on that line.
    let sla = std::fs::read_to_string(repo_sla()).unwrap();
    let budget = sla.lines().nth(line - 1).unwrap();
    let col = budget.find("p99 = ").unwrap() + "p99 = ".len() + 1;
    assert!(annotation.contains(&format!(",col={col},")), "{annotation}");
    assert!(annotation.contains(" vs budget < 2 s"), "{annotation}");
    // The error rate fails too: an error annotation at the level's line. One annotation per
    // failing check: with few /analysis/ samples in a short window (a busy machine), its one
    // slow answer can fail p95 as well as p99.
    let annotations = text.lines().filter(|l| l.starts_with("::error ")).count();
    assert!(annotations >= 2, "{text}");
    assert_eq!(annotations, crate::failing_rows(&text).len(), "{text}");

    // Outside GitHub Actions (`check` removes its variables), no workflow commands.
    let out = smoke().run();
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout(&out).contains("::error"), "{}", stdout(&out));
}

#[test]
fn wait_for_ready_gives_up_with_one_line_and_exit_3() {
    let url = crate::server::unused_port_url();
    let out = check("smoke")
        .host(&url)
        .args(["--wait-for-ready", "600ms"])
        .run_time("2s")
        .run();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].contains("waiting up to 600ms"), "{err}");
    assert!(
        lines[1].contains("did not answer within 600ms") && lines[1].contains("refused"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn wait_for_ready_waits_for_a_service_that_starts_late() {
    let url = crate::server::unused_port_url();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let mut child = check("smoke")
        .host(&url)
        .args(["--wait-for-ready", "60s"])
        .users(2)
        .spawn_rate(100)
        .run_time("2s")
        .spawn();
    // Start the service only once slagate says it is waiting: it has found nothing there.
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut err, &mut first).unwrap();
    assert!(first.contains("waiting up to 1m"), "{first}");
    let fixture = Fixture::start(port, Mode::Healthy).expect("the port is still free");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = child.wait().unwrap();
    // The verdict of a 2 s run does not matter here, only that the run was made (3: not run).
    assert_ne!(status.code(), Some(3), "{rest}");
    assert!(rest.contains("slagate: profile smoke"), "{rest}");
    assert!(fixture.requests_served() > 0, "{rest}");
}
