//! Reading what Locust 2.x wrote: `PREFIX_stats.csv`, `PREFIX_stats_history.csv`,
//! `PREFIX_failures.csv` (`--csv PREFIX`) and the array `--json` prints. Columns are found by
//! their header names (locust-formats.md §1), so a file from any 2.x release reads; a file
//! without them is not Locust's and is refused with the file and line.

use std::path::{Path, PathBuf};

use miette::{NamedSource, SourceSpan};
use serde::Deserialize;

use super::{FormatError, LocustError};

/// Locust's percentile columns, as quantiles and as headers.
pub use crate::stats::LOCUST_PERCENTILES as PERCENTILES;

/// One row of `PREFIX_stats.csv`. Times in ms, as Locust wrote them.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRow {
    /// `GET`, …; empty for the Aggregated row.
    pub method: String,
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    pub median_ms: f64,
    pub average_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub average_size: f64,
    pub rps: f64,
    pub failures_per_s: f64,
    /// The 50% … 100% columns in [`PERCENTILES`] order; `None` when Locust wrote `N/A` (no
    /// requests).
    pub percentiles: Option<[u64; 11]>,
    /// 1-based line in the file.
    pub line: u64,
}

/// One row of `PREFIX_stats_history.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// Unix seconds.
    pub timestamp: u64,
    pub users: u32,
    pub method: String,
    pub name: String,
    pub percentiles: Option<[u64; 11]>,
    pub total_requests: u64,
    pub total_failures: u64,
}

/// One row of `PREFIX_failures.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRow {
    pub method: String,
    pub name: String,
    pub error: String,
    pub occurrences: u64,
    /// Unix seconds (2.44+; `None` before, or when empty).
    pub first_seen: Option<u64>,
    pub last_seen: Option<u64>,
}

/// One entry of `locust --json` (locust-formats.md §3): no Aggregated entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct JsonEntry {
    pub name: String,
    pub method: String,
    pub last_request_timestamp: Option<f64>,
    pub start_time: f64,
    pub num_requests: u64,
    #[serde(default)]
    pub num_none_requests: u64,
    pub num_failures: u64,
    pub total_response_time: f64,
    pub max_response_time: f64,
    pub min_response_time: Option<f64>,
    #[serde(default)]
    pub total_content_length: u64,
    /// Bucketed ms (as strings) → count.
    pub response_times: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub num_reqs_per_sec: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub num_fail_per_sec: std::collections::BTreeMap<String, u64>,
}

/// Everything read from one Locust run.
#[derive(Debug, Clone, Default)]
pub struct Files {
    /// `PREFIX_stats.csv`, the Aggregated row apart.
    pub stats: Vec<StatsRow>,
    pub aggregated: Option<StatsRow>,
    pub history: Option<Vec<HistoryRow>>,
    pub failures: Vec<FailureRow>,
    pub json: Option<Vec<JsonEntry>>,
    /// What was read, for the report ("run_stats.csv, run_stats_history.csv").
    pub read: Vec<PathBuf>,
}

/// `PREFIX_stats.csv` beside `PREFIX` (as Locust names it: the suffix is appended).
pub fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Reads `PREFIX_stats.csv` (required) and the history and failures files when present, and
/// the `--json` output when given. At least one of the two must be given.
pub fn read(prefix: Option<&Path>, json: Option<&Path>) -> Result<Files, LocustError> {
    let mut files = Files::default();
    if let Some(prefix) = prefix {
        let path = with_suffix(prefix, "_stats.csv");
        let text = read_text(&path)?;
        let (rows, aggregated) = stats_rows(&path, &text)?;
        files.stats = rows;
        files.aggregated = aggregated;
        files.read.push(path);
        let path = with_suffix(prefix, "_stats_history.csv");
        if path.exists() {
            let text = read_text(&path)?;
            files.history = Some(history_rows(&path, &text)?);
            files.read.push(path);
        }
        let path = with_suffix(prefix, "_failures.csv");
        if path.exists() {
            let text = read_text(&path)?;
            files.failures = failure_rows(&path, &text)?;
            files.read.push(path);
        }
    }
    if let Some(path) = json {
        let text = read_text(path)?;
        let entries = json_entries(path, &text)?;
        if entries.is_empty() {
            // Locust resets each entry as it serialises it: with --json and --json-file, the
            // file is `[]` (locust-formats.md §3).
            return Err(LocustError::Format(Box::new(FormatError {
                path: path.display().to_string(),
                line: 1,
                message: "no entries: Locust's --json output is empty".to_string(),
                help: "with --json and --json-file both given, Locust writes `[]` to the \
                       --json-file (printing to stdout empties its entries first): pass what \
                       --json printed, or run with --json-file alone"
                    .to_string(),
                src: NamedSource::new(path.display().to_string(), text.clone()),
                span: SourceSpan::new(0.into(), text.len().clamp(1, 2)),
            })));
        }
        files.json = Some(entries);
        files.read.push(path.to_path_buf());
    }
    Ok(files)
}

fn read_text(path: &Path) -> Result<String, LocustError> {
    std::fs::read_to_string(path).map_err(|e| LocustError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// A CSV file's header and records, with each record's line and byte offset.
struct Table<'a> {
    path: &'a Path,
    text: &'a str,
    header: csv::StringRecord,
}

impl<'a> Table<'a> {
    fn error(
        &self,
        offset: usize,
        len: usize,
        line: u64,
        message: String,
        help: &str,
    ) -> LocustError {
        let len = len
            .max(1)
            .min(self.text.len().saturating_sub(offset).max(1));
        LocustError::Format(Box::new(FormatError {
            path: self.path.display().to_string(),
            line,
            message,
            help: help.to_string(),
            src: NamedSource::new(self.path.display().to_string(), self.text.to_string()),
            span: SourceSpan::new(offset.min(self.text.len()).into(), len),
        }))
    }

    fn column(&self, name: &str, what: &str) -> Result<usize, LocustError> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            let first = self.text.lines().next().map_or(0, str::len);
            self.error(
                0,
                first,
                1,
                format!("no `{name}` column: this is not a Locust {what}"),
                &format!(
                    "pass the PREFIX given to `locust --csv PREFIX` (Locust 2.x); its {what} \
                     starts with the header in locust-formats.md"
                ),
            )
        })
    }
}

/// Each record with its 1-based line and the byte offset where it starts.
type Records = Vec<(csv::StringRecord, u64, usize)>;

/// Opens a CSV text: `what` names the file kind in errors.
fn records<'a>(
    path: &'a Path,
    text: &'a str,
    what: &str,
) -> Result<(Table<'a>, Records), LocustError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let bad = |e: csv::Error| {
        let (line, offset) = e
            .position()
            .map_or((1, 0), |p| (p.line(), p.byte() as usize));
        let table = Table {
            path,
            text,
            header: csv::StringRecord::new(),
        };
        table.error(
            offset,
            text[offset.min(text.len())..].find('\n').unwrap_or(1),
            line,
            format!("not a readable {what}: {e}"),
            "Locust writes every row with as many fields as its header",
        )
    };
    let header = reader.headers().map_err(bad)?.clone();
    if header.is_empty() || text.trim().is_empty() {
        return Err(Table { path, text, header }.error(
            0,
            1,
            1,
            format!("the {what} is empty"),
            "Locust writes its header when it starts; was the run made?",
        ));
    }
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(bad)?;
        // With CRLF ends the csv crate places a record at the `\n` that ends the line before
        // it: step over line ends, and count lines from the offset.
        let mut byte = rec.position().map_or(0, |p| p.byte() as usize);
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        let line = text.as_bytes()[..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        rows.push((rec, line, byte));
    }
    Ok((Table { path, text, header }, rows))
}

/// A field parsed as `T`, or an error pointing at the record's line.
fn field<T: std::str::FromStr>(
    t: &Table<'_>,
    rec: &csv::StringRecord,
    line: u64,
    offset: usize,
    col: usize,
    name: &str,
) -> Result<T, LocustError> {
    let raw = rec.get(col).unwrap_or("");
    raw.trim().parse::<T>().map_err(|_| {
        let len = t.text[offset..]
            .find(['\r', '\n'])
            .unwrap_or(t.text.len() - offset);
        t.error(
            offset,
            len,
            line,
            format!("`{name}` is {raw:?}, not a number"),
            "Locust writes plain numbers here; was the file edited?",
        )
    })
}

fn percentiles(
    t: &Table<'_>,
    rec: &csv::StringRecord,
    line: u64,
    offset: usize,
    cols: &[usize; 11],
) -> Result<Option<[u64; 11]>, LocustError> {
    if cols.iter().all(|&c| rec.get(c) == Some("N/A")) {
        return Ok(None);
    }
    let mut out = [0u64; 11];
    for (i, &c) in cols.iter().enumerate() {
        out[i] = field(t, rec, line, offset, c, PERCENTILES[i].1)?;
    }
    Ok(Some(out))
}

fn percentile_columns(t: &Table<'_>, what: &str) -> Result<[usize; 11], LocustError> {
    let mut cols = [0usize; 11];
    for (i, (_, label)) in PERCENTILES.iter().enumerate() {
        cols[i] = t.column(label, what)?;
    }
    Ok(cols)
}

/// `PREFIX_stats.csv`: the rows, and the Aggregated row.
pub fn stats_rows(
    path: &Path,
    text: &str,
) -> Result<(Vec<StatsRow>, Option<StatsRow>), LocustError> {
    const WHAT: &str = "requests file (PREFIX_stats.csv)";
    let (t, recs) = records(path, text, WHAT)?;
    let c = |name| t.column(name, WHAT);
    let (ty, name, count, fails) = (
        c("Type")?,
        c("Name")?,
        c("Request Count")?,
        c("Failure Count")?,
    );
    let (median, avg, min, max, size, rps, fps) = (
        c("Median Response Time")?,
        c("Average Response Time")?,
        c("Min Response Time")?,
        c("Max Response Time")?,
        c("Average Content Size")?,
        c("Requests/s")?,
        c("Failures/s")?,
    );
    let pcols = percentile_columns(&t, WHAT)?;
    let mut rows = Vec::new();
    let mut aggregated = None;
    for (rec, line, off) in &recs {
        let f = |col, n| field::<f64>(&t, rec, *line, *off, col, n);
        let row = StatsRow {
            method: rec.get(ty).unwrap_or("").to_string(),
            name: rec.get(name).unwrap_or("").to_string(),
            requests: field(&t, rec, *line, *off, count, "Request Count")?,
            failures: field(&t, rec, *line, *off, fails, "Failure Count")?,
            median_ms: f(median, "Median Response Time")?,
            average_ms: f(avg, "Average Response Time")?,
            min_ms: f(min, "Min Response Time")?,
            max_ms: f(max, "Max Response Time")?,
            average_size: f(size, "Average Content Size")?,
            rps: f(rps, "Requests/s")?,
            failures_per_s: f(fps, "Failures/s")?,
            percentiles: percentiles(&t, rec, *line, *off, &pcols)?,
            line: *line,
        };
        if row.method.is_empty() && row.name == "Aggregated" {
            aggregated = Some(row);
        } else {
            rows.push(row);
        }
    }
    Ok((rows, aggregated))
}

/// `PREFIX_stats_history.csv`, every row (Aggregated only, or every entry with
/// `--csv-full-history`).
pub fn history_rows(path: &Path, text: &str) -> Result<Vec<HistoryRow>, LocustError> {
    const WHAT: &str = "history file (PREFIX_stats_history.csv)";
    let (t, recs) = records(path, text, WHAT)?;
    let c = |name| t.column(name, WHAT);
    let (ts, users, ty, name, total, fails) = (
        c("Timestamp")?,
        c("User Count")?,
        c("Type")?,
        c("Name")?,
        c("Total Request Count")?,
        c("Total Failure Count")?,
    );
    let pcols = percentile_columns(&t, WHAT)?;
    recs.iter()
        .map(|(rec, line, off)| {
            Ok(HistoryRow {
                timestamp: field(&t, rec, *line, *off, ts, "Timestamp")?,
                users: field(&t, rec, *line, *off, users, "User Count")?,
                method: rec.get(ty).unwrap_or("").to_string(),
                name: rec.get(name).unwrap_or("").to_string(),
                percentiles: percentiles(&t, rec, *line, *off, &pcols)?,
                total_requests: field(&t, rec, *line, *off, total, "Total Request Count")?,
                total_failures: field(&t, rec, *line, *off, fails, "Total Failure Count")?,
            })
        })
        .collect()
}

/// `PREFIX_failures.csv`; `First Seen`/`Last Seen` only from Locust 2.44 on.
pub fn failure_rows(path: &Path, text: &str) -> Result<Vec<FailureRow>, LocustError> {
    const WHAT: &str = "failures file (PREFIX_failures.csv)";
    let (t, recs) = records(path, text, WHAT)?;
    let c = |name| t.column(name, WHAT);
    let (method, name, error, occ) = (c("Method")?, c("Name")?, c("Error")?, c("Occurrences")?);
    let first = t.header.iter().position(|h| h == "First Seen");
    let last = t.header.iter().position(|h| h == "Last Seen");
    recs.iter()
        .map(|(rec, line, off)| {
            let seen = |col: Option<usize>, what: &str| -> Result<Option<u64>, LocustError> {
                match col.and_then(|c| rec.get(c)).filter(|s| !s.is_empty()) {
                    None => Ok(None),
                    Some(s) => humantime::parse_rfc3339(s)
                        .map(|t| {
                            t.duration_since(std::time::UNIX_EPOCH)
                                .map_or(0, |d| d.as_secs())
                        })
                        .map(Some)
                        .map_err(|_| {
                            t.error(
                                *off,
                                1,
                                *line,
                                format!("`{what}` is {s:?}, not a time (2026-11-29T10:56:52Z)"),
                                "Locust writes UTC times as %Y-%m-%dT%H:%M:%SZ",
                            )
                        }),
                }
            };
            Ok(FailureRow {
                method: rec.get(method).unwrap_or("").to_string(),
                name: rec.get(name).unwrap_or("").to_string(),
                error: rec.get(error).unwrap_or("").to_string(),
                occurrences: field(&t, rec, *line, *off, occ, "Occurrences")?,
                first_seen: seen(first, "First Seen")?,
                last_seen: seen(last, "Last Seen")?,
            })
        })
        .collect()
}

/// What `locust --json` printed: an array of entries.
pub fn json_entries(path: &Path, text: &str) -> Result<Vec<JsonEntry>, LocustError> {
    serde_json::from_str::<Vec<JsonEntry>>(text).map_err(|e| {
        // serde_json's line and column (1-based) → a byte offset for the label.
        let offset = text
            .split_inclusive('\n')
            .take(e.line().saturating_sub(1))
            .map(str::len)
            .sum::<usize>()
            + e.column().saturating_sub(1);
        LocustError::Format(Box::new(FormatError {
            path: path.display().to_string(),
            line: e.line() as u64,
            message: format!("not the array `locust --json` prints: {e}"),
            help: "pass what `locust --headless --json` wrote to stdout (not --json-file, \
                   and not the --html report)"
                .to_string(),
            src: NamedSource::new(path.display().to_string(), text.to_string()),
            span: SourceSpan::new(offset.min(text.len()).into(), 1),
        }))
    })
}
