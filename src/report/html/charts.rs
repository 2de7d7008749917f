//! The HTML report's charts: inline SVG strings drawn with plotters' `SVGBackend::with_string`.
//! Owns chart layout (sizes, palette, axes, legends); knows nothing of the page around them.
//!
//! The frame is shared with the comparison's charts (`compare::charts`), so both read alike:
//! `svg` (one chart with its legend strip), `percentile_chart` and `time_chart` (caption,
//! margins, axes and mesh; a time chart also shades the measured window), `count_axis` and the
//! legend items. Everything a base-against-head chart draws stays in `compare`.
//!
//! Text: plotters is built without `ttf`/`ab_glyph`, so it uses its "naive" font, which only
//! *estimates* text extents (0.7 em per byte) and emits every string as an SVG `<text>` element
//! with `font-family="sans-serif"`. The browser (or PDF printer) lays the glyphs out with its own
//! sans-serif font, so no font needs embedding and no font feature is needed. The estimate only
//! matters for layout, which is why legends are drawn here in a strip below the plot (with
//! generous spacing) rather than in plotters' boxed legend, whose width is computed from it.
//!
//! Escaping: plotters-svg escapes `<`, `>`, `&`, `"` and `'` in both text content and attribute
//! values (`SVGBackend::escape_and_push`), so endpoint names in captions are safe as given;
//! the HTML tests assert it for a hostile name.

use std::error::Error;
use std::time::Duration;

use std::ops::Range;

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::coord::combinators::LogCoord;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::plan::Metric;
use crate::report::{RenderError, RunReport};
use crate::stats::{EndpointStats, SecondStats, Window};
use crate::units;
use crate::verdict::{CheckMetric, Subject, Value};

/// Every chart's size in SVG user units; the page scales it to the column width (viewBox).
pub(crate) const WIDTH: u32 = 560;
pub(crate) const HEIGHT: u32 = 310;
/// The strip under the plot that holds the legend (two rows at most).
const LEGEND_HEIGHT: u32 = 46;

const FONT: &str = "sans-serif";
/// plotters-svg writes `font-size` as the size given divided by 1.24; the sizes below are the
/// ones a reader gets, in SVG units.
const PLOTTERS_FONT_SCALE: f64 = 1.24;
const CAPTION_SIZE: f64 = 15.0 * PLOTTERS_FONT_SCALE;
const DESC_SIZE: f64 = 13.0 * PLOTTERS_FONT_SCALE;
const LABEL_SIZE: f64 = 12.0 * PLOTTERS_FONT_SCALE;

const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const MUTED: RGBColor = RGBColor(0x6b, 0x6b, 0x6b);
const GRID: RGBColor = RGBColor(0xe3, 0xe3, 0xe3);
const AXIS: RGBColor = RGBColor(0x9a, 0x9a, 0x9a);
const WINDOW_BAND: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
const REQUESTS: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const FAILURES: RGBColor = RGBColor(0xc6, 0x28, 0x28);
const USERS: RGBColor = RGBColor(0x14, 0x7d, 0x6f);
const P50: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const P95: RGBColor = RGBColor(0xe0, 0x7b, 0x00);
const P99: RGBColor = RGBColor(0xb0, 0x1e, 0x5a);
/// A run's latency curve; the comparison draws the head run in it.
pub(crate) const CURVE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const MET: RGBColor = RGBColor(0x2e, 0x7d, 0x32);
const MISSED: RGBColor = RGBColor(0xc6, 0x28, 0x28);

/// Smallest latency shown on a log axis, ms (1 µs, the histogram's resolution).
const MIN_MS: f64 = 0.001;

type DrawResult = Result<(), Box<dyn Error>>;
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// One latency budget of an endpoint, as drawn on its charts.
struct Budget {
    metric: Metric,
    limit_ms: f64,
    met: bool,
}

fn budgets(run: &RunReport, endpoint: usize) -> Vec<Budget> {
    run.verdict
        .checks
        .iter()
        .filter(|c| c.subject == Subject::Endpoint(endpoint))
        .filter_map(|c| match (c.metric, c.budget) {
            (CheckMetric::Latency(metric), Value::Latency(limit)) => Some(Budget {
                metric,
                limit_ms: to_ms(limit),
                // The curve is the whole measured window's: a budget is met on it when its
                // point estimate is below the limit (a window-only breach or too few samples
                // are the SLA table's to tell).
                met: matches!(c.measured, Some(Value::Latency(m)) if m < limit),
            }),
            _ => None,
        })
        .collect()
}

/// On a log axis, with the floor that keeps a zero off it.
fn to_ms(d: Duration) -> f64 {
    units::ms(d).max(MIN_MS)
}

fn us_to_ms(us: u64) -> f64 {
    units::us_to_ms(us).max(MIN_MS)
}

/// A latency tick label: "500 µs", "20 ms", "1 s".
fn latency_label(ms: f64) -> String {
    units::duration(Duration::from_secs_f64(ms / 1000.0))
}

/// Seconds since the start as m:ss.
fn time_label(s: f64) -> String {
    let s = s.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A count or rate tick label without float noise.
fn number_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Round tick positions for a time axis of `end` seconds: at most about ten.
fn time_ticks(end: f64) -> Vec<f64> {
    const STEPS: [u64; 13] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
    let step = STEPS
        .iter()
        .copied()
        .find(|&s| end / s as f64 <= 10.0)
        .unwrap_or(7200) as f64;
    (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|&t| t <= end + 1e-9)
        .collect()
}

/// 1-2-5 ticks for a log latency axis between `lo` and `hi` ms, thinned to at most seven.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    for mantissas in [&[1.0, 2.0, 5.0][..], &[1.0, 3.0], &[1.0]] {
        let ticks: Vec<f64> = (-3..=7)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|&t| t >= lo && t <= hi)
            .collect();
        if ticks.len() <= 7 {
            return ticks;
        }
    }
    // Very wide ranges: every other power of ten.
    (-3..=7)
        .step_by(2)
        .map(|e| 10f64.powi(e))
        .filter(|&t| t >= lo && t <= hi)
        .collect()
}

/// About six round ticks from 0 to `max`.
fn linear_ticks(max: f64) -> Vec<f64> {
    let raw = max / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|&t| t <= max + 1e-9)
        .collect()
}

/// The top of a linear axis: a little above the data, at least 1.
fn linear_top(max: f64) -> f64 {
    (max * 1.12).max(1.0)
}

/// Percentile `q` as "nines": 0 → 0, 0.9 → 1, 0.99 → 2, 0.999 → 3.
fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-9).log10()
}

/// The percentile axis label at `x` nines: "0%", "50%", "90%", "99%", "99.9%".
fn nines_label(x: f64) -> String {
    let pct = 100.0 * (1.0 - 10f64.powf(-x));
    let decimals = (x.round() as i64 - 2).max(0) as usize;
    format!("{pct:.decimals$}%")
}

fn err(e: impl std::fmt::Display) -> RenderError {
    RenderError::Format(format!("could not draw a chart: {e}"))
}

/// Draws one chart into a string: `plot` gets the area above the legend strip and returns the
/// legend entries.
pub(crate) fn svg(
    plot: impl FnOnce(&Area<'_>) -> Result<Vec<LegendItem>, Box<dyn Error>>,
) -> Result<String, RenderError> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (upper, lower) = root.split_vertically(HEIGHT - LEGEND_HEIGHT);
        let legend = plot(&upper).map_err(err)?;
        draw_legend(&lower, &legend).map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

/// How a legend entry's sample looks.
pub(crate) enum Swatch {
    Line(RGBColor),
    Dashed(RGBColor),
    Band(RGBColor),
    Marker(RGBColor),
}

pub(crate) struct LegendItem {
    swatch: Swatch,
    label: String,
}

pub(crate) fn item(swatch: Swatch, label: impl Into<String>) -> LegendItem {
    LegendItem {
        swatch,
        label: label.into(),
    }
}

/// The legend as a strip of swatches and labels, wrapping onto a second row. Widths come from
/// a generous per-character estimate, since the real font is the browser's.
fn draw_legend(area: &Area<'_>, items: &[LegendItem]) -> DrawResult {
    let font = (FONT, LABEL_SIZE).into_font().color(&INK);
    let (left, right) = (62i32, WIDTH as i32 - 10);
    let (mut x, mut y) = (left, 12i32);
    for it in items {
        let width = 26
            + (it.label.chars().count() as f64 * LABEL_SIZE / PLOTTERS_FONT_SCALE * 0.6) as i32
            + 18;
        if x + width > right && x > left {
            x = left;
            y += 20;
        }
        match it.swatch {
            Swatch::Line(c) => {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 20, y)],
                    c.stroke_width(2),
                ))?;
            }
            Swatch::Dashed(c) => {
                for dx in [0, 8, 16] {
                    area.draw(&PathElement::new(
                        vec![(x + dx, y), (x + dx + 4, y)],
                        c.stroke_width(2),
                    ))?;
                }
            }
            Swatch::Band(c) => {
                area.draw(&Rectangle::new(
                    [(x, y - 6), (x + 20, y + 6)],
                    c.mix(0.2).filled(),
                ))?;
            }
            Swatch::Marker(c) => {
                area.draw(&TriangleMarker::new((x + 10, y), 6, c.filled()))?;
            }
        }
        area.draw(&Text::new(
            it.label.clone(),
            (x + 26, y),
            font.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        x += width;
    }
    Ok(())
}

/// An f64 axis with our own tick positions (no minor grid). plotters' `WithKeyPoints` would do,
/// but over a linear f64 axis it loses the value formatter that `configure_mesh` requires.
pub(crate) struct Ticked<R> {
    inner: R,
    ticks: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

fn linear_axis(range: Range<f64>, ticks: Vec<f64>) -> Ticked<RangedCoordf64> {
    Ticked {
        inner: range.into(),
        ticks,
    }
}

fn log_axis(lo: f64, hi: f64) -> Ticked<LogCoord<f64>> {
    Ticked {
        inner: (lo..hi).log_scale().into(),
        ticks: log_ticks(lo, hi),
    }
}

/// A chart for its caller to draw on: the frame (`frame`) is ours, the data theirs.
pub(crate) type Chart<'a, 'b, X, Y> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<Ticked<X>, Ticked<Y>>>;

/// One axis of a chart: its coordinates, what it shows, how its ticks read and the room their
/// labels need.
pub(crate) struct Axis<R> {
    coord: Ticked<R>,
    /// From one end of the axis to the other: what a window band covers.
    span: (f64, f64),
    desc: &'static str,
    label: fn(f64) -> String,
    label_area: u32,
}

/// Seconds since the start, from 0 to `end`, as m:ss.
fn time_axis(end: f64) -> Axis<RangedCoordf64> {
    Axis {
        coord: linear_axis(0.0..end, time_ticks(end)),
        span: (0.0, end),
        desc: "time since start (m:ss)",
        label: time_label,
        label_area: 42,
    }
}

/// Percentiles as nines, from 0 (the minimum) to `end`.
fn nines_axis(end: f64) -> Axis<RangedCoordf64> {
    let mut ticks: Vec<f64> = vec![0.0, 2f64.log10()];
    ticks.extend((1..=end.floor() as i32).map(f64::from));
    Axis {
        coord: linear_axis(0.0..end, ticks),
        span: (0.0, end),
        desc: "percentile (log scale of nines)",
        label: nines_label,
        label_area: 42,
    }
}

/// Counts or rates, `desc` ("per second", "users"), from 0 to a little above `max`.
pub(crate) fn count_axis(max: f64, desc: &'static str) -> Axis<RangedCoordf64> {
    let top = linear_top(max);
    Axis {
        coord: linear_axis(0.0..top, linear_ticks(top)),
        span: (0.0, top),
        desc,
        label: number_label,
        label_area: 54,
    }
}

/// Latency on a log scale from `lo` to `hi` ms.
fn latency_axis(lo: f64, hi: f64) -> Axis<LogCoord<f64>> {
    Axis {
        coord: log_axis(lo, hi),
        span: (lo, hi),
        desc: "latency (log scale)",
        label: latency_label,
        label_area: 64,
    }
}

/// What every chart shares: the caption, margins and label areas, both axes and the mesh.
fn frame<'a, 'b, X, Y>(
    area: &'a Area<'b>,
    title: impl AsRef<str>,
    x: Axis<X>,
    y: Axis<Y>,
) -> Result<Chart<'a, 'b, X, Y>, Box<dyn Error>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(title, caption_font())
        .margin(8)
        .margin_right(18)
        .x_label_area_size(x.label_area)
        .y_label_area_size(y.label_area)
        .build_cartesian_2d(x.coord, y.coord)?;
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .x_desc(x.desc)
        .y_desc(y.desc)
        .axis_desc_style((FONT, DESC_SIZE).into_font().color(&INK))
        .label_style((FONT, LABEL_SIZE).into_font().color(&MUTED))
        .x_label_formatter(&|v| (x.label)(*v))
        .y_label_formatter(&|v| (y.label)(*v))
        .draw()?;
    Ok(chart)
}

/// Latency by percentile, for a run's curve and for base against head: the nines axis up to
/// `end`, a log latency axis from `lo` to `hi` ms.
pub(crate) fn percentile_chart<'a, 'b>(
    area: &'a Area<'b>,
    title: impl AsRef<str>,
    end: f64,
    (lo, hi): (f64, f64),
) -> Result<Chart<'a, 'b, RangedCoordf64, LogCoord<f64>>, Box<dyn Error>> {
    frame(area, title, nines_axis(end), latency_axis(lo, hi))
}

/// A run over time, for the run's own charts and for base against head: seconds since the
/// start up to `end` (see `time_end`) against `y`, with the measured `window` shaded behind
/// the data (its legend entry is `window_item`).
pub(crate) fn time_chart<'a, 'b, Y>(
    area: &'a Area<'b>,
    title: impl AsRef<str>,
    end: f64,
    window: Window,
    y: Axis<Y>,
) -> Result<Chart<'a, 'b, RangedCoordf64, Y>, Box<dyn Error>>
where
    Y: Ranged<ValueType = f64>,
{
    let (bottom, top) = y.span;
    let mut chart = frame(area, title, time_axis(end), y)?;
    let (start, stop) = (window.start.as_secs_f64(), window.end.as_secs_f64());
    chart.draw_series(std::iter::once(Rectangle::new(
        [(start, bottom), (stop, top)],
        WINDOW_BAND.mix(0.1).filled(),
    )))?;
    Ok(chart)
}

/// The legend entry of a time chart's shaded window.
pub(crate) fn window_item() -> LegendItem {
    item(Swatch::Band(WINDOW_BAND), "measured window")
}

/// "GET /orders/{id}", shortened so the caption stays inside the chart (the page's heading
/// above the chart carries the full name).
pub(crate) fn caption_name(method: &str, name: &str) -> String {
    const MAX: usize = 40;
    if name.chars().count() <= MAX {
        format!("{method} {name}")
    } else {
        let short: String = name.chars().take(MAX - 1).collect();
        format!("{method} {short}…")
    }
}

fn caption_font() -> TextStyle<'static> {
    (FONT, CAPTION_SIZE, FontStyle::Bold)
        .into_font()
        .color(&INK)
}

/// The x extent of the time charts: the whole timeline (ramp-up and drain included) and the
/// window.
pub(crate) fn time_end(run: &RunReport) -> f64 {
    let timeline = run.timeline.len() as f64;
    timeline.max(run.window.end.as_secs_f64()).max(1.0)
}

/// The timeline point of second `i` is drawn at the end of that second, when it was complete.
pub(crate) fn at_end_of(second: u32) -> f64 {
    f64::from(second) + 1.0
}

/// Requests/s and failures/s over the whole run.
pub(crate) fn throughput(run: &RunReport) -> Result<String, RenderError> {
    let requests: Vec<(f64, f64)> = run
        .timeline
        .iter()
        .map(|p| (at_end_of(p.second), p.total.requests as f64))
        .collect();
    let failures: Vec<(f64, f64)> = run
        .timeline
        .iter()
        .map(|p| (at_end_of(p.second), p.total.failures as f64))
        .collect();
    let y = count_axis(
        requests.iter().map(|p| p.1).fold(0.0, f64::max),
        "per second",
    );
    svg(|area| {
        let title = "Requests/s and failures/s (all endpoints)";
        let mut chart = time_chart(area, title, time_end(run), run.window, y)?;
        chart.draw_series(LineSeries::new(requests, REQUESTS.stroke_width(2)))?;
        chart.draw_series(LineSeries::new(failures, FAILURES.stroke_width(2)))?;
        Ok(vec![
            item(Swatch::Line(REQUESTS), "requests/s"),
            item(Swatch::Line(FAILURES), "failures/s"),
            window_item(),
        ])
    })
}

/// Running users over the whole run, with the planned number.
pub(crate) fn users(run: &RunReport) -> Result<String, RenderError> {
    let mut users = vec![(0.0, 0.0)];
    users.extend(
        run.timeline
            .iter()
            .map(|p| (at_end_of(p.second), f64::from(p.users))),
    );
    let planned = f64::from(run.profile.load_concurrency());
    // The open model has no users: what it has in flight, against its cap.
    let open = matches!(run.profile.load, crate::plan::LoadModel::Open(_));
    let (title, line, cap) = if open {
        ("Requests in flight over time", "in flight", "max_in_flight")
    } else {
        ("Users over time", "running users", "planned")
    };
    let y = count_axis(
        users.iter().map(|p| p.1).fold(planned, f64::max),
        if open { "in flight" } else { "users" },
    );
    let end = time_end(run);
    svg(|area| {
        let mut chart = time_chart(area, title, end, run.window, y)?;
        chart.draw_series(DashedLineSeries::new(
            vec![(0.0, planned), (end, planned)],
            6,
            5,
            MUTED.stroke_width(1),
        ))?;
        chart.draw_series(LineSeries::new(users, USERS.stroke_width(2)))?;
        Ok(vec![
            item(Swatch::Line(USERS), line),
            item(
                Swatch::Dashed(MUTED),
                format!("{cap}: {}", run.profile.load_concurrency()),
            ),
            window_item(),
        ])
    })
}

/// Contiguous runs of points where the value is defined: a second without responses is a gap,
/// not a zero latency.
fn segments(points: impl Iterator<Item = (f64, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) => current.push((x, y)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// One per-second percentile line of the latency-over-time chart.
struct PercentileLine {
    name: &'static str,
    color: RGBColor,
    quantile: f64,
    value: fn(&SecondStats) -> Option<u64>,
}

const PERCENTILE_LINES: [PercentileLine; 3] = [
    PercentileLine {
        name: "p50",
        color: P50,
        quantile: 0.5,
        value: |s| s.p50_us,
    },
    PercentileLine {
        name: "p95",
        color: P95,
        quantile: 0.95,
        value: |s| s.p95_us,
    },
    PercentileLine {
        name: "p99",
        color: P99,
        quantile: 0.99,
        value: |s| s.p99_us,
    },
];

/// p50, p95 and p99 of each second for endpoint `i`, with the budgets on those percentiles as
/// dashed lines.
pub(crate) fn latency_over_time(run: &RunReport, i: usize) -> Result<String, RenderError> {
    let ep = &run.endpoints[i];
    let lines: Vec<Vec<Vec<(f64, f64)>>> = PERCENTILE_LINES
        .iter()
        .map(|line| {
            segments(run.timeline.iter().map(|p| {
                let v = p.endpoints.get(i).and_then(line.value).map(us_to_ms);
                (at_end_of(p.second), v)
            }))
        })
        .collect();
    // Budgets on the plotted percentiles only; the others are on the percentile curve.
    let budget_lines: Vec<(String, RGBColor, f64)> = budgets(run, i)
        .into_iter()
        .filter_map(|b| {
            let Metric::Percentile(q) = b.metric else {
                return None;
            };
            PERCENTILE_LINES
                .iter()
                .find(|line| (line.quantile - q.get()).abs() < 1e-12)
                .map(|line| (format!("{} budget", b.metric), line.color, b.limit_ms))
        })
        .collect();
    let values = lines
        .iter()
        .flatten()
        .flatten()
        .map(|p| p.1)
        .chain(budget_lines.iter().map(|b| b.2));
    let (lo, hi) = log_range(values);
    let end = time_end(run);
    let title = format!("{}: latency per second", caption_name(&ep.method, &ep.name));
    svg(|area| {
        let mut chart = time_chart(area, title, end, run.window, latency_axis(lo, hi))?;
        for (_, color, limit) in &budget_lines {
            chart.draw_series(DashedLineSeries::new(
                vec![(0.0, *limit), (end, *limit)],
                6,
                5,
                color.stroke_width(1),
            ))?;
        }
        let mut legend = Vec::new();
        for (line, segs) in PERCENTILE_LINES.iter().zip(&lines) {
            for seg in segs {
                // A lone second between gaps has no line to be part of: a dot.
                if seg.len() == 1 {
                    chart.draw_series(std::iter::once(Circle::new(
                        seg[0],
                        2,
                        line.color.filled(),
                    )))?;
                } else {
                    chart.draw_series(LineSeries::new(seg.clone(), line.color.stroke_width(2)))?;
                }
            }
            legend.push(item(Swatch::Line(line.color), line.name));
        }
        if lines.iter().all(Vec::is_empty) {
            no_data(area)?;
        }
        legend.extend(budget_lines.into_iter().map(|(label, color, limit)| {
            item(
                Swatch::Dashed(color),
                format!("{label} {}", latency_label(limit)),
            )
        }));
        legend.push(window_item());
        Ok(legend)
    })
}

/// A log range around `values` (ms), with room above for nothing to touch the frame.
pub(crate) fn log_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() || hi <= 0.0 {
        return (1.0, 1000.0);
    }
    let lo = (lo / 1.6).max(MIN_MS);
    // Room above for the budget labels drawn over their markers.
    let hi = (hi * 2.2).max(lo * 10.0);
    (lo, hi)
}

pub(crate) fn no_data(area: &Area<'_>) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        "no responses in this run",
        (w as i32 / 2, h as i32 / 2),
        (FONT, DESC_SIZE)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    Ok(())
}

/// Latency at `STEPS + 1` points from 0 to `end` nines of `h`, ms; empty without samples.
pub(crate) fn nines_curve(h: &Histogram<u64>, end: f64) -> Vec<(f64, f64)> {
    const STEPS: u32 = 160;
    if h.is_empty() {
        return Vec::new();
    }
    (0..=STEPS)
        .map(|k| end * f64::from(k) / f64::from(STEPS))
        .map(|x| (x, us_to_ms(h.value_at_quantile(1.0 - 10f64.powf(-x)))))
        .collect()
}

/// Endpoint `i`'s latency by percentile over the measured window, on a "nines" axis, with every
/// latency budget as a marker (green when met, red when missed); a `max` budget sits at the
/// right edge.
pub(crate) fn percentile_curve(run: &RunReport, i: usize) -> Result<String, RenderError> {
    let ep = &run.endpoints[i];
    let st: &EndpointStats = &ep.stats;
    let budgets = budgets(run, i);
    let n = st.latency.len();
    // Beyond log10(n) nines the curve is the maximum; show that far, and every budget.
    let data_nines = (n.max(1) as f64).log10().max(1.0);
    let budget_nines = budgets
        .iter()
        .filter_map(|b| match b.metric {
            Metric::Percentile(q) => Some(nines(q.get())),
            Metric::Max => None,
        })
        .fold(0f64, f64::max);
    let end = data_nines.max(budget_nines) + 0.25;
    let curve = nines_curve(&st.latency, end);
    let markers: Vec<(f64, f64, String, bool)> = budgets
        .iter()
        .map(|b| {
            let x = match b.metric {
                Metric::Percentile(q) => nines(q.get()),
                Metric::Max => end,
            };
            let label = format!("{} < {}", b.metric, latency_label(b.limit_ms));
            (x, b.limit_ms, label, b.met)
        })
        .collect();
    let (lo, hi) = log_range(curve.iter().map(|p| p.1).chain(markers.iter().map(|m| m.1)));
    let title = format!(
        "{}: latency by percentile",
        caption_name(&ep.method, &ep.name)
    );
    svg(|area| {
        let mut chart = percentile_chart(area, title, end, (lo, hi))?;
        if curve.is_empty() {
            no_data(area)?;
        } else {
            chart.draw_series(LineSeries::new(curve, CURVE.stroke_width(2)))?;
        }
        let label_font = (FONT, LABEL_SIZE).into_font();
        for (x, y, label, met) in markers {
            let color = if met { MET } else { MISSED };
            // The curve rises left to right, so it passes below a met budget and above a
            // missed one: putting the label on the far side keeps it off the curve. Near the
            // edges the label is anchored inward so it stays inside the plot.
            let h = if x > end * 0.8 {
                HPos::Right
            } else if x < end * 0.15 {
                HPos::Left
            } else {
                HPos::Center
            };
            let dx = match h {
                HPos::Right => 6,
                HPos::Left => -6,
                HPos::Center => 0,
            };
            let (dy, v) = if met {
                (-9, VPos::Bottom)
            } else {
                (9, VPos::Top)
            };
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, y))
                    + TriangleMarker::new((0, 0), 7, color.filled())
                    + Text::new(
                        label,
                        (dx, dy),
                        label_font.clone().color(&color).pos(Pos::new(h, v)),
                    ),
            ))?;
        }
        Ok(vec![
            item(Swatch::Line(CURVE), "latency at percentile"),
            item(Swatch::Marker(MET), "budget met"),
            item(Swatch::Marker(MISSED), "budget missed"),
        ])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_labels_read_as_percentiles() {
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(2f64.log10()), "50%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(4.0), "99.99%");
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn ticks_are_round_and_few() {
        assert_eq!(time_ticks(12.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        assert_eq!(time_ticks(300.0).len(), 11, "every 30 s over 5 minutes");
        assert_eq!(
            log_ticks(0.5, 900.0),
            vec![1.0, 3.0, 10.0, 30.0, 100.0, 300.0],
            "1-2-5 would give ten labels"
        );
        assert_eq!(log_ticks(3.0, 90.0), vec![5.0, 10.0, 20.0, 50.0]);
        assert_eq!(
            linear_ticks(112.0),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
    }

    #[test]
    fn long_endpoint_names_are_shortened_in_captions() {
        assert_eq!(caption_name("GET", "/health/"), "GET /health/");
        let long = format!("/{}", "x".repeat(60));
        let caption = caption_name("GET", &long);
        assert_eq!(caption.chars().count(), "GET ".len() + 40);
        assert!(caption.ends_with('…'));
    }

    /// The `attr` attribute of an SVG element's tag, as a number.
    fn attr(tag: &str, attr: &str) -> f64 {
        let at = tag.find(&format!(" {attr}=\"")).expect("the attribute") + attr.len() + 3;
        tag[at..at + tag[at..].find('"').expect("closed")]
            .parse()
            .expect("a number")
    }

    #[test]
    fn a_time_chart_shades_the_measured_window_behind_the_data() {
        let draw = |start: u64, end: u64| {
            let window = Window {
                start: Duration::from_secs(start),
                end: Duration::from_secs(end),
            };
            svg(|area| {
                let mut chart = time_chart(area, "t", 10.0, window, count_axis(4.0, "n"))?;
                let line = vec![(0.0, 1.0), (10.0, 4.0)];
                chart.draw_series(LineSeries::new(line, CURVE.stroke_width(2)))?;
                Ok(vec![window_item()])
            })
            .expect("draws")
        };
        // The band: (x, width, height) and where it stands in the document.
        let band = |svg: &str| {
            let at = svg
                .find("opacity=\"0.1\" fill=\"#4E79A7\"")
                .expect("a band");
            let tag = &svg[svg[..at].rfind("<rect").expect("a rect")..at];
            let (x, w, h) = (attr(tag, "x"), attr(tag, "width"), attr(tag, "height"));
            (x, w, h, at)
        };
        let (whole, part) = (draw(0, 10), draw(2, 8));
        let (x0, w0, h0, _) = band(&whole);
        let (x, w, h, at) = band(&part);
        // Seconds 2 to 8 of 10: the middle 60 % of the plot, over the whole value axis.
        assert!((x - (x0 + 0.2 * w0)).abs() <= 1.0, "{x} in {x0}+{w0}");
        assert!((w - 0.6 * w0).abs() <= 1.0, "{w} of {w0}");
        assert_eq!(h, h0);
        let data = part.find("stroke=\"#1F5FA8\"").expect("the data");
        assert!(at < data, "drawn behind the data");
        assert!(part.contains("measured window"), "the legend names it");
    }

    #[test]
    fn gaps_split_lines_instead_of_dropping_to_zero() {
        let pts = [
            (1.0, Some(2.0)),
            (2.0, None),
            (3.0, Some(4.0)),
            (4.0, Some(5.0)),
        ];
        assert_eq!(
            segments(pts.into_iter()),
            vec![vec![(1.0, 2.0)], vec![(3.0, 4.0), (4.0, 5.0)]]
        );
    }
}
