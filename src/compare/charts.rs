//! The comparison page's charts: base (grey) against head (blue), as inline SVG strings.
//! Owns what is drawn and in which colour; the frame around it (size, axes, mesh, legend strip,
//! the shaded window) is the run report's (`report::html::charts`), so a comparison chart reads
//! like the run report's chart of the same thing.

use plotters::prelude::*;

use crate::report::html::charts::{
    CURVE, Swatch, at_end_of, caption_name, count_axis, item, log_range, nines_curve, no_data,
    percentile_chart, svg, time_chart, time_end, window_item,
};
use crate::report::{RenderError, RunReport};

/// The base run's colour (the head is drawn in the run report's `CURVE`).
const BASE: RGBColor = RGBColor(0x8a, 0x8a, 0x8a);

/// Endpoint `i`'s latency by percentile in the base run and the head run, on the run report's
/// "nines" axis and log latency axis. The runs are comparable, so endpoint `i` is the same
/// endpoint in both.
pub(super) fn percentile_curves(
    base: &RunReport,
    head: &RunReport,
    i: usize,
) -> Result<String, RenderError> {
    let (b, h) = (&base.endpoints[i], &head.endpoints[i]);
    let n = b.stats.latency.len().max(h.stats.latency.len());
    // Beyond log10(n) nines both curves are their maximum.
    let end = (n.max(1) as f64).log10().max(1.0) + 0.25;
    let base_curve = nines_curve(&b.stats.latency, end);
    let head_curve = nines_curve(&h.stats.latency, end);
    let range = log_range(base_curve.iter().chain(&head_curve).map(|p| p.1));
    let title = format!(
        "{}: latency by percentile",
        caption_name(&h.method, &h.name)
    );
    svg(|area| {
        let mut chart = percentile_chart(area, title, end, range)?;
        if base_curve.is_empty() && head_curve.is_empty() {
            no_data(area)?;
        }
        chart.draw_series(LineSeries::new(base_curve, BASE.stroke_width(2)))?;
        chart.draw_series(LineSeries::new(head_curve, CURVE.stroke_width(2)))?;
        Ok(vec![
            item(Swatch::Line(BASE), "base"),
            item(Swatch::Line(CURVE), "head"),
        ])
    })
}

/// Requests/s of endpoint `i` (or of all endpoints, `None`) over the whole run, base against
/// head, with the head's measured window shaded.
pub(super) fn throughput(
    base: &RunReport,
    head: &RunReport,
    endpoint: Option<usize>,
) -> Result<String, RenderError> {
    let series = |run: &RunReport| -> Vec<(f64, f64)> {
        run.timeline
            .iter()
            .map(|p| {
                let requests = match endpoint {
                    Some(i) => p.endpoints.get(i).map_or(0, |e| e.requests),
                    None => p.total.requests,
                };
                (at_end_of(p.second), requests as f64)
            })
            .collect()
    };
    let (base_rps, head_rps) = (series(base), series(head));
    let top = base_rps
        .iter()
        .chain(&head_rps)
        .map(|p| p.1)
        .fold(0.0, f64::max);
    let y = count_axis(top, "requests per second");
    let end = time_end(base).max(time_end(head));
    let title = match endpoint {
        Some(i) => format!(
            "{}: requests/s",
            caption_name(&head.endpoints[i].method, &head.endpoints[i].name)
        ),
        None => "Requests/s (all endpoints)".to_string(),
    };
    svg(|area| {
        let mut chart = time_chart(area, title, end, head.window, y)?;
        chart.draw_series(LineSeries::new(base_rps, BASE.stroke_width(2)))?;
        chart.draw_series(LineSeries::new(head_rps, CURVE.stroke_width(2)))?;
        Ok(vec![
            item(Swatch::Line(BASE), "base"),
            item(Swatch::Line(CURVE), "head"),
            window_item(),
        ])
    })
}
