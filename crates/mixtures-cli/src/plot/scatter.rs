//! The scatter of two features: the points (a bounded sample of them, see
//! [`super::sample`]), the flagged points and true anomalies, and the
//! components' 95 % regions and means.

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::sample::{MAX_MARKED, MAX_POINTS, choose};
use super::{
    AXIS_DESC, PlotResult, TICK_LABEL, X_LABEL_AREA, axis_name, bounds, fit_text, padded,
    register_font, tick, write_png,
};
use crate::error::CliError;

/// What a scatter plot shows.
#[derive(Debug, Clone, Default)]
pub struct Scatter<'a> {
    /// Axis names.
    pub axes: (&'a str, &'a str),
    /// The points (every row; [`scatter`] draws a sample of them).
    pub points: Vec<(f64, f64)>,
    /// Flagged rows (1), drawn in red.
    pub flagged: Option<&'a [u8]>,
    /// True anomalies (label 1), drawn as crosses.
    pub labels: Option<&'a [u8]>,
    /// Closed outlines of the components (their 95 % regions).
    pub outlines: Vec<Vec<(f64, f64)>>,
    /// Component centres.
    pub centres: Vec<(f64, f64)>,
    /// Number of features the model has: with more than two, a note says
    /// that the flags come from all of them, not from the two shown (a
    /// flagged point in the middle of the cloud is otherwise a puzzle).
    pub n_features: usize,
}

/// Size of the scatter in pixels.
const SIZE: (u32, u32) = (900, 800);
/// Font of the notes under the plot.
const NOTE: (&str, u32) = ("sans-serif", 15);

/// The lines printed under a scatter: the sample drawn, and where the flags
/// come from.
fn notes(s: &Scatter<'_>, sample_note: Option<String>) -> Vec<String> {
    let mut notes: Vec<String> = sample_note.into_iter().collect();
    if s.n_features > 2 {
        let what = if s.flagged.is_some() {
            "points are flagged"
        } else {
            "the model is fitted"
        };
        notes.push(format!(
            "{what} on all {} features, not only the 2 shown",
            s.n_features
        ));
    }
    notes
}

/// A scatter of two features with the components' outlines and means and
/// the flagged points. At most [`MAX_POINTS`] points are drawn, every
/// flagged one among them (up to [`MAX_MARKED`]); a note under the plot
/// says so when some are left out.
///
/// # Errors
/// [`CliError::Output`].
pub fn scatter(dir: &Path, s: &Scatter<'_>) -> Result<Vec<PathBuf>, CliError> {
    scatter_bounded(dir, s, MAX_POINTS, MAX_MARKED)
}

/// [`scatter`] with other bounds (the tests draw every point, as the
/// command line did before the bound, to measure what it saves).
pub(super) fn scatter_bounded(
    dir: &Path,
    s: &Scatter<'_>,
    max_points: usize,
    max_marked: usize,
) -> Result<Vec<PathBuf>, CliError> {
    let sample = choose(s.points.len(), s.flagged, s.labels, max_points, max_marked);
    let notes = notes(s, sample.note());
    let at = |v: Option<&[u8]>, i: usize| v.is_some_and(|v| v.get(i) == Some(&1));
    // The rows drawn, by kind: plain, true anomaly, flagged.
    let pick = |keep: &dyn Fn(usize) -> bool| -> Vec<(f64, f64)> {
        sample
            .rows
            .iter()
            .filter(|&&i| keep(i))
            .map(|&i| s.points[i])
            .collect()
    };
    let plain = pick(&|i| !at(s.flagged, i) && !at(s.labels, i));
    let labelled = pick(&|i| at(s.labels, i));
    let flagged = pick(&|i| at(s.flagged, i));
    draw_both!(dir, "scatter", SIZE, |root| {
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
        let (x, y) = (padded(x0, x1), padded(y0, y1));
        root.fill(&WHITE)?;
        let note_height = 10 + 22 * notes.len() as u32;
        let (plot_area, note_area) = root.split_vertically(SIZE.1 - note_height);
        let y_area = super::y_label_area(&y);
        // The axis names get the length of their axis, less a margin.
        let x_name = fit_text(&axis_name(s.axes.0, &x), AXIS_DESC, SIZE.0 - y_area - 60);
        let y_name = fit_text(
            &axis_name(s.axes.1, &y),
            AXIS_DESC,
            SIZE.1 - note_height - 140,
        );
        let title = fit_text(
            &format!(
                "{} and {}: components (95 % regions) and flagged points",
                s.axes.0, s.axes.1
            ),
            ("sans-serif", 20),
            SIZE.0 - 30,
        );
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(y_area)
            .build_cartesian_2d(x.clone(), y.clone())?;
        chart
            .configure_mesh()
            .axis_desc_style(AXIS_DESC)
            .label_style(TICK_LABEL)
            .x_label_formatter(&|v| tick(*v, &x))
            .y_label_formatter(&|v| tick(*v, &y))
            .x_desc(x_name.as_str())
            .y_desc(y_name.as_str())
            .draw()?;
        let normal = RGBColor(70, 110, 200).mix(0.45);
        let red = RGBColor(220, 40, 30);
        let green = RGBColor(30, 140, 60);
        chart
            .draw_series(plain.iter().map(|&p| Circle::new(p, 2, normal.filled())))?
            .label("normal")
            .legend(move |(x, y)| Circle::new((x + 8, y), 3, normal.filled()));
        if s.labels.is_some() {
            chart
                .draw_series(
                    labelled
                        .iter()
                        .map(|&p| Cross::new(p, 5, BLACK.stroke_width(2))),
                )?
                .label("true anomaly (label 1)")
                .legend(|(x, y)| Cross::new((x + 8, y), 5, BLACK.stroke_width(2)));
        }
        if s.flagged.is_some() {
            chart
                .draw_series(
                    flagged
                        .iter()
                        .map(|&p| Circle::new(p, 5, red.stroke_width(2))),
                )?
                .label("flagged (score >= threshold)")
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, red.stroke_width(2)));
        }
        for (i, outline) in s.outlines.iter().enumerate() {
            let drawn = chart.draw_series(LineSeries::new(
                outline.iter().copied(),
                green.stroke_width(2),
            ))?;
            // One legend entry for all the outlines.
            if i == 0 {
                drawn.label("component 95 % region").legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], green.stroke_width(2))
                });
            }
        }
        if !s.centres.is_empty() {
            chart
                .draw_series(
                    s.centres
                        .iter()
                        .map(|&c| TriangleMarker::new(c, 7, green.filled())),
                )?
                .label("component mean")
                .legend(move |(x, y)| TriangleMarker::new((x + 8, y), 6, green.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        for (i, note) in notes.iter().enumerate() {
            let line = fit_text(note, NOTE, SIZE.0 - 30);
            note_area.draw(&Text::new(
                line,
                (15, 5 + 22 * i as i32),
                NOTE.into_font().color(&BLACK),
            ))?;
        }
        root.present()?;
        Ok(())
    })
}
