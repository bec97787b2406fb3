//! The routes report as an SVG flow diagram that opens in any browser: columns source |
//! transit | destination, a box per country (its height proportional to the records through
//! it, labelled with the code and the count), and a band per flow whose width is proportional
//! to its records, with a legend naming every flow. Pure string generation; every text is
//! XML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::routes::{FlowCount, end};

/// Distinct colours for the flows' bands (Okabe–Ito and Tableau, readable on white).
const PALETTE: [&str; 10] = [
    "#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#8c564b", "#7f7f7f",
    "#bcbd22", "#17becf",
];
/// Left and right margin.
const MARGIN: f64 = 30.0;
/// Horizontal distance between columns.
const COLUMN_STEP: f64 = 190.0;
/// Width of a country box.
const BOX_WIDTH: f64 = 64.0;
/// Smallest box height, so its label fits.
const MIN_BOX: f64 = 22.0;
/// Vertical gap between boxes in a column.
const GAP: f64 = 14.0;
/// Where the column headers sit.
const HEADER_Y: f64 = 78.0;
/// Where the boxes start.
const TOP: f64 = 96.0;
/// The height the busiest column aims at.
const PLOT_HEIGHT: f64 = 360.0;
/// Most flows named in the legend.
const MAX_LEGEND: usize = 40;
/// Height of a legend row.
const LEGEND_ROW: f64 = 20.0;

/// A country box: its column and label.
type NodeKey = (usize, String);

/// The diagram of `flows`, with a title and a line saying what it covers.
pub(crate) fn routes_svg(flows: &[FlowCount], title: &str, subtitle: &str) -> String {
    let transit_cols = flows
        .iter()
        .map(|f| f.flow.transit.len())
        .max()
        .unwrap_or(0)
        .max(1);
    let columns = transit_cols + 2;
    // Each flow's boxes, in order.
    let paths: Vec<Vec<NodeKey>> = flows
        .iter()
        .map(|f| {
            let k = f.flow.transit.len();
            let mut p = vec![(0, end(&f.flow.source, "+"))];
            for (i, c) in f.flow.transit.iter().enumerate() {
                p.push((1 + transit_cols - k + i, c.as_str().to_owned()));
            }
            p.push((columns - 1, end(&f.flow.destination, "+")));
            p
        })
        .collect();
    let mut totals: BTreeMap<NodeKey, usize> = BTreeMap::new();
    for (f, p) in flows.iter().zip(&paths) {
        for key in p {
            *totals.entry(key.clone()).or_default() += f.records;
        }
    }
    let busiest = (0..columns)
        .map(|c| {
            totals
                .iter()
                .filter(|((col, _), _)| *col == c)
                .map(|(_, n)| *n)
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let unit = (PLOT_HEIGHT / busiest as f64).clamp(2.0, 24.0);

    // Boxes: per column, busiest first, stacked and centred on the tallest column.
    let mut boxes: BTreeMap<NodeKey, Rect> = BTreeMap::new();
    let mut heights = vec![0.0_f64; columns];
    let mut by_column: Vec<Vec<(&NodeKey, usize)>> = vec![vec![]; columns];
    for (key, n) in &totals {
        by_column[key.0].push((key, *n));
    }
    for (c, nodes) in by_column.iter_mut().enumerate() {
        nodes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.1.cmp(&b.0.1)));
        let h: f64 = nodes
            .iter()
            .map(|(_, n)| (*n as f64 * unit).max(MIN_BOX))
            .sum::<f64>()
            + GAP * nodes.len().saturating_sub(1) as f64;
        heights[c] = h;
    }
    let tallest = heights.iter().copied().fold(0.0, f64::max);
    for (c, nodes) in by_column.iter().enumerate() {
        let mut y = TOP + (tallest - heights[c]) / 2.0;
        for (key, n) in nodes {
            let h = (*n as f64 * unit).max(MIN_BOX);
            boxes.insert(
                (*key).clone(),
                Rect {
                    x: MARGIN + c as f64 * COLUMN_STEP,
                    y,
                    h,
                    records: *n,
                    used: 0.0,
                },
            );
            y += h + GAP;
        }
    }

    let legend_rows = flows.len().min(MAX_LEGEND) + usize::from(flows.len() > MAX_LEGEND);
    let legend_top = TOP + tallest.max(MIN_BOX) + 40.0;
    let legend_width = flows
        .iter()
        .take(MAX_LEGEND)
        .map(|f| legend_text(f).chars().count())
        .max()
        .unwrap_or(0) as f64
        * 7.2
        + 60.0;
    // The last column's header ("destination") is wider than its boxes.
    let width = (2.0 * MARGIN + (columns - 1) as f64 * COLUMN_STEP + BOX_WIDTH + 30.0)
        .max(legend_width)
        .max(title.chars().count() as f64 * 10.0 + 2.0 * MARGIN)
        .max(560.0)
        .ceil();
    let height = (legend_top + legend_rows as f64 * LEGEND_ROW + 20.0).ceil();

    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{MARGIN}" y="32" font-size="20" font-weight="bold" fill="#222222">{}</text>"##,
        escape(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{MARGIN}" y="54" font-size="13" fill="#555555">{}</text>"##,
        escape(subtitle)
    );
    if flows.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{MARGIN}" y="{TOP}" font-size="14" fill="#222222">no route legs in the records in scope</text>"##
        );
        s.push_str("</svg>\n");
        return s;
    }
    for c in 0..columns {
        let header = if c == 0 {
            "source".to_owned()
        } else if c == columns - 1 {
            "destination".to_owned()
        } else if transit_cols == 1 {
            "transit".to_owned()
        } else {
            format!("transit {c}")
        };
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{HEADER_Y}" font-size="13" font-weight="bold" fill="#333333" text-anchor="middle">{header}</text>"##,
            MARGIN + c as f64 * COLUMN_STEP + BOX_WIDTH / 2.0
        );
    }

    // Bands first, so the boxes sit on top of them.
    s.push_str("<g fill=\"none\" stroke-opacity=\"0.55\">\n");
    for (i, (f, p)) in flows.iter().zip(&paths).enumerate() {
        let w = f.records as f64 * unit;
        let colour = PALETTE[i % PALETTE.len()];
        // Each flow takes the next slot in every box it passes through.
        let mut centres = Vec::with_capacity(p.len());
        for key in p {
            if let Some(b) = boxes.get_mut(key) {
                let stack = b.records as f64 * unit;
                let y = b.y + (b.h - stack) / 2.0 + b.used + w / 2.0;
                b.used += w;
                centres.push((b.x, y));
            }
        }
        let _ = writeln!(
            s,
            r#"<g stroke="{colour}" stroke-width="{w:.1}"><title>{}</title>"#,
            escape(&legend_text(f))
        );
        for pair in centres.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            let (x0, mid) = (x0 + BOX_WIDTH, (x0 + BOX_WIDTH + x1) / 2.0);
            let _ = writeln!(
                s,
                r#"<path d="M {x0:.1} {y0:.1} C {mid:.1} {y0:.1}, {mid:.1} {y1:.1}, {x1:.1} {y1:.1}"/>"#
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</g>\n");

    for ((_, label), b) in &boxes {
        let shown = if label == "?" { "unknown" } else { label };
        let _ = writeln!(
            s,
            r##"<g><title>{}: {} record(s)</title><rect x="{:.1}" y="{:.1}" width="{BOX_WIDTH}" height="{:.1}" rx="3" fill="#37474f"/>"##,
            escape(shown),
            b.records,
            b.x,
            b.y,
            b.h
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#ffffff" text-anchor="middle" dominant-baseline="central">{} {}</text></g>"##,
            b.x + BOX_WIDTH / 2.0,
            b.y + b.h / 2.0,
            escape(label),
            b.records
        );
    }

    let _ = writeln!(
        s,
        r##"<text x="{MARGIN}" y="{:.1}" font-size="13" font-weight="bold" fill="#333333">flows (band width ∝ records)</text>"##,
        legend_top - 8.0
    );
    for (i, f) in flows.iter().take(MAX_LEGEND).enumerate() {
        let y = legend_top + i as f64 * LEGEND_ROW;
        let colour = PALETTE[i % PALETTE.len()];
        let _ = writeln!(
            s,
            r#"<rect x="{MARGIN}" y="{:.1}" width="22" height="12" fill="{colour}" fill-opacity="0.75"/>"#,
            y + 3.0
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="13" fill="#222222">{}</text>"##,
            MARGIN + 30.0,
            y + 13.0,
            escape(&legend_text(f))
        );
    }
    if flows.len() > MAX_LEGEND {
        let _ = writeln!(
            s,
            r##"<text x="{MARGIN}" y="{:.1}" font-size="13" fill="#555555">… and {} more flow(s); the CSV lists them all</text>"##,
            legend_top + MAX_LEGEND as f64 * LEGEND_ROW + 13.0,
            flows.len() - MAX_LEGEND
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A box being filled with bands.
#[derive(Debug)]
struct Rect {
    x: f64,
    y: f64,
    h: f64,
    records: usize,
    /// Height already taken by bands.
    used: f64,
}

/// `PK → IR → TR → GR: 3 record(s), latest 2026-10-20`.
fn legend_text(f: &FlowCount) -> String {
    format!(
        "{}: {} record(s), latest {}",
        f.flow.display(),
        f.records,
        f.latest
    )
}

/// Text safe inside XML elements and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"a<b & "c">'"#),
            "a&lt;b &amp; &quot;c&quot;&gt;&apos;"
        );
    }
}
