//! Locust's arithmetic and Python's formatting, reproduced exactly: the 2-significant-digit
//! response-time buckets (with Python's round-half-to-even), the percentile rank, the 2.47
//! median, the "current" sliding-window rate, `repr(float)` and `repr(str)`, and the sha256 key
//! that orders `failures.csv`. Pure functions of numbers and strings; the reporters in the parent
//! module decide what goes in.

use std::collections::BTreeMap;
use std::fmt;

use hdrhistogram::Histogram;
use sha2::{Digest, Sha256};

/// A number as Python's `csv` module writes it: `str(int)` or `repr(float)`. Locust's columns
/// change type with their state (Min is the int `0` when empty, the float `1.216` otherwise;
/// the median is an int bucket or a clamped float), and the type shows in the bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PyNum {
    Int(u64),
    Float(f64),
}

impl fmt::Display for PyNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PyNum::Int(n) => write!(f, "{n}"),
            PyNum::Float(x) => f.write_str(&py_float_repr(*x)),
        }
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip (Rust computes the same digits),
/// in Python's layout: integral values keep `.0`, and the exponent form is used when the decimal
/// exponent is < -4 or >= 16, signed and at least two digits (`1e-05`, `1.5e+16`).
pub(crate) fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // `{:e}` without a precision gives the shortest round-trip digits ("1.2345e2"), but breaks
    // a tie between two equally close shortest candidates upwards, where Python's dtoa takes the
    // even one (627955234282249.25 → Python …249.2, Rust …249.3). `{:.Ne}` rounds the exact value
    // half to even: at the shortest length it is Python's choice whenever it round-trips; when
    // it does not (near a power of two), Rust's closest round-tripping candidate is Python's.
    let shortest = format!("{:e}", x.abs());
    let len = shortest
        .split_once('e')
        .map_or(0, |(m, _)| m.replace('.', "").len());
    let even = format!("{:.*e}", len.saturating_sub(1), x.abs());
    let sci = if even.parse::<f64>() == Ok(x.abs()) {
        even
    } else {
        shortest
    };
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{dot}{rest}e{exp_sign}{:02}",
            exp.unsigned_abs()
        )
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            format!("{sign}{digits}{}.0", "0".repeat(int_len - digits.len()))
        } else {
            let (int, frac) = digits.split_at(int_len);
            format!("{sign}{int}.{frac}")
        }
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
    }
}

/// Python's `repr(str)`: single quotes unless the text has `'` and no `"`; backslash, the quote,
/// `\t` `\n` `\r` escaped; other non-printable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
///
/// Printability of non-ASCII characters follows `str.isprintable` for every category Python
/// treats as non-printable (controls, format characters, separators other than the space,
/// private use, noncharacters), from fixed ranges. Unassigned code points are not tabulated and
/// stay literal here, where Python escapes them: for such text only the order of
/// `failures.csv` rows can differ from Locust's, never their content.
pub(crate) fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if py_printable(c) => out.push(c),
            c => {
                let n = u32::from(c);
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x1_0000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// `str.isprintable` for one character, minus the unassigned code points (see `py_str_repr`).
fn py_printable(c: char) -> bool {
    let n = u32::from(c);
    if n < 0x80 {
        return (0x20..0x7f).contains(&n);
    }
    const NOT_PRINTABLE: &[(u32, u32)] = &[
        (0x80, 0x9f),   // Cc
        (0xa0, 0xa0),   // Zs: no-break space
        (0xad, 0xad),   // Cf: soft hyphen
        (0x600, 0x605), // Cf: Arabic number signs
        (0x61c, 0x61c),
        (0x6dd, 0x6dd),
        (0x70f, 0x70f),
        (0x890, 0x891),
        (0x8e2, 0x8e2),
        (0x1680, 0x1680), // Zs
        (0x180e, 0x180e),
        (0x2000, 0x200f), // Zs spaces, zero-width and direction marks
        (0x2028, 0x202f), // Zl, Zp, embeddings, narrow no-break space
        (0x205f, 0x2064),
        (0x2066, 0x206f),
        (0x3000, 0x3000),
        (0xd800, 0xf8ff), // surrogates (unreachable in a str) and private use
        (0xfdd0, 0xfdef), // noncharacters
        (0xfeff, 0xfeff), // byte order mark
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
        (0xf0000, 0x10ffff), // planes 15–16: private use and noncharacters
    ];
    // U+xFFFE and U+xFFFF are noncharacters in every plane.
    if n & 0xfffe == 0xfffe {
        return false;
    }
    !NOT_PRINTABLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&n))
}

/// The key Locust files an error under, which is also the order of `failures.csv`:
/// `sha256(f"{method}.{name}.{error!r}").hexdigest()`.
pub(crate) fn error_key(method: &str, name: &str, error: &str) -> String {
    let digest = Sha256::digest(format!("{method}.{name}.{}", py_str_repr(error)).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Locust's `bucket_response_time`: milliseconds rounded to about two significant digits (1 ms
/// below 100 ms, then 10, 100 and 1000 ms steps), Python's `round`, half to even on the exact
/// binary value. `ms` must be finite and non-negative.
pub(crate) fn bucket_response_time(ms: f64) -> u64 {
    if ms < 100.0 {
        ms.round_ties_even() as u64
    } else if ms < 1_000.0 {
        round_to_multiple(ms, 10)
    } else if ms < 10_000.0 {
        round_to_multiple(ms, 100)
    } else {
        round_to_multiple(ms, 1_000)
    }
}

/// `int(round(x, -k))` for `m = 10^k`, exactly: split `x` into its integer part and fraction
/// (both exact for x >= 1), so a tie is recognised only when `x` is exactly halfway, as Python's
/// correctly rounded `round` does; dividing by `m` in floating point could invent or lose ties.
fn round_to_multiple(x: f64, m: u64) -> u64 {
    let whole = x.floor();
    let frac = x - whole;
    let n = whole as u64;
    let base = n - n % m;
    let r = n % m;
    let half = m / 2;
    let up = r > half || (r == half && (frac > 0.0 || (base / m) % 2 == 1));
    if up { base + m } else { base }
}

/// Locust's `response_times` dict: bucketed milliseconds → count.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Buckets(pub BTreeMap<u64, u64>);

impl Buckets {
    /// Bucket every recorded value of a µs histogram. Each HdrHistogram bucket is read at its
    /// highest equivalent value, the same value `stats::Sparse` keeps, so a histogram that went
    /// through a saved run gives the same buckets.
    pub fn of(h: &Histogram<u64>) -> Buckets {
        let mut map = BTreeMap::new();
        for v in h.iter_recorded() {
            let ms = v.value_iterated_to() as f64 / 1000.0;
            *map.entry(bucket_response_time(ms)).or_insert(0) += v.count_at_value();
        }
        Buckets(map)
    }

    pub fn count(&self) -> u64 {
        self.0.values().sum()
    }

    /// Locust's `calculate_response_time_percentile`: walk the buckets from the top until no
    /// more than `int(N * percent)` requests remain below. `int()` truncates the IEEE product,
    /// as Python does (`int(100 * 0.29) == 28`).
    pub fn percentile(&self, num_requests: u64, percent: f64) -> u64 {
        let num_of_request = (num_requests as f64 * percent) as u64;
        let mut processed = 0u64;
        for (&response_time, &count) in self.0.iter().rev() {
            processed += count;
            // Python's ints go negative here; saturating at 0 keeps `<=` true the same way.
            if num_requests.saturating_sub(processed) <= num_of_request {
                return response_time;
            }
        }
        0
    }
}

/// Locust's response-time columns of one entry, derived from our µs histogram: Median,
/// Average, Min, Max and the cumulative percentiles (bucket ints, not clamped to min/max).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Times {
    pub median: PyNum,
    pub avg: PyNum,
    pub min: PyNum,
    pub max: PyNum,
    pub percentiles: Vec<u64>,
}

impl Times {
    pub fn of(h: &Histogram<u64>, percents: &[f64]) -> Times {
        if h.is_empty() {
            // Locust's zero state: median 0, average 0.0, `min or 0`, max's initial int 0.
            return Times {
                median: PyNum::Int(0),
                avg: PyNum::Float(0.0),
                min: PyNum::Int(0),
                max: PyNum::Int(0),
                percentiles: vec![0; percents.len()],
            };
        }
        let buckets = Buckets::of(h);
        let n = buckets.count();
        let min = h.min() as f64 / 1000.0;
        let max = h.max() as f64 / 1000.0;
        Times {
            median: median(&buckets, n, min, max),
            avg: PyNum::Float(h.mean() / 1000.0),
            // `min_response_time or 0`: a 0.0 minimum is written as the int 0.
            min: if min == 0.0 {
                PyNum::Int(0)
            } else {
                PyNum::Float(min)
            },
            max: PyNum::Float(max),
            percentiles: percents.iter().map(|&p| buckets.percentile(n, p)).collect(),
        }
    }
}

/// Locust 2.47's median: the 50% percentile (the upper median bucket), clamped to the exact
/// [min, max], so it can be a float (one request of 147.3 ms: median 147.3, 50% column 150).
pub(crate) fn median(buckets: &Buckets, num_requests: u64, min: f64, max: f64) -> PyNum {
    if buckets.0.is_empty() {
        return PyNum::Int(0);
    }
    let m = buckets.percentile(num_requests, 0.5);
    if m as f64 > max {
        PyNum::Float(max)
    } else if (m as f64) < min {
        PyNum::Float(min)
    } else {
        PyNum::Int(m)
    }
}

/// Locust's `avg_content_length`: a float, or the int 0 without requests.
pub(crate) fn avg_content_length(body_bytes: u64, requests: u64) -> PyNum {
    if requests == 0 {
        PyNum::Int(0)
    } else {
        PyNum::Float(body_bytes as f64 / requests as f64)
    }
}

/// Locust's `current_rps` (and `current_fail_per_sec`): the mean of the per-second counts over
/// the seconds `[max(L-12, S), L-3]`, where `L` is the second of the latest request and `S` the
/// second the stats started: at most 10 seconds, the two most recent (incomplete) ones left out.
/// `count(t)` is the count of second `t` (0 when nothing happened). Without any request yet
/// Locust returns 0, which formats the same as 0.0.
pub(crate) fn current_rate(last: Option<i64>, start: i64, count: impl Fn(i64) -> u64) -> f64 {
    let Some(last) = last else {
        return 0.0;
    };
    let from = (last - 12).max(start);
    let to = last - 2; // exclusive, as Python's range()
    let seconds = (to - from).max(0);
    // Python's sum(values, 0.0) starts at +0.0; Rust's f64 `Sum` starts at -0.0, which would
    // print as "-0.000000".
    let sum = (from..to).fold(0.0, |acc, t| acc + count(t) as f64);
    // Python's avg(): sum(values, 0.0) / max(len(values), 1).
    sum / seconds.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;

    #[test]
    fn float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (3.6781678740735684, "3.6781678740735684"),
            (11.0, "11.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e-05, "1e-05"),
            (1.5e-05, "1.5e-05"),
            (1e+16, "1e+16"),
            (1.2345e+16, "1.2345e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (123456789012345.6, "123456789012345.6"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (0.1 + 0.2, "0.30000000000000004"),
            // Exactly 627955234282249.25, a tie between two shortest candidates: Python takes
            // the even digit.
            (f64::from_bits(0x4301_d8f9_c564_d84a), "627955234282249.2"),
            (16.165242165242166, "16.165242165242166"),
            (351.43632799997704, "351.43632799997704"),
            (100.0, "100.0"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
            (f64::NAN, "nan"),
        ];
        for &(x, want) in cases {
            assert_eq!(py_float_repr(x), want, "repr({x:?})");
        }
    }

    #[test]
    fn str_repr_matches_python() {
        // Expected values are Python 3's repr() of the same strings.
        let cases: &[(&str, &str)] = &[
            ("plain", "'plain'"),
            ("it's", "\"it's\""),
            ("both ' and \"", "'both \\' and \"'"),
            ("say \"hi\"", "'say \"hi\"'"),
            ("back\\slash", "'back\\\\slash'"),
            ("tab\tnl\ncr\r", "'tab\\tnl\\ncr\\r'"),
            ("\u{0}\u{1b}\u{7f}", "'\\x00\\x1b\\x7f'"),
            ("é ü 日本 🚀", "'é ü 日本 🚀'"),
            ("nbsp\u{a0}shy\u{ad}", "'nbsp\\xa0shy\\xad'"),
            ("\u{200b}\u{2028}\u{feff}", "'\\u200b\\u2028\\ufeff'"),
            ("\u{e000}\u{10fffd}", "'\\ue000\\U0010fffd'"),
            ("<script>alert(1)</script>", "'<script>alert(1)</script>'"),
        ];
        for &(s, want) in cases {
            assert_eq!(py_str_repr(s), want, "repr({s:?})");
        }
    }

    #[test]
    fn error_key_is_sha256_of_method_name_and_repr() {
        // Python: hashlib.sha256(f"{method}.{name}.{error!r}".encode()).hexdigest()
        let cases = [
            (
                "GET",
                "/missing",
                "boom",
                "bafbce23b70856cfa1293ea9cda607b5fae99a908e4a5b9d79fcd3fe794d0d44",
            ),
            (
                "POST",
                "/checkout",
                "HTTP/1.1 503 Service Unavailable: <script>alert(1)</script> \"quoted, comma\"",
                "61aa89976d5ed26c357bd8cdf98c4467656ce81da4573ce2b50dad4a641a5460",
            ),
            (
                "POST",
                "/checkout",
                "no complete response within 2 s",
                "cd4639265e0e0fe074b83c92d2928aa463d63bf9354115039eaa6b60d1bf57f1",
            ),
        ];
        for (method, name, error, want) in cases {
            assert_eq!(
                error_key(method, name, error),
                want,
                "{method} {name} {error}"
            );
        }
    }

    #[test]
    fn bucketing_matches_locust() {
        let cases: &[(f64, u64)] = &[
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (99.4, 99),
            (99.5, 100),
            (105.0, 100),
            (115.0, 120),
            (145.0, 140),
            (145.00000000000003, 150),
            (144.99999999999997, 140),
            (147.3, 150),
            (155.0, 160),
            (999.4, 1000),
            (1050.0, 1000),
            (1150.0, 1200),
            (3432.0, 3400),
            (9950.0, 10000),
            (10500.0, 10000),
            (11500.0, 12000),
            (58760.0, 59000),
        ];
        for &(ms, want) in cases {
            assert_eq!(bucket_response_time(ms), want, "bucket({ms})");
        }
    }

    fn buckets(pairs: &[(u64, u64)]) -> Buckets {
        Buckets(pairs.iter().copied().collect())
    }

    #[test]
    fn percentile_is_the_value_at_int_n_times_p() {
        // 100 samples 1..=100: v[min(int(N*p), N-1)] of the ascending list.
        let b = buckets(&(1..=100).map(|v| (v, 1)).collect::<Vec<_>>());
        let cases: &[(f64, u64)] = &[
            (0.0, 1),
            (0.29, 29), // int(100 * 0.29) == 28 → v[28] == 29
            (0.5, 51),
            (0.58, 58), // int(100 * 0.58) == 57
            (0.66, 67),
            (0.99, 100),
            (0.999, 100),
            (1.0, 100),
        ];
        for &(p, want) in cases {
            assert_eq!(b.percentile(100, p), want, "p={p}");
        }
        // Counts per bucket: 3 × 10, 1 × 20, 1 × 30.
        let b = buckets(&[(10, 3), (20, 1), (30, 1)]);
        assert_eq!(b.percentile(5, 0.5), 10);
        assert_eq!(b.percentile(5, 0.6), 20, "v[3] of [10, 10, 10, 20, 30]");
        assert_eq!(b.percentile(5, 0.59), 10, "int(5 * 0.59) == 2");
        assert_eq!(b.percentile(5, 0.8), 30);
        assert_eq!(b.percentile(5, 0.75), 20);
        assert_eq!(Buckets::default().percentile(0, 0.5), 0, "no samples");
    }

    #[test]
    fn median_is_the_upper_median_clamped_to_min_and_max() {
        // One request of 147.3 ms: bucket 150, clamped to the exact max.
        let b = buckets(&[(150, 1)]);
        assert_eq!(median(&b, 1, 147.3, 147.3), PyNum::Float(147.3));
        // Even N: the upper median (Locust 2.47), not the lower one.
        let b = buckets(&[(3, 2), (5, 2)]);
        assert_eq!(median(&b, 4, 2.6, 5.2), PyNum::Int(5));
        // Below the exact minimum: clamped up.
        let b = buckets(&[(100, 3)]);
        assert_eq!(median(&b, 3, 104.0, 104.9), PyNum::Float(104.0));
        assert_eq!(median(&Buckets::default(), 0, 0.0, 0.0), PyNum::Int(0));
    }

    #[test]
    fn times_from_a_histogram() {
        let mut h = new_histogram();
        for us in [1_216, 2_500, 3_000, 147_300] {
            h.record(us).unwrap();
        }
        let t = Times::of(&h, &[0.5, 1.0]);
        assert_eq!(t.min, PyNum::Float(1.216));
        assert_eq!(t.median, PyNum::Int(3), "v[2] = 3.0 ms");
        assert_eq!(t.percentiles, [3, 150]);
        assert!(matches!(t.max, PyNum::Float(m) if (m - 147.3).abs() < 0.1));
        let empty = Times::of(&new_histogram(), &[0.5]);
        assert_eq!(
            (empty.median, empty.avg, empty.min, empty.max),
            (
                PyNum::Int(0),
                PyNum::Float(0.0),
                PyNum::Int(0),
                PyNum::Int(0)
            )
        );
        assert_eq!(PyNum::Int(0).to_string(), "0");
        assert_eq!(PyNum::Float(11.0).to_string(), "11.0");
    }

    #[test]
    fn current_rate_averages_up_to_ten_complete_seconds() {
        let counts = |t: i64| if (0..100).contains(&t) { t as u64 } else { 0 };
        assert_eq!(current_rate(None, 0, counts), 0.0, "no request yet");
        // L=2: range(0, 0) is empty → 0.0.
        assert_eq!(current_rate(Some(2), 0, counts), 0.0);
        assert!(
            current_rate(Some(2), 0, counts).is_sign_positive(),
            "+0.0 as Python's sum, not -0.0 (\"-0.000000\")"
        );
        // L=3: seconds [0] → 0; L=5: seconds 0,1,2 → 1.0.
        assert_eq!(current_rate(Some(5), 0, counts), 1.0);
        // L=20: seconds 8..=17 → mean 12.5 (10 seconds).
        assert_eq!(current_rate(Some(20), 0, counts), 12.5);
        // The stats start bounds the window: S=15 → seconds 15..=17.
        assert_eq!(current_rate(Some(20), 15, counts), 16.0);
    }
}
