//! How a number is written, everywhere: one formatter each for latencies, run lengths, offsets
//! into a run, rates, percentages and sizes, so that the terminal, every report and every
//! diagnostic print the same figure the same way; and the process's exit codes. Imports nothing
//! of ours; anyone may import it.
//!
//! Two rules shape the formatters. A figure keeps the precision that lets a reader compare it
//! with its limit (three significant digits for latencies and rates), and trailing zeros go
//! (budgets are written round: `10 ms`, not `10.0 ms`). Units are written as people write
//! them: `ms` with a space for latencies ("212 ms"), none for run lengths ("4m50s", which
//! `--run-time` accepts back) and percentages ("2.4%").

use std::time::Duration;

/// How a command ended, as documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every check passed (or some were INCONCLUSIVE, without `--strict`).
    Pass,
    /// A check failed, an `abort_when` rule stopped the run, or a regression.
    SlaFailed,
    /// Bad configuration, flags, paths or saved files: nothing was sent.
    BadInput,
    /// The run could not be made (target unreachable, interrupted) or, once made, a
    /// report could not be written.
    NotRun,
    /// INCONCLUSIVE under `--strict`, or an INVALID run.
    Undecided,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Pass => 0,
            Exit::SlaFailed => 1,
            Exit::BadInput => 2,
            Exit::NotRun => 3,
            Exit::Undecided => 4,
        }
    }
}

/// A latency for people: "842 µs", "4.27 ms", "21.8 ms", "212 ms", "2.61 s", "1m 30s".
pub fn duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    let text = if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 10_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us < 100_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us < 1_000_000.0 {
        format!("{:.0} ms", us / 1000.0)
    } else if us < 60_000_000.0 {
        format!("{:.2} s", us / 1e6)
    } else {
        return humantime::format_duration(Duration::from_secs(d.as_secs())).to_string();
    };
    match text.split_once(' ') {
        Some((num, unit)) if num.contains('.') => format!("{} {unit}", trim(num)),
        _ => text,
    }
}

/// A latency range: "200–800 ms", "500 ms–1.5 s", "1 s" when both ends agree.
pub fn range(min: Duration, max: Duration) -> String {
    let (lo, hi) = (duration(min), duration(max));
    if min == max {
        return lo;
    }
    match (lo.split_once(' '), hi.split_once(' ')) {
        (Some((a, u1)), Some((b, u2))) if u1 == u2 => format!("{a}–{b} {u1}"),
        _ => format!("{lo}–{hi}"),
    }
}

/// A latency in milliseconds, for machine formats and charts.
pub fn ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

/// Microseconds (how histograms count) in milliseconds.
pub fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1e3
}

/// A length of time as `--run-time` takes it: "250ms", "1.5s", "58s", "5m", "4m50s", "1h",
/// "1h05m", "1h05m30s".
pub fn length(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    if d < Duration::from_secs(60) && d.subsec_millis() != 0 {
        return format!("{}s", trim(&format!("{:.1}", d.as_secs_f64())));
    }
    let s = d.as_secs() + u64::from(d.subsec_millis() >= 500);
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m:02}m"),
        (h, m, s) => format!("{h}h{m:02}m{s:02}s"),
    }
}

/// An offset into the run, as a clock: "0:08", "4:50", "72:00".
pub fn offset(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// Requests per second with three significant digits: "0.35", "4.5", "48.2", "364".
pub fn rate(r: f64) -> String {
    if !r.is_finite() {
        return "—".into();
    }
    let text = if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 10.0 {
        format!("{r:.1}")
    } else if r >= 1.0 {
        format!("{r:.2}")
    } else {
        format!("{r:.3}")
    };
    trim(&text).to_string()
}

/// A fraction (0.0..=1.0) as a percentage with the precision it needs: "0%", "0.004%",
/// "0.04%", "2.4%", "31.4%", "100%" ("<0.001%" below that). Never rounds a non-zero share to "0%", nor a share below
/// one to "100%": a reader compares it with a limit.
pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if !p.is_finite() {
        return "—".into();
    }
    if p == 0.0 || p == 100.0 {
        return format!("{p:.0}%");
    }
    if p.abs() < 0.001 {
        return "<0.001%".into();
    }
    let text = if p.abs() < 0.01 {
        format!("{p:.3}")
    } else if p.abs() < 1.0 {
        format!("{p:.2}")
    } else if p.abs() < 99.0 {
        format!("{p:.1}")
    } else {
        format!("{p:.2}")
    };
    let text = trim(&text);
    if text == "100" {
        return "99.99%".into();
    }
    format!("{text}%")
}

/// A change in percent, signed: "+30.3%", "−4.1%" (a real minus sign, U+2212), "0%".
pub fn signed_percent(fraction: f64) -> String {
    let text = percent(fraction.abs());
    if fraction > 0.0 {
        format!("+{text}")
    } else if fraction < 0.0 {
        format!("−{text}")
    } else {
        text
    }
}

/// A change of a share in percentage points, signed like `signed_percent`: "+0.75 pp",
/// "−0.1 pp", "0 pp".
pub fn signed_points(fraction: f64) -> String {
    let text = signed_percent(fraction);
    format!("{} pp", text.strip_suffix('%').unwrap_or(&text))
}

/// A byte count: "512 B", "8.0 KiB", "12.4 MiB", "1.2 GiB".
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A configured number as written: "40", "12.5".
pub fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// "1 request", "3 requests".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn trim(num: &str) -> &str {
    if num.contains('.') {
        num.trim_end_matches('0').trim_end_matches('.')
    } else {
        num
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn latencies_keep_three_digits_and_drop_trailing_zeros() {
        let cases = [
            (Duration::from_micros(842), "842 µs"),
            (Duration::from_micros(4270), "4.27 ms"),
            (ms_(10), "10 ms"),
            (Duration::from_micros(21_790), "21.8 ms"),
            (ms_(212), "212 ms"),
            (ms_(2610), "2.61 s"),
            (ms_(2500), "2.5 s"),
            (Duration::from_secs(90), "1m 30s"),
        ];
        for (d, want) in cases {
            assert_eq!(duration(d), want, "{d:?}");
        }
        assert_eq!(range(ms_(200), ms_(800)), "200–800 ms");
        assert_eq!(range(ms_(500), ms_(1500)), "500 ms–1.5 s");
        assert_eq!(range(ms_(1000), ms_(1000)), "1 s");
    }

    #[test]
    fn lengths_read_back_as_run_times() {
        let cases = [
            (ms_(250), "250ms"),
            (ms_(1500), "1.5s"),
            (Duration::from_secs(58), "58s"),
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(290), "4m50s"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(3900), "1h05m"),
            (Duration::from_secs(3930), "1h05m30s"),
        ];
        for (d, want) in cases {
            assert_eq!(length(d), want);
            if d >= Duration::from_secs(1) {
                assert_eq!(humantime::parse_duration(want).ok(), Some(d), "{want}");
            }
        }
        assert_eq!(offset(Duration::from_secs(290)), "4:50");
    }

    #[test]
    fn rates_and_percentages_never_look_like_their_neighbours() {
        assert_eq!(rate(0.35), "0.35");
        assert_eq!(rate(4.5), "4.5");
        assert_eq!(rate(48.24), "48.2");
        assert_eq!(rate(364.4), "364");
        assert_eq!(rate(10.0), "10");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.000_04), "0.004%");
        assert_eq!(percent(0.0004), "0.04%");
        assert_eq!(percent(0.024), "2.4%");
        assert_eq!(percent(0.314), "31.4%");
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(0.001), "0.1%");
        // A share below one never prints as all, and a non-zero one never as none.
        assert_eq!(percent(0.999_999), "99.99%");
        assert_ne!(percent(1e-9), "0%");
        assert_eq!(signed_percent(0.303), "+30.3%");
        assert_eq!(signed_percent(-0.041), "−4.1%");
        assert_eq!(signed_points(0.0075), "+0.75 pp");
        assert_eq!(signed_points(-0.001), "−0.1 pp");
        assert_eq!(signed_points(0.0), "0 pp");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(8 * 1024 * 1024), "8.0 MiB");
        assert_eq!(number(40.0), "40");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(Exit::NotRun.code(), 3);
    }
}
