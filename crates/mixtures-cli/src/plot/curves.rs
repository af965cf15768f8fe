//! The plots of scores: the histogram with the threshold, and the ROC and
//! precision-recall curves with the threshold's operating point.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::sample::{MAX_VERTICES, thin};
use super::{
    AXIS_DESC, CAPTION, PlotResult, SIZE, TICK_LABEL, X_LABEL_AREA, register_font, write_png,
};
use crate::error::CliError;

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
        // The label area is sized for the labels `tick` writes.
        let counts = 0.0..top * 1.1;
        let x_range = lo..hi + width;
        let mut chart = ChartBuilder::on(&root)
            .caption("Anomaly scores -ln p(x)", CAPTION)
            .margin(15)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(super::y_label_area(&counts))
            .build_cartesian_2d(x_range.clone(), counts.clone())?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_label_formatter(&|v| super::tick(*v, &x_range))
            .y_label_formatter(&|v| super::tick(*v, &counts))
            .x_desc(super::axis_name(
                "anomaly score (last bin: this score and above)",
                &x_range,
            ))
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

/// Where the threshold puts a classifier on a curve: the point drawn, and the
/// threshold it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OperatingPoint {
    /// The threshold on the score.
    pub threshold: f64,
    /// The point on the curve's axes (false positive rate and true positive
    /// rate for ROC; recall and precision for precision-recall).
    pub at: (f64, f64),
}

/// A curve in the unit square: ROC (false positive rate, true positive rate)
/// or precision-recall (recall, precision), thinned to at most
/// [`MAX_VERTICES`] vertices, with the threshold's operating point marked
/// when there is one.
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
    operating: Option<OperatingPoint>,
) -> Result<Vec<PathBuf>, CliError> {
    let points = thin(points, MAX_VERTICES);
    let size = (700, 650);
    draw_both!(dir, stem, size, |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(super::fit_text(title, CAPTION, size.0 - 30), CAPTION)
            .margin(15)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(super::y_label_area(&(0.0..1.02)))
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
        let blue = RGBColor(70, 110, 200);
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                blue.stroke_width(3),
            ))?
            .label(if diagonal { "ROC" } else { "precision-recall" })
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(3))
            });
        if let Some(op) = operating {
            let red = RGBColor(220, 40, 30);
            chart
                .draw_series(std::iter::once(Circle::new(op.at, 7, red.filled())))?
                .label(format!(
                    "threshold {}: {} {:.3}, {} {:.3}",
                    super::number(op.threshold),
                    short_axis(axes.0),
                    op.at.0,
                    short_axis(axes.1),
                    op.at.1
                ))
                .legend(move |(x, y)| Circle::new((x + 10, y), 6, red.filled()));
        }
        chart
            .configure_series_labels()
            .position(if diagonal {
                SeriesLabelPosition::LowerRight
            } else {
                SeriesLabelPosition::LowerLeft
            })
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// The short name of a curve's axis in the operating point's legend entry.
fn short_axis(name: &str) -> &str {
    match name {
        "false positive rate" => "FPR",
        n if n.starts_with("true positive rate") => "TPR",
        n => n,
    }
}
