//! Several series against the epoch, one panel each (their units differ:
//! a reconstruction error, an energy, a penalty).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::{
    AXIS_DESC, CAPTION, PlotResult, TICK_LABEL, axis_name, bounds, integer_axis, integer_tick,
    padded, register_font, tick, write_png, y_label_area,
};
use crate::error::CliError;

/// `dir/STEM.svg` and `.png`: every `(name, values)` series in its own
/// panel, against the epoch (from 1) on an integer axis, two panels a row.
///
/// # Errors
/// [`CliError::Output`].
pub fn epoch_panels(
    dir: &Path,
    stem: &str,
    caption: &str,
    series: &[(&str, Vec<f64>)],
) -> Result<Vec<PathBuf>, CliError> {
    let rows = series.len().div_ceil(2).max(1);
    let size = (1100u32, 120 + 380 * rows as u32);
    draw_both!(dir, stem, size, |root| {
        root.fill(&WHITE)?;
        let root = root.titled(caption, CAPTION)?;
        let areas = root.split_evenly((rows, 2));
        for ((name, values), area) in series.iter().zip(areas.iter()) {
            let (lo, hi) = bounds(values.iter().copied());
            let y = padded(lo, hi);
            let last = i32::try_from(values.len().max(1)).unwrap_or(i32::MAX);
            let mut chart = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(y_label_area(&y))
                .build_cartesian_2d(integer_axis(1, last), y.clone())?;
            chart
                .configure_mesh()
                .axis_desc_style(AXIS_DESC)
                .label_style(TICK_LABEL)
                .x_label_formatter(&|v| integer_tick(*v, 1, last))
                .y_label_formatter(&|v| tick(*v, &y))
                .x_desc("epoch")
                .y_desc(axis_name(name, &y))
                .draw()?;
            let pts: Vec<(i32, f64)> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| (i32::try_from(i + 1).unwrap_or(i32::MAX), v))
                .collect();
            chart.draw_series(LineSeries::new(pts, BLUE.stroke_width(2)))?;
        }
        root.present()?;
        Ok(())
    })
}
