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
        "profile", "sla", "host", "strict", "baseline", "repeat", "args", "version", "mode",
        "shard", "start-at", "run-id", "shards",
    ] {
        assert!(input_names.contains(&name), "input {name} missing");
    }
    // `profile` is not `required`: merge and install mode have none. Check mode refuses to
    // run without one (check_mode_needs_a_profile_and_takes_no_shards).
    assert_eq!(str_of(&action["inputs"]["mode"], "default"), Some("check"));
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
    // into shell code. Nor is an input read anywhere else (a `with:` or an `if:`): each is
    // exactly the value of an env variable.
    for s in steps(&action) {
        let mut outside_env = Vec::new();
        for (key, value) in s.as_mapping().unwrap() {
            if key.as_str() != Some("env") {
                strings(value, &mut outside_env);
            }
        }
        let outside_env = outside_env.join("\n");
        assert!(
            references(&outside_env, "inputs.").is_empty(),
            "an input read outside env: {outside_env}"
        );
        for value in s
            .get("env")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(|env| env.values())
        {
            let value = value.as_str().unwrap();
            if !references(value, "inputs.").is_empty() {
                let expr = expressions(value);
                assert!(
                    expr.len() == 1 && value == format!("${{{{ {} }}}}", expr[0]),
                    "an input passed as part of a value: {value}"
                );
            }
        }
    }
    // Every input reaches the script that runs slagate (or, for `version`, the install).
    let check_env = &step(&action, "check")["env"];
    let install_env = &step(&action, "install")["env"];
    for name in &input_names {
        let wanted = format!("${{{{ inputs.{name} }}}}");
        let passed = |env: &Value| {
            env.as_mapping()
                .unwrap()
                .values()
                .any(|v| v.as_str() == Some(wanted.as_str()))
        };
        assert!(
            passed(check_env) || (*name == "version" && passed(install_env)),
            "input {name} does not reach the check step's env"
        );
    }
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
    stderr: String,
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
        stderr: String::new(),
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
        run.stderr.push_str(&String::from_utf8_lossy(&out.stderr));
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
    // A shard writes its JSON only; install mode runs nothing (no verdict).
    let verdict = &run.action_outputs["verdict"];
    let shard = run.action_outputs["report-json"].contains("/shard-");
    if !shard && !["not-run", ""].contains(&verdict.as_str()) {
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

/// What the `check` step's script did with a slagate stub in place of slagate.
struct StepRun {
    code: Option<i32>,
    outputs: BTreeMap<String, String>,
    stdout: String,
    /// The stub's arguments, or None when the script never called it.
    argv: Option<Vec<String>>,
    reports: PathBuf,
    _temp: tempfile::TempDir,
}

/// The `check` step's script alone, its env evaluated from these inputs (the action's
/// defaults filled in) and `extra_env`, with slagate replaced by a stub that records its
/// arguments, writes `{"verdict": VERDICT}` at its `--json` path (none when VERDICT is empty)
/// and exits CODE: how every input becomes slagate's command line and the step's outputs,
/// for modes whose CLI this test binary need not have.
fn run_check_step(
    with: &[(&str, &str)],
    extra_env: &[(&str, &str)],
    verdict: &str,
    code: i32,
) -> StepRun {
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
    let argv_file = temp.path().join("argv");
    let stub = temp.path().join("slagate");
    std::fs::write(
        &stub,
        format!(
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > '{argv}'\njson=\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --json ]; then json=$2; fi\n  shift\ndone\nif [ -n \"$json\" ] && [ -n '{verdict}' ]; then\n  printf '{{\\n  \"verdict\": \"%s\"\\n}}\\n' '{verdict}' > \"$json\"\nfi\nexit {code}\n",
            argv = argv_file.display(),
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut outputs = BTreeMap::new();
    outputs.insert(
        "install".to_string(),
        BTreeMap::from([("bin".to_string(), stub.display().to_string())]),
    );
    let check = step(&action, "check");
    let output_file = temp.path().join("output");
    std::fs::write(&output_file, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
        .arg(str_of(check, "run").unwrap())
        .current_dir(repo())
        .env_remove("JOB_COMPLETION_INDEX")
        .env("GITHUB_OUTPUT", &output_file)
        .stdin(Stdio::null());
    for (k, v) in check["env"].as_mapping().unwrap() {
        cmd.env(
            k.as_str().unwrap(),
            ctx.substitute(v.as_str().unwrap(), &outputs),
        );
    }
    cmd.envs(extra_env.iter().copied());
    let out = cmd.output().unwrap();
    let mut step_outputs = BTreeMap::new();
    for line in std::fs::read_to_string(&output_file).unwrap().lines() {
        let (k, v) = line.split_once('=').unwrap();
        step_outputs.insert(k.to_string(), v.to_string());
    }
    let argv = std::fs::read_to_string(&argv_file)
        .ok()
        .map(|a| a.lines().map(str::to_string).collect());
    StepRun {
        code: out.status.code(),
        outputs: step_outputs,
        stdout: stdout(&out),
        argv,
        reports: temp.path().join("slagate-reports"),
        _temp: temp,
    }
}

impl StepRun {
    fn argv(&self) -> Vec<String> {
        self.argv
            .clone()
            .unwrap_or_else(|| panic!("slagate was not called: {}", self.stdout))
    }

    fn report(&self, name: &str) -> String {
        self.reports.join(name).display().to_string()
    }

    /// Refused by the script itself: exit 2 with an error annotation, slagate never called.
    fn assert_refused(&self, why: &str) {
        assert_eq!(self.code, Some(2), "{}", self.stdout);
        assert!(
            self.stdout.contains("::error title=slagate::") && self.stdout.contains(why),
            "{}",
            self.stdout
        );
        assert!(self.argv.is_none(), "slagate was called: {:?}", self.argv);
        assert!(
            !self.outputs.contains_key("exit-code"),
            "{:?}",
            self.outputs
        );
    }
}

#[test]
fn check_mode_without_a_shard_writes_every_format_as_before() {
    let run = run_check_step(
        &[("profile", "smoke"), ("host", "http://127.0.0.1:9")],
        &[],
        "pass",
        0,
    );
    assert_eq!(
        run.argv(),
        [
            "check",
            "--profile",
            "smoke",
            "--sla",
            "sla.toml",
            "--json",
            &run.report("report.json"),
            "--html",
            &run.report("report.html"),
            "--junit",
            &run.report("junit.xml"),
            "--markdown",
            &run.report("summary.md"),
            "--host",
            "http://127.0.0.1:9",
        ]
    );
    assert_eq!(run.outputs["verdict"], "pass");
    assert_eq!(run.outputs["report-html"], run.report("report.html"));
    assert_eq!(run.outputs["artifact"], "slagate-sla-gate-smoke");
}

#[test]
fn args_are_split_over_every_line() {
    let run = run_check_step(
        &[
            ("profile", "smoke"),
            ("args", "-t 2m\n--wait-for-ready  60s\n"),
        ],
        &[],
        "pass",
        0,
    );
    let argv = run.argv();
    assert_eq!(
        argv[argv.len() - 4..],
        ["-t", "2m", "--wait-for-ready", "60s"]
    );
}

#[test]
fn a_shard_writes_only_shard_k_of_n_json_with_the_shard_flags() {
    let run = run_check_step(
        &[
            ("profile", "medium"),
            ("host", "https://staging.example.com"),
            ("shard", "2/4"),
            ("start-at", "2026-12-02T18:30:00Z"),
            ("run-id", "123-1"),
        ],
        &[],
        "pass",
        0,
    );
    let json = run.report("shard-2-of-4.json");
    assert_eq!(
        run.argv(),
        [
            "check",
            "--profile",
            "medium",
            "--sla",
            "sla.toml",
            "--shard",
            "2/4",
            "--json",
            &json,
            "--host",
            "https://staging.example.com",
            "--start-at",
            "2026-12-02T18:30:00Z",
            "--run-id",
            "123-1",
        ]
    );
    assert_eq!(run.outputs["exit-code"], "0");
    assert_eq!(run.outputs["report-json"], json);
    assert!(
        !run.outputs.contains_key("report-html"),
        "{:?}",
        run.outputs
    );
    // A shard judges nothing: the step says it ran, and merge gives the verdict.
    assert_eq!(run.outputs["verdict"], "ran");
    assert_eq!(
        run.outputs["artifact"],
        "slagate-sla-gate-medium-shard-2-of-4"
    );
    assert!(!run.stdout.contains("::warning"), "{}", run.stdout);
}

#[test]
fn every_leg_of_a_matrix_has_its_own_file_and_artifact() {
    let mut files = Vec::new();
    let mut artifacts = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let run = run_check_step(&[("profile", "smoke"), ("shard", &shard)], &[], "pass", 0);
        let json = Path::new(&run.outputs["report-json"]);
        files.push(json.file_name().unwrap().to_string_lossy().into_owned());
        artifacts.push(run.outputs["artifact"].clone());
        // The reports folder holds the shard's file alone: a merge job that downloads every
        // leg's artifact into one folder gets the shards and nothing that could collide.
        let listed: Vec<_> = std::fs::read_dir(&run.reports)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(listed, [files[k - 1].clone()]);
    }
    assert_eq!(
        files,
        [
            "shard-1-of-3.json",
            "shard-2-of-3.json",
            "shard-3-of-3.json"
        ]
    );
    artifacts.sort();
    artifacts.dedup();
    assert_eq!(artifacts.len(), 3, "{artifacts:?}");
}

#[test]
fn an_auto_shard_is_named_by_job_completion_index_plus_one() {
    let run = run_check_step(
        &[("profile", "smoke"), ("shard", "auto/4")],
        &[("JOB_COMPLETION_INDEX", "2")],
        "pass",
        0,
    );
    let argv = run.argv();
    assert!(
        argv.windows(2).any(|w| w == ["--shard", "auto/4"]),
        "{argv:?}"
    );
    assert_eq!(run.outputs["report-json"], run.report("shard-3-of-4.json"));
    // Without a numeric index slagate could not name its shard either: refused first.
    for index in [None, Some(""), Some("two")] {
        let env: Vec<(&str, &str)> = index
            .map(|i| ("JOB_COMPLETION_INDEX", i))
            .into_iter()
            .collect();
        run_check_step(
            &[("profile", "smoke"), ("shard", "auto/4")],
            &env,
            "pass",
            0,
        )
        .assert_refused("needs JOB_COMPLETION_INDEX");
    }
}

#[test]
fn a_malformed_shard_is_refused_before_slagate_runs() {
    for shard in ["2", "2-4", "2/", "/4", "two/4", "2/4/8", " 2/4"] {
        run_check_step(&[("profile", "smoke"), ("shard", shard)], &[], "pass", 0)
            .assert_refused("input shard must be K/N or auto/N");
    }
}

#[test]
fn a_relative_start_at_on_a_shard_is_warned_about() {
    let run = run_check_step(
        &[("profile", "smoke"), ("shard", "1/2"), ("start-at", "+30s")],
        &[],
        "pass",
        0,
    );
    assert!(
        run.stdout
            .contains("::warning title=slagate::start-at +30s"),
        "{}",
        run.stdout
    );
    assert!(run.argv().windows(2).any(|w| w == ["--start-at", "+30s"]));
}

#[test]
fn a_shard_that_could_not_run_is_not_run_and_keeps_its_code() {
    let run = run_check_step(&[("profile", "smoke"), ("shard", "1/2")], &[], "not-run", 3);
    assert_eq!(run.outputs["exit-code"], "3");
    assert_eq!(run.outputs["verdict"], "not-run");
    assert!(!run.outputs.contains_key("report-json"));
    // Its not-run document is still uploaded, for merge to refuse by name.
    assert_eq!(run.outputs["reports"], run.reports.display().to_string());
}

#[test]
fn merge_mode_merges_every_shard_given_and_gates_on_its_code() {
    let run = run_check_step(
        &[
            ("mode", "merge"),
            (
                "shards",
                "shards/\n  extra/shard-1-of-4.json  profiles/*.toml",
            ),
            ("strict", "true"),
            ("args", "--max-skew 2s"),
        ],
        &[],
        "fail",
        1,
    );
    assert_eq!(
        run.argv(),
        [
            "merge",
            "shards/",
            "extra/shard-1-of-4.json",
            // Passed as written, never expanded against the runner's files (this one matches).
            "profiles/*.toml",
            "--sla",
            "sla.toml",
            "--json",
            &run.report("report.json"),
            "--html",
            &run.report("report.html"),
            "--junit",
            &run.report("junit.xml"),
            "--markdown",
            &run.report("summary.md"),
            "--strict",
            "--max-skew",
            "2s",
        ]
    );
    assert_eq!(run.outputs["exit-code"], "1");
    assert_eq!(run.outputs["verdict"], "fail");
    assert_eq!(run.outputs["report-json"], run.report("report.json"));
    assert_eq!(run.outputs["report-html"], run.report("report.html"));
    assert_eq!(run.outputs["artifact"], "slagate-sla-gate-merge");
    let named = run_check_step(
        &[
            ("mode", "merge"),
            ("shards", "shards"),
            ("profile", "medium"),
        ],
        &[],
        "pass",
        0,
    );
    assert_eq!(named.outputs["artifact"], "slagate-sla-gate-merge-medium");
    assert_eq!(named.outputs["verdict"], "pass");
}

#[test]
fn merge_mode_refuses_what_belongs_to_check_mode() {
    run_check_step(&[("mode", "merge")], &[], "pass", 0)
        .assert_refused("merge mode needs input shards");
    run_check_step(&[("mode", "merge"), ("shards", " \n ")], &[], "pass", 0)
        .assert_refused("merge mode needs input shards");
    for input in ["shard", "start-at", "run-id", "host", "baseline", "repeat"] {
        run_check_step(
            &[("mode", "merge"), ("shards", "shards"), (input, "1/2")],
            &[],
            "pass",
            0,
        )
        .assert_refused(&format!("input {input} is for check mode"));
    }
}

#[test]
fn check_mode_needs_a_profile_and_takes_no_shards() {
    run_check_step(&[], &[], "pass", 0).assert_refused("input profile is required");
    run_check_step(
        &[("profile", "smoke"), ("shards", "shards")],
        &[],
        "pass",
        0,
    )
    .assert_refused("input shards is for merge mode");
    run_check_step(&[("profile", "smoke"), ("mode", "judge")], &[], "pass", 0)
        .assert_refused("input mode must be check, merge or install");
}

#[test]
fn install_mode_builds_and_runs_nothing() {
    let run = run_action(&[("mode", "install")]);
    assert_eq!(run.cargo_calls.lines().count(), 1, "{}", run.cargo_calls);
    let ran: Vec<(&str, Option<i32>)> =
        run.statuses.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    // No code recorded: neither an upload nor a gate.
    assert_eq!(
        ran,
        [
            ("key", Some(0)),
            ("actions/cache@v4", None),
            ("install", Some(0)),
            ("check", Some(0)),
            ("actions/upload-artifact@v4", None),
            ("gate", None),
        ]
    );
    assert!(
        run.stdout.contains("mode install: nothing is run"),
        "{}",
        run.stdout
    );
    assert_eq!(run.action_outputs["exit-code"], "");
    let binary = &run.action_outputs["binary"];
    assert!(binary.ends_with("slagate-root/bin/slagate"), "{binary}");
}

/// An RFC 3339 instant `secs` from now: a start-at every leg of a run shares.
fn instant_in(secs: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::SystemTime::now() + std::time::Duration::from_secs(secs),
    )
    .to_string()
}

/// N shard legs of the smoke profile against `url`, at once (each a run of the Action's
/// steps, as a matrix leg would make it), then a folder holding every leg's JSON, as the
/// merge job's download leaves it.
fn shard_legs(url: &str, n: usize, args: &str) -> (Vec<ActionRun>, tempfile::TempDir) {
    let start_at = instant_in(4);
    let legs: Vec<ActionRun> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=n)
            .map(|k| {
                let start_at = &start_at;
                scope.spawn(move || {
                    let shard = format!("{k}/{n}");
                    run_action(&[
                        ("profile", "smoke"),
                        ("host", url),
                        ("shard", &shard),
                        ("start-at", start_at),
                        ("run-id", "local-1"),
                        ("args", args),
                    ])
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let folder = tempfile::tempdir().unwrap();
    for (i, leg) in legs.iter().enumerate() {
        let k = i + 1;
        assert_eq!(
            leg.action_outputs["exit-code"], "0",
            "leg {k}: {}\n{}",
            leg.stdout, leg.stderr
        );
        assert_eq!(leg.action_outputs["verdict"], "ran", "leg {k}");
        let json = Path::new(&leg.action_outputs["report-json"]);
        assert_eq!(
            json.file_name().unwrap().to_str(),
            Some(format!("shard-{k}-of-{n}.json").as_str())
        );
        assert_eq!(leg.action_outputs["report-html"], "");
        std::fs::write(folder.path().join(json.file_name().unwrap()), &leg.json).unwrap();
    }
    (legs, folder)
}

#[test]
fn shard_legs_and_a_merge_gate_a_healthy_fixture_locally() {
    let fixture = Fixture::start(0, Mode::Healthy).unwrap();
    let (legs, folder) = shard_legs(&fixture.base_url(), 2, "-u 10 -r 100 -t 4s");
    for leg in &legs {
        assert_eq!(leg.statuses.last().unwrap(), &("gate".to_string(), Some(0)));
    }
    let merged = run_action(&[
        ("mode", "merge"),
        ("shards", folder.path().to_str().unwrap()),
        ("profile", "smoke"),
    ]);
    let code = &merged.action_outputs["exit-code"];
    assert_eq!(code, "0", "{}\n{}", merged.stdout, merged.stderr);
    let verdict = &merged.action_outputs["verdict"];
    assert!(verdict == "pass" || verdict == "inconclusive", "{verdict}");
    assert!(merged.action_outputs["report-json"].ends_with("report.json"));
    assert!(merged.action_outputs["report-html"].ends_with("report.html"));
    assert_eq!(
        merged.outputs["check"]["artifact"],
        "slagate-sla-gate-merge-smoke"
    );
    assert_eq!(
        merged.statuses.last().unwrap(),
        &("gate".to_string(), Some(0))
    );
    // The merged run is one run of the whole profile: both shards' users.
    let run: serde_json::Value = serde_json::from_slice(&merged.json).unwrap();
    assert_ne!(run["verdict"], "not-run", "{run}");
    assert!(fixture.requests_served() > 0);
}

#[test]
fn a_merge_of_failing_shards_fails_the_gate_and_a_missing_shard_is_refused() {
    let fixture = Fixture::start(0, Mode::Degraded).unwrap();
    let (_, folder) = shard_legs(&fixture.base_url(), 2, "-u 10 -r 100 -t 6s");
    let merged = run_action(&[
        ("mode", "merge"),
        ("shards", folder.path().to_str().unwrap()),
    ]);
    assert_eq!(
        merged.action_outputs["verdict"], "fail",
        "{}",
        merged.stdout
    );
    assert_eq!(merged.action_outputs["exit-code"], "1");
    assert_eq!(
        merged.statuses.last().unwrap(),
        &("gate".to_string(), Some(1))
    );

    // Shard 2 of 2 missing (its leg failed, its artifact never came): refused, naming it.
    std::fs::remove_file(folder.path().join("shard-2-of-2.json")).unwrap();
    let refused = run_action(&[
        ("mode", "merge"),
        ("shards", folder.path().to_str().unwrap()),
    ]);
    assert_eq!(
        refused.action_outputs["exit-code"], "2",
        "{}",
        refused.stdout
    );
    assert_eq!(
        refused.statuses.last().unwrap(),
        &("gate".to_string(), Some(2))
    );
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(said.contains("2/2") || said.contains("shard 2"), "{said}");
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
