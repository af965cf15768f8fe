//! Plots, each written twice: as SVG (text left to the viewer to render) and
//! as PNG (drawn by plotters' bitmap backend into a buffer, encoded by `png`).
//! Text is measured and rendered with DejaVu Sans, embedded in the binary
//! (`assets/`, with its licence), so a fresh machine without fonts draws the
//! same pictures. Every function takes plain numbers; what they mean is the
//! caller's business.

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::error::CliError;

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

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

/// The mean log-likelihood at every EM iteration.
///
/// # Errors
/// [`CliError::Output`].
pub fn lower_bound(dir: &Path, trace: &[f64]) -> Result<Vec<PathBuf>, CliError> {
    draw_both!(dir, "lower_bound", SIZE, |root| {
        root.fill(&WHITE)?;
        let (lo, hi) = bounds(trace.iter().copied());
        let mut chart = ChartBuilder::on(&root)
            .caption("EM: mean log-likelihood per iteration", CAPTION)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(padded(1.0, trace.len().max(2) as f64), padded(lo, hi))?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_desc("iteration")
            .y_desc("mean log-likelihood")
            .draw()?;
        let pts: Vec<(f64, f64)> = trace
            .iter()
            .enumerate()
            .map(|(i, &v)| ((i + 1) as f64, v))
            .collect();
        chart.draw_series(LineSeries::new(pts.iter().copied(), BLUE.stroke_width(2)))?;
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, BLUE.filled())))?;
        root.present()?;
        Ok(())
    })
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
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{} against the number of components (lower is better)",
                    name.to_uppercase()
                ),
                CAPTION,
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(90)
            .build_cartesian_2d(padded(x0, x1), padded(y0, y1))?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_desc("components k")
            .y_desc(name.to_uppercase())
            .draw()?;
        for (i, line) in lines.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(line.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart.draw_series(
                line.points
                    .iter()
                    .map(|&p| Circle::new(p, 3, color.filled())),
            )?;
        }
        chart.draw_series(std::iter::once(Circle::new(best, 9, BLACK.stroke_width(2))))?;
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// Histogram of anomaly scores (normal and anomalous rows stacked when labels
/// are known) with the threshold as a vertical line. Scores far beyond the
/// bulk are gathered in the last bin, so that the bulk stays readable.
///
/// # Errors
/// [`CliError::Output`].
pub fn score_histogram(
    dir: &Path,
    scores: &[f64],
    labels: Option<&[u8]>,
    threshold: Option<f64>,
) -> Result<Vec<PathBuf>, CliError> {
    draw_both!(dir, "scores", SIZE, |root| {
        let mut sorted: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let lo = sorted.first().copied().unwrap_or(0.0);
        let q = |p: f64| {
            let i = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
            sorted.get(i).copied().unwrap_or(lo)
        };
        // The bulk and the threshold stay in view; far scores overflow.
        let mut hi = match threshold {
            Some(t) => t + (t - lo).abs(),
            None => q(0.95) + (q(0.95) - lo),
        };
        hi = hi.min(sorted.last().copied().unwrap_or(hi)).max(lo + 1e-9);
        const BINS: usize = 50;
        let width = (hi - lo) / BINS as f64;
        let bin = |s: f64| (((s - lo) / width).floor().max(0.0) as usize).min(BINS - 1);
        let mut normal = vec![0usize; BINS];
        let mut anomalous = vec![0usize; BINS];
        for (i, &s) in scores.iter().enumerate() {
            if !s.is_finite() && s < 0.0 {
                continue;
            }
            let b = if s.is_finite() { bin(s) } else { BINS - 1 };
            if labels.is_some_and(|l| l.get(i) == Some(&1)) {
                anomalous[b] += 1;
            } else {
                normal[b] += 1;
            }
        }
        let top = normal
            .iter()
            .zip(&anomalous)
            .map(|(a, b)| a + b)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Anomaly scores -ln p(x)", CAPTION)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi + width, 0.0..top * 1.1)?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_desc("anomaly score (last bin: this score and above)")
            .y_desc("rows")
            .draw()?;
        let normal_style = RGBColor(70, 110, 200).mix(0.8).filled();
        let anomaly_style = RGBColor(220, 50, 40).mix(0.8).filled();
        let x_of = |b: usize| lo + b as f64 * width;
        chart
            .draw_series((0..BINS).filter(|&b| normal[b] > 0).map(|b| {
                Rectangle::new(
                    [(x_of(b), 0.0), (x_of(b + 1), normal[b] as f64)],
                    normal_style,
                )
            }))?
            .label(if labels.is_some() {
                "normal (label 0)"
            } else {
                "rows"
            })
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], normal_style));
        if labels.is_some() {
            chart
                .draw_series((0..BINS).filter(|&b| anomalous[b] > 0).map(|b| {
                    Rectangle::new(
                        [
                            (x_of(b), normal[b] as f64),
                            (x_of(b + 1), (normal[b] + anomalous[b]) as f64),
                        ],
                        anomaly_style,
                    )
                }))?
                .label("anomaly (label 1)")
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], anomaly_style));
        }
        if let Some(t) = threshold {
            chart
                .draw_series(LineSeries::new(
                    [(t, 0.0), (t, top * 1.1)],
                    BLACK.stroke_width(2),
                ))?
                .label(format!("threshold {t:.3}"))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// A curve in the unit square: ROC (false positive rate, true positive rate)
/// or precision-recall (recall, precision).
///
/// # Errors
/// [`CliError::Output`].
pub fn unit_curve(
    dir: &Path,
    stem: &str,
    title: &str,
    axes: (&str, &str),
    points: &[(f64, f64)],
    diagonal: bool,
) -> Result<Vec<PathBuf>, CliError> {
    draw_both!(dir, stem, (700, 650), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, CAPTION)
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..1.02)?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_desc(axes.0)
            .y_desc(axes.1)
            .draw()?;
        if diagonal {
            chart.draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                BLACK.mix(0.4).stroke_width(1),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            RGBColor(70, 110, 200).stroke_width(3),
        ))?;
        root.present()?;
        Ok(())
    })
}

/// What a scatter plot shows.
#[derive(Debug, Clone, Default)]
pub struct Scatter<'a> {
    /// Axis names.
    pub axes: (&'a str, &'a str),
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// Flagged rows (1), drawn in red.
    pub flagged: Option<&'a [u8]>,
    /// True anomalies (label 1), drawn as crosses.
    pub labels: Option<&'a [u8]>,
    /// Closed outlines of the components (their 95 % regions).
    pub outlines: Vec<Vec<(f64, f64)>>,
    /// Component centres.
    pub centres: Vec<(f64, f64)>,
}

/// A scatter of two features with the components' outlines and the flagged
/// points.
///
/// # Errors
/// [`CliError::Output`].
pub fn scatter(dir: &Path, s: &Scatter<'_>) -> Result<Vec<PathBuf>, CliError> {
    draw_both!(dir, "scatter", (900, 800), |root| {
        let (x0, x1) = bounds(
            s.points
                .iter()
                .map(|p| p.0)
                .chain(s.outlines.iter().flatten().map(|p| p.0)),
        );
        let (y0, y1) = bounds(
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.outlines.iter().flatten().map(|p| p.1)),
        );
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{} and {}: components (95 % regions) and flagged points",
                    s.axes.0, s.axes.1
                ),
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(padded(x0, x1), padded(y0, y1))?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_desc(s.axes.0)
            .y_desc(s.axes.1)
            .draw()?;
        let is = |v: Option<&[u8]>, i: usize| v.is_some_and(|v| v.get(i) == Some(&1));
        let normal = RGBColor(70, 110, 200).mix(0.45);
        let red = RGBColor(220, 40, 30);
        chart
            .draw_series(
                s.points
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| !is(s.flagged, i) && !is(s.labels, i))
                    .map(|(_, &p)| Circle::new(p, 2, normal.filled())),
            )?
            .label("normal")
            .legend(move |(x, y)| Circle::new((x + 8, y), 3, normal.filled()));
        if s.labels.is_some() {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| is(s.labels, i))
                        .map(|(_, &p)| Cross::new(p, 5, BLACK.stroke_width(2))),
                )?
                .label("true anomaly (label 1)")
                .legend(|(x, y)| Cross::new((x + 8, y), 5, BLACK.stroke_width(2)));
        }
        if s.flagged.is_some() {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| is(s.flagged, i))
                        .map(|(_, &p)| Circle::new(p, 5, red.stroke_width(2))),
                )?
                .label("flagged (score >= threshold)")
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, red.stroke_width(2)));
        }
        for outline in &s.outlines {
            chart.draw_series(LineSeries::new(
                outline.iter().copied(),
                RGBColor(30, 140, 60).stroke_width(2),
            ))?;
        }
        chart.draw_series(
            s.centres
                .iter()
                .map(|&c| TriangleMarker::new(c, 7, RGBColor(30, 140, 60).filled())),
        )?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    })
}
