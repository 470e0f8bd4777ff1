//! A case's trend over the last runs: one small line per measure, its limit dashed.

use maud::{Markup, html};

use crate::report::view::{SeriesView, TrendView};

const W: f64 = 150.0;
const H: f64 = 34.0;

/// A small SVG line of `s.values` (oldest first), with its limit drawn dashed. The
/// vertical range is at least `s.min_span`.
fn sparkline(s: &SeriesView, bad_last: bool) -> Markup {
    let values = &s.values;
    let mut lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(l) = s.limit {
        lo = lo.min(l);
        hi = hi.max(l);
    }
    let span = hi - lo;
    if span < s.min_span {
        let pad = (s.min_span - span) / 2.0;
        lo -= pad;
        hi += pad;
    }
    let n = values.len().max(2) - 1;
    #[expect(clippy::cast_precision_loss, reason = "at most TREND_RUNS points")]
    let x = |i: usize| 3.0 + (W - 6.0) * i as f64 / n as f64;
    let y = |v: f64| 3.0 + (H - 6.0) * (1.0 - (v - lo) / (hi - lo));
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
        .collect::<Vec<_>>()
        .join(" ");
    let view_box = format!("0 0 {W} {H}");
    html! {
        svg width=(W) height=(H) viewBox=(view_box) role="img" {
            rect width=(W) height=(H) fill="#f6f8fa" rx="3" {}
            @if let Some(l) = s.limit {
                @let ly = format!("{:.1}", y(l));
                line x1="0" x2=(W) y1=(ly) y2=(ly) stroke="#cf222e" stroke-dasharray="3 3"
                    stroke-width="1" {}
            }
            polyline fill="none" stroke="#0969da" stroke-width="1.6" points=(points) {}
            @if let Some(last) = values.last() {
                circle cx=(format!("{:.1}", x(values.len() - 1))) cy=(format!("{:.1}", y(*last)))
                    r="3" fill=(if bad_last { "#cf222e" } else { "#1a7f37" }) {}
            }
        }
    }
}

pub(super) fn trend(t: &TrendView) -> Markup {
    html! {
        h4 { "Trend over the last " (t.runs) " runs" }
        div.trend {
            @for s in &t.series {
                @let first = s.values.first().copied().unwrap_or_default();
                @let last = s.values.last().copied().unwrap_or_default();
                @let d = s.digits;
                div {
                    (s.label) ": " (format!("{first:.d$}")) " → " b { (format!("{last:.d$}")) }
                    (sparkline(s, t.last_bad))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_draws_one_point_per_value() {
        let s = SeriesView {
            label: "structure (SSIM)",
            values: vec![0.9, 0.95, 0.8],
            limit: Some(0.85),
            digits: 3,
            min_span: 0.1,
        };
        let svg = sparkline(&s, true).into_string();
        assert!(svg.starts_with("<svg"));
        let points = svg
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.matches(',').count(), 3);
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("fill=\"#cf222e\"></circle>"));
    }
}
