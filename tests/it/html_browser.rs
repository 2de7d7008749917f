//! The HTML report in a real browser (Debian's headless Chromium): the sample report renders
//! without console errors or refused loads, shows the verdict, and every chart is an SVG with
//! data in it; a screenshot is saved as `target/html-report.png` (the page itself beside it as
//! `target/html-report.html`) for a person to look at. A hostile report (markup in an endpoint
//! name, the target URL and a failure example) creates no element and trips no CSP refusal.
//!
//! Without `/usr/bin/chromium` the test is skipped with a note, except under `CI`, where it fails:
//! `.ci/run` installs Chromium, so its absence there is a broken setup, not a reason to pass.
//!
//! The report is the unit tests' `sample_run()`, from `slagate::report::testdata` (the `testdata`
//! feature, which the crate's self dev-dependency turns on for its integration tests), so both
//! test suites render the same run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use slagate::report::html::Html;
use slagate::report::table::verdict_line;
use slagate::report::testdata;
use slagate::report::{Reporter, RunReport};

const CHROMIUM: &str = "/usr/bin/chromium";
/// A cold Chromium start on a busy 2-core machine takes a few seconds; this is the hang guard.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// Chromium (`SLAGATE_CHROMIUM` overrides the path), or `None` to skip (outside CI only).
fn chromium() -> Option<PathBuf> {
    let path =
        std::env::var_os("SLAGATE_CHROMIUM").map_or_else(|| PathBuf::from(CHROMIUM), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing but CI is set: the HTML report must be checked in a browser \
             (.ci/run installs Debian's chromium package)",
            path.display()
        );
    }
    eprintln!(
        "skipped: {} not found (apt-get install chromium to run this test)",
        path.display()
    );
    None
}

/// Where `cargo` builds: the screenshot goes there, not into the temp dir, so it survives.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .to_path_buf()
}

/// Runs headless Chromium on `page` with `args`, in a fresh profile, and returns its output.
fn run_chromium(chromium: &Path, page: &Path, args: &[&str]) -> Output {
    let profile = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Read both pipes on threads so a chatty browser cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut b).map(|_| b)
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut b).map(|_| b)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium {args:?} did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().expect("reader").expect("stdout"),
        stderr: err.join().expect("reader").expect("stderr"),
    }
}

/// Console messages, uncaught exceptions and CSP refusals, as Chromium logs them to stderr.
/// The page runs no script, so *any* console line is unexpected: Debian's Chromium 14x logs
/// console.error and CSP violations at INFO level (`INFO:CONSOLE… violates the following Content
/// Security Policy directive…`), not as `ERROR:CONSOLE` or "Refused to", so matching only those
/// would let a violation through. `console_scan_catches_a_csp_violation` keeps this honest.
fn console_errors(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Refused to")
                || l.contains("violates the following Content Security Policy")
        })
        .map(str::to_string)
        .collect()
}

/// Every `<svg …>…</svg>` of a serialized DOM.
fn svgs(dom: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(start) = rest.find("<svg") {
        let len = rest[start..].find("</svg>").expect("closed svg") + "</svg>".len();
        out.push(&rest[start..start + len]);
        rest = &rest[start + len..];
    }
    out
}

/// The number of points of the longest `<polyline>`.
fn longest_polyline(svg: &str) -> usize {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let pts = &p[p.find("points=\"")? + 8..];
            Some(pts[..pts.find('"')?].split_whitespace().count())
        })
        .max()
        .unwrap_or(0)
}

fn write_page(run: &RunReport, path: &Path) {
    let html = Html.render(run).expect("render");
    std::fs::write(path, html).expect("write the page");
}

#[test]
fn sample_report_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let run = testdata::sample_run();
    let target = target_dir();
    let page = target.join("html-report.html");
    write_page(&run, &page);
    let png = target.join("html-report.png");
    let _ = std::fs::remove_file(&png);

    let shot = run_chromium(
        &chromium,
        &page,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,4000",
            "--hide-scrollbars",
        ],
    );
    let meta = std::fs::metadata(&png).unwrap_or_else(|e| {
        panic!(
            "no screenshot at {} ({e}); chromium said:\n{}",
            png.display(),
            String::from_utf8_lossy(&shot.stderr)
        )
    });
    assert!(meta.len() > 50_000, "a real page screenshot, not a blank");
    assert_eq!(console_errors(&shot.stderr), Vec::<String>::new());

    let dom = run_chromium(&chromium, &page, &["--dump-dom"]);
    assert!(
        dom.status.success(),
        "chromium --dump-dom: {:?}",
        dom.status
    );
    assert_eq!(console_errors(&dom.stderr), Vec::<String>::new());
    let dom = String::from_utf8(dom.stdout).expect("UTF-8 DOM");
    assert!(
        dom.contains(&verdict_line(&run)),
        "verdict line in the rendered page"
    );
    assert!(dom.contains(r#"<header class="banner fail">"#));
    let charts = svgs(&dom);
    assert_eq!(charts.len(), 2 + 2 * run.endpoints.len(), "every chart");
    for (i, svg) in charts.iter().enumerate() {
        assert!(
            longest_polyline(svg) >= run.timeline.len() - 1,
            "chart {i} has a data line"
        );
        assert!(svg.matches("<text").count() > 8, "chart {i} has its text");
    }
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn hostile_report_injects_nothing_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let mut run = testdata::sample_run();
    run.endpoints[0].name = "<img src=x onerror=alert(1)>".into();
    run.target = "http://x/?q=\"><script>alert(2)</script>".into();
    run.profile.description = "<style>body{display:none}</style>".into();
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("hostile.html");
    write_page(&run, &page);

    let out = run_chromium(&chromium, &page, &["--dump-dom"]);
    assert!(out.status.success());
    assert_eq!(console_errors(&out.stderr), Vec::<String>::new());
    let dom = String::from_utf8(out.stdout).expect("UTF-8 DOM");
    assert!(!dom.contains("<img"), "no image element was created");
    assert!(!dom.contains("<script"), "no script element was created");
    assert_eq!(dom.matches("<style").count(), 1, "only our stylesheet");
    assert!(
        dom.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "shown as text"
    );
    assert!(dom.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the 503 example"
    );
}

#[test]
fn console_scan_catches_a_csp_violation() {
    // A page like ours (same CSP) that does what an injection would: if this scan saw nothing
    // here, the two tests above could not fail on a console error either.
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("canary.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; style-src 'unsafe-inline'\"></head>\
         <body><img src=x onerror=alert(1)><script>alert(2)</script></body></html>",
    )
    .expect("write canary");
    let out = run_chromium(&chromium, &page, &["--dump-dom"]);
    let errors = console_errors(&out.stderr);
    assert!(
        errors.len() >= 2,
        "the blocked handler and script were not reported; chromium said:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
