//! The portal's charts: one SVG per chart, rendered on the server so that it reads with
//! JavaScript off and in a printed report. plotters draws the shapes (bars, lines,
//! markers, grid) on its SVG backend; every text — title, axis labels, legend — is written
//! here, escaped, because plotters measures text through a browser `window` that a Worker
//! lacks. Colours are the Okabe–Ito palette, which colour-blind readers tell apart, and
//! each series also differs in shape (bars; lines with circle, square, triangle markers)
//! and lightness, so a grey-scale print still tells them apart. The SVG carries a title
//! and a description for screen readers; the page puts the figures in a table as well.
//! No `<style>` element: the portal's Content-Security-Policy refuses inline styles, so the
//! texts carry presentation attributes.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// How one series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Bars,
    Line,
}

/// One named row of figures, one per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
    pub mark: Mark,
}

/// A chart of figures over labelled steps (days, functions).
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Unique on the page: the ids of the title and description derive from it.
    pub id: String,
    pub title: String,
    /// One sentence of what the chart shows, for screen readers.
    pub description: String,
    /// The unit of the values (`件`), written over the value axis.
    pub unit: String,
    /// One label per step: `11/25`.
    pub labels: Vec<String>,
    pub series: Vec<Series>,
}

// Drawn at about a phone's width, so that its 15 px texts stay readable when the chart
// is scaled down to one; a PC shows it larger.
const WIDTH: u32 = 560;
const HEIGHT: u32 = 300;
const LEFT: i32 = 56;
const RIGHT: i32 = 16;
const TOP: i32 = 52;
const BOTTOM: i32 = 40;
/// Every text's size.
const FONT: i32 = 15;
/// Labels written under the steps at most; the others are left out evenly.
const MAX_LABELS: usize = 7;

/// Okabe–Ito: blue, vermillion, bluish green, reddish purple, orange, sky blue.
const PALETTE: [RGBColor; 6] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
];
const GRID: RGBColor = RGBColor(0xD0, 0xD0, 0xD0);
const AXIS: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Text escaped for SVG content and attribute values (the mails' HTML escaping).
pub use domain::mail::escape;

/// The top of the value axis and its step: four steps of 1, 2, 2.5 or 5 times a power
/// of ten, the smallest that reach the largest value; a step is at least 1 (detections
/// are counted in whole numbers).
pub fn scale(max: f64) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 4.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| s * 4.0 >= max)
        .unwrap_or(10.0 * power);
    let step = step.max(1.0);
    (step * 4.0, step)
}

fn number(v: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A text element at `(x, y)`.
fn text(out: &mut String, x: i32, y: i32, anchor: &str, class: &str, s: &str) {
    out.push_str(&format!(
        "<text x=\"{x}\" y=\"{y}\" text-anchor=\"{anchor}\" class=\"{class}\" \
         font-family=\"sans-serif\" font-size=\"{FONT}\" fill=\"#333\">{}</text>\n",
        escape(s)
    ));
}

type Plot<'a> = DrawingArea<SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The chart as one `<svg>` element.
pub fn render(chart: &Chart) -> String {
    let steps = chart.labels.len().max(1);
    let max = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let (top, step) = scale(max);
    let mut shapes = String::new();
    let mut texts = String::new();
    {
        let root = SVGBackend::with_string(&mut shapes, (WIDTH, HEIGHT)).into_drawing_area();
        let plot: Plot = root.apply_coord_spec(Cartesian2d::new(
            0.0..steps as f64,
            0.0..top,
            (LEFT..WIDTH as i32 - RIGHT, HEIGHT as i32 - BOTTOM..TOP),
        ));
        draw(&root, &plot, chart, top, step, &mut texts).ok();
        root.present().ok();
    }
    let body = inner(&shapes);
    let id = escape(&chart.id);
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" xmlns=\"http://www.w3.org/2000/svg\">\n\
         <title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>\n\
         {body}{texts}</svg>",
        escape(&chart.title),
        escape(&chart.description),
    )
}

/// What plotters wrote inside its own `<svg>` element.
fn inner(svg: &str) -> &str {
    let start = svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1));
    let end = svg.rfind("</svg>");
    match (start, end) {
        (Some(s), Some(e)) if s <= e => &svg[s..e],
        _ => "",
    }
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    plot: &Plot,
    chart: &Chart,
    top: f64,
    step: f64,
    texts: &mut String,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let steps = chart.labels.len().max(1) as f64;
    // The grid and the value axis's labels.
    let mut v = 0.0;
    while v <= top + step / 2.0 {
        plot.draw(&PathElement::new(
            vec![(0.0, v), (steps, v)],
            GRID.stroke_width(1),
        ))?;
        let (x, y) = plot.map_coordinate(&(0.0, v));
        text(texts, x - 6, y + 5, "end", "tick", &number(v, step));
        v += step;
    }
    plot.draw(&PathElement::new(
        vec![(0.0, 0.0), (steps, 0.0)],
        AXIS.stroke_width(1),
    ))?;
    let (x, _) = plot.map_coordinate(&(0.0, top));
    let _ = x;
    text(
        texts,
        4,
        TOP - 12,
        "start",
        "unit",
        &format!("（{}）", chart.unit),
    );
    // The step labels, evenly thinned out.
    let every = chart.labels.len().div_ceil(MAX_LABELS).max(1);
    for (i, label) in chart.labels.iter().enumerate() {
        if i % every == 0 {
            let (x, y) = plot.map_coordinate(&(i as f64 + 0.5, 0.0));
            text(texts, x, y + 22, "middle", "tick", label);
        }
    }
    // Bars side by side within a step, then lines over them.
    let bars: Vec<&Series> = chart
        .series
        .iter()
        .filter(|s| s.mark == Mark::Bars)
        .collect();
    let width = 0.8 / bars.len().max(1) as f64;
    for (k, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        match series.mark {
            Mark::Bars => {
                let slot = bars
                    .iter()
                    .position(|b| std::ptr::eq(*b, series))
                    .unwrap_or(0);
                for (i, value) in series.values.iter().enumerate() {
                    let x0 = i as f64 + 0.1 + slot as f64 * width;
                    plot.draw(&Rectangle::new(
                        [(x0, 0.0), (x0 + width * 0.9, value.max(0.0))],
                        colour.filled(),
                    ))?;
                }
            }
            Mark::Line => {
                let points: Vec<(f64, f64)> = series
                    .values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i as f64 + 0.5, v.max(0.0)))
                    .collect();
                plot.draw(&PathElement::new(points.clone(), colour.stroke_width(2)))?;
                for p in points {
                    root_marker(root, plot.map_coordinate(&p), k, colour)?;
                }
            }
        }
    }
    // The legend, over the plot, in rows.
    let (mut x, mut y) = (LEFT + 30, 14);
    for (k, series) in chart.series.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let name = legend_name(&series.name);
        let width = 28 + text_width(&name);
        if x + width > WIDTH as i32 - RIGHT && x > LEFT + 30 {
            (x, y) = (LEFT + 30, y + 20);
        }
        match series.mark {
            Mark::Bars => root.draw(&Rectangle::new(
                [(x, y - 6), (x + 14, y + 6)],
                colour.filled(),
            ))?,
            Mark::Line => {
                root.draw(&PathElement::new(
                    vec![(x - 2, y), (x + 16, y)],
                    colour.stroke_width(2),
                ))?;
                root_marker(root, (x + 7, y), k, colour)?;
            }
        }
        text(texts, x + 20, y + 5, "start", "legend", &name);
        x += width + 12;
    }
    Ok(())
}

/// Legend names longer than this are cut with 「…」 (the table beside holds them whole).
const LEGEND_CHARS: usize = 16;

fn legend_name(name: &str) -> String {
    if name.chars().count() <= LEGEND_CHARS {
        name.to_owned()
    } else {
        let cut: String = name.chars().take(LEGEND_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// About how wide `s` is: full-width characters a font size, others about half.
fn text_width(s: &str) -> i32 {
    s.chars()
        .map(|c| if c.is_ascii() { FONT * 6 / 10 } else { FONT })
        .sum()
}

/// The marker of series `k`: circle, square, triangle, then again.
fn root_marker(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    (x, y): (i32, i32),
    k: usize,
    colour: RGBColor,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    match k % 3 {
        0 => area.draw(&Circle::new((x, y), 4, colour.filled())),
        1 => area.draw(&Rectangle::new(
            [(x - 4, y - 4), (x + 4, y + 4)],
            colour.filled(),
        )),
        _ => area.draw(&Polygon::new(
            vec![(x, y - 5), (x + 5, y + 4), (x - 5, y + 4)],
            colour.filled(),
        )),
    }
}

#[cfg(test)]
mod tests;
