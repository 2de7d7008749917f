//! The scale-out deployment files: the Dockerfile, the Kubernetes manifests
//! (deploy/kubernetes/) and the scale-out workflow. None of them can run here (no Docker
//! engine, no cluster, no GitHub runner), so each is parsed and the fields that make a
//! scaled-out run correct are held together: one N everywhere, the index in each shard's file
//! name, the merge reading the folder the shards write and judging with the sla file they
//! ran with, every file name unique, non-root. deploy/kubernetes/run.sh runs against a
//! kubectl stub.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::{repo, stderr, stdout};

const KUBE: &str = "deploy/kubernetes";

/// Every document of a (multi-document) YAML file of the repository.
fn documents(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{file}: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

fn yaml(file: &str) -> Value {
    let mut docs = documents(file);
    assert_eq!(docs.len(), 1, "{file}: one document");
    docs.remove(0)
}

/// Every object of every manifest under deploy/kubernetes (the kustomization aside).
fn objects() -> Vec<Value> {
    manifest_files()
        .iter()
        .flat_map(|f| documents(&format!("{KUBE}/{f}")))
        .collect()
}

fn manifest_files() -> BTreeSet<String> {
    std::fs::read_dir(repo().join(KUBE))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml") && f != "kustomization.yaml")
        .collect()
}

fn object(kind: &str, name: &str) -> Value {
    objects()
        .into_iter()
        .find(|o| s(&o["kind"]) == kind && s(&o["metadata"]["name"]) == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {KUBE}"))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

fn seq(v: &Value) -> &Vec<Value> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("not a sequence: {v:?}"))
}

fn int(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a whole number: {v:?}"))
}

const SHARDS: &str = "slagate-shards";
const MERGE: &str = "slagate-merge";

fn job(name: &str) -> Value {
    object("Job", name)
}

fn pod(job: &Value) -> &Value {
    &job["spec"]["template"]["spec"]
}

/// The job's one container.
fn container(job: &Value) -> &Value {
    let containers = seq(&pod(job)["containers"]);
    assert_eq!(containers.len(), 1, "{containers:?}");
    &containers[0]
}

fn args(job: &Value) -> Vec<String> {
    seq(&container(job)["args"])
        .iter()
        .map(|a| s(a).to_string())
        .collect()
}

/// The value of `--name=value` or `--name value`.
fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if let Some(v) = a.strip_prefix(&format!("{name}=")) {
            Some(v.to_string())
        } else if a == name {
            args.get(i + 1).cloned()
        } else {
            None
        }
    })
}

/// Each env variable of a container, by name, with where its value comes from.
fn env(container: &Value) -> BTreeMap<String, Value> {
    container
        .get("env")
        .map(seq)
        .into_iter()
        .flatten()
        .map(|e| (s(&e["name"]).to_string(), e.clone()))
        .collect()
}

/// The `$(NAME)` references in a string (Kubernetes' expansion in command and args).
fn refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("$(") {
        let end = rest[start..].find(')').expect("unterminated $(") + start;
        out.push(rest[start + 2..end].to_string());
        rest = &rest[end + 1..];
    }
    out
}

/// A volume of the pod, by name.
fn volume<'a>(job: &'a Value, name: &str) -> &'a Value {
    seq(&pod(job)["volumes"])
        .iter()
        .find(|v| s(&v["name"]) == name)
        .unwrap_or_else(|| panic!("no volume {name}"))
}

/// Where the container mounts each volume: mount path → volume name.
fn mounts(job: &Value) -> BTreeMap<String, String> {
    seq(&container(job)["volumeMounts"])
        .iter()
        .map(|m| (s(&m["mountPath"]).to_string(), s(&m["name"]).to_string()))
        .collect()
}

/// The mount whose path holds `path`, and the volume mounted there.
fn mount_of<'a>(job: &'a Value, path: &str) -> (String, &'a Value) {
    let (at, name) = mounts(job)
        .into_iter()
        .filter(|(at, _)| path.starts_with(&format!("{at}/")))
        .max_by_key(|(at, _)| at.len())
        .unwrap_or_else(|| panic!("{path} is on no volume"));
    (at, volume(job, &name))
}

/// N of `--shard=auto/N`.
fn shard_n(job: &Value) -> u64 {
    let shard = flag(&args(job), "--shard").expect("--shard");
    let n = shard
        .strip_prefix("auto/")
        .unwrap_or_else(|| panic!("--shard {shard}: each pod must take K from its index"));
    n.parse().unwrap()
}

#[test]
fn the_shards_are_one_indexed_job_with_one_n() {
    let job = job(SHARDS);
    let spec = &job["spec"];
    assert_eq!(s(&spec["completionMode"]), "Indexed");
    let n = int(&spec["completions"]);
    assert!(n >= 2, "{n} shards");
    assert_eq!(int(&spec["parallelism"]), n, "every shard must run at once");
    assert_eq!(shard_n(&job), n, "--shard auto/N and completions differ");
    // A failed shard is not run again, late; one failure does not stop the other shards.
    assert_eq!(int(&spec["backoffLimitPerIndex"]), 0);
    if let Some(limit) = spec.get("backoffLimit") {
        assert!(int(limit) >= n, "backoffLimit {limit:?} ends the others");
    }
    assert!(spec.get("maxFailedIndexes").is_none());
    assert_eq!(s(&pod(&job)["restartPolicy"]), "Never");
    // A shard judges nothing: its flags say what to run, merge says what it means.
    let args = args(&job);
    assert_eq!(args[0], "check");
    for f in ["--profile", "--start-at", "--run-id", "--json"] {
        assert!(flag(&args, f).is_some(), "{f} missing: {args:?}");
    }
    assert!(flag(&args, "--html").is_none());
}

#[test]
fn shards_are_spread_over_nodes() {
    let job = job(SHARDS);
    let labels = job["spec"]["template"]["metadata"]["labels"]
        .as_mapping()
        .unwrap();
    let selects_shards = |selector: &Value| {
        let wanted = selector["matchLabels"].as_mapping().unwrap();
        !wanted.is_empty() && wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
    };
    let spread = pod(&job)
        .get("topologySpreadConstraints")
        .map(seq)
        .into_iter()
        .flatten()
        .any(|c| {
            s(&c["topologyKey"]) == "kubernetes.io/hostname"
                && int(&c["maxSkew"]) == 1
                && s(&c["whenUnsatisfiable"]) == "DoNotSchedule"
                && selects_shards(&c["labelSelector"])
        });
    let apart = pod(&job)["affinity"]["podAntiAffinity"]
        .get("requiredDuringSchedulingIgnoredDuringExecution")
        .map(seq)
        .into_iter()
        .flatten()
        .any(|t| {
            s(&t["topologyKey"]) == "kubernetes.io/hostname" && selects_shards(&t["labelSelector"])
        });
    assert!(spread || apart, "nothing keeps two shards off one node");
}

#[test]
fn the_completion_index_reaches_each_shards_file_name() {
    let job = job(SHARDS);
    let env = env(container(&job));
    let annotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
    let index_vars: Vec<&String> = env
        .iter()
        .filter(|(_, e)| e["valueFrom"]["fieldRef"]["fieldPath"].as_str() == Some(annotation))
        .map(|(name, _)| name)
        .collect();
    assert!(!index_vars.is_empty(), "no env variable holds the index");
    let json = flag(&args(&job), "--json").unwrap();
    assert!(
        index_vars.iter().any(|v| refs(&json).contains(v)),
        "{json}: every shard would write one file"
    );
    // What `--shard auto/N` reads, when declared, is that index and nothing else.
    if let Some(e) = env.get("JOB_COMPLETION_INDEX") {
        assert_eq!(
            e["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
            Some(annotation)
        );
    }
}

#[test]
fn every_variable_an_argument_names_is_declared() {
    // Kubernetes leaves an undeclared `$(NAME)` as written: a shard would write to the
    // literal path `/results/$(RUN_ID)/…`.
    for name in [SHARDS, MERGE] {
        let job = job(name);
        let env = env(container(&job));
        for a in args(&job) {
            for r in refs(&a) {
                assert!(env.contains_key(&r), "{name}: $({r}) in {a} is not in env");
            }
        }
    }
}

#[test]
fn merge_reads_the_folder_the_shards_write_with_the_same_sla() {
    let shards = job(SHARDS);
    let merge = job(MERGE);
    let shard_args = args(&shards);
    let merge_args = args(&merge);
    assert_eq!(merge_args[0], "merge");
    let json = flag(&shard_args, "--json").unwrap();
    let folder = Path::new(&json).parent().unwrap().to_str().unwrap();
    assert_eq!(
        merge_args[1], folder,
        "merge reads another folder than the shards write"
    );
    // The folder's variables have one source in both pods (the run's ConfigMap).
    let (shard_env, merge_env) = (env(container(&shards)), env(container(&merge)));
    for r in refs(folder) {
        assert_eq!(
            shard_env[&r]["valueFrom"], merge_env[&r]["valueFrom"],
            "$({r}) comes from different places"
        );
        assert!(
            shard_env[&r]["valueFrom"].get("configMapKeyRef").is_some(),
            "$({r}) must be the same in every pod: from a ConfigMap"
        );
    }
    // The same claim, mounted at the same place; one every node can write at once.
    let (at, shard_volume) = mount_of(&shards, &json);
    let (merge_at, merge_volume) = mount_of(&merge, folder);
    assert_eq!(at, merge_at);
    let claim = s(&shard_volume["persistentVolumeClaim"]["claimName"]);
    assert_eq!(
        merge_volume["persistentVolumeClaim"]["claimName"].as_str(),
        Some(claim)
    );
    let pvc = object("PersistentVolumeClaim", claim);
    assert!(
        seq(&pvc["spec"]["accessModes"])
            .iter()
            .any(|m| m.as_str() == Some("ReadWriteMany")),
        "shards on several nodes need ReadWriteMany"
    );
    // The sla file the shards ran with, where the ConfigMap puts it.
    let sla = flag(&merge_args, "--sla").expect("merge --sla");
    assert_eq!(flag(&shard_args, "--sla").as_deref(), Some(sla.as_str()));
    for job in [&shards, &merge] {
        let (at, config) = mount_of(job, &sla);
        let relative = &sla[at.len() + 1..];
        assert!(
            seq(&config["configMap"]["items"])
                .iter()
                .any(|i| s(&i["path"]) == relative && s(&i["key"]) == "sla.toml"),
            "{sla} is not the ConfigMap's sla.toml"
        );
        // slagate looks for profiles/ beside sla.toml, from its working folder.
        assert_eq!(s(&container(job)["workingDir"]), at);
    }
    // Every format, each beside the shards (a second merge must not read a report as a
    // shard), on the same volume.
    for f in ["--json", "--html", "--junit", "--markdown"] {
        let out = flag(&merge_args, f).unwrap_or_else(|| panic!("merge writes no {f}"));
        assert_ne!(
            Path::new(&out).parent().unwrap().to_str(),
            Some(folder),
            "{f} {out}"
        );
        assert_eq!(mount_of(&merge, &out).0, at, "{f} {out}");
    }
    // Its exit code is the Job's status, once; it waits, suspended, until run.sh resumes it.
    assert_eq!(int(&merge["spec"]["backoffLimit"]), 0);
    assert_eq!(s(&pod(&merge)["restartPolicy"]), "Never");
    assert_eq!(merge["spec"]["suspend"].as_bool(), Some(true));
}

/// The repository's sla.toml and profiles, as the ConfigMap must carry them: key → text.
fn repo_config() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert(
        "sla.toml".to_string(),
        std::fs::read_to_string(repo().join("sla.toml")).unwrap(),
    );
    for e in std::fs::read_dir(repo().join("profiles")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    files
}

#[test]
fn the_configmap_is_the_repos_sla_and_profiles_byte_for_byte() {
    let name = "slagate-config";
    let map = object("ConfigMap", name);
    let data: BTreeMap<String, String> = map["data"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (s(k).to_string(), s(v).to_string()))
        .collect();
    let files = repo_config();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>()
    );
    for (key, text) in &files {
        assert!(
            data[key] == *text,
            "{KUBE}/configmap.yaml's {key} differs from the repository's: regenerate it (its header)"
        );
    }
    // Every key lands where slagate reads it, in both Jobs: sla.toml, profiles/NAME.toml.
    for job in [job(SHARDS), job(MERGE)] {
        let config = &volume(&job, "config")["configMap"];
        assert_eq!(s(&config["name"]), name);
        let items: BTreeMap<&str, &str> = seq(&config["items"])
            .iter()
            .map(|i| (s(&i["key"]), s(&i["path"])))
            .collect();
        let wanted: BTreeMap<&str, String> = files
            .keys()
            .map(|k| {
                let path = if k == "sla.toml" {
                    k.clone()
                } else {
                    format!("profiles/{k}")
                };
                (k.as_str(), path)
            })
            .collect();
        let wanted: BTreeMap<&str, &str> = wanted.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(items, wanted, "{}", s(&job["metadata"]["name"]));
    }
    // The command that regenerates it, in its header and the README, makes this map.
    let command =
        format!("kubectl create configmap {name} --from-file=sla.toml --from-file=profiles/");
    let header = std::fs::read_to_string(repo().join(KUBE).join("configmap.yaml")).unwrap();
    assert!(header.contains(&command), "{header}");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&command),
        "the README does not say `{command}`"
    );
}

/// The Dockerfile's stages, as written.
struct Dockerfile {
    stages: Vec<Stage>,
}

struct Stage {
    /// FROM's image.
    image: String,
    /// FROM … AS name.
    name: Option<String>,
    /// Each instruction after FROM, as (KEYWORD, the rest of the line).
    instructions: Vec<(String, String)>,
}

fn dockerfile() -> Dockerfile {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let mut lines = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            current.push_str(part);
            current.push(' ');
        } else {
            current.push_str(line);
            lines.push(std::mem::take(&mut current));
        }
    }
    let mut stages = Vec::new();
    for line in lines {
        let (keyword, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let keyword = keyword.to_ascii_uppercase();
        if keyword == "FROM" {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let name = match words[..] {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                [_] => None,
                _ => panic!("FROM {rest}"),
            };
            stages.push(Stage {
                image: words[0].to_string(),
                name,
                instructions: Vec::new(),
            });
        } else {
            let stage: &mut Stage = stages.last_mut().expect("an instruction before FROM");
            stage.instructions.push((keyword, rest.trim().to_string()));
        }
    }
    Dockerfile { stages }
}

impl Dockerfile {
    fn last(&self, stage: usize, keyword: &str) -> Option<&str> {
        self.stages[stage]
            .instructions
            .iter()
            .rev()
            .find(|(k, _)| k == keyword)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, stage: usize, keyword: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.stages[stage]
            .instructions
            .iter()
            .filter(move |(k, _)| k == keyword)
            .map(|(_, v)| v.as_str())
    }

    fn final_uid(&self) -> u32 {
        let user = self
            .last(self.stages.len() - 1, "USER")
            .expect("the final stage sets USER");
        let uid = user.split(':').next().unwrap();
        uid.parse()
            .unwrap_or_else(|_| panic!("USER {user}: runAsNonRoot can verify a number only"))
    }

    fn final_workdir(&self) -> &str {
        self.last(self.stages.len() - 1, "WORKDIR")
            .expect("WORKDIR")
    }
}

#[test]
fn the_image_builds_locked_and_runs_the_binary_as_non_root() {
    let d = dockerfile();
    assert!(d.stages.len() >= 2, "a build stage and a runtime stage");
    let builder_image = &d.stages[0].image;
    assert!(builder_image.starts_with("rust:"), "{builder_image}");
    let builder = d.stages[0]
        .name
        .as_deref()
        .expect("the build stage is named");
    assert!(
        d.all(0, "RUN")
            .any(|r| r.contains("cargo build --release --locked")),
        "the binary is built from Cargo.lock"
    );
    let last = d.stages.len() - 1;
    let runtime = &d.stages[last].image;
    assert!(
        runtime.starts_with("gcr.io/distroless/") || runtime == "scratch",
        "{runtime}"
    );
    assert_ne!(d.final_uid(), 0, "runs as root");
    // ENTRYPOINT: exec form, an absolute path to the binary copied from the build stage.
    let entrypoint: Vec<String> =
        serde_json::from_str(d.last(last, "ENTRYPOINT").expect("ENTRYPOINT"))
            .expect("ENTRYPOINT in exec form: there is no shell in the image");
    let binary = &entrypoint[0];
    assert!(
        binary.starts_with('/') && binary.ends_with("/slagate"),
        "{binary}"
    );
    let copied = d
        .all(last, "COPY")
        .find_map(|c| {
            let rest = c.strip_prefix(&format!("--from={builder} "))?;
            let (from, to) = rest.split_once(' ')?;
            (to == binary).then(|| from.to_string())
        })
        .unwrap_or_else(|| panic!("no COPY --from={builder} … {binary}"));
    assert!(
        d.all(0, "RUN").any(|r| r.contains(&copied)),
        "the build stage does not make {copied}"
    );
    // The defaults slagate reads from its working folder: ./sla.toml and ./profiles/.
    let copies: Vec<&str> = d.all(last, "COPY").collect();
    assert!(copies.contains(&"sla.toml ./"), "{copies:?}");
    assert!(copies.contains(&"profiles ./profiles"), "{copies:?}");
    assert!(d.final_workdir().starts_with('/'));
}

#[test]
fn the_build_context_holds_what_the_dockerfile_copies_and_not_target() {
    let text = std::fs::read_to_string(repo().join(".dockerignore")).unwrap();
    let patterns: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    // A top-level name is in the context unless the last pattern naming it excludes it
    // (only the forms this file uses: `*`, `name`, `name/`, each maybe with `!`).
    let included = |name: &str| {
        let mut keep = true;
        for p in &patterns {
            let (negated, p) = match p.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, *p),
            };
            let p = p.trim_end_matches('/');
            assert!(
                !p.contains('/') && (p == "*" || !p.contains('*')),
                "the test does not read the pattern {p}: extend it"
            );
            if p == "*" || p == name {
                keep = negated;
            }
        }
        keep
    };
    let d = dockerfile();
    for stage in 0..d.stages.len() {
        for c in d.all(stage, "COPY").filter(|c| !c.starts_with("--from=")) {
            let words: Vec<&str> = c.split_whitespace().collect();
            for source in &words[..words.len() - 1] {
                let top = source.trim_start_matches("./").split('/').next().unwrap();
                assert!(included(top), "COPY {source}: .dockerignore leaves it out");
            }
        }
    }
    for heavy in ["target", ".git"] {
        assert!(!included(heavy), "{heavy} is sent to the builder");
    }
}

#[test]
fn pods_run_as_the_images_non_root_user_with_a_read_only_root() {
    let d = dockerfile();
    let kustomization = yaml(&format!("{KUBE}/kustomization.yaml"));
    let image = s(&seq(&kustomization["images"])[0]["name"]);
    for name in [SHARDS, MERGE] {
        let job = job(name);
        let pod_security = &pod(&job)["securityContext"];
        assert_eq!(pod_security["runAsNonRoot"].as_bool(), Some(true), "{name}");
        assert_eq!(
            int(&pod_security["runAsUser"]),
            u64::from(d.final_uid()),
            "{name}: not the image's user"
        );
        let c = container(&job);
        let security = &c["securityContext"];
        assert_eq!(
            security["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{name}"
        );
        assert_eq!(
            security["allowPrivilegeEscalation"].as_bool(),
            Some(false),
            "{name}"
        );
        assert!(
            seq(&security["capabilities"]["drop"])
                .iter()
                .any(|c| c.as_str() == Some("ALL")),
            "{name}"
        );
        for r in ["cpu", "memory"] {
            assert!(
                c["resources"]["requests"].get(r).is_some(),
                "{name}: no {r} request"
            );
        }
        // The image that kustomization.yaml renames; its working folder is where the
        // ConfigMap replaces the image's defaults.
        assert_eq!(s(&c["image"]), image, "{name}");
        assert_eq!(s(&c["workingDir"]), d.final_workdir(), "{name}");
    }
}

#[test]
fn the_kustomization_applies_every_manifest_and_they_parse() {
    let kustomization = yaml(&format!("{KUBE}/kustomization.yaml"));
    let resources: BTreeSet<String> = seq(&kustomization["resources"])
        .iter()
        .map(|r| s(r).to_string())
        .collect();
    assert_eq!(resources, manifest_files());
    let kinds: BTreeSet<String> = objects()
        .iter()
        .map(|o| format!("{} {}", s(&o["kind"]), s(&o["metadata"]["name"])))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(
            [
                "ConfigMap slagate-config",
                "Job slagate-merge",
                "Job slagate-shards",
                "PersistentVolumeClaim slagate-results",
            ]
            .map(String::from)
        )
    );
}

/// A `kubectl` that records each call and answers as a cluster whose Jobs have finished:
/// the shards Job as `shards`, the merge Job as `merge`, its pod with exit code `code`.
fn kubectl_stub(dir: &Path, shards: &str, merge: &str, code: &str) -> PathBuf {
    let log = dir.join("calls");
    let script = format!(
        r#"#!/usr/bin/env bash
echo "$*" >> '{log}'
case "$*" in
  *"get job slagate-shards"*) echo '{shards}' ;;
  *"get job slagate-merge"*) echo '{merge}' ;;
  *"get pods"*) echo '{code}' ;;
  *"logs job/slagate-merge"*) echo "SLA table" ;;
  *"create configmap"*) echo "kind: ConfigMap" ;;
  *"apply -f -"*) cat > '{applied}' ;;
esac
"#,
        log = log.display(),
        applied = dir.join("applied").display(),
    );
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("kubectl"), script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("kubectl"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    bin
}

fn run_sh(bin: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg(repo().join(KUBE).join("run.sh"))
        .env("PATH", path)
        .env_remove("RUN_ID")
        .env_remove("NAMESPACE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn run_sh_resumes_the_merge_after_the_shards_and_exits_with_its_code() {
    let temp = tempfile::tempdir().unwrap();
    // A shard failed: the merge runs all the same, to name it.
    let bin = kubectl_stub(temp.path(), "Failed", "Failed", "2");
    let before = SystemTime::now();
    let out = run_sh(
        &bin,
        &[
            ("RUN_ID", "nightly-42"),
            ("START_IN", "300"),
            ("NAMESPACE", "load"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let calls = std::fs::read_to_string(temp.path().join("calls")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    for c in &calls {
        assert!(c.starts_with("--namespace load "), "{c}");
    }
    let position = |what: &str| {
        calls
            .iter()
            .position(|c| c.contains(what))
            .unwrap_or_else(|| panic!("no call `{what}`: {calls:#?}"))
    };
    // One ConfigMap holds what every pod must share; the Jobs read exactly its keys.
    let create = calls[position("create configmap slagate-run")];
    let literal = |key: &str| {
        let prefix = format!("--from-literal={key}=");
        create
            .split(' ')
            .find_map(|w| w.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("{create}: no {key}"))
            .to_string()
    };
    assert_eq!(literal("run-id"), "nightly-42");
    let start_at = humantime::parse_rfc3339(&literal("start-at")).expect("an RFC 3339 instant");
    let ahead = start_at
        .duration_since(before)
        .expect("start-at is in the future");
    assert!(
        ahead > Duration::from_secs(290) && ahead < Duration::from_secs(320),
        "{ahead:?}"
    );
    for job in [job(SHARDS), job(MERGE)] {
        for (_, e) in env(container(&job)) {
            if let Some(r) = e["valueFrom"].get("configMapKeyRef") {
                assert_eq!(s(&r["name"]), "slagate-run");
                literal(s(&r["key"]));
            }
        }
    }
    let apply = format!("apply -k {}", repo().join(KUBE).display());
    // `create configmap … | apply -f -` is one pipeline: its two calls come in either order.
    for piped in ["create configmap slagate-run", "apply -f -"] {
        assert!(position("delete job") < position(piped), "{calls:#?}");
        assert!(position(piped) < position(&apply), "{calls:#?}");
    }
    let order = [
        "delete job slagate-shards slagate-merge",
        &apply,
        "get job slagate-shards",
        "patch job slagate-merge --type=merge -p {\"spec\":{\"suspend\":false}}",
        "get job slagate-merge",
        "logs job/slagate-merge",
        "get pods -l batch.kubernetes.io/job-name=slagate-merge",
    ];
    let positions: Vec<usize> = order.iter().map(|w| position(w)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{calls:#?}");
    assert!(stdout(&out).contains("SLA table"), "{}", stdout(&out));

    // A pass is 0; a merge that never ran to an exit code is 3.
    for (code, expected) in [("0", 0), ("", 3)] {
        let temp = tempfile::tempdir().unwrap();
        let bin = kubectl_stub(temp.path(), "Complete", "Complete", code);
        let out = run_sh(&bin, &[("START_IN", "1")]);
        assert_eq!(out.status.code(), Some(expected), "{}", stderr(&out));
    }
}

#[test]
fn run_sh_refuses_a_run_id_that_is_no_folder_name() {
    let temp = tempfile::tempdir().unwrap();
    let bin = kubectl_stub(temp.path(), "Complete", "Complete", "0");
    for bad in ["../x", "a b", "-x", "x/y"] {
        let out = run_sh(&bin, &[("RUN_ID", bad)]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("RUN_ID must be"), "{}", stderr(&out));
    }
    assert!(!temp.path().join("calls").exists(), "kubectl was called");
}

/// `*` as a glob over an artifact name.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|i| glob(tail, &name[head.len() + i..]))
        }
    }
}

/// The workflow's `uses: ./` steps, with the job they are in.
fn action_steps(workflow: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (id, job) in workflow["jobs"].as_mapping().unwrap() {
        for st in seq(&job["steps"]) {
            if st["uses"].as_str() == Some("./") {
                out.push((s(id).to_string(), st.clone()));
            }
        }
    }
    out
}

#[test]
fn the_scale_out_workflow_runs_n_legs_then_merges_and_gates() {
    let file = ".github/workflows/scale-out-example.yml";
    let workflow = yaml(file);
    let inputs = &workflow["on"]["workflow_dispatch"]["inputs"];
    for name in ["host", "profile"] {
        assert!(inputs.get(name).is_some(), "no input {name}");
    }
    let jobs = workflow["jobs"].as_mapping().unwrap();
    let (legs_id, legs) = jobs
        .iter()
        .find(|(_, j)| j["strategy"].get("matrix").is_some())
        .map(|(id, j)| (s(id).to_string(), j))
        .expect("a matrix job");
    assert_eq!(legs["strategy"]["fail-fast"].as_bool(), Some(false));
    let values: Vec<u64> = seq(&legs["strategy"]["matrix"]["shard"])
        .iter()
        .map(int)
        .collect();
    let n = values.len() as u64;
    assert_eq!(values, (1..=n).collect::<Vec<_>>());
    let leg = seq(&legs["steps"])
        .iter()
        .find(|st| st["uses"].as_str() == Some("./") && st["with"].get("shard").is_some())
        .expect("a leg runs the Action with a shard");
    let with = &leg["with"];
    assert_eq!(s(&with["shard"]), format!("${{{{ matrix.shard }}}}/{n}"));

    // start-at and run-id: computed once, in a job every leg needs, after it installed
    // slagate (whose cache the legs restore).
    let needs: Vec<&str> = match &legs["needs"] {
        Value::String(one) => vec![one.as_str()],
        many => seq(many).iter().map(s).collect(),
    };
    for input in ["start-at", "run-id"] {
        let value = s(&with[input]);
        let rest = value
            .strip_prefix("${{ needs.")
            .and_then(|r| r.strip_suffix(&format!(".outputs.{input} }}}}")))
            .unwrap_or_else(|| panic!("{input}: {value}"));
        assert!(
            needs.contains(&rest),
            "{input} from {rest}, which the legs do not need"
        );
        let build = &workflow["jobs"][rest];
        let output = s(&build["outputs"][input]);
        let step_id = output
            .strip_prefix("${{ steps.")
            .and_then(|r| r.strip_suffix(&format!(".outputs.{input} }}}}")))
            .unwrap_or_else(|| panic!("{output}"));
        let steps = seq(&build["steps"]);
        let at = steps
            .iter()
            .position(|st| st["id"].as_str() == Some(step_id))
            .unwrap_or_else(|| panic!("no step {step_id}"));
        assert!(
            s(&steps[at]["run"]).contains(&format!("echo \"{input}=")),
            "step {step_id} never writes {input}"
        );
        let install = steps
            .iter()
            .position(|st| {
                st["uses"].as_str() == Some("./") && st["with"]["mode"].as_str() == Some("install")
            })
            .expect("the build job installs slagate with the Action");
        assert!(install < at, "{input} is computed before the build");
    }
    // An instant, not `+…`, which each leg would count from its own start.
    let when = seq(&workflow["jobs"]["build"]["steps"])
        .iter()
        .find(|st| st["id"].as_str() == Some("when"))
        .map(|st| s(&st["run"]).to_string())
        .unwrap();
    assert!(when.contains("+%Y-%m-%dT%H:%M:%SZ"), "{when}");

    // One artifact per leg, every one matched by the merge's download pattern.
    let artifact = s(&with["artifact-name"]);
    assert!(artifact.contains("${{ matrix.shard }}"), "{artifact}");
    let names: BTreeSet<String> = values
        .iter()
        .map(|k| artifact.replace("${{ matrix.shard }}", &k.to_string()))
        .collect();
    assert_eq!(names.len() as u64, n);

    let (merge_id, merge) = jobs
        .iter()
        .find(|(_, j)| {
            seq(&j["steps"])
                .iter()
                .any(|st| st["with"]["mode"].as_str() == Some("merge"))
        })
        .map(|(id, j)| (s(id).to_string(), j))
        .expect("a job runs the Action in merge mode");
    let merge_needs: Vec<&str> = match &merge["needs"] {
        Value::String(one) => vec![one.as_str()],
        many => seq(many).iter().map(s).collect(),
    };
    assert!(merge_needs.contains(&legs_id.as_str()), "{merge_needs:?}");
    assert!(
        s(&merge["if"]).contains("always()"),
        "a failed leg would skip the merge, and the gate with it"
    );
    let steps = seq(&merge["steps"]);
    let download = steps
        .iter()
        .position(|st| {
            st["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/download-artifact@v4"))
        })
        .expect("a download-artifact@v4 step");
    let dl = &steps[download]["with"];
    let pattern = s(&dl["pattern"]);
    for name in &names {
        assert!(glob(pattern, name), "pattern {pattern} misses {name}");
    }
    assert_eq!(dl["merge-multiple"].as_bool(), Some(true));
    let folder = s(&dl["path"]);
    let merge_step = steps
        .iter()
        .position(|st| st["with"]["mode"].as_str() == Some("merge"))
        .unwrap();
    assert!(download < merge_step);
    let merge_with = &steps[merge_step]["with"];
    assert_eq!(s(&merge_with["shards"]), folder);
    // The gate runs after a failed download too (then it says what is missing).
    assert!(
        steps[merge_step]["if"]
            .as_str()
            .is_some_and(|c| c.contains("!cancelled()") || c.contains("always()")),
        "{merge_id}: the merge step is skipped when a step before it fails"
    );

    // Every use of the Action passes inputs it has, and a mode it knows.
    let action = yaml("action.yml");
    for (job, st) in action_steps(&workflow) {
        if let Some(with) = st["with"].as_mapping() {
            for key in with.keys() {
                assert!(
                    action["inputs"].get(key).is_some(),
                    "{job}: the Action has no input {key:?}"
                );
            }
        }
        let mode = st["with"]["mode"].as_str().unwrap_or("check");
        assert!(
            ["check", "merge", "install"].contains(&mode),
            "{job}: {mode}"
        );
    }
}

#[test]
fn the_globs_the_workflow_test_reads_are_read_right() {
    assert!(glob("slagate-shard-*-of-4", "slagate-shard-3-of-4"));
    assert!(!glob("slagate-shard-*-of-4", "slagate-shard-3-of-5"));
    assert!(!glob("slagate-shard-*-of-4", "slagate-merge"));
    assert!(glob("a*b*c", "axxbyyc"));
}
