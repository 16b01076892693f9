//! A hand-rendered SVG of latency distributions: one row per series, log-scale time axis,
//! whisker p1–p99, box p25–p75, tick at p50, dot at p99.9.

use crate::samples::{Samples, ms};
use std::fmt::Write as _;

pub struct Row<'a> {
    pub label: String,
    pub samples: &'a Samples,
    /// Plugin rows are drawn in colour, floor rows in grey.
    pub plugin: bool,
}

const W: f64 = 900.0;
const LEFT: f64 = 230.0;
const RIGHT: f64 = 150.0;
const ROW: f64 = 26.0;
const TOP: f64 = 40.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn render(title: &str, rows: &[Row<'_>]) -> String {
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| [ms(r.samples.pct(1.0)), ms(r.samples.pct(99.9))])
        .filter(|v| *v > 0.0)
        .collect();
    let lo = values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-3);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (d0, d1) = (lo.log10().floor(), hi.log10().ceil());
    let plot = W - LEFT - RIGHT;
    let x = |v: f64| LEFT + (v.max(lo).log10() - d0) / (d1 - d0) * plot;
    let height = TOP + ROW * rows.len() as f64 + 50.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="12">"##
    );
    let _ = write!(
        s,
        r##"<rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"##,
        esc(title)
    );
    // decade grid with 2× and 5× minor lines
    let bottom = TOP + ROW * rows.len() as f64;
    let mut d = d0 as i32;
    while d <= d1 as i32 {
        for (m, major) in [(1.0, true), (2.0, false), (5.0, false)] {
            let v = m * 10f64.powi(d);
            if v.log10() > d1 + 1e-9 {
                continue;
            }
            let xv = x(v);
            let stroke = if major { "#bbb" } else { "#eee" };
            let _ = write!(
                s,
                r##"<line x1="{xv:.1}" y1="{TOP}" x2="{xv:.1}" y2="{bottom}" stroke="{stroke}"/>"##
            );
            if major || m == 5.0 {
                let label = if v >= 1.0 {
                    format!("{v:.0} ms")
                } else {
                    format!("{} µs", (v * 1000.0).round())
                };
                let _ = write!(
                    s,
                    r##"<text x="{xv:.1}" y="{:.1}" text-anchor="middle" fill="#555">{label}</text>"##,
                    bottom + 16.0
                );
            }
        }
        d += 1;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let (fill, stroke) = if r.plugin {
            ("#9ecae1", "#08519c")
        } else {
            ("#d9d9d9", "#525252")
        };
        let p = |q: f64| x(ms(r.samples.pct(q)));
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 8.0,
            y + 4.0,
            esc(&r.label)
        );
        let _ = write!(
            s,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{stroke}"/>"##,
            p(1.0),
            p(99.0)
        );
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="{stroke}"/>"##,
            p(25.0),
            y - 7.0,
            (p(75.0) - p(25.0)).max(1.0),
            14.0
        );
        let _ = write!(
            s,
            r##"<line x1="{m:.1}" y1="{:.1}" x2="{m:.1}" y2="{:.1}" stroke="{stroke}" stroke-width="2"/>"##,
            y - 8.0,
            y + 8.0,
            m = p(50.0)
        );
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{y:.1}" r="2.5" fill="{stroke}"/>"##,
            p(99.9)
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#333">p50 {:.3} · p99 {:.3} ms</text>"##,
            W - RIGHT + 8.0,
            y + 4.0,
            ms(r.samples.p50()),
            ms(r.samples.p99())
        );
    }
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="{:.1}" fill="#555">whisker p1–p99 · box p25–p75 · bar p50 · dot p99.9 · blue: plugin through devhost · grey: raw-SQL floor</text>"##,
        bottom + 36.0
    );
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn renders_one_row_per_series_with_escaped_labels() {
        let a = Samples::new(
            (1..=100).map(Duration::from_micros).collect(),
            Duration::from_secs(1),
        );
        let b = Samples::new(
            (1..=100).map(|i| Duration::from_micros(i * 50)).collect(),
            Duration::from_secs(1),
        );
        let svg = render(
            "t <1>",
            &[
                Row {
                    label: "a & b".into(),
                    samples: &a,
                    plugin: true,
                },
                Row {
                    label: "floor".into(),
                    samples: &b,
                    plugin: false,
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains("a &amp; b") && svg.contains("t &lt;1&gt;"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }
}
