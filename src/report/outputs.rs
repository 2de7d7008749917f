//! Report files: one `Format` per flag (`--json` ↔ `Format::Json` ↔ `json.rs`), every
//! destination checked before any load is sent, every file written atomically, the per-run
//! paths of `--repeat`, the documents left when a run could not be made, and the one
//! `$GITHUB_STEP_SUMMARY` appender.
//!
//! Why each of these:
//! - **Checked, without placeholders.** A five-minute run must not end in "cannot write
//!   report.html", so each destination is checked up front: its folder exists (created if
//!   missing, as Locust does) and takes a new file, and the path is not a folder. Nothing is
//!   created at the path itself: an empty `junit.xml` left by a run that then failed to start
//!   breaks JUnit parsers, and an empty `base.json` breaks `--baseline` cryptically.
//! - **Atomic.** Each file is rendered whole, written beside its destination under a
//!   temporary name, and renamed over it: a reader (a CI artifact upload, a browser, a second
//!   slagate) sees the old file or the new one, never half of one, whatever interrupts us.
//! - **Never stale.** When a run could not be made (bad input, target unreachable, an
//!   interrupt before the load), every destination gets a small not-run document that says
//!   why (JSON `"verdict": "not-run"`, a JUnit error case, a Markdown or HTML note) and CSV
//!   files, which have no place for a reason, are removed: a reused workspace never shows an
//!   older run's verdict as if it were this one's.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{NotRun, RenderError, Reporter, RunReport};

/// One report format: one flag, one file (CSV: one prefix, Locust's four files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Html,
    Junit,
    Markdown,
}

impl Format {
    /// The format's name as its flag spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
        }
    }

    /// What this format says when the run could not be made; `None` for CSV (Locust's files
    /// have no place for a reason: they are removed instead).
    fn not_run(self, doc: &NotRun) -> Option<Vec<u8>> {
        match self {
            Format::Json => Some(super::json::not_run(doc)),
            Format::Junit => Some(super::junit::not_run(doc)),
            Format::Markdown => Some(super::markdown::not_run(doc).into_bytes()),
            Format::Html => Some(super::html::not_run(doc).into_bytes()),
            Format::Csv => None,
        }
    }
}

/// Why a destination cannot be used, or a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write the {format} report to {path}: {reason}")]
    Unwritable {
        format: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("could not render the {format} report: {source}")]
    Render {
        format: &'static str,
        source: RenderError,
    },
}

/// One file: where, in which format, rendered by whom.
struct File<T: 'static> {
    format: Format,
    path: PathBuf,
    reporter: &'static dyn Reporter<T>,
}

/// The report files one command writes, for documents of type `T` (a run, a comparison).
pub struct Outputs<T: 'static = RunReport> {
    files: Vec<File<T>>,
}

impl Outputs<RunReport> {
    /// A run's files, one per requested `(format, path)`; CSV's path is Locust's prefix.
    pub fn for_run(wanted: &[(Format, PathBuf)]) -> Self {
        let mut files = Vec::new();
        for (format, path) in wanted {
            let one = |reporter: &'static dyn Reporter| File {
                format: *format,
                path: path.clone(),
                reporter,
            };
            match format {
                Format::Json => files.push(one(&super::json::Json)),
                Format::Html => files.push(one(&super::html::Html)),
                Format::Junit => files.push(one(&super::junit::Junit)),
                Format::Markdown => files.push(one(&super::markdown::Markdown)),
                Format::Csv => {
                    for (suffix, reporter) in super::csv::FILES {
                        files.push(File {
                            format: Format::Csv,
                            path: super::csv::path(path, suffix),
                            reporter,
                        });
                    }
                }
            }
        }
        Outputs { files }
    }

    /// Run `k` (1-based) of a `--repeat`: its JSON beside the combined one, as `FILE-runK`
    /// (`run.json` → `run-run2.json`). The other formats are written for the combined run only.
    pub fn per_run(&self, k: usize) -> Self {
        let files = self
            .files
            .iter()
            .filter(|f| f.format == Format::Json)
            .map(|f| File {
                format: f.format,
                path: run_path(&f.path, k),
                reporter: f.reporter,
            })
            .collect();
        Outputs { files }
    }
}

impl<T: 'static> Outputs<T> {
    /// Files rendered by the given reporters (a comparison's, for instance).
    pub fn new(files: Vec<(Format, PathBuf, &'static dyn Reporter<T>)>) -> Self {
        Outputs {
            files: files
                .into_iter()
                .map(|(format, path, reporter)| File {
                    format,
                    path,
                    reporter,
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every destination that cannot take its file, checked before any work is done. Creates
    /// missing folders; never creates, empties or touches a file at the destination itself.
    pub fn check(&self) -> Vec<OutputError> {
        self.files
            .iter()
            .filter_map(|f| {
                check_destination(&f.path)
                    .err()
                    .map(|reason| OutputError::Unwritable {
                        format: f.format.name(),
                        path: f.path.clone(),
                        reason,
                    })
            })
            .collect()
    }

    /// Render and write every file, each atomically. Every file is attempted; the errors of
    /// those that failed are returned.
    pub fn write(&self, doc: &T) -> Vec<OutputError> {
        let mut errors = Vec::new();
        for f in &self.files {
            let result = f
                .reporter
                .render(doc)
                .map_err(|source| OutputError::Render {
                    format: f.format.name(),
                    source,
                })
                .and_then(|bytes| write_atomic(f.format, &f.path, &bytes));
            if let Err(e) = result {
                errors.push(e);
            }
        }
        errors
    }

    /// The run could not be made: leave a not-run document at every destination (or remove a
    /// stale CSV file), so that none shows an older run's verdict. Destinations that failed
    /// [`Outputs::check`] are skipped quietly: their error has been reported already.
    pub fn write_not_run(&self, doc: &NotRun) -> Vec<OutputError> {
        let mut errors = Vec::new();
        for f in &self.files {
            if check_destination(&f.path).is_err() {
                continue;
            }
            let result = match f.format.not_run(doc) {
                Some(bytes) => write_atomic(f.format, &f.path, &bytes),
                None => match std::fs::remove_file(&f.path) {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(unwritable(f.format, &f.path, e)),
                },
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        errors
    }
}

/// Whether a file could be written at `path`: the folder exists (or is created) and takes a
/// new file, and `path` is not a folder. The probe file is created under a temporary name in
/// the folder and removed at once.
fn check_destination(path: &Path) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("no file name given".into());
    }
    if path.is_dir() {
        return Err("it is a directory".into());
    }
    if path.file_name().is_none() {
        return Err("it names no file".into());
    }
    let dir = folder_of(path);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let probe = temp_path(path, "probe");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `dir/.name.slagate-PID-WHAT.tmp`: beside the destination (a rename never crosses file
/// systems), hidden, and unique to this process.
fn temp_path(path: &Path, what: &str) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    folder_of(path).join(format!(".{name}.slagate-{}-{what}.tmp", std::process::id()))
}

fn unwritable(format: Format, path: &Path, e: std::io::Error) -> OutputError {
    OutputError::Unwritable {
        format: format.name(),
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Write `bytes` to a temporary file beside `path`, then rename it over `path`.
fn write_atomic(format: Format, path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let _ = std::fs::create_dir_all(folder_of(path));
    let temp = temp_path(path, "write");
    let result = std::fs::File::create(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(unwritable(format, path, e));
    }
    Ok(())
}

/// `report.json` → `report-run2.json`: where run K of a repeated run is saved.
pub fn run_path(path: &Path, k: usize) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-run{k}.{}", ext.to_string_lossy()),
        None => format!("{stem}-run{k}"),
    };
    path.with_file_name(name)
}

/// The file named by `GITHUB_STEP_SUMMARY`, when set (as in every GitHub Actions step).
pub fn step_summary_path() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// Append Markdown to the step summary at `path`, on a line of its own: GitHub renders the
/// whole file after the step, and earlier steps may have left a line unfinished.
pub fn append_step_summary(path: &Path, markdown: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let separator = if file.metadata()?.len() > 0 { "\n" } else { "" };
    file.write_all(format!("{separator}{markdown}").as_bytes())?;
    file.flush()
}

/// A not-run document for now.
pub fn not_run(reason: impl Into<String>, exit_code: u8) -> NotRun {
    NotRun {
        reason: reason.into(),
        exit_code,
        at: SystemTime::now(),
        slagate_version: env!("CARGO_PKG_VERSION").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::sample_run;

    #[test]
    fn checking_leaves_nothing_behind_and_finds_what_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let wanted = vec![
            (Format::Json, dir.path().join("new/run.json")),
            (Format::Junit, dir.path().join("junit.xml")),
            (Format::Csv, dir.path().join("out/locust")),
        ];
        let outputs = Outputs::for_run(&wanted);
        assert!(outputs.check().is_empty());
        // Folders are made; no file, placeholder or probe is left anywhere.
        let mut left: Vec<PathBuf> = walk(dir.path());
        left.sort();
        assert_eq!(left, Vec::<PathBuf>::new(), "nothing but folders");
        assert!(dir.path().join("new").is_dir());

        let bad = Outputs::for_run(&[
            (Format::Html, dir.path().to_path_buf()),
            (Format::Markdown, PathBuf::from("/proc/no/such/report.md")),
        ]);
        let errors = bad.check();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].to_string().contains("it is a directory"),
            "{}",
            errors[0]
        );
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    #[test]
    fn writing_replaces_the_old_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("run.json");
        std::fs::write(&json, "an older run").unwrap();
        let outputs = Outputs::for_run(&[
            (Format::Json, json.clone()),
            (Format::Csv, dir.path().join("locust")),
        ]);
        assert!(outputs.write(&sample_run()).is_empty());
        let written = std::fs::read(&json).unwrap();
        assert!(crate::report::json::load(&written).is_ok());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "locust_exceptions.csv",
                "locust_failures.csv",
                "locust_stats.csv",
                "locust_stats_history.csv",
                "run.json"
            ]
        );
    }

    #[test]
    fn a_run_not_made_replaces_every_stale_report() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let wanted = vec![
            (Format::Json, p("run.json")),
            (Format::Junit, p("junit.xml")),
            (Format::Markdown, p("summary.md")),
            (Format::Html, p("report.html")),
            (Format::Csv, p("locust")),
        ];
        let outputs = Outputs::for_run(&wanted);
        assert!(outputs.write(&sample_run()).is_empty());
        let doc = not_run("target http://127.0.0.1:9 is unreachable", 3);
        assert!(outputs.write_not_run(&doc).is_empty());

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p("run.json")).unwrap()).unwrap();
        assert_eq!(json["verdict"], "not-run");
        assert_eq!(json["exit_code"], 3);
        assert_eq!(json["reason"], "target http://127.0.0.1:9 is unreachable");
        let junit = std::fs::read_to_string(p("junit.xml")).unwrap();
        assert!(junit.contains("<error"), "{junit}");
        assert!(junit.contains("unreachable"), "{junit}");
        for name in ["summary.md", "report.html"] {
            let text = std::fs::read_to_string(p(name)).unwrap();
            assert!(text.contains("NOT RUN"), "{name}: {text}");
            assert!(text.contains("unreachable"), "{name}: {text}");
        }
        assert!(!p("locust_stats.csv").exists(), "stale CSV removed");
    }

    #[test]
    fn per_run_paths_sit_beside_the_combined_file() {
        assert_eq!(
            run_path(Path::new("out/report.json"), 2),
            Path::new("out/report-run2.json")
        );
        assert_eq!(run_path(Path::new("report"), 1), Path::new("report-run1"));
        let outputs = Outputs::for_run(&[
            (Format::Json, PathBuf::from("a/run.json")),
            (Format::Html, PathBuf::from("a/run.html")),
        ]);
        let run3 = outputs.per_run(3);
        let paths: Vec<&Path> = run3.files.iter().map(|f| f.path.as_path()).collect();
        assert_eq!(paths, [Path::new("a/run-run3.json")]);
    }

    #[test]
    fn the_step_summary_starts_on_a_line_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary");
        std::fs::write(&path, "earlier step, no newline").unwrap();
        append_step_summary(&path, "## SLA PASSED\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "earlier step, no newline\n## SLA PASSED\n"
        );
    }
}
