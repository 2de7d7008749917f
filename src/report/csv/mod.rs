//! Locust-compatible CSV (`--csv PREFIX`): `PREFIX_stats.csv`, `PREFIX_failures.csv`,
//! `PREFIX_stats_history.csv` and `PREFIX_exceptions.csv`, byte-compatible with Locust 2.x
//! (checked against real Locust 2.47 output, see `../shared/reference/locust-formats.md` §1, §4):
//! the same headers and column order, rows sorted by (name, method), the `Aggregated` row last
//! with an empty Type, CRLF line ends, minimal quoting, `N/A` only in percentile columns of an
//! entry without requests, and Python's number formatting (`repr(float)`, plain ints, and the
//! int/float type changes Locust's columns go through). Owns only these four renderings; the
//! Locust arithmetic they need lives in `locust`. Pure: no I/O, no clock.
//!
//! Where our numbers necessarily mean something slightly different from Locust's:
//! - **Measured window.** The stats and failures are those of the measured window, ramp-up
//!   excluded: what Locust writes when run with `--reset-stats`. Requests/s and Failures/s are
//!   the window's rates (`EndpointStats::rps`), not Locust's `num_requests / (last request −
//!   start)`; requests still in flight when the run time passed count in the totals but not in
//!   the rates.
//! - **Response times** come from our HdrHistogram (µs, 3 significant digits), not from exact
//!   per-request floats: each histogram bucket is read at its highest equivalent value, then
//!   Locust's 2-significant-digit bucketing, percentile rank and 2.47 median are applied exactly.
//!   Average, Min and Max are the histogram's mean, min and max in ms (within 0.1% of exact).
//! - **Errors.** Locust writes `repr(exception)` (`HTTPError('503 Server Error: …')`); we write
//!   the example text kept for the failure kind (status line and body excerpt, or the transport
//!   error), or the kind's label when none was kept. One row per (method, name, kind); kinds
//!   whose text coincides are merged, as Locust merges equal errors. First/Last Seen are the
//!   start of the first and last second the kind was seen in (Locust: the exact times,
//!   truncated to the second).
//! - **Exceptions.** slagate runs no user code, so `_exceptions.csv` only has its header (Locust
//!   always writes the file; consumers may open it).
//! - **History.** Locust appends a row every wall-clock second while it runs; we write the same
//!   rows afterwards from the timeline: a zero row stamped at the start (Locust's first row, with
//!   0 users), then one row per timeline second stamped at the end of that second (the drain
//!   second, if any, last). Cumulative columns restart at the window start, as `--reset-stats`
//!   makes Locust's do, so the last row equals the `Aggregated` row of `_stats.csv`, as in
//!   Locust. Only the default (Aggregated-only) history is written, not `--csv-full-history`.
//! - **History percentiles (gap).** Cumulative percentiles, median, average, min, max and
//!   content size per second need each second's latencies and body bytes, which the timeline
//!   does not carry (only per-second p50/p95/p99 and counts). Those cells are written `N/A`
//!   (Locust's "no value") except where they are known exactly: rows without requests (Locust's
//!   zero state) and the last row (the window's totals). `Second::detail` is the hook that makes
//!   every row exact once the timeline carries a per-second `Sparse` histogram and body bytes.
//!   Timestamp, User Count, Requests/s, Failures/s and the total counts are exact on every row.

mod locust;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::csv::{QuoteStyle, Terminator, WriterBuilder};

use self::locust::{PyNum, Times, avg_content_length, current_rate, error_key};
use super::table::LOCUST_PERCENTILES;
use super::{RenderError, Reporter, RunReport};
use crate::stats::{EndpointStats, Sparse, new_histogram};

/// `PREFIX_stats.csv`: one row per endpoint, then `Aggregated`.
pub struct CsvStats;
/// `PREFIX_failures.csv`: one row per (method, name, error).
pub struct CsvFailures;
/// `PREFIX_stats_history.csv`: the Aggregated row once per second of the run.
pub struct CsvHistory;
/// `PREFIX_exceptions.csv`: the header only (slagate runs no user code that could raise).
pub struct CsvExceptions;

/// Every file `--csv PREFIX` writes: the suffix appended to the prefix, and its reporter, in
/// Locust's order.
pub const FILES: [(&str, &dyn Reporter); 4] = [
    ("_stats.csv", &CsvStats),
    ("_stats_history.csv", &CsvHistory),
    ("_failures.csv", &CsvFailures),
    ("_exceptions.csv", &CsvExceptions),
];

/// `PREFIX` + suffix, as Locust names its files (`out/run` → `out/run_stats.csv`): the suffix
/// is appended to the last path component, never joined as a new one.
pub fn path(prefix: &Path, suffix: &str) -> PathBuf {
    let mut p = prefix.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

const STATS_COLUMNS: [&str; 11] = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
];

const FAILURES_HEADER: [&str; 6] = [
    "Method",
    "Name",
    "Error",
    "Occurrences",
    "First Seen",
    "Last Seen",
];

const EXCEPTIONS_HEADER: [&str; 4] = ["Count", "Message", "Traceback", "Nodes"];

const HISTORY_COLUMNS: [&str; 6] = [
    "Timestamp",
    "User Count",
    "Type",
    "Name",
    "Requests/s",
    "Failures/s",
];

const HISTORY_TOTAL_COLUMNS: [&str; 7] = [
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
];

const NA: &str = "N/A";

fn percents() -> Vec<f64> {
    LOCUST_PERCENTILES.iter().map(|(p, _)| *p).collect()
}

fn stats_header() -> Vec<&'static str> {
    let mut h = STATS_COLUMNS.to_vec();
    h.extend(LOCUST_PERCENTILES.iter().map(|(_, label)| *label));
    h
}

fn history_header() -> Vec<&'static str> {
    let mut h = HISTORY_COLUMNS.to_vec();
    h.extend(LOCUST_PERCENTILES.iter().map(|(_, label)| *label));
    h.extend(HISTORY_TOTAL_COLUMNS);
    h
}

/// Python's `csv.writer` with the default `excel` dialect: `,`, CRLF, `QUOTE_MINIMAL` (quote a
/// field only for `,` `"` CR or LF; double the `"`).
fn write_csv(header: &[&str], rows: Vec<Vec<String>>) -> Result<Vec<u8>, RenderError> {
    let err = |e: ::csv::Error| RenderError::Format(format!("CSV: {e}"));
    let mut w = WriterBuilder::new()
        .terminator(Terminator::CRLF)
        .quote_style(QuoteStyle::Necessary)
        .from_writer(Vec::new());
    w.write_record(header).map_err(err)?;
    for row in rows {
        w.write_record(&row).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| RenderError::Format(format!("CSV: {}", e.error())))
}

impl Reporter for CsvStats {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        write_csv(&stats_header(), stats_rows(run))
    }
}

impl Reporter for CsvFailures {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        write_csv(&FAILURES_HEADER, failure_rows(run))
    }
}

impl Reporter for CsvHistory {
    fn render(&self, run: &RunReport) -> Result<Vec<u8>, RenderError> {
        write_csv(&history_header(), history_rows(run))
    }
}

impl Reporter for CsvExceptions {
    fn render(&self, _run: &RunReport) -> Result<Vec<u8>, RenderError> {
        write_csv(&EXCEPTIONS_HEADER, Vec::new())
    }
}

/// The percentile cells: bucket ints, or all `N/A` for an entry without requests.
fn percentile_cells(requests: u64, times: &Times) -> impl Iterator<Item = String> + '_ {
    times.percentiles.iter().map(move |p| {
        if requests == 0 {
            NA.to_string()
        } else {
            p.to_string()
        }
    })
}

fn stats_row(method: &str, name: &str, st: &EndpointStats) -> Vec<String> {
    let mut t = Times::of(&st.latency, &percents());
    written_times(&mut t, st);
    let mut row = vec![
        method.to_string(),
        name.to_string(),
        st.requests.to_string(),
        st.failures.to_string(),
        t.median.to_string(),
        t.avg.to_string(),
        t.min.to_string(),
        t.max.to_string(),
        avg_content_length(st.body_bytes, st.requests).to_string(),
        PyNum::Float(st.rps).to_string(),
        PyNum::Float(st.failures_per_s).to_string(),
    ];
    row.extend(percentile_cells(st.requests, &t));
    row
}

/// An imported run (`slagate judge`): Locust's own exact Average, Min and Max rather than the
/// histogram's, which for percentile points only is synthesised and would invent them; the
/// median clamped to them as Locust clamps it.
fn written_times(t: &mut Times, st: &EndpointStats) {
    let Some(w) = &st.written else { return };
    if st.latency.is_empty() {
        return;
    }
    let ms = |d: std::time::Duration| d.as_nanos() as f64 / 1e6;
    if let Some(mean) = w.mean {
        t.avg = PyNum::Float(ms(mean));
    }
    if let (Some(lo), Some(hi)) = (w.min, w.max) {
        let (lo, hi) = (ms(lo), ms(hi));
        t.min = if lo == 0.0 {
            PyNum::Int(0)
        } else {
            PyNum::Float(lo)
        };
        t.max = PyNum::Float(hi);
        // The 50% column is the first of Locust's percentiles.
        let m = t.percentiles[0];
        t.median = if m as f64 > hi {
            PyNum::Float(hi)
        } else if (m as f64) < lo {
            PyNum::Float(lo)
        } else {
            PyNum::Int(m)
        };
    }
}

fn stats_rows(run: &RunReport) -> Vec<Vec<String>> {
    let mut entries: Vec<_> = run.endpoints.iter().collect();
    // Locust sorts by the (name, method) tuple; Rust's byte order of UTF-8 is Python's code
    // point order. The sort is stable, so duplicates (which Locust would merge) keep plan order.
    entries.sort_by(|a, b| (&a.name, &a.method).cmp(&(&b.name, &b.method)));
    let mut rows: Vec<Vec<String>> = entries
        .into_iter()
        .map(|e| stats_row(&e.method, &e.name, &e.stats))
        .collect();
    rows.push(stats_row("", "Aggregated", &run.total));
    rows
}

/// `%Y-%m-%dT%H:%M:%SZ` of a run offset, truncated to the second like Locust's
/// `datetime.fromtimestamp(int(ts), UTC)`.
fn utc_seconds(run: &RunReport, offset: Duration) -> String {
    humantime::format_rfc3339_seconds(run.started_at + offset).to_string()
}

fn failure_rows(run: &RunReport) -> Vec<Vec<String>> {
    struct Row {
        method: String,
        name: String,
        error: String,
        count: u64,
        first: Duration,
        last: Duration,
    }
    // Keyed by Locust's own error key: equal (method, name, error) merge, and the map's order
    // is the file's order.
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for e in &run.endpoints {
        for k in &e.stats.failures_by_kind {
            let error = k
                .example
                .as_ref()
                .map_or_else(|| k.kind.to_string(), |ex| ex.text.clone());
            let key = error_key(&e.method, &e.name, &error);
            match rows.get_mut(&key) {
                Some(r) => {
                    r.count += k.count;
                    r.first = r.first.min(k.first_seen);
                    r.last = r.last.max(k.last_seen);
                }
                None => {
                    rows.insert(
                        key,
                        Row {
                            method: e.method.clone(),
                            name: e.name.clone(),
                            error,
                            count: k.count,
                            first: k.first_seen,
                            last: k.last_seen,
                        },
                    );
                }
            }
        }
    }
    rows.into_values()
        .map(|r| {
            vec![
                r.method,
                r.name,
                r.error,
                r.count.to_string(),
                utc_seconds(run, r.first),
                utc_seconds(run, r.last),
            ]
        })
        .collect()
}

/// One second of the Aggregated timeline, as the history needs it.
struct Second<'a> {
    /// Seconds since the start of the run.
    second: u32,
    users: u32,
    requests: u64,
    failures: u64,
    /// The latencies (µs) and body bytes of the requests completed in this second. `None` while
    /// the timeline does not carry them; with them every history row is exact.
    detail: Option<(&'a Sparse, u64)>,
}

/// Whole seconds since the Unix epoch, as Locust's `int(time.time())`.
fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn history_rows(run: &RunReport) -> Vec<Vec<String>> {
    let seconds: Vec<Second> = run
        .timeline
        .iter()
        .map(|p| Second {
            second: p.second,
            users: p.users,
            requests: p.total.requests,
            failures: p.total.failures,
            // A second with requests but no latencies (a hand-made report) has no detail:
            // its percentile cells stay N/A rather than be invented.
            detail: (p.total.requests == 0 || !p.total.latency.is_empty())
                .then_some((&p.total.latency, p.total.body_bytes)),
        })
        .collect();
    let reset = u32::try_from(run.window.start.as_secs()).unwrap_or(u32::MAX);
    history(
        epoch_secs(run.started_at),
        reset,
        &seconds,
        Some(&run.total),
    )
}

/// The cumulative state of Locust's `stats.total` between two resets.
struct Period {
    start: u32,
    requests: u64,
    failures: u64,
    /// Per-second (requests, failures), for the current rates.
    per_second: BTreeMap<i64, (u64, u64)>,
    last_request: Option<i64>,
    /// Cumulative latencies and body bytes; `None` once a second without detail was added.
    detail: Option<(hdrhistogram::Histogram<u64>, u64)>,
}

impl Period {
    fn new(start: u32) -> Period {
        Period {
            start,
            requests: 0,
            failures: 0,
            per_second: BTreeMap::new(),
            last_request: None,
            detail: Some((new_histogram(), 0)),
        }
    }

    fn add(&mut self, s: &Second) {
        self.requests += s.requests;
        self.failures += s.failures;
        self.per_second
            .insert(i64::from(s.second), (s.requests, s.failures));
        if s.requests > 0 {
            self.last_request = Some(i64::from(s.second));
        }
        self.detail = match (self.detail.take(), s.detail) {
            (Some((mut h, bytes)), Some((latency, body))) => {
                latency.add_to(&mut h);
                Some((h, bytes + body))
            }
            // A second without requests adds nothing, detail or not.
            (Some(d), None) if s.requests == 0 => Some(d),
            _ => None,
        };
    }

    fn rate(&self, pick: impl Fn((u64, u64)) -> u64) -> String {
        let r = current_rate(self.last_request, i64::from(self.start), |t| {
            self.per_second.get(&t).map_or(0, |&c| pick(c))
        });
        // Locust's f"{x:2f}": width 2, default precision 6.
        format!("{r:.6}")
    }
}

/// The history rows: a zero row at `start_epoch`, then one row per second, cumulative columns
/// restarting at second `reset`. `total`, when given, is what the last row's cumulative state
/// must be (the window's totals); it fills that row's cells when the seconds lack detail.
fn history(
    start_epoch: u64,
    reset: u32,
    seconds: &[Second],
    total: Option<&EndpointStats>,
) -> Vec<Vec<String>> {
    let percents = percents();
    let mut period = Period::new(0);
    let mut rows = vec![history_row(start_epoch, 0, &period, None, &percents)];
    for (i, s) in seconds.iter().enumerate() {
        if s.second >= reset && period.start < reset {
            period = Period::new(reset);
        }
        period.add(s);
        let last = i + 1 == seconds.len();
        let known_total = total
            .filter(|t| last && t.requests == period.requests && t.failures == period.failures);
        rows.push(history_row(
            start_epoch + u64::from(s.second) + 1,
            s.users,
            &period,
            known_total,
            &percents,
        ));
    }
    rows
}

fn history_row(
    timestamp: u64,
    users: u32,
    period: &Period,
    known_total: Option<&EndpointStats>,
    percents: &[f64],
) -> Vec<String> {
    let mut row = vec![
        timestamp.to_string(),
        users.to_string(),
        String::new(),
        "Aggregated".to_string(),
        period.rate(|(r, _)| r),
        period.rate(|(_, f)| f),
    ];
    let empty = new_histogram();
    let cumulative = match (&period.detail, known_total) {
        (Some((h, bytes)), _) => Some((h, *bytes)),
        (None, Some(t)) => Some((&t.latency, t.body_bytes)),
        // Without requests the zero state is known whatever the detail.
        (None, None) if period.requests == 0 => Some((&empty, 0)),
        (None, None) => None,
    };
    match cumulative {
        Some((h, bytes)) => {
            let t = Times::of(h, percents);
            row.extend(percentile_cells(period.requests, &t));
            row.extend([
                period.requests.to_string(),
                period.failures.to_string(),
                t.median.to_string(),
                t.avg.to_string(),
                t.min.to_string(),
                t.max.to_string(),
                avg_content_length(bytes, period.requests).to_string(),
            ]);
        }
        None => {
            row.extend(percents.iter().map(|_| NA.to_string()));
            row.extend([period.requests.to_string(), period.failures.to_string()]);
            row.extend((0..5).map(|_| NA.to_string()));
        }
    }
    row
}
