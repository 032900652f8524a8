//! The activity-over-time chart as inline SVG: requests per bar, secret reads and suspicious
//! entries on top, gaps and the exposure window shaded, findings, token creations and the first
//! and last secret reads marked. Tooltips are SVG `<title>` elements, so no script is needed.
//! Each bar carries its counts as `data-*` attributes so tests can check them against the stats.

use std::fmt::Write as _;

use crate::model::Timestamp;
use crate::report::incident::{Chart, Shade, TimelineKind};
use crate::report::sanitize::html as esc;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 36.0;

/// Maps times to x coordinates over the charted range.
struct Scale {
    start: i64,
    end: i64,
}

impl Scale {
    fn x(&self, t: Timestamp) -> f64 {
        let span = (self.end - self.start).max(1) as f64;
        let f = ((t.0 - self.start) as f64 / span).clamp(0.0, 1.0);
        LEFT + f * (WIDTH - LEFT - RIGHT)
    }
}

fn shade(out: &mut String, s: &Shade, scale: &Scale, class: &str) {
    let (a, b) = (scale.x(s.start), scale.x(s.end));
    let _ = write!(
        out,
        r#"<rect class="{class}" x="{a:.1}" y="{TOP}" width="{:.1}" height="{:.1}"><title>{} – {}: {}</title></rect>"#,
        (b - a).max(2.0),
        HEIGHT - TOP - BOTTOM,
        s.start.to_rfc3339(),
        s.end.to_rfc3339(),
        esc(&s.label)
    );
}

/// Writes the chart (an `<svg>` with id `activity-chart`).
pub fn svg(chart: &Chart) -> String {
    let mut out = String::with_capacity(16 * 1024 + chart.bars.len() * 300);
    let _ = write!(
        out,
        r#"<svg id="activity-chart" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title"><title id="chart-title">Requests over time, with secret reads, suspicious entries, gaps and key events</title>"#
    );
    let (Some(first), Some(last)) = (chart.bars.first(), chart.bars.last()) else {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">No timed activity to chart</text></svg>"#,
            WIDTH / 2.0,
            HEIGHT / 2.0
        );
        return out;
    };
    let scale = Scale {
        start: first.start.0,
        end: last.end.0,
    };
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = HEIGHT - BOTTOM;
    let max = chart
        .bars
        .iter()
        .map(|b| b.counts.requests)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    if let Some(e) = &chart.exposure {
        shade(&mut out, e, &scale, "exposure");
    }
    for g in &chart.gaps {
        shade(&mut out, g, &scale, "gap");
    }
    let bar_w = (WIDTH - LEFT - RIGHT) / chart.bars.len() as f64;
    for b in &chart.bars {
        let x = scale.x(b.start);
        let c = b.counts;
        let _ = write!(
            out,
            r#"<g class="bar" data-requests="{}" data-secret-reads="{}" data-suspicious="{}"><title>{} – {}: {} request(s), {} secret read(s), {} suspicious</title>"#,
            c.requests,
            c.secret_reads,
            c.suspicious,
            b.start.to_rfc3339(),
            b.end.to_rfc3339(),
            c.requests,
            c.secret_reads,
            c.suspicious
        );
        for (class, n) in [
            ("req", c.requests),
            ("sec", c.secret_reads),
            ("sus", c.suspicious),
        ] {
            if n == 0 {
                continue;
            }
            // At least a pixel, so a single suspicious entry among thousands still shows.
            let h = (n as f64 / max * plot_h).max(1.0);
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{x:.1}" y="{:.1}" width="{:.2}" height="{h:.1}"/>"#,
                base - h,
                (bar_w - 0.5).max(0.5)
            );
        }
        out.push_str("</g>");
    }
    for m in &chart.marks {
        let class = match m.kind {
            TimelineKind::Finding => "mark-finding",
            TimelineKind::TokenCreated => "mark-token",
            _ => "mark-read",
        };
        let x = scale.x(m.time);
        let what: String =
            m.what
                .0
                .iter()
                .map(|p| match p {
                    crate::report::incident::Part::Text(s)
                    | crate::report::incident::Part::Code(s) => s.as_str(),
                })
                .collect();
        let _ = write!(
            out,
            r#"<g class="mark {class}"><title>{}: {}</title><line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{base}"/><path d="M{:.1} {:.1} l4 -7 h-8 z"/></g>"#,
            m.time.to_rfc3339(),
            esc(&what),
            x,
            TOP
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" y1="{base}" x2="{:.1}" y2="{base}"/><line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}"/>"#,
        WIDTH - RIGHT
    );
    let _ = write!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end">0</text>"#,
        LEFT - 6.0,
        TOP + 9.0,
        max as u64,
        LEFT - 6.0,
        base
    );
    let _ = write!(
        out,
        r#"<text x="{LEFT}" y="{:.1}">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text></svg>"#,
        HEIGHT - 12.0,
        first.start.to_rfc3339(),
        WIDTH - RIGHT,
        HEIGHT - 12.0,
        last.end.to_rfc3339()
    );
    out
}
