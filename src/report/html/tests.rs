use super::*;
use crate::report::testdata::{
    HOSTILE_503, empty_run, honest_run, inconclusive_run, invalid_run, sample_run,
};

const IMG: &str = "<img src=x onerror=alert(1)>";
const IMG_ESCAPED: &str = "&lt;img src=x onerror=alert(1)&gt;";
const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

fn page(run: &RunReport) -> String {
    String::from_utf8(Html.render(run).expect("renders")).expect("UTF-8")
}

/// Every `<svg …>…</svg>` of the page, in order.
fn svgs(page: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("closed svg") + start + "</svg>".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// The text content of every `<text>` element of an SVG.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let body = &t[t.find('>').expect("tag end") + 1..];
            body[..body.find("</text>").expect("closed text")]
                .trim()
                .to_string()
        })
        .collect()
}

/// The largest number of points in one `<polyline>` of an SVG.
fn longest_polyline(svg: &str) -> usize {
    svg.split("<polyline")
        .skip(1)
        .map(|p| {
            let pts = &p[p.find("points=\"").expect("points") + 8..];
            pts[..pts.find('"').expect("closed")]
                .split_whitespace()
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The page as a reviewable snapshot: block elements start on their own line, and each chart
/// becomes a summary of what a reader sees in it (its texts) and how much it draws. Coordinates
/// are left to the structural tests below and to the one full-SVG snapshot.
fn readable(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    for svg in svgs(page) {
        let at = rest.find(svg).expect("in order");
        out.push_str(&rest[..at]);
        let count = |tag: &str| svg.matches(&format!("<{tag} ")).count();
        out.push_str(&format!(
            "\n<svg polylines={} rects={} circles={} polygons={}>\n  texts: {:?}\n</svg>\n",
            count("polyline"),
            count("rect"),
            count("circle"),
            count("polygon"),
            svg_texts(svg)
        ));
        rest = &rest[at + svg.len()..];
    }
    out.push_str(rest);
    for tag in [
        "<head", "<body", "<main", "<header", "<section", "<h1", "<h2", "<h3", "<p", "<table",
        "<thead", "<tbody", "<tr", "<dl", "<dt", "<ul", "<li", "<div", "<figure", "<footer",
        "<style", "<title", "<meta",
    ] {
        out = out.replace(&format!("{tag} "), &format!("\n{tag} "));
        out = out.replace(&format!("{tag}>"), &format!("\n{tag}>"));
    }
    out
}

#[test]
fn sample_page_snapshot() {
    insta::assert_snapshot!(readable(&page(&sample_run())));
}

#[test]
fn throughput_chart_snapshot() {
    // One chart in full, so a change in how plotters draws is seen in review.
    insta::assert_snapshot!(charts::throughput(&sample_run()).unwrap());
}

#[test]
fn rendering_is_deterministic() {
    assert_eq!(page(&sample_run()), page(&sample_run()));
}

#[test]
fn verdict_banner_follows_the_outcome() {
    let mut run = sample_run();
    let p = page(&run);
    assert!(p.contains(r#"<header class="banner fail">"#));
    assert!(
        p.contains(&verdict_line(&run)),
        "the terminal's verdict line"
    );
    assert!(verdict_line(&run).starts_with("SLA FAILED: 2 of "));

    run.outcome = RunOutcome::Interrupted;
    let p = page(&run);
    assert!(p.contains(r#"<header class="banner interrupted">"#));
    assert!(p.contains("RUN INTERRUPTED: no verdict"));

    run.outcome = RunOutcome::Pass;
    assert!(page(&run).contains(r#"<header class="banner pass">"#));
}

#[test]
fn metadata_names_the_run() {
    let run = sample_run();
    let p = page(&run);
    for expected in [
        "2026-11-29T10:56:52Z",
        &rfc3339(run.finished_at),
        "10 users, 5/s spawn rate, think 500 ms–1.5 s, run time 12s",
        "0:02–0:12 (10s, ramp-up excluded)",
        &run.provenance.sla_sha256,
        &run.provenance.profile_sha256,
        "profiles/medium.toml",
        "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        "http://127.0.0.1:8080/",
    ] {
        assert!(p.contains(expected), "missing {expected:?}");
    }
    let mut run = run;
    run.provenance.git_commit = None;
    assert!(!page(&run).contains("Git commit"), "only when present");
}

#[test]
fn sla_table_has_a_row_per_check_with_its_result() {
    let run = sample_run();
    let p = page(&run);
    let sla = &p[p.find(r#"<table class="sla">"#).unwrap()..];
    let sla = &sla[..sla.find("</table>").unwrap()];
    assert_eq!(sla.matches("<tr").count(), run.verdict.checks.len() + 1);
    assert_eq!(sla.matches(r#"<tr class="fail">"#).count(), 2);
    assert_eq!(sla.matches(r#"<tr class="inconclusive">"#).count(), 1);
    // 12 checks: 2 failing, 1 inconclusive, 2 marginal passes, 7 clean passes.
    assert_eq!(
        sla.matches(r#"<span class="badge pass">PASS</span>"#)
            .count(),
        7
    );
    assert_eq!(
        sla.matches(r#"<span class="badge marginal">PASS (marginal)</span>"#)
            .count(),
        2
    );
    assert_eq!(
        sla.matches(r#"<span class="badge inconclusive">INCONCLUSIVE</span>"#)
            .count(),
        1
    );
    assert!(sla.contains("Measured [95% CI]"));
    assert!(
        sla.contains(">297 ms [289, 623]<"),
        "intervals in the table"
    );
    assert!(
        sla.contains(r#"<td class="num neg">"#),
        "negative headroom marked"
    );
    assert!(p.contains("Why it failed"));
}

#[test]
fn every_chart_is_an_svg_with_data() {
    let run = sample_run();
    let p = page(&run);
    let svgs = svgs(&p);
    assert_eq!(svgs.len(), 2 + 2 * run.endpoints.len());
    let timeline = run.timeline.len();
    // Throughput and users: one point per second; latency over time: p50/p95/p99 lines of one
    // point per second; percentile curves: densely sampled.
    assert!(longest_polyline(svgs[0]) >= timeline, "throughput");
    assert!(longest_polyline(svgs[1]) > timeline, "users (from 0)");
    for (i, e) in run.endpoints.iter().enumerate() {
        let over_time = svgs[2 + 2 * i];
        let curve = svgs[3 + 2 * i];
        assert!(
            over_time.matches("<polyline").count() >= 3,
            "{}: three percentile lines",
            e.name
        );
        assert!(longest_polyline(over_time) >= timeline - 1, "{}", e.name);
        assert!(
            longest_polyline(curve) > 100,
            "{}: percentile curve",
            e.name
        );
        let budgets = run
            .verdict
            .checks
            .iter()
            .filter(|c| {
                c.subject == crate::verdict::Subject::Endpoint(i)
                    && matches!(c.budget, crate::verdict::Value::Latency(_))
            })
            .count();
        // One triangle per budget, plus the two legend swatches.
        assert_eq!(curve.matches("<polygon").count(), budgets + 2, "{}", e.name);
    }
    let orders = svg_texts(svgs[5]);
    assert!(
        orders.contains(&"p99 &lt; 400 ms".to_string()),
        "{orders:?}"
    );
    for chart in &svgs {
        let texts = svg_texts(chart);
        assert!(
            texts.len() > 8,
            "title, ticks, axis names, legend: {texts:?}"
        );
    }
    assert!(svg_texts(svgs[0]).contains(&"measured window".to_string()));
    assert!(svg_texts(svgs[2]).contains(&"time since start (m:ss)".to_string()));
    assert!(svg_texts(svgs[3]).contains(&"99.9%".to_string()));
}

#[test]
fn measured_window_is_shaded_on_every_time_chart() {
    let run = sample_run();
    let p = page(&run);
    let svgs = svgs(&p);
    let time_charts = [0, 1, 2, 4, 6];
    for i in time_charts {
        // The band and its legend swatch: the band colour at 10% and 20% opacity.
        assert!(
            svgs[i].contains(r##"opacity="0.1" fill="#4E79A7""##),
            "chart {i}"
        );
    }
}

#[test]
fn hostile_strings_show_as_text_everywhere() {
    let mut run = sample_run();
    run.endpoints[1].name = IMG.into();
    run.profile.description = format!("desc {SCRIPT}");
    run.target = "http://x/?q=\"><script>alert(1)</script>".into();
    let p = page(&run);
    assert!(!p.contains(IMG), "raw <img> tag");
    assert!(!p.contains(SCRIPT), "raw <script> tag");
    assert!(
        !p.to_lowercase().contains("<script"),
        "no script element at all"
    );
    assert!(p.contains(IMG_ESCAPED));
    assert!(p.contains(SCRIPT_ESCAPED));
    // The example text of the 503s (markup, quotes, a comma) in the failures table.
    let escaped_503 = HOSTILE_503
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    assert!(p.contains(&format!("<code>{escaped_503}</code>")));
    // Inside the SVGs: the renamed endpoint's two chart captions.
    let in_svgs: usize = svgs(&p)
        .iter()
        .map(|s| s.matches(IMG_ESCAPED).count())
        .sum();
    assert_eq!(in_svgs, 2, "both of its chart titles, escaped");
}

#[test]
fn the_page_loads_nothing() {
    let p = page(&sample_run());
    for needle in [
        "<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import",
    ] {
        assert!(!p.contains(needle), "{needle}");
    }
    assert!(p.contains("default-src 'none'"), "CSP forbids it too");
}

#[test]
fn an_empty_run_still_renders() {
    let run = empty_run();
    let p = page(&run);
    assert_eq!(svgs(&p).len(), 2 + 2 * run.endpoints.len());
    assert!(p.contains("no responses in this run"));
    assert!(p.contains("No request failed"));
}

#[test]
fn print_stylesheet_is_there() {
    let p = page(&sample_run());
    for rule in [
        "@media print",
        "size: A4",
        "break-inside: avoid",
        "break-before: page",
    ] {
        assert!(p.contains(rule), "{rule}");
    }
}

#[test]
fn every_finding_is_on_the_page() {
    let p = page(&honest_run());
    for expected in [
        "FAIL (window 0:07–0:12)",
        "stopped at 0:10",
        "run to 0:12",
        "error rate 62% over the last 2 s (≥ 50%): abort_when stopped the run",
        "<h3>Why it failed</h3>",
        "<h3>Marginal: within budget, but the budget lies inside the 95% confidence interval</h3>",
        "<h3>Too few samples to decide (INCONCLUSIVE)</h3>",
        "needs ≥ 2995 samples: about 1m20s at the observed 40 req/s",
        r#"<ul class="explain"><li>the 14 failures came 4, 8 and 2 in the first, middle and last thirds"#,
        "<li>the five slowest requests all came in the last second</li>",
    ] {
        assert!(p.contains(expected), "missing {expected:?}");
    }
    // The hostile 503 text inside an explanation line is text, not markup.
    assert!(!p.contains(SCRIPT));
}

#[test]
fn inconclusive_and_invalid_runs_are_flagged_above_the_figures() {
    let p = page(&inconclusive_run(false));
    assert!(p.contains(r#"<header class="banner inconclusive">"#));
    assert!(p.contains(r#"<div class="word">INCONCLUSIVE</div>"#));
    let alert = &p[p.find(r#"id="inconclusive""#).expect("warning")..];
    assert!(alert.contains("1 check is INCONCLUSIVE"), "{alert}");
    assert!(p.find(r#"id="inconclusive""#) < p.find(r#"class="figures""#));
    assert!(page(&inconclusive_run(true)).contains("--strict is set: this run exits 4"));

    let p = page(&invalid_run());
    assert!(p.contains(r#"<header class="banner invalid">"#));
    assert!(p.contains("RUN INVALID: the load generator did not deliver the profile"));
    let alert = &p[p.find(r#"id="invalid""#).expect("causes")..];
    assert!(alert.contains("the service"), "{alert}");
    assert!(
        alert.contains("<strong>cpu</strong> (98% of 2 cores for 6 s)"),
        "{alert}"
    );
    assert!(alert.contains("<strong>wake</strong>"), "{alert}");
    assert!(!page(&sample_run()).contains(r#"id="invalid""#));
}
