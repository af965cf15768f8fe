//! Plots, each written twice: as SVG (text left to the viewer to render) and
//! as PNG (drawn by plotters' bitmap backend into a buffer, encoded by `png`).
//! Text is measured and rendered with DejaVu Sans, embedded in the binary
//! (`assets/`, with its licence), so a fresh machine without fonts draws the
//! same pictures. Every function takes plain numbers; what they mean is the
//! caller's business.
//!
//! However many rows the data have, a plot stays small: scatters draw a
//! bounded, deterministic sample of the points with every flagged point kept
//! ([`sample`]), and curves are thinned to a bounded number of vertices.
//! Axis label areas are sized from the measured width of their tick labels,
//! and long names are shortened to the space they have, so that nothing is
//! clipped.

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::error::CliError;

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font as `sans-serif`, once. Without it plotters has
/// no font to measure or draw text with (no system font is looked up).
fn register_font() -> Result<(), CliError> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(CliError::Output {
            path: "plots".to_owned(),
            message: "the embedded font could not be loaded".to_owned(),
        })
    }
}

/// Writes `rgb` (a `size` image, 3 bytes per pixel) as a PNG file.
fn write_png(path: &Path, rgb: &[u8], size: (u32, u32)) -> Result<(), Box<dyn Error>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, size.0, size.1);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Plots are flat colour and straight lines: choosing the row filter per
    // row and deflating harder shrinks the files several times for a few
    // milliseconds more.
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    encoder.set_compression(png::Compression::Best);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    mixtures_core::io::write_bytes_atomic(path, &bytes)?;
    Ok(())
}

/// Draws one plot twice, `dir/STEM.svg` and `dir/STEM.png`, and returns both
/// paths. `$root` names the drawing area in `$body`, a block that returns a
/// [`PlotResult`]; it is expanded once per backend, which is how one drawing
/// serves both (plotters' backends are different types).
macro_rules! draw_both {
    ($dir:expr, $stem:expr, $size:expr, |$root:ident| $body:block) => {{
        let size: (u32, u32) = $size;
        register_font()?;
        let svg = $dir.join(format!("{}.svg", $stem));
        let png_path = $dir.join(format!("{}.png", $stem));
        // Drawn into memory and written in one atomic step, as the PNG.
        let mut svg_text = String::new();
        let drawn: PlotResult = (|| {
            let $root = SVGBackend::with_string(&mut svg_text, size).into_drawing_area();
            $body
        })();
        drawn
            .and_then(|()| {
                Ok(mixtures_core::io::write_bytes_atomic(
                    &svg,
                    svg_text.as_bytes(),
                )?)
            })
            .map_err(|e| CliError::output(&svg, e))?;
        let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
        let drawn: PlotResult = (|| {
            let $root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
            $body
        })();
        drawn
            .and_then(|()| write_png(&png_path, &rgb, size))
            .map_err(|e| CliError::output(&png_path, e))?;
        Ok(vec![svg, png_path])
    }};
}

// After the macro, which they use.
mod curves;
#[cfg(feature = "deep")]
mod panels;
pub mod sample;
mod scatter;

pub use curves::{OperatingPoint, score_histogram, unit_curve};
#[cfg(feature = "deep")]
pub use panels::epoch_panels;
pub use scatter::{Scatter, scatter};

/// Size of every plot in pixels.
const SIZE: (u32, u32) = (900, 650);
/// Caption font.
const CAPTION: (&str, u32) = ("sans-serif", 24);
/// Axis names (plotters' default is too small to read in a PNG).
const AXIS_DESC: (&str, u32) = ("sans-serif", 17);
/// Tick labels.
const TICK_LABEL: (&str, u32) = ("sans-serif", 14);

type PlotResult = Result<(), Box<dyn Error>>;

/// Creates the plot directory.
///
/// # Errors
/// [`CliError::Output`].
pub fn ensure_dir(dir: &Path) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::output(dir, e))
}

/// A range around `lo..hi` with a margin, never empty.
fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (0.0, 1.0)
    };
    let span = (hi - lo).abs().max(1e-9 * lo.abs().max(1.0));
    (lo - 0.05 * span)..(hi + 0.05 * span)
}

fn bounds(v: impl IntoIterator<Item = f64>) -> (f64, f64) {
    v.into_iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        })
}

/// The mean log-likelihood at every EM iteration, against the iteration
/// number on an integer axis.
///
/// # Errors
/// [`CliError::Output`].
pub fn lower_bound(dir: &Path, trace: &[f64]) -> Result<Vec<PathBuf>, CliError> {
    self::trace(
        dir,
        trace,
        "EM: mean log-likelihood per iteration",
        "mean log-likelihood",
    )
}

/// A value per iteration (`dir/lower_bound.svg` and `.png`), against the
/// iteration number on an integer axis.
///
/// # Errors
/// [`CliError::Output`].
pub fn trace(
    dir: &Path,
    trace: &[f64],
    caption: &str,
    y_desc: &str,
) -> Result<Vec<PathBuf>, CliError> {
    draw_both!(dir, "lower_bound", SIZE, |root| {
        root.fill(&WHITE)?;
        let root = root.titled(caption, CAPTION)?;
        line_chart(&root, trace, "iteration", y_desc, true)?;
        root.present()?;
        Ok(())
    })
}

/// `values` against 1, 2, … on an integer axis named `x_desc`, as a line
/// (with a dot at every point when `dots`), in `area`.
fn line_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    values: &[f64],
    x_desc: &str,
    y_desc: &str,
    dots: bool,
) -> PlotResult
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = bounds(values.iter().copied());
    let y = padded(lo, hi);
    let last = i32::try_from(values.len().max(1)).unwrap_or(i32::MAX);
    let mut chart = ChartBuilder::on(area)
        .margin(15)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(y_label_area(&y))
        .build_cartesian_2d(integer_axis(1, last), y.clone())?;
    chart
        .configure_mesh()
        .axis_desc_style(AXIS_DESC)
        .label_style(TICK_LABEL)
        .x_label_formatter(&|v| integer_tick(*v, 1, last))
        .y_label_formatter(&|v| tick(*v, &y))
        .x_desc(x_desc)
        .y_desc(axis_name(y_desc, &y))
        .draw()?;
    let pts: Vec<(i32, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (i32::try_from(i + 1).unwrap_or(i32::MAX), v))
        .collect();
    chart.draw_series(LineSeries::new(pts.iter().copied(), BLUE.stroke_width(2)))?;
    if dots {
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))?;
    }
    Ok(())
}

/// One line of a criterion-against-k plot.
#[derive(Debug, Clone)]
pub struct CriterionLine {
    /// Structure name.
    pub label: String,
    /// `(k, value)` of every fitted cell.
    pub points: Vec<(f64, f64)>,
}

impl CriterionLine {
    /// One line per spec: the criterion of every fitted cell of `sel` with
    /// that spec, against its `k`.
    pub fn per_spec<T: mixtures_core::Scalar>(
        sel: &mixtures_select::Selection<T>,
        specs: &[mixtures_dist::ModelSpec],
        criterion: mixtures_select::Criterion,
    ) -> Vec<Self> {
        specs
            .iter()
            .map(|&s| Self {
                label: s.describe(),
                points: sel
                    .cells
                    .iter()
                    .filter(|cell| cell.structure == s)
                    .filter_map(|cell| cell.criterion(criterion).map(|v| (cell.k as f64, v)))
                    .collect(),
            })
            .collect()
    }
}

/// A criterion against the number of components, one line per structure; the
/// chosen cell is circled.
///
/// # Errors
/// [`CliError::Output`].
pub fn criterion(
    dir: &Path,
    name: &str,
    lines: &[CriterionLine],
    best: (f64, f64),
) -> Result<Vec<PathBuf>, CliError> {
    draw_both!(dir, "selection", SIZE, |root| {
        root.fill(&WHITE)?;
        let (x0, x1) = bounds(lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)));
        let (y0, y1) = bounds(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)));
        let (k0, k1) = (as_int(x0), as_int(x1).max(as_int(x0)));
        let y = padded(y0, y1);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                fit_text(
                    &format!(
                        "{} against the number of components (lower is better)",
                        name.to_uppercase()
                    ),
                    CAPTION,
                    SIZE.0 - 30,
                ),
                CAPTION,
            )
            .margin(15)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(y_label_area(&y))
            .build_cartesian_2d(integer_axis(k0, k1), y.clone())?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_label_formatter(&|v| integer_tick(*v, k0, k1))
            .y_label_formatter(&|v| tick(*v, &y))
            .x_desc("components k")
            .y_desc(axis_name(&name.to_uppercase(), &y))
            .draw()?;
        let int = |p: &(f64, f64)| (as_int(p.0), p.1);
        for (i, line) in lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().map(int),
                    color.stroke_width(2),
                ))?
                .label(line.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(
                line.points
                    .iter()
                    .map(|p| Circle::new(int(p), 3, color.filled())),
            )?;
        }
        chart
            .draw_series(std::iter::once(Circle::new(
                int(&best),
                9,
                BLACK.stroke_width(2),
            )))?
            .label("chosen")
            .legend(|(x, y)| Circle::new((x + 10, y), 6, BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// Height of the area under the x axis: tick labels and the axis name.
const X_LABEL_AREA: u32 = 50;

/// An integer axis from `lo` to `hi` with half a step of room at each end, so
/// that the end points are not drawn on the frame: plotters' integer
/// coordinates only put ticks on whole numbers, which is what counts (k,
/// iterations) need. The ticks outside `lo..=hi` are left blank by
/// [`integer_tick`].
fn integer_axis(lo: i32, hi: i32) -> std::ops::Range<i32> {
    lo.saturating_sub(1)..hi.saturating_add(1)
}

/// The label of an integer tick: the number within `lo..=hi`, nothing
/// outside (the room [`integer_axis`] adds is not a count).
fn integer_tick(v: i32, lo: i32, hi: i32) -> String {
    if (lo..=hi).contains(&v) {
        v.to_string()
    } else {
        String::new()
    }
}

/// A count stored as `f64` (a plotted k), as an `i32` coordinate.
fn as_int(v: f64) -> i32 {
    if v.is_finite() {
        // Saturating: k and iteration counts are far below i32::MAX.
        v.round() as i32
    } else {
        0
    }
}

/// The offset the ticks of `range` are written from, and its decimals, when
/// the range is too narrow for its magnitude (a log-likelihood that changes
/// in its ninth digit): absolute labels would need a dozen digits to be told
/// apart, so they are written as differences from this round number, which
/// the axis name states ([`axis_name`]).
fn offset(range: &std::ops::Range<f64>) -> Option<(f64, usize)> {
    let span = (range.end - range.start).abs();
    let big = range.start.abs().max(range.end.abs());
    if !(span > 0.0 && span.is_finite() && span < 1e-4 * big) {
        return None;
    }
    let exponent = span.log10().floor();
    let step = 10f64.powf(exponent);
    let decimals = (-exponent).clamp(0.0, 17.0) as usize;
    Some((
        (0.5 * (range.start + range.end) / step).round() * step,
        decimals,
    ))
}

/// An axis name, with the offset its ticks are written from when they are
/// ([`offset`]).
fn axis_name(name: &str, range: &std::ops::Range<f64>) -> String {
    match offset(range) {
        Some((o, decimals)) => format!("{name} (ticks: offset from {o:.decimals$})"),
        None => name.to_owned(),
    }
}

/// A tick label on a continuous axis: enough decimals to tell ticks about a
/// tenth of the range apart, scientific notation for magnitudes that would
/// otherwise need many digits, and differences from an offset for ranges
/// too narrow for their magnitude, so that a label never runs wider than
/// about ten characters and neighbouring ticks never read the same.
fn tick(v: f64, range: &std::ops::Range<f64>) -> String {
    if let Some((o, _)) = offset(range) {
        let d = v - o;
        return if d == 0.0 {
            "0".to_owned()
        } else {
            format!("{d:+.2e}")
        };
    }
    let span = (range.end - range.start).abs();
    let big = range.start.abs().max(range.end.abs());
    if v == 0.0 {
        return "0".to_owned();
    }
    if !(1e-3..1e6).contains(&big) {
        // The span decides the significant digits a tick needs (at most 5:
        // narrower ranges take the offset above).
        let digits =
            ((10.0 * big / span.max(f64::MIN_POSITIVE)).log10().ceil() as usize).clamp(2, 9);
        return format!("{v:.digits$e}", digits = digits.saturating_sub(1));
    }
    let decimals = (-(span / 10.0).log10()).ceil().clamp(0.0, 8.0) as usize;
    format!("{v:.decimals$}")
}

/// Width in pixels of `text` in `font` (the embedded font's advance widths;
/// an over-estimate when it cannot be measured).
fn text_width(text: &str, font: (&str, u32)) -> u32 {
    font.into_font()
        .box_size(text)
        .map_or(text.chars().count() as u32 * font.1, |(w, _)| w)
}

/// Width of the y label area: the widest tick label of `range` (its ends and
/// middle, as [`tick`] writes them), the gap to the axis and the rotated
/// axis name.
fn y_label_area(range: &std::ops::Range<f64>) -> u32 {
    let mid = 0.5 * (range.start + range.end);
    let widest = [
        range.start,
        mid,
        range.end,
        -range.start.abs().max(range.end.abs()),
    ]
    .iter()
    .map(|&v| text_width(&tick(v, range), TICK_LABEL))
    .max()
    .unwrap_or(0);
    widest + 20 + AXIS_DESC.1 + 10
}

/// `text`, shortened with an ellipsis in the middle until it is at most
/// `max_px` wide in `font`, so that a long feature name keeps its start and
/// its end and is never cut off at the edge of the picture.
pub fn fit_text(text: &str, font: (&str, u32), max_px: u32) -> String {
    if text_width(text, font) <= max_px {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let mut keep = chars.len();
    while keep > 2 {
        keep -= 1;
        let head = keep.div_ceil(2);
        let tail = keep - head;
        let short: String = chars[..head]
            .iter()
            .chain(std::iter::once(&'…'))
            .chain(&chars[chars.len() - tail..])
            .collect();
        if text_width(&short, font) <= max_px {
            return short;
        }
    }
    "…".to_owned()
}

/// `n` with a thin space between groups of three digits ("2 000 000"), as
/// the notes on the plots write counts.
pub fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A number for a legend or a note: four significant decimals in the usual
/// range, scientific notation outside it.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-3..1e6).contains(&a) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        format!("{v:.3e}")
    }
}

#[cfg(test)]
mod tests;
